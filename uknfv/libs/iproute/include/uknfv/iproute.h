/*
 * iproute: the run-time (mutable) side of the IPRouteTable elements
 * (LinearIPLookup, RadixIPLookup): the `add`, `set`, `remove`, `flush`,
 * `ctrl` write handlers and the `table` read handler.
 *
 * The build-time trie compiled by uknfv/codegen/routes.py stays the packet
 * path while the table is unchanged (`cur == NULL`).  The first successful
 * write builds a leaf-pushed multibit trie (strides 8-4-4-4-4-4-4, 32-bit
 * entries) from the route array into the spare one of two buffers and
 * switches `cur` to it; every later write rebuilds into the other buffer and
 * swaps again.  A write that fails (syntax, port out of range, table full,
 * missing route) changes nothing.
 *
 * All storage is the caller's (static arrays sized at build time with the
 * macros below): nothing is allocated, on any target.
 */
#ifndef UKNFV_IPROUTE_H
#define UKNFV_IPROUTE_H

#include <stddef.h>
#include <stdint.h>

struct iproute {                /* same layout as routes.py's FNAME_route */
	uint32_t addr, mask, gw;    /* host order; addr & ~mask == 0 */
	int32_t port;
};

struct iproute_nh {
	int32_t port;               /* -1: no route */
	uint32_t gw;
};

/* One lookup buffer.  ent[0..255] is the root (stride 8), then 16-entry
 * nodes (stride 4).  An entry is IPROUTE_LEAF | next-hop index, or the
 * offset in ent[] of a child node.  nh[0] is "no route". */
#define IPROUTE_LEAF 0x80000000u
struct iproute_trie {
	uint32_t *ent;
	struct iproute_nh *nh;
	unsigned max_nodes;
};

/* Worst-case node count for `cap` routes: a level-k node exists per distinct
 * (8 + 4(k-1))-bit prefix that a longer route extends, so level 1 has at
 * most min(256, cap), level 2 min(4096, cap), levels 3..6 at most cap each.
 * Sized that way a rebuild never runs out of nodes. */
#define IPROUTE_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IPROUTE_NODES(cap) (IPROUTE_MIN(256u, (cap)) + IPROUTE_MIN(4096u, (cap)) + 4u * (cap))
#define IPROUTE_ENTRIES(cap) (256u + 16u * IPROUTE_NODES(cap))

struct iproute_table {
	const char *name;           /* "elem :: Class", for messages */
	struct iproute *r;          /* the routes, in table order */
	unsigned n, cap;
	unsigned noutputs;
	struct iproute_trie buf[2];
	const struct iproute_trie *cur;   /* NULL: the compiled trie is current */
	unsigned long long generation;    /* successful changes */
};

/* Load the configured routes (already first-wins deduplicated). */
void iproute_init(struct iproute_table *t, const struct iproute *routes, unsigned n);

/* Write handlers; 0 on success, -1 (message logged, nothing changed) else.
 * add:    "ADDR/MASK [GW] OUT", error if the prefix exists
 * set:    "ADDR/MASK [GW] OUT", add or replace
 * remove: "ADDR/MASK [GW] [OUT]"; a GW or OUT given must match the route
 * flush:  remove every route (the value is ignored)
 * ctrl:   "add ROUTE", "set ROUTE" or "remove ROUTE" */
int iproute_add(struct iproute_table *t, const char *v);
int iproute_set(struct iproute_table *t, const char *v);
int iproute_remove(struct iproute_table *t, const char *v);
int iproute_flush(struct iproute_table *t, const char *v);
int iproute_ctrl(struct iproute_table *t, const char *v);

/* The `table` handler text (Click's IPRoute::unparse(sa, true) per route). */
int iproute_format(const struct iproute_table *t, char *buf, size_t n);

/* Parse one route (Click's cp_ip_route).  need_port: OUT is mandatory.
 * *has_gw / *has_port say what was given.  0 on success; else -1 and a
 * reason in *why. */
int iproute_parse(const char *s, struct iproute *r, int need_port, int *has_gw,
		  int *has_port, const char **why);

/* Build `routes` into `b`; 0, or -1 when `b` has too few nodes. */
int iproute_build(struct iproute_trie *b, const struct iproute *routes, unsigned n);

static inline int iproute_lookup(const struct iproute_trie *b, uint32_t dst, uint32_t *gw)
{
	const uint32_t *ent = b->ent;
	uint32_t e = ent[dst >> 24];
	unsigned shift = 24;
	while (!(e & IPROUTE_LEAF)) {
		shift -= 4;
		e = ent[e + ((dst >> shift) & 15)];
	}
	const struct iproute_nh *h = &b->nh[e & ~IPROUTE_LEAF];
	*gw = h->gw;
	return h->port;
}

#endif

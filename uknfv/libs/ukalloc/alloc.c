/*
 * ukalloc: a small, correct allocator over the free RAM of the memory map.
 *
 * Memory comes from a bump pointer that walks the usable regions
 * (uk_memregions) in order.  A block is [start, start+size); the caller's
 * pointer p lies inside it, aligned as asked, right after a 16-byte header
 * at p-16 (block size, offset of p from the block start, magic).  uk_free()
 * returns the block to an address-ordered free list, coalescing with its
 * neighbours (or giving it back to the bump pointer when it is the last
 * block).  Allocation is first fit from the free list, then bump.
 *
 * Meant for init-time allocations (the packet path never allocates): no
 * locking (one CPU, interrupt handlers must not allocate), O(free blocks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "uk/alloc.h"
#include "uk/plat.h"

#define ALIGN_MIN 16
#define HDR_MAGIC 0x75616c6cu       /* "ualc" */
#define MIN_SPLIT 64                /* do not leave free fragments smaller than this */

struct hdr {                        /* just before every user pointer */
	uint64_t size;                  /* whole block, header and alignment gap included */
	uint32_t offset;                /* user pointer - block start */
	uint32_t magic;
};

struct free_blk {                   /* a free block, in place */
	uint64_t size;
	struct free_blk *next;
};

static int inited;
static const struct uk_memregion *regions;
static unsigned nregions, cur;
static uintptr_t bump, bump_end;    /* in regions[cur] */
static struct free_blk *free_list;
static size_t total, in_use;

static void init(void)
{
	inited = 1;
	nregions = uk_memregions(&regions);
	for (unsigned i = 0; i < nregions; i++)
		total += regions[i].len;
	cur = 0;
	if (nregions) {
		bump = (uintptr_t)regions[0].base;
		bump_end = bump + (uintptr_t)regions[0].len;
	}
}

static uintptr_t align_up(uintptr_t v, size_t a)
{
	return (v + a - 1) & ~(uintptr_t)(a - 1);
}

/* The user pointer inside a block starting at b, for this alignment. */
static uintptr_t user_ptr(uintptr_t b, size_t align)
{
	return align_up(b + sizeof(struct hdr), align);
}

static void *finish(uintptr_t b, uint64_t size, uintptr_t p)
{
	struct hdr *h = (struct hdr *)p - 1;
	h->size = size;
	h->offset = (uint32_t)(p - b);
	h->magic = HDR_MAGIC;
	in_use += size;
	return (void *)p;
}

static void free_insert(uintptr_t b, uint64_t size);

static void *from_free_list(size_t n, size_t align)
{
	struct free_blk **pp = &free_list;
	for (struct free_blk *f = free_list; f; pp = &f->next, f = f->next) {
		uintptr_t b = (uintptr_t)f;
		uintptr_t p = user_ptr(b, align);
		uint64_t need = (uint64_t)(align_up(p + n, ALIGN_MIN) - b);
		if (need > f->size)
			continue;
		uint64_t fsize = f->size;
		*pp = f->next;
		if (fsize - need >= MIN_SPLIT)
			free_insert(b + need, fsize - need);
		else
			need = fsize;
		return finish(b, need, p);
	}
	return NULL;
}

static void *from_bump(size_t n, size_t align)
{
	while (cur < nregions) {
		uintptr_t b = bump;
		uintptr_t p = user_ptr(b, align);
		uintptr_t end = align_up(p + n, ALIGN_MIN);
		if (end >= p && end <= bump_end) {
			bump = end;
			return finish(b, end - b, p);
		}
		/* does not fit here: keep the tail on the free list, next region */
		if (bump_end - bump >= MIN_SPLIT)
			free_insert(bump, bump_end - bump);
		if (++cur < nregions) {
			bump = (uintptr_t)regions[cur].base;
			bump_end = bump + (uintptr_t)regions[cur].len;
		}
	}
	return NULL;
}

void *uk_memalign(size_t align, size_t n)
{
	if (!inited)
		init();
	if (align < ALIGN_MIN)
		align = ALIGN_MIN;
	if (align & (align - 1))
		return NULL;                /* not a power of two */
	if (n == 0)
		n = 1;
	if (n > ((size_t)1 << 46) || align > ((size_t)1 << 30))
		return NULL;
	void *p = from_free_list(n, align);
	return p ? p : from_bump(n, align);
}

void *uk_malloc(size_t n)
{
	return uk_memalign(ALIGN_MIN, n);
}

void *uk_calloc(size_t n, size_t m)
{
	if (m && n > (size_t)-1 / m)
		return NULL;
	void *p = uk_malloc(n * m);
	if (p)
		memset(p, 0, n * m);
	return p;
}

static struct hdr *hdr_of(void *p)
{
	struct hdr *h = (struct hdr *)p - 1;
	if (((uintptr_t)p & (ALIGN_MIN - 1)) || h->magic != HDR_MAGIC || h->offset < sizeof *h
	    || h->offset > h->size) {
		uk_printf("ukalloc: free/realloc of a pointer it did not allocate (%p)\n", p);
		abort();
	}
	return h;
}

static uintptr_t block_of(void *p, const struct hdr *h)
{
	return (uintptr_t)p - h->offset;
}

/* Address-ordered insert with coalescing; a block ending at the bump pointer
 * goes back to it. */
static void free_insert(uintptr_t b, uint64_t size)
{
	if (b + size == bump && cur < nregions && b >= (uintptr_t)regions[cur].base) {
		bump = b;
		/* the free block just below may now touch the bump pointer too */
		struct free_blk **pp = &free_list, *last = NULL, **lastpp = NULL;
		for (struct free_blk *f = free_list; f; pp = &f->next, f = f->next) {
			last = f;
			lastpp = pp;
		}
		if (last && (uintptr_t)last + last->size == bump) {
			*lastpp = NULL;
			bump = (uintptr_t)last;
		}
		return;
	}
	struct free_blk **pp = &free_list;
	while (*pp && (uintptr_t)*pp < b)
		pp = &(*pp)->next;
	struct free_blk *next = *pp;
	struct free_blk *f = (struct free_blk *)b;
	f->size = size;
	f->next = next;
	if (next && b + size == (uintptr_t)next) {          /* merge with the next */
		f->size += next->size;
		f->next = next->next;
	}
	*pp = f;
	/* merge with the previous: find it (the list is short at init time) */
	for (struct free_blk *prev = free_list; prev && prev != f; prev = prev->next)
		if (prev->next == f && (uintptr_t)prev + prev->size == b) {
			prev->size += f->size;
			prev->next = f->next;
			break;
		}
}

void uk_free(void *p)
{
	if (!p)
		return;
	struct hdr *h = hdr_of(p);
	uint64_t size = h->size;
	uintptr_t b = block_of(p, h);
	h->magic = 0;
	in_use -= size;
	free_insert(b, size);
}

void *uk_realloc(void *p, size_t n)
{
	if (!p)
		return uk_malloc(n);
	if (!n) {
		uk_free(p);
		return NULL;
	}
	struct hdr *h = hdr_of(p);
	size_t have = (size_t)(block_of(p, h) + h->size - (uintptr_t)p);
	if (n <= have)
		return p;
	void *q = uk_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, have);
	uk_free(p);
	return q;
}

size_t uk_mem_total(void)
{
	if (!inited)
		init();
	return total;
}

size_t uk_mem_free(void)
{
	if (!inited)
		init();
	size_t n = 0;
	for (struct free_blk *f = free_list; f; f = f->next)
		n += f->size;
	if (cur < nregions) {
		n += bump_end - bump;
		for (unsigned i = cur + 1; i < nregions; i++)
			n += regions[i].len;
	}
	return n;
}

size_t uk_mem_used(void)
{
	return in_use;
}

/* ---- the C library's names for the same ------------------------------------- */

void *malloc(size_t n)
{
	return uk_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	return uk_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	return uk_realloc(p, n);
}

void free(void *p)
{
	uk_free(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	return uk_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return 22;                  /* EINVAL */
	void *p = uk_memalign(align, n);
	if (!p)
		return 12;                  /* ENOMEM */
	*out = p;
	return 0;
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = uk_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

char *strndup(const char *s, size_t n)
{
	size_t k = strnlen(s, n);
	char *d = uk_malloc(k + 1);
	if (d) {
		memcpy(d, s, k);
		d[k] = 0;
	}
	return d;
}

/*
 * pktpool: a fixed pool of packet buffers, allocated once at start-up.
 *
 * pkt_alloc()/pkt_kill() are a LIFO stack of free packets, so the buffer
 * just released (hot in cache) is the next one handed out.  Exhaustion is
 * counted in pkt_pool.alloc_fail, never fatal.
 */
#ifndef UKNFV_PKTPOOL_H
#define UKNFV_PKTPOOL_H

#include "uknfv/pkt.h"

struct pkt_pool {
	struct pkt **free;
	uint32_t nfree;
	uint32_t size;
	uint64_t alloc_fail;
};
extern struct pkt_pool pkt_pool;

/* Allocate the pool (n packets); 0 on success, -1 when out of memory. */
int pkt_pool_init(uint32_t n);

static inline void pkt__reset(struct pkt *p)
{
	p->data = p->buf + PKT_HEADROOM;
	p->len = 0;
	p->mac = p->nh = p->th = NULL;
	p->ts_ns = 0;
	p->pkt_type = PKT_TYPE_HOST;
	memset(p->anno, 0, PKT_ANNO_SIZE);
}

static inline struct pkt *pkt_alloc(void)
{
	if (__builtin_expect(pkt_pool.nfree == 0, 0)) {
		pkt_pool.alloc_fail++;
		return NULL;
	}
	struct pkt *p = pkt_pool.free[--pkt_pool.nfree];
	pkt__reset(p);
	return p;
}

static inline void pkt_kill(struct pkt *p)
{
	pkt_pool.free[pkt_pool.nfree++] = p;
}

#endif

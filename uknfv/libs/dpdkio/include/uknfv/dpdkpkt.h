/*
 * dpdkpkt: the packet API (uknfv/pkt.h) over DPDK's rte_mbuf, no copy.
 *
 * This is the DPDK target's buffer header, the role uknfv/pktpool.h plays
 * for the Linux target.  Every mbuf of the pool carries its `struct pkt` in
 * its private area (the pool is made with priv_size = DPDKPKT_PRIV_SIZE),
 * so a packet and its mbuf are one object:
 *
 *     pkt->buf  = mbuf->buf_addr      pkt->cap = mbuf->buf_len
 *     pkt->data = buf + data_off      pkt->len = data_len
 *     pkt->priv = the mbuf
 *
 * Elements change data/len (push, pull, put, take) through the packet API
 * only; dpdkpkt_to_mbuf() writes them back into the mbuf (single segment)
 * just before the mbuf goes to rte_eth_tx_burst().
 */
#ifndef UKNFV_DPDKPKT_H
#define UKNFV_DPDKPKT_H

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "uknfv/pkt.h"

#define DPDKPKT_PRIV_SIZE RTE_ALIGN_CEIL(sizeof(struct pkt), RTE_MBUF_PRIV_ALIGN)

struct dpdkpkt_pool {
	struct rte_mempool *mp;
	uint64_t alloc_fail;
};
extern struct dpdkpkt_pool dpdkpkt_pool;

/* Make the mbuf pool (n mbufs, after rte_eal_init()); 0 or -1 (rte_errno). */
int dpdkpkt_pool_init(unsigned n, int socket);

static inline struct pkt *dpdkpkt_of(struct rte_mbuf *m)
{
	return (struct pkt *)rte_mbuf_to_priv(m);
}

static inline struct rte_mbuf *dpdkpkt_mbuf(const struct pkt *p)
{
	return (struct rte_mbuf *)p->priv;
}

/* A received (single-segment) mbuf as a packet: every field set. */
static inline struct pkt *dpdkpkt_from_mbuf(struct rte_mbuf *m)
{
	struct pkt *p = dpdkpkt_of(m);
	p->buf = (uint8_t *)m->buf_addr;
	p->cap = m->buf_len;
	p->data = p->buf + m->data_off;
	p->len = m->data_len;
	p->mac = p->nh = p->th = NULL;
	p->ts_ns = 0;
	p->pkt_type = PKT_TYPE_HOST;
	memset(p->anno, 0, PKT_ANNO_SIZE);
	p->priv = m;
	p->next = NULL;
	return p;
}

/* Write the packet's geometry back into its mbuf, ready for TX. */
static inline struct rte_mbuf *dpdkpkt_to_mbuf(struct pkt *p)
{
	struct rte_mbuf *m = dpdkpkt_mbuf(p);
	m->data_off = (uint16_t)(p->data - p->buf);
	m->data_len = (uint16_t)p->len;
	m->pkt_len = p->len;
	/* RX offload flags mean nothing on the way out; keep only what says
	 * how the buffer is to be freed. */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	return m;
}

static inline struct pkt *pkt_alloc(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dpdkpkt_pool.mp);
	if (__builtin_expect(m == NULL, 0)) {
		dpdkpkt_pool.alloc_fail++;
		return NULL;
	}
	struct pkt *p = dpdkpkt_from_mbuf(m);
	/* Generated packets get the configured headroom (RX ones keep the PMD's). */
	if (PKT_HEADROOM < p->cap)
		p->data = p->buf + PKT_HEADROOM;
	return p;
}

static inline void pkt_kill(struct pkt *p)
{
	rte_pktmbuf_free(dpdkpkt_mbuf(p));
}

#endif

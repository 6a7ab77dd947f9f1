/*
 * uknfv packet API: the one small interface every element is written
 * against and every target implements over its own buffers.
 *
 * A packet is a contiguous run of bytes [data, data+len) inside a buffer
 * [buf, buf+cap).  Room before data (headroom) lets encapsulating elements
 * prepend headers without copying; room after it (tailroom) lets them append.
 * Header annotations (mac, nh, th) point into the buffer; the annotation
 * area carries Click's per-packet annotations (dst IP, paint, ...).
 *
 * Ownership: an element that receives a packet owns it until it passes it
 * on (push / return from pull) or releases it with pkt_kill().  Nothing on
 * the packet path allocates memory: pkt_alloc() takes a preallocated buffer
 * from the target's pool and returns NULL (counted) when it is empty.
 */
#ifndef UKNFV_PKT_H
#define UKNFV_PKT_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#ifdef CONFIG_PKT_HEADROOM
#define PKT_HEADROOM (CONFIG_PKT_HEADROOM + 0u)
#else
#define PKT_HEADROOM 128u
#endif
#ifdef CONFIG_PKT_DATAROOM
#define PKT_DATAROOM (CONFIG_PKT_DATAROOM + 0u)
#else
#define PKT_DATAROOM 2048u
#endif
#define PKT_BUFSIZE (PKT_HEADROOM + PKT_DATAROOM)

/* Click-compatible annotation layout (offsets into pkt.anno). */
#define PKT_ANNO_SIZE        48
#define PKT_ANNO_DST_IP      0    /* 4 bytes, network byte order */
#define PKT_ANNO_PAINT       16   /* 1 byte */
#define PKT_ANNO_ICMP_PARAM  17
#define PKT_ANNO_FIX_IP_SRC  19
#define PKT_ANNO_VLAN_TCI    20   /* 2 bytes */

#define PKT_TYPE_HOST       0
#define PKT_TYPE_BROADCAST  1
#define PKT_TYPE_MULTICAST  2
#define PKT_TYPE_OTHERHOST  3

struct pkt {
	uint8_t *data;
	uint32_t len;
	uint32_t cap;           /* size of the buffer at buf */
	uint8_t *buf;
	uint8_t *mac;           /* MAC header annotation, or NULL */
	uint8_t *nh;            /* network header annotation, or NULL */
	uint8_t *th;            /* transport header annotation, or NULL */
	uint64_t ts_ns;         /* timestamp annotation (ns since the epoch), 0 = none */
	uint8_t pkt_type;       /* PKT_TYPE_* */
	uint8_t anno[PKT_ANNO_SIZE];
	void *priv;             /* the target's own buffer (rte_mbuf, ring slot ...) */
	struct pkt *next;       /* free list / queue link, owned by whoever holds p */
};

/* ---- provided by the target's buffer library -------------------------- */
static inline struct pkt *pkt_alloc(void);
static inline void pkt_kill(struct pkt *p);

/* ---- geometry ---------------------------------------------------------- */
static inline uint32_t pkt_headroom(const struct pkt *p) { return (uint32_t)(p->data - p->buf); }
static inline uint32_t pkt_tailroom(const struct pkt *p)
{
	return p->cap - pkt_headroom(p) - p->len;
}

/* Remove n bytes from the front (caller guarantees n <= len). */
static inline void pkt_pull(struct pkt *p, uint32_t n)
{
	if (n > p->len)
		n = p->len;
	p->data += n;
	p->len -= n;
}

/* Shift data and header annotations by delta bytes inside the buffer. */
static inline void pkt__shift(struct pkt *p, long delta)
{
	memmove(p->data + delta, p->data, p->len);
	p->data += delta;
	if (p->mac) p->mac += delta;
	if (p->nh) p->nh += delta;
	if (p->th) p->th += delta;
}

/* Prepend n bytes; returns the new data pointer, or NULL when the buffer
 * cannot hold them (the packet is then unchanged). */
static inline uint8_t *pkt_push(struct pkt *p, uint32_t n)
{
	if (__builtin_expect(pkt_headroom(p) < n, 0)) {
		if (pkt_headroom(p) + pkt_tailroom(p) < n)
			return NULL;
		pkt__shift(p, (long)(n - pkt_headroom(p)));
	}
	p->data -= n;
	p->len += n;
	return p->data;
}

/* Remove n bytes from the end. */
static inline void pkt_take(struct pkt *p, uint32_t n)
{
	p->len -= n < p->len ? n : p->len;
}

/* Append n bytes; returns a pointer to them or NULL when out of room. */
static inline uint8_t *pkt_put(struct pkt *p, uint32_t n)
{
	if (pkt_tailroom(p) < n) {
		if (pkt_headroom(p) + pkt_tailroom(p) < n)
			return NULL;
		pkt__shift(p, -(long)pkt_headroom(p));
	}
	uint8_t *t = p->data + p->len;
	p->len += n;
	return t;
}

/* A copy of p (data, annotations) in a fresh buffer, or NULL. */
static inline struct pkt *pkt_clone(const struct pkt *p)
{
	struct pkt *q = pkt_alloc();
	if (!q)
		return NULL;
	uint32_t hr = pkt_headroom(p);
	if (hr + p->len > q->cap)
		hr = q->cap - p->len;
	q->data = q->buf + hr;
	q->len = p->len;
	memcpy(q->data, p->data, p->len);
	if (p->mac) q->mac = q->data + (p->mac - p->data);
	if (p->nh) q->nh = q->data + (p->nh - p->data);
	if (p->th) q->th = q->data + (p->th - p->data);
	q->ts_ns = p->ts_ns;
	q->pkt_type = p->pkt_type;
	memcpy(q->anno, p->anno, PKT_ANNO_SIZE);
	return q;
}

/* ---- annotations ------------------------------------------------------- */
static inline uint32_t pkt_dst_ip(const struct pkt *p)      /* network order */
{
	uint32_t v;
	memcpy(&v, p->anno + PKT_ANNO_DST_IP, 4);
	return v;
}
static inline void pkt_set_dst_ip(struct pkt *p, uint32_t net_order)
{
	memcpy(p->anno + PKT_ANNO_DST_IP, &net_order, 4);
}

/* Offset of a header annotation from data (negative if before it). */
static inline long pkt_nh_off(const struct pkt *p) { return p->nh - p->data; }
/* Bytes from the network header to the end of the packet. */
static inline int32_t pkt_nh_len(const struct pkt *p)
{
	return p->nh ? (int32_t)(p->data + p->len - p->nh) : -1;
}

/* ---- byte order and checksums ---------------------------------------- */
static inline uint16_t rd16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static inline uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static inline void wr16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static inline void wr32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
}

/* One's complement sum of n bytes added to sum, as big-endian 16-bit words
 * (not yet folded or inverted).  Sums 32-bit native words into a 64-bit
 * accumulator, folds, then swaps to network order: the one's complement
 * sum commutes with byte swapping, so the result is the same. */
static inline uint32_t cksum_add(uint32_t sum, const uint8_t *b, uint32_t n)
{
	uint64_t acc = 0;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		acc += (w & 0xffffffffu) + (w >> 32);
		b += 8;
		n -= 8;
	}
	if (n >= 4) {
		uint32_t w;
		memcpy(&w, b, 4);
		acc += w;
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t w;
		memcpy(&w, b, 2);
		acc += w;
		b += 2;
		n -= 2;
	}
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n)
		acc += b[0];
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return sum + __builtin_bswap16((uint16_t)acc);
#else
	if (n)
		acc += (uint32_t)b[0] << 8;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return sum + (uint32_t)acc;
#endif
}
static inline uint16_t cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
/* The Internet checksum of n bytes, as a host-order value to store with wr16. */
static inline uint16_t in_cksum(const uint8_t *b, uint32_t n) { return cksum_fold(cksum_add(0, b, n)); }

#endif

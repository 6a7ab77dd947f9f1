/*
 * ukvirtionet: virtio-net over ukvirtio, for uknetdev.  One RX and one TX
 * queue per NIC; zero-copy through the struct pkt headroom.  See
 * include/uk/virtionet.h and README.md.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "uk/alloc.h"
#include "uk/netdev_driver.h"
#include "uk/plat.h"
#include "uk/virtio.h"
#include "uk/virtionet.h"
#include "uknfv/pktpool.h"

/* feature bits (5.1.3) */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU        3
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16
#define VIRTIO_NET_F_CTRL_VQ    17

#define VIRTIO_NET_S_LINK_UP    1

/* device configuration (5.1.4) */
#define CFG_MAC     0
#define CFG_STATUS  6
#define CFG_MTU     10

#define RXQ 0
#define TXQ 1

#ifndef UKVIRTIONET_EVENT_IDX
#define UKVIRTIONET_EVENT_IDX 0
#endif

#if PKT_HEADROOM < 12
#error "ukvirtionet needs PKT_HEADROOM >= 12 for the virtio-net header"
#endif

struct vnet {
	struct uk_netdev nd;            /* first: uk_netdev * == struct vnet * */
	struct uk_virtio_dev *vd;
	struct uk_virtq *rxq, *txq;
	uint16_t hdrlen;
	uint16_t mtu;
	uint8_t mac[6];
	uint8_t irq_on;                 /* RX interrupt installed */
	uint64_t irqs;
};

static const struct uk_netdev_ops vnet_ops;

static inline struct vnet *V(struct uk_netdev *d) { return (struct vnet *)d; }

/* ---- set-up ------------------------------------------------------------------ */

static void vnet_info(struct uk_netdev *d, struct uk_netdev_info *info)
{
	struct vnet *v = V(d);
	memcpy(info->mac, v->mac, 6);
	info->mtu = v->mtu;
	info->driver = "virtio-net";
	info->bus = v->vd->name;
	if (uk_virtio_has(v->vd, VIRTIO_NET_F_STATUS)) {
		uint16_t st;
		uk_virtio_config_read(v->vd, CFG_STATUS, &st, 2);
		info->link_up = st & VIRTIO_NET_S_LINK_UP;
	}
}

static int vnet_configure(struct uk_netdev *d, uint16_t nrxq, uint16_t ntxq)
{
	(void)d;
	return nrxq == 1 && ntxq == 1 ? 0 : -EINVAL;
}

/* Post one pool buffer: the device writes header + frame starting hdrlen
 * bytes before pkt->data. */
static inline int rx_post(struct vnet *v, struct pkt *p)
{
	return uk_virtq_add1(v->rxq, uk_virt_to_phys(p->data - v->hdrlen),
			     (uint32_t)v->hdrlen + PKT_DATAROOM, 1, p);
}

static int vnet_rxq_setup(struct uk_netdev *d, uint16_t q, uint16_t ndesc)
{
	struct vnet *v = V(d);
	if (q != 0 || v->rxq)
		return -EINVAL;
	if (!pkt_pool.size) {
		uk_printf("ukvirtionet: %s: pkt_pool_init() must run before rxq_setup\n", v->vd->name);
		return -EINVAL;
	}
	v->rxq = uk_virtq_create(v->vd, RXQ, ndesc);
	if (!v->rxq)
		return -ENOMEM;
	uk_virtq_intr_disable(v->rxq);
	unsigned n = 0;
	while (v->rxq->nfree) {
		struct pkt *p = pkt_alloc();
		if (!p)
			break;
		rx_post(v, p);
		n++;
	}
	if (!n) {
		uk_printf("ukvirtionet: %s: the packet pool is empty\n", v->vd->name);
		return -ENOMEM;
	}
	if (n < v->rxq->num)
		uk_printf("ukvirtionet: %s: RX ring only %u/%u full (pool too small)\n", v->vd->name, n,
			  v->rxq->num);
	uk_virtq_publish(v->rxq);
	return 0;
}

static int vnet_txq_setup(struct uk_netdev *d, uint16_t q, uint16_t ndesc)
{
	struct vnet *v = V(d);
	if (q != 0 || v->txq)
		return -EINVAL;
	v->txq = uk_virtq_create(v->vd, TXQ, ndesc);
	if (!v->txq)
		return -ENOMEM;
	/* completions are harvested at the next tx_burst: never interrupt */
	uk_virtq_intr_disable(v->txq);
	return 0;
}

static int vnet_start(struct uk_netdev *d)
{
	struct vnet *v = V(d);
	if (!v->rxq || !v->txq)
		return -EINVAL;
	uk_virtio_driver_ok(v->vd);
	if (v->vd->ops->status_get(v->vd) & (VIRTIO_STATUS_FAILED | VIRTIO_STATUS_NEEDS_RESET)) {
		uk_printf("ukvirtionet: %s: device failed at DRIVER_OK\n", v->vd->name);
		return -EIO;
	}
	/* the RX buffers were published before DRIVER_OK; tell the device now */
	uk_virtq_notify(v->rxq);
	return 0;
}

/* ---- data path ----------------------------------------------------------------- */

static unsigned vnet_rx_burst(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n)
{
	struct vnet *v = V(d);
	struct uk_virtq *rq = v->rxq;
	unsigned got = 0;
	uint64_t bytes = 0;
	(void)q;
	if (!uk_virtq_used_pending(rq))
		return 0;
	while (got < n) {
		uint32_t len;
		struct pkt *p = uk_virtq_get(rq, &len);
		if (!p)
			break;
		struct pkt *fresh = pkt_alloc();
		if (__builtin_expect(!fresh, 0)) {
			/* pool empty: drop this frame, keep the ring full */
			d->rx.drops++;
			rx_post(v, p);
			continue;
		}
		rx_post(v, fresh);
		if (__builtin_expect(len <= v->hdrlen || len > v->hdrlen + PKT_DATAROOM, 0)) {
			d->rx.errors++;
			pkt_kill(p);
			continue;
		}
		p->len = len - v->hdrlen;
		p->mac = p->data;
		bytes += p->len;
		pkts[got++] = p;
	}
	d->rx.packets += got;
	d->rx.bytes += bytes;
	uk_virtq_kick(rq);
	return got;
}

/* Free the packets the device has finished sending. */
static inline void tx_reclaim(struct uk_virtq *tq)
{
	struct pkt *p;
	while ((p = uk_virtq_get(tq, NULL)) != NULL)
		pkt_kill(p);
}

static unsigned vnet_tx_burst(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n)
{
	struct vnet *v = V(d);
	struct uk_virtq *tq = v->txq;
	unsigned sent = 0;
	uint64_t bytes = 0;
	(void)q;
	tx_reclaim(tq);         /* one load when nothing completed */
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = pkts[i];
		if (__builtin_expect(tq->nfree == 0, 0)) {
			d->tx.drops += n - i;
			for (; i < n; i++)
				pkt_kill(pkts[i]);
			break;
		}
		uint32_t flen = p->len;
		uint8_t *h = pkt_push(p, v->hdrlen);
		if (__builtin_expect(!h, 0)) {
			d->tx.errors++;
			pkt_kill(p);
			continue;
		}
		memset(h, 0, v->hdrlen);
		uk_virtq_add1(tq, uk_virt_to_phys(h), p->len, 0, p);
		bytes += flen;
		sent++;
	}
	d->tx.packets += sent;
	d->tx.bytes += bytes;
	uk_virtq_kick(tq);
	return sent;
}

/* ---- interrupts ------------------------------------------------------------------ */

static void vnet_irq(void *arg)
{
	/* uk_idle() returns after any interrupt: nothing to do but count. */
	struct vnet *v = arg;
	v->irqs++;
}

static int vnet_rx_intr_enable(struct uk_netdev *d, uint16_t q)
{
	struct vnet *v = V(d);
	(void)q;
	if (!v->irq_on) {
		if (uk_virtio_irq_register(v->vd, RXQ, vnet_irq, v))
			return -ENOTSUP;
		v->irq_on = 1;
	}
	return uk_virtq_intr_enable(v->rxq) ? 1 : 0;
}

static int vnet_rx_intr_disable(struct uk_netdev *d, uint16_t q)
{
	struct vnet *v = V(d);
	(void)q;
	uk_virtq_intr_disable(v->rxq);
	return 0;
}

static const struct uk_netdev_ops vnet_ops = {
	.info_get = vnet_info,
	.configure = vnet_configure,
	.rxq_setup = vnet_rxq_setup,
	.txq_setup = vnet_txq_setup,
	.start = vnet_start,
	.rx_burst = vnet_rx_burst,
	.tx_burst = vnet_tx_burst,
	.rx_intr_enable = vnet_rx_intr_enable,
	.rx_intr_disable = vnet_rx_intr_disable,
};

int uk_virtionet_stats(struct uk_netdev *d, struct uk_virtionet_stats *st)
{
	if (d->ops != &vnet_ops)
		return -1;
	struct vnet *v = V(d);
	memset(st, 0, sizeof *st);
	st->hdrlen = v->hdrlen;
	st->irqs = v->irqs;
	if (v->rxq) {
		st->rx_kicks = v->rxq->kicks;
		st->rx_ring = v->rxq->num;
	}
	if (v->txq) {
		st->tx_kicks = v->txq->kicks;
		st->tx_ring = v->txq->num;
		st->tx_pending = (uint16_t)(v->txq->num - v->txq->nfree);
	}
	return 0;
}

/* ---- probe ------------------------------------------------------------------------ */

struct uk_netdev *uk_virtionet_attach(struct uk_virtio_dev *vd, unsigned nic)
{
	uint64_t want = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS)
			| VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT);
	if (UKVIRTIONET_EVENT_IDX)
		want |= VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	if (uk_virtio_negotiate(vd, want)) {
		uk_printf("ukvirtionet: %s: feature negotiation failed, NIC skipped\n", vd->name);
		return NULL;
	}
	struct vnet *v = uk_calloc(1, sizeof *v);
	if (!v) {
		uk_virtio_fail(vd);
		return NULL;
	}
	v->vd = vd;
	v->nd.ops = &vnet_ops;
	v->nd.max_rxq = v->nd.max_txq = 1;
	/* 12 bytes with VERSION_1 (num_buffers always present), 10 on legacy
	 * without MRG_RXBUF */
	v->hdrlen = uk_virtio_has(vd, VIRTIO_F_VERSION_1) ? 12 : 10;
	v->mtu = 1500;
	if (uk_virtio_has(vd, VIRTIO_NET_F_MTU)) {
		uint16_t mtu;
		uk_virtio_config_read(vd, CFG_MTU, &mtu, 2);
		if (mtu >= 68)
			v->mtu = mtu;
	}
	if (v->mtu + 14u + 4u > PKT_DATAROOM)
		v->mtu = (uint16_t)(PKT_DATAROOM - 18u);
	if (uk_virtio_has(vd, VIRTIO_NET_F_MAC)) {
		uk_virtio_config_read(vd, CFG_MAC, v->mac, 6);
	} else {
		/* no MAC from the device: a locally administered one */
		static const uint8_t base[6] = {0x02, 0x75, 0x6b, 0x6e, 0x66, 0x00};
		memcpy(v->mac, base, 6);
		v->mac[5] = (uint8_t)nic;
	}
	if (uk_netdev_register(&v->nd) < 0) {
		uk_virtio_fail(vd);
		uk_free(v);
		return NULL;
	}
	return &v->nd;
}

static int vnet_probe(void)
{
	struct uk_virtio_dev *vds[UK_NETDEV_MAX];
	unsigned n = uk_virtio_discover(VIRTIO_ID_NET, vds, UK_NETDEV_MAX), ok = 0;
	if (n > UK_NETDEV_MAX)
		n = UK_NETDEV_MAX;
	for (unsigned i = 0; i < n; i++) {
		if (uk_virtionet_attach(vds[i], i))
			ok++;
		else if (uk_netdev_count() >= UK_NETDEV_MAX)
			break;
	}
	return (int)ok;
}

UK_NETDEV_DRIVER(uk_virtionet_driver, "virtio-net", vnet_probe);

/*
 * uknetdev: the unikernel's network-device API (burst RX/TX over struct pkt).
 *
 * Usage (ukmain does this; the pool must exist before rxq_setup):
 *
 *   pkt_pool_init(n);
 *   uk_netdev_probe_all();
 *   for (i = 0; i < uk_netdev_count(); i++) {
 *       d = uk_netdev_get(i);
 *       uk_netdev_configure(d, 1, 1);
 *       uk_netdev_rxq_setup(d, 0, 256);   // fills the RX ring from pkt_alloc()
 *       uk_netdev_txq_setup(d, 0, 256);
 *       uk_netdev_start(d);
 *   }
 *   loop: n = uk_netdev_rx_burst(d, 0, pkts, 32); ... uk_netdev_tx_burst(d, 0, out, m);
 *
 * Buffer ownership:
 *   - RX: the ring holds pool buffers (the driver's until received).  Each
 *     packet returned by rx_burst belongs to the caller (data at the Ethernet
 *     header, len = frame length without FCS, mac annotation = data, the
 *     headroom of the pool buffer in front); the slot is refilled from
 *     pkt_alloc() at once.  If the pool is empty the received packet is
 *     dropped (counted in rx.drops) and its buffer reposted, so the ring never
 *     runs dry.
 *   - TX: tx_burst takes ownership of all n packets.  The driver may write
 *     its own header into the headroom (pkt_push).  Packets that do not fit
 *     in the ring are freed with pkt_kill() and counted in tx.drops; sent ones
 *     are freed when the device hands them back (harvested at the next
 *     tx_burst).  The return value is the number queued for sending.
 *
 * Devices are probed once, numbered in discovery order (PCI bus/slot/function
 * first, then virtio-mmio in command-line order) and live for the whole run.
 * Only one CPU: none of these functions is reentrant, and none may be called
 * from an interrupt handler.
 */
#ifndef UK_NETDEV_H
#define UK_NETDEV_H

#include <stdint.h>
struct pkt;                                       /* uknfv/pkt.h */

struct uk_netdev;                                 /* opaque to users */

struct uk_netdev_info {
	uint8_t mac[6];
	uint16_t mtu;               /* the device's MTU (1500 when it does not say) */
	uint16_t max_rxq, max_txq;
	const char *driver;         /* "virtio-net" */
	const char *bus;            /* "pci 00:02.0 modern", "mmio 0xfeb00e00 v1 irq 12" */
	uint8_t link_up;            /* 1 up (or unknown), 0 down */
};
struct uk_netdev_qstats {
	uint64_t packets, bytes, drops, errors;
};

/* Probe with every driver linked in (once; later calls just return the
 * count).  Returns the number of NICs, or < 0 on a fatal error. */
int uk_netdev_probe_all(void);
unsigned uk_netdev_count(void);
struct uk_netdev *uk_netdev_get(unsigned i);      /* NULL past the end */

void uk_netdev_info_get(struct uk_netdev *d, struct uk_netdev_info *info);

/* Set-up, in this order, once per device.  Each returns 0 or a negative
 * errno (-EINVAL for bad arguments or the wrong order, -ENOMEM, -EIO). */
int uk_netdev_configure(struct uk_netdev *d, uint16_t nrxq, uint16_t ntxq);
/* ndesc: ring size wanted; 0 = the device's maximum; rounded down to a
 * power of two and capped by the device (legacy virtio-PCI: always the
 * device's own size). */
int uk_netdev_rxq_setup(struct uk_netdev *d, uint16_t q, uint16_t ndesc);
int uk_netdev_txq_setup(struct uk_netdev *d, uint16_t q, uint16_t ndesc);
int uk_netdev_start(struct uk_netdev *d);

/* Burst RX: up to n received packets into pkts[0..); returns the count. */
unsigned uk_netdev_rx_burst(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n);
/* Burst TX: see ownership above; returns the number queued. */
unsigned uk_netdev_tx_burst(struct uk_netdev *d, uint16_t q, struct pkt **pkts, unsigned n);

/* RX interrupts, so uk_idle() wakes when a packet arrives.  Off after
 * start (pure polling).  enable: the first call installs the interrupt
 * (MSI-X vector or the virtio-mmio GSI); afterwards it only clears the
 * ring's interrupt suppression.  Returns 1 if packets are already waiting
 * (poll instead of sleeping: no interrupt will come for them), 0 if armed,
 * < 0 if the device cannot interrupt.  Interrupts stay enabled until
 * rx_intr_disable(), so disable them again while polling. */
int uk_netdev_rx_intr_enable(struct uk_netdev *d, uint16_t q);
int uk_netdev_rx_intr_disable(struct uk_netdev *d, uint16_t q);

/* Counters since start, summed over queues (rx.drops: packets dropped
 * because the pool was empty; rx.errors: malformed completions; tx.drops:
 * ring full; tx.errors: no room for the driver's header). */
void uk_netdev_stats(struct uk_netdev *d, struct uk_netdev_qstats *rx, struct uk_netdev_qstats *tx);

#endif

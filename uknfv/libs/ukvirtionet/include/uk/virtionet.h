/*
 * ukvirtionet: the virtio-net driver for uknetdev.  It registers itself
 * (UK_NETDEV_DRIVER): linking this library is enough, uk_netdev_probe_all()
 * finds every virtio-net device on every ukvirtio transport.
 *
 * Features negotiated: MAC, STATUS, MTU, VERSION_1 (modern transports),
 * ANY_LAYOUT (legacy), EVENT_IDX only when built with
 * -DUKVIRTIONET_EVENT_IDX=1.  No offloads (CSUM, GUEST_CSUM, TSO, UFO),
 * no MRG_RXBUF, no control queue: frames arrive complete and are sent as
 * they are.  The device's own receive filter stays in its reset state
 * (QEMU: promiscuous), so every frame on the wire is received.
 *
 * Header in the headroom: every buffer starts with the virtio-net header
 * (12 bytes on modern transports, 10 on legacy ones), which sits in the
 * struct pkt headroom right before the frame, so RX and TX are zero-copy.
 *
 * This header only exposes the driver's internals for statistics and tests;
 * applications use uk/netdev.h.
 */
#ifndef UK_VIRTIONET_H
#define UK_VIRTIONET_H

#include <stdint.h>

struct uk_netdev;
struct uk_virtio_dev;

/* Drive one virtio-net device found (or created) by a transport: negotiate
 * the features, read the configuration and register the NIC with uknetdev.
 * The unikernel's probe calls it for every device uk_virtio_discover()
 * finds; a hosted transport (vhost-user) calls it for the device it just
 * connected.  nic numbers the made-up MAC when the device has none.
 * Returns the NIC (set it up with uk_netdev_configure ...), or NULL (the
 * reason was printed with uk_printf; the device is marked FAILED). */
struct uk_netdev *uk_virtionet_attach(struct uk_virtio_dev *vd, unsigned nic);

/* Driver-level counters of one NIC (notifications sent, interrupts taken,
 * virtio-net header length in use). */
struct uk_virtionet_stats {
	uint64_t rx_kicks, tx_kicks, irqs;
	uint16_t hdrlen, rx_ring, tx_ring;
	uint16_t tx_pending;        /* TX buffers the device has not handed back yet */
};
/* 0, or -1 if d is not a virtio-net device. */
int uk_virtionet_stats(struct uk_netdev *d, struct uk_virtionet_stats *st);

#endif

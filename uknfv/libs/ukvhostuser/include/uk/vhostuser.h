/*
 * ukvhostuser: the vhost-user transport of ukvirtio, for hosted builds.
 *
 * The unikernel's own virtio-net driver (ukvirtionet) and virtqueue code
 * (ukvirtio) run in a Linux process against a vhost-user back-end (DPDK's
 * net_vhost, dpdk-testpmd, a uknfv DPDK vNF, ...) that serves a UNIX
 * socket.  This process is the front-end ("driver" side, the socket
 * client):
 *
 *   vd = uk_vhostuser_connect("/tmp/a.sock", &opts, err, sizeof err);
 *   nd = uk_virtionet_attach(vd, 0);      // negotiate, register with uknetdev
 *   uk_netdev_configure(nd, 1, 1); uk_netdev_rxq_setup(nd, 0, 256); ...
 *
 * Memory: every buffer the back-end must reach (the packet pool, the
 * rings) lives in memfd-backed MAP_SHARED regions (uk_shm_alloc); all
 * regions are sent in SET_MEM_TABLE with guest-physical address ==
 * userspace address == the process's virtual address, so the driver's
 * uk_virt_to_phys() stays the identity.  The packet pool gets its region
 * through pktpool's pkt_pool_shared_alloc() hook, which this library
 * defines, so it must be linked before pkt_pool_init() runs (it is: the
 * hook is a link-time symbol).
 *
 * Notifications: one kick eventfd per queue (written by the queue_notify
 * op when the driver's uk_virtq_kick decides the back-end needs it:
 * VRING_USED_F_NO_NOTIFY clear, or EVENT_IDX), one call eventfd per queue
 * (written by the back-end when the driver re-enables "interrupts" with
 * uk_netdev_rx_intr_enable): a poll(2)-able descriptor for idle waiting.
 */
#ifndef UK_VHOSTUSER_H
#define UK_VHOSTUSER_H

#include <stddef.h>
#include <stdint.h>

struct uk_virtio_dev;

struct uk_vhostuser_opts {
	uint8_t mac[6];          /* reported as the device's MAC when have_mac */
	uint8_t have_mac;
	uint16_t max_ring;       /* largest ring the driver may ask for (0: 4096) */
};

/* Connect to the back-end at path and do the first part of the handshake
 * (SET_OWNER, GET_FEATURES, protocol features).  Returns a virtio device of
 * type VIRTIO_ID_NET for uk_virtionet_attach(), or NULL with a one-line
 * reason in err. */
struct uk_virtio_dev *uk_vhostuser_connect(const char *path, const struct uk_vhostuser_opts *o,
					   char *err, size_t errlen);
/* The call eventfd of queue q (the back-end writes it when the driver asked
 * for an interrupt), -1 before the queue exists. */
int uk_vhostuser_callfd(struct uk_virtio_dev *d, unsigned q);
/* 1 while the back-end keeps the socket open. */
int uk_vhostuser_alive(struct uk_virtio_dev *d);
/* Close the socket and the eventfds (the back-end then stops the device). */
void uk_vhostuser_close(struct uk_virtio_dev *d);

/* ---- shared memory ------------------------------------------------------- */
struct uk_shm_region {
	void *base;
	size_t size;
	int fd;                  /* memfd, passed to the back-end */
};
/* A new memfd region of at least size bytes (page-aligned), mapped
 * MAP_SHARED; NULL when out of memory or out of regions (at most 8, the
 * vhost-user limit without the CONFIGURE_MEM_SLOTS extension). */
void *uk_shm_alloc(size_t size, const char *name);
unsigned uk_shm_regions(const struct uk_shm_region **out);

#endif

/*
 * linuxio: the Linux target's process runtime and port backends.
 *
 * A logical port (FromDevice(NAME)/ToDevice(NAME)) is bound at start-up by
 * `--port NAME=SCHEME:ARGS` to one backend:
 *   pcap:FILE            read FILE (RX) or write FILE (TX); for a port used
 *                        both ways pcap:in=FILE,out=FILE
 *   if:IFACE             an existing interface through AF_PACKET (TPACKET rings)
 *   tap:NAME             a TAP device (created if missing)
 *   virtio-user:PATH     a vhost-user back-end's socket (DPDK net_vhost ...),
 *                        driven by the unikernel's virtio-net driver
 *                        (ukvirtionet over ukvhostuser); [,ring=N][,mac=MAC]
 */
#ifndef UKNFV_LINUXIO_H
#define UKNFV_LINUXIO_H

#include "uknfv/rt.h"

struct rt_port;

struct rt_port_backend {
	const char *scheme;
	const char *usage;
	/* Open for the directions in port->dir; 0 ok, else -1 with err set. */
	int (*open)(struct rt_port *port, const char *arg, char *err, size_t errlen);
	unsigned (*rx)(struct rt_port *port, struct pkt **pkts, unsigned n);
	/* Send n packets; the backend takes ownership of all of them and
	 * counts the ones it could not send in port->tx_drops. */
	void (*tx)(struct rt_port *port, struct pkt **pkts, unsigned n);
	int (*pollfd)(struct rt_port *port);   /* fd to wait on when idle, or -1 */
	void (*close)(struct rt_port *port);
};

struct rt_port {
	const char *name;
	int dir;
	const struct rt_port_backend *be;
	void *state;
	int finite;          /* RX ends (pcap): counts as a STOP source */
	int eof;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, rx_drops, tx_drops;
};

extern const struct rt_port_backend rt_pcap_backend;
extern const struct rt_port_backend rt_afpacket_backend;
extern const struct rt_port_backend rt_tap_backend;
extern const struct rt_port_backend rt_virtiouser_backend;

#endif

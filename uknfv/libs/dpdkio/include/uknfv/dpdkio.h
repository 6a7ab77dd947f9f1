/*
 * dpdkio: the DPDK target's process runtime (main loop, EAL start-up,
 * logical port binding, burst RX/TX over rte_ethdev).
 *
 * A logical port (FromDevice(NAME)/ToDevice(NAME)) is bound at start-up by
 * `--port NAME=SPEC` to one DPDK ethdev:
 *   dpdk:DEVARGS          any EAL device: a virtual device's devargs
 *                         (net_vhost0,iface=/tmp/a.sock  net_virtio_user0,path=...
 *                         net_af_packet0,iface=eth0  net_tap0  net_pcap0,rx_pcap=...
 *                         net_ring0  net_null0 ...) or a PCI address (0000:01:00.0)
 *   pcap:FILE | pcap:in=FILE,out=FILE   a pcap file through net_pcap
 *   if:IFACE              a Linux interface through net_af_packet
 *   tap:NAME              a TAP device through net_tap
 */
#ifndef UKNFV_DPDKIO_H
#define UKNFV_DPDKIO_H

#include <stdint.h>
#include "uknfv/rt.h"

#define DPDKIO_DEVARGS_MAX 1024

struct dpdkio_port {
	const char *name;          /* logical name */
	int dir;                   /* RT_PORT_RX | RT_PORT_TX */
	const char *spec;          /* the --port SPEC as given */
	char devargs[DPDKIO_DEVARGS_MAX];   /* what the EAL gets */
	char devname[128];         /* the device's name (devargs up to the first comma) */
	int is_pci;
	int owner;                 /* logical port that opened the ethdev (itself, or an earlier one) */
	uint16_t eth;              /* ethdev port id */
	int probed, started;
	/* Finite input (a pcap file): ends the run when all of it was received. */
	int finite;
	int64_t records;           /* records in the file; -1 unknown */
	int eof;
	uint64_t idle_since;
	uint64_t rx_pkts, rx_bytes, rx_drops, tx_pkts, tx_bytes, tx_drops;
};

extern struct dpdkio_port *dpdkio_ports;

/* Before rte_eal_init(): turn each SPEC into devargs; 0 or -1 (message printed). */
int dpdkio_bind(unsigned i, const char *spec);
/* The EAL arguments the bound ports need (-a PCI ...); returns how many were added. */
int dpdkio_eal_args(const char **argv, int max);
/* After rte_eal_init() and the pool: probe, configure and start every device. */
int dpdkio_open(unsigned rx_ring, unsigned tx_ring);
void dpdkio_close(void);
void dpdkio_print_stats(void);
/* 1 if a finite port may still produce input (for idle decisions). */
int dpdkio_rx_pending(void);

#endif

/*
 * The `virtio-user:` backend: a vhost-user back-end (DPDK's net_vhost,
 * dpdk-testpmd, a uknfv DPDK vNF) driven by the unikernel's own virtio-net
 * driver (ukvirtionet over ukvirtio's virtqueues, vhost-user transport from
 * ukvhostuser), so the kvm target's packet path runs, and can be measured,
 * in a process.
 *
 *   virtio-user:PATH[,ring=N][,mac=XX:XX:XX:XX:XX:XX]
 *
 * PATH is the back-end's socket (this process connects to it).  ring: the
 * RX and TX ring sizes (power of two, 64..4096, default 256; a port the
 * pipeline only sends on gets an RX ring of 64).  mac: the MAC
 * the NIC reports (else 02:75:6b:6e:66:NN); the back-end does not filter
 * on it.  The port is polled; while the vNF is idle it sleeps on the RX
 * queue's call eventfd, with the driver's RX "interrupt" armed.  Packets go
 * zero-copy between the pool and the rings (the pool sits in memfd shared
 * memory, see ukvhostuser).  Drops: rx = pool empty or bad completions
 * (uknetdev rx.drops + rx.errors), tx = ring full or no headroom.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "uk/netdev.h"
#include "uk/plat.h"
#include "uk/vhostuser.h"
#include "uk/virtionet.h"
#include "uknfv/linuxio.h"
#include "uknfv/pktpool.h"

#define VU_DEFAULT_RING 256

struct vuport {
	struct uk_virtio_dev *vd;
	struct uk_netdev *nd;
	int callfd;
	int armed;                  /* RX interrupt enabled (we are about to sleep) */
	int warned_down;
	char path[512];
};

static unsigned vu_nics;

static void vu_close(struct rt_port *port)
{
	struct vuport *s = port->state;
	if (!s)
		return;
	if (s->nd) {
		/* Give the back-end up to 200 ms to take what is still in the TX ring. */
		struct uk_virtionet_stats st;
		for (int i = 0; i < 200; i++) {
			uk_netdev_tx_burst(s->nd, 0, NULL, 0);      /* reclaims completions */
			if (uk_virtionet_stats(s->nd, &st) || !st.tx_pending || !uk_vhostuser_alive(s->vd))
				break;
			struct timespec t = { 0, 1000000 };
			nanosleep(&t, NULL);
		}
	}
	uk_vhostuser_close(s->vd);
	free(s);
	port->state = NULL;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int vu_open(struct rt_port *port, const char *arg, char *err, size_t errlen)
{
	struct uk_vhostuser_opts o;
	memset(&o, 0, sizeof o);
	unsigned ring = VU_DEFAULT_RING;
	char *copy = strdup(arg), *save = NULL;
	char *path = strtok_r(copy, ",", &save);
	if (!path || !*path) {
		snprintf(err, errlen, "virtio-user: expects a vhost-user socket path "
			 "(virtio-user:PATH, e.g. virtio-user:/tmp/vhost0.sock)");
		free(copy);
		return -1;
	}
	for (char *opt = strtok_r(NULL, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		char *end;
		if (!strncmp(opt, "ring=", 5)) {
			unsigned long r = strtoul(opt + 5, &end, 10);
			if (*end || r < 64 || r > 4096 || (r & (r - 1))) {
				snprintf(err, errlen, "virtio-user:%s: ring= expects a power of two "
					 "from 64 to 4096", path);
				free(copy);
				return -1;
			}
			ring = (unsigned)r;
		} else if (!strncmp(opt, "mac=", 4)) {
			if (parse_mac(opt + 4, o.mac)) {
				snprintf(err, errlen, "virtio-user:%s: mac= expects XX:XX:XX:XX:XX:XX", path);
				free(copy);
				return -1;
			}
			o.have_mac = 1;
		} else {
			snprintf(err, errlen, "virtio-user:%s: unknown option '%s' (expected ring=N, mac=MAC)",
				 path, opt);
			free(copy);
			return -1;
		}
	}
	if (strlen(path) >= 108) {
		snprintf(err, errlen, "virtio-user:%.60s...: socket path too long (at most 107 characters)",
			 path);
		free(copy);
		return -1;
	}
	o.max_ring = (uint16_t)ring;
	if ((uint64_t)pkt_pool.size < (uint64_t)ring + 64) {
		snprintf(err, errlen, "virtio-user:%s: the packet pool (%u buffers) is too small for a "
			 "ring of %u (raise --pool)", path, pkt_pool.size, ring);
		free(copy);
		return -1;
	}
	struct vuport *s = calloc(1, sizeof *s);
	snprintf(s->path, sizeof s->path, "%s", path);
	free(copy);
	port->state = s;
	s->callfd = -1;

	/* A port the pipeline only sends on still needs an RX queue (virtio-net
	 * has the pair); keep its ring, and the pool buffers it holds, small. */
	unsigned rxring = (port->dir & RT_PORT_RX) ? ring : 64;
	char why[400];
	why[0] = 0;
	s->vd = uk_vhostuser_connect(s->path, &o, why, sizeof why);
	if (!s->vd) {
		snprintf(err, errlen, "virtio-user:%s", why);
		free(s);
		port->state = NULL;
		return -1;
	}
	/* The unikernel's driver from here on; its diagnostics become our error. */
	int quiet = uk_hosted_quiet;
	uk_hosted_quiet = 1;
	uk_hosted_msg[0] = 0;
	int rc = 0;
	const char *step = "attach";
	s->nd = uk_virtionet_attach(s->vd, vu_nics++);
	if (!s->nd)
		rc = -1;
	if (!rc && (step = "configure", rc = uk_netdev_configure(s->nd, 1, 1)) == 0
	    && (step = "RX queue set-up", rc = uk_netdev_rxq_setup(s->nd, 0, (uint16_t)rxring)) == 0
	    && (step = "TX queue set-up", rc = uk_netdev_txq_setup(s->nd, 0, (uint16_t)ring)) == 0)
		step = "start", rc = uk_netdev_start(s->nd);
	uk_hosted_quiet = quiet;
	if (rc) {
		const char *m = uk_hosted_msg;
		/* drop the prefixes: "ukvirtio: vhost-user PATH: ..." */
		const char *p = strstr(m, "vhost-user ");
		if (p && (p = strstr(p, ": ")) != NULL)
			m = p + 2;
		if (!*m)
			m = "the back-end stopped answering";
		snprintf(err, errlen, "virtio-user:%s: %s (%s failed)", s->path, m, step);
		s->nd = NULL;
		vu_close(port);
		return -1;
	}
	if (!uk_vhostuser_alive(s->vd)) {
		snprintf(err, errlen, "virtio-user:%s: the back-end closed the connection during set-up",
			 s->path);
		vu_close(port);
		return -1;
	}
	s->callfd = uk_vhostuser_callfd(s->vd, 0);
	return 0;
}

static unsigned vu_rx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct vuport *s = port->state;
	if (s->armed) {
		uk_netdev_rx_intr_disable(s->nd, 0);
		s->armed = 0;
	}
	unsigned got = uk_netdev_rx_burst(s->nd, 0, pkts, n);
	struct uk_netdev_qstats rx;
	uk_netdev_stats(s->nd, &rx, NULL);
	port->rx_drops = rx.drops + rx.errors;
	return got;
}

static void vu_tx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct vuport *s = port->state;
	unsigned sent = uk_netdev_tx_burst(s->nd, 0, pkts, n);
	port->tx_drops += n - sent;
}

/* Called when the run loop is about to sleep: arm the RX "interrupt" (the
 * back-end then writes the call eventfd at the next frame). */
static int vu_pollfd(struct rt_port *port)
{
	struct vuport *s = port->state;
	uint64_t cnt;
	while (read(s->callfd, &cnt, sizeof cnt) > 0)
		;
	int r = uk_netdev_rx_intr_enable(s->nd, 0);
	s->armed = 1;
	if (r != 0) {           /* frames already waiting (1), or cannot arm: do not sleep long */
		cnt = 1;
		ssize_t w = write(s->callfd, &cnt, sizeof cnt);
		(void)w;
	}
	if (!s->warned_down && !uk_vhostuser_alive(s->vd)) {
		s->warned_down = 1;
		rt_log("warning: port '%s': the vhost-user back-end at %s went away", port->name, s->path);
	}
	return s->callfd;
}

const struct rt_port_backend rt_virtiouser_backend = {
	.scheme = "virtio-user", .usage = "virtio-user:PATH[,ring=N][,mac=MAC]",
	.open = vu_open, .rx = vu_rx, .tx = vu_tx, .pollfd = vu_pollfd, .close = vu_close,
};

/*
 * The Linux target's process: argument parsing, port binding, the run loop.
 *
 *   PROG [--port NAME=SCHEME:ARGS]... [--stats] [--pool N] [--control SOCK] [--ports] [--help]
 */
#define _GNU_SOURCE             /* ppoll */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "uknfv/linuxio.h"
#include "uknfv/rtproc.h"
#include "uknfv/pktpool.h"

#ifdef CONFIG_LINUXIO_POOL
#define DEFAULT_POOL CONFIG_LINUXIO_POOL
#else
#define DEFAULT_POOL 4096
#endif

extern struct rt_port *rt_ports;
extern unsigned rt_extra_stop_sources;

static const struct rt_port_backend *const backends[] = {
	&rt_pcap_backend,
#ifdef UKNFV_HAVE_AFPACKET
	&rt_afpacket_backend,
#endif
#ifdef UKNFV_HAVE_TAP
	&rt_tap_backend,
#endif
#ifdef UKNFV_HAVE_VIRTIO_USER
	&rt_virtiouser_backend,
#endif
};
#define NBACKENDS (sizeof backends / sizeof backends[0])


static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [--port NAME=SPEC]... [--stats] [--pool N] [--control SOCK] [--ports]\n"
		   "  uknfv pipeline '%s' (Linux target)\n"
		   "  --port NAME=SPEC  bind logical port NAME; SPEC is one of:\n", prog, uknfv_pipeline_name);
	for (unsigned i = 0; i < NBACKENDS; i++)
		fprintf(f, "                      %s\n", backends[i]->usage);
	fprintf(f, "  --stats           print every handler's value at exit\n"
		   "  --pool N          packet buffers to preallocate (default %d)\n"
		   "  --control SOCK    serve handlers on UNIX socket SOCK (Click's ControlSocket\n"
		   "                    protocol: `uknfv handlers/read/write SOCK ...`)\n"
		   "  --ports           list the pipeline's logical ports and exit\n", DEFAULT_POOL);
}


static void print_port_stats(void)
{
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct rt_port *p = &rt_ports[i];
		if (p->dir & RT_PORT_RX)
			printf("port.%s.rx: %llu packets, %llu bytes, %llu dropped\n", p->name,
			       (unsigned long long)p->rx_pkts, (unsigned long long)p->rx_bytes,
			       (unsigned long long)p->rx_drops);
		if (p->dir & RT_PORT_TX)
			printf("port.%s.tx: %llu packets, %llu bytes, %llu dropped\n", p->name,
			       (unsigned long long)p->tx_pkts, (unsigned long long)p->tx_bytes,
			       (unsigned long long)p->tx_drops);
	}
	printf("pool.alloc_failures: %llu\n", (unsigned long long)pkt_pool.alloc_fail);
}


static int open_ports(const char **bindings)
{
	char err[600];
	rt_ports = calloc(uknfv_nports + 1, sizeof *rt_ports);
	rt_txqs = calloc(uknfv_nports + 1, sizeof *rt_txqs);
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct rt_port *p = &rt_ports[i];
		p->name = uknfv_ports[i].name;
		p->dir = uknfv_ports[i].dir;
		if (!bindings[i]) {
			fprintf(stderr, "error: port '%s' is not bound: add --port %s=SPEC (", p->name, p->name);
			for (unsigned b = 0; b < NBACKENDS; b++)
				fprintf(stderr, "%s%s", b ? " | " : "", backends[b]->usage);
			fprintf(stderr, ")\n");
			return -1;
		}
		const char *colon = strchr(bindings[i], ':');
		size_t slen = colon ? (size_t)(colon - bindings[i]) : strlen(bindings[i]);
		for (unsigned b = 0; b < NBACKENDS; b++)
			if (strlen(backends[b]->scheme) == slen && !strncmp(backends[b]->scheme, bindings[i], slen))
				p->be = backends[b];
		if (!p->be || !colon) {
			fprintf(stderr, "error: --port %s=%s: unknown binding (expected", p->name, bindings[i]);
			for (unsigned b = 0; b < NBACKENDS; b++)
				fprintf(stderr, "%s%s", b ? " | " : " ", backends[b]->usage);
			fprintf(stderr, ")\n");
			return -1;
		}
		err[0] = 0;
		if (p->be->open(p, colon + 1, err, sizeof err)) {
			fprintf(stderr, "error: port '%s': %s\n", p->name, err);
			p->be = NULL;
			return -1;
		}
		if (p->finite && (p->dir & RT_PORT_RX))
			rt_extra_stop_sources++;
	}
	return 0;
}

static void close_ports(void)
{
	for (unsigned i = 0; i < uknfv_nports; i++)
		if (rt_ports[i].be && rt_ports[i].be->close)
			rt_ports[i].be->close(&rt_ports[i]);
}

static void idle_wait(void)
{
	struct pollfd fds[65];
	unsigned n = 0;
	int ctl = rt_control_fd();
	if (ctl >= 0) {
		fds[n].fd = ctl;
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		n++;
	}
	for (unsigned i = 0; i < uknfv_nports && n < 65; i++) {
		struct rt_port *p = &rt_ports[i];
		int fd = (p->dir & RT_PORT_RX) && !p->eof ? p->be->pollfd(p) : -1;
		if (fd >= 0) {
			fds[n].fd = fd;
			fds[n].events = POLLIN;
			n++;
		}
	}
	/* Sleep until a port has packets or 1 ms passed (timers, rated sources);
	 * 200 us when no port can wake us (only the control socket, or nothing). */
	struct timespec t = { 0, n > (ctl >= 0) ? 1000000 : 200000 };
	if (n)
		ppoll(fds, n, &t, NULL);
	else
		nanosleep(&t, NULL);
	if (ctl >= 0 && fds[0].revents)
		rt_control_poll_now();
}

int main(int argc, char **argv)
{
	long pool = DEFAULT_POOL;
	struct rt_common_opts opt = { calloc(uknfv_nports + 1, sizeof(const char *)), NULL, 0, 0 };
	const char **bindings = opt.bindings;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r = rt_common_arg(argc, argv, &i, &opt);
		if (r < 0)
			return 2;
		if (opt.exit_now)
			return 0;
		if (r > 0)
			continue;
		if (!strcmp(a, "--pool") && i + 1 < argc) {
			char *end;
			pool = strtol(argv[++i], &end, 10);
			if (*end || pool < 64 || pool > 1 << 22) {
				fprintf(stderr, "error: --pool expects a number of buffers (64..4194304)\n");
				return 2;
			}
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, argv[0]);
			return 0;
		} else {
			fprintf(stderr, "error: unknown argument '%s'\n", a);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	const char *control = opt.control;
	int stats = opt.stats;
	if (pkt_pool_init((uint32_t)pool)) {
		fprintf(stderr, "error: cannot allocate %ld packet buffers\n", pool);
		return 1;
	}
	rt_handle_signals();

	if (control && rt_control_open(control)) {
		free(bindings);
		return 1;
	}
	int rc = 0;
	if (open_ports(bindings) || uknfv_init()) {
		rc = 1;
		goto out;
	}
	while (!rt_stopping) {
		unsigned work = uknfv_poll();
		rt_ports_flush();
		rt_control_poll();
		if (!work)
			idle_wait();
	}
	rt_control_close();     /* clients see the end now; their last answers are sent */
	/* Let pull drivers empty the queues: stop after a few idle rounds. */
	for (int i = 0, idle = 0; i < 100000 && idle < 3; i++) {
		idle = uknfv_drain() ? 0 : idle + 1;
		rt_ports_flush();
	}
	rt_ports_flush();
	if (stats) {
		rt_print_handlers(rt_print_line);
		print_port_stats();
	}
	uknfv_finish();
	fflush(stdout);
out:
	rt_control_close();
	close_ports();
	free(bindings);
	return rc;
}

/*
 * The DPDK target's process: arguments, EAL start-up, the mbuf pool, the
 * run loop.
 *
 *   PROG [--port NAME=SPEC]... [--stats] [--pool N] [--cores LIST]
 *        [--huge | --no-huge] [--mem MB] [--busy-poll] [--eal ARG]...
 *        [--control SOCK] [--verbose] [--ports] [--help]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <glob.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include "uknfv/dpdkio.h"
#include "uknfv/dpdkpkt.h"
#include "uknfv/rtproc.h"

#ifdef CONFIG_DPDKIO_POOL
#define DEFAULT_POOL CONFIG_DPDKIO_POOL
#else
#define DEFAULT_POOL 16383
#endif
#ifdef CONFIG_DPDKIO_RX_RING
#define RX_RING CONFIG_DPDKIO_RX_RING
#else
#define RX_RING 1024
#endif
#ifdef CONFIG_DPDKIO_TX_RING
#define TX_RING CONFIG_DPDKIO_TX_RING
#else
#define TX_RING 1024
#endif
#ifdef CONFIG_DPDKIO_MEM_MB
#define DEFAULT_MEM_MB CONFIG_DPDKIO_MEM_MB
#else
#define DEFAULT_MEM_MB 512
#endif
#define MBUF_CACHE 256
/* Bytes per mbuf in the pool, for the memory estimate (header, struct pkt, buffer, slack). */
#define MBUF_COST (sizeof(struct rte_mbuf) + DPDKPKT_PRIV_SIZE + PKT_HEADROOM + PKT_DATAROOM + 64)

struct dpdkpkt_pool dpdkpkt_pool;

int dpdkpkt_pool_init(unsigned n, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof name, "uknfv_pkts");
	unsigned cache = n / 8 < MBUF_CACHE ? n / 8 : MBUF_CACHE;
	dpdkpkt_pool.mp = rte_pktmbuf_pool_create(name, n, cache, (uint16_t)DPDKPKT_PRIV_SIZE,
						  (uint16_t)(PKT_HEADROOM + PKT_DATAROOM), socket);
	return dpdkpkt_pool.mp ? 0 : -1;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--port NAME=SPEC]... [--stats] [--pool N] [--cores LIST] [--huge | --no-huge]\n"
		"          [--mem MB] [--busy-poll] [--eal ARG]... [--control SOCK] [--verbose] [--ports]\n"
		"  uknfv pipeline '%s' (DPDK target)\n"
		"  --port NAME=SPEC  bind logical port NAME to a DPDK device; SPEC is one of:\n"
		"                      dpdk:DEVARGS      any EAL device: net_vhost0,iface=/tmp/a.sock |\n"
		"                                        net_virtio_user0,path=SOCK | net_af_packet0,iface=IF |\n"
		"                                        net_tap0[,iface=NAME] | net_pcap0,rx_pcap=F,tx_pcap=G |\n"
		"                                        net_ring0 | net_null0 | a PCI address (0000:01:00.0)\n"
		"                      pcap:FILE | pcap:in=FILE,out=FILE   a pcap file (net_pcap)\n"
		"                      if:IFACE          a Linux interface (net_af_packet)\n"
		"                      tap:NAME          a TAP device (net_tap)\n"
		"  --stats           print every handler's value and the port counters at exit\n"
		"  --pool N          mbufs in the packet pool (default %d)\n"
		"  --cores LIST      the CPU to run on (its first; default: the first this process may use)\n"
		"  --huge            use hugepages (default when enough are free)\n"
		"  --no-huge         run without hugepages (plain memory, slower)\n"
		"  --mem MB          memory without hugepages (default %d)\n"
		"  --rxd N, --txd N  descriptors per RX/TX queue (default %d/%d; drivers may round)\n"
		"  --busy-poll       never sleep when idle (lowest latency, one CPU at 100%%)\n"
		"  --eal ARG         pass ARG to DPDK's EAL as well (repeatable)\n"
		"  --control SOCK    serve handlers on UNIX socket SOCK (Click's ControlSocket\n"
		"                    protocol: `uknfv handlers/read/write SOCK ...`)\n"
		"  --verbose         show DPDK's informational messages\n"
		"  --ports           list the pipeline's logical ports and exit\n",
		prog, uknfv_pipeline_name, DEFAULT_POOL, DEFAULT_MEM_MB, RX_RING, TX_RING);
}



/* Free hugepage memory (MB) over every page size the kernel offers. */
static unsigned long free_huge_mb(void)
{
	glob_t g;
	unsigned long mb = 0;
	if (glob("/sys/kernel/mm/hugepages/hugepages-*kB", 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char path[512];
		unsigned long kb = 0, n = 0;
		if (sscanf(strrchr(g.gl_pathv[i], '-') + 1, "%lukB", &kb) != 1)
			continue;
		snprintf(path, sizeof path, "%s/free_hugepages", g.gl_pathv[i]);
		FILE *f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%lu", &n) != 1)
				n = 0;
			fclose(f);
		}
		mb += n * kb / 1024;
	}
	globfree(&g);
	return mb;
}

static int first_cpu(const char *list)
{
	if (list) {
		char *end;
		long c = strtol(list, &end, 10);
		if (end == list || c < 0 || c >= RTE_MAX_LCORE || (*end && *end != ',' && *end != '-'))
			return -1;
		return (int)c;
	}
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && c < RTE_MAX_LCORE; c++)
			if (CPU_ISSET(c, &set))
				return c;
	return 0;
}

static const char *eal_reason(int err, int huge)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "permission denied: DPDK needs root (or CAP_SYS_ADMIN, CAP_IPC_LOCK, "
		       "CAP_NET_RAW for its devices)";
	case ENOMEM:
		return huge ? "out of hugepage memory: reserve more (echo 512 > /proc/sys/vm/nr_hugepages) "
			      "or run with --no-huge"
			    : "out of memory: lower --pool or raise --mem";
	case EALREADY:
		return "the EAL was started already";
	case EINVAL:
		return "invalid EAL arguments (check --cores and --eal)";
	case ENOTSUP:
		return "this system lacks something the EAL needs (hugepages: run with --no-huge)";
	default:
		return huge ? "check that hugepages are reserved and mounted, or run with --no-huge"
			    : "see the EAL messages above";
	}
}

int main(int argc, char **argv)
{
	int busy = 0, verbose = 0, huge = -1;
	long pool = DEFAULT_POOL, mem = 0, rxd = RX_RING, txd = TX_RING;
	const char *cores = NULL;
	const char *extra[64];
	int nextra = 0;
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
			if (*end || pool < 256 || pool > 1 << 24) {
				fprintf(stderr, "error: --pool expects a number of mbufs (256..16777216)\n");
				return 2;
			}
		} else if (!strcmp(a, "--mem") && i + 1 < argc) {
			char *end;
			mem = strtol(argv[++i], &end, 10);
			if (*end || mem < 64 || mem > 1 << 20) {
				fprintf(stderr, "error: --mem expects megabytes (64..1048576)\n");
				return 2;
			}
		} else if ((!strcmp(a, "--rxd") || !strcmp(a, "--txd")) && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 64 || v > 32768) {
				fprintf(stderr, "error: %s expects a number of descriptors (64..32768)\n", a);
				return 2;
			}
			*(a[2] == 'r' ? &rxd : &txd) = v;
		} else if (!strcmp(a, "--cores") && i + 1 < argc) {
			cores = argv[++i];
			if (first_cpu(cores) < 0) {
				fprintf(stderr, "error: --cores expects a CPU list such as 2 or 2-3, got '%s'\n", cores);
				return 2;
			}
		} else if (!strcmp(a, "--huge")) {
			huge = 1;
		} else if (!strcmp(a, "--no-huge")) {
			huge = 0;
		} else if (!strcmp(a, "--busy-poll")) {
			busy = 1;
		} else if (!strcmp(a, "--verbose")) {
			verbose = 1;
		} else if (!strcmp(a, "--eal") && i + 1 < argc) {
			if (nextra == 64) {
				fprintf(stderr, "error: too many --eal arguments\n");
				return 2;
			}
			extra[nextra++] = argv[++i];
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, argv[0]);
			return 0;
		} else {
			fprintf(stderr, "error: unknown argument '%s'\n", a);
			usage(stderr, argv[0]);
			return 2;
		}
	}

	/* Every port bound, every binding understood: before the EAL starts. */
	dpdkio_ports = calloc(uknfv_nports + 1, sizeof *dpdkio_ports);
	rt_txqs = calloc(uknfv_nports + 1, sizeof *rt_txqs);
	for (unsigned i = 0; i < uknfv_nports; i++) {
		dpdkio_ports[i].name = uknfv_ports[i].name;
		dpdkio_ports[i].dir = uknfv_ports[i].dir;
		dpdkio_ports[i].eth = RTE_MAX_ETHPORTS;
	}
	for (unsigned i = 0; i < uknfv_nports; i++) {
		if (!bindings[i]) {
			fprintf(stderr, "error: port '%s' is not bound: add --port %s=SPEC (dpdk:DEVARGS | "
				"pcap:FILE | if:IFACE | tap:NAME; see --help)\n",
				dpdkio_ports[i].name, dpdkio_ports[i].name);
			return 2;
		}
		if (dpdkio_bind(i, bindings[i]))
			return 2;
	}

	/* The EAL: one lcore, no shared files (several vNFs side by side), no
	 * PCI scan unless a port names a PCI device, hugepages when there are. */
	unsigned long need_mb = (unsigned long)pool * MBUF_COST / (1 << 20) + 32 + 8 * uknfv_nports;
	int huge_auto = huge < 0;
	if (huge_auto)
		huge = free_huge_mb() >= need_mb + 16;
	if (!mem)
		mem = need_mb + 192 > DEFAULT_MEM_MB ? (long)need_mb + 192 : DEFAULT_MEM_MB;
	static char lcore[32], prefix[64], memarg[32];
	snprintf(lcore, sizeof lcore, "%d", first_cpu(cores));
	snprintf(prefix, sizeof prefix, "uknfv-%d", (int)getpid());
	snprintf(memarg, sizeof memarg, "%ld", mem);
	const char *eal[160];
	int ne = 0;
	eal[ne++] = argv[0];
	eal[ne++] = "-l";
	eal[ne++] = lcore;
	/* No shared files: with hugepages --in-memory; without them (which
	 * means the legacy memory model) --no-shconf. */
	eal[ne++] = huge ? "--in-memory" : "--no-shconf";
	eal[ne++] = "--file-prefix";
	eal[ne++] = prefix;
	eal[ne++] = "--no-telemetry";
	eal[ne++] = verbose ? "--log-level=info" : "--log-level=error";
	if (huge) {
		/* One file per memseg list, not per page: vhost-user (virtio_user)
		 * shares memory in at most 8 regions. */
		eal[ne++] = "--single-file-segments";
	} else {
		eal[ne++] = "--no-huge";
		eal[ne++] = "-m";
		eal[ne++] = memarg;
	}
	int npci = dpdkio_eal_args(eal + ne, 64);
	if (!npci)
		eal[ne++] = "--no-pci";
	ne += npci;
	for (int i = 0; i < nextra; i++)
		eal[ne++] = extra[i];
	eal[ne] = NULL;
	fflush(stdout);
	uint64_t t0 = rt_mono_ns();
	if (rte_eal_init(ne, (char **)eal) < 0) {
		int err = rte_errno;
		char rundir[512];
		snprintf(rundir, sizeof rundir, "%s", rte_eal_get_runtime_dir());
		if (rundir[0])
			rmdir(rundir);
		if (huge_auto && huge) {
			/* Hugepages looked free but the EAL could not use them: start
			 * again (the EAL starts once per process) without them. */
			fprintf(stderr, "note: the EAL could not start with hugepages (%s); running with "
				"--no-huge\n", rte_strerror(err));
			char **again = calloc((size_t)argc + 2, sizeof *again);
			for (int i = 0; i < argc; i++)
				again[i] = argv[i];
			again[argc] = "--no-huge";
			fflush(NULL);
			execv("/proc/self/exe", again);
		}
		fprintf(stderr, "error: DPDK's EAL could not start (%s): %s\n", rte_strerror(err),
			eal_reason(err, huge));
		return 1;
	}

	rt_handle_signals();

	int rc = 0;
	if (opt.control && rt_control_open(opt.control)) {
		rc = 1;
		goto out;
	}
	if (dpdkpkt_pool_init((unsigned)pool, (int)rte_socket_id())) {
		fprintf(stderr, "error: cannot allocate %ld mbufs (%s): %s\n", pool, rte_strerror(rte_errno),
			huge ? "reserve more hugepages, lower --pool, or run with --no-huge"
			     : "lower --pool or raise --mem");
		rc = 1;
		goto out;
	}
	uint64_t t1 = rt_mono_ns();
	if (dpdkio_open(rxd, txd) || uknfv_init()) {
		rc = 1;
		goto out;
	}
	if (verbose)
		rt_log("uknfv: EAL up in %llu ms (%s), ports up in %llu ms", (unsigned long long)(t1 - t0) / 1000000,
		       huge ? "hugepages" : "no hugepages", (unsigned long long)(rt_mono_ns() - t1) / 1000000);
	unsigned idle = 0;
	while (!rt_stopping) {
		unsigned work = uknfv_poll();
		rt_ports_flush();
		rt_control_poll();
		if (work) {
			idle = 0;
			continue;
		}
		/* Idle for a while: nap briefly so an idle vNF does not burn its
		 * CPU (unless --busy-poll); traffic wakes it within ~50 us. */
		if (!busy && ++idle > 2048) {
			struct timespec t = { 0, 20000 };
			nanosleep(&t, NULL);
		}
	}
	rt_control_close();     /* clients see the end now; their last answers are sent */
	/* Let pull drivers empty the queues: stop after a few idle rounds. */
	for (int i = 0, id = 0; i < 100000 && id < 3; i++) {
		id = uknfv_drain() ? 0 : id + 1;
		rt_ports_flush();
	}
	rt_ports_flush();
	if (opt.stats) {
		rt_print_handlers(rt_print_line);
		dpdkio_print_stats();
	}
	uknfv_finish();
	fflush(stdout);
out:
	rt_control_close();
	dpdkio_close();
	if (dpdkpkt_pool.mp)
		rte_mempool_free(dpdkpkt_pool.mp);
	char rundir[512];
	snprintf(rundir, sizeof rundir, "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);          /* --in-memory leaves it empty */
	free(bindings);
	return rc;
}

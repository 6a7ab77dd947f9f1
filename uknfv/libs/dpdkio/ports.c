/* Logical ports over DPDK ethdevs: binding, probing, burst RX/TX, counters. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include "uknfv/dpdkio.h"
#include "uknfv/dpdkpkt.h"

struct dpdkio_port *dpdkio_ports;
struct rt_txq *rt_txqs;
extern unsigned rt_extra_stop_sources;

/* How long a finite port whose record count is unknown (or was not reached:
 * a truncated last record) may stay silent before it counts as finished. */
#define FINITE_IDLE_NS 500000000ull
#define TX_RETRIES 8

static const char USAGE[] =
	"dpdk:DEVARGS (a DPDK virtual device such as net_vhost0,iface=/tmp/a.sock, "
	"net_virtio_user0,path=SOCK, net_af_packet0,iface=IF, net_tap0, net_pcap0,rx_pcap=FILE, "
	"net_ring0, net_null0; or a PCI address) | pcap:FILE | pcap:in=FILE,out=FILE | if:IFACE | tap:NAME";

/* ---- binding (before the EAL starts) ------------------------------------- */

static int is_pci_addr(const char *s)
{
	/* [DDDD:]BB:DD.F */
	const char *c = s;
	int n = 0;
	while (isxdigit((unsigned char)c[n]))
		n++;
	if (n == 4 && c[n] == ':') {
		c += 5;
		n = 0;
		while (isxdigit((unsigned char)c[n]))
			n++;
	}
	if (n != 2 || c[2] != ':' || !isxdigit((unsigned char)c[3]) || !isxdigit((unsigned char)c[4])
	    || c[5] != '.' || c[6] < '0' || c[6] > '7')
		return 0;
	return c[7] == 0 || c[7] == ',';
}

/* Records in a classic pcap file (only complete ones), -1 if not one,
 * -2 if it is one libpcap reads but we do not count (pcapng). */
static int64_t pcap_records(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	uint32_t hdr[6];
	if (fstat(fileno(f), &st) || fread(hdr, 4, 6, f) != 6) {
		snprintf(err, errlen, "%s: not a pcap file (too short)", path);
		fclose(f);
		return -1;
	}
	int swapped;
	if (hdr[0] == 0xa1b2c3d4u || hdr[0] == 0xa1b23c4du)
		swapped = 0;
	else if (hdr[0] == 0xd4c3b2a1u || hdr[0] == 0x4d3cb2a1u)
		swapped = 1;
	else if (hdr[0] == 0x0a0d0d0au) {
		fclose(f);
		return -2;
	} else {
		snprintf(err, errlen, "%s: not a pcap file (bad magic 0x%08x)", path, hdr[0]);
		fclose(f);
		return -1;
	}
	int64_t n = 0;
	off_t off = 24;
	uint32_t rec[4];
	while (fread(rec, 4, 4, f) == 4) {
		uint32_t caplen = swapped ? __builtin_bswap32(rec[2]) : rec[2];
		off += 16 + (off_t)caplen;
		if (off > st.st_size || fseeko(f, off, SEEK_SET))
			break;
		n++;
	}
	fclose(f);
	return n;
}

static int bad_path(const char *port, const char *path)
{
	if (strchr(path, ',')) {
		fprintf(stderr, "error: port '%s': the DPDK device arguments cannot hold a file name with "
			"a comma ('%s'): rename it\n", port, path);
		return 1;
	}
	return 0;
}

/* Input files of net_pcap devargs: the run ends when they are consumed. */
static int note_finite(struct dpdkio_port *p)
{
	if (strncmp(p->devname, "net_pcap", 8) || !(p->dir & RT_PORT_RX))
		return 0;
	const char *rx = strstr(p->devargs, ",rx_pcap=");
	if (!rx || strstr(p->devargs, "infinite_rx=1") || strstr(rx + 1, ",rx_pcap="))
		return 0;   /* live interface, looping, or several files: not finite */
	char path[DPDKIO_DEVARGS_MAX], err[DPDKIO_DEVARGS_MAX + 128];
	snprintf(path, sizeof path, "%s", rx + 9);
	path[strcspn(path, ",")] = 0;
	p->records = pcap_records(path, err, sizeof err);
	if (p->records == -1) {
		fprintf(stderr, "error: port '%s': %s\n", p->name, err);
		return -1;
	}
	if (p->records == -2)
		p->records = -1;
	p->finite = 1;
	return 0;
}

int dpdkio_bind(unsigned i, const char *spec)
{
	struct dpdkio_port *p = &dpdkio_ports[i];
	const char *colon = strchr(spec, ':');
	size_t slen = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *arg = colon ? colon + 1 : "";
	int n;
	p->spec = spec;
	p->records = -1;
	p->eth = RTE_MAX_ETHPORTS;
	if (slen == 4 && !strncmp(spec, "dpdk", 4) && *arg) {
		n = snprintf(p->devargs, sizeof p->devargs, "%s", arg);
	} else if (slen == 4 && !strncmp(spec, "pcap", 4) && *arg) {
		char in[512] = "", out[512] = "";
		if (!strncmp(arg, "in=", 3) || !strncmp(arg, "out=", 4)) {
			char *copy = strdup(arg), *save = NULL;
			for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (!strncmp(tok, "in=", 3))
					snprintf(in, sizeof in, "%s", tok + 3);
				else if (!strncmp(tok, "out=", 4))
					snprintf(out, sizeof out, "%s", tok + 4);
				else {
					fprintf(stderr, "error: port '%s': pcap port: unknown option '%s' "
						"(expected in=FILE,out=FILE)\n", p->name, tok);
					free(copy);
					return -1;
				}
			}
			free(copy);
		} else if ((p->dir & RT_PORT_RX) && (p->dir & RT_PORT_TX)) {
			fprintf(stderr, "error: port '%s' is used for input and output: bind it with "
				"pcap:in=FILE,out=FILE\n", p->name);
			return -1;
		} else if (p->dir & RT_PORT_RX) {
			snprintf(in, sizeof in, "%s", arg);
		} else {
			snprintf(out, sizeof out, "%s", arg);
		}
		if ((p->dir & RT_PORT_RX) && !in[0]) {
			fprintf(stderr, "error: port '%s' receives: give pcap:in=FILE\n", p->name);
			return -1;
		}
		if ((p->dir & RT_PORT_TX) && !out[0]) {
			fprintf(stderr, "error: port '%s' transmits: give pcap:out=FILE\n", p->name);
			return -1;
		}
		if (bad_path(p->name, in) || bad_path(p->name, out))
			return -1;
		n = snprintf(p->devargs, sizeof p->devargs, "net_pcap_uknfv%u", i);
		if (in[0] && (p->dir & RT_PORT_RX))
			n = snprintf(p->devargs + n, sizeof p->devargs - n, ",rx_pcap=%s", in) + n;
		if (out[0] && (p->dir & RT_PORT_TX))
			n = snprintf(p->devargs + n, sizeof p->devargs - n, ",tx_pcap=%s", out) + n;
	} else if (slen == 2 && !strncmp(spec, "if", 2) && *arg) {
		n = snprintf(p->devargs, sizeof p->devargs, "net_af_packet_uknfv%u,iface=%s", i, arg);
	} else if (slen == 3 && !strncmp(spec, "tap", 3) && *arg) {
		n = snprintf(p->devargs, sizeof p->devargs, "net_tap_uknfv%u,iface=%s", i, arg);
	} else {
		fprintf(stderr, "error: --port %s=%s: unknown binding (expected %s)\n", p->name, spec, USAGE);
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof p->devargs) {
		fprintf(stderr, "error: port '%s': device arguments too long\n", p->name);
		return -1;
	}
	size_t dl = strcspn(p->devargs, ",");
	if (dl == 0 || dl >= sizeof p->devname) {
		fprintf(stderr, "error: port '%s': '%s' does not start with a device name "
			"(net_pcap0,rx_pcap=FILE, net_ring0, 0000:01:00.0 ...)\n", p->name, p->devargs);
		return -1;
	}
	memcpy(p->devname, p->devargs, dl);
	p->devname[dl] = 0;
	p->is_pci = is_pci_addr(p->devargs);
	/* Two logical ports on one device: the later one shares the earlier's ethdev. */
	p->owner = (int)i;
	for (unsigned j = 0; j < i; j++) {
		struct dpdkio_port *q = &dpdkio_ports[j];
		if (!q->devname[0] || strcmp(q->devname, p->devname))
			continue;
		if (strcmp(q->devargs, p->devargs)) {
			fprintf(stderr, "error: ports '%s' and '%s' name the same device '%s' with different "
				"arguments ('%s', '%s')\n", q->name, p->name, p->devname, q->devargs, p->devargs);
			return -1;
		}
		if ((q->dir & p->dir & RT_PORT_RX)) {
			fprintf(stderr, "error: ports '%s' and '%s' both receive from device '%s': "
				"give each its own device\n", q->name, p->name, p->devname);
			return -1;
		}
		p->owner = q->owner;
		break;
	}
	return p->owner == (int)i ? note_finite(p) : 0;
}

int dpdkio_eal_args(const char **argv, int max)
{
	int n = 0;
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct dpdkio_port *p = &dpdkio_ports[i];
		if (p->is_pci && p->owner == (int)i && n + 2 <= max) {
			argv[n++] = "-a";
			argv[n++] = p->devargs;
		}
	}
	return n;
}

/* ---- devices (after the EAL started) --------------------------------------- */

static int find_ethdev(struct dpdkio_port *p, uint16_t *id)
{
	if (rte_eth_dev_get_port_by_name(p->devname, id) == 0)
		return 0;
	struct rte_dev_iterator it;
	uint16_t pid;
	RTE_ETH_FOREACH_MATCHING_DEV(pid, p->devargs, &it) {
		*id = pid;
		rte_eth_iterator_cleanup(&it);
		return 0;
	}
	return -1;
}

static int setup_ethdev(struct dpdkio_port *p, unsigned rx_ring, unsigned tx_ring)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int dir = 0, rc;
	for (unsigned j = 0; j < uknfv_nports; j++)
		if (dpdkio_ports[j].owner == p->owner)
			dir |= dpdkio_ports[j].dir;
	if ((rc = rte_eth_dev_info_get(p->eth, &info)) != 0) {
		fprintf(stderr, "error: port '%s': device '%s': no device information (%s)\n",
			p->name, p->devname, strerror(-rc));
		return -1;
	}
	uint16_t nrx = info.max_rx_queues ? 1 : 0, ntx = info.max_tx_queues ? 1 : 0;
	if (((dir & RT_PORT_RX) && !nrx) || ((dir & RT_PORT_TX) && !ntx)) {
		fprintf(stderr, "error: port '%s': device '%s' cannot %s\n", p->name, p->devname,
			(dir & RT_PORT_RX) && !nrx ? "receive (no RX queue)" : "transmit (no TX queue)");
		return -1;
	}
	memset(&conf, 0, sizeof conf);
	if ((rc = rte_eth_dev_configure(p->eth, nrx, ntx, &conf)) != 0) {
		fprintf(stderr, "error: port '%s': cannot configure device '%s' (%s)\n",
			p->name, p->devname, strerror(-rc));
		return -1;
	}
	uint16_t nrxd = (uint16_t)rx_ring, ntxd = (uint16_t)tx_ring;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->eth, &nrxd, &ntxd);
	int socket = rte_eth_dev_socket_id(p->eth);
	if (socket < 0)
		socket = (int)rte_socket_id();
	if (nrx && (rc = rte_eth_rx_queue_setup(p->eth, 0, nrxd, (unsigned)socket, NULL,
						 dpdkpkt_pool.mp)) != 0) {
		fprintf(stderr, "error: port '%s': device '%s': cannot set up its RX queue (%s)\n",
			p->name, p->devname, strerror(-rc));
		return -1;
	}
	if (ntx && (rc = rte_eth_tx_queue_setup(p->eth, 0, ntxd, (unsigned)socket, NULL)) != 0) {
		fprintf(stderr, "error: port '%s': device '%s': cannot set up its TX queue (%s)\n",
			p->name, p->devname, strerror(-rc));
		return -1;
	}
	if ((rc = rte_eth_dev_start(p->eth)) != 0) {
		fprintf(stderr, "error: port '%s': cannot start device '%s' (%s)\n",
			p->name, p->devname, strerror(-rc));
		return -1;
	}
	p->started = 1;
	/* A vNF sees every frame on its wire (not every PMD can say so). */
	rte_eth_promiscuous_enable(p->eth);
	rte_eth_stats_reset(p->eth);
	return 0;
}

int dpdkio_open(unsigned rx_ring, unsigned tx_ring)
{
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct dpdkio_port *p = &dpdkio_ports[i];
		if (p->owner != (int)i) {
			struct dpdkio_port *o = &dpdkio_ports[p->owner];
			p->eth = o->eth;
			continue;
		}
		if (!p->is_pci) {
			int rc = rte_dev_probe(p->devargs);
			if (rc != 0) {
				const char *why;
				if (rc == -EFAULT)
					why = "no DPDK driver claims that name (virtual devices are named after their "
					      "driver plus a suffix: net_pcap0, net_ring0, net_null0, net_tap0, "
					      "net_af_packet0, net_vhost0, net_virtio_user0; PCI devices by address)";
				else if (rc == -EEXIST)
					why = "it exists already";
				else if (rc == -ENODEV)
					why = "no such device";
				else
					why = "its driver refused it: check the arguments (see the DPDK messages above)";
				fprintf(stderr, "error: port '%s': DPDK cannot create device '%s': %s\n",
					p->name, p->devargs, why);
				return -1;
			}
			p->probed = 1;
		}
		if (find_ethdev(p, &p->eth)) {
			if (p->is_pci)
				fprintf(stderr, "error: port '%s': no DPDK network device at %s: bind the NIC to "
					"vfio-pci (dpdk-devbind.py -b vfio-pci %s) and run as root\n",
					p->name, p->devname, p->devname);
			else
				fprintf(stderr, "error: port '%s': '%s' is not a network device\n",
					p->name, p->devname);
			return -1;
		}
		if (setup_ethdev(p, rx_ring, tx_ring))
			return -1;
		if (p->finite)
			rt_extra_stop_sources++;
	}
	return 0;
}

void dpdkio_close(void)
{
	if (!dpdkio_ports)
		return;
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct dpdkio_port *p = &dpdkio_ports[i];
		if (p->owner != (int)i)
			continue;
		if (p->started) {
			rte_eth_dev_stop(p->eth);
			rte_eth_dev_close(p->eth);
			p->started = 0;
		}
		if (p->probed) {
			rte_eal_hotplug_remove("vdev", p->devname);
			p->probed = 0;
		}
	}
}

/* ---- burst I/O --------------------------------------------------------------- */

static void check_eof(struct dpdkio_port *p)
{
	uint64_t now = rt_mono_ns();
	if (!p->idle_since) {
		p->idle_since = now;
		return;
	}
	struct rte_eth_stats st;
	if (p->records >= 0 && rte_eth_stats_get(p->eth, &st) == 0
	    && st.ipackets + st.ierrors + st.rx_nombuf >= (uint64_t)p->records)
		goto done;
	if (now - p->idle_since < FINITE_IDLE_NS)
		return;
	if (p->records >= 0)
		rt_log("port '%s': the input ended after %llu of %lld records", p->name,
		       (unsigned long long)p->rx_pkts, (long long)p->records);
done:
	p->eof = 1;
	rt_source_done();
}

unsigned rt_port_rx(unsigned port, struct pkt **pkts, unsigned n)
{
	struct dpdkio_port *p = &dpdkio_ports[port];
	if (__builtin_expect(p->finite, 0)) {
		if (p->eof)
			return 0;
		/* net_pcap reads a record before it allocates its mbuf: a record
		 * read with the pool empty would be lost, so wait for buffers. */
		if (rte_mempool_avail_count(dpdkpkt_pool.mp) < n + 1)
			return 0;
	}
	/* The mbuf pointers land where the packets go: same array. */
	struct rte_mbuf **mb = (struct rte_mbuf **)(void *)pkts;
	unsigned got = rte_eth_rx_burst(p->eth, 0, mb, (uint16_t)n), k = 0;
	if (!got) {
		if (p->finite)
			check_eof(p);
		return 0;
	}
	p->idle_since = 0;
	for (unsigned i = 0; i < got; i++) {
		struct rte_mbuf *m = mb[i];
		if (__builtin_expect(m->nb_segs > 1, 0) && rte_pktmbuf_linearize(m) != 0) {
			/* A frame larger than a buffer (PKT_DATAROOM): counted, dropped. */
			p->rx_drops++;
			rte_pktmbuf_free(m);
			continue;
		}
		struct pkt *q = dpdkpkt_from_mbuf(m);
		q->mac = q->data;
		p->rx_bytes += q->len;
		pkts[k++] = q;
	}
	p->rx_pkts += k;
	return k;
}

void rt_port_flush(unsigned port)
{
	struct rt_txq *q = &rt_txqs[port];
	unsigned n = q->n;
	if (!n)
		return;
	q->n = 0;
	struct dpdkio_port *p = &dpdkio_ports[port];
	struct rte_mbuf **mb = (struct rte_mbuf **)(void *)q->pkts;
	uint64_t bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		bytes += q->pkts[i]->len;
		mb[i] = dpdkpkt_to_mbuf(q->pkts[i]);
	}
	unsigned sent = 0;
	for (int tries = 0; sent < n && tries < TX_RETRIES; tries++)
		sent += rte_eth_tx_burst(p->eth, 0, mb + sent, (uint16_t)(n - sent));
	for (unsigned i = sent; i < n; i++) {
		bytes -= mb[i]->pkt_len;
		rte_pktmbuf_free(mb[i]);
	}
	p->tx_pkts += sent;
	p->tx_bytes += bytes;
	p->tx_drops += n - sent;
}

void rt_ports_flush(void)
{
	for (unsigned i = 0; i < uknfv_nports; i++)
		if (rt_txqs[i].n)
			rt_port_flush(i);
}

int dpdkio_rx_pending(void)
{
	for (unsigned i = 0; i < uknfv_nports; i++)
		if (dpdkio_ports[i].finite && !dpdkio_ports[i].eof)
			return 1;
	return 0;
}

/* ---- counters --------------------------------------------------------------- */

void dpdkio_print_stats(void)
{
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct dpdkio_port *p = &dpdkio_ports[i];
		struct rte_eth_stats st;
		int have = p->eth != RTE_MAX_ETHPORTS && rte_eth_stats_get(p->eth, &st) == 0;
		if (!have)
			memset(&st, 0, sizeof st);
		if (p->dir & RT_PORT_RX)
			printf("port.%s.rx: %llu packets, %llu bytes, %llu dropped\n", p->name,
			       (unsigned long long)p->rx_pkts, (unsigned long long)p->rx_bytes,
			       (unsigned long long)(p->rx_drops + st.imissed + st.ierrors + st.rx_nombuf));
		if (p->dir & RT_PORT_TX)
			printf("port.%s.tx: %llu packets, %llu bytes, %llu dropped\n", p->name,
			       (unsigned long long)p->tx_pkts, (unsigned long long)p->tx_bytes,
			       (unsigned long long)(p->tx_drops + (p->owner == (int)i ? st.oerrors : 0)));
		if (have && p->owner == (int)i)
			printf("port.%s.dpdk: %s ipackets %llu ibytes %llu imissed %llu ierrors %llu "
			       "rx_nombuf %llu opackets %llu obytes %llu oerrors %llu\n", p->name, p->devname,
			       (unsigned long long)st.ipackets, (unsigned long long)st.ibytes,
			       (unsigned long long)st.imissed, (unsigned long long)st.ierrors,
			       (unsigned long long)st.rx_nombuf, (unsigned long long)st.opackets,
			       (unsigned long long)st.obytes, (unsigned long long)st.oerrors);
	}
	unsigned avail = dpdkpkt_pool.mp ? rte_mempool_avail_count(dpdkpkt_pool.mp) : 0;
	unsigned size = dpdkpkt_pool.mp ? dpdkpkt_pool.mp->size : 0;
	printf("pool.alloc_failures: %llu\n", (unsigned long long)dpdkpkt_pool.alloc_fail);
	printf("pool.mbufs: %u, %u in use (device rings included)\n", size, size - avail);
}

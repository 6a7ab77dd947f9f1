/*
 * Test kernel for ukvirtionet/uknetdev: probes every NIC, prints its MAC,
 * then echoes each received frame back out of the NIC it came in on, with
 * the Ethernet source and destination swapped.  Idles with RX interrupts
 * armed and a long halt (echo.idle_ms, default 1000), so a quick echo proves
 * that the interrupt woke the CPU.
 *
 * Console protocol (read by tests/targets/test_virtio_net.py):
 *   NIC <i> mac=<mac> mtu=<n> link=<0|1> bus=<...> hdr=<n> rxring=<n> txring=<n>
 *   ECHO READY nics=<n>
 *   STATS <i> link=<0|1> rx=<n> tx=<n> rxdrop=<n> txdrop=<n> rxerr=<n> irqs=<n> rxkicks=<n> txkicks=<n>
 *   ECHO EXIT
 * A frame whose payload contains "UKNFV-ECHO-QUIT" ends the run (after it has
 * been echoed); so does echo.max_s (default 120) seconds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uk/intr.h"
#include "uk/netdev.h"
#include "uk/plat.h"
#include "uk/time.h"
#include "uk/virtionet.h"
#include "uknfv/pktpool.h"

#define BURST 32

static unsigned long cmdline_ul(const char *key, unsigned long dflt)
{
	const char *c = uk_cmdline();
	size_t k = strlen(key);
	while (c && *c) {
		while (*c == ' ')
			c++;
		if (!strncmp(c, key, k) && c[k] == '=')
			return strtoul(c + k + 1, NULL, 10);
		while (*c && *c != ' ')
			c++;
	}
	return dflt;
}

static int has_quit(const struct pkt *p)
{
	static const char m[] = "UKNFV-ECHO-QUIT";
	for (uint32_t i = 0; i + sizeof m - 1 <= p->len; i++)
		if (!memcmp(p->data + i, m, sizeof m - 1))
			return 1;
	return 0;
}

static void stats(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct uk_netdev *d = uk_netdev_get(i);
		struct uk_netdev_qstats rx, tx;
		struct uk_virtionet_stats vs;
		struct uk_netdev_info info;
		uk_netdev_stats(d, &rx, &tx);
		uk_virtionet_stats(d, &vs);
		uk_netdev_info_get(d, &info);   /* device config re-read with interrupts on */
		uk_printf("STATS %u link=%u rx=%llu tx=%llu rxdrop=%llu txdrop=%llu rxerr=%llu irqs=%llu "
			  "rxkicks=%llu txkicks=%llu\n", i, info.link_up, (unsigned long long)rx.packets,
			  (unsigned long long)tx.packets, (unsigned long long)rx.drops,
			  (unsigned long long)tx.drops, (unsigned long long)rx.errors,
			  (unsigned long long)vs.irqs, (unsigned long long)vs.rx_kicks,
			  (unsigned long long)vs.tx_kicks);
	}
}

int uk_main(void)
{
	unsigned long pool = cmdline_ul("echo.pool", 1024);
	uint64_t idle_ns = cmdline_ul("echo.idle_ms", 1000) * 1000000ull;
	uint64_t deadline = uk_now_ns() + cmdline_ul("echo.max_s", 120) * 1000000000ull;
	uk_printf("CMDLINE %s\n", uk_cmdline());
	if (pkt_pool_init((uint32_t)pool)) {
		uk_printf("ECHO FAIL pool\n");
		return 2;
	}
	int n = uk_netdev_probe_all();
	if (n <= 0) {
		uk_printf("ECHO FAIL no NIC (%d)\n", n);
		return 2;
	}
	for (unsigned i = 0; i < (unsigned)n; i++) {
		struct uk_netdev *d = uk_netdev_get(i);
		struct uk_netdev_info info;
		struct uk_virtionet_stats vs;
		int r;
		if ((r = uk_netdev_configure(d, 1, 1)) || (r = uk_netdev_rxq_setup(d, 0, 256))
		    || (r = uk_netdev_txq_setup(d, 0, 256)) || (r = uk_netdev_start(d))) {
			uk_printf("ECHO FAIL start NIC %u: %d\n", i, r);
			return 2;
		}
		uk_netdev_info_get(d, &info);
		uk_virtionet_stats(d, &vs);
		uk_printf("NIC %u mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u link=%u bus=%s hdr=%u "
			  "rxring=%u txring=%u\n", i, info.mac[0], info.mac[1], info.mac[2], info.mac[3],
			  info.mac[4], info.mac[5], info.mtu, info.link_up, info.bus, vs.hdrlen,
			  vs.rx_ring, vs.tx_ring);
	}
	uk_printf("ECHO READY nics=%d\n", n);

	struct pkt *pkts[BURST];
	int quit = 0;
	unsigned empty = 0;
	while (!quit) {
		unsigned work = 0;
		for (unsigned i = 0; i < (unsigned)n; i++) {
			struct uk_netdev *d = uk_netdev_get(i);
			unsigned got = uk_netdev_rx_burst(d, 0, pkts, BURST);
			for (unsigned k = 0; k < got; k++) {
				uint8_t tmp[6], *e = pkts[k]->data;
				if (pkts[k]->len >= 14) {
					memcpy(tmp, e, 6);
					memcpy(e, e + 6, 6);
					memcpy(e + 6, tmp, 6);
				}
				if (has_quit(pkts[k]))
					quit = 1;
			}
			if (got)
				uk_netdev_tx_burst(d, 0, pkts, got);
			work += got;
		}
		if (work) {
			empty = 0;
			continue;
		}
		if (uk_now_ns() > deadline) {
			uk_printf("ECHO TIMEOUT\n");
			break;
		}
		if (++empty < 16)
			continue;
		/* arm RX interrupts; sleep only if nothing is already waiting */
		int pending = 0;
		for (unsigned i = 0; i < (unsigned)n; i++) {
			int r = uk_netdev_rx_intr_enable(uk_netdev_get(i), 0);
			if (r < 0) {
				uk_printf("ECHO FAIL rx_intr_enable NIC %u: %d\n", i, r);
				return 2;
			}
			pending |= r;
		}
		if (!pending)
			uk_idle(idle_ns);
		for (unsigned i = 0; i < (unsigned)n; i++)
			uk_netdev_rx_intr_disable(uk_netdev_get(i), 0);
	}
	/* let the last echoes leave: give the device time to complete TX */
	uint64_t until = uk_now_ns() + 50000000ull;
	while (uk_now_ns() < until)
		for (unsigned i = 0; i < (unsigned)n; i++)
			uk_netdev_tx_burst(uk_netdev_get(i), 0, pkts, 0);
	stats((unsigned)n);
	uk_printf("ECHO EXIT\n");
	return 0;
}

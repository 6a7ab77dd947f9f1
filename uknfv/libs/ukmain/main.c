/*
 * ukmain: the unikernel's half of the runtime contract (uknfv/rt.h).
 *
 * uk_main() brings the pipeline up on the platform: packet pool sized from
 * the guest's memory, NICs probed and bound to the pipeline's logical ports
 * in order (port i = the i-th NIC QEMU was given), then the run loop.  Once
 * the NICs are up and the pipeline runs it prints one machine-readable line
 *
 *   UKNFV READY boot_us=... ports=... nics=... pool=... mem_kb=...
 *
 * and on shutdown (WRITE stop on the control channel, or every STOP source
 * done) the final counters between "UKNFV STATS BEGIN" and "UKNFV STATS END",
 * then exits QEMU with the pipeline's status.
 *
 * Idle: after a few empty rounds the loop enables RX interrupts and halts
 * (uk_idle) with a timeout that grows up to 1 s (1 ms with timed sources), so an
 * idle vNF costs (almost) no host CPU; any packet or control byte wakes it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uk/alloc.h"
#include "uk/console.h"
#include "uk/intr.h"
#include "uk/netdev.h"
#include "uk/plat.h"
#include "uk/time.h"
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"
#include "ukmain.h"

#ifndef CONFIG_UKMAIN_POOL_MAX
#define CONFIG_UKMAIN_POOL_MAX 4096
#endif
#ifndef CONFIG_UKMAIN_RING_SIZE
#define CONFIG_UKMAIN_RING_SIZE 256
#endif
#ifndef CONFIG_UKMAIN_IDLE_SPIN
#define CONFIG_UKMAIN_IDLE_SPIN 64
#endif
#ifndef CONFIG_UKMAIN_IDLE_MAX_US
#define CONFIG_UKMAIN_IDLE_MAX_US 1000000
#endif

struct rt_txq *rt_txqs;
static struct uk_netdev **port_dev;
static uint64_t wall_epoch_ns;

uint64_t rt_mono_ns(void)
{
	return uk_now_ns();
}

uint64_t rt_now_ns(void)
{
	return wall_epoch_ns + uk_now_ns();
}

void rt_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	uk_console_write(buf, (size_t)n);
}

unsigned rt_port_rx(unsigned port, struct pkt **pkts, unsigned n)
{
	return uk_netdev_rx_burst(port_dev[port], 0, pkts, n);
}

void rt_port_flush(unsigned port)
{
	struct rt_txq *q = &rt_txqs[port];
	if (q->n) {
		uk_netdev_tx_burst(port_dev[port], 0, q->pkts, q->n);
		q->n = 0;
	}
}

void rt_ports_flush(void)
{
	for (unsigned i = 0; i < uknfv_nports; i++)
		if (rt_txqs[i].n)
			rt_port_flush(i);
}

/* "key=value" from the kernel command line, or NULL. */
static const char *cmdline_value(const char *key, char *out, size_t outlen)
{
	const char *c = uk_cmdline();
	size_t klen = strlen(key);
	while (c && *c) {
		while (*c == ' ')
			c++;
		if (!strncmp(c, key, klen) && c[klen] == '=') {
			const char *v = c + klen + 1;
			size_t n = 0;
			while (v[n] && v[n] != ' ' && n + 1 < outlen) {
				out[n] = v[n];
				n++;
			}
			out[n] = 0;
			return out;
		}
		while (*c && *c != ' ')
			c++;
	}
	return NULL;
}

static void print_line(const char *line)
{
	uk_console_write(line, strlen(line));
	uk_console_write("\n", 1);
}

void ukmain_print_stats(void)
{
	char line[160];
	uk_puts("UKNFV STATS BEGIN\n");
	rt_print_handlers(print_line);
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct uk_netdev_qstats rx, tx;
		uk_netdev_stats(port_dev[i], &rx, &tx);
		snprintf(line, sizeof line, "port.%s.rx: %llu packets, %llu bytes, %llu dropped",
			 uknfv_ports[i].name, (unsigned long long)rx.packets,
			 (unsigned long long)rx.bytes, (unsigned long long)rx.drops);
		print_line(line);
		snprintf(line, sizeof line, "port.%s.tx: %llu packets, %llu bytes, %llu dropped",
			 uknfv_ports[i].name, (unsigned long long)tx.packets,
			 (unsigned long long)tx.bytes, (unsigned long long)tx.drops);
		print_line(line);
	}
	snprintf(line, sizeof line, "pool.alloc_failures: %llu", (unsigned long long)pkt_pool.alloc_fail);
	print_line(line);
	uk_puts("UKNFV STATS END\n");
}

/* Pool size: half of free memory, at most CONFIG_UKMAIN_POOL_MAX buffers,
 * and at least what the NICs' RX rings keep posted plus a working set. */
static uint32_t pool_size(void)
{
	char v[32];
	if (cmdline_value("uknfv.pool", v, sizeof v))
		return (uint32_t)strtoul(v, NULL, 10);
	size_t per = PKT_BUFSIZE + sizeof(struct pkt) + sizeof(struct pkt *);
	size_t n = uk_mem_free() / 2 / per;
	if (n > CONFIG_UKMAIN_POOL_MAX)
		n = CONFIG_UKMAIN_POOL_MAX;
	size_t need = (size_t)CONFIG_UKMAIN_RING_SIZE * (uknfv_nports + 1) + 256;
	if (n < need)
		n = need;
	return (uint32_t)n;
}

static int bring_up_ports(void)
{
	uk_netdev_probe_all();
	unsigned nics = uk_netdev_count();
	if (nics < uknfv_nports) {
		uk_printf("uknfv: error: the pipeline has %u logical port%s (", uknfv_nports,
			  uknfv_nports == 1 ? "" : "s");
		for (unsigned i = 0; i < uknfv_nports; i++)
			uk_printf("%s%s", i ? ", " : "", uknfv_ports[i].name);
		uk_printf(") but the VM has %u NIC%s: give one --port per logical port\n", nics,
			  nics == 1 ? "" : "s");
		return -1;
	}
	port_dev = uk_calloc(uknfv_nports + 1, sizeof *port_dev);
	rt_txqs = uk_calloc(uknfv_nports + 1, sizeof *rt_txqs);
	if (!port_dev || !rt_txqs)
		return -1;
	for (unsigned i = 0; i < uknfv_nports; i++) {
		struct uk_netdev *d = uk_netdev_get(i);
		if (uk_netdev_configure(d, 1, 1) || uk_netdev_rxq_setup(d, 0, CONFIG_UKMAIN_RING_SIZE)
		    || uk_netdev_txq_setup(d, 0, CONFIG_UKMAIN_RING_SIZE) || uk_netdev_start(d)) {
			uk_printf("uknfv: error: cannot start NIC %u for port '%s'\n", i, uknfv_ports[i].name);
			return -1;
		}
		port_dev[i] = d;
	}
	return 0;
}

static void ctl_wake(void *arg)
{
	(void)arg;   /* the byte is read by ukmain_control_poll() after the halt */
}

/* Packets (RX interrupts) and control bytes (COM2's interrupt) end a halt;
 * the timeout only matters for pipelines with timed tasks (RatedSource,
 * InfiniteSource), which must be polled at least every millisecond. */
static void idle_wait(unsigned empty_rounds)
{
	uint64_t max = uknfv_ntimed_tasks ? 1000000ull : CONFIG_UKMAIN_IDLE_MAX_US * 1000ull;
	uint64_t ns = 50000ull << (empty_rounds > 20 ? 20 : empty_rounds);
	if (ns > max)
		ns = max;
	int pending = 0;
	for (unsigned i = 0; i < uknfv_nports; i++)
		if (uk_netdev_rx_intr_enable(port_dev[i], 0) == 1)
			pending = 1;   /* packets arrived before the interrupt was armed */
	if (!pending)
		uk_idle(ns);
	for (unsigned i = 0; i < uknfv_nports; i++)
		uk_netdev_rx_intr_disable(port_dev[i], 0);
}

int uk_main(void)
{
	char v[32];
	if (cmdline_value("uknfv.epoch_ns", v, sizeof v))
		wall_epoch_ns = strtoull(v, NULL, 10);
	uint32_t npool = pool_size();
	if (pkt_pool_init(npool)) {
		uk_printf("uknfv: error: not enough memory for %u packet buffers (%zu KiB free): "
			  "give the VM more memory\n", npool, uk_mem_free() / 1024);
		return 2;
	}
	if (bring_up_ports())
		return 2;
	if (uk_ctl_present()) {
		uk_irq_register(uk_isa_irq_gsi(3), ctl_wake, NULL);
		uk_ctl_rx_intr(1);
	}
	if (uknfv_init()) {
		uk_printf("uknfv: error: the pipeline failed to start\n");
		return 1;
	}
	uint64_t boot_us = (uk_tsc() - uk_boot_tsc) * 1000000ull / uk_tsc_hz();
	uk_printf("UKNFV READY boot_us=%llu ports=%u nics=%u pool=%u mem_kb=%zu tsc_mhz=%llu pipeline=%s\n",
		  (unsigned long long)boot_us, uknfv_nports, uk_netdev_count(), npool,
		  uk_mem_total() / 1024, (unsigned long long)(uk_tsc_hz() / 1000000ull),
		  uknfv_pipeline_name);

	unsigned empty = 0, rounds = 0;
	while (!rt_stopping) {
		unsigned work = uknfv_poll();
		rt_ports_flush();
		if (work) {
			empty = 0;
			if ((++rounds & 1023) == 0)
				ukmain_control_poll();
			continue;
		}
		ukmain_control_poll();
		if (++empty > CONFIG_UKMAIN_IDLE_SPIN)
			idle_wait(empty - CONFIG_UKMAIN_IDLE_SPIN);
	}
	for (int i = 0, idle = 0; i < 100000 && idle < 3; i++) {
		idle = uknfv_drain() ? 0 : idle + 1;
		rt_ports_flush();
	}
	/* Let the device send what is still in the TX rings before QEMU exits. */
	for (int i = 0; i < 4; i++)
		uk_idle(5000000ull);
	ukmain_print_stats();
	uknfv_finish();
	uk_puts("UKNFV EXIT status=0\n");
	return 0;
}

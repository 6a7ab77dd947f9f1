/*
 * Self-test kernel for the unikernel platform libraries (uklibc, ukplat,
 * ukconsole, ukalloc, uktime, ukintr).  Boots under QEMU (-kernel, PVH),
 * prints what it finds and checks, and exits through isa-debug-exit with 0
 * when every check passed (QEMU status 1), else 1 (QEMU status 3).
 *
 * Command line options:
 *   selftest.fault=null   dereference NULL (expects the exception report)
 *   selftest.fault=ud2    invalid opcode
 *   selftest.fault=stack  unbounded recursion (expects the guard page to fault)
 *   selftest.exit=N       exit with N right after "hello"
 *   selftest.ctl=echo     wait (up to 20 s) for a line on the control
 *                         channel (COM2), woken by its interrupt, and echo it
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uk/alloc.h"
#include "uk/console.h"
#include "uk/intr.h"
#include "uk/io.h"
#include "uk/plat.h"
#include "uk/time.h"

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			failures++;                                          \
			uk_printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			uk_printf(__VA_ARGS__);                              \
			uk_printf("\n");                                     \
		}                                                            \
	} while (0)

/* ---- snprintf: expected strings are glibc's output for the same calls ---- */
static int fmt_ok, fmt_total;

static void fmt_check(const char *expect, int expect_ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fmt_check(const char *expect, int expect_ret, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fmt_total++;
	if (r == expect_ret && !strcmp(buf, expect)) {
		fmt_ok++;
		return;
	}
	failures++;
	uk_printf("FAIL snprintf(\"%s\") = [%s] (%d), want [%s] (%d)\n", fmt, buf, r, expect, expect_ret);
}

static void test_format(void)
{
	fmt_check("42 -17 3000000000", 17, "%d %i %u", 42, -17, 3000000000u);
	fmt_check("   42|42   |00042|+42| 42|-0042", 31, "%5d|%-5d|%05d|%+d|% d|%+05d", 42, 42, 42, 42, 42, -42);
	fmt_check("ff FF 0xff 0 10 010 0", 21, "%x %X %#x %#X %o %#o %#o", 255, 255, 255, 0, 8, 8, 0);
	fmt_check("005|    -005|005     |||", 24, "%.3d|%8.3d|%-8.3d|%.0d|%.0x|", 5, -5, 5, 0, 0);
	fmt_check("-1 -9223372036854775808 18446744073709551615 123 77 -3", 54,
		  "%ld %lld %llu %lu %zu %zd", -1L, (long long)INT64_MIN, (unsigned long long)UINT64_MAX,
		  123UL, (size_t)77, (long)-3);
	fmt_check("44 44 4464 4464", 15, "%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
	fmt_check("abc|       abc|abc       |ab|     x|y     |z", 44, "%s|%10s|%-10s|%.2s|%*s|%-*s|%.*s",
		  "abc", "abc", "abc", "abc", 6, "x", 6, "y", 1, "zz");
	fmt_check("a|  b|c  |", 10, "%c|%3c|%-3c|", 'a', 'b', 'c');
	fmt_check("0x1234 (nil)", 12, "%p %p", (void *)0x1234, (void *)0);
	fmt_check("%|", 2, "%%|");
	fmt_check("0.000000 1.500000 -2.250000 3.141593", 36, "%f %f %f %f", 0.0, 1.5, -2.25, 3.14159265358979);
	fmt_check("0 2 2 4 2", 9, "%.0f %.0f %.0f %.0f %.0f", 0.5, 1.5, 2.5, 3.5, 2.4999);
	fmt_check("1.00 2.001 0.1 0.3333333333", 27, "%.2f %.3f %.1f %.10f", 1.005, 2.0005, 0.05, 1.0 / 3);
	fmt_check("     3.142|3.142     |-00003.142|+2.00| 2.00", 44, "%10.3f|%-10.3f|%010.3f|%+.2f|% .2f",
		  3.14159, 3.14159, -3.14159, 2.0, 2.0);
	fmt_check("18446744073709551616.000000", 27, "%f", 18446744073709551616.0);
	fmt_check("inf -inf", 8, "%f %f", __builtin_inf(), -__builtin_inf());
	fmt_check("1.234568e+04 1.230000E-04 1.00e+01 5e+00", 40, "%e %E %.2e %.0e", 12345.678, 0.000123, 9.999, 5.0);
	fmt_check("100000 1e+06 0.0001 1e-05 123.456 0", 35, "%g %g %g %g %g %g", 100000.0, 1000000.0, 0.0001,
		  0.00001, 123.456, 0.0);
	fmt_check("0.10000000000000000555", 22, "%.20f", 0.1);
	fmt_check("12.000003456:", 13, "%llu.%09llu:", 12ULL, 3456ULL);
	fmt_check("rate 1234.57/s", 14, "rate %.2f/s", 1234.5678);
	fmt_check("    1|2    |3.14", 16, "%*d|%-*d|%.*f", 5, 1, 5, 2, 2, 3.14159);
	fmt_check("u64=18446744073709551615 x64=ffffffffffffffff", 45, "u64=%" PRIu64 " x64=%" PRIx64,
		  UINT64_MAX, UINT64_MAX);
	/* truncation */
	char small[5];
	int r = snprintf(small, sizeof small, "%s", "hello world");
	CHECK(r == 11 && !strcmp(small, "hell"), "truncation: %d [%s]", r, small);
	CHECK(snprintf(NULL, 0, "%d", 12345) == 5, "size query");
	/* parsing */
	char *end;
	CHECK(strtol("  -0x1f zz", &end, 0) == -31 && *end == ' ', "strtol hex");
	CHECK(strtoul("0777", NULL, 0) == 511, "strtoul octal");
	CHECK(strtoull("18446744073709551615", NULL, 10) == UINT64_MAX, "strtoull max");
	CHECK(atoi("123abc") == 123 && abs(-5) == 5, "atoi/abs");
	uk_printf("snprintf: %d/%d formats as glibc, e.g. [%8.3f] [%-6s] [%#06x] [%+.1e]\n", fmt_ok,
		  fmt_total, 3.14159, "ab", 0xbeef, 12345.678);
}

/* ---- allocator ------------------------------------------------------------- */
static void test_alloc(void)
{
	size_t free0 = uk_mem_free();
	size_t total = uk_mem_total();
	CHECK(total > 0 && free0 <= total, "mem total %zu free %zu", total, free0);
	void *ptrs[64];
	size_t sizes[64];
	for (int i = 0; i < 64; i++) {
		sizes[i] = (size_t)(1 + (i * 977) % 5000);
		ptrs[i] = i % 8 == 0 ? uk_memalign(4096, sizes[i]) : uk_malloc(sizes[i]);
		CHECK(ptrs[i] != NULL, "alloc %d", i);
		if (!ptrs[i])
			return;
		CHECK(((uintptr_t)ptrs[i] & (i % 8 == 0 ? 4095 : 15)) == 0, "alignment of %p", ptrs[i]);
		memset(ptrs[i], i, sizes[i]);
	}
	/* free every other one, allocate again, check nothing overlaps */
	for (int i = 0; i < 64; i += 2)
		uk_free(ptrs[i]);
	for (int i = 0; i < 64; i += 2) {
		sizes[i] = (size_t)(1 + (i * 131) % 3000);
		ptrs[i] = uk_malloc(sizes[i]);
		CHECK(ptrs[i] != NULL, "realloc round %d", i);
		memset(ptrs[i], i, sizes[i]);
	}
	for (int i = 0; i < 64; i++) {
		const unsigned char *p = ptrs[i];
		for (size_t k = 0; k < sizes[i]; k++)
			if (p[k] != (unsigned char)i) {
				CHECK(0, "block %d byte %zu corrupted", i, k);
				break;
			}
	}
	char *s = uk_realloc(NULL, 10);
	strcpy(s, "grow me");
	s = uk_realloc(s, 100000);
	CHECK(s && !strcmp(s, "grow me"), "realloc keeps contents");
	uk_free(s);
	int *z = calloc(1000, sizeof(int));
	int nz = 0;
	for (int i = 0; z && i < 1000; i++)
		nz += z[i] != 0;
	CHECK(z && nz == 0, "calloc zeroes");
	free(z);
	char *d = strdup("dup");
	CHECK(d && !strcmp(d, "dup"), "strdup");
	free(d);
	for (int i = 0; i < 64; i++)
		uk_free(ptrs[i]);
	CHECK(uk_mem_free() == free0, "all memory back: %zu vs %zu", uk_mem_free(), free0);
	CHECK(uk_malloc(total + 1) == NULL, "oversized allocation fails");
	void *big = uk_malloc(total / 2);
	CHECK(big != NULL, "half of memory in one block");
	uk_free(big);
	CHECK(uk_mem_free() == free0, "after big: %zu vs %zu", uk_mem_free(), free0);
	uk_printf("alloc: %zu KiB managed, %zu KiB free, 64 blocks + realloc/calloc/strdup ok\n",
		  total / 1024, uk_mem_free() / 1024);
}

/* ---- interrupts ------------------------------------------------------------- */
static volatile int pit_fired;

static void pit_irq(void *arg)
{
	(void)arg;
	pit_fired++;
}

static void test_idle(void)
{
	uint64_t tmin = UINT64_MAX, tmax = 0, sum = 0;
	uint64_t before = uk_intr_count(UK_VEC_TIMER);
	const int n = 5;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = uk_now_ns();
		uk_idle(1000000);
		uint64_t dt = uk_now_ns() - t0;
		sum += dt;
		if (dt < tmin)
			tmin = dt;
		if (dt > tmax)
			tmax = dt;
	}
	uint64_t fired = uk_intr_count(UK_VEC_TIMER) - before;
	uk_printf("idle: uk_idle(1 ms) x%d took min %" PRIu64 " us, avg %" PRIu64 " us, max %" PRIu64
		  " us; timer fired %" PRIu64 "x (%s, timer %" PRIu64 " Hz)\n",
		  n, tmin / 1000, sum / n / 1000, tmax / 1000, fired, uk_apic_mode(), uk_apic_timer_hz());
	CHECK(fired >= (uint64_t)n, "LAPIC timer woke us %" PRIu64 " times", fired);
	CHECK(tmin >= 900000, "woke too early: %" PRIu64 " ns", tmin);
	CHECK(tmax < 1000000000ull, "woke too late: %" PRIu64 " ns", tmax);

	/* IOAPIC: the PIT's IRQ 0 (GSI per the MADT; 2 on QEMU's PC machines). */
	unsigned gsi = uk_isa_irq_gsi(0);
	if (uk_irq_register(gsi, pit_irq, NULL) == 0) {
		outb(0x43, 0x30);       /* ch0, lo/hi, mode 0: one rising edge at terminal count */
		outb(0x40, 0xa9);       /* 1193 ticks = 1 ms */
		outb(0x40, 0x04);
		uint64_t t0 = uk_now_ns();
		while (!pit_fired && uk_now_ns() - t0 < 2000000000ull)
			uk_idle(10000000);
		uk_irq_mask(gsi, 1);
		uk_printf("ioapic: PIT IRQ 0 on GSI %u %s after %" PRIu64 " us\n", gsi,
			  pit_fired ? "delivered" : "NOT delivered", (uk_now_ns() - t0) / 1000);
		CHECK(pit_fired, "PIT interrupt through the IOAPIC");
	} else {
		uk_printf("ioapic: no IOAPIC serves GSI %u\n", gsi);
		CHECK(0, "IOAPIC routing");
	}
	uint64_t addr;
	uint32_t data;
	int v = uk_msix_vector_alloc(pit_irq, NULL, &addr, &data);
	CHECK(v >= 0x30 && addr == 0xfee00000ull + ((uint64_t)uk_apic_id() << 12) && data == (uint32_t)v,
	      "msix vector %d addr %#" PRIx64 " data %#x", v, addr, data);
}

/* ---- control channel: input wakes uk_idle through COM2's IRQ ---------------- */
static volatile int com2_irqs;

static void com2_irq(void *arg)
{
	(void)arg;
	com2_irqs++;
}

static void test_ctl_echo(void)
{
	char line[128];
	size_t n = 0;
	unsigned gsi = uk_isa_irq_gsi(3);
	CHECK(uk_irq_register(gsi, com2_irq, NULL) == 0, "COM2 IRQ on GSI %u", gsi);
	uk_ctl_rx_intr(1);
	uk_puts("control: waiting for a line on COM2\n");
	uint64_t t0 = uk_now_ns(), idles = 0;
	while (uk_now_ns() - t0 < 20000000000ull) {
		int c = uk_ctl_getc();
		if (c < 0) {
			uk_idle(5000000000ull);       /* 5 s: only the COM2 interrupt ends it early */
			idles++;
			continue;
		}
		if (c == '\n')
			break;
		if (n < sizeof line - 1)
			line[n++] = (char)c;
	}
	line[n] = 0;
	uk_ctl_rx_intr(0);
	uk_irq_mask(gsi, 1);
	char out[160];
	int k = snprintf(out, sizeof out, "echo: %s\n", line);
	uk_ctl_write(out, (size_t)k);
	uk_printf("control: got \"%s\" after %" PRIu64 " ms, %" PRIu64 " idles, %d COM2 interrupts\n", line,
		  (uk_now_ns() - t0) / 1000000, idles, com2_irqs);
	CHECK(n > 0, "no control input");
	CHECK(com2_irqs > 0 || idles == 0, "COM2 interrupt never arrived");
}

static volatile int recurse_more = 1;

static int recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	__asm__ volatile("" : : "r"(pad) : "memory");
	return (recurse_more ? recurse(n + 1) : 0) + pad[0];
}

int uk_main(void)
{
	uint64_t t_main = uk_tsc();
	char opt[32];
	uk_puts("hello from the uknfv unikernel platform self-test\n");
	if (uk_cmdline_opt("selftest.exit", opt, sizeof opt))
		return atoi(opt);
	if (uk_cmdline_opt("selftest.fault", opt, sizeof opt)) {
		if (!strcmp(opt, "ud2"))
			__asm__ volatile("ud2");
		if (!strcmp(opt, "stack"))
			return recurse(1);
		volatile int *p = NULL;
		__asm__ volatile("" : "+r"(p));         /* hide the NULL from the compiler */
		return *p;
	}
	uk_printf("cmdline: \"%s\"\n", uk_cmdline());
	const struct uk_memregion *r;
	unsigned n = uk_memregions(&r);
	uk_printf("memory: %" PRIu64 " KiB RAM; image %p-%p; %u usable region%s:\n", uk_mem_size() / 1024,
		  (void *)__image_start, (void *)__image_end, n, n == 1 ? "" : "s");
	for (unsigned i = 0; i < n; i++)
		uk_printf("  %#010" PRIx64 "-%#010" PRIx64 " (%" PRIu64 " KiB)\n", r[i].base, r[i].base + r[i].len,
			  r[i].len / 1024);
	CHECK(n > 0, "no usable memory");
	uint64_t hz = uk_tsc_hz();
	uk_printf("tsc: %" PRIu64 " Hz (%s, found in %" PRIu64 " us)\n", hz, uk_tsc_source(),
		  uk_time_calib_ns() / 1000);
	CHECK(hz > 100000000ull && hz < 10000000000ull, "implausible TSC frequency");
	uk_printf("boot: entry -> uk_main %" PRIu64 " us, entry -> now %" PRIu64 " us\n",
		  uk_tsc_to_ns(t_main - uk_boot_tsc) / 1000, uk_now_ns() / 1000);
	char key[16];
	if (uk_cmdline_opt("foo", key, sizeof key))
		uk_printf("cmdline option foo = \"%s\"\n", key);

	test_format();
	test_alloc();
	test_idle();

	if (uk_ctl_present()) {
		const char msg[] = "control channel says hi\n";
		uk_ctl_write(msg, sizeof msg - 1);
		uk_printf("control: COM2 present, wrote %zu bytes\n", sizeof msg - 1);
		if (uk_cmdline_opt("selftest.ctl", opt, sizeof opt) && !strcmp(opt, "echo"))
			test_ctl_echo();
	} else {
		uk_printf("control: no COM2\n");
	}
	uk_printf("selftest: %s (%d failure%s), %" PRIu64 " us since entry\n", failures ? "FAILED" : "PASSED",
		  failures, failures == 1 ? "" : "s", uk_now_ns() / 1000);
	return failures ? 1 : 0;
}

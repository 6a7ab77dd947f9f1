/* uktime: TSC frequency discovery and the monotonic clock. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "uk/cpu.h"
#include "uk/io.h"
#include "uk/plat.h"
#include "uk/time.h"

#define PIT_HZ 1193182ull
#define PIT_CALIB_US 5000ull

static uint64_t tsc_hz;
static uint64_t mult_ns;        /* ns = ticks * mult_ns >> 32 */
static uint64_t mult_tsc;       /* ticks = ns * mult_tsc >> 32 */
static const char *source = "none";
static uint64_t calib_ns;
static uint64_t epoch_ns;
static int inited;

/* Hypervisor leaves (0x40000000..): present only when CPUID.1:ECX[31]. */
static uint32_t hv_max(char sig[13])
{
	if (!uk_cpu_hypervisor())
		return 0;
	struct uk_cpuid r = uk_cpuid(0x40000000, 0);
	memcpy(sig, &r.b, 4);
	memcpy(sig + 4, &r.c, 4);
	memcpy(sig + 8, &r.d, 4);
	sig[12] = 0;
	return r.a >= 0x40000000 && r.a < 0x40000100 ? r.a : 0;
}

/* kvmclock (MSR_KVM_SYSTEM_TIME_NEW): the pvclock structure carries the
 * scale KVM uses to turn TSC ticks into ns, hence the TSC frequency. */
struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

static uint64_t kvmclock_hz(void)
{
	static volatile struct pvclock_vcpu_time_info pv __attribute__((aligned(64)));
	char sig[13];
	uint32_t max = hv_max(sig);
	if (max < 0x40000001 || memcmp(sig, "KVMKVMKVM", 9))
		return 0;
	if (!(uk_cpuid(0x40000001, 0).a & KVM_FEATURE_CLOCKSOURCE2))
		return 0;
	uk_wrmsr(MSR_KVM_SYSTEM_TIME_NEW, uk_virt_to_phys((const void *)&pv) | 1);
	uint32_t mul = 0;
	int8_t shift = 0;
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t v = pv.version;
		uk_rmb();
		mul = pv.tsc_to_system_mul;
		shift = pv.tsc_shift;
		uk_rmb();
		if (!(v & 1) && v == pv.version && mul)
			break;
		mul = 0;
	}
	uk_wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);    /* we only wanted the scale */
	if (!mul)
		return 0;
	/* ns = (ticks << shift) * mul >> 32  =>  hz = 1e9 * 2^32 / mul >> shift */
	uint64_t hz = (1000000000ull << 32) / mul;
	if (shift > 0)
		hz >>= shift;
	else if (shift < 0)
		hz <<= -shift;
	return hz;
}

/* PIT channel 0, mode 2, counting down from 0xffff at 1.193182 MHz; its
 * count is read back with the latch command, so no speaker gate (port 0x61)
 * is needed (microvm has none).  Returns 0 if no PIT answers. */
static uint16_t pit_read(void)
{
	outb(0x43, 0x00);               /* latch channel 0 */
	uint8_t lo = inb(0x40);
	uint8_t hi = inb(0x40);
	return (uint16_t)(hi << 8 | lo);
}

struct pit_sample {
	uint64_t a, b;          /* TSC just before and just after the read */
	uint16_t c;
};

static void pit_sample(struct pit_sample *s)
{
	s->a = uk_rdtsc();
	s->c = pit_read();
	s->b = uk_rdtsc();
}

/* Wait for a tick edge seen cleanly: two back-to-back reads, both fast
 * (the vCPU was not descheduled in between), whose counts differ by one.
 * The edge then lies between the two latches; its TSC is taken as the
 * second read's start.  Under TCG or a loaded host a read can stall for
 * tens of microseconds, which is why one sample is not trusted. */
static int pit_edge(uint64_t limit, uint16_t *count, uint64_t *tsc, unsigned long maxiter)
{
	struct pit_sample p, s;
	pit_sample(&p);
	for (unsigned long i = 0; i < maxiter; i++) {
		pit_sample(&s);
		if (s.c != p.c && (uint16_t)(p.c - s.c) == 1 && s.b - p.a <= limit) {
			*count = s.c;
			*tsc = s.a;
			return 1;
		}
		p = s;
	}
	return 0;
}

/* A TSC gap this long between two PIT reads may hide a wrap of the 16-bit
 * count (65535 ticks = 55 ms): 50M ticks is 50 ms at 1 GHz, 5 ms at 10 GHz. */
#define STALL_TICKS 50000000ull

/* One measurement window: the estimate, and *clean = 0 if the vCPU stalled
 * long enough that the count may have wrapped (which can only make the
 * estimate too high). */
static uint64_t pit_window(uint64_t limit, int *clean)
{
	uint64_t target = PIT_HZ * PIT_CALIB_US / 1000000ull;
	uint16_t c0, c1;
	uint64_t t0, t1;
	*clean = 1;
	if (!pit_edge(limit, &c0, &t0, 200000))
		return 0;
	/* through most of the window, watching for stalls */
	uint64_t prev = uk_rdtsc();
	for (;;) {
		uint16_t c = pit_read();
		uint64_t now = uk_rdtsc();
		if (now - prev > STALL_TICKS)
			*clean = 0;
		prev = now;
		if ((uint16_t)(c0 - c) >= target)
			break;
	}
	if (!pit_edge(limit, &c1, &t1, 200000))
		return 0;
	if (t1 - prev > STALL_TICKS)
		*clean = 0;
	uint16_t ticks = (uint16_t)(c0 - c1);
	return ticks ? (t1 - t0) * PIT_HZ / ticks : 0;
}

static uint64_t pit_hz(void)
{
	outb(0x43, 0x34);               /* ch0, lo/hi byte, mode 2, binary */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	/* Is there a PIT at all?  Its count must move within ~1000 reads. */
	uint16_t first = pit_read();
	unsigned long i;
	for (i = 0; i < 10000 && pit_read() == first; i++)
		;
	if (i == 10000)
		return 0;                       /* reads stay put (0xffff): no PIT */
	/* What a quick read costs: the best of a few. */
	uint64_t best = UINT64_MAX;
	for (int k = 0; k < 8; k++) {
		struct pit_sample s;
		pit_sample(&s);
		if (s.b - s.a < best)
			best = s.b - s.a;
	}
	uint64_t limit = 3 * best;
	/* First clean window wins; if the host kept stalling us, the lowest
	 * estimate (a hidden wrap only ever inflates one). */
	uint64_t hz = 0, lowest = 0;
	for (int attempt = 0; attempt < 4 && !hz; attempt++) {
		int clean;
		uint64_t h = pit_window(limit, &clean);
		if (h && clean)
			hz = h;
		else if (h && (!lowest || h < lowest))
			lowest = h;
	}
	if (!hz)
		hz = lowest;
	outb(0x43, 0x30);               /* ch0 mode 0: one final edge, then quiet */
	outb(0x40, 0x01);
	outb(0x40, 0x00);
	return hz;
}

static void set_hz(uint64_t hz, const char *src)
{
	tsc_hz = hz;
	source = src;
	/* 64-bit only: no libgcc division helpers needed */
	mult_ns = (1000000000ull << 32) / hz;
	mult_tsc = ((hz / 1000000000ull) << 32) + ((hz % 1000000000ull) << 32) / 1000000000ull;
}

void uk_time_init(void)
{
	if (inited)
		return;
	inited = 1;
	uint64_t t0 = uk_rdtsc();
	char v[32];
	uint64_t hz = 0;
	const char *src = NULL;
	if (uk_cmdline_opt("uk.tsc_khz", v, sizeof v) && (hz = strtoull(v, NULL, 10) * 1000ull))
		src = "cmdline";
	if (!hz) {
		char sig[13];
		if (hv_max(sig) >= 0x40000010 && (hz = uk_cpuid(0x40000010, 0).a * 1000ull))
			src = "cpuid-0x40000010";
	}
	if (!hz && (hz = kvmclock_hz()))
		src = "kvmclock";
	if (!hz && uk_cpuid_max() >= 0x15) {
		struct uk_cpuid r = uk_cpuid(0x15, 0);
		if (r.a && r.b && r.c && (hz = (uint64_t)r.c * r.b / r.a))
			src = "cpuid-0x15";
	}
	if (!hz && uk_cpuid_max() >= 0x16 && (hz = (uk_cpuid(0x16, 0).a & 0xffff) * 1000000ull))
		src = "cpuid-0x16";
	if (!hz && (hz = pit_hz()))
		src = "pit";
	if (!hz) {
		hz = 1000000000ull;
		src = "guess-1GHz";
		uk_puts("uktime: warning: no way to measure the TSC (no CPUID leaf, kvmclock or PIT); "
			"assuming 1 GHz: pass uk.tsc_khz=N\n");
	}
	/* Provisional scale for the conversion below. */
	set_hz(hz, src);
	calib_ns = uk_tsc_to_ns(uk_rdtsc() - t0);
	if (uk_cmdline_opt("uknfv.epoch_ns", v, sizeof v))
		epoch_ns = strtoull(v, NULL, 10);
}

__attribute__((constructor(110))) static void time_ctor(void)
{
	uk_time_init();
}

uint64_t uk_tsc_hz(void)
{
	if (!inited)
		uk_time_init();
	return tsc_hz;
}

const char *uk_tsc_source(void)
{
	uk_tsc_hz();
	return source;
}

uint64_t uk_time_calib_ns(void)
{
	return calib_ns;
}

uint64_t uk_tsc_to_ns(uint64_t ticks)
{
	if (!inited)
		uk_time_init();
	return (uint64_t)(((unsigned __int128)ticks * mult_ns) >> 32);
}

uint64_t uk_ns_to_tsc(uint64_t ns)
{
	if (!inited)
		uk_time_init();
	return (uint64_t)(((unsigned __int128)ns * mult_tsc) >> 32);
}

uint64_t uk_now_ns(void)
{
	return uk_tsc_to_ns(uk_tsc() - uk_boot_tsc);
}

uint64_t uk_wall_ns(void)
{
	return epoch_ns + uk_now_ns();
}

void uk_delay_ns(uint64_t ns)
{
	uint64_t end = uk_tsc() + uk_ns_to_tsc(ns);
	while ((int64_t)(uk_tsc() - end) < 0)
		uk_pause();
}

/*
 * uktime: time from the TSC.
 *
 * The TSC frequency comes, in this order, from the `uk.tsc_khz=N` command
 * line option, CPUID leaf 0x40000010 (hypervisor timing leaf: QEMU/KVM with
 * invtsc, VMware), kvmclock (KVM's pvclock scale: exact, no waiting),
 * CPUID 0x15 (crystal ratio), CPUID 0x16 (nominal MHz), and finally a 5 ms
 * calibration against the PIT (channel 0, read back by latch).  Under TCG
 * only the PIT is available.
 */
#ifndef UK_TIME_H
#define UK_TIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

extern uint64_t uk_boot_tsc;                      /* TSC at the PVH entry (ukplat) */

static inline uint64_t uk_tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t uk_tsc_hz(void);
uint64_t uk_now_ns(void);                         /* monotonic since boot (the PVH entry) */
/* Wall clock: ns since the Unix epoch = boot epoch + uk_now_ns().  The boot
 * epoch is 0 unless the host passes `uknfv.epoch_ns=N` on the command line. */
uint64_t uk_wall_ns(void);

/* ns <-> TSC ticks with the calibrated frequency. */
uint64_t uk_ns_to_tsc(uint64_t ns);
uint64_t uk_tsc_to_ns(uint64_t ticks);

void uk_time_init(void);                          /* idempotent; runs as a constructor */
const char *uk_tsc_source(void);                  /* "cpuid-0x40000010", "kvmclock", "pit" ... */
uint64_t uk_time_calib_ns(void);                  /* how long finding the frequency took */

/* Busy-wait (no interrupts needed). */
void uk_delay_ns(uint64_t ns);

#ifdef __cplusplus
}
#endif
#endif

/* ukplat: CPU helpers (cpuid, MSRs, interrupt flag, TSC). */
#ifndef UK_CPU_H
#define UK_CPU_H

#include <stdint.h>

struct uk_cpuid { uint32_t a, b, c, d; };

static inline struct uk_cpuid uk_cpuid(uint32_t leaf, uint32_t sub)
{
	struct uk_cpuid r;
	__asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
	return r;
}

static inline uint64_t uk_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void uk_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t uk_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void uk_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void uk_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void uk_pause(void) { __asm__ volatile("pause"); }

/* Highest basic / hypervisor leaf (0 if there is no hypervisor leaf range). */
static inline uint32_t uk_cpuid_max(void) { return uk_cpuid(0, 0).a; }
static inline int uk_cpu_hypervisor(void) { return (uk_cpuid(1, 0).c >> 31) & 1; }

#endif

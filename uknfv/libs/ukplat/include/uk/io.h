/*
 * ukplat: port I/O, MMIO accessors and barriers.  Memory is identity-mapped
 * (virtual == physical) for the first 4 GiB, so a device address is used as
 * a pointer as is; the top 32 MiB (0xfe000000-0xffffffff: IOAPIC, LAPIC,
 * HPET, microvm's virtio-mmio) are mapped uncacheable.
 */
#ifndef UK_IO_H
#define UK_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO: one access of exactly the given width (volatile, never merged or split). */
static inline uint8_t mmio_read8(volatile void *a) { return *(volatile uint8_t *)a; }
static inline uint16_t mmio_read16(volatile void *a) { return *(volatile uint16_t *)a; }
static inline uint32_t mmio_read32(volatile void *a) { return *(volatile uint32_t *)a; }
static inline uint64_t mmio_read64(volatile void *a) { return *(volatile uint64_t *)a; }
static inline void mmio_write8(volatile void *a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void mmio_write16(volatile void *a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_write32(volatile void *a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void mmio_write64(volatile void *a, uint64_t v) { *(volatile uint64_t *)a = v; }

#define uk_mb()  __asm__ volatile("mfence" ::: "memory")
#define uk_rmb() __asm__ volatile("lfence" ::: "memory")
#define uk_wmb() __asm__ volatile("sfence" ::: "memory")
#define uk_barrier() __asm__ volatile("" ::: "memory")

static inline uint64_t uk_virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }
static inline void *uk_phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }

#endif

/*
 * uk/io.h for hosted builds (ukvhostuser): what the platform-neutral virtio
 * core and the virtio-net driver need from the unikernel's ukplat header,
 * in a Linux process.  The barriers are the same (x86-64 is TSO in both
 * worlds); the "physical" address of a pointer is the pointer itself,
 * because ukvhostuser registers its shared memory with the vhost-user
 * back-end with guest-physical address == process virtual address.  The
 * port/MMIO accessors exist only so that the inline notification switch in
 * uk/virtio.h compiles: a vhost-user queue never takes those branches.
 */
#ifndef UK_IO_H
#define UK_IO_H

#include <stdint.h>

static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void mmio_write16(volatile void *a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_write32(volatile void *a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint16_t mmio_read16(volatile void *a) { return *(volatile uint16_t *)a; }
static inline uint32_t mmio_read32(volatile void *a) { return *(volatile uint32_t *)a; }

#define uk_mb()  __asm__ volatile("mfence" ::: "memory")
#define uk_rmb() __asm__ volatile("lfence" ::: "memory")
#define uk_wmb() __asm__ volatile("sfence" ::: "memory")
#define uk_barrier() __asm__ volatile("" ::: "memory")

/* Identity: see ukvhostuser's README (the memory table). */
static inline uint64_t uk_virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }
static inline void *uk_phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }

#endif

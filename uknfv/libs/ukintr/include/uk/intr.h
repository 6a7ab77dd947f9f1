/*
 * ukintr: interrupts on the one CPU: local APIC (x2APIC when the CPU has
 * it, else xAPIC MMIO) with its timer, IOAPIC routing of GSIs, MSI/MSI-X
 * vectors, and uk_idle().
 *
 * Interrupts are only ever enabled inside uk_idle() (sti; hlt; cli): the
 * run loop polls, and an interrupt just ends the halt.  Handlers therefore
 * never race with the main loop; they run on their own stack (IST), with
 * the FPU/SSE state saved, and the EOI is done after they return.
 */
#ifndef UK_INTR_H
#define UK_INTR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Trigger mode and polarity of a GSI. */
#define UK_IRQ_EDGE   0x0
#define UK_IRQ_LEVEL  0x1
#define UK_IRQ_HIGH   0x0
#define UK_IRQ_LOW    0x2
#define UK_IRQ_DEFAULT 0x100   /* ACPI override for the GSI if any; else GSI < 16 edge/high (ISA), GSI >= 16 level/high */

/* Route IOAPIC input `gsi` to fn(arg) (UK_IRQ_DEFAULT trigger/polarity) and
 * unmask it.  Up to 4 handlers may share a GSI (all are called).  0, or -1
 * if no IOAPIC serves the GSI or there is no room. */
int uk_irq_register(unsigned gsi, void (*fn)(void *arg), void *arg);
int uk_irq_register_flags(unsigned gsi, unsigned flags, void (*fn)(void *arg), void *arg);
void uk_irq_mask(unsigned gsi, int masked);
/* The GSI an ISA IRQ (0..15) arrives on: the ACPI MADT's overrides, else
 * identity (COM1 = 4, COM2 = 3) except the PIT's IRQ 0, which is GSI 2. */
unsigned uk_isa_irq_gsi(unsigned isa_irq);

/* A fresh vector for a message-signalled interrupt that calls fn(arg); the
 * device is programmed with *addr / *data (MSI-X table entry, or MSI).
 * Returns the vector (>= 32), or -1 when vectors ran out. */
int uk_msix_vector_alloc(void (*fn)(void *), void *arg, uint64_t *addr, uint32_t *data);

/* Halt until an interrupt arrives or max_ns passed (LAPIC timer; TSC
 * deadline mode when the CPU has it).  max_ns = UINT64_MAX: no timeout;
 * 0: just let pending interrupts run. */
void uk_idle(uint64_t max_ns);

void uk_intr_init(void);                   /* idempotent; runs as a constructor */
uint64_t uk_intr_count(unsigned vector);   /* deliveries of a vector so far */
unsigned uk_apic_id(void);
const char *uk_apic_mode(void);            /* "x2apic" or "xapic", plus "+tsc-deadline" */
uint64_t uk_apic_timer_hz(void);           /* 0 in TSC-deadline mode */

#define UK_VEC_TIMER 0xf0
#define UK_VEC_ERROR 0xfe
#define UK_VEC_SPURIOUS 0xff

#ifdef __cplusplus
}
#endif
#endif

/*
 * ukconsole: the unikernel's serial ports (16550 UARTs, polled).
 *
 *   COM1 (0x3f8): the console.  Everything the kernel prints goes here
 *                 (uk_printf/uk_puts in ukplat write through it).
 *   COM2 (0x2f8): the control channel, a byte stream to the host (uknfv's
 *                 handler protocol).  QEMU microvm has only COM1 built in:
 *                 add `-device isa-serial,iobase=0x2f8,irq=3,chardev=ID`.
 *
 * A port that is absent (scratch register test fails) is skipped silently:
 * writes are dropped, uk_ctl_getc() returns -1.
 */
#ifndef UK_CONSOLE_H
#define UK_CONSOLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void uk_console_init(void);                      /* idempotent; ukplat calls it at boot */
void uk_console_write(const char *s, size_t n);   /* COM1, blocking until queued */
void uk_console_flush(void);                      /* wait until COM1 has sent everything */

int uk_ctl_getc(void);                            /* COM2, -1 if nothing */
void uk_ctl_write(const char *s, size_t n);       /* COM2 */
int uk_ctl_present(void);                         /* 1 if COM2 exists */
/* Raise COM2's interrupt (ISA IRQ 3 -> register GSI 3 with ukintr) when a
 * byte arrives, so uk_idle() wakes up for control input.  on = 0 disables. */
void uk_ctl_rx_intr(int on);

#ifdef __cplusplus
}
#endif
#endif

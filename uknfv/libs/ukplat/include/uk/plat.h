/*
 * ukplat: the x86_64 KVM/QEMU platform of the uknfv unikernel.
 *
 * Boot: QEMU (or Firecracker) enters boot.S through the PVH ELF note in
 * 32-bit protected mode; it records the TSC, zeroes .bss, identity-maps the
 * first 4 GiB (2 MiB pages), switches to long mode with SSE on, then
 * uk_plat_entry() sets up the GDT/TSS/IDT, reads the PVH start info (memory
 * map, command line), initialises the console, runs the libraries'
 * constructors (uktime, ukintr: in link order, by priority) and calls
 * uk_main().  Its return value is the exit code.
 *
 * One CPU, no threads.  Interrupts are off except inside uk_idle() (ukintr).
 */
#ifndef UK_PLAT_H
#define UK_PLAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- provided by the application (ukmain, or a test kernel) ------------- */
int uk_main(void);

/* ---- boot information --------------------------------------------------- */
const char *uk_cmdline(void);                    /* kernel command line, "" if none */

/* "key=value" or a bare "key" on the command line: 1 and the value copied to
 * val (NUL-terminated, truncated to n-1; "" for a bare key), else 0.  The last
 * occurrence wins.  val may be NULL to test for presence. */
int uk_cmdline_opt(const char *key, char *val, size_t n);

struct uk_memregion { uint64_t base, len; };
/* Usable RAM after the image (and below 4 GiB, the mapped range), sorted by
 * address, page-aligned.  The allocator (ukalloc) owns it. */
unsigned uk_memregions(const struct uk_memregion **out);
uint64_t uk_mem_size(void);                      /* all RAM the firmware reported */
uint64_t uk_acpi_rsdp(void);                     /* physical address of the RSDP, 0 if none */
/* An ACPI table by signature ("APIC", "FACP", "MCFG" ...) through the
 * RSDP's XSDT/RSDT, or NULL.  Points at the table's standard header. */
const void *uk_acpi_table(const char *sig);

/* Image bounds (from kvm.ld). */
extern char __image_start[], __image_end[];

/* ---- exit ---------------------------------------------------------------- */
/* QEMU exits with status (code << 1) | 1 through isa-debug-exit (port 0xf4,
 * `-device isa-debug-exit,iobase=0xf4,iosize=4`); without that device, ACPI
 * S5 power-off (QEMU's exit status is then 0), with `uk.exit=reset` on the
 * command line an i8042 reset (Firecracker's way to stop), else halt. */
void uk_exit(int code) __attribute__((noreturn));
#define UK_EXIT_ABORT 6      /* abort(), failed assert: QEMU status 13 */
#define UK_EXIT_TRAP 11      /* CPU exception: QEMU status 23 */

/* ---- console output (COM1, through ukconsole) ---------------------------- */
void uk_puts(const char *s);                     /* writes s as is (no newline added); early-safe */
int uk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int uk_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* ---- interrupt vectors (for ukintr) --------------------------------------- */
/* What the trap stubs push: general registers, vector, error code, and the
 * CPU's interrupt frame. */
struct uk_trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*uk_vector_fn)(struct uk_trapframe *tf, void *arg);
/* Route vector 32..255 to fn(tf, arg) (NULL: ignore it).  0, or -1 for a
 * bad vector.  Exceptions (0..31) always print and exit(UK_EXIT_TRAP). */
int uk_vector_set(unsigned vector, uk_vector_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif

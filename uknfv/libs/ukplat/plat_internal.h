/* ukplat: internals shared by its own sources. */
#ifndef UK_PLAT_INTERNAL_H
#define UK_PLAT_INTERNAL_H

#include <stdint.h>

void uk_plat_traps_init(void);
void uk_plat_trap(struct uk_trapframe *tf);
void uk_plat_entry(void) __attribute__((noreturn));
void uk_plat_bootinfo_init(void);

extern uint64_t uk_boot_tsc;
extern uint64_t uk_pvh_start_info;

#endif

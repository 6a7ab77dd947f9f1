/*
 * The footprint floor: the smallest kernel the platform can make.  It only
 * boots (PVH entry, long mode, console), writes one line to COM1 and exits
 * through isa-debug-exit with 0 (QEMU status 1).  The footprint benchmark
 * builds it with the kvm target's flags from ukplat + ukconsole + uklibc
 * sources alone, to measure what QEMU itself costs (boot time, RSS) under a
 * uknfv image.  Not part of ukplat's lib.toml sources (it defines uk_main).
 */
#include "uk/console.h"
#include "uk/plat.h"

int uk_main(void)
{
	static const char msg[] = "UKNFV FLOOR\n";
	uk_console_write(msg, sizeof msg - 1);
	return 0;
}

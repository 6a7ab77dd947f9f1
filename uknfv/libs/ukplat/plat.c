/*
 * ukplat: C side of the boot (PVH start info: memory map, command line,
 * RSDP), library constructors, uk_main(), and the way out (uk_exit).
 */
#include <stdint.h>
#include <string.h>
#include "uk/console.h"
#include "uk/cpu.h"
#include "uk/io.h"
#include "uk/plat.h"
#include "plat_internal.h"

/* ---- PVH start info (xen/include/public/arch-x86/hvm/start_info.h) ------- */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;          /* version >= 1 */
	uint32_t memmap_entries;        /* version >= 1 */
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;                  /* 1 = RAM */
	uint32_t reserved;
};

#define MEMMAP_RAM 1
#define MAX_REGIONS 32
#define CMDLINE_MAX 4096
#define MAPPED_TOP (4ull << 30)          /* boot.S maps the first 4 GiB */

static char cmdline[CMDLINE_MAX];
static struct uk_memregion regions[MAX_REGIONS];
static unsigned nregions;
static uint64_t ram_total;
static uint64_t rsdp;

extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

const char *uk_cmdline(void)
{
	return cmdline;
}

uint64_t uk_acpi_rsdp(void)
{
	return rsdp;
}

uint64_t uk_mem_size(void)
{
	return ram_total;
}

unsigned uk_memregions(const struct uk_memregion **out)
{
	if (out)
		*out = regions;
	return nregions;
}

int uk_cmdline_opt(const char *key, char *val, size_t n)
{
	size_t klen = strlen(key);
	const char *c = cmdline, *found = NULL;
	size_t flen = 0;
	while (*c) {
		while (*c == ' ' || *c == '\t')
			c++;
		const char *w = c;
		while (*c && *c != ' ' && *c != '\t')
			c++;
		size_t wlen = (size_t)(c - w);
		if (wlen >= klen && !strncmp(w, key, klen) && (wlen == klen || w[klen] == '=')) {
			found = wlen == klen ? w + klen : w + klen + 1;
			flen = wlen == klen ? 0 : wlen - klen - 1;
		}
	}
	if (!found)
		return 0;
	if (val && n) {
		if (flen > n - 1)
			flen = n - 1;
		memcpy(val, found, flen);
		val[flen] = 0;
	}
	return 1;
}

/* Add RAM [base, base+len) to the usable regions: only what lies above the
 * image and below the mapped top, page-aligned, kept sorted and disjoint. */
static void add_ram(uint64_t base, uint64_t len)
{
	uint64_t lo = base, hi = base + len;
	uint64_t img_end = ((uint64_t)(uintptr_t)__image_end + 4095) & ~4095ull;
	ram_total += len;
	if (lo < img_end)
		lo = img_end;
	if (hi > MAPPED_TOP)
		hi = MAPPED_TOP;
	lo = (lo + 4095) & ~4095ull;
	hi &= ~4095ull;
	if (hi <= lo || nregions >= MAX_REGIONS)
		return;
	unsigned i = nregions;
	while (i > 0 && regions[i - 1].base > lo) {
		regions[i] = regions[i - 1];
		i--;
	}
	regions[i].base = lo;
	regions[i].len = hi - lo;
	nregions++;
	/* merge touching/overlapping neighbours */
	for (unsigned k = 0; k + 1 < nregions;) {
		uint64_t end = regions[k].base + regions[k].len;
		if (regions[k + 1].base <= end) {
			uint64_t e2 = regions[k + 1].base + regions[k + 1].len;
			if (e2 > end)
				regions[k].len = e2 - regions[k].base;
			memmove(&regions[k + 1], &regions[k + 2], (nregions - k - 2) * sizeof regions[0]);
			nregions--;
		} else {
			k++;
		}
	}
}

/* ---- fallback memory map: QEMU's fw_cfg "etc/e820" ------------------------ */
#define FW_CFG_CTL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR 0x0019

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fw_cfg_read(void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n--)
		*p++ = inb(FW_CFG_DATA);
}

static int fw_cfg_e820(void)
{
	uint8_t b[64];
	outw(FW_CFG_CTL, FW_CFG_SIGNATURE);
	fw_cfg_read(b, 4);
	if (memcmp(b, "QEMU", 4))
		return 0;
	outw(FW_CFG_CTL, FW_CFG_FILE_DIR);
	fw_cfg_read(b, 4);
	uint32_t count = be32(b);
	uint16_t sel = 0;
	uint32_t size = 0;
	for (uint32_t i = 0; i < count && i < 4096; i++) {
		fw_cfg_read(b, 64);     /* size BE32, select BE16, reserved, name[56] */
		if (!strncmp((char *)b + 8, "etc/e820", 56)) {
			size = be32(b);
			sel = (uint16_t)(b[4] << 8 | b[5]);
		}
	}
	if (!sel)
		return 0;
	outw(FW_CFG_CTL, sel);
	int added = 0;
	for (uint32_t off = 0; off + 20 <= size; off += 20) {
		struct { uint64_t addr, len; uint32_t type; } __attribute__((packed)) e;
		fw_cfg_read(&e, 20);
		if (e.type == MEMMAP_RAM) {
			add_ram(e.addr, e.len);
			added = 1;
		}
	}
	return added;
}

void uk_plat_bootinfo_init(void)
{
	const struct hvm_start_info *si = (const void *)(uintptr_t)uk_pvh_start_info;
	int have_map = 0;
	if (si && si->magic == HVM_START_MAGIC) {
		if (si->cmdline_paddr) {
			const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
			size_t n = strnlen(c, CMDLINE_MAX - 1);
			memcpy(cmdline, c, n);
			cmdline[n] = 0;
		}
		rsdp = si->rsdp_paddr;
		if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
			const struct hvm_memmap_entry *m = (const void *)(uintptr_t)si->memmap_paddr;
			for (uint32_t i = 0; i < si->memmap_entries; i++)
				if (m[i].type == MEMMAP_RAM) {
					add_ram(m[i].addr, m[i].size);
					have_map = 1;
				}
		}
	}
	if (!have_map)
		fw_cfg_e820();
}

/* ---- the way out -------------------------------------------------------------- */

static const struct acpi_hdr *acpi_find(const char *sig);

struct acpi_hdr {
	char sig[4];
	uint32_t len;
	uint8_t rev, csum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

const void *uk_acpi_table(const char *sig)
{
	return acpi_find(sig);
}

static const struct acpi_hdr *acpi_find(const char *sig)
{
	const uint8_t *r = (const uint8_t *)(uintptr_t)rsdp;
	if (!r || memcmp(r, "RSD PTR ", 8))
		return NULL;
	uint64_t xsdt = r[15] >= 2 ? *(const uint64_t *)(r + 24) : 0;
	uint32_t rsdt = *(const uint32_t *)(r + 16);
	const struct acpi_hdr *t = (const void *)(uintptr_t)(xsdt ? xsdt : rsdt);
	if (!t || (xsdt && xsdt >= MAPPED_TOP))
		return NULL;
	size_t w = xsdt ? 8 : 4;
	size_t n = (t->len - sizeof *t) / w;
	const uint8_t *e = (const uint8_t *)(t + 1);
	for (size_t i = 0; i < n; i++) {
		uint64_t a = w == 8 ? *(const uint64_t *)(e + 8 * i) : *(const uint32_t *)(e + 4 * i);
		const struct acpi_hdr *h = (const void *)(uintptr_t)a;
		if (a && a < MAPPED_TOP && !memcmp(h->sig, sig, 4))
			return h;
	}
	return NULL;
}

/* SLP_TYP for S5 from the DSDT's \_S5 package (the usual byte scan). */
static int acpi_s5_type(const struct acpi_hdr *dsdt, int dflt)
{
	if (!dsdt || memcmp(dsdt->sig, "DSDT", 4))
		return dflt;
	const uint8_t *p = (const uint8_t *)dsdt, *end = p + dsdt->len;
	for (p += sizeof *dsdt; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)   /* PackageOp */
			continue;
		p += 5;
		p += ((*p >> 6) & 3) + 1;                    /* PkgLength */
		p++;                                         /* NumElements */
		if (*p == 0x0a)                              /* BytePrefix */
			return p[1];
		if (*p == 0x00 || *p == 0x01)                /* ZeroOp / OneOp */
			return *p;
		return dflt;
	}
	return dflt;
}

static void acpi_poweroff(void)
{
	const uint8_t *f = (const uint8_t *)acpi_find("FACP");
	if (!f)
		return;
	uint32_t len = ((const struct acpi_hdr *)f)->len;
	uint64_t dsdt = *(const uint32_t *)(f + 40);
	if (len >= 148 && *(const uint64_t *)(f + 140))
		dsdt = *(const uint64_t *)(f + 140);
	const struct acpi_hdr *d = dsdt && dsdt < MAPPED_TOP ? (const void *)(uintptr_t)dsdt : NULL;
	uint32_t flags = len >= 116 ? *(const uint32_t *)(f + 112) : 0;
	if ((flags & (1u << 20)) && len >= 256) {
		/* Hardware-reduced ACPI (microvm): SLEEP_CONTROL_REG. */
		const uint8_t *gas = f + 244;
		uint64_t addr = *(const uint64_t *)(gas + 4);
		uint8_t v = (uint8_t)(((acpi_s5_type(d, 5) & 7) << 2) | (1 << 5));
		if (gas[0] == 0 && addr && addr < MAPPED_TOP)
			mmio_write8((volatile void *)(uintptr_t)addr, v);
		else if (gas[0] == 1 && addr && addr < 0x10000)
			outb((uint16_t)addr, v);
		return;
	}
	uint32_t pm1a = *(const uint32_t *)(f + 64), pm1b = *(const uint32_t *)(f + 68);
	uint16_t v = (uint16_t)(((acpi_s5_type(d, 0) & 7) << 10) | (1 << 13));
	if (pm1a && pm1a < 0x10000)
		outw((uint16_t)pm1a, v);
	if (pm1b && pm1b < 0x10000)
		outw((uint16_t)pm1b, v);
}

void uk_exit(int code)
{
	static int exiting;
	uk_cli();
	if (exiting++)                          /* a fault on the way out: just stop */
		goto halt;
	uk_console_flush();
	outl(0xf4, (uint32_t)code);             /* isa-debug-exit: QEMU exits (code<<1)|1 */
	acpi_poweroff();
	char how[16];
	if (uk_cmdline_opt("uk.exit", how, sizeof how) && !strcmp(how, "reset"))
		outb(0x64, 0xfe);               /* i8042 pulse reset line */
halt:
	outl(0xf4, (uint32_t)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void exit(int code)
{
	uk_exit(code);
}

void abort(void)
{
	uk_puts("uk: abort()\n");
	uk_exit(UK_EXIT_ABORT);
}

void __uk_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	uk_printf("uk: %s:%d: %s: assertion '%s' failed\n", file, line, func, expr);
	uk_exit(UK_EXIT_ABORT);
}

/* gcc may emit this for stack-protected code if someone forgets
 * -fno-stack-protector; make the failure explicit rather than a link error. */
void __stack_chk_fail(void)
{
	uk_puts("uk: stack smashing detected\n");
	uk_exit(UK_EXIT_ABORT);
}

/* ---- entry ------------------------------------------------------------------------ */

void uk_plat_entry(void)
{
	uk_plat_traps_init();
	uk_plat_bootinfo_init();
	uk_console_init();
	if (ram_total && !nregions)
		uk_printf("uk: warning: no free RAM after the image (it ends at %p): give the VM more memory\n",
			  (void *)__image_end);
	for (void (**f)(void) = __init_array_start; f < __init_array_end; f++)
		(*f)();
	uk_exit(uk_main());
}

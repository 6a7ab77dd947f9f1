/*
 * virtio-mmio (4.2): version 2 (modern) and version 1 (legacy) register
 * layouts.  Devices are found from the kernel command line:
 *
 *   virtio_mmio.device=<size>@<base>:<irq>[:<id>]
 *
 * (size takes K/M/G suffixes, base is hexadecimal with 0x or decimal), the
 * format of Linux's virtio_mmio driver, which QEMU microvm (with acpi=off)
 * and Firecracker append for each transport that has a device plugged in.
 * Without such entries, the ACPI DSDT's LNRO0005 devices (QEMU microvm with
 * ACPI, its default).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "uk/alloc.h"
#include "uk/intr.h"
#include "uk/io.h"
#include "uk/plat.h"
#include "uk/virtio.h"
#include "virtio_internal.h"

#define R_MAGIC        0x000
#define R_VERSION      0x004
#define R_DEVICE_ID    0x008
#define R_VENDOR_ID    0x00c
#define R_DEV_FEAT     0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT     0x020
#define R_DRV_FEAT_SEL 0x024
#define R_GUEST_PAGE   0x028   /* v1 */
#define R_QUEUE_SEL    0x030
#define R_QUEUE_NUMMAX 0x034
#define R_QUEUE_NUM    0x038
#define R_QUEUE_ALIGN  0x03c   /* v1 */
#define R_QUEUE_PFN    0x040   /* v1 */
#define R_QUEUE_READY  0x044   /* v2 */
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS   0x060
#define R_INT_ACK      0x064
#define R_STATUS       0x070
#define R_DESC_LO      0x080
#define R_DESC_HI      0x084
#define R_AVAIL_LO     0x090
#define R_AVAIL_HI     0x094
#define R_USED_LO      0x0a0
#define R_USED_HI      0x0a4
#define R_CONFIG_GEN   0x0fc   /* v2 */
#define R_CONFIG       0x100

#define MMIO_MAGIC 0x74726976u  /* "virt" */

static inline uint32_t rd(struct uk_virtio_dev *d, unsigned off) { return mmio_read32(d->mmio + off); }
static inline void wr(struct uk_virtio_dev *d, unsigned off, uint32_t v) { mmio_write32(d->mmio + off, v); }
static int v2(struct uk_virtio_dev *d) { return d->transport == UK_VIRTIO_MMIO; }

static uint64_t features_get(struct uk_virtio_dev *d)
{
	wr(d, R_DEV_FEAT_SEL, 0);
	uint64_t lo = rd(d, R_DEV_FEAT);
	if (!v2(d))
		return lo;
	wr(d, R_DEV_FEAT_SEL, 1);
	return (uint64_t)rd(d, R_DEV_FEAT) << 32 | lo;
}

static void features_set(struct uk_virtio_dev *d, uint64_t f)
{
	wr(d, R_DRV_FEAT_SEL, 0);
	wr(d, R_DRV_FEAT, (uint32_t)f);
	if (v2(d)) {
		wr(d, R_DRV_FEAT_SEL, 1);
		wr(d, R_DRV_FEAT, (uint32_t)(f >> 32));
	}
}

static uint8_t status_get(struct uk_virtio_dev *d) { return (uint8_t)rd(d, R_STATUS); }
static void status_set(struct uk_virtio_dev *d, uint8_t s) { wr(d, R_STATUS, s); }
static uint32_t cfggen(struct uk_virtio_dev *d) { return v2(d) ? rd(d, R_CONFIG_GEN) : 0; }

static void config_read(struct uk_virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	uint8_t *b = buf;
	for (unsigned i = 0; i < len; i++)
		b[i] = mmio_read8(d->mmio + R_CONFIG + off + i);
}

static void config_write(struct uk_virtio_dev *d, unsigned off, const void *buf, unsigned len)
{
	const uint8_t *b = buf;
	for (unsigned i = 0; i < len; i++)
		mmio_write8(d->mmio + R_CONFIG + off + i, b[i]);
}

static uint16_t queue_max(struct uk_virtio_dev *d, uint16_t q)
{
	wr(d, R_QUEUE_SEL, q);
	if (v2(d) ? rd(d, R_QUEUE_READY) : rd(d, R_QUEUE_PFN))
		return 0;               /* already in use */
	uint32_t m = rd(d, R_QUEUE_NUMMAX);
	return (uint16_t)(m > 32768 ? 32768 : m);
}

static int size_not_fixed(struct uk_virtio_dev *d) { (void)d; return 0; }

static int queue_enable(struct uk_virtio_dev *d, struct uk_virtq *vq)
{
	wr(d, R_QUEUE_SEL, vq->index);
	wr(d, R_QUEUE_NUM, vq->num);
	if (v2(d)) {
		uint64_t desc = uk_virt_to_phys(vq->desc), av = uk_virt_to_phys(vq->avail),
			 us = uk_virt_to_phys(vq->used);
		wr(d, R_DESC_LO, (uint32_t)desc);
		wr(d, R_DESC_HI, (uint32_t)(desc >> 32));
		wr(d, R_AVAIL_LO, (uint32_t)av);
		wr(d, R_AVAIL_HI, (uint32_t)(av >> 32));
		wr(d, R_USED_LO, (uint32_t)us);
		wr(d, R_USED_HI, (uint32_t)(us >> 32));
		wr(d, R_QUEUE_READY, 1);
	} else {
		uint64_t pa = uk_virt_to_phys(vq->mem);
		if ((pa >> 12) >> 32)
			return -1;
		wr(d, R_GUEST_PAGE, 4096);
		wr(d, R_QUEUE_ALIGN, 4096);
		wr(d, R_QUEUE_PFN, (uint32_t)(pa >> 12));
	}
	vq->notify_kind = UK_VQ_NOTIFY_MMIO32;
	vq->notify_addr = d->mmio + R_QUEUE_NOTIFY;
	return 0;
}

static uint32_t isr_ack(struct uk_virtio_dev *d)
{
	uint32_t s = rd(d, R_INT_STATUS);
	if (s)
		wr(d, R_INT_ACK, s);
	return s;
}

static int irq_setup(struct uk_virtio_dev *d, uint16_t q)
{
	(void)q;
	if (d->irq_line_registered)
		return 0;
	if (uk_irq_register(d->gsi, uk_virtio__line_irq, d) < 0) {
		uk_printf("ukvirtio: %s: cannot register GSI %u\n", d->name, (unsigned)d->gsi);
		return -1;
	}
	d->irq_line_registered = 1;
	return 0;
}

static const struct uk_virtio_ops mmio_ops = {
	.features_get = features_get, .features_set = features_set,
	.status_get = status_get, .status_set = status_set,
	.config_generation = cfggen, .config_read = config_read, .config_write = config_write,
	.queue_max = queue_max, .queue_legacy_size_fixed = size_not_fixed,
	.queue_enable = queue_enable, .isr_ack = isr_ack, .irq_setup = irq_setup,
	.name = "mmio",
};

/* ---- command line ----------------------------------------------------------- */

/* Unsigned number (0x hex, or decimal); advances *s; -1 if none. */
static int parse_num(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t r = 0;
	int base = 10, digits = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++, digits++) {
		int c = *p, k;
		if (c >= '0' && c <= '9')
			k = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			k = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			k = c - 'A' + 10;
		else
			break;
		r = r * (uint64_t)base + (uint64_t)k;
	}
	if (!digits)
		return -1;
	*v = r;
	*s = p;
	return 0;
}

/* One "SIZE@BASE:IRQ[:ID]" value; 0 on success. */
static int parse_entry(const char *s, uint64_t *size, uint64_t *base, uint64_t *irq)
{
	if (parse_num(&s, size))
		return -1;
	switch (*s) {
	case 'K': case 'k': *size <<= 10; s++; break;
	case 'M': case 'm': *size <<= 20; s++; break;
	case 'G': case 'g': *size <<= 30; s++; break;
	}
	if (*s++ != '@' || parse_num(&s, base) || *s++ != ':' || parse_num(&s, irq))
		return -1;
	return (*s == 0 || *s == ' ' || *s == ':' || *s == '\t' || *s == '\n') ? 0 : -1;
}

/* Probe one transport; appends a device to out[] (returns 1) if one is there. */
static unsigned add_device(uint64_t base, uint64_t irq, struct uk_virtio_dev **out)
{
	volatile uint8_t *regs = (volatile uint8_t *)(uintptr_t)base;
	uint32_t magic = mmio_read32(regs + R_MAGIC), ver = mmio_read32(regs + R_VERSION);
	uint32_t id = mmio_read32(regs + R_DEVICE_ID);
	if (magic != MMIO_MAGIC || (ver != 1 && ver != 2)) {
		uk_printf("ukvirtio: mmio %#llx: no virtio-mmio device (magic %#x version %u)\n",
			  (unsigned long long)base, magic, ver);
		return 0;
	}
	if (id == 0)
		return 0;               /* transport without a device */
	struct uk_virtio_dev *d = uk_calloc(1, sizeof *d);
	if (!d)
		return 0;
	d->ops = &mmio_ops;
	d->transport = ver == 2 ? UK_VIRTIO_MMIO : UK_VIRTIO_MMIO_LEGACY;
	d->device_type = id;
	d->mmio = regs;
	d->gsi = (uint32_t)irq;
	snprintf(d->name, sizeof d->name, "mmio %#llx v%u irq %u", (unsigned long long)base, ver,
		 (unsigned)irq);
	out[0] = d;
	return 1;
}

static unsigned from_cmdline(struct uk_virtio_dev **out, unsigned max)
{
	static const char key[] = "virtio_mmio.device=";
	const char *c = uk_cmdline();
	unsigned n = 0;
	while (c && *c && n < max) {
		while (*c == ' ' || *c == '\t' || *c == '\n')
			c++;
		const char *tok = c;
		while (*c && *c != ' ' && *c != '\t' && *c != '\n')
			c++;
		if (strncmp(tok, key, sizeof key - 1))
			continue;
		uint64_t size, base, irq;
		if (parse_entry(tok + sizeof key - 1, &size, &base, &irq) || size < 0x100) {
			uk_printf("ukvirtio: cannot parse '%.*s' (expected virtio_mmio.device=SIZE@BASE:IRQ)\n",
				  (int)(c - tok), tok);
			continue;
		}
		n += add_device(base, irq, out + n);
	}
	return n;
}

/* ---- ACPI DSDT ---------------------------------------------------------------- */
/*
 * With ACPI (QEMU microvm's default) the transports are not on the command
 * line but in the DSDT: one Device per plugged transport, in -device order,
 *   _HID "LNRO0005", _CRS { Memory32Fixed (base, 0x200), Interrupt (gsi) }.
 * QEMU's AML is regular, so a scan finds them without an interpreter: after
 * each "LNRO0005" string, the next Memory32Fixed and Extended Interrupt
 * descriptors (before the next device) are this device's.
 */
static const uint8_t *acpi_table(uint64_t pa, const char *sig)
{
	const uint8_t *t = (const uint8_t *)(uintptr_t)pa;
	if (!pa || pa >= (1ull << 32) || memcmp(t, sig, 4))
		return NULL;
	return t;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static const uint8_t *find_dsdt(void)
{
	const uint8_t *rsdp = (const uint8_t *)(uintptr_t)uk_acpi_rsdp();
	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8))
		return NULL;
	const uint8_t *sdt = NULL;
	unsigned esz = 4;
	if (rsdp[15] >= 2 && le64(rsdp + 24)) {
		sdt = acpi_table(le64(rsdp + 24), "XSDT");
		esz = 8;
	}
	if (!sdt) {
		sdt = acpi_table(le32(rsdp + 16), "RSDT");
		esz = 4;
	}
	if (!sdt)
		return NULL;
	uint32_t len = le32(sdt + 4);
	for (uint32_t o = 36; o + esz <= len; o += esz) {
		uint64_t pa = esz == 8 ? le64(sdt + o) : le32(sdt + o);
		const uint8_t *fadt = acpi_table(pa, "FACP");
		if (!fadt)
			continue;
		uint32_t flen = le32(fadt + 4);
		uint64_t dsdt = flen >= 148 ? le64(fadt + 140) : 0;
		if (!dsdt)
			dsdt = le32(fadt + 40);
		return acpi_table(dsdt, "DSDT");
	}
	return NULL;
}

static unsigned from_dsdt(struct uk_virtio_dev **out, unsigned max)
{
	static const char hid[] = "LNRO0005";
	const uint8_t *dsdt = find_dsdt();
	if (!dsdt)
		return 0;
	uint32_t len = le32(dsdt + 4);
	unsigned n = 0;
	for (uint32_t o = 36; o + 8 < len && n < max; o++) {
		if (memcmp(dsdt + o, hid, 8))
			continue;
		uint64_t base = 0, gsi = ~0ull;
		uint32_t end = o + 256 < len ? o + 256 : len;
		for (uint32_t k = o + 8; k + 9 < end; k++) {
			if (!memcmp(dsdt + k, hid, 8))
				break;  /* next device */
			if (!base && dsdt[k] == 0x86 && dsdt[k + 1] == 9 && dsdt[k + 2] == 0 && k + 12 <= end)
				base = le32(dsdt + k + 4);
			else if (gsi == ~0ull && dsdt[k] == 0x89 && dsdt[k + 2] == 0 && dsdt[k + 4] >= 1
				 && dsdt[k + 1] >= 6 && k + 9 <= end)
				gsi = le32(dsdt + k + 5);
			if (base && gsi != ~0ull)
				break;
		}
		if (base && gsi != ~0ull)
			n += add_device(base, gsi, out + n);
	}
	return n;
}

unsigned uk_virtio_mmio_find(struct uk_virtio_dev **out, unsigned max)
{
	unsigned n = from_cmdline(out, max);
	if (n == 0)
		n = from_dsdt(out, max);
	return n;
}

/*
 * ukpci: configuration mechanism #1, bus scan, BAR decoding, capabilities,
 * MSI-X tables.  See include/uk/pci.h.
 */
#include <stdint.h>
#include <stdio.h>
#include "uk/io.h"
#include "uk/pci.h"
#include "uk/plat.h"

#define CONF_ADDR 0xcf8
#define CONF_DATA 0xcfc

static struct uk_pci_dev devs[UK_PCI_MAX_DEVS];
static unsigned ndevs;
static int scanned;

static inline uint32_t conf_addr(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)(slot & 31) << 11
	       | (uint32_t)(func & 7) << 8 | (off & 0xfc);
}

uint32_t uk_pci_conf_read32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	outl(CONF_ADDR, conf_addr(bus, slot, func, off));
	return inl(CONF_DATA);
}

uint16_t uk_pci_conf_read16(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	outl(CONF_ADDR, conf_addr(bus, slot, func, off));
	return inw((uint16_t)(CONF_DATA + (off & 2)));
}

uint8_t uk_pci_conf_read8(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	outl(CONF_ADDR, conf_addr(bus, slot, func, off));
	return inb((uint16_t)(CONF_DATA + (off & 3)));
}

void uk_pci_conf_write32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, uint32_t v)
{
	outl(CONF_ADDR, conf_addr(bus, slot, func, off));
	outl(CONF_DATA, v);
}

void uk_pci_conf_write16(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, uint16_t v)
{
	outl(CONF_ADDR, conf_addr(bus, slot, func, off));
	outw((uint16_t)(CONF_DATA + (off & 2)), v);
}

void uk_pci_conf_write8(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, uint8_t v)
{
	outl(CONF_ADDR, conf_addr(bus, slot, func, off));
	outb((uint16_t)(CONF_DATA + (off & 3)), v);
}

/* ---- BARs ---------------------------------------------------------------- */

/* Decode BARs (sizing with decoding switched off, as the spec requires). */
static void decode_bars(struct uk_pci_dev *d)
{
	unsigned nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
	uint16_t cmd = uk_pci_read16(d, UK_PCI_COMMAND);
	uk_pci_write16(d, UK_PCI_COMMAND, (uint16_t)(cmd & ~(UK_PCI_CMD_IO | UK_PCI_CMD_MEM)));
	for (unsigned i = 0; i < nbars; i++) {
		uint8_t off = (uint8_t)(UK_PCI_BAR0 + 4 * i);
		struct uk_pci_bar *b = &d->bar[i];
		uint32_t lo = uk_pci_read32(d, off);
		uk_pci_write32(d, off, 0xffffffffu);
		uint32_t szlo = uk_pci_read32(d, off);
		uk_pci_write32(d, off, lo);
		if (szlo == 0 || szlo == 0xffffffffu)
			continue;
		if (lo & 1) {
			uint32_t mask = szlo & ~3u;
			mask |= 0xffff0000u;    /* I/O BARs may implement only 16 bits */
			b->io = 1;
			b->base = lo & ~3u;
			b->size = (uint64_t)(~mask + 1u) & 0xffffu;
			continue;
		}
		b->prefetch = (lo >> 3) & 1;
		if (((lo >> 1) & 3) == 2 && i + 1 < nbars) {
			uint8_t offh = (uint8_t)(off + 4);
			uint32_t hi = uk_pci_read32(d, offh);
			uk_pci_write32(d, offh, 0xffffffffu);
			uint32_t szhi = uk_pci_read32(d, offh);
			uk_pci_write32(d, offh, hi);
			uint64_t mask = (uint64_t)szhi << 32 | (szlo & ~0xfu);
			b->is64 = 1;
			b->base = (uint64_t)hi << 32 | (lo & ~0xfu);
			b->size = ~mask + 1;
			i++;                    /* the next slot is this BAR's high half */
		} else {
			b->base = lo & ~0xfu;
			b->size = (uint64_t)(uint32_t)(~(szlo & ~0xfu) + 1u);
		}
	}
	uk_pci_write16(d, UK_PCI_COMMAND, cmd);
}

/* BARs the firmware left at 0 get an address: memory from a window above RAM
 * (and above q35's MMCONFIG at 0xb0000000), I/O from 0xc000, each after the
 * highest address already in use.  Bump allocation, natural alignment. */
#define MEM_WIN_LO 0xc0000000ull
#define MEM_WIN_HI 0xfec00000ull
#define IO_WIN_LO  0xc000ull
#define IO_WIN_HI  0x10000ull

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static void assign_bars(void)
{
	uint64_t mem_next = MEM_WIN_LO, io_next = IO_WIN_LO;
	const struct uk_memregion *r;
	unsigned nr = uk_memregions(&r);
	for (unsigned i = 0; i < nr; i++)
		if (r[i].base < MEM_WIN_HI && r[i].base + r[i].len > mem_next)
			mem_next = r[i].base + r[i].len;
	for (unsigned k = 0; k < ndevs; k++)
		for (unsigned i = 0; i < 6; i++) {
			struct uk_pci_bar *b = &devs[k].bar[i];
			if (!b->size || !b->base)
				continue;
			if (b->io && b->base >= io_next && b->base < IO_WIN_HI)
				io_next = b->base + b->size;
			if (!b->io && b->base >= mem_next && b->base < MEM_WIN_HI)
				mem_next = b->base + b->size;
		}
	for (unsigned k = 0; k < ndevs; k++) {
		struct uk_pci_dev *d = &devs[k];
		for (unsigned i = 0; i < 6; i++) {
			struct uk_pci_bar *b = &d->bar[i];
			if (!b->size || b->base)
				continue;
			uint64_t *next = b->io ? &io_next : &mem_next;
			uint64_t hi = b->io ? IO_WIN_HI : MEM_WIN_HI;
			uint64_t base = align_up(*next, b->size);
			char nm[48];
			if (base + b->size > hi) {
				uk_printf("ukpci: %s BAR%u (%llu bytes) unassigned and no room for it\n",
					  uk_pci_name(d, nm, sizeof nm), i, (unsigned long long)b->size);
				continue;
			}
			uint8_t off = (uint8_t)(UK_PCI_BAR0 + 4 * i);
			uint32_t lo = uk_pci_read32(d, off);
			uk_pci_write32(d, off, (uint32_t)base | (lo & (b->io ? 3u : 0xfu)));
			if (b->is64)
				uk_pci_write32(d, (uint8_t)(off + 4), 0);
			b->base = base;
			*next = base + b->size;
		}
	}
}

/* ---- scan ---------------------------------------------------------------- */

static void scan_bus(uint8_t bus, unsigned depth);

static void add_function(uint8_t bus, uint8_t slot, uint8_t func, unsigned depth)
{
	if (ndevs >= UK_PCI_MAX_DEVS)
		return;
	struct uk_pci_dev *d = &devs[ndevs];
	uint32_t id = uk_pci_conf_read32(bus, slot, func, UK_PCI_VENDOR_ID);
	d->bus = bus;
	d->slot = slot;
	d->func = func;
	d->vendor_id = (uint16_t)id;
	d->device_id = (uint16_t)(id >> 16);
	uint32_t cls = uk_pci_read32(d, UK_PCI_REVISION);
	d->revision = (uint8_t)cls;
	d->prog_if = (uint8_t)(cls >> 8);
	d->subclass = (uint8_t)(cls >> 16);
	d->class_code = (uint8_t)(cls >> 24);
	d->header_type = uk_pci_read8(d, UK_PCI_HEADER_TYPE) & 0x7f;
	if (d->header_type == 0) {
		d->subsys_vendor = uk_pci_read16(d, UK_PCI_SUBSYS_VENDOR);
		d->subsys_id = uk_pci_read16(d, UK_PCI_SUBSYS_ID);
	}
	d->irq_line = uk_pci_read8(d, UK_PCI_IRQ_LINE);
	d->irq_pin = uk_pci_read8(d, UK_PCI_IRQ_PIN);
	decode_bars(d);
	ndevs++;
	/* A PCI-to-PCI bridge the firmware numbered: scan behind it. */
	if (d->header_type == 1 && depth < 4) {
		uint8_t sec = uk_pci_read8(d, UK_PCI_SECONDARY_BUS);
		if (sec > bus)
			scan_bus(sec, depth + 1);
	}
}

static void scan_bus(uint8_t bus, unsigned depth)
{
	for (uint8_t slot = 0; slot < 32; slot++) {
		if (uk_pci_conf_read16(bus, slot, 0, UK_PCI_VENDOR_ID) == 0xffff)
			continue;
		unsigned nfunc = (uk_pci_conf_read8(bus, slot, 0, UK_PCI_HEADER_TYPE) & 0x80) ? 8 : 1;
		for (uint8_t func = 0; func < nfunc; func++) {
			if (func && uk_pci_conf_read16(bus, slot, func, UK_PCI_VENDOR_ID) == 0xffff)
				continue;
			add_function(bus, slot, func, depth);
		}
	}
}

unsigned uk_pci_scan(void)
{
	if (scanned)
		return ndevs;
	scanned = 1;
	/* No host bridge answering at 00:00.0 and nothing at 0xcf8: no PCI. */
	outl(CONF_ADDR, 0x80000000u);
	if (inl(CONF_ADDR) != 0x80000000u && uk_pci_conf_read16(0, 0, 0, 0) == 0xffff)
		return 0;
	scan_bus(0, 0);
	assign_bars();
	return ndevs;
}

unsigned uk_pci_count(void)
{
	return ndevs;
}

struct uk_pci_dev *uk_pci_get(unsigned i)
{
	return i < ndevs ? &devs[i] : NULL;
}

void uk_pci_enable(const struct uk_pci_dev *d, uint16_t cmd_bits)
{
	uint16_t cmd = uk_pci_read16(d, UK_PCI_COMMAND);
	if ((cmd & cmd_bits) != cmd_bits)
		uk_pci_write16(d, UK_PCI_COMMAND, (uint16_t)(cmd | cmd_bits));
}

uint8_t uk_pci_cap_find(const struct uk_pci_dev *d, uint8_t id, uint8_t after)
{
	if (!(uk_pci_read16(d, UK_PCI_STATUS) & UK_PCI_STATUS_CAPS))
		return 0;
	uint8_t p = after ? uk_pci_read8(d, (uint8_t)(after + 1)) : uk_pci_read8(d, UK_PCI_CAP_PTR);
	for (unsigned guard = 0; p >= 0x40 && guard < 48; guard++) {
		p &= 0xfc;
		if (uk_pci_read8(d, p) == id)
			return p;
		p = uk_pci_read8(d, (uint8_t)(p + 1));
	}
	return 0;
}

const char *uk_pci_name(const struct uk_pci_dev *d, char *buf, unsigned n)
{
	snprintf(buf, n, "%02x:%02x.%x %04x:%04x class %02x.%02x", d->bus, d->slot, d->func,
		 d->vendor_id, d->device_id, d->class_code, d->subclass);
	return buf;
}

/* ---- MSI-X --------------------------------------------------------------- */

int uk_pci_msix_init(const struct uk_pci_dev *d, struct uk_pci_msix *m)
{
	uint8_t cap = uk_pci_cap_find(d, UK_PCI_CAP_MSIX, 0);
	if (!cap)
		return -1;
	uint16_t ctl = uk_pci_read16(d, (uint8_t)(cap + 2));
	uint32_t tbl = uk_pci_read32(d, (uint8_t)(cap + 4));
	unsigned bir = tbl & 7;
	if (bir > 5 || d->bar[bir].io || !d->bar[bir].base)
		return -1;
	m->dev = d;
	m->cap = cap;
	m->nvec = (uint16_t)((ctl & 0x7ff) + 1);
	m->table = (volatile uint32_t *)uk_pci_bar_ptr(d, bir, tbl & ~7u);
	uk_pci_enable(d, UK_PCI_CMD_MEM);
	return 0;
}

void uk_pci_msix_mask(struct uk_pci_msix *m, unsigned entry, int masked)
{
	if (entry >= m->nvec)
		return;
	volatile uint32_t *e = m->table + 4 * entry;
	uint32_t c = mmio_read32(&e[3]);
	mmio_write32(&e[3], masked ? (c | 1u) : (c & ~1u));
}

void uk_pci_msix_set(struct uk_pci_msix *m, unsigned entry, uint64_t addr, uint32_t data)
{
	if (entry >= m->nvec)
		return;
	volatile uint32_t *e = m->table + 4 * entry;
	uk_pci_msix_mask(m, entry, 1);
	mmio_write32(&e[0], (uint32_t)addr);
	mmio_write32(&e[1], (uint32_t)(addr >> 32));
	mmio_write32(&e[2], data);
	uk_pci_msix_mask(m, entry, 0);
}

void uk_pci_msix_enable(struct uk_pci_msix *m)
{
	uint8_t off = (uint8_t)(m->cap + 2);
	uint16_t ctl = uk_pci_read16(m->dev, off);
	uk_pci_write16(m->dev, off, (uint16_t)((ctl | 0x8000) & ~0x4000));
	uk_pci_enable(m->dev, UK_PCI_CMD_INTX_OFF);
}

void uk_pci_msix_disable(struct uk_pci_msix *m)
{
	uint8_t off = (uint8_t)(m->cap + 2);
	uk_pci_write16(m->dev, off, (uint16_t)(uk_pci_read16(m->dev, off) & ~0x8000));
}

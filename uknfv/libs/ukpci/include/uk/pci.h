/*
 * ukpci: PCI configuration space, bus scan, BARs, capabilities, MSI-X.
 *
 * Configuration mechanism #1 (ports 0xCF8/0xCFC), so registers 0..255 of
 * every function.  uk_pci_scan() walks bus 0 (and the buses behind
 * PCI-to-PCI bridges the firmware has numbered), decodes each function's
 * BARs once and keeps the result in a static table: the devices are owned by
 * ukpci and live for the whole run; drivers keep pointers to them.
 *
 * Memory is identity-mapped, so a memory BAR's base is also the address the
 * driver dereferences (uk_pci_bar_ptr()).  SeaBIOS assigns the BARs, qboot
 * does not: every memory or I/O BAR still at 0 after the firmware is given an
 * address by uk_pci_scan() (memory from 0xc0000000, I/O from 0xc000; see
 * README.md).
 */
#ifndef UK_PCI_H
#define UK_PCI_H

#include <stdint.h>

#ifndef UK_PCI_MAX_DEVS
#define UK_PCI_MAX_DEVS 64
#endif

/* configuration space registers */
#define UK_PCI_VENDOR_ID      0x00
#define UK_PCI_DEVICE_ID      0x02
#define UK_PCI_COMMAND        0x04
#define UK_PCI_STATUS         0x06
#define UK_PCI_REVISION       0x08
#define UK_PCI_HEADER_TYPE    0x0e
#define UK_PCI_BAR0           0x10
#define UK_PCI_SUBSYS_VENDOR  0x2c
#define UK_PCI_SUBSYS_ID      0x2e
#define UK_PCI_CAP_PTR        0x34
#define UK_PCI_IRQ_LINE       0x3c
#define UK_PCI_IRQ_PIN        0x3d
#define UK_PCI_SECONDARY_BUS  0x19   /* type 1 (bridge) header */

#define UK_PCI_CMD_IO         0x0001
#define UK_PCI_CMD_MEM        0x0002
#define UK_PCI_CMD_MASTER     0x0004
#define UK_PCI_CMD_INTX_OFF   0x0400
#define UK_PCI_STATUS_CAPS    0x0010

#define UK_PCI_CAP_MSI        0x05
#define UK_PCI_CAP_VENDOR     0x09
#define UK_PCI_CAP_PCIE       0x10
#define UK_PCI_CAP_MSIX       0x11

struct uk_pci_bar {
	uint64_t base;          /* bus address (== guest physical == virtual); 0 if absent */
	uint64_t size;          /* bytes; 0 if the BAR is not implemented */
	uint8_t io;             /* 1: I/O port space (base is a port number) */
	uint8_t is64;           /* 64-bit memory BAR (occupies this slot and the next) */
	uint8_t prefetch;
};

struct uk_pci_dev {
	uint8_t bus, slot, func;
	uint8_t header_type;    /* without the multi-function bit */
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor, subsys_id;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t irq_line, irq_pin;
	struct uk_pci_bar bar[6];
};

/* ---- raw configuration access (any bus/slot/func, offset 0..255) ------- */
uint32_t uk_pci_conf_read32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off);
uint16_t uk_pci_conf_read16(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off);
uint8_t uk_pci_conf_read8(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off);
void uk_pci_conf_write32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, uint32_t v);
void uk_pci_conf_write16(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, uint16_t v);
void uk_pci_conf_write8(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off, uint8_t v);

/* ... and on a scanned device */
static inline uint32_t uk_pci_read32(const struct uk_pci_dev *d, uint8_t off)
{ return uk_pci_conf_read32(d->bus, d->slot, d->func, off); }
static inline uint16_t uk_pci_read16(const struct uk_pci_dev *d, uint8_t off)
{ return uk_pci_conf_read16(d->bus, d->slot, d->func, off); }
static inline uint8_t uk_pci_read8(const struct uk_pci_dev *d, uint8_t off)
{ return uk_pci_conf_read8(d->bus, d->slot, d->func, off); }
static inline void uk_pci_write32(const struct uk_pci_dev *d, uint8_t off, uint32_t v)
{ uk_pci_conf_write32(d->bus, d->slot, d->func, off, v); }
static inline void uk_pci_write16(const struct uk_pci_dev *d, uint8_t off, uint16_t v)
{ uk_pci_conf_write16(d->bus, d->slot, d->func, off, v); }
static inline void uk_pci_write8(const struct uk_pci_dev *d, uint8_t off, uint8_t v)
{ uk_pci_conf_write8(d->bus, d->slot, d->func, off, v); }

/* ---- scan ---------------------------------------------------------------- */
/* Scan once (later calls return the cached result): number of functions
 * found, in bus/slot/function order.  Host bridges and PCI bridges are
 * listed too (check class_code).  Machines without PCI (microvm) give 0. */
unsigned uk_pci_scan(void);
unsigned uk_pci_count(void);
struct uk_pci_dev *uk_pci_get(unsigned i);      /* NULL past the end */

/* Set bits in the command register (UK_PCI_CMD_*): I/O and memory decoding,
 * bus mastering (needed before a device may DMA). */
void uk_pci_enable(const struct uk_pci_dev *d, uint16_t cmd_bits);

/* Identity-mapped pointer to a memory BAR plus offset, NULL for an I/O or
 * absent BAR. */
static inline volatile void *uk_pci_bar_ptr(const struct uk_pci_dev *d, unsigned bar, uint64_t off)
{
	if (bar > 5 || d->bar[bar].io || !d->bar[bar].base)
		return (volatile void *)0;
	return (volatile void *)(uintptr_t)(d->bar[bar].base + off);
}

/* Capability list: offset of the first capability with this id after
 * config offset `after` (0 = from the start of the list); 0 if none. */
uint8_t uk_pci_cap_find(const struct uk_pci_dev *d, uint8_t id, uint8_t after);

/* A one-line description ("00:02.0 1af4:1041 class 02.00") into buf. */
const char *uk_pci_name(const struct uk_pci_dev *d, char *buf, unsigned n);

/* ---- MSI-X --------------------------------------------------------------- */
struct uk_pci_msix {
	const struct uk_pci_dev *dev;
	uint8_t cap;                    /* config offset of the capability */
	uint16_t nvec;                  /* table entries */
	volatile uint32_t *table;       /* 4 dwords per entry: addr lo, addr hi, data, control */
};
/* Find the MSI-X capability and map its table (the BAR must be decoded:
 * enables memory decoding).  0, or -1 if the function has no MSI-X. */
int uk_pci_msix_init(const struct uk_pci_dev *d, struct uk_pci_msix *m);
/* Program one entry (message address/data from uk_msix_vector_alloc()) and
 * unmask it. */
void uk_pci_msix_set(struct uk_pci_msix *m, unsigned entry, uint64_t addr, uint32_t data);
void uk_pci_msix_mask(struct uk_pci_msix *m, unsigned entry, int masked);
/* Enable MSI-X (and clear the function mask) / disable it.  Enabling also
 * sets INTx Disable in the command register. */
void uk_pci_msix_enable(struct uk_pci_msix *m);
void uk_pci_msix_disable(struct uk_pci_msix *m);
static inline int uk_pci_msix_enabled(const struct uk_pci_msix *m)
{
	return m->dev && (uk_pci_read16(m->dev, (uint8_t)(m->cap + 2)) & 0x8000) != 0;
}

#endif

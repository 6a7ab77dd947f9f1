/*
 * virtio over PCI: the modern transport (virtio 1.0, 4.1.4: vendor-specific
 * capabilities locate the common, notify, ISR and device configuration
 * structures in memory BARs) and the legacy one (4.1.4.8: a register block
 * in I/O BAR 0).  Interrupts through MSI-X.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "uk/alloc.h"
#include "uk/intr.h"
#include "uk/io.h"
#include "uk/pci.h"
#include "uk/plat.h"
#include "uk/virtio.h"
#include "virtio_internal.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* virtio_pci_cap.cfg_type */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR    3
#define CAP_DEVICE 4

/* common configuration (4.1.4.3) */
#define C_DFSELECT   0x00
#define C_DF         0x04
#define C_GFSELECT   0x08
#define C_GF         0x0c
#define C_MSIX       0x10
#define C_NUMQ       0x12
#define C_STATUS     0x14
#define C_CFGGEN     0x15
#define C_Q_SELECT   0x16
#define C_Q_SIZE     0x18
#define C_Q_MSIX     0x1a
#define C_Q_ENABLE   0x1c
#define C_Q_NOFF     0x1e
#define C_Q_DESCLO   0x20
#define C_Q_DESCHI   0x24
#define C_Q_AVAILLO  0x28
#define C_Q_AVAILHI  0x2c
#define C_Q_USEDLO   0x30
#define C_Q_USEDHI   0x34

/* legacy registers (I/O BAR 0) */
#define L_HOST_FEATURES  0x00
#define L_GUEST_FEATURES 0x04
#define L_QUEUE_PFN      0x08
#define L_QUEUE_NUM      0x0c
#define L_QUEUE_SEL      0x0e
#define L_QUEUE_NOTIFY   0x10
#define L_STATUS         0x12
#define L_ISR            0x13
#define L_MSIX_CONFIG    0x14   /* only while MSI-X is enabled */
#define L_MSIX_QUEUE     0x16
#define L_CONFIG         0x14   /* device config without MSI-X; 0x18 with */

/* ---- modern ---------------------------------------------------------------- */

static inline volatile void *cm(struct uk_virtio_dev *d, unsigned off) { return d->common + off; }

static uint64_t m_features_get(struct uk_virtio_dev *d)
{
	mmio_write32(cm(d, C_DFSELECT), 0);
	uint64_t lo = mmio_read32(cm(d, C_DF));
	mmio_write32(cm(d, C_DFSELECT), 1);
	uint64_t hi = mmio_read32(cm(d, C_DF));
	return hi << 32 | lo;
}

static void m_features_set(struct uk_virtio_dev *d, uint64_t f)
{
	mmio_write32(cm(d, C_GFSELECT), 0);
	mmio_write32(cm(d, C_GF), (uint32_t)f);
	mmio_write32(cm(d, C_GFSELECT), 1);
	mmio_write32(cm(d, C_GF), (uint32_t)(f >> 32));
}

static uint8_t m_status_get(struct uk_virtio_dev *d) { return mmio_read8(cm(d, C_STATUS)); }
static void m_status_set(struct uk_virtio_dev *d, uint8_t s) { mmio_write8(cm(d, C_STATUS), s); }
static uint32_t m_cfggen(struct uk_virtio_dev *d) { return mmio_read8(cm(d, C_CFGGEN)); }

static void m_config_read(struct uk_virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	uint8_t *b = buf;
	for (unsigned i = 0; i < len; i++)
		b[i] = mmio_read8(d->devcfg + off + i);
}

static void m_config_write(struct uk_virtio_dev *d, unsigned off, const void *buf, unsigned len)
{
	const uint8_t *b = buf;
	for (unsigned i = 0; i < len; i++)
		mmio_write8(d->devcfg + off + i, b[i]);
}

static uint16_t m_queue_max(struct uk_virtio_dev *d, uint16_t q)
{
	if (q >= mmio_read16(cm(d, C_NUMQ)))
		return 0;
	mmio_write16(cm(d, C_Q_SELECT), q);
	return mmio_read16(cm(d, C_Q_SIZE));
}

static int size_not_fixed(struct uk_virtio_dev *d) { (void)d; return 0; }

static int m_queue_enable(struct uk_virtio_dev *d, struct uk_virtq *vq)
{
	uint64_t desc = uk_virt_to_phys(vq->desc), av = uk_virt_to_phys(vq->avail),
		 us = uk_virt_to_phys(vq->used);
	mmio_write16(cm(d, C_Q_SELECT), vq->index);
	mmio_write16(cm(d, C_Q_SIZE), vq->num);
	mmio_write32(cm(d, C_Q_DESCLO), (uint32_t)desc);
	mmio_write32(cm(d, C_Q_DESCHI), (uint32_t)(desc >> 32));
	mmio_write32(cm(d, C_Q_AVAILLO), (uint32_t)av);
	mmio_write32(cm(d, C_Q_AVAILHI), (uint32_t)(av >> 32));
	mmio_write32(cm(d, C_Q_USEDLO), (uint32_t)us);
	mmio_write32(cm(d, C_Q_USEDHI), (uint32_t)(us >> 32));
	uint16_t noff = mmio_read16(cm(d, C_Q_NOFF));
	if (d->notify_pio) {
		vq->notify_kind = UK_VQ_NOTIFY_PIO16;
		vq->notify_port = (uint16_t)(d->notify_port + (uint32_t)noff * d->notify_mult);
	} else {
		vq->notify_kind = UK_VQ_NOTIFY_MMIO16;
		vq->notify_addr = d->notify + (uint32_t)noff * d->notify_mult;
	}
	mmio_write16(cm(d, C_Q_ENABLE), 1);
	return 0;
}

static uint32_t m_isr_ack(struct uk_virtio_dev *d) { return mmio_read8(d->isr); }

/* ---- MSI-X (both PCI flavours) ---------------------------------------------- */

static int msix_vector(struct uk_virtio_dev *d, uint16_t q, uint16_t *entry)
{
	struct uk_pci_msix *m = d->msix;
	if (!m) {
		m = uk_calloc(1, sizeof *m);
		if (!m || uk_pci_msix_init(d->pci, m)) {
			uk_printf("ukvirtio: %s: no MSI-X (INTx is not supported)\n", d->name);
			return -1;
		}
		d->msix = m;
	}
	if (d->msix_next >= m->nvec)
		return -1;
	uint64_t addr;
	uint32_t data;
	if (uk_msix_vector_alloc(d->qirq_fn[q], d->qirq_arg[q], &addr, &data) < 0) {
		uk_printf("ukvirtio: %s: no interrupt vector left\n", d->name);
		return -1;
	}
	*entry = d->msix_next++;
	uk_pci_msix_set(m, *entry, addr, data);
	if (!uk_pci_msix_enabled(m))
		uk_pci_msix_enable(m);
	return 0;
}

static int m_irq_setup(struct uk_virtio_dev *d, uint16_t q)
{
	uint16_t e;
	if (msix_vector(d, q, &e))
		return -1;
	mmio_write16(cm(d, C_Q_SELECT), q);
	mmio_write16(cm(d, C_Q_MSIX), e);
	if (mmio_read16(cm(d, C_Q_MSIX)) != e) {
		uk_printf("ukvirtio: %s: device refused MSI-X vector %u for queue %u\n", d->name, e, q);
		return -1;
	}
	return 0;
}

static const struct uk_virtio_ops modern_ops = {
	.features_get = m_features_get, .features_set = m_features_set,
	.status_get = m_status_get, .status_set = m_status_set,
	.config_generation = m_cfggen, .config_read = m_config_read, .config_write = m_config_write,
	.queue_max = m_queue_max, .queue_legacy_size_fixed = size_not_fixed,
	.queue_enable = m_queue_enable, .isr_ack = m_isr_ack, .irq_setup = m_irq_setup,
	.name = "pci-modern",
};

/* ---- legacy ---------------------------------------------------------------- */

static inline uint16_t lp(struct uk_virtio_dev *d, unsigned off) { return (uint16_t)(d->iobase + off); }

static uint64_t l_features_get(struct uk_virtio_dev *d) { return inl(lp(d, L_HOST_FEATURES)); }
static void l_features_set(struct uk_virtio_dev *d, uint64_t f) { outl(lp(d, L_GUEST_FEATURES), (uint32_t)f); }
static uint8_t l_status_get(struct uk_virtio_dev *d) { return inb(lp(d, L_STATUS)); }
static void l_status_set(struct uk_virtio_dev *d, uint8_t s) { outb(lp(d, L_STATUS), s); }
static uint32_t l_cfggen(struct uk_virtio_dev *d) { (void)d; return 0; }

static unsigned l_cfg_base(struct uk_virtio_dev *d)
{
	return d->msix && uk_pci_msix_enabled(d->msix) ? L_CONFIG + 4 : L_CONFIG;
}

static void l_config_read(struct uk_virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	uint8_t *b = buf;
	unsigned base = l_cfg_base(d);
	for (unsigned i = 0; i < len; i++)
		b[i] = inb(lp(d, base + off + i));
}

static void l_config_write(struct uk_virtio_dev *d, unsigned off, const void *buf, unsigned len)
{
	const uint8_t *b = buf;
	unsigned base = l_cfg_base(d);
	for (unsigned i = 0; i < len; i++)
		outb(lp(d, base + off + i), b[i]);
}

static uint16_t l_queue_max(struct uk_virtio_dev *d, uint16_t q)
{
	outw(lp(d, L_QUEUE_SEL), q);
	if (inl(lp(d, L_QUEUE_PFN)))
		return 0;               /* already in use */
	return inw(lp(d, L_QUEUE_NUM));
}

static int size_fixed(struct uk_virtio_dev *d) { (void)d; return 1; }

static int l_queue_enable(struct uk_virtio_dev *d, struct uk_virtq *vq)
{
	uint64_t pa = uk_virt_to_phys(vq->mem);
	if ((pa >> 12) >> 32)
		return -1;              /* the PFN register is 32 bits */
	outw(lp(d, L_QUEUE_SEL), vq->index);
	outl(lp(d, L_QUEUE_PFN), (uint32_t)(pa >> 12));
	vq->notify_kind = UK_VQ_NOTIFY_PIO16;
	vq->notify_port = lp(d, L_QUEUE_NOTIFY);
	return 0;
}

static uint32_t l_isr_ack(struct uk_virtio_dev *d) { return inb(lp(d, L_ISR)); }

static int l_irq_setup(struct uk_virtio_dev *d, uint16_t q)
{
	uint16_t e;
	if (msix_vector(d, q, &e))
		return -1;
	outw(lp(d, L_QUEUE_SEL), q);
	outw(lp(d, L_MSIX_QUEUE), e);
	if (inw(lp(d, L_MSIX_QUEUE)) != e) {
		uk_printf("ukvirtio: %s: device refused MSI-X vector %u for queue %u\n", d->name, e, q);
		return -1;
	}
	return 0;
}

static const struct uk_virtio_ops legacy_ops = {
	.features_get = l_features_get, .features_set = l_features_set,
	.status_get = l_status_get, .status_set = l_status_set,
	.config_generation = l_cfggen, .config_read = l_config_read, .config_write = l_config_write,
	.queue_max = l_queue_max, .queue_legacy_size_fixed = size_fixed,
	.queue_enable = l_queue_enable, .isr_ack = l_isr_ack, .irq_setup = l_irq_setup,
	.name = "pci-legacy",
};

/* ---- probing --------------------------------------------------------------- */

/* Locate the modern structures; 0 if all of common/notify/isr/device found. */
static int modern_caps(struct uk_virtio_dev *d)
{
	const struct uk_pci_dev *p = d->pci;
	int have = 0;
	for (uint8_t c = uk_pci_cap_find(p, UK_PCI_CAP_VENDOR, 0); c;
	     c = uk_pci_cap_find(p, UK_PCI_CAP_VENDOR, c)) {
		uint8_t type = uk_pci_read8(p, (uint8_t)(c + 3));
		uint8_t bar = uk_pci_read8(p, (uint8_t)(c + 4));
		uint32_t off = uk_pci_read32(p, (uint8_t)(c + 8));
		if (type < CAP_COMMON || type > CAP_DEVICE || bar > 5 || (have & (1 << type)))
			continue;       /* first of each kind wins (4.1.4.1) */
		const struct uk_pci_bar *b = &p->bar[bar];
		if (!b->base)
			continue;
		if (b->io) {
			if (type != CAP_NOTIFY)
				continue;
			d->notify_pio = 1;
			d->notify_port = (uint16_t)(b->base + off);
		}
		volatile uint8_t *ptr = (volatile uint8_t *)(uintptr_t)(b->base + off);
		switch (type) {
		case CAP_COMMON: d->common = ptr; break;
		case CAP_NOTIFY:
			d->notify = ptr;
			d->notify_mult = uk_pci_read32(p, (uint8_t)(c + 16));
			break;
		case CAP_ISR: d->isr = ptr; break;
		case CAP_DEVICE: d->devcfg = ptr; break;
		}
		have |= 1 << type;
	}
	return have == 0x1e ? 0 : -1;
}

unsigned uk_virtio_pci_find(struct uk_virtio_dev **out, unsigned max)
{
	unsigned n = 0, ndev = uk_pci_scan();
	for (unsigned i = 0; i < ndev && n < max; i++) {
		struct uk_pci_dev *p = uk_pci_get(i);
		if (p->vendor_id != VIRTIO_PCI_VENDOR || p->device_id < 0x1000 || p->device_id > 0x107f)
			continue;
		struct uk_virtio_dev *d = uk_calloc(1, sizeof *d);
		if (!d)
			break;
		d->pci = p;
		d->device_type = p->device_id >= 0x1040 ? p->device_id - 0x1040u : p->subsys_id;
		char loc[16];
		snprintf(loc, sizeof loc, "%02x:%02x.%x", p->bus, p->slot, p->func);
		if (modern_caps(d) == 0) {
			d->ops = &modern_ops;
			d->transport = UK_VIRTIO_PCI_MODERN;
			uk_pci_enable(p, UK_PCI_CMD_MEM | UK_PCI_CMD_MASTER | (d->notify_pio ? UK_PCI_CMD_IO : 0));
			snprintf(d->name, sizeof d->name, "pci %s modern", loc);
		} else if (p->device_id < 0x1040 && p->bar[0].io && p->bar[0].base) {
			d->ops = &legacy_ops;
			d->transport = UK_VIRTIO_PCI_LEGACY;
			d->iobase = (uint16_t)p->bar[0].base;
			uk_pci_enable(p, UK_PCI_CMD_IO | UK_PCI_CMD_MEM | UK_PCI_CMD_MASTER);
			snprintf(d->name, sizeof d->name, "pci %s legacy", loc);
		} else {
			uk_printf("ukvirtio: pci %s: virtio device without usable BARs, skipped\n", loc);
			uk_free(d);
			continue;
		}
		out[n++] = d;
	}
	return n;
}

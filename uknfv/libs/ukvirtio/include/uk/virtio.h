/*
 * ukvirtio: virtio 1.x / legacy devices over three transports, and split
 * virtqueues.
 *
 * Transports (one ops table, struct uk_virtio_ops; the core in virtio.c is
 * platform-neutral, the hardware transports need ukpci/ukplat/ukintr):
 *   - PCI modern (virtio 1.0 vendor capabilities: common, notify, ISR and
 *     device configuration), VIRTIO_F_VERSION_1 always negotiated;
 *   - PCI legacy (I/O BAR 0 register block, queue PFN, 4096-byte alignment);
 *   - virtio-mmio, version 2 (modern) and version 1 (legacy), found from
 *     the `virtio_mmio.device=SIZE@BASE:IRQ` entries of the kernel command
 *     line (Firecracker; QEMU microvm with acpi=off), else from the ACPI
 *     DSDT's LNRO0005 devices (QEMU microvm with ACPI, its default);
 *   - vhost-user (hosted builds only, library ukvhostuser): the same
 *     driver in a Linux process, a DPDK vhost back-end on a UNIX socket.
 * A transitional PCI device (ids 0x1000..0x103f) is driven as modern when it
 * has the virtio capabilities, as legacy otherwise.
 *
 * Life cycle of a device (the spec's 3.1.1 order):
 *   uk_virtio_discover()           finds the devices of one type
 *   uk_virtio_negotiate(d, want)   reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK
 *   uk_virtio_config_read()        device-specific configuration
 *   uk_virtq_create()              for each queue
 *   uk_virtio_driver_ok()          DRIVER_OK: the device is live
 *
 * Ownership: devices and queues are allocated (uk_calloc/uk_memalign) at
 * initialisation and never freed.  A queue does not own the buffers it
 * carries: the driver passes a cookie with each buffer and gets it back from
 * uk_virtq_get() when the device has used the buffer.
 *
 * Byte order: x86 is little-endian, which is both what modern devices use
 * and the legacy "guest native" order, so no conversion is done.
 */
#ifndef UK_VIRTIO_H
#define UK_VIRTIO_H

#include <stddef.h>
#include <stdint.h>
#include "uk/io.h"

/* device types (virtio 1.x, 5) */
#define VIRTIO_ID_NET           1
#define VIRTIO_ID_BLOCK         2
#define VIRTIO_ID_CONSOLE       3
#define VIRTIO_ID_RNG           4

/* device status bits */
#define VIRTIO_STATUS_ACK           0x01
#define VIRTIO_STATUS_DRIVER        0x02
#define VIRTIO_STATUS_DRIVER_OK     0x04
#define VIRTIO_STATUS_FEATURES_OK   0x08
#define VIRTIO_STATUS_NEEDS_RESET   0x40
#define VIRTIO_STATUS_FAILED        0x80

/* transport-independent feature bits */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24
#define VIRTIO_F_ANY_LAYOUT         27
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34
#define VIRTIO_F_IN_ORDER           35
#define VIRTIO_BIT(f) (1ull << (f))

/* ---- split virtqueue layout (2.6) ----------------------------------------- */
#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2
#define VRING_DESC_F_INDIRECT   4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY  1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];        /* num entries, then used_event (EVENT_IDX) */
};
struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];  /* num entries, then avail_event (EVENT_IDX) */
};

struct uk_virtio_dev;

/* How uk_virtq_notify() reaches the device: a 16/32-bit MMIO store, a port
 * write, or (hosted transports such as vhost-user) the transport's
 * queue_notify op, e.g. a write to the queue's kick eventfd. */
enum uk_virtq_notify_kind { UK_VQ_NOTIFY_MMIO16, UK_VQ_NOTIFY_MMIO32, UK_VQ_NOTIFY_PIO16,
			    UK_VQ_NOTIFY_OP };

/* One split virtqueue.  Fields are read by the inline fast paths below;
 * drivers treat them as read-only. */
struct uk_virtq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t num;           /* ring size (power of two) */
	uint16_t mask;          /* num - 1 */
	uint16_t index;         /* queue number on the device */
	uint16_t free_head;     /* free descriptor list, linked through desc[].next */
	uint16_t nfree;
	uint16_t avail_idx;     /* next avail->idx to publish (shadow) */
	uint16_t kicked_idx;    /* avail_idx at the last notification decision */
	uint16_t last_used;     /* next used entry to harvest */
	uint16_t avail_flags;   /* shadow of avail->flags */
	uint8_t event_idx;      /* VIRTIO_RING_F_EVENT_IDX negotiated */
	uint8_t notify_kind;    /* enum uk_virtq_notify_kind */
	uint16_t notify_port;
	volatile void *notify_addr;
	uint64_t kicks;         /* notifications actually sent (statistics) */
	void **cookie;          /* per descriptor head */
	struct uk_virtio_dev *dev;
	void *mem;              /* ring memory (uk_memalign) */
	size_t mem_size;
};

/* ---- transports ----------------------------------------------------------- */
enum uk_virtio_transport {
	UK_VIRTIO_PCI_MODERN = 1,
	UK_VIRTIO_PCI_LEGACY,
	UK_VIRTIO_MMIO,          /* virtio-mmio version 2 */
	UK_VIRTIO_MMIO_LEGACY,   /* virtio-mmio version 1 */
	UK_VIRTIO_VHOST_USER,    /* hosted: a vhost-user back-end over a UNIX socket (ukvhostuser) */
};

struct uk_virtio_ops {
	uint64_t (*features_get)(struct uk_virtio_dev *d);          /* device features */
	void (*features_set)(struct uk_virtio_dev *d, uint64_t f);  /* driver features */
	uint8_t (*status_get)(struct uk_virtio_dev *d);
	void (*status_set)(struct uk_virtio_dev *d, uint8_t s);     /* 0 = reset */
	uint32_t (*config_generation)(struct uk_virtio_dev *d);     /* 0 on legacy */
	void (*config_read)(struct uk_virtio_dev *d, unsigned off, void *buf, unsigned len);
	void (*config_write)(struct uk_virtio_dev *d, unsigned off, const void *buf, unsigned len);
	uint16_t (*queue_max)(struct uk_virtio_dev *d, uint16_t q); /* 0: no such queue */
	int (*queue_legacy_size_fixed)(struct uk_virtio_dev *d);    /* 1: ring size cannot be chosen */
	int (*queue_enable)(struct uk_virtio_dev *d, struct uk_virtq *vq); /* program rings, notify */
	uint32_t (*isr_ack)(struct uk_virtio_dev *d);               /* read+ack: bit0 queue, bit1 config */
	int (*irq_setup)(struct uk_virtio_dev *d, uint16_t q);      /* route queue q's interrupt */
	const char *name;
	/* UK_VQ_NOTIFY_OP queues: tell the device queue vq has new buffers */
	void (*queue_notify)(struct uk_virtio_dev *d, struct uk_virtq *vq);
};

#ifndef UK_VIRTIO_MAX_QIRQ
#define UK_VIRTIO_MAX_QIRQ 4
#endif

struct uk_virtio_dev {
	const struct uk_virtio_ops *ops;
	enum uk_virtio_transport transport;
	uint32_t device_type;       /* VIRTIO_ID_* */
	uint64_t features;          /* negotiated (valid after uk_virtio_negotiate) */
	char name[40];              /* "pci 00:02.0 modern", "mmio 0xfeb00e00 v1 irq 12" */
	/* interrupt callbacks per queue (uk_virtio_irq_register) */
	void (*qirq_fn[UK_VIRTIO_MAX_QIRQ])(void *arg);
	void *qirq_arg[UK_VIRTIO_MAX_QIRQ];
	uint8_t irq_line_registered;  /* mmio GSI / INTx handler installed */
	uint64_t irqs;                /* interrupts taken (statistics) */
	/* transport state */
	struct uk_pci_dev *pci;
	volatile uint8_t *common, *notify, *isr, *devcfg, *mmio;
	uint32_t notify_mult;
	uint16_t iobase;            /* legacy PCI */
	uint8_t notify_pio;         /* modern PCI: notify region is in an I/O BAR */
	uint16_t notify_port;
	uint32_t gsi;               /* mmio: interrupt line from the command line */
	void *msix;                 /* struct uk_pci_msix *, when MSI-X is in use */
	uint16_t msix_next;         /* next free MSI-X table entry */
	void *priv;                 /* hosted transports: their own state (vhost-user connection) */
};

/* ---- discovery ------------------------------------------------------------ */
/* Finds the devices of one type on every transport, in a stable order: PCI
 * devices first, by bus/slot/function; then virtio-mmio devices in the order
 * of their `virtio_mmio.device=` entries on the command line, or of the DSDT
 * (QEMU microvm and Firecracker list them in -device / configuration order).  Writes up to
 * max device pointers (allocated once, never freed; a second call returns the
 * same objects) and returns how many there are in total. */
unsigned uk_virtio_discover(uint32_t device_type, struct uk_virtio_dev **out, unsigned max);

/* ---- device life cycle ---------------------------------------------------- */
/* Reset and negotiate: features = device & wanted (VERSION_1 added on the
 * modern transports, refused if missing; bits >= 32 dropped on legacy).
 * Returns 0 with d->features set, or -1 (the device is then marked FAILED). */
int uk_virtio_negotiate(struct uk_virtio_dev *d, uint64_t wanted);
void uk_virtio_driver_ok(struct uk_virtio_dev *d);
void uk_virtio_fail(struct uk_virtio_dev *d);
void uk_virtio_reset(struct uk_virtio_dev *d);
static inline int uk_virtio_has(const struct uk_virtio_dev *d, unsigned bit)
{
	return (d->features >> bit) & 1;
}
/* Consistent read of the device-specific configuration (retried while the
 * configuration generation changes). */
void uk_virtio_config_read(struct uk_virtio_dev *d, unsigned off, void *buf, unsigned len);

/* ---- interrupts ------------------------------------------------------------ */
/* Route queue q's "used buffer" interrupt to fn(arg): MSI-X on PCI (one
 * vector per queue, uk_msix_vector_alloc), the device's GSI on virtio-mmio
 * (uk_irq_register; the handler reads and acknowledges InterruptStatus, then
 * calls every registered queue callback).  PCI INTx is not supported.
 * fn runs in interrupt context: keep it short.  0, or -1 if the transport or
 * the platform cannot deliver the interrupt. */
int uk_virtio_irq_register(struct uk_virtio_dev *d, uint16_t q, void (*fn)(void *), void *arg);

/* ---- virtqueues ------------------------------------------------------------ */
/* Allocate queue `index` with `num` descriptors (0 or more than the device
 * allows = the device's maximum; rounded down to a power of two; legacy PCI
 * always uses the device's size), zeroed, ring memory 4096-aligned from
 * uk_memalign, and program it into the device.  NULL on failure. */
struct uk_virtq *uk_virtq_create(struct uk_virtio_dev *d, uint16_t index, uint16_t num);

struct uk_virtq_seg {
	uint64_t addr;          /* guest physical (uk_virt_to_phys) */
	uint32_t len;
	uint8_t write;          /* 1: device writes it (device-writable must follow readable) */
};
/* Chain of n segments as one buffer; -1 if fewer than n descriptors free. */
int uk_virtq_add_chain(struct uk_virtq *q, const struct uk_virtq_seg *segs, unsigned n, void *cookie);

#define uk_virtq_compiler_barrier() __asm__ volatile("" ::: "memory")

/* One-descriptor buffer (the packet fast path).  Not visible to the device
 * until uk_virtq_publish(). 0, or -1 if the ring is full. */
static inline int uk_virtq_add1(struct uk_virtq *q, uint64_t addr, uint32_t len, int device_writes,
				void *cookie)
{
	if (__builtin_expect(q->nfree == 0, 0))
		return -1;
	uint16_t h = q->free_head;
	struct vring_desc *dsc = &q->desc[h];
	q->free_head = dsc->next;
	q->nfree--;
	dsc->addr = addr;
	dsc->len = len;
	dsc->flags = device_writes ? VRING_DESC_F_WRITE : 0;
	q->cookie[h] = cookie;
	q->avail->ring[q->avail_idx & q->mask] = h;
	q->avail_idx++;
	return 0;
}

/* Make the buffers added so far visible to the device (no notification).
 * x86 keeps stores in order, so a compiler barrier is the write barrier. */
static inline void uk_virtq_publish(struct uk_virtq *q)
{
	uk_virtq_compiler_barrier();
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
}

static inline void uk_virtq_notify(struct uk_virtq *q)
{
	q->kicks++;
	switch (q->notify_kind) {
	case UK_VQ_NOTIFY_MMIO16:
		mmio_write16(q->notify_addr, q->index);
		break;
	case UK_VQ_NOTIFY_MMIO32:
		mmio_write32(q->notify_addr, q->index);
		break;
	case UK_VQ_NOTIFY_PIO16:
		outw(q->notify_port, q->index);
		break;
	default:
		q->dev->ops->queue_notify(q->dev, q);
		break;
	}
}

/* Publish, then notify the device if it asked for it (VRING_USED_F_NO_NOTIFY
 * clear, or with EVENT_IDX the avail_event index crossed).  Returns 1 if it
 * notified. */
static inline int uk_virtq_kick(struct uk_virtq *q)
{
	uint16_t old = q->kicked_idx, now = q->avail_idx;
	if (old == now)
		return 0;
	uk_virtq_publish(q);
	q->kicked_idx = now;
	uk_mb();        /* the idx store must be visible before we read flags/event */
	int need;
	if (q->event_idx) {
		uint16_t ev = *(volatile uint16_t *)((uint8_t *)q->used + 4 + 8u * q->num);
		need = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	} else {
		need = !(*(volatile uint16_t *)&q->used->flags & VRING_USED_F_NO_NOTIFY);
	}
	if (need)
		uk_virtq_notify(q);
	return need;
}

/* Used entries waiting to be harvested. */
static inline uint16_t uk_virtq_used_pending(const struct uk_virtq *q)
{
	return (uint16_t)(*(volatile const uint16_t *)&q->used->idx - q->last_used);
}

/* Harvest one used buffer: returns its cookie (and the byte count the device
 * wrote into it), its descriptors back on the free list; NULL if none. */
static inline void *uk_virtq_get(struct uk_virtq *q, uint32_t *len)
{
	if (q->last_used == *(volatile uint16_t *)&q->used->idx)
		return NULL;
	uk_virtq_compiler_barrier();   /* read the entry after the index (x86: loads in order) */
	const struct vring_used_elem *e = &q->used->ring[q->last_used & q->mask];
	uint16_t id = (uint16_t)e->id;
	if (len)
		*len = e->len;
	q->last_used++;
	void *cookie = q->cookie[id];
	/* return the chain to the free list */
	uint16_t t = id;
	unsigned n = 1;
	while (q->desc[t].flags & VRING_DESC_F_NEXT) {
		t = q->desc[t].next;
		n++;
	}
	q->desc[t].next = q->free_head;
	q->free_head = id;
	q->nfree = (uint16_t)(q->nfree + n);
	return cookie;
}

/* Interrupt suppression.  disable: the device need not interrupt (a hint:
 * it may still).  enable: ask for an interrupt at the next used buffer;
 * returns the number of used entries already pending (when nonzero the
 * caller should harvest instead of waiting for an interrupt). */
static inline void uk_virtq_intr_disable(struct uk_virtq *q)
{
	if (q->avail_flags & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	q->avail_flags |= VRING_AVAIL_F_NO_INTERRUPT;
	if (!q->event_idx)
		*(volatile uint16_t *)&q->avail->flags = q->avail_flags;
	/* with EVENT_IDX the flag is ignored by the device: used_event is left
	 * where it was, so at most one more interrupt comes (then it is stale) */
}

static inline uint16_t uk_virtq_intr_enable(struct uk_virtq *q)
{
	q->avail_flags &= (uint16_t)~VRING_AVAIL_F_NO_INTERRUPT;
	if (q->event_idx)
		*(volatile uint16_t *)&q->avail->ring[q->num] = q->last_used;
	else
		*(volatile uint16_t *)&q->avail->flags = q->avail_flags;
	uk_mb();        /* flag/event store before the used->idx load */
	return uk_virtq_used_pending(q);
}

#endif

/*
 * ukvirtio core: discovery over the transports, the status state machine,
 * feature negotiation, virtqueue allocation, interrupt routing.
 *
 * Platform-neutral: it needs only uk/io.h (barriers, uk_virt_to_phys),
 * uk/alloc.h (uk_calloc, uk_memalign) and uk/plat.h (uk_printf), which the
 * unikernel gets from ukplat/ukalloc and a hosted build from ukvhostuser.
 * The bus scan (PCI, virtio-mmio) lives in virtio_bus.c, linked only into
 * the unikernel; without it uk_virtio_discover() finds nothing.
 */
#include <stdint.h>
#include <string.h>
#include "uk/alloc.h"
#include "uk/plat.h"
#include "uk/virtio.h"
#include "virtio_internal.h"

#ifndef UK_VIRTIO_MAX_DEVS
#define UK_VIRTIO_MAX_DEVS 16
#endif

static struct uk_virtio_dev *all[UK_VIRTIO_MAX_DEVS];
static unsigned nall;
static int found;

unsigned uk_virtio_discover(uint32_t device_type, struct uk_virtio_dev **out, unsigned max)
{
	if (!found) {
		found = 1;
		nall = uk_virtio__bus_find ? uk_virtio__bus_find(all, UK_VIRTIO_MAX_DEVS) : 0;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < nall; i++)
		if (all[i]->device_type == device_type) {
			if (n < max)
				out[n] = all[i];
			n++;
		}
	return n;
}

void uk_virtio_reset(struct uk_virtio_dev *d)
{
	d->ops->status_set(d, 0);
	/* modern devices: the reset is complete when status reads back 0 */
	for (unsigned i = 0; i < 1000000 && d->ops->status_get(d) != 0; i++)
		__asm__ volatile("pause");
}

void uk_virtio_fail(struct uk_virtio_dev *d)
{
	d->ops->status_set(d, (uint8_t)(d->ops->status_get(d) | VIRTIO_STATUS_FAILED));
}

void uk_virtio_driver_ok(struct uk_virtio_dev *d)
{
	d->ops->status_set(d, (uint8_t)(d->ops->status_get(d) | VIRTIO_STATUS_DRIVER_OK));
}

static int is_modern(const struct uk_virtio_dev *d)
{
	return d->transport == UK_VIRTIO_PCI_MODERN || d->transport == UK_VIRTIO_MMIO
	       || d->transport == UK_VIRTIO_VHOST_USER;
}

int uk_virtio_negotiate(struct uk_virtio_dev *d, uint64_t wanted)
{
	uk_virtio_reset(d);
	d->ops->status_set(d, VIRTIO_STATUS_ACK);
	d->ops->status_set(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	uint64_t dev = d->ops->features_get(d);
	if (is_modern(d)) {
		if (!(dev & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
			uk_printf("ukvirtio: %s: modern transport without VIRTIO_F_VERSION_1\n", d->name);
			uk_virtio_fail(d);
			return -1;
		}
		wanted |= VIRTIO_BIT(VIRTIO_F_VERSION_1);
	} else {
		wanted &= 0xffffffffull;
	}
	d->features = dev & wanted;
	d->ops->features_set(d, d->features);
	if (is_modern(d)) {
		d->ops->status_set(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		if (!(d->ops->status_get(d) & VIRTIO_STATUS_FEATURES_OK)) {
			uk_printf("ukvirtio: %s: device refused features %#llx\n", d->name,
				  (unsigned long long)d->features);
			uk_virtio_fail(d);
			return -1;
		}
	}
	return 0;
}

void uk_virtio_config_read(struct uk_virtio_dev *d, unsigned off, void *buf, unsigned len)
{
	uint32_t g0, g1;
	unsigned tries = 0;
	do {
		g0 = d->ops->config_generation(d);
		d->ops->config_read(d, off, buf, len);
		g1 = d->ops->config_generation(d);
	} while (g0 != g1 && ++tries < 100);
}

/* ---- virtqueues ------------------------------------------------------------ */

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

struct uk_virtq *uk_virtq_create(struct uk_virtio_dev *d, uint16_t index, uint16_t num)
{
	uint16_t max = d->ops->queue_max(d, index);
	if (!max) {
		uk_printf("ukvirtio: %s: no queue %u\n", d->name, index);
		return NULL;
	}
	if (!num || num > max || d->ops->queue_legacy_size_fixed(d))
		num = max;
	while (num & (num - 1))         /* largest power of two <= num */
		num &= (uint16_t)(num - 1);
	struct uk_virtq *q = uk_calloc(1, sizeof *q);
	if (!q)
		return NULL;
	/* Legacy layout (valid for modern too): desc | avail, then used at the
	 * next 4096 boundary. */
	size_t desc_sz = 16u * num;
	size_t avail_sz = 6u + 2u * num;
	size_t used_off = align_up(desc_sz + avail_sz, 4096);
	size_t used_sz = 6u + 8u * num;
	q->mem_size = used_off + align_up(used_sz, 4096);
	q->mem = uk_memalign(4096, q->mem_size);
	q->cookie = uk_calloc(num, sizeof(void *));
	if (!q->mem || !q->cookie) {
		uk_printf("ukvirtio: %s: out of memory for queue %u (%u entries)\n", d->name, index, num);
		return NULL;
	}
	memset(q->mem, 0, q->mem_size);
	q->desc = (struct vring_desc *)q->mem;
	q->avail = (struct vring_avail *)((uint8_t *)q->mem + desc_sz);
	q->used = (struct vring_used *)((uint8_t *)q->mem + used_off);
	q->num = num;
	q->mask = (uint16_t)(num - 1);
	q->index = index;
	q->dev = d;
	q->event_idx = uk_virtio_has(d, VIRTIO_RING_F_EVENT_IDX);
	for (uint16_t i = 0; i < num; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = num;
	if (d->ops->queue_enable(d, q)) {
		uk_printf("ukvirtio: %s: cannot enable queue %u\n", d->name, index);
		return NULL;
	}
	return q;
}

int uk_virtq_add_chain(struct uk_virtq *q, const struct uk_virtq_seg *segs, unsigned n, void *cookie)
{
	if (!n || n > q->nfree)
		return -1;
	uint16_t head = q->free_head, i = head;
	for (unsigned k = 0; k < n; k++) {
		struct vring_desc *dsc = &q->desc[i];
		dsc->addr = segs[k].addr;
		dsc->len = segs[k].len;
		dsc->flags = (uint16_t)((segs[k].write ? VRING_DESC_F_WRITE : 0)
					| (k + 1 < n ? VRING_DESC_F_NEXT : 0));
		i = dsc->next;
	}
	q->free_head = i;
	q->nfree = (uint16_t)(q->nfree - n);
	q->cookie[head] = cookie;
	q->avail->ring[q->avail_idx & q->mask] = head;
	q->avail_idx++;
	return 0;
}

/* ---- interrupts ------------------------------------------------------------ */

/* Line-based interrupt (virtio-mmio GSI): acknowledge, then run every queue
 * callback (the ISR does not say which queue). */
void uk_virtio__line_irq(void *arg)
{
	struct uk_virtio_dev *d = arg;
	uint32_t isr = d->ops->isr_ack(d);
	d->irqs++;
	if (!(isr & 1))
		return;
	for (unsigned q = 0; q < UK_VIRTIO_MAX_QIRQ; q++)
		if (d->qirq_fn[q])
			d->qirq_fn[q](d->qirq_arg[q]);
}

int uk_virtio_irq_register(struct uk_virtio_dev *d, uint16_t q, void (*fn)(void *), void *arg)
{
	if (q >= UK_VIRTIO_MAX_QIRQ || !d->ops->irq_setup)
		return -1;
	d->qirq_fn[q] = fn;
	d->qirq_arg[q] = arg;
	if (d->ops->irq_setup(d, q)) {
		d->qirq_fn[q] = NULL;
		return -1;
	}
	return 0;
}

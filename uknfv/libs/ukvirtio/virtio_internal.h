/* ukvirtio internals shared by the core and the transports. */
#ifndef UKVIRTIO_INTERNAL_H
#define UKVIRTIO_INTERNAL_H
#include "uk/virtio.h"

unsigned uk_virtio_pci_find(struct uk_virtio_dev **out, unsigned max);
unsigned uk_virtio_mmio_find(struct uk_virtio_dev **out, unsigned max);
void uk_virtio__line_irq(void *arg);
/* The bus scan (virtio_bus.c, unikernel only): PCI, then virtio-mmio.  Weak
 * so that hosted builds, which have no bus, link without it. */
unsigned uk_virtio__bus_find(struct uk_virtio_dev **out, unsigned max) __attribute__((weak));

#endif

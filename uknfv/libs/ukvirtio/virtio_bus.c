/*
 * ukvirtio: the unikernel's device discovery (PCI scan, then virtio-mmio),
 * kept apart from the platform-neutral core (virtio.c) so that hosted
 * builds (vhost-user, ukvhostuser) compile the core without ukpci.
 */
#include "uk/virtio.h"
#include "virtio_internal.h"

unsigned uk_virtio__bus_find(struct uk_virtio_dev **out, unsigned max)
{
	unsigned n = uk_virtio_pci_find(out, max);
	return n + uk_virtio_mmio_find(out + n, max - n);
}

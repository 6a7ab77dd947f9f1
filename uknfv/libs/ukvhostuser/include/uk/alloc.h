/*
 * uk/alloc.h for hosted builds (ukvhostuser).  uk_malloc/uk_calloc/uk_free
 * are the C library's; uk_memalign, which the virtio core uses for ring
 * memory only, carves from a shared-memory arena (a memfd mapped
 * MAP_SHARED, registered in every vhost-user memory table), so the
 * back-end can map the rings.  Arena blocks are never freed.
 */
#ifndef UK_ALLOC_H
#define UK_ALLOC_H

#include <stddef.h>

void *uk_malloc(size_t n);
void *uk_calloc(size_t n, size_t m);
void *uk_memalign(size_t align, size_t n);
void uk_free(void *p);

#endif

/*
 * ukalloc: memory allocation over the free RAM of the memory map
 * (uk_memregions from ukplat).  Also provides malloc/calloc/realloc/free,
 * aligned_alloc/posix_memalign and strdup/strndup for the C library.
 *
 * For init-time allocations: the packet path never allocates, and
 * interrupt handlers must not (there is no locking).
 */
#ifndef UK_ALLOC_H
#define UK_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *uk_malloc(size_t n);                  /* 16-byte aligned; NULL when out of memory */
void *uk_calloc(size_t n, size_t m);        /* zeroed; NULL on overflow too */
void *uk_memalign(size_t align, size_t n);  /* align: a power of two (<= 1 GiB) */
void *uk_realloc(void *p, size_t n);
void uk_free(void *p);                      /* NULL is fine; a foreign pointer aborts */

size_t uk_mem_free(void);                   /* bytes still available (sum; not one block) */
size_t uk_mem_total(void);                  /* bytes the allocator manages */
size_t uk_mem_used(void);                   /* bytes in live blocks (headers included) */

#ifdef __cplusplus
}
#endif
#endif

/*
 * ukvhostuser, hosted platform: uk_printf and the allocator the unikernel
 * libraries expect (uk/plat.h, uk/alloc.h in include/), and the shared
 * memory (memfd regions) the vhost-user back-end maps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "uk/alloc.h"
#include "uk/plat.h"
#include "uk/vhostuser.h"

#ifndef UKVHOSTUSER_ARENA_MB
#define UKVHOSTUSER_ARENA_MB 8      /* ring memory: about 70 queues of 4096 entries */
#endif
#define MAX_REGIONS 8

int uk_hosted_quiet;
char uk_hosted_msg[256];

int uk_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	size_t len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = 0;
	if (!uk_hosted_quiet)
		fprintf(stderr, "%s\n", buf);
	else if (!uk_hosted_msg[0])     /* the first diagnostic says why; later ones say "skipped" */
		snprintf(uk_hosted_msg, sizeof uk_hosted_msg, "%s", buf);
	return n;
}

void uk_puts(const char *s)
{
	uk_printf("%s", s);
}

/* ---- shared memory --------------------------------------------------------- */

static struct uk_shm_region regions[MAX_REGIONS];
static unsigned nregions;

void *uk_shm_alloc(size_t size, const char *name)
{
	if (nregions >= MAX_REGIONS)
		return NULL;
	long pg = sysconf(_SC_PAGESIZE);
	size = (size + (size_t)pg - 1) & ~((size_t)pg - 1);
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return NULL;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	regions[nregions++] = (struct uk_shm_region){ p, size, fd };
	return p;
}

unsigned uk_shm_regions(const struct uk_shm_region **out)
{
	*out = regions;
	return nregions;
}

/* pktpool's hook (weak there): the pool's buffers in shared memory. */
void *pkt_pool_shared_alloc(size_t size)
{
	return uk_shm_alloc(size, "uknfv-pktpool");
}

/* ---- allocator ----------------------------------------------------------------- */

static uint8_t *arena, *arena_end, *arena_next;

void *uk_malloc(size_t n) { return malloc(n); }
void *uk_calloc(size_t n, size_t m) { return calloc(n, m); }

void *uk_memalign(size_t align, size_t n)
{
	if (!arena) {
		size_t size = (size_t)UKVHOSTUSER_ARENA_MB << 20;
		arena = uk_shm_alloc(size, "uknfv-rings");
		if (!arena)
			return NULL;
		arena_next = arena;
		arena_end = arena + size;
	}
	if (align < 16)
		align = 16;
	uintptr_t p = ((uintptr_t)arena_next + align - 1) & ~(uintptr_t)(align - 1);
	if (p + n > (uintptr_t)arena_end || p + n < p) {
		errno = ENOMEM;
		return NULL;
	}
	arena_next = (uint8_t *)(p + n);
	return (void *)p;
}

void uk_free(void *p)
{
	if ((uint8_t *)p >= arena && (uint8_t *)p < arena_end)
		return;             /* arena blocks live as long as the process */
	free(p);
}

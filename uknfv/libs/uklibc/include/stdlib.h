/*
 * uklibc: <stdlib.h> for the freestanding unikernel.
 * malloc & co are implemented by ukalloc, abort/exit by ukplat.
 */
#ifndef UKLIBC_STDLIB_H
#define UKLIBC_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 0x7fffffff

long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long long strtoll(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);
int atoi(const char *s);
long atol(const char *s);
long long atoll(const char *s);

static inline int abs(int v) { return v < 0 ? -v : v; }
static inline long labs(long v) { return v < 0 ? -v : v; }
static inline long long llabs(long long v) { return v < 0 ? -v : v; }

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void *bsearch(const void *key, const void *base, size_t n, size_t size,
	      int (*cmp)(const void *, const void *));

int rand(void);                      /* xorshift; deterministic unless srand() */
void srand(unsigned seed);

/* ukalloc */
void *malloc(size_t n) __attribute__((malloc));
void *calloc(size_t n, size_t m) __attribute__((malloc));
void *realloc(void *p, size_t n);
void *aligned_alloc(size_t align, size_t n) __attribute__((malloc));
int posix_memalign(void **out, size_t align, size_t n);
void free(void *p);

/* ukplat */
void abort(void) __attribute__((noreturn));
void exit(int code) __attribute__((noreturn));
char *getenv(const char *name);      /* always NULL: there is no environment */

#ifdef __cplusplus
}
#endif
#endif

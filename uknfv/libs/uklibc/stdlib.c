/* uklibc: number parsing, sorting, rand, errno. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int errno;

/* Parse an unsigned magnitude; *neg gets the sign; *ovf is set on overflow. */
static unsigned long long parse(const char *s, char **end, int base, int *neg, int *ovf)
{
	const char *p = s;
	unsigned long long v = 0;
	int any = 0;
	*neg = 0;
	*ovf = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' && isxdigit((unsigned char)p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	if (base < 2 || base > 36) {
		errno = EINVAL;
		if (end)
			*end = (char *)s;
		return 0;
	}
	for (;; p++) {
		unsigned d;
		int c = (unsigned char)*p;
		if (isdigit(c))
			d = (unsigned)(c - '0');
		else if (isalpha(c))
			d = (unsigned)((c | 32) - 'a' + 10);
		else
			break;
		if (d >= (unsigned)base)
			break;
		any = 1;
		if (v > (ULLONG_MAX - d) / (unsigned)base)
			*ovf = 1;
		else
			v = v * (unsigned)base + d;
	}
	if (end)
		*end = (char *)(any ? p : s);
	return v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
	int neg, ovf;
	unsigned long long v = parse(s, end, base, &neg, &ovf);
	if (ovf) {
		errno = ERANGE;
		return ULLONG_MAX;
	}
	return neg ? 0ull - v : v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	return strtoull(s, end, base);
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
	int neg, ovf;
	unsigned long long v = parse(s, end, base, &neg, &ovf);
	if (!neg && (ovf || v > (unsigned long long)LLONG_MAX)) {
		errno = ERANGE;
		return LLONG_MAX;
	}
	if (neg && (ovf || v > (unsigned long long)LLONG_MAX + 1)) {
		errno = ERANGE;
		return LLONG_MIN;
	}
	return neg ? (long long)(0ull - v) : (long long)v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
	return strtoll(s, end, base);
}

intmax_t strtoimax(const char *restrict s, char **restrict end, int base)
{
	return strtoll(s, end, base);
}

uintmax_t strtoumax(const char *restrict s, char **restrict end, int base)
{
	return strtoull(s, end, base);
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

long atol(const char *s)
{
	return strtol(s, NULL, 10);
}

long long atoll(const char *s)
{
	return strtoll(s, NULL, 10);
}

static void swap(char *a, char *b, size_t n)
{
	while (n--) {
		char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

/* Heapsort: O(n log n), no recursion, no allocation. */
static void sift(char *base, size_t root, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap(base + root * size, base + child * size, size);
		root = child;
	}
}

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	if (n < 2 || !size)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap(b, b + end * size, size);
		sift(b, 0, end, size, cmp);
	}
}

void *bsearch(const void *key, const void *base, size_t n, size_t size,
	      int (*cmp)(const void *, const void *))
{
	const char *b = base;
	while (n) {
		const char *mid = b + (n / 2) * size;
		int c = cmp(key, mid);
		if (c == 0)
			return (void *)mid;
		if (c > 0) {
			b = mid + size;
			n -= n / 2 + 1;
		} else {
			n /= 2;
		}
	}
	return NULL;
}

static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

void srand(unsigned seed)
{
	rand_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

int rand(void)
{
	uint64_t x = rand_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rand_state = x;
	return (int)(x >> 33);
}

char *getenv(const char *name)
{
	(void)name;
	return NULL;
}

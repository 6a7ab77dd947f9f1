/* Target-independent parts of the runtime: handler table access, stop logic. */
#include <stdio.h>
#include <string.h>
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"

volatile int rt_stopping;
static unsigned sources_done;
unsigned rt_extra_stop_sources;  /* e.g. pcap-bound RX ports, set by the target */

void rt_source_done(void)
{
	if (++sources_done >= uknfv_nstop_sources + rt_extra_stop_sources)
		rt_stopping = 1;
}

int rt_fmt_u64(char *buf, size_t n, uint64_t v)
{
	return snprintf(buf, n, "%llu", (unsigned long long)v);
}

void rt_print_handlers(void (*out)(const char *line))
{
	static char val[1 << 16], line[(1 << 16) + 256];
	for (unsigned i = 0; i < uknfv_nhandlers; i++) {
		const struct rt_handler *h = &uknfv_handlers[i];
		if (!h->read)
			continue;
		val[0] = 0;
		h->read(val, sizeof val);
		/* Multi-line values (tables) start on their own line. */
		snprintf(line, sizeof line, "%s.%s:%s%s", h->element, h->name,
			 strchr(val, '\n') ? "\n" : " ", val);
		out(line);
	}
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int rt_parse_bool(const char *v, int *out)
{
	static const char *const t[] = {"true", "yes", "1"}, *const f[] = {"false", "no", "0"};
	while (is_blank(*v))
		v++;
	size_t n = strlen(v);
	while (n && is_blank(v[n - 1]))
		n--;
	for (int i = 0; i < 3; i++) {
		if (strlen(t[i]) == n && !strncmp(v, t[i], n)) {
			*out = 1;
			return 0;
		}
		if (strlen(f[i]) == n && !strncmp(v, f[i], n)) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int rt_parse_i64(const char *v, int64_t *out)
{
	int neg = 0, digits = 0;
	uint64_t x = 0;
	while (is_blank(*v))
		v++;
	if (*v == '-' || *v == '+')
		neg = *v++ == '-';
	for (; *v >= '0' && *v <= '9'; v++, digits++) {
		if (x > (UINT64_C(1) << 62))
			return -1;
		x = x * 10 + (uint64_t)(*v - '0');
	}
	while (is_blank(*v))
		v++;
	if (!digits || *v)
		return -1;
	*out = neg ? -(int64_t)x : (int64_t)x;
	return 0;
}

const struct rt_handler *rt_find_handler(const char *spec)
{
	const char *dot = strrchr(spec, '.');
	if (!dot)
		return NULL;
	size_t elen = (size_t)(dot - spec);
	for (unsigned i = 0; i < uknfv_nhandlers; i++) {
		const struct rt_handler *h = &uknfv_handlers[i];
		if (strlen(h->element) == elen && !strncmp(h->element, spec, elen)
		    && !strcmp(h->name, dot + 1))
			return h;
	}
	return NULL;
}

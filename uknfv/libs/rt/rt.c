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

#include <stdio.h>
#include <string.h>
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"
#include "uknfv/rtproc.h"

void rt_print_line(const char *line)
{
	printf("%s\n", line);
}

int rt_bind_port(const char *spec, const char **bindings)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec) {
		fprintf(stderr, "error: --port expects NAME=SPEC, got '%s'\n", spec);
		return -1;
	}
	size_t nlen = (size_t)(eq - spec);
	for (unsigned i = 0; i < uknfv_nports; i++)
		if (strlen(uknfv_ports[i].name) == nlen && !strncmp(uknfv_ports[i].name, spec, nlen)) {
			bindings[i] = eq + 1;
			return 0;
		}
	fprintf(stderr, "error: --port %.*s: the pipeline has no port '%.*s'", (int)nlen, spec, (int)nlen, spec);
	if (uknfv_nports) {
		fprintf(stderr, " (its ports:");
		for (unsigned i = 0; i < uknfv_nports; i++)
			fprintf(stderr, " %s", uknfv_ports[i].name);
		fprintf(stderr, ")");
	}
	fprintf(stderr, "\n");
	return -1;
}

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"
#include "uknfv/rtproc.h"

/* The runtime's clock and log (uknfv/rt.h) for a hosted process. */
uint64_t rt_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

uint64_t rt_mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void rt_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	(void)sig;
	rt_stopping = 1;
}

void rt_handle_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int rt_common_arg(int argc, char **argv, int *i, struct rt_common_opts *o)
{
	const char *a = argv[*i];
	if (!strcmp(a, "--port") && *i + 1 < argc)
		return rt_bind_port(argv[++*i], o->bindings) ? -1 : 1;
	if (!strncmp(a, "--port=", 7))
		return rt_bind_port(a + 7, o->bindings) ? -1 : 1;
	if (!strcmp(a, "--stats")) {
		o->stats = 1;
		return 1;
	}
	if (!strcmp(a, "--control")) {
		if (*i + 1 >= argc || !argv[*i + 1][0]) {
			fprintf(stderr, "error: --control expects the path of a UNIX socket\n");
			return -1;
		}
		o->control = argv[++*i];
		return 1;
	}
	if (!strncmp(a, "--control=", 10)) {
		o->control = a + 10;
		return 1;
	}
	if (!strcmp(a, "--ports")) {
		for (unsigned p = 0; p < uknfv_nports; p++)
			printf("%s %s%s\n", uknfv_ports[p].name, uknfv_ports[p].dir & RT_PORT_RX ? "rx" : "",
			       uknfv_ports[p].dir & RT_PORT_TX ? "tx" : "");
		o->exit_now = 1;
		return 1;
	}
	return 0;
}

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

/*
 * The control channel on the second serial port: a subset of Click's
 * ControlSocket text protocol, so `uknfv handlers/read/write` (and any
 * ControlSocket client) talk to the unikernel as to a Click process.
 *
 *   READ element.handler        -> 200 OK, DATA n, n bytes
 *   WRITE element.handler value -> 200 OK (WRITE stop ends the run)
 *   LIST                        -> 200 OK, DATA n, "element.handler\n"...
 *   QUIT                        -> 200 Goodbye!
 * Errors: 500 syntax, 511 no such handler, 520 handler error.
 */
#include <stdio.h>
#include <string.h>
#include "uk/console.h"
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"
#include "ukmain.h"

static char line[512];
static size_t len;

static void say(const char *s)
{
	uk_ctl_write(s, strlen(s));
}

static void data(const char *buf, size_t n)
{
	char hdr[64];
	snprintf(hdr, sizeof hdr, "200 OK\r\nDATA %zu\r\n", n);
	say(hdr);
	uk_ctl_write(buf, n);
}

static void command(char *cmd)
{
	static char out[4096];
	char *arg = cmd;
	while (*arg && *arg != ' ')
		arg++;
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ')
		arg++;
	if (!strcmp(cmd, "READ")) {
		const struct rt_handler *h = rt_find_handler(arg);
		if (!h || !h->read) {
			say("511 No such handler\r\n");
			return;
		}
		out[0] = 0;
		h->read(out, sizeof out);
		data(out, strlen(out));
	} else if (!strcmp(cmd, "WRITE")) {
		char *val = arg;
		while (*val && *val != ' ')
			val++;
		if (*val)
			*val++ = 0;
		if (!strcmp(arg, "stop")) {
			rt_stopping = 1;
			say("200 OK\r\n");
			return;
		}
		const struct rt_handler *h = rt_find_handler(arg);
		if (!h || !h->write) {
			say("511 No such handler\r\n");
			return;
		}
		say(h->write(val) == 0 ? "200 OK\r\n" : "520 Handler error\r\n");
	} else if (!strcmp(cmd, "LIST")) {
		size_t o = 0;
		for (unsigned i = 0; i < uknfv_nhandlers && o < sizeof out; i++) {
			int k = snprintf(out + o, sizeof out - o, "%s.%s\n", uknfv_handlers[i].element,
					 uknfv_handlers[i].name);
			if (k > 0)
				o += (size_t)k;
		}
		if (o > sizeof out - 1)
			o = sizeof out - 1;
		data(out, o);
	} else if (!strcmp(cmd, "QUIT")) {
		say("200 Goodbye!\r\n");
	} else if (cmd[0]) {
		say("500 Syntax error\r\n");
	}
}

void ukmain_control_poll(void)
{
	int c;
	while ((c = uk_ctl_getc()) >= 0) {
		if (c == '\n' || c == '\r') {
			line[len] = 0;
			if (len)
				command(line);
			len = 0;
		} else if (len + 1 < sizeof line) {
			line[len++] = (char)c;
		}
	}
}

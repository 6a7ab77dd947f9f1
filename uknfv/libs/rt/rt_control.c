/*
 * The control protocol: a subset of Click's ControlSocket text protocol,
 * shared by every transport (the unikernel's serial control port, the
 * processes' UNIX socket in rtproc).  Freestanding: snprintf and string.h.
 *
 *   READ element.handler        -> 200 OK, DATA n, n bytes
 *   WRITE element.handler value -> 200 OK (WRITE stop ends the run)
 *   LIST                        -> 200 OK, DATA n, "element.handler\n"...
 *   CHECKREAD / CHECKWRITE h    -> 200 OK if h is readable / writable
 *   QUIT                        -> 200 Goodbye!
 * GET and SET are synonyms of READ and WRITE; command words are
 * case-insensitive.  Errors: 500 syntax (or a line too long), 511 no such
 * handler, 520 handler error.
 */
#include <stdio.h>
#include <string.h>
#include "uknfv/pktpool.h"
#include "uknfv/rt.h"

static void say(rt_control_reply_fn reply, void *ctx, const char *s)
{
	reply(ctx, s, strlen(s));
}

static void data(rt_control_reply_fn reply, void *ctx, const char *buf, size_t n)
{
	char hdr[48];
	snprintf(hdr, sizeof hdr, "200 OK\r\nDATA %llu\r\n", (unsigned long long)n);
	say(reply, ctx, hdr);
	if (n)
		reply(ctx, buf, n);
}

/* "511 No such handler 'NAME'" with NAME cut to a sane length. */
static void no_handler(rt_control_reply_fn reply, void *ctx, const char *name, const char *how)
{
	char msg[200];
	snprintf(msg, sizeof msg, "511 No %shandler '%.120s'\r\n", how, name);
	say(reply, ctx, msg);
}

static char *word(char **s)
{
	char *w = *s, *e;
	while (*w == ' ' || *w == '\t')
		w++;
	e = w;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (*e)
		*e++ = 0;
	*s = e;
	return w;
}

static int is_cmd(const char *cmd, const char *a, const char *b)
{
	return !strcasecmp(cmd, a) || (b && !strcasecmp(cmd, b));
}

int rt_control_line(char *line, rt_control_reply_fn reply, void *ctx)
{
	static char out[1 << 16];
	char *rest = line;
	const char *cmd = word(&rest);
	if (!cmd[0])
		return 0;                       /* blank line: no answer */
	if (is_cmd(cmd, "READ", "GET")) {
		const char *name = word(&rest);
		const struct rt_handler *h = rt_find_handler(name);
		if (!name[0] || word(&rest)[0]) {
			say(reply, ctx, "500 Syntax error: expected READ element.handler\r\n");
			return 0;
		}
		if (!h || !h->read) {
			no_handler(reply, ctx, name, h ? "read " : "");
			return 0;
		}
		out[0] = 0;
		if (h->read(out, sizeof out) < 0) {
			say(reply, ctx, "520 Handler error\r\n");
			return 0;
		}
		out[sizeof out - 1] = 0;
		data(reply, ctx, out, strlen(out));
	} else if (is_cmd(cmd, "WRITE", "SET")) {
		const char *name = word(&rest);
		char *val = rest, *end;
		while (*val == ' ' || *val == '\t')
			val++;
		end = val + strlen(val);
		while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = 0;
		if (!name[0]) {
			say(reply, ctx, "500 Syntax error: expected WRITE element.handler [value]\r\n");
			return 0;
		}
		if (!strcmp(name, "stop")) {
			rt_stopping = 1;
			say(reply, ctx, "200 OK\r\n");
			return 0;
		}
		const struct rt_handler *h = rt_find_handler(name);
		if (!h || !h->write) {
			no_handler(reply, ctx, name, h ? "write " : "");
			return 0;
		}
		say(reply, ctx, h->write(val) == 0 ? "200 OK\r\n" : "520 Handler error\r\n");
	} else if (is_cmd(cmd, "CHECKREAD", NULL) || is_cmd(cmd, "CHECKWRITE", NULL)) {
		int wr = is_cmd(cmd, "CHECKWRITE", NULL);
		const char *name = word(&rest);
		const struct rt_handler *h = rt_find_handler(name);
		if ((wr && !strcmp(name, "stop")) || (h && (wr ? h->write != NULL : h->read != NULL)))
			say(reply, ctx, "200 OK\r\n");
		else
			no_handler(reply, ctx, name, h ? (wr ? "write " : "read ") : "");
	} else if (is_cmd(cmd, "LIST", NULL)) {
		size_t n = 0;
		char hdr[48];
		for (unsigned i = 0; i < uknfv_nhandlers; i++)
			n += strlen(uknfv_handlers[i].element) + strlen(uknfv_handlers[i].name) + 2;
		snprintf(hdr, sizeof hdr, "200 OK\r\nDATA %llu\r\n", (unsigned long long)n);
		say(reply, ctx, hdr);
		for (unsigned i = 0; i < uknfv_nhandlers; i++) {
			say(reply, ctx, uknfv_handlers[i].element);
			reply(ctx, ".", 1);
			say(reply, ctx, uknfv_handlers[i].name);
			reply(ctx, "\n", 1);
		}
	} else if (is_cmd(cmd, "QUIT", NULL)) {
		say(reply, ctx, "200 Goodbye!\r\n");
		return 1;
	} else {
		char msg[120];
		snprintf(msg, sizeof msg, "500 Syntax error: unknown command '%.40s'\r\n", cmd);
		say(reply, ctx, msg);
	}
	return 0;
}

int rt_control_byte(struct rt_control_in *in, int c, rt_control_reply_fn reply, void *ctx)
{
	if (c != '\n' && c != '\r') {
		if (in->len + 1 < sizeof in->line)
			in->line[in->len++] = (char)c;
		else
			in->overlong = 1;
		return RT_CONTROL_MORE;
	}
	size_t n = in->len;
	int over = in->overlong;
	in->len = 0;
	in->overlong = 0;
	if (over) {
		say(reply, ctx, "500 Syntax error: line too long\r\n");
		return RT_CONTROL_ANSWERED;
	}
	if (!n)
		return RT_CONTROL_MORE;
	in->line[n] = 0;
	return rt_control_line(in->line, reply, ctx) ? RT_CONTROL_QUIT : RT_CONTROL_ANSWERED;
}

/*
 * rt: the contract between a generated pipeline and the target that runs it.
 *
 * The generated pipeline.c defines the uknfv_* symbols below: its logical
 * ports, its handler table, and four entry points.  The target (a Linux
 * process, a DPDK process, the unikernel) provides the rt_* functions:
 * time, the end-of-run signal, and burst I/O on logical ports.
 *
 * Run loop, as every target drives it:
 *     uknfv_init();
 *     while (!rt_stopping) { w = uknfv_poll(); rt_ports_flush(); if (!w) idle; }
 *     uknfv_drain(); rt_ports_flush(); uknfv_finish();
 */
#ifndef UKNFV_RT_H
#define UKNFV_RT_H

#include <stddef.h>
#include <stdint.h>
#include "uknfv/pkt.h"

#ifdef CONFIG_RT_BURST
#define RT_BURST CONFIG_RT_BURST
#else
#define RT_BURST 32
#endif

struct rt_handler {
	const char *element;
	const char *name;
	int (*read)(char *buf, size_t n);    /* writes a NUL-terminated value; NULL if write-only */
	int (*write)(const char *value);     /* 0 on success; NULL if read-only */
	const char *doc;
};

enum { RT_PORT_RX = 1, RT_PORT_TX = 2 };

struct rt_port_decl {
	const char *name;       /* the logical name in FromDevice(NAME)/ToDevice(NAME) */
	int dir;                /* RT_PORT_RX | RT_PORT_TX */
};

/* ---- defined by the generated pipeline -------------------------------- */
extern const char uknfv_pipeline_name[];
extern const struct rt_handler uknfv_handlers[];
extern const unsigned uknfv_nhandlers;
extern const struct rt_port_decl uknfv_ports[];
extern const unsigned uknfv_nports;
extern const unsigned uknfv_nstop_sources;
extern const unsigned uknfv_ntimed_tasks;   /* tasks that need polling without input */
int uknfv_init(void);           /* 0 = ok; else an element printed why */
unsigned uknfv_poll(void);      /* run every task once; returns packets handled */
unsigned uknfv_drain(void);     /* run pull drivers only (queues empty out at stop) */
void uknfv_finish(void);        /* flush and close element resources */

/* ---- provided by the runtime ------------------------------------------ */
extern volatile int rt_stopping;
/* A source with STOP true has finished; the run ends when all have. */
void rt_source_done(void);
uint64_t rt_now_ns(void);       /* wall clock, ns since the epoch */
uint64_t rt_mono_ns(void);      /* monotonic clock, ns */
void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_fmt_u64(char *buf, size_t n, uint64_t v);
/* Print every readable handler as "element.handler: value" lines. */
void rt_print_handlers(void (*out)(const char *line));
/* Parse write-handler values the Click way: booleans true/false/yes/no/1/0,
 * decimal integers with a sign; surrounding blanks allowed.  0 on success,
 * -1 (and *out unchanged) otherwise. */
int rt_parse_bool(const char *v, int *out);
int rt_parse_i64(const char *v, int64_t *out);
/* Find a handler by "element.handler"; NULL if none. */
const struct rt_handler *rt_find_handler(const char *spec);

/* The control protocol (rt_control.c): Click's ControlSocket text protocol,
 * the same on every transport (serial port, UNIX socket).
 *   READ e.h -> "200 OK\r\nDATA n\r\n" + n bytes;  WRITE e.h [value] -> "200 OK\r\n"
 *   (WRITE stop ends the run);  LIST -> DATA of "e.h\n" lines;  CHECKREAD/CHECKWRITE e.h;
 *   QUIT -> "200 Goodbye!\r\n".  Errors: 500 syntax or line too long,
 *   511 no such handler, 520 the handler failed.
 * A connection-oriented transport greets each client with RT_CONTROL_GREETING. */
#define RT_CONTROL_GREETING "Click::ControlSocket/1.3\r\n"
#ifndef RT_CONTROL_LINE_MAX
#define RT_CONTROL_LINE_MAX 4096        /* longer command lines get "500 ... too long" */
#endif
typedef void (*rt_control_reply_fn)(void *ctx, const char *buf, size_t n);
/* Answer one command line (no line terminator; modified in place) through
 * reply(ctx, ...), in pieces.  Blank lines get no answer.  Returns 1 after
 * QUIT (the transport should close the connection), else 0. */
int rt_control_line(char *line, rt_control_reply_fn reply, void *ctx);
/* Line assembly for a byte-stream transport: zero-initialise one per client. */
struct rt_control_in {
	size_t len;
	int overlong;
	char line[RT_CONTROL_LINE_MAX];
};
enum { RT_CONTROL_MORE = 0, RT_CONTROL_ANSWERED = 1, RT_CONTROL_QUIT = 2 };
/* Feed one received byte; CR or LF ends a line, which is then answered.
 * Returns RT_CONTROL_MORE (nothing answered), _ANSWERED or _QUIT. */
int rt_control_byte(struct rt_control_in *in, int c, rt_control_reply_fn reply, void *ctx);

/* Burst I/O on logical ports (indices into uknfv_ports). */
unsigned rt_port_rx(unsigned port, struct pkt **pkts, unsigned n);
struct rt_txq {
	unsigned n;
	struct pkt *pkts[RT_BURST];
};
extern struct rt_txq *rt_txqs;
void rt_port_flush(unsigned port);
void rt_ports_flush(void);
static inline void rt_port_tx(unsigned port, struct pkt *p)
{
	struct rt_txq *q = &rt_txqs[port];
	q->pkts[q->n++] = p;
	if (q->n == RT_BURST)
		rt_port_flush(port);
}

#endif

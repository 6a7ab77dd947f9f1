/* Logical port binding and the pcap backend of the Linux target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uknfv/linuxio.h"
#include "uknfv/pcap.h"
#include "uknfv/pktpool.h"

struct rt_port *rt_ports;
struct rt_txq *rt_txqs;
extern unsigned rt_extra_stop_sources;

unsigned rt_port_rx(unsigned port, struct pkt **pkts, unsigned n)
{
	struct rt_port *p = &rt_ports[port];
	if (p->eof)
		return 0;
	unsigned got = p->be->rx(p, pkts, n);
	p->rx_pkts += got;
	for (unsigned i = 0; i < got; i++)
		p->rx_bytes += pkts[i]->len;
	return got;
}

void rt_port_flush(unsigned port)
{
	struct rt_txq *q = &rt_txqs[port];
	if (!q->n)
		return;
	struct rt_port *p = &rt_ports[port];
	p->tx_pkts += q->n;
	for (unsigned i = 0; i < q->n; i++)
		p->tx_bytes += q->pkts[i]->len;
	p->be->tx(p, q->pkts, q->n);
	q->n = 0;
}

void rt_ports_flush(void)
{
	for (unsigned i = 0; i < uknfv_nports; i++)
		if (rt_txqs[i].n)
			rt_port_flush(i);
}

/* ---- pcap backend ------------------------------------------------------ */
struct pcap_port {
	struct pcap_reader r;
	struct pcap_writer w;
	int have_r, have_w;
};

static int pcap_open(struct rt_port *port, const char *arg, char *err, size_t errlen)
{
	struct pcap_port *s = calloc(1, sizeof *s);
	char in[512] = "", out[512] = "";
	port->state = s;
	if (!strncmp(arg, "in=", 3) || !strncmp(arg, "out=", 4)) {
		char *copy = strdup(arg), *save = NULL;
		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!strncmp(tok, "in=", 3))
				snprintf(in, sizeof in, "%s", tok + 3);
			else if (!strncmp(tok, "out=", 4))
				snprintf(out, sizeof out, "%s", tok + 4);
			else {
				snprintf(err, errlen, "pcap port: unknown option '%s' (expected in=FILE,out=FILE)", tok);
				free(copy);
				return -1;
			}
		}
		free(copy);
	} else if ((port->dir & RT_PORT_RX) && (port->dir & RT_PORT_TX)) {
		snprintf(err, errlen, "port '%s' is used for input and output: bind it with pcap:in=FILE,out=FILE", port->name);
		return -1;
	} else if (port->dir & RT_PORT_RX) {
		snprintf(in, sizeof in, "%s", arg);
	} else {
		snprintf(out, sizeof out, "%s", arg);
	}
	if (port->dir & RT_PORT_RX) {
		if (!in[0]) {
			snprintf(err, errlen, "port '%s' receives: give pcap:in=FILE", port->name);
			return -1;
		}
		if (pcap_reader_open(&s->r, in, err, errlen))
			return -1;
		s->have_r = 1;
		port->finite = 1;
	}
	if (port->dir & RT_PORT_TX) {
		if (!out[0]) {
			snprintf(err, errlen, "port '%s' transmits: give pcap:out=FILE", port->name);
			return -1;
		}
		uint32_t lt = s->have_r ? s->r.linktype : PCAP_LINK_ETHER;
		if (pcap_writer_open(&s->w, out, lt, 65535, err, errlen))
			return -1;
		s->have_w = 1;
	}
	return 0;
}

static unsigned pcap_rx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct pcap_port *s = port->state;
	unsigned got = 0;
	while (got < n) {
		struct pkt *p = pkt_alloc();
		if (!p)
			break;
		if (!pcap_reader_next(&s->r, p)) {
			pkt_kill(p);
			port->eof = 1;
			rt_source_done();
			break;
		}
		if (s->r.linktype == PCAP_LINK_ETHER)
			p->mac = p->data;
		pkts[got++] = p;
	}
	return got;
}

static void pcap_tx(struct rt_port *port, struct pkt **pkts, unsigned n)
{
	struct pcap_port *s = port->state;
	for (unsigned i = 0; i < n; i++) {
		pcap_writer_write(&s->w, pkts[i]->data, pkts[i]->len, pkts[i]->ts_ns);
		pkt_kill(pkts[i]);
	}
}

static void pcap_close(struct rt_port *port)
{
	struct pcap_port *s = port->state;
	if (!s)
		return;
	if (s->have_r)
		pcap_reader_close(&s->r);
	if (s->have_w)
		pcap_writer_close(&s->w);
	free(s);
	port->state = NULL;
}

static int pcap_pollfd(struct rt_port *port)
{
	(void)port;
	return -1;
}

const struct rt_port_backend rt_pcap_backend = {
	.scheme = "pcap", .usage = "pcap:FILE | pcap:in=FILE,out=FILE",
	.open = pcap_open, .rx = pcap_rx, .tx = pcap_tx, .pollfd = pcap_pollfd, .close = pcap_close,
};

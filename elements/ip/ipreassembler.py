from uknfv.argtypes import Seconds, UInt
from uknfv.element import Arg, Element, Handler

NS = 1_000_000_000


class IPReassembler(Element):
    name = "IPReassembler"
    ports = "1/1"
    processing = "h/h"
    args = (
        Arg("MAX_MEMORY", UInt(1 << 30), positional=True, default=262144,
            doc="bytes of fragments held at most (IP lengths); beyond it the oldest "
                "incomplete datagrams are dropped"),
        Arg("TIMEOUT", Seconds(), default=30 * NS,
            doc="an incomplete datagram is dropped when its first fragment is this old "
                "(default 30 s)"),
        Arg("SLOTS", UInt(65536), default=256,
            doc="datagrams being reassembled at once (fixed at build time)"),
    )
    handlers = (
        Handler("reassembled", "{{E}}_s.done", doc="datagrams reassembled and sent"),
        Handler("fragments", "{{E}}_s.frags", doc="fragments received"),
        Handler("memory", "{{E}}_s.mem", doc="bytes of fragments held now"),
        Handler("pending", "{{E}}_s.pending", doc="incomplete datagrams held now"),
        Handler("timeouts", "{{E}}_s.timeouts", doc="incomplete datagrams dropped by TIMEOUT"),
        Handler("drops", "{{E}}_s.drops",
                doc="fragments dropped: timeout, memory or slots exhausted, malformed, "
                    "reassembled datagram larger than a packet buffer"),
    )
    doc = """
    Reassembles IP fragments into datagrams.

    IPReassembler([MAX_MEMORY, KEYWORDS]).  Packets need the network header
    annotation.  A packet that is not a fragment (MF clear and offset 0)
    passes unchanged.  Fragments are held, keyed by source, destination,
    protocol and IP id, until every byte from offset 0 to the end given by
    the last fragment (MF clear) has arrived (fragments may come in any
    order; overlaps are accepted, later bytes win); then the datagram
    leaves on output 0: the first fragment's bytes before the IP header and
    its header with options, MF and offset cleared (DF kept), the total
    length and header checksum recomputed, then the data.  It is built in
    the first fragment's buffer (annotations and timestamp are the first
    fragment's), so a datagram larger than a packet buffer is dropped.

    Memory is bounded: at most SLOTS datagrams (default 256) and MAX_MEMORY
    bytes of fragments (default 256 KiB) are held; a fragment that would
    exceed either makes room by dropping the oldest incomplete datagrams.
    An incomplete datagram whose first fragment arrived more than TIMEOUT
    ago (default 30 s; time is the packet's timestamp annotation when set,
    else the wall clock) is dropped when the next fragment arrives.  All
    drops are counted in `drops` (per fragment).  Difference from Click:
    no ICMP time-exceeded (reassembly) is sent for timed-out datagrams.
    """
    c = r"""
#define {{E}}_NS {{ a.SLOTS or 1 }}u
struct {{E}}_slot {
	uint32_t s, d;
	uint16_t id;
	uint8_t proto, used;
	uint64_t t0, seq;
	uint32_t mem, total;    /* total: data length once the last fragment came, else 0 */
	struct pkt *frags;      /* sorted by offset */
};
static struct {
	struct {{E}}_slot sl[{{E}}_NS];
	uint64_t done, frags, mem, pending, timeouts, drops, now, seq;
} {{E}}_s;

static inline uint32_t {{E}}_off(const struct pkt *p) { return (rd16(p->nh + 6) & 0x1FFFu) * 8u; }
static inline uint32_t {{E}}_dlen(const struct pkt *p) { return rd16(p->nh + 2) - (uint32_t)(p->nh[0] & 15) * 4; }

static void {{E}}_free(struct {{E}}_slot *s, int count)
{
	struct pkt *p = s->frags;
	while (p) {
		struct pkt *n = p->next;
		if (count)
			{{E}}_s.drops++;
		pkt_kill(p);
		p = n;
	}
	{{E}}_s.mem -= s->mem;
	{{E}}_s.pending--;
	s->used = 0;
	s->frags = NULL;
}

static struct {{E}}_slot *{{E}}_oldest(void)
{
	struct {{E}}_slot *o = NULL;
	for (uint32_t i = 0; i < {{E}}_NS; i++)
		if ({{E}}_s.sl[i].used && (!o || {{E}}_s.sl[i].seq < o->seq))
			o = &{{E}}_s.sl[i];
	return o;
}

/* The datagram is complete: build it in the first fragment. */
static struct pkt *{{E}}_build(struct {{E}}_slot *s)
{
	struct pkt *f = s->frags, *p;
	uint32_t hl = (uint32_t)(f->nh[0] & 15) * 4;
	uint32_t have = (uint32_t)(f->nh - f->data) + hl + {{E}}_dlen(f);
	if (have > f->len)
		return NULL;
	pkt_take(f, f->len - have);
	if (!pkt_put(f, s->total - {{E}}_dlen(f)))
		return NULL;
	uint8_t *data = f->nh + hl;
	for (p = f->next; p; p = p->next) {
		uint32_t o = {{E}}_off(p), n = {{E}}_dlen(p), phl = (uint32_t)(p->nh[0] & 15) * 4;
		if (o + n > s->total)
			n = s->total - o;
		memcpy(data + o, p->nh + phl, n);
	}
	uint8_t *ip = f->nh;
	wr16(ip + 2, (uint16_t)(hl + s->total));
	wr16(ip + 6, rd16(ip + 6) & 0x4000);
	wr16(ip + 10, 0);
	wr16(ip + 10, in_cksum(ip, hl));
	f->th = ip + hl;
	return f;
}

static inline void {{E}}_push0(struct pkt *p)
{
	uint8_t *ip = p->nh, *end = p->data + p->len;
	if (!ip || ip < p->data || ip + 20 > end) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return;
	}
	uint16_t fo = rd16(ip + 6);
	if (!(fo & 0x3FFF)) {
		{{ out[0] }}(p);
		return;
	}
	uint64_t now = p->ts_ns ? p->ts_ns : rt_now_ns();
	if (now > {{E}}_s.now)
		{{E}}_s.now = now;
	{{E}}_s.frags++;
	uint32_t hl = (uint32_t)(ip[0] & 15) * 4, len = rd16(ip + 2);
	uint32_t off = (fo & 0x1FFFu) * 8u, dl = len - hl;
	if (hl < 20 || len < hl || ip + len > end || ((fo & 0x2000) && (dl & 7 || !dl))
	    || off + dl > 65535) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return;
	}
	/* expire, find the slot */
	struct {{E}}_slot *s = NULL, *free_ = NULL;
	uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
	uint16_t id = rd16(ip + 4);
	for (uint32_t i = 0; i < {{E}}_NS; i++) {
		struct {{E}}_slot *x = &{{E}}_s.sl[i];
		if (x->used && {{E}}_s.now - x->t0 > {{ a.TIMEOUT }}ull) {
			{{E}}_s.timeouts++;
			{{E}}_free(x, 1);
		}
		if (x->used && x->s == src && x->d == dst && x->id == id && x->proto == ip[9])
			s = x;
		else if (!x->used && !free_)
			free_ = x;
	}
	if (!s) {
		if (!free_) {
			struct {{E}}_slot *o = {{E}}_oldest();
			{{E}}_free(o, 1);
			free_ = o;
		}
		s = free_;
		memset(s, 0, sizeof *s);
		s->used = 1;
		s->s = src;
		s->d = dst;
		s->id = id;
		s->proto = ip[9];
		s->t0 = {{E}}_s.now;
		s->seq = ++{{E}}_s.seq;
		{{E}}_s.pending++;
	}
	while ({{E}}_s.mem + len > {{ a.MAX_MEMORY }}u) {
		struct {{E}}_slot *o = {{E}}_oldest();
		if (!o || (o == s && !s->frags))
			break;
		{{E}}_free(o, 1);
		if (o == s) {
			s->used = 1;
			{{E}}_s.pending++;
			s->mem = 0;
			s->total = 0;
		}
	}
	if ({{E}}_s.mem + len > {{ a.MAX_MEMORY }}u) {
		{{E}}_s.drops++;
		pkt_kill(p);
		if (!s->frags) {
			s->used = 0;
			{{E}}_s.pending--;
		}
		return;
	}
	if (!(fo & 0x2000))
		s->total = off + dl;
	/* insert sorted by offset */
	struct pkt **pp = &s->frags;
	while (*pp && {{E}}_off(*pp) <= off)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
	s->mem += len;
	{{E}}_s.mem += len;
	if (!s->total)
		return;
	/* complete? */
	uint32_t cover = 0;
	for (struct pkt *q = s->frags; q; q = q->next) {
		if ({{E}}_off(q) > cover)
			return;
		uint32_t e = {{E}}_off(q) + {{E}}_dlen(q);
		if (e > cover)
			cover = e;
	}
	if (cover < s->total)
		return;
	struct pkt *r = {{E}}_build(s);
	if (!r) {
		{{E}}_free(s, 1);
		return;
	}
	s->frags = r->next;
	r->next = NULL;
	{{E}}_free(s, 0);
	{{E}}_s.done++;
	{{ out[0] }}(r);
}
"""

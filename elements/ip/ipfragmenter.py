from uknfv.argtypes import Bool, UInt
from uknfv.element import Arg, Element, Handler


class IPFragmenter(Element):
    name = "IPFragmenter"
    ports = "1/1-2"
    processing = "h/h"
    args = (
        Arg("MTU", UInt(65535), positional=True, required=True,
            doc="largest IP packet (total length) sent on output 0"),
        Arg("HONOR_DF", Bool(), positional=True, default=True,
            doc="send too-long packets with the don't-fragment bit to output 1 (or drop them) "
                "instead of fragmenting them"),
        Arg("VERBOSE", Bool(), default=False, doc="accepted for compatibility"),
    )
    handlers = (
        Handler("fragments", "{{E}}_s.fragments", doc="fragments sent"),
        Handler("fragmented", "{{E}}_s.fragmented", doc="packets fragmented"),
        Handler("df", "{{E}}_s.df",
                doc="too-long packets with DF set (to output 1, or dropped)"),
        Handler("drops", "{{E}}_s.drops",
                doc="packets dropped: DF with no output 1, no 20-byte IP header at the "
                    "annotation, MTU too small for the header, no buffer for a fragment"),
    )
    doc = """
    Fragments IP packets longer than MTU.

    IPFragmenter(MTU [, HONOR_DF, KEYWORDS]).  Packets need the network
    header annotation.  A packet whose IP total length is at most MTU
    leaves unchanged on output 0.  A longer one with the don't-fragment bit
    set (and HONOR_DF true, the default) leaves unchanged on output 1 if it
    is connected (to an `ICMPError(..., unreachable, needfrag, MTU m)`,
    say), else it is dropped; either way it is counted in `df`.  Every
    other long packet is split, as in Click and RFC 791: the first
    fragment carries the whole header with options and (MTU - header) & ~7
    bytes of data; later fragments carry the header with only the options
    whose copy bit is set (padded with zero bytes to a multiple of 4) and
    (MTU - that header) & ~7 bytes; fragment offsets add to the original
    offset, every fragment but the last has MF set (the last keeps the
    original's MF), total lengths and header checksums are recomputed.
    Bytes before the IP header (a link header) are copied to every
    fragment; annotations are copied.  The fragments leave on output 0 in
    order; the original is freed.

    Difference from Click: a packet whose MTU leaves no room for 8 data
    bytes after its header is dropped (counted in `drops`).
    """
    c = r"""
static struct {
	uint64_t fragments, fragmented, df, drops;
} {{E}}_s;

static void {{E}}_drop(struct pkt *p)
{
	{{E}}_s.drops++;
	pkt_kill(p);
}

static struct pkt *{{E}}_frag(struct pkt *p, uint32_t pre, const uint8_t *hdr, uint32_t hl,
				const uint8_t *data, uint32_t n, uint16_t off, int mf)
{
	struct pkt *q = pkt_alloc();
	if (!q)
		return NULL;
	uint32_t hr = pkt_headroom(p);
	if (hr + pre + hl + n > q->cap)
		hr = 0;
	if (hr + pre + hl + n > q->cap) {
		pkt_kill(q);
		return NULL;
	}
	q->data = q->buf + hr;
	q->len = pre + hl + n;
	memcpy(q->data, p->data, pre);
	uint8_t *ip = q->data + pre;
	memcpy(ip, hdr, hl);
	memcpy(ip + hl, data, n);
	ip[0] = (uint8_t)(0x40 | (hl / 4));
	wr16(ip + 2, (uint16_t)(hl + n));
	wr16(ip + 6, (uint16_t)((rd16(hdr + 6) & 0x4000) | (mf ? 0x2000 : 0) | off));
	wr16(ip + 10, 0);
	wr16(ip + 10, in_cksum(ip, hl));
	q->mac = p->mac ? q->data + (p->mac - p->data) : NULL;
	q->nh = ip;
	q->th = ip + hl;
	q->ts_ns = p->ts_ns;
	q->pkt_type = p->pkt_type;
	memcpy(q->anno, p->anno, PKT_ANNO_SIZE);
	return q;
}

static inline void {{E}}_push0(struct pkt *p)
{
	uint8_t *ip = p->nh, *end = p->data + p->len;
	if (!ip || ip < p->data || ip + 20 > end) {
		{{E}}_drop(p);
		return;
	}
	uint32_t hl = (uint32_t)(ip[0] & 15) * 4, len = rd16(ip + 2);
	if (len <= {{ a.MTU }}u) {
		{{ out[0] }}(p);
		return;
	}
	if (hl < 20 || len < hl || ip + len > end) {
		{{E}}_drop(p);
		return;
	}
	uint16_t fo = rd16(ip + 6);
{% if a.HONOR_DF %}
	if (fo & 0x4000) {
		{{E}}_s.df++;
{% if nout > 1 %}
		{{ out[1] }}(p);
{% else %}
		{{E}}_drop(p);
{% endif %}
		return;
	}
{% endif %}
	/* the later fragments' header: options with the copy bit */
	uint8_t h2[60];
	uint32_t hl2 = 20;
	memcpy(h2, ip, 20);
	for (uint32_t i = 20; i < hl;) {
		uint8_t t = ip[i];
		if (t == 0)
			break;
		if (t == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || ip[i + 1] < 2 || i + ip[i + 1] > hl)
			break;
		if (t & 0x80) {
			memcpy(h2 + hl2, ip + i, ip[i + 1]);
			hl2 += ip[i + 1];
		}
		i += ip[i + 1];
	}
	while (hl2 & 3)
		h2[hl2++] = 0;
	if ({{ a.MTU }}u < hl + 8 || {{ a.MTU }}u < hl2 + 8) {
		{{E}}_drop(p);
		return;
	}
	uint32_t pre = (uint32_t)(ip - p->data), dlen = len - hl, o = 0;
	uint16_t off0 = fo & 0x1FFF;
	int mf0 = (fo & 0x2000) != 0;
	{{E}}_s.fragmented++;
	while (o < dlen) {
		const uint8_t *h = o ? h2 : ip;
		uint32_t hlx = o ? hl2 : hl;
		uint32_t n = ({{ a.MTU }}u - hlx) & ~7u;
		int last = o + n >= dlen;
		if (last)
			n = dlen - o;
		struct pkt *q = {{E}}_frag(p, pre, h, hlx, ip + hl + o, n, (uint16_t)(off0 + o / 8),
					   last ? mf0 : 1);
		if (!q) {
			{{E}}_drop(p);
			return;
		}
		{{E}}_s.fragments++;
		{{ out[0] }}(q);
		o += n;
	}
	pkt_kill(p);
}
"""

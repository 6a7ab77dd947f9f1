from uknfv.argtypes import Bool
from uknfv.element import Arg, Element, Handler


class DecIPTTL(Element):
    name = "DecIPTTL"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    args = (
        Arg("ACTIVE", Bool(), default=True, doc="if false, pass every packet unchanged"),
        Arg("MULTICAST", Bool(), default=True,
            doc="if false, pass multicast packets (224.0.0.0/4) unchanged"),
    )
    handlers = (
        Handler("drops", "{{E}}_s.drops", doc="packets whose TTL had expired (TTL <= 1)"),
        Handler("malformed", "{{E}}_s.malformed",
                doc="packets without a 20-byte IP header at the network header "
                    "annotation (dropped)"),
        Handler("active", "{{E}}_s.active", write="{{E}}_write_active",
                doc="whether it decrements (writable: true/false)"),
    )
    doc = """
    Decrements the IP time-to-live; expired packets go to output 1 or are dropped.

    DecIPTTL([KEYWORDS]) works on the IP header the network header
    annotation points to (set it with CheckIPHeader or MarkIPHeader).  A
    packet whose TTL is 0 or 1 is counted in `drops` and leaves unchanged on
    output 1 if that is connected (to an ICMPError, say), else it is
    dropped.  Otherwise the TTL is decremented and the header checksum
    updated incrementally exactly as Click does (RFC 1624 with one carry
    fold; a wrong checksum stays wrong by the same amount), and the packet
    leaves on output 0.

    Keywords: ACTIVE (boolean, default true): if false, packets pass
    unchanged (also the `active` handler); MULTICAST (boolean, default true):
    if false, packets to multicast destinations pass unchanged.

    Difference from Click: a packet without a network header annotation, or
    with fewer than 20 bytes from it to the packet's end, is dropped and
    counted in `malformed` (Click asserts the annotation and reads whatever
    is there).  A packet without the annotation is dropped even when ACTIVE
    is false.
    """
    c = r"""
static struct {
	uint64_t drops, malformed;
	int active;
} {{E}}_s = { 0, 0, {{ 1 if a.ACTIVE else 0 }} };

static int {{E}}_write_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

static struct pkt *{{E}}_malformed(struct pkt *p)
{
	{{E}}_s.malformed++;
	pkt_kill(p);
	return NULL;
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip = p->nh;
	if (__builtin_expect(!ip, 0))
		return {{E}}_malformed(p);
	if (__builtin_expect(!{{E}}_s.active, 0))
		return p;
	if (__builtin_expect(pkt_nh_len(p) < 20, 0))
		return {{E}}_malformed(p);
{% if not a.MULTICAST %}
	if ((ip[16] & 0xf0) == 0xe0)
		return p;
{% endif %}
	if (__builtin_expect(ip[8] <= 1, 0)) {
		{{E}}_s.drops++;
{% if nout > 1 %}
		{{ out[1] }}(p);
{% else %}
		pkt_kill(p);
{% endif %}
		return NULL;
	}
	ip[8]--;
	/* Click's incremental update: ~(~old_sum + 0xFEFF), one carry fold */
	uint32_t sum = (~(uint32_t)rd16(ip + 10) & 0xffff) + 0xfeff;
	wr16(ip + 10, (uint16_t)~(sum + (sum >> 16)));
	return p;
}
"""

from uknfv.argtypes import Int
from uknfv.element import Arg, Element, Handler


class MarkIPHeader(Element):
    name = "MarkIPHeader"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("OFFSET", Int(0, 65535, "unsigned integer"), positional=True, default=0,
            doc="byte position of the IP header from the packet data"),
    )
    handlers = (
        Handler("drops", "{{E}}_s.drops",
                doc="packets too short to hold the IP header their IHL announces (dropped)"),
    )
    doc = """
    Marks the IP header: sets the network header annotation OFFSET bytes in.

    MarkIPHeader(OFFSET).  The network header annotation is set to OFFSET
    bytes from the packet data, with the length its IHL field gives (so the
    transport header annotation points IHL*4 bytes further on), as in
    Click.  Nothing else is checked or changed: the packet is not trimmed,
    the destination IP annotation is not set, the version, lengths and
    checksum are not looked at (use CheckIPHeader for that).  Typical use:
    `Strip(14) -> MarkIPHeader` or `MarkIPHeader(14)` on Ethernet frames.

    Difference from Click: a packet that does not hold the whole header at
    OFFSET (fewer than OFFSET+1 bytes, or fewer than OFFSET + IHL*4) is
    dropped and counted in `drops` (the first one is reported on stderr).
    Click would point the annotation past the packet's end, or abort (an
    assertion) when the header runs past its buffer.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static struct pkt *{{E}}_bad(struct pkt *p)
{
	if ({{E}}_s.drops++ == 0)
		rt_log("%s: packet too short for its IP header (%u bytes), dropped",
		       {{ name_c }}, (unsigned)p->len);
	pkt_kill(p);
	return NULL;
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	if (__builtin_expect(p->len <= {{ a.OFFSET }}u, 0))
		return {{E}}_bad(p);
	uint8_t *ip = p->data + {{ a.OFFSET }};
	uint32_t hlen = (uint32_t)(ip[0] & 0x0f) << 2;
	if (__builtin_expect({{ a.OFFSET }}u + hlen > p->len, 0))
		return {{E}}_bad(p);
	p->nh = ip;
	p->th = ip + hlen;
	return p;
}
"""

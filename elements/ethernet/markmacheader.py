from uknfv.element import Arg, Element, Handler

from .etherencap import ClickUInt


class MarkMACHeader(Element):
    name = "MarkMACHeader"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("OFFSET", ClickUInt(0xFFFF), positional=True, default=0,
            doc="where the MAC header starts, in bytes from the packet data"),
        Arg("LENGTH", ClickUInt(0xFFFF), positional=True, default=0,
            doc="MAC header length; if nonzero the network header follows it"),
    )
    handlers = (Handler("bad", "{{E}}_s.bad",
                        doc="packets dropped: shorter than OFFSET"),)
    doc = """
    Sets the MAC header annotation.

    MarkMACHeader([OFFSET, LENGTH]) marks the MAC header as starting OFFSET
    bytes into the packet data (default 0).  If LENGTH is given and nonzero,
    the MAC header is LENGTH bytes long and the network header annotation is
    set to OFFSET + LENGTH as well (as in Click, the transport header
    annotation is left alone).  Both may also be given as keywords.

    A packet shorter than OFFSET bytes is dropped and counted in `bad`
    (Click requires the packet to be long enough for OFFSET and does not
    check).  As in Click, the LENGTH bytes of the MAC header need not all be
    there: the network header annotation may point at or past the end of
    the data, and the elements that read headers check their bounds.

    Example: MarkMACHeader(0, 14)   // Ethernet at the front, IP after it
    """
    c = r"""
static struct {
	uint64_t bad;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
{% if a.OFFSET %}
	if (__builtin_expect(p->len < {{ a.OFFSET }}u, 0)) {
		{{E}}_s.bad++;
		pkt_kill(p);
		return NULL;
	}
{% endif %}
	p->mac = p->data + {{ a.OFFSET }};
{% if a.LENGTH %}
	p->nh = p->mac + {{ a.LENGTH }};
{% endif %}
	return p;
}
"""

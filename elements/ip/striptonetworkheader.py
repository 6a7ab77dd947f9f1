from uknfv.element import Element, Handler


class StripToNetworkHeader(Element):
    name = "StripToNetworkHeader"
    ports = "1/1"
    processing = "a/a"
    action = True
    handlers = (
        Handler("drops", "{{E}}_s.drops",
                doc="packets without a network header annotation (dropped)"),
    )
    doc = """
    Strips everything before the network header.

    Moves the start of the packet data to the network header annotation
    (set by CheckIPHeader, MarkIPHeader ...): the bytes before it are
    removed (kept as headroom, so Unstrip can restore them); if the header
    lies before the data (after a Strip past it), the data is extended back
    to it, as in Click.  A header annotation past the packet's end leaves an
    empty packet.

    Difference from Click: a packet without a network header annotation is
    dropped and counted in `drops` (Click's result is undefined).
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	if (__builtin_expect(!p->nh, 0)) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return NULL;
	}
	long off = p->nh - p->data;
	if (off >= 0)
		pkt_pull(p, (uint32_t)off);
	else
		pkt_push(p, (uint32_t)-off);
	return p;
}
"""

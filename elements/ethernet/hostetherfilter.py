from uknfv.argtypes import Bool
from uknfv.element import Arg, Element, Handler

from .etherencap import ETHER_HELPERS_C, ClickEther, ClickUInt


class HostEtherFilter(Element):
    name = "HostEtherFilter"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    args = (
        Arg("ETHER", ClickEther(), positional=True, required=True, doc="this host's Ethernet address"),
        Arg("DROP_OWN", Bool(), positional=True, default=False,
            doc="filter out packets whose source is ETHER"),
        Arg("DROP_OTHER", Bool(), positional=True, default=True,
            doc="filter out unicast packets for other hosts"),
        Arg("OFFSET", ClickUInt(0xFFFF), default=0, doc="where the Ethernet header starts in the data"),
    )
    handlers = (
        Handler("ether", "{{E}}_r_ether", kind="fn", write="{{E}}_w_ether", doc="the ETHER address"),
        Handler("drops", "{{E}}_s.drops",
                doc="filtered packets dropped (output 1 not connected)"),
        Handler("bad", "{{E}}_s.bad",
                doc="packets dropped: too short for the addresses examined"),
    )
    doc = """
    Filters Ethernet packets the way a NIC with address ETHER would.

    HostEtherFilter(ETHER [, DROP_OWN, DROP_OTHER, OFFSET]) looks at the
    Ethernet header OFFSET bytes into the packet (default 0) and sets the
    packet type annotation: HOST when the destination is ETHER, BROADCAST for
    ff:ff:ff:ff:ff:ff, MULTICAST when the group bit is set, OTHERHOST
    otherwise.  Packets go to output 0, except that with DROP_OWN true
    (default false) packets whose source is ETHER, and with DROP_OTHER true
    (default true) OTHERHOST packets, are filtered: they leave on output 1 if
    it is connected, else they are dropped and counted in `drops`.
    DROP_OWN and DROP_OTHER may be given by position or as keywords; OFFSET
    only as a keyword.  The data is never modified.

    A packet too short for the addresses examined (OFFSET + 6 bytes, or
    OFFSET + 12 with DROP_OWN) is dropped and counted in `bad` (Click reads
    past its end).  The `ether` handler reads (dash-separated)
    and writes ETHER.

    Example: HostEtherFilter(52:54:00:00:00:01, DROP_OWN true)
    """
    c = ETHER_HELPERS_C + r"""
static struct {
	uint8_t ether[6];
	uint64_t drops, bad;
} {{E}}_s = {
	{{ a.ETHER | c_bytes }},
	0, 0
};

static inline struct pkt *{{E}}_filtered(struct pkt *p)
{
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	{{E}}_s.drops++;
	pkt_kill(p);
{% endif %}
	return NULL;
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	if (__builtin_expect(p->len < {{ a.OFFSET + (12 if a.DROP_OWN else 6) }}u, 0)) {
		{{E}}_s.bad++;
		pkt_kill(p);
		return NULL;
	}
	const uint8_t *e = p->data + {{ a.OFFSET }};
{% if a.DROP_OWN %}
	if (memcmp(e + 6, {{E}}_s.ether, 6) == 0)
		return {{E}}_filtered(p);
{% endif %}
	if (memcmp(e, {{E}}_s.ether, 6) == 0)
		p->pkt_type = PKT_TYPE_HOST;
	else if ((e[0] & e[1] & e[2] & e[3] & e[4] & e[5]) == 0xFF)
		p->pkt_type = PKT_TYPE_BROADCAST;
	else if (e[0] & 1)
		p->pkt_type = PKT_TYPE_MULTICAST;
	else {
		p->pkt_type = PKT_TYPE_OTHERHOST;
{% if a.DROP_OTHER %}
		return {{E}}_filtered(p);
{% endif %}
	}
	return p;
}

static int {{E}}_r_ether(char *buf, size_t n) { return {{E}}_fmt_ether(buf, n, {{E}}_s.ether); }
static int {{E}}_w_ether(const char *v) { return {{E}}_parse_ether(v, {{E}}_s.ether); }
"""

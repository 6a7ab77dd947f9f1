from uknfv.argtypes import ArgError, ArgType, Int, Word
from uknfv.element import Arg, Element, Handler

# Click's 4-byte annotations (include/click/packet_anno.hh) by name.
ANNO4 = {"DST_IP": 0, "AGGREGATE": 20, "MISC_IP": 20}
ANNO_SIZE = 48


class Anno4(ArgType):
    """A 4-byte annotation: a name (DST_IP ...) or a byte offset 0-44."""

    name = "4-byte annotation"

    def parse(self, text):
        t = text.strip()
        if t.upper() in ANNO4:
            return ANNO4[t.upper()]
        if t.isdigit() and int(t) + 4 <= ANNO_SIZE:
            return int(t)
        raise ArgError(f"expected a 4-byte annotation ({', '.join(ANNO4)}) "
                       f"or an offset 0-{ANNO_SIZE - 4}, got '{t}'")


class GetIPAddress(Element):
    name = "GetIPAddress"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("OFFSET", Int(name="integer"), positional=True,
            doc="byte position of the address from the packet data"),
        Arg("ANNO", Anno4(), positional=True, default=0,
            doc="annotation to set (default DST_IP, the destination IP annotation)"),
        Arg("IP", Word(), doc="'src' or 'dst': read the address from the IP header "
            "annotation instead of OFFSET"),
    )
    handlers = (
        Handler("drops", "{{E}}_s.drops",
                doc="packets without the 4 address bytes (or without an IP header "
                    "annotation, with IP) (dropped)"),
    )
    doc = """
    Sets the destination IP address annotation from the packet.

    GetIPAddress(OFFSET [, ANNO]) copies the 4 bytes at OFFSET from the
    packet data (e.g. 16: the destination of an IP packet whose header starts
    the data) into the annotation ANNO (default: the destination IP
    annotation).  GetIPAddress(IP src) and GetIPAddress(IP dst) read the
    source or destination address of the IP header the network header
    annotation points to (set by CheckIPHeader or MarkIPHeader).  Give
    exactly one of OFFSET and IP, as in Click.  The packet is not changed.

    Difference from Click: a packet too short to hold the 4 bytes (or, with
    IP, one without an IP header annotation or too short for the address) is
    dropped and counted in `drops`; Click would read past the packet.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
{% if v.mode == "offset" %}
	if (__builtin_expect(p->len < {{ a.OFFSET + 4 }}u, 0)) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return NULL;
	}
	memcpy(p->anno + {{ a.ANNO }}, p->data + {{ a.OFFSET }}, 4);
{% else %}
	if (__builtin_expect(!p->nh || pkt_nh_len(p) < {{ v.field + 4 }}, 0)) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return NULL;
	}
	memcpy(p->anno + {{ a.ANNO }}, p->nh + {{ v.field }}, 4);
{% endif %}
	return p;
}
"""

    def configure(self, inst):
        off, ip = inst.args["OFFSET"], inst.args["IP"]
        if off is not None and off > 65535:
            raise inst.error(f"OFFSET {off} out of range (maximum 65535)", "OFFSET")
        has_off = off is not None and off >= 0
        if has_off == (ip is not None):
            raise inst.error("set one of OFFSET, IP", "IP" if ip is not None else "OFFSET")
        if ip is not None:
            if ip not in ("src", "dst"):
                raise inst.error(f"bad IP '{ip}' (expected 'src' or 'dst')", "IP")
            inst.vars["mode"] = "ip"
            inst.vars["field"] = 12 if ip == "src" else 16
        else:
            inst.vars["mode"] = "offset"

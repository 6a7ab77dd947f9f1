from uknfv.argtypes import Bool
from uknfv.element import Arg, Element, Handler
from uknfv.elements.ip.checkipheader import drop_reasons_c

# C: locate the IPv4 header (network header annotation, else the packet
# data), validate it enough to find the transport header, and compute the
# transport checksum with the IPv4 pseudo-header.
L4_HELPERS_C = r"""
static inline uint16_t {{E}}_pseudo_cksum(const uint8_t *ip, uint8_t proto, const uint8_t *l4, uint32_t len)
{
	uint32_t sum = cksum_add(0, ip + 12, 8) + proto + len;
	return cksum_fold(cksum_add(sum, l4, len));
}
"""


class _CheckL4Header(Element):
    """Shared spec of CheckUDPHeader, CheckTCPHeader and CheckICMPHeader."""

    ports = "1/1-2"
    processing = "a/ah"
    action = True
    proto = 0
    kind = ""
    reasons: tuple[str, ...] = ()
    args = (
        Arg("VERBOSE", Bool(), default=False,
            doc="report every bad packet on stderr (not just the first)"),
        Arg("DETAILS", Bool(), default=False,
            doc="accepted for compatibility: uknfv always keeps the counts of drop_details"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="valid packets emitted on output 0"),
        Handler("drops", "{{E}}_s.drops", doc="invalid packets (output 1 or dropped)"),
        Handler("drop_details", "{{E}}_details", kind="fn",
                doc="invalid packets by reason, lines 'COUNT<TAB>REASON'"),
    )
    # the checks after the IP header: `l4` the transport header, `l4len`
    # the transport bytes the IP length announces; `return {{E}}_drop(1, p)`
    # for a bad length, (2, p) for a bad checksum.
    check_c = ""
    c_head = L4_HELPERS_C + r"""
static struct {
	uint64_t count, drops;
	uint64_t reason[{{ v.reasons | length }}];
} {{E}}_s;

static const char *const {{E}}_reasons[{{ v.reasons | length }}] = {
{% for r in v.reasons %}	{{ r | c_str }},
{% endfor %}};

""" + drop_reasons_c("{{ v.kind }} header check") + r"""static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip = p->nh ? p->nh : p->data;
	int32_t avail = (int32_t)(p->data + p->len - ip);
	uint32_t hlen, iplen, l4len;
	uint8_t *l4;

	if (__builtin_expect(avail < 20 || (ip[0] >> 4) != 4 || ip[9] != {{ v.proto }}, 0))
		return {{E}}_drop(0, p);
	hlen = (uint32_t)(ip[0] & 0x0f) << 2;
	iplen = rd16(ip + 2);
	if (__builtin_expect(hlen < 20 || iplen < hlen || iplen > (uint32_t)avail, 0))
		return {{E}}_drop(1, p);
	l4 = ip + hlen;
	l4len = iplen - hlen;
"""
    c_tail = r"""
	p->th = l4;
	{{E}}_s.count++;
	return p;
}
"""

    def configure(self, inst):
        inst.vars["reasons"] = self.reasons
        inst.vars["kind"] = self.kind
        inst.vars["proto"] = self.proto



def l4_check_doc(what: str, proto: int, reasons: tuple, checks: str) -> str:
    """The doc of Check{what}Header."""
    return f"""
Checks the {what} header of {what}-in-IPv4 packets; invalid ones go to output 1 or are dropped.

Check{what}Header([KEYWORDS]).  The IPv4 header is the one the network
header annotation points to (set by CheckIPHeader or MarkIPHeader) or,
without one, the start of the packet data.  A packet is invalid when it
is not IPv4 {what} (protocol {proto}) or its IP header length or
total length do not fit the bytes present ("{reasons[0]}" and
"{reasons[1]}"), or when {checks}.

Valid packets leave on output 0 with the transport header annotation
set.  Invalid packets leave unchanged on output 1 if it is connected,
else they are dropped; either way they are counted in `drops` and, by
reason, in `drop_details` (reasons: {", ".join(reasons)}).  The
first invalid packet (every one with VERBOSE true) is reported on
stderr as `NAME: {what} header check failed: REASON`.  uknfv keeps the
per-reason counts whether or not DETAILS is given (Click only with
DETAILS true), so `drop_details` is always readable.  IP fragments are
checked like whole packets, as in Click.
"""


class CheckUDPHeader(_CheckL4Header):
    name = "CheckUDPHeader"
    proto = 17
    kind = "UDP"
    reasons = ("not UDP", "bad packet length", "bad UDP checksum")
    args = _CheckL4Header.args + (
        Arg("CHECKSUM", Bool(), default=True, doc="check the UDP checksum (when it is not zero)"),
    )
    doc = l4_check_doc(
        "UDP", 17, reasons, "the IP payload is shorter than 8 bytes, the UDP length is below 8 or "
        "beyond the IP payload (\"bad packet length\"), or the UDP checksum over the UDP "
        "length is wrong (\"bad UDP checksum\"; a zero checksum means none and is not "
        "checked, nor is any with CHECKSUM false)")
    c = _CheckL4Header.c_head + r"""
	if (__builtin_expect(l4len < 8, 0))
		return {{E}}_drop(1, p);
	{
		uint32_t ulen = rd16(l4 + 4);
		if (__builtin_expect(ulen < 8 || ulen > l4len, 0))
			return {{E}}_drop(1, p);
{% if a.CHECKSUM %}
		if (rd16(l4 + 6) != 0 && __builtin_expect({{E}}_pseudo_cksum(ip, 17, l4, ulen) != 0, 0))
			return {{E}}_drop(2, p);
{% endif %}
	}
""" + _CheckL4Header.c_tail

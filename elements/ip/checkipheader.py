import re

from uknfv.argtypes import ArgError, ArgType, Bool, Int, parse_ip, prefix_to_mask
from uknfv.element import Arg, Element, Handler

REASONS = ("tiny packet", "bad IP version", "bad IP header length",
           "bad IP length", "bad IP checksum", "bad source address")


class IPAddrList(ArgType):
    """Space-separated IPv4 addresses (Click's Vector<IPAddress> argument)."""

    name = "IP address list"

    def parse(self, text):
        return [parse_ip(w) for w in text.split()]


class InterfaceList(ArgType):
    """Space-separated ADDR/PREFIX words (Click's CheckIPHeader INTERFACES)."""

    name = "list of ADDR/PREFIX"

    def parse(self, text):
        out = []
        for w in text.split():
            addr_s, slash, mask_s = w.partition("/")
            addr = parse_ip(addr_s)
            if not slash:
                mask = 0xFFFFFFFF
            elif re.fullmatch(r"[0-9]{1,2}", mask_s):
                if int(mask_s) > 32:
                    raise ArgError(f"prefix length {mask_s} out of range (0-32) in '{w}'")
                mask = prefix_to_mask(int(mask_s))
            else:
                try:
                    mask = parse_ip(mask_s)
                except ArgError:
                    raise ArgError(f"expected ADDR/PREFIX, got '{w}'") from None
            out.append((addr, mask))
        return out


def c_in_set(var: str, addrs: list[int]) -> str:
    """C expression: host-order uint32 `var` is one of `addrs`."""
    uniq = sorted(set(addrs))
    if not uniq:
        return "0"
    return "(" + " || ".join(f"{var} == 0x{a:08x}u" for a in uniq) + ")"



def drop_reasons_c(log_what: str | None) -> str:
    """C shared by the header checkers (CheckIPHeader, Check{UDP,TCP,ICMP}Header,
    VXLANDecap).  The element's C declares `E_s.drops`, `E_s.reason[]` and
    `E_reasons[]`; this adds `E_details` (the `drop_details` handler) and
    `E_drop(reason, p)`, which counts the drop, logs the first one (every one
    with VERBOSE true) as "NAME: <log_what> failed: <reason>" unless
    log_what is None, and sends the packet to output 1 if there is one."""
    log = ("" if log_what is None else
           "\tif ({{ 1 if a.VERBOSE else 0 }} || {{E}}_s.drops == 0)\n"
           "\t\trt_log(\"%s: " + log_what + " failed: %s\", {{ name_c }}, {{E}}_reasons[reason]);\n")
    return r"""
static int {{E}}_details(char *buf, size_t n)
{
	size_t o = 0;
	for (unsigned i = 0; i < sizeof {{E}}_reasons / sizeof {{E}}_reasons[0]; i++) {
		int k = snprintf(buf + (o < n ? o : n), o < n ? n - o : 0, "%llu\t%s\n",
				 (unsigned long long){{E}}_s.reason[i], {{E}}_reasons[i]);
		if (k > 0)
			o += (size_t)k;
	}
	return (int)o;
}

static struct pkt *{{E}}_drop(int reason, struct pkt *p)
{
""" + log + r"""	{{E}}_s.drops++;
	{{E}}_s.reason[reason]++;
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	pkt_kill(p);
{% endif %}
	return NULL;
}

"""

class CheckIPHeader(Element):
    name = "CheckIPHeader"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    args = (
        Arg("OFFSET", Int(0, 65535, "unsigned integer"), positional=True, default=0,
            doc="byte position of the IP header from the packet data"),
        Arg("INTERFACES", InterfaceList(),
            doc="this router's ADDR/PREFIX addresses: sets BADSRC to their broadcast "
                "addresses plus 0.0.0.0 and 255.255.255.255, and GOODDST to the addresses"),
        Arg("BADSRC", IPAddrList(), doc="source addresses to reject (default: none)"),
        Arg("GOODDST", IPAddrList(), doc="destinations exempt from the BADSRC check"),
        Arg("CHECKSUM", Bool(), default=True, doc="check the header checksum"),
        Arg("VERBOSE", Bool(), default=False,
            doc="report every bad packet on stderr (not just the first)"),
        Arg("DETAILS", Bool(), default=False, doc="accepted for compatibility; "
            "uknfv always keeps the per-reason counts of drop_details"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="valid packets emitted on output 0"),
        Handler("drops", "{{E}}_s.drops", doc="invalid packets (output 1 or dropped)"),
        Handler("drop_details", "{{E}}_details", kind="fn",
                doc="invalid packets by reason, lines 'COUNT<TAB>REASON'"),
    )
    doc = """
    Checks the IP header of each packet; invalid packets go to output 1 or are dropped.

    CheckIPHeader([OFFSET, KEYWORDS]).  The IP header starts OFFSET bytes
    into the packet (default 0).  A packet is valid, exactly as in Click, when
    it has at least 20 bytes from OFFSET, its version is 4, its header length
    is at least 20 bytes, its total length is at least the header length and
    at most the bytes present, its header checksum is right (unless CHECKSUM
    false), and its source address is not in BADSRC (unless its destination
    is in GOODDST).  Options, TTL, fragments and destinations are not
    checked.

    A valid packet leaves on output 0 with the network header annotation set
    (and the transport header IHL*4 bytes after it), the destination IP
    annotation set to its destination address, and trimmed to the IP total
    length (Ethernet padding and trailing bytes removed; bytes before OFFSET
    are kept).  An invalid packet leaves unchanged on output 1 if it is
    connected, else it is dropped; either way it is counted in `drops` and,
    by reason, in `drop_details` (reasons: tiny packet, bad IP version, bad
    IP header length, bad IP length, bad IP checksum, bad source address).
    The first invalid packet (every one with VERBOSE true) is reported on
    stderr as `NAME: IP header check failed: REASON`.

    Source addresses: with no INTERFACES, BADSRC or GOODDST no source is
    rejected (as in current Click).  `INTERFACES 18.26.4.9/24 1.2.3.4/28`
    means BADSRC `18.26.4.255 1.2.3.15 0.0.0.0 255.255.255.255` and GOODDST
    `18.26.4.9 1.2.3.4`; an explicit BADSRC or GOODDST replaces the one
    INTERFACES implies.  The address sets are compiled into comparisons.

    Like Click, a single positional integer is OFFSET; Click's deprecated
    positional form `CheckIPHeader(BADSRC2, OFFSET)` is rejected (as by
    Click itself).  uknfv keeps the per-reason counts whether or not DETAILS
    is given, so `drop_details` is always readable.
    """
    c = r"""
static struct {
	uint64_t count, drops;
	uint64_t reason[6];
} {{E}}_s;

static const char *const {{E}}_reasons[6] = {
	"tiny packet", "bad IP version", "bad IP header length",
	"bad IP length", "bad IP checksum", "bad source address"
};

""" + drop_reasons_c("IP header check") + r"""static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip;
	int32_t plen = (int32_t)p->len - {{ a.OFFSET }};
	uint32_t hlen, len;

	if (__builtin_expect(plen < 20, 0))
		return {{E}}_drop(0, p);
	ip = p->data + {{ a.OFFSET }};
	if (__builtin_expect((ip[0] >> 4) != 4, 0))
		return {{E}}_drop(1, p);
	hlen = (uint32_t)(ip[0] & 0x0f) << 2;
	if (__builtin_expect(hlen < 20, 0))
		return {{E}}_drop(2, p);
	len = rd16(ip + 2);
	if (__builtin_expect(len > (uint32_t)plen || len < hlen, 0))
		return {{E}}_drop(3, p);
{% if a.CHECKSUM %}
	if (__builtin_expect(in_cksum(ip, hlen) != 0, 0))
		return {{E}}_drop(4, p);
{% endif %}
{% if v.badsrc %}
	{
		uint32_t src = rd32(ip + 12);
{% if v.gooddst %}
		uint32_t dst = rd32(ip + 16);
		if (__builtin_expect({{ v.badsrc }} && !{{ v.gooddst }}, 0))
{% else %}
		if (__builtin_expect({{ v.badsrc }}, 0))
{% endif %}
			return {{E}}_drop(5, p);
	}
{% endif %}
	p->nh = ip;
	p->th = ip + hlen;
	if ((uint32_t)plen > len)
		pkt_take(p, (uint32_t)plen - len);
	memcpy(p->anno + PKT_ANNO_DST_IP, ip + 16, 4);
	{{E}}_s.count++;
	return p;
}
"""

    def configure(self, inst):
        a = inst.args
        bad, good = [], []
        if a["INTERFACES"] is not None:
            for addr, mask in a["INTERFACES"]:
                bad.append((addr & mask) | (~mask & 0xFFFFFFFF))
                good.append(addr)
            bad += [0, 0xFFFFFFFF]
        if a["BADSRC"] is not None:
            bad = list(a["BADSRC"])
        if a["GOODDST"] is not None:
            good = list(a["GOODDST"])
        inst.vars["badsrc"] = c_in_set("src", bad) if bad else ""
        inst.vars["gooddst"] = c_in_set("dst", good) if good else ""

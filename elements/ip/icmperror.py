import re

from uknfv.argtypes import ArgError, ArgType, Bool, IPAddr, UInt
from uknfv.element import Arg, Element, Handler

from .checkipheader import IPAddrList

TYPES = {"echoreply": 0, "echo-reply": 0, "unreachable": 3, "sourcequench": 4,
         "redirect": 5, "echo": 8, "routeradvert": 9, "routersolicit": 10,
         "timeexceeded": 11, "parameterproblem": 12, "timestamp": 13,
         "timestampreply": 14, "inforeq": 15, "inforeqreply": 16,
         "maskreq": 17, "maskreqreply": 18}
CODES = {
    3: {"net": 0, "host": 1, "protocol": 2, "port": 3, "needfrag": 4, "srcroutefail": 5,
        "net_unknown": 6, "host_unknown": 7, "isolated": 8, "net_prohib": 9,
        "host_prohib": 10, "tosnet": 11, "toshost": 12, "filterprohib": 13,
        "hostprecedence": 14, "precedencecutoff": 15},
    5: {"net": 0, "host": 1, "tosnet": 2, "toshost": 3},
    11: {"transit": 0, "reassembly": 1},
    12: {"erroratptr": 0, "missingopt": 1, "length": 2},
}
ERROR_TYPES = (3, 4, 5, 11, 12)


class _Name(ArgType):
    """A number (0-255) or a name (Click's ICMP type/code names)."""

    name = "ICMP type"

    def parse(self, text):
        t = text.strip()
        if re.fullmatch(r"[0-9]+", t):
            v = int(t)
            if v > 255:
                raise ArgError(f"{v} out of range (0-255)")
            return v
        if re.fullmatch(r"[A-Za-z_-]+", t):
            return t.lower()
        raise ArgError(f"expected a number or a name, got '{t}'")


class ICMPError(Element):
    name = "ICMPError"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("SRC", IPAddr(), positional=True, required=True,
            doc="source address of the ICMP error packets (this router's address)"),
        Arg("TYPE", _Name(), positional=True, required=True,
            doc="ICMP type: a number or unreachable, sourcequench, redirect, "
                "timeexceeded, parameterproblem ..."),
        Arg("CODE", _Name(), positional=True, default=0,
            doc="ICMP code: a number or a name for the type (unreachable: net, host, "
                "protocol, port, needfrag ...; timeexceeded: transit, reassembly; "
                "parameterproblem: erroratptr, missingopt, length; redirect: net, host ...)"),
        Arg("BADADDRS", IPAddrList(),
            doc="space-separated source addresses never sent errors (besides 0.0.0.0, "
                "255.255.255.255 and multicast)"),
        Arg("MTU", UInt(65535), default=576,
            doc="next-hop MTU reported in 'unreachable needfrag' errors (default 576)"),
        Arg("USE_FIX_ANNO", Bool(), default=True, doc="accepted for compatibility (ignored)"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="ICMP errors generated"),
        Handler("drops", "{{E}}_s.drops",
                doc="packets that got no error (errors about errors, non-first fragments, "
                    "broadcast/multicast/invalid sources or destinations, malformed, "
                    "no buffer) and were dropped"),
    )
    doc = """
    Generates an ICMP error packet about each packet it receives.

    ICMPError(SRC, TYPE [, CODE, KEYWORDS]).  Each input packet must have
    its network header annotation set (CheckIPHeader ...).  It is replaced
    by a new packet, starting at its IP header (no link-level header):
    version 4, header length 20, TOS 0, id a per-element counter from 0,
    no fragment bits, TTL 200, protocol ICMP, source SRC, destination the
    offending packet's source; then the ICMP header (TYPE, CODE, checksum,
    4 bytes) and the offending packet's IP header with options and the
    first 8 bytes after it (fewer if the packet is shorter).  The 4 bytes
    are zero, except: `parameterproblem` puts the ICMP parameter annotation
    (the pointer, set by CheckIPHeader/IPGWOptions) in the first byte;
    `redirect` puts the destination IP annotation (the better gateway);
    `unreachable needfrag` puts MTU (default 576) in the last two.  The new
    packet's destination IP annotation is its destination, its timestamp
    the original's, its network and transport header annotations set.

    As RFC 1812 and Click require, no error is generated (the packet is
    dropped and counted in `drops`) about an ICMP error (types 3, 4, 5, 11,
    12), a fragment other than the first, a packet whose link-level
    destination was broadcast or multicast (packet type annotation), whose
    destination is 255.255.255.255 or multicast, or whose source is
    0.0.0.0, 255.255.255.255, multicast or in BADADDRS (a space-separated
    address list); nor about a packet without a 20-byte IP header at its
    annotation.

    TYPE and CODE take Click's names or numbers.  Differences from Click:
    USE_FIX_ANNO and SET_FIX_ANNO are not implemented (the source is always
    SRC); the quoted data is always the header plus 8 bytes.
    """
    c = r"""
static struct {
	uint64_t count, drops;
	uint16_t id;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip = p->nh, *end = p->data + p->len;
	if (!ip || ip < p->buf || ip + 20 > end)
		goto drop;
	uint32_t hl = (uint32_t)(ip[0] & 15) * 4;
	if (hl < 20 || ip + hl > end)
		goto drop;
	uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
	if (p->pkt_type == PKT_TYPE_BROADCAST || p->pkt_type == PKT_TYPE_MULTICAST)
		goto drop;
	if (dst == 0xFFFFFFFFu || (dst >> 28) == 0xE)
		goto drop;
	if (!src || src == 0xFFFFFFFFu || (src >> 28) == 0xE{% for b in v.bad %} || src == {{ b | c_u32 }}{% endfor %})
		goto drop;
	if (rd16(ip + 6) & 0x1FFF)
		goto drop;
	if (ip[9] == 1) {
		uint8_t *th = ip + hl;
		if (th >= end)
			goto drop;
		uint8_t t = th[0];
		if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			goto drop;
	}
	uint32_t xl = hl + 8;
	if (ip + xl > end)
		xl = (uint32_t)(end - ip);
	struct pkt *q = pkt_alloc();
	if (!q)
		goto drop;
	uint32_t len = 28 + xl;
	if (q->cap - pkt_headroom(q) < len) {
		pkt_kill(q);
		goto drop;
	}
	q->len = len;
	uint8_t *n = q->data, *ic = q->data + 20;
	n[0] = 0x45;
	n[1] = 0;
	wr16(n + 2, (uint16_t)len);
	wr16(n + 4, {{E}}_s.id++);
	wr16(n + 6, 0);
	n[8] = 200;
	n[9] = 1;
	wr16(n + 10, 0);
	wr32(n + 12, {{ v.src | c_u32 }});
	wr32(n + 16, src);
	wr16(n + 10, in_cksum(n, 20));
	ic[0] = {{ v.type }};
	ic[1] = {{ v.code }};
	wr16(ic + 2, 0);
	memset(ic + 4, 0, 4);
{% if v.type == 12 %}
	ic[4] = p->anno[PKT_ANNO_ICMP_PARAM];
{% elif v.type == 5 %}
	memcpy(ic + 4, p->anno + PKT_ANNO_DST_IP, 4);
{% elif v.type == 3 and v.code == 4 %}
	wr16(ic + 6, {{ a.MTU }});
{% endif %}
	memcpy(ic + 8, ip, xl);
	wr16(ic + 2, in_cksum(ic, 8 + xl));
	q->mac = NULL;
	q->nh = n;
	q->th = ic;
	q->ts_ns = p->ts_ns;
	q->pkt_type = PKT_TYPE_HOST;
	memset(q->anno, 0, PKT_ANNO_SIZE);
	memcpy(q->anno + PKT_ANNO_DST_IP, n + 16, 4);
	pkt_kill(p);
	{{E}}_s.count++;
	return q;
drop:
	{{E}}_s.drops++;
	pkt_kill(p);
	return NULL;
}
"""

    def configure(self, inst):
        a = inst.args
        t = a["TYPE"]
        if isinstance(t, str):
            if t not in TYPES:
                raise inst.error(f"unknown ICMP type '{t}' (expected a number or one of "
                                 f"{', '.join(k for k in TYPES if '-' not in k)})", "TYPE")
            t = TYPES[t]
        code = a["CODE"]
        if isinstance(code, str):
            names = CODES.get(t, {})
            if code not in names:
                raise inst.error(f"unknown code '{code}' for ICMP type {t}"
                                 + (f" (expected a number or one of {', '.join(names)})" if names
                                    else " (expected a number)"), "CODE")
            code = names[code]
        if t not in ERROR_TYPES:
            raise inst.error(f"ICMP type {t} is not an error type (3, 4, 5, 11 or 12)", "TYPE")
        inst.vars["type"] = t
        inst.vars["code"] = code
        inst.vars["src"] = a["SRC"]
        inst.vars["bad"] = a["BADADDRS"] or []

from uknfv.argtypes import String
from uknfv.codegen import ipfilter
from uknfv.element import Arg, Element, Handler


class _Raw(String):
    name = "pattern"

    def parse(self, text):
        return text


C_PUSH = r"""
static struct {
	uint64_t drops, malformed;
} {{E}}_s;

{{ v.code }}
static inline void {{E}}_push0(struct pkt *p)
{
	int32_t nlen = pkt_nh_len(p);
	if (__builtin_expect(nlen < 0, 0)) {
		/* no IP header annotation (or one past the packet's end) */
		{{E}}_s.malformed++;
		pkt_kill(p);
		return;
	}
	switch ({{E}}_match(p->nh, nlen)) {
{% for j in v.outputs %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default:
		{{E}}_s.drops++;
		pkt_kill(p);
	}
}
"""

HANDLERS = (
    Handler("drops", "{{E}}_s.drops", doc="packets that matched no pattern, or a drop pattern"),
    Handler("malformed", "{{E}}_s.malformed",
            doc="packets without a network header annotation (dropped)"),
)


class IPClassifier(Element):
    name = "IPClassifier"
    ports = "1/-"
    processing = "h/h"
    rest = Arg("PATTERN", _Raw(), required=True,
               doc="a tcpdump-like pattern, e.g. 'tcp dst port 80', 'icmp type echo', '-'")
    handlers = HANDLERS
    doc = """
    Classifies IP packets by header fields: one output per pattern.

    IPClassifier(PATTERN1, ..., PATTERNN).  A packet goes to the output of
    the first pattern it matches; packets matching none are dropped and
    counted in `drops`.  Patterns use Click's tcpdump-like language:
    `ip src 10.0.0.0/8`, `dst host 1.2.3.4`, `tcp dst port 80 or 443`,
    `udp && src port < 1024`, `icmp type echo`, `tcp opt syn and not ack`,
    `ip ttl < 10`, `ip frag`, `ip[9] = 17`, `transp[0:2] = 53`, with
    `and`/`&&`, `or`/`||`, `not`/`!`, parentheses and `?:`; `-`, `any`
    or `all` match everything.  Transport-level tests (ports, ICMP type,
    TCP options) only match first fragments, as in Click.

    Fields are read at the network header annotation (IP) and IHL*4 bytes
    after it (transport), so the packets must have been through
    CheckIPHeader or MarkIPHeader; a test on bytes the packet does not hold
    is false.  The patterns are compiled at build time into one C function
    of constant comparisons (see uknfv/codegen/ipfilter.py, which also lists
    the few differences from Click).

    Difference from Click: a packet without a network header annotation
    (Click reads relative to the unset annotation: undefined) is dropped and counted
    in `malformed`.
    """
    c = C_PUSH
    kind = "IPClassifier"

    def configure(self, inst):
        rules = ipfilter.parse_rules(self.kind, inst.args["rest"])
        inst.vars["rules"] = rules
        inst.vars["code"] = ipfilter.emit_c(rules, f"{inst.cid}_match")
        inst.vars["outputs"] = sorted({r.output for r in rules if r.output >= 0})

    def port_counts(self, inst, nin, nout):
        return nin, ipfilter.noutputs(self.kind, inst.vars["rules"])

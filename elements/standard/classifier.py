from uknfv.argtypes import String
from uknfv.codegen import classifier as cls
from uknfv.element import Arg, Element, Handler


class _Raw(String):
    name = "pattern"

    def parse(self, text):
        return text


class Classifier(Element):
    name = "Classifier"
    ports = "1/-"
    processing = "h/h"
    rest = Arg("PATTERN", _Raw(), required=True)
    handlers = (Handler("drops", "{{E}}_s.drops", doc="packets that matched no pattern"),)
    doc = """
    Classifies packets by contents: one output per pattern.

    Classifier(PATTERN1, ..., PATTERNN).  A pattern is a set of clauses
    separated by spaces, each OFFSET/VALUE or OFFSET/VALUE%MASK (offset in
    decimal, value and mask in hex with an even number of digits, '?' for a
    don't-care nibble), optionally preceded by '!' to negate it; '-' matches
    every packet.  A packet goes to the output of the first pattern that
    matches; packets matching none are dropped and counted in `drops`.
    Offsets count from the packet data.  A clause past the end of the packet
    does not match.  The patterns are compiled at build time into
    comparisons with constants; nothing is interpreted per packet.

    Example: Classifier(12/0806 20/0001, 12/0800, -)  // ARP requests, IPv4, rest
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

{{ v.code }}
static inline void {{E}}_push0(struct pkt *p)
{
	switch ({{E}}_match(p->data, p->len)) {
{% for j in range(nout) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default:
		{{E}}_s.drops++;
		pkt_kill(p);
	}
}
"""

    def configure(self, inst):
        pats = [cls.parse_pattern(text, loc) for text, loc in inst.args["rest"]]
        inst.vars["patterns"] = pats
        inst.vars["code"] = cls.emit_c(pats, f"{inst.cid}_match")

    def port_counts(self, inst, nin, nout):
        return nin, len(inst.vars["patterns"])

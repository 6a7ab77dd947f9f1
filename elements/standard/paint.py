from uknfv.argtypes import ArgError, ArgType, Int
from uknfv.element import Arg, Element, Handler

ANNOS = {"PAINT": 16, "ICMP_PARAM_PROB": 17, "FIX_IP_SRC": 19}


class Anno(ArgType):
    """An annotation: a name (PAINT ...) or a byte offset in the annotation area."""

    name = "annotation"

    def parse(self, text):
        t = text.strip()
        if t.upper() in ANNOS:
            return ANNOS[t.upper()]
        if t.isdigit() and int(t) < 48:
            return int(t)
        raise ArgError(f"expected annotation name ({', '.join(ANNOS)}) or offset 0-47, got '{t}'")


class Paint(Element):
    name = "Paint"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("COLOR", Int(0, 255), positional=True, required=True, doc="value to store"),
        Arg("ANNO", Anno(), positional=True, default=ANNOS["PAINT"], doc="annotation byte to set"),
    )
    handlers = (Handler("color", "{{ a.COLOR }}", doc="the color"),)
    doc = """
    Sets the paint annotation (or the annotation byte ANNO) to COLOR.
    """
    c = r"""
static inline struct pkt *{{E}}_action(struct pkt *p)
{
	p->anno[{{ a.ANNO }}] = {{ a.COLOR }};
	return p;
}
"""


class PaintSwitch(Element):
    name = "PaintSwitch"
    ports = "1/-"
    processing = "h/h"
    args = (Arg("ANNO", Anno(), positional=True, default=ANNOS["PAINT"], doc="annotation byte to switch on"),)
    handlers = (Handler("drops", "{{E}}_s.drops", doc="packets whose paint has no output"),)
    doc = """
    Sends each packet to the output its paint annotation names.

    A packet whose paint value is not less than the number of outputs is
    dropped and counted in `drops`.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline void {{E}}_push0(struct pkt *p)
{
	switch (p->anno[{{ a.ANNO }}]) {
{% for j in range(nout) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default:
		{{E}}_s.drops++;
		pkt_kill(p);
	}
}
"""

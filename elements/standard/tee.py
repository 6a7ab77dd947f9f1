from uknfv.argtypes import Int
from uknfv.element import Arg, Element, Handler


class Tee(Element):
    name = "Tee"
    ports = "1/1-"
    processing = "h/h"
    args = (Arg("N", Int(1, 1024), positional=True, doc="number of outputs (checked against the connections)"),)
    handlers = (Handler("drops", "{{E}}_s.drops", doc="copies not made (buffer pool empty)"),)
    doc = """
    Duplicates packets: each input packet goes to every output.

    Outputs 0..N-2 get copies, output N-1 the original, in that order (as in
    Click).  A copy that cannot be made for lack of buffers is counted in
    `drops`.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline void {{E}}_push0(struct pkt *p)
{
	struct pkt *q;
{% for j in range(nout - 1) %}
	if ((q = pkt_clone(p)) != NULL)
		{{ out[j] }}(q);
	else
		{{E}}_s.drops++;
{% endfor %}
	{{ out[nout - 1] }}(p);
}
"""

    def port_counts(self, inst, nin, nout):
        n = inst.args.get("N")
        return nin, (n if n is not None else nout)

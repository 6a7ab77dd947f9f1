from uknfv.argtypes import Int
from uknfv.element import Arg, Element, Handler


class StaticSwitch(Element):
    name = "StaticSwitch"
    ports = "1/-"
    processing = "h/h"
    args = (Arg("K", Int(-1, 65535), positional=True, required=True,
                doc="the output to send packets to (-1: drop them)"),)
    handlers = (
        Handler("switch", "{{E}}_r_switch", kind="fn", doc="the output K (read-only)"),
        Handler("drops", "{{E}}_s.drops", doc="packets dropped (K is -1)"),
    )
    doc = """
    Sends every packet to output K, fixed at configuration time.

    StaticSwitch(K).  K is an output number; -1 drops every packet (counted
    in `drops`).  Unlike Switch, the output cannot change while the program
    runs, so the compiler connects the input straight to output K.  A K
    with no connected output is an error at build time.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline void {{E}}_push0(struct pkt *p)
{
{% if a.K >= 0 %}
	{{ out[a.K] }}(p);
{% else %}
	{{E}}_s.drops++;
	pkt_kill(p);
{% endif %}
}

static int {{E}}_r_switch(char *buf, size_t n)
{
	return snprintf(buf, n, "%d", {{ a.K }});
}
"""

    def port_counts(self, inst, nin, nout):
        k = inst.args.get("K")
        if k is not None and k >= nout:
            raise inst.error(f"K {k} is not a connected output (it has {nout})", "K")
        return nin, nout

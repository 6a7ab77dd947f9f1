from uknfv.argtypes import Int
from uknfv.element import Arg, Element, Handler


class Switch(Element):
    name = "Switch"
    ports = "1/-"
    processing = "h/h"
    args = (Arg("OUTPUT", Int(-1, 65535), positional=True, default=0,
                doc="the output to send packets to (-1: drop them)"),)
    handlers = (
        Handler("switch", "{{E}}_r_switch", kind="fn", write="{{E}}_w_switch",
                doc="the current output; -1 drops (write: an integer; out of range means -1)"),
        Handler("config", "{{E}}_r_switch", kind="fn", write="{{E}}_w_switch",
                doc="the same as `switch` (Click's configuration string)"),
        Handler("drops", "{{E}}_s.drops", doc="packets dropped (output -1 or out of range)"),
    )
    doc = """
    Sends every packet to one output, chosen at run time by the `switch` handler.

    Switch([OUTPUT]).  OUTPUT (default 0) is the output packets leave on;
    -1 drops them.  Writing the `switch` handler (Click's read/write
    handler) changes the output while the program runs: an integer; a
    value outside 0..N-1 (N the number of outputs) means -1, as in Click.
    Dropped packets are counted in `drops`.  An OUTPUT given in the
    configuration that has no connected output is an error at build time.

    Example: s :: Switch(0); s[0] -> a; s[1] -> b; then `WRITE s.switch 1`.
    """
    c = r"""
static struct {
	int out;
	uint64_t drops;
} {{E}}_s = { {{ a.OUTPUT }}, 0 };

static inline void {{E}}_push0(struct pkt *p)
{
	switch ({{E}}_s.out) {
{% for j in range(nout) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default:
		{{E}}_s.drops++;
		pkt_kill(p);
	}
}

static int {{E}}_r_switch(char *buf, size_t n)
{
	return snprintf(buf, n, "%d", {{E}}_s.out);
}

static int {{E}}_w_switch(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x) != 0)
		return -1;
	{{E}}_s.out = (x < 0 || x >= {{ nout }}) ? -1 : (int)x;
	return 0;
}
"""

    def port_counts(self, inst, nin, nout):
        k = inst.args.get("OUTPUT")
        if k is not None and k >= nout:
            raise inst.error(f"OUTPUT {k} is not a connected output (it has {nout})", "OUTPUT")
        return nin, nout

from uknfv.element import Element, Handler


class RoundRobinSwitch(Element):
    name = "RoundRobinSwitch"
    ports = "1/1-"
    processing = "h/h"
    handlers = (Handler("next", "{{E}}_s.next", doc="the output the next packet will take"),)
    doc = """
    Sends packets to its outputs in turn: 0, 1, ..., N-1, 0, ...

    RoundRobinSwitch takes no arguments; it has as many outputs as are
    connected.  Nothing is dropped.  The `next` handler (a uknfv addition)
    reads the output the next packet will leave on.
    """
    c = r"""
static struct {
	unsigned next;
} {{E}}_s;

static inline void {{E}}_push0(struct pkt *p)
{
	unsigned i = {{E}}_s.next;
	{{E}}_s.next = i + 1 == {{ nout }} ? 0 : i + 1;
	switch (i) {
{% for j in range(nout - 1) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default: {{ out[nout - 1] }}(p);
	}
}
"""

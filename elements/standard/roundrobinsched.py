from uknfv.element import Element, Handler


class RoundRobinSched(Element):
    name = "RoundRobinSched"
    ports = "1-/1"
    processing = "l/l"
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets pulled through (uknfv extension)"),
    )
    doc = """
    Pulls from its inputs in round-robin order.

    RoundRobinSched.  Each pull on the output tries the inputs in turn,
    starting with the one after the input that gave the previous packet,
    and returns the first packet it gets (nothing when every input is
    empty).  With all inputs busy, the packets alternate 0, 1, ..., n-1,
    0, 1 ...; an empty input is skipped without losing the turn of others.

    Differences from Click: no notifiers (empty inputs are polled); the
    count handler is a uknfv extension.

    Example: a :: Queue -> [0]rr :: RoundRobinSched; b :: Queue -> [1]rr; rr -> Unqueue -> ...
    """
    c = r"""
static struct {
	uint64_t count;
	unsigned next;
} {{E}}_s;

static inline struct pkt *{{E}}_try(unsigned i)
{
	switch (i) {
{% for i in range(nin) %}
	case {{ i }}: return {{ inp[i] }}();
{% endfor %}
	}
	return NULL;
}

static inline struct pkt *{{E}}_pull0(void)
{
	unsigned i = {{E}}_s.next;
	for (unsigned k = 0; k < {{ nin }}u; k++) {
		struct pkt *p = {{E}}_try(i);
		if (++i == {{ nin }}u)
			i = 0;
		if (p) {
			{{E}}_s.next = i;
			{{E}}_s.count++;
			return p;
		}
	}
	return NULL;
}
"""

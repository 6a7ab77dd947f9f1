from uknfv.element import Element, Handler


class PrioSched(Element):
    name = "PrioSched"
    ports = "1-/1"
    processing = "l/l"
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets pulled through (uknfv extension)"),
    )
    doc = """
    Pulls from its inputs in strict priority order.

    PrioSched.  Each pull on the output tries input 0 first, then input 1,
    and so on, and returns the first packet it gets (or nothing when every
    input is empty): input 0 has the highest priority, and a lower input
    is served only while all higher ones are empty.  Usually each input is
    a Queue.

    Differences from Click: no notifiers (every input is polled when the
    ones before it are empty); the count handler is a uknfv extension.

    Example: hi :: Queue -> [0]p :: PrioSched; lo :: Queue -> [1]p; p -> Unqueue -> ...
    """
    c = r"""
static struct {
	uint64_t count;
} {{E}}_s;

static inline struct pkt *{{E}}_pull0(void)
{
	struct pkt *p;
{% for i in range(nin) %}
	if ((p = {{ inp[i] }}()) != NULL)
		goto got;
{% endfor %}
	return NULL;
got:
	{{E}}_s.count++;
	return p;
}
"""

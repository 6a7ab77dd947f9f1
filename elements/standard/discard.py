from uknfv.argtypes import Bool, Int
from uknfv.element import Arg, Element, Handler


class Discard(Element):
    name = "Discard"
    ports = "1/0"
    processing = "a"
    args = (
        Arg("ACTIVE", Bool(), default=True, doc="when pulling, whether to pull at all"),
        Arg("BURST", Int(1, 1024), default=32, doc="packets pulled per round"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets discarded"),
        Handler("reset_counts", write="{{E}}_reset", doc="reset count to 0"),
    )
    doc = """
    Drops every packet it receives, counting them.

    Push input: packets are freed as they arrive.  Pull input: runs as a
    task that pulls up to BURST packets per round (while ACTIVE).
    """
    c = r"""
static struct {
	uint64_t count;
} {{E}}_s;

static int {{E}}_reset(const char *v)
{
	{{E}}_s.count = 0;
	return 0;
}

{% if in_push[0] %}
static inline void {{E}}_push0(struct pkt *p)
{
	{{E}}_s.count++;
	pkt_kill(p);
}
{% else %}
static unsigned {{E}}_run(void)
{
	unsigned n = 0;
{% if a.ACTIVE %}
	for (; n < {{ a.BURST }}; n++) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		pkt_kill(p);
	}
	{{E}}_s.count += n;
{% endif %}
	return n;
}
{% endif %}
"""

    def task_kind(self, inst):
        return "driver" if inst.in_proc[0] == "pull" else None


class Idle(Element):
    name = "Idle"
    ports = "-/-"
    processing = "a/a"
    handlers = (Handler("drops", "{{E}}_s.drops", doc="packets pushed into it (dropped)"),)
    doc = """
    Never emits a packet; drops what is pushed to it.

    Any number of inputs and outputs.  Pulls from its outputs return no
    packet; packets pushed into its inputs are freed and counted.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;
{% for i in range(nin) %}
{% if in_push[i] %}
static inline void {{E}}_push{{ i }}(struct pkt *p)
{
	{{E}}_s.drops++;
	pkt_kill(p);
}
{% endif %}
{% endfor %}
{% for j in range(nout) %}
{% if not out_push[j] %}
static inline struct pkt *{{E}}_pull{{ j }}(void)
{
	return NULL;
}
{% endif %}
{% endfor %}
"""

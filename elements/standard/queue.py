from uknfv.argtypes import UInt
from uknfv.element import Arg, Element, Handler

MAX_CAPACITY = 1 << 24


class Queue(Element):
    name = "Queue"
    ports = "1/1-2"
    processing = "h/lh"
    args = (
        Arg("CAPACITY", UInt(MAX_CAPACITY), positional=True, default=1000,
            doc="maximum number of packets held"),
    )
    handlers = (
        Handler("length", "{{E}}_s.len", doc="packets in the queue now"),
        Handler("highwater_length", "{{E}}_s.highwater",
                doc="largest length seen since the start (or reset_counts)"),
        Handler("capacity", "{{E}}_CAP", doc="maximum number of packets held"),
        Handler("drops", "{{E}}_s.drops", doc="packets dropped because the queue was full"),
        Handler("reset_counts", write="{{E}}_w_reset_counts",
                doc="set drops to 0 and highwater_length to the current length"),
        Handler("reset", write="{{E}}_w_reset",
                doc="empty the queue (packets to output 1 if connected, else freed)"),
    )
    doc = """
    Stores packets in a FIFO queue: push input, pull output.

    Queue(CAPACITY).  Packets pushed into the input are stored, up to
    CAPACITY (default 1000); pulls on output 0 return them oldest first,
    or nothing when the queue is empty.  A packet that arrives when the
    queue is full is dropped and counted in `drops` (the first drop prints
    "NAME: overflow" on the console, as in Click); when output 1 is
    connected, dropped packets are pushed there instead of freed.

    The queue is a ring of packet pointers whose size is fixed at build
    time; enqueue and dequeue are a few instructions, never an allocation.
    When the run ends, the pipeline's pull tasks (Unqueue, ToDevice ...)
    drain the queue; what nobody pulls stays there (and shows in `length`).

    SimpleQueue and NotifierQueue are the same element.  Differences from
    Click: there are no empty/full notifiers, so pulling tasks poll every
    scheduling round and upstream sources are not paused while the queue
    is full (the excess is dropped and counted); the capacity handler is
    read-only (the ring is sized at build time).
    """
    c = r"""
#define {{E}}_CAP {{ a.CAPACITY }}u
static struct {
	uint32_t head, len, highwater;
	uint64_t drops;
	struct pkt *q[{{ v.slots }}];
} {{E}}_s;

static inline void {{E}}_drop(struct pkt *p)
{
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	pkt_kill(p);
{% endif %}
}

static inline void {{E}}_push0(struct pkt *p)
{
	if (__builtin_expect({{E}}_s.len < {{E}}_CAP, 1)) {
		uint32_t i = {{E}}_s.head + {{E}}_s.len;
{% if v.pow2 %}
		i &= {{E}}_CAP - 1;
{% else %}
		if (i >= {{E}}_CAP)
			i -= {{E}}_CAP;
{% endif %}
		{{E}}_s.q[i] = p;
		if (++{{E}}_s.len > {{E}}_s.highwater)
			{{E}}_s.highwater = {{E}}_s.len;
		return;
	}
	if (!{{E}}_s.drops && {{E}}_CAP)
		rt_log("%s: overflow", {{ name_c }});
	{{E}}_s.drops++;
	{{E}}_drop(p);
}

static inline struct pkt *{{E}}_pull0(void)
{
	if (!{{E}}_s.len)
		return NULL;
	struct pkt *p = {{E}}_s.q[{{E}}_s.head];
	if (++{{E}}_s.head == {{E}}_CAP)
		{{E}}_s.head = 0;
	{{E}}_s.len--;
	return p;
}

/* The queue's length for RED (found through a weak reference). */
uint32_t {{E}}_storage_len(void);
uint32_t {{E}}_storage_len(void)
{
	return {{E}}_s.len;
}

static int {{E}}_w_reset_counts(const char *v)
{
	{{E}}_s.drops = 0;
	{{E}}_s.highwater = {{E}}_s.len;
	return 0;
}

static int {{E}}_w_reset(const char *v)
{
	struct pkt *p;
	while ((p = {{E}}_pull0()) != NULL)
		{{E}}_drop(p);
	return 0;
}
"""

    def configure(self, inst):
        cap = inst.args["CAPACITY"]
        inst.vars["slots"] = max(cap, 1)
        inst.vars["pow2"] = cap > 0 and cap & (cap - 1) == 0


class NotifierQueue(Queue):
    name = "NotifierQueue"
    doc = """
    Stores packets in a FIFO queue (the same element as Queue).

    NotifierQueue(CAPACITY): see Queue.
    """

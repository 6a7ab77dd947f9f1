from uknfv.element import Handler

from .queue import Queue

_FULL = r"""	if (!{{E}}_s.drops && {{E}}_CAP)
		rt_log("%s: overflow", {{ name_c }});
	{{E}}_s.drops++;
	{{E}}_drop(p);
}"""

_FRONT = r"""	if (!{{E}}_s.drops)
		rt_log("%s: overflow", {{ name_c }});
	{{E}}_s.drops++;
	if (!{{E}}_CAP) {
		{{E}}_drop(p);
		return;
	}
	/* full: drop the oldest packet (the head) to make room at the tail */
	struct pkt *old = {{E}}_s.q[{{E}}_s.head];
	{{E}}_s.q[{{E}}_s.head] = p;
	if (++{{E}}_s.head == {{E}}_CAP)
		{{E}}_s.head = 0;
	{{E}}_drop(old);
}"""

assert _FULL in Queue.c


class FrontDropQueue(Queue):
    name = "FrontDropQueue"
    handlers = tuple(
        Handler(h.name, h.read, h.kind, h.write,
                "packets dropped from the front of the full queue" if h.name == "drops" else h.doc)
        for h in Queue.handlers)
    doc = """
    Stores packets in a FIFO queue that drops from the front when full.

    FrontDropQueue(CAPACITY).  Like Queue (push input, pull output, up to
    CAPACITY packets, default 1000), but when a packet arrives at a full
    queue, the oldest packet (the one at the head) is dropped and the new
    one is stored at the tail: the queue always keeps the most recent
    CAPACITY packets.  Every dropped packet is counted in `drops` (the
    first drop prints "NAME: overflow"), and pushed to output 1 when it is
    connected, else freed.  With CAPACITY 0 every packet is dropped.

    Handlers: length, highwater_length, capacity, drops, reset_counts,
    reset (as Queue's).

    Differences from Click: as Queue's (no notifiers; capacity read-only).

    Example: FromDevice(eth0) -> FrontDropQueue(100) -> ToDevice(eth1)
    """
    c = Queue.c.replace(_FULL, _FRONT)

from uknfv.argtypes import Bool, Int
from uknfv.element import Arg, Element, Handler


UNLIMITED_BURST = 0x7FFFFFFF


class Unqueue(Element):
    name = "Unqueue"
    ports = "1/1"
    processing = "l/h"
    task = "driver"
    args = (
        Arg("BURST", Int(), positional=True, default=1,
            doc="packets pulled per scheduling round (negative: as many as available; "
                "0: none)"),
        Arg("ACTIVE", Bool(), default=True, doc="pull at once (else wait for the active handler)"),
        Arg("LIMIT", Int(), default=-1,
            doc="total packets to move, then stop pulling; negative means no limit"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets moved"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it pulls"),
        Handler("burst", "{{E}}_s.burst", write="{{E}}_w_burst", doc="packets per round"),
        Handler("limit", "{{E}}_limit", kind="fn", write="{{E}}_w_limit",
                doc="total packets to move (-1: no limit)"),
        Handler("reset", write="{{E}}_w_reset", doc="set count to 0"),
        Handler("reset_counts", write="{{E}}_w_reset", doc="set count to 0"),
    )
    doc = """
    Pulls packets from its input and pushes them to its output.

    Unqueue(BURST, KEYWORDS).  Runs as a task: every scheduling round it
    pulls up to BURST packets (default 1; negative: until the input has no
    more; 0: none at all), pushing each one downstream as soon as it has it,
    and stops early when a pull returns nothing.  With LIMIT it moves at
    most LIMIT packets in total.  While ACTIVE is false it does nothing.
    Turns a pull path (after a Queue) back into a push path.

    Difference from Click: there are no empty notifiers, so the task tries
    one pull every round even when the queue is empty (a pull from an empty
    Queue is one comparison).
    """
    c = r"""
static struct {
	uint64_t count;
	int64_t limit;
	uint32_t burst;
	int active;
} {{E}}_s = { 0, {{ v.limit }}, {{ v.burst }}u, {{ 1 if a.ACTIVE else 0 }} };

static int {{E}}_limit(char *buf, size_t n)
{
	return snprintf(buf, n, "%lld", (long long){{E}}_s.limit);
}

static int {{E}}_w_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

static int {{E}}_w_burst(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x))
		return -1;
	{{E}}_s.burst = x < 0 || x > {{ unlimited }} ? {{ unlimited }}u : (uint32_t)x;
	return 0;
}

static int {{E}}_w_limit(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x))
		return -1;
	{{E}}_s.limit = x < 0 ? -1 : x;
	return 0;
}

static int {{E}}_w_reset(const char *v)
{
	{{E}}_s.count = 0;
	return 0;
}

static unsigned {{E}}_run(void)
{
	if (!{{E}}_s.active)
		return 0;
	uint64_t n = {{E}}_s.burst;
	if ({{E}}_s.limit >= 0) {
		if ({{E}}_s.count >= (uint64_t){{E}}_s.limit)
			return 0;
		if (n > (uint64_t){{E}}_s.limit - {{E}}_s.count)
			n = (uint64_t){{E}}_s.limit - {{E}}_s.count;
	}
	uint64_t w;
	for (w = 0; w < n; w++) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		{{ out[0] }}(p);
	}
	{{E}}_s.count += w;
	return (unsigned)w;
}
""".replace("{{ unlimited }}", str(UNLIMITED_BURST))

    def configure(self, inst):
        burst = inst.args["BURST"]
        inst.vars["burst"] = UNLIMITED_BURST if burst < 0 or burst > UNLIMITED_BURST else burst
        limit = inst.args["LIMIT"]
        if limit >= 1 << 63:
            raise inst.error(f"LIMIT {limit} is too large", "LIMIT")
        inst.vars["limit"] = f"{limit if limit >= 0 else -1}ll"

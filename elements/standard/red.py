from uknfv.argtypes import Bool, Float, Int, String, UInt
from uknfv.element import Arg, Element, Handler

AVG_SHIFT = 10


class RED(Element):
    name = "RED"
    ports = "1/1-2"
    processing = "a/ah"
    args = (
        Arg("MIN_THRESH", UInt(1 << 20), positional=True, required=True,
            doc="average queue length at or below which nothing is dropped"),
        Arg("MAX_THRESH", UInt(1 << 20), positional=True, required=True,
            doc="average queue length at which packets are dropped with probability MAX_P"),
        Arg("MAX_P", Float(0.0), positional=True, required=True,
            doc="drop probability at MAX_THRESH (0 to 1)"),
        Arg("QUEUES", String(), default=None,
            doc="space-separated Storage element names whose lengths are summed "
                "(default: the Queue connected to output 0 if push, to the input if pull)"),
        Arg("STABILITY", Int(0, 16), default=4,
            doc="the average's weight is 1/2^STABILITY"),
        Arg("GENTLE", Bool(), default=True,
            doc="between MAX_THRESH and 2*MAX_THRESH the drop probability rises from MAX_P to 1 "
                "(else everything above MAX_THRESH is dropped)"),
    )
    handlers = (
        Handler("drops", "{{E}}_s.drops", doc="packets dropped (or sent to output 1)"),
        Handler("avg_queue_size", "{{E}}_avg", kind="fn", doc="the average queue length"),
        Handler("min_thresh", "{{ a.MIN_THRESH }}", doc="MIN_THRESH"),
        Handler("max_thresh", "{{ a.MAX_THRESH }}", doc="MAX_THRESH"),
        Handler("max_p", "{{ v.max_p_str | c_str }}", kind="str", doc="MAX_P"),
        Handler("queues", "{{ v.queues_str | c_str }}", kind="str", doc="the Storage elements watched"),
        Handler("config", "{{ v.config_str | c_str }}", kind="str", doc="the configuration"),
    )
    doc = """
    Drops packets early, with Random Early Detection.

    RED(MIN_THRESH, MAX_THRESH, MAX_P, KEYWORDS).  Keeps a moving average
    of the length of a queue and drops (marks) arriving packets with a
    probability that grows with it: never while the average is at most
    MIN_THRESH, rising linearly from 0 to MAX_P between MIN_THRESH and
    MAX_THRESH, then (GENTLE true, the default) from MAX_P to 1 between
    MAX_THRESH and twice MAX_THRESH, and always beyond that (with GENTLE
    false: always above MAX_THRESH).  The average is updated at every
    packet: avg += (length - avg) / 2^STABILITY (default 4).

    The queue watched is, by default, the one connected to RED's output 0
    when RED is push (the nearest downstream queue) or to its input when
    RED is pull (a Queue, SimpleQueue or FrontDropQueue directly connected:
    otherwise the program refuses to start).  QUEUES names Storage elements
    instead (their lengths are summed, read through their length handlers).
    Dropped packets go to output 1 when connected, else are freed; all are
    counted in `drops`.  The random numbers come from a fixed-seed
    xorshift generator, so a run is reproducible.

    Handlers: drops, avg_queue_size, min_thresh, max_thresh, max_p,
    queues, config (read-only).

    Differences from Click: the average does not decay during idle time
    (Click ages it with the time the queue was empty); Click's
    inter-drop count correction is not applied (each packet is dropped with
    the plain probability); the handlers are read-only; QUEUES may name
    only elements with a length handler; only directly connected queues
    are found by default (Click searches the flow).

    Example: ... -> RED(5, 50, 0.02) -> Queue(200) -> ...
    """
    c = r"""
#define {{E}}_MIN ({{ a.MIN_THRESH }}ll << {{ v.shift }})
#define {{E}}_MAX ({{ a.MAX_THRESH }}ll << {{ v.shift }})
#define {{E}}_MAXP {{ v.max_p32 }}ull              /* MAX_P * 2^32 */
static struct {
	uint64_t drops;
	int64_t avg;            /* scaled by 2^{{ v.shift }} */
	uint32_t rnd;
} {{E}}_s = { 0, 0, 2463534242u };

{% if v.queues %}
static const struct rt_handler *{{E}}_qh[{{ v.queues | length }}];

static int {{E}}_init(void)
{
	static const char *const names[] = { {% for q in v.queues %}{{ (q ~ '.length') | c_str }}, {% endfor %} };
	for (unsigned i = 0; i < {{ v.queues | length }}u; i++) {
		{{E}}_qh[i] = rt_find_handler(names[i]);
		if (!{{E}}_qh[i] || !{{E}}_qh[i]->read) {
			rt_log("%s: QUEUES: no element with a length handler for '%s'", {{ name_c }}, names[i]);
			return -1;
		}
	}
	return 0;
}

static inline uint64_t {{E}}_qlen(void)
{
	uint64_t sum = 0;
	char buf[32];
	for (unsigned i = 0; i < {{ v.queues | length }}u; i++) {
		buf[0] = 0;
		{{E}}_qh[i]->read(buf, sizeof buf);
		sum += strtoull(buf, NULL, 10);
	}
	return sum;
}
{% else %}
{% set q = (out[0].rsplit('_push', 1)[0]) if out_push[0] else (inp[0].rsplit('_pull', 1)[0]) %}
extern uint32_t {{ q }}_storage_len(void) __attribute__((weak));

static int {{E}}_init(void)
{
	if (!{{ q }}_storage_len) {
		rt_log("%s: RED needs a Queue connected to its {{ 'output 0' if out_push[0] else 'input' }} (or QUEUES)",
		       {{ name_c }});
		return -1;
	}
	return 0;
}

static inline uint64_t {{E}}_qlen(void)
{
	return {{ q }}_storage_len();
}
{% endif %}

static int {{E}}_avg(char *buf, size_t n)
{
	return snprintf(buf, n, "%.2f", (double){{E}}_s.avg / (double)(1 << {{ v.shift }}));
}

/* 1 if the packet should be dropped. */
static inline int {{E}}_mark(void)
{
	int64_t q = (int64_t){{E}}_qlen() << {{ v.shift }};
	{{E}}_s.avg += (q - {{E}}_s.avg) >> {{ a.STABILITY }};
	int64_t avg = {{E}}_s.avg;
	if (avg <= {{E}}_MIN)
		return 0;
	uint64_t prob;          /* drop probability * 2^32 */
	if (avg <= {{E}}_MAX) {
		uint64_t frac = ((uint64_t)(avg - {{E}}_MIN) << 16) / (uint64_t)({{E}}_MAX - {{E}}_MIN);
		prob = ({{E}}_MAXP * frac) >> 16;
{% if a.GENTLE %}
	} else if (avg < 2 * {{E}}_MAX) {
		uint64_t frac = ((uint64_t)(avg - {{E}}_MAX) << 16) / (uint64_t){{E}}_MAX;
		prob = {{E}}_MAXP + (((1ull << 32) - {{E}}_MAXP) * frac >> 16);
{% endif %}
	} else
		return 1;
	uint32_t x = {{E}}_s.rnd;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	{{E}}_s.rnd = x;
	return (uint64_t)x < prob;
}

static inline void {{E}}_drop(struct pkt *p)
{
	{{E}}_s.drops++;
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	pkt_kill(p);
{% endif %}
}

{% if in_push[0] %}
static inline void {{E}}_push0(struct pkt *p)
{
	if ({{E}}_mark())
		{{E}}_drop(p);
	else
		{{ out[0] }}(p);
}
{% else %}
static inline struct pkt *{{E}}_pull0(void)
{
	for (unsigned i = 0; i < RT_BURST; i++) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			return NULL;
		if (!{{E}}_mark())
			return p;
		{{E}}_drop(p);
	}
	return NULL;
}
{% endif %}
"""
    init = True

    def configure(self, inst):
        a = inst.args
        if a["MAX_THRESH"] < a["MIN_THRESH"]:
            raise inst.error("MAX_THRESH must be at least MIN_THRESH", "MAX_THRESH")
        if not 0.0 <= a["MAX_P"] <= 1.0:
            raise inst.error(f"MAX_P {a['MAX_P']} out of range (0 to 1)", "MAX_P")
        queues = (a["QUEUES"] or "").split()
        if a["QUEUES"] is not None and not queues:
            raise inst.error("QUEUES names no element", "QUEUES")
        inst.vars["queues"] = queues
        inst.vars["shift"] = AVG_SHIFT
        inst.vars["max_p32"] = min(int(a["MAX_P"] * (1 << 32)), 1 << 32)
        inst.vars["max_p_str"] = f"{a['MAX_P']:g}"
        inst.vars["queues_str"] = " ".join(queues) if queues else "(the connected Queue)"
        inst.vars["config_str"] = (f"{a['MIN_THRESH']}, {a['MAX_THRESH']}, {a['MAX_P']:g}"
                                   + (f", QUEUES {' '.join(queues)}" if queues else "")
                                   + f", STABILITY {a['STABILITY']}, GENTLE {'true' if a['GENTLE'] else 'false'}")

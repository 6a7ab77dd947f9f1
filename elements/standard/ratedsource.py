import re

from uknfv.argtypes import ArgError, ArgType, Bool, Data, Int, UInt
from uknfv.element import Arg, Element, Handler

from .infinitesource import C_LIMIT_STOP, C_READ_DATA, DEFAULT_DATA, merge_length, packet_bytes


class Bandwidth(ArgType):
    """Click's BandwidthArg: a rate with a unit; the value is bytes per second.

    Units: bps/kbps/Mbps/Gbps (bits; also baud), Bps/kBps/MBps/GBps (bytes);
    prefixes k/K = 10^3, M = 10^6, G = 10^9.  A bare number is bytes per
    second (Click warns about it; it is accepted here).
    """

    name = "bandwidth"
    _prefix = {"": 1, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}

    def parse(self, text):
        t = text.strip()
        m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgG]?)(bps|Bps|baud|b/s|B/s)?", t)
        if not m or (m.group(2) and not m.group(3)):
            raise ArgError(f"expected bandwidth (e.g. 10Mbps, 1MBps), got '{t}'")
        v = float(m.group(1)) * self._prefix[m.group(2)]
        unit = m.group(3) or "Bps"
        if unit in ("bps", "baud", "b/s"):
            v /= 8
        return v


class RatedSource(Element):
    name = "RatedSource"
    ports = "0/1"
    processing = "a"
    stop_source = True
    timed = True
    args = (
        Arg("DATA", Data(), positional=True, default=DEFAULT_DATA,
            doc="packet contents (default: Click's 69-byte text)"),
        Arg("RATE", UInt(1 << 32), positional=True, default=10, doc="packets per second"),
        Arg("LIMIT", Int(), positional=True, default=-1,
            doc="total packets to emit; negative means no limit"),
        Arg("ACTIVE", Bool(), positional=True, default=True,
            doc="emit at once (else wait for the active handler)"),
        Arg("LENGTH", Int(), default=None,
            doc="packet length: DATA cut or repeated to LENGTH bytes (negative: DATA's length)"),
        Arg("DATASIZE", Int(), default=None, doc="deprecated alias of LENGTH"),
        Arg("STOP", Bool(), default=False, doc="end the run once LIMIT packets were emitted"),
        Arg("BANDWIDTH", Bandwidth(), default=None,
            doc="rate as a bandwidth (e.g. 10Mbps): RATE = BANDWIDTH / packet length"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets emitted"),
        Handler("rate", "{{E}}_s.rate", write="{{E}}_w_rate", doc="packets per second"),
        Handler("limit", "{{E}}_limit", kind="fn", write="{{E}}_w_limit",
                doc="total packets to emit (-1: no limit)"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it emits"),
        Handler("reset", write="{{E}}_w_reset", doc="set count to 0 and restart the pacing"),
        Handler("length", "{{E}}_LEN", doc="packet length in bytes"),
        Handler("data", "{{E}}_read_data", kind="fn",
                doc="packet contents (first 96 bytes; non-printable ones as \\xHH)"),
    )
    doc = """
    Generates packets at a fixed rate.

    RatedSource(DATA, RATE, LIMIT, ACTIVE, KEYWORDS).  Emits RATE packets
    per second (default 10), each holding DATA (by default Click's 69-byte
    text; with LENGTH, DATA cut or repeated to LENGTH bytes), with the
    timestamp annotation set to the current time.  BANDWIDTH (e.g. 10Mbps)
    sets RATE to BANDWIDTH divided by the packet length.  It stops after
    LIMIT packets (negative: never); with STOP true the run ends once the
    limit is reached.  On a push output it runs as a task; on a pull output
    each pull returns a packet when one is due, else nothing.

    Pacing is exact over time: packet k is due at start + k/RATE seconds
    on the monotonic clock (the first packet at once), and every packet
    that is due is emitted as soon as the element runs.  While no packet is
    due the element does no work, so the runtime sleeps instead of spinning;
    packets that fall due during such a sleep leave together when it wakes
    (on the Linux target, within about a millisecond).  As in Click's token
    bucket, credit saved up while the pipeline could not keep up (or while
    inactive) is capped: at most 2 packets below 200 packets/s, else
    RATE/100 (10 ms worth); beyond that, the late packets are skipped rather
    than sent in one large burst.

    Differences from Click: the data and length handlers are read-only.

    Example: RatedSource(RATE 1000, LIMIT 5000, STOP true) -> Counter -> Discard
    """
    c = r"""
#define {{E}}_LEN {{ v.len }}u
static const uint8_t {{E}}_data[{{ v.alloc }}] = {{ v.data | c_bytes }};
_Static_assert({{E}}_LEN <= PKT_DATAROOM, "RatedSource packet larger than a buffer");

/* Pacing without division on the packet path: packet k is due at
 * t0 + floor(k * 1e9 / rate) ns, kept as `next` plus a Bresenham error
 * term (next += step, err += rem, carry one ns when err reaches rate). */
static struct {
	uint64_t count;         /* packets emitted */
	int64_t limit;
	uint64_t rate;          /* packets per second */
	uint64_t step, rem;     /* 1e9 / rate, 1e9 % rate */
	uint64_t late_ns;       /* credit cap, as time: (cap - 1) periods */
	uint64_t next, err;     /* when the next packet is due (monotonic ns) */
	int started;
	int active;
	int ended;
} {{E}}_s = { 0, {{ v.limit }}, {{ v.rate }}ull, {{ v.step }}ull, {{ v.rem }}ull, {{ v.late_ns }}ull,
	     0, 0, 0, {{ 1 if a.ACTIVE else 0 }}, 0 };
""" + C_READ_DATA + C_LIMIT_STOP + r"""
static int {{E}}_w_reset(const char *v)
{
	{{E}}_s.count = 0;
	{{E}}_s.started = 0;
	return 0;
}

static int {{E}}_w_active(const char *v)
{
	int was = {{E}}_s.active;
	if (rt_parse_bool(v, &{{E}}_s.active))
		return -1;
	if ({{E}}_s.active && !was)
		{{E}}_s.started = 0;    /* restart pacing, as Click refills one token */
	return 0;
}

static int {{E}}_w_rate(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x) || x < 0 || x > ((int64_t)1 << 32))
		return -1;
	uint64_t r = (uint64_t)x, cap = r < 200 ? 2 : r / 100;
	{{E}}_s.rate = r;
	{{E}}_s.step = r ? 1000000000ull / r : 0;
	{{E}}_s.rem = r ? 1000000000ull % r : 0;
	{{E}}_s.late_ns = r ? (cap - 1) * {{E}}_s.step + (cap - 1) * {{E}}_s.rem / r : 0;
	{{E}}_s.started = 0;
	return 0;
}


/* At most `want` packets may leave now, if the first is due (else 0). */
static inline uint64_t {{E}}_allowed(uint64_t want, uint64_t now)
{
	if (!{{E}}_s.active || !{{E}}_s.rate)
		return 0;
	if ({{E}}_s.limit >= 0) {
		if ({{E}}_s.count >= (uint64_t){{E}}_s.limit) {
			{{E}}_end();
			return 0;
		}
		if (want > (uint64_t){{E}}_s.limit - {{E}}_s.count)
			want = (uint64_t){{E}}_s.limit - {{E}}_s.count;
	}
	if (!{{E}}_s.started) {
		{{E}}_s.started = 1;
		{{E}}_s.next = now;     /* the first packet leaves at once */
		{{E}}_s.err = 0;
	}
	if (now < {{E}}_s.next)
		return 0;
	if (now - {{E}}_s.next > {{E}}_s.late_ns) {
		/* late (stalled, or kept waiting): keep at most cap packets of credit */
		{{E}}_s.next = now - {{E}}_s.late_ns;
		{{E}}_s.err = 0;
	}
	return want;
}

static inline struct pkt *{{E}}_make(uint64_t ts)
{
	struct pkt *p = pkt_alloc();
	if (!p)
		return NULL;
	memcpy(p->data, {{E}}_data, {{E}}_LEN);
	p->len = {{E}}_LEN;
	p->ts_ns = ts;
	{{E}}_s.count++;
	{{E}}_s.next += {{E}}_s.step;
	{{E}}_s.err += {{E}}_s.rem;
	if ({{E}}_s.err >= {{E}}_s.rate) {
		{{E}}_s.err -= {{E}}_s.rate;
		{{E}}_s.next++;
	}
	return p;
}

{% if out_push[0] %}
static unsigned {{E}}_run(void)
{
	uint64_t now = rt_mono_ns();
	uint64_t n = {{E}}_allowed(256, now);
	if (!n)
		return 0;
	uint64_t ts = rt_now_ns();
	unsigned i;
	for (i = 0; i < n && {{E}}_s.next <= now; i++) {
		struct pkt *p = {{E}}_make(ts);
		if (!p)
			break;
		{{ out[0] }}(p);
	}
	return i;
}
{% else %}
static inline struct pkt *{{E}}_pull0(void)
{
	if (!{{E}}_allowed(1, rt_mono_ns()))
		return NULL;
	return {{E}}_make(rt_now_ns());
}
{% endif %}
"""

    def configure(self, inst):
        data = packet_bytes(inst, inst.args["DATA"], merge_length(inst))
        inst.vars["data"] = data
        inst.vars["len"] = len(data)
        inst.vars["alloc"] = max(len(data), 1)
        limit = inst.args["LIMIT"]
        if limit >= 1 << 63:
            raise inst.error(f"LIMIT {limit} is too large", "LIMIT")
        inst.vars["limit"] = f"{limit if limit >= 0 else -1}ll"
        rate = inst.args["RATE"]
        bw = inst.args["BANDWIDTH"]
        if bw is not None and bw > 0:
            if not data:
                raise inst.error("BANDWIDTH needs packets of at least one byte", "BANDWIDTH")
            rate = int(bw // len(data))
            if rate > 1 << 32:
                raise inst.error(f"BANDWIDTH gives {rate} packets per second (at most {1 << 32})",
                                 "BANDWIDTH")
        inst.vars["rate"] = rate
        cap = 2 if rate < 200 else rate // 100
        inst.vars["step"] = 10**9 // rate if rate else 0
        inst.vars["rem"] = 10**9 % rate if rate else 0
        # (cap - 1) periods, the C's formula (so a rate write gives the same)
        inst.vars["late_ns"] = ((cap - 1) * inst.vars["step"] + (cap - 1) * inst.vars["rem"] // rate
                                if rate else 0)

    def task_kind(self, inst):
        return "source" if inst.out_proc[0] == "push" else None

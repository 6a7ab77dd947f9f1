from uknfv.argtypes import Bool, Int, Seconds, UInt
from uknfv.element import Arg, Element, Handler

# ---------------------------------------------------------------------------
# An exact token bucket on rt_mono_ns(), shared (as C text) by the rate
# elements of this folder: RatedUnqueue, BandwidthRatedUnqueue,
# BandwidthShaper, RatedSplitter, BandwidthRatedSplitter.
#
# Credit is kept in units of 1e-9 token, so that `dt` nanoseconds at `rate`
# tokens per second add exactly dt * rate units: no rounding, no drift.  A
# packet costs 1e9 units (packet rates) or length * 1e9 units (bandwidths).
# The capacity is rate * BURST_DURATION (that product is already in units),
# or BURST_SIZE tokens; never less than one token.  Bandwidth elements let a
# packet through while the credit is positive and then charge its length,
# going into debt (Click's contains(1) / remove(length)), so that packets
# larger than the bucket still pass at the right average rate.
# ---------------------------------------------------------------------------

TB_UNIT = 10**9
MAX_RATE = 1 << 40                 # tokens per second
DEFAULT_BURST_NS = 20_000_000      # 20 ms, as Click
MAX_DEBT = 65536 * TB_UNIT         # a bandwidth element's largest packet charge
LIMIT_UNITS = 1 << 62


def tb_configure(inst, rate: int, burst_ns: int | None, burst_tokens: int | None,
                 rate_kw: str = "RATE") -> None:
    """Check the bucket's numbers; put tb_rate/tb_burst_ns/tb_fixed into inst.vars."""
    if rate > MAX_RATE:
        raise inst.error(f"rate {rate} per second is too large (at most {MAX_RATE})", rate_kw)
    if burst_tokens is not None:
        if burst_tokens * TB_UNIT >= LIMIT_UNITS:
            raise inst.error(f"burst size {burst_tokens} is too large", None)
        inst.vars["tb_fixed"] = burst_tokens * TB_UNIT
    else:
        inst.vars["tb_fixed"] = 0
    bns = DEFAULT_BURST_NS if burst_ns is None else burst_ns
    if rate * bns >= LIMIT_UNITS:
        raise inst.error("rate times burst duration is too large", rate_kw)
    inst.vars["tb_rate"] = rate
    inst.vars["tb_burst_ns"] = bns


TB_C = r"""
/* Token bucket, exact on the monotonic clock (credit in 1e-9 token). */
#define {{E}}_TB_UNIT 1000000000ll
static struct {
	uint64_t rate;          /* tokens per second */
	uint64_t burst_ns;      /* capacity as a duration */
	uint64_t fixed;         /* capacity in units when BURST_SIZE is given, else 0 */
	int64_t cap;            /* capacity, units */
	uint64_t max_dt;        /* a longer idle time fills the bucket */
	int64_t credit;         /* units; below 0 = debt (bandwidth elements) */
	uint64_t last;
	int started;
} {{E}}_tb = { {{ v.tb_rate }}ull, {{ v.tb_burst_ns }}ull, {{ v.tb_fixed }}ull, 0, 0, 0, 0, 0 };

/* Set the rate (tokens per second); 0 on success, -1 if it is too large. */
static int {{E}}_tb_set(uint64_t rate)
{
	uint64_t cap;
	if (rate > ({{ '%d' % max_rate }}ull))
		return -1;
	if ({{E}}_tb.fixed)
		cap = {{E}}_tb.fixed;
	else if (__builtin_mul_overflow(rate, {{E}}_tb.burst_ns, &cap) || cap >= (1ull << 62))
		return -1;
	if (cap < (uint64_t){{E}}_TB_UNIT)
		cap = {{E}}_TB_UNIT;
	{{E}}_tb.rate = rate;
	{{E}}_tb.cap = rate ? (int64_t)cap : 0;
	{{E}}_tb.max_dt = rate ? (cap + {{ '%d' % max_debt }}ull) / rate + 1 : 0;
	{{E}}_tb.started = 0;   /* the bucket starts full again */
	return 0;
}

static inline void {{E}}_tb_fill(uint64_t now)
{
	if (__builtin_expect(!{{E}}_tb.started, 0)) {
		if (!{{E}}_tb.cap && {{E}}_tb.rate)
			{{E}}_tb_set({{E}}_tb.rate);
		{{E}}_tb.started = 1;
		{{E}}_tb.last = now;
		{{E}}_tb.credit = {{E}}_tb.cap;
		return;
	}
	uint64_t dt = now - {{E}}_tb.last;
	{{E}}_tb.last = now;
	if (dt >= {{E}}_tb.max_dt) {
		{{E}}_tb.credit = {{E}}_tb.cap;
		return;
	}
	{{E}}_tb.credit += (int64_t)(dt * {{E}}_tb.rate);
	if ({{E}}_tb.credit > {{E}}_tb.cap)
		{{E}}_tb.credit = {{E}}_tb.cap;
}

/* Packet rates: take one token if there is one. */
static inline int {{E}}_tb_take1(void)
{
	if ({{E}}_tb.credit >= {{E}}_TB_UNIT) {
		{{E}}_tb.credit -= {{E}}_TB_UNIT;
		return 1;
	}
	return 0;
}

/* Bandwidths: a packet may go while the credit is positive; it is charged after. */
static inline int {{E}}_tb_positive(void)
{
	return {{E}}_tb.rate && {{E}}_tb.credit > 0;
}

static inline void {{E}}_tb_charge(uint32_t len)
{
	{{E}}_tb.credit -= (int64_t)len * {{E}}_TB_UNIT;
}

static int {{E}}_tb_w_rate(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x) || x < 0)
		return -1;
	return {{E}}_tb_set((uint64_t)x);
}

static int {{E}}_tb_rate(char *buf, size_t n)
{
	return rt_fmt_u64(buf, n, {{E}}_tb.rate);
}
""".replace("{{ '%d' % max_rate }}", str(MAX_RATE)).replace("{{ '%d' % max_debt }}", str(MAX_DEBT))


class RatedUnqueue(Element):
    name = "RatedUnqueue"
    ports = "1/1"
    processing = "l/h"
    task = "driver"
    timed = True
    args = (
        Arg("RATE", UInt(MAX_RATE), positional=True, required=True,
            doc="packets per second (token bucket fill rate)"),
        Arg("BURST_DURATION", Seconds(), default=None,
            doc="bucket capacity as a duration: RATE * BURST_DURATION packets (default 20ms)"),
        Arg("BURST_SIZE", UInt(1 << 32), default=None, doc="bucket capacity in packets"),
        Arg("ACTIVE", Bool(), default=True, doc="pull at once (else wait for the active handler)"),
    )
    handlers = (
        Handler("rate", "{{E}}_tb_rate", kind="fn", write="{{E}}_tb_w_rate",
                doc="packets per second"),
        Handler("count", "{{E}}_s.count", doc="packets moved"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it pulls"),
        Handler("reset", write="{{E}}_w_reset", doc="set count to 0"),
    )
    doc = """
    Pulls packets at a given rate and pushes them to its output.

    RatedUnqueue(RATE, KEYWORDS).  A pull-to-push converter limited by a
    token bucket that fills at RATE packets per second: every scheduling
    round it pulls one packet per whole token (stopping early when the
    input has nothing).  The bucket holds BURST_DURATION worth of tokens
    (default 20ms, at least one token), or BURST_SIZE tokens, and starts
    full.  RATE 0 moves nothing.

    The bucket is exact over time: credit is kept in billionths of a token
    on the monotonic clock, so N seconds at RATE move RATE * N packets
    plus at most the capacity, whatever the scheduling.

    Handlers: rate (read/write), and, as uknfv extensions, count, active
    and reset (as Unqueue's).

    Differences from Click: there are no notifiers, so the task polls its
    input every round while it has tokens; a rate write refills the bucket.

    Example: FromDump(in.pcap) -> Queue -> RatedUnqueue(1000) -> ToDevice(eth0)
    """
    c = TB_C + r"""
static struct {
	uint64_t count;
	int active;
} {{E}}_s = { 0, {{ 1 if a.ACTIVE else 0 }} };

static int {{E}}_w_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

static int {{E}}_w_reset(const char *v)
{
	{{E}}_s.count = 0;
	return 0;
}

static unsigned {{E}}_run(void)
{
	if (!{{E}}_s.active || !{{E}}_tb.rate)
		return 0;
	{{E}}_tb_fill(rt_mono_ns());
	unsigned w = 0;
	while (w < 256 && {{E}}_tb.credit >= {{E}}_TB_UNIT) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		{{E}}_tb.credit -= {{E}}_TB_UNIT;
		w++;
		{{ out[0] }}(p);
	}
	{{E}}_s.count += w;
	return w;
}
"""

    def configure(self, inst):
        tb_configure(inst, inst.args["RATE"], inst.args["BURST_DURATION"], inst.args["BURST_SIZE"])

from uknfv.argtypes import UInt
from uknfv.diag import UknfvError
from uknfv.element import Arg, Element, Handler

# The rate estimate: an exponentially weighted moving average over epochs
# of 2^20 ns (about 1 ms) with weight 1/16, in fixed point (<< 16).
EPOCH_SHIFT = 20
SCALE = 16
STABILITY = 4
MAX_RATE = 1 << 40


def threshold(rate: float) -> int:
    """A rate per second as a scaled per-epoch average."""
    return int(rate * (1 << (EPOCH_SHIFT + SCALE)) // 10**9)


METER_C = r"""
/* Rate: EWMA over epochs of 2^{{ v.epoch_shift }} ns (weight 1/{{ 2 ** v.stability }}), scaled by 2^{{ v.scale }}. */
static const uint64_t {{E}}_thr[{{ v.thr | length }}] = { {% for t in v.thr %}{{ t }}ull, {% endfor %} };
static struct {
	uint64_t avg;           /* per-epoch average, scaled */
	uint64_t cur;           /* amount in the current epoch */
	uint64_t epoch;
	int started;
	uint64_t n[{{ nout }}];
} {{E}}_s;

static inline uint64_t {{E}}_update(uint64_t amount)
{
	uint64_t e = rt_mono_ns() >> {{ v.epoch_shift }};
	if (__builtin_expect(!{{E}}_s.started, 0)) {
		{{E}}_s.started = 1;
		{{E}}_s.epoch = e;
	}
	if (e != {{E}}_s.epoch) {
		uint64_t k = e - {{E}}_s.epoch;
		int64_t d = (int64_t)({{E}}_s.cur << {{ v.scale }}) - (int64_t){{E}}_s.avg;
		{{E}}_s.avg = (uint64_t)((int64_t){{E}}_s.avg + d / {{ 2 ** v.stability }});
		if (k > 1024)
			{{E}}_s.avg = 0;
		else
			while (--k && {{E}}_s.avg)
				{{E}}_s.avg -= ({{E}}_s.avg + {{ 2 ** v.stability - 1 }}) >> {{ v.stability }};
		{{E}}_s.epoch = e;
		{{E}}_s.cur = 0;
	}
	{{E}}_s.cur += amount;
	return {{E}}_s.avg;
}

static inline void {{E}}_push0(struct pkt *p)
{
	uint64_t r = {{E}}_update({{ v.amount }});
{% for j in range(nout - 1) %}
	if (r < {{E}}_thr[{{ j }}]) {
		{{E}}_s.n[{{ j }}]++;
		{{ out[j] }}(p);
		return;
	}
{% endfor %}
	{{E}}_s.n[{{ nout - 1 }}]++;
	{{ out[nout - 1] }}(p);
}

static int {{E}}_rate(char *buf, size_t n)
{
	return snprintf(buf, n, "%.0f", (double){{E}}_s.avg * (1e9 / (double)(1ull << {{ v.epoch_shift + v.scale }})));
}
{% for j in range(nout) %}

static int {{E}}_count{{ j }}(char *buf, size_t n)
{
	return rt_fmt_u64(buf, n, {{E}}_s.n[{{ j }}]);
}
{% endfor %}
"""


class Meter(Element):
    name = "Meter"
    ports = "1/2-"
    processing = "h/h"
    rest = Arg("RATE", UInt(MAX_RATE), required=True, doc="packets per second (increasing)")
    unit = "packets per second"
    amount = "1"
    handlers = (
        Handler("rate", "{{E}}_rate", kind="fn", doc="the measured rate (packets per second)"),
    )
    doc = """
    Classifies a packet stream by its arrival rate (packets per second).

    Meter(RATE1, RATE2, ..., RATEn).  Measures the rate at which packets
    arrive and sends each packet to the output for the current rate: below
    RATE1 to output 0, at least RATE1 but below RATE2 to output 1, ..., at
    least RATEn to output n (n+1 outputs).  The rates must increase.

    The rate is an exponentially weighted moving average over epochs of
    about 1 ms (2^20 ns) with weight 1/16 (a time constant of about 17 ms),
    kept in fixed point on the monotonic clock (as Click's RateEWMA, the
    average covers the completed epochs: a packet is classified by the rate
    measured up to the start of its epoch).

    Handlers: rate (the measured rate), and, as uknfv extensions, countJ
    (packets sent to output J).

    Differences from Click: Click averages over jiffies with its own
    stability constant, so the exact switching points differ slightly.

    Example: ... -> m :: Meter(1000) -> Queue -> ...; m[1] -> Discard;
    """
    c = METER_C

    def parse_rate(self, value):
        return value

    def configure(self, inst):
        rates = inst.args["rest"]
        prev = None
        for i, (r, loc) in enumerate(rates):
            if prev is not None and r <= prev:
                raise UknfvError(f"{inst.name} :: {inst.cls}: argument {i + 1}: rates must increase "
                                 f"({r} {self.unit} after {prev})", loc)
            prev = r
        inst.vars["thr"] = [threshold(r) for r, _ in rates]
        inst.vars["epoch_shift"] = EPOCH_SHIFT
        inst.vars["scale"] = SCALE
        inst.vars["stability"] = STABILITY
        inst.vars["amount"] = self.amount

    def port_counts(self, inst, nin, nout):
        return nin, len(inst.args.get("rest", ())) + 1

    def handlers_for(self, inst):
        return self.handlers + tuple(
            Handler(f"count{j}", f"{{{{E}}}}_count{j}", kind="fn", doc=f"packets sent to output {j}")
            for j in range(len(inst.args.get("rest", ())) + 1))

from uknfv.argtypes import Seconds
from uknfv.element import Arg, Element, Handler


class AverageCounter(Element):
    name = "AverageCounter"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("IGNORE", Seconds(), positional=True, default=0,
            doc="time after the first packet during which packets are not counted"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets counted"),
        Handler("byte_count", "{{E}}_s.bytes", doc="bytes counted"),
        Handler("rate", "{{E}}_rate", kind="fn", doc="average packets per second"),
        Handler("byte_rate", "{{E}}_byte_rate", kind="fn", doc="average bytes per second"),
        Handler("bit_rate", "{{E}}_bit_rate", kind="fn", doc="average bits per second"),
        Handler("reset", write="{{E}}_reset", doc="reset counts and rates"),
    )
    doc = """
    Counts packets and measures their average rate.

    AverageCounter(IGNORE).  Passes packets unchanged and counts them
    (count, byte_count).  The rate handlers give the average over the
    whole measurement: count divided by the time from the first counted
    packet to the latest one (rate, byte_rate, bit_rate; 0 before two
    packets were counted).  Packets arriving within IGNORE seconds (default
    0) of the first packet since the last reset are not counted, and the
    measurement starts at the end of that interval.  Every packet reads the
    monotonic clock.

    Differences from Click: the rate is measured up to the latest packet
    (not up to the time of the read), so it does not decay once traffic
    stops; the ignored first packet starts the IGNORE interval.

    Example: FromDevice(eth0) -> a :: AverageCounter(1) -> Discard;
    """
    c = r"""
#define {{E}}_IGNORE_NS {{ a.IGNORE }}ull
static struct {
	uint64_t count, bytes;
	uint64_t t_first, t_last, t_begin;
	int started;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint64_t now = rt_mono_ns();
	if (__builtin_expect(!{{E}}_s.started, 0)) {
		{{E}}_s.started = 1;
		{{E}}_s.t_begin = now + {{E}}_IGNORE_NS;
	}
	if (now < {{E}}_s.t_begin)
		return p;
	if (!{{E}}_s.count)
		{{E}}_s.t_first = now;
	{{E}}_s.t_last = now;
	{{E}}_s.count++;
	{{E}}_s.bytes += p->len;
	return p;
}

static double {{E}}_per_sec(uint64_t amount)
{
	double dt = ({{E}}_s.t_last - {{E}}_s.t_first) / 1e9;
	return dt > 0 ? amount / dt : 0.0;
}

/* Over the interval first..latest, the first packet opens it: count - 1 arrivals. */
static int {{E}}_rate(char *buf, size_t n)
{
	return snprintf(buf, n, "%.0f", {{E}}_s.count > 1 ? {{E}}_per_sec({{E}}_s.count - 1) : 0.0);
}

static int {{E}}_byte_rate(char *buf, size_t n)
{
	return snprintf(buf, n, "%.0f", {{E}}_s.count > 1 ? {{E}}_per_sec({{E}}_s.bytes) * ({{E}}_s.count - 1) / {{E}}_s.count : 0.0);
}

static int {{E}}_bit_rate(char *buf, size_t n)
{
	return snprintf(buf, n, "%.0f", {{E}}_s.count > 1 ? 8 * {{E}}_per_sec({{E}}_s.bytes) * ({{E}}_s.count - 1) / {{E}}_s.count : 0.0);
}

static int {{E}}_reset(const char *v)
{
	memset(&{{E}}_s, 0, sizeof {{E}}_s);
	return 0;
}
"""

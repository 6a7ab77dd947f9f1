from uknfv.element import Element, Handler


class Counter(Element):
    name = "Counter"
    ports = "1/1"
    processing = "a/a"
    action = True
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets seen"),
        Handler("byte_count", "{{E}}_s.bytes", doc="bytes seen"),
        Handler("rate", "{{E}}_rate", kind="fn", doc="packets per second"),
        Handler("byte_rate", "{{E}}_byte_rate", kind="fn", doc="bytes per second"),
        Handler("bit_rate", "{{E}}_bit_rate", kind="fn", doc="bits per second"),
        Handler("reset", write="{{E}}_reset", doc="reset counts and rates"),
    )
    doc = """
    Counts packets and bytes passing through.

    Handlers count and byte_count give the totals; rate, byte_rate and
    bit_rate the average arrival rate per second between the first and the
    latest packet since the last reset (Click averages with an EWMA over
    recent packets instead; taking the time once per packet would double the
    cost of the element, so uknfv samples the clock once every 64 packets).
    """
    c = r"""
static struct {
	uint64_t count, bytes;
	uint64_t t_first, t_last, count_at_last, bytes_at_last;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	if (__builtin_expect(({{E}}_s.count & 63) == 0, 0)) {
		uint64_t now = rt_mono_ns();
		if (!{{E}}_s.count)
			{{E}}_s.t_first = now;
		{{E}}_s.t_last = now;
		{{E}}_s.count_at_last = {{E}}_s.count;
		{{E}}_s.bytes_at_last = {{E}}_s.bytes;
	}
	{{E}}_s.count++;
	{{E}}_s.bytes += p->len;
	return p;
}

static double {{E}}_per_sec(uint64_t amount)
{
	double dt = ({{E}}_s.t_last - {{E}}_s.t_first) / 1e9;
	return dt > 0 ? amount / dt : 0.0;
}

static int {{E}}_rate(char *buf, size_t n)
{
	return snprintf(buf, n, "%.0f", {{E}}_per_sec({{E}}_s.count_at_last));
}

static int {{E}}_byte_rate(char *buf, size_t n)
{
	return snprintf(buf, n, "%.0f", {{E}}_per_sec({{E}}_s.bytes_at_last));
}

static int {{E}}_bit_rate(char *buf, size_t n)
{
	return snprintf(buf, n, "%.0f", 8 * {{E}}_per_sec({{E}}_s.bytes_at_last));
}

static int {{E}}_reset(const char *v)
{
	memset(&{{E}}_s, 0, sizeof {{E}}_s);
	return 0;
}
"""

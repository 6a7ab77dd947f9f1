from uknfv.argtypes import Int
from uknfv.element import Arg, Element, Handler

from .stamp import HEADERS_LEN, STAMP_LEN, STAMP_MAGIC

SEQ_WINDOW = 65536          # sequence numbers remembered for duplicate detection
# Latency percentiles: name suffix, parts per million.
PERCENTILES = (("p50", 500000), ("p90", 900000), ("p99", 990000), ("p999", 999000),
               ("p9999", 999900))


def _latency_handlers():
    out = [Handler("latency_samples", "{{E}}_s.lat_n",
                   doc="stamped frames whose latency is in the histogram")]
    out.append(Handler("latency_min", "{{E}}_s.lat_n ? {{E}}_s.lat_min : 0",
                       doc="lowest latency, ns (0 without samples)"))
    out.append(Handler("latency_mean", "{{E}}_s.lat_n ? {{E}}_s.lat_sum / {{E}}_s.lat_n : 0",
                       doc="mean latency, ns (integer; 0 without samples)"))
    for name, ppm in PERCENTILES:
        label = name[0] + name[1:3] + ("." + name[3:] if len(name) > 3 else "")
        out.append(Handler(f"latency_{name}", f"{{{{E}}}}_pct({ppm}u)",
                           doc=f"{label} latency percentile, ns (0 without samples)"))
    out.append(Handler("latency_max", "{{E}}_s.lat_max", doc="highest latency, ns"))
    out.append(Handler("latency", "{{E}}_latency", kind="fn",
                       doc="all of them on one line: samples=N min=NS mean=NS p50=NS p90=NS "
                           "p99=NS p99.9=NS p99.99=NS max=NS"))
    out.append(Handler("latency_errors", "{{E}}_s.lat_err",
                       doc="stamped frames whose transmit time is later than their arrival "
                           "(another process's clock): not in the histogram"))
    return tuple(out)


class TrafficSink(Element):
    name = "TrafficSink"
    ports = "1/0-1"
    processing = "a/a"
    args = (
        Arg("BURST", Int(1, 1024), default=32,
            doc="pull input without output: packets pulled per round"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="stamped frames received (duplicates included)"),
        Handler("bytes", "{{E}}_s.bytes",
                doc="bytes of the stamped frames, as received (without FCS)"),
        Handler("lost", "{{E}}_lost()",
                doc="sequence numbers never seen between the lowest and the highest seen: "
                    "(max_seq - min_seq + 1) - (count - duplicates), at least 0"),
        Handler("reordered", "{{E}}_s.reordered",
                doc="stamped frames that arrived after one with a higher sequence number "
                    "(duplicates not included)"),
        Handler("duplicates", "{{E}}_s.dups",
                doc="stamped frames whose sequence number was already seen (within the "
                    "last 65536 sequence numbers)"),
        Handler("foreign", "{{E}}_s.foreign", doc="frames without a TrafficGen stamp"),
        Handler("foreign_bytes", "{{E}}_s.foreign_bytes", doc="bytes of the foreign frames"),
        Handler("min_seq", "{{E}}_seq_read_min", kind="fn",
                doc="lowest sequence number seen (-1: none)"),
        Handler("max_seq", "{{E}}_seq_read_max", kind="fn",
                doc="highest sequence number seen (-1: none)"),
        Handler("rate", "{{E}}_rate", kind="fn",
                doc="stamped frames per second, between the first and the latest since reset"),
        Handler("byte_rate", "{{E}}_byte_rate", kind="fn",
                doc="bytes of stamped frames per second (as rate)"),
    ) + _latency_handlers() + (
        Handler("reset", write="{{E}}_w_reset", doc="zero every counter and the histogram"),
    )
    doc = """
    Receives TrafficGen's stamped frames: counts, loss, reordering, latency.

    TrafficSink(KEYWORDS).  For every frame that carries TrafficGen's stamp
    (Ethernet, optionally one 802.1Q tag, IPv4 (any IHL, not a fragment),
    UDP, and the 16-bit magic 0x2544 at the start of the UDP payload, then
    the 64-bit sequence number and 64-bit transmit time, all big-endian) it
    counts the frame and its bytes, tracks the sequence number and puts
    now - transmit time into a latency histogram.  Other frames are counted
    apart as foreign.  With an output connected every frame (stamped or
    not) passes on unchanged; without one, every frame is consumed (freed).
    Ports: one input; zero or one output; agnostic (push, or pull: without
    an output and a pull input it runs as a task pulling BURST per round).

    Sequence numbers (of one generator: a sink cannot tell two apart):
    a frame with a higher sequence number than any seen is in order; one
    with a lower number that was seen before (among the last 65536) is a
    duplicate, otherwise it is reordered.  lost is (max_seq - min_seq + 1)
    minus the distinct frames received: the gaps in what arrived.  Frames
    lost after the last one that arrived cannot be seen by the sink: the
    total loss of a trial is the generator's count minus (count -
    duplicates) here, once the pipeline has drained.  While frames are in
    flight lost also counts the ones still on their way.

    Latency: ns on the process's monotonic clock (rt_mono_ns), the clock
    TrafficGen stamps with, so generator and sink must run in one process
    (one host, one clock).  The sink reads the clock once per scheduling
    round, when the first stamped frame of the round arrives, and every
    frame of that burst shares that time (the receive time of the burst;
    the generator likewise stamps a burst with one time).  The histogram is
    log-linear (HDR-like): exact below 128 ns, then 64 buckets per power of
    two, so a percentile is within 0.8% (the bucket's middle, clamped to
    the min and max seen), up to 2^40 ns (about 18 minutes; longer values
    count in the top bucket).  Percentile handlers give one integer each
    (ns); latency gives them all on one line.

    Bytes count the frame as received, without FCS (TrafficGen's LENGTH 64
    arrives as 60 bytes): add 4 per frame for RFC 2544 frame bytes.

    Example:
      FromDevice(rx) -> sink :: TrafficSink;
      // then: sink.count, sink.lost, sink.latency_p99 ...
    """
    c = r"""
#define {{E}}_MAGIC {{ v.magic }}u
#define {{E}}_WIN {{ v.window }}ull     /* sequence numbers remembered */
#define {{E}}_NB 2240u                  /* histogram buckets: 128 + 33 * 64 */
#define {{E}}_VMAX ((1ull << 40) - 1)

static struct {
	uint64_t count, bytes, foreign, foreign_bytes;
	uint64_t dups, reordered;
	uint64_t min_seq, max_seq;
	int any;                /* a stamped frame was seen since reset */
	int now_ok;             /* now is valid for this scheduling round */
	uint64_t now;
	uint64_t t_first, t_last, count_at_last, bytes_at_last;
	uint64_t lat_n, lat_sum, lat_min, lat_max, lat_err;
	uint64_t hist[{{E}}_NB];
	uint64_t win[{{E}}_WIN / 64];   /* bit s % WIN: sequence number s seen */
} {{E}}_s;

static inline uint64_t {{E}}_rd64(const uint8_t *b)
{
	return (uint64_t)rd32(b) << 32 | rd32(b + 4);
}

/* Log-linear buckets: v < 128 exactly; above, 64 per power of two. */
static inline unsigned {{E}}_bucket(uint64_t v)
{
	if (v < 128)
		return (unsigned)v;
	if (v > {{E}}_VMAX)
		v = {{E}}_VMAX;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);    /* 7 .. 39 */
	return 128u + (e - 7u) * 64u + (unsigned)((v >> (e - 6u)) & 63u);
}

static uint64_t {{E}}_bucket_mid(unsigned i)
{
	if (i < 128)
		return i;
	unsigned e = 7u + (i - 128u) / 64u, m = (i - 128u) % 64u;
	uint64_t w = 1ull << (e - 6u);
	return ((64ull + m) << (e - 6u)) + w / 2;
}

/* The latency at parts-per-million ppm (nearest rank), ns. */
static uint64_t {{E}}_pct(uint64_t ppm)
{
	uint64_t n = {{E}}_s.lat_n;
	if (!n)
		return 0;
	uint64_t rank = n / 1000000u * ppm + ((n % 1000000u) * ppm + 999999u) / 1000000u;
	if (rank < 1)
		rank = 1;
	uint64_t cum = 0;
	for (unsigned i = 0; i < {{E}}_NB; i++) {
		cum += {{E}}_s.hist[i];
		if (cum >= rank) {
			uint64_t x = {{E}}_bucket_mid(i);
			if (x < {{E}}_s.lat_min)
				x = {{E}}_s.lat_min;
			if (x > {{E}}_s.lat_max)
				x = {{E}}_s.lat_max;
			return x;
		}
	}
	return {{E}}_s.lat_max;
}

static int {{E}}_latency(char *buf, size_t n)
{
	uint64_t k = {{E}}_s.lat_n;
	return snprintf(buf, n, "samples=%llu min=%llu mean=%llu p50=%llu p90=%llu p99=%llu "
			"p99.9=%llu p99.99=%llu max=%llu", (unsigned long long)k,
			(unsigned long long)(k ? {{E}}_s.lat_min : 0),
			(unsigned long long)(k ? {{E}}_s.lat_sum / k : 0),
			(unsigned long long){{E}}_pct(500000u), (unsigned long long){{E}}_pct(900000u),
			(unsigned long long){{E}}_pct(990000u), (unsigned long long){{E}}_pct(999000u),
			(unsigned long long){{E}}_pct(999900u), (unsigned long long){{E}}_s.lat_max);
}

static uint64_t {{E}}_lost(void)
{
	if (!{{E}}_s.any)
		return 0;
	uint64_t span = {{E}}_s.max_seq - {{E}}_s.min_seq + 1;
	uint64_t uniq = {{E}}_s.count - {{E}}_s.dups;
	return span > uniq ? span - uniq : 0;
}

static int {{E}}_seq_read_min(char *buf, size_t n)
{
	if (!{{E}}_s.any)
		return snprintf(buf, n, "-1");
	return snprintf(buf, n, "%llu", (unsigned long long){{E}}_s.min_seq);
}

static int {{E}}_seq_read_max(char *buf, size_t n)
{
	if (!{{E}}_s.any)
		return snprintf(buf, n, "-1");
	return snprintf(buf, n, "%llu", (unsigned long long){{E}}_s.max_seq);
}

static int {{E}}_per_sec(char *buf, size_t n, uint64_t amount)
{
	uint64_t dt = {{E}}_s.t_last - {{E}}_s.t_first;
	return snprintf(buf, n, "%.0f", dt ? (double)amount * 1e9 / (double)dt : 0.0);
}

static int {{E}}_rate(char *buf, size_t n)
{
	return {{E}}_per_sec(buf, n, {{E}}_s.count_at_last);
}

static int {{E}}_byte_rate(char *buf, size_t n)
{
	return {{E}}_per_sec(buf, n, {{E}}_s.bytes_at_last);
}

static int {{E}}_w_reset(const char *v)
{
	(void)v;
	memset(&{{E}}_s, 0, sizeof {{E}}_s);
	return 0;
}

static inline int {{E}}_bit(uint64_t s)
{
	return ({{E}}_s.win[(s % {{E}}_WIN) / 64] >> (s % 64)) & 1;
}

static inline void {{E}}_set(uint64_t s)
{
	{{E}}_s.win[(s % {{E}}_WIN) / 64] |= 1ull << (s % 64);
}

/* Forget sequence numbers [a, b) (b - a < WIN): their bits are reused. */
static void {{E}}_clear(uint64_t a, uint64_t b)
{
	for (; a < b && (a % 64); a++)
		{{E}}_s.win[(a % {{E}}_WIN) / 64] &= ~(1ull << (a % 64));
	for (; b - a >= 64; a += 64)
		{{E}}_s.win[(a % {{E}}_WIN) / 64] = 0;
	for (; a < b; a++)
		{{E}}_s.win[(a % {{E}}_WIN) / 64] &= ~(1ull << (a % 64));
}

/* Track seq; returns 0, or 1 for a duplicate. */
static inline int {{E}}_track(uint64_t seq)
{
	if (__builtin_expect(!{{E}}_s.any, 0)) {
		{{E}}_s.any = 1;
		{{E}}_s.min_seq = {{E}}_s.max_seq = seq;
		{{E}}_set(seq);
		return 0;
	}
	if (__builtin_expect(seq > {{E}}_s.max_seq, 1)) {
		uint64_t gap = seq - {{E}}_s.max_seq;
		if (__builtin_expect(gap > 1, 0)) {
			if (gap >= {{E}}_WIN)
				memset({{E}}_s.win, 0, sizeof {{E}}_s.win);
			else
				{{E}}_clear({{E}}_s.max_seq + 1, seq);
		}
		{{E}}_set(seq);
		{{E}}_s.max_seq = seq;
		return 0;
	}
	if ({{E}}_s.max_seq - seq < {{E}}_WIN) {
		if ({{E}}_bit(seq)) {
			{{E}}_s.dups++;
			return 1;
		}
		{{E}}_set(seq);
	}
	{{E}}_s.reordered++;
	if (seq < {{E}}_s.min_seq)
		{{E}}_s.min_seq = seq;
	return 0;
}

/* The stamp of p, or NULL when p does not carry one. */
static inline const uint8_t *{{E}}_stamp(const struct pkt *p)
{
	const uint8_t *d = p->data;
	uint32_t len = p->len, off = 14;
	if (len < {{ v.min_len }}u)
		return NULL;
	uint16_t et = rd16(d + 12);
	if (et == 0x8100) {
		et = rd16(d + 16);
		off = 18;
	}
	if (et != 0x0800)
		return NULL;
	const uint8_t *ip = d + off;
	uint32_t ihl = (ip[0] & 15u) * 4u;
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17 || (rd16(ip + 6) & 0x3fffu))
		return NULL;
	uint32_t st = off + ihl + 8;
	if (st + {{ v.stamp_len }}u > len || rd16(ip + 2) < ihl + 8 + {{ v.stamp_len }}u)
		return NULL;
	if (rd16(d + st) != {{E}}_MAGIC)
		return NULL;
	return d + st;
}

static inline void {{E}}_see(struct pkt *p)
{
	const uint8_t *st = {{E}}_stamp(p);
	if (!st) {
		{{E}}_s.foreign++;
		{{E}}_s.foreign_bytes += p->len;
		return;
	}
	if (!{{E}}_s.now_ok) {
		/* the first stamped frame of this round: read the clock once */
		uint64_t now = rt_mono_ns();
		{{E}}_s.now = now;
		{{E}}_s.now_ok = 1;
		if (!{{E}}_s.count)
			{{E}}_s.t_first = now;
		{{E}}_s.t_last = now;
		{{E}}_s.count_at_last = {{E}}_s.count;
		{{E}}_s.bytes_at_last = {{E}}_s.bytes;
	}
	{{E}}_track({{E}}_rd64(st + 2));
	{{E}}_s.count++;
	{{E}}_s.bytes += p->len;
	uint64_t ts = {{E}}_rd64(st + 10), now = {{E}}_s.now;
	if (__builtin_expect(ts > now, 0)) {
		{{E}}_s.lat_err++;
		return;
	}
	uint64_t lat = now - ts;
	{{E}}_s.hist[{{E}}_bucket(lat)]++;
	if (!{{E}}_s.lat_n++ || lat < {{E}}_s.lat_min)
		{{E}}_s.lat_min = lat;
	if (lat > {{E}}_s.lat_max)
		{{E}}_s.lat_max = lat;
	{{E}}_s.lat_sum += lat;
}

{% if in_push[0] %}
static inline void {{E}}_push0(struct pkt *p)
{
	{{E}}_see(p);
{% if nout %}
	{{ out[0] }}(p);
{% else %}
	pkt_kill(p);
{% endif %}
}

/* A new scheduling round: the next stamped frame reads the clock again. */
static unsigned {{E}}_run(void)
{
	{{E}}_s.now_ok = 0;
	return 0;
}
{% elif nout %}
static inline struct pkt *{{E}}_pull0(void)
{
	struct pkt *p = {{ inp[0] }}();
	if (p)
		{{E}}_see(p);
	return p;
}

static unsigned {{E}}_run(void)
{
	{{E}}_s.now_ok = 0;
	return 0;
}
{% else %}
static unsigned {{E}}_run(void)
{
	unsigned n = 0;
	{{E}}_s.now_ok = 0;
	for (; n < {{ a.BURST }}; n++) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		{{E}}_see(p);
		pkt_kill(p);
	}
	return n;
}
{% endif %}
"""

    def configure(self, inst):
        inst.vars["magic"] = STAMP_MAGIC
        inst.vars["window"] = SEQ_WINDOW
        inst.vars["stamp_len"] = STAMP_LEN
        inst.vars["min_len"] = HEADERS_LEN + STAMP_LEN

    def task_kind(self, inst):
        # Every variant has a task: it marks the start of a scheduling round
        # (the clock is read once per round); without an output, a pull input
        # is drained by it.
        return "driver"

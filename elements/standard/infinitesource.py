from uknfv.argtypes import Bool, Data, Int
from uknfv.element import Arg, Element, Handler

# Click's default packet contents (69 bytes of ASCII, no NUL, no newline).
DEFAULT_DATA = b"Random bullshit in a packet, at least 64 bytes long. Well, now it is."

# Bytes a packet buffer holds from its data pointer on (PKT_DATAROOM in pkt.h).
MAX_PACKET = 2048


def packet_bytes(inst, data: bytes, length: int) -> bytes:
    """Click's rule: DATA as is (LENGTH < 0), cut to LENGTH, or repeated up to LENGTH."""
    if length < 0:
        out = data
    elif length <= len(data):
        out = data[:length]
    elif not data:
        raise inst.error(f"LENGTH {length} needs some DATA to repeat (DATA is empty)", "LENGTH")
    else:
        out = (data * (length // len(data) + 1))[:length]
    if len(out) > MAX_PACKET:
        which = "LENGTH" if length >= 0 else "DATA"
        raise inst.error(f"a packet of {len(out)} bytes does not fit a packet buffer "
                         f"(at most {MAX_PACKET} bytes)", which)
    return out


def merge_length(inst) -> int:
    """LENGTH, or its deprecated alias DATASIZE (not both)."""
    length, datasize = inst.args.get("LENGTH"), inst.args.get("DATASIZE")
    if length is not None and datasize is not None:
        raise inst.error("LENGTH and DATASIZE are the same argument: give only LENGTH", "DATASIZE")
    v = length if length is not None else datasize
    return -1 if v is None else v



# The `data` read handler of the sources (needs E_data and E_LEN).
# A source's LIMIT and STOP (InfiniteSource, RatedSource, TrafficGen): the
# element's C keeps `E_s.limit` (-1: none) and `E_s.ended`; this adds the
# `limit` read/write handlers and `E_end()`, called when LIMIT is reached
# (with STOP true it tells the runtime this source is done).
C_LIMIT_STOP = r"""
static int {{E}}_limit(char *buf, size_t n)
{
	return snprintf(buf, n, "%lld", (long long){{E}}_s.limit);
}

static int {{E}}_w_limit(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x))
		return -1;
	{{E}}_s.limit = x < 0 ? -1 : x;
	return 0;
}

static void {{E}}_end(void)
{
{% if a.STOP %}
	if (!{{E}}_s.ended) {
		{{E}}_s.ended = 1;
		rt_source_done();
	}
{% endif %}
}
"""


C_READ_DATA = r"""
/* The packet contents for the `data` handler: the first 96 bytes, escaped
 * like a C string, then "..." if there is more. */
static int {{E}}_read_data(char *buf, size_t n)
{
	size_t o = 0;
	unsigned i;
	for (i = 0; i < {{E}}_LEN && i < 96 && o + 8 < n; i++) {
		uint8_t c = {{E}}_data[i];
		if (c >= 32 && c < 127 && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
	}
	if (i < {{E}}_LEN && o + 4 < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	if (n)
		buf[o < n ? o : n - 1] = 0;
	return (int)o;
}
"""


class InfiniteSource(Element):
    name = "InfiniteSource"
    ports = "0/1"
    processing = "a"
    stop_source = True
    timed = True
    args = (
        Arg("DATA", Data(), positional=True, default=DEFAULT_DATA,
            doc="packet contents (default: Click's 69-byte text)"),
        Arg("LIMIT", Int(), positional=True, default=-1,
            doc="total packets to emit; negative means no limit"),
        Arg("BURST", Int(1, 1 << 20), positional=True, default=1,
            doc="packets emitted per scheduling round (push output)"),
        Arg("ACTIVE", Bool(), positional=True, default=True,
            doc="emit at once (else wait for the active handler)"),
        Arg("TIMESTAMP", Bool(), default=True,
            doc="set each packet's timestamp annotation to the current time"),
        Arg("LENGTH", Int(), default=None,
            doc="packet length: DATA cut or repeated to LENGTH bytes (negative: DATA's length)"),
        Arg("DATASIZE", Int(), default=None, doc="deprecated alias of LENGTH"),
        Arg("STOP", Bool(), default=False,
            doc="end the run once LIMIT packets were emitted"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets emitted"),
        Handler("reset", write="{{E}}_w_reset", doc="set count to 0 (emitting again up to LIMIT)"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it emits"),
        Handler("limit", "{{E}}_limit", kind="fn", write="{{E}}_w_limit",
                doc="total packets to emit (-1: no limit)"),
        Handler("burst", "{{E}}_s.burst", write="{{E}}_w_burst", doc="packets per round"),
        Handler("length", "{{E}}_LEN", doc="packet length in bytes"),
        Handler("data", "{{E}}_read_data", kind="fn",
                doc="packet contents (first 96 bytes; non-printable ones as \\xHH)"),
    )
    doc = """
    Generates packets: the same contents, as fast as the pipeline takes them.

    InfiniteSource(DATA, LIMIT, BURST, ACTIVE, KEYWORDS).  Each packet holds
    DATA (by default Click's 69-byte text "Random bullshit in a packet, at
    least 64 bytes long. Well, now it is."); with LENGTH, DATA is cut to
    LENGTH bytes or repeated until it fills them.  On a push output the
    element runs as a task and emits BURST packets per scheduling round; on
    a pull output it answers each pull with one packet.  It stops after LIMIT
    packets in total (negative: never); with STOP true the run ends once the
    limit is reached (on the round after the last packet, as in Click; a
    run with several STOP sources ends when all of them are done).  With
    TIMESTAMP true (the default) each packet's timestamp annotation is the
    wall-clock time of its burst (the clock is read once per burst, not per
    packet).  No other annotation is set.

    The contents and length are compile-time constants: building a packet is
    one allocation from the buffer pool and one fixed-size copy.  When the
    pool is empty the element emits fewer packets this round (counted in the
    pool's alloc_failures) and retries on the next.  Click's defaults
    (BURST 1, TIMESTAMP true) read the clock for every packet, which costs
    more than making it: for throughput, use BURST 32 and TIMESTAMP false
    (about 5x more packets per second with a trivial pipeline).

    Differences from Click: END_CALL is not supported (use STOP); the data
    and length handlers are read-only (contents are compiled in); Click
    pauses the source while a downstream Queue is full (full notifier),
    whereas here the Queue drops (and counts) the excess: use BURST and
    queue capacities that fit, or an Unqueue/pull path.

    Example: InfiniteSource(LENGTH 64, LIMIT 1000000, BURST 32, STOP true) -> Discard
    """
    c = r"""
#define {{E}}_LEN {{ v.len }}u
static const uint8_t {{E}}_data[{{ v.alloc }}] = {{ v.data | c_bytes }};
_Static_assert({{E}}_LEN <= PKT_DATAROOM, "InfiniteSource packet larger than a buffer");

static struct {
	uint64_t count;
	int64_t limit;
	uint32_t burst;
	int active;
	int ended;
} {{E}}_s = { 0, {{ v.limit }}, {{ a.BURST }}, {{ 1 if a.ACTIVE else 0 }}, 0 };
""" + C_READ_DATA + C_LIMIT_STOP + r"""
static int {{E}}_w_reset(const char *v)
{
	{{E}}_s.count = 0;
	return 0;
}

static int {{E}}_w_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

static int {{E}}_w_burst(const char *v)
{
	int64_t x;
	if (rt_parse_i64(v, &x) || x < 1 || x > (1 << 20))
		return -1;
	{{E}}_s.burst = (uint32_t)x;
	return 0;
}


static inline void {{E}}_fill(struct pkt *p, uint64_t ts)
{
	memcpy(p->data, {{E}}_data, {{E}}_LEN);
	p->len = {{E}}_LEN;
{% if a.TIMESTAMP %}
	p->ts_ns = ts;
{% endif %}
}

{% if out_push[0] %}
static unsigned {{E}}_run(void)
{
	if (__builtin_expect(!{{E}}_s.active, 0))
		return 0;
	uint64_t n = {{E}}_s.burst;
	if ({{E}}_s.limit >= 0 && {{E}}_s.count + n >= (uint64_t){{E}}_s.limit) {
		n = {{E}}_s.count >= (uint64_t){{E}}_s.limit ? 0 : (uint64_t){{E}}_s.limit - {{E}}_s.count;
		if (!n) {
			{{E}}_end();
			return 0;
		}
	}
{% if a.TIMESTAMP %}
	uint64_t ts = rt_now_ns();
{% else %}
	uint64_t ts = 0;
{% endif %}
	/* Fill a whole chunk first, then push: like a NIC's RX burst, and it
	 * keeps the data stores of one packet away from the header loads of
	 * the next (store-forwarding stalls otherwise serialise packets). */
	uint64_t done = 0;
	while (done < n) {
		struct pkt *chunk[32];
		unsigned k = 0, want = n - done < 32 ? (unsigned)(n - done) : 32;
		for (; k < want; k++) {
			struct pkt *p = pkt_alloc();
			if (__builtin_expect(!p, 0))
				break;
			{{E}}_fill(p, ts);
			chunk[k] = p;
		}
		for (unsigned j = 0; j < k; j++)
			{{ out[0] }}(chunk[j]);
		done += k;
		if (k < want)
			break;
	}
	{{E}}_s.count += done;
	return (unsigned)done;
}
{% else %}
static inline struct pkt *{{E}}_pull0(void)
{
	if (!{{E}}_s.active)
		return NULL;
	if ({{E}}_s.limit >= 0 && {{E}}_s.count >= (uint64_t){{E}}_s.limit) {
		{{E}}_end();
		return NULL;
	}
	struct pkt *p = pkt_alloc();
	if (!p)
		return NULL;
{% if a.TIMESTAMP %}
	{{E}}_fill(p, rt_now_ns());
{% else %}
	{{E}}_fill(p, 0);
{% endif %}
	{{E}}_s.count++;
	return p;
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

    def task_kind(self, inst):
        return "source" if inst.out_proc[0] == "push" else None

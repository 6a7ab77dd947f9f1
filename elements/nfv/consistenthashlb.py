import re

from uknfv.argtypes import ArgError, ArgType, Int
from uknfv.element import Arg, Element, Handler

MAX_BACKENDS = 256


class Backends(ArgType):
    """A number of backends N, or a space-separated list of backend names."""

    name = "backend count or list"

    def parse(self, text):
        words = text.split()
        if not words:
            raise ArgError("expected a number of backends or a list of backend names")
        if len(words) == 1 and re.fullmatch(r"[0-9]+", words[0]):
            n = int(words[0])
            if not 1 <= n <= MAX_BACKENDS:
                raise ArgError(f"number of backends {n} out of range (1-{MAX_BACKENDS})")
            return [str(i) for i in range(n)]
        if len(words) > MAX_BACKENDS:
            raise ArgError(f"too many backends ({len(words)}; at most {MAX_BACKENDS})")
        for w in words:
            if not re.fullmatch(r"[A-Za-z0-9_.:/-]+", w):
                raise ArgError(f"bad backend name '{w}' (letters, digits and _.:/- only)")
        if len(set(words)) != len(words):
            dup = next(w for w in words if words.count(w) > 1)
            raise ArgError(f"backend '{dup}' given twice")
        return words


class Words(ArgType):
    name = "list of backends"

    def parse(self, text):
        return text.split()


def fnv1a64(s: str) -> int:
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


class ConsistentHashLB(Element):
    name = "ConsistentHashLB"
    ports = "1-/1-"
    processing = "h/h"
    init = True
    args = (
        Arg("BACKENDS", Backends(), positional=True, required=True,
            doc="the number of backends N, or their names (space-separated); output i is backend i"),
        Arg("OFFSET", Int(0, 65535, "unsigned integer"), default=14,
            doc="where the IPv4 header starts (14: after an Ethernet header)"),
        Arg("BUCKETS", Int(16, 1 << 20), default=4096,
            doc="size of the lookup table (a power of two): flows are hashed to buckets"),
        Arg("SEED", Int(0, (1 << 32) - 1), default=0, doc="hash seed"),
        Arg("DOWN", Words(), doc="backends that start down (numbers or names)"),
    )
    handlers = (
        Handler("backends", "{{E}}_r_backends", kind="fn",
                doc="one line per backend: 'INDEX<TAB>NAME<TAB>up|down<TAB>PACKETS'"),
        Handler("down", write="{{E}}_w_down", doc="write a backend's index or name: take it out"),
        Handler("up", write="{{E}}_w_up", doc="write a backend's index or name: put it back"),
        Handler("nup", "{{E}}_s.nup", doc="number of backends up"),
        Handler("count", "{{E}}_s.count", doc="packets sent to a backend"),
        Handler("drops", "{{E}}_s.drops", doc="packets dropped: not IPv4, or no backend up"),
    )
    doc = """
    Spreads flows over backends by consistent hashing: each flow sticks to its backend.

    ConsistentHashLB(BACKENDS [, KEYWORDS]).  BACKENDS is a number N or a
    list of N names (e.g. `BACKENDS 10.0.0.1 10.0.0.2 10.0.0.3`); packets
    for backend i leave on output i.  The IPv4 header starts OFFSET bytes in
    (default 14).  A flow is the 5-tuple: source and destination address,
    protocol, and source and destination port for TCP and UDP (for other
    protocols and for fragments, the ports count as 0).  The flow's hash
    picks one of BUCKETS table entries, and the table maps each bucket to a
    backend by rendezvous (highest-random-weight) hashing: the bucket goes
    to the up backend with the highest hash of (bucket, backend name).

    So when a backend goes down only the buckets that were on it move
    (spread evenly over the others), and when it comes back exactly those
    buckets return to it; the flows of every other backend never move.
    Since the weights hash the backend's name, not its position, a backend
    keeps its flows whatever the other backends are.  The packet data is
    not changed (put an EtherRewrite or an encapsulation after each output).

    Handlers: `down` and `up` (write a backend's index or name; the table
    is rebuilt at once), `backends` (read: index, name, up/down, packets
    sent), `nup`, `count`, `drops` (packets too short or not IPv4, and
    packets arriving while every backend is down).  DOWN lists backends
    that start down.  This element is not in Click.

    Example: lb :: ConsistentHashLB(3); lb[0] -> ...; lb[1] -> ...; lb[2] -> ...
    then `uknfv write SOCK lb.down 1`.
    """
    c = r"""
#define {{E}}_N {{ v.n }}
#define {{E}}_B {{ a.BUCKETS }}u
static const uint64_t {{E}}_seed[{{E}}_N] = { {% for s in v.seeds %}{{ s }}ull, {% endfor %} };
static const char *const {{E}}_names[{{E}}_N] = { {% for s in v.names %}{{ s | c_str }}, {% endfor %} };
static struct {
	uint16_t table[{{E}}_B];
	uint8_t up[{{E}}_N];
	uint64_t pkts[{{E}}_N];
	uint64_t nup, count, drops;
} {{E}}_s;

static inline uint64_t {{E}}_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static void {{E}}_rebuild(void)
{
	uint64_t nup = 0;
	for (unsigned i = 0; i < {{E}}_N; i++)
		nup += {{E}}_s.up[i];
	{{E}}_s.nup = nup;
	for (uint32_t b = 0; b < {{E}}_B; b++) {
		uint64_t kb = {{E}}_mix((uint64_t)b + {{ v.seed }}ull), best = 0;
		unsigned who = 0xffff;
		for (unsigned i = 0; i < {{E}}_N; i++) {
			uint64_t w;
			if (!{{E}}_s.up[i])
				continue;
			w = {{E}}_mix(kb ^ {{E}}_seed[i]);
			if (who == 0xffff || w > best) {
				best = w;
				who = i;
			}
		}
		{{E}}_s.table[b] = (uint16_t)who;
	}
}

static int {{E}}_init(void)
{
	for (unsigned i = 0; i < {{E}}_N; i++)
		{{E}}_s.up[i] = 1;
{% for i in v.down %}
	{{E}}_s.up[{{ i }}] = 0;
{% endfor %}
	{{E}}_rebuild();
	return 0;
}

static inline uint32_t {{E}}_flow(const uint8_t *ip, uint32_t avail)
{
	uint32_t hl = (uint32_t)(ip[0] & 15) << 2;
	uint64_t a = (uint64_t)rd32(ip + 12) << 32 | rd32(ip + 16);
	uint64_t b = (uint64_t)ip[9] << 32;
	if ((ip[9] == 6 || ip[9] == 17) && (rd16(ip + 6) & 0x3fff) == 0 && hl >= 20 && avail >= hl + 4)
		b |= rd32(ip + hl);
	return (uint32_t){{E}}_mix({{E}}_mix(a ^ {{ v.seed }}ull) ^ b);
}

{% for i in range(nin) %}
static inline void {{E}}_push{{ i }}(struct pkt *p)
{
	int32_t avail = (int32_t)p->len - {{ a.OFFSET }};
	const uint8_t *ip = p->data + {{ a.OFFSET }};
	unsigned who;
	if (__builtin_expect(avail < 20 || (ip[0] >> 4) != 4, 0))
		goto drop;
	who = {{E}}_s.table[{{E}}_flow(ip, (uint32_t)avail) & ({{E}}_B - 1)];
	{{E}}_s.count++;
	switch (who) {
{% for j in range(nout) %}
	case {{ j }}: {{E}}_s.pkts[{{ j }}]++; {{ out[j] }}(p); return;
{% endfor %}
	default:
		{{E}}_s.count--;
		break;
	}
drop:
	{{E}}_s.drops++;
	pkt_kill(p);
}
{% endfor %}

static int {{E}}_r_backends(char *buf, size_t n)
{
	size_t o = 0;
	for (unsigned i = 0; i < {{E}}_N; i++) {
		int k = snprintf(buf + (o < n ? o : n), o < n ? n - o : 0, "%u\t%s\t%s\t%llu\n", i,
				 {{E}}_names[i], {{E}}_s.up[i] ? "up" : "down",
				 (unsigned long long){{E}}_s.pkts[i]);
		if (k > 0)
			o += (size_t)k;
	}
	return (int)o;
}

static int {{E}}_which(const char *v)
{
	char w[64];
	size_t k = 0;
	int64_t x;
	while (*v == ' ' || *v == '\t')
		v++;
	while (v[k] && v[k] != ' ' && v[k] != '\t' && v[k] != '\n' && v[k] != '\r' && k < sizeof w - 1) {
		w[k] = v[k];
		k++;
	}
	w[k] = 0;
	for (unsigned i = 0; i < {{E}}_N; i++)
		if (strcmp(w, {{E}}_names[i]) == 0)
			return (int)i;
	if (rt_parse_i64(v, &x) == 0 && x >= 0 && x < {{E}}_N)
		return (int)x;
	return -1;
}

static int {{E}}_set(const char *v, int up)
{
	int i = {{E}}_which(v);
	if (i < 0)
		return -1;
	if ({{E}}_s.up[i] != up) {
		{{E}}_s.up[i] = (uint8_t)up;
		{{E}}_rebuild();
	}
	return 0;
}

static int {{E}}_w_down(const char *v) { return {{E}}_set(v, 0); }
static int {{E}}_w_up(const char *v) { return {{E}}_set(v, 1); }
"""

    def configure(self, inst):
        a = inst.args
        names = a["BACKENDS"]
        b = a["BUCKETS"]
        if b & (b - 1):
            raise inst.error(f"BUCKETS {b} is not a power of two", "BUCKETS")
        down = []
        for d in a["DOWN"] or []:
            if d in names:
                down.append(names.index(d))
            elif d.isdigit() and int(d) < len(names):
                down.append(int(d))
            else:
                raise inst.error(f"DOWN: no backend '{d}'", "DOWN")
        inst.vars.update(n=len(names), names=names, down=sorted(set(down)), seed=a["SEED"],
                         seeds=[fnv1a64(f"{n}") for n in names])

    def port_counts(self, inst, nin, nout):
        n = inst.vars["n"]
        if nout != n:
            raise inst.error(f"{n} backend{'s' if n != 1 else ''} but {nout} connected output"
                             f"{'s' if nout != 1 else ''} (output i is backend i)", "BACKENDS")
        return nin, nout

from uknfv.argtypes import Seconds, UInt
from uknfv.element import Arg, Element, Handler

NS = 1_000_000_000


class EtherSwitch(Element):
    name = "EtherSwitch"
    ports = "2-/="
    processing = "h/h"
    args = (
        Arg("TIMEOUT", Seconds(), default=300 * NS,
            doc="an address is forgotten after this long without a frame from it "
                "(default 300 s; 0: no learning, a hub)"),
        Arg("CAPACITY", UInt(1 << 20), default=1024,
            doc="addresses the table holds (fixed at build time; default 1024)"),
    )
    handlers = (
        Handler("table", "{{E}}_h_table", kind="fn",
                doc="one line per live entry: 'MAC PORT AGE' (MAC as XX-XX-XX-XX-XX-XX, "
                    "AGE in whole seconds since the last frame from MAC)"),
        Handler("timeout", "{{E}}_r_timeout", kind="fn", write="{{E}}_w_timeout",
                doc="TIMEOUT in seconds (write: a non-negative number of seconds; 0 makes a hub)"),
        Handler("count", "{{E}}_s.count", doc="frames received, on all inputs"),
        Handler("drops", "{{E}}_s.drops",
                doc="frames dropped: destination learnt on the input port, shorter than "
                    "14 bytes, or a flood copy that could not be allocated"),
        Handler("floods", "{{E}}_s.floods",
                doc="frames flooded (group or unknown destination) to every other port"),
    )
    doc = """
    A learning, forwarding Ethernet switch among N LANs.

    EtherSwitch([TIMEOUT, CAPACITY]).  N inputs and N outputs (N >= 2),
    push: input I and output I are port I, one LAN.  A frame arriving on
    input I with source address A associates A with port I (moving it if
    A was on another port; group source addresses are not learnt).  A
    frame to a learnt unicast address leaves on that address's port,
    unless that is port I: then it is dropped (counted in `drops`).  A
    frame to a broadcast or multicast address, or to an address not in
    the table, is flooded (counted in `floods`): a copy leaves on every
    output except output I, the original on the highest such output,
    copies in ascending port order.  Frames are not modified.

    An association lasts TIMEOUT (Click's keyword; default 300 s) after
    the last frame from its address; TIMEOUT 0 turns off learning (the
    element is a hub, as in Click).  Time is the frame's timestamp
    annotation when it has one (FromDump sets it from the capture), else
    the wall clock; it never goes backwards.

    Handlers: `table` (one line per live entry, `MAC PORT AGE`, MAC as
    XX-XX-XX-XX-XX-XX, AGE the whole seconds since the address was last
    seen), `timeout` (read/write, seconds), `count`
    (frames received), `drops`, `floods`.

    Differences from Click: the table holds CAPACITY addresses fixed at
    build time (default 1024; Click's is unbounded).  When it is full of
    live entries a new source address is not learnt (its frames are still
    forwarded; frames to it are flooded); expired entries are reclaimed
    when found and, when the table is full, by a sweep at most once per
    second of packet time (or per TIMEOUT, if shorter).  Frames shorter
    than an Ethernet header are dropped and counted.

    Example: FromDevice(a) -> sw :: EtherSwitch -> ToDevice(a);
             FromDevice(b) -> [1]sw[1] -> ToDevice(b);
    """
    c = r"""
#define {{E}}_NSLOT {{ v.nslot }}u
#define {{E}}_CAP {{ v.cap }}u
struct {{E}}_ent {
	uint64_t mac;           /* 48-bit address */
	uint64_t t;             /* last frame from it */
	uint16_t port;
	uint8_t used;
};
static struct {
	struct {{E}}_ent e[{{E}}_NSLOT];
	uint32_t nentries;
	uint64_t timeout, now, next_sweep;
	int wall;               /* the last time came from the wall clock */
	uint64_t count, drops, floods;
} {{E}}_s = { .timeout = {{ v.timeout }}ull };

static inline uint64_t {{E}}_key(const uint8_t *m)
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
	       (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | m[5];
}

static inline uint32_t {{E}}_home(uint64_t k)
{
	return (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> 40) & ({{E}}_NSLOT - 1);
}

static inline int {{E}}_expired(const struct {{E}}_ent *e)
{
	return {{E}}_s.now - e->t > {{E}}_s.timeout;
}

/* Empty slot i (linear probing: shift the following run back). */
static void {{E}}_del(uint32_t i)
{
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & ({{E}}_NSLOT - 1);
		if (!{{E}}_s.e[j].used)
			break;
		uint32_t k = {{E}}_home({{E}}_s.e[j].mac);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		{{E}}_s.e[i] = {{E}}_s.e[j];
		i = j;
	}
	{{E}}_s.e[i].used = 0;
	{{E}}_s.nentries--;
}

static void {{E}}_sweep(void)
{
	for (uint32_t i = 0; i < {{E}}_NSLOT; i++)
		while ({{E}}_s.e[i].used && {{E}}_expired(&{{E}}_s.e[i]))
			{{E}}_del(i);
}

/* The live entry for k, or NULL (an expired one found is removed). */
static struct {{E}}_ent *{{E}}_find(uint64_t k)
{
	for (uint32_t i = {{E}}_home(k), n = 0; n < {{E}}_NSLOT; n++, i = (i + 1) & ({{E}}_NSLOT - 1)) {
		struct {{E}}_ent *e = &{{E}}_s.e[i];
		if (!e->used)
			return NULL;
		if (e->mac == k) {
			if ({{E}}_expired(e)) {
				{{E}}_del(i);
				return NULL;
			}
			return e;
		}
	}
	return NULL;
}

static void {{E}}_learn(uint64_t k, unsigned port)
{
	struct {{E}}_ent *e = {{E}}_find(k);
	if (!e) {
		if ({{E}}_s.nentries >= {{E}}_CAP) {
			if ({{E}}_s.now < {{E}}_s.next_sweep)
				return;
			uint64_t iv = {{E}}_s.timeout < 1000000000ull ? {{E}}_s.timeout : 1000000000ull;
			{{E}}_s.next_sweep = {{E}}_s.now + iv;
			{{E}}_sweep();
			if ({{E}}_s.nentries >= {{E}}_CAP)
				return;
		}
		uint32_t i = {{E}}_home(k);
		while ({{E}}_s.e[i].used)
			i = (i + 1) & ({{E}}_NSLOT - 1);
		e = &{{E}}_s.e[i];
		e->used = 1;
		e->mac = k;
		{{E}}_s.nentries++;
	}
	e->port = (uint16_t)port;
	e->t = {{E}}_s.now;
}

static inline void {{E}}_out(unsigned j, struct pkt *p)
{
	switch (j) {
{% for j in range(nout - 1) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default: {{ out[nout - 1] }}(p);
	}
}

static void {{E}}_flood(unsigned in, struct pkt *p)
{
	unsigned last = in == {{ nout - 1 }}u ? {{ nout - 2 }}u : {{ nout - 1 }}u;
	{{E}}_s.floods++;
	for (unsigned j = 0; j < last; j++) {
		if (j == in)
			continue;
		struct pkt *q = pkt_clone(p);
		if (!q) {
			{{E}}_s.drops++;
			continue;
		}
		{{E}}_out(j, q);
	}
	{{E}}_out(last, p);
}

static void {{E}}_push(unsigned in, struct pkt *p)
{
	{{E}}_s.count++;
	if (__builtin_expect(p->len < 14, 0)) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return;
	}
	uint64_t now = p->ts_ns;
	{{E}}_s.wall = !now;
	if (!now)
		now = rt_now_ns();
	if (now > {{E}}_s.now)
		{{E}}_s.now = now;
	const uint8_t *d = p->data;
	if (!{{E}}_s.timeout) {
		{{E}}_flood(in, p);
		return;
	}
	if (!(d[6] & 1))
		{{E}}_learn({{E}}_key(d + 6), in);
	if (d[0] & 1) {
		{{E}}_flood(in, p);
		return;
	}
	struct {{E}}_ent *e = {{E}}_find({{E}}_key(d));
	if (!e) {
		{{E}}_flood(in, p);
	} else if (e->port == in) {
		{{E}}_s.drops++;
		pkt_kill(p);
	} else {
		{{E}}_out(e->port, p);
	}
}

{% for i in range(nin) %}
static inline void {{E}}_push{{ i }}(struct pkt *p)
{
	{{E}}_push({{ i }}u, p);
}
{% endfor %}

static int {{E}}_h_table(char *buf, size_t n)
{
	size_t o = 0;
	if (n)
		buf[0] = 0;
	uint64_t now = {{E}}_s.now;
	if ({{E}}_s.wall) {
		uint64_t w = rt_now_ns();
		if (w > now)
			now = w;
	}
	for (uint32_t i = 0; i < {{E}}_NSLOT; i++) {
		const struct {{E}}_ent *e = &{{E}}_s.e[i];
		if (!e->used || !{{E}}_s.timeout || now - e->t > {{E}}_s.timeout)
			continue;
		uint64_t age = now - e->t, m = e->mac;
		int w = snprintf(buf + o, o < n ? n - o : 0,
				 "%02X-%02X-%02X-%02X-%02X-%02X %u %llu\n",
				 (unsigned)(m >> 40) & 255, (unsigned)(m >> 32) & 255, (unsigned)(m >> 24) & 255,
				 (unsigned)(m >> 16) & 255, (unsigned)(m >> 8) & 255, (unsigned)m & 255,
				 (unsigned)e->port, (unsigned long long)(age / 1000000000ull));
		if (w < 0 || (size_t)w >= (o < n ? n - o : 0)) {
			if (n)
				buf[o < n ? o : n - 1] = 0;
			return (int)o;
		}
		o += (size_t)w;
	}
	return (int)o;
}

static int {{E}}_r_timeout(char *buf, size_t n)
{
	uint64_t t = {{E}}_s.timeout;
	if (t % 1000000000ull == 0)
		return snprintf(buf, n, "%llu", (unsigned long long)(t / 1000000000ull));
	char f[16];
	snprintf(f, sizeof f, "%09llu", (unsigned long long)(t % 1000000000ull));
	for (int k = 8; k > 0 && f[k] == '0'; k--)
		f[k] = 0;
	return snprintf(buf, n, "%llu.%s", (unsigned long long)(t / 1000000000ull), f);
}

/* A non-negative number of seconds, with up to 9 decimals. */
static int {{E}}_w_timeout(const char *v)
{
	const char *s = v;
	while (*s == ' ' || *s == '\t')
		s++;
	uint64_t sec = 0, frac = 0, scale = 100000000ull;
	int nd = 0;
	while (*s >= '0' && *s <= '9') {
		if (sec > 1000000000ull)
			return -1;
		sec = sec * 10 + (uint64_t)(*s++ - '0');
		nd++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			frac += (uint64_t)(*s++ - '0') * scale;
			scale /= 10;
			nd++;
		}
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!nd || *s)
		return -1;
	{{E}}_s.timeout = sec * 1000000000ull + frac;
	{{E}}_s.next_sweep = 0;
	return 0;
}
"""

    def configure(self, inst):
        cap = inst.args["CAPACITY"]
        if cap < 1:
            raise inst.error("CAPACITY must be at least 1", "CAPACITY")
        nslot = 1
        while nslot < 2 * cap:
            nslot *= 2
        inst.vars["cap"] = cap
        inst.vars["nslot"] = nslot
        inst.vars["timeout"] = inst.args["TIMEOUT"]

    def port_counts(self, inst, nin, nout):
        if nin > 65535:
            raise inst.error(f"too many ports ({nin}; at most 65535)")
        return nin, nout

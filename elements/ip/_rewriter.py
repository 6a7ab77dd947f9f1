"""The flow-table engine shared by IPRewriter, TCPRewriter, UDPRewriter,
IPAddrRewriter and ICMPPingRewriter (not an element itself).

Each rewriter is a subclass of :class:`RewriterBase` that sets ``mode``
("ip": TCP and UDP, "tcp", "udp", "addr": addresses only, "icmp": echo
identifiers) and its keywords; the C below is rendered once per instance
(every symbol carries the instance prefix), specialised by ``v.mode``.

Arguments are Click's: INPUTSPECs (one per input port) then KEYWORD value
items.  INPUTSPEC forms: ``drop`` (``discard``), ``pass [OUTPUT]``
(``nochange``), ``keep FOUTPUT ROUTPUT``, and ``pattern SADDR SPORT DADDR
DPORT FOUTPUT ROUTPUT`` (IPAddrRewriter: ``pattern SADDR DADDR FOUTPUT
ROUTPUT``).
"""
from __future__ import annotations

import re

from uknfv.argtypes import ArgError, ArgType, Bool, Seconds, UInt, ip_str, parse_ip
from uknfv.element import Arg, Element, Handler
from uknfv.lang.args import split_words_at

MAX_CAPACITY = 1 << 22
NS = 1_000_000_000


class _Item(ArgType):
    """One rewriter argument: an INPUTSPEC or a `KEYWORD value` pair."""

    name = "INPUTSPEC"

    def __init__(self, keywords, addr_only=False):
        self.keywords = keywords        # name -> ArgType
        self.addr_only = addr_only

    def parse(self, text):
        words = split_words_at(text)
        if not words:
            raise ArgError("empty INPUTSPEC (expected drop, pass, keep or pattern)")
        head = words[0].text
        if head in self.keywords:
            value = text[words[1].offset:] if len(words) > 1 else ""
            try:
                return ("kw", head, self.keywords[head].parse(value))
            except ArgError as e:
                off = words[1].offset if len(words) > 1 else 0
                raise ArgError(f"{head}: {e}", off + e.offset) from None
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", head) and len(words) > 1:
            raise ArgError(f"unknown keyword '{head}' (accepts {', '.join(self.keywords)})")
        rest = words[1:]

        def outnum(w):
            if not re.fullmatch(r"[0-9]+", w.text) or int(w.text) > 255:
                raise ArgError(f"expected output port number, got '{w.text}'", w.offset)
            return int(w.text)

        def nargs(n, form):
            if len(rest) != n:
                raise ArgError(f"'{head}' takes {n} argument{'s' if n != 1 else ''} ({form}), "
                               f"got {len(rest)}", rest[n].offset if len(rest) > n else 0)

        if head in ("drop", "discard"):
            nargs(0, head)
            return ("spec", {"kind": "drop", "fout": 0, "rout": 0})
        if head in ("pass", "nochange"):
            if not rest:
                return ("spec", {"kind": "pass", "fout": 0, "rout": 0})
            nargs(1, f"{head} OUTPUT")
            return ("spec", {"kind": "pass", "fout": outnum(rest[0]), "rout": 0})
        if head == "keep":
            nargs(2, "keep FOUTPUT ROUTPUT")
            return ("spec", {"kind": "keep", "fout": outnum(rest[0]), "rout": outnum(rest[1])})
        if head == "pattern":
            if self.addr_only:
                nargs(4, "pattern SADDR DADDR FOUTPUT ROUTPUT")
                sa, da = _addr_range(rest[0]), _addr_range(rest[1], single=True)
                sp = dp = (0, 0, False)
                fo, ro = rest[2], rest[3]
            else:
                nargs(6, "pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT")
                sa, sp = _addr_range(rest[0]), _port_range(rest[1])
                da, dp = _addr_range(rest[2], single=True), _port_range(rest[3], single=True)
                fo, ro = rest[4], rest[5]
            return ("spec", {"kind": "pattern", "saddr": sa, "sport": sp, "daddr": da,
                             "dport": dp, "fout": outnum(fo), "rout": outnum(ro)})
        raise ArgError(f"unknown INPUTSPEC '{head}' (expected drop, pass OUTPUT, "
                       f"keep FOUTPUT ROUTPUT or pattern ...; uknfv has no IPRewriterPatterns "
                       f"element names)")


def _addr_range(w, single=False):
    """`-`, ADDR, or (not single) ADDR-ADDR2 / ADDR/LEN: (lo, hi) host order, (0, 0) keep."""
    t = w.text
    if t == "-":
        return (0, 0)
    try:
        if not single and "/" in t:
            a, _, n = t.partition("/")
            n = int(n)
            if not 0 <= n <= 32:
                raise ValueError
            mask = (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF
            lo = parse_ip(a) & mask
            return (lo, lo | (~mask & 0xFFFFFFFF))
        if not single and "-" in t:
            a, _, b = t.partition("-")
            lo, hi = parse_ip(a), parse_ip(b)
            if hi < lo:
                raise ArgError(f"empty address range '{t}'", w.offset)
            return (lo, hi)
        v = parse_ip(t)
        if v == 0:
            raise ArgError("address 0.0.0.0 not allowed in a pattern (use '-')", w.offset)
        return (v, v)
    except (ArgError, ValueError) as e:
        if isinstance(e, ArgError) and "not allowed" in str(e) or "empty" in str(e):
            raise
        what = "IP address or '-'" if single else "IP address, ADDR-ADDR2, ADDR/LEN or '-'"
        raise ArgError(f"expected {what}, got '{t}'", w.offset) from None


def _port_range(w, single=False):
    """`-`, PORT, or (not single) LO-HI with an optional '#' (sequential) or
    '?' (random) suffix: (lo, hi, random), (0, 0, False) keep."""
    t = w.text
    if t == "-":
        return (0, 0, False)
    rnd = False
    if not single and t[-1:] in ("#", "?"):
        rnd = t[-1] == "?"
        t = t[:-1]
    m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", t)
    if not m or (single and m.group(2)):
        what = "port number or '-'" if single else "port, LO-HI[#|?] or '-'"
        raise ArgError(f"expected {what}, got '{w.text}'", w.offset)
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if not 1 <= lo <= hi <= 65535:
        raise ArgError(f"bad port range '{w.text}' (ports 1-65535, LO <= HI)", w.offset)
    return (lo, hi, rnd)


ENGINE_C = r"""
/* ---- {{ inst.cls }} {{ name }}: flow table ({{ v.cap }} flows) ---- */
#define {{E}}_CAP {{ v.cap }}u
#define {{E}}_NB {{ v.nb }}u
struct {{E}}_tuple { uint32_t s, d; uint16_t sp, dp; uint8_t proto; };
struct {{E}}_flow {
	struct {{E}}_tuple k[2];        /* k[0] original flow, k[1] its replies */
	struct {{E}}_tuple t[2];        /* what a packet of direction i becomes */
	uint64_t used_ns;
	uint32_t next[2];               /* hash chains: entry = idx*2+dir+1, 0 = end */
	uint8_t out[2], live, done;
};
struct {{E}}_pat {
	uint32_t slo, shi, d;           /* host order; 0 = unchanged */
	uint16_t plo, phi, dp;          /* 0 = unchanged */
	uint8_t rnd;
	uint32_t cursor;
};
static struct {
	struct {{E}}_flow f[{{E}}_CAP];
	uint32_t head[{{E}}_NB];
	uint32_t nalloc, freel, n;
	uint64_t now, drops, full, bad, created, rng;
	struct {{E}}_pat pat[{{ [v.pat_specs|length, 1]|max }}];
} {{E}}_s = { .rng = 0x9E3779B97F4A7C15ull, .pat = {
{% for sp in v.pat_specs %}
	{ {{ sp.saddr[0] }}u, {{ sp.saddr[1] }}u, {{ sp.daddr[0] }}u, {{ sp.sport[0] }}, {{ sp.sport[1] }}, {{ sp.dport[0] }}, {{ 1 if sp.sport[2] else 0 }}, 0 },
{% endfor %}
} };

static inline uint32_t {{E}}_hash(const struct {{E}}_tuple *k)
{
	uint64_t h = (uint64_t)k->s * 0x9E3779B97F4A7C15ull;
	h ^= ((uint64_t)k->d << 32 | (uint32_t)k->sp << 16 | k->dp) * 0xC2B2AE3D27D4EB4Full;
	h ^= k->proto;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return (uint32_t)h & ({{E}}_NB - 1);
}

static inline int {{E}}_eq(const struct {{E}}_tuple *a, const struct {{E}}_tuple *b)
{
	return a->s == b->s && a->d == b->d && a->sp == b->sp && a->dp == b->dp && a->proto == b->proto;
}

static inline uint64_t {{E}}_timeout(const struct {{E}}_flow *f)
{
{% if v.mode in ("ip", "tcp") %}
	if (f->k[0].proto == 6)
		return f->done ? {{ v.to_tcp_done }}ull : {{ v.to_tcp }}ull;
{% endif %}
	return {{ v.to_other }}ull;
}

static inline int {{E}}_expired(const struct {{E}}_flow *f, uint64_t now)
{
	return now > f->used_ns && now - f->used_ns > {{E}}_timeout(f);
}

static void {{E}}_unlink(uint32_t idx, int dir)
{
	struct {{E}}_flow *f = &{{E}}_s.f[idx];
	uint32_t *pp = &{{E}}_s.head[{{E}}_hash(&f->k[dir])], want = idx * 2 + (uint32_t)dir + 1;
	while (*pp) {
		if (*pp == want) {
			*pp = f->next[dir];
			return;
		}
		pp = &{{E}}_s.f[(*pp - 1) >> 1].next[(*pp - 1) & 1];
	}
}

static void {{E}}_remove(uint32_t idx)
{
	struct {{E}}_flow *f = &{{E}}_s.f[idx];
	{{E}}_unlink(idx, 0);
	{{E}}_unlink(idx, 1);
	f->live = 0;
	f->next[0] = {{E}}_s.freel;
	{{E}}_s.freel = idx + 1;
	{{E}}_s.n--;
}

/* Remove every expired flow (when the table is full, and before the
 * mappings are read). */
static void {{E}}_gc(void)
{
	for (uint32_t i = 0; i < {{E}}_s.nalloc; i++)
		if ({{E}}_s.f[i].live && {{E}}_expired(&{{E}}_s.f[i], {{E}}_s.now))
			{{E}}_remove(i);
}

/* The entry (idx*2+dir+1) whose key is k, or 0.  An expired flow is removed. */
static inline uint32_t {{E}}_find(const struct {{E}}_tuple *k)
{
	uint32_t e = {{E}}_s.head[{{E}}_hash(k)];
	while (e) {
		struct {{E}}_flow *f = &{{E}}_s.f[(e - 1) >> 1];
		if ({{E}}_eq(&f->k[(e - 1) & 1], k)) {
			if ({{E}}_expired(f, {{E}}_s.now)) {
				{{E}}_remove((e - 1) >> 1);
				return 0;
			}
			return e;
		}
		e = f->next[(e - 1) & 1];
	}
	return 0;
}

static inline int64_t {{E}}_alloc(void)
{
	if (!{{E}}_s.freel && {{E}}_s.nalloc == {{E}}_CAP)
		{{E}}_gc();
	if ({{E}}_s.freel) {
		uint32_t i = {{E}}_s.freel - 1;
		{{E}}_s.freel = {{E}}_s.f[i].next[0];
		return i;
	}
	if ({{E}}_s.nalloc < {{E}}_CAP)
		return {{E}}_s.nalloc++;
	return -1;
}

static inline void {{E}}_link(uint32_t idx)
{
	struct {{E}}_flow *f = &{{E}}_s.f[idx];
	for (int dir = 0; dir < 2; dir++) {
		uint32_t h = {{E}}_hash(&f->k[dir]);
		f->next[dir] = {{E}}_s.head[h];
		{{E}}_s.head[h] = idx * 2 + (uint32_t)dir + 1;
	}
	f->live = 1;
	{{E}}_s.n++;
	{{E}}_s.created++;
}

/* The reply key of a flow whose packets become t. */
static inline struct {{E}}_tuple {{E}}_reply_key(const struct {{E}}_tuple *t)
{
{% if v.mode == "addr" %}
	struct {{E}}_tuple r = { 0, t->s, 0, 0, 2 };
{% else %}
	struct {{E}}_tuple r = { t->d, t->s, t->dp, t->sp, t->proto };
{% endif %}
	return r;
}

/* RFC 1624: add (~old + new) of a 16-bit word to an accumulated delta. */
static inline uint32_t {{E}}_delta16(uint32_t acc, uint16_t old, uint16_t new_)
{
	return acc + (uint16_t)~old + new_;
}
static inline uint32_t {{E}}_delta32(uint32_t acc, uint32_t old, uint32_t new_)
{
	acc = {{E}}_delta16(acc, (uint16_t)(old >> 16), (uint16_t)(new_ >> 16));
	return {{E}}_delta16(acc, (uint16_t)old, (uint16_t)new_);
}
/* HC' = ~(~HC + sum of (~m + m')) */
static inline void {{E}}_apply_delta(uint8_t *c, uint32_t acc)
{
	uint32_t sum = (uint16_t)~rd16(c) + acc;
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	wr16(c, (uint16_t)~sum);
}

/* Rewrite the packet's addresses (and ports / echo identifier) to t. */
static inline void {{E}}_rewrite(struct pkt *p, uint8_t *ip, uint8_t *th, const struct {{E}}_tuple *t, int dir)
{
	uint32_t s = rd32(ip + 12), d = rd32(ip + 16);
{% if v.mode == "addr" %}
	uint32_t ns = dir ? s : t->s, nd = dir ? t->d : d;
{% else %}
	uint32_t ns = t->s, nd = t->d;
{% endif %}
	uint32_t da = {{E}}_delta32({{E}}_delta32(0, s, ns), d, nd);
	wr32(ip + 12, ns);
	wr32(ip + 16, nd);
	{{E}}_apply_delta(ip + 10, da);
{% if v.mode == "icmp" %}
	uint32_t di = {{E}}_delta16(0, rd16(th + 4), t->sp);
	wr16(th + 4, t->sp);
	{{E}}_apply_delta(th + 2, di);
{% elif v.mode != "addr" %}
	uint32_t dp = {{E}}_delta16({{E}}_delta16(da, rd16(th), t->sp), rd16(th + 2), t->dp);
	wr16(th, t->sp);
	wr16(th + 2, t->dp);
	if (ip[9] == 6) {
		{{E}}_apply_delta(th + 16, dp);
	} else if (rd16(th + 6)) {      /* UDP: checksum 0 means none */
		{{E}}_apply_delta(th + 6, dp);
		if (!rd16(th + 6))
			wr16(th + 6, 0xFFFF);
	}
{% else %}
	/* transport checksums that cover the addresses (pseudo header) */
	uint32_t hl = (uint32_t)(ip[0] & 15) * 4;
	if (!(rd16(ip + 6) & 0x1FFF)) {
		uint8_t *end = p->data + p->len;
		if (ip[9] == 6 && ip + hl + 18 <= end)
			{{E}}_apply_delta(ip + hl + 16, da);
		else if (ip[9] == 17 && ip + hl + 8 <= end && rd16(ip + hl + 6)) {
			{{E}}_apply_delta(ip + hl + 6, da);
			if (!rd16(ip + hl + 6))
				wr16(ip + hl + 6, 0xFFFF);
		}
	}
	(void)th;
{% endif %}
{% if v.dst_anno %}
	uint8_t a[4];
	wr32(a, nd);
	memcpy(p->anno + PKT_ANNO_DST_IP, a, 4);
{% endif %}
	(void)p;
}

static inline void {{E}}_emit(struct pkt *p, unsigned o)
{
	switch (o) {
{% for j in range(nout) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default: {{E}}_s.drops++; pkt_kill(p); return;
	}
}

static inline void {{E}}_drop(struct pkt *p)
{
	{{E}}_s.drops++;
	pkt_kill(p);
}

/* A new flow for key k (packet p) by pattern pi; returns the flow or NULL. */
static struct {{E}}_flow *{{E}}_new(const struct {{E}}_tuple *k, unsigned pi, unsigned fout, unsigned rout)
{
	struct {{E}}_tuple t = *k;
{% if v.mode == "addr" %}
	t.proto = 2;
{% endif %}
	uint64_t total = 1, start = 0;
	struct {{E}}_pat *pt = NULL;
	if (pi != ~0u) {
		pt = &{{E}}_s.pat[pi];
		if (pt->d) t.d = pt->d;
		if (pt->dp) t.dp = pt->dp;
		uint64_t na = pt->slo ? (uint64_t)pt->shi - pt->slo + 1 : 1;
		uint64_t np = pt->plo ? (uint64_t)pt->phi - pt->plo + 1 : 1;
		total = na * np;
		if (pt->rnd) {
			uint64_t x = {{E}}_s.rng;
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			{{E}}_s.rng = x;
			start = x % total;
		} else {
			start = pt->cursor % total;
		}
	}
	for (uint64_t i = 0; i < total; i++) {
		uint64_t c = (start + i) % total;
		if (pt) {
			uint64_t np = pt->plo ? (uint64_t)pt->phi - pt->plo + 1 : 1;
			if (pt->slo) t.s = pt->slo + (uint32_t)(c / np);
			if (pt->plo) t.sp = (uint16_t)(pt->plo + c % np);
{% if v.mode == "icmp" %}
			t.dp = t.sp;
{% endif %}
		}
		struct {{E}}_tuple r = {{E}}_reply_key(&t);
		if ({{E}}_find(&r))
			continue;               /* that reply flow is taken: next port */
		int64_t idx = {{E}}_alloc();
		if (idx < 0) {
			{{E}}_s.full++;
			return NULL;
		}
		if (pt && !pt->rnd)
			pt->cursor = (uint32_t)((c + 1) % total);
		struct {{E}}_flow *f = &{{E}}_s.f[idx];
		f->k[0] = *k;
		f->k[1] = r;
{% if v.mode == "addr" %}
		f->t[0] = t;
		f->t[1] = (struct {{E}}_tuple){ 0, k->s, 0, 0, 0 };
{% else %}
		f->t[0] = t;
		f->t[1] = (struct {{E}}_tuple){ k->d, k->s, k->dp, k->sp, k->proto };
{% endif %}
		f->out[0] = (uint8_t)fout;
		f->out[1] = (uint8_t)rout;
		f->done = 0;
		f->used_ns = {{E}}_s.now;
		{{E}}_link((uint32_t)idx);
		return f;
	}
	{{E}}_s.full++;             /* every address/port of the pattern is in use */
	return NULL;
}

static void {{E}}_handle(struct pkt *p, unsigned port)
{
	static const uint8_t kind[] = { {% for sp in v.specs %}{{ sp.code }}, {% endfor %}0 };
	static const uint8_t fout[] = { {% for sp in v.specs %}{{ sp.fout }}, {% endfor %}0 };
	static const uint8_t rout[] = { {% for sp in v.specs %}{{ sp.rout }}, {% endfor %}0 };
	uint8_t *ip = p->nh, *end = p->data + p->len;
	if (__builtin_expect(!ip || ip < p->buf || ip + 20 > end, 0)) {
		{{E}}_s.bad++;
		pkt_kill(p);
		return;
	}
	uint64_t now = p->ts_ns ? p->ts_ns : rt_now_ns();
	if (now > {{E}}_s.now)
		{{E}}_s.now = now;
	uint8_t *th = ip + (ip[0] & 15) * 4;
	struct {{E}}_tuple k;
	uint32_t e = 0;
{% if v.mode == "addr" %}
	k = (struct {{E}}_tuple){ rd32(ip + 12), 0, 0, 0, 1 };
	e = {{E}}_find(&k);
	if (!e) {
		struct {{E}}_tuple r = { 0, rd32(ip + 16), 0, 0, 2 };
		e = {{E}}_find(&r);
	}
{% else %}
	int flow = !(rd16(ip + 6) & 0x1FFF);    /* first fragments only */
{% if v.mode == "icmp" %}
	flow = flow && ip[9] == 1 && th + 8 <= end && (th[0] == 8 || th[0] == 0);
	if (flow)
		k = (struct {{E}}_tuple){ rd32(ip + 12), rd32(ip + 16), rd16(th + 4), rd16(th + 4), 1 };
{% else %}
{% if v.mode == "ip" %}
	flow = flow && ((ip[9] == 6 && th + 18 <= end) || (ip[9] == 17 && th + 8 <= end));
{% elif v.mode == "tcp" %}
	flow = flow && ip[9] == 6 && th + 18 <= end;
{% else %}
	flow = flow && ip[9] == 17 && th + 8 <= end;
{% endif %}
	if (flow)
		k = (struct {{E}}_tuple){ rd32(ip + 12), rd32(ip + 16), rd16(th), rd16(th + 2), ip[9] };
{% endif %}
	if (!flow) {
		/* not a flow this rewriter handles: as Click, passed only by 'pass' */
		if (kind[port] == 1)
			{{E}}_emit(p, fout[port]);
		else
			{{E}}_drop(p);
		return;
	}
	e = {{E}}_find(&k);
{% endif %}
	if (e) {
		struct {{E}}_flow *f = &{{E}}_s.f[(e - 1) >> 1];
		int dir = (int)((e - 1) & 1);
		f->used_ns = {{E}}_s.now;
{% if v.mode in ("ip", "tcp") %}
		if (ip[9] == 6 && (th[13] & 0x05))     /* FIN or RST */
			f->done = 1;
{% endif %}
		{{E}}_rewrite(p, ip, th, &f->t[dir], dir);
		{{E}}_emit(p, f->out[dir]);
		return;
	}
{% if v.mode == "icmp" %}
	if (th[0] == 0) {       /* an echo reply with no mapping */
		if (kind[port] == 1)
			{{E}}_emit(p, fout[port]);
		else
			{{E}}_drop(p);
		return;
	}
{% endif %}
	switch (kind[port]) {
	case 1:         /* pass */
		{{E}}_emit(p, fout[port]);
		return;
	case 2:         /* keep */
	case 3: {       /* pattern */
		static const uint16_t pidx[] = { {% for sp in v.specs %}{{ sp.pidx }}, {% endfor %}0 };
		struct {{E}}_flow *f = {{E}}_new(&k, kind[port] == 3 ? pidx[port] : ~0u, fout[port], rout[port]);
		if (!f) {
			{{E}}_drop(p);
			return;
		}
{% if v.mode in ("ip", "tcp") %}
		if (ip[9] == 6 && (th[13] & 0x05))
			f->done = 1;
{% endif %}
		{{E}}_rewrite(p, ip, th, &f->t[0], 0);
		{{E}}_emit(p, f->out[0]);
		return;
	}
	default:        /* drop */
		{{E}}_drop(p);
	}
}
{% for i in range(nin) %}

static inline void {{E}}_push{{ i }}(struct pkt *p)
{
	{{E}}_handle(p, {{ i }});
}
{% endfor %}

/* ---- handlers ---- */
static int {{E}}_fmt_ip(char *b, size_t n, uint32_t a)
{
	return snprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static int {{E}}_list(char *buf, size_t n, int proto)
{
	size_t o = 0;
	if (n)
		buf[0] = 0;
	{{E}}_gc();
	for (uint32_t i = 0; i < {{E}}_s.nalloc; i++) {
		const struct {{E}}_flow *f = &{{E}}_s.f[i];
		if (!f->live || (proto && f->k[0].proto != proto))
			continue;
		char a[4][16];
		const struct {{E}}_tuple *k = &f->k[0], *t = &f->t[0];
		{{E}}_fmt_ip(a[0], 16, k->s);
		{{E}}_fmt_ip(a[1], 16, k->d);
		{{E}}_fmt_ip(a[2], 16, t->s);
		{{E}}_fmt_ip(a[3], 16, t->d);
		int w;
{% if v.mode == "addr" %}
		w = snprintf(buf + o, o < n ? n - o : 0, "%s => %s [%u]\n", a[0], a[2], f->out[0]);
{% elif v.mode == "icmp" %}
		w = snprintf(buf + o, o < n ? n - o : 0, "(%s, %s, %u) => (%s, %s, %u) [%u]\n",
			     a[0], a[1], k->sp, a[2], a[3], t->sp, f->out[0]);
{% else %}
		w = snprintf(buf + o, o < n ? n - o : 0, "%s(%s, %u, %s, %u) => (%s, %u, %s, %u) [%u]\n",
			     {% if v.mode == "ip" %}proto ? "" : (k->proto == 6 ? "tcp " : "udp "){% else %}""{% endif %},
			     a[0], k->sp, a[1], k->dp, a[2], t->sp, a[3], t->dp, f->out[0]);
{% endif %}
		if (w < 0 || (size_t)w >= (o < n ? n - o : 0)) {
			if (n)
				buf[o < n ? o : n - 1] = 0;
			return (int)o;  /* truncated at a line boundary */
		}
		o += (size_t)w;
	}
	return (int)o;
}

static int {{E}}_h_mappings(char *buf, size_t n) { return {{E}}_list(buf, n, 0); }
{% if v.mode == "ip" %}
static int {{E}}_h_tcp_mappings(char *buf, size_t n) { return {{E}}_list(buf, n, 6); }
static int {{E}}_h_udp_mappings(char *buf, size_t n) { return {{E}}_list(buf, n, 17); }
{% endif %}
static int {{E}}_h_n(char *buf, size_t n)
{
	{{E}}_gc();
	return rt_fmt_u64(buf, n, {{E}}_s.n);
}
static int {{E}}_w_clear(const char *v)
{
	(void)v;
	for (uint32_t i = 0; i < {{E}}_s.nalloc; i++)
		if ({{E}}_s.f[i].live)
			{{E}}_remove(i);
	return 0;
}
"""

_SPEC_CODES = {"drop": 0, "pass": 1, "keep": 2, "pattern": 3}


class RewriterBase(Element):
    """Base of the rewriter elements (not registered: no name)."""

    ports = "1-/1-"
    processing = "h/h"
    mode = "ip"
    c = ENGINE_C
    # keyword -> (ArgType, default); Seconds values in ns
    keywords: dict = {}
    default_capacity = 65536
    KVM_DEFAULT_CAPACITY = 4096

    def for_target(self, target):
        # The unikernel's memory is sized for its packet buffers (uknfv/targets/kvm.py
        # does not count element tables): a smaller default table there.
        if target == "kvm":
            import copy
            v = copy.copy(self)
            v.default_capacity = self.KVM_DEFAULT_CAPACITY
            return v
        return self

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        kws = {"CAPACITY": UInt(MAX_CAPACITY)}
        kws.update({k: t for k, (t, _d) in cls.keywords.items()})
        cls.rest = Arg("INPUTSPEC", _Item(kws, addr_only=cls.mode == "addr"), required=True,
                       doc="INPUTSPEC (one per input), then KEYWORD value")
        hs = [
            Handler("mappings", "{{E}}_h_mappings", kind="fn",
                    doc="the live mappings, one line per flow: "
                        "'(SA, SP, DA, DP) => (SA', SP', DA', DP') [OUTPUT]'"),
        ]
        if cls.mode == "ip":
            hs += [Handler("tcp_mappings", "{{E}}_h_tcp_mappings", kind="fn",
                           doc="the live TCP mappings"),
                   Handler("udp_mappings", "{{E}}_h_udp_mappings", kind="fn",
                           doc="the live UDP mappings")]
        hs += [
            Handler("nmappings", "{{E}}_h_n", kind="fn", doc="number of live flows"),
            Handler("size", "{{E}}_h_n", kind="fn", doc="number of live flows (as nmappings)"),
            Handler("capacity", "{{E}}_CAP", doc="maximum number of flows (fixed at build time)"),
            Handler("created", "{{E}}_s.created", doc="flows created since the start"),
            Handler("drops", "{{E}}_s.drops",
                    doc="packets dropped: 'drop' INPUTSPEC, packets that are not flows of "
                        "this rewriter on a non-'pass' input, table full, pattern exhausted"),
            Handler("table_full", "{{E}}_s.full",
                    doc="new flows refused: table full (after removing expired flows) or "
                        "no free address/port left in the pattern"),
            Handler("bad", "{{E}}_s.bad",
                    doc="packets dropped without a 20-byte IP header at the network header annotation"),
            Handler("clear", write="{{E}}_w_clear", doc="remove every mapping"),
        ]
        cls.handlers = tuple(hs)

    def configure(self, inst):
        specs, kw = [], {}
        for i, ((what, *val), loc) in enumerate(inst.args["rest"]):
            if what == "kw":
                name, value = val
                if name in kw:
                    raise inst.error(f"{name} given twice", f"INPUTSPEC{i}")
                kw[name] = value
                inst.arg_locs[name] = loc
            else:
                if kw:
                    raise inst.error("INPUTSPEC after keyword arguments", f"INPUTSPEC{i}")
                sp = dict(val[0])
                sp["arg"] = f"INPUTSPEC{i}"
                specs.append(sp)
        if not specs:
            raise inst.error("needs at least one INPUTSPEC")
        pats = 0
        for sp in specs:
            sp["code"] = _SPEC_CODES[sp["kind"]]
            if sp["kind"] == "pattern":
                sp["pidx"] = pats
                pats += 1
            else:
                sp["pidx"] = 0
                sp.update(saddr=(0, 0), sport=(0, 0, False), daddr=(0, 0), dport=(0, 0, False))
            if self.mode == "icmp" and sp["kind"] == "pattern" and sp["dport"][0]:
                raise inst.error("ICMPPingRewriter patterns take '-' as DPORT "
                                 "(the echo identifier is SPORT)", sp["arg"])
        # patterns in pattern order for the C table
        inst.vars["specs"] = specs
        inst.vars["pat_specs"] = [sp for sp in specs if sp["kind"] == "pattern"]
        cap = kw.get("CAPACITY", self.default_capacity)
        if cap < 1:
            raise inst.error("CAPACITY must be at least 1", "CAPACITY")
        nb = 1
        while nb < 2 * cap:
            nb <<= 1
        inst.vars["cap"] = cap
        inst.vars["nb"] = nb
        inst.vars["mode"] = self.mode
        vals = {k: kw.get(k, d) for k, (_t, d) in self.keywords.items()}
        inst.vars["to_tcp"] = vals.get("TCP_TIMEOUT", 86400 * NS)
        inst.vars["to_tcp_done"] = vals.get("TCP_DONE_TIMEOUT", 240 * NS)
        inst.vars["to_other"] = vals.get("UDP_TIMEOUT", vals.get("TIMEOUT", 300 * NS))
        inst.vars["dst_anno"] = vals.get("DST_ANNO", True)
        inst.vars["kw"] = vals
        inst.vars["maxout"] = max([sp["fout"] for sp in specs] +
                                  [sp["rout"] for sp in specs if sp["kind"] in ("keep", "pattern")])

    def port_counts(self, inst, nin, nout):
        return len(inst.vars["specs"]), max(nout, inst.vars["maxout"] + 1)

    @staticmethod
    def unparse_ip(v):
        return ip_str(v)


def timeout_kw(default_s):
    return (Seconds(), default_s * NS)


DST_ANNO = (Bool(), True)

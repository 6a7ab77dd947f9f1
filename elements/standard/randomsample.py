import re

from uknfv.argtypes import ArgError, ArgType, Bool
from uknfv.element import Arg, Element, Handler


class Probability(ArgType):
    """A probability: a decimal number between 0 and 1 (or a percentage, 25%).
    The value is in billionths (an integer 0..1000000000)."""

    name = "probability"

    def parse(self, text):
        t = text.strip()
        m = re.fullmatch(r"\+?([0-9]*)(?:\.([0-9]*))?(%?)", t)
        if not m or not (m.group(1) or m.group(2)):
            raise ArgError(f"expected probability between 0 and 1, got '{t}'")
        scale = 10 ** 7 if m.group(3) else 10 ** 9
        frac = (m.group(2) or "")
        v = int(m.group(1) or "0") * scale + (int(frac[:9].ljust(9, "0")) * scale) // 10 ** 9
        if v > 10 ** 9:
            raise ArgError(f"probability {t} out of range (0 to 1)")
        return v


# C: parse a probability written to a handler, into billionths; 0 on success.
PROB_C = r"""
static int {{E}}_parse_prob(const char *v, uint32_t *out)
{
	uint64_t ip = 0, fp = 0, scale = 1000000000u;
	int digits = 0, fd = 0;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '+')
		v++;
	for (; *v >= '0' && *v <= '9'; v++, digits++) {
		ip = ip * 10 + (uint64_t)(*v - '0');
		if (ip > 100)
			return -1;
	}
	if (*v == '.')
		for (v++; *v >= '0' && *v <= '9'; v++, digits++)
			if (fd < 9) {
				fp = fp * 10 + (uint64_t)(*v - '0');
				fd++;
			}
	if (!digits)
		return -1;
	while (fd < 9) {
		fp *= 10;
		fd++;
	}
	if (*v == '%') {
		scale = 10000000u;
		v++;
	}
	while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
		v++;
	if (*v)
		return -1;
	uint64_t x = ip * scale + fp * scale / 1000000000u;
	if (x > 1000000000u)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int {{E}}_fmt_prob(char *buf, size_t n, uint32_t ppb)
{
	unsigned f = ppb % 1000000000u;
	int w = 9;
	if (!f)
		return snprintf(buf, n, "%u", ppb / 1000000000u);
	while (f % 10 == 0) {
		f /= 10;
		w--;
	}
	return snprintf(buf, n, "%u.%0*u", ppb / 1000000000u, w, f);
}
"""


class RandomSample(Element):
    name = "RandomSample"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    init = True
    args = (
        Arg("P", Probability(), positional=True, doc="sampling probability (the same as SAMPLE)"),
        Arg("SAMPLE", Probability(), doc="sampling probability: the chance a packet leaves on output 0"),
        Arg("DROP", Probability(), doc="drop probability: 1 - SAMPLE"),
        Arg("ACTIVE", Bool(), default=True, doc="sample (false: every packet leaves on output 0)"),
    )
    handlers = (
        Handler("sampling_prob", "{{E}}_r_sample", kind="fn", write="{{E}}_w_sample",
                doc="the sampling probability (Click's name)"),
        Handler("sample", "{{E}}_r_sample", kind="fn", write="{{E}}_w_sample",
                doc="the same as sampling_prob"),
        Handler("drop_prob", "{{E}}_r_drop", kind="fn", write="{{E}}_w_drop",
                doc="the drop probability, 1 - sampling_prob"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it samples"),
        Handler("drops", "{{E}}_s.drops", doc="packets not sampled (output 1 or dropped)"),
    )
    doc = """
    Samples packets at random: each leaves on output 0 with probability SAMPLE.

    RandomSample([P, KEYWORDS]).  Give the sampling probability as P or
    SAMPLE, or the drop probability as DROP (= 1 - SAMPLE); a decimal from 0
    to 1, or a percentage (25%).  Each packet independently leaves on
    output 0 with that probability; the others leave on output 1 if it is
    connected, else they are dropped; either way they are counted in
    `drops`.  With ACTIVE false every packet leaves on output 0.  Without
    any probability the element samples every packet (SAMPLE 1), so it
    starts out passing everything, as in Click.

    Handlers: sampling_prob (read/write; `sample` is the same handler),
    drop_prob (read/write), active (read/write), drops.  The probability is
    kept in billionths; the random numbers come from a xorshift generator
    seeded from the clock at start-up, so runs differ.
    """
    c = PROB_C + r"""
static struct {
	uint64_t thresh;        /* sample when rand32 < thresh (0 .. 2^32) */
	uint32_t ppb;
	uint64_t rng;
	uint64_t drops;
	int active;
} {{E}}_s = { 0, {{ v.ppb }}u, 0, 0, {{ 1 if a.ACTIVE else 0 }} };

static void {{E}}_set(uint32_t ppb)
{
	{{E}}_s.ppb = ppb;
	{{E}}_s.thresh = ((uint64_t)ppb << 32) / 1000000000u;
}

static int {{E}}_init(void)
{
	{{E}}_set({{E}}_s.ppb);
	{{E}}_s.rng = rt_mono_ns() * 0x9E3779B97F4A7C15ull ^ (uintptr_t)&{{E}}_s;
	if (!{{E}}_s.rng)
		{{E}}_s.rng = 88172645463325252ull;
	return 0;
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint64_t x = {{E}}_s.rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	{{E}}_s.rng = x;
	if (!{{E}}_s.active || (x >> 32) < {{E}}_s.thresh)
		return p;
	{{E}}_s.drops++;
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	pkt_kill(p);
{% endif %}
	return NULL;
}

static int {{E}}_r_sample(char *buf, size_t n) { return {{E}}_fmt_prob(buf, n, {{E}}_s.ppb); }
static int {{E}}_r_drop(char *buf, size_t n) { return {{E}}_fmt_prob(buf, n, 1000000000u - {{E}}_s.ppb); }

static int {{E}}_w_sample(const char *v)
{
	uint32_t x;
	if ({{E}}_parse_prob(v, &x))
		return -1;
	{{E}}_set(x);
	return 0;
}

static int {{E}}_w_drop(const char *v)
{
	uint32_t x;
	if ({{E}}_parse_prob(v, &x))
		return -1;
	{{E}}_set(1000000000u - x);
	return 0;
}

static int {{E}}_w_active(const char *v)
{
	int b;
	if (rt_parse_bool(v, &b))
		return -1;
	{{E}}_s.active = b;
	return 0;
}
"""

    def configure(self, inst):
        a = inst.args
        given = [k for k in ("P", "SAMPLE", "DROP") if a[k] is not None]
        if len(given) > 1:
            raise inst.error(f"give only one of P, SAMPLE and DROP (got {' and '.join(given)})",
                             given[1])
        if a["DROP"] is not None:
            ppb = 10 ** 9 - a["DROP"]
        elif given:
            ppb = a[given[0]]
        else:
            ppb = 10 ** 9
        inst.vars["ppb"] = ppb

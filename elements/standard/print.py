from uknfv.argtypes import ArgError, ArgType, Bool, Int, String
from uknfv.element import Arg, Element, Handler


CONTENTS = {"NONE": 0, "HEX": 1, "ASCII": 2}


class Contents(ArgType):
    """Print's CONTENTS: NONE, HEX or ASCII (any case), or a boolean (true = HEX)."""

    name = "contents (NONE, HEX or ASCII)"

    def parse(self, text):
        t = text.strip()
        b = {"true": "HEX", "yes": "HEX", "1": "HEX", "false": "NONE", "no": "NONE", "0": "NONE"}
        if t.lower() in b:
            return b[t.lower()]
        if t.upper() in CONTENTS:
            return t.upper()
        raise ArgError(f"bad contents value '{t}'; should be 'NONE', 'HEX', or 'ASCII'")


class Print(Element):
    name = "Print"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("LABEL", String(), positional=True, default="", doc="text at the start of each line"),
        Arg("MAXLENGTH", Int(), positional=True, default=None,
            doc="bytes of contents printed (default 24; negative: the whole packet)"),
        Arg("LENGTH", Int(), default=None, doc="deprecated alias of MAXLENGTH"),
        Arg("NBYTES", Int(), default=None, doc="deprecated alias of MAXLENGTH"),
        Arg("CONTENTS", Contents(), default="HEX",
            doc="how contents are printed: HEX, ASCII or NONE (true = HEX, false = NONE)"),
        Arg("TIMESTAMP", Bool(), default=False, doc="print the timestamp annotation"),
        Arg("PRINTANNO", Bool(), default=False, doc="print the annotation bytes in hex"),
        Arg("ACTIVE", Bool(), default=True, doc="print at all"),
        Arg("HEADROOM", Bool(), default=False, doc="print headroom and tailroom"),
    )
    handlers = (
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it prints"),
    )
    doc = """
    Prints one line per packet on the console (stderr), passing it on unchanged.

    Print(LABEL, MAXLENGTH, KEYWORDS).  The line has Click's format:

        [LABEL: ][TIMESTAMP: ]LEN[ (hH tT)][ | ANNOTATIONS][ | CONTENTS]

    LEN is the packet length right-aligned in 4 columns (`ok:   60 | ...`).
    TIMESTAMP true prints the timestamp annotation as SECONDS.NANOSECONDS;
    HEADROOM true the headroom and tailroom; PRINTANNO true the annotation
    area, one %02x per byte.  Then the first MAXLENGTH bytes (default 24;
    negative: all) of the packet: with CONTENTS HEX (default) as hex digits
    in groups of 4 bytes separated by a space (`00112233 44556677`), with
    ASCII as characters in groups of 8 each preceded by a space,
    non-printable bytes as '.', with NONE not at all (nor the ` | `).
    Nothing is printed while ACTIVE is false.  The packet is never
    modified.  Works on push and pull paths.

    Differences from Click: the annotation area printed by PRINTANNO is
    uknfv's (48 bytes, Click's layout for dst IP, paint and friends, but
    not byte-identical to Click's for other annotations); CPU is not
    supported.
    """
    c = r"""
static struct {
	int active;
	char line[{{ v.bufsize }}];
} {{E}}_s = { {{ 1 if a.ACTIVE else 0 }} };

static int {{E}}_w_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

static void {{E}}_print(const struct pkt *p)
{
	static const char hex[] = "0123456789abcdef";
	char *b = {{E}}_s.line;
	char *end = b + sizeof {{E}}_s.line - 1;
{% if v.prefix %}
	memcpy(b, {{ v.prefix | c_str }}, {{ v.prefix | length }});
	b += {{ v.prefix | length }};
{% endif %}
{% if a.TIMESTAMP %}
	b += snprintf(b, 48, "%llu.%09llu: ", (unsigned long long)(p->ts_ns / 1000000000u),
		      (unsigned long long)(p->ts_ns % 1000000000u));
{% endif %}
	b += snprintf(b, 16, "%4u", (unsigned)p->len);
{% if a.HEADROOM %}
	b += snprintf(b, 32, " (h%u t%u)", (unsigned)pkt_headroom(p), (unsigned)pkt_tailroom(p));
{% endif %}
{% if a.PRINTANNO %}
	memcpy(b, " | ", 3);
	b += 3;
	for (unsigned j = 0; j < PKT_ANNO_SIZE; j++) {
		*b++ = hex[p->anno[j] >> 4];
		*b++ = hex[p->anno[j] & 15];
	}
{% endif %}
{% if v.contents %}
	uint32_t n = p->len;
{% if v.maxlen >= 0 %}
	if (n > {{ v.maxlen }}u)
		n = {{ v.maxlen }}u;
{% endif %}
	if (n) {
		memcpy(b, " | ", 3);
		b += 3;
		const uint8_t *d = p->data;
		for (uint32_t i = 0; i < n && b + 4 < end; i++) {
{% if v.contents == 1 %}
			if (i && (i & 3) == 0)
				*b++ = ' ';
			*b++ = hex[d[i] >> 4];
			*b++ = hex[d[i] & 15];
{% else %}
			if ((i & 7) == 0)
				*b++ = ' ';
			*b++ = d[i] < 32 || d[i] > 126 ? '.' : (char)d[i];
{% endif %}
		}
	}
{% endif %}
	*b = 0;
	rt_log("%s", {{E}}_s.line);
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	if ({{E}}_s.active)
		{{E}}_print(p);
	return p;
}
"""

    def configure(self, inst):
        given = [(k, inst.args[k]) for k in ("MAXLENGTH", "LENGTH", "NBYTES") if inst.args[k] is not None]
        if len(given) > 1:
            raise inst.error(f"{given[0][0]} and {given[1][0]} are the same argument: "
                             f"give only MAXLENGTH", given[1][0])
        maxlen = given[0][1] if given else 24
        label = inst.args["LABEL"]
        if "\0" in label:
            raise inst.error("LABEL cannot contain a NUL character", "LABEL")
        inst.vars["prefix"] = ((label + ": ") if label else "").encode("latin-1", "replace")
        inst.vars["contents"] = CONTENTS[inst.args["CONTENTS"]]
        inst.vars["maxlen"] = maxlen if maxlen >= 0 else -1
        # worst case: the whole buffer in hex
        nbytes = maxlen if 0 <= maxlen < 4096 else 4096
        inst.vars["bufsize"] = (len(inst.vars["prefix"]) + 32 + 8 + 32
                                + 3 + 2 * 48 + 3 + 3 * nbytes + 16)

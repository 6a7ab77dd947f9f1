import re

from uknfv.argtypes import ArgError, EtherAddr, Int
from uknfv.element import Arg, Element, Handler


class ClickUInt(Int):
    """An unsigned integer read the way Click's IntArg reads it.

    0x/0X prefix: hexadecimal; 0b/0B: binary; any other leading 0: octal
    (so "0800" is an error, as in Click, not 800); '_' may separate digits;
    an optional '+' sign.
    """

    _FORMS = ((r"0[xX]", 16, "[0-9a-fA-F]"), (r"0[bB]", 2, "[01]"), (r"(?=0)", 8, "[0-7]"),
              (r"(?=[1-9])", 10, "[0-9]"))

    def __init__(self, max: int):
        super().__init__(0, max, "unsigned integer")

    def parse(self, text):
        t = text.strip()
        body = t[1:] if t.startswith("+") else t
        for prefix, base, digit in self._FORMS:
            m = re.fullmatch(f"{prefix}({digit}(?:_?{digit})*)", body)
            if m:
                v = int(m.group(1).replace("_", ""), base)
                break
        else:
            raise ArgError(f"expected {self.name}, got '{t}'"
                           + (" (a leading 0 means octal, as in Click)"
                              if re.fullmatch(r"0[0-9_]+", body) else ""))
        if v > self.max:
            raise ArgError(f"{self.name} {t} out of range (maximum {self.max})")
        return v

class ClickEther(EtherAddr):
    """An Ethernet address as Click's EtherAddressArg reads it: six groups of
    1-2 hex digits, separated by ':' or '-' (one separator throughout)."""

    def parse(self, text):
        t = text.strip()
        if not re.fullmatch(r"[0-9a-fA-F]{1,2}([:-])[0-9a-fA-F]{1,2}(?:\1[0-9a-fA-F]{1,2}){4}", t):
            raise ArgError(f"expected Ethernet address, got '{t}'")
        return super().parse(t)


# C helpers shared by the Ethernet elements (rendered per instance, so every
# symbol carries the instance prefix): Click's text forms of an Ethernet
# address, for the read/write handlers.
#   E_fmt_ether  Click's EtherAddress::unparse: "52-54-00-00-00-01"
#   E_parse_ether  EtherAddressArg: six groups of 1-2 hex digits separated by
#                  ':' or '-' (the same separator throughout); surrounding
#                  whitespace is ignored.  0 on success.
ETHER_HELPERS_C = r"""
static int {{E}}_fmt_ether(char *buf, size_t n, const uint8_t *a)
{
	return snprintf(buf, n, "%02X-%02X-%02X-%02X-%02X-%02X",
			a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int {{E}}_hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int {{E}}_parse_ether(const char *s, uint8_t out[6])
{
	uint8_t v[6] = {0};
	int d = 0, nd = 0;
	char sep = 0;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (; *s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r'; s++) {
		int x = {{E}}_hexval(*s);
		if (x >= 0) {
			if (nd == 2)
				return -1;
			v[d] = (uint8_t)(v[d] << 4 | x);
			nd++;
		} else if ((*s == ':' || *s == '-') && (!sep || *s == sep) && nd && d < 5) {
			sep = *s;
			d++;
			nd = 0;
		} else
			return -1;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s || d != 5 || !nd)
		return -1;
	memcpy(out, v, 6);
	return 0;
}
"""


class EtherEncap(Element):
    name = "EtherEncap"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("ETHERTYPE", ClickUInt(0xFFFF), positional=True, required=True,
            doc="Ethernet type, a 16-bit number in host order (0x0800 for IPv4)"),
        Arg("SRC", ClickEther(), positional=True, required=True, doc="source Ethernet address"),
        Arg("DST", ClickEther(), positional=True, required=True, doc="destination Ethernet address"),
    )
    handlers = (
        Handler("src", "{{E}}_r_src", kind="fn", write="{{E}}_w_src", doc="the SRC address"),
        Handler("dst", "{{E}}_r_dst", kind="fn", write="{{E}}_w_dst", doc="the DST address"),
        Handler("ethertype", "rd16({{E}}_s.h + 12)", write="{{E}}_w_type",
                doc="the ETHERTYPE (decimal when read)"),
        Handler("drops", "{{E}}_s.drops", doc="packets dropped: no room for the header"),
    )
    doc = """
    Encapsulates each packet in a fixed Ethernet header.

    EtherEncap(ETHERTYPE, SRC, DST) prepends 14 bytes: DST, SRC, then
    ETHERTYPE (given in host order, e.g. 0x0800, written big-endian).  Like
    Click, the MAC header annotation is set to the new header and the network
    header annotation to the byte after it.  The arguments may also be given
    as keywords (ETHERTYPE 0x0800, SRC ..., DST ...).

    Handlers src, dst and ethertype read (Ethernet addresses in Click's
    dash-separated form, the type in decimal) and write the header.  A packet
    whose buffer cannot take 14 more bytes is dropped and counted in `drops`
    (Click would reallocate it).

    Example: EtherEncap(0x0800, 52:54:00:00:00:01, 52:54:00:00:00:02)
    """
    c = ETHER_HELPERS_C + r"""
static struct {
	uint8_t h[14];
	uint64_t drops;
} {{E}}_s = {
	{{ v.header | c_bytes }},
	0
};

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *d = pkt_push(p, 14);
	if (__builtin_expect(!d, 0)) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return NULL;
	}
	memcpy(d, {{E}}_s.h, 14);
	p->mac = d;
	p->nh = d + 14;
	return p;
}

static int {{E}}_r_src(char *buf, size_t n) { return {{E}}_fmt_ether(buf, n, {{E}}_s.h + 6); }
static int {{E}}_r_dst(char *buf, size_t n) { return {{E}}_fmt_ether(buf, n, {{E}}_s.h); }
static int {{E}}_w_src(const char *v) { return {{E}}_parse_ether(v, {{E}}_s.h + 6); }
static int {{E}}_w_dst(const char *v) { return {{E}}_parse_ether(v, {{E}}_s.h); }

static int {{E}}_w_type(const char *v)
{
	unsigned long x = 0;
	int base = 10, any = 0;
	while (*v == ' ' || *v == '\t')
		v++;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		v += 2;
	}
	for (; *v; v++) {
		int d = {{E}}_hexval(*v);
		if (*v == '\n' || *v == '\r' || *v == ' ')
			break;
		if (d < 0 || d >= base)
			return -1;
		x = x * base + (unsigned long)d;
		if (x > 0xFFFF)
			return -1;
		any = 1;
	}
	if (!any)
		return -1;
	wr16({{E}}_s.h + 12, (uint16_t)x);
	return 0;
}
"""

    def configure(self, inst):
        a = inst.args
        inst.vars["header"] = a["DST"] + a["SRC"] + a["ETHERTYPE"].to_bytes(2, "big")

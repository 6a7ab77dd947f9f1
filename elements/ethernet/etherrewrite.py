from uknfv.element import Arg, Element, Handler

from .etherencap import ETHER_HELPERS_C, ClickEther


class EtherRewrite(Element):
    name = "EtherRewrite"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("SRC", ClickEther(), positional=True, required=True, doc="new source Ethernet address"),
        Arg("DST", ClickEther(), positional=True, required=True, doc="new destination Ethernet address"),
    )
    handlers = (
        Handler("src", "{{E}}_r_src", kind="fn", write="{{E}}_w_src", doc="the SRC address"),
        Handler("dst", "{{E}}_r_dst", kind="fn", write="{{E}}_w_dst", doc="the DST address"),
        Handler("bad", "{{E}}_s.bad",
                doc="packets dropped: no MAC header annotation, or fewer than 12 bytes from it"),
    )
    doc = """
    Rewrites the Ethernet source and destination addresses.

    EtherRewrite(SRC, DST) overwrites the 12 address bytes at the packet's
    MAC header annotation (not at the start of the data): destination := DST,
    source := SRC.  The Ethernet type and everything else is unchanged.  The
    MAC header annotation is set by FromDump, FromDevice, EtherEncap and
    MarkMACHeader.

    A packet without a MAC header annotation, or whose data ends less than
    12 bytes after it, is dropped and counted in `bad` (Click would write
    through the missing or short header).  Handlers src and dst read (in
    Click's dash-separated form) and write the addresses.
    """
    c = ETHER_HELPERS_C + r"""
static struct {
	uint8_t h[12];
	uint64_t bad;
} {{E}}_s = {
	{{ v.addrs | c_bytes }},
	0
};

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *m = p->mac;
	if (__builtin_expect(!m || m < p->buf || m + 12 > p->data + p->len, 0)) {
		{{E}}_s.bad++;
		pkt_kill(p);
		return NULL;
	}
	memcpy(m, {{E}}_s.h, 12);
	return p;
}

static int {{E}}_r_src(char *buf, size_t n) { return {{E}}_fmt_ether(buf, n, {{E}}_s.h + 6); }
static int {{E}}_r_dst(char *buf, size_t n) { return {{E}}_fmt_ether(buf, n, {{E}}_s.h); }
static int {{E}}_w_src(const char *v) { return {{E}}_parse_ether(v, {{E}}_s.h + 6); }
static int {{E}}_w_dst(const char *v) { return {{E}}_parse_ether(v, {{E}}_s.h); }
"""

    def configure(self, inst):
        inst.vars["addrs"] = inst.args["DST"] + inst.args["SRC"]

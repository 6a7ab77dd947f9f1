from uknfv.argtypes import ArgError, ArgType, Int
from uknfv.element import Arg, Element, Handler
from uknfv.elements.ethernet.etherencap import ClickUInt


class VLANTCI(ArgType):
    """A 16-bit VLAN TCI (Click's integer forms), or ANNO (value None -> "ANNO")."""

    name = "VLAN TCI"

    def parse(self, text):
        if text.strip().upper() == "ANNO":
            return "ANNO"
        return ClickUInt(0xFFFF).parse(text)


VLAN_ARGS = (
    Arg("VLAN_TCI", VLANTCI(), positional=True,
        doc="the 16-bit TCI (PCP, DEI, VLAN ID), or ANNO: the packet's VLAN_TCI annotation"),
    Arg("VLAN_PCP", Int(0, 7), positional=True, doc="priority code point 0-7 (replaces the TCI's)"),
    Arg("VLAN_ID", Int(0, 0xFFF), doc="VLAN ID 0-4095 (instead of VLAN_TCI)"),
)

# C: read/write handlers of a TCI held in {{E}}_s.tci
TCI_HANDLERS_C = r"""
static int {{E}}_r_tci(char *buf, size_t n) { return snprintf(buf, n, "%u", (unsigned){{E}}_s.tci); }
static int {{E}}_r_id(char *buf, size_t n) { return snprintf(buf, n, "%u", (unsigned)({{E}}_s.tci & 0xfff)); }
static int {{E}}_r_pcp(char *buf, size_t n) { return snprintf(buf, n, "%u", (unsigned)({{E}}_s.tci >> 13)); }

static int {{E}}_w_field(const char *v, int64_t max, int shift, uint16_t mask)
{
	int64_t x;
	if (rt_parse_i64(v, &x) || x < 0 || x > max)
		return -1;
	{{E}}_s.tci = (uint16_t)(({{E}}_s.tci & ~mask) | ((uint16_t)x << shift));
	return 0;
}
static int {{E}}_w_tci(const char *v) { return {{E}}_w_field(v, 0xffff, 0, 0xffff); }
static int {{E}}_w_id(const char *v) { return {{E}}_w_field(v, 0xfff, 0, 0x0fff); }
static int {{E}}_w_pcp(const char *v) { return {{E}}_w_field(v, 7, 13, 0xe000); }
"""

TCI_HANDLERS = (
    Handler("vlan_tci", "{{E}}_r_tci", kind="fn", write="{{E}}_w_tci",
            doc="the TCI (decimal); ignored in ANNO mode"),
    Handler("vlan_id", "{{E}}_r_id", kind="fn", write="{{E}}_w_id", doc="the TCI's VLAN ID"),
    Handler("vlan_pcp", "{{E}}_r_pcp", kind="fn", write="{{E}}_w_pcp", doc="the TCI's priority"),
)


def configure_tci(inst, allow_anno=True):
    """inst.vars: tci (constant), anno (read the annotation), pcp (override or None)."""
    a = inst.args
    if a["VLAN_TCI"] is not None and a["VLAN_ID"] is not None:
        raise inst.error("give VLAN_TCI or VLAN_ID, not both", "VLAN_ID")
    if a["VLAN_TCI"] is None and a["VLAN_ID"] is None:
        raise inst.error("missing VLAN_TCI or VLAN_ID")
    anno = a["VLAN_TCI"] == "ANNO"
    if anno and not allow_anno:
        raise inst.error("VLAN_TCI ANNO makes no sense here", "VLAN_TCI")
    tci = 0 if anno else (a["VLAN_TCI"] if a["VLAN_TCI"] is not None else a["VLAN_ID"])
    pcp = a["VLAN_PCP"]
    if pcp is not None:
        tci = (tci & 0x1FFF) | (pcp << 13)
    inst.vars.update(tci=tci, anno=anno, pcp=pcp)


class VLANEncap(Element):
    name = "VLANEncap"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = VLAN_ARGS + (
        Arg("NATIVE_VLAN", Int(-1, 0xFFF), default=0,
            doc="packets of this VLAN ID get no tag (-1: every packet is tagged)"),
        Arg("ETHERTYPE", ClickUInt(0xFFFF), default=0x8100,
            doc="the tag's type (0x8100 802.1Q; 0x88a8 802.1ad)"),
    )
    handlers = TCI_HANDLERS + (
        Handler("drops", "{{E}}_s.drops", doc="packets dropped: shorter than 14 bytes or no room"),
    )
    doc = """
    Adds an 802.1Q VLAN tag to Ethernet frames.

    VLANEncap(VLAN_TCI [, VLAN_PCP, KEYWORDS]) or VLANEncap(VLAN_ID ID ...).
    Inserts 4 bytes after the source address: ETHERTYPE (default 0x8100)
    then the TCI; the frame's own type follows.  Give the TCI as VLAN_TCI
    (16 bits: PCP, DEI, VLAN ID), as VLAN_ID (the priority then 0), or as
    VLAN_TCI ANNO to use each packet's VLAN_TCI annotation (as VLANDecap
    and SetVLANAnno leave it); VLAN_PCP, if given, replaces the priority
    bits.  Exactly one of VLAN_TCI and VLAN_ID must be given.

    A packet whose VLAN ID equals NATIVE_VLAN (default 0, as in Click)
    leaves untagged; NATIVE_VLAN -1 tags everything.  The MAC header
    annotation is set to the new header.  Frames shorter than 14 bytes, or
    whose buffer cannot take 4 more bytes, are dropped and counted in
    `drops`.  Handlers vlan_tci, vlan_id and vlan_pcp read and write the
    TCI (not used in ANNO mode).

    Example: VLANEncap(VLAN_ID 10, VLAN_PCP 3)
    """
    c = r"""
static struct {
	uint16_t tci;
	uint64_t drops;
} {{E}}_s = { {{ v.tci }}, 0 };

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *d;
{% if v.anno %}
	uint16_t tci = rd16(p->anno + PKT_ANNO_VLAN_TCI);
{% if v.pcp is not none %}
	tci = (uint16_t)((tci & 0x1fff) | ({{ v.pcp }} << 13));
{% endif %}
{% else %}
	uint16_t tci = {{E}}_s.tci;
{% endif %}
	if (__builtin_expect(p->len < 14, 0))
		goto drop;
{% if a.NATIVE_VLAN >= 0 %}
	if ((tci & 0xfff) == {{ a.NATIVE_VLAN }}) {
		p->mac = p->data;
		return p;
	}
{% endif %}
	d = pkt_push(p, 4);
	if (__builtin_expect(!d, 0))
		goto drop;
	memmove(d, d + 4, 12);
	wr16(d + 12, {{ a.ETHERTYPE }});
	wr16(d + 14, tci);
	p->mac = d;
	return p;
drop:
	{{E}}_s.drops++;
	pkt_kill(p);
	return NULL;
}
""" + TCI_HANDLERS_C

    def configure(self, inst):
        configure_tci(inst)

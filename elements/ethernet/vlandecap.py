from uknfv.argtypes import Bool
from uknfv.element import Arg, Element, Handler
from uknfv.elements.ethernet.etherencap import ClickUInt


class VLANDecap(Element):
    name = "VLANDecap"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("ANNO", Bool(), default=True,
            doc="set the VLAN_TCI annotation to the removed TCI (0 for untagged frames)"),
        Arg("ETHERTYPE", ClickUInt(0xFFFF), default=0x8100,
            doc="the tag type to strip (0x8100 802.1Q; 0x88a8 802.1ad)"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="tags removed"),
    )
    doc = """
    Removes the 802.1Q VLAN tag of tagged Ethernet frames.

    VLANDecap([KEYWORDS]).  A frame of at least 18 bytes whose type (bytes
    12-13) is ETHERTYPE (default 0x8100) loses its 4-byte tag: the
    addresses move up and the inner type follows them.  With ANNO true (the
    default) the VLAN_TCI annotation is set to the removed TCI, or to 0 for
    a frame that was not tagged.  Untagged frames pass unchanged; only the
    outer tag of a double-tagged frame is removed.  The MAC header
    annotation is set to the frame's start.  `count` (a uknfv addition)
    counts the tags removed.
    """
    c = r"""
static struct {
	uint64_t count;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	if (p->len >= 18 && rd16(p->data + 12) == {{ a.ETHERTYPE }}) {
{% if a.ANNO %}
		memcpy(p->anno + PKT_ANNO_VLAN_TCI, p->data + 14, 2);
{% endif %}
		memmove(p->data + 4, p->data, 12);
		pkt_pull(p, 4);
		{{E}}_s.count++;
	}
{% if a.ANNO %}
	else
		wr16(p->anno + PKT_ANNO_VLAN_TCI, 0);
{% endif %}
	p->mac = p->data;
	return p;
}
"""

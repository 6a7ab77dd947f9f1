from uknfv.element import Element
from uknfv.elements.ethernet.vlanencap import TCI_HANDLERS, TCI_HANDLERS_C, VLAN_ARGS, configure_tci


class SetVLANAnno(Element):
    name = "SetVLANAnno"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = VLAN_ARGS
    handlers = TCI_HANDLERS
    doc = """
    Sets each packet's VLAN_TCI annotation.

    SetVLANAnno(VLAN_TCI [, VLAN_PCP]) or SetVLANAnno(VLAN_ID ID [, VLAN_PCP P]).
    Stores the 16-bit TCI (VLAN_TCI, or VLAN_ID with priority VLAN_PCP,
    default 0) in the VLAN_TCI annotation, which VLANEncap(VLAN_TCI ANNO)
    puts in the tag.  Exactly one of VLAN_TCI and VLAN_ID must be given;
    VLAN_PCP, if given, replaces the priority bits.  The packet data is not
    changed.  Handlers vlan_tci, vlan_id and vlan_pcp read and write the TCI.
    """
    c = r"""
static struct {
	uint16_t tci;
} {{E}}_s = { {{ v.tci }} };

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	wr16(p->anno + PKT_ANNO_VLAN_TCI, {{E}}_s.tci);
	return p;
}
""" + TCI_HANDLERS_C

    def configure(self, inst):
        configure_tci(inst, allow_anno=False)

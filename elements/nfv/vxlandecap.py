from uknfv.argtypes import Bool, Int
from uknfv.element import Arg, Element, Handler
from uknfv.elements.ip.checkipheader import drop_reasons_c

REASONS = ("not VXLAN", "bad length", "bad UDP checksum", "bad VXLAN flags", "wrong VNI")


class VXLANDecap(Element):
    name = "VXLANDecap"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    args = (
        Arg("VNI", Int(-1, 0xFFFFFF), positional=True, default=-1,
            doc="the VNI to accept (-1, the default: any)"),
        Arg("OFFSET", Int(0, 65535, "unsigned integer"), default=14,
            doc="where the outer IP header starts (14: after an Ethernet header; 0: raw IP)"),
        Arg("DSTPORT", Int(1, 65535), default=4789, doc="the outer UDP destination port"),
        Arg("CHECKSUM", Bool(), default=True, doc="verify a non-zero outer UDP checksum"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="frames decapsulated (output 0)"),
        Handler("drops", "{{E}}_s.drops", doc="packets refused (output 1 or dropped)"),
        Handler("drop_details", "{{E}}_details", kind="fn",
                doc="refused packets by reason, lines 'COUNT<TAB>REASON'"),
    )
    doc = """
    Decapsulates VXLAN (RFC 7348): outputs the inner Ethernet frame.

    VXLANDecap([VNI, KEYWORDS]).  The outer IPv4 header starts OFFSET bytes
    into the packet (default 14, after an Ethernet header).  A packet is
    accepted when it is IPv4 with a sane header and total length, not a
    fragment, UDP to DSTPORT (default 4789) with a UDP length covering the
    8-byte VXLAN header and inside the IP payload ("not VXLAN", "bad
    length"), its UDP checksum, if not zero, is right (unless CHECKSUM
    false; "bad UDP checksum"), the VXLAN flags have the I bit (0x08) set
    ("bad VXLAN flags"), and, when VNI is given, the VNI matches ("wrong
    VNI").  The packet then leaves on output 0 as the inner frame alone:
    the bytes after the VXLAN header up to the end of the UDP length, with
    the MAC header annotation at its start and the network header annotation
    14 bytes in.

    Refused packets leave unchanged on output 1 if it is connected, else
    are dropped; either way they are counted in `drops` and, by reason, in
    `drop_details` (reasons: not VXLAN, bad length, bad UDP checksum, bad
    VXLAN flags, wrong VNI).  This element is not in Click.
    """
    c = r"""
static struct {
	uint64_t count, drops;
	uint64_t reason[5];
} {{E}}_s;

static const char *const {{E}}_reasons[5] = {
	"not VXLAN", "bad length", "bad UDP checksum", "bad VXLAN flags", "wrong VNI"
};

""" + drop_reasons_c(None) + r"""static inline struct pkt *{{E}}_action(struct pkt *p)
{
	int32_t avail = (int32_t)p->len - {{ a.OFFSET }};
	uint8_t *ip, *u;
	uint32_t hlen, iplen, ulen;

	if (__builtin_expect(avail < 20, 0))
		return {{E}}_drop(0, p);
	ip = p->data + {{ a.OFFSET }};
	if (__builtin_expect((ip[0] >> 4) != 4 || ip[9] != 17 || (rd16(ip + 6) & 0x3fff) != 0, 0))
		return {{E}}_drop(0, p);
	hlen = (uint32_t)(ip[0] & 0x0f) << 2;
	iplen = rd16(ip + 2);
	if (__builtin_expect(hlen < 20 || iplen > (uint32_t)avail || iplen < hlen + 8, 0))
		return {{E}}_drop(1, p);
	u = ip + hlen;
	if (__builtin_expect(rd16(u + 2) != {{ a.DSTPORT }}, 0))
		return {{E}}_drop(0, p);
	ulen = rd16(u + 4);
	if (__builtin_expect(ulen < 16 || ulen > iplen - hlen, 0))
		return {{E}}_drop(1, p);
{% if a.CHECKSUM %}
	if (rd16(u + 6) != 0) {
		uint32_t sum = cksum_add(0, ip + 12, 8) + 17 + ulen;
		if (__builtin_expect(cksum_fold(cksum_add(sum, u, ulen)) != 0, 0))
			return {{E}}_drop(2, p);
	}
{% endif %}
	if (__builtin_expect(!(u[8] & 0x08), 0))
		return {{E}}_drop(3, p);
{% if a.VNI >= 0 %}
	if (__builtin_expect((rd32(u + 12) >> 8) != {{ a.VNI }}u, 0))
		return {{E}}_drop(4, p);
{% endif %}
	{
		uint32_t start = (uint32_t)(u + 16 - p->data);
		uint32_t end = (uint32_t)(u + ulen - p->data);
		pkt_take(p, p->len - end);
		pkt_pull(p, start);
	}
	p->mac = p->data;
	p->nh = p->len >= 14 ? p->data + 14 : NULL;
	p->th = NULL;
	{{E}}_s.count++;
	return p;
}
"""

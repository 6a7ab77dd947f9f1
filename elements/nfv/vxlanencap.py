from uknfv.argtypes import IPAddr, Int
from uknfv.element import Arg, Element, Handler
from uknfv.elements.ethernet.etherencap import ClickEther

VXLAN_PORT = 4789


class VXLANEncap(Element):
    name = "VXLANEncap"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("VNI", Int(0, 0xFFFFFF, "VXLAN network identifier"), positional=True, required=True,
            doc="the 24-bit VXLAN network identifier"),
        Arg("SRC", IPAddr(), positional=True, required=True, doc="outer IPv4 source (this VTEP)"),
        Arg("DST", IPAddr(), positional=True, required=True, doc="outer IPv4 destination (the peer VTEP)"),
        Arg("SRCPORT", Int(0, 65535), default=0,
            doc="outer UDP source port; 0 (default): a hash of the inner frame in 49152-65535"),
        Arg("DSTPORT", Int(1, 65535), default=VXLAN_PORT, doc="outer UDP destination port"),
        Arg("ETHSRC", ClickEther(), doc="outer Ethernet source: with ETHDST, prepend an Ethernet header"),
        Arg("ETHDST", ClickEther(), doc="outer Ethernet destination"),
        Arg("TTL", Int(1, 255), default=64, doc="outer IP time to live"),
        Arg("TOS", Int(0, 255), default=0, doc="outer IP type of service"),
        Arg("DF", Int(0, 1), default=0, doc="1: set the outer IP don't-fragment bit"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets encapsulated"),
        Handler("drops", "{{E}}_s.drops", doc="packets dropped: no room for the outer headers"),
        Handler("vni", "{{ a.VNI }}", doc="the VNI"),
    )
    doc = """
    Encapsulates Ethernet frames in VXLAN (RFC 7348) over UDP/IPv4.

    VXLANEncap(VNI, SRC, DST [, KEYWORDS]).  Each packet (an Ethernet
    frame) gets, in front of it, an 8-byte VXLAN header (flags 0x08: VNI
    valid; the 24-bit VNI), a UDP header (source port SRCPORT, destination
    DSTPORT, default 4789, checksum 0 as RFC 7348 recommends for IPv4), an
    IPv4 header (SRC -> DST, TTL, TOS, identification 0, DF if DF is 1,
    checksum computed) and, when ETHSRC and ETHDST are both given, an
    Ethernet header (type 0x0800).  The network and transport header
    annotations point to the outer IP and UDP headers and the destination
    IP annotation is set to DST.

    With SRCPORT 0 (the default) the source port is 49152 plus a hash of
    the inner frame's addresses and, for IPv4 inner frames, of its IP
    addresses, protocol and TCP/UDP ports, modulo 16384: one inner flow
    always takes one outer source port, so ECMP and RSS spread flows (RFC
    7348 section 5).  A packet whose buffer cannot take the outer headers
    is dropped and counted in `drops`.  This element is not in Click.

    Example: VXLANEncap(42, 192.168.0.1, 192.168.0.2, ETHSRC 02:00:00:00:00:01, ETHDST 02:00:00:00:00:02)
    """
    c = r"""
static struct {
	uint64_t count, drops;
} {{E}}_s;

static const uint8_t {{E}}_hdr[{{ v.hlen }}] = {{ v.header | c_bytes }};

static inline uint16_t {{E}}_sport(const uint8_t *f, uint32_t len)
{
{% if a.SRCPORT %}
	(void)f; (void)len;
	return {{ a.SRCPORT }};
{% else %}
	uint64_t h = 0x9e3779b97f4a7c15ull;
	uint32_t i, n = len < 14 ? len : 14;
	for (i = 0; i < n; i++)
		h = (h ^ f[i]) * 0x100000001b3ull;
	if (len >= 34 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4) {
		const uint8_t *ip = f + 14;
		uint32_t hl = (uint32_t)(ip[0] & 15) << 2;
		for (i = 12; i < 20; i++)
			h = (h ^ ip[i]) * 0x100000001b3ull;
		h = (h ^ ip[9]) * 0x100000001b3ull;
		if ((ip[9] == 6 || ip[9] == 17) && (rd16(ip + 6) & 0x1fff) == 0 && len >= 14 + hl + 4)
			for (i = 0; i < 4; i++)
				h = (h ^ ip[hl + i]) * 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint16_t)(49152u + (uint32_t)(h % 16384u));
{% endif %}
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint32_t inner = p->len;
	uint16_t sport = {{E}}_sport(p->data, inner);
	uint8_t *d = pkt_push(p, {{ v.hlen }});
	uint8_t *ip;
	if (__builtin_expect(!d || inner + {{ v.hlen - v.ethlen }} > 65535u, 0)) {
		if (d)
			pkt_pull(p, {{ v.hlen }});
		{{E}}_s.drops++;
		pkt_kill(p);
		return NULL;
	}
	memcpy(d, {{E}}_hdr, {{ v.hlen }});
	ip = d + {{ v.ethlen }};
	wr16(ip + 2, (uint16_t)(inner + 36));
	wr16(ip + 10, in_cksum(ip, 20));
	wr16(ip + 20, sport);
	wr16(ip + 24, (uint16_t)(inner + 16));
	p->mac = {{ "d" if v.ethlen else "NULL" }};
	p->nh = ip;
	p->th = ip + 20;
	memcpy(p->anno + PKT_ANNO_DST_IP, ip + 16, 4);
	{{E}}_s.count++;
	return p;
}
"""

    def configure(self, inst):
        a = inst.args
        if (a["ETHSRC"] is None) != (a["ETHDST"] is None):
            raise inst.error("give both ETHSRC and ETHDST, or neither",
                             "ETHSRC" if a["ETHSRC"] is not None else "ETHDST")
        eth = a["ETHDST"] + a["ETHSRC"] + b"\x08\x00" if a["ETHSRC"] is not None else b""
        ip = bytes([0x45, a["TOS"], 0, 0, 0, 0, 0x40 if a["DF"] else 0, 0, a["TTL"], 17, 0, 0]) \
            + a["SRC"].to_bytes(4, "big") + a["DST"].to_bytes(4, "big")
        udp = bytes([0, 0]) + a["DSTPORT"].to_bytes(2, "big") + bytes(4)
        vx = bytes([0x08, 0, 0, 0]) + a["VNI"].to_bytes(3, "big") + b"\x00"
        hdr = eth + ip + udp + vx
        inst.vars.update(header=hdr, hlen=len(hdr), ethlen=len(eth))

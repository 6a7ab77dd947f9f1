from uknfv.element import Element, Handler
from uknfv.elements.ip.checkudpheader import L4_HELPERS_C


class SetUDPChecksum(Element):
    name = "SetUDPChecksum"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    handlers = (
        Handler("drops", "{{E}}_s.drops",
                doc="packets not checksummed: fragments, or headers or UDP length past the end"),
    )
    doc = """
    Computes and stores the UDP checksum of UDP-in-IPv4 packets.

    SetUDPChecksum works on the IPv4 header the network header annotation
    points to or, without one, on the IP header at the start of the packet
    data; the protocol field is not checked (as in Click).  It zeroes the
    checksum field and stores the Internet checksum of the IPv4
    pseudo-header and the UDP length bytes of UDP header and payload (a
    result of 0 is stored as 0xFFFF, RFC 768).

    A packet that is an IP fragment (MF set or a non-zero fragment offset),
    whose IP header does not fit, or whose UDP length is below 8 or longer
    than the bytes after the IP header leaves unchanged on output 1 if it is
    connected, else it is dropped; either way it is counted in `drops` and
    the first is reported on stderr (`SetUDPChecksum: bad input packet`).
    """
    c = L4_HELPERS_C + r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip = p->nh ? p->nh : p->data;
	int32_t avail = (int32_t)(p->data + p->len - ip);
	uint32_t hlen, ulen;
	if (__builtin_expect(avail >= 28, 1)
	    && (hlen = (uint32_t)(ip[0] & 0x0f) << 2) >= 20
	    && hlen + 8 <= (uint32_t)avail
	    && (rd16(ip + 6) & 0x3fff) == 0
	    && (ulen = rd16(ip + hlen + 4)) >= 8
	    && ulen <= (uint32_t)avail - hlen) {
		uint8_t *u = ip + hlen;
		uint16_t c;
		wr16(u + 6, 0);
		c = {{E}}_pseudo_cksum(ip, 17, u, ulen);
		wr16(u + 6, c ? c : 0xffff);
		return p;
	}
	if (++{{E}}_s.drops == 1)
		rt_log("SetUDPChecksum: bad input packet");
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	pkt_kill(p);
{% endif %}
	return NULL;
}
"""

from uknfv.argtypes import Bool
from uknfv.element import Arg, Element, Handler
from uknfv.elements.ip.checkudpheader import L4_HELPERS_C


class SetTCPChecksum(Element):
    name = "SetTCPChecksum"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("FIXOFF", Bool(), positional=True, default=False,
            doc="repair an invalid TCP data offset (set it to 5 words) instead of dropping"),
    )
    handlers = (
        Handler("drops", "{{E}}_s.drops",
                doc="packets dropped: IP header, IP length or TCP data offset invalid"),
    )
    doc = """
    Computes and stores the TCP checksum of TCP-in-IPv4 packets.

    SetTCPChecksum([FIXOFF]).  Works on the IPv4 header the network header
    annotation points to or, without one, on the IP header at the start of
    the packet data; the protocol field is not checked (as in Click).  The
    TCP segment is the IP payload as the IP total length gives it; the
    checksum field is zeroed and set to the Internet checksum of the IPv4
    pseudo-header and the segment.

    A packet whose IP header or total length does not fit the bytes
    present, whose segment is shorter than 20 bytes, or whose TCP data
    offset is below 5 words or beyond the segment is dropped, counted in
    `drops`, and the first is reported on stderr (`SetTCPChecksum: bad
    input packet`).  With FIXOFF true a bad data offset is repaired instead
    (set to 5 words, keeping the flag bits) and the packet is checksummed.
    """
    c = L4_HELPERS_C + r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip = p->nh ? p->nh : p->data;
	int32_t avail = (int32_t)(p->data + p->len - ip);
	uint32_t hlen, iplen, off;
	if (__builtin_expect(avail >= 40, 1)
	    && (hlen = (uint32_t)(ip[0] & 0x0f) << 2) >= 20
	    && (iplen = rd16(ip + 2)) <= (uint32_t)avail
	    && iplen >= hlen + 20) {
		uint8_t *t = ip + hlen;
		uint32_t len = iplen - hlen;
		off = (uint32_t)(t[12] >> 4) << 2;
		if (off < 20 || off > len) {
{% if a.FIXOFF %}
			t[12] = (uint8_t)((5 << 4) | (t[12] & 0x0f));
{% else %}
			goto bad;
{% endif %}
		}
		wr16(t + 16, 0);
		wr16(t + 16, {{E}}_pseudo_cksum(ip, 6, t, len));
		return p;
	}
{% if not a.FIXOFF %}
bad:
{% endif %}
	if (++{{E}}_s.drops == 1)
		rt_log("SetTCPChecksum: bad input packet");
	pkt_kill(p);
	return NULL;
}
"""

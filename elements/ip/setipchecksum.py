from uknfv.element import Element, Handler


class SetIPChecksum(Element):
    name = "SetIPChecksum"
    ports = "1/1"
    processing = "a/a"
    action = True
    handlers = (
        Handler("drops", "{{E}}_s.drops",
                doc="packets too short for their IP header, or with IHL < 5 (dropped)"),
    )
    doc = """
    Computes and stores the IP header checksum.

    SetIPChecksum works on the IP header the network header annotation
    points to or, without one, on the IP header at the start of the packet
    data (as in Click).  It zeroes the checksum field and stores the Internet
    checksum of the IHL*4 header bytes (options included).  A packet with
    fewer than 20 bytes there, an IHL below 5 or fewer bytes than the IHL
    announces is dropped and counted in `drops`; the first one is reported
    on stderr as `SetIPChecksum: bad input packet`.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip = p->nh ? p->nh : p->data;
	int32_t plen = (int32_t)(p->data + p->len - ip);
	uint32_t hlen;
	if (__builtin_expect(plen >= 20, 1)
	    && __builtin_expect((hlen = (uint32_t)(ip[0] & 0x0f) << 2) >= 20, 1)
	    && __builtin_expect(hlen <= (uint32_t)plen, 1)) {
		wr16(ip + 10, 0);
		wr16(ip + 10, in_cksum(ip, hlen));
		return p;
	}
	if (++{{E}}_s.drops == 1)
		rt_log("SetIPChecksum: bad input packet");
	pkt_kill(p);
	return NULL;
}
"""

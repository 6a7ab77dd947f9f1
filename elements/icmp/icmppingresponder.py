from uknfv.element import Element, Handler


class ICMPPingResponder(Element):
    name = "ICMPPingResponder"
    ports = "1/1-2"
    processing = "a/ah"
    action = True
    handlers = (
        Handler("drops", "{{E}}_s.drops",
                doc="packets that are not echo requests, dropped (output 1 not connected)"),
        Handler("bad", "{{E}}_s.bad",
                doc="packets dropped: no IP header annotation, or IP header beyond the data"),
    )
    doc = """
    Turns ICMP echo requests into echo replies.

    ICMPPingResponder takes no arguments.  Input packets must have their IP
    header annotation set (CheckIPHeader, MarkIPHeader ...).  An echo
    request -- IP protocol 1, at least 8 bytes from the transport header to
    the end of the data, ICMP type 8 (the code is not checked) -- is
    rewritten in place exactly as Click does it: source and destination
    addresses swapped, fragment field cleared and TTL set to 255 with the IP
    checksum updated incrementally (RFC 1624, so a wrong checksum stays
    wrong), IP id, TOS, options and length unchanged; ICMP type and code set
    to 0 with the ICMP checksum updated incrementally (0xFFFF if the ICMP
    part is all zeros).  The destination IP annotation becomes the new
    destination, the timestamp the current time, the paint annotation 0.
    Nothing before the IP header (an Ethernet header, say) is touched, and
    the packet is emitted on output 0.

    Anything else leaves unchanged on output 1 if it is connected, else it
    is dropped and counted in `drops`.  A packet without an IP header
    annotation, or whose 20-byte IP header does not fit in the packet, is
    dropped and counted in `bad` (Click reads through such headers).  When
    no transport header annotation is set, it is taken to follow the IP
    header (IP header length from the header).
    """
    c = r"""
static struct {
	uint64_t drops, bad;
} {{E}}_s;

/* RFC 1624 incremental update of the checksum at c: halfword old -> new. */
static inline void {{E}}_cksum_update(uint8_t *c, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint32_t)(~rd16(c) & 0xFFFF) + (uint32_t)(~old & 0xFFFF) + new_;
	sum = (sum & 0xFFFF) + (sum >> 16);
	wr16(c, (uint16_t)~(sum + (sum >> 16)));
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t *ip = p->nh, *end = p->data + p->len, *th = p->th;
	if (__builtin_expect(!ip || ip < p->buf, 0))
		goto bad;
	if (!th) {
		if (ip + 20 > end)
			goto bad;
		th = ip + (ip[0] & 15) * 4;
	}
	if (end - th < 8)
		goto other;
	if (__builtin_expect(ip + 20 > end || th < p->buf, 0))
		goto bad;
	if (ip[9] != 1 || th[0] != 8)
		goto other;

	/* addresses swapped (the checksum stays valid) */
	uint8_t a[4];
	memcpy(a, ip + 12, 4);
	memmove(ip + 12, ip + 16, 4);
	memcpy(ip + 16, a, 4);
	/* fragment field cleared */
	{{E}}_cksum_update(ip + 10, rd16(ip + 6), 0);
	wr16(ip + 6, 0);
	/* TTL 255 */
	uint16_t old = rd16(ip + 8);
	ip[8] = 255;
	{{E}}_cksum_update(ip + 10, old, rd16(ip + 8));
	/* echo reply */
	old = rd16(th);
	th[0] = 0;
	th[1] = 0;
	{{E}}_cksum_update(th + 2, old, 0);
	if (rd16(th + 2) == 0) {
		const uint8_t *q = th;
		while (q < end && !*q)
			q++;
		if (q == end)
			wr16(th + 2, 0xFFFF);
	}
	memcpy(p->anno + PKT_ANNO_DST_IP, ip + 16, 4);
	p->anno[PKT_ANNO_PAINT] = 0;
	p->ts_ns = rt_now_ns();
	return p;

bad:
	{{E}}_s.bad++;
	pkt_kill(p);
	return NULL;
other:
{% if nout > 1 %}
	{{ out[1] }}(p);
{% else %}
	{{E}}_s.drops++;
	pkt_kill(p);
{% endif %}
	return NULL;
}
"""

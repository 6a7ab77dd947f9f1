from uknfv.elements.ip.checkudpheader import _CheckL4Header, l4_check_doc


class CheckTCPHeader(_CheckL4Header):
    name = "CheckTCPHeader"
    proto = 6
    kind = "TCP"
    reasons = ("not TCP", "bad packet length", "bad TCP checksum")
    doc = l4_check_doc(
        "TCP", 6, reasons, "the IP payload is shorter than 20 bytes or the TCP data offset is below "
        "20 bytes or beyond the IP payload (\"bad packet length\"), or the TCP checksum "
        "over the IP payload is wrong (\"bad TCP checksum\")")
    c = _CheckL4Header.c_head + r"""
	if (__builtin_expect(l4len < 20, 0))
		return {{E}}_drop(1, p);
	{
		uint32_t off = (uint32_t)(l4[12] >> 4) << 2;
		if (__builtin_expect(off < 20 || off > l4len, 0))
			return {{E}}_drop(1, p);
		if (__builtin_expect({{E}}_pseudo_cksum(ip, 6, l4, l4len) != 0, 0))
			return {{E}}_drop(2, p);
	}
""" + _CheckL4Header.c_tail

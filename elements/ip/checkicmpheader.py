from uknfv.elements.ip.checkudpheader import _CheckL4Header, l4_check_doc


class CheckICMPHeader(_CheckL4Header):
    name = "CheckICMPHeader"
    proto = 1
    kind = "ICMP"
    reasons = ("not ICMP", "bad packet length", "bad ICMP checksum")
    doc = l4_check_doc(
        "ICMP", 1, reasons, "the IP payload is shorter than the 8-byte ICMP header (\"bad packet "
        "length\"), or the ICMP checksum over the IP payload is wrong (\"bad ICMP checksum\")")
    c = _CheckL4Header.c_head + r"""
	if (__builtin_expect(l4len < 8, 0))
		return {{E}}_drop(1, p);
	if (__builtin_expect(in_cksum(l4, l4len) != 0, 0))
		return {{E}}_drop(2, p);
""" + _CheckL4Header.c_tail

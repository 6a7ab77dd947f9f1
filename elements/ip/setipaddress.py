from uknfv.argtypes import IPAddr
from uknfv.element import Arg, Element, Handler
from uknfv.elements.ip.getipaddress import Anno4

# C: parse a dotted quad (handler values); shared with other IP elements.
C_PARSE_IP = r"""
static int {{E}}_parse_ip(const char *v, uint32_t *out)
{
	uint32_t a = 0;
	int parts = 0;
	while (*v == ' ' || *v == '\t')
		v++;
	for (;;) {
		unsigned x = 0, digits = 0;
		while (*v >= '0' && *v <= '9' && digits < 4) {
			x = x * 10 + (unsigned)(*v++ - '0');
			digits++;
		}
		if (!digits || x > 255)
			return -1;
		a = a << 8 | x;
		if (++parts == 4)
			break;
		if (*v++ != '.')
			return -1;
	}
	while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
		v++;
	if (*v)
		return -1;
	*out = a;
	return 0;
}
"""


class SetIPAddress(Element):
    name = "SetIPAddress"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("IPADDR", IPAddr(), positional=True, required=True, doc="the address to store"),
        Arg("ANNO", Anno4(), default=0,
            doc="annotation to set (default DST_IP, the destination IP annotation)"),
    )
    handlers = (
        Handler("addr", "{{E}}_read_addr", kind="fn", write="{{E}}_write_addr",
                doc="the address stored (writable)"),
    )
    doc = """
    Sets the destination IP address annotation to a fixed address.

    SetIPAddress(IPADDR [, ANNO ANNO]) stores IPADDR in the annotation ANNO
    (default: the destination IP annotation, which route lookups and
    ARPQuerier use).  As in Click, the packet data is not changed: to
    rewrite the IP destination field, use an element that edits headers.
    The `addr` handler reads or changes the address at run time.
    """
    c = C_PARSE_IP + r"""
static uint8_t {{E}}_addr[4] = { {{ v.addr_bytes }} };

static int {{E}}_read_addr(char *buf, size_t n)
{
	return snprintf(buf, n, "%u.%u.%u.%u", {{E}}_addr[0], {{E}}_addr[1],
			{{E}}_addr[2], {{E}}_addr[3]);
}

static int {{E}}_write_addr(const char *v)
{
	uint32_t a;
	if ({{E}}_parse_ip(v, &a))
		return -1;
	wr32({{E}}_addr, a);
	return 0;
}

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	memcpy(p->anno + {{ a.ANNO }}, {{E}}_addr, 4);
	return p;
}
"""

    def configure(self, inst):
        a = inst.args["IPADDR"]
        inst.vars["addr_bytes"] = ", ".join(str((a >> s) & 255) for s in (24, 16, 8, 0))

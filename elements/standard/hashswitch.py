from uknfv.argtypes import Int
from uknfv.element import Arg, Element, Handler


class HashSwitch(Element):
    name = "HashSwitch"
    ports = "1/1-"
    processing = "h/h"
    args = (
        Arg("OFFSET", Int(0, 65535, "unsigned integer"), positional=True, required=True,
            doc="first byte of the hashed field, from the packet data"),
        Arg("LENGTH", Int(1, 65535, "positive integer"), positional=True, required=True,
            doc="number of bytes hashed"),
    )
    handlers = (Handler("short", "{{E}}_s.shorts",
                        doc="packets shorter than OFFSET+LENGTH (sent to output 0)"),)
    doc = """
    Chooses each packet's output from a hash of LENGTH bytes at OFFSET.

    HashSwitch(OFFSET, LENGTH).  Packets with the same bytes there always
    take the same output (stochastic fair queueing, flow spreading).  The
    hash is Click's: the sum d of the bytes; with N outputs the output is
    (d >> 2) mod N when N is 2, 4 or 8, else d mod N.  A packet shorter
    than OFFSET+LENGTH goes to output 0, as in Click (uknfv counts these in
    the `short` handler).  LENGTH must be at least 1.

    Example: HashSwitch(30, 4)  // Ethernet frames by IP destination
    """
    c = r"""
static struct {
	uint64_t shorts;
} {{E}}_s;

static inline void {{E}}_push0(struct pkt *p)
{
	unsigned o = 0;
	if (__builtin_expect(p->len < {{ a.OFFSET + a.LENGTH }}u, 0)) {
		{{E}}_s.shorts++;
	} else {
		const uint8_t *d = p->data + {{ a.OFFSET }};
		uint32_t sum = 0;
		for (unsigned i = 0; i < {{ a.LENGTH }}u; i++)
			sum += d[i];
{% if nout in (2, 4, 8) %}
		o = (sum >> 2) % {{ nout }}u;
{% else %}
		o = sum % {{ nout }}u;
{% endif %}
	}
	switch (o) {
{% for j in range(nout - 1) %}
	case {{ j }}: {{ out[j] }}(p); return;
{% endfor %}
	default: {{ out[nout - 1] }}(p);
	}
}
"""

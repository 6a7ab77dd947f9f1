from uknfv.element import Element, Handler


class EtherMirror(Element):
    name = "EtherMirror"
    ports = "1/1"
    processing = "a/a"
    action = True
    handlers = (Handler("bad", "{{E}}_s.bad", doc="packets dropped: shorter than 12 bytes"),)
    doc = """
    Swaps the Ethernet source and destination addresses.

    EtherMirror takes no arguments.  It exchanges bytes 0-5 (destination)
    and 6-11 (source) at the start of the packet data; nothing else changes.
    A packet shorter than 12 bytes is dropped and counted in `bad` (Click
    would read and write past its end).
    """
    c = r"""
static struct {
	uint64_t bad;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	uint8_t t[6];
	if (__builtin_expect(p->len < 12, 0)) {
		{{E}}_s.bad++;
		pkt_kill(p);
		return NULL;
	}
	memcpy(t, p->data, 6);
	memcpy(p->data, p->data + 6, 6);
	memcpy(p->data + 6, t, 6);
	return p;
}
"""

from uknfv.argtypes import Int
from uknfv.element import Arg, Element, Handler


class Strip(Element):
    name = "Strip"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (Arg("LENGTH", Int(0, 65535), positional=True, required=True, doc="bytes to remove"),)
    doc = """
    Removes LENGTH bytes from the front of each packet.

    A packet shorter than LENGTH becomes empty (as in Click).  The bytes stay
    in the buffer as headroom, so Unstrip can restore them.
    """
    c = r"""
static inline struct pkt *{{E}}_action(struct pkt *p)
{
	pkt_pull(p, {{ a.LENGTH }});
	return p;
}
"""


class Unstrip(Element):
    name = "Unstrip"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (Arg("LENGTH", Int(0, 1024), positional=True, required=True, doc="bytes to put back"),)
    handlers = (Handler("drops", "{{E}}_s.drops", doc="packets without room to grow"),)
    doc = """
    Puts LENGTH bytes back at the front of each packet (undoes Strip).

    The restored bytes are whatever the buffer holds before the data:
    after Strip, the original header.
    """
    c = r"""
static struct {
	uint64_t drops;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
	if (!pkt_push(p, {{ a.LENGTH }})) {
		{{E}}_s.drops++;
		pkt_kill(p);
		return NULL;
	}
	return p;
}
"""

from uknfv.argtypes import UInt
from uknfv.element import Arg, Element, Handler

from .ratedunqueue import MAX_RATE, TB_C, tb_configure


class RatedSplitter(Element):
    name = "RatedSplitter"
    ports = "1/2"
    processing = "h/h"
    args = (
        Arg("RATE", UInt(MAX_RATE), positional=True, required=True,
            doc="packets per second sent to output 0"),
    )
    handlers = (
        Handler("rate", "{{E}}_tb_rate", kind="fn", write="{{E}}_tb_w_rate",
                doc="packets per second sent to output 0"),
        Handler("count0", "{{E}}_s.n[0]", doc="packets sent to output 0"),
        Handler("count1", "{{E}}_s.n[1]", doc="packets sent to output 1"),
    )
    doc = """
    Splits a packet stream by rate.

    RatedSplitter(RATE).  Sends at most RATE packets per second to output
    0 and the rest to output 1, using a token bucket on the monotonic clock
    (one token per packet; capacity 20ms worth of packets, at least one;
    the bucket starts full).  RATE 0 sends every packet to output 1.  The
    bucket is exact over time: over N seconds of saturated input, output 0
    gets RATE * N packets plus at most the capacity.

    Handlers: rate (read/write), and, as uknfv extensions, count0 and
    count1 (packets sent to each output).

    Differences from Click: the bucket capacity is fixed at 20ms worth
    (Click sizes it from the rate in its own way); a rate write refills it.

    Example: ... -> s :: RatedSplitter(1000) -> Queue -> ...; s[1] -> Discard;
    """
    c = TB_C + r"""
static struct {
	uint64_t n[2];
} {{E}}_s;

static inline void {{E}}_push0(struct pkt *p)
{
	{{E}}_tb_fill(rt_mono_ns());
	if ({{E}}_tb_take1()) {
		{{E}}_s.n[0]++;
		{{ out[0] }}(p);
	} else {
		{{E}}_s.n[1]++;
		{{ out[1] }}(p);
	}
}
"""

    def configure(self, inst):
        tb_configure(inst, inst.args["RATE"], None, None)

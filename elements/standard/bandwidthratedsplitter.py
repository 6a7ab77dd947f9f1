from uknfv.element import Arg, Element, Handler

from .ratedsource import Bandwidth
from .ratedunqueue import TB_C, tb_configure


class BandwidthRatedSplitter(Element):
    name = "BandwidthRatedSplitter"
    ports = "1/2"
    processing = "h/h"
    args = (
        Arg("RATE", Bandwidth(), positional=True, required=True,
            doc="bandwidth sent to output 0 (e.g. 10Mbps, 1MBps; a bare number is bytes/s)"),
    )
    handlers = (
        Handler("rate", "{{E}}_tb_rate", kind="fn", write="{{E}}_tb_w_rate",
                doc="bytes per second sent to output 0"),
        Handler("count0", "{{E}}_s.n[0]", doc="packets sent to output 0"),
        Handler("count1", "{{E}}_s.n[1]", doc="packets sent to output 1"),
    )
    doc = """
    Splits a packet stream by bandwidth.

    BandwidthRatedSplitter(RATE).  Sends at most RATE (a bandwidth: 10Mbps,
    1MBps ...) to output 0 and the rest to output 1.  A token bucket of
    bytes on the monotonic clock, 20ms worth of capacity, starting full: a
    packet goes to output 0 while the bucket holds credit, and its length
    is charged then (the bucket may go into debt, so packets larger than
    the bucket still pass at the right average rate).  RATE 0 sends every
    packet to output 1.

    Handlers: rate (read/write, bytes per second), and, as uknfv
    extensions, count0 and count1.

    Differences from Click: a rate write takes bytes per second (no
    units) and refills the bucket.

    Example: ... -> s :: BandwidthRatedSplitter(10Mbps) -> Queue -> ...; s[1] -> Discard;
    """
    c = TB_C + r"""
static struct {
	uint64_t n[2];
} {{E}}_s;

static inline void {{E}}_push0(struct pkt *p)
{
	{{E}}_tb_fill(rt_mono_ns());
	if ({{E}}_tb_positive()) {
		{{E}}_tb_charge(p->len);
		{{E}}_s.n[0]++;
		{{ out[0] }}(p);
	} else {
		{{E}}_s.n[1]++;
		{{ out[1] }}(p);
	}
}
"""

    def configure(self, inst):
        tb_configure(inst, int(inst.args["RATE"]), None, None)

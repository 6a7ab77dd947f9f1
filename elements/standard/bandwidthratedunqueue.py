from uknfv.argtypes import Bool, Seconds, UInt
from uknfv.element import Arg, Element, Handler

from .ratedsource import Bandwidth
from .ratedunqueue import TB_C, tb_configure


class BandwidthRatedUnqueue(Element):
    name = "BandwidthRatedUnqueue"
    ports = "1/1"
    processing = "l/h"
    task = "driver"
    timed = True
    args = (
        Arg("RATE", Bandwidth(), positional=True, required=True,
            doc="bandwidth (e.g. 10Mbps, 1MBps): token bucket fill rate in bytes"),
        Arg("BURST_DURATION", Seconds(), default=None,
            doc="bucket capacity as a duration: RATE * BURST_DURATION bytes (default 20ms)"),
        Arg("BURST_BYTES", UInt(1 << 40), default=None, doc="bucket capacity in bytes"),
        Arg("ACTIVE", Bool(), default=True, doc="pull at once (else wait for the active handler)"),
    )
    handlers = (
        Handler("rate", "{{E}}_tb_rate", kind="fn", write="{{E}}_tb_w_rate",
                doc="bytes per second"),
        Handler("count", "{{E}}_s.count", doc="packets moved"),
        Handler("byte_count", "{{E}}_s.bytes", doc="bytes moved"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it pulls"),
        Handler("reset", write="{{E}}_w_reset", doc="set count and byte_count to 0"),
    )
    doc = """
    Pulls packets at a given bandwidth and pushes them to its output.

    BandwidthRatedUnqueue(RATE, KEYWORDS).  Like RatedUnqueue, but RATE is
    a bandwidth (10Mbps, 1MBps ...; a bare number is bytes per second) and
    each packet costs its length in bytes.  As in Click, a packet is pulled
    while the bucket holds any credit and its length is charged afterwards
    (the bucket may go into debt), so packets larger than the bucket still
    pass at the right average rate.  Capacity: BURST_DURATION worth of bytes
    (default 20ms), or BURST_BYTES; the bucket starts full.

    Handlers: rate (read/write, bytes per second), and, as uknfv
    extensions, count, byte_count, active and reset.

    Differences from Click: EXTRA_LENGTH and LINK_RATE (FastClick) are not
    supported; a rate write takes bytes per second (no units) and refills
    the bucket; there are no notifiers (the task polls while it has credit).

    Example: ... -> Queue -> BandwidthRatedUnqueue(100Mbps) -> ToDevice(eth0)
    """
    c = TB_C + r"""
static struct {
	uint64_t count, bytes;
	int active;
} {{E}}_s = { 0, 0, {{ 1 if a.ACTIVE else 0 }} };

static int {{E}}_w_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

static int {{E}}_w_reset(const char *v)
{
	{{E}}_s.count = 0;
	{{E}}_s.bytes = 0;
	return 0;
}

static unsigned {{E}}_run(void)
{
	if (!{{E}}_s.active || !{{E}}_tb.rate)
		return 0;
	{{E}}_tb_fill(rt_mono_ns());
	unsigned w = 0;
	while (w < 256 && {{E}}_tb_positive()) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		{{E}}_tb_charge(p->len);
		{{E}}_s.bytes += p->len;
		w++;
		{{ out[0] }}(p);
	}
	{{E}}_s.count += w;
	return w;
}
"""

    def configure(self, inst):
        tb_configure(inst, int(inst.args["RATE"]), inst.args["BURST_DURATION"], inst.args["BURST_BYTES"])

from uknfv.element import Arg, Element, Handler

from .ratedsource import Bandwidth
from .ratedunqueue import TB_C, tb_configure


class BandwidthShaper(Element):
    name = "BandwidthShaper"
    ports = "1/1"
    processing = "l/l"
    # Packets wait upstream for tokens: keep the runtime from sleeping
    # until the next arrival while they do.
    timed = True
    args = (
        Arg("RATE", Bandwidth(), positional=True, required=True,
            doc="bandwidth (e.g. 10Mbps, 1MBps); a bare number is bytes per second"),
    )
    handlers = (
        Handler("rate", "{{E}}_tb_rate", kind="fn", write="{{E}}_tb_w_rate",
                doc="bytes per second"),
        Handler("count", "{{E}}_s.count", doc="packets let through"),
        Handler("byte_count", "{{E}}_s.bytes", doc="bytes let through"),
    )
    doc = """
    Shapes a pull traffic stream to a maximum bandwidth.

    BandwidthShaper(RATE).  A pull element: a pull on its output pulls its
    input only while the token bucket, filling at RATE bytes per second,
    holds credit; the packet's length is then charged (the bucket may go
    into debt, as in Click, so large packets pass at the right average
    rate).  Otherwise the pull returns nothing and the input is not
    touched, so packets wait upstream (in a Queue).  The bucket holds 20ms
    worth of bytes and starts full; it is exact over time (credit in
    billionths of a byte on the monotonic clock).  While it exists the
    runtime polls its tasks at least about once a millisecond (as with a
    RatedSource), so waiting packets leave when their tokens come.

    Handlers: rate (read/write, bytes per second), and, as uknfv
    extensions, count and byte_count.

    Differences from Click: a rate write takes bytes per second (no
    units) and refills the bucket.

    Example: ... -> Queue -> BandwidthShaper(1Mbps) -> Unqueue -> ...
    """
    c = TB_C + r"""
static struct {
	uint64_t count, bytes;
} {{E}}_s;

static inline struct pkt *{{E}}_pull0(void)
{
	{{E}}_tb_fill(rt_mono_ns());
	if (!{{E}}_tb_positive())
		return NULL;
	struct pkt *p = {{ inp[0] }}();
	if (p) {
		{{E}}_tb_charge(p->len);
		{{E}}_s.count++;
		{{E}}_s.bytes += p->len;
	}
	return p;
}
"""

    def configure(self, inst):
        tb_configure(inst, int(inst.args["RATE"]), None, None)

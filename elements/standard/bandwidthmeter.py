from uknfv.element import Arg, Handler

from .meter import Meter
from .ratedsource import Bandwidth


class BandwidthMeter(Meter):
    name = "BandwidthMeter"
    rest = Arg("RATE", Bandwidth(), required=True, doc="bandwidths (increasing), e.g. 384kbps")
    unit = "bytes per second"
    amount = "p->len"
    handlers = (
        Handler("rate", "{{E}}_rate", kind="fn", doc="the measured rate (bytes per second)"),
    )
    doc = """
    Classifies a packet stream by its arrival rate in bytes per second.

    BandwidthMeter(RATE1, RATE2, ..., RATEn).  Like Meter, but the rate is
    measured in bytes per second and each RATE is a bandwidth (384kbps,
    1MBps ...; a bare number is bytes per second).  Below RATE1 a packet
    goes to output 0, ..., at least RATEn to output n.  The same moving
    average as Meter (epochs of about 1 ms, weight 1/16).

    Handlers: rate (the measured rate, bytes per second), and, as uknfv
    extensions, countJ (packets sent to output J).

    Differences from Click: as Meter's.

    Example: ... -> m :: BandwidthMeter(20kBps) -> ...; m[1] -> Discard;
    """

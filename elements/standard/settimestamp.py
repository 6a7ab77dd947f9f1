import re

from uknfv.argtypes import ArgError, ArgType, Bool
from uknfv.element import Arg, Element, Handler


class Timestamp(ArgType):
    """Click's Timestamp: SECONDS[.FRACTION] since the epoch; value in ns."""

    name = "timestamp"

    def parse(self, text):
        t = text.strip()
        m = re.fullmatch(r"([0-9]+)(?:\.([0-9]*))?", t)
        if not m:
            raise ArgError(f"expected timestamp (seconds since the epoch, e.g. 1700000000.25), got '{t}'")
        ns = int(m.group(1)) * 10 ** 9 + int((m.group(2) or "")[:9].ljust(9, "0"))
        if ns >= 1 << 63:
            raise ArgError(f"timestamp {t} out of range")
        return ns


class SetTimestamp(Element):
    name = "SetTimestamp"
    ports = "1/1"
    processing = "a/a"
    action = True
    args = (
        Arg("TIMESTAMP", Timestamp(), positional=True,
            doc="the time to store, seconds since the epoch (default: the time of arrival)"),
        Arg("FIRST", Bool(), default=False,
            doc="Click: set the 'first timestamp' annotation (uknfv has none: must be false)"),
    )
    handlers = (Handler("count", "{{E}}_s.count", doc="packets stamped"),)
    doc = """
    Stores a time in each packet's timestamp annotation.

    SetTimestamp([TIMESTAMP, FIRST]).  With TIMESTAMP (seconds since the
    epoch, with up to nine decimals) every packet gets that time; without
    it each packet gets the wall-clock time at which it reached the element
    (nanosecond resolution).  ToDump writes the annotation as the pcap
    record's time.

    Click's FIRST true sets a separate "first timestamp" annotation that
    uknfv packets do not have: FIRST true is refused at build time.  The
    `count` handler (a uknfv addition) counts the packets stamped.
    """
    c = r"""
static struct {
	uint64_t count;
} {{E}}_s;

static inline struct pkt *{{E}}_action(struct pkt *p)
{
{% if a.TIMESTAMP is not none %}
	p->ts_ns = {{ a.TIMESTAMP }}ull;
{% else %}
	p->ts_ns = rt_now_ns();
{% endif %}
	{{E}}_s.count++;
	return p;
}
"""

    def configure(self, inst):
        if inst.args["FIRST"]:
            raise inst.error("FIRST true is not supported: uknfv packets have no "
                             "'first timestamp' annotation", "FIRST")

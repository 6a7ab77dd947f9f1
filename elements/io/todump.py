from uknfv.argtypes import Bool, Int, Keyword, String
from uknfv.element import Arg, Element, Handler

from .dumpport import DumpReplaySink

ENCAPS = {"ETHER": 1, "IP": 101}


class ToDump(Element):
    name = "ToDump"
    ports = "1/0-1"
    processing = "a/h"
    libs = ("pcap",)
    headers = ("uknfv/pcap.h",)
    targets = frozenset({"linux", "dpdk", "kvm"})
    init = True
    finish = True
    args = (
        Arg("FILENAME", String(), positional=True, required=True, doc="pcap file to write"),
        Arg("SNAPLEN", Int(0, 65535), default=2000, doc="bytes kept per packet (0: all)"),
        Arg("ENCAP", Keyword(tuple(ENCAPS)), default="ETHER",
            doc="link type written: ETHER, or IP for raw IPv4 packets"),
        Arg("BURST", Int(1, 1024), default=32, doc="packets per round when pulling"),
    )
    handlers = (Handler("count", "{{E}}_s.w.records", doc="packets written"),)
    doc = """
    Writes packets to a pcap file.

    Writes each packet it receives (from its data pointer on) as a record of
    FILENAME with link type ENCAP, keeping at most SNAPLEN bytes, then
    emits it on its optional output.  Pulls and runs as a task when its input
    is pull.  Packets without a timestamp annotation get the current time.
    On the unikernel (kvm target) the vNF sends the packets over a virtio
    NIC (logical port todump:FILENAME) and `uknfv run` writes FILENAME on
    the host, with the same link type and SNAPLEN.
    """
    c = r"""
static struct {
	struct pcap_writer w;
} {{E}}_s;

static int {{E}}_init(void)
{
	char err[640];
	if (pcap_writer_open(&{{E}}_s.w, {{ a.FILENAME | c_str }}, {{ v.linktype }},
			     {{ a.SNAPLEN if a.SNAPLEN else 65535 }}, err, sizeof err)) {
		rt_log("%s: %s", {{ name_c }}, err);
		return -1;
	}
	return 0;
}

static void {{E}}_finish(void)
{
	pcap_writer_close(&{{E}}_s.w);
}

static inline void {{E}}_write(struct pkt *p)
{
	pcap_writer_write(&{{E}}_s.w, p->data, p->len, p->ts_ns);
{% if nout %}
	{{ out[0] }}(p);
{% else %}
	pkt_kill(p);
{% endif %}
}

{% if in_push[0] %}
static inline void {{E}}_push0(struct pkt *p)
{
	{{E}}_write(p);
}
{% else %}
static unsigned {{E}}_run(void)
{
	unsigned n;
	for (n = 0; n < {{ a.BURST }}; n++) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		{{E}}_write(p);
	}
	return n;
}
{% endif %}
"""

    def configure(self, inst):
        inst.vars["linktype"] = ENCAPS[inst.args["ENCAP"]]

    def task_kind(self, inst):
        return "driver" if inst.in_proc[0] == "pull" else None

    def for_target(self, target):
        # The unikernel has no files: `uknfv run` writes FILENAME on the host.
        return _REPLAY if target == "kvm" else self


_REPLAY = DumpReplaySink()

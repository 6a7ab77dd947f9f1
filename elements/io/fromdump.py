from uknfv.argtypes import Bool, Int, String
from uknfv.element import Arg, Element, Handler

from .dumpport import DumpReplaySource



class FromDump(Element):
    name = "FromDump"
    ports = "0/1"
    processing = "a"
    libs = ("pcap",)
    headers = ("uknfv/pcap.h",)
    targets = frozenset({"linux", "dpdk", "kvm"})
    init = True
    finish = True
    stop_source = True
    args = (
        Arg("FILENAME", String(), positional=True, required=True, doc="pcap file to read"),
        Arg("STOP", Bool(), default=False, doc="end the run when the file is exhausted"),
        Arg("ACTIVE", Bool(), default=True, doc="start emitting at once (else wait for the active handler)"),
        Arg("FORCE_IP", Bool(), default=False, doc="emit only IP packets, with the network header set"),
        Arg("TIMING", Bool(), default=False, doc="replay with the capture's inter-packet timing"),
        Arg("BURST", Int(1, 1024), default=32, doc="packets per scheduling round"),
    )
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets emitted"),
        Handler("drops", "{{E}}_s.drops", doc="records skipped (oversize, not IP with FORCE_IP)"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it emits"),
    )
    doc = """
    Reads packets from a pcap file.

    Emits each record of FILENAME as a packet, with the record's timestamp as
    the packet's timestamp annotation and the MAC header annotation set for
    Ethernet captures (the network header for raw-IP captures).  Pushes when
    its output is push (running as a task, BURST packets per round); answers
    pulls otherwise.  With STOP true, the run ends once every STOP source is
    exhausted.  Records longer than a packet buffer are counted in `drops`.
    Differences from Click: START/END/INTERVAL/SAMPLE/MMAP are not supported.
    On the unikernel (kvm target), which has no files, `uknfv run` replays
    FILENAME to the vNF over a virtio NIC (logical port dump:FILENAME); the
    output stays the same.
    """
    c = r"""
static struct {
	struct pcap_reader r;
	int done, active;
	uint64_t count, drops;
	uint64_t t0_wall, t0_cap;
} {{E}}_s;

static int {{E}}_init(void)
{
	char err[640];
	if (pcap_reader_open(&{{E}}_s.r, {{ a.FILENAME | c_str }}, err, sizeof err)) {
		rt_log("%s: %s", {{ name_c }}, err);
		return -1;
	}
	if ({{E}}_s.r.linktype != PCAP_LINK_ETHER && {{E}}_s.r.linktype != PCAP_LINK_RAW
	    && {{E}}_s.r.linktype != 12 && {{E}}_s.r.linktype != 14) {
		rt_log("%s: %s: unsupported link type %u (Ethernet or raw IP expected)",
		       {{ name_c }}, {{ a.FILENAME | c_str }}, {{E}}_s.r.linktype);
		return -1;
	}
	{{E}}_s.active = {{ 1 if a.ACTIVE else 0 }};
	return 0;
}

static void {{E}}_finish(void)
{
	pcap_reader_close(&{{E}}_s.r);
}

static int {{E}}_w_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

/* The next packet of the file, or NULL at its end (or when paced). */
static inline struct pkt *{{E}}_next(void)
{
	for (;;) {
		if ({{E}}_s.done || !{{E}}_s.active)
			return NULL;
		struct pkt *p = pkt_alloc();
		if (!p)
			return NULL;
		uint64_t skipped = {{E}}_s.r.oversize;
		if (!pcap_reader_next(&{{E}}_s.r, p)) {
			pkt_kill(p);
			{{E}}_s.drops += {{E}}_s.r.oversize - skipped;
			{{E}}_s.done = 1;
{% if a.STOP %}
			rt_source_done();
{% endif %}
			return NULL;
		}
		{{E}}_s.drops += {{E}}_s.r.oversize - skipped;
{% if a.TIMING %}
		if (!{{E}}_s.t0_wall) {
			{{E}}_s.t0_wall = rt_mono_ns();
			{{E}}_s.t0_cap = p->ts_ns;
		}
		while (!rt_stopping && rt_mono_ns() - {{E}}_s.t0_wall < p->ts_ns - {{E}}_s.t0_cap)
			;
{% endif %}
		if ({{E}}_s.r.linktype == PCAP_LINK_ETHER) {
			p->mac = p->data;
{% if a.FORCE_IP %}
			if (p->len < 34 || rd16(p->data + 12) != 0x0800) {
				{{E}}_s.drops++;
				pkt_kill(p);
				continue;
			}
			p->nh = p->data + 14;
{% endif %}
		} else {
			p->nh = p->data;
		}
		{{E}}_s.count++;
		return p;
	}
}

{% if out_push[0] %}
static unsigned {{E}}_run(void)
{
	unsigned n;
	for (n = 0; n < {{ a.BURST }}; n++) {
		struct pkt *p = {{E}}_next();
		if (!p)
			break;
		{{ out[0] }}(p);
	}
	return n;
}
{% else %}
static inline struct pkt *{{E}}_pull0(void)
{
	return {{E}}_next();
}
{% endif %}
"""

    def task_kind(self, inst):
        return "source" if inst.out_proc[0] == "push" else None

    def for_target(self, target):
        # The unikernel has no files: the frames are replayed to it over a NIC.
        return _REPLAY if target == "kvm" else self


_REPLAY = DumpReplaySource()

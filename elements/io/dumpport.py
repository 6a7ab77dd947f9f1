"""FromDump/ToDump on targets without files: pcap replay over a logical port.

The unikernel has no file system, so there FromDump(FILE) receives the
file's frames from a logical port named ``dump:FILE`` and ToDump(FILE)
sends what it writes to a port named ``todump:FILE``; `uknfv run` binds
those ports to virtio NICs that it feeds from, and drains into, the pcap
files on the host (uknfv/run/pcapreplay.py).  The pipeline's output is
therefore the same file, frame for frame, as on the Linux target.  The
host writes the source's `eof` handler once the whole file was consumed
and the output settled; with STOP true that ends the run, as FromDump's
end of file does on Linux.  FORCE_IP and ACTIVE act in the guest, TIMING
on the host; packets carry no capture timestamp.

These two classes are not user-visible element classes (no `name`): they
are what FromDump and ToDump become on such a target (Element.for_target).
"""
from __future__ import annotations

from pathlib import Path

from uknfv.element import Element, Handler

PCAP_RAW_LINKTYPES = (101, 12, 14)


def file_linktype(path: str) -> int:
    """The link type of a pcap file at build time (Ethernet if unreadable)."""
    try:
        head = Path(path).read_bytes()[:24]
    except OSError:
        return 1
    if len(head) < 24:
        return 1
    order = "little" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
    return int.from_bytes(head[20:24], order) & 0x0FFFFFFF


class DumpReplaySource(Element):
    ports = "0/1"
    processing = "h"
    task = "source"
    # With STOP true it counts toward the run's end: `uknfv run` writes its
    # `eof` handler once every frame of the file was sent and consumed.
    stop_source = True
    handlers = (
        Handler("count", "{{E}}_s.count", doc="packets emitted"),
        Handler("drops", "{{E}}_s.drops", doc="frames dropped (not IP with FORCE_IP)"),
        Handler("active", "{{E}}_s.active", write="{{E}}_w_active", doc="whether it emits"),
        Handler("eof", None, write="{{E}}_w_eof",
                doc="the replay is over (written by `uknfv run`); ends the run with STOP true"),
    )
    doc = "FromDump on a target without files: frames arrive on port dump:FILE."
    c = r"""
static struct {
	uint64_t count, drops;
	int active, done;
} {{E}}_s = { .active = {{ 1 if a.ACTIVE else 0 }} };

static int {{E}}_w_active(const char *v)
{
	return rt_parse_bool(v, &{{E}}_s.active);
}

static int {{E}}_w_eof(const char *v)
{
	(void)v;
	if (!{{E}}_s.done) {
		{{E}}_s.done = 1;
{% if a.STOP %}
		rt_source_done();
{% endif %}
	}
	return 0;
}

static unsigned {{E}}_run(void)
{
	struct pkt *burst[32];
	/* Inactive: frames wait in the NIC's ring (and the host's replay waits). */
	if (!{{E}}_s.active)
		return 0;
	unsigned n = rt_port_rx({{ v.port }}, burst, {{ a.BURST if a.BURST < 32 else 32 }});
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = burst[i];
{% if v.raw_ip %}
		p->mac = NULL;
		p->nh = p->data;
{% else %}
		p->mac = p->data;
{% if a.FORCE_IP %}
		if (p->len < 34 || rd16(p->data + 12) != 0x0800) {
			{{E}}_s.drops++;
			pkt_kill(p);
			continue;
		}
		p->nh = p->data + 14;
{% endif %}
{% endif %}
		{{E}}_s.count++;
		{{ out[0] }}(p);
	}
	return n;
}
"""

    def __init__(self):
        # Shown as FromDump in messages and IMAGE.json; not a library class
        # (the class attribute `name` stays empty, see uknfv/registry.py).
        self.name = "FromDump"

    def configure(self, inst):
        inst.vars["raw_ip"] = file_linktype(inst.args["FILENAME"]) in PCAP_RAW_LINKTYPES

    def logical_port(self, inst):
        return "dump:" + inst.args["FILENAME"], 1


class DumpReplaySink(Element):
    ports = "1/0-1"
    processing = "a/h"
    handlers = (Handler("count", "{{E}}_s.count", doc="packets written"),)
    doc = "ToDump on a target without files: frames leave on port todump:FILE."
    c = r"""
static struct {
	uint64_t count;
} {{E}}_s;

static inline void {{E}}_write(struct pkt *p)
{
	{{E}}_s.count++;
{% if nout %}
	struct pkt *q = pkt_clone(p);
	if (q)
		rt_port_tx({{ v.port }}, q);
	{{ out[0] }}(p);
{% else %}
	rt_port_tx({{ v.port }}, p);
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
	for (n = 0; n < 32; n++) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		{{E}}_write(p);
	}
	return n;
}
{% endif %}
"""

    def __init__(self):
        self.name = "ToDump"

    def task_kind(self, inst):
        return "driver" if inst.in_proc[0] == "pull" else None

    def logical_port(self, inst):
        return "todump:" + inst.args["FILENAME"], 2

from uknfv.argtypes import Int, String
from uknfv.element import ALL_TARGETS, Arg, Element, Handler


class FromDevice(Element):
    name = "FromDevice"
    ports = "0/1"
    processing = "h"
    targets = ALL_TARGETS
    args = (
        Arg("DEVNAME", String(), positional=True, required=True,
            doc="logical port name, bound at run time (--port NAME=...)"),
        Arg("BURST", Int(1, 256), default=32, doc="packets received per round"),
    )
    handlers = (Handler("count", "{{E}}_s.count", doc="packets received"),)
    doc = """
    Receives packets from a logical port.

    DEVNAME names a logical port; the target binds it when the vNF starts
    (`--port NAME=pcap:FILE`, `if:IFACE`, `tap:NAME`, a virtio NIC in the
    unikernel, a DPDK device).  Receives up to BURST packets per scheduling
    round and pushes each through the pipeline.  Also known as
    FromDPDKDevice (FastClick's name).
    """
    c = r"""
static struct {
	uint64_t count;
} {{E}}_s;

static unsigned {{E}}_run(void)
{
	struct pkt *burst[{{ a.BURST }}];
	unsigned n = rt_port_rx({{ v.port }}, burst, {{ a.BURST }});
	{{E}}_s.count += n;
	for (unsigned i = 0; i < n; i++)
		{{ out[0] }}(burst[i]);
	return n;
}
"""
    task = "source"

    def logical_port(self, inst):
        return inst.args["DEVNAME"], 1


class ToDevice(Element):
    name = "ToDevice"
    ports = "1/0"
    processing = "a"
    targets = ALL_TARGETS
    args = (
        Arg("DEVNAME", String(), positional=True, required=True,
            doc="logical port name, bound at run time (--port NAME=...)"),
        Arg("BURST", Int(1, 256), default=32, doc="packets pulled per round (pull input)"),
    )
    handlers = (Handler("count", "{{E}}_s.count", doc="packets sent to the port"),)
    doc = """
    Sends packets to a logical port.

    Packets are collected into a per-port transmit burst that the target
    flushes at the end of each scheduling round (or when it is full).  The
    input may be push (packets arrive as they are processed) or pull (the
    element runs as a task, pulling up to BURST packets per round, like
    Click's `Queue -> ToDevice`).  Also known as ToDPDKDevice.
    """
    c = r"""
static struct {
	uint64_t count;
} {{E}}_s;

{% if in_push[0] %}
static inline void {{E}}_push0(struct pkt *p)
{
	{{E}}_s.count++;
	rt_port_tx({{ v.port }}, p);
}
{% else %}
static unsigned {{E}}_run(void)
{
	unsigned n;
	for (n = 0; n < {{ a.BURST }}; n++) {
		struct pkt *p = {{ inp[0] }}();
		if (!p)
			break;
		rt_port_tx({{ v.port }}, p);
	}
	{{E}}_s.count += n;
	return n;
}
{% endif %}
"""

    def logical_port(self, inst):
        return inst.args["DEVNAME"], 2

    def task_kind(self, inst):
        return "driver" if inst.in_proc[0] == "pull" else None

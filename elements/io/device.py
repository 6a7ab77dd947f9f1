from uknfv.argtypes import Int, String
from uknfv.element import ALL_TARGETS, Arg, Element, Handler

# FastClick's FromDPDKDevice/ToDPDKDevice (aliases of these classes) name the
# device with PORT and size their queues with N_QUEUES/NDESC.
COMPAT_ARGS = (
    Arg("PORT", String(), doc="FastClick's keyword for DEVNAME (FromDPDKDevice/ToDPDKDevice)"),
    Arg("N_QUEUES", Int(-1, 1024), default=-1,
        doc="FastClick: queues to use; uknfv uses one per port (1, or -1 for the default)"),
    Arg("NDESC", Int(0, 65536), default=0,
        doc="FastClick: ring size; accepted, but uknfv's rings are build options "
            "(DPDKIO_RX_RING/DPDKIO_TX_RING on the dpdk target)"),
)


def _device_name(inst) -> str:
    return inst.args["DEVNAME"] if inst.args["DEVNAME"] is not None else inst.args["PORT"]


def _configure_device(inst) -> None:
    if inst.args["DEVNAME"] is None and inst.args["PORT"] is None:
        raise inst.error("missing mandatory argument DEVNAME")
    if inst.args["DEVNAME"] is not None and inst.args["PORT"] is not None:
        raise inst.error("DEVNAME and PORT name the same thing: give one", "PORT")
    if inst.args["N_QUEUES"] not in (-1, 0, 1):
        raise inst.error("uknfv runs one queue per port: N_QUEUES must be 1", "N_QUEUES")


class FromDevice(Element):
    name = "FromDevice"
    ports = "0/1"
    processing = "h"
    targets = ALL_TARGETS
    args = (
        Arg("DEVNAME", String(), positional=True,
            doc="logical port name, bound at run time (--port NAME=...)"),
        Arg("BURST", Int(1, 256), default=32, doc="packets received per round"),
    ) + COMPAT_ARGS
    handlers = (Handler("count", "{{E}}_s.count", doc="packets received"),)
    doc = """
    Receives packets from a logical port.

    DEVNAME names a logical port; the target binds it when the vNF starts
    (`--port NAME=pcap:FILE`, `if:IFACE`, `tap:NAME`, a virtio NIC in the
    unikernel, a DPDK device: `--port NAME=dpdk:DEVARGS` on the dpdk target).
    Receives up to BURST packets per scheduling round and pushes each
    through the pipeline.  Also known as FromDPDKDevice (FastClick's name),
    whose PORT keyword is accepted for DEVNAME (`FromDPDKDevice(0)` reads
    logical port "0"); N_QUEUES may only be 1, NDESC is accepted and
    ignored (ring sizes are build options).
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

    def configure(self, inst):
        _configure_device(inst)

    def logical_port(self, inst):
        return _device_name(inst), 1


class ToDevice(Element):
    name = "ToDevice"
    ports = "1/0"
    processing = "a"
    targets = ALL_TARGETS
    args = (
        Arg("DEVNAME", String(), positional=True,
            doc="logical port name, bound at run time (--port NAME=...)"),
        Arg("BURST", Int(1, 256), default=32, doc="packets pulled per round (pull input)"),
    ) + COMPAT_ARGS
    handlers = (Handler("count", "{{E}}_s.count", doc="packets sent to the port"),)
    doc = """
    Sends packets to a logical port.

    Packets are collected into a per-port transmit burst that the target
    flushes at the end of each scheduling round (or when it is full).  The
    input may be push (packets arrive as they are processed) or pull (the
    element runs as a task, pulling up to BURST packets per round, like
    Click's `Queue -> ToDevice`).  Also known as ToDPDKDevice (FastClick's
    name), with PORT, N_QUEUES and NDESC as for FromDevice.
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

    def configure(self, inst):
        _configure_device(inst)

    def logical_port(self, inst):
        return _device_name(inst), 2

    def task_kind(self, inst):
        return "driver" if inst.in_proc[0] == "pull" else None

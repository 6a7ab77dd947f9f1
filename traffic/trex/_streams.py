# uknfv: stream specs -> TRex stateless streams.
#
# This file is self-contained on purpose: uknfv copies it verbatim into the
# standalone profiles it writes (`uknfv trex profile`), so a TRex machine
# without uknfv can load them, and the current-client worker imports it by
# path.  It needs only the TRex client API (trex-stl-lib from PyPI or the
# `trex.stl` package of a TRex release) and the standard library.
#
# A stream spec is plain data (JSON-able):
#   {"name": "imix-570", "frame": "<hex, without FCS>",
#    "rate": ["pps" | "bps_L1" | "bps_L2" | "percentage", value],
#    "vm": [["var", name, size, "inc"|"dec"|"random", min, max, step],
#           ["write", name, offset],
#           ["fix_ipv4", ip_offset],
#           ["fix_l4_hw", ip_offset, l4_offset, "udp"|"tcp"]],
#    "latency_pg_id": None or an int}
import argparse
import importlib
import sys


def trex_api():
    """The TRex client API module already in use, else the first one found."""
    for name in ("trex.stl.api", "trex_stl_lib.api"):
        if name in sys.modules:
            return sys.modules[name]
    try:
        return importlib.import_module("trex.stl.api")
    except ImportError:
        return importlib.import_module("trex_stl_lib.api")


def build_streams(api, specs, macs="packet"):
    """STLStream objects for ``specs``.  ``macs``: "packet" sends the MAC
    addresses in the frames; "port" lets TRex fill them from its port
    configuration (trex_cfg.yaml)."""
    if macs not in ("packet", "port"):
        raise ValueError("macs must be 'packet' or 'port', not %r" % (macs,))
    streams = []
    for spec in specs:
        vm = []
        for ins in spec["vm"]:
            op = ins[0]
            if op == "var":
                _, name, size, mode, lo, hi, step = ins
                vm.append(api.STLVmFlowVar(name=name, size=size, op=mode, min_value=lo,
                                           max_value=hi, step=step))
            elif op == "write":
                vm.append(api.STLVmWrFlowVar(fv_name=ins[1], pkt_offset=ins[2]))
            elif op == "fix_ipv4":
                vm.append(api.STLVmFixIpv4(offset=ins[1]))
            elif op == "fix_l4_hw":
                l4_type = (api.CTRexVmInsFixHwCs.L4_TYPE_UDP if ins[3] == "udp"
                           else api.CTRexVmInsFixHwCs.L4_TYPE_TCP)
                vm.append(api.STLVmFixChecksumHw(l3_offset=ins[1], l4_offset=ins[2],
                                                 l4_type=l4_type))
            else:
                raise ValueError("unknown field-engine instruction %r" % (op,))
        packet = api.STLPktBuilder(pkt_buffer=bytes.fromhex(spec["frame"]),
                                   vm=api.STLScVmRaw(vm) if vm else None)
        kind, value = spec["rate"]
        flow_stats = None
        if spec.get("latency_pg_id") is not None:
            flow_stats = api.STLFlowLatencyStats(pg_id=spec["latency_pg_id"])
        streams.append(api.STLStream(name=spec["name"], packet=packet,
                                     mode=api.STLTXCont(**{kind: value}),
                                     flow_stats=flow_stats,
                                     mac_src_override_by_pkt=(macs == "packet"),
                                     mac_dst_override_mode=1 if macs == "packet" else 0))
    return streams


def parse_tunables(tunables, known, scenario, macs):
    """Profile arguments from either TRex convention: keyword arguments
    (``-t scenario=imix`` in older consoles) or an argv-style list
    (``-t --scenario imix`` in current ones; ``scenario=imix`` tokens work
    there too).  Returns (scenario, macs)."""
    if tunables:
        argv = []
        for tok in tunables:
            tok = str(tok)
            if not tok.startswith("-") and "=" in tok:
                key, val = tok.split("=", 1)
                argv += ["--" + key, val]
            else:
                argv.append(tok)
        parser = argparse.ArgumentParser(prog="uknfv profile", add_help=True,
                                         description="uknfv traffic scenarios")
        parser.add_argument("--scenario", default=scenario, choices=sorted(known))
        parser.add_argument("--macs", default=macs, choices=["packet", "port"])
        args = parser.parse_args(argv)
        scenario, macs = args.scenario, args.macs
    if scenario not in known:
        raise ValueError("unknown scenario %r: this profile has %s"
                         % (scenario, ", ".join(sorted(known))))
    if macs not in ("packet", "port"):
        raise ValueError("macs must be 'packet' or 'port', not %r" % (macs,))
    return scenario, macs

"""TRex stateless profiles and runs from uknfv's traffic scenarios.

The same :class:`~uknfv.traffic.scenarios.Scenario` that builds scapy frames
becomes TRex streams here:

* :func:`stream_specs` - plain data: one stream per frame size (IMIX: one per
  size, rates split so the *packet* ratio is the mix's), the template frame,
  the field-engine program (one variable per flow range, written at its
  header offset; a sequence-number variable written into the payload stamp;
  IPv4 checksum fixed, UDP checksum zeroed or fixed by NIC offload) and the rate;
* :func:`profile_for` - an ``STLProfile`` of trex-stl-lib;
* :func:`write_profile` - a standalone profile file for ``trex-console``
  (``start -f FILE -t scenario=NAME``): it embeds the frames and needs only
  the TRex client, not uknfv;
* :func:`run_trex` - drive a TRex server: connect, reset, add streams, start,
  wait, read the counters.  trex-stl-lib 0.3 (the PyPI client) speaks RPC API
  4.1, which current TRex servers refuse; that is detected and explained, and
  the current client (a TRex release's ``automation/trex_control_plane/interactive``
  or the ``lbr-trex-client`` package, extra ``uknfv[trex]``) is used instead
  when available, in its own interpreter.

``register()``/:class:`STLS1` make this package (and ``uknfv_profile.py``
beside it) a TRex profile too, for machines where uknfv is installed.

What a TRex stream cannot carry: the payload timestamp (the field engine has
no clock: it stays 0; ask for a latency stream, ``latency_pps``, and TRex
measures latency itself), and strict sequence order across TRex cores (each
core gets its own slice of the sequence variable, as of every variable).
"""
from __future__ import annotations

import importlib.util
import json
import os
import pprint
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Sequence

from uknfv.diag import UknfvError
from uknfv.traffic.scenarios import (L1_OVERHEAD, SCENARIOS, Scenario, ScenarioLike, get,
                                     names, parse_rate)

from . import _drive, _streams

HERE = Path(__file__).resolve().parent
TREX_RATE = {"pps": "pps", "bps_l1": "bps_L1", "bps_l2": "bps_L2", "percent": "percentage"}
LATENCY_PG_ID = 7
LEGACY_CLIENT = "trex-stl-lib"
LEGACY_API = "4.1"          # the core RPC API version trex-stl-lib 0.3 asks for
CLIENT_ENV = "UKNFV_TREX_CLIENT"

__all__ = ["stream_specs", "profile_for", "write_profile", "run_trex", "STLS1", "register",
           "profile_text", "customise", "names"]


# --------------------------------------------------------------------------- specs

def stream_specs(scenario: ScenarioLike, *, latency_pps: float = 0,
                 l4_checksum: str = "auto") -> list[dict]:
    """The TRex streams of a scenario, as plain data (see ``_streams.py``).

    ``l4_checksum``: what to do about the UDP/TCP checksum when the field
    engine rewrites bytes it covers (addresses, ports, the sequence number):
    ``"auto"`` zeroes it for UDP ("no checksum", valid for IPv4 and for every
    NIC) and uses NIC offload for TCP; ``"hw"`` always uses NIC offload
    (``STLVmFixChecksumHw``); ``"zero"`` only zeroes (UDP only).
    """
    sc = get(scenario)
    if l4_checksum not in ("auto", "hw", "zero"):
        raise UknfvError(f"l4_checksum: expected auto, hw or zero, got '{l4_checksum}'")
    if isinstance(latency_pps, bool) or not isinstance(latency_pps, (int, float)) or latency_pps < 0:
        raise UknfvError(f"latency_pps: expected a non-negative number, got {latency_pps!r}")
    lay = sc.layout
    ranges = sc.flows.ranges()
    vm: list[list] = []
    for name, r in ranges.items():
        if r.count == 1:
            continue                      # a constant: it is in the template already
        off, size = lay.field(name)
        vm.append(["var", name, size, r.mode, r.lo, r.hi, r.step])
        vm.append(["write", name, off])
    writes_ip = any(i[0] == "write" and i[1] in ("src_ip", "dst_ip") for i in vm)
    if sc.stamp:
        off, _ = lay.field("seq")
        vm.append(["var", "seq", 8, "inc", 0, 0xFFFFFFFFFFFFFFFF, 1])
        vm.append(["write", "seq", off])
    zero_l4 = False
    if vm:
        proto = lay.l4_proto
        if proto == "udp" and l4_checksum in ("auto", "zero"):
            zero_l4 = True
            if writes_ip:
                vm.append(["fix_ipv4", lay.ip])
        elif proto in ("udp", "tcp"):
            if l4_checksum == "zero":
                raise UknfvError(f"scenario '{sc.name}': TCP has no 'no checksum' value; "
                                 f"use l4_checksum='hw' (NIC offload) or 'auto'")
            vm.append(["fix_l4_hw", lay.ip, lay.l4, proto])
        else:
            if proto == "icmp" and sc.stamp:
                raise UknfvError(f"scenario '{sc.name}': the TRex field engine cannot fix an ICMP "
                                 f"checksum after writing sequence numbers; use stamp=False")
            if writes_ip:
                vm.append(["fix_ipv4", lay.ip])
    mix = sc.imix.mix
    overhead = {"pps": None, "bps_l1": L1_OVERHEAD, "bps_l2": 0, "percent": L1_OVERHEAD}[sc.rate.kind]
    weights = [w * (1 if overhead is None else (s + overhead)) for s, w in mix]
    specs = []
    for (size, w), share in zip(mix, weights):
        frame = bytearray(sc.frame(size, sc.first_values()))
        if zero_l4:
            ck = lay.l4_checksum
            frame[ck:ck + 2] = b"\0\0"
        specs.append({
            "name": sc.name if len(mix) == 1 else f"{sc.name}-{size}",
            "size": size, "weight": w,
            "frame": bytes(frame).hex(),
            "rate": [TREX_RATE[sc.rate.kind], sc.rate.value * share / sum(weights)],
            "vm": vm,
            "latency_pg_id": None,
        })
    if latency_pps:
        size = min(sc.imix.sizes)
        frame = bytearray(sc.frame(size, sc.first_values()))
        if lay.l4_proto == "udp":          # TRex writes its own latency data into the payload
            ck = lay.l4_checksum
            frame[ck:ck + 2] = b"\0\0"
        specs.append({"name": f"{sc.name}-latency", "size": size, "weight": 0,
                      "frame": bytes(frame).hex(), "rate": ["pps", float(latency_pps)],
                      "vm": [], "latency_pg_id": LATENCY_PG_ID})
    return specs


def _legacy_api():
    try:
        import trex_stl_lib.api as api
    except ImportError as e:
        if getattr(e, "name", None) == "imp":
            raise UknfvError("trex-stl-lib 0.3 does not work on Python 3.12 or later (it imports "
                             "the removed 'imp' module); use the current TRex client instead "
                             "(--client current, see --trex-client)") from None
        raise UknfvError(f"trex-stl-lib is not installed ({e}): pip install trex-stl-lib") from None
    return api


def profile_for(scenario: ScenarioLike, *, macs: str = "packet", latency_pps: float = 0,
                l4_checksum: str = "auto"):
    """The scenario as a trex-stl-lib ``STLProfile``."""
    api = _legacy_api()
    specs = stream_specs(scenario, latency_pps=latency_pps, l4_checksum=l4_checksum)
    try:
        streams = _streams.build_streams(api, specs, macs)
    except ValueError as e:
        raise UknfvError(str(e)) from None
    return api.STLProfile(streams)


def customise(scenario: ScenarioLike, *, size=None, rate=None, duration=None) -> Scenario:
    """A scenario with its frame size (``64``, ``"imix"``, ``"64:7,1518:1"``),
    rate (a Rate or ``"1mpps"``, ``"10gbpsl1"``, ``"50%"``) or duration replaced."""
    sc = get(scenario)
    changes = {}
    if size is not None:
        changes["frame_size"] = size
    if rate is not None:
        changes["rate"] = parse_rate(rate) if isinstance(rate, str) else rate
    if duration is not None:
        changes["duration"] = duration
    return sc.with_(**changes) if changes else sc


# --------------------------------------------------------------------------- TRex profile protocol

class STLS1:
    """A TRex profile object over uknfv's named scenarios: ``start -f
    uknfv_profile.py -t scenario=imix`` (or ``-t --scenario imix``).
    ``direction``/``port_id`` are ignored: every port sends the scenario's
    frames as written (its addresses say which side of the DUT it is for)."""

    def get_streams(self, direction=0, port_id=0, scenario="udp64", macs="packet",
                    tunables=None, **kwargs):
        name, macs = _streams.parse_tunables(tunables, SCENARIOS, scenario, macs)
        return _streams.build_streams(_streams.trex_api(), stream_specs(get(name)), macs)


def register():
    return STLS1()


# --------------------------------------------------------------------------- standalone profiles

_HEADER = '''\
"""TRex stateless profile written by uknfv {version} (`uknfv trex profile`).

Scenarios in this file ({default} unless told otherwise):
{descriptions}

Load it in trex-console:
    start -f {file} -p 0                          # {default}
    start -f {file} -p 0 -t scenario=NAME         # consoles with key=value tunables
    start -f {file} -p 0 -t --scenario NAME       # current consoles (argparse tunables)
  macs=port (--macs port) takes the MAC addresses from trex_cfg.yaml instead of the frames.
Or from Python: STLProfile.load_py("{file}", scenario="NAME").

Frames are stored without the 4-byte FCS (a 64-byte frame is 60 bytes here).
Each payload starts with an 18-byte stamp: magic 0x2544, a 64-bit sequence number
(written by the field engine, one slice of the sequence per TRex core) and a
64-bit timestamp (0: the field engine has no clock).  When the field engine
rewrites bytes the UDP checksum covers, the checksum is 0 ("none", valid for
IPv4); TCP checksums are fixed by NIC offload.
"""
'''


def profile_text(scenarios: ScenarioLike | Sequence[ScenarioLike], *, file_name: str = "profile.py",
                 macs: str = "packet", latency_pps: float = 0, l4_checksum: str = "auto") -> str:
    """The source of a standalone TRex profile holding ``scenarios`` (the first is the default)."""
    from uknfv import __version__
    items = [scenarios] if isinstance(scenarios, (str, Scenario)) else list(scenarios)
    if not items:
        raise UknfvError("write_profile: no scenario given")
    if macs not in ("packet", "port"):
        raise UknfvError(f"macs: expected 'packet' or 'port', got '{macs}'")
    scs = [get(s) for s in items]
    seen: set[str] = set()
    for s in scs:
        if s.name in seen:
            raise UknfvError(f"write_profile: scenario '{s.name}' given twice")
        seen.add(s.name)
    data = {s.name: stream_specs(s, latency_pps=latency_pps, l4_checksum=l4_checksum) for s in scs}
    descriptions = "\n".join(f"  {s.describe()}" for s in scs)
    helpers = (HERE / "_streams.py").read_text()
    return "\n".join([
        _HEADER.format(version=__version__, default=scs[0].name, descriptions=descriptions,
                       file=file_name),
        helpers,
        "",
        "# name -> stream specs (see above); written by uknfv, regenerate rather than edit.",
        "SCENARIOS = " + pprint.pformat(data, width=100, sort_dicts=False),
        f"DEFAULT = {scs[0].name!r}",
        f"MACS = {macs!r}",
        "",
        "",
        "class STLS1(object):",
        "    def get_streams(self, direction=0, port_id=0, scenario=DEFAULT, macs=MACS,",
        "                    tunables=None, **kwargs):",
        "        name, macs = parse_tunables(tunables, SCENARIOS, scenario, macs)",
        "        return build_streams(trex_api(), SCENARIOS[name], macs)",
        "",
        "",
        "def register():",
        "    return STLS1()",
        "",
    ])


def write_profile(scenarios: ScenarioLike | Sequence[ScenarioLike], path: str | os.PathLike, *,
                  macs: str = "packet", latency_pps: float = 0, l4_checksum: str = "auto") -> Path:
    """Write a standalone TRex profile (``.py``) for one or more scenarios."""
    p = Path(path)
    if p.suffix != ".py" or not p.stem.isidentifier():
        raise UknfvError(f"{path}: TRex imports a profile by its module name: call it NAME.py "
                         f"with NAME a Python identifier (e.g. udp64_profile.py)")
    if p.is_dir():
        raise UknfvError(f"{path}: is a directory")
    text = profile_text(scenarios, file_name=p.name, macs=macs, latency_pps=latency_pps,
                        l4_checksum=l4_checksum)
    compile(text, str(p), "exec")         # never write a profile TRex cannot load
    try:
        p.write_text(text)
    except OSError as e:
        raise UknfvError(f"{path}: cannot write: {e.strerror or e}") from None
    return p


# --------------------------------------------------------------------------- running

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _message(exc: BaseException) -> str:
    msg = exc.brief() if hasattr(exc, "brief") else getattr(exc, "msg", None) or str(exc)
    return _ANSI.sub("", str(msg)).strip() or type(exc).__name__


def _probe(host: str, port: int, timeout: float) -> None:
    """Fail fast, with a clear message, when nothing listens on the RPC port."""
    where = f"the TRex server at {host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as e:
        raise UknfvError(f"TRex server '{host}': unknown host ({e.strerror})") from None
    except ConnectionRefusedError:
        raise UknfvError(f"cannot connect to {where}: connection refused. Is TRex running "
                         f"there in stateless mode (sudo ./t-rex-64 -i), and is {port} its RPC "
                         f"port (--sync-port)?") from None
    except (socket.timeout, TimeoutError):
        raise UknfvError(f"cannot connect to {where}: no answer within {timeout:g} s "
                         f"(host down or port filtered?)") from None
    except OSError as e:
        raise UknfvError(f"cannot connect to {where}: {e.strerror or e}") from None


def _legacy_version() -> str:
    try:
        from importlib.metadata import version
        return f"{LEGACY_CLIENT} {version(LEGACY_CLIENT)}"
    except Exception:  # noqa: BLE001
        return LEGACY_CLIENT


def _client_error(kind: str, msg: str, host: str, port: int, client: str,
                  legacy: bool = True) -> UknfvError:
    where = f"the TRex server at {host}:{port}"
    if kind == "version" and not legacy:
        return UknfvError(
            f"{where} does not speak the RPC API of {client}; the server said: {msg}",
            notes=[("use the client of the server's own TRex release: --trex-client DIR with "
                    "DIR its automation/trex_control_plane/interactive directory", None)])
    if kind == "version":
        return UknfvError(
            f"{where} does not speak the RPC API of the installed client, {client} "
            f"(core RPC API {LEGACY_API}); the server said: {msg}",
            notes=[(f"{LEGACY_CLIENT} on PyPI has not followed TRex since 2019; current TRex "
                    f"servers need the client of their own release: pass --trex-client "
                    f"DIR (or set {CLIENT_ENV}=DIR) with DIR the release's "
                    f"automation/trex_control_plane/interactive directory, or install the "
                    f"packaged current client: pip install 'uknfv[trex]' (lbr-trex-client)",
                    None)])
    if kind == "timeout":
        return UknfvError(f"{where} accepted the connection but gave no RPC answer in time "
                          f"({msg}); is it a TRex server in stateless mode (not ASTF), and is "
                          f"the port its RPC (sync) port?")
    if kind == "client":
        return UknfvError(f"the current TRex client cannot be used: {msg}")
    return UknfvError(f"TRex ({client}) at {host}:{port}: {msg}")


def _set_legacy_timeouts(client, timeout: float) -> None:
    """trex-stl-lib waits 10 s for every RPC answer; make that ``timeout``."""
    try:
        import zmq
        link = client.conn.rpc.rpc_link
    except (ImportError, AttributeError):
        return
    orig = link.connect
    ms = max(1, int(timeout * 1000))

    def connect(*a, **kw):
        rc = orig(*a, **kw)
        if getattr(link, "connected", False):
            link.socket.setsockopt(zmq.RCVTIMEO, ms)
            link.socket.setsockopt(zmq.SNDTIMEO, ms)
        return rc

    link.connect = connect


def _run_legacy(host, specs, duration, ports, rx_ports, macs, sync_port, async_port, timeout,
                latency_pg_id):
    api = _legacy_api()
    client_name = _legacy_version()
    streams = _streams.build_streams(api, specs, macs)
    client = api.STLClient(server=host, sync_port=sync_port, async_port=async_port)
    _set_legacy_timeouts(client, timeout)
    try:
        res = _drive.drive(client, streams, duration, ports, rx_ports,
                           latency_pg_id=latency_pg_id)
    except api.STLError as e:
        msg = _message(e)
        raise _client_error(_drive.classify(msg), msg, host, sync_port, client_name) from None
    except Exception as e:  # noqa: BLE001 - zmq and friends: still no traceback for the user
        msg = f"{type(e).__name__}: {_message(e)}"
        raise _client_error(_drive.classify(msg), msg, host, sync_port, client_name) from None
    res["client"] = client_name
    return res


def _run_current(host, specs, duration, ports, rx_ports, macs, sync_port, async_port, timeout,
                 latency_pg_id, client_path):
    job = {"host": host, "sync_port": sync_port, "async_port": async_port, "specs": specs,
           "duration": duration, "ports": ports, "rx_ports": rx_ports, "macs": macs,
           "timeout": timeout, "latency_pg_id": latency_pg_id, "client_path": client_path}
    try:
        proc = subprocess.run([sys.executable, str(HERE / "_worker.py")], input=json.dumps(job),
                              capture_output=True, text=True, timeout=duration + 120 + 4 * timeout)
    except subprocess.TimeoutExpired:
        raise UknfvError(f"the TRex client did not finish within {duration + 120 + 4 * timeout:g} s "
                         f"(server at {host}:{sync_port})") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    try:
        out = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UknfvError(f"the TRex client failed (exit {proc.returncode}): {tail}") from None
    if "ok" in out:
        return out["ok"]
    raise _client_error(out.get("error", "other"), out.get("message", "?"), host, sync_port,
                        out.get("client", "the current TRex client"), legacy=False)


def current_client_available(client_path: str | None = None) -> str | None:
    """Where the current TRex client would come from, or None."""
    cp = client_path or os.environ.get(CLIENT_ENV)
    if cp:
        return cp
    try:
        if importlib.util.find_spec("lbr_trex_client") is not None:
            return "lbr-trex-client"
    except (ImportError, ValueError):
        pass
    return None


def _ports(values, what: str) -> list[int]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 256:
            raise UknfvError(f"{what}: expected TRex port numbers 0..255, got {v!r}")
        if v not in out:
            out.append(v)
    if not out:
        raise UknfvError(f"{what}: no port given")
    return out


def run_trex(host: str, scenario: ScenarioLike, duration: float | None = None,
             ports: Iterable[int] = (0,), rx_ports: Iterable[int] | None = None, *,
             rate=None, macs: str = "packet", latency_pps: float = 0,
             sync_port: int = 4501, async_port: int = 4500, timeout: float = 10.0,
             client: str = "auto", client_path: str | None = None,
             l4_checksum: str = "auto") -> dict:
    """Send ``scenario`` from TRex ``ports`` for ``duration`` seconds (the
    scenario's own by default) and count what ``rx_ports`` (default: each
    port's pair, 0<->1, 2<->3) received.

    ``client``: ``"legacy"`` (trex-stl-lib, in this process), ``"current"``
    (the TRex release client at ``client_path``/``$UKNFV_TREX_CLIENT``, or
    lbr-trex-client, in a child interpreter) or ``"auto"`` (current if there,
    else legacy).  Returns a dict: tx/rx packets, pps and bps, lost packets
    and loss ratio, per-port counters, the expected rate, and latency if
    ``latency_pps`` asked for a latency stream.  Every failure is a
    UknfvError, within about ``timeout`` seconds when the server is absent.
    """
    sc = get(scenario)
    if rate is not None:
        sc = sc.with_(rate=parse_rate(rate) if isinstance(rate, str) else rate)
    duration = sc.duration if duration is None else duration
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
        raise UknfvError(f"duration: expected a positive number of seconds, got {duration!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise UknfvError(f"timeout: expected a positive number of seconds, got {timeout!r}")
    if not isinstance(host, str) or not host.strip():
        raise UknfvError("TRex server: no host given")
    for name, port in (("sync_port", sync_port), ("async_port", async_port)):
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise UknfvError(f"{name}: expected a TCP port 1..65535, got {port!r}")
    if client not in ("auto", "legacy", "current"):
        raise UknfvError(f"client: expected auto, legacy or current, got '{client}'")
    if macs not in ("packet", "port"):
        raise UknfvError(f"macs: expected 'packet' or 'port', got '{macs}'")
    ports = _ports(ports, "ports")
    rx_ports = _ports([p ^ 1 for p in ports] if rx_ports is None else rx_ports, "rx_ports")
    specs = stream_specs(sc, latency_pps=latency_pps, l4_checksum=l4_checksum)
    latency_pg_id = LATENCY_PG_ID if latency_pps else None
    current = current_client_available(client_path)
    if client == "current" and not current:
        raise UknfvError(f"no current TRex client: pass --trex-client DIR (or set {CLIENT_ENV}) "
                         f"with DIR a TRex release's automation/trex_control_plane/interactive, "
                         f"or pip install 'uknfv[trex]' (lbr-trex-client)")
    use_current = client == "current" or (client == "auto" and current)
    if use_current and current != "lbr-trex-client" and not Path(current, "trex", "stl").is_dir():
        raise UknfvError(f"{current}: not a TRex client directory (no trex/stl inside; "
                         f"expected a release's automation/trex_control_plane/interactive)")
    _probe(host, sync_port, timeout)
    args = (host, specs, float(duration), ports, rx_ports, macs, sync_port, async_port,
            float(timeout), latency_pg_id)
    if use_current:
        cp = current if current != "lbr-trex-client" else None
        res = _run_current(*args, client_path=cp)
    else:
        res = _run_legacy(*args)
    res.update({"host": host, "scenario": sc.name, "rate": str(sc.rate),
                "expected_pps": sc.pps * len(ports)})
    return res

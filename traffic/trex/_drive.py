# uknfv: drive a TRex stateless server with streams, return the figures.
#
# Self-contained (standard library only): used in-process with trex-stl-lib
# and, by path, in the worker that runs the current TRex client in its own
# interpreter (its bundled scapy/pyzmq cannot share a process with uknfv's).
import time


def classify(message):
    """What kind of failure a TRex client error message describes:
    "version" (RPC/API mismatch), "timeout" (no answer) or "other"."""
    m = str(message).lower()
    if any(s in m for s in ("version mismatch", "mismatch between client and server",
                            "newer client", "newer server",
                            "rpc configuration mismatch", "api_sync", "method not found",
                            "malformed response", "api version", "incompatible")):
        return "version"
    if any(s in m for s in ("failed to get server response", "failed to send message",
                            "timeout", "timed out")):
        return "timeout"
    return "other"


def _num(d, *keys):
    for k in keys:
        if isinstance(d, dict) and k in d and isinstance(d[k], (int, float)):
            return d[k]
    return 0


def drive(client, streams, duration, ports, rx_ports, mult="1", rx_delay_ms=200,
          latency_pg_id=None, clock=time.monotonic):
    """connect, reset, add streams, start for ``duration`` seconds, wait,
    read the counters; returns a dict (see run_trex).  ``client`` is an
    STLClient of either API (or anything with the same methods)."""
    ports = list(ports)
    rx_ports = list(rx_ports)
    every = sorted(set(ports) | set(rx_ports))
    client.connect()
    try:
        client.reset(ports=every)
        client.add_streams(streams, ports=ports)
        client.clear_stats()
        t0 = clock()
        client.start(ports=ports, mult=mult, duration=duration, force=True)
        client.wait_on_traffic(ports=ports, timeout=duration + 60, rx_delay_ms=rx_delay_ms)
        elapsed = clock() - t0
        stats = client.get_stats()
    finally:
        try:
            client.disconnect()
        except Exception:
            pass
    per_port = {}
    for p in every:
        s = stats.get(p, stats.get(str(p), {})) if isinstance(stats, dict) else {}
        per_port[p] = {"tx_packets": int(_num(s, "opackets")), "rx_packets": int(_num(s, "ipackets")),
                       "tx_bytes": int(_num(s, "obytes")), "rx_bytes": int(_num(s, "ibytes")),
                       "rx_errors": int(_num(s, "ierrors")), "tx_errors": int(_num(s, "oerrors"))}
    tx = sum(per_port[p]["tx_packets"] for p in ports)
    rx = sum(per_port[p]["rx_packets"] for p in rx_ports)
    tx_bytes = sum(per_port[p]["tx_bytes"] for p in ports)
    rx_bytes = sum(per_port[p]["rx_bytes"] for p in rx_ports)
    lost = tx - rx
    out = {
        "duration_s": float(duration), "elapsed_s": round(elapsed, 3),
        "ports": ports, "rx_ports": rx_ports,
        "tx_packets": tx, "rx_packets": rx, "lost_packets": lost,
        "loss_ratio": (lost / tx) if tx else 0.0,
        "tx_pps": tx / duration, "rx_pps": rx / duration,
        # bytes as TRex counts them; L1 adds 20 bytes of preamble and gap per
        # frame, the way TRex computes its own tx_bps_L1.
        "tx_bps": tx_bytes * 8 / duration, "rx_bps": rx_bytes * 8 / duration,
        "tx_bps_l1": (tx_bytes + 20 * tx) * 8 / duration,
        "per_port": {str(p): v for p, v in per_port.items()},
    }
    if latency_pg_id is not None:
        lat = stats.get("latency", {}).get(latency_pg_id, {}) if isinstance(stats, dict) else {}
        if not lat and isinstance(stats, dict):
            lat = stats.get("latency", {}).get(str(latency_pg_id), {})
        inner = lat.get("latency", {}) if isinstance(lat, dict) else {}
        out["latency_us"] = {
            "average": _num(inner, "average"), "max": _num(inner, "total_max"),
            "min": _num(inner, "total_min"), "jitter": _num(inner, "jitter"),
            "histogram": inner.get("histogram", {}) if isinstance(inner, dict) else {},
        }
        err = lat.get("err_cntrs", {}) if isinstance(lat, dict) else {}
        if err:
            out["latency_errors"] = {k: v for k, v in err.items() if v}
    return out

# uknfv: run streams on a TRex server with the *current* TRex client.
#
# The current client (a TRex release's automation/trex_control_plane/interactive,
# or the lbr-trex-client package that repackages it) brings its own scapy and
# pyzmq, which cannot share an interpreter with uknfv's; so uknfv starts this
# script in a fresh interpreter, writes a JSON job on its stdin and reads one
# JSON line back: {"ok": result} or {"error": kind, "message": text}.
#
# Standard library only until the client is imported.
import json
import os
import sys


def main():
    job = json.load(sys.stdin)
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        if job.get("client_path"):
            sys.path.insert(0, job["client_path"])
        else:
            import lbr_trex_client  # noqa: F401  (sets up the bundled paths)
        from trex.stl import api
    except Exception as e:  # noqa: BLE001 - anything here means "no usable client"
        return {"error": "client", "message": "cannot import the TRex client (trex.stl.api) from %s: %s: %s"
                % (job.get("client_path") or "lbr_trex_client", type(e).__name__, e)}
    sys.path.insert(0, here)
    import _drive
    import _streams

    if job.get("client_path"):
        version = "TRex client at %s" % job["client_path"]
    else:
        try:
            from importlib.metadata import version as _v
            version = "lbr-trex-client %s" % _v("lbr-trex-client")
        except Exception:  # noqa: BLE001
            version = "lbr-trex-client"
    try:
        streams = _streams.build_streams(api, job["specs"], job.get("macs", "packet"))
        client = api.STLClient(server=job["host"], sync_port=job["sync_port"],
                               async_port=job["async_port"], verbose_level="none",
                               sync_timeout=job["timeout"], async_timeout=job["timeout"])
        result = _drive.drive(client, streams, job["duration"], job["ports"], job["rx_ports"],
                              mult=job.get("mult", "1"), latency_pg_id=job.get("latency_pg_id"))
    except Exception as e:  # noqa: BLE001 - reported to the parent, which words it
        msg = str(e).strip() or type(e).__name__
        return {"error": _drive.classify(msg), "message": msg, "client": version}
    result["client"] = version
    return {"ok": result}


if __name__ == "__main__":
    out = main()
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()

"""Live route-table handlers of RadixIPLookup / LinearIPLookup.

Click's IPRouteTable write handlers (`add`, `set`, `remove`, `flush`,
`ctrl`) and the `table` read handler, served over `--control SOCK`
(uknfv/libs/iproute: the route array, and the 8-4-4-4-4-4-4 trie rebuilt
in C on each write into the spare of two buffers).

* The vNF tests run three paced probe streams (RatedSource -> Paint(k) ->
  SetIPAddress(dst_k)) into the lookup, and behind each output a
  PaintSwitch with one Counter per probe, so the counters say which probe
  left on which output.  After every write the test looks at which counters
  grow: forwarding must follow the table from the next packet on, with no
  restart.  The Linux target runs the full scenario (errors included); the
  DPDK process and the unikernel (one VM boot) a live add/remove.
* The property test drives the C library directly (a small harness compiled
  here against uknfv/libs/iproute) with random add/set/remove/flush
  sequences, and compares every answer, every lookup and the `table` text
  with a Python longest-prefix-match model.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from uknfv.codegen import routes as rtc
from uknfv.elements.ip.lineariplookup import route_table_text
from uknfv.testing import run_uknfv, uknfv_cmd

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "uknfv" / "libs" / "iproute"

PROBES = ["10.9.1.1", "10.1.2.3", "192.168.5.5"]
CONFIG_ROUTES = "10.0.0.0/8 0, 192.168.0.0/16 10.0.0.1 2"


def pipeline(cls: str = "RadixIPLookup", routes: str = CONFIG_ROUTES, rate: int = 1000) -> str:
    lines = [f"rt :: {cls}({routes});"]
    for k, dst in enumerate(PROBES):
        lines.append(f"s{k} :: RatedSource(RATE {rate}) -> Paint({k}) -> SetIPAddress({dst}) -> rt;")
    for j in range(3):
        lines.append(f"rt[{j}] -> ps{j} :: PaintSwitch;")
        for k in range(len(PROBES)):
            lines.append(f"ps{j}[{k}] -> c{j}{k} :: Counter -> Discard;")
    return "\n".join(lines) + "\n"


def initial_table(routes: str = CONFIG_ROUTES) -> str:
    return route_table_text(rtc.parse_routes([(r.strip(), None) for r in routes.split(",")]))


# ---- the running vNF ----------------------------------------------------------------------

def _counts(c) -> dict[tuple[int, int], int]:
    return {(j, k): int(c.read(f"c{j}{k}.count")) for j in range(3) for k in range(len(PROBES))}


def flows(c, window: float = 0.4) -> set[tuple[int, int]]:
    """(output, probe) pairs that carried packets during `window` seconds from now."""
    a = _counts(c)
    time.sleep(window)
    b = _counts(c)
    return {key for key in a if b[key] > a[key]}


def expect_flows(c, want: set[tuple[int, int]], tries: int = 3) -> None:
    got = set()
    for _ in range(tries):         # a slow VM may have missed a whole window: look again
        got = flows(c)
        if got == want:
            return
        if got - want:
            break                  # a packet went where it must not: no second chance
    assert got == want, f"(output, probe) flows {sorted(got)}, expected {sorted(want)}"


def write_fails(c, handler: str, value: str) -> None:
    from uknfv.run.control import ControlError
    before = c.read("rt.table")
    with pytest.raises(ControlError) as e:
        c.write(handler, value)
    assert e.value.code == 520, e.value
    assert c.read("rt.table") == before, f"a failed write of {handler} {value!r} changed the table"


@pytest.fixture
def sock_dir():
    d = Path(tempfile.mkdtemp(prefix="uknfv-rt-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Running:
    """`uknfv run P.click --target T --control SOCK`, always stopped at the end."""

    def __init__(self, cwd: Path, target: str, sock: Path, config: str, timeout: float = 180):
        (cwd / "p.click").write_text(config)
        self.sock = sock
        self.proc = subprocess.Popen(uknfv_cmd() + ["run", "p.click", "--target", target,
                                                    "--control", str(sock)],
                                     cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=os.environ.copy())
        deadline = time.monotonic() + timeout
        while not sock.exists():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"the vNF exited ({self.proc.returncode}):\n{out}\n{err}")
            assert time.monotonic() < deadline, "no control socket"
            time.sleep(0.05)

    def client(self):
        from uknfv.run.control import ControlClient
        deadline = time.monotonic() + 60
        while True:
            c = ControlClient(self.sock, timeout=20)
            try:
                c.connect()
                c.read("rt.drops")          # the guest answers: it is up
                return c
            except Exception:
                # Let go of the channel: the unikernel's serial line (QEMU's
                # socket) serves one client at a time.
                c.close()
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.2)

    def stop(self) -> tuple[int, str, str]:
        for sig, wait in ((None, 60), (signal.SIGINT, 10), (signal.SIGKILL, 5)):
            if sig is not None and self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                out, err = self.proc.communicate(timeout=wait)
                return self.proc.returncode, out, err
            except subprocess.TimeoutExpired:
                continue
        return -9, "", ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


def live_add_remove(c) -> None:
    """The scenario every target runs: a live add moves 10.9.x.x, remove moves it back."""
    assert c.read("rt.table") == initial_table()
    expect_flows(c, {(0, 0), (0, 1), (2, 2)})
    c.write("rt.add", "10.9.0.0/16 1")
    expect_flows(c, {(1, 0), (0, 1), (2, 2)})
    write_fails(c, "rt.add", "10.9.0.0/16 2")           # the prefix has a route
    c.write("rt.remove", "10.9.0.0/16")
    expect_flows(c, {(0, 0), (0, 1), (2, 2)})
    assert c.read("rt.table") == initial_table()
    assert c.read("rt.generation").strip() == "2"


def test_linux_live_handlers(tmp_path, sock_dir):
    from uknfv.run.control import ControlError
    with Running(tmp_path, "linux", sock_dir / "c.sock", pipeline()) as vnf:
        with vnf.client() as c:
            live_add_remove(c)
            c.write("rt.add", "10.9.0.0/16 1")
            # Bad writes: 520, nothing changes, forwarding included.
            for h, v in [("rt.add", "10.9.0.0/16 2"),            # exists (Click: EEXIST)
                         ("rt.add", "10.8.0.0/16 3"),            # output 3 of 3
                         ("rt.set", "10.8.0.0/16 -1"),
                         ("rt.add", "10.8.0.0/16"),              # no output
                         ("rt.add", "10.8.0.0/33 1"),
                         ("rt.add", "10.8/24 1"),                # mask longer than the address
                         ("rt.add", "10.8.0.0/255.0.255.0 1"),   # non-contiguous
                         ("rt.add", "bogus 1"),
                         ("rt.add", "10.8.0.0/16 1.2.3 1"),
                         ("rt.add", "10.8.0.0/16 - 1 junk"),
                         ("rt.add", ""),
                         ("rt.remove", "10.77.0.0/16"),          # no such route
                         ("rt.remove", "10.9.0.0/16 2"),         # output does not match
                         ("rt.remove", "10.9.0.0/16 1.1.1.1 1"),  # gateway does not match
                         ("rt.ctrl", "replace 10.9.0.0/16 1")]:
                write_fails(c, h, v)
            expect_flows(c, {(1, 0), (0, 1), (2, 2)})
            assert c.read("rt.generation").strip() == "3"
            # set replaces (gateway shown), and adds when the prefix is new.
            c.write("rt.set", "10.9.0.0/16 10.0.0.9 2")
            c.write("rt.set", "10.1.0.0/16 0x1")
            assert c.read("rt.table") == (initial_table()
                                          + "10.9.0.0/16\t\t10.0.0.9\t2\n"
                                          + "10.1.0.0/16\t\t-\t\t1\n")
            expect_flows(c, {(2, 0), (1, 1), (2, 2)})
            # remove with the matching output and gateway; ctrl.
            c.write("rt.remove", "10.9.0.0/16 10.0.0.9 2")
            c.write("rt.ctrl", "remove 10.1.0.0/16")
            c.write("rt.ctrl", "add 0.0.0.0/0 1")
            c.write("rt.ctrl", "set 10.0.0.0/8 - 2")
            expect_flows(c, {(2, 0), (2, 1), (2, 2)})
            c.write("rt.remove", "10.0.0.0/8")
            expect_flows(c, {(1, 0), (1, 1), (2, 2)})
            # flush: no route, every packet dropped and counted.
            c.write("rt.flush", "")
            assert c.read("rt.table") == ""
            d0 = int(c.read("rt.drops"))
            expect_flows(c, set())
            assert int(c.read("rt.drops")) > d0
            write_fails(c, "rt.remove", "0.0.0.0/0")
            c.write("rt.add", "192.168.5.5 0")              # a bare address is a /32
            assert c.read("rt.table") == "192.168.5.5/32\t\t-\t\t0\n"
            expect_flows(c, {(0, 2)})
            c.write("stop")
        rc, out, err = vnf.stop()
    assert rc == 0, err
    assert "rt :: RadixIPLookup: add '10.9.0.0/16 2': a route for this prefix exists" in err
    assert "IPRouteTable: no route for" in err


def test_linux_lineariplookup_and_capacity(tmp_path, sock_dir):
    """LinearIPLookup has the same handlers; CAPACITY bounds the table (full: 520)."""
    cfg = pipeline("LinearIPLookup", CONFIG_ROUTES + ", CAPACITY 2")
    with Running(tmp_path, "linux", sock_dir / "c.sock", cfg) as vnf:
        with vnf.client() as c:
            assert c.read("rt.table") == initial_table()
            c.write("rt.add", "10.9.0.0/16 1")
            c.write("rt.add", "10.1.0.0/16 2")
            write_fails(c, "rt.add", "10.2.0.0/16 1")    # 2 + 2 routes: full
            c.write("rt.set", "10.1.0.0/16 1")          # replacing needs no room
            expect_flows(c, {(1, 0), (1, 1), (2, 2)})
            c.write("rt.remove", "10.1.0.0/16")
            c.write("rt.add", "10.2.0.0/16 1")          # room again
            expect_flows(c, {(1, 0), (0, 1), (2, 2)})
            c.write("stop")
        rc, out, err = vnf.stop()
    assert rc == 0, err


def test_staticiplookup_has_no_write_handlers(tmp_path):
    """Click's StaticIPLookup: the same table, no handlers that change it."""
    (tmp_path / "s.click").write_text(pipeline("StaticIPLookup"))
    res = run_uknfv("build", "s.click", "--target", "linux", "-o", "s", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    import json
    handlers = json.loads((tmp_path / "s.json").read_text())["handlers"]
    assert "rt.table" in handlers and "rt.drops" in handlers
    assert not {"rt.add", "rt.set", "rt.remove", "rt.flush", "rt.ctrl"} & set(handlers)


def test_bad_capacity(tmp_path):
    (tmp_path / "b.click").write_text(pipeline(routes=CONFIG_ROUTES + ", CAPACITY lots"))
    res = run_uknfv("check", "b.click", cwd=tmp_path)
    assert res.returncode != 0 and "CAPACITY" in res.stderr


def _have_dpdk() -> bool:
    return shutil.which("pkg-config") is not None and \
        subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0


@pytest.mark.e2e
@pytest.mark.skipif(not _have_dpdk(), reason="needs libdpdk-dev")
def test_dpdk_live_add(tmp_path, sock_dir):
    with Running(tmp_path, "dpdk", sock_dir / "c.sock", pipeline()) as vnf:
        with vnf.client() as c:
            live_add_remove(c)
            c.write("stop")
        rc, out, err = vnf.stop()
    assert rc == 0, err


@pytest.mark.e2e
@pytest.mark.vm
@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs qemu-system-x86_64")
def test_kvm_live_add(tmp_path, sock_dir):
    """One VM boot: the unikernel's route table changes live over its control channel."""
    with Running(tmp_path, "kvm", sock_dir / "c.sock", pipeline(rate=500), timeout=300) as vnf:
        with vnf.client() as c:
            live_add_remove(c)
            c.write("rt.flush", "")
            expect_flows(c, set())
            c.write("stop")
        rc, out, err = vnf.stop()
    assert rc == 0, f"{out}\n{err}"


# ---- property test: the C library against a Python model ----------------------------------

HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uknfv/iproute.h"

void rt_log(const char *fmt, ...) { (void)fmt; }

int main(int argc, char **argv)
{
	unsigned cap = (unsigned)atoi(argv[1]);
	struct iproute_table t = { .name = "h", .cap = cap, .noutputs = (unsigned)atoi(argv[2]) };
	static char line[4096], buf[1 << 20];
	t.r = calloc(cap, sizeof *t.r);
	for (int i = 0; i < 2; i++) {
		t.buf[i].ent = calloc(IPROUTE_ENTRIES(cap), sizeof(uint32_t));
		t.buf[i].nh = calloc(cap + 1, sizeof(struct iproute_nh));
		t.buf[i].max_nodes = IPROUTE_NODES(cap);
	}
	iproute_init(&t, NULL, 0);
	if (iproute_flush(&t, ""))
		return 2;
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		char *v = line + 2;
		int r = 0;
		switch (line[0]) {
		case 'a': r = iproute_add(&t, v); break;
		case 's': r = iproute_set(&t, v); break;
		case 'r': r = iproute_remove(&t, v); break;
		case 'f': r = iproute_flush(&t, v); break;
		case 'c': r = iproute_ctrl(&t, v); break;
		case 'l': {
			uint32_t gw, dst = (uint32_t)strtoul(v, NULL, 16);
			int port = iproute_lookup(t.cur, dst, &gw);
			printf("%d %x\n", port, gw);
			continue;
		}
		case 't':
			iproute_format(&t, buf, sizeof buf);
			fputs(buf, stdout);
			puts(".");
			continue;
		}
		printf("%d\n", r);
	}
	return 0;
}
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a C compiler")
    d = tmp_path_factory.mktemp("iproute")
    (d / "h.c").write_text(HARNESS)
    exe = d / "h"
    subprocess.run([cc, "-O2", "-Wall", "-Werror", "-fsanitize=address,undefined", f"-I{LIB / 'include'}",
                    str(d / "h.c"), str(LIB / "iproute.c"), "-o", str(exe)], check=True)
    return exe


class Model:
    """Click's table semantics in Python: first-class routes, longest prefix match."""

    def __init__(self, cap: int, nout: int):
        self.cap, self.nout = cap, nout
        self.routes: list[rtc.Route] = []

    def _find(self, r):
        return next((i for i, x in enumerate(self.routes) if (x.addr, x.mask) == (r.addr, r.mask)), -1)

    def put(self, r, replace: bool) -> int:
        if r.port >= self.nout:
            return -1
        i = self._find(r)
        if i >= 0:
            if not replace:
                return -1
            self.routes[i] = r
        elif len(self.routes) >= self.cap:
            return -1
        else:
            self.routes.append(r)
        return 0

    def remove(self, r, port: int | None) -> int:
        i = self._find(r)
        if i < 0 or (port is not None and self.routes[i].port != port):
            return -1
        del self.routes[i]
        return 0


def run_harness(harness: Path, cap: int, nout: int, script: list[str]) -> str:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="halt_on_error=1")
    res = subprocess.run([str(harness), str(cap), str(nout)], input="\n".join(script) + "\n",
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert "runtime error" not in res.stderr, res.stderr
    return res.stdout


def _route_text(addr: int, plen: int, gw: int, port: int | None) -> str:
    s = f"{rtc.format_ip(addr)}/{plen}"
    if gw:
        s += f" {rtc.format_ip(gw)}"
    if port is not None:
        s += f" {port}"
    return s


def test_runtime_trie_matches_model(harness):
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    from hypothesis import HealthCheck, settings

    lengths = st.sampled_from([0, 1, 7, 8, 9, 11, 12, 13, 16, 17, 20, 23, 24, 25, 28, 31, 32])
    bases = st.sampled_from([0x0A000000, 0x0A090000, 0x0A098000, 0xC0A80000, 0xFFFFFFFF, 0])

    @st.composite
    def prefix(draw):
        plen = draw(lengths)
        addr = draw(bases) ^ draw(st.integers(0, 0xFFFF)) << draw(st.sampled_from([0, 4, 8, 16]))
        addr &= 0xFFFFFFFF
        mask = rtc._make_prefix(plen)
        return addr & mask, plen

    op = st.one_of(
        st.tuples(st.sampled_from(["a", "s"]), prefix(), st.sampled_from([0, 0x0A000001]),
                  st.integers(0, 4)),
        st.tuples(st.just("r"), prefix(), st.just(0), st.one_of(st.none(), st.integers(0, 3))),
        st.tuples(st.just("f"), st.just((0, 0)), st.just(0), st.just(None)),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @hyp.given(cap=st.integers(1, 24), ops=st.lists(op, max_size=40),
               extra=st.lists(st.integers(0, 0xFFFFFFFF), max_size=8))
    def check(cap, ops, extra):
        nout = 4
        model = Model(cap, nout)
        script, expect = [], []
        for kind, (addr, plen), gw, port in ops:
            if kind == "f":
                script.append("f")
                model.routes.clear()
                expect.append("0")
                continue
            r = rtc.Route(addr, rtc._make_prefix(plen), gw, port if port is not None else -1)
            if kind == "r":
                # half the removes name the route exactly, half only the prefix
                script.append("r " + _route_text(addr, plen, 0, port))
                res = model.remove(r, port)
            else:
                script.append(f"{kind} " + _route_text(addr, plen, gw, port))
                res = model.put(r, kind == "s")
            expect.append(str(res))
        probes = set(extra)
        for r in model.routes:
            last = r.addr | (~r.mask & 0xFFFFFFFF)
            probes.update({r.addr, last, (r.addr - 1) & 0xFFFFFFFF, (last + 1) & 0xFFFFFFFF})
        probes = sorted(probes)
        script += [f"l {p:x}" for p in probes] + ["t"]
        for p in probes:
            port, gw = rtc.lookup_ref(model.routes, p)
            expect.append(f"{port} {gw:x}")
        expect += route_table_text(model.routes).splitlines() + ["."]
        out = run_harness(harness, cap, nout, script)
        assert out.splitlines() == expect, "\n".join(script)

    check()


def test_worst_case_nodes_never_run_out(harness):
    """CAP routes that share no trie node: the build never runs out of nodes."""
    cap = 300
    script = [f"a {rtc.format_ip((i * 0x01010101 * 97) & 0xFFFFFFFF)}/32 1" for i in range(cap)]
    script += [f"a {rtc.format_ip(i << 24 | 0x00F0F0F0)}/29 2" for i in range(cap)]
    out = run_harness(harness, cap * 2, 4, script)
    n_ok = out.split().count("0")
    distinct = len({(i * 0x01010101 * 97) & 0xFFFFFFFF for i in range(cap)}) + \
        len({(i & 255) for i in range(cap)})
    assert n_ok == distinct, out

"""Property test: compiled IPClassifier/IPFilter C == the independent reference.

Hypothesis draws batches of random rule sets (primitives from the whole
pattern language combined with and/or/not/juxtaposition/ternary, including
Click's "previous primitive" continuations) and random IPv4 packets (TCP,
UDP, ICMP and other protocols; fragments; IP options; odd TTL/TOS; truncated
packets; bad IHL; random bytes).  Each batch is compiled once into a
sanitizer-checked C harness; every packet's result must equal the reference
model's (and the compiler's own Python evaluator's).
"""
from __future__ import annotations

import importlib.util
import logging
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP  # noqa: E402
from scapy.packet import Raw  # noqa: E402

from uknfv.codegen.ipfilter import Rule, eval_rules, parse_rules  # noqa: E402
from uknfv.codegen.ipfilter_ref import reference_match  # noqa: E402


def _load_harness():  # type: ignore[no-untyped-def]
    """The C harness from test_ipfilter.py (loaded by path: works in any import mode)."""
    name = "_uknfv_test_ipfilter_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_ipfilter.py"))
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name].Harness


Harness = _load_harness()

# ---------------------------------------------------------------------------
# Rule sets

ADDRS = ["10.0.0.1", "10.0.0.2", "10.1.2.3", "192.168.1.1", "1.2.3.4"]
PORTS = [0, 22, 53, 80, 443, 1023, 1024, 5000, 65535]
REL = ["", "== ", "!= ", "< ", "> ", "<= ", ">= "]
SD = ["", "src ", "dst ", "src or dst ", "src and dst "]

s = st.sampled_from


def _prims() -> st.SearchStrategy[str]:
    addr = s(ADDRS)
    port = s(PORTS)
    byte = st.integers(0, 255)
    return st.one_of(
        s(["tcp", "udp", "icmp", "ip proto 47", "ip proto tcp", "ip proto != tcp",
           "ip proto > 10", "ip proto < 17", "true", "false", "ip frag", "ip unfrag",
           "ip ect", "ip ce", "ip vers 4", "ip hl > 5", "syn", "ack", "fin", "rst",
           "tcp opt syn", "tcp opt ack", "tcp opt psh", "icmp type echo",
           "icmp type echo-reply", "unreachable", "port www", "dst port domain",
           "tcp port ssh", "icmp type != echo", "tcpudp"]),
        st.builds(lambda sd, op, a: f"{sd}host {op}{a}", s(SD), s(["", "!= "]), addr),
        st.builds(lambda sd, a, l: f"{sd}net {a}/{l}", s(SD), addr, s([0, 8, 16, 24, 30, 32])),
        st.builds(lambda sd, a, m: f"{sd}net {a} mask {m}", s(SD), addr,
                  s(["255.0.0.0", "255.255.255.0", "255.0.255.0"])),
        st.builds(lambda a, l: f"{a}/{l}", addr, s([8, 16, 24])),
        st.builds(lambda sd, pr, op, p: f"{sd}{pr}port {op}{p}", s(SD), s(["", "tcp ", "udp "]),
                  s(REL), port),
        st.builds(lambda sd, m, v: f"{sd}port & {m} == {v}", s(SD), s(["0xff00", "0x00ff", "1"]),
                  port),
        st.builds(lambda op, t: f"icmp type {op}{t}", s(REL), s([0, 3, 8, 11, 12])),
        st.builds(lambda f, op, v: f"ip {f} {op}{v}", s(["ttl", "tos", "id", "len"]),
                  s(REL), s([0, 1, 5, 40, 63, 64, 65, 200, 255])),
        st.builds(lambda op, v: f"ip ttl {op}{v}", s(["< ", "> ", "<= ", ">= "]), s([256, 300])),
        st.builds(lambda op, v: f"ip dscp {op}{v}", s(REL), st.integers(0, 63)),
        st.builds(lambda m, op, v: f"ip ttl & {m} {op}{v}", s(["0x0f", "0xf0", "0x0a", "1"]),
                  s(REL), s([0, 1, 5, 9, 10, 11, 15, 16, 20, 0x40])),
        st.builds(lambda p, v: f"ip[{p}] {v}", st.integers(0, 23), byte),
        st.builds(lambda p, op, v: f"ip[{p}:2] {op}{v}", s([0, 2, 4, 6, 10, 12, 14, 18, 20, 22]),
                  s(REL), s([0, 5, 40, 64, 1024, 0x4000, 65535])),
        st.builds(lambda p, m: f"ip[{p}:2] & {m} != 0", s([0, 2, 6, 20]), s(["0xff00", "0x00ff", "0x1fff"])),
        st.builds(lambda pr, p, ln, op, v: f"{pr}[{p}:{ln}] {op}{v}",
                  s(["transp", "tcp", "udp", "icmp"]), s([0, 1, 2, 4]), s([1, 2]), s(REL),
                  s([0, 3, 8, 53, 80, 200])),
        st.builds(lambda pr, p, op, v: f"{pr}[{p}:2] {op}{v}", s(["transp", "tcp", "udp"]),
                  s([0, 2]), s(REL), s([53, 80, 1024, 40000])),
        st.builds(lambda m: f"tcp[13] & {m} != 0", s(["2", "0x12", "0x3f"])),
        st.builds(lambda op, v: f"tcp win {op}{v}", s(REL), s([0, 1000, 8192, 65535])),
        # Click's continuation of the previous primitive
        st.builds(lambda sd, a, b: f"{sd}port {a} or {b}", s(["src ", "dst ", "", "udp dst "]), port, port),
        st.builds(lambda sd, a, b: f"{sd}host {a} or {b}", s(["src ", "dst ", ""]), addr, addr),
        st.builds(lambda a, b: f"ip ttl > {a} or {b}", byte, byte),
        st.builds(lambda a, b, c: f"ip[{a}] {b} or {c}", st.integers(0, 21), byte, byte),
        # ('echo' would be ambiguous here, for Click too: names ignore the previous primitive)
        st.builds(lambda a, b: f"icmp type {a} or {b}", s([0, 3, 8]), s(["echo-reply", "11", "redirect"])),
        st.builds(lambda a, b: f"ip proto {a} or {b}", s([1, 6, 17]), s([6, 17, 47])),
    )


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", children, children),
        st.builds(lambda a, b: f"{a} && {b}", children, children),
        st.builds(lambda a, b: f"{a} or {b}", children, children),
        st.builds(lambda a, b: f"{a} || {b}", children, children),
        st.builds(lambda a: f"not ({a})", children),
        st.builds(lambda a: f"! ({a})", children),
        st.builds(lambda a: f"({a})", children),
        st.builds(lambda a, b: f"({a}) ({b})", children, children),
        st.builds(lambda a, b, c: f"({a} ? {b} : {c})", children, children, children),
    )


EXPRS = st.recursive(_prims(), _combine, max_leaves=6)


@st.composite
def rulesets(draw: st.DrawFn) -> tuple[str, list[str]]:
    kind = draw(s(["IPClassifier", "IPFilter"]))
    exprs = draw(st.lists(EXPRS, min_size=1, max_size=5))
    if kind == "IPClassifier":
        texts = exprs + (["-"] if draw(st.booleans()) else [])
    else:
        texts = [f"{draw(s(['allow', 'deny', 'drop', '1', '2']))} {e}" for e in exprs]
    return kind, texts


# ---------------------------------------------------------------------------
# Packets

def make_packet(rng: random.Random) -> bytes:
    """A random, often odd, IPv4 packet."""
    if rng.randrange(25) == 0:
        return rng.randbytes(rng.randrange(49))

    def addr() -> str:
        if rng.random() < 0.7:
            return rng.choice(ADDRS)
        return ".".join(str(rng.randrange(256)) for _ in range(4))

    def port() -> int:
        return rng.choice(PORTS) if rng.random() < 0.6 else rng.randrange(65536)

    hdr = IP(src=addr(), dst=addr(),
             ttl=rng.choice([0, 1, 5, 9, 10, 40, 63, 64, 65, 200, 255]),
             tos=rng.choice([0, 1, 2, 3, 0xb8, 0x10, rng.randrange(256)]),
             id=rng.choice([0, 1, 5, 40, 64, 1024, 4242, 0x4000, 65535]),
             flags=rng.choice(["", "", "DF", "MF", "evil"]),
             frag=rng.choice([0, 0, 0, 0, 0, 1, 100, 0x100, 0x1000, 8191]))
    if rng.randrange(6) == 0:
        hdr.options = [IPOption_NOP()] * rng.choice([4, 8, 12])
    l4 = rng.choice(["tcp", "tcp", "udp", "udp", "icmp", "other"])
    if l4 == "tcp":
        pkt = hdr / TCP(sport=port(), dport=port(), flags=rng.randrange(256),
                        window=rng.choice([0, 999, 1000, 1001, 8192, 65535]))
    elif l4 == "udp":
        pkt = hdr / UDP(sport=port(), dport=port())
    elif l4 == "icmp":
        pkt = hdr / ICMP(type=rng.choice([0, 3, 5, 8, 11, 12, 13]), code=rng.randrange(4))
    else:
        pkt = hdr / Raw(rng.randbytes(rng.randrange(25)))
        pkt.proto = rng.choice([2, 47, 50, 132, 255])
    if rng.randrange(5) == 0:
        pkt = pkt / Raw(b"\x00" * rng.choice([10, 600, 1100]))
    raw = bytes(pkt)
    if rng.randrange(4) == 0:
        raw = raw[:rng.randrange(len(raw) + 1)]
    if raw and rng.randrange(13) == 0:           # bad IHL
        raw = bytes([(raw[0] & 0xF0) | rng.randrange(16)]) + raw[1:]
    return raw


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(batch=st.lists(rulesets(), min_size=5, max_size=5), seed=st.integers(0, 2**32 - 1))
def test_compiled_matches_reference(batch: list[tuple[str, list[str]]], seed: int,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    rng = random.Random(seed)
    pkts = [make_packet(rng) for _ in range(200)]
    compiled: list[list[Rule]] = [parse_rules(kind, [(t, None) for t in texts])
                                  for kind, texts in batch]
    harness = Harness(compiled, tmp_path_factory.mktemp("ipfprop"))
    queries = [(i, p) for i in range(len(batch)) for p in pkts]
    got = harness.run(queries)
    for (i, p), c in zip(queries, got):
        kind, texts = batch[i]
        ref = reference_match(texts, kind, p)
        py = eval_rules(compiled[i], p)
        assert c == ref == py, (f"{kind}{texts}\npacket {p.hex()}\n"
                                f"C {c}, reference {ref}, eval {py}")

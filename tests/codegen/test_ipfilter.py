"""IPClassifier / IPFilter: parsing, errors, and the generated C run for real.

Every expected-value table below is compiled into one C test harness (gcc
-O2 -Wall -Werror with ASan/UBSan) and checked three ways: the C result, the
compiler's own Python evaluator, and the independent reference model must all
give the expected output.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP  # noqa: E402
from scapy.packet import Raw  # noqa: E402

from uknfv.codegen.ipfilter import (  # noqa: E402
    Rule, emit_c, eval_rules, noutputs, parse_rules,
)
from uknfv.codegen.ipfilter_ref import reference_match  # noqa: E402
from uknfv.diag import Loc, UknfvError  # noqa: E402

# ---------------------------------------------------------------------------
# The C harness (also used by test_ipfilter_props.py)

HARNESS_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>

typedef int (*classify_fn)(const uint8_t *, int32_t);
static const classify_fn classifiers[] = { %(table)s };

/* stdin: records of [u32 classifier][u32 length][length bytes], little endian.
 * stdout: one line per record with the classifier's result. Each packet is
 * copied into a buffer of exactly its size so ASan sees any over-read. */
int main(void)
{
	unsigned char hdr[8];
	while (fread(hdr, 1, 8, stdin) == 8) {
		uint32_t id = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		uint32_t len = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 24;
		uint8_t *buf = malloc(len);
		if (len && (!buf || fread(buf, 1, len, stdin) != len))
			return 2;
		if (id >= sizeof(classifiers) / sizeof(classifiers[0]))
			return 3;
		printf("%%d\n", classifiers[id](buf, (int32_t)len));
		free(buf);
	}
	return 0;
}
"""

CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
          "-fsanitize=undefined,address", "-fno-sanitize-recover=all"]


class Harness:
    """Several compiled rule sets in one executable."""

    def __init__(self, rulesets: list[list[Rule]], workdir: Path) -> None:
        cc = shutil.which("gcc") or shutil.which("cc")
        if cc is None:
            pytest.skip("no C compiler")
        parts = ["#include <stdint.h>", "#include <string.h>", ""]
        for i, rules in enumerate(rulesets):
            parts.append(emit_c(rules, f"classify_{i}"))
        table = ", ".join(f"classify_{i}" for i in range(len(rulesets)))
        parts.append(HARNESS_MAIN % {"table": table})
        self.source = "\n".join(parts)
        workdir.mkdir(parents=True, exist_ok=True)
        src = workdir / "harness.c"
        src.write_text(self.source)
        self.exe = workdir / "harness"
        res = subprocess.run([cc, *CFLAGS, str(src), "-o", str(self.exe)],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr + "\n" + self.source

    def run(self, queries: list[tuple[int, bytes]]) -> list[int]:
        data = b"".join(struct.pack("<II", i, len(p)) + p for i, p in queries)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1")
        res = subprocess.run([str(self.exe)], input=data, capture_output=True, env=env)
        assert res.returncode == 0 and not res.stderr, res.stderr.decode(errors="replace")
        out = [int(x) for x in res.stdout.split()]
        assert len(out) == len(queries)
        return out


def rules_of(kind: str, texts: list[str]) -> list[Rule]:
    return parse_rules(kind, [(t, None) for t in texts])


# ---------------------------------------------------------------------------
# Packets

def ip(**kw) -> IP:
    kw.setdefault("src", "192.0.2.1")
    kw.setdefault("dst", "198.51.100.1")
    return IP(**kw)


def tcp(sport: int = 40000, dport: int = 8080, flags: str = "A", **kw) -> bytes:
    return bytes(ip(**kw) / TCP(sport=sport, dport=dport, flags=flags))


def udp(sport: int = 40000, dport: int = 8080, **kw) -> bytes:
    return bytes(ip(**kw) / UDP(sport=sport, dport=dport))


def icmp(type: int = 8, **kw) -> bytes:
    return bytes(ip(**kw) / ICMP(type=type))


def proto(p: int, **kw) -> bytes:
    return bytes(ip(proto=p, **kw) / Raw(b"\x00" * 16))


# (kind, rules, [(packet, expected output), ...])
CASES: list[tuple[str, list[str], list[tuple[bytes, int]]]] = [
    ("IPClassifier", ["tcp", "udp", "icmp", "ip proto 47", "-"], [
        (tcp(), 0), (udp(), 1), (icmp(), 2), (proto(47), 3), (proto(50), 4),
    ]),
    ("IPClassifier", ["ip proto tcp", "ip proto != udp", "ip proto > 40"], [
        (tcp(), 0), (icmp(), 1), (udp(), -1), (proto(47), 1),
    ]),
    ("IPClassifier", ["src host 10.0.0.1", "dst host 10.0.0.1", "host 10.0.0.2",
                      "src and dst host 10.0.0.3", "src or dst host 10.0.0.4",
                      "src host 10.0.0.5 or 10.0.0.6",
                      "dst host != 10.0.0.7 and src host 1.1.1.1"], [
        (tcp(src="10.0.0.1"), 0), (tcp(dst="10.0.0.1"), 1), (udp(src="10.0.0.2"), 2),
        (udp(dst="10.0.0.2"), 2), (icmp(src="10.0.0.3", dst="10.0.0.3"), 3),
        (icmp(src="10.0.0.3"), -1), (icmp(dst="10.0.0.4"), 4),
        (icmp(src="10.0.0.6"), 5),          # 'or 10.0.0.6' continues 'src host'
        (icmp(dst="10.0.0.6"), -1),
        (icmp(src="1.1.1.1", dst="10.0.0.7"), -1), (icmp(src="1.1.1.1"), 6),
    ]),
    ("IPClassifier", ["src net 10.0.0.0/8", "dst net 192.168.0.0 mask 255.255.0.0",
                      "172.16.0.0/12", "net 0.0.0.0/0"], [
        (tcp(src="10.9.9.9"), 0), (tcp(dst="192.168.5.5"), 1), (tcp(dst="10.1.1.1"), 3),
        (udp(src="172.20.0.1"), 2), (udp(dst="172.31.255.255"), 2), (udp(dst="172.32.0.0"), 3),
    ]),
    ("IPClassifier", ["src port 53", "dst port www", "tcp dst port 22 or 23",
                      "udp port 5000", "port > 60000", "dst port < 100", "src port != 7"], [
        (udp(sport=53, dport=9999), 0), (tcp(sport=1234, dport=80), 1),
        (tcp(dport=23), 2), (udp(sport=1234, dport=23), 5), (udp(sport=5000), 3),
        (tcp(sport=61000, dport=1000), 4), (tcp(sport=1000, dport=50), 5),
        (tcp(sport=1000, dport=200), 6), (tcp(sport=7, dport=200), -1), (icmp(), -1),
        (tcp(sport=53, frag=10), -1),                   # not a first fragment
        (tcp(sport=53, flags="S"), 0),
        (bytes(ip(flags="MF") / UDP(sport=53)), 0),     # first fragment still matches
        (proto(47), -1),
    ]),
    # Click: "port < N" is "not (port >= N)" over both ports; "port > N" is either
    ("IPClassifier", ["port < 1024"], [(tcp(sport=80, dport=443), 0), (tcp(sport=80, dport=5000), -1)]),
    ("IPClassifier", ["port > 1023"], [(tcp(sport=80, dport=5000), 0), (tcp(sport=80, dport=443), -1)]),
    ("IPClassifier", ["port >= 1024"], [(tcp(sport=80, dport=5000), 0), (tcp(sport=80, dport=443), -1)]),
    ("IPClassifier", ["port <= 1023"], [(tcp(sport=80, dport=443), 0), (tcp(sport=80, dport=5000), -1)]),
    ("IPClassifier", ["port != 80"], [(tcp(sport=80, dport=443), -1), (tcp(sport=443, dport=8080), 0),
                                      (icmp(), -1)]),
    ("IPClassifier", ["not port 80"], [(icmp(), 0), (tcp(sport=80, dport=1), -1)]),
    ("IPClassifier", ["src and dst port 80"], [(tcp(sport=80, dport=80), 0), (tcp(sport=80, dport=81), -1)]),
    ("IPClassifier", ["src tcp port & 0xfff0 == 0x50"], [(tcp(sport=0x5f), 0), (udp(sport=0x5f), -1),
                                                          (tcp(sport=0x60), -1)]),
    ("IPClassifier", ["udp dst port domain or dns", "tcp port ssh", "port https"], [
        (udp(dport=53), 0), (tcp(dport=53), -1), (tcp(sport=22), 1), (udp(sport=22), -1),
        (udp(dport=443), 2),
    ]),
    ("IPClassifier", ["tcp opt syn and not tcp opt ack", "syn ack", "fin or rst",
                      "tcp[13] & 0x3f == 0x10", "ack"], [
        (tcp(flags="S"), 0), (tcp(flags="SA"), 1), (tcp(flags="F"), 2), (tcp(flags="R"), 2),
        (tcp(flags="A"), 3), (tcp(flags="PA"), 4), (udp(), -1), (tcp(flags="S", frag=3), -1),
    ]),
    ("IPClassifier", ["icmp type echo", "icmp type echo-reply", "icmp type > 10",
                      "unreachable", "icmp"], [
        (icmp(8), 0), (icmp(0), 1), (icmp(13), 2), (icmp(3), 3), (icmp(5), 4), (udp(), -1),
    ]),
    ("IPClassifier", ["icmp type != echo"], [(icmp(0), 0), (icmp(8), -1), (tcp(), -1)]),
    ("IPClassifier", ["ip ttl < 5", "ip ttl == 200", "ip tos 0x10", "ip dscp 46", "ip ce",
                      "ip ect", "ip id 4242", "ip len > 1000", "ip vers 4 and ip hl > 5",
                      "ip frag", "-"], [
        (tcp(ttl=3), 0), (tcp(ttl=200), 1), (tcp(tos=0x10), 2), (tcp(tos=0xb8), 3),
        (tcp(tos=3), 4), (tcp(tos=1), 5), (tcp(id=4242), 6),
        (bytes(ip() / UDP() / Raw(b"x" * 1100)), 7),
        (bytes(ip(options=[IPOption_NOP()] * 4) / TCP()), 8),
        (tcp(frag=5), 9), (bytes(ip(flags="MF") / TCP()), 9),
        (tcp(), 10), (tcp(ttl=0), 0),
    ]),
    ("IPClassifier", ["ip unfrag", "frag"], [(tcp(), 0), (tcp(frag=1), 1)]),
    ("IPClassifier", ["ip[9] 17", "ip[12:4] 0x0a000001", "transp[0:2] 1234",
                      "tcp[13] & 2 != 0", "ip[8] & 0xf0 == 0x20", "ip[2,3] > 500",
                      "udp[2:2] 7"], [
        (udp(), 0), (tcp(src="10.0.0.1"), 1), (tcp(sport=1234), 2),
        (bytes(ip(options=[IPOption_NOP()] * 8) / TCP(sport=1234)), 2),  # IHL-relative
        (tcp(flags="S"), 3), (tcp(ttl=0x25), 4),
        (bytes(ip() / TCP(flags="A") / Raw(b"y" * 560)), 5), (tcp(), -1),
    ]),
    ("IPClassifier", ["tcp win > 1000 and tcp win < 2000"], [
        (bytes(ip() / TCP(window=1500)), 0), (bytes(ip() / TCP(window=3000)), -1),
        (bytes(ip() / UDP(sport=1500, dport=1500)), -1),
    ]),
    ("IPClassifier", ["tcp and src host 1.1.1.1 or udp and dst host 2.2.2.2"], [
        (tcp(src="1.1.1.1"), 0), (udp(dst="2.2.2.2"), 0), (tcp(dst="2.2.2.2"), -1),
        (udp(src="1.1.1.1"), -1),
    ]),
    ("IPClassifier", ["not (tcp or udp) and ip ttl 9"], [(icmp(ttl=9), 0), (tcp(ttl=9), -1)]),
    ("IPClassifier", ["! tcp && ! udp || ip ttl 1"], [(icmp(), 0), (tcp(ttl=1), 0), (tcp(), -1)]),
    ("IPClassifier", ["tcp ? dst port 80 : icmp"], [
        (tcp(dport=80), 0), (tcp(dport=81), -1), (icmp(), 0), (udp(dport=80), -1),
    ]),
    ("IPClassifier", ["false", "true"], [(tcp(), 1), (b"", 1)]),
    ("IPClassifier", ["ip ttl > 5 or 1", "ip ttl 2 or < 4"], [
        (tcp(ttl=9), 0), (tcp(ttl=1), 0), (tcp(ttl=2), 1), (tcp(ttl=3), 1), (tcp(ttl=4), -1),
    ]),
    ("IPClassifier", ["udp or port www"], [(tcp(dport=80), 0), (udp(), 0), (tcp(), -1)]),
    ("IPFilter", ["allow tcp dst port 22", "deny tcp", "2 udp", "1 icmp", "drop all"], [
        (tcp(dport=22), 0), (tcp(dport=80), -1), (udp(), 2), (icmp(), 1), (proto(47), -1),
    ]),
    ("IPFilter", ["allow src net 10.0.0.0/8", "allow"], [(tcp(), 0), (b"", 0)]),
    # Truncated packets: a test on missing bytes is false ('not' of it is true)
    ("IPClassifier", ["src port 53"], [(udp(sport=53)[:21], -1), (udp(sport=53)[:22], 0)]),
    ("IPClassifier", ["not src port 53"], [(udp(sport=53)[:21], 0), (udp(sport=53), -1)]),
    ("IPClassifier", ["port 80"], [(tcp(sport=80)[:22], 0), (tcp(dport=80)[:22], -1),
                                   (tcp(dport=80)[:24], 0)]),
    ("IPClassifier", ["port != 80"], [(tcp(sport=81, dport=82)[:22], -1),
                                      (tcp(sport=81, dport=82)[:24], 0)]),
    ("IPClassifier", ["src and dst host != 10.0.0.1"], [
        (tcp(src="10.0.0.2")[:17], 0), (tcp(src="10.0.0.1")[:17], -1),
        (tcp(src="10.0.0.2", dst="10.0.0.1"), 0), (tcp(src="10.0.0.1", dst="10.0.0.1"), -1),
    ]),
    ("IPClassifier", ["ip ttl < 100"], [(tcp(ttl=5)[:8], -1), (tcp(ttl=5)[:9], 0)]),
    ("IPClassifier", ["src host 10.0.0.1"], [(tcp(src="10.0.0.1")[:15], -1), (tcp(src="10.0.0.1")[:16], 0)]),
    ("IPClassifier", ["src net 10.0.0.0/24"], [(tcp(src="10.0.0.7")[:15], 0), (tcp(src="10.0.0.7")[:14], -1)]),
    ("IPClassifier", ["ip frag", "ip unfrag", "not ip frag"], [(tcp(frag=1)[:7], 2)]),
    ("IPClassifier", ["tcp", "not tcp"], [(b"", 1), (tcp()[:9], 1), (tcp()[:10], 0)]),
    ("IPClassifier", ["tcp opt syn", "tcp"], [
        (tcp(flags="S")[:34], 0), (tcp(flags="S")[:33], 1),
        (b"\x4f" + tcp(flags="S")[1:40], 1),              # IHL 15: TCP header not there
        (b"\x43" + tcp(flags="S")[1:], 1),                # IHL 3: "transport" at byte 12
    ]),
]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> tuple[Harness, list[list[Rule]]]:
    rulesets = [rules_of(kind, texts) for kind, texts, _ in CASES]
    return Harness(rulesets, tmp_path_factory.mktemp("ipfilter")), rulesets


def test_expected_outputs_compiled_and_reference(harness: tuple[Harness, list[list[Rule]]]) -> None:
    h, rulesets = harness
    queries: list[tuple[int, bytes]] = []
    expected: list[int] = []
    where: list[str] = []
    for i, (kind, texts, pkts) in enumerate(CASES):
        for j, (pkt, want) in enumerate(pkts):
            queries.append((i, pkt))
            expected.append(want)
            where.append(f"{kind}{texts} packet {j}")
    got_c = h.run(queries)
    failures = []
    for (i, pkt), want, c, label in zip(queries, expected, got_c, where):
        kind, texts, _ = CASES[i]
        py = eval_rules(rulesets[i], pkt)
        ref = reference_match(texts, kind, pkt)
        if not (want == c == py == ref):
            failures.append(f"{label}: expected {want}, C {c}, eval {py}, reference {ref}")
    assert not failures, "\n".join(failures)


def test_generated_code_shape(harness: tuple[Harness, list[list[Rule]]]) -> None:
    h, _ = harness
    rules = rules_of("IPFilter", ["allow src host 10.0.0.1 && tcp dst port 80", "deny all"])
    code = emit_c(rules, "fw_in")
    assert code.startswith("/*") and "static inline int\nfw_in(const uint8_t *nh, int32_t nlen)" in code
    assert "/* pattern 0 -> output 0: src host 10.0.0.1 && tcp dst port 80 */" in code
    assert "/* pattern 1 -> drop: all */" in code
    assert not re.search(r"\b(for|while|goto|switch)\b", code)
    assert "*(const uint" not in code and "*(uint" not in code        # no pointer-cast loads
    assert code.count("toff =") == 1                                   # computed once
    assert "0xa000001u" in code and "== 0x50u" in code                  # constants folded


def test_comment_cannot_break_out() -> None:
    rules = rules_of("IPClassifier", ["tcp /* x */ or udp // y */ z", "-"])
    code = emit_c(rules, "f")
    for line in code.splitlines():
        if "/* pattern" in line:
            assert line.count("*/") == 1 and line.rstrip().endswith("*/"), line


@pytest.mark.parametrize("texts", [
    ["icmp type < 0", "ip ttl > 300"],          # folded away: no unused helper variables
    ["ip proto != 6", "ip proto > 10"],         # 'proto' only in comments
    ["-"], ["false"], ["ip frag"],
])
def test_minimal_helpers_compile_cleanly(texts: list[str], tmp_path: Path) -> None:
    h = Harness([rules_of("IPClassifier", texts)], tmp_path)
    assert h.run([(0, tcp()), (0, b"")]) == [eval_rules(rules_of("IPClassifier", texts), p)
                                              for p in (tcp(), b"")]


def test_unreachable_after_match_all() -> None:
    code = emit_c(rules_of("IPClassifier", ["-", "tcp"]), "f")
    assert "return 0;" in code and "(unreachable)" in code and "return 1;" not in code


def test_noutputs() -> None:
    assert noutputs("IPClassifier", rules_of("IPClassifier", ["tcp", "udp", "-"])) == 3
    assert noutputs("IPFilter", rules_of("IPFilter", ["allow tcp", "3 udp", "drop all"])) == 4
    assert noutputs("IPFilter", rules_of("IPFilter", ["deny tcp"])) == 1
    assert [r.output for r in rules_of("IPFilter", ["allow tcp", "deny udp", "drop icmp", "0x2 -"])] \
        == [0, -1, -1, 2]


def test_match_everything_forms() -> None:
    for text in ["-", "any", "all", "true", ""]:
        (r,) = rules_of("IPClassifier", [text])
        assert eval_rules([r], b"") == 0, text
    (r,) = rules_of("IPFilter", ["allow"])
    assert eval_rules([r], b"") == 0


def test_quoted_and_commented_arguments() -> None:
    rules = rules_of("IPFilter", ['allow "src host 10.0.0.1" // local', "deny /* rest */ all"])
    assert eval_rules(rules, tcp(src="10.0.0.1")) == 0
    assert eval_rules(rules, tcp(src="10.0.0.2")) == -1


# ---------------------------------------------------------------------------
# Errors, with locations

LINE = "c :: IPClassifier(PATTERN);"
COL = LINE.index("PATTERN") + 1


def parse_error(text: str, kind: str = "IPClassifier") -> UknfvError:
    src = LINE.replace("PATTERN", text)
    with pytest.raises(UknfvError) as ei:
        parse_rules(kind, [(text, Loc("t.click", 7, COL, src))])
    return ei.value


@pytest.mark.parametrize("text, message, at", [
    ("foo", "empty term near 'foo'", "foo"),
    ("tcp and", "missing expression", None),
    ("tcp and and udp", "empty term near 'and'", "and udp"),
    ("(tcp", "missing ')'", None),
    ("tcp )", "garbage after expression at ')'", ")"),
    ("not", "missing expression after 'not'", None),
    ("tcp ? udp", "missing ':' in ternary expression", None),
    ("ip ttl 300", "'ip ttl': out of range, bound 255", "ip ttl"),
    ("ip dscp 64", "'ip dscp': out of range, bound 63", "ip dscp"),
    ("echo", "'echo' is ambiguous; try 'port echo', 'icmp type echo'", "echo"),
    ("udp opt syn", "'tcp opt udp syn' is meaningless", "syn"),
    ("src port 80 or dst 81", "specify header field or 'port'", "dst 81"),
    ("src host > 1.2.3.4", "'ip host': operator not supported", "src host"),
    ("tcp opt != syn", "'tcp opt': operator or mask not supported", "tcp opt"),
    ("ip[3:2] 1", "field [3:2] does not fit in a single word", "[3:2]"),
    ("ip[0:5] 1", "LEN in '[POS:LEN]' out of range", "[0:5]"),
    ("ip[1 1", "missing ']'", "[1 1"),
    ("ip[x] 1", "syntax error after '['", "[x]"),
    ("icmp port 80", "'port': bad protocol 1", "icmp port"),
    ("ip ttl & 0 == 0", "zero mask ignored", "0 =="),
    ("ip ttl & 0x100 == 0", "'ip ttl': mask out of range, bound 0xFF", "ip ttl"),
    ("ip ttl & foo == 0", "bad mask 'foo'", "foo"),
    ("net 1.2.3.4", "'ip net': address missing", "1.2.3.4"),
    ("host 10.0.0.0/8", "'ip host': address missing", "10.0.0.0/8"),
    ("ether host 00:11:22:33:44:55", "'ether' tests are not supported", "ether"),
    ("host 00:11:22:33:44:55", "Ethernet addresses are not supported", "00:11"),
    ("tcp udp", "transport protocol specified twice", "udp"),
    ("src dst host 1.2.3.4", "'src' or 'dst' specified twice", "dst host"),
    ("port host 1.2.3.4", "type specified twice", "host"),
    ("ip proto 300", "'proto': protocol 300 out of range, bound 255", "300"),
    ("ip proto > tcpudp", "'tcpudp': operator or mask not supported", "ip proto"),
    ("src port", "'port': value missing", None),
    ("ip ttl >", "'ip ttl': value missing", ">"),
    ("ip ttl > host", "dangling operator near 'host'", "> host"),
    ("src foo", "partial directive", "src foo"),
    ("ip", "partial directive", "ip"),
    ("ip ce 1", "'ip ce': value not supported", "1"),
    ("ip frag 1", "'ip frag': value not supported", "1"),
])
def test_parse_errors(text: str, message: str, at: str | None) -> None:
    err = parse_error(text)
    assert message in err.message, err.message
    assert err.message.startswith("IPClassifier pattern 0: ")
    assert err.loc is not None and err.loc.line == 7 and err.loc.file == "t.click"
    if at is not None:
        assert err.loc.col == COL + text.index(at), (err.loc.col, str(err))
    else:
        assert err.loc.col == COL + len(text), (err.loc.col, str(err))
    rendered = str(err)
    assert rendered.startswith(f"t.click:7:{err.loc.col}: error: ")
    assert "^" in rendered


@pytest.mark.parametrize("text, message, at", [
    ("foo tcp", "unknown slot ID 'foo'", "foo"),
    ("-1 tcp", "slot '-1' out of range", "-1"),
    ("", "empty pattern", ""),
    ("allow tcp and", "missing expression", None),
])
def test_ipfilter_errors(text: str, message: str, at: str | None) -> None:
    err = parse_error(text, "IPFilter")
    assert message in err.message and err.message.startswith("IPFilter pattern 0: ")
    assert err.loc is not None
    assert err.loc.col == COL + (text.index(at) if at is not None else len(text))


def test_error_location_on_a_later_line_and_later_argument() -> None:
    text = "tcp and\n     foo"
    with pytest.raises(UknfvError) as ei:
        parse_rules("IPClassifier", [("udp", Loc("t.click", 2, 14, "x :: IPClassifier(udp,")),
                                     (text, Loc("t.click", 2, 24, "x :: IPClassifier(udp, tcp and"))])
    err = ei.value
    assert err.message.startswith("IPClassifier pattern 1: empty term near 'foo'")
    assert err.loc == Loc("t.click", 3, 6, "     foo")


def test_error_without_location() -> None:
    with pytest.raises(UknfvError) as ei:
        parse_rules("IPClassifier", [("bogus!", None)])
    assert ei.value.loc is None


def test_valid_syntax_variants() -> None:
    ok = [
        "src or dst host 1.2.3.4", "src and dst net 10.0.0.0/8", "dest port 80",
        "src || dst host 1.2.3.4", "src && dst port 1", "ip host 1.2.3.4",
        "tcp src port 80 and dst port 81", "ip[0] & 0xf0 = 0x40", "transp[0,1] 80",
        "ip ect 2", "ip ect & 1 == 1", "tcp opt 18", "ip proto tcpudp", "ip proto transp",
        "ip proto 0x11", "ip ttl 010", "ip ttl 0b101", "ip id 1_000", "10.0/16",
        "net 10.0.0.0/255.0.0.0", "host & 255.255.0.0 1.2.3.4", "src host & 0xffff0000 1.2.3.4",
        "(tcp)(udp)", "tcp ? (udp ? 1.2.3.4 : icmp) : icmp type 3 or 4",
        "src not host 1.2.3.4", "ip len > 100", "udp[0:2] > 10", "icmp[0] echo",
        "ip dscp >= 10", "not not tcp", "ip ttl <= 300", "port < 0",
    ]
    for text in ok:
        parse_rules("IPClassifier", [(text, None)])


def test_click_semantics_details() -> None:
    # a qualifier protocol constrains any primitive
    (r,) = rules_of("IPClassifier", ["tcp host 1.2.3.4"])
    assert eval_rules([r], tcp(src="1.2.3.4")) == 0 and eval_rules([r], udp(src="1.2.3.4")) == -1
    # field & MASK == V compares with V & MASK (Click)
    (r,) = rules_of("IPClassifier", ["ip ttl & 0x0f == 0x15"])
    assert eval_rules([r], tcp(ttl=0x35)) == 0
    # an integer host mask is a big-endian address
    (r,) = rules_of("IPClassifier", ["src host & 0xff000000 10.1.2.3"])
    assert eval_rules([r], tcp(src="10.9.9.9")) == 0
    # 'ip ect' = ECN bits nonzero, 'ip ce' = both set
    ect, ce = rules_of("IPClassifier", ["ip ect", "ip ce"])
    assert eval_rules([ect], tcp(tos=2)) == 0 and eval_rules([ce], tcp(tos=2)) == -1
    # always-true relation still needs the field
    (r,) = rules_of("IPClassifier", ["ip ttl <= 300"])
    assert eval_rules([r], tcp()) == 0 and eval_rules([r], tcp()[:8]) == -1
    # udp or www: the port name inherits the previous protocol (Click)
    (r,) = rules_of("IPClassifier", ["udp or www"])
    assert eval_rules([r], tcp(dport=80)) == -1 and eval_rules([r], udp(dport=80)) == 0

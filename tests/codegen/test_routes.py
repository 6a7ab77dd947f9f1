"""Tests for uknfv.codegen.routes: Click route parsing and the LPM C code."""
from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from uknfv.codegen.routes import (
    ARRAY_TRIE_MAX_BYTES, ArrayTrie, Route, RouteTrie, array_trie_nbytes,
    build_array_trie, build_lookup, build_trie, duplicate_routes, emit_c,
    format_ip, lookup_ref, noutputs, parse_routes,
)
from uknfv.codegen import routes as routes_mod
from uknfv.diag import Loc, UknfvError

M32 = 0xFFFFFFFF


def ip(s: str) -> int:
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


def pfx(n: int) -> int:
    return (M32 << (32 - n)) & M32 if n else 0


def one(text: str, **kw) -> Route:
    [r] = parse_routes([(text, None)], **kw)
    return r


# ---------------------------------------------------------------------------
# Parsing: accepted forms


@pytest.mark.parametrize("text, addr, mask, gw, port", [
    ("18.26.4.0/24 1", "18.26.4.0", 24, "0.0.0.0", 1),
    ("18.26.4.0/255.255.255.0 1", "18.26.4.0", 24, "0.0.0.0", 1),
    ("18.26.4/24 1", "18.26.4.0", 24, "0.0.0.0", 1),           # short address
    ("18/8 0", "18.0.0.0", 8, "0.0.0.0", 0),
    ("0/0 18.26.4.1 1", "0.0.0.0", 0, "18.26.4.1", 1),          # default route
    ("0.0.0.0/0.0.0.0 2", "0.0.0.0", 0, "0.0.0.0", 2),
    ("18.26.4.24 0", "18.26.4.24", 32, "0.0.0.0", 0),           # bare = /32
    ("18.26.4.24/32 0", "18.26.4.24", 32, "0.0.0.0", 0),
    ("18.26.4.9/24 1", "18.26.4.0", 24, "0.0.0.0", 1),          # host bits masked
    ("255.255.255.255/1 3", "128.0.0.0", 1, "0.0.0.0", 3),
    ("10.0.0.0/8 - 2", "10.0.0.0", 8, "0.0.0.0", 2),            # '-' gateway
    ("10.0.0.0/8 10.0.0.1 2", "10.0.0.0", 8, "10.0.0.1", 2),
    ("10.0.0.0/8 0.0.0.0 2", "10.0.0.0", 8, "0.0.0.0", 2),
    ("  10.0.0.0/8\t1.2.3.4\n 2  ", "10.0.0.0", 8, "1.2.3.4", 2),
    ("010.001.0.0/16 1", "10.1.0.0", 16, "0.0.0.0", 1),         # decimal, not octal
    ("10.0.0.0/08 1", "10.0.0.0", 8, "0.0.0.0", 1),             # IntArg(10)
    ("10.0.0.0/+8 1", "10.0.0.0", 8, "0.0.0.0", 1),
    ("10.0.0.0/1_6 1", "10.0.0.0", 16, "0.0.0.0", 1),
    ("1.2.3.4/0 1", "0.0.0.0", 0, "0.0.0.0", 1),
    # OUTPUT is cp_integer base 0
    ("10.0.0.0/8 0x1f", "10.0.0.0", 8, "0.0.0.0", 31),
    ("10.0.0.0/8 0X1F", "10.0.0.0", 8, "0.0.0.0", 31),
    ("10.0.0.0/8 017", "10.0.0.0", 8, "0.0.0.0", 15),
    ("10.0.0.0/8 0b101", "10.0.0.0", 8, "0.0.0.0", 5),
    ("10.0.0.0/8 1_0", "10.0.0.0", 8, "0.0.0.0", 10),
    ("10.0.0.0/8 +3", "10.0.0.0", 8, "0.0.0.0", 3),
    ("10.0.0.0/8 0", "10.0.0.0", 8, "0.0.0.0", 0),
])
def test_parse_forms(text, addr, mask, gw, port):
    r = one(text)
    assert (r.addr, r.mask, r.gw, r.port) == (ip(addr), pfx(mask), ip(gw), port)


def test_parse_keeps_order_and_locations():
    loc = Loc("f.click", 4, 10, "x")
    args = [("10.0.0.0/8 1", loc), ("  0/0 2", Loc("f.click", 4, 24, "x"))]
    r1, r2 = parse_routes(args)
    assert r1.loc == loc
    assert r2.loc == Loc("f.click", 4, 26, "x")
    assert (r2.addr, r2.mask, r2.port) == (0, 0, 2)
    assert parse_routes([]) == []


def test_unparse_and_noutputs():
    rs = parse_routes([("18.26.4/24 1", None), ("0/0 18.26.4.1 4", None)])
    assert [r.unparse() for r in rs] == ["18.26.4.0/24 - 1", "0.0.0.0/0 18.26.4.1 4"]
    assert noutputs(rs) == 5
    assert noutputs([]) == 0


def test_duplicates_first_wins():
    rs = parse_routes([("10.0.0.0/8 1", None), ("10.9.9.9/8 2.2.2.2 2", None),
                       ("10.0.0.0/255.0.0.0 3", None), ("10.0.0.0/9 4", None)])
    assert len(rs) == 4                      # kept, so the caller can warn
    assert [(d.port, o.port) for d, o in duplicate_routes(rs)] == [(2, 1), (3, 1)]
    assert lookup_ref(rs, ip("10.200.0.1")) == (1, 0)
    assert lookup_ref(rs, ip("10.1.0.1")) == (4, 0)
    assert lookup_ref(rs, ip("11.0.0.1")) == (-1, 0)
    trie = build_trie(rs)
    assert [r.port for r in trie.routes] == [1, 4]   # Click's table handler


def test_noutputs_hint_accepts_in_range():
    assert one("10.0.0.0/8 2", noutputs_hint=3).port == 2


# ---------------------------------------------------------------------------
# Parsing: errors, with exact locations


LOC = Loc("cfg.click", 7, 20, "    rt :: RadixIPLookup(<route text here>);")


@pytest.mark.parametrize("text, col_offset, fragment", [
    ("", 0, "empty route"),
    ("   ", 0, "empty route"),
    ("10.0.0.256/8 1", 0, "bad address '10.0.0.256'"),
    ("  x/8 1", 2, "bad address 'x'"),
    ("10.0.0.0.1/8 1", 0, "bad address"),
    ("10../8 1", 0, "bad address"),
    ("10.0.0.0/33 1", 0, "bad mask '33'"),
    ("10.0.0.0/-1 1", 0, "bad mask '-1'"),
    ("10.0.0.0/0x8 1", 0, "bad mask"),
    ("10.0.0.0/255.0.0 1", 0, "bad mask"),
    ("10.0.0.0/8/8 1", 0, "bad address '10.0.0.0/8'"),
    ("10.0.0.0/ 1", 0, "missing mask after '/'"),
    ("/8 1", 0, "missing address before '/'"),
    ("18.26/24 1", 0, "longer than the 16 address bits"),
    ("18/9 1", 0, "longer than the 8 address bits"),
    ("10.0.0.0/255.0.255.0 1", 0, "non-contiguous mask '255.0.255.0'"),
    ("10.0.0.0/0.0.0.255 1", 0, "non-contiguous mask"),
    ("10.0.0 1", 0, "bad address or prefix '10.0.0'"),
    ("foo 1", 0, "bad address or prefix 'foo'"),
    ("10.0.0.0/8", 10, "missing output port"),
    ("10.0.0.0/8  ", 10, "missing output port"),
    ("10.0.0.0/8 1.2.3.4", 18, "missing output port"),
    ("10.0.0.0/8 -", 12, "missing output port"),
    ("10.0.0.0/8 x", 11, "bad output port 'x'"),
    ("10.0.0.0/8 08", 11, "bad output port '08'"),       # octal
    ("10.0.0.0/8 1_", 11, "bad output port '1_'"),
    ("10.0.0.0/8 1__0", 11, "bad output port"),
    ("10.0.0.0/8 0x", 11, "bad output port"),
    ("10.0.0.0/8 1.5", 11, "bad gateway address '1.5'"),
    ("10.0.0.0/8 1.2.3 4", 11, "bad gateway address '1.2.3'"),
    ("10.0.0.0/8 gw 4", 11, "bad gateway address 'gw'"),
    ("10.0.0.0/8 -1", 11, "output port -1 is negative"),
    ("10.0.0.0/8 1.2.3.4 -3", 19, "output port -3 is negative"),
    ("10.0.0.0/8 99999999999", 11, "out of range"),
    ("10.0.0.0/8 1 2", 13, "unexpected '2' after output port"),
    ("10.0.0.0/8 - 1 2", 15, "unexpected '2'"),
    ("10.0.0.0/8 1.2.3.4 1 x", 21, "unexpected 'x'"),
])
def test_parse_errors(text, col_offset, fragment):
    with pytest.raises(UknfvError) as ei:
        parse_routes([("10.0.0.0/8 0", Loc("cfg.click", 6, 5)), (text, LOC)])
    err = ei.value
    assert len(err.errors) == 1
    assert fragment in err.message
    assert err.loc == Loc("cfg.click", 7, 20 + col_offset, LOC.source_line)
    # Without a location, the same message and no Loc.
    with pytest.raises(UknfvError) as ei:
        parse_routes([(text, None)])
    assert ei.value.loc is None and fragment in ei.value.message


def test_parse_error_port_out_of_range_for_element():
    with pytest.raises(UknfvError) as ei:
        parse_routes([("10.0.0.0/8 2", LOC)], noutputs_hint=2)
    assert "output port 2 out of range: element has 2 outputs" in ei.value.message
    assert ei.value.loc.col == 31
    with pytest.raises(UknfvError) as ei:
        parse_routes([("10.0.0.0/8 1", LOC)], noutputs_hint=1)
    assert ei.value.message.endswith("element has 1 output")


def test_parse_reports_every_bad_argument():
    args = [("10.0.0.0/8 1", Loc("a", 1, 1)), ("bad 1", Loc("a", 2, 3)),
            ("1.0.0.0/8 1 1", Loc("a", 3, 5)), ("0/0 0", Loc("a", 4, 1))]
    with pytest.raises(UknfvError) as ei:
        parse_routes(args)
    got = [(e.loc.line, e.loc.col) for e in ei.value.errors]
    assert got == [(2, 3), (3, 17)]
    assert "a:3:17: error: unexpected '1'" in str(ei.value)


def test_error_location_in_multiline_argument():
    text = "10.0.0.0/8\n      1.2.3.4 oops"
    with pytest.raises(UknfvError) as ei:
        parse_routes([(text, Loc("m.click", 3, 15, "  t :: X(10.0.0.0/8"))])
    loc = ei.value.loc
    assert (loc.line, loc.col) == (4, 15)
    assert loc.source_line[loc.col - 1:].startswith("oops")


# ---------------------------------------------------------------------------
# Reference and Python model of the trie


def test_lookup_ref_basics():
    rs = parse_routes([(t, None) for t in (
        "18.26.4.24/32 0", "18.26.4.255/32 0", "18.26.4.0/32 0",
        "18.26.4/24 1", "0/0 18.26.4.1 1")])
    assert lookup_ref(rs, ip("18.26.4.24")) == (0, 0)
    assert lookup_ref(rs, ip("18.26.4.25")) == (1, 0)
    assert lookup_ref(rs, ip("1.1.1.1")) == (1, ip("18.26.4.1"))
    assert lookup_ref([], 0) == (-1, 0)


class FastRef:
    """lookup_ref, precomputed: one dict per prefix length (first route wins)."""

    def __init__(self, routes: list[Route]):
        self.by_len: list[tuple[int, dict[int, Route]]] = []
        tables: dict[int, dict[int, Route]] = {}
        for r in routes:
            tables.setdefault(r.mask, {}).setdefault(r.addr & r.mask, r)
        for mask in sorted(tables, reverse=True):
            self.by_len.append((mask, tables[mask]))

    def __call__(self, dst: int) -> tuple[int, int]:
        for mask, t in self.by_len:
            r = t.get(dst & mask)
            if r is not None:
                return r.port, r.gw
        return -1, 0


def check_against_reference(rs: list[Route], queries: list[int],
                            results: list[tuple[int, int]], nslow: int = 100):
    """results == lookup_ref for every query (FastRef, plus lookup_ref itself
    on a sample of ``nslow`` queries to keep the big tests fast)."""
    ref = FastRef(rs)
    assert len(results) == len(queries)
    for k, (a, got) in enumerate(zip(queries, results)):
        want = lookup_ref(rs, a) if k % max(1, len(queries) // nslow) == 0 else ref(a)
        assert got == want, (format_ip(a), got, want)


routes_st = st.lists(
    st.tuples(st.integers(0, M32), st.integers(0, 32), st.integers(0, 3),
              st.sampled_from([0, 0, 0x0A000001, 0xC0A80101])),
    max_size=40)


@settings(max_examples=150, deadline=None)
@given(routes_st, st.lists(st.integers(0, M32), max_size=30))
def test_trie_model_matches_reference(raw, extra):
    """Both layouts' Python models (40 routes always fit the array layout)."""
    rs = [Route(a & pfx(n), pfx(n), gw, port) for a, n, port, gw in raw]
    trie = build_trie(rs)
    arr = build_array_trie(rs)
    assert arr.nbytes == array_trie_nbytes(rs)
    assert arr.strides == [8] * len(arr.strides)
    assert len(arr.strides) == max(1, -(-max((r.prefix_len for r in rs), default=0) // 8))
    auto = build_lookup(rs)
    assert auto.kind == ("array" if arr.nbytes <= ARRAY_TRIE_MAX_BYTES else "poptrie")
    probes = set(extra) | {0, M32}
    for r in rs:
        probes |= {r.addr, (r.addr - 1) & M32, r.addr | (~r.mask & M32),
                   ((r.addr | (~r.mask & M32)) + 1) & M32}
    ref = FastRef(rs)
    for d in probes:
        assert trie.lookup(d) == arr.lookup(d) == auto.lookup(d) == lookup_ref(rs, d) == ref(d)


# ---------------------------------------------------------------------------
# The emitted C, compiled with sanitizers


GCC = shutil.which("gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc not available")
CFLAGS = ["-O2", "-Wall", "-Werror", "-fsanitize=address,undefined",
          "-fno-sanitize-recover=all"]


def compile_and_run(tables: list[list[Route]], queries: list[tuple[int, int]],
                    dump: bool = False, layouts: list[str] | None = None) -> list[str]:
    """Emit one lookup per route set into one program; run the queries.

    Input lines: ``SET ADDR``; output lines: ``PORT GW``.  With ``dump``,
    first prints each set's FNAME_table (``T SET N`` then ``ADDR MASK GW PORT``).
    ``layouts[i]`` is set i's layout (default: all ``auto``).
    """
    src = ["#include <stdio.h>", "#include <stdint.h>"]
    for i, rs in enumerate(tables):
        src.append(emit_c(rs, f"rt{i}", layout=layouts[i] if layouts else "auto"))
    src.append("static int lookup(unsigned set, uint32_t a, uint32_t *gw)\n{\n"
               "    switch (set) {")
    for i in range(len(tables)):
        src.append(f"    case {i}: return rt{i}(a, gw);")
    src.append("    }\n    return -2;\n}")
    src.append("int main(void)\n{\n    unsigned set, i; unsigned long a;")
    if dump:
        for t in range(len(tables)):
            src.append(f'    printf("T {t} %u\\n", rt{t}_nroutes);\n'
                       f"    for (i = 0; i < rt{t}_nroutes; i++)\n"
                       f'        printf("%u %u %u %d\\n", rt{t}_table[i].addr, '
                       f"rt{t}_table[i].mask, rt{t}_table[i].gw, rt{t}_table[i].port);")
    src.append("    while (scanf(\"%u %lu\", &set, &a) == 2) {\n"
               "        uint32_t gw = 0xdeadbeef;\n"
               "        int p = lookup(set, (uint32_t)a, &gw);\n"
               "        printf(\"%d %u\\n\", p, gw);\n"
               "    }\n    (void)i;\n    return 0;\n}")
    with tempfile.TemporaryDirectory() as d:
        c = Path(d) / "t.c"
        c.write_text("\n".join(src) + "\n")
        exe = Path(d) / "t"
        subprocess.run([GCC, *CFLAGS, str(c), "-o", str(exe)], check=True,
                       capture_output=True, text=True)
        inp = "".join(f"{s} {a}\n" for s, a in queries)
        res = subprocess.run([str(exe)], input=inp, capture_output=True,
                             text=True, check=True, timeout=60)
    return res.stdout.splitlines()


def probes_for(rs: list[Route], rnd: random.Random, nrandom: int) -> list[int]:
    out = [0, M32, 1, M32 - 1, 0x80000000, 0x7FFFFFFF]
    for r in rs:
        last = r.addr | (~r.mask & M32)
        out += [r.addr, (r.addr - 1) & M32, last, (last + 1) & M32,
                r.addr | rnd.getrandbits(32) & ~r.mask & M32]
    out += [rnd.getrandbits(32) for _ in range(nrandom)]
    return out


def check_program(tables, rnd, nrandom=200, layouts=None):
    queries = [(i, a) for i, rs in enumerate(tables)
               for a in probes_for(rs, rnd, nrandom)]
    lines = compile_and_run(tables, queries, layouts=layouts)
    assert len(lines) == len(queries)
    for i, rs in enumerate(tables):
        qs = [(a, parse_result(line)) for (j, a), line in zip(queries, lines) if j == i]
        check_against_reference(rs, [a for a, _ in qs], [r for _, r in qs])


def parse_result(line: str) -> tuple[int, int]:
    port, gw = line.split()
    return int(port), int(gw)


@needs_gcc
def test_c_edge_tables_and_table_dump():
    tables = [
        [],                                                  # no routes at all
        one_list("0/0 1.2.3.4 0"),                           # root only
        one_list("255.255.255.255/32 3", "0.0.0.0/32 1"),    # deepest level
        one_list("128/1 1", "0/1 2", "10.0.0.0/8 0", "10.0.0.1/32 5",
                 "10.0.0.0/31 4", "10.0.0.0/8 9"),           # dup ignored
        one_list(*(f"10.{i}.0.0/16 {i % 3}" for i in range(200))),
    ]
    # Each table twice: forced array layout, then forced poptrie.
    layouts = ["array"] * len(tables) + ["poptrie"] * len(tables)
    tables = tables + tables
    rnd = random.Random(7)
    queries = [(i, a) for i, rs in enumerate(tables) for a in probes_for(rs, rnd, 100)]
    lines = compile_and_run(tables, queries, dump=True, layouts=layouts)
    pos = 0
    for t, rs in enumerate(tables):
        eff = build_trie(rs).routes
        assert lines[pos] == f"T {t} {len(eff)}"
        rows = lines[pos + 1:pos + 1 + len(eff)]
        assert rows == [f"{r.addr} {r.mask} {r.gw} {r.port}" for r in eff]
        pos += 1 + len(eff)
    assert [r.port for r in build_trie(tables[3]).routes] == [1, 2, 0, 5, 4]
    for (i, a), line in zip(queries, lines[pos:]):
        assert parse_result(line) == lookup_ref(tables[i], a), (i, format_ip(a), line)


def one_list(*texts: str) -> list[Route]:
    return parse_routes([(t, None) for t in texts])


SPECIAL_LENS = [0, 1, 8, 16, 24, 31, 32]
GW_KINDS = ["none", "dash", "gw", "zero"]
FORMS = ["len", "mask", "bare"]


def route_text(pool, pi, w, noise, plen, port, gwkind, form) -> str:
    """One route in one of Click's spellings, near pool[pi] so routes nest."""
    addr = pool[pi % len(pool)] ^ (noise & ((1 << w) - 1))
    a = format_ip(addr)               # host bits are usually set: Click masks
    if form == "mask":
        p = f"{a}/{format_ip(pfx(plen))}"
    elif form == "bare" and plen == 32:
        p = a
    else:
        p = f"{a}/{plen}"
    gw = {"none": "", "dash": "- ", "zero": "0.0.0.0 ",
          "gw": format_ip(noise ^ 0x5A5A5A5A) + " "}[gwkind]
    return f"{p} {gw}{port}"


route_tuple_st = st.tuples(
    st.integers(0, 4),                                   # pool index
    st.integers(0, 32),                                  # noise width
    st.integers(0, M32),                                 # noise
    st.one_of(st.sampled_from(SPECIAL_LENS), st.integers(0, 32)),
    st.integers(0, 7),                                   # port
    st.sampled_from(GW_KINDS), st.sampled_from(FORMS))


@st.composite
def route_text_sets(draw):
    """Up to a few hundred routes: a few drawn by hypothesis, the bulk from a
    drawn seed (hypothesis keeps long lists short), clustered around a small
    pool of addresses so that prefixes nest and collide."""
    pool = draw(st.lists(st.integers(0, M32), min_size=1, max_size=5))
    texts = [route_text(pool, *t) for t in draw(st.lists(route_tuple_st, max_size=8))]
    n = draw(st.sampled_from([0, 1, 20, 100, 300]) | st.integers(0, 300))
    rnd = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(n):
        plen = rnd.choice(SPECIAL_LENS) if rnd.random() < 0.3 else rnd.randint(0, 32)
        texts.append(route_text(
            pool, rnd.randrange(5), rnd.randint(0, 32), rnd.getrandbits(32), plen,
            rnd.randrange(8), rnd.choice(GW_KINDS), rnd.choice(FORMS)))
    return texts


def both_layouts(tables: list[list[Route]]) -> tuple[list[list[Route]], list[str]]:
    """Each table as a poptrie, and as an array trie where 16-bit entries
    can address it (up to 128 nodes)."""
    out, layouts = [], []
    for rs in tables:
        out.append(rs)
        layouts.append("poptrie")
        try:
            build_array_trie(rs)
        except ValueError:
            continue
        out.append(rs)
        layouts.append("array")
    return out, layouts


@needs_gcc
@settings(max_examples=8, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],   # no shrinking: compiles
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(route_text_sets(), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_c_matches_reference_random(sets, rnd):
    tables, layouts = both_layouts(
        [parse_routes([(t, None) for t in texts]) for texts in sets])
    check_program(tables, rnd, layouts=layouts)


@st.composite
def array_sized_sets(draw):
    """Small to medium tables that the array layout can hold: up to 300
    routes of any length within a /20 of one of up to 6 drawn addresses
    (so at most 1 + 6 * 18 = 109 nodes), a tenth of them short (<= /8).
    They straddle the 16 KiB auto threshold (31 nodes)."""
    npool = draw(st.sampled_from([1, 2, 6]) | st.integers(1, 6))
    pool = draw(st.lists(st.integers(0, M32), min_size=npool, max_size=npool))
    rnd = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.sampled_from([1, 5, 30, 150, 300]) | st.integers(0, 300))
    rs = []
    for _ in range(n):
        plen = rnd.choice(SPECIAL_LENS) if rnd.random() < 0.3 else rnd.randint(0, 32)
        if rnd.random() < 0.1:
            plen = rnd.randint(0, 8)
        a = rnd.choice(pool) ^ rnd.getrandbits(12)
        gw = rnd.choice([0, 0, rnd.getrandbits(32)])
        rs.append(Route(a & pfx(plen), pfx(plen), gw, rnd.randrange(8)))
    return rs


@needs_gcc
@settings(max_examples=6, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],   # no shrinking: compiles
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(array_sized_sets(), min_size=1, max_size=3), st.randoms(use_true_random=False))
def test_c_both_layouts_medium(tables, rnd):
    """Every table compiled in both layouts and with auto, all against
    lookup_ref."""
    ts, layouts = [], []
    for rs in tables:
        assert build_array_trie(rs).nnodes <= 109
        ts += [rs, rs, rs]
        layouts += ["array", "poptrie", "auto"]
    check_program(ts, rnd, nrandom=100, layouts=layouts)


def random_routes(n: int, rnd: random.Random) -> list[Route]:
    rs = []
    for _ in range(n):
        plen = rnd.randint(0, 32)
        gw = rnd.choice([0, rnd.getrandbits(32)])
        rs.append(Route(rnd.getrandbits(32) & pfx(plen), pfx(plen), gw, rnd.randrange(16)))
    return rs


def test_table_size_small():
    rnd = random.Random(20)
    trie = build_trie(random_routes(20, rnd))
    assert trie.nbytes < 4096


@needs_gcc
def test_c_20k_routes():
    rnd = random.Random(20000)
    rs = random_routes(20000, rnd)
    trie = build_trie(rs)
    # ~34 bytes a route for uniformly random prefixes (the worst case for
    # tries); a plain 8-8-8-8 trie needs ~15 MB here.
    assert trie.nbytes < 60 * len(rs)
    assert trie.depth <= len(trie.strides) - 1
    sample = rnd.sample(rs, 1000)
    queries = [0, M32] + [rnd.getrandbits(32) for _ in range(3000)]
    for r in sample:
        last = r.addr | (~r.mask & M32)
        queries += [r.addr, last, (last + 1) & M32, (r.addr - 1) & M32]
    lines = compile_and_run([rs], [(0, a) for a in queries])
    check_against_reference(rs, queries, [parse_result(x) for x in lines], nslow=40)


def test_emit_c_rejects_bad_names_and_masks():
    with pytest.raises(ValueError):
        emit_c([], "1bad")
    with pytest.raises(ValueError):
        emit_c([Route(0, 0xFF00FF00, 0, 1)], "ok")


# ---------------------------------------------------------------------------
# Choosing between the array layout and the poptrie


ROUTER_ROUTES = one_list(   # benchmarks/router.click
    "10.0.1.1/32 0", "10.0.2.1/32 0", "10.0.3.1/32 0",
    "10.0.1.0/24 1", "10.0.2.0/24 2", "10.0.3.0/24 3",
    "10.1.0.0/16 10.0.2.254 2", "10.2.0.0/16 10.0.3.254 3", "10.0.0.0/8 10.0.3.254 3",
    "172.16.0.0/12 10.0.2.254 2", "172.16.8.0/21 10.0.1.254 1",
    "192.168.0.0/16 10.0.1.254 1", "192.168.100.0/24 10.0.2.254 2",
    "100.64.0.0/10 10.0.3.254 3", "198.18.0.0/15 10.0.2.254 2",
    "192.0.2.0/24 10.0.3.254 3", "198.51.100.0/24 10.0.2.254 2",
    "203.0.113.0/24 10.0.1.254 1", "8.8.8.0/24 10.0.3.254 3",
    "224.0.0.0/4 0", "0.0.0.0/0 10.0.3.254 3")


def lookup_body(code: str, fname: str) -> str:
    start = code.index(f"static inline int {fname}(uint32_t dst")
    return code[start:code.index("\n}\n", start)]


def test_auto_picks_array_for_small_tables():
    t = build_lookup(ROUTER_ROUTES)
    assert isinstance(t, ArrayTrie) and t.kind == "array"
    # root, 7 nodes for /8s, 7 for /16s, 3 for the /24s of the host routes
    assert (t.nnodes, t.strides, t.nbytes) == (18, [8, 8, 8, 8], 18 * 512 + 8 * 8)
    code = emit_c(ROUTER_ROUTES, "rt")
    assert code == emit_c(ROUTER_ROUTES, "rt", layout="array")
    assert "Array trie, strides 8-8-8-8; 18 nodes" in code
    body = lookup_body(code, "rt")
    assert body.count("rt_trie[") == 4 and "pop" not in body
    for rs in ([], one_list("0/0 1"), one_list("10/8 1", "11/8 2")):
        assert build_lookup(rs).kind == "array"        # root only: same either way


def test_auto_threshold_is_16k_of_lookup_data():
    # 10 host routes in 10 different /8s: 1 + 3 * 10 = 31 nodes (15872 bytes).
    hosts = [Route(ip(f"{x}.1.2.3"), M32, x, 1) for x in range(1, 11)]
    # /8s add no node, only next hops: 1 + 10 + 53 = 64 next hops, 512 bytes.
    shorts = [Route(x << 24, pfx(8), 1000 + x, 2) for x in range(100, 153)]
    rs = hosts + shorts
    assert array_trie_nbytes(rs) == 31 * 512 + 64 * 8 == ARRAY_TRIE_MAX_BYTES
    assert build_lookup(rs).kind == "array"
    rs2 = rs + [Route(ip("200.0.0.0"), pfx(8), 7, 3)]         # one more next hop
    assert array_trie_nbytes(rs2) == ARRAY_TRIE_MAX_BYTES + 8
    assert isinstance(build_lookup(rs2), RouteTrie) and build_lookup(rs2).kind == "poptrie"
    rs3 = rs[:-1] + [Route(ip("1.1.9.9"), M32, 7, 3)]         # a new /24: 32 nodes
    assert array_trie_nbytes(rs3) == 32 * 512 + 64 * 8
    assert build_lookup(rs3).kind == "poptrie"
    assert "Poptrie, strides 8-6-6-6-6" in emit_c(rs3, "f")
    assert "Array trie" in emit_c(rs3, "f", layout="array")
    # Duplicates do not count: first wins, as in the lookup.
    assert array_trie_nbytes(rs + rs) == ARRAY_TRIE_MAX_BYTES


@pytest.mark.parametrize("longest, levels", [(0, 1), (8, 1), (9, 2), (16, 2),
                                             (17, 3), (24, 3), (25, 4), (32, 4)])
def test_array_levels_follow_longest_prefix(longest, levels):
    rs = [Route(ip("10.20.30.40") & pfx(n), pfx(n), 0, n % 3) for n in (0, 4, longest)]
    t = build_array_trie(rs)
    assert t.strides == [8] * levels and t.depth == levels - 1
    assert t.nnodes == levels                       # one node per level
    body = lookup_body(emit_c(rs, "f", layout="array"), "f")
    assert body.count("f_trie[") == levels
    if levels == 1:
        assert t.entry_bits == 8 and "0x8000" not in body
    else:
        assert t.entry_bits == 16 and body.count("goto found") == levels - 1


def test_lookups_are_straight_line_and_need_only_stdint():
    rs = random_routes(60, random.Random(60))
    for layout in ("array", "poptrie"):
        code = emit_c(rs, "f", layout=layout)
        assert f"{'Array trie' if layout == 'array' else 'Poptrie'}, strides" in code
        assert [ln for ln in code.splitlines() if ln.startswith("#include")] == \
            ["#include <stdint.h>"]
        for word in ("for", "while", "do"):
            assert f"{word} (" not in code and f"{word}(" not in code
        assert ("f_pop(" in code) == (layout == "poptrie")


def test_array_layout_limits():
    # 43 host routes in distinct /8s: 1 + 3 * 43 = 130 nodes > 128.
    big = [Route(ip(f"{x}.1.2.3"), M32, 0, 1) for x in range(1, 44)]
    assert array_trie_nbytes(big) == 130 * 512 + 2 * 8
    with pytest.raises(ValueError, match="too big for the array layout"):
        build_array_trie(big)
    with pytest.raises(ValueError, match="too big for the array layout"):
        emit_c(big, "f", layout="array")
    assert build_lookup(big).kind == "poptrie"
    assert build_array_trie(big[:42]).nnodes == 127
    with pytest.raises(ValueError, match="unknown route table layout"):
        emit_c([], "f", layout="flat")
    with pytest.raises(ValueError):
        build_array_trie([Route(0, 0xFF00FF00, 0, 1)])


def test_big_tables_stay_poptrie():
    rs = random_routes(20000, random.Random(20000))
    assert array_trie_nbytes(rs) > 100 * ARRAY_TRIE_MAX_BYTES
    # auto gives up counting nodes as soon as the budget is exceeded
    assert routes_mod._array_nnodes(routes_mod._prepare(rs)[1], 33) <= 34

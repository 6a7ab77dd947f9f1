"""Configuration-string helpers: Click's cp_argvec, cp_spacevec, cp_unquote..."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uknfv.lang import Arg, arg_loc, load, quote, split_args, split_keyword, split_words, unquote


@pytest.mark.parametrize("config, expected", [
    ("", []),
    ("   ", []),
    ("a", [("a", 0)]),
    ("a,", [("a", 0)]),                                  # trailing comma allowed
    (",", [("", 0)]),
    ("a,,b", [("a", 0), ("", 2), ("b", 3)]),
    ("  a  b ,c", [("a  b", 2), ("c", 8)]),              # inner space kept
    ("a, b /* c */ d,  e,", [("a", 0), ("b d", 3), ("e", 17)]),
    ('"x, y" // ?', [('"x, y"', 0)]),
    ("'a,b', c", [("'a,b'", 0), ("c", 7)]),
    ("a // c, d\n, e", [("a", 0), ("e", 12)]),
    ("x /* , */ y, z", [("x y", 0), ("z", 13)]),
    ("f(a, b), c", [("f(a, b)", 0), ("c", 9)]),
    ("[1,2], {3,4}", [("[1,2]", 0), ("{3,4}", 7)]),
    ("a(b, c", [("a(b", 0), ("c", 5)]),                   # never closed: Click's split
    ("\\<2c 2c>, x", [("\\<2c 2c>", 0), ("x", 10)]),
    ("ENCAP IP, STOP true", [("ENCAP IP", 0), ("STOP true", 10)]),
])
def test_split_args(config: str, expected: list[tuple[str, int]]) -> None:
    assert split_args(config) == [Arg(t, o) for t, o in expected]


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("a  b,c", ["a", "b,c"]),
    ("  'a /*?*/ b'c", ["'a /*?*/ b'c"]),
    ('x "d e" /*c*/ f // g', ["x", '"d e"', "f"]),
    ("\\<1 2>g h", ["\\<1 2>g", "h"]),
])
def test_split_words(text: str, expected: list[str]) -> None:
    assert split_words(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("STOP true", ("STOP", "true")),
    ("STOP", ("STOP", "")),
    ("ENCAP\tIP", ("ENCAP", "IP")),
    ("A1_B  x y ", ("A1_B", "x y")),
    ("Stop true", None),
    ("1A x", None),
    ("_A x", None),
    ("STOP:x", None),
    ("10.0.0.1", None),
    ("", None),
])
def test_split_keyword(text: str, expected: tuple[str, str] | None) -> None:
    assert split_keyword(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("abc", b"abc"),
    ('"a b"', b"a b"),
    ('"\\n\\t\\\\\\"\\a\\r"', b"\n\t\\\"\x07\r"),
    ('"\\x41\\x4a4b"', b"AK"),                          # \x takes all hex digits: last byte
    ('"\\101\\0\\1234"', b"A\x00S4"),                    # up to 3 octal digits
    ('"\\<00 11 22>"', b"\x00\x11\x22"),
    ("\\<0011>", b"\x00\x11"),
    ("\\<48 65 /* c */ 6c6c 6f>", b"Hello"),
    ("'a\\n' b", b"a\\n b"),                             # single quotes are literal
    ('ab"cd"ef /* x */ g', b"abcdef g"),                 # parts concatenate
    ('"a\\\nb"', b"ab"),                                 # backslash-newline vanishes
    ("a\\nb", b"a\\nb"),                                 # no escapes outside quotes
    ('"caf\u00e9"', "caf\u00e9".encode()),
    ('"\\$x"', b"$x"),
])
def test_unquote(text: str, expected: bytes) -> None:
    assert unquote(text) == expected


@given(st.binary(max_size=40))
@settings(max_examples=200, deadline=None)
def test_quote_then_unquote_is_identity(data: bytes) -> None:
    assert unquote(quote(data)) == data
    assert len(split_args(quote(data))) == 1


@given(st.text(alphabet=" ,()[]{}\"'\\</*>ab\n$", max_size=30))
@settings(max_examples=300, deadline=None)
def test_string_helpers_never_fail(text: str) -> None:
    for arg in split_args(text):
        assert arg.text == arg.text.lstrip()   # (an unterminated quote keeps its tail)
        assert 0 <= arg.offset <= len(text)
        split_keyword(arg.text)
        unquote(arg.text)
    split_words(text)


def test_arg_loc_is_exact_for_verbatim_configs() -> None:
    src = "x :: Foo(1,\n    bar baz);"
    el = load(src, "t.click").elements["x"]
    bar = split_args(el.config)[1]
    loc = arg_loc(el, bar.offset + 4)
    assert (loc.line, loc.col) == (2, 9)
    assert loc.source_line == "    bar baz);"
    assert (arg_loc(el, 0).line, arg_loc(el, 0).col) == (1, 10)


def test_arg_loc_falls_back_to_the_config_start_after_substitution() -> None:
    src = "define($B 7);\nx :: Foo(1, $B);"
    el = load(src, "t.click").elements["x"]
    assert el.config == "1, 7" and not el.config_verbatim
    loc = arg_loc(el, 3)
    assert (loc.line, loc.col) == (2, 10)


def test_arg_loc_without_config_points_after_the_class() -> None:
    el = load("x :: Foo;", "t.click").elements["x"]
    assert (arg_loc(el, 0).line, arg_loc(el, 0).col) == (1, 9)

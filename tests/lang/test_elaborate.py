"""Elaboration: Click's naming, compound expansion, variables, and its errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from uknfv.diag import UknfvError
from uknfv.lang import FlatConfig, load, unparse

FILE = "t.click"
DATA = Path(__file__).parent / "data"
CASES = sorted(p.stem for p in DATA.glob("*.click"))


def flat(src: str, **kw: Any) -> FlatConfig:
    return load(src, FILE, **kw)


def elements(src: str, **kw: Any) -> dict[str, tuple[str, str]]:
    """name → (class, config)."""
    return {n: (e.cls, e.config) for n, e in flat(src, **kw).elements.items()}


def edges(src: str, **kw: Any) -> list[str]:
    return [f"{c.src}[{c.src_port}]->[{c.dst_port}]{c.dst}" for c in flat(src, **kw).connections]


def errors(src: str, **kw: Any) -> list[UknfvError]:
    with pytest.raises(UknfvError) as info:
        flat(src, **kw)
    return info.value.errors


def find_error(src: str, message: str, **kw: Any) -> UknfvError:
    errs = errors(src, **kw)
    for err in errs:
        if message in err.message:
            return err
    raise AssertionError(f"no error with {message!r} in:\n" + "\n".join(str(e) for e in errs))


# -- the golden cases -----------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_golden_cases_flatten_as_click_names_them(case: str) -> None:
    text = (DATA / f"{case}.click").read_text()
    expected = (DATA / f"{case}.flat").read_text()
    assert unparse(load(text, f"{case}.click")) == expected


@pytest.mark.parametrize("case", CASES)
def test_flattened_output_reparses_to_itself(case: str) -> None:
    once = unparse(load((DATA / f"{case}.click").read_text(), f"{case}.click"))
    assert unparse(load(once, "flat.click")) == once


def test_golden_icmp_details() -> None:
    cfg = load((DATA / "icmp.click").read_text(), "icmp.click", defines={"IN": "other.pcap"})
    names = list(cfg.elements)
    assert names[:3] == ["FromDump@1", "c", "ARPResponder@3"]
    assert cfg.elements["FromDump@1"].config == "other.pcap, STOP true"
    assert cfg.elements["f"].cls == "IPFilter"
    assert ("c", 2, "Discard@8", 0) in [(c.src, c.src_port, c.dst, c.dst_port)
                                        for c in cfg.connections]


# -- naming -------------------------------------------------------------------------

def test_anonymous_numbers_count_every_element_of_the_scope() -> None:
    assert list(elements("a :: Idle; a -> Counter -> b :: Discard; Idle -> b")) == [
        "a", "Counter@2", "b", "Idle@4"]


def test_anonymous_names_skip_names_the_user_took() -> None:
    names = list(elements("Idle -> Foo@2 :: Counter -> Counter -> Discard"))
    assert names == ["Idle@1", "Foo@2", "Counter@3", "Discard@4"]
    names = list(elements("Counter@2 :: Idle; Counter@2 -> Counter -> Counter -> Discard"))
    assert names == ["Counter@2", "Counter@3", "Counter@4", "Discard@4"]


NESTED = """
elementclass Inner { $n |
    input -> x :: Strip($n) -> Counter -> output
}
elementclass Outer { $n |
    input -> i :: Inner($n) -> Paint(1) -> output;
    input[1] -> Inner(2) -> [1]output
}
src :: Idle;
src -> o :: Outer(14) -> Discard;
Idle -> [1]o[1] -> d :: Discard;
"""


def test_nested_compounds_are_named_outer_slash_inner() -> None:
    els = elements(NESTED)
    assert els["o/i/x"] == ("Strip", "14")
    assert els["o/i/Counter@2"] == ("Counter", "")
    assert els["o/Paint@2"] == ("Paint", "1")
    assert els["o/Inner@3/x"] == ("Strip", "2")
    assert "o" not in els and "o/i" not in els
    # Click's order: the file's elements, then each compound's, depth first
    assert list(els)[:5] == ["src", "Discard@3", "Idle@4", "d", "o/Paint@2"]


def test_connections_are_wired_through_compound_ports() -> None:
    assert sorted(edges(NESTED)) == sorted([
        "src[0]->[0]o/i/x",
        "o/i/x[0]->[0]o/i/Counter@2",
        "o/i/Counter@2[0]->[0]o/Paint@2",
        "o/Paint@2[0]->[0]Discard@3",
        "Idle@4[0]->[0]o/Inner@3/x",
        "o/Inner@3/x[0]->[0]o/Inner@3/Counter@2",
        "o/Inner@3/Counter@2[0]->[0]d",
    ])


def test_anonymous_compounds_are_named_at_n() -> None:
    els = elements("Idle -> { input -> c :: Counter -> output } -> Discard")
    assert list(els) == ["Idle@1", "Discard@3", "@2/c"]
    assert edges("Idle -> { input -> c :: Counter -> output } -> Discard") == [
        "Idle@1[0]->[0]@2/c", "@2/c[0]->[0]Discard@3"]


def test_fan_in_and_fan_out_through_compounds() -> None:
    src = """
    elementclass Fan { input -> a :: A -> output; input -> b :: B -> output; }
    s1 :: S; s2 :: S; d1 :: D; d2 :: D;
    s1 -> f :: Fan -> d1; s2 -> f -> d2;
    """
    assert sorted(edges(src)) == sorted(
        [f"{s}[0]->[0]f/{m}" for s in ("s1", "s2") for m in ("a", "b")]
        + [f"f/{m}[0]->[0]{d}" for m in ("a", "b") for d in ("d1", "d2")])


def test_passthrough_compounds_connect_their_neighbours() -> None:
    src = "a :: A; b :: B; a -> { input -> output } -> { input -> output } -> b"
    assert edges(src) == ["a[0]->[0]b"]
    src = "elementclass P { input -> output; input[1] -> [1]output } " \
          "a :: A; b :: B; a[1] -> [1]p :: P[1] -> [2]b; a -> p -> b"
    assert sorted(edges(src)) == ["a[0]->[0]b", "a[1]->[2]b"]


def test_implicit_compound_ports() -> None:
    src = "elementclass N { -> Counter -> ; [1] -> Paint(2) -> [1] } " \
          "a :: A; a -> n :: N -> Discard; a[1] -> [1]n[1] -> Discard"
    assert sorted(edges(src)) == sorted([
        "a[0]->[0]n/Counter@1", "n/Counter@1[0]->[0]Discard@3",
        "a[1]->[0]n/Paint@2", "n/Paint@2[0]->[0]Discard@4"])


def test_lists_and_many_to_many_connections() -> None:
    src = "a, b :: Idle; c :: Discard; a, b -> c; x :: Tee; x => d1 :: D, d2 :: D; " \
          "y :: Tee(2); y[0, 1] => [0, 1] z :: Z"
    assert edges(src) == [
        "a[0]->[0]c", "b[0]->[0]c", "x[0]->[0]d1", "x[1]->[0]d2",
        "y[0]->[0]z", "y[1]->[1]z"]


def test_duplicate_connections_are_merged() -> None:
    assert edges("a :: A; b :: B; a -> b; a -> b; a -> [0]b") == ["a[0]->[0]b"]


def test_compound_classes_are_lexically_scoped() -> None:
    src = """
    elementclass A { input -> B -> output }
    elementclass B { input -> Counter -> output }
    elementclass C { input -> B -> output }
    Idle -> x :: C -> Discard;
    """
    err = find_error(src, "element class 'B' is not defined at this point")
    assert (err.loc.line, err.loc.col) == (2, 31)
    # ... but a library class of the same name is what Click would use there
    els = elements(src, is_element_class=lambda n: n in {"B", "Idle", "Discard", "Counter"})
    assert els["x/B@1/Counter@1"] == ("Counter", "")


def test_a_compound_may_wrap_the_library_class_of_the_same_name() -> None:
    src = "elementclass Queue { $n | input -> Queue($n) -> output } " \
          "Idle -> Queue(5) -> Discard"
    els = elements(src, is_element_class=lambda n: n in {"Queue", "Idle", "Discard"})
    assert els["Queue@2/Queue@1"] == ("Queue", "5")


def test_synonyms() -> None:
    src = "elementclass Q SimpleQueue; elementclass C { input -> Counter -> output } " \
          "elementclass D C; Idle -> Q -> q :: Q(5) -> D -> Discard"
    els = elements(src)
    assert els["Q@2"] == ("SimpleQueue", "")
    assert els["q"] == ("SimpleQueue", "5")
    assert els["D@4/Counter@1"] == ("Counter", "")


def test_overloads_are_chosen_by_ports_and_arguments() -> None:
    src = """
    elementclass N { input -> a :: A -> output
                  || input -> t :: T -> output; t[1] -> [1]output
                  || $x | input -> x :: X($x) -> output }
    Idle -> n1 :: N -> Discard;
    Idle -> n2 :: N -> Discard; n2[1] -> Discard;
    Idle -> n3 :: N(7) -> Discard;
    """
    els = elements(src)
    assert "n1/a" in els and "n2/t" in els and els["n3/x"] == ("X", "7")


def test_extension_falls_back_to_the_earlier_class() -> None:
    src = "elementclass Foo { $a, $b | input -> Bar($a, $b) -> output || ... } " \
          "Idle -> Foo(1, 2) -> Discard; Idle -> f :: Foo(3) -> Discard"
    els = elements(src)
    assert els["Foo@2/Bar@1"] == ("Bar", "1, 2")
    assert els["f"] == ("Foo", "3")
    assert "Idle@4[0]->[0]f" in edges(src)


def test_is_element_class_decides_bare_names() -> None:
    lib = {"Idle", "discard"}
    assert list(elements("Idle -> discard", is_element_class=lib.__contains__)) == [
        "Idle@1", "discard@2"]
    err = find_error("Idle -> Nope", "undeclared element 'Nope'", is_element_class=lib.__contains__)
    assert (err.loc.line, err.loc.col) == (1, 9)


# -- variables -------------------------------------------------------------------------

def test_define_and_command_line_override() -> None:
    src = "define($IN in.pcap, $N 3); FromDump($IN) -> Strip($N) -> Discard"
    assert elements(src)["FromDump@1"] == ("FromDump", "in.pcap")
    overridden = elements(src, defines={"IN": "other.pcap", "EXTRA": "x"})
    assert overridden["FromDump@1"] == ("FromDump", "other.pcap")
    assert overridden["Strip@2"] == ("Strip", "3")
    assert elements("Foo($NEW)", defines={"NEW": "1"})["Foo@1"] == ("Foo", "1")


def test_defines_apply_to_the_whole_file_and_nest() -> None:
    src = "Foo($A, ${B}, ${C-dflt}, ${D[1]}); define($A $B$B, $B x, $D 'p q' r)"
    assert elements(src)["Foo@1"] == ("Foo", "xx, x, dflt, r")


def test_substitution_respects_quotes_and_comments() -> None:
    src = r"""Foo("$V", '$V', $V /* $V */, "\$V", "x$V")"""
    config = elements(src, defines={"V": 'a"b'})["Foo@1"][1]
    assert config == r'''"a\"b", '$V', a"b /* $V */, "\$V", "xa\"b"'''
    assert not flat(src, defines={"V": "1"}).elements["Foo@1"].config_verbatim


def test_compound_formals_keywords_rest_and_local_defines() -> None:
    src = """
    elementclass N { $a, RATE $r, __REST__ $rest |
        define($twice $a$a);
        input -> X($a, $r, $twice, $rest) -> output }
    Idle -> n :: N(1, 2, RATE 10, 3) -> Discard
    """
    assert elements(src)["n/X@1"] == ("X", "1, 10, 11, 2, 3")


def test_formals_are_visible_in_nested_classes_and_shadow_defines() -> None:
    src = """
    define($x top);
    elementclass A { $x |
        elementclass B { input -> Foo($x) -> output }
        input -> B -> Bar($x) -> output }
    Idle -> a :: A(inner) -> Baz($x) -> Discard
    """
    els = elements(src)
    assert els["a/B@1/Foo@1"] == ("Foo", "inner")
    assert els["a/Bar@2"] == ("Bar", "inner")
    assert els["Baz@3"] == ("Baz", "top")


# -- what FlatElement records -------------------------------------------------------------

def test_element_locations_and_verbatim_configs() -> None:
    src = "define($P 80);\nx :: Foo(1, $P) -> y :: Bar( 2 ) -> Baz;\nelementclass C { input -> z :: Q(7) -> output }\nIdle -> c :: C -> Discard"
    cfg = flat(src)
    x, y, baz, z = (cfg.elements[n] for n in ("x", "y", "Baz@3", "c/z"))
    assert (x.loc.line, x.loc.col) == (2, 6)
    assert x.config == "1, 80" and not x.config_verbatim
    assert x.config_loc is not None and (x.config_loc.line, x.config_loc.col) == (2, 10)
    assert y.config == " 2 " and y.config_verbatim
    assert y.config_loc is not None and (y.config_loc.line, y.config_loc.col) == (2, 29)
    assert (baz.loc.line, baz.loc.col) == (2, 37)
    assert baz.config == "" and baz.config_loc is not None
    assert (baz.config_loc.line, baz.config_loc.col) == (2, 40)
    assert (z.loc.line, z.loc.col) == (3, 32) and z.config == "7"
    assert z.source_text == src
    assert cfg.file == FILE


def test_connection_locations_point_at_the_arrow() -> None:
    cfg = flat("a :: A;\nb :: B;\na  -> b")
    assert [(c.loc.line, c.loc.col) for c in cfg.connections] == [(3, 4)]


def test_requires_are_collected() -> None:
    cfg = flat('require(package "fastclassifier", x /* c */, library "a b.click");\nIdle')
    assert [(r.kind, r.value, r.what) for r in cfg.requires] == [
        ("package", "fastclassifier", 'package "fastclassifier"'), ("package", "x", "x"),
        ("library", "a b.click", 'library "a b.click"')]
    cfg = flat("elementclass E { require(y); input -> output }\nIdle")
    assert [(r.kind, r.value, r.loc.line) for r in cfg.requires] == [("package", "y", 1)]
    assert unparse(flat('require(package "a b", c)')) == (
        'require(package "a b");\nrequire(package c);\n')


def test_unparse_format() -> None:
    src = "require(package x); a :: A(1, // c\n 2); b :: B; a[1] -> [2]b; a -> b"
    assert unparse(flat(src)) == (
        "require(package x);\na :: A(1, 2);\nb :: B;\na [1] -> [2] b;\na -> b;\n")


# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("src, line, col, message", [
    ("a :: Idle;\na :: Discard;", 2, 1, "redeclaration of element 'a'"),
    ("a -> b;", 1, 1, "undeclared element 'a'"),
    ("x :: Idle;\nx -> y; y :: Discard", 2, 6, "undeclared element 'y'"),
    ("a :: Idle; a(5) -> Discard", 1, 14, "'a' is an element, not a class"),
    ("Foo($Z) -> Discard;", 1, 5, "undefined variable '$Z'"),
    ("Foo(${Z) -> Discard;", 1, 5, "unterminated '${'"),
    ("Foo($(1+2))", 1, 5, "'$(...)' expressions are not supported"),
    ("define($A $B); Foo(x $A)", 1, 22, "undefined variable '$B' (in the value of '$A')"),
    ("define($A $A); Foo($A)", 1, 20, "variable '$A' expands recursively"),
    ("define($A 1, $A 2)", 1, 14, "variable '$A' defined twice"),
    ("elementclass N { $a | define($a 1) }", 1, 30, "variable '$a' defined twice"),
    ("123 :: Idle", 1, 1, "element name '123' has an all-digit component"),
    ("elementclass A { input -> A -> output }\nIdle -> A -> Discard", 1, 27,
     "element class 'A' is used inside its own definition"),
    ("x :: A; elementclass A { }", 1, 6, "element class 'A' is not defined at this point"),
    ("elementclass N { $a, $b | input -> Foo($a, $b) -> output }\nIdle -> N(1) -> Discard",
     2, 11, "compound element class 'N': expected 2 arguments ($a, $b), got 1"),
    ("elementclass N { input -> output }\nIdle -> N(1) -> Discard",
     2, 11, "expected 0 arguments, got 1"),
    ("elementclass N { $a, K $k | input -> output }\nIdle -> N(1) -> Discard",
     2, 11, "missing keyword argument K"),
    ("elementclass N { input -> output || $a | input -> output }\nIdle -> n :: N(1, 2) -> Discard",
     2, 16, "no variant of compound element class 'N' matches 'n' with 2 arguments"),
    ("elementclass N { input -> c :: Counter -> output }\nIdle -> n :: N -> Discard; Idle -> [1]n",
     2, 36, "compound element 'n' has no input 1"),
    ("elementclass T { input -> t :: Tee; t[1] -> [1]output; t -> output }\nIdle -> x :: T -> Discard",
     2, 9, "output 1 of compound element 'x' is not connected"),
    ("elementclass T { input -> Counter -> output }\nx :: T; x -> Discard",
     2, 1, "input 0 of compound element 'x' is not connected"),
    ("elementclass N { input[1] -> output }", 1, 16,
     "uses input 1 but not input 0"),
    ("elementclass N { input -> output -> Discard }", 1, 34,
     "'output' can only be used on the right of '->'"),
    ("elementclass N { Idle -> input }", 1, 23, "'input' can only be used on the left of '->'"),
    ("elementclass N { input :: Idle }", 1, 18, "'input' cannot be declared inside a compound"),
    ("elementclass N { input(3) -> output }", 1, 24, "'input' takes no configuration string"),
    ("elementclass C { }\nC :: Idle", 2, 1, "'C' is an element class and cannot be used as an element name"),
    ("a, b :: Idle; c :: Discard; a, b -> x :: Hub, y :: Hub", 1, 34,
     "many-to-many connections require '=>'"),
    ("a, b :: Idle; a, b => x :: Hub, y :: Hub, z :: Hub", 1, 20,
     "connection mismatch: 2 outputs connected to 3 inputs"),
    ("elementclass C { input -> x :: X -> output }\nx/x :: Idle; x :: C; x/x -> x -> Discard", 1, 27,
     "redeclaration of element 'x/x'"),
    ("{ ... }", 1, 3, "'...' must come after at least one compound body"),
])
def test_elaboration_errors_point_at_the_problem(src: str, line: int, col: int, message: str) -> None:
    try:
        err = find_error(src, message)
    except UknfvError as syntax:     # a few of these are caught by the parser already
        err = syntax
        assert message in err.message
    assert err.loc is not None and (err.loc.line, err.loc.col) == (line, col), str(err)
    text = str(err)
    assert f"{FILE}:{line}:{col}: error: " in text
    source_line = src.split("\n")[line - 1]
    assert f"\n  {source_line}\n  {' ' * (col - 1)}^" in text


def test_redeclaration_has_a_note_at_the_first_declaration() -> None:
    err = find_error("a :: Idle;\n  a :: Discard;", "redeclaration of element 'a'")
    assert err.notes[0][0] == "'a' previously declared here"
    assert err.notes[0][1] is not None and (err.notes[0][1].line, err.notes[0][1].col) == (1, 1)
    assert "t.click:1:1: note: 'a' previously declared here" in str(err)


def test_all_errors_are_reported_together_in_source_order() -> None:
    errs = errors("a -> b;\nFoo($X);\nc :: Idle; c :: Idle")
    assert [(e.loc.line, e.loc.col) for e in errs] == [(1, 1), (1, 6), (2, 5), (3, 12)]


def test_undefined_variable_inside_a_compound_points_into_its_body() -> None:
    err = find_error("elementclass N {\n  input -> Foo($nope) -> output }\nIdle -> N -> Discard",
                     "undefined variable '$nope'")
    assert (err.loc.line, err.loc.col) == (2, 16)


def test_broken_compound_bodies_do_not_cascade() -> None:
    errs = errors("elementclass A { input -> A -> output }\nIdle -> A -> Discard")
    assert len(errs) == 1


def test_no_matching_overload_lists_the_candidates() -> None:
    src = "elementclass N { input -> output || $a | input -> output }\nIdle -> n :: N(1, 2) -> Discard"
    err = find_error(src, "no variant of compound element class 'N'")
    assert [note for note, _ in err.notes] == [
        "candidate: N() [1 input, 1 output]", "candidate: N($a) [1 input, 1 output]"]


def test_crlf_sources_and_misc_statements() -> None:
    src = "define($X 1);\r\nprovide(something);\r\na :: Foo($X);\r\nb :: Bar;\r\na -> b;\r\n"
    cfg = flat(src, defines={"$X": "2"})
    assert [(e.name, e.config) for e in cfg.elements.values()] == [("a", "2"), ("b", "")]
    assert cfg.requires == []
    assert (cfg.elements["b"].loc.line, cfg.elements["b"].loc.col) == (4, 6)
    err = find_error("a :: A;\r\nb -> a;\r\n", "undeclared element 'b'")
    assert (err.loc.line, err.loc.col) == (2, 1)
    assert "\r" not in str(err)

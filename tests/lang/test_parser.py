"""The Click language parser: every construct, and every syntax error's place."""
from __future__ import annotations

import pytest

from uknfv.diag import UknfvError
from uknfv.lang import ast, parse

FILE = "t.click"


def chains(src: str) -> list[ast.Chain]:
    return [s for s in parse(src, FILE).statements if isinstance(s, ast.Chain)]


def only(src: str) -> ast.Statement:
    statements = parse(src, FILE).statements
    assert len(statements) == 1, statements
    return statements[0]


def shape(chain: ast.Chain) -> list[list[str]]:
    """A compact picture of a chain: [[ '[in]kind:name[out]', ...], ...]."""
    def one(ep: ast.Endpoint) -> str:
        el = ep.element
        if isinstance(el, ast.Declaration):
            cls = el.cls.name.text if isinstance(el.cls, ast.ClassRef) else "{}"
            text = ",".join(n.text for n in el.names) + "::" + cls
        elif isinstance(el, ast.ElementRef):
            text = el.name.text
        elif isinstance(el, ast.AnonymousCompound):
            text = "{}"
        else:
            text = "<" + el.which + ">"
        if isinstance(el, (ast.Declaration, ast.ElementRef, ast.AnonymousCompound)) and el.config:
            text += "(" + el.config.text + ")"
        ins = f"{ep.in_ports.ports}" if ep.in_ports else ""
        outs = f"{ep.out_ports.ports}" if ep.out_ports else ""
        return ins + text + outs
    return [[one(ep) for ep in pos] for pos in chain.positions]


def syntax_error(src: str) -> UknfvError:
    with pytest.raises(UknfvError) as info:
        parse(src, FILE)
    return info.value


# -- declarations and connections --------------------------------------------

def test_declarations() -> None:
    assert shape(only("a :: Queue(10);")) == [["a::Queue(10)"]]
    assert shape(only("a, b, c :: Queue(10)")) == [["a,b,c::Queue(10)"]]
    assert shape(only("a :: Queue")) == [["a::Queue"]]
    assert shape(only("a :: Queue()")) == [["a::Queue()"]]


def test_connections_with_ports_on_both_sides() -> None:
    assert shape(only("x[1] -> [0]y;")) == [["x[1]"], ["[0]y"]]
    assert shape(only("x [1] -> [2] y")) == [["x[1]"], ["[2]y"]]
    assert shape(only("a -> b -> c;")) == [["a"], ["b"], ["c"]]
    assert shape(only("x[0, 1] -> [2,3]y")) == [["x[0, 1]"], ["[2, 3]y"]]


def test_anonymous_elements_and_declarations_inside_chains() -> None:
    chain = only("FromDump(f.pcap) -> c :: Classifier(12/0800, -)[1] -> Discard;")
    assert shape(chain) == [["FromDump(f.pcap)"], ["c::Classifier(12/0800, -)[1]"], ["Discard"]]
    assert [c.kind for c in chain.connectors] == ["->"]  * 2


def test_bare_element_statement_and_lists() -> None:
    assert shape(only("Idle;")) == [["Idle"]]
    assert shape(only("a, b -> c")) == [["a", "b"], ["c"]]
    assert [c.kind for c in only("a => b, c").connectors] == ["=>"]


def test_semicolons_are_optional_between_statements() -> None:
    src = "a :: A b :: B\na -> b\nc :: C; ;; c -> a"
    assert [shape(c) for c in chains(src)] == [
        [["a::A"]], [["b::B"]], [["a"], ["b"]], [["c::C"]], [["c"], ["a"]]]


def test_identifiers_hold_slashes_and_at_signs_but_not_comments() -> None:
    assert shape(only("a/b@1 :: X")) == [["a/b@1::X"]]
    assert shape(only("an/id//comment\n")) == [["an/id"]]
    assert shape(only("@3/x -> y")) == [["@3/x"], ["y"]]


def test_comments_everywhere() -> None:
    src = "// line\n/* block\n */ a /* in */ :: /**/ Foo // x\n -> // y\n b;"
    assert shape(only(src)) == [["a::Foo"], ["b"]]


def test_locations_of_names_and_configs() -> None:
    chain = only("\n  ab :: Foo( 1, 2 ) -> x")
    decl = chain.positions[0][0].element
    assert isinstance(decl, ast.Declaration)
    assert (decl.names[0].loc.line, decl.names[0].loc.col) == (2, 3)
    assert isinstance(decl.cls, ast.ClassRef)
    assert (decl.cls.name.loc.line, decl.cls.name.loc.col) == (2, 9)
    assert decl.config is not None
    assert decl.config.text == " 1, 2 "
    assert (decl.config.loc.line, decl.config.loc.col) == (2, 13)
    assert "\n  ab :: Foo( 1, 2 ) -> x"[decl.config.offset] == " "


# -- configuration strings ----------------------------------------------------

@pytest.mark.parametrize("config", [
    "a, (b, c), d",
    'x ")" y',
    "x ')' y",
    "a // ) comment\n b",
    "a /* ) */ b",
    "\\<29 28>",
    '"\\<29>"',
    '"a\\"b)"',
    "",
])
def test_config_strings_are_raw_and_balanced(config: str) -> None:
    decl = only(f"x :: Foo({config}) -> y").positions[0][0].element
    assert isinstance(decl, ast.Declaration) and decl.config is not None
    assert decl.config.text == config


# -- compound elements ---------------------------------------------------------

def test_elementclass_with_formals() -> None:
    stmt = only("elementclass N { $a, $b, KW $k, __REST__ $r | input -> Foo($a) -> output }")
    assert isinstance(stmt, ast.ElementClassDef) and stmt.body is not None
    body = stmt.body.bodies[0]
    assert [(f.name, f.keyword) for f in body.formals] == [
        ("a", None), ("b", None), ("k", "KW"), ("r", "__REST__")]
    assert shape(body.statements[0]) == [["input"], ["Foo($a)"], ["output"]]


def test_elementclass_without_formals_and_empty_formals() -> None:
    for src in ("elementclass N { input -> output }", "elementclass N { | input -> output }"):
        stmt = only(src)
        assert isinstance(stmt, ast.ElementClassDef) and stmt.body is not None
        assert stmt.body.bodies[0].formals == []


def test_overloads_extension_and_synonyms() -> None:
    stmt = only("elementclass N { input -> output || $x | input -> Foo($x) -> output || ... }")
    assert isinstance(stmt, ast.ElementClassDef) and stmt.body is not None
    assert len(stmt.body.bodies) == 2 and stmt.body.extends
    syn = only("elementclass A B;")
    assert isinstance(syn, ast.ElementClassDef) and syn.synonym is not None
    assert syn.synonym.text == "B"


def test_nested_and_anonymous_compounds() -> None:
    src = "a -> { input -> { input -> x :: X -> output } -> output }(1) -> b :: { input -> output }"
    chain = only(src)
    assert shape(chain) == [["a"], ["{}(1)"], ["b::{}"]]


def test_implicit_ports_inside_compounds() -> None:
    stmt = only("elementclass N { -> a :: A -> ; [1] -> b :: B -> [1] }")
    assert isinstance(stmt, ast.ElementClassDef) and stmt.body is not None
    first, second = stmt.body.bodies[0].statements
    assert shape(first) == [["<input>"], ["a::A"], ["<output>"]]
    assert shape(second) == [["<input>[1]"], ["b::B"], ["[1]<output>"]]


# -- define and require ----------------------------------------------------------

def test_define() -> None:
    stmt = only('define($IN input.pcap, $X "a b" /* c */, $EMPTY)')
    assert isinstance(stmt, ast.Define)
    assert [(e.name, e.value) for e in stmt.entries] == [
        ("IN", "input.pcap"), ("X", '"a b"'), ("EMPTY", "")]
    src = "define($IN   in.pcap)"
    entry = only(src).entries[0]  # type: ignore[union-attr]
    assert src[entry.value_offset:].startswith("in.pcap")


def test_require() -> None:
    stmt = only('require(package "foo", bar, library lib.click, compact_config);')
    assert isinstance(stmt, ast.Require)
    assert [(e.kind, e.value) for e in stmt.entries] == [
        ("package", "foo"), ("package", "bar"), ("library", "lib.click"), ("compact_config", "")]


# -- syntax errors ----------------------------------------------------------------

@pytest.mark.parametrize("src, line, col, message", [
    ("a -> b %", 1, 8, "expected '->' or ';' after the element, found '%'"),
    ("a :: Foo(1, (2);", 1, 9, "unbalanced parentheses: expected ')'"),
    ("a :: Foo(1,\n  2;\n", 1, 9, "unbalanced parentheses"),
    ("x :: A;\n/* never closed", 2, 1, "unterminated comment"),
    ("x :: Foo(1 /* never closed)", 1, 12, "unterminated comment"),
    ('a :: Foo("abc);', 1, 10, "unterminated string: missing closing \""),
    ("a :: Foo(x, 'abc);", 1, 13, "unterminated string: missing closing '"),
    ("a :: Foo(\\<00 11);", 1, 10, "unterminated '\\<' data"),
    ("a -> ;", 1, 6, "expected an element name or class after '->', found ';'"),
    ("a ->", 1, 5, "after '->', found end of file"),
    ("-> a", 1, 1, "expected an element before '->'"),
    ("a :: ;", 1, 6, "missing element class after '::'"),
    ("a :: Foo :: Bar", 1, 10, "expected '->' or ';' after the element, found '::'"),
    ("x[a] -> y", 1, 3, "port number should be an integer, found 'a'"),
    ("x[] -> y", 1, 3, "expected a port number, found ']'"),
    ("x[1 -> y", 1, 5, "expected ']' to close the port list, found '->'"),
    ("[1] x -> y", 1, 1, "input port at the start of a connection"),
    ("x -> y [2];", 1, 8, "output port at the end of a connection"),
    ("elementclass { }", 1, 14, "expected an element class name after 'elementclass'"),
    ("elementclass A ;", 1, 16, "expected '{' or a class name after 'elementclass A'"),
    ("x :: {\n input -> a", 2, 12, "expected '}' to close the compound element"),
    ("a -> b }", 1, 8, "unexpected '}' outside a compound element"),
    ("elementclass A { $a $b | }", 1, 21, "expected ',' or '|' after compound parameter '$a'"),
    ("elementclass A { $a, $a | }", 1, 22, "parameter '$a' defined twice"),
    ("elementclass A { K $a, $b | }", 1, 24, "parameters out of order"),
    ("elementclass A { $a, 3 | }", 1, 22, "expected a compound parameter"),
    ("elementclass A { ... }", 1, 18, "'...' must come after at least one compound body"),
    ("connectiontunnel a -> b;", 1, 1, "'connectiontunnel' is not supported"),
    ("(a -> b)", 1, 1, "element groups '( ... )' are not supported"),
    ("a -> (b)", 1, 6, "element groups '( ... )' are not supported"),
    ("$x -> a", 1, 1, "unexpected variable '$x'"),
    ("define(X 1)", 1, 8, "bad define: expected '$NAME value', found 'X'"),
    ("define($X 1,\n  Y 2)", 2, 3, "bad define"),
    ("require(package a b)", 1, 9, "bad requirement"),
    ("require foo", 1, 9, "expected '(' after 'require', found 'foo'"),
    ("a :: X;\n\n  ?", 3, 3, "expected a declaration, a connection or a statement, found '?'"),
])
def test_syntax_errors_point_at_the_problem(src: str, line: int, col: int, message: str) -> None:
    err = syntax_error(src)
    assert message in err.message
    assert err.loc is not None and (err.loc.line, err.loc.col) == (line, col)
    text = str(err)
    assert text.startswith(f"{FILE}:{line}:{col}: error: ")
    source_line = src.split("\n")[line - 1]
    assert f"\n  {source_line}\n  {' ' * (col - 1)}^" in text


def test_missing_brace_notes_where_the_compound_opened() -> None:
    err = syntax_error("elementclass N {\n  input -> output\n")
    assert err.notes and err.notes[0][0] == "compound element opened here"
    assert err.notes[0][1] is not None and (err.notes[0][1].line, err.notes[0][1].col) == (1, 16)

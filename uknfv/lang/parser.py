"""Parser for the Click configuration language: text → :class:`ast.Config`.

The grammar is Click's (``doc/click.5`` and ``lib/lexer.cc``)::

    statements  := (statement | ';')*
    statement   := chain | elementclass | require | define
    chain       := position (('->' | '=>') position)*
    position    := endpoint (',' endpoint)*
    endpoint    := [ports] element [ports]
    element     := NAME ['::' class] [config] | '{' compound '}' [config]
    class       := NAME | '{' compound '}'
    ports       := '[' NUMBER (',' NUMBER)* ']'
    compound    := body ('||' body)* ['||' '...']
    body        := [formal (',' formal)* '|'] statements
    formal      := '$name' | KEYWORD '$name'
    elementclass:= 'elementclass' NAME ('{' compound '}' | NAME)
    require     := ('require' | 'provide') '(' config ')'
    define      := 'define' '(' '$NAME value' (',' '$NAME value')* ')'

Semicolons are optional between statements, as in Click.  Inside a compound
body, a chain may start with ``->`` or ``[n] ->`` (implicitly from
``input``) and end with ``->`` or ``-> [n]`` (implicitly into ``output``).

The first syntax error raises a :class:`~uknfv.diag.UknfvError` that points
at the offending token and says what was expected.
"""
from __future__ import annotations

import re

from ..diag import Loc, UknfvError
from . import ast
from .args import skip_comment_space, split_args, split_words_at, unquote
from .lexer import EOF, ERROR, IDENT, KEYWORDS, VAR, Lexer, Token

MAX_NESTING = 100
_VARIABLE_RE = re.compile(r"\$[A-Za-z0-9_]+\Z")
_ARROWS = ("->", "=>")
# Tokens that may follow a complete chain and start the next statement.
_STATEMENT_STARTS = frozenset({IDENT, "{", "}", "[", "||", EOF} | KEYWORDS)


def parse(text: str, filename: str) -> ast.Config:
    """Parse a whole Click configuration file."""
    return _Parser(text, filename).parse_file()


class _Parser:
    def __init__(self, text: str, filename: str):
        self.text = text
        self.filename = filename
        self.lx = Lexer(text, filename)
        self.buffer: list[Token] = []
        self.pos = 0               # where the lexer resumes after the buffer
        self.depth = 0             # compound nesting

    # -- token stream --------------------------------------------------------

    def peek(self, k: int = 0) -> Token:
        while len(self.buffer) <= k:
            tok = self.lx.token_at(self.pos)
            self.buffer.append(tok)
            self.pos = tok.end
        tok = self.buffer[k]
        if k == 0 and tok.kind == ERROR:
            raise self.lx.error(tok.text, tok.start)
        return tok

    def next(self) -> Token:
        tok = self.peek()
        self.buffer.pop(0)
        return tok

    def at(self, *kinds: str) -> bool:
        return self.peek().kind in kinds

    def accept(self, kind: str) -> Token | None:
        return self.next() if self.at(kind) else None

    def loc(self, tok_or_offset: Token | int) -> Loc:
        offset = tok_or_offset.start if isinstance(tok_or_offset, Token) else tok_or_offset
        return self.lx.loc(offset)

    def name(self, tok: Token) -> ast.Name:
        return ast.Name(tok.text, self.loc(tok), tok.start)

    def fail(self, message: str, tok: Token,
             notes: list[tuple[str, Loc | None]] | None = None) -> UknfvError:
        return self.lx.error(message, tok.start, notes)

    def expect(self, kind: str, context: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise self.fail(f"expected '{kind}' {context}, found {tok.describe()}", tok)
        return self.next()

    def read_config(self, open_paren: Token) -> ast.ConfigText:
        """Read the raw configuration after ``open_paren`` and its ``)``."""
        self.buffer.clear()
        text, close = self.lx.read_config(open_paren.end)
        self.pos = close + 1
        return ast.ConfigText(text, open_paren.end, self.loc(open_paren.end))

    def optional_config(self) -> ast.ConfigText | None:
        paren = self.accept("(")
        return self.read_config(paren) if paren else None

    # -- statements ----------------------------------------------------------

    def parse_file(self) -> ast.Config:
        statements = self.parse_statements(None)
        return ast.Config(statements, self.filename, self.text)

    def parse_statements(self, open_brace: Token | None) -> list[ast.Statement]:
        """Statements up to end of file (top level) or ``}``/``||`` (compound)."""
        in_compound = open_brace is not None
        statements: list[ast.Statement] = []
        while True:
            tok = self.peek()
            kind = tok.kind
            if kind == EOF:
                if in_compound:
                    raise self.fail("expected '}' to close the compound element, found end of file",
                                    tok, [("compound element opened here", self.loc(open_brace))])
                return statements
            if kind in ("}", "||"):
                if in_compound:
                    return statements
                raise self.fail(f"unexpected '{tok.text}' outside a compound element", tok)
            if kind == ";":
                self.next()
            elif kind == "elementclass":
                statements.append(self.parse_elementclass())
            elif kind in ("require", "provide"):
                statements.append(self.parse_require())
            elif kind == "define":
                statements.append(self.parse_define())
            elif kind == "connectiontunnel":
                raise self.fail("'connectiontunnel' is not supported by uknfv "
                                "(use a compound element instead)", tok)
            elif kind in (IDENT, "[", "{") or (in_compound and kind in _ARROWS):
                statements.append(self.parse_chain(in_compound))
            elif kind in _ARROWS:
                raise self.fail(f"expected an element before '{tok.text}'", tok)
            elif kind == "(":
                raise self.fail("element groups '( ... )' are not supported by uknfv", tok)
            elif kind == VAR:
                raise self.fail(f"unexpected variable '${tok.text}': variables may only "
                                "be used inside configuration strings", tok)
            else:
                raise self.fail("expected a declaration, a connection or a statement, "
                                f"found {tok.describe()}", tok)

    def parse_elementclass(self) -> ast.ElementClassDef:
        keyword = self.next()
        name_tok = self.peek()
        if name_tok.kind != IDENT:
            raise self.fail(f"expected an element class name after 'elementclass', "
                            f"found {name_tok.describe()}", name_tok)
        self.next()
        name = self.name(name_tok)
        tok = self.peek()
        if tok.kind == "{":
            body = self.parse_compound(self.next())
            return ast.ElementClassDef(name, body=body, loc=self.loc(keyword))
        if tok.kind == IDENT:
            self.next()
            return ast.ElementClassDef(name, synonym=self.name(tok),
                                       loc=self.loc(keyword))
        raise self.fail(f"expected '{{' or a class name after 'elementclass {name.text}', "
                        f"found {tok.describe()}", tok)

    def parse_require(self) -> ast.Require:
        keyword = self.next()
        paren = self.expect("(", f"after '{keyword.text}'")
        config = self.read_config(paren)
        entries: list[ast.RequireEntry] = []
        for arg in split_args(config.text):
            words = split_words_at(arg.text)
            if not words:
                continue
            loc = self.loc(config.offset + arg.offset)
            kind = unquote(words[0].text).decode("utf-8", "replace")
            if len(words) == 1 and kind not in ("package", "library", "compact_config"):
                entries.append(ast.RequireEntry("package", kind, loc, arg.text))
            elif len(words) == 1 and kind == "compact_config":
                entries.append(ast.RequireEntry(kind, "", loc, arg.text))
            elif len(words) == 2 and kind in ("package", "library"):
                value = unquote(words[1].text).decode("utf-8", "replace")
                entries.append(ast.RequireEntry(kind, value, loc, arg.text))
            else:
                raise self.lx.error(f"bad requirement '{arg.text}': expected 'package NAME', "
                                    "'library FILE' or 'NAME'", config.offset + arg.offset)
        return ast.Require(entries, self.loc(keyword), provide=keyword.kind == "provide")

    def parse_define(self) -> ast.Define:
        keyword = self.next()
        paren = self.expect("(", "after 'define'")
        config = self.read_config(paren)
        entries: list[ast.DefineEntry] = []
        for arg in split_args(config.text):
            if not arg.text:
                continue
            first = split_words_at(arg.text)[0]
            offset = config.offset + arg.offset + first.offset
            if not _VARIABLE_RE.match(first.text):
                raise self.lx.error(f"bad define: expected '$NAME value', found '{first.text}'",
                                    offset)
            value_start = skip_comment_space(arg.text, first.offset + len(first.text))
            entries.append(ast.DefineEntry(first.text[1:], arg.text[value_start:],
                                           self.loc(offset),
                                           config.offset + arg.offset + value_start))
        return ast.Define(entries, self.loc(keyword))

    # -- connections ---------------------------------------------------------

    def parse_chain(self, in_compound: bool) -> ast.Chain:
        start = self.peek()
        positions = [self.parse_position(in_compound, None)]
        connectors: list[ast.Connector] = []
        while self.at(*_ARROWS) and not self._ends_in_output(positions[-1]):
            arrow = self.next()
            connectors.append(ast.Connector(arrow.kind, self.loc(arrow)))
            positions.append(self.parse_position(in_compound, arrow))
        self.finish_statement()
        chain = ast.Chain(positions, connectors, self.loc(start))
        self.check_dangling_ports(chain)
        return self.spread_declaration(chain)

    @staticmethod
    def _ends_in_output(position: list[ast.Endpoint]) -> bool:
        return any(isinstance(ep.element, ast.Pseudo) and ep.element.which == "output"
                   for ep in position)

    def finish_statement(self) -> None:
        """A chain ends at ';' or where the next statement visibly starts."""
        tok = self.peek()
        if tok.kind == ";":
            self.next()
        elif tok.kind not in _STATEMENT_STARTS:
            raise self.fail(f"expected '->' or ';' after the element, found {tok.describe()}", tok)

    def parse_position(self, in_compound: bool, arrow: Token | None) -> list[ast.Endpoint]:
        endpoints = [self.parse_endpoint(in_compound, arrow, 0)]
        while self.at(","):
            self.next()
            endpoints.append(self.parse_endpoint(in_compound, arrow, len(endpoints)))
        return endpoints

    def parse_endpoint(self, in_compound: bool, arrow: Token | None, index: int) -> ast.Endpoint:
        first_tok = self.peek()
        in_ports = self.parse_ports() if self.at("[") else None
        tok = self.peek()
        loc = self.loc(first_tok)
        if tok.kind == IDENT:
            element: ast.ElementSpec = self.parse_named_element()
        elif tok.kind == "{":
            cls = self.parse_compound(self.next())
            element = ast.AnonymousCompound(cls, self.optional_config())
        else:
            implicit = self.implicit_pseudo(in_compound, arrow, index, in_ports, tok)
            if implicit is not None:
                return implicit
            if tok.kind == "(":
                raise self.fail("element groups '( ... )' are not supported by uknfv", tok)
            where = f" after '{arrow.text}'" if arrow is not None else ""
            raise self.fail(f"expected an element name or class{where}, "
                            f"found {tok.describe()}", tok)
        out_ports = self.parse_ports() if self.at("[") else None
        return ast.Endpoint(element, in_ports, out_ports, loc)

    def implicit_pseudo(self, in_compound: bool, arrow: Token | None, index: int,
                        ports: ast.PortList | None, tok: Token) -> ast.Endpoint | None:
        """Inside compounds, ``[1] -> x`` means ``input [1] -> x`` and
        ``x -> [1];`` means ``x -> [1] output`` (Click's implicit ports)."""
        if not in_compound or (index > 0 and ports is None):
            return None
        if arrow is None and tok.kind in _ARROWS:
            loc = ports.loc if ports else self.loc(tok)
            return ast.Endpoint(ast.Pseudo("input", loc), None, ports, loc)
        if arrow is not None and tok.kind not in _ARROWS + ("::", "(", "[", ","):
            loc = ports.loc if ports else self.loc(arrow)
            return ast.Endpoint(ast.Pseudo("output", loc), ports, None, loc)
        return None

    def parse_named_element(self) -> ast.ElementSpec:
        name_tok = self.next()
        name = self.name(name_tok)
        if not self.accept("::"):
            return ast.ElementRef(name, self.optional_config())
        tok = self.peek()
        if tok.kind == IDENT:
            self.next()
            cls: ast.ClassSpec = ast.ClassRef(self.name(tok))
        elif tok.kind == "{":
            cls = self.parse_compound(self.next())
        else:
            raise self.fail(f"missing element class after '::': expected a class name or "
                            f"'{{', found {tok.describe()}", tok)
        return ast.Declaration([name], cls, self.optional_config(), name.loc)

    def parse_ports(self) -> ast.PortList:
        bracket = self.next()
        ports: list[int] = []
        while True:
            tok = self.peek()
            if tok.kind != IDENT:
                raise self.fail(f"expected a port number, found {tok.describe()}", tok)
            if not (tok.text.isascii() and tok.text.isdigit()):
                raise self.fail(f"port number should be an integer, found '{tok.text}'", tok)
            ports.append(int(tok.text))
            self.next()
            if self.accept("]"):
                return ast.PortList(ports, self.loc(bracket))
            if not self.accept(","):
                tok = self.peek()
                raise self.fail(f"expected ']' to close the port list, found {tok.describe()}",
                                tok, [("port list opened here", self.loc(bracket))])

    def check_dangling_ports(self, chain: ast.Chain) -> None:
        """Ports with nothing to connect to are errors, as in Click."""
        for ep in chain.positions[0]:
            if ep.in_ports is not None and not isinstance(ep.element, ast.Pseudo):
                raise UknfvError("input port at the start of a connection: nothing "
                                 "connects to it", ep.in_ports.loc)
        for ep in chain.positions[-1]:
            if ep.out_ports is not None and not isinstance(ep.element, ast.Pseudo):
                raise UknfvError("output port at the end of a connection: it is not "
                                 "connected to anything", ep.out_ports.loc)

    @staticmethod
    def spread_declaration(chain: ast.Chain) -> ast.Chain:
        """``a, b :: Class(cfg)`` declares both ``a`` and ``b`` with that class."""
        if chain.connectors or len(chain.positions[0]) < 2:
            return chain
        *names, last = chain.positions[0]
        if not isinstance(last.element, ast.Declaration):
            return chain
        if any(ep.in_ports or ep.out_ports for ep in chain.positions[0]):
            return chain
        if not all(isinstance(ep.element, ast.ElementRef) and ep.element.config is None
                   for ep in names):
            return chain
        decl = last.element
        all_names = [ep.element.name for ep in names] + decl.names  # type: ignore[union-attr]
        merged = ast.Declaration(all_names, decl.cls, decl.config, all_names[0].loc)
        return ast.Chain([[ast.Endpoint(merged, loc=merged.loc)]], [], chain.loc)

    # -- compound classes ----------------------------------------------------

    def parse_compound(self, brace: Token) -> ast.CompoundClass:
        if self.depth >= MAX_NESTING:
            raise self.fail("compound elements are nested too deeply", brace)
        bodies: list[ast.CompoundBody] = []
        opener = brace
        while True:
            if self.at("..."):
                dots = self.next()
                if not bodies:
                    raise self.fail("'...' must come after at least one compound body", dots)
                close = self.expect("}", "after '...'")
                return ast.CompoundClass(bodies, True, self.loc(brace), self.loc(close))
            formals = self.parse_formals()
            self.depth += 1
            statements = self.parse_statements(brace)
            self.depth -= 1
            bodies.append(ast.CompoundBody(formals, statements, self.loc(opener)))
            tok = self.next()              # '}' or '||'
            if tok.kind == "}":
                return ast.CompoundClass(bodies, False, self.loc(brace), self.loc(tok))
            opener = tok

    def parse_formals(self) -> list[ast.Formal]:
        """``$a, $b, KEYWORD $k |`` at the start of a compound body (or nothing)."""
        tok = self.peek()
        starts = tok.kind in (VAR, "|") or (tok.kind == IDENT and self.peek(1).kind == VAR)
        if not starts:
            return []
        formals: list[ast.Formal] = []
        if self.accept("|"):
            return formals
        while True:
            tok = self.peek()
            keyword: str | None = None
            if tok.kind == IDENT and self.peek(1).kind == VAR:
                keyword = self.next().text
                tok = self.peek()
            if tok.kind != VAR:
                raise self.fail("expected a compound parameter ('$name' or 'KEYWORD $name'), "
                                f"found {tok.describe()}", tok)
            self.next()
            if not tok.text:
                raise self.fail("expected a variable name after '$'", tok)
            self.add_formal(formals, ast.Formal(tok.text, keyword, self.loc(tok)), tok)
            if self.accept("|"):
                return formals
            if not self.accept(","):
                nxt = self.peek()
                raise self.fail(f"expected ',' or '|' after compound parameter '${tok.text}', "
                                f"found {nxt.describe()}", nxt)

    def add_formal(self, formals: list[ast.Formal], formal: ast.Formal, tok: Token) -> None:
        """Click's rules: unique names and keywords; positional, then keywords,
        then ``__REST__``."""
        for other in formals:
            if other.name == formal.name:
                raise self.fail(f"parameter '${formal.name}' defined twice", tok,
                                [("first defined here", other.loc)])
            if formal.keyword and other.keyword == formal.keyword:
                raise self.fail(f"keyword parameter '{formal.keyword}' defined twice", tok,
                                [("first defined here", other.loc)])
        if formals:
            prev = formals[-1].keyword
            if (formal.keyword is None and prev is not None) or prev == "__REST__":
                raise self.fail("compound parameters out of order: the order is "
                                "positional parameters, then keywords, then __REST__", tok)
        formals.append(formal)

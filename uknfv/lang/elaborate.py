"""Elaboration: the syntax tree → the flat element graph (:class:`FlatConfig`).

This is Click's ``Lexer`` back half (``lib/lexer.cc``, ``lib/variableenv.cc``)
in two phases:

1. **Build** each scope once (the file, and every compound body), in source
   order, as Click's parser does: decide what every identifier names, create
   elements (anonymous ones are ``Class@N``, N being the element's 1-based
   position in its scope), record connections, check compound pseudo-ports.
   Element classes are lexically scoped and visible only after their
   ``elementclass``; elements must be declared before they are referenced.

2. **Expand** from the top: substitute ``$variables`` in configuration
   strings, pick the compound variant that fits each compound instance (by
   arguments and by the ports used), bind its formals, and splice its body in
   as ``instance/child``; then route every connection through the compounds'
   ``input``/``output`` pseudo-elements to the real elements.

Deciding whether a bare identifier such as ``Discard`` is a class (an
anonymous element) or an element needs the element library, which
elaboration does not know.  Callers that know it pass ``is_element_class``;
without it, an undeclared identifier starting with an upper-case letter is a
class (Click's naming convention), any other is an undeclared element.

All errors found are reported together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

from ..diag import ErrorCollector, Loc, UknfvError
from . import ast
from .args import quote, skip_comment_space, split_args, split_words
from .flat import FlatConfig, FlatConnection, FlatElement, Require
from .lexer import SourceMap

IN, OUT = -1, -2                  # indices of `input`/`output` in a compound scope
MAX_VAR_DEPTH = 10                # as Click: deeper `$var` expansion is an error
_VAR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_FIRST_WORD_RE = re.compile(r"(\S+)(?:\s+(.*))?\Z", re.S)

ElementClassPredicate = Callable[[str], bool]


# ==========================================================================
# Phase 1 data: scopes, elements, compound classes
# ==========================================================================

@dataclass
class _Element:
    """An element of one scope, as declared (not yet expanded)."""

    binding: "_Binding"
    class_name: str               # as written ("" for an anonymous compound)
    config: ast.ConfigText | None
    loc: Loc                      # its class (where an error about it points)
    name_loc: Loc                 # its name (the class, if anonymous)
    config_anchor: int            # source offset where its config (would) start
    name: str = ""                # local name; anonymous names are set at scope end
    anonymous: bool = False
    anon_number: int = 0


@dataclass
class _Conn:
    src: int
    src_port: int
    dst: int
    dst_port: int
    loc: Loc                      # the arrow
    src_loc: Loc                  # the output port annotation (or the arrow)
    dst_loc: Loc                  # the input port annotation (or the arrow)


@dataclass
class _Scope:
    """The file, or one compound body: its elements and connections."""

    depth: int                                  # 0 for the file
    compound: bool
    elements: list[_Element] = field(default_factory=list)
    conns: list[_Conn] = field(default_factory=list)
    defines: list[ast.DefineEntry] = field(default_factory=list)
    ninputs: int = 0
    noutputs: int = 0

    _port_index: dict[tuple[int, bool], dict[int, Loc]] | None = None

    def ports_used(self, idx: int, output: bool) -> dict[int, Loc]:
        """Ports of element ``idx`` used by connections (first use's location)."""
        if self._port_index is None:         # built once the scope is complete
            index: dict[tuple[int, bool], dict[int, Loc]] = {}
            for c in self.conns:
                index.setdefault((c.src, True), {}).setdefault(c.src_port, c.src_loc)
                index.setdefault((c.dst, False), {}).setdefault(c.dst_port, c.dst_loc)
            self._port_index = index
        return self._port_index.get((idx, output), {})


@dataclass
class _Variant:
    """One ``||`` alternative of a compound class."""

    formals: list[ast.Formal]
    scope: _Scope
    loc: Loc

    def signature(self, name: str) -> str:
        params = ", ".join(f"{f.keyword} ${f.name}" if f.keyword else f"${f.name}"
                           for f in self.formals)
        return (f"{name or '<anonymous>'}({params}) [{_plural(self.scope.ninputs, 'input')}, "
                f"{_plural(self.scope.noutputs, 'output')}]")


@dataclass
class _Compound:
    """A compound element class (from ``elementclass`` or an anonymous ``{}``)."""

    name: str                     # "" when anonymous
    loc: Loc
    depth: int                    # depth of the variable scope its bodies open
    variants: list[_Variant] = field(default_factory=list)
    fallback: "_Binding | None" = None   # what '...' extends
    broken: bool = False          # its body had errors (skip follow-on port checks)


_Binding = Union[_Compound, str]   # a compound class, or a primitive class name


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ==========================================================================
# Phase 1: building scopes
# ==========================================================================

@dataclass
class _ScopeState:
    """What the builder knows while it walks one scope."""

    scope: _Scope
    classes: dict[str, _Binding]              # visible element classes
    names: dict[str, int] = field(default_factory=dict)
    declared_later: dict[str, Loc] = field(default_factory=dict)
    defining: tuple[str, ...] = ()            # compound classes being defined
    formals: list[ast.Formal] = field(default_factory=list)


class _Builder:
    def __init__(self, cfg: ast.Config, errors: ErrorCollector,
                 is_element_class: ElementClassPredicate | None):
        self.cfg = cfg
        self.errors = errors
        self.is_element_class = is_element_class
        self.requires: list[Require] = []
        self.compound_names: dict[str, Loc] = {}
        self._collect_class_names(cfg.statements)

    def _collect_class_names(self, statements: list[ast.Statement]) -> None:
        """Every compound class name defined anywhere (for better messages)."""
        for st in statements:
            if isinstance(st, ast.ElementClassDef):
                self.compound_names.setdefault(st.name.text, st.name.loc)
            for body in _nested_bodies(st):
                self._collect_class_names(body.statements)

    # -- scopes ----------------------------------------------------------------

    def build_file(self) -> _Scope:
        return self.build_scope(self.cfg.statements, _Scope(0, False), {}, (), [])

    def build_scope(self, statements: list[ast.Statement], scope: _Scope,
                    classes: dict[str, _Binding], defining: tuple[str, ...],
                    formals: list[ast.Formal]) -> _Scope:
        st = _ScopeState(scope, dict(classes), defining=defining, formals=formals)
        st.declared_later = _declared_names(statements)
        for stmt in statements:
            if isinstance(stmt, ast.Chain):
                self.chain(stmt, st)
            elif isinstance(stmt, ast.ElementClassDef):
                self.elementclass(stmt, st)
            elif isinstance(stmt, ast.Define):
                self.define(stmt, st)
            elif isinstance(stmt, ast.Require) and not stmt.provide:
                self.requires.extend(Require(e.text, e.loc, e.kind, e.value)
                                     for e in stmt.entries)
        self.name_anonymous(scope, st.names)
        return scope

    def elementclass(self, stmt: ast.ElementClassDef, st: _ScopeState) -> None:
        name = stmt.name.text
        if stmt.body is not None:
            st.classes[name] = self.compound(stmt.body, name, st)
        elif stmt.synonym is not None:
            st.classes[name] = self.class_by_name(stmt.synonym, st)

    def compound(self, cls: ast.CompoundClass, name: str, st: _ScopeState) -> _Compound:
        comp = _Compound(name, cls.loc, st.scope.depth + 1)
        if cls.extends:
            if not name:
                self.errors.add("'...' can only extend a named element class", cls.loc)
            comp.fallback = st.classes.get(name, name)
        defining = st.defining + ((name,) if name else ())
        errors_before = len(self.errors.errors)
        for body in cls.bodies:
            scope = self.build_scope(body.statements, _Scope(comp.depth, True),
                                     st.classes, defining, body.formals)
            self.check_pseudo_ports(scope, name, body.loc)
            comp.variants.append(_Variant(body.formals, scope, body.loc))
        comp.broken = len(self.errors.errors) > errors_before
        return comp

    def define(self, stmt: ast.Define, st: _ScopeState) -> None:
        for entry in stmt.entries:
            previous = next((f.loc for f in st.formals if f.name == entry.name), None)
            previous = previous or next((d.loc for d in st.scope.defines
                                         if d.name == entry.name), None)
            if previous is not None:
                self.errors.add(f"variable '${entry.name}' defined twice", entry.loc,
                                [("first defined here", previous)])
            else:
                st.scope.defines.append(entry)

    # -- classes ---------------------------------------------------------------

    def class_by_name(self, name: ast.Name, st: _ScopeState) -> _Binding:
        """The class an identifier names here; unknown names are primitives."""
        binding = st.classes.get(name.text)
        if binding is not None:
            return binding
        self.check_hidden_compound(name, st)
        return name.text

    def check_hidden_compound(self, name: ast.Name, st: _ScopeState) -> bool:
        """Report a compound class used where it is not visible; True if so."""
        text = name.text
        if text not in self.compound_names:
            return False
        if self.is_element_class is not None and self.is_element_class(text):
            return False          # the library's class of that name is meant
        where = self.compound_names[text]
        if text in st.defining:
            self.errors.add(f"element class '{text}' is used inside its own definition: "
                            "recursive element classes are not allowed", name.loc,
                            [(f"'{text}' is being defined here", where)])
        else:
            self.errors.add(f"element class '{text}' is not defined at this point", name.loc,
                            [(f"'{text}' is defined here; element classes can be used only "
                              "after their definition, in the same or an enclosing scope",
                              where)])
        return True

    def class_spec(self, spec: ast.ClassSpec, st: _ScopeState) -> tuple[_Binding, str, Loc, int]:
        """Binding, written name, location and end offset of a declaration's class."""
        if isinstance(spec, ast.ClassRef):
            return self.class_by_name(spec.name, st), spec.name.text, spec.name.loc, spec.name.end
        comp = self.compound(spec, "", st)
        return comp, "", spec.loc, -1

    def is_class_name(self, text: str, st: _ScopeState) -> bool:
        if text in st.classes:
            return True
        return self.is_element_class is not None and self.is_element_class(text)

    # -- elements --------------------------------------------------------------

    def declare(self, name: ast.Name, binding: _Binding, class_name: str, class_loc: Loc,
                config: ast.ConfigText | None, anchor: int, st: _ScopeState) -> int | None:
        text = name.text
        if any(part.isdigit() for part in text.split("/")):
            self.errors.add(f"element name '{text}' has an all-digit component", name.loc)
        if st.scope.compound and text in ("input", "output"):
            self.errors.add(f"'{text}' cannot be declared inside a compound element: it "
                            f"names the compound's {text} ports", name.loc)
            return None
        if self.is_class_name(text, st):
            self.errors.add(f"'{text}' is an element class and cannot be used as an "
                            "element name", name.loc)
        if text in st.names:
            first = st.scope.elements[st.names[text]]
            self.errors.add(f"redeclaration of element '{text}'", name.loc,
                            [(f"'{text}' previously declared here", first.name_loc)])
            return st.names[text]
        st.names[text] = len(st.scope.elements)
        st.scope.elements.append(_Element(binding, class_name, config, class_loc, name.loc,
                                          anchor, name=text))
        return st.names[text]

    def anonymous(self, binding: _Binding, class_name: str, loc: Loc,
                  config: ast.ConfigText | None, anchor: int, st: _ScopeState) -> int:
        elements = st.scope.elements
        elements.append(_Element(binding, class_name, config, loc, loc, anchor,
                                 anonymous=True, anon_number=len(elements) + 1))
        return len(elements) - 1

    def reference(self, ref: ast.ElementRef, st: _ScopeState) -> int | None:
        """A bare identifier in a connection: element, pseudo-element or class."""
        name, config = ref.name, ref.config
        text = name.text
        anchor = config.offset if config else name.end
        if st.scope.compound and text in ("input", "output"):
            if config is not None:
                self.errors.add(f"'{text}' takes no configuration string", config.loc)
            return IN if text == "input" else OUT
        if text in st.classes:
            return self.anonymous(st.classes[text], text, name.loc, config, anchor, st)
        if self.is_element_class is not None and self.is_element_class(text):
            return self.anonymous(text, text, name.loc, config, anchor, st)
        if text in st.names:
            idx = st.names[text]
            if config is not None:
                self.errors.add(f"'{text}' is an element, not a class: it cannot take a "
                                "configuration string here", config.loc,
                                [(f"'{text}' declared here", st.scope.elements[idx].name_loc)])
            return idx
        if text in st.declared_later:
            self.errors.add(f"undeclared element '{text}'", name.loc,
                            [(f"'{text}' is declared later, here: declare elements before "
                              "connecting them", st.declared_later[text])])
            return None
        if self.check_hidden_compound(name, st):
            return None
        if config is not None or (self.is_element_class is None and _looks_like_class(text)):
            return self.anonymous(text, text, name.loc, config, anchor, st)
        self.errors.add(f"undeclared element '{text}'", name.loc)
        return None

    def endpoint(self, ep: ast.Endpoint, st: _ScopeState) -> int | None:
        spec = ep.element
        if isinstance(spec, ast.Pseudo):
            return IN if spec.which == "input" else OUT
        if isinstance(spec, ast.ElementRef):
            return self.reference(spec, st)
        if isinstance(spec, ast.AnonymousCompound):
            comp = self.compound(spec.cls, "", st)
            anchor = spec.config.offset if spec.config else -1
            return self.anonymous(comp, "", spec.cls.loc, spec.config, anchor, st)
        binding, class_name, class_loc, class_end = self.class_spec(spec.cls, st)
        anchor = spec.config.offset if spec.config else class_end
        idx = None
        for name in spec.names:
            idx = self.declare(name, binding, class_name, class_loc, spec.config, anchor, st)
        return idx

    # -- connections -----------------------------------------------------------

    def chain(self, chain: ast.Chain, st: _ScopeState) -> None:
        previous: list[tuple[int | None, ast.Endpoint]] = []
        for i, position in enumerate(chain.positions):
            current = [(self.endpoint(ep, st), ep) for ep in position]
            if i > 0:
                self.connect(previous, current, chain.connectors[i - 1], st)
            previous = current

    def connect(self, outputs: list[tuple[int | None, ast.Endpoint]],
                inputs: list[tuple[int | None, ast.Endpoint]],
                connector: ast.Connector, st: _ScopeState) -> None:
        """Connect one chain position to the next, Click's way.

        One port on either side connects to every port on the other; many to
        many needs ``=>`` and equal counts; with ``=>``, a lone element
        without explicit ports uses ports 0, 1, 2... as needed.
        """
        arrow = connector.loc
        outs = _port_list(outputs, arrow, output=True)
        ins = _port_list(inputs, arrow, output=False)
        if connector.kind == "=>":
            if len(outputs) == 1 and outputs[0][1].out_ports is None and len(ins) > 1:
                outs = [(outputs[0][0], p, arrow) for p in range(len(ins))]
            if len(inputs) == 1 and inputs[0][1].in_ports is None and len(outs) > 1:
                ins = [(inputs[0][0], p, arrow) for p in range(len(outs))]
        if len(outs) == 1 or len(ins) == 1:
            pairs = [(o, i) for o in outs for i in ins]
        elif connector.kind != "=>":
            self.errors.add("many-to-many connections require '=>'", connector.loc)
            return
        elif len(outs) != len(ins):
            self.errors.add(f"connection mismatch: {len(outs)} outputs connected to "
                            f"{len(ins)} inputs", connector.loc)
            return
        else:
            pairs = list(zip(outs, ins))
        for (src, sport, sloc), (dst, dport, dloc) in pairs:
            if src is not None and dst is not None:
                st.scope.conns.append(_Conn(src, sport, dst, dport, arrow, sloc, dloc))

    def check_pseudo_ports(self, scope: _Scope, name: str, loc: Loc) -> None:
        """``input`` only feeds, ``output`` only receives, ports are contiguous."""
        label = f"compound element class '{name}'" if name else "anonymous compound element"
        for c in scope.conns:
            if c.dst == IN:
                self.errors.add("'input' can only be used on the left of '->': it stands "
                                "for the packets entering the compound", c.loc)
            if c.src == OUT:
                self.errors.add("'output' can only be used on the right of '->': it stands "
                                "for the packets leaving the compound", c.loc)
        for idx, output, word in ((IN, True, "input"), (OUT, False, "output")):
            used = scope.ports_used(idx, output)
            count = max(used) + 1 if used else 0
            for port in range(count):
                if port not in used:
                    self.errors.add(f"{label} uses {word} {count - 1} but not {word} {port}: "
                                    f"its {word} ports must be numbered from 0 without gaps",
                                    loc)
            if word == "input":
                scope.ninputs = count
            else:
                scope.noutputs = count

    @staticmethod
    def name_anonymous(scope: _Scope, names: dict[str, int]) -> None:
        """``Class@N``, bumping N past any name already taken (as Click does)."""
        taken = set(names) | {"input", "output"}
        for el in scope.elements:
            if el.anonymous:
                number = el.anon_number
                while f"{el.class_name}@{number}" in taken:
                    number += 1
                el.name = f"{el.class_name}@{number}"
                taken.add(el.name)


def _port_list(side: list[tuple[int | None, ast.Endpoint]], arrow: Loc,
               output: bool) -> list[tuple[int | None, int, Loc]]:
    """(element, port, where the port is written) for one side of a connection."""
    ports: list[tuple[int | None, int, Loc]] = []
    for idx, ep in side:
        given = ep.out_ports if output else ep.in_ports
        if given is None:
            ports.append((idx, 0, arrow))
        else:
            ports.extend((idx, p, given.loc) for p in given.ports)
    return ports


def _looks_like_class(name: str) -> bool:
    """Click's naming convention: classes are CamelCase, elements are not
    (and only element names hold the ``@`` and ``/`` Click generates)."""
    return name[:1].isascii() and name[:1].isupper() and "@" not in name and "/" not in name


def _nested_bodies(stmt: ast.Statement) -> Iterator[ast.CompoundBody]:
    """Compound bodies written directly inside a statement."""
    if isinstance(stmt, ast.ElementClassDef):
        if stmt.body is not None:
            yield from stmt.body.bodies
    elif isinstance(stmt, ast.Chain):
        for position in stmt.positions:
            for ep in position:
                spec = ep.element
                if isinstance(spec, ast.AnonymousCompound):
                    yield from spec.cls.bodies
                elif isinstance(spec, ast.Declaration) and isinstance(spec.cls, ast.CompoundClass):
                    yield from spec.cls.bodies


def _declared_names(statements: list[ast.Statement]) -> dict[str, Loc]:
    """Names declared with ``::`` directly in these statements."""
    names: dict[str, Loc] = {}
    for stmt in statements:
        if isinstance(stmt, ast.Chain):
            for position in stmt.positions:
                for ep in position:
                    if isinstance(ep.element, ast.Declaration):
                        for n in ep.element.names:
                            names.setdefault(n.text, n.loc)
    return names


# ==========================================================================
# Variables
# ==========================================================================

@dataclass
class _Env:
    """A variable scope: a file's defines, or one compound instance's."""

    values: dict[str, str]
    parent: "_Env | None"
    depth: int

    def lookup(self, name: str) -> str | None:
        env: _Env | None = self
        while env is not None:
            if name in env.values:
                return env.values[name]
            env = env.parent
        return None

    def parent_of(self, depth: int) -> "_Env | None":
        """The innermost enclosing scope shallower than ``depth`` (Click's rule)."""
        env: _Env | None = self
        while env is not None and env.depth >= depth:
            env = env.parent
        return env


class _ExpandError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


def expand_variables(text: str, env: _Env, depth: int = 0) -> str:
    """Substitute ``$name`` and ``${name}`` in ``text`` (Click's ``cp_expand``).

    Nothing is substituted inside single quotes or comments; inside double
    quotes the value is escaped so that it stays one string.  ``${name-default}``
    and ``${name[i]}`` (the i-th word) work as in Click.  Raises
    :class:`_ExpandError` with the offset of the offending ``$``.
    """
    if "$" not in text:
        return text
    out: list[str] = []
    quote_char: str | None = None
    i, last, end = 0, 0, len(text)
    while i < end:
        c = text[i]
        if c == "\\":
            i += 2 if quote_char == '"' else 1
        elif c in "\"'":
            if quote_char is None:
                quote_char = c
            elif quote_char == c:
                quote_char = None
            i += 1
        elif c == "/" and quote_char is None and text.startswith(("//", "/*"), i):
            i = skip_comment_space(text, i)
        elif c == "$" and quote_char != "'" and i + 1 < end:
            ref = _variable_ref(text, i)
            if ref is None:
                i += 1
                continue
            spec, stop = ref
            try:
                value = _variable_value(spec, env, depth)
            except _ExpandError as err:
                raise _ExpandError(err.message, i) from None
            if quote_char == '"':
                value = quote(value)[1:-1]
            out.append(text[last:i])
            out.append(value)
            i = last = stop
        else:
            i += 1
    out.append(text[last:])
    return "".join(out)


def _variable_ref(text: str, i: int) -> tuple[str, int] | None:
    """At ``$``: the reference (``name`` or ``{spec}``) and where it ends."""
    nxt = text[i + 1]
    if nxt == "{":
        close = text.find("}", i + 2)
        if close < 0:
            raise _ExpandError("unterminated '${': missing '}'", i)
        return "{" + text[i + 2:close], close + 1
    if nxt == "(":
        raise _ExpandError("'$(...)' expressions are not supported", i)
    if nxt in _VAR_CHARS:
        stop = i + 1
        while stop < len(text) and text[stop] in _VAR_CHARS:
            stop += 1
        return text[i + 1:stop], stop
    return None


def _variable_value(spec: str, env: _Env, depth: int) -> str:
    """The expansion of one reference (``name`` or ``{name[i]-default}``)."""
    name, index, default = spec, None, None
    if spec.startswith("{"):
        m = re.fullmatch(r"\s*([A-Za-z0-9_]*)\s*(?:\[\s*(\d+)\s*\]\s*)?(?:-(.*))?", spec[1:], re.S)
        if not m or not m.group(1):
            raise _ExpandError(f"bad variable reference '${spec}}}'", 0)
        name, index, default = m.group(1), m.group(2), m.group(3)
    if depth >= MAX_VAR_DEPTH:
        raise _ExpandError(f"variable '${name}' expands recursively", 0)
    value = env.lookup(name)
    if value is None:
        if default is None:
            raise _ExpandError(f"undefined variable '${name}'", 0)
        return expand_variables(default, env, depth + 1)
    try:
        value = expand_variables(value, env, depth + 1)
    except _ExpandError as err:
        message = err.message if "recursively" in err.message else \
            f"{err.message} (in the value of '${name}')"
        raise _ExpandError(message, 0) from None
    if index is not None:
        words = split_words(value)
        value = words[int(index)] if int(index) < len(words) else ""
    return value


# ==========================================================================
# Phase 2: expansion
# ==========================================================================

@dataclass
class _Placed:
    """An element of one scope instance, placed in the flat configuration."""

    name: str                     # full name (outer/inner)
    element: _Element
    scope: _Scope                 # the scope it was declared in
    idx: int
    env: _Env                     # the variables of that scope instance
    config: str                   # after substitution
    verbatim: bool


_Node = tuple[str, str]           # ("el" | "inst" | "in" | "out", full name)


@dataclass
class _GlobalConn:
    src: _Node
    src_port: int
    dst: _Node
    dst_port: int
    loc: Loc


class _Expander:
    def __init__(self, filename: str, text: str, errors: ErrorCollector):
        self.text = text
        self.source = SourceMap(filename, text)
        self.errors = errors
        self.flat = FlatConfig(file=filename)
        self.names: dict[str, Loc] = {}       # every full name used so far
        self.conns: list[_GlobalConn] = []

    def loc(self, offset: int) -> Loc:
        return self.source.loc(offset)

    def run(self, top: _Scope, env: _Env) -> FlatConfig:
        for placed in self.instantiate(top, "", env):
            self.expand(placed)
        self.route_connections()
        return self.flat

    # -- elements ----------------------------------------------------------------

    def instantiate(self, scope: _Scope, prefix: str, env: _Env) -> list[_Placed]:
        """Place every element of ``scope`` under ``prefix`` and copy its connections."""
        placed = [self.place(el, scope, idx, prefix + el.name, env)
                  for idx, el in enumerate(scope.elements)]
        owner = prefix[:-1]

        def node(idx: int) -> _Node:
            if idx == IN:
                return ("in", owner)
            if idx == OUT:
                return ("out", owner)
            p = placed[idx]
            return ("inst" if isinstance(p.element.binding, _Compound) else "el", p.name)

        for c in scope.conns:
            self.conns.append(_GlobalConn(node(c.src), c.src_port, node(c.dst), c.dst_port, c.loc))
        return placed

    def substitute(self, raw: str, offset: int, env: _Env) -> str:
        try:
            return expand_variables(raw, env)
        except _ExpandError as err:
            self.errors.add(err.message, self.loc(offset + err.offset))
            return raw

    def place(self, el: _Element, scope: _Scope, idx: int, name: str, env: _Env) -> _Placed:
        raw = el.config.text if el.config else ""
        config = self.substitute(raw, el.config.offset, env) if el.config else ""
        if name in self.names:
            self.errors.add(f"redeclaration of element '{name}'", el.name_loc,
                            [(f"'{name}' previously declared here", self.names[name])])
        else:
            self.names[name] = el.name_loc
        placed = _Placed(name, el, scope, idx, env, config, config == raw)
        if isinstance(el.binding, str):
            self.add_flat(placed, el.binding)
        return placed

    def add_flat(self, placed: _Placed, cls: str) -> None:
        el = placed.element
        anchor = el.config_anchor
        self.flat.elements.setdefault(placed.name, FlatElement(
            name=placed.name, cls=cls, config=placed.config, loc=el.loc,
            config_loc=self.loc(anchor) if anchor >= 0 else None,
            config_verbatim=placed.verbatim, source_text=self.text))

    # -- compounds ---------------------------------------------------------------

    def expand(self, placed: _Placed) -> None:
        """Splice a compound instance's body in (recursively); no-op otherwise."""
        comp = placed.element.binding
        if not isinstance(comp, _Compound):
            return
        args = [a.text for a in split_args(placed.config)]
        ins = placed.scope.ports_used(placed.idx, output=False)
        outs = placed.scope.ports_used(placed.idx, output=True)
        chosen = self.resolve(placed, comp, args, ins, outs)
        if chosen is None:
            return
        if isinstance(chosen, str):       # '...' fell back to a primitive class
            self.add_flat(placed, chosen)
            self.conns = [self._as_element(c, placed.name) for c in self.conns]
            return
        variant, comp_used, values = chosen
        if not comp_used.broken:
            self.check_ports(placed, comp_used, variant, ins, outs)
        env = _Env(dict(zip((f.name for f in variant.formals), values)),
                   placed.env.parent_of(comp_used.depth), comp_used.depth)
        for entry in variant.scope.defines:
            env.values[entry.name] = self.substitute(entry.value, entry.value_offset, env)
        for child in self.instantiate(variant.scope, placed.name + "/", env):
            self.expand(child)

    @staticmethod
    def _as_element(c: _GlobalConn, name: str) -> _GlobalConn:
        """Connections to a compound instance that turned primitive."""
        src = ("el", name) if c.src == ("inst", name) else c.src
        dst = ("el", name) if c.dst == ("inst", name) else c.dst
        return _GlobalConn(src, c.src_port, dst, c.dst_port, c.loc)

    def resolve(self, placed: _Placed, comp: _Compound, args: list[str],
                ins: dict[int, Loc], outs: dict[int, Loc]
                ) -> tuple[_Variant, _Compound, list[str]] | str | None:
        """Click's overload resolution: the first variant whose arguments and
        port counts fit; else the one alternative whose arguments fit."""
        nin = max(ins) + 1 if ins else 0
        nout = max(outs) + 1 if outs else 0
        candidates: list[tuple[_Variant, _Compound]] = []
        closest: tuple[_Variant, _Compound, list[str]] | None = None
        first_problem: str | None = None
        current: _Binding | None = comp
        while isinstance(current, _Compound):
            for variant in current.variants:
                candidates.append((variant, current))
                values = _assign_arguments(variant.formals, args)
                if isinstance(values, str):
                    first_problem = first_problem or values
                    continue
                if variant.scope.ninputs == nin and variant.scope.noutputs == nout:
                    return variant, current, values
                closest = (variant, current, values)
            current = current.fallback
        if isinstance(current, str):
            return current
        if len(candidates) == 1 and closest is not None:
            return closest
        el = placed.element
        where = el.config.loc if el.config else el.loc
        label = _class_label(comp, placed.element.class_name)
        if len(candidates) == 1 and first_problem:
            self.errors.add(f"{label}: {first_problem}", where,
                            [(f"'{comp.name or placed.name}' defined here", comp.loc)])
        else:
            notes: list[tuple[str, Loc | None]] = [
                (f"candidate: {v.signature(c.name)}", v.loc) for v, c in candidates]
            self.errors.add(f"no variant of {label} matches '{placed.name}' with "
                            f"{_plural(len(args), 'argument')}, {_plural(nin, 'input')} and "
                            f"{_plural(nout, 'output')}", where, notes)
        return None

    def check_ports(self, placed: _Placed, comp: _Compound, variant: _Variant,
                    ins: dict[int, Loc], outs: dict[int, Loc]) -> None:
        """Every port used from outside exists inside, and the reverse."""
        name, el = placed.name, placed.element
        note = [(f"'{comp.name or name}' defined here with "
                 f"{_plural(variant.scope.ninputs, 'input')} and "
                 f"{_plural(variant.scope.noutputs, 'output')}", variant.loc)]
        for used, count, word in ((ins, variant.scope.ninputs, "input"),
                                  (outs, variant.scope.noutputs, "output")):
            for port, loc in sorted(used.items()):
                if port >= count:
                    self.errors.add(f"compound element '{name}' has no {word} {port}", loc, note)
            for port in range(count):
                if port not in used:
                    self.errors.add(f"{word} {port} of compound element '{name}' is not "
                                    "connected", el.name_loc, note)

    # -- connections ---------------------------------------------------------------

    def route_connections(self) -> None:
        """Follow connections through compound ports down to real elements."""
        by_src: dict[tuple[_Node, int], list[_GlobalConn]] = {}
        for c in self.conns:
            by_src.setdefault((c.src, c.src_port), []).append(c)
        seen: set[tuple[str, int, str, int]] = set()
        for c in self.conns:
            if c.src[0] != "el":
                continue
            for dst, dst_port in self.destinations(c.dst, c.dst_port, by_src, frozenset()):
                key = (c.src[1], c.src_port, dst, dst_port)
                if key not in seen:
                    seen.add(key)
                    self.flat.connections.append(
                        FlatConnection(c.src[1], c.src_port, dst, dst_port, c.loc))

    def destinations(self, node: _Node, port: int,
                     by_src: dict[tuple[_Node, int], list[_GlobalConn]],
                     visiting: frozenset[tuple[_Node, int]]) -> list[tuple[str, int]]:
        kind, name = node
        if kind == "el":
            return [(name, port)]
        if (node, port) in visiting or kind == "in":
            return []                     # a loop of tunnels, or a reported misuse
        onward = ("in", name) if kind == "inst" else ("inst", name)
        result: list[tuple[str, int]] = []
        for c in by_src.get((onward, port), []):
            result.extend(self.destinations(c.dst, c.dst_port, by_src,
                                            visiting | {(node, port)}))
        return result


def _class_label(comp: _Compound, written: str) -> str:
    if comp.name:
        return f"compound element class '{comp.name}'"
    return f"element class '{written}'" if written else "anonymous compound element"


def _assign_arguments(formals: list[ast.Formal], args: list[str]) -> list[str] | str:
    """Bind arguments to compound formals (Click's ``cp_assign_arguments``).

    Positional formals take the arguments that are not ``KEYWORD value``
    for one of the keyword formals, in order; keyword formals are mandatory;
    a final ``__REST__ $x`` formal collects the rest, joined by ", ".
    Returns the values in formal order, or a message saying what is wrong.
    """
    positional = [f for f in formals if f.keyword is None]
    keywords = {f.keyword: f for f in formals if f.keyword not in (None, "__REST__")}
    rest = formals[-1] if formals and formals[-1].keyword == "__REST__" else None
    if not keywords and rest is None:
        if len(args) != len(positional):
            names = ", ".join(f"${f.name}" for f in positional)
            wanted = _plural(len(positional), "argument") + (f" ({names})" if names else "")
            return f"expected {wanted}, got {len(args)}"
        return list(args)
    values: dict[str, str] = {}
    given: list[str] = []
    extra: list[str] = []
    for arg in args:
        m = _FIRST_WORD_RE.match(arg)
        if m and m.group(1) in keywords:
            values[keywords[m.group(1)].name] = (m.group(2) or "").strip()
        elif len(given) < len(positional):
            given.append(arg)
        else:
            extra.append(arg)
    if len(given) < len(positional):
        missing = ", ".join(f"${f.name}" for f in positional[len(given):])
        return f"missing positional argument(s) {missing}"
    if extra and rest is None:
        return f"too many arguments ({len(args)})"
    for kw, formal in keywords.items():
        if formal.name not in values:
            return f"missing keyword argument {kw}"
    values.update((f.name, a) for f, a in zip(positional, given))
    if rest is not None:
        values[rest.name] = ", ".join(extra)
    return [values[f.name] for f in formals]


# ==========================================================================
# Entry point
# ==========================================================================

def elaborate(cfg: ast.Config, filename: str, text: str,
              defines: dict[str, str] | None = None,
              is_compound_class: Callable[[str], bool] | None = None,
              is_element_class: ElementClassPredicate | None = None) -> FlatConfig:
    """Flatten a parsed configuration into elements and connections.

    ``defines`` are command-line ``NAME=VALUE`` settings (``NAME`` without
    ``$``); they override the file's ``define``\\ s.  ``is_element_class``,
    when given, tells whether a name is a class of the element library
    (Click decides "anonymous element or element reference?" with it).
    ``is_compound_class`` is accepted for API compatibility and unused:
    compound classes always come from the configuration itself.

    Raises :class:`UknfvError` carrying every problem found.
    """
    del is_compound_class
    errors = ErrorCollector()
    builder = _Builder(cfg, errors, is_element_class)
    top = builder.build_file()
    env = _Env({d.name: d.value for d in top.defines}, None, 0)
    env.values.update({name.lstrip("$"): value for name, value in (defines or {}).items()})
    flat = _Expander(filename, text, errors).run(top, env)
    flat.requires = builder.requires
    _raise_unique(errors)
    return flat


def _raise_unique(errors: ErrorCollector) -> None:
    """Raise the collected errors, each (message, location) once, in source order."""
    unique: dict[tuple[str, str], UknfvError] = {}
    for err in errors.errors:
        unique.setdefault((err.message, str(err.loc)), err)
    if unique:
        ordered = sorted(unique.values(),
                         key=lambda e: (e.loc.line, e.loc.col) if e.loc else (0, 0))
        raise UknfvError.many(ordered)

"""The element model: a declarative spec per Click element class.

An element is a Python class deriving from :class:`Element` that declares,
in one place, what Click declares for it (port counts, processing, typed
arguments, handlers) plus what uknfv needs to build it (the C template it
becomes, the micro-libraries it pulls in, the targets it runs on).  Specs
run at build time: everything decidable from the arguments is decided in
:meth:`Element.configure`, and the C template only sees constants.

The C template is rendered once per element instance (see codegen.emit for
the variables it sees).  The simple case is ``action``: one packet in, one
out (or NULL when the packet was consumed); the framework wraps it into a
push or pull function as the graph requires, like Click's simple_action.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .argtypes import ArgError, ArgType
from .diag import Loc, UknfvError

ALL_TARGETS = frozenset({"linux", "kvm", "dpdk"})


@dataclass(frozen=True)
class Arg:
    """One configuration argument.

    ``keyword`` is the Click keyword (upper case); when ``positional`` the
    argument may also be given by position, in declaration order.
    """

    keyword: str
    type: ArgType
    positional: bool = False
    required: bool = False
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class Handler:
    """A handler: readable and/or writable state of an element instance.

    ``read`` is a C expression (rendered with the instance's template
    variables) of kind ``kind``: "u64" (an integer), "str" (a NUL-terminated
    C string) or "fn" (the name of ``int fn(char *buf, size_t n)`` defined by
    the template).  ``write`` names ``int fn(const char *value)`` (0 = ok).
    """

    name: str
    read: str | None = None
    kind: str = "u64"
    write: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class PortRange:
    lo: int
    hi: int | None  # None: unbounded
    same_as_other: bool = False

    def allows(self, n: int) -> bool:
        return n >= self.lo and (self.hi is None or n <= self.hi)

    def __str__(self) -> str:
        if self.same_as_other:
            return "as many as inputs"
        if self.hi is None:
            return f"{self.lo} or more" if self.lo else "any number"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"


def _parse_range(text: str) -> PortRange:
    if text == "=":
        return PortRange(0, None, True)
    if text == "-":
        return PortRange(0, None)
    m = re.fullmatch(r"(\d+)(?:(-)(\d+)?)?", text)
    if not m:
        raise ValueError(f"bad port count '{text}'")
    lo = int(m.group(1))
    if m.group(2) is None:
        return PortRange(lo, lo)
    return PortRange(lo, int(m.group(3)) if m.group(3) else None)


def parse_port_count(spec: str) -> tuple[PortRange, PortRange]:
    """Click's port count strings: "1/1", "1/1-2", "1/-", "0/1", "1-/=" ..."""
    ins, _, outs = spec.partition("/")
    if not _:
        outs = ins
    return _parse_range(ins), _parse_range(outs)


def processing_codes(spec: str, nin: int, nout: int) -> tuple[list[str], list[str]]:
    """Expand Click processing codes ("a/ah", "h/l" ...) to one code per port.

    Codes: 'h' push, 'l' pull, 'a' agnostic.  The last code of a side
    applies to all later ports of that side.
    """
    ins, _, outs = spec.partition("/")
    if not _:
        outs = ins

    def expand(codes: str, n: int) -> list[str]:
        return [codes[min(i, len(codes) - 1)] for i in range(n)]

    return expand(ins, nin), expand(outs, nout)


@dataclass
class Instance:
    """One element of the flat graph, configured for a build."""

    name: str
    spec: "Element"
    config: str
    loc: Loc
    index: int
    cid: str = ""                       # C identifier prefix
    args: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)   # extra template vars
    ninputs: int = 0
    noutputs: int = 0
    in_proc: list[str] = field(default_factory=list)     # 'push' / 'pull'
    out_proc: list[str] = field(default_factory=list)
    arg_locs: dict[str, Loc] = field(default_factory=dict)
    flat: Any = None                                      # the FlatElement

    @property
    def cls(self) -> str:
        return self.spec.name

    def error(self, message: str, arg: str | None = None) -> UknfvError:
        """An error about this element (at an argument's location if known)."""
        loc = self.arg_locs.get(arg, self.loc) if arg else self.loc
        return UknfvError(f"{self.name} :: {self.cls}: {message}", loc)


class Element:
    """Base class of element specs.  Subclasses set the class attributes."""

    name: ClassVar[str] = ""
    ports: ClassVar[str] = "1/1"
    processing: ClassVar[str] = "a/a"
    args: ClassVar[tuple[Arg, ...]] = ()
    # When set, every argument is one item of a list (Classifier patterns,
    # route entries): no keyword parsing, the values arrive as `rest`.
    rest: ClassVar[Arg | None] = None
    handlers: ClassVar[tuple[Handler, ...]] = ()
    libs: ClassVar[tuple[str, ...]] = ()
    targets: ClassVar[frozenset[str]] = ALL_TARGETS
    # C: the template, and which parts it defines
    c: ClassVar[str] = ""
    action: ClassVar[bool] = False      # template defines E_action(p)
    task: ClassVar[str | None] = None   # "source" or "driver": defines E_run()
    init: ClassVar[bool] = False        # template defines int E_init(void)
    finish: ClassVar[bool] = False      # template defines void E_finish(void)
    stop_source: ClassVar[bool] = False  # counts toward the run's end (STOP)
    # A task with work to do without any input (generators, paced sources):
    # the runtime must not sleep long while one exists.
    timed: ClassVar[bool] = False
    doc: ClassVar[str] = ""
    group: ClassVar[str] = ""

    # ---- build-time hooks -------------------------------------------------
    def configure(self, inst: Instance) -> None:
        """Validate arguments, compute template variables into inst.vars.

        Raise ``inst.error(...)`` for a bad configuration.
        """

    def port_counts(self, inst: Instance, nin: int, nout: int) -> tuple[int, int]:
        """The instance's port counts given the highest connected ports.

        Default: whatever the connections use.  Elements whose port count
        follows from their configuration (Classifier: one output per
        pattern) override this.
        """
        return nin, nout

    def for_target(self, target: str) -> "Element":
        """The spec to use on `target` (default: this one).  An element
        whose C differs per target returns a variant spec here."""
        return self

    def handlers_for(self, inst: Instance) -> tuple[Handler, ...]:
        """The instance's handlers (default: the class's `handlers`)."""
        return self.handlers

    def task_kind(self, inst: Instance) -> str | None:
        """"source" or "driver" when the instance runs as a task (E_run)."""
        return self.task

    def is_stop_source(self, inst: Instance) -> bool:
        return self.stop_source and bool(inst.args.get("STOP", False))


def parse_element_args(inst: Instance, split_args, split_keyword, arg_loc) -> None:
    """Click's cp_va_kparse: positional arguments first, then KEYWORD value.

    Fills inst.args (keyword -> value) with defaults for absent ones, and
    inst.arg_locs with the location of each given argument.
    """
    spec = inst.spec
    pieces = split_args(inst.config)
    flat = inst.flat

    def loc_of(off: int) -> Loc:
        return arg_loc(flat, off) if flat is not None else inst.loc

    if spec.rest is not None:
        vals = []
        for i, a in enumerate(pieces):
            key = f"{spec.rest.keyword}{i}"
            inst.arg_locs[key] = loc_of(a.offset)
            try:
                vals.append((spec.rest.type.parse(a.text), loc_of(a.offset)))
            except ArgError as e:
                raise UknfvError(f"{inst.name} :: {spec.name}: argument {i + 1}: {e}",
                                 loc_of(a.offset + e.offset)) from None
        inst.args["rest"] = vals
        if spec.rest.required and not vals:
            raise inst.error(f"needs at least one {spec.rest.keyword.lower()} argument")
        return

    by_kw = {a.keyword: a for a in spec.args}
    positional = [a for a in spec.args if a.positional]
    given: dict[str, Any] = {}
    pos_i = 0
    seen_keyword = False
    for a in pieces:
        kw = split_keyword(a.text)
        if kw is not None and kw[0] in by_kw:
            name, value = kw
            seen_keyword = True
            arg = by_kw[name]
            vtext = value
            voff = a.offset + a.text.find(value) if value else a.offset
        elif kw is not None and (seen_keyword or pos_i >= len(positional)):
            accepted = ", ".join(x.keyword for x in spec.args) or "no arguments"
            raise UknfvError(f"{inst.name} :: {spec.name}: unknown keyword '{kw[0]}' "
                             f"(accepts {accepted})", loc_of(a.offset))
        else:
            if seen_keyword:
                raise UknfvError(f"{inst.name} :: {spec.name}: positional argument "
                                 f"after keyword arguments", loc_of(a.offset))
            if pos_i >= len(positional):
                n = len(positional)
                raise UknfvError(f"{inst.name} :: {spec.name}: too many arguments "
                                 f"(takes {n} positional argument{'s' if n != 1 else ''}"
                                 f"{', then keywords ' + ', '.join(x.keyword for x in spec.args if not x.positional) if any(not x.positional for x in spec.args) else ''})",
                                 loc_of(a.offset))
            arg = positional[pos_i]
            pos_i += 1
            vtext, voff = a.text, a.offset
        if arg.keyword in given:
            raise UknfvError(f"{inst.name} :: {spec.name}: {arg.keyword} given twice",
                             loc_of(a.offset))
        inst.arg_locs[arg.keyword] = loc_of(voff)
        try:
            given[arg.keyword] = arg.type.parse(vtext)
        except ArgError as e:
            raise UknfvError(f"{inst.name} :: {spec.name}: {arg.keyword}: {e}",
                             loc_of(voff + e.offset)) from None
    for arg in spec.args:
        if arg.keyword not in given:
            if arg.required:
                raise inst.error(f"missing mandatory argument {arg.keyword}")
            given[arg.keyword] = arg.default
    inst.args = given

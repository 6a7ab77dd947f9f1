"""`uknfv top`: a running vNF's numeric handlers as a refreshing table.

Each refresh is one sample (uknfv/run/metrics.py: one connection, a READ per
handler, closed again so the unikernel's single-client channel stays free);
counters (count, byte_count, drops ...) get a per-second rate from the
previous sample.  On a terminal the table is redrawn in place with ANSI
codes; otherwise (or with --once) snapshots are printed one after another.
"""
from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from .control import ControlClient
from .metrics import Sample, rates, sample

CLEAR = "\x1b[H\x1b[2J"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"


def _fmt_rate(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.0f}" if r >= 100 else f"{r:.1f}"


def render(cur: Sample, prev: Sample | None = None, header: str = "",
           max_rows: int | None = None) -> str:
    """The table: ELEMENT HANDLER VALUE RATE/s, numeric handlers, sorted by element."""
    rs = rates(prev, cur)
    rows = [(r.element, r.handler, r.raw.strip(), _fmt_rate(rs.get(r.name)))
            for r in sorted(cur.numeric(), key=lambda r: r.element)]    # stable: LIST order within
    head = ("ELEMENT", "HANDLER", "VALUE", "RATE/s")
    widths = [max([len(head[i])] + [len(row[i]) for row in rows]) for i in range(4)]

    def line(row) -> str:
        return (f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  "
                f"{row[2]:>{widths[2]}}  {row[3]:>{widths[3]}}").rstrip()

    out = [header] if header else []
    out.append(line(head))
    shown = rows
    if max_rows is not None and len(rows) > max_rows:
        shown = rows[:max(0, max_rows - 1)]
    out += [line(r) for r in shown]
    if len(shown) < len(rows):
        out.append(f"... {len(rows) - len(shown)} more (narrow it with --filter)")
    if not rows:
        out.append("(no numeric handlers" + (" match" if header else "") + ")")
    return "\n".join(out) + "\n"


def run_top(sock: str, interval: float = 1.0, once: bool = False, globs: tuple[str, ...] = (),
            iterations: int | None = None, timeout: float = 5.0,
            out: TextIO | None = None) -> None:
    """Sample and print until interrupted (UknfvError propagates when the vNF goes away).

    A terminal gets the table redrawn in place; otherwise one snapshot is printed
    (``iterations`` snapshots, one after another, when given)."""
    out = out or sys.stdout
    live = out.isatty() and not once
    if once:
        iterations = 1
    elif iterations is None and not live:
        iterations = 1
    client = ControlClient(sock, timeout=timeout)
    names = client.list()           # handlers are fixed for a vNF's life
    prev: Sample | None = None
    n = 0
    if live:
        out.write(HIDE_CURSOR)
    try:
        while True:
            cur = sample(client, names, globs)
            n += 1
            if live:
                size = shutil.get_terminal_size((100, 40))
                header = (f"uknfv top  {sock}  {time.strftime('%H:%M:%S')}  "
                          f"every {interval:g} s  (Ctrl-C quits)")
                out.write(CLEAR + render(cur, prev, header, max_rows=size.lines - 3))
            else:
                if n > 1:
                    out.write("\n")
                out.write(render(cur, prev))
            out.flush()
            if iterations is not None and n >= iterations:
                return
            prev = cur
            time.sleep(interval)
    finally:
        if live:
            out.write(SHOW_CURSOR)
            out.flush()

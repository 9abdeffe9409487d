"""kdump --summary: strace -c's table from a trace file.

Per syscall: calls, errors, and the time between CALL and RET (total, per
call, shortest, longest), in strace -c's layout (count.c: the same columns,
widths and formats).  By default the columns are strace's with its
``longest`` (``-U time-percent,total-time,avg-time,max-time,calls,errors,name``)
and the order is by total time; ``-U`` and ``-S`` choose as strace's do.
``-C`` prints the strace view's lines first, ``-w`` is accepted: the trace
holds wall-clock times only (strace's default, system CPU time, is not
recorded).  strace's selection applies as in ``strace -c``: ``-e trace=`` and
``-P`` narrow the counts (``-P`` by the paths a call names, its descriptors'
too), status= does not.
``--per-process`` prints one table per process.
"""

from __future__ import annotations

import sys
from typing import NamedTuple, TextIO

from ktrace import record as r
from ktrace.abi import LINUX_I386, abi_for_svflags
from ktrace.kdump.cli import SELECTION_SHORT, Front, UsageError, front, options, read_trace, \
    select_option
from ktrace.kdump.select import ALL, Selection, narrow

USAGE = """\
usage: kdump --summary [--per-process] [-Cw] [-S sortby] [-U columns] [-p pid] [-f trfile]
                       [-zZq] [-P path] [-e trace=SET] ...
sortby, columns: strace's names (time-percent total-time avg-time min-time max-time
                 calls errors name; -S also nothing)
"""


class Column(NamedTuple):
    title: str
    width: int                  # the least width (strace's historical sizes)
    left: bool = False


# count.c's columns, by strace's name for them
COLUMNS = {
    "time-percent": Column("% time", 6), "total-time": Column("seconds", 11),
    "avg-time": Column("usecs/call", 11), "min-time": Column("shortest", 8),
    "max-time": Column("longest", 7), "calls": Column("calls", 9),
    "errors": Column("errors", 9), "name": Column("syscall", 16, left=True),
}
# count.c's column_aliases
ALIASES = {
    "time": "time-percent", "time_percent": "time-percent", "time_total": "total-time",
    "time-total": "total-time", "total_time": "total-time", "min_time": "min-time",
    "shortest": "min-time", "time_min": "min-time", "time-min": "min-time",
    "longest": "max-time", "max_time": "max-time", "time_max": "max-time",
    "time-max": "max-time", "avg_time": "avg-time", "time_avg": "avg-time",
    "time-avg": "avg-time", "count": "calls", "error": "errors", "syscall": "name",
    "syscall_name": "name", "syscall-name": "name", "none": "nothing",
}
DEFAULT_COLUMNS = ("time-percent", "total-time", "avg-time", "max-time", "calls", "errors",
                   "name")
# strace -S: the key each sorts by, largest first (name: alphabetical)
SORTS = {
    "time-percent": lambda row: -row.total, "total-time": lambda row: -row.total,
    "min-time": lambda row: -row.shortest, "max-time": lambda row: -row.longest,
    "avg-time": lambda row: -(row.total // row.calls), "calls": lambda row: -row.calls,
    "errors": lambda row: -row.errors, "name": lambda row: row.name,
    "nothing": lambda row: 0,
}
RULE = "------ ----------- ----------- -------- --------- --------- ----------------"
HEADER = "% time     seconds  usecs/call  longest     calls    errors syscall"


def column_name(text: str) -> str:
    return ALIASES.get(text, text)


class Options:
    def __init__(self):
        self.trfile = "ktrace.out"
        self.pid = 0
        self.per_process = False
        self.columns = DEFAULT_COLUMNS
        self.sort = "time-percent"
        self.lines = False              # -C: the strace view's lines too
        self.selection = Selection()


def _pid(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"-p needs a pid, not '{text}'")
    return int(text)


def _sortby(text: str) -> str:
    if column_name(text) not in SORTS:
        raise UsageError(f"invalid sortby: '{text}'")
    return column_name(text)


# option -> (the Options attribute it sets, how its value is read); -w sets
# nothing: a trace's times are wall-clock times already
SETTERS = {"-f": ("trfile", str), "-p": ("pid", _pid), "--per-process": ("per_process", bool),
           "-C": ("lines", bool), "-S": ("sort", _sortby), "-U": ("columns", lambda v: columns(v))}


def configure(pairs) -> Options:
    o = Options()
    for flag, value in pairs:
        if flag in SETTERS:
            attr, read = SETTERS[flag]
            setattr(o, attr, read(value) if read is not bool else True)
        else:
            select_option(o.selection, flag, value)
    return o


def columns(text: str) -> tuple[str, ...]:
    """-U: strace's rules: each column once, the name column always (last if not given)."""
    chosen: list[str] = []
    for item in text.split(","):
        name = column_name(item)
        if name not in COLUMNS:
            raise UsageError(f"unknown column name: '{item}'")
        if name in chosen:
            raise UsageError(f"call summary column has been provided more than once: '{item}'")
        chosen.append(name)
    return tuple(chosen) if "name" in chosen else (*chosen, "name")


class Row:
    __slots__ = ("code", "name", "calls", "errors", "total", "shortest", "longest")

    def __init__(self, code: int):
        self.code = code
        self.name = ""
        self.calls = self.errors = 0
        self.total = self.longest = 0
        self.shortest = None


class Tally:
    """Calls per syscall number: counts, errors, nanoseconds spent."""

    def __init__(self):
        self.rows: dict[int, Row] = {}

    def add(self, code: int, ns: int, failed: bool) -> None:
        row = self.rows.get(code)
        if row is None:
            row = self.rows[code] = Row(code)
        row.calls += 1
        row.errors += failed
        row.total += ns
        row.longest = max(row.longest, ns)
        row.shortest = ns if row.shortest is None else min(row.shortest, ns)


def _ns(h: r.Header) -> int:
    return h.sec * 1_000_000_000 + h.nsec


def tally(records, pid: int = 0, per_process: bool = False,
          sel: Selection | None = None) -> dict[tuple[int, bool], tuple[Tally, object]]:
    """(pid (0 for all), i386 calls?) -> (Tally, the ABI of the calls) from a
    record stream: strace -c counts each personality apart (an x86-64
    process's int $0x80 calls, docs/design.md); ``sel``: only the calls its
    -e trace= selects."""
    started: dict[int, tuple[int, int]] = {}        # tid -> (code, start ns)
    abis: dict[int, object] = {}
    tallies: dict[tuple[int, bool], tuple[Tally, object]] = {}
    wanted = _wanted(sel)
    for rec in records:
        h = rec.header
        if h.type == r.PROCCTOR:
            abis[h.pid] = abi_for_svflags(rec.sv_flags)
            continue
        if pid and pid not in (h.pid, h.tid):
            continue
        tid = h.tid if h.tid > 0 else h.pid
        if h.type == r.SYSCALL:
            if wanted(abis.get(h.pid), rec.code):
                started[tid] = (rec.code, _ns(h))
            else:
                started.pop(tid, None)
        elif h.type == r.SYSRET and tid in started:
            code, start = started.pop(tid)
            abi = abis.get(h.pid)
            key = (h.pid if per_process else 0, abi is LINUX_I386)
            if key not in tallies:
                tallies[key] = (Tally(), abi)
            tallies[key][0].add(code, max(0, _ns(h) - start), rec.error != 0)
    return tallies


def _wanted(sel: Selection | None):
    """(abi, code) -> does -e trace= select the call?  Remembered per ABI and number:
    a cheap test per record is what makes a narrow summary faster than a full one."""
    if sel is None or sel.trace is ALL:
        return lambda abi, code: True
    known: dict = {}

    def wanted(abi, code: int) -> bool:
        key = (id(abi), code)
        if key not in known:
            name = (abi.syscall_name(code) if abi is not None else None) or f"syscall_{code:#x}"
            known[key] = sel.call(name, code)
        return known[key]
    return wanted


def _sec(ns: int) -> float:
    return ns / 1e9


def _cells(row: Row, grand: int) -> dict[str, object]:
    """A row's value in each column (count.c's PC_ lines)."""
    return {"time-percent": 100.0 * row.total / grand if grand else 0.0,
            "total-time": _sec(row.total), "avg-time": row.total // 1000 // row.calls,
            "min-time": _sec(row.shortest or 0), "max-time": _sec(row.longest),
            "calls": row.calls, "errors": row.errors, "name": row.name}


def _text(column: str, value, width: int, last: bool) -> str:
    """One cell as count.c prints it: times %.6f (percent %.2f), errors 0 as blank."""
    if column == "name":
        return value if last else value.ljust(width)
    if column == "time-percent":
        text = f"{value:.2f}"
    elif isinstance(value, float):
        text = f"{value:.6f}"
    else:
        text = str(value) if value or column != "errors" else ""
    return text.rjust(width)


def table(t: Tally, abi, columns: tuple[str, ...] = DEFAULT_COLUMNS,
          sort: str = "time-percent") -> list[str]:
    """strace -c's lines for one tally."""
    rows = list(t.rows.values())
    for row in rows:
        row.name = (abi.syscall_name(row.code) if abi is not None else None) \
            or f"syscall_{row.code:#x}"
    rows.sort(key=lambda row: (SORTS[sort](row), row.code))
    grand = sum(row.total for row in rows)
    total = Row(-1)
    total.name, total.total = "total", grand
    total.calls = sum(row.calls for row in rows)
    total.errors = sum(row.errors for row in rows)
    total.longest = max((row.longest for row in rows), default=0)
    total.shortest = min((row.shortest for row in rows), default=0)
    body = [_cells(row, grand) for row in rows]
    foot = _cells(total, grand)
    foot["time-percent"] = 100.0
    foot["avg-time"] = grand // 1000 // total.calls if total.calls else 0
    widths = {c: max(COLUMNS[c].width, *(len(_text(c, cells[c], 0, True))
                                         for cells in [*body, foot]))
              for c in columns}
    if "name" in widths:
        widths["name"] = max(COLUMNS["name"].width, 1 + max((len(row.name) for row in rows),
                                                             default=0))

    def line(cells) -> str:
        return " ".join(_text(c, cells[c], widths[c], i == len(columns) - 1)
                        for i, c in enumerate(columns))
    rule = " ".join("-" * widths[c] for c in columns)
    header = " ".join(COLUMNS[c].title if COLUMNS[c].left and i == len(columns) - 1
                      else (COLUMNS[c].title.ljust(widths[c]) if COLUMNS[c].left
                            else COLUMNS[c].title.rjust(widths[c]))
                      for i, c in enumerate(columns))
    return [header, rule, *(line(cells) for cells in body), rule, line(foot)]


def parse(argv: list[str]) -> Options:
    """The summary's options (for programs; the command goes through ``front``)."""
    return configure(options(FRONT, argv))


def _run(o: Options, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    tallies: dict = {}
    read_trace(o.trfile, lambda reader: tallies.update(count(o, reader, out)), out)
    write_tables(o, tallies, out)


def count(o: Options, reader, out: TextIO) -> dict:
    """The tallies of ``reader``'s records (with -C, their lines on ``out`` too)."""
    records = reader.wellformed()
    if o.lines:
        records = _with_lines(records, o, out)
    if o.selection.paths:       # -P needs a call's paths: narrow the records
        return tally(narrow(records, o.selection, statuses=False), o.pid, o.per_process)
    return tally(records, o.pid, o.per_process, o.selection)


def write_tables(o: Options, tallies: dict, out: TextIO) -> None:
    """The tables, a process's x86-64 one first (strace's call_summary)."""
    last = None
    for (pid, i386), (t, abi) in sorted(tallies.items()):
        if o.per_process and pid != last:
            out.write(("\n" if last is not None else "") + f"pid {pid}\n")
            last = pid
        if i386:
            out.write("System call usage summary for 32 bit mode:\n")
        out.write("\n".join(table(t, abi, o.columns, o.sort)) + "\n")


def _with_lines(records, o: Options, out: TextIO):
    """-C: the records, shown by the strace view as they go by."""
    from ktrace.kdump import strace
    view_opts = strace.ViewOptions()
    view_opts.pid, view_opts.selection = o.pid, o.selection
    view = strace.View(view_opts, out)
    try:
        for rec in records:
            view.record(rec)
            yield rec
    finally:
        view.close()


FRONT = Front("f:p:CwS:U:" + SELECTION_SHORT, ("per-process",), USAGE, configure, _run)


def main(argv: list[str], out: TextIO | None = None) -> int:
    if out is None:
        return front(FRONT, argv)
    return front(FRONT._replace(run=lambda o: _run(o, out)), argv)

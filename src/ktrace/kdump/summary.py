"""kdump --summary: strace -c's table from a trace file.

Per syscall: calls, errors, and the time between CALL and RET (total, per
call, longest), sorted by total time, in strace -c's layout (with its
``longest`` column, as ``strace -c -U ...,max-time,...`` prints it).
``--per-process`` prints one table per process.
"""

from __future__ import annotations

import getopt
import sys
from typing import TextIO

from ktrace import record as r
from ktrace.kdump.strace import abi_for

USAGE = "usage: kdump --summary [--per-process] [-p pid] [-f trfile]"
RULE = "------ ----------- ----------- -------- --------- --------- ----------------"
HEADER = "% time     seconds  usecs/call  longest     calls    errors syscall"


class Row:
    __slots__ = ("code", "calls", "errors", "total", "longest")

    def __init__(self, code: int):
        self.code = code
        self.calls = self.errors = 0
        self.total = self.longest = 0


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


def _ns(h: r.Header) -> int:
    return h.sec * 1_000_000_000 + h.nsec


def tally(records, pid: int = 0, per_process: bool = False) -> dict[int, tuple[Tally, object]]:
    """pid (0 for all) -> (Tally, the ABI of the calls) from a record stream."""
    started: dict[int, tuple[int, int]] = {}        # tid -> (code, start ns)
    abis: dict[int, object] = {}
    tallies: dict[int, tuple[Tally, object]] = {}
    for rec in records:
        h = rec.header
        if h.type == r.PROCCTOR:
            abis[h.pid] = abi_for(rec.sv_flags)
            continue
        if pid and pid not in (h.pid, h.tid):
            continue
        tid = h.tid if h.tid > 0 else h.pid
        if h.type == r.SYSCALL:
            started[tid] = (rec.code, _ns(h))
        elif h.type == r.SYSRET and tid in started:
            code, start = started.pop(tid)
            key = h.pid if per_process else 0
            if key not in tallies:
                tallies[key] = (Tally(), abis.get(h.pid))
            tallies[key][0].add(code, max(0, _ns(h) - start), rec.error != 0)
    return tallies


def table(t: Tally, abi) -> list[str]:
    """strace -c's lines for one tally."""
    rows = sorted(t.rows.values(), key=lambda row: (-row.total, row.code))
    grand = sum(row.total for row in rows)
    lines = [HEADER, RULE]

    def line(pct, total_ns, calls, errors, longest_ns, name):
        per_call = total_ns // 1000 // calls if calls else 0
        errs = str(errors) if errors else ""
        return (f"{pct:6.2f} {total_ns / 1e9:11.6f} {per_call:11d} {longest_ns / 1e9:8.6f} "
                f"{calls:9d} {errs:>9} {name}")

    for row in rows:
        name = (abi.syscall_name(row.code) if abi is not None else None) or f"syscall_{row.code:#x}"
        pct = 100.0 * row.total / grand if grand else 0.0
        lines.append(line(pct, row.total, row.calls, row.errors, row.longest, name))
    lines.append(RULE)
    calls = sum(row.calls for row in rows)
    errors = sum(row.errors for row in rows)
    longest = max((row.longest for row in rows), default=0)
    lines.append(line(100.0, grand, calls, errors, longest, "total"))
    return lines


def main(argv: list[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        opts, rest = getopt.getopt(argv, "f:p:", ["per-process"])
        if rest:
            raise getopt.GetoptError(f"unexpected argument {rest[0]!r}")
        trfile, pid, per_process = "ktrace.out", 0, False
        for flag, value in opts:
            if flag == "-f":
                trfile = value
            elif flag == "-p":
                pid = int(value)
            else:
                per_process = True
    except (getopt.GetoptError, ValueError) as e:
        print(f"kdump --summary: {e}\n{USAGE}", file=sys.stderr)
        return 1
    try:
        stream = sys.stdin.buffer if trfile == "-" else open(trfile, "rb")
    except OSError as e:
        print(f"kdump: {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        tallies = tally(r.RecordReader(stream), pid, per_process)
    except r.TraceFileError as e:
        print(f"kdump: {e}", file=sys.stderr)
        return 1
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    for n, (key, (t, abi)) in enumerate(sorted(tallies.items())):
        if per_process:
            out.write(("\n" if n else "") + f"pid {key}\n")
        out.write("\n".join(table(t, abi)) + "\n")
    return 0

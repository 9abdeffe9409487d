"""kdump's speed and memory on a large trace of mixed record types.

    flock /tmp/ktrace-bench.lock python3 benchmarks/bench_kdump.py [--records N]
        [--trace FILE ...] [--view text|json|strace ...] [--baseline SRC] [--write]

Generates an N-record trace (and one of N/10) with gen_mixed_trace.py, then
runs kdump (text, --json, then --strace; --view chooses) on it as a command
with output to /dev/null:
its user CPU time (best of --repeat runs: the machine may be shared), records
per second of it, and peak resident memory of each file size (flat memory:
the two should be about equal).  Each --trace (a real trace, more repetitive
than the generated one) is measured the same way, without the memory
columns.  The records/s "less start-up" leave out the CPU time kdump takes on
a one-record trace (interpreter, imports, tables).  --baseline SRC (another
tree's src/, e.g. ``git archive HEAD src | tar -x -C DIR``) runs that kdump on
each trace and view too, in turn with this one: the speed-up is a ratio within
one run.  --write replaces the "kdump" section of benchmarks/RESULTS.md with
the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = Path("/tmp/ktrace-bench")
COMMAND = "flock /tmp/ktrace-bench.lock python3 benchmarks/bench_kdump.py --write"
# records/s of user CPU each view is to reach (issue 15)
TARGETS = {"text": 1_000_000, "--json": 1_000_000, "--strace": 500_000}


def trace(records: int) -> Path:
    path = WORK / f"mixed-{records}.out"
    if not path.exists():
        WORK.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen_mixed_trace.py"),
                        "--records", str(records), str(path)], check=True)
    return path


def count(path: Path) -> int:
    """The records of a trace."""
    sys.path.insert(0, str(ROOT / "src"))
    from ktrace import record
    with open(path, "rb") as stream:
        return sum(1 for _ in record.RecordReader(stream))


def one_record(path: Path) -> Path:
    """A trace of the first record of ``path``: what kdump costs before its loop."""
    small = WORK / "one-record.out"
    with open(path, "rb") as stream:      # (not all of it: children inherit our peak RSS)
        data = stream.read(1 << 16)
    small.write_bytes(data[:64 + int.from_bytes(data[:4], "little")])
    return small


def run_kdump(path: Path, *mode: str, src: Path = ROOT / "src") -> tuple[float, int]:
    """(user CPU seconds, peak RSS in KiB) of one run of the kdump in ``src``
    with output to /dev/null; ``mode`` is kdump's arguments after -f FILE
    ("text": none)."""
    argv = [sys.executable, "-m", "ktrace.kdump.cli", "-f", str(path)]
    if mode != ("text",):
        argv.extend(mode)
    env = dict(os.environ, PYTHONPATH=str(src))
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(argv, env=env, stdout=devnull)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kdump failed on {path} ({mode})")
    return usage.ru_utime, usage.ru_maxrss


def measure(name: str, path: Path, records: int, repeat: int, small: Path | None,
            views: list[str], baseline: Path | None) -> list[dict]:
    """A row per view of the trace ``path``; with memory columns given ``small``,
    the same trace a tenth the size; with a ``baseline`` tree, its time too
    (runs alternate between the two)."""
    start = one_record(path)
    rows = []
    for mode in views:
        times, before = [], []
        for _ in range(repeat):
            times.append(run_kdump(path, mode)[0])
            if baseline is not None:
                before.append(run_kdump(path, mode, src=baseline)[0])
        best = min(times)
        startup = min(run_kdump(start, mode)[0] for _ in range(repeat))
        row = {"trace": name, "records": records, "mode": mode, "seconds": best,
               "rate": records / best, "loop_rate": records / max(best - startup, 1e-9)}
        if before:
            row["before"] = min(before)
        if small is not None:
            row.update(rss_small=run_kdump(small, mode)[1], rss_big=run_kdump(path, mode)[1])
        rows.append(row)
    return rows


def section(records: int, rows: list[dict], extra: str) -> str:
    compared = any("before" in row for row in rows)
    lines = [
        "## kdump",
        "",
        f"`{COMMAND}{extra}`",
        "",
        f"A {records:,}-record amd64-v1 trace of mixed types (benchmarks/gen_mixed_trace.py:",
        "CALL/RET pairs with NAMI, GIO text and binary, STRU, STRUCT_ARRAY, PSIG, CSW, USER,",
        "SCTL, PFLT/PRET, CAP, ARGS/ENVS; four Linux processes; arguments that vary more than",
        "real ones), and each real trace given, kdump run as a command with output to",
        "/dev/null; user CPU time, best of the runs (the machine is shared: wall time is",
        f"not the program's). Python {platform.python_version()}, {os.cpu_count()} cores.",
        "",
        "| trace | output | records | user s | records/s | less start-up | target "
        "| peak RSS, 1/10 file | peak RSS, whole file |"
        + (" baseline user s | speed-up |" if compared else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if compared else ""),
    ]
    for row in rows:
        rss = (f"{row['rss_small'] / 1024:.1f} MiB | {row['rss_big'] / 1024:.1f} MiB"
               if "rss_big" in row else "– | –")
        before = (f" {row['before']:.2f} | {row['before'] / row['seconds']:.2f}x |"
                  if "before" in row else " – | – |" if compared else "")
        lines.append(f"| {row['trace']} | {row['mode']} | {row['records']:,} "
                     f"| {row['seconds']:.2f} | {row['rate']:,.0f} | {row['loop_rate']:,.0f} "
                     f"| {TARGETS[row['mode']]:,} | {rss} |{before}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trace", type=Path, action="append", default=[],
                    help="an amd64-v1 trace to measure too (repeatable)")
    ap.add_argument("--view", choices=[mode.lstrip("-") for mode in TARGETS], action="append",
                    default=[], help="a view to measure (repeatable; default: all)")
    ap.add_argument("--baseline", type=Path,
                    help="another tree's src/ whose kdump is measured alongside")
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    a = ap.parse_args(argv)
    views = [mode for mode in TARGETS if not a.view or mode.lstrip("-") in a.view]
    rows = measure("mixed", trace(a.records), a.records, a.repeat, trace(a.records // 10),
                   views, a.baseline)
    for path in a.trace:
        rows += measure(path.name, path, count(path), a.repeat, None, views, a.baseline)
    extra = "".join(f" --trace {path}" for path in a.trace)
    extra += "".join(f" --view {view}" for view in a.view)
    extra += f" --baseline {a.baseline}" if a.baseline else ""
    text = section(a.records, rows, extra)
    print(text)
    if a.write:
        write_section("kdump", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

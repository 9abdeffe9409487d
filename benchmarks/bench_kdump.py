"""kdump's speed and memory on a large trace of mixed record types.

    flock /tmp/ktrace-bench.lock python3 benchmarks/bench_kdump.py [--records N] [--write]

Generates an N-record trace (and one of N/10) with gen_mixed_trace.py, then
runs kdump (text, then --json) on it as a command with output to /dev/null:
records per second (best of --repeat runs) and peak resident memory of each
file size (flat memory: the two should be about equal).  --write replaces
the "kdump" section of benchmarks/RESULTS.md with the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = Path("/tmp/ktrace-bench")
COMMAND = "flock /tmp/ktrace-bench.lock python3 benchmarks/bench_kdump.py --write"
TARGETS = {"text": 300_000, "--json": 200_000}


def trace(records: int) -> Path:
    path = WORK / f"mixed-{records}.out"
    if not path.exists():
        WORK.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "gen_mixed_trace.py"),
                        "--records", str(records), str(path)], check=True)
    return path


def run_kdump(path: Path, mode: str, *args: str) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one kdump run with output to /dev/null."""
    argv = [sys.executable, "-m", "ktrace.kdump.cli", "-f", str(path)]
    if mode != "text":
        argv += [mode, *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=devnull)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kdump failed on {path} ({mode})")
    return elapsed, usage.ru_maxrss


def measure(records: int, repeat: int) -> list[dict]:
    big, small = trace(records), trace(records // 10)
    rows = []
    for mode in TARGETS:
        best = min(run_kdump(big, mode)[0] for _ in range(repeat))
        rows.append({"mode": mode, "seconds": best, "rate": records / best,
                     "rss_small": run_kdump(small, mode)[1], "rss_big": run_kdump(big, mode)[1]})
    return rows


def section(records: int, rows: list[dict]) -> str:
    lines = [
        "## kdump",
        "",
        f"`{COMMAND}`",
        "",
        f"A {records:,}-record amd64-v1 trace of mixed types (benchmarks/gen_mixed_trace.py:",
        "CALL/RET pairs with NAMI, GIO text and binary, STRU, STRUCT_ARRAY, PSIG, CSW, USER,",
        "SCTL, PFLT/PRET, CAP, ARGS/ENVS; four Linux processes), kdump run as a command with",
        f"output to /dev/null; best of the runs. Python {platform.python_version()}, "
        f"{os.cpu_count()} cores.",
        "",
        "| output | seconds | records/s | target | peak RSS, 1/10 file | peak RSS, whole file |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {'text' if row['mode'] == 'text' else '--json'} | {row['seconds']:.2f} "
                     f"| {row['rate']:,.0f} | {TARGETS[row['mode']]:,} "
                     f"| {row['rss_small'] / 1024:.1f} MiB | {row['rss_big'] / 1024:.1f} MiB |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    a = ap.parse_args(argv)
    text = section(a.records, measure(a.records, a.repeat))
    print(text)
    if a.write:
        write_section("kdump", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

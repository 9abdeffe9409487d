"""Issue 15's figures in one run, each a ratio or rate taken within that run.

    flock /tmp/ktrace-bench.lock python3 benchmarks/bench_all.py [--quick | --repeat N]
        [--baseline SRC] [--write]

Needs root, the built BPF object and strace.  Runs the other benchmarks'
own functions (see each for what it measures and why), on one W1 =
`dd if=/dev/zero of=/dev/null bs=1 count=200000` (about 400,000 syscalls):

  bench_compress.traced    W1 traced by the bpf engine into a plain and a
                           compressed file, interleaved: size and time
  bench_kdump.measure      kdump's text, --json and --strace views of that
                           plain W1 trace: records per second of user CPU
  bench_cold_start.starts  `ktrace --engine bpf true` with no trace service
                           running, then with one up
  bench_bpf.measure        W1 and the build workload, untraced and traced by
                           the bpf engine, interleaved
  bench_ptrace.tracers     W1 under `strace -f -o FILE`, for scale

--baseline SRC (another tree's src/, e.g. ``git archive HEAD src | tar -x
-C DIR``, with the BPF objects copied in): that tree's kdump and first
trace are timed too, in turn with this one's.  Medians of --repeat runs
(default 3; --quick: 1).  Prints one table (figure, measured, target,
met?); --write replaces the "issue 15 in one run" section of
benchmarks/RESULTS.md with it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import bench_bpf
import bench_cold_start
import bench_compress
import bench_kdump
import bench_ptrace
from results import write_section

from ktrace.engine.bpf import unavailable_reason    # (on the path the benchmarks above set)

COMMAND = "flock /tmp/ktrace-bench.lock python3 benchmarks/bench_all.py --write"
VIEWS = ("text", "--json", "--strace")
BUILD_TARGET = 1.05       # issue 15, point 4: the build "stays ≤ 1.05x"


class Row(NamedTuple):
    figure: str
    measured: str
    target: str
    met: bool | None      # None: no target, shown for scale


def progress(text: str) -> None:
    print(f"bench_all: {text}", file=sys.stderr, flush=True)


def compression(repeat: int, work: Path) -> tuple[Path, list[Row]]:
    """(the plain W1 trace, its rows): bytes per syscall and zstd/plain time."""
    files = {False: work / "w1.out", True: work / "w1.out.zst"}
    times = {False: [], True: []}
    for i in range(repeat):
        for compress in (False, True) if i % 2 == 0 else (True, False):
            times[compress].append(bench_compress.traced("bpf", files[compress], compress)[0])
    calls = bench_compress.syscalls(files[False])
    size = {c: files[c].stat().st_size / calls for c in files}
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    return files[False], [
        Row("W1 trace, bytes per syscall, plain", f"{size[False]:.1f}", "–", None),
        Row("W1 trace, bytes per syscall, compressed", f"{size[True]:.1f}",
            f"≤ {bench_compress.TARGET_BYTES}", size[True] <= bench_compress.TARGET_BYTES),
        Row("W1 traced, compressed / plain time", f"{ratio:.3f}",
            f"≤ {bench_compress.TARGET_RATIO}", ratio <= bench_compress.TARGET_RATIO),
    ]


def kdump(trace: Path, repeat: int, baseline: Path | None) -> list[Row]:
    bench_kdump.WORK.mkdir(exist_ok=True)          # its one-record trace goes there
    records = bench_kdump.count(trace)
    rows = []
    for row in bench_kdump.measure("W1", trace, records, repeat, None, list(VIEWS), baseline):
        target = bench_kdump.TARGETS[row["mode"]]
        speedup = f" ({row['before'] / row['seconds']:.2f}x baseline)" if "before" in row else ""
        rows.append(Row(f"kdump {row['mode']} on W1 ({records:,} records), records/s",
                        f"{row['rate']:,.0f}{speedup}", f"≥ {target:,}", row["rate"] >= target))
    return rows


def first_trace(repeat: int, work: Path, baseline: Path | None) -> list[Row]:
    times = bench_cold_start.starts(repeat, str(work / "first.out"), baseline)
    rows = [
        Row("`ktrace --engine bpf true`, no service running, s", f"{times['cold']:.3f}",
            f"≤ {bench_cold_start.TARGET}", times["cold"] <= bench_cold_start.TARGET),
        Row("the same, service up, s", f"{times['warm']:.3f}", "–", None),
        Row("cold / warm", f"{times['cold'] / times['warm']:.1f}", "–", None),
    ]
    if baseline is not None:
        rows.append(Row("cold start, this tree / the baseline's",
                        f"{times['cold'] / times['baseline cold']:.2f}", "–", None))
    return rows


def tracing(repeat: int, work: Path) -> list[Row]:
    """The bpf engine against untraced runs, and strace on W1 for scale."""
    rows, _ = bench_bpf.measure({"dd", "build"}, repeat, work)
    dd_base, dd_traced = rows["dd"][:2]
    build_base, build_traced = rows["build"][:2]
    under_strace = bench_ptrace.tracers(work)["strace"](bench_bpf.DD)
    strace = statistics.median(bench_ptrace.timed(*under_strace) for _ in range(repeat))
    dd_target = bench_bpf.TARGETS["dd"]
    return [
        Row("W1 traced by the bpf engine / untraced", f"{dd_traced / dd_base:.2f}",
            f"≤ {dd_target}", dd_traced / dd_base <= dd_target),
        Row("build traced by the bpf engine / untraced", f"{build_traced / build_base:.2f}",
            f"≤ {BUILD_TARGET}", build_traced / build_base <= BUILD_TARGET),
        Row("W1 under strace -f / untraced", f"{strace / dd_base:.0f}", "–", None),
        Row("W1 under strace -f / bpf engine", f"{strace / dd_traced:.0f}", "–", None),
    ]


def table(rows: list[Row]) -> str:
    met = {True: "yes", False: "**no**", None: "–"}
    lines = ["| figure | measured | target | met? |", "|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.measured} | {r.target} | {met[r.met]} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one run of each (--repeat 1)")
    ap.add_argument("--baseline", type=Path, metavar="SRC",
                    help="another tree's src/: its kdump and first trace are timed too")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    reason = unavailable_reason()
    if reason:
        print(f"bench_all: {reason}", file=sys.stderr)
        return 1
    start = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ktrace-bench-all-") as tmp:
        work = Path(tmp)
        progress("compressed and plain trace files")
        trace, found = compression(repeat, work)
        rows += found
        progress("kdump's views")
        rows += kdump(trace, repeat, args.baseline)
        trace.unlink()
        progress("the first trace")
        rows += first_trace(repeat, work, args.baseline)
        progress("tracing: bpf engine, untraced, strace")
        rows += tracing(repeat, work)
    options = " --quick" if args.quick else f" --repeat {repeat}"
    options += f" --baseline {args.baseline}" if args.baseline else ""
    text = "\n".join([
        "## issue 15 in one run",
        "",
        f"`{COMMAND}{options}` (medians of {repeat}; Linux {platform.release()}; load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
        f"{(time.monotonic() - start) / 60:.0f} min)",
        "",
        table(rows),
        "",
        "Each figure comes from the benchmark named in benchmarks/bench_all.py, whose own "
        "section above has the details.",
    ]) + "\n"
    print(text)
    if args.write:
        write_section("issue 15 in one run", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The analysis views' speed and memory: kdump --perfetto, --parquet, --sql.

    flock /tmp/ktrace-bench.lock .venv/bin/python benchmarks/bench_analysis.py [--records N] [--big N] [--write]
    flock /tmp/ktrace-bench.lock .venv/bin/python benchmarks/bench_analysis.py --parts [--records N]
    flock /tmp/ktrace-bench.lock .venv/bin/python benchmarks/bench_analysis.py --unrepeated CALLS

On bench_kdump's generated trace of N records (default 1,000,000): records
per second of each view (best of --repeat runs, the text view alongside for
comparison) and peak resident memory; then peak memory on a trace of --big
records (default 10,000,000: about 1 GB), where memory must stay flat.
--write replaces the "kdump analysis views" section of benchmarks/RESULTS.md.

--parts says where a view's time goes instead, in this process: user CPU
microseconds per record of reading the records as the model takes them, of
the model with a sink that takes nothing (with and without decoding the
calls' arguments), of the model with each view's sink record by record
(KTRACE_PURE_PYTHON=1), and of each view's sink as the views run it, its
repeated units replayed (ktrace.analysis.units).

--unrepeated times --perfetto on a trace whose units never repeat (each call
returns another value), replayed by units and record by record: the cost of
learning where it cannot pay.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import shutil
import sys

from bench_kdump import ROOT, WORK, run_kdump, trace
from results import write_section

COMMAND = "flock /tmp/ktrace-bench.lock .venv/bin/python benchmarks/bench_analysis.py --write"
PARQUET_DIR = WORK / "parquet"
QUERY = "SELECT syscall, count(*), sum(duration_ns) FROM syscalls GROUP BY ALL"
VIEWS = {       # name -> kdump's arguments after -f FILE
    "text": ("text",),
    "--perfetto": ("--perfetto", "-o", os.devnull),
    "--parquet": ("--parquet", str(PARQUET_DIR)),
    "--sql": ("--sql", QUERY),
}


def run(path, view: str) -> tuple[float, int]:
    shutil.rmtree(PARQUET_DIR, ignore_errors=True)
    try:
        return run_kdump(path, *VIEWS[view])
    finally:
        shutil.rmtree(PARQUET_DIR, ignore_errors=True)


def measure(records: int, big: int, repeat: int) -> list[dict]:
    path, large = trace(records), trace(big) if big else None
    rows = []
    for view in VIEWS:
        runs = [run(path, view) for _ in range(repeat)]
        best = min(seconds for seconds, _ in runs)
        row = {"view": view, "seconds": best, "rate": records / best,
               "rss": max(rss for _, rss in runs), "rss_big": None}
        if large is not None:
            row["rss_big"] = run(large, view)[1]
        rows.append(row)
    return rows


def user_seconds(work) -> float:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    work()
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime - before


class Discard(io.RawIOBase):
    def write(self, data) -> int:
        return len(data)


def parts(records: int, repeat: int) -> list[tuple[str, float]]:
    """(stage, user CPU µs per record), each stage best of ``repeat``."""
    sys.path.insert(0, str(ROOT / "src"))
    from ktrace import record as r
    from ktrace.analysis import calltext, feed
    from ktrace.analysis.model import Sink
    from ktrace.analysis.perfetto import PerfettoWriter
    from ktrace.analysis.tables import TableSink
    path = trace(records)

    def reader():
        return r.RecordReader(open(path, "rb"))

    def read():
        for _ in reader().wellformed():
            pass

    def perfetto():
        writer = PerfettoWriter(Discard())
        feed(reader(), writer)
        writer.close()

    def tables():
        sink = TableSink(lambda name, table: None)
        feed(reader(), sink)
        sink.close()

    def undecoded():
        describe = calltext.CallText.describe
        calltext.CallText.describe = lambda self, call, ret, done=calltext.Outcome(0): done
        try:
            feed(reader(), Sink())
        finally:
            calltext.CallText.describe = describe

    def record_by_record(work):
        def run():
            os.environ["KTRACE_PURE_PYTHON"] = "1"
            try:
                work()
            finally:
                del os.environ["KTRACE_PURE_PYTHON"]
        return run

    stages = (("read the records", read), ("model, no decoding, no sink", undecoded),
              ("model, no sink", lambda: feed(reader(), Sink())),
              ("model and the Perfetto writer, record by record", record_by_record(perfetto)),
              ("model and the table sink (all eight), record by record",
               record_by_record(tables)),
              ("the Perfetto writer, repeated units replayed", perfetto),
              ("the table sink (all eight), repeated units replayed", tables))
    return [(name, min(user_seconds(work) for _ in range(repeat)) / records * 1e6)
            for name, work in stages]


def unrepeated(calls: int, repeat: int) -> tuple[float, float]:
    """(user s by units, user s record by record) of --perfetto on a trace of
    ``calls`` getpid calls, each with another result: no unit repeats."""
    sys.path.insert(0, str(ROOT / "src"))
    from ktrace import record as r
    path = WORK / f"unrepeated-{calls}.out"
    if not path.exists():
        ns = 2_000_000_000
        records = [r.pack_record(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64),
                                 7, 7, b"x", ns, 0)]
        for i in range(calls):
            records.append(r.pack_record(r.SYSCALL, r.syscall_payload(39, ()), 7, 7, b"x",
                                         ns + 2000 * i + 1000, 0))
            records.append(r.pack_record(r.SYSRET, r.sysret_payload(39, 0, i), 7, 7, b"x",
                                         ns + 2000 * i + 2000, 0))
        path.write_bytes(b"".join(records))
    times = {}
    for way, pure in (("units", None), ("record by record", "1")):
        if pure:
            os.environ["KTRACE_PURE_PYTHON"] = pure
        try:
            times[way] = min(run(path, "--perfetto")[0] for _ in range(repeat))
        finally:
            os.environ.pop("KTRACE_PURE_PYTHON", None)
    return times["units"], times["record by record"]


def section(records: int, big: int, size: int, rows: list[dict]) -> str:
    lines = [
        "## kdump analysis views",
        "",
        f"`{COMMAND}`",
        "",
        f"bench_kdump's generated trace of {records:,} records (benchmarks/gen_mixed_trace.py),",
        "each view run as a command: `--perfetto -o /dev/null`, `--parquet DIR` (all eight",
        f"tables), `--sql \"{QUERY}\"`; best of the runs,",
        f"the text view alongside. Peak RSS also on a {big:,}-record trace "
        f"({size / 2**30:.2f} GiB).",
        f"Python {platform.python_version()}, {os.cpu_count()} cores. Compare a view with the",
        "text view of the same run: load from elsewhere on the machine slows them alike.",
        "",
        f"| view | seconds | records/s | of the text view's | peak RSS "
        f"| peak RSS, {big // 1_000_000}M records |",
        "|---|---|---|---|---|---|",
    ]
    text_rate = next(row["rate"] for row in rows if row["view"] == "text")
    for row in rows:
        big_rss = "–" if row["rss_big"] is None else f"{row['rss_big'] / 1024:.1f} MiB"
        lines.append(f"| {row['view']} | {row['seconds']:.2f} | {row['rate']:,.0f} "
                     f"| {row['rate'] / text_rate:.0%} | {row['rss'] / 1024:.1f} MiB "
                     f"| {big_rss} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--big", type=int, default=10_000_000, help="0: skip the big trace")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    ap.add_argument("--parts", action="store_true", help="where the time goes, in-process")
    ap.add_argument("--unrepeated", type=int, metavar="CALLS",
                    help="--perfetto by units and record by record on CALLS calls that differ")
    a = ap.parse_args(argv)
    if a.unrepeated:
        by_units, by_record = unrepeated(a.unrepeated, a.repeat)
        print(f"{a.unrepeated:,} calls that differ: {by_units:.2f} user s by units, "
              f"{by_record:.2f} record by record ({by_units / by_record:.2f}x)")
        return 0
    if a.parts:
        for stage, micros in parts(a.records, a.repeat):
            print(f"| {stage} | {micros:.2f} |")
        return 0
    rows = measure(a.records, a.big, a.repeat)
    size = trace(a.big).stat().st_size if a.big else 0
    text = section(a.records, a.big, size, rows)
    print(text)
    if a.write:
        write_section("kdump analysis views", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bpf engine's cost, measured against the same programs untraced.

    flock /tmp/ktrace-bench.lock python3 benchmarks/bench_bpf.py [--repeat N] [--write] [WORKLOAD ...]

Needs root and the built BPF object.  Measured, each --repeat times, the
untraced and traced runs interleaved (medians; ratios in one run are what
count on a shared 2-core machine):

  dd        dd if=/dev/zero of=/dev/null bs=1 count=200000 (about 400,000 syscalls), with
            the default trace points, and with -t ciy, -t ci and -t c (where the time
            goes), the variants in a rotating order
  build     make -s -j2 of a generated C project (40 files, benchmarks/workloads)
  storm     4 threads writing 4 KiB to /dev/null 5,000 times each, with a 1 MiB ring:
            without --lossless (drops) and with it (throttled, nothing lost)
  attached  dd untraced while the engine is loaded: what every syscall on the
            machine pays while ktrace is attached

Traced runs use the default trace points (-t +, i.e. cinpstuyae) with inheritance,
through an engine already loaded (the steady state of a running trace service);
the time runs from releasing the program until every record is in the file.
"ktrace cmd" end to end (service start and BPF load included) is shown for dd.
--write replaces the "bpf engine" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from ktrace import record as r, trpoints                              # noqa: E402
from ktrace.facility import KTROP_SET, Cred, Facility, Request, TraceFile   # noqa: E402

COMMAND = "flock /tmp/ktrace-bench.lock python3 benchmarks/bench_bpf.py --write"
DD = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000"]
DD_SYSCALLS = 400_000
TARGETS = {"dd": 1.5, "build": 1.05}     # issue 15's (they were 3 and 1.15)
STORM_C = HERE / "workloads" / "bpf_storm.c"


def untraced(argv, prepare=lambda: None) -> float:
    prepare()
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def traced(argv, out: Path, options: dict | None = None, prepare=lambda: None,
           points: int = trpoints.DEFAULT):
    """(seconds, dropped): release to last record written."""
    from ktrace.engine.bpf import BpfEngine
    prepare()
    engine = BpfEngine(options or {})
    facility = Facility(engine)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(wfd)
            os.read(rfd, 1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    os.close(rfd)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    cred = Cred(os.getpid(), 0, 0)
    log_r, log_w = os.pipe()
    facs = points | trpoints.LIFECYCLE | r.KTRFAC_INHERIT
    assert facility.ktrace(Request(KTROP_SET, facs, pid, TraceFile(fd, None, cred, log_w)),
                           cred) == 0
    done = []

    def service() -> bool:
        """The engine's callback: note when the last record is in the file."""
        if facility.tracing():
            return True
        done.append(time.perf_counter())
        return False

    start = time.perf_counter()
    os.write(wfd, b"go")
    engine.run(service)
    seconds = done[0] - start           # not counting the unloading of the program
    facility.stop_all()
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass          # --lossless reaped it (the engine held its exit)
    os.close(wfd)
    os.close(log_r)
    return seconds, engine.dropped


def cli_dd(out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", "bpf", "-i", "-f", str(out),
                    *DD], env=env, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def untraced_while_loaded(argv, prepare=lambda: None) -> float:
    """untraced(), while the engine's program is loaded and attached."""
    from ktrace.engine.bpf.loader import Program
    prog = Program(1 << 20)
    try:
        return untraced(argv, prepare)
    finally:
        prog.close()


def attached_cost(repeat: int) -> tuple[float, float]:
    """(dd seconds with nothing loaded, with the engine loaded), medians."""
    plain, loaded = [], []
    for _ in range(repeat):
        plain.append(untraced(DD))
        loaded.append(untraced_while_loaded(DD))
    return statistics.median(plain), statistics.median(loaded)


def other_engines() -> int:
    """How many ktrace BPF programs are loaded already (others' services or tests)."""
    try:
        out = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True).stdout
    except OSError:
        return 0
    return out.count("name ktr_sys_enter")


WORKLOADS = ("dd", "build", "storm", "attached")
DD_POINTS = (("dd", trpoints.DEFAULT), ("dd -t ciy", trpoints.parse("ciy")),
             ("dd -t ci", trpoints.parse("ci")), ("dd -t c", trpoints.parse("c")))
# the build traced, with the syscall records alone (its floor: a timestamped
# CALL and RET per syscall), and untraced while the engine is loaded (None)
BUILD_POINTS = (("build", trpoints.DEFAULT), ("build -t c", trpoints.parse("c")),
                ("build, engine loaded, not traced", None))


def median_row(base, runs, out: Path) -> tuple:
    """(untraced s, traced s, records, dropped) of interleaved runs; ``out``: the last trace.

    (Records are counted once, after the runs: reading 100 MB of trace between
    two runs would leave the next one a colder machine.)
    """
    return (statistics.median(base), statistics.median(t for t, _ in runs),
            sum(1 for _ in r.read_records(str(out))), max(d for _, d in runs))


def measure(wanted: set, repeat: int, work: Path) -> tuple[dict, list[str]]:
    """The table's rows by label, and lines to print after it."""
    rows, extra = {}, []

    def out(label: str) -> Path:
        return work / (label.replace(" ", "_") + ".out")

    if "dd" in wanted:
        base, runs = [], {label: [] for label, _ in DD_POINTS}
        for i in range(repeat):
            base.append(untraced(DD))
            # rotated: none is always the first run after the untraced one
            for label, points in DD_POINTS[i % len(DD_POINTS):] + DD_POINTS[:i % len(DD_POINTS)]:
                runs[label].append(traced(DD, out(label), points=points))
        rows.update({label: median_row(base, runs[label], out(label)) for label, _ in DD_POINTS})
        ends = [cli_dd(work / "cli.out") for _ in range(repeat)]
        extra += ["", f"`ktrace --engine bpf -i dd …` end to end (service start, BPF load and "
                  f"verification included): median {statistics.median(ends):.2f} s."]
    if "build" in wanted:
        build = work / "build"
        subprocess.run([sys.executable, str(HERE / "workloads" / "ptrace_build.py"), str(build),
                        "40"], check=True)
        make = ["make", "-s", "-j2", "-C", str(build)]

        def clean():
            subprocess.run(["make", "-s", "-C", str(build), "clean"], check=True,
                           stdout=subprocess.DEVNULL)

        base, runs = [], {label: [] for label, _ in BUILD_POINTS}
        for i in range(repeat):
            base.append(untraced(make, clean))
            turn = i % len(BUILD_POINTS)              # rotated, as dd's
            for label, points in BUILD_POINTS[turn:] + BUILD_POINTS[:turn]:
                runs[label].append(
                    traced(make, out(label), prepare=clean, points=points) if points
                    else (untraced_while_loaded(make, clean), 0))
        for label, points in BUILD_POINTS:
            rows[label] = median_row(base, runs[label], out(label)) if points else \
                (statistics.median(base), statistics.median(t for t, _ in runs[label]), 0, 0)
    if "storm" in wanted:
        storm = [str(work / "storm")]
        subprocess.run(["gcc", "-O1", "-pthread", "-o", storm[0], str(STORM_C)], check=True)
        for label, options in (("storm", {"ring_size": 1 << 20}),
                               ("storm --lossless", {"ring_size": 1 << 20, "lossless": True})):
            base, runs = [], []
            for _ in range(repeat):
                base.append(untraced(storm))
                runs.append(traced(storm, out(label), options))
            rows[label] = median_row(base, runs, out(label))
    if "attached" in wanted:
        plain, loaded = attached_cost(repeat)
        extra += ["", f"Untraced processes while the engine is loaded: dd {plain:.3f} s → "
                  f"{loaded:.3f} s, **{(loaded - plain) / DD_SYSCALLS * 1e9:.0f} ns per "
                  "syscall** (two tracepoints, the BPF dispatch, one byte looked up by pid)."]
    return rows, extra


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("workloads", nargs="*", metavar="WORKLOAD",
                    help=f"what to measure: {', '.join(WORKLOADS)} (default: all)")
    args = ap.parse_args()
    wanted = set(args.workloads or WORKLOADS)
    if wanted - set(WORKLOADS):
        print(f"bench_bpf: no such workload: {' '.join(sorted(wanted - set(WORKLOADS)))}",
              file=sys.stderr)
        return 1
    if args.write and wanted != set(WORKLOADS):
        print("bench_bpf: --write needs every workload", file=sys.stderr)
        return 1
    from ktrace.engine.bpf import unavailable_reason
    reason = unavailable_reason()
    if reason:
        print(f"bench_bpf: {reason}", file=sys.stderr)
        return 1

    others = other_engines()
    with tempfile.TemporaryDirectory() as tmp:
        rows, extra = measure(wanted, args.repeat, Path(tmp))
    lines = ["| workload | untraced s | traced s | ratio | target | records | dropped |",
             "|---|---|---|---|---|---|---|"]
    for name, (base, t, count, dropped) in rows.items():
        target = TARGETS.get(name)
        lines.append(f"| {name} | {base:.3f} | {t:.3f} | {t / base:.2f} | "
                     f"{'≤ ' + str(target) if target else '–'} | {count:,} | {dropped:,} |")
    if others:
        extra += ["", f"Measured while {others} other bpf engine(s) were loaded on the machine "
                  "(other sessions' tests): every syscall, traced or not, paid their "
                  "tracepoints too, which adds the same ~0.06 s to both dd columns."]
    text = "\n".join(lines + extra)
    print(text)
    if args.write:
        write_section("bpf engine", f"## bpf engine\n\n`{COMMAND}` (--repeat {args.repeat}; "
                      f"medians; Linux {platform.release()})\n\n{text}\n\n{NOTES}")
    return 0


NOTES = """\
Where dd's time goes (400,000 syscalls, 1.2 million records, ~100 MB): each
figure below is the difference one variant of the program made (a part left
out), measured interleaved with the shipped program, 9 runs each, on a quiet
machine of an earlier session (another 6.18 build), where untraced dd took a third of the time it
takes on the kernel of the table above (the engine's README, "Speed"):

| part | s | per syscall |
|---|---|---|
| dd untraced | 0.067 | 167 ns |
| the two syscall tracepoints, empty programs attached | +0.054 | 133 ns |
| two clock reads (`bpf_ktime_get_ns`) | +0.023 | 58 ns |
| one user copy for the GIO (`bpf_probe_read_user`, 1 byte) | +0.029 | 73 ns |
| the batches' copy into the ring buffer (and the loader's work) | +0.011 | 28 ns |
| the CALL record (its six argument registers) | +0.006 | 15 ns |
| the /proc/sys check (`y`: eight dependent loads, descriptor to superblock) | +0.005 | 13 ns |
| the RET record; the thread name | +0.003 | 8 ns |
| the rest: ids, checks, the GIO record | +0.007 | 18 ns |

The first four lines (0.17 s, 2.6) are the floor on this guest: kprobes are
not configured and fentry/fexit are refused, so the syscall tracepoints are
the only way in, and a clock read and a user copy are what a timestamped
record of the data is; every call costs ~20-40 ns here (the SRSO "safe RET"
thunk on each return).  The engine makes no other call on the common path
(per-CPU copies of the process entry and the thread name, a state byte per
thread, the pid read from the task, inline GIO and /proc/sys checks), and
records are written once into a per-CPU batch that stays in the L1 cache.  So
the dd target of 3 of that session sat at that guest's floor and was not met reliably: the
quietest runs measured 3.06-3.11, the usual ones 3.1-3.5 (a shared 2-vCPU
machine whose speed drifts by 5-10 % from one minute to the next; other
sessions' tests run here too; on 2026-11-26, six runs of 9 gave medians of
3.12-3.48 for the default set and 3.07-3.26 for `-t ci`.  The /proc/sys
check (`y`) cost 0.05 in the table's run (`-t ciy` against `-t ci`) and 0.14
in one of 11 runs in rotating order; the default set's other points do
nothing on a read or write, and its distance from `-t ciy` (0.13 here, -0.02
in that run) is within the machine's drift).  It was 5.1 before (a hash
lookup, a task-storage lookup and a dozen subprogram and helper calls per
event).  What is left to try: records written straight into memory the loader maps (per-CPU
rings of batches, ordered by a sequence number) would save the copy into the
ring, but the records would then be written into cold memory instead, which
is most of what that copy costs.

Two checks of that account: a cpu-clock profile of the traced dd (`perf
record -F 25000 -e cpu-clock -a -- ktrace --engine bpf -i dd ... count=400000`;
this guest has no hardware counters) puts 17.7 % of dd's samples in read_tsc
(the two clock reads, ~53 ns a syscall) and ~17 % in copy_from_user_nofault
with its hardened-usercopy checks (~50 ns a copy).  And the time after dd
exits is not where it goes: dd's own exit comes at 3.0-3.1x its untraced
time, and polling the ring every 1 ms instead of 10 ms (less left to write at
the end; `ktrace.engine.bpf.POLL`, the two interleaved, 15 runs each) moved the
median by nothing (3.13 and 3.15).

Issue 15 asked for 1.5 on dd.  Measured side by side on 2026-12-06 (dd's
own CPU time from rusage, and the wall time to the last record in the file;
9-11 runs of each, variants of the program built for the purpose, the
machine quiet to busy): with the two syscall programs attached but returning
at once, dd takes 1.30-1.33x its untraced time (1.27-1.37x CPU), the floor
of a tracepoint engine here before anything is recorded; the engine
2.2-2.7x, as before this issue's changes (the two side by side: 2.43 and
2.17, 2.69 and 2.71, 2.24 and 2.13); a variant without its two clock reads
0.1-0.5 less (2.21 against 2.71 in the last run).  The changes on the hot
path: each syscall exit makes three calls fewer (the SIGKILL check read by
helper, and two bpf_get_current_task_btf: the SIGKILL and /proc/sys checks
load through the task pointer the event already has).  Making the two
byte-per-pid arrays maps of their own (no copy of their 8 MiB image at
load) cost 0.1-0.2 here (an inlined lookup on every syscall of the
machine): they stay global data.  The two clock reads stay too: FreeBSD
stamps every record when it is written, so a RET sharing its CALL's read
would carry no duration (a blocking read's RET would show when it was
called), and the coarse clock (jiffies) would put a RET before its CALL.
So 1.5 is not within reach of the same records on this guest.

The build (issue 15: at most 1.05): its three rows are run in turn with the
untraced one.  Loaded but tracing nothing, the engine costs the build
nothing measurable (1.00-1.02: the tracepoints every syscall passes).
Traced with the syscall records alone (`-t c`: a CALL and a RET, each
stamped with a clock read) it costs 1.05-1.09, the default set 1.07-1.09,
in four runs of 7-11 on 2026-12-07 (this table's, one of `bench_bpf.py
--repeat 9 build`, two of a throwaway script timing the same variants the
same way): the build's cost is dd's floor
above, per syscall (about 90,000 syscalls, the `-t c` row's records, at
~0.4 µs each), and the default set's paths and data add up to 0.04.  Its
share depends on how fast the machine compiles: on the machine of the
session before, the build took 1.6 s untraced and 1.05x traced; on this
one, which builds in 0.46 s, the same syscalls cost it more.

The trace file is written by one Python process in 32 KiB batches (one write
per 256 KiB); it runs on the other core.  "traced s" ends when the last record
is in the file (unloading the program afterwards is not counted).  The
strace view of bpf traces matches strace on 96.27 % of its lines (99.87 %
without the recording gaps the ptrace engine has too), as the ptrace engine's:
`KTRACE_DIFF_ENGINE=bpf python3 benchmarks/strace_match.py`.

--lossless: the BPF program stops a thread returning to user space while the
ring is more than 1/4 full (SIGSTOP, seen only by ktrace, which has seized every
thread); ktrace resumes it, dropping the signal, once the ring is below 1/16.
Its costs: every traced thread is ptrace-seized (each signal the program gets
makes a round trip through ktrace), and a program producing records faster than
ktrace writes them runs at ktrace's pace."""


if __name__ == "__main__":
    sys.exit(main())

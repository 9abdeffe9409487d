"""The first trace: `ktrace --engine bpf true` with no trace service running,
against a warm one, and where the cold start's time goes.

    flock /tmp/ktrace-bench.lock python3 benchmarks/bench_cold_start.py [--repeat N] [--write]

Per run: wall seconds of `ktrace --engine bpf -f F true` when no service is up
(cold: it starts one, which opens, verifies and attaches the BPF program),
then at once again (warm: the service is still up), and for scale `strace
-f -o /dev/null true`; medians of --repeat runs.  Then the parts of the cold
start, measured alone: the interpreter with ktrace's command imported, and
the BPF program's load and attach in this process, with the verifier's own
statistics for each program (its time and the instructions it walked).
--write replaces the "first trace" section of benchmarks/RESULTS.md.
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

from ktrace import service                          # noqa: E402
from ktrace.engine.bpf import loader                # noqa: E402
from ktrace.platform import libbpf                  # noqa: E402

COMMAND = "flock /tmp/ktrace-bench.lock python3 benchmarks/bench_cold_start.py --write"
KTRACE = [sys.executable, "-m", "ktrace.cli"]
TARGET = 0.3               # seconds, cold


def seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def no_service(timeout: float = 30.0) -> None:
    """Wait until the bpf service of an earlier run has gone (it idles out)."""
    end = time.monotonic() + timeout
    while service.running("bpf"):
        if time.monotonic() > end:
            raise SystemExit("a bpf trace service stays up: is something being traced?")
        time.sleep(0.2)


def starts(repeat: int, out: str) -> dict[str, float]:
    trace = KTRACE + ["--engine", "bpf", "-f", out, "true"]
    cold, warm, strace = [], [], []
    for _ in range(repeat):
        no_service()
        cold.append(seconds(trace))
        warm.append(seconds(trace))
        strace.append(seconds(["strace", "-f", "-o", os.devnull, "true"]))
    return {"cold": statistics.median(cold), "warm": statistics.median(warm),
            "strace": statistics.median(strace)}


def parts(repeat: int) -> tuple[float, float, float, dict[str, str]]:
    """(interpreter + imports, load + attach, its CPU time, the verifier's
    statistics per program).  CPU time (the verifier runs in the loading
    process's system calls) moves less than wall time on a busy machine."""
    imports = statistics.median(
        seconds([sys.executable, "-c", "import ktrace.cli"]) for _ in range(repeat))
    loads, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        loader.Program(1 << 24).close()
        loads.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    obj = libbpf.BpfObject(str(loader.objects()[0]))
    try:
        stats = obj.load_measured()
    finally:
        obj.close()
    return imports, statistics.median(loads), statistics.median(cpu), stats


def verifier_rows(stats: dict[str, str]) -> list[str]:
    rows = []
    for name, text in stats.items():
        words = text.split()
        usec = words[words.index("time") + 1] if "time" in words else "?"
        insns = words[words.index("processed") + 1] if "processed" in words else "?"
        rows.append(f"| {name} | {int(usec) / 1000:.1f} | {int(insns):,} |"
                    if usec.isdigit() and insns.isdigit() else f"| {name} | ? | ? |")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        times = starts(args.repeat, os.path.join(tmp, "t.out"))
    no_service()
    imports, load, load_cpu, stats = parts(args.repeat)
    lines = [
        "## first trace",
        "",
        f"`{COMMAND}` (--repeat {args.repeat}; medians; Linux {platform.release()}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
        "",
        "| | seconds | target |",
        "|---|---|---|",
        f"| `ktrace --engine bpf true`, no service running | {times['cold']:.3f} | ≤ {TARGET} |",
        f"| the same, service up | {times['warm']:.3f} | – |",
        f"| `strace -f true` | {times['strace']:.3f} | – |",
        f"| of the cold start: interpreter and imports | {imports:.3f} | – |",
        f"| of the cold start: BPF load and attach | {load:.3f} | – |",
        f"| the same, CPU time | {load_cpu:.3f} | – |",
        "",
        "The verifier's statistics for each program (one load, log level 4):",
        "",
        "| program | verification ms | instructions walked |",
        "|---|---|---|",
        *verifier_rows(stats),
        "",
        NOTES,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section("first trace", text)
    return 0


NOTES = """\
Where a cold start goes, and what issue 15 changed (2026-12-06; instruction
counts are exact, times on this shared 2-CPU machine move with its load, so
compare CPU times and runs taken side by side):

* The verifier walked 211,096 and 320,634 instructions of the two syscall
  programs (0.86 s of 1.29 s of loading): the per-argument and per-record code was
  static functions, which the verifier walks again from every call site on
  every path, and bounded loops, which it walks once per iteration.  Now the
  record writers (ktr_send, ktr_make_room, ktr_emit, ktr_iovec_gio, besides
  ktr_arg_entry/ktr_arg_exit) are global functions, checked once each; the
  loops of many steps run under bpf_loop (5.17; a bounded loop before);
  values that split paths (a struct name's length, the arguments put off to
  the exit) go through the stage.  All programs together, built from
  today's plan tables: 599,203 instructions walked before, 27,803 after;
  loading the object, 1.13 s of CPU before, 0.097 s
  after (a 1 MiB ring, the two interleaved, 7 each).  The cold
  start itself, this tree and the one before alternated (5 each, load
  average 5-6, everything about 3x slower than on a quiet machine): 3.26 s
  before, 0.84 s after (medians; the warm start 0.34 and 0.31).
* libbpf copies 8 MiB of zeros into the two byte-per-pid arrays at every
  load (global data's initial image, ~10 ms of CPU).  As maps of their own
  they would not be copied, but every syscall on the machine would then
  look them up: dd traced took 2.32x instead of 2.13x side by side, so
  they stay global data.
* The loader read the kernel's BTF itself (5 MB at a page per read) before
  libbpf read it again; it now picks the build by kernel version and finds
  tracepoints in tracefs.  libbpf's lookup of itself ran ldconfig (a fork
  and exec) in the command and again in the service; now only when
  libbpf.so.1 is not found by its name.
* What is left of loading (about 0.1 s of CPU): libbpf reading and parsing
  the kernel's BTF and searching it for the 24 kernel types the program
  relocates (CO-RE), creating the maps (the ring) and JIT-compiling; the
  verifier's share is now under half.  The rest of a cold start is two
  Python interpreters, the command's and the service's it starts, each
  importing ktrace (the service is a fresh process: ktrace/service.py); the
  service's imports before it loads anything take about as long as the
  load (`python -X importtime`: ktrace.record and ktrace.abi.linux_plan the
  largest), which keeps the cold start above the 0.3 s target."""


if __name__ == "__main__":
    sys.exit(main())

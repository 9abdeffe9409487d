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


def parts(repeat: int) -> tuple[float, float, dict[str, str]]:
    """(interpreter + imports, load + attach, the verifier's statistics per program)."""
    imports = statistics.median(
        seconds([sys.executable, "-c", "import ktrace.cli"]) for _ in range(repeat))
    loads = []
    for _ in range(repeat):
        start = time.perf_counter()
        loader.Program(1 << 24).close()
        loads.append(time.perf_counter() - start)
    obj = libbpf.BpfObject(str(loader.objects(libbpf.KernelBtf())[0]))
    try:
        stats = obj.load_measured()
    finally:
        obj.close()
    return imports, statistics.median(loads), stats


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
    imports, load, stats = parts(args.repeat)
    lines = [
        "## first trace",
        "",
        f"`{COMMAND}` (--repeat {args.repeat}; medians; Linux {platform.release()})",
        "",
        "| | seconds | target |",
        "|---|---|---|",
        f"| `ktrace --engine bpf true`, no service running | {times['cold']:.3f} | ≤ {TARGET} |",
        f"| the same, service up | {times['warm']:.3f} | – |",
        f"| `strace -f true` | {times['strace']:.3f} | – |",
        f"| of the cold start: interpreter and imports | {imports:.3f} | – |",
        f"| of the cold start: BPF load and attach | {load:.3f} | – |",
        "",
        "The verifier's statistics for each program (one load, log level 4):",
        "",
        "| program | verification ms | instructions walked |",
        "|---|---|---|",
        *verifier_rows(stats),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section("first trace", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

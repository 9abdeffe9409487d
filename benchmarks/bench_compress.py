"""Compressed trace files against plain ones: size, tracing time, reading time.

    flock /tmp/ktrace-bench.lock python3 benchmarks/bench_compress.py [--repeat N] [--write]

W1 = dd if=/dev/zero of=/dev/null bs=1 count=200000 (about 400,000 syscalls),
default trace points with inheritance, traced by each engine already loaded
in this process (the steady state of a running trace service, as
bench_bpf.py measures it), into a plain file and into a compressed one, the
two interleaved --repeat times (medians; the ratio within one run is what
counts on a shared 2-core machine).  Per engine and format: seconds from
releasing dd until its last record is in the file, bytes per syscall,
write(2)s (one per flush, and of a compressed file one zstd frame each) and
their mean size before compression.  Then reading: kdump's text view and
the bare reader (ktrace.read_records) on the bpf engine's two files.
--write replaces the "compressed trace files" section of benchmarks/RESULTS.md.
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

from ktrace import engine as engines, record as r, tracefile, trpoints   # noqa: E402
from ktrace.facility import KTROP_SET, Cred, Facility, Request, TraceFile  # noqa: E402

COMMAND = "flock /tmp/ktrace-bench.lock python3 benchmarks/bench_compress.py --write"
W1 = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000"]
TARGET_BYTES = 20          # per syscall, compressed
TARGET_RATIO = 1.05        # compressed tracing time / plain


class Writes:
    """Counts the trace writes (flushes) of this process and their size before compression."""

    def __init__(self):
        self.count = self.bytes = 0
        self._write = tracefile.AppendWriter._write
        counter = self

        def counted(writer, data: bytes) -> int:
            counter.count += 1
            counter.bytes += len(data)
            return counter._write(writer, data)
        tracefile.AppendWriter._write = counted

    def take(self) -> tuple[int, int]:
        """(writes, bytes) since the last take."""
        taken = self.count, self.bytes
        self.count = self.bytes = 0
        return taken


def traced(engine_name: str, out: Path, compress: bool) -> tuple[float, float]:
    """Seconds from releasing W1 until every record is in ``out``, and the
    CPU seconds this process (the engine and its writer thread) took meanwhile.

    W1 is held by a shell waiting for a line, traced, then released: the
    shell's exec of dd is in the trace and the time, alike for both files.
    """
    engine = engines.load(engine_name, {})
    facility = Facility(engine)
    held = subprocess.Popen(["sh", "-c", 'read _ && exec "$@"', "sh", *W1],
                            stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fd = tracefile.create(str(out), append=False, compress=compress)
    cred = Cred(os.getpid(), 0, 0)
    facs = trpoints.DEFAULT & engine.facilities | trpoints.LIFECYCLE | r.KTRFAC_INHERIT
    assert facility.ktrace(Request(KTROP_SET, facs, held.pid, TraceFile(fd, None, cred)),
                           cred) == 0
    start, cpu = time.perf_counter(), time.process_time()
    held.stdin.write(b"go\n")
    held.stdin.close()
    ended = []     # the engine ends its run when the callback says False: noted then
    engine.run(lambda: facility.tracing() or ended.append(
        (time.perf_counter(), time.process_time())))
    facility.stop_all()
    held.wait()
    return ended[0][0] - start, ended[0][1] - cpu


def syscalls(path: Path) -> int:
    return sum(1 for rec in r.read_records(str(path)) if type(rec) is r.Syscall)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def kdump(path: Path) -> None:
    subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "-f", str(path)], check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))


def read_all(path: Path) -> None:
    for _ in r.read_records(str(path)):
        pass


def measure_engine(name: str, repeat: int, work: Path, writes: Writes) -> list[str]:
    files = {False: work / f"{name}.out", True: work / f"{name}.out.zst"}
    runs = {False: [], True: []}          # (seconds, cpu seconds)
    flushes = {False: [], True: []}
    for i in range(repeat):
        for compress in (False, True) if i % 2 == 0 else (True, False):
            writes.take()
            runs[compress].append(traced(name, files[compress], compress))
            flushes[compress].append(writes.take())
    calls = syscalls(files[False])
    seconds = {c: statistics.median(t for t, _ in runs[c]) for c in runs}
    cpu = {c: statistics.median(u for _, u in runs[c]) for c in runs}
    rows = []
    for compress in (False, True):
        count, size = flushes[compress][-1]
        rows.append(f"| {name} | {'zstd' if compress else 'plain'} | {seconds[compress]:.3f} | "
                    f"{cpu[compress]:.3f} | {files[compress].stat().st_size / calls:.1f} | "
                    f"{count:,} | {size / max(count, 1) / 1024:.0f} |")
    rows[0] += " |"
    rows[1] += f" **{seconds[True] / seconds[False]:.3f}** |"
    return rows


def measure_reading(plain: Path, compressed: Path, repeat: int) -> list[str]:
    rows = []
    for label, fn in (("kdump (text view)", kdump), ("ktrace.read_records", read_all)):
        times = {plain: [], compressed: []}
        for _ in range(repeat):
            for path in (plain, compressed):
                times[path].append(timed(lambda: fn(path)))
        a, b = (statistics.median(times[p]) for p in (plain, compressed))
        rows.append(f"| {label} | {a:.2f} | {b:.2f} | {b / a:.3f} |")
    return rows


def whole_file_floor(plain: Path, calls: int) -> float:
    """Bytes per syscall of the plain file compressed as one frame by zstd -3."""
    out = subprocess.run(["zstd", "-3", "-c", str(plain)], check=True, capture_output=True)
    return len(out.stdout) / calls


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--engines", default="bpf,ptrace")
    args = ap.parse_args()
    writes = Writes()
    lines = ["| engine | file | traced s | service CPU s | bytes/syscall | writes "
             "| KiB/write before zstd | zstd/plain time |", "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in args.engines.split(","):
            lines += measure_engine(name, args.repeat, work, writes)
        first = args.engines.split(",")[0]
        plain, compressed = work / f"{first}.out", work / f"{first}.out.zst"
        calls = syscalls(plain)
        lines += ["", f"W1's {calls:,} syscalls; the plain file compressed whole by `zstd -3` "
                  f"(one frame): {whole_file_floor(plain, calls):.1f} bytes/syscall.", "",
                  f"Reading the {first} engine's files ({plain.stat().st_size / 1e6:.1f} MB plain, "
                  f"{compressed.stat().st_size / 1e6:.2f} MB compressed), medians of "
                  f"{args.repeat}:", "",
                  "| reader | plain s | zstd s | zstd/plain |", "|---|---|---|---|"]
        lines += measure_reading(plain, compressed, args.repeat)
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("compressed trace files",
                      f"## compressed trace files\n\n`{COMMAND}` (--repeat {args.repeat}; "
                      f"medians; Linux {platform.release()}; targets: ≤ {TARGET_BYTES} "
                      f"bytes/syscall, zstd/plain time ≤ {TARGET_RATIO})\n\n{text}\n\n{NOTES}")
    return 0


NOTES = """\
Where the frames come from: the facility writes a file's queue when it holds
256 KiB and whenever an engine flushes (the bpf engine after each drain of
its ring, the ptrace engine when its 50 ms ticker wakes it or before it
waits); each write is one frame, so frames are as big as the writes above.
At 256 KiB a frame compresses as well as the whole file does (one frame,
`zstd -3`), and zstd level 1 as well as level 3 on W1, 40% faster (on a
varied trace, a shell running ls -lR, cat and python: ratio 11.5 against
12.1).  The frame is compressed and written on a thread of the writer while
the engine goes on (tracefile.AppendWriter), so what compression costs is
the CPU column's difference, on the core dd does not use; in the engine's
loop it made W1 1.2-1.6x slower.  The time ratio moves with the machine's
load (other sessions' tests share its 2 cores): the CPU column is the
steadier figure.
"""


if __name__ == "__main__":
    sys.exit(main())

"""Traces of real programs for the analysis views' tests (--perfetto, --parquet, --sql).

One workload touches what the views show: a signal with a handler, a failed
open, a pipeline of forked children, a sleep, a utrace record, exits; traced
with -t +wf so that context switches and page faults are in the file too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import require_bpf
from ktrace import record as r

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = dict(os.environ, PYTHONPATH=str(SRC))
MISSING = "/nonexistent-ktrace-analysis"
WORKLOAD = f"""\
trap ':' USR1
kill -USR1 $$
ls {MISSING}
cat /etc/hostname | wc -c
sleep 0.05
"{sys.executable}" -c 'import ktrace; ktrace.utrace(b"checkpoint one")'
exit 3
"""


def engines() -> list:
    """ptrace always; bpf where it can run (required in CI), else skipped with the reason."""
    from ktrace import control
    reason = control.bpf_unavailable()
    marks = [] if reason is None or require_bpf() else [pytest.mark.skip(reason=reason)]
    return ["ptrace", pytest.param("bpf", marks=marks)]


def make_trace(directory: Path, engine: str = "ptrace") -> Path:
    """Run the workload under ktrace; the trace file's path."""
    script = directory / "work.sh"
    script.write_text(WORKLOAD)
    out = directory / f"{engine}.out"
    res = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine, "-i",
                          "-t", "+wf", "-f", str(out), "sh", str(script)],
                         env=ENV, capture_output=True, timeout=120)
    assert res.returncode == 3, res.stderr
    return out


def kdump(*args, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", *map(str, args)],
                          env=ENV, timeout=300, **kw)


def without_extra(*args) -> subprocess.CompletedProcess:
    """kdump as if pyarrow and duckdb were not installed."""
    code = ("import sys; sys.modules['pyarrow'] = sys.modules['duckdb'] = None; "
            "from ktrace.kdump.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], env=ENV,
                          capture_output=True, timeout=60)


def counts(path: Path) -> Counter:
    """Records per type name, "failed" for SYSRETs of failed calls, "CSW out";
    of the good records only, in a truncated file."""
    c: Counter = Counter()
    try:
        for rec in r.read_records(str(path)):
            c[r.TYPE_NAMES.get(rec.header.type, "UNKNOWN")] += 1
            if rec.header.type == r.SYSRET and rec.error not in (0, -2):
                c["failed"] += 1
            if rec.header.type == r.CSW and rec.out:
                c["CSW out"] += 1
    except r.TraceFileError:
        pass
    return c


def truncated(path: Path, directory: Path) -> Path:
    """The trace (amd64 v1, as the engines write) cut 7 bytes into a record
    about two thirds of the way in: never on a record boundary."""
    data = path.read_bytes()
    header = r.AMD64_V1.header.size
    start = 0
    while start < len(data) * 2 // 3:
        start += header + int.from_bytes(data[start:start + 4], "little", signed=True)
    cut = directory / "truncated.out"
    cut.write_bytes(data[:start + 7])
    return cut


def freebsd_samples(samples_dir: Path) -> list[Path]:
    return sorted((samples_dir / "freebsd").glob("*.ktrace.out"))

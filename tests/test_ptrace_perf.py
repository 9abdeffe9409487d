"""CSW and PFLT/PRET through perf events; notices for what cannot be recorded."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from ktrace import record as r
from ptrace_support import ENV, build, records, run_traced

SEGV_C = r"""
int main(void) { *(volatile int *)0x10 = 1; return 0; }
"""


def _perf_allowed() -> bool:
    try:
        with open("/proc/sys/kernel/perf_event_paranoid") as f:
            return int(f.read()) <= 2
    except OSError:
        return False


needs_perf = pytest.mark.skipif(not _perf_allowed(), reason="perf_event_paranoid > 2")


@needs_perf
def test_page_faults_are_recorded_with_their_end(tmp_path):
    out = tmp_path / "f.out"
    code = "b = bytearray(1 << 22)\nfor i in range(0, len(b), 4096): b[i] = 1"
    assert run_traced([sys.executable, "-S", "-c", code], out, "f").returncode == 0
    recs = [rec for rec in records(out) if isinstance(rec, (r.Fault, r.FaultEnd))]
    faults = [rec for rec in recs if isinstance(rec, r.Fault)]
    assert len(faults) > 1000                       # the 4 MiB touched page by page
    assert all(isinstance(b, r.FaultEnd) and b.result == 0
               for a, b in zip(recs[::2], recs[1::2]))
    assert all(rec.type in (0, 4) for rec in faults)


@needs_perf
def test_a_failed_fault_ends_in_invalid_address(tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "segv", SEGV_C)
    out = tmp_path / "s.out"
    run_traced([exe], out, "fs")
    recs = records(out)
    i = next(i for i, rec in enumerate(recs) if isinstance(rec, r.Fault) and rec.vaddr == 0x10)
    assert isinstance(recs[i + 1], r.FaultEnd) and recs[i + 1].result == 1


@needs_perf
def test_context_switches_alternate_per_thread(tmp_path):
    out = tmp_path / "w.out"
    run_traced(["/bin/sh", "-c", "sleep 0.05; echo x >/dev/null"], out, "cw")
    by_tid: dict[int, list] = {}
    for rec in records(out):
        if isinstance(rec, r.Csw):
            by_tid.setdefault(rec.header.tid, []).append(rec.out)
    assert by_tid
    for outs in by_tid.values():
        assert all(a != b for a, b in zip(outs, outs[1:]))     # out, in, out, in ...


@pytest.mark.parametrize("points, expected", [(["-t", "+"], 1), ([], 0)])
def test_capability_failures_get_one_notice(tmp_path, points, expected):
    """Asked for, p gets one notice; the default set means what the engine can record."""
    env = dict(ENV, KTRACE_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    proc = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", "ptrace", "-i", *points,
                           "-f", str(tmp_path / "p.out"), "/bin/sh", "-c", "/bin/true; /bin/true"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    notices = [line for line in proc.stderr.splitlines() if "capability failures (p)" in line]
    assert len(notices) == expected

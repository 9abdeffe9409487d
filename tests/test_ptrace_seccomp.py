"""The seccomp option: a filter makes unwanted syscalls free, records stay the same."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.platform import seccomp as sc
from ptrace_support import ENV, ROOT, records, run_traced

SCRIPT = "cat /etc/hostname; ls / >/dev/null; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status"


def _kinds(path) -> list:
    return [(type(rec).__name__, getattr(rec, "path", None)) for rec in records(path)]


def _status(proc) -> dict:
    lines = [line.split(":") for line in proc.stdout.decode().splitlines() if ":" in line]
    return {k: v.strip() for k, v in lines}


def test_filter_program_shape():
    prog = sc.trace_filter([2, 1, 257])
    assert len(prog) == 8 * (4 + 2 * 3 + 1)
    with pytest.raises(ValueError):
        sc.trace_filter(range(3000))


def test_narrow_facilities_same_records_with_a_filter(tmp_path):
    plain, filtered = tmp_path / "plain.out", tmp_path / "filtered.out"
    p = run_traced(["/bin/sh", "-c", SCRIPT], plain, "n")
    f = run_traced(["/bin/sh", "-c", SCRIPT], filtered, "n", seccomp=True)
    assert _status(p)["Seccomp"] == "0"
    assert _status(f)["Seccomp"] == "2"          # the filter is in place in the program
    assert _kinds(filtered) == _kinds(plain)
    assert any(kind == "Namei" and path == b"/etc/hostname" for kind, path in _kinds(filtered))


def test_no_filter_when_every_syscall_is_wanted(tmp_path):
    out = tmp_path / "c.out"
    proc = run_traced(["/bin/sh", "-c", SCRIPT], out, "cn", seccomp=True)
    assert _status(proc)["Seccomp"] == "0"
    assert sum(isinstance(rec, r.Syscall) for rec in records(out)) > 50


def test_utrace_still_answered_under_a_filter(tmp_path):
    out = tmp_path / "u.out"
    code = "import ktrace; ktrace.utrace(b'mark'); print('ok')"
    proc = run_traced([sys.executable, "-S", "-c", code], out, "u", seccomp=True)
    assert proc.stdout == b"ok\n", proc.stderr
    assert [rec.data for rec in records(out) if isinstance(rec, r.User)] == [b"mark"]


def test_unprivileged_program_gets_no_new_privs():
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs setpriv")
    work = Path(tempfile.mkdtemp(prefix="ktrace-nnp-"))   # pytest's tmp is not nobody's
    work.chmod(0o777)
    out = work / "nnp.out"
    cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
           "/usr/bin/python3", "-m", "ktrace.engine.ptrace", "--seccomp", "-t", "n",
           "-f", str(out), "/bin/sh", "-c", SCRIPT]
    if subprocess.run(cmd[:4] + ["/usr/bin/python3", "-c", "import sys; "
                                 "assert sys.version_info >= (3, 11)"]).returncode:
        pytest.skip("no Python 3.11 that user nobody may run")
    proc = subprocess.run(cmd, env=dict(ENV, PYTHONPATH=str(ROOT / "src")), capture_output=True,
                          timeout=60, cwd=work)
    shutil.rmtree(work)
    assert proc.returncode == 0, proc.stderr
    assert _status(proc) == {"Seccomp": "2", "NoNewPrivs": "1"}


def test_cleared_filtered_process_keeps_working(tmp_path):
    """A filter outlives tracing: the engine keeps serving it after a clear."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = dict(ENV, KTRACE_RUNTIME_DIR=str(run))
    out = tmp_path / "s.out"
    code = ("import os, sys, time\nsys.stdin.readline()\n"
            "for i in range(20):\n    os.stat('/etc/hostname'); time.sleep(0.01)\nprint('ok')")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
    ktrace = [sys.executable, "-m", "ktrace.cli", "--engine", "ptrace"]
    try:
        subprocess.run(ktrace + ["--seccomp", "-t", "n", "-p", str(child.pid), "-f", str(out)],
                       env=env, check=True, timeout=60)
        child.stdin.write(b"go\n")
        child.stdin.flush()
        time.sleep(0.1)
        subprocess.run(ktrace + ["-c", "-p", str(child.pid)], env=env, check=True, timeout=60)
        assert child.stdout.read() == b"ok\n"
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
    assert any(isinstance(rec, r.Namei) and rec.path == b"/etc/hostname" for rec in records(out))

"""A trace file that cannot grow: the program runs on unchanged, tracing stops.

As FreeBSD's ktr_writerequest(): a failed write stops tracing of the process
it was for, with one line on ktrace's stderr, and the file holds whole
records only.  Two ways to run out: a full file system (a tiny tmpfs, root
only) and RLIMIT_FSIZE (the file size limit ktrace(1) runs under).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ktrace import record as r
from ptrace_support import ENV

LIMIT = 64 * 1024
# a shell that writes 3000 lines to stdout (about 700 KiB of records) and ends with 3
SCRIPT = "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i + 1)); done; exit 3"
EXPECTED = "".join(f"line {i}\n" for i in range(3000))


def _traced(tmp_path: Path, trace: Path, preexec_fn=None) -> subprocess.CompletedProcess:
    run = tmp_path / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    env = dict(ENV, KTRACE_RUNTIME_DIR=str(run))
    return subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", "ptrace", "-f",
                           str(trace), "/bin/sh", "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120, preexec_fn=preexec_fn)


def _check(proc: subprocess.CompletedProcess, trace: Path, errnos: set[int]) -> None:
    assert proc.returncode == 3 and proc.stdout == EXPECTED     # as if untraced
    logged = re.findall(r"^ktrace write failed, errno (\d+), tracing stopped for pid (\d+)$",
                        proc.stderr, re.M)
    assert len(logged) == 1, proc.stderr
    assert int(logged[0][0]) in errnos
    size = trace.stat().st_size
    assert 0 < size <= LIMIT
    with open(trace, "rb") as f:
        reader = r.RecordReader(f)
        pids = {rec.header.pid for rec in reader}
        assert reader.offset == size                # whole records to the end
    assert pids == {int(logged[0][1])}
    dump = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "-f", str(trace)],
                          env=ENV, capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0 and dump.stderr == ""


def test_file_system_full(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={LIMIT}", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        trace = mnt / "ktrace.out"
        _check(_traced(tmp_path, trace), trace, {28})               # ENOSPC
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_file_size_limit(tmp_path):
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))
    trace = tmp_path / "ktrace.out"
    _check(_traced(tmp_path, trace, small_files), trace, {27})     # EFBIG

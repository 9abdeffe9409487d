"""The command ktrace starts (ktrace(1) execs it, as FreeBSD's does) and a
failed exec: strace hides the calls of the child it started after a failed
first exec, until it execs again (TCB_HIDE_LOG), so that ``strace /`` shows
the execve and the exit alone.  The strace view does so for a process traced
by request whose first call is an exec; FreeBSD's view shows every record.
Both engines, through the service."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = dict(os.environ, PYTHONPATH=str(SRC))


def ktrace(engine, *args, env=ENV):
    return subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine, *args],
                          env=env, capture_output=True, timeout=60)


def kdump(path, *options):
    return subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", *options, "-f", str(path)],
                          env=ENV, capture_output=True, timeout=60, check=True).stdout.decode()


def test_a_failed_launch_shows_its_exec_and_exit(engine, tmp_path):
    out = tmp_path / "t.out"
    assert ktrace(engine, "-f", str(out), "--", "/").returncode == 1
    lines = kdump(out, "--strace").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith('execve("/", ["/"], ')
    assert lines[0].endswith("= -1 EACCES (Permission denied)")
    assert lines[1] == "+++ exited with 1 +++"
    assert "exit_group" in kdump(out)           # FreeBSD's view: ktrace's own calls after it


def test_a_later_exec_shows_again(engine, tmp_path):
    out = tmp_path / "t.out"
    env = dict(ENV, PATH=f"{tmp_path}/nowhere:/usr/bin:/bin")
    assert ktrace(engine, "-f", str(out), "--", "true", env=env).returncode == 0
    lines = kdump(out, "--strace").splitlines()
    assert lines[0].startswith(f'execve("{tmp_path}/nowhere/true", ["true"], ')
    assert lines[0].endswith("= -1 ENOENT (No such file or directory)")
    assert lines[1].startswith('execve("/usr/bin/true", ["true"], ') and lines[1].endswith("= 0")
    assert any(line.startswith("exit_group(0)") for line in lines)

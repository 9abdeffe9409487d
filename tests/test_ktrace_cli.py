"""ktrace(1): options, usage and error texts (no engine needed here)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
USAGE = ("usage: ktrace [-aCcdi] [-f trfile] [-g pgrp | -p pid] [-t trstr]\n"
         "       ktrace [-adi] [-f trfile] [-t trstr] command\n")


def ktrace(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-m", "ktrace.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, warning", [
    ((), ""),
    (("-p", "1", "-g", "2"), "only one -g or -p flag is permitted"),
    (("-p", "1", "-p", "2"), "only one -g or -p flag is permitted"),
    (("-C", "-p", "1"), "the -C flag may not be combined with -g or -p"),
    (("-p", "3", "-C"), "the -C flag may not be combined with -g or -p"),
    (("-c", "-C"), "only one -c or -C flag is permitted"),
    (("-p", "abc"), "invalid process or group id"),
    (("-p", "0"), "invalid process or group id"),
    (("-g", "99999999999"), "invalid process or group id"),
    (("-t", "cxz", "ls"), "unknown facility in cxz"),
    (("-x",), "illegal option -- x"),
    (("-f",), "option requires an argument -- f"),
    (("-p", "1", "ls"), ""),
])
def test_usage_errors(tmp_path, args, warning):
    res = ktrace(*args, cwd=tmp_path)
    assert res.returncode == 1
    expect = (f"ktrace: {warning}\n" if warning else "") + USAGE
    assert res.stderr == expect
    assert not (tmp_path / "ktrace.out").exists()


def test_unknown_engine_is_refused_before_the_file_is_touched(tmp_path):
    (tmp_path / "ktrace.out").write_text("keep me")
    res = ktrace("--engine", "dtrace", "true", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr == "ktrace: unknown engine 'dtrace' (choose auto, ptrace or bpf)\n"
    assert (tmp_path / "ktrace.out").read_text() == "keep me"


def test_append_refuses_a_file_that_is_not_regular(tmp_path):
    os.mkfifo(tmp_path / "fifo")     # opened without blocking, as FreeBSD's ktrace does
    res = ktrace("-a", "-f", "fifo", "true", cwd=tmp_path)
    assert (res.returncode, res.stderr) == (1, "ktrace: fifo: No such device or address\n")
    if os.getuid() == 0:             # /dev/null is root's: only the type check is left
        res = ktrace("-a", "-f", "/dev/null", "true", cwd=tmp_path)
        assert (res.returncode, res.stderr) == (1, "ktrace: /dev/null not regular file\n")


def test_clearfile_of_a_missing_file(tmp_path):
    res = ktrace("-c", "-f", "nothere", cwd=tmp_path)
    assert (res.returncode, res.stderr) == (1, "ktrace: nothere: No such file or directory\n")

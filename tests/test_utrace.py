"""utrace: the C header and example, and ktrace.utrace(), traced and untraced."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.abi.linux_plan import UTRACE_NR
from ptrace_support import ENV, ROOT, records, run_traced

EXAMPLE = ROOT / "examples" / "utrace.c"
INCLUDE = ROOT / "include"

PY_PROGRAM = """
import ktrace
ktrace.utrace(b"first")
ktrace.utrace(b"second")
try:
    ktrace.utrace(b"x" * 2049)
    print("no error")
except OSError as e:
    print("errno", e.errno)
ktrace.utrace(b"")
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> str:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = tmp_path_factory.mktemp("utrace") / "utrace"
    subprocess.run(["gcc", "-Wall", "-Werror", "-I", str(INCLUDE), "-o", str(exe),
                    str(EXAMPLE)], check=True)
    return str(exe)


def _users(path: Path) -> list[bytes]:
    return [rec.data for rec in records(path) if isinstance(rec, r.User)]


def test_example_untraced_gets_zero_everywhere(example):
    out = subprocess.run([example], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"{what}: 0 ok" for what in
                                ("string", "struct", "empty", "largest", "too long",
                                 "bad address")]


def test_example_traced_records_user_and_errors(example, tmp_path):
    out = tmp_path / "u.out"
    proc = run_traced([example], out, "cu")
    lines = proc.stdout.decode().splitlines()
    assert lines[:4] == ["string: 0 ok", "struct: 0 ok", "empty: 0 ok", "largest: 0 ok"]
    assert lines[4] == "too long: -1 Invalid argument"
    assert lines[5] == "bad address: -1 Bad address"
    users = _users(out)
    assert users[0] == b"hello"
    assert users[1][:4] == b"\x01\0\0\0" and users[1][4:11] == b"started"
    assert users[2] == b"" and users[3] == b"\0" * 2048
    assert len(users) == 4
    # each utrace is a syscall too: CALL (addr, len) and RET with the FreeBSD errno
    rets = [rec for rec in records(out) if isinstance(rec, r.Sysret) and rec.code == UTRACE_NR]
    assert [(x.error, x.retval) for x in rets] == [(0, 0)] * 4 + [(22, -22), (14, -14)]


def test_example_traced_without_u_records_nothing_and_succeeds(example, tmp_path):
    out = tmp_path / "c.out"
    proc = run_traced([example], out, "c")
    assert all(line.endswith(": 0 ok") for line in proc.stdout.decode().splitlines())
    assert _users(out) == []


def test_python_utrace_traced(tmp_path):
    out = tmp_path / "py.out"
    proc = run_traced([sys.executable, "-c", PY_PROGRAM], out, "u")
    assert proc.stdout.decode().split() == ["errno", "22"], proc.stderr.decode()
    assert _users(out) == [b"first", b"second", b""]


def test_python_utrace_untraced_is_silent():
    proc = subprocess.run([sys.executable, "-c", PY_PROGRAM], env=ENV, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.split() == ["no", "error"]


def test_utrace_through_ktrace_command(example, tmp_path):
    out = tmp_path / "cli.out"
    env = dict(ENV, KTRACE_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    proc = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", "ptrace", "-t", "u",
                           "-f", str(out), example], env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert _users(out)[:2][0] == b"hello"
    assert len(_users(out)) == 4

"""When the bpf engine cannot run: the default falls back, an explicit choice
says why, and a refused program takes only its own facility with it.

bpf is made unavailable at run time for a privileged user the way a
container or a hardened kernel does it: a seccomp filter that fails bpf(2)
with EPERM, inherited by ktrace and the services it starts.  Refusals by the
verifier are real ones: the program built again with one bad load added.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from test_bpf_engine import Traced, need_bpf, of
from ktrace import record as r

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
BPF_SRC = SRC / "ktrace" / "engine" / "bpf"
BUILD = ROOT / "build" / "bpf"          # vmlinux.h and ktrace_plan.h, from the install
DENY_BPF = Path(__file__).with_name("deny_bpf.py")


def ktrace(args, runtime: Path, deny_bpf: bool = False) -> subprocess.CompletedProcess:
    """ktrace with services of its own (a fresh runtime directory)."""
    env = dict(os.environ, PYTHONPATH=str(SRC), KTRACE_RUNTIME_DIR=str(runtime))
    argv = [sys.executable, "-m", "ktrace.cli", *args]
    if deny_bpf:
        argv = [sys.executable, str(DENY_BPF), *argv]
    return subprocess.run(argv, env=env, capture_output=True, timeout=120)


@pytest.fixture
def runtime(tmp_path) -> Path:
    path = tmp_path / "services"
    path.mkdir(mode=0o700)
    return path


def records(path: Path) -> list:
    return list(r.read_records(str(path)))


def test_auto_traces_with_ptrace_when_bpf_cannot_start(tmp_path, runtime):
    need_bpf()      # bpf would be the choice here, were it not for the filter
    out = tmp_path / "t.out"
    res = ktrace(["-f", str(out), "sh", "-c", "echo traced"], runtime, deny_bpf=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"traced\n"
    lines = res.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ktrace: the bpf trace service could not start: ")
    assert "Operation not permitted" in lines[0]
    assert lines[0].endswith("; tracing with ptrace")
    recs = records(out)
    assert any(isinstance(x, r.Syscall) for x in recs)
    assert any(isinstance(x, r.Genio) and x.data == b"traced\n" for x in recs)
    # (its log, not its socket: an idle service is gone within seconds)
    assert list(runtime.glob("ptrace-*.log")), "a ptrace service did the tracing"


def test_explicit_bpf_fails_with_the_reason(tmp_path, runtime):
    need_bpf()
    out = tmp_path / "t.out"
    res = ktrace(["--engine", "bpf", "-f", str(out), "true"], runtime, deny_bpf=True)
    assert res.returncode == 1
    lines = res.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ktrace: the bpf trace service could not start: the BPF ")
    assert lines[0].endswith("was refused: Operation not permitted")
    assert not any(isinstance(x, r.Syscall) for x in records(out))


def test_a_starting_service_is_waited_for_without_a_time_limit(tmp_path, runtime):
    """A service that takes long to start (verification on an emulated
    machine) holds its lock meanwhile: the client waits as long as that."""
    from ktrace import service
    lock = runtime / f"{service.service_name('ptrace')}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    held = 12.0                     # longer than any fixed start limit would be
    threading.Timer(held, os.close, args=(fd,)).start()
    start = time.monotonic()
    res = ktrace(["--engine", "ptrace", "-f", str(tmp_path / "t.out"), "true"], runtime)
    assert res.returncode == 0 and res.stderr == b""
    assert time.monotonic() - start >= held
    assert any(isinstance(x, r.Syscall) for x in records(tmp_path / "t.out"))


# ---------------------------------------------------------------------------
# Programs the verifier refuses


def refused_build(tmp_path: Path, program: str) -> Path:
    """ktrace.bpf.c built with ``program`` loading through a scalar: refused everywhere."""
    if not (BUILD / "vmlinux.h").exists():
        pytest.fail(f"{BUILD} has no vmlinux.h: reinstall ktrace (pip install -e .)")
    src = (BPF_SRC / "ktrace.bpf.c").read_text()
    body = src.index("{", src.index(f"int BPF_PROG({program},")) + 1
    src = src[:body] + ("\n\tif (*(volatile int *)(long)bpf_get_smp_processor_id() == 1)"
                        "\n\t\treturn 0;\n") + src[body:]
    (tmp_path / "refused.bpf.c").write_text(src)
    obj = tmp_path / "refused.bpf.o"
    subprocess.run(["clang", "-g", "-O2", "-mcpu=v3", "-target", "bpf", "-D__TARGET_ARCH_x86",
                    "-I", str(BUILD), "-I", str(BPF_SRC), "-c", str(tmp_path / "refused.bpf.c"),
                    "-o", str(obj)], check=True)
    return obj


def test_a_refused_optional_program_takes_only_its_facility(tmp_path):
    need_bpf()
    from ktrace.engine.bpf.loader import Program
    prog = Program(1 << 20, paths=[refused_build(tmp_path, "ktr_signal")])
    try:
        assert list(prog.unavailable) == ["s"]
        assert prog.unavailable["s"].startswith("the verifier says: ")
        assert "\n" not in prog.unavailable["s"]
    finally:
        prog.close()


def test_a_refused_core_program_names_itself_and_the_verifier(tmp_path):
    need_bpf()
    from ktrace.engine.bpf.loader import Program
    with pytest.raises(OSError) as e:
        Program(1 << 20, paths=[refused_build(tmp_path, "ktr_sys_enter")])
    assert e.value.strerror.startswith("the BPF program ktr_sys_enter was refused: "
                                       "the verifier says: ")
    assert "\n" not in e.value.strerror


def test_the_engine_notices_a_missing_facility_once_and_records_the_rest(tmp_path, monkeypatch):
    need_bpf()
    from ktrace.engine.bpf import loader
    monkeypatch.setattr(loader, "_missing_tracepoint",
                        lambda btf, prog: "no such tracepoint here" if prog.name == "ktr_signal"
                        else None)
    t = Traced(["sh", "-c", "trap 'echo got' USR1; kill -USR1 $$; kill -USR1 $$"],
               trace="cs", out=tmp_path / "t.out")
    status = t.run()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert t.log().splitlines() == ["ktrace: the bpf engine cannot record signals (s) on this "
                                    "kernel: no such tracepoint here"]
    recs = t.records()
    assert not of(recs, r.Psig)
    kills = [x for x in of(recs, r.Syscall) if x.code == 62]
    assert len(kills) == 2

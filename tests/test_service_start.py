"""Starting the trace service: ktrace(1) starts it before its own imports
(service.start), the request then waits for that service's word, and a
service started for nothing ends by itself without a word on anybody's
terminal.  Real services in a runtime directory of each test's own."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine_support import service_pids
from test_bpf_engine import need_bpf
from ktrace import record as r
from ktrace import service, trpoints
from ktrace.facility import KTROP_CLEAR

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def runtime(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "services"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("KTRACE_RUNTIME_DIR", str(path))
    return path


def services(runtime: Path, engine: str) -> list[int]:
    return service_pids(engine, str(runtime))


def wait_gone(runtime: Path, engine: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while services(runtime, engine):
        assert time.monotonic() < end, f"a {engine} service of {runtime} is still up"
        time.sleep(0.05)


def ktrace(runtime: Path, *args: str, shell_redirects: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(SRC), KTRACE_RUNTIME_DIR=str(runtime))
    argv = [sys.executable, "-m", "ktrace.cli", *args]
    if shell_redirects:
        argv = ["sh", "-c", 'exec "$@" ' + shell_redirects, "sh", *argv]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def clear_request() -> dict:
    return {"ops": KTROP_CLEAR, "facs": trpoints.ALL, "pid": os.getpid()}


@pytest.fixture
def launches(monkeypatch) -> list:
    """The services launched (engine, options), each started for real."""
    launched = []
    launch = service._launch

    def counted(engine: str, options: dict) -> int:
        launched.append((engine, options))
        return launch(engine, options)
    monkeypatch.setattr(service, "_launch", counted)
    return launched


def test_a_request_is_answered_by_the_service_started_ahead(runtime, launches):
    service.start("ptrace", {})
    assert launches == [("ptrace", {})] and "ptrace" in service._started
    err, _ = service.call("ptrace", clear_request())
    assert err in (0, errno.ESRCH, errno.EPERM)      # answered, whatever the answer
    assert launches == [("ptrace", {})]                # by that service: none other launched
    assert "ptrace" not in service._started            # its word was read


def test_no_service_is_started_ahead_of_one_that_is_up(runtime, launches):
    service.call("ptrace", clear_request())
    service.start("ptrace", {})
    assert launches == [("ptrace", {})]
    assert "ptrace" not in service._started


def test_a_service_started_for_a_failed_command_ends_without_a_word(runtime, tmp_path):
    """ktrace starts the service before it opens the trace file: when that
    fails, the service started for nothing ends, with nothing in its log."""
    need_bpf()
    res = ktrace(runtime, "--engine", "bpf", "-f", str(tmp_path / "no-dir" / "t.out"), "true")
    assert res.returncode == 1
    assert res.stderr.splitlines() == [f"ktrace: {tmp_path}/no-dir/t.out: "
                                       "No such file or directory"]
    assert list(runtime.glob("bpf-*.log")), "no bpf service was started ahead"
    wait_gone(runtime, "bpf", service.IDLE_SECONDS + 30)
    assert [p.read_text() for p in runtime.glob("bpf-*.log")] == [""]


def test_a_service_whose_starter_is_gone_ends_at_once(runtime):
    """Ready, with nobody to hear it: the service does not idle first."""
    srv = service.Service("ptrace", {})
    start = time.monotonic()
    srv.run(lambda: False)
    assert time.monotonic() - start < service.IDLE_SECONDS
    assert not service.socket_path("ptrace").exists()


def test_the_start_is_heard_where_ktrace_runs_without_stdin_and_stdout(runtime, tmp_path):
    """With descriptors 0 and 1 closed the status pipe is made of them: the
    service still says how its start went on it (not into its log)."""
    out = tmp_path / "t.out"
    res = ktrace(runtime, "--engine", "ptrace", "-f", str(out), "true",
                 shell_redirects="0<&- 1>&-")
    assert (res.returncode, res.stderr) == (0, "")
    assert any(isinstance(x, r.Syscall) for x in r.read_records(str(out)))
    assert [p.read_text() for p in runtime.glob("ptrace-*.log")] == [""]


def test_a_good_load_leaves_libbpf_quiet(tmp_path):
    """libbpf's log is read only for a refused load (see test_engine_fallback
    for its one-line reasons): a good one makes no call back into Python."""
    need_bpf()
    from ktrace.engine.bpf.loader import Program
    from ktrace.platform import libbpf
    calls = []
    quiet = libbpf._print_cb
    libbpf._print_cb = libbpf._PRINT_FN(lambda *a: calls.append(a) or 0)
    try:
        Program(1 << 20).close()
    finally:
        libbpf._print_cb = quiet
    assert calls == []


def test_a_load_begun_ahead_is_taken_over():
    """A bpf service begins its load first thing (engine.bpf.begin_loading):
    the engine's program is that load, not a second one."""
    need_bpf()
    from ktrace.engine.bpf import loader
    begun = loader.begin(1 << 20)
    prog = loader.Program(1 << 20, begun=begun)
    try:
        assert prog.obj is begun.obj
    finally:
        prog.close()


def test_a_refused_load_begun_ahead_still_says_why(tmp_path):
    """The load begun ahead runs without libbpf's log: refused, it is done
    again with it, for the one-line reason."""
    need_bpf()
    from test_engine_fallback import refused_build
    from ktrace.engine.bpf import loader
    path = refused_build(tmp_path, "ktr_sys_enter")
    begun = loader.Loading(path, 1 << 20, 0, {})
    with pytest.raises(OSError) as e:
        loader.Program(1 << 20, paths=[path], begun=begun)
    assert e.value.strerror.startswith("the BPF program ktr_sys_enter was refused: "
                                       "the verifier says: ")
    assert "\n" not in e.value.strerror

"""Engines alone: a fake facility to record for, and a command traced by either engine.

An engine sees the facility only through :class:`ktrace.engine.Host` and
learns how a process is traced from a :class:`~ktrace.engine.ProcSettings`:
:class:`FakeFacility` is that host in memory (no trace files, no ktrace(2)
rules beyond inheritance, privilege loss at exec and exit), so engine tests
check what an engine records, not what the facility decides.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_bpf
from ktrace import engine as engines
from ktrace import record as r
from ktrace import trpoints
from ktrace.control import bpf_unavailable as bpf_reason
from ktrace.engine import DEFAULT_GENIO_SIZE, ProcSettings
from ptrace_support import build

SRC = Path(__file__).resolve().parents[1] / "src"     # what the ktrace command imports

ENGINES = ("ptrace", "bpf")


def need_engine(name: str) -> None:
    """Skip (or, for bpf with KTRACE_REQUIRE_BPF=1, fail) where ``name`` cannot run."""
    reason = bpf_reason() if name == "bpf" else None
    if reason is not None:
        if require_bpf():
            pytest.fail(f"KTRACE_REQUIRE_BPF=1 but {reason}")
        pytest.skip(reason)


class FakeFacility:
    """The host an engine records for, in memory."""

    def __init__(self, engine: engines.Engine, genio_size: int = DEFAULT_GENIO_SIZE,
                 owner_root: bool = True):
        self.engine = engine
        self.genio_size, self.owner_root = genio_size, owner_root
        self.traced: dict[int, ProcSettings] = {}
        self.data: list[bytes] = []
        self.lines: list[tuple[int, str]] = []
        engine.bind(self)

    def trace(self, pid: int, flags: int, options: dict | None = None) -> None:
        """What the facility does at a process's first SET."""
        self.engine.attach(pid, options or {})
        self.traced[pid] = ProcSettings(flags, self.genio_size, self.owner_root)
        self.engine.flags_changed(pid, self.traced[pid])

    def tracing(self) -> bool:
        return bool(self.traced)

    # -- the Host interface ------------------------------------------------

    def emit(self, pid: int, data: bytes) -> bool:
        if pid not in self.traced:
            return False
        self.data.append(data)
        return True

    def flush(self) -> None:
        pass

    def log(self, pid: int, line: str, once: bool = False) -> None:
        if pid in self.traced and not (once and (pid, line) in self.lines):
            self.lines.append((pid, line))

    def flags(self, pid: int) -> int:
        settings = self.traced.get(pid)
        return settings.flags if settings is not None else 0

    def settings(self, pid: int) -> ProcSettings | None:
        return self.traced.get(pid)

    def traced_pids(self) -> set[int]:
        return set(self.traced)

    def fork(self, parent: int, child: int) -> bool:
        settings = self.traced.get(parent)
        if settings is None or not settings.flags & r.KTRFAC_INHERIT:
            return False
        self.traced[child] = settings
        return True

    def exec_gains_privilege(self, pid: int) -> bool:
        settings = self.traced.get(pid)
        if settings is None or settings.owner_root:
            return False
        del self.traced[pid]
        self.engine.detach(pid)
        return True

    def exit(self, pid: int) -> None:
        self.traced.pop(pid, None)


def trace_command(name: str, argv: list, out: Path, trstr: str = "+",
                  stdout: Path | None = None, cwd: Path | None = None,
                  env: dict | None = None, inherit: bool = True,
                  genio_size: int = DEFAULT_GENIO_SIZE) -> int:
    """Run ``argv`` traced for ``trstr`` (inherited, unless not ``inherit``) by
    engine ``name`` in this process, its records written to ``out``; its wait
    status."""
    need_engine(name)
    engine = engines.load(name, {})
    fake = FakeFacility(engine, genio_size)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:                         # the child: wait until traced, then exec
        try:
            os.close(wfd)
            if stdout is not None:
                os.dup2(os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
            if cwd is not None:
                os.chdir(cwd)
            os.read(rfd, 1)
            argv = [str(a) for a in argv]
            if env is None:
                os.execvp(argv[0], argv)
            else:
                os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(rfd)
    fake.trace(pid, trpoints.parse(trstr) | trpoints.LIFECYCLE | (r.KTRFAC_INHERIT * inherit))
    os.write(wfd, b"go")
    os.close(wfd)
    engine.run(fake.tracing)
    out.write_bytes(b"".join(fake.data))
    status = getattr(engine, "reaped", {}).get(pid)
    if status is None:
        _, status = os.waitpid(pid, 0)
    return status


def kdump_of(path: Path, *options: str) -> str:
    """kdump's output for trace file ``path`` (it must succeed)."""
    res = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "-f", str(path), *options],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def strace_view(path: Path, *options: str) -> list[str]:
    """kdump --strace's call lines of trace file ``path``: the result's padding
    (-a) taken out, signal and exit lines left out (as a test program prints)."""
    return [re.sub(r" +=", " =", line) for line in kdump_of(path, "--strace", *options).splitlines()
            if not line.startswith(("---", "+++"))]


def real_strace(exe: str, where: Path, *options: str) -> tuple[list[str], list[str]]:
    """(/usr/bin/strace's lines, exit lines left out; what the program printed
    meanwhile) for ``exe`` run in ``where``; skipped where there is no strace or
    it cannot trace."""
    if not os.access("/usr/bin/strace", os.X_OK):
        pytest.skip("needs /usr/bin/strace")
    log = where / "strace.log"
    res = subprocess.run(["/usr/bin/strace", *options, "-o", str(log), exe],
                         capture_output=True, text=True, timeout=120, cwd=where)
    if res.returncode != 0:
        pytest.skip(f"strace cannot trace here: {res.stderr.strip()}")
    return ([line for line in log.read_text().splitlines() if not line.startswith("+++")],
            res.stdout.splitlines())


def compiled_once(factory, name: str, source: str, *flags: str) -> str:
    """A module's C test program, compiled (skipped where there is no gcc)."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    return build(factory.mktemp(name), name, source, *flags)


def traced_once(factory, argv: list, name: str, **options):
    """trace(engine): (the trace file, what the program printed) of ``argv``
    traced by that engine in a directory of its own (trace_command's
    ``options``), made once (a skip, or a failure under KTRACE_REQUIRE_BPF=1,
    where the engine cannot run)."""
    runs: dict[str, tuple[Path, str]] = {}

    def trace(engine: str) -> tuple[Path, str]:
        if engine not in runs:
            where = factory.mktemp(engine)
            out, stdout = where / f"{name}.out", where / "stdout"
            trace_command(engine, argv, out, stdout=stdout, cwd=where, **options)
            runs[engine] = (out, stdout.read_text())
        return runs[engine]
    return trace


def commanded_once(factory, argv: list, trstr: str, cwd: Path | None = None,
                   skip_status: int | None = None):
    """trace(engine): the trace file of ``argv`` traced for ``trstr`` by the
    ktrace command with that engine, made once; a skip when the program exits
    with ``skip_status`` (it found nothing to test)."""
    runs: dict[str, Path] = {}

    def trace(engine: str) -> Path:
        if engine not in runs:
            need_engine(engine)
            out = factory.mktemp(engine) / "t.out"
            done = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine,
                                   "-t", trstr, "-f", str(out), *map(str, argv)],
                                  env=dict(os.environ, PYTHONPATH=str(SRC)), cwd=cwd,
                                  capture_output=True, timeout=60)
            if skip_status is not None and done.returncode == skip_status:
                pytest.skip(f"{argv[0]} exited {skip_status}: nothing to test here")
            assert done.returncode == 0, done.stderr
            runs[engine] = out
        return runs[engine]
    return trace


def program_fixtures(name: str, source: str, **options):
    """A test module's ``exe`` (its C program, compiled once) and ``traced``
    (``traced_once`` of it, with trace_command's ``options``) fixtures:
    ``exe, traced = program_fixtures("name", SOURCE)``."""
    @pytest.fixture(scope="module")
    def exe(tmp_path_factory) -> str:
        return compiled_once(tmp_path_factory, name, source)

    @pytest.fixture(scope="module")
    def traced(exe, tmp_path_factory):
        return traced_once(tmp_path_factory, [exe], name, **options)
    return exe, traced


def service_pids(engine: str, runtime_dir: str) -> list[int]:
    """The pids of the ``engine`` trace services of ``runtime_dir`` (its
    KTRACE_RUNTIME_DIR), found as ps finds them: by their command line."""
    mine = f"KTRACE_RUNTIME_DIR={runtime_dir}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(b"ktrace.service" in a for a in argv) and engine.encode() in argv \
                    and mine in env:
                pids.append(int(entry))
    return pids

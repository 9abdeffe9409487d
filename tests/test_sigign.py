"""The signals ktrace(1)'s caller left ignored, and only those, reach the command
ignored (strace's sigign test: signal disposition transparency).

CPython ignores SIGPIPE and SIGXFSZ as it starts; the ktrace command's launcher
(launcher/ktrace.c, which setup.py installs as ``ktrace``) tells ktrace what
they were (ktrace/sigign.py).  The command here reports its SigIgn and its
environment, which must be the caller's, unchanged.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ktrace import sigign

ROOT = Path(__file__).resolve().parents[1]
# what Python changes (SIGPIPE, SIGXFSZ), and what it catches unless ignored (SIGINT)
SIGNALS = (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)


@pytest.fixture(scope="module")
def launcher(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("launcher") / "ktrace")
    try:
        sigign.build_launcher(str(ROOT / "launcher" / "ktrace.c"), out,
                              [sys.executable, "-m", "ktrace.cli"])
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no C compiler for the launcher: {e}")
    return out


def _ignoring(ignored: bool):
    """preexec_fn: the caller's SIGNALS, all ignored or all at their default."""
    def set_dispositions():
        for sig in SIGNALS:
            signal.signal(sig, signal.SIG_IGN if ignored else signal.SIG_DFL)
    return set_dispositions


def _traced_report(ktrace: list[str], engine: str, ignored: bool, tmp_path: Path):
    """The command's SigIgn mask and environment, and the environment it was given."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    res = subprocess.run([*ktrace, "--engine", engine, "-f", str(tmp_path / "ktrace.out"),
                          "cat", "/proc/self/status", "/proc/self/environ"],
                         env=env, preexec_fn=_ignoring(ignored), capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr
    status, _, environ = res.stdout.rpartition(b"\n")
    mask = next(int(line.split()[1], 16) for line in status.split(b"\n")
                if line.startswith(b"SigIgn:"))
    return mask, sorted(environ.split(b"\0")[:-1]), \
        sorted(f"{k}={v}".encode() for k, v in env.items())


def _ignored(mask: int) -> set[int]:
    return {sig for sig in SIGNALS if mask >> (sig - 1) & 1}


@pytest.mark.parametrize("ignored", [True, False], ids=["ignored", "default"])
def test_the_command_gets_the_callers_dispositions(engine, launcher, ignored, tmp_path):
    mask, environ, given = _traced_report([launcher], engine, ignored, tmp_path)
    assert _ignored(mask) == (set(SIGNALS) if ignored else set())
    assert environ == given          # without the launcher's variable


@pytest.mark.parametrize("ignored", [True, False], ids=["ignored", "default"])
def test_without_the_launcher_pythons_own_are_at_their_default(engine, ignored, tmp_path):
    mask, environ, given = _traced_report([sys.executable, "-m", "ktrace.cli"], engine,
                                          ignored, tmp_path)
    assert _ignored(mask) == ({signal.SIGINT} if ignored else set())
    assert environ == given

"""Signal dispositions as ktrace(1)'s caller left them, for the command it runs.

A traced command must get every signal ignored or at its default as it would
untraced.  CPython ignores SIGPIPE and SIGXFSZ as it starts, before any of our
code runs, and what they were is lost; so the installed ``ktrace`` command is a
small C program (launcher/ktrace.c) that puts the mask of the signals its
caller left ignored (as /proc's SigIgn) in the environment, VARIABLE, and runs
Python.  :func:`take` takes it out of the environment again (the command's
environment gains nothing), and :func:`restore` sets each signal as the mask
says, just before the command's exec.  Without it (``python -m ktrace.cli``,
the API), Python's two are set back to their default, which is what a shell
gives a command.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "KTRACE_SIGIGN"
# what CPython ignores as it starts (SIGINT it catches only when at its default:
# the exec puts a caught signal back to its default)
PYTHON_IGNORES = (signal.SIGPIPE, signal.SIGXFSZ)


def take() -> int | None:
    """The launcher's mask of the signals our caller left ignored (out of the
    environment from now on), or None without one."""
    text = os.environ.pop(VARIABLE, None)
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def restore(ignored: int | None) -> None:
    """Each signal ignored or at its default as in ``ignored`` (a SigIgn mask),
    or, without a mask, :data:`PYTHON_IGNORES` at their default."""
    if ignored is None:
        for sig in PYTHON_IGNORES:
            signal.signal(sig, signal.SIG_DFL)
        return
    # every one, whatever Python's table says: a handler set from C (faulthandler's)
    # is not in it, and a caught signal is at its default after the exec anyway
    for sig in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
        signal.signal(sig, signal.SIG_IGN if ignored >> (sig - 1) & 1 else signal.SIG_DFL)


def build_launcher(source: str, out: str, launch: list[str]) -> None:
    """Compile the launcher ``source`` into ``out``, to exec ``launch`` (the
    interpreter and its arguments) with its own arguments after them: for
    setup.py (the ktrace command) and the strace suite's stand-in.  Raises
    OSError or CalledProcessError where it cannot be built."""
    import shlex
    import subprocess
    import sysconfig
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
    literals = ", ".join('"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"' for a in launch)
    subprocess.run([*cc, "-O2", f"-DLAUNCH={literals}", "-o", out, source],
                   check=True, capture_output=True)

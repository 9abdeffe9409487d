"""ktrace(2) for Linux: the calls ktrace(1) and the Python API make.

FreeBSD's ktrace(2) opens the trace file and changes the kernel's trace
state.  Here the file is opened in the calling process (as the caller, with
ktrace(2)'s rules) and the state change is a request to the trace service of
the chosen engine.  Errors come back as OSError with the errno ktrace(2)
would have returned.
"""

from __future__ import annotations

import errno
import os
import sys

from . import engine as engines
from . import service, sigign, tracefile, trpoints
from .facility import (KTRFLAG_DESCEND, KTROP_CLEAR, KTROP_CLEARFILE, KTROP_SET, Cred, Facility,
                       Request)
from .record import KTRFAC_INHERIT

AUTO = "auto"


class EngineUnavailable(Exception):
    """The engine asked for cannot run here (the message says why)."""


def bpf_unavailable() -> str | None:
    """Why the bpf engine cannot run here, or None when it can."""
    try:
        from .engine import bpf
    except ImportError as e:
        return f"the bpf engine is not installed ({e})"
    return bpf.unavailable_reason()


def check_engine(name: str) -> None:
    """Refuse an unknown engine, or an explicit bpf that cannot run (before
    anything is touched)."""
    if name == AUTO:
        return
    if name not in engines.NAMES:
        raise ValueError(f"unknown engine {name!r} (choose auto, ptrace or bpf)")
    if name == "bpf":
        reason = bpf_unavailable()
        if reason is not None:
            raise EngineUnavailable(reason)


def choose_engine(name: str) -> str:
    """auto means bpf where it can run (privileged, built, supported), else
    ptrace: with a notice, unless bpf was never an option (no privilege)."""
    check_engine(name)
    if name != AUTO:
        return name
    reason = bpf_unavailable()
    if reason is None:
        return "bpf"
    if reason != engines.BPF_NEEDS_PRIVILEGE:
        notice(f"{reason}; tracing with ptrace")
    return "ptrace"


def default_facilities(engine_name: str) -> int:
    """What "no -t" means: the default set, as far as the engine can record it.

    (Asked for explicitly, a facility the engine cannot record gets a notice.)
    """
    return trpoints.DEFAULT & engines.FACILITIES[engine_name]


def _request_options(options: dict) -> dict:
    return {k: v for k, v in options.items() if k not in ("ring_size", "lossless", "genio_size")}


def _raise(err: int, text: str, filename: str | None) -> None:
    if err:
        raise OSError(err, text or os.strerror(err), filename)


def _yama_allow(engine_name: str) -> None:
    """Where Yama restricts ptrace to ancestors, let the service trace us."""
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            if f.read().strip() != "1":
                return
    except OSError:
        return
    import ctypes
    PR_SET_PTRACER, PR_SET_PTRACER_ANY = 0x59616D61, -1
    # the service is not our ancestor and its pid is not known before it
    # runs; any-ptracer lasts only until our exec replaces this image
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0)


def set_tracing(path: str, facs: int | None, pid: int, *, fd: int, inherit: bool = False,
                descend: bool = False, engine: str = AUTO, options: dict | None = None,
                hold_exit: bool = False, log: bool | None = None, exec_next: bool = False) -> str:
    """KTROP_SET: trace ``pid`` (or process group ``-pid``) into ``path``.

    ``facs`` are facility bits, or None for the default set as far as the
    engine records it; ``inherit`` adds KTRFAC_INHERIT; the PROCCTOR/PROCDTOR
    bits are added as ktrace(1) does.  Returns the engine used.  ``fd`` is
    the trace file as :func:`tracefile.create` opened it, and the very
    descriptor the service gets (it stays the caller's to close); ``path``
    only names it in errors.

    With engine ``auto``, a bpf engine that cannot start (its program
    refused, its service dead) costs one notice line on stderr and the
    tracing is done with ptrace; only an explicit ``bpf`` fails.

    ``log`` gives the service our stderr for the facility's messages (write
    failures, drops), as the kernel prints them on the console.  By default
    only a terminal is given: the service keeps it while it traces, and a
    pipe held open would keep whoever reads ktrace's stderr waiting.
    Otherwise the messages go to syslog.

    ``exec_next``: the caller execs next (ktrace(1) tracing a command).  The
    descriptors the request needed are then left for the exec to close
    (they are close-on-exec): closed here they would be the command's first
    recorded calls, where ktrace(2) leaves only its own return before the
    exec.
    """
    name = choose_engine(engine)
    request = dict(path=path, fd=fd, facs=facs, pid=pid, inherit=inherit, descend=descend,
                   options=dict(options or {}), hold_exit=hold_exit, log=log,
                   exec_next=exec_next)
    try:
        _set_tracing(name, **request)
    except service.ServiceError as e:
        if engine != AUTO or name == "ptrace":
            raise
        notice(f"{e}; tracing with ptrace")
        name = "ptrace"
        _set_tracing(name, **request)
    return name


def notice(text: str) -> None:
    """One line on stderr, as ktrace(1) says what it did instead, or what failed."""
    print(f"ktrace: {text}", file=sys.stderr, flush=True)


def _set_tracing(name: str, path: str, fd: int, facs: int | None, pid: int, inherit: bool,
                 descend: bool, options: dict, hold_exit: bool, log: bool | None,
                 exec_next: bool) -> None:
    if facs is None:
        facs = default_facilities(name)
    if inherit:
        facs |= KTRFAC_INHERIT
    fds = {"file": fd}
    if log if log is not None else os.isatty(2):
        try:
            fds["log"] = os.dup(2)      # close-on-exec, as Python makes descriptors
        except OSError:
            pass                        # stderr closed: the command has none to share
    err = None
    try:
        if name == "ptrace" and pid == os.getpid():
            _yama_allow(name)
        message = {
            "ops": KTROP_SET | (KTRFLAG_DESCEND if descend else 0),
            "facs": facs | trpoints.LIFECYCLE,
            "pid": pid,
            "limit": tracefile.file_size_limit(),
            "genio_size": options.get("genio_size"),
            "options": _request_options(options),
            "hold_exit": hold_exit,
        }
        err, text = service.call(name, message, fds, service.service_options(options),
                                 exec_next=exec_next)
    finally:
        if "log" in fds and not (exec_next and err == 0):
            os.close(fds["log"])
    _raise(err, text, path)


def clear_tracing(facs: int, pid: int, *, descend: bool = False) -> None:
    """KTROP_CLEAR on ``pid`` / ``-pgrp`` in every running service of ours."""
    message = {"ops": KTROP_CLEAR | (KTRFLAG_DESCEND if descend else 0), "facs": facs, "pid": pid}
    _clear_everywhere(message, {}, pid)


def clear_file(path: str) -> None:
    """KTROP_CLEARFILE: stop all tracing into ``path``."""
    fd = tracefile.open_for_clearing(path)
    try:
        message = {"ops": KTROP_CLEARFILE, "facs": 0, "pid": 0}
        _clear_everywhere(message, {"file": fd}, None, path)
    finally:
        os.close(fd)


def _clear_everywhere(message: dict, fds: dict, pid: int | None, path: str | None = None) -> None:
    results = [service.call(name, message, fds, spawn=False)
               for name in engines.NAMES if service.running(name)]
    results = [(e, t) for e, t in results if e != errno.ESRCH or t != "no trace service is running"]
    if any(e == 0 for e, _ in results):
        return
    if results:
        _raise(*results[0], path)
    # No service of ours runs, so nothing of ours is traced: answer what
    # ktrace(2) answers for untraced targets, ESRCH for none, EPERM when we
    # may debug none of them.  Whether root traces them we cannot know:
    # root's service is closed to us, and its trace goes on either way
    # (docs/security.md).
    if pid is not None:
        idle = Facility(engine=None)
        me = Cred(os.getpid(), os.geteuid(), os.getegid())
        _raise(idle.ktrace(Request(message["ops"], message["facs"], pid, None), me), "", path)


def exec_traced(argv: list[str], path: str, facs: int | None, *, fd: int,
                inherit: bool = False, engine: str = AUTO,
                options: dict | None = None, ignored: int | None = None) -> None:
    """Trace this process with ``facs`` (as :func:`set_tracing`) and exec ``argv``.

    As FreeBSD's ktrace(1): the command keeps our pid, parent, terminal and
    exit status; its PATH search's failed execs are traced too.  ``ignored``:
    the signals our caller left ignored (:func:`sigign.take`), which the
    command gets ignored, and only those.  Returns only by raising OSError
    when the exec fails.
    """
    # Python ignores some at startup (done first, so the trace does not start
    # with our own fixes)
    sigign.restore(ignored)
    # the command holds our stderr itself: the service may keep it too
    set_tracing(path, facs, os.getpid(), fd=fd, inherit=inherit, engine=engine,
                options=options, hold_exit=True, log=True, exec_next=True)
    os.execvp(argv[0], argv)


ALL_FACILITIES = trpoints.ALL | trpoints.LIFECYCLE

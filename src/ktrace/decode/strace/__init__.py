"""Linux system calls spelled as strace 6.1 spells them.

``SYSCALLS`` maps a syscall name to one :class:`~.call.Arg` per argument
position (None where an earlier printer already printed that argument),
gathered from the family modules (``FAMILIES``: one module per strace source
family, each syscall in one of them), with the struct printers they share in
``structs``, ``sockaddr`` and ``netlink``.
:func:`split_args` turns a :class:`~.call.Call` into the text strace prints at
entry and at exit; :func:`result_text` spells the return value.
"""

from __future__ import annotations

import errno as _errno
import os
import struct

from . import (aio, bpf, clocks, fdio, fs, io_uring, ioctl, ipc, kernel, keys, landlock, mm, mount,
               mq, net, numa, prctl, process, ptrace, quota, sched, signals, system)
from ...abi import linux_plan
from ...abi.linux_plan import Role
from .call import (DIRFD, FD, INT, LONG, MODE, PATH, PT_PGID, PT_SID, PT_TGID, PT_TID, PTR,
                   STR_IN, STR_OUT, UID, UINT, ULONG, Call, octal, pid_text)
from .fmt import StraceOptions, c_long, hexval

__all__ = ["Call", "StraceOptions", "SYSCALLS", "split_args", "result_text", "FD_RESULTS"]

# The families; each spells its own syscalls (no syscall in two: tests/test_strace_view.py).
FAMILIES = (aio, bpf, clocks, fdio, fs, io_uring, ioctl, ipc, kernel, keys, landlock, mm, mount,
            mq, net, numa, prctl, process, ptrace, quota, sched, signals, system)
SYSCALLS: dict[str, tuple] = {}
for _family in FAMILIES:
    SYSCALLS.update(_family.SYSCALLS)

# Results that print more than a number, given the call and the plain text.
RESULTS = {name: spell for family in FAMILIES
           for name, spell in getattr(family, "RESULTS", {}).items()}

# Calls whose result is a new descriptor (-y shows its path).
FD_RESULTS = {"open", "openat", "openat2", "creat", "socket", "accept", "accept4", "dup",
              "dup2", "dup3", "epoll_create", "epoll_create1", "eventfd2", "memfd_create",
              "timerfd_create", "signalfd4", "inotify_init1", "pidfd_open", "userfaultfd",
              "memfd_secret", "fanotify_init", "open_tree", "fspick", "pidfd_getfd",
              "io_uring_setup", "fsopen", "fsmount", "inotify_init"}
OCTAL_RESULTS = {"umask"}
# Calls whose result is a pid, and which (strace's RVAL_TGID ...: printpid)
PID_RESULTS = {"getpid": PT_TGID, "getppid": PT_TGID, "gettid": PT_TID, "getpgrp": PT_PGID,
               "getpgid": PT_PGID, "getsid": PT_SID, "fork": PT_TGID, "vfork": PT_TGID,
               "clone": PT_TID, "clone3": PT_TID, "wait4": PT_TGID}

# Linux's kernel-internal restart codes and strace's words for them.
RESTARTS = {
    512: ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    513: ("ERESTARTNOINTR", "To be restarted"),
    514: ("ERESTARTNOHAND", "To be restarted if no handler"),
    516: ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
}


# A syscall with no decoder: its arguments by what the recording plan says they
# are (a path, a string), else by their C type (the ABI table's tracefs types)
BY_ROLE = {Role.PATH: PATH, Role.IN_STRING: STR_IN, Role.OUT_STRING: STR_OUT}
BY_TYPE = {"int": INT, "pid_t": INT, "clockid_t": INT, "key_serial_t": INT, "mqd_t": INT,
           "key_t": INT, "timer_t": INT, "__s32": INT, "unsigned int": UINT, "unsigned": UINT,
           "u32": UINT, "__u32": UINT, "qid_t": UINT, "rwf_t": UINT, "uid_t": UID,
           "gid_t": UID, "umode_t": MODE, "long": LONG, "loff_t": LONG, "off_t": LONG}
BY_NAME = {"fd": FD, "dfd": DIRFD, "ufd": FD, "epfd": FD, "fd_in": FD, "fd_out": FD,
           "olddfd": DIRFD, "newdfd": DIRFD, "dirfd": DIRFD, "pidfd": FD}


def _generic(call: Call, info) -> tuple:
    if info is None:
        return ()
    roles = linux_plan.plan_for_call(call.nr, call.args)
    out = []
    for i, (ctype, name) in enumerate(info.args):
        role = roles[i].role if i < len(roles) else Role.VALUE
        ctype = ctype.removeprefix("const ")
        if role in BY_ROLE:
            out.append(BY_ROLE[role])
        elif "*" in ctype:
            out.append(PTR)
        elif ctype in ("int", "unsigned int") and name in BY_NAME:
            out.append(BY_NAME[name])
        else:
            out.append(BY_TYPE.get(ctype, ULONG))
    return tuple(out)


def _hex_args(call: Call, info=None) -> list[str]:
    """printargs: each argument register in hex (as many as the call has, if known)."""
    args = call.args if info is None or not info.args else call.args[:len(info.args)]
    return [hexval(a) for a in args]


# what a decoder raises on a record shorter or odder than any engine writes
RECORD_ERRORS = (IndexError, ValueError, OverflowError, KeyError, struct.error)


def split_args(call: Call, info=None) -> tuple[str, str, bool]:
    """(text at entry, text at exit, decoded?) of the arguments of ``call``.

    strace prints arguments up to the first one known only at exit when the
    call starts; the rest when it returns.  ``info`` is the ABI's SyscallInfo,
    used for calls with no decoder; an unknown call prints its registers in hex.
    """
    if call.raw:                      # -e raw=: arguments undecoded, in hex
        return ", ".join(_hex_args(call, info)), "", False
    spec = SYSCALLS.get(call.name)
    if spec is None:
        spec = _generic(call, info)
        if not spec:
            return ", ".join(_hex_args(call)), "", False
    parts: list[tuple[str, str, bool]] = []     # (separator, text, printed at exit)
    late = False
    for i, arg in enumerate(spec):
        if arg is None:
            continue
        try:
            text = arg.render(call, i)
        except RECORD_ERRORS:     # a record its decoder cannot take (a corrupt trace)
            text = hexval(call.args[i]) if i < len(call.args) else "?"
        if text is None:
            continue
        late = late or arg.late(call)
        parts.append(("" if arg.lead or not parts else ", ", text, late))
    split = next((k for k, part in enumerate(parts) if part[2]), len(parts))
    entry_text = "".join(sep + text for sep, text, _ in parts[:split])
    exit_text = "".join(sep + text for sep, text, _ in parts[split:])
    if split < len(parts):
        # the separator belongs to the entry half, as strace prints it
        sep = parts[split][0]
        entry_text += sep
        exit_text = exit_text[len(sep):]
    return entry_text, exit_text, True


def errno_words(n: int, abi=None) -> tuple[str, str]:
    """(name, text) of a Linux errno: from the ABI tables, else this host's."""
    if n in RESTARTS:
        return RESTARTS[n]
    name = abi.errno_name(n) if abi is not None else None
    text = abi.errno_text(n) if abi is not None else None
    return (name or _errno.errorcode.get(n, f"errno {n}"),
            text or os.strerror(n))


def result_text(call: Call, abi=None, fd_text=str) -> str:
    """What follows ``= ``: ``3``, ``0x7f..``, ``-1 ENOENT (No such file ...)``, ``?``."""
    if not call.returned or call.name in process.NO_RETURN:
        return "?"
    if call.error:
        n = call.linux_errno()
        name, text = errno_words(n, abi)
        if n in RESTARTS:
            return f"? {name} ({text})"
        return f"-1 {name} ({text})"
    value = call.retval
    if call.raw:
        return hexval(value & ((1 << 64) - 1))
    if call.name in mm.HEX_RESULTS:
        text = f"{value & ((1 << 64) - 1):#x}"
    elif call.name in OCTAL_RESULTS:
        text = octal(value)
    elif call.name in FD_RESULTS:
        text = fd_text(value)
    elif call.name in PID_RESULTS:
        text = pid_text(call, c_long(value), PID_RESULTS[call.name])
    else:
        text = str(c_long(value))
    decorate = RESULTS.get(call.name)
    return decorate(call, text) if decorate else text


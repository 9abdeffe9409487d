"""Signals: sigaction, masks, sigreturn, alternate stacks, queued signals."""

from __future__ import annotations

from ...abi.linux_plan import STRUCT_SIZES
from ..names import signal_name
from ..xlat import LINUX as L
from . import structs as T
from .call import FD, ULONG, Arg, Call, at_exit, p_flags, p_struct, p_xval
from .call import TGID, TID  # printpid: --decode-pids=
from .fmt import NSIG_BYTES, c_int, hexval, printsignal, ptr, sigset


def _sig(c: Call, i: int) -> str:
    return printsignal(c_int(c.arg(i)))


SIGNAL = Arg(_sig)
SIGINFO_SIZE = STRUCT_SIZES["siginfo"]     # what the kernel copies, strace reads whole


def _sigreturn(c: Call, i: int) -> str:
    """rt_sigreturn restores the mask saved at delivery: the last PSIG's."""
    mask = c.restored_mask
    return "{mask=" + sigset(mask) + "}" if mask is not None else ""


def sigset_arg(size_arg: int, exit: bool = False, min_len: int = NSIG_BYTES):
    """print_sigset_addr_len_limit: a sigset of the size in argument ``size_arg``
    (recorded as ``in_/out("sigset", arg(size_arg))``); the address for a size
    below ``min_len`` or above the kernel's 8 bytes, a NULL, a failed read (or,
    at exit, a failed call)."""
    def render(c: Call, i: int) -> str:
        size = c.arg(size_arg)
        data = c.struct(i, "sigset", exit=exit)
        if (not min_len <= size <= NSIG_BYTES or data is None or len(data) < size
                or (exit and not c.ok) or not c.verbose):
            return ptr(c.arg(i))
        return sigset(int.from_bytes(data[:size], "little"), size)
    return Arg(render, exit=exit)


def siginfo_in(c: Call, i: int) -> str:
    """printsiginfo_at of a siginfo read at entry."""
    data = c.struct(i, "siginfo", exit=False)
    if data is None or len(data) < SIGINFO_SIZE or not c.verbose:
        return ptr(c.arg(i))
    return T.siginfo_text(data, c.fd_text, c.pid_note)


def _timedwait_late(c: Call) -> bool:
    """strace waits for the exit to print the siginfo only when there is one to fetch."""
    return bool(c.arg(1)) and c.verbose


def _timedwait_info(c: Call, i: int) -> str:
    data = c.struct(i, "siginfo")
    if data is None or len(data) < SIGINFO_SIZE or not c.ok or not _timedwait_late(c):
        return ptr(c.arg(i))
    return T.siginfo_text(data, c.fd_text, c.pid_note)


def _timespec_in(c: Call, i: int) -> str:
    data = c.struct(i, "timespec", exit=False)
    return T.timespec_text(data) if data is not None and c.verbose else ptr(c.arg(i))


def signal_result(c: Call, text: str) -> str:
    """rt_sigtimedwait's signal, named after the number: ``14 (SIGALRM)``."""
    name = signal_name(c.retval) if c.ok and c.retval else None
    return f"{text} ({name})" if name else text


RESULTS = {"rt_sigtimedwait": signal_result}

SYSCALLS = {
    "rt_sigaction": (SIGNAL, Arg(p_struct("sigaction", T.sigaction_text, exit=False)),
                     at_exit(p_struct("sigaction", T.sigaction_text)), ULONG),
    "rt_sigprocmask": (Arg(p_xval(L.SIGPROCMASK_HOW, "SIG_???")), sigset_arg(3),
                       sigset_arg(3, exit=True), ULONG),
    "rt_sigreturn": (Arg(_sigreturn),),
    "rt_sigsuspend": (sigset_arg(1), ULONG),
    "rt_sigpending": (sigset_arg(1, exit=True, min_len=1), ULONG),
    "rt_sigtimedwait": (sigset_arg(3), Arg(_timedwait_info, exit=_timedwait_late),
                        Arg(_timespec_in, exit=_timedwait_late),
                        Arg(lambda c, i: str(c.arg(i)), exit=_timedwait_late)),
    "rt_sigqueueinfo": (TGID, SIGNAL, Arg(siginfo_in)),
    "rt_tgsigqueueinfo": (TGID, TID, SIGNAL, Arg(siginfo_in)),
    "pidfd_send_signal": (FD, SIGNAL, Arg(siginfo_in),
                          Arg(lambda c, i: hexval(c.arg(i) & 0xFFFFFFFF))),
    "sigaltstack": (Arg(p_struct("stack", T.stack_text, exit=False)),
                    at_exit(p_struct("stack", T.stack_text))),
    "signalfd4": (FD, sigset_arg(2), ULONG, Arg(p_flags(L.SIGNALFD_FLAGS, "SFD_???"))),
}

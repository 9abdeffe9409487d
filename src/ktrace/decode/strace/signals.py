"""Signals: sigaction, masks, sigreturn, alternate stacks."""

from __future__ import annotations

from ..xlat import LINUX as L
from . import structs as T
from .call import FD, INT, PTR, ULONG, Arg, Call, at_exit, p_flags, p_struct, p_xval
from .fmt import c_int, sigset, signame


def _sig(c: Call, i: int) -> str:
    return signame(c_int(c.arg(i)))


def _sigreturn(c: Call, i: int) -> str:
    """rt_sigreturn restores the mask saved at delivery: the last PSIG's."""
    mask = c.restored_mask
    return "{mask=" + sigset(mask) + "}" if mask is not None else ""


SIGSET_IN = Arg(p_struct("sigset", T.sigset_text, exit=False))
SIGSET_OUT = at_exit(p_struct("sigset", T.sigset_text))

SYSCALLS = {
    "rt_sigaction": (Arg(_sig), Arg(p_struct("sigaction", T.sigaction_text, exit=False)),
                     at_exit(p_struct("sigaction", T.sigaction_text)), ULONG),
    "rt_sigprocmask": (Arg(p_xval(L.SIGPROCMASK_HOW, "SIG_???")), SIGSET_IN, SIGSET_OUT,
                       ULONG),
    "rt_sigreturn": (Arg(_sigreturn),),
    "rt_sigsuspend": (SIGSET_IN, ULONG),
    "rt_sigpending": (SIGSET_OUT, ULONG),
    "rt_sigtimedwait": (SIGSET_IN, PTR, PTR, ULONG),
    "rt_sigqueueinfo": (INT, Arg(_sig), PTR),
    "sigaltstack": (Arg(p_struct("stack", T.stack_text, exit=False)),
                    at_exit(p_struct("stack", T.stack_text))),
    "signalfd4": (FD, SIGSET_IN, ULONG, Arg(p_flags(L.SIGNALFD_FLAGS, "SFD_???"))),
}

"""Which of a Linux process's signals are acted on: signal(7)'s default actions.

Both engines write a PSIG for every signal of a Linux process that a ptracer
sees, as strace shows each one; its action is the handler, SIG_DFL (0) or
SIG_IGN (1) for none.  FreeBSD's kernel writes one only for a signal acted on
(postsig(): it runs a handler, or its default action ends the process), so
FreeBSD's view leaves the others out; the strace view and --json show them.
"""

from __future__ import annotations

from ktrace.decode.xlat import LINUX as L

SIG_DFL, SIG_IGN = 0, 1
# signals whose default action is to ignore them, continue or stop: every
# other signal's default ends the process
DEFAULT_NOT_FATAL = frozenset(L.SIGNALS.value(name) for name in (
    "SIGCHLD", "SIGURG", "SIGWINCH",                 # ignore
    "SIGCONT",                                        # continue
    "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU",      # stop
))


def acted_on(signo: int, action: int) -> bool:
    """Does a PSIG of ``signo`` with ``action`` run a handler or end the process?"""
    if action == SIG_DFL:
        return signo not in DEFAULT_NOT_FATAL
    return action != SIG_IGN

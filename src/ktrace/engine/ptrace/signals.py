"""Signal-delivery stops: PSIG records, and the signal always re-injected.

PSIG is written, as FreeBSD's postsig() writes it, for a signal that is
acted on: one that runs a handler or whose default action ends the process.
A signal that is ignored (SIG_IGN, or SIG_DFL of a signal whose default is to
ignore, stop or continue) is not "delivered" in FreeBSD's sense and records
nothing; the process still gets it exactly as it would untraced.

The action needs the handler's address.  Handlers installed while traced are
known from rt_sigaction.  For one installed before we attached, /proc only
says "caught": the first delivery is resumed with PTRACE_SINGLESTEP, which
stops on the handler's first instruction, and the address is read there.
"""

from __future__ import annotations

import signal

from ... import record as r
from ...platform import ptrace as pt
from .tracee import CAUGHT_UNKNOWN, SA_RESETHAND, SIG_DFL, SIG_IGN, Thread, blocked_mask

F_PSIG = r.facility(r.PSIG)

# signals whose default action is not to end the process
DEFAULT_NOT_FATAL = frozenset({
    signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH, signal.SIGCONT,
    signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU,
})


def acted_on(handler: int, sig: int) -> bool:
    if handler == SIG_IGN:
        return False
    if handler == SIG_DFL:
        return sig not in DEFAULT_NOT_FATAL
    return True


def delivery_stop(engine, th: Thread, sig: int) -> None:
    if th.probe is not None:
        _probe_done(engine, th, sig)
        return
    proc = th.proc
    if not proc.flags & F_PSIG:
        engine.resume(th, sig)
        return
    try:
        info = pt.getsiginfo(th.tid)
    except OSError:
        return                           # killed meanwhile
    if engine.perf is not None and sig in (signal.SIGSEGV, signal.SIGBUS):
        engine.perf.fault_failed(th.tid, sig, info.addr, info.code)
    handler, sa_flags = proc.actions.get(sig, (SIG_DFL, 0))
    if acted_on(handler, sig):
        mask = blocked_mask(proc.pid, th.tid)
        if handler == CAUGHT_UNKNOWN and not proc.detaching:
            th.probe = (sig, info.code, mask)
            try:
                pt.singlestep(th.tid, sig)
            except OSError:
                th.probe = None
            return
        _psig(engine, th, sig, handler, info.code, mask)
        if handler > SIG_IGN and sa_flags & SA_RESETHAND:
            proc.actions[sig] = (SIG_DFL, 0)
    engine.resume(th, sig)


def _probe_done(engine, th: Thread, sig: int) -> None:
    """The single-step into a handler stopped: its first instruction is the handler."""
    probed, code, mask = th.probe
    th.probe = None
    handler = CAUGHT_UNKNOWN & 0xFFFFFFFFFFFFFFFF
    if sig == signal.SIGTRAP:
        try:
            handler = pt.getregs(th.tid).rip
            th.proc.actions[probed] = (handler, 0)
        except OSError:
            return
    _psig(engine, th, probed, handler, code, mask)
    engine.resume(th, 0 if sig == signal.SIGTRAP else sig)


def _psig(engine, th: Thread, sig: int, handler: int, code: int, mask: int) -> None:
    st = engine.begin(th)
    st.add(r.PSIG, r.psig_payload(sig, handler, code, mask))
    engine.emit(st)

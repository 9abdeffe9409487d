"""Signal-delivery stops: PSIG records, and the signal always re-injected;
group-stops: STRU groupstop.

A PSIG is followed by ``STRU siginfo`` (the raw siginfo_t the stop's
PTRACE_GETSIGINFO returned) when the process is traced for structs (``t``)
too: the sender's pid and uid, a child's status and times, a fault's address.

PSIG is written for every signal that reaches a delivery stop, as strace
shows each: one acted on (it runs a handler, or its default action ends the
process: FreeBSD's postsig() records those) and one that is not (SIG_IGN, or
SIG_DFL of a signal whose default is to ignore, stop or continue), its action
(SIG_IGN 1, SIG_DFL 0) saying which.  FreeBSD's kernel never records the
latter, and FreeBSD's view leaves it out (docs/design.md).  Either way the
process gets the signal exactly as it would untraced.

The action needs the handler's address.  Handlers installed while traced are
known from rt_sigaction.  For one installed before we attached, /proc only
says "caught": the first delivery is resumed with PTRACE_SINGLESTEP, which
stops on the handler's first instruction, and the address is read there.
"""

from __future__ import annotations

import errno
import signal

from ... import record as r
from ...abi import LINUX_X86_64
from ...platform import ptrace as pt
from .tracee import CAUGHT_UNKNOWN, SA_RESETHAND, SIG_DFL, SIG_IGN, Thread

F_PSIG = r.facility(r.PSIG)
F_STRUCT = r.facility(r.STRUCT)

# calls that block another signal set while they wait
TEMPORARY_MASK_CALLS = ("rt_sigsuspend", "ppoll", "pselect6", "epoll_pwait", "epoll_pwait2")
_TEMPORARY_MASK_NRS = frozenset(LINUX_X86_64.syscall_number(n) for n in TEMPORARY_MASK_CALLS)
# what such a call's return register holds when a signal ended the wait
ERESTARTNOHAND = 514
_WAIT_INTERRUPTED = frozenset(-e & 0xFFFFFFFFFFFFFFFF for e in (errno.EINTR, ERESTARTNOHAND))

def return_mask(th: Thread) -> int:
    """PSIG's mask: the blocked set the handler's return restores (FreeBSD's returnmask).

    That is the blocked set now, but when the signal ends a wait that blocks
    another set meanwhile (sigsuspend, ppoll, ...): then it is the set from
    before the call, which the wait's entry hook kept.
    """
    before, th.mask_before = th.mask_before, None
    if before is not None:
        try:
            regs = pt.getregs(th.tid)
        except OSError:
            return before
        if regs.orig_rax in _TEMPORARY_MASK_NRS and regs.rax in _WAIT_INTERRUPTED:
            return before
    try:
        return pt.getsigmask(th.tid)
    except OSError:
        return 0


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
    mask = return_mask(th)
    if handler == CAUGHT_UNKNOWN and not proc.detaching:
        th.probe = (sig, info, mask)
        try:
            pt.singlestep(th.tid, sig)
        except OSError:
            th.probe = None
        return
    _psig(engine, th, sig, handler, info, mask)
    if handler > SIG_IGN and sa_flags & SA_RESETHAND:
        proc.actions[sig] = (SIG_DFL, 0)
    engine.resume(th, sig)


def group_stop(engine, th: Thread, sig: int) -> None:
    """The thread entered a group-stop by ``sig``: STRU groupstop (record.py's
    GROUPSTOP_NAME), written with the process's signals (``s``)."""
    if th.proc.flags & F_PSIG:
        st = engine.begin(th)
        st.add(r.STRUCT, r.int32_payload(r.GROUPSTOP_NAME, sig))
        engine.emit(st)


def _probe_done(engine, th: Thread, sig: int) -> None:
    """The single-step into a handler stopped: its first instruction is the handler."""
    probed, info, mask = th.probe
    th.probe = None
    handler = CAUGHT_UNKNOWN & 0xFFFFFFFFFFFFFFFF
    if sig == signal.SIGTRAP:
        try:
            handler = pt.getregs(th.tid).rip
            th.proc.actions[probed] = (handler, 0)
        except OSError:
            return
    _psig(engine, th, probed, handler, info, mask)
    engine.resume(th, 0 if sig == signal.SIGTRAP else sig)


def _psig(engine, th: Thread, sig: int, handler: int, info: pt.SigInfo, mask: int) -> None:
    st = engine.begin(th)
    st.add(r.PSIG, r.psig_payload(sig, handler, info.code, mask))
    if st.flags & F_STRUCT:
        st.add(r.STRUCT, r.struct_payload(b"siginfo", info.raw[:st.genio]))
    engine.emit(st)

"""ptrace for the bpf engine: holding exits, and throttling in --lossless mode.

The BPF program records everything; ptrace is used only to control time.

Holding an exit: a process seized with PTRACE_SEIZE (no options needed) that
exits becomes a zombie only its tracer can see; its parent is told once the
tracer has reaped it (the kernel's wait_consider_task rule).  So ktrace peeks
at the zombie (waitid WNOWAIT), drains the ring past the process's last
records, and only then reaps it: `ktrace cmd; kdump` sees every record.

Throttling (--lossless): every thread of every traced process is seized
(new threads and children follow through PTRACE_O_TRACECLONE/FORK/VFORK).
The BPF program sends SIGSTOP to a thread returning to user space while the
ring is past its throttle mark; the thread stops in a signal-delivery-stop,
which neither its parent nor its shell can see.  ktrace keeps it there until
the consumer has brought the ring below a low-water mark, then resumes it
without the signal.  A SIGSTOP from anyone else (SI_USER) is passed on.

While seized, each signal delivered to a held thread makes a round trip
through ktrace (signal-delivery-stop, then PTRACE_CONT with the signal), and
group-stops are passed on with PTRACE_LISTEN so that job control works.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from typing import Callable

from ...platform import procfs
from ...platform import ptrace as pt

FOLLOW = pt.PTRACE_O_TRACECLONE | pt.PTRACE_O_TRACEFORK | pt.PTRACE_O_TRACEVFORK
_NEW_TRACEE = (pt.PTRACE_EVENT_FORK, pt.PTRACE_EVENT_VFORK, pt.PTRACE_EVENT_CLONE)
_EXITED = (os.CLD_EXITED, os.CLD_KILLED, os.CLD_DUMPED)
LET_GO_TRIES = 100     # about 0.1 s for a running thread to reach a stop
SI_KERNEL = 0x80      # si_code of a signal the kernel (our BPF program) sent


class Holder:
    """The threads ktrace has seized, and what it does with their stops.

    ``wanted(pid)`` says whether a new child of a followed process is traced
    (it is let go at once otherwise).
    """

    def __init__(self, wanted: Callable[[int], bool]):
        self.wanted = wanted
        self.tids: dict[int, int] = {}     # seized tid -> its process id
        self.follow: set[int] = set()       # processes whose threads all are seized
        self.zombies: set[int] = set()      # exited leaders waiting to be reaped
        self.parked: set[int] = set()       # threads stopped by the throttle

    def __bool__(self) -> bool:
        return bool(self.tids)

    # -- seizing ---------------------------------------------------------

    def hold(self, pid: int, follow: bool) -> None:
        """Seize process ``pid`` (all its threads with ``follow``)."""
        tids = procfs.threads(pid) if follow else [pid]
        if follow:
            self.follow.add(pid)
        for tid in tids:
            if tid in self.tids:
                continue
            try:
                pt.seize(tid, FOLLOW if follow else 0)
            except OSError as e:
                if e.errno in (errno.ESRCH, errno.EPERM):
                    continue      # gone, or already traced by someone else
                raise
            self.tids[tid] = pid

    def release(self, pid: int) -> None:
        """Let every thread of ``pid`` go (it runs on untouched)."""
        self.follow.discard(pid)
        for tid in sorted((t for t, p in self.tids.items() if p == pid), key=lambda t: t == pid):
            self._let_go(tid)

    def _let_go(self, tid: int) -> None:
        """Detach one thread, whatever state it is in; never blocks for long."""
        self.tids.pop(tid, None)
        self.parked.discard(tid)
        self.zombies.discard(tid)
        for _ in range(LET_GO_TRIES):
            try:
                pt.detach(tid)
                return
            except OSError as e:
                if e.errno != errno.ESRCH:
                    return
            # not in a ptrace-stop: running, or exited and waiting for us
            try:
                got, status = os.waitpid(tid, os.WNOHANG | pt.WALL)
            except ChildProcessError:
                return
            if got and not os.WIFSTOPPED(status):
                return                  # its exit is collected: nothing left to detach
            if not got:
                try:
                    pt.interrupt(tid)   # into a ptrace-stop, to be detached
                except OSError:
                    return
                time.sleep(0.001)

    def close(self) -> None:
        # threads first: a leader's zombie waits for its threads to be reaped
        for tid in sorted(self.tids, key=lambda t: t == self.tids[t]):
            self._let_go(tid)

    # -- stops ------------------------------------------------------------

    def poll(self) -> set[int]:
        """Handle pending stops; the leaders that exited (still unreaped)."""
        for tid in list(self.tids):
            if tid in self.zombies:
                continue
            if tid == self.tids[tid]:
                try:
                    info = os.waitid(os.P_PID, tid, os.WEXITED | os.WSTOPPED | os.WNOHANG |
                                     os.WNOWAIT | pt.WALL)
                except ChildProcessError:
                    self.tids.pop(tid, None)
                    continue
                if info is None:
                    continue
                if info.si_code in _EXITED:
                    self.zombies.add(tid)
                    continue
            try:
                got, status = os.waitpid(tid, os.WNOHANG | pt.WALL)
            except ChildProcessError:
                self.tids.pop(tid, None)
                continue
            if got:
                self._stopped(tid, status)
        return set(self.zombies)

    def reap(self, pid: int) -> None:
        """The zombie's records are written: hand it to its parent."""
        self.zombies.discard(pid)
        self.tids.pop(pid, None)
        self.follow.discard(pid)
        self._reap(pid)

    @staticmethod
    def _reap(tid: int) -> None:
        try:
            os.waitpid(tid, os.WNOHANG | pt.WALL)
        except ChildProcessError:
            pass

    def _stopped(self, tid: int, status: int) -> None:
        if not os.WIFSTOPPED(status):
            self.tids.pop(tid, None)            # a thread that exited
            self.parked.discard(tid)
            return
        sig, event = os.WSTOPSIG(status), pt.stop_event(status)
        try:
            if event in _NEW_TRACEE:
                self._new_tracee(tid, pt.geteventmsg(tid), event)
                pt.cont(tid)
            elif event == pt.PTRACE_EVENT_STOP:
                if pt.is_group_stop(status):
                    pt.listen(tid)
                else:
                    pt.cont(tid)
            elif event == 0 and sig == signal.SIGSTOP and \
                    pt.getsiginfo(tid).code == SI_KERNEL:
                self.parked.add(tid)             # the throttle: stay until drained
            else:
                pt.cont(tid, 0 if event else sig)   # deliver the signal
        except OSError:
            pass

    def _new_tracee(self, tid: int, new: int, event: int) -> None:
        pid = self.tids[tid]
        if event == pt.PTRACE_EVENT_CLONE and procfs.is_process(pid) and \
                new in procfs.threads(pid):
            self.tids[new] = pid
        elif self.wanted(new):
            self.tids[new] = new
            self.follow.add(new)
        else:
            self.tids[new] = new
            self.release(new)

    # -- throttling --------------------------------------------------------

    def resume_parked(self) -> None:
        """The ring has room again: let the stopped threads go, signal dropped."""
        for tid in list(self.parked):
            self.parked.discard(tid)
            try:
                pt.cont(tid)
            except OSError:
                pass

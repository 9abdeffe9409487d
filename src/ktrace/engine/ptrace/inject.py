"""Installing a seccomp filter in a traced process (the ``seccomp`` option).

A tracer cannot install a filter in another process: the process must call
seccomp(2) itself.  At a syscall-entry stop the engine turns the pending
syscall into ``prctl(PR_SET_NO_NEW_PRIVS)`` (only without CAP_SYS_ADMIN)
and ``seccomp(SET_MODE_FILTER, TSYNC, prog)`` with the program written
below the stack's red zone, then rewinds the instruction pointer so that
the original syscall runs as if nothing had happened.

The filter traces only the syscalls that can produce a wanted record (the
recording plan) plus those the engine must follow (exec, rt_sigaction,
rseq, prctl, utrace): with a narrow facility set (``-t n``) every other
syscall runs at full speed.  See ktrace.platform.seccomp for the price.
"""

from __future__ import annotations

import os

from ... import record as r
from ...abi import LINUX_X86_64
from ...abi import linux_plan as lp
from ...platform import procfs
from ...platform import ptrace as pt
from ...platform import seccomp as sc
from .signals import TEMPORARY_MASK_CALLS
from .tracee import Thread

RED_ZONE = 128
CAP_SYS_ADMIN = 21
ALWAYS = ("execve", "execveat", "rseq", "prctl")
FOR_SIGNALS = ("rt_sigaction",) + TEMPORARY_MASK_CALLS   # handlers; PSIG's mask
FOR_SYSCTL = ("open", "openat", "openat2", "creat", "close", "dup", "dup2", "dup3", "fcntl",
              "chdir", "fchdir", "read", "write", "pread64", "pwrite64", "readv", "writev",
              "preadv", "pwritev", "preadv2", "pwritev2")


def _numbers(names) -> set[int]:
    nrs = {LINUX_X86_64.syscall_number(n) for n in names}
    nrs.discard(None)
    return nrs


def wanted(flags: int, filtered: bool = False) -> frozenset[int] | None:
    """The syscalls to stop at for facility bits ``flags``; None for all of them.

    ``filtered``: the process has a filter already, so "all of them" must be
    spelled out as numbers (a filter can be added, never removed).
    """
    planned = lp.syscalls_for(flags & r.KTRFAC_MASK)
    if planned is None:
        if not filtered:
            return None
        planned = set(LINUX_X86_64.syscalls)
    nrs = set(planned) | _numbers(ALWAYS) | {lp.UTRACE_NR}
    if flags & r.facility(r.PSIG):
        nrs |= _numbers(FOR_SIGNALS)
    if flags & r.facility(r.SYSCTL):
        nrs |= _numbers(FOR_SYSCTL)
    return frozenset(nrs)


def has_cap_sys_admin(pid: int) -> bool:
    """May the process install a filter without no_new_privs?"""
    where = procfs.task_dir(pid)
    fields = procfs.status_fields(f"{where}/status", b"CapEff") if where is not None else {}
    return bool(fields) and bool(int(fields[b"CapEff"][0], 16) >> CAP_SYS_ADMIN & 1)


class SeccompInstaller:
    def __init__(self, engine):
        self.engine = engine

    def install(self, th: Thread, nr: int, args: tuple) -> bool:
        """At th's syscall-entry stop: install the filter if it helps.

        True when this took over the thread (it has been resumed into the
        rewound syscall, whose entry stop comes again); False when the
        caller goes on with the entry as usual.
        """
        proc = th.proc
        nrs = wanted(proc.flags, proc.seccomp)
        if nrs is None or (proc.seccomp and nrs <= proc.seccomp_set):
            return False
        if proc.seccomp:
            nrs = nrs - proc.seccomp_set           # a second filter adds the rest
        try:
            saved = pt.getregs(th.tid)
        except OSError:
            return False
        taken, err = self._inject(th, saved, nrs)
        if err is None:
            proc.seccomp = True
            proc.seccomp_set = proc.seccomp_set | nrs
        else:
            self.engine.notice(proc, f"ktrace: no seccomp filter for pid {proc.pid} ({err}); "
                                     f"every syscall stops")
        return taken

    def _inject(self, th: Thread, saved: pt.UserRegs, nrs) -> tuple[bool, str | None]:
        """Run the installing syscalls in the tracee.

        (taken over, None or what went wrong): taken over once a syscall
        was injected, since the original one then runs again from the top.
        """
        pid = th.proc.pid
        filt = sc.trace_filter(nrs)
        prog_addr = (saved.rsp - RED_ZONE - len(filt) - 16) & ~0xF
        try:
            pt.process_vm_writev(pid, prog_addr + 16, filt)
            pt.process_vm_writev(pid, prog_addr, sc.fprog(prog_addr + 16, filt))
        except OSError as e:
            return False, f"writing the filter: {e.strerror}"
        calls = []
        if not has_cap_sys_admin(pid):
            calls.append((LINUX_X86_64.syscall_number("prctl"),
                          (sc.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0)))
        calls.append((LINUX_X86_64.syscall_number("seccomp"),
                      (sc.SECCOMP_SET_MODE_FILTER, sc.SECCOMP_FILTER_FLAG_TSYNC, prog_addr,
                       0, 0, 0)))
        at_entry = True
        for number, call_args in calls:
            result = self._call(th, saved, number, call_args, at_entry)
            at_entry = False
            if result is None:
                return True, "the process went away"
            if result != 0:
                self._rewind(th, saved, th.proc.seccomp)
                return True, f"syscall {number} returned {result}"
        self._rewind(th, saved, True)
        return True, None

    def _call(self, th: Thread, saved, number: int, args, at_entry: bool) -> int | None:
        """One syscall made by the tracee; its return value (None: the tracee died)."""
        regs = pt.UserRegs.from_buffer_copy(saved)
        regs.orig_rax = number
        regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9 = args
        if not at_entry:                 # from an exit stop: run the syscall insn again
            regs.rip = saved.rip - 2
            regs.rax = number
        try:
            pt.setregs(th.tid, regs)
            if not at_entry:
                pt.syscall(th.tid)
                if not self._wait_syscall_stop(th):
                    return None
            pt.syscall(th.tid)
            if not self._wait_syscall_stop(th):
                return None
            rax = pt.getregs(th.tid).rax
        except OSError:
            return None
        return rax - (1 << 64) if rax >= 1 << 63 else rax

    def _wait_syscall_stop(self, th: Thread) -> bool:
        tid, status = os.waitpid(th.tid, pt.WALL)
        if pt.is_syscall_stop(status):
            return True
        self.engine.handle_later(tid, status)      # killed meanwhile: the loop sees it
        return False

    @staticmethod
    def _rewind(th: Thread, saved, filtered: bool) -> None:
        """From an exit stop: run the original syscall again from its instruction.

        ``filtered``: a filter is in place, so the thread goes on as the engine
        resumes filtered threads outside a syscall, with PTRACE_CONT: the
        filter's stop is then the syscall's one entry stop (PTRACE_SYSCALL
        would add an entry stop before it, and the entry would be recorded
        twice).
        """
        regs = pt.UserRegs.from_buffer_copy(saved)
        regs.rip = saved.rip - 2
        regs.rax = saved.orig_rax
        try:
            pt.setregs(th.tid, regs)
            if filtered:
                pt.cont(th.tid)
            else:
                pt.syscall(th.tid)
        except OSError:
            pass

"""What the ptrace engine knows about each traced process and thread."""

from __future__ import annotations

import os

from ...platform import procfs
from ...platform.procfs import status_fields   # hooks takes it from here too

# Signal actions as PSIG records them
SIG_DFL = 0
SIG_IGN = 1
CAUGHT_UNKNOWN = -1      # a handler installed before we attached: address not known yet
SA_RESETHAND = 0x80000000
NSIG = 64


class Thread:
    """One traced thread (a Linux task)."""

    __slots__ = ("tid", "proc", "comm", "cpu_addr", "call", "started", "born", "exiting",
                 "probe", "stat_fd", "mask_before", "restarting")

    def __init__(self, tid: int, proc: "Process", comm: bytes, cpu_addr: int = 0):
        self.tid = tid
        self.proc = proc
        self.comm = comm
        self.cpu_addr = cpu_addr     # address of rseq cpu_id in the tracee, 0 if none
        self.call = None             # the Call in progress (entry seen), or None
        self.started = False         # its first stop has been seen
        self.born = False            # made by a traced task's fork or clone (not attached)
        self.exiting = False         # stopped at PTRACE_EVENT_EXIT
        self.probe = None            # (signo, siginfo, mask): finding a handler by single-step
        self.stat_fd = -1            # /proc/PID/task/TID/stat, kept open while without rseq
        # the blocked set when it entered a call that blocks another one while it
        # waits (sigsuspend, ppoll, ...): what a handler run from that wait restores
        self.mask_before: int | None = None
        # the call our attach interrupted, which the kernel restarts: (Call, syscall
        # number, ip, sp) of the entry that restarts it, which is not a new call
        self.restarting: tuple | None = None

    def proc_cpu(self) -> int:
        """The CPU the thread last ran on, from /proc (for threads without rseq)."""
        try:
            if self.stat_fd < 0:
                where = procfs.task_dir(self.proc.pid, self.tid)
                if where is None:
                    return -1
                self.stat_fd = os.open(f"{where}/stat", os.O_RDONLY | os.O_CLOEXEC)
            line = os.pread(self.stat_fd, 1024, 0)
            return int(line[line.rindex(b")") + 2:].split()[36])
        except (OSError, ValueError, IndexError):
            return -1

    def close_stat(self) -> None:
        if self.stat_fd >= 0:
            os.close(self.stat_fd)
            self.stat_fd = -1


class Process:
    """One traced process: its threads and the state its records need."""

    __slots__ = ("pid", "threads", "flags", "actions", "fds", "cwd", "seccomp",
                 "want_seccomp", "seccomp_set", "detaching", "shadow", "dtor_done", "pending_ctor",
                 "genio")

    def __init__(self, pid: int, flags: int):
        self.pid = pid
        self.threads: dict[int, Thread] = {}
        self.flags = flags
        self.actions: dict[int, tuple[int, int]] = {}   # signo -> (handler, sa_flags)
        self.fds: dict[int, str] = {}    # fd -> resolved path, for files under /proc
        self.cwd: str | None = None
        self.seccomp = False             # a SECCOMP_RET_TRACE filter is installed
        self.want_seccomp = False        # install one at the next syscall entry
        self.seccomp_set: frozenset = frozenset()   # the syscalls its filters trace
        self.detaching = False           # detach every thread at its next stop
        self.shadow = False              # attached but not traced (seccomp keeps it)
        self.dtor_done = False           # PROCDTOR written
        self.pending_ctor = False        # PROCCTOR due at its first stop (fork child)
        self.genio = None                # its trace file's genio size, once looked up

    def live_threads(self) -> int:
        return sum(1 for t in self.threads.values() if not t.exiting)

    def load_actions(self) -> None:
        """Signal dispositions of a process we attached to, from /proc.

        /proc tells which signals are caught and ignored, not the handler
        addresses: caught ones are CAUGHT_UNKNOWN until a rt_sigaction or a
        delivery (which single-steps into the handler) tells the address.
        """
        where = procfs.task_dir(self.pid)
        fields = status_fields(f"{where}/status", b"SigCgt", b"SigIgn") if where else {}
        if not fields:
            return
        caught, ignored = (int(fields.get(k, [b"0"])[0], 16) for k in (b"SigCgt", b"SigIgn"))
        for sig in range(1, NSIG + 1):
            bit = 1 << (sig - 1)
            if caught & bit:
                self.actions[sig] = (CAUGHT_UNKNOWN, 0)
            elif ignored & bit:
                self.actions[sig] = (SIG_IGN, 0)

    def exec_reset(self) -> None:
        """execve: caught signals go back to SIG_DFL, ignored stay ignored."""
        self.actions = {s: a for s, a in self.actions.items() if a[0] == SIG_IGN}
        self.fds.clear()
        self.load_cwd()

    def load_cwd(self) -> None:
        self.cwd = procfs.cwd(self.pid)

    def fork_copy(self, child_pid: int, flags: int) -> "Process":
        child = Process(child_pid, flags)
        child.actions = dict(self.actions)
        child.fds = dict(self.fds)
        child.cwd = self.cwd
        child.seccomp = self.seccomp
        child.seccomp_set = self.seccomp_set
        return child

"""Syscalls whose effects the engine itself must follow, besides recording them.

Kernel state that a ptrace tracer cannot ask for later is kept up to date
here, by small functions per syscall family: signal actions (PSIG's action),
thread names (every header's comm), the rseq area (every header's CPU),
descriptors of files under /proc (SCTL names, writes to .../comm), the
working directory (resolving relative paths), and the calls the kernel
semantics live in: utrace, and an execve that would gain privilege.
"""

from __future__ import annotations

import errno
import os
import stat

from ... import record as r
from ...abi import LINUX_X86_64
from ...abi import linux_plan as lp
from ...abi import linux_structs as LS
from ...platform import procfs
from ...platform import ptrace as pt
from . import signals
from .syscalls import F_USER, Call, Stop
from .tracee import Thread, status_fields

AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
F_DUPFD, F_DUPFD_CLOEXEC = 0, 1030
PR_SET_NAME = 15


def _int(v: int) -> int:
    """A C int argument from its 64-bit register."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


class Hooks:
    """Entry and exit hooks by syscall number."""

    def __init__(self, engine):
        self.engine = engine
        nr = LINUX_X86_64.syscall_number
        self.entry = {
            nr("execve"): self.execve_entry,
            nr("execveat"): self.execveat_entry,
            nr("rt_sigaction"): self.sigaction_entry,
            lp.UTRACE_NR: self.utrace_entry,
        }
        for name in signals.TEMPORARY_MASK_CALLS:
            self.entry[nr(name)] = self.temporary_mask_entry
        self.exit = {nr("rt_sigaction"): self.sigaction_exit,
                     nr("prctl"): self.prctl_exit,
                     nr("close"): self.close_exit,
                     nr("dup"): self.dup_exit,
                     nr("dup2"): self.dup2_exit, nr("dup3"): self.dup2_exit,
                     nr("fcntl"): self.fcntl_exit,
                     nr("chdir"): self.chdir_exit, nr("fchdir"): self.chdir_exit,
                     nr("rseq"): self.rseq_exit}
        for name, path_arg in (("open", 0), ("creat", 0), ("openat", 1), ("openat2", 1)):
            self.exit[nr(name)] = self._open_exit(path_arg)
        for name in ("write", "pwrite64", "writev", "pwritev", "pwritev2"):
            self.exit[nr(name)] = self.write_exit
        self.exit.pop(None, None)         # names this ABI table lacks
        self.entry.pop(None, None)
        self._clone = nr("clone")
        self._clone3 = nr("clone3")

    # -- signal actions ---------------------------------------------------------

    def sigaction_entry(self, th: Thread, call: Call, st: Stop) -> None:
        if call.args[1]:
            data = self.engine.mem.read(th.proc.pid, call.args[1], LS.SIGACTION_HEAD.size)
            if len(data) == LS.SIGACTION_HEAD.size:
                call.saved["act"] = LS.SIGACTION_HEAD.unpack(data)

    def sigaction_exit(self, th: Thread, call: Call, rval: int) -> None:
        act = call.saved.get("act")
        if act is not None:
            th.proc.actions[_int(call.args[0])] = act

    def temporary_mask_entry(self, th: Thread, call: Call, st: Stop) -> None:
        """The mask before sigsuspend, ppoll, ...: a signal that ends the wait restores it."""
        try:
            th.mask_before = pt.getsigmask(th.tid)
        except OSError:
            th.mask_before = None

    # -- names and the rseq area ----------------------------------------------------

    def prctl_exit(self, th: Thread, call: Call, rval: int) -> None:
        if call.args[0] == PR_SET_NAME:
            th.comm = procfs.comm(th.proc.pid, th.tid)

    def rseq_exit(self, th: Thread, call: Call, rval: int) -> None:
        self.engine.refresh_rseq(th)

    def write_exit(self, th: Thread, call: Call, rval: int) -> None:
        proc = th.proc
        if proc.fds and proc.fds.get(_int(call.args[0]), "").endswith("/comm"):
            for t in proc.threads.values():     # pthread_setname_np writes task/TID/comm
                t.comm = procfs.comm(proc.pid, t.tid)

    # -- descriptors of files under /proc ---------------------------------------------

    def _open_exit(self, path_arg: int):
        def open_exit(th: Thread, call: Call, rval: int) -> None:
            proc = th.proc
            path = call.saved.get(path_arg)          # read for NAMI already
            if path is None:
                path = self.engine.mem.read_string(proc.pid, call.args[path_arg], lp.MAX_STRING)
            full = self._proc_path(proc, _int(call.args[0]) if path_arg else AT_FDCWD, path)
            if full is not None:
                proc.fds[rval] = full
            elif proc.fds:
                proc.fds.pop(rval, None)
        return open_exit

    @staticmethod
    def _proc_path(proc, dirfd: int, path: bytes | None) -> str | None:
        """The normalised path of a file opened under /proc, else None."""
        if not path:
            return None
        if b".." not in path:            # the common cases, decided without work
            if path[0] == 0x2F:          # "/"
                if not path.startswith(b"/proc/"):
                    return None
            elif dirfd == AT_FDCWD and not (proc.cwd or "").startswith("/proc"):
                return None
        text = os.fsdecode(path)
        if not text.startswith("/"):
            base = proc.cwd if dirfd == AT_FDCWD else proc.fds.get(dirfd)
            if not base:
                return None
            text = os.path.join(base, text)
        full = os.path.normpath(text)
        return full if full.startswith("/proc/") else None

    def close_exit(self, th: Thread, call: Call, rval: int) -> None:
        if th.proc.fds:
            th.proc.fds.pop(_int(call.args[0]), None)

    def dup_exit(self, th: Thread, call: Call, rval: int) -> None:
        self._dup(th.proc, _int(call.args[0]), rval)

    def dup2_exit(self, th: Thread, call: Call, rval: int) -> None:
        self._dup(th.proc, _int(call.args[0]), _int(call.args[1]))

    def fcntl_exit(self, th: Thread, call: Call, rval: int) -> None:
        if _int(call.args[1]) in (F_DUPFD, F_DUPFD_CLOEXEC):
            self._dup(th.proc, _int(call.args[0]), rval)

    @staticmethod
    def _dup(proc, old: int, new: int) -> None:
        if not proc.fds:
            return
        path = proc.fds.get(old)
        if path is None:
            proc.fds.pop(new, None)
        else:
            proc.fds[new] = path

    def chdir_exit(self, th: Thread, call: Call, rval: int) -> None:
        th.proc.load_cwd()

    # -- clone -----------------------------------------------------------------------------

    def clone_flags(self, th: Thread) -> int | None:
        """The flags of the clone in progress (None when not known)."""
        call = th.call
        if call is None:
            return None
        if call.nr == self._clone:
            return call.args[0]
        if call.nr == self._clone3:
            flags = LS.CLONE_ARGS_FLAGS
            data = self.engine.mem.read(th.proc.pid, call.args[0], flags.size)
            return flags.unpack(data)[0] if len(data) == flags.size else None
        return 0

    # -- utrace ------------------------------------------------------------------------------

    def utrace_entry(self, th: Thread, call: Call, st: Stop) -> None:
        """utrace(addr, len): record USER; the call returns what FreeBSD's would."""
        addr, length = call.args[0], call.args[1]
        if not st.flags & F_USER:
            call.result = 0              # not traced for USER: nothing, and success
        elif length > r.KTR_USER_MAXLEN:
            call.result = -errno.EINVAL
        else:
            data = self.engine.mem.read(th.proc.pid, addr, length) if length else b""
            if len(data) < length:
                call.result = -errno.EFAULT
            else:
                st.add(r.USER, data)
                call.result = 0

    # -- exec that gains privilege ----------------------------------------------------------

    def execve_entry(self, th: Thread, call: Call, st: Stop) -> None:
        self._exec_check(th, st, AT_FDCWD, call.args[0], 0)

    def execveat_entry(self, th: Thread, call: Call, st: Stop) -> None:
        self._exec_check(th, st, _int(call.args[0]), call.args[1], _int(call.args[4]))

    def _exec_check(self, th: Thread, st: Stop, dirfd: int, path_addr: int, flags: int) -> None:
        """A set-id or file-capability exec stops tracing before it runs.

        As FreeBSD's: the CALL is the last record, and the program gains its
        privilege untraced (a tracer that is root goes on tracing).
        """
        pid = th.proc.pid
        path = self.engine.mem.read_string(pid, path_addr, lp.MAX_STRING)
        if path is None or not gains_privilege(pid, dirfd, path, flags):
            return
        st.out[:] = [rec for rec in st.out
                     if int.from_bytes(rec[4:6], "little") & 0x3FFF == r.SYSCALL]
        self.engine.emit(st)
        self.engine.facility.exec_gains_privilege(pid)


def _exec_target(task: str, dirfd: int, path: bytes, flags: int) -> str:
    """The file exec'ing ``path`` names, through the process's /proc directory ``task``."""
    text = os.fsdecode(path)
    if not text and flags & AT_EMPTY_PATH:
        return f"{task}/fd/{dirfd}"
    if text.startswith("/"):
        return f"{task}/root{text}"
    base = f"{task}/cwd" if dirfd == AT_FDCWD else f"{task}/fd/{dirfd}"
    return f"{base}/{text}"


def _ids(task: str) -> tuple[int, int]:
    """(euid, egid) of the process whose /proc directory is ``task``."""
    fields = status_fields(f"{task}/status", b"Uid", b"Gid") or {}
    return (int(fields[b"Uid"][1]) if b"Uid" in fields else -1,
            int(fields[b"Gid"][1]) if b"Gid" in fields else -1)


def gains_privilege(pid: int, dirfd: int, path: bytes, flags: int) -> bool:
    """Would exec'ing ``path`` (as resolved by process ``pid``) change its privilege?"""
    task = procfs.task_dir(pid)
    if task is None:         # /proc cannot show the process: assume the worst, stop tracing
        return True
    target = _exec_target(task, dirfd, path, flags)
    try:
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode) or os.statvfs(target).f_flag & os.ST_NOSUID:
            return False
    except OSError:
        return False
    euid, egid = _ids(task)
    mode = st.st_mode
    if mode & stat.S_ISUID and st.st_uid != euid:
        return True
    if mode & stat.S_ISGID and mode & stat.S_IXGRP and st.st_gid != egid:
        return True
    if euid != 0:
        try:
            os.getxattr(target, "security.capability")
            return True
        except OSError:
            pass
    return False

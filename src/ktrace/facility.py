"""The ktrace facility's state and rules, independent of any engine.

This is the in-memory counterpart of the kernel's ``p_traceflag`` and
``p_ktrioparms``: which process is traced for which record types into which
file.  Requests arrive as ktrace(2) operations; engines report lifecycle
events and hand over record bytes.  Behaviour follows FreeBSD's
kern_ktrace.c (see docs/design.md, "The facility").
"""

from __future__ import annotations

import errno
import os
import stat
import syslog
import time
from typing import Callable, Iterable, NamedTuple

from . import record as r
from . import trpoints
from .engine import DEFAULT_GENIO_SIZE, Engine, ProcSettings
from .platform import procfs
from .tracefile import AppendWriter

# ktrace(2) operations
KTROP_SET = 0
KTROP_CLEAR = 1
KTROP_CLEARFILE = 2
KTROP_MASK = 3
KTRFLAG_DESCEND = 4

FLUSH_BYTES = 256 * 1024   # write out a file's queue once it holds this much
F_STRUCT = r.facility(r.STRUCT)
F_CALL = r.facility(r.SYSCALL)
AT_FDCWD = -100            # the fd of an fdesc record that is the cwd (Linux's)
MAX_FDESC = 4096           # descriptors recorded when tracing begins: the lowest


class Cred(NamedTuple):
    """Who asked (from SO_PEERCRED)."""

    pid: int
    uid: int
    gid: int

    @property
    def root(self) -> bool:
        return self.uid == 0


class TraceFile:
    """One open trace file and what writing to it needs (the kernel's kiop)."""

    def __init__(self, fd: int, limit: int | None, owner: Cred, log_fd: int | None = None,
                 genio_size: int = DEFAULT_GENIO_SIZE):
        st = os.fstat(fd)
        self.key = (st.st_dev, st.st_ino)
        self.writer = AppendWriter(fd, limit)
        self.owner = owner            # whose rights the tracing runs with
        self.log_fd = log_fd          # where the facility's messages go (ktrace's stderr)
        self.genio_size = genio_size  # most data bytes per GIO record
        self.refs = 0

    def log(self, line: str) -> None:
        """A message of the facility, where the kernel would log it.

        The kernel's log(9) reaches syslog and the console: here syslog and
        the stderr of the ktrace that asked (or the service's own log).
        """
        syslog.syslog(syslog.LOG_NOTICE, line)
        try:
            os.write(2 if self.log_fd is None else self.log_fd, (line + "\n").encode())
        except OSError:
            pass

    def close(self) -> None:
        self.writer.close()
        if self.log_fd is not None:
            try:
                os.close(self.log_fd)
            except OSError:
                pass


class Request(NamedTuple):
    """One ktrace(2) call: ``pid`` < 0 names process group ``-pid``.

    ``options`` are engine options for processes this request attaches
    (e.g. ``{"seccomp": True}`` for the ptrace engine).
    """

    ops: int
    facs: int
    pid: int
    file: TraceFile | None      # None only for KTROP_CLEAR
    options: dict = {}


class Traced:
    __slots__ = ("flags", "file")

    def __init__(self, flags: int, file: TraceFile):
        self.flags = flags
        self.file = file


class Facility:
    """``exempt`` gives, from the process table, the processes that are never
    targets (the service's own): asked for by pid they are EPERM, in a
    process group or a -d walk they are passed over.

    A facility that traces nothing never calls its engine: one without an
    engine answers what ktrace(2) answers for untraced processes.

    This is the one place an engine is wired to its host: the constructor
    binds it (``engine.bind(self)``).  Engines see the facility only through
    :class:`ktrace.engine.Host`.
    """

    def __init__(self, engine: Engine | None, sv_flags: int = r.SV_LINUX_X86_64,
                 exempt: Callable[[dict[int, procfs.ProcStat]], Iterable[int]] = lambda t: ()):
        self.engine = engine
        self.sv_flags = sv_flags
        self.exempt = exempt
        self.procs: dict[int, Traced] = {}
        self._dirty: set[TraceFile] = set()
        self._said: set[tuple] = set()      # (file key, line): logged once already
        if engine is not None:
            engine.bind(self)

    # -- queries -------------------------------------------------------------

    def flags(self, pid: int) -> int:
        t = self.procs.get(pid)
        return t.flags if t is not None else 0

    def tracing(self) -> bool:
        """Is anything traced?  Safe from any thread (one read of the table)."""
        return bool(self.procs)

    def settings(self, pid: int) -> ProcSettings | None:
        """How ``pid`` is traced, as the engine needs it (None: not traced)."""
        t = self.procs.get(pid)
        if t is None:
            return None
        return ProcSettings(t.flags, t.file.genio_size, t.file.owner.root)

    def traced_pids(self) -> set[int]:
        return set(self.procs)

    def log(self, pid: int, line: str, once: bool = False) -> None:
        """A line to the log of ``pid``'s trace file (nothing if not traced);
        ``once``: only the first time this file is told this line."""
        t = self.procs.get(pid)
        if t is None:
            return
        if once:
            if (t.file.key, line) in self._said:
                return
            self._said.add((t.file.key, line))
        t.file.log(line)

    # -- ktrace(2) -----------------------------------------------------------

    def ktrace(self, req: Request, cred: Cred) -> int:
        """Apply one request; 0 or the errno ktrace(2) would return."""
        op = req.ops & KTROP_MASK
        facs = req.facs & ~r.KTRFAC_ROOT
        if op != KTROP_CLEARFILE and facs & r.KTRFAC_MASK == 0:
            return errno.EINVAL
        if op == KTROP_CLEARFILE:
            return self._clearfile(req.file, cred)
        table = procfs.process_table()
        exempt = set(self.exempt(table))
        if req.pid < 0:
            targets = procfs.group_members(table, -req.pid)
            if not targets:
                return errno.ESRCH
        else:
            if not procfs.is_process(req.pid):
                return errno.ESRCH
            targets = [req.pid]
        changed = False
        for top in targets:
            tree = procfs.subtree(table, top) if req.ops & KTRFLAG_DESCEND else [top]
            for pid in tree:
                if pid not in exempt:
                    changed |= self._op(op, facs, pid, req, cred)
        self.flush()
        return 0 if changed else errno.EPERM

    def _can_set(self, pid: int, cred: Cred) -> bool:
        t = self.procs.get(pid)
        if t is not None and t.flags & r.KTRFAC_ROOT and not cred.root:
            return False
        return cred.root or procfs.may_debug(pid)

    def _op(self, op: int, facs: int, pid: int, req: Request, cred: Cred) -> bool:
        """ktrops(): True when the process counts as changed."""
        file = req.file
        if not self._can_set(pid, cred):
            return False
        if procfs.is_exiting(pid):
            return True          # nothing to do, but not an error
        t = self.procs.get(pid)
        begins = False
        if op == KTROP_SET:
            if t is None:
                try:
                    self.engine.attach(pid, req.options)
                except OSError:
                    return False
                t = self.procs[pid] = Traced(0, self._ref(file))
                begins = True
            elif t.file is not file and t.file.key != file.key:
                self._release(t.file)
                t.file = self._ref(file)
            t.flags |= facs | (r.KTRFAC_ROOT if cred.root else 0)
        elif t is not None:
            t.flags &= ~facs
            # PROCCTOR/PROCDTOR alone trace nothing a user asked for
            if t.flags & r.KTRFAC_MASK & ~trpoints.LIFECYCLE == 0:
                self._stop(pid)
                return True
        if t is not None:
            self.engine.flags_changed(pid, self.settings(pid))
            self._procctor(pid)
            if begins and t.flags & F_CALL:
                self._nspids(pid)
            if begins and t.flags & F_STRUCT:
                self._descriptors(pid, execs_next=pid == cred.pid)
        return True

    def _clearfile(self, file: TraceFile | None, cred: Cred) -> int:
        if file is None:
            return errno.EINVAL
        result = 0
        for pid, t in list(self.procs.items()):
            if t.file.key == file.key:
                if self._can_set(pid, cred):
                    self._stop(pid)
                else:
                    result = errno.EPERM
        return result

    # -- files ---------------------------------------------------------------

    def _ref(self, file: TraceFile) -> TraceFile:
        # share the already open file when the same one is named again
        for t in self.procs.values():
            if t.file.key == file.key:
                file = t.file
                break
        file.refs += 1
        return file

    def _release(self, file: TraceFile) -> None:
        file.refs -= 1
        if file.refs == 0:
            self._flush_file(file)
            self._dirty.discard(file)
            file.close()

    def _stop(self, pid: int) -> None:
        """End tracing of ``pid`` (ktr_freeproc) and let the engine let go."""
        t = self.procs.pop(pid, None)
        if t is None:
            return
        self.engine.detach(pid)
        self._release(t.file)

    # -- records -------------------------------------------------------------

    def emit(self, pid: int, data: bytes) -> bool:
        """Queue whole records of ``pid``; False when ``pid`` is not traced."""
        t = self.procs.get(pid)
        if t is None:
            return False
        writer = t.file.writer
        writer.queue(pid, data)
        self._dirty.add(t.file)
        if writer.pending_bytes >= FLUSH_BYTES:
            self._flush_file(t.file, wait=False)
        return True

    def flush(self) -> None:
        """Write every queued record (engines call this before they block).

        A compressed file's last batch may still be being written behind
        (tracefile.AppendWriter): an exit or a close waits for it.
        """
        while self._dirty:
            self._flush_file(self._dirty.pop(), wait=False)

    def _flush_file(self, file: TraceFile, wait: bool = True) -> None:
        for pid, err in file.writer.flush(wait).items():
            # ktr_writerequest(): stop this process only; others go on
            file.log(f"ktrace write failed, errno {err}, tracing stopped for pid {pid}")
            if self.procs.get(pid) is not None and self.procs[pid].file is file:
                self._stop(pid)

    def _procctor(self, pid: int) -> None:
        st = procfs.stat(pid)
        self.emit(pid, r.pack_record(
            r.PROCCTOR, r.procctor_payload(self.sv_flags), pid, pid,
            procfs.comm(pid), time.time_ns(), st.processor if st else 0))

    def _nspids(self, pid: int) -> None:
        """STRU nspid of each thread of ``pid`` as its tracing begins, when its
        pid namespace numbers it otherwise than ours: what the engines write
        for a task a traced one made (record.py's NSPID_NAME)."""
        own = procfs.own_id(pid, pid)
        if not own or own == pid:
            return                  # our namespace (its threads share the leader's)
        ps = procfs.stat(pid)
        now, cpu = time.time_ns(), ps.processor if ps else 0
        records = []
        for tid in procfs.threads(pid):
            own = procfs.own_id(pid, tid)
            if own and own != tid:
                records.append(r.pack_record(r.STRUCT, r.int32_payload(r.NSPID_NAME, own),
                                             pid, tid, procfs.comm(pid, tid), now, cpu))
        self.emit(pid, b"".join(records))

    def _descriptors(self, pid: int, execs_next: bool) -> None:
        """STRU fdesc records of what ``pid`` holds as its tracing begins: its
        cwd and descriptors (record.py's FDESC).  The caller tracing itself
        (ktrace's command, exec'd next) keeps only what the exec leaves open."""
        where = procfs.cwd(pid)
        held = [] if where is None else [r.Fdesc(AT_FDCWD, 0, stat.S_IFDIR, 0, 0,
                                                 os.fsencode(where))]
        held += [r.Fdesc(fd, flags, st.st_mode, st.st_rdev, st.st_ino, path)
                 for fd, flags, st, path in procfs.open_files(pid, MAX_FDESC)
                 if not (execs_next and flags & os.O_CLOEXEC)]
        ps = procfs.stat(pid)
        comm, now, cpu = procfs.comm(pid), time.time_ns(), ps.processor if ps else 0
        self.emit(pid, b"".join(
            r.pack_record(r.STRUCT, r.fdesc_payload(d), pid, pid, comm, now, cpu)
            for d in held))

    # -- lifecycle events reported by engines -------------------------------

    def fork(self, parent: int, child: int) -> bool:
        """A traced process forked: the child inherits only with INHERIT.

        Returns True when the child is now traced.  The engine writes the
        child's PROCCTOR (it knows when the child first runs).
        """
        t = self.procs.get(parent)
        if t is None or not t.flags & r.KTRFAC_INHERIT:
            return False
        self.procs[child] = Traced(t.flags, self._ref(t.file))
        return True

    def exec_gains_privilege(self, pid: int) -> bool:
        """A set-id or file-capability exec: True when tracing must stop.

        As ktrprocexec(): tracing goes on only if the tracer is root.
        """
        t = self.procs.get(pid)
        if t is None or t.file.owner.root:
            return False
        self._stop(pid)
        return True

    def exit(self, pid: int) -> None:
        """The process is gone (its PROCDTOR already emitted): flush, forget."""
        t = self.procs.get(pid)
        if t is None:
            return
        self._flush_file(t.file)
        del self.procs[pid]
        self._release(t.file)

    def stop_all(self) -> None:
        """The service is ending: flush and let every process go."""
        for pid in list(self.procs):
            self._stop(pid)

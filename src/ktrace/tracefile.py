"""Trace files: opening them with ktrace's rules and appending whole records.

FreeBSD's ktrace(1) creates the file (or checks it with -a) and closes it;
ktrace(2) then opens the path again in the kernel.  Between the two opens a
user who can write the directory could put their own file (a hard link, a
symlink) at the name.  Here both happen in the caller's process, so the file
is opened once, without following symlinks, every check is made on that
descriptor, and that very descriptor is what the trace service receives: it
never opens a path on anybody's behalf.
"""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import stat


class TraceFileRefused(OSError):
    """The path cannot be a trace file (ktrace(1)'s refusals, ktrace(2)'s EACCES)."""


# O_NONBLOCK: opening a FIFO must fail (ENXIO) rather than wait for a reader
_OPEN = os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def create(path: str, append: bool) -> int:
    """Open ``path`` as a trace file (ktrace(1) and ktrace(2) in one open).

    Returns a descriptor open for appending; the caller closes it.  Without
    ``append`` any old file is unlinked and a new one (mode 0600) created
    exclusively, so whatever was at the name (a symlink, someone's hard
    link) is replaced, never written.  With it, a symlink fails with ELOOP
    (nothing is created through it) and the file must be a regular file,
    owned by the caller and with no other name (a hard link to a file of
    ours that someone else made is not ours to choose).
    """
    if not append:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        # a file planted after the unlink makes this fail (EEXIST), never used
        return os.open(path, _OPEN | os.O_CREAT | os.O_EXCL, 0o600)
    fd = os.open(path, _OPEN | os.O_CREAT, 0o600)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid():
            raise TraceFileRefused(errno.EACCES, f"refuse to append to {path} not owned by you")
        if not stat.S_ISREG(st.st_mode):
            raise TraceFileRefused(errno.EACCES, f"{path} not regular file")
        if st.st_nlink != 1:
            raise TraceFileRefused(errno.EACCES,
                                   f"refuse to append to {path} with other hard links")
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_for_clearing(path: str) -> int:
    """A descriptor naming the file for CLEARFILE (ktrace -c without -p)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise TraceFileRefused(errno.EACCES, f"{path}: not a regular file")
    return fd


def is_trace_file(fd: int) -> bool:
    """Is ``fd`` what :func:`create` returns: a regular file open for appending?

    The service checks what it is handed: records go only to such a file,
    where O_APPEND keeps writers from interleaving partial records.
    """
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False
    return regular and bool(flags & os.O_APPEND) and flags & os.O_ACCMODE != os.O_RDONLY


def file_size_limit() -> int | None:
    """The caller's RLIMIT_FSIZE, which bounds the trace file (None: unlimited)."""
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


class AppendWriter:
    """Appends whole records to one trace file, never a part of one.

    Records are queued and written in batches with one ``write(2)`` each; the
    file is opened O_APPEND, so several writers (processes, services) on one
    file never interleave partial records.  A write that would cross the size
    limit, or that the disk refuses, is retried record by record so that the
    error lands on the records (and so the processes) it belongs to; a short
    write is rolled back, as the kernel's IO_UNIT write would be.
    """

    def __init__(self, fd: int, limit: int | None):
        self.fd = fd
        self.limit = limit
        self._pending: list[tuple[int, bytes]] = []   # (pid, record bytes)
        self._pending_bytes = 0

    def queue(self, pid: int, data: bytes) -> None:
        self._pending.append((pid, data))
        self._pending_bytes += len(data)

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    def flush(self) -> dict[int, int]:
        """Write what is queued; returns {pid: errno} for records that failed."""
        if not self._pending:
            return {}
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        if len(batch) == 1 or self._write(b"".join(d for _, d in batch)) != 0:
            return self._write_each(batch)
        return {}

    def _write_each(self, batch) -> dict[int, int]:
        failed: dict[int, int] = {}
        for pid, data in batch:
            if pid in failed:
                continue
            err = self._write(data)
            if err:
                failed[pid] = err
        return failed

    def _write(self, data: bytes) -> int:
        """Append ``data`` entirely or not at all; 0 or an errno."""
        try:
            if self.limit is not None and \
                    os.fstat(self.fd).st_size + len(data) > self.limit:
                return errno.EFBIG
            done = os.write(self.fd, data)
        except OSError as e:
            return e.errno or errno.EIO
        if done == len(data):
            return 0
        try:   # O_APPEND put our partial record at the end: take it back
            os.ftruncate(self.fd, os.fstat(self.fd).st_size - done)
        except OSError:
            pass
        return errno.ENOSPC

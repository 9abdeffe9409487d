"""Trace files: opening them with ktrace's rules and appending whole records.

ktrace(1) creates or truncates the file (mode 0600) as the caller; ktrace(2)
then opens it without following symlinks and insists on a regular file.  Both
happen in the caller's process here, so the trace service only ever receives
an open descriptor: it never opens a path on anybody's behalf.
"""

from __future__ import annotations

import errno
import os
import resource
import stat


class TraceFileRefused(OSError):
    """The path cannot be a trace file (ktrace(2)'s EACCES/ELOOP cases)."""


def create(path: str, append: bool) -> None:
    """ktrace(1)'s part: make the file exist as a trace file (mode 0600).

    Without ``append`` any old file is unlinked and a new one created
    exclusively, so a symlink planted at the path is replaced, never
    followed.  With it, the file must be a regular file owned by the caller.
    """
    if append:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if st.st_uid != os.getuid():
            raise TraceFileRefused(errno.EACCES, f"refuse to append to {path} not owned by you")
        if not stat.S_ISREG(st.st_mode):
            raise TraceFileRefused(errno.EACCES, f"{path} not regular file")
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))


def open_for_tracing(path: str) -> int:
    """ktrace(2)'s part: open for appending, no symlinks, regular files only."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise TraceFileRefused(errno.EACCES, f"{path}: not a regular file")
    return fd


def open_for_clearing(path: str) -> int:
    """A descriptor naming the file for CLEARFILE (ktrace -c without -p)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise TraceFileRefused(errno.EACCES, f"{path}: not a regular file")
    return fd


def file_size_limit() -> int | None:
    """The caller's RLIMIT_FSIZE, which bounds the trace file (None: unlimited)."""
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def identity(fd: int) -> tuple[int, int]:
    """(st_dev, st_ino): what makes two descriptors the same trace file."""
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


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

"""Trace files: opening them with ktrace's rules and appending whole records.

FreeBSD's ktrace(1) creates the file (or checks it with -a) and closes it;
ktrace(2) then opens the path again in the kernel.  Between the two opens a
user who can write the directory could put their own file (a hard link, a
symlink) at the name.  Here both happen in the caller's process, so the file
is opened once, without following symlinks, every check is made on that
descriptor, and that very descriptor is what the trace service receives: it
never opens a path on anybody's behalf.

A trace file is plain (FreeBSD's format, what FreeBSD's kdump reads) or
compressed: zstd frames whose decompressed bytes are that format, one frame
per write, so a writer that dies loses at most the frame it was writing.
The file says which it is: a compressed one is created with an empty frame
in it, before any writer gets it, so that every writer of it (services,
a later ``ktrace -a``) and every reader agree, whatever each was told.
"""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import stat
from typing import TYPE_CHECKING, BinaryIO

from .platform import zstd

if TYPE_CHECKING:
    from concurrent import futures


class TraceFileRefused(OSError):
    """The path cannot be a trace file (ktrace(1)'s refusals, ktrace(2)'s EACCES)."""


# O_NONBLOCK: opening a FIFO must fail (ENXIO) rather than wait for a reader
_OPEN = os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


COMPRESSED_SUFFIX = ".zst"


def create(path: str, append: bool, compress: bool = False) -> int:
    """Open ``path`` as a trace file (ktrace(1) and ktrace(2) in one open).

    The file is compressed with ``compress`` or a name ending in ``.zst``,
    unless it is appended to and already has records: then it stays what it
    is (see :func:`is_compressed`), as a file of mixed parts no reader reads.

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
        fd = os.open(path, _OPEN | os.O_CREAT | os.O_EXCL, 0o600)
    else:
        fd = os.open(path, _OPEN | os.O_CREAT, 0o600)
    try:
        if append:
            _check_appendable(path, os.fstat(fd))
        if wants_compression(path, compress) and os.fstat(fd).st_size == 0:
            os.write(fd, zstd.FrameCompressor().frame(b""))
    except BaseException:
        os.close(fd)
        raise
    return fd


def wants_compression(path: str, compress: bool) -> bool:
    """Was a compressed trace asked for (``-z``, or the name)?"""
    return compress or path.endswith(COMPRESSED_SUFFIX)


def _check_appendable(path: str, st: os.stat_result) -> None:
    if st.st_uid != os.getuid():
        raise TraceFileRefused(errno.EACCES, f"refuse to append to {path} not owned by you")
    if not stat.S_ISREG(st.st_mode):
        raise TraceFileRefused(errno.EACCES, f"{path} not regular file")
    if st.st_nlink != 1:
        raise TraceFileRefused(errno.EACCES, f"refuse to append to {path} with other hard links")


def is_compressed(fd: int) -> bool:
    """Does the file of ``fd`` start with a zstd frame?  (False: plain, or unreadable.)

    ``fd`` is open for writing only: its file is opened again, for reading,
    through /proc (the very file, whatever its name is now).  Only a regular
    file is: opening a device or a FIFO may do something (a tape rewinds),
    and a trace service opens what a caller's descriptor names with its own
    rights, which must read nothing but the caller's own trace file.
    """
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        reader = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return os.pread(reader, len(zstd.MAGIC), 0) == zstd.MAGIC
    except OSError:
        return False
    finally:
        os.close(reader)


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


class TraceStream:
    """The FreeBSD-format bytes of a trace stream (a file, a pipe), plain or
    compressed: which, its first bytes say (the zstd magic or not).

    ``read1`` returns what is there so far, ``b""`` at the end (or, for a
    ``follow``-er, when there is nothing new yet); a damaged compressed
    stream raises :class:`zstd.ZstdError`.  ``compressed`` is known once
    the first bytes are read.
    """

    def __init__(self, stream: BinaryIO, follow: bool = False):
        self._stream = stream
        self._follow = follow
        self._read = self._first_read
        self.compressed = False

    def read1(self, size: int) -> bytes:
        return self._read(size)

    def _first_read(self, size: int) -> bytes:
        read = getattr(self._stream, "read1", self._stream.read)
        head = b""
        while len(head) < len(zstd.MAGIC):    # a pipe may give fewer bytes at a time
            chunk = read(size)
            if not chunk:
                break
            head += chunk
        if not head:
            return b""            # nothing to tell by yet
        if head.startswith(zstd.MAGIC):
            self.compressed = True
            self._read = zstd.FrameReader(self._stream, head, self._follow).read1
            return self._read(size)
        self._read = read
        return head


class AppendWriter:
    """Appends whole records to one trace file, never a part of one.

    Records are queued and written in batches with one ``write(2)`` each; the
    file is opened O_APPEND, so several writers (processes, services) on one
    file never interleave partial records.  A write that would cross the size
    limit, or that the disk refuses, is retried record by record so that the
    error lands on the records (and so the processes) it belongs to; a short
    write is rolled back, as the kernel's IO_UNIT write would be.

    To a compressed file each write is one zstd frame.  Compressing in the
    engine's loop would slow the loop that moves the records (by a fifth on
    W1), so unless the caller must wait (a process exits, the file is
    closed) a batch is compressed and written behind, on a thread of the
    writer's (libzstd runs without the GIL), while the engine goes on: one
    batch at most is in flight, and its failures come back from the next
    flush.
    """

    def __init__(self, fd: int, limit: int | None):
        self.fd = fd
        self.limit = limit
        self._pending: list[tuple[int, bytes]] = []   # (pid, record bytes)
        self._pending_bytes = 0
        self._frame = None
        self._behind: futures.ThreadPoolExecutor | None = None
        self._in_flight: futures.Future | None = None
        if is_compressed(fd):
            # here: concurrent.futures (and logging with it) only for compressed files
            from concurrent.futures import ThreadPoolExecutor
            self._frame = zstd.FrameCompressor().frame
            # one thread, kept: starting one per batch would wait for it to be scheduled
            self._behind = ThreadPoolExecutor(1, "ktrace-frame-writer")

    def queue(self, pid: int, data: bytes) -> None:
        self._pending.append((pid, data))
        self._pending_bytes += len(data)

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    def flush(self, wait: bool = True) -> dict[int, int]:
        """Write what is queued; returns {pid: errno} for records that failed.

        Without ``wait`` a compressed file's batch may still be being written
        on return (the failures are then those of the batch before).
        """
        failed = self._in_flight.result() if self._in_flight else {}
        self._in_flight = None
        if not self._pending:
            return failed
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        if wait or self._behind is None:
            failed.update(self._write_batch(batch))
        else:
            self._in_flight = self._behind.submit(self._write_batch, batch)
        return failed

    def close(self) -> None:
        """Close the file, once a batch being written behind is in it."""
        if self._behind is not None:
            self._behind.shutdown()
        try:
            os.close(self.fd)
        except OSError:
            pass

    def _write_batch(self, batch) -> dict[int, int]:
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
            if self._frame is not None:
                data = self._frame(data)
            if self.limit is not None and \
                    os.fstat(self.fd).st_size + len(data) > self.limit:
                return errno.EFBIG
            done = os.write(self.fd, data)
        except OSError as e:
            return e.errno or errno.EIO
        except zstd.ZstdError:      # libzstd out of memory: lost as a failed write is
            return errno.ENOMEM
        if done == len(data):
            return 0
        try:   # O_APPEND put our partial record at the end: take it back
            os.ftruncate(self.fd, os.fstat(self.fd).st_size - done)
        except OSError:
            pass
        return errno.ENOSPC

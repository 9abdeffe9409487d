"""utrace(2) for Linux: ``ktrace.utrace(data)`` adds a USER record to your trace.

Linux has no utrace(2); ktrace's engines take the unallocated syscall number
0x6b74 with ``(addr, len)`` (include/ktrace/utrace.h is the C side).  When
the calling process is traced for USER records the engine records the data
and the call returns 0, or fails with EINVAL above 2048 bytes (EFAULT for a
bad address); traced without ``u`` it returns 0; untraced the kernel answers
ENOSYS, which counts as 0: FreeBSD's utrace(2) returns 0 when not traced.
"""

from __future__ import annotations

import ctypes
import errno
import os

from .abi.linux_plan import UTRACE_NR
from .platform.libc import function

KTR_USER_MAXLEN = 2048
_syscall = function("syscall", ctypes.c_long, blocking=True)


def utrace(data: bytes) -> None:
    """Record ``data`` (at most 2048 bytes) as a USER record, if traced for it."""
    buf = bytes(data)
    ret = _syscall(ctypes.c_long(UTRACE_NR), ctypes.c_char_p(buf), ctypes.c_size_t(len(buf)))
    if ret == -1:
        err = ctypes.get_errno()
        if err != errno.ENOSYS:
            raise OSError(err, os.strerror(err))


"""Descriptors and I/O: read/write, vectors, ioctl, fcntl, dup, pipes, polling."""

from __future__ import annotations

from .. import structs as S
from ..names import signal_name
from ..xlat import LINUX as L
from . import structs as T
from .call import (FD, HEX, INT, LONG, PTR, RBUF, UINT, ULONG, WBUF, Arg, Call, at_exit,
                   p_flags, p_xval)
from .fmt import c_int, printstr, ptr
from .fs import open_flags


def _iovecs(c: Call, i: int) -> str:
    """[{iov_base="..", iov_len=N}, ...], the GIO data cut by the iov_len's."""
    arr = c.array(i, "iovec", exit=False)
    if arr is None:
        return ptr(c.arg(i))
    gio = c.gio(i)
    data = gio.data if gio is not None else None
    items, at = [], 0
    for vec in S.array("iovec", arr.data, arr.struct_size):
        if data is None:
            base = ptr(vec["iov_base"])
        else:
            base = printstr(data[at:at + vec["iov_len"]], c.opts)
            at += vec["iov_len"]
        items.append(f"{{iov_base={base}, iov_len={vec['iov_len']}}}")
    return "[" + ", ".join(items) + "]"


def _pipefds(c: Call, i: int) -> str:
    arr = c.array(i, "int")
    return T.ints(arr.data) if c.ok and arr is not None else ptr(c.arg(i))


def _pollfds(c: Call, i: int) -> str:
    arr = c.array(i, "pollfd", exit=False)
    if arr is None:
        return ptr(c.arg(i))
    return "[" + ", ".join(T.pollfds(arr.data, arr.struct_size, False)) + "]"


def poll_result(c: Call) -> str:
    """The `` ([{fd=3, revents=POLLIN}])`` strace adds to poll's result."""
    arr = c.array(0, "pollfd", exit=True)
    if not c.ok or not c.retval or arr is None:
        return ""
    if arr is c.array(0, "pollfd", exit=False):
        return ""
    return " ([" + ", ".join(T.pollfds(arr.data, arr.struct_size, True)) + "])"


def _epoll_out(c: Call, i: int) -> str:
    arr = c.array(i, "epoll_event")
    if not c.ok or arr is None:
        return ptr(c.arg(i))
    return T.epoll_events(arr.data, arr.struct_size)


def _epoll_in(c: Call, i: int) -> str:
    data = c.struct(i, "epoll_event", exit=False)
    return T.epoll_events(data, 12)[1:-1] if data is not None else ptr(c.arg(i))


# Requests whose argument the kernel writes (printed only on success).
IOCTL_OUT = {"TCGETS", "TIOCGWINSZ", "FIONREAD", "TIOCGPGRP", "TIOCOUTQ"}


def _ioctl_arg(c: Call, i: int) -> str | None:
    name = L.IOCTLS.name(c.arg(1) & 0xFFFFFFFF)
    if name in ("TIOCGWINSZ", "TIOCSWINSZ"):
        data = c.struct(i, "winsize", exit=name == "TIOCGWINSZ")
        if data is not None and (c.ok or name == "TIOCSWINSZ"):
            return T.winsize_text(data)
    if name in ("FIONREAD", "TIOCGPGRP", "TIOCSPGRP", "FIONBIO", "TIOCOUTQ"):
        data = c.struct(i, "int", exit=name in IOCTL_OUT)
        if data is not None and (c.ok or name not in IOCTL_OUT):
            return T.int_text(data)
    if name in ("FIOCLEX", "FIONCLEX", "TIOCNOTTY"):
        return None
    return ptr(c.arg(i))


def _ioctl(c: Call, i: int) -> str:
    req = c.arg(1) & 0xFFFFFFFF
    name = L.IOCTLS.name(req) or f"{req:#x}"
    arg = _ioctl_arg(c, 2)
    return name if arg is None else f"{name}, {arg}"


_F = L.FCNTL_CMDS
_NO_ARG = {_F.value(n) for n in ("F_GETFD", "F_GETFL", "F_GETOWN", "F_GETSIG",
                                 "F_GETLEASE", "F_GETPIPE_SZ", "F_GET_SEALS")}


def _fcntl(c: Call, i: int) -> str:
    cmd = c_int(c.arg(1))
    text = _F.name(cmd) or f"{cmd:#x} /* F_??? */"
    if cmd in _NO_ARG:
        return text
    arg = c.arg(2)
    if cmd == _F.value("F_SETFD"):
        return f"{text}, {'FD_CLOEXEC' if arg & 1 else '0'}"
    if cmd == _F.value("F_SETFL"):
        return f"{text}, {open_flags(arg & 0xFFFFFFFF)}"
    if cmd == _F.value("F_SETSIG"):
        return f"{text}, {signal_name(c_int(arg)) or c_int(arg)}"
    if cmd in (_F.value("F_DUPFD"), _F.value("F_DUPFD_CLOEXEC"), _F.value("F_SETOWN"),
               _F.value("F_SETPIPE_SZ"), _F.value("F_SETLEASE")):
        return f"{text}, {c_int(arg)}"
    return f"{text}, {ptr(arg)}"


def is_dup(c: Call) -> bool:
    return c_int(c.arg(1)) in (_F.value("F_DUPFD"), _F.value("F_DUPFD_CLOEXEC"))


def fcntl_result(c: Call) -> str:
    """F_GETFD/F_GETFL results carry their flags: ``= 0x1 (flags FD_CLOEXEC)``."""
    cmd = c_int(c.arg(1))
    if not c.ok:
        return ""
    if cmd == _F.value("F_GETFL"):
        return f" (flags {open_flags(c.retval & 0xFFFFFFFF)})"
    if cmd == _F.value("F_GETFD") and c.retval:
        return " (flags FD_CLOEXEC)"
    return ""


def _random(c: Call, i: int) -> str:
    data = c.struct(i, "bytes")
    return printstr(data, c.opts, force_hex=True) if c.ok and data is not None else ptr(c.arg(i))


PIPE_FLAGS = Arg(p_flags(L.PIPE_FLAGS))

SYSCALLS = {
    "read": (FD, RBUF, ULONG), "write": (FD, WBUF, ULONG),
    "pread64": (FD, RBUF, ULONG, LONG), "pwrite64": (FD, WBUF, ULONG, LONG),
    "readv": (FD, at_exit(_iovecs), INT), "writev": (FD, Arg(_iovecs), INT),
    "lseek": (FD, LONG, Arg(p_xval(L.SEEK_WHENCE, "SEEK_???"))),
    "ioctl": (FD, Arg(_ioctl)),
    "fcntl": (FD, Arg(_fcntl)),
    "dup": (FD,), "dup2": (FD, FD), "dup3": (FD, FD, PIPE_FLAGS),
    "pipe": (at_exit(_pipefds),), "pipe2": (at_exit(_pipefds), PIPE_FLAGS),
    "poll": (Arg(_pollfds), UINT, INT),
    "epoll_create": (INT,),
    "epoll_create1": (Arg(p_flags(L.EPOLL_CREATE_FLAGS)),),
    "epoll_ctl": (FD, Arg(p_xval(L.EPOLL_CTL_OPS, "EPOLL_CTL_???")), FD, Arg(_epoll_in)),
    "epoll_wait": (FD, at_exit(_epoll_out), INT, INT),
    "epoll_pwait": (FD, at_exit(_epoll_out), INT, INT, PTR, ULONG),
    "eventfd2": (UINT, Arg(p_flags(L.EVENTFD_FLAGS))),
    "sendfile": (FD, FD, PTR, ULONG),
    "getrandom": (at_exit(_random), ULONG, Arg(p_flags(L.GETRANDOM_FLAGS))),
    "close_range": (UINT, UINT, Arg(p_flags(L.CLOSE_RANGE_FLAGS))),
    "inotify_init1": (Arg(p_flags(L.INOTIFY_INIT_FLAGS)),),
    "splice": (FD, PTR, FD, PTR, ULONG, HEX),
}

RESULTS = {"poll": poll_result, "fcntl": fcntl_result}

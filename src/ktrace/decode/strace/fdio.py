"""Descriptors and I/O: read/write, vectors, ioctl, fcntl, dup, pipes, polling."""

from __future__ import annotations

from typing import Callable, NamedTuple

from ...abi import linux_structs as LS
from .. import structs as S
from ..names import signal_name
from ..xlat import LINUX as L
from . import structs as T
from .call import (FD, INT, LONG, PTR, RBUF, UINT, ULONG, WBUF, Arg, Call, at_exit,
                   p_flags, p_hex, p_struct, p_xval)
from .fmt import array, c_int, flags, hexval, printstr, ptr
from .fs import open_flags


def iovecs(c: Call, i: int, exit: bool = False) -> str | None:
    """[{iov_base="..", iov_len=N}, ...], the GIO data cut by the iov_len's."""
    arr = c.array(i, "iovec", exit=exit)
    if arr is None:
        return None
    gio = c.gio(i)
    data = gio.data if gio is not None else None

    def items():
        at = 0
        for vec in S.iter_array("iovec", arr.data, arr.struct_size):
            if data is None:
                base = ptr(vec["iov_base"])
            else:
                base = printstr(data[at:at + vec["iov_len"]], c.opts)
                at += vec["iov_len"]
            yield f"{{iov_base={base}, iov_len={vec['iov_len']}}}"
    return array(items(), c.opts)


def _iovecs(c: Call, i: int) -> str:
    """An iovec array (its count the next argument): ``[]`` when empty, as
    print_array prints one (the recording holds no array then)."""
    text = iovecs(c, i)
    if text is not None:
        return text
    return "[]" if c.arg(i) and not c.arg(i + 1) else ptr(c.arg(i))


def fd_pair(c: Call, i: int) -> str:
    """pipe's and socketpair's two new descriptors: ``[3, 4]``."""
    arr = c.array(i, "int")
    if not c.ok or arr is None:
        return ptr(c.arg(i))
    return "[" + ", ".join(c.fd_text(fd) for fd in LS.INT_PAIR.unpack_from(arr.data)) + "]"


def _pollfds(c: Call, i: int) -> str:
    arr = c.array(i, "pollfd", exit=False)
    if arr is None:
        return ptr(c.arg(i))
    return array(T.pollfds(arr.data, arr.struct_size, False, c.fd_text), c.opts)


def poll_result(c: Call, text: str) -> str:
    """The `` ([{fd=3, revents=POLLIN}])`` strace adds to poll's result."""
    arr = c.array(0, "pollfd", exit=True)
    if not c.retval or arr is None or arr is c.array(0, "pollfd", exit=False):
        return text
    return f"{text} ({array(T.pollfds(arr.data, arr.struct_size, True), c.opts)})"


def _epoll_out(c: Call, i: int) -> str:
    arr = c.array(i, "epoll_event")
    if not c.ok or arr is None:
        return ptr(c.arg(i))
    return T.epoll_events(arr.data, arr.struct_size, c.opts)


def _epoll_in(c: Call, i: int) -> str:
    data = c.struct(i, "epoll_event", exit=False)
    return T.epoll_events(data, 12)[1:-1] if data is not None else ptr(c.arg(i))


# request -> (STRU name, printer, whether the kernel writes it: printed at exit)
IOCTL_STRUCTS = {
    **{req: ("termios", T.termios_text, req == "TCGETS")
       for req in ("TCGETS", "TCSETS", "TCSETSW", "TCSETSF")},
    "TIOCGWINSZ": ("winsize", T.winsize_text, True),
    "TIOCSWINSZ": ("winsize", T.winsize_text, False),
    **{req: ("int", T.int_text, True) for req in ("FIONREAD", "TIOCGPGRP", "TIOCOUTQ")},
    **{req: ("int", T.int_text, False) for req in ("TIOCSPGRP", "FIONBIO")},
}
IOCTL_NO_ARG = {"FIOCLEX", "FIONCLEX", "TIOCNOTTY", "TIOCSBRK", "TIOCCBRK", "TIOCCONS",
                "TIOCEXCL", "TIOCNXCL", "TIOCVHANGUP"}
IOCTL_INT_ARG = {"TCSBRK", "TCSBRKP", "TIOCSCTTY"}
IOCTL_FD_ARG = {"FICLONE"}      # the argument is the source descriptor


def _ioctl_arg(c: Call, i: int) -> str | None:
    name = L.IOCTLS.name(c.arg(1) & 0xFFFFFFFF)
    if name in IOCTL_STRUCTS:
        sname, render, written = IOCTL_STRUCTS[name]
        data = c.struct(i, sname, exit=written)
        if data is None or (written and not c.ok):
            return ptr(c.arg(i))
        return render(data)
    if name in IOCTL_NO_ARG:
        return None
    if name in IOCTL_INT_ARG:
        return str(c_int(c.arg(i)))
    if name in IOCTL_FD_ARG:
        return c.fd_text(c_int(c.arg(i)))
    return p_hex(c, i)


def _ioc(req: int) -> str:
    """An unknown request as its parts: _IOC(_IOC_READ, 0x54, 0x99, 0x4)."""
    dirs = flags(L.IOC_DIRS, req >> 30)
    return (f"_IOC({dirs}, {hexval(req >> 8 & 0xFF)}, {hexval(req & 0xFF)}, "
            f"{hexval(req >> 16 & 0x3FFF)})")


def ioctl_name(req: int) -> str:
    """The request's names (``BTRFS_IOC_CLONE or FICLONE`` when two share it)."""
    names = sorted(filter(None, (L.IOCTLS.name(req), L.IOCTL_ALIASES.name(req))))
    return " or ".join(names) if names else _ioc(req)


def _ioctl(c: Call, i: int) -> str:
    arg = _ioctl_arg(c, 2)
    name = ioctl_name(c.arg(1) & 0xFFFFFFFF)
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


def fcntl_result(c: Call, text: str) -> str:
    """What some commands return means more: ``= 0x8002 (flags O_RDWR|O_LARGEFILE)``."""
    cmd, value = c_int(c.arg(1)), c.retval
    if is_dup(c):
        return c.fd_text(value)
    if cmd == _F.value("F_GETFL"):
        return f"{hexval(value)} (flags {open_flags(value & 0xFFFFFFFF)})"
    if cmd == _F.value("F_GETFD") and value:
        return f"{hexval(value)} (flags {flags(L.FD_FLAGS, value)})"
    if cmd == _F.value("F_GETLEASE"):
        lease = L.LOCK_TYPES.name(value)
        return f"{hexval(value)} ({lease})" if lease else hexval(value)
    if cmd == _F.value("F_GETSIG") and value:
        return f"{value} ({signal_name(value) or value})"
    return text


def _offset(c: Call, i: int) -> str:
    """sendfile's offset: ``[0]`` at entry."""
    data = c.struct(i, "long", exit=False)
    return f"[{S.fixed('long', data)['value']}]" if data is not None else ptr(c.arg(i))


def _offset_rest(c: Call, i: int) -> str:
    """`` => [5], 5``: the offset the kernel moved it to, then the count."""
    after = c.struct(2, "long")
    changed = ""
    if c.ok and c.retval and after is not None and after is not c.struct(2, "long", exit=False):
        changed = f" => [{S.fixed('long', after)['value']}]"
    return f"{changed}, {c.arg(3)}"


def _fd_sets(c: Call, i: int) -> str:
    data = c.struct(i, "fd_set", exit=False)
    return T.fd_set_text(data, c_int(c.arg(0)), c.fd_text) if data is not None else ptr(c.arg(i))


def select_result(c: Call, text: str) -> str:
    """`` (in [3], left {tv_sec=0, tv_nsec=0})``, or `` (Timeout)``."""
    if c.retval == 0:
        return text + " (Timeout)"
    ready, out = c.retval, ""
    for i, word in ((1, "in"), (2, "out"), (3, "except")):
        data = c.struct(i, "fd_set") if c.arg(i) else None
        if data is None:
            continue
        members = T.fd_set_members(data, c_int(c.arg(0)))[:ready]
        if members:
            out += f"{', ' if out else ''}{word} [{' '.join(map(str, members))}"
            ready -= len(members)
        if out:
            out += "]"
        if ready <= 0:
            break
    timeout = _TIMEOUTS[c.name]
    left = c.struct(4, timeout.name) if c.arg(4) else None
    if left is not None:
        out += f"{', ' if out else ''}left {timeout.render(left)}"
    return f"{text} ({out})"


class _Timeout(NamedTuple):
    name: str
    render: Callable[[bytes], str]


_TIMEOUTS = {"select": _Timeout("timeval", T.timeval_text),
             "pselect6": _Timeout("timespec", T.timespec_text)}


def _random(c: Call, i: int) -> str:
    data = c.struct(i, "bytes")
    return printstr(data, c.opts, force_hex=True) if c.ok and data is not None else ptr(c.arg(i))


PIPE_FLAGS = Arg(p_flags(L.PIPE_FLAGS, "O_???"))
SPLICE = Arg(p_flags(L.SPLICE_FLAGS, "SPLICE_F_???"))
RWF = Arg(p_flags(L.RWF_FLAGS, "RWF_???"))

SYSCALLS = {
    "read": (FD, RBUF, ULONG), "write": (FD, WBUF, ULONG),
    "pread64": (FD, RBUF, ULONG, LONG), "pwrite64": (FD, WBUF, ULONG, LONG),
    "readv": (FD, at_exit(_iovecs), INT), "writev": (FD, Arg(_iovecs), INT),
    "preadv": (FD, at_exit(_iovecs), ULONG, LONG), "pwritev": (FD, Arg(_iovecs), ULONG, LONG),
    # the offset's high half (arg 4) is not printed on a 64-bit ABI
    "preadv2": (FD, at_exit(_iovecs), ULONG, LONG, None, RWF),
    "pwritev2": (FD, Arg(_iovecs), ULONG, LONG, None, RWF),
    "lseek": (FD, LONG, Arg(p_xval(L.SEEK_WHENCE, "SEEK_???"))),
    "ioctl": (FD, Arg(_ioctl)),
    "fcntl": (FD, Arg(_fcntl)),
    "dup": (FD,), "dup2": (FD, FD), "dup3": (FD, FD, Arg(p_flags(L.OPEN_FLAGS, "O_???"))),
    "pipe": (at_exit(fd_pair),), "pipe2": (at_exit(fd_pair), PIPE_FLAGS),
    "poll": (Arg(_pollfds), UINT, INT),
    "epoll_create": (INT,),
    "epoll_create1": (Arg(p_flags(L.EPOLL_CREATE_FLAGS, "EPOLL_???")),),
    "epoll_ctl": (FD, Arg(p_xval(L.EPOLL_CTL_OPS, "EPOLL_CTL_???")), FD, Arg(_epoll_in)),
    "epoll_wait": (FD, at_exit(_epoll_out), INT, INT),
    "epoll_pwait": (FD, at_exit(_epoll_out), INT, INT, PTR, ULONG),
    "eventfd2": (UINT, Arg(p_flags(L.EVENTFD_FLAGS, "EFD_???"))),
    "sendfile": (FD, FD, Arg(_offset), Arg(_offset_rest, exit=lambda c: bool(c.arg(2)),
                                            lead=True)),
    "select": (INT, Arg(_fd_sets), Arg(_fd_sets), Arg(_fd_sets),
               Arg(p_struct("timeval", T.timeval_text, exit=False))),
    "pselect6": (INT, Arg(_fd_sets), Arg(_fd_sets), Arg(_fd_sets),
                 Arg(p_struct("timespec", T.timespec_text, exit=False)), PTR),
    "getrandom": (at_exit(_random), ULONG, Arg(p_flags(L.GETRANDOM_FLAGS, "GRND_???"))),
    "close_range": (UINT, UINT, Arg(p_flags(L.CLOSE_RANGE_FLAGS, "CLOSE_RANGE_???"))),
    "inotify_init1": (Arg(p_flags(L.INOTIFY_INIT_FLAGS, "IN_???")),),
    "splice": (FD, PTR, FD, PTR, ULONG, SPLICE),
    "tee": (FD, FD, ULONG, SPLICE),
    "sync_file_range": (FD, LONG, LONG,
                        Arg(p_flags(L.SYNC_FILE_RANGE_FLAGS, "SYNC_FILE_RANGE_???"))),
    "userfaultfd": (Arg(p_flags(L.USERFAULTFD_FLAGS, "UFFD_???")),),
    "memfd_secret": (Arg(p_flags(L.MEMFD_SECRET_FLAGS)),),
}

RESULTS = {"poll": poll_result, "fcntl": fcntl_result, "select": select_result,
           "pselect6": select_result}

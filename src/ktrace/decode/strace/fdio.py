"""Descriptors and I/O: read/write, vectors, fcntl, dup, pipes, polling (ioctl: ioctl.py)."""

from __future__ import annotations

from typing import Callable, NamedTuple

from ...abi import linux_plan as plan
from ...abi import linux_structs as LS
from .. import structs as S
from ..names import signal_name
from ..xlat import LINUX as L
from . import structs as T
from .call import (FD, INT, LONG, PT_PGID, PT_TGID, PT_TID, PTR, RBUF, UINT, ULONG, WBUF, Arg,
                   Call, at_exit, p_flags, p_pid_tgid_pgid, p_struct, p_xval, pid_text)
from .fmt import (NSIG_BYTES, array, c_int, c_long, flags, hexval, printstr, ptr, sigset,
                  xval)
from .fs import open_flags
from .signals import printsignal, sigset_arg


def iovec_items(c: Call, i: int, exit: bool = False) -> list[str] | None:
    """{iov_base="..", iov_len=N} of each iovec recorded: the data the call
    moved (its GIO) cut by the iov_len's, else the data it was given (a failed
    call's STRU iovdata)."""
    arr = c.array(i, "iovec", exit=exit)
    gio = c.gio(i)
    if gio is not None:
        return iovec_texts(c, arr, gio.data)
    return iovec_texts(c, arr, c.struct(i, plan.IOV_DATA), given=True)


def iovec_texts(c: Call, arr, data: bytes | None, given: bool = False) -> list[str] | None:
    """{iov_base="..", iov_len=N} of each iovec of STRUCT_ARRAY ``arr``, ``data``
    (None: not recorded) cut by the iov_len's.  ``data`` is what the call moved
    (its iovecs past the end get ``""``, as strace's data_size), or ``given``:
    the data of the iovecs the call was given (STRU iovdata), which ends with
    the first one that could not be read, its first page's part: its address
    unless that holds what strace reads of it, min(iov_len, -s + 1) bytes (and
    the addresses of those after it)."""
    if arr is None:
        return None
    out = []
    at = 0
    for vec in S.iter_array("iovec", arr.data, arr.struct_size):
        base, length = vec["iov_base"], vec["iov_len"]
        if (data is None or not base
                or given and length and len(data) - at < min(length, c.opts.strsize + 1)):
            text = ptr(base)
        else:
            text = printstr(data[at:at + length], c.opts)
            at += length
        out.append(f"{{iov_base={text}, iov_len={length}}}")
    return out


def undescribed_iovecs(c: Call, i: int, given: bool) -> str:
    """An iovec array no descriptor moves data through (its count the next
    argument; process_vm_*'s local one, KEYCTL_INSTANTIATE_IOV's): the data
    the call was ``given``, or read into it, from its STRU iovdata."""
    items = iovec_texts(c, c.array(i, "iovec", exit=False), c.struct(i, plan.IOV_DATA),
                        given=given)
    return print_array(c, c.arg(i), c.arg(i + 1), items or [], IOVEC_SIZE)


def given_iovecs(c: Call, i: int) -> str:
    return undescribed_iovecs(c, i, given=True)


def iovecs(c: Call, i: int, exit: bool = False) -> str | None:
    """[{iov_base="..", iov_len=N}, ...]."""
    items = iovec_items(c, i, exit)
    return array(iter(items), c.opts) if items is not None else None


def _iovecs(c: Call, i: int) -> str:
    """An iovec array (its count the next argument), by print_array: ``[]``
    when empty, ``... /* addr */`` after the iovecs that could be read."""
    return print_array(c, c.arg(i), c.arg(i + 1) & 0xFFFFFFFF, iovec_items(c, i) or [],
                       IOVEC_SIZE)


def fd_pair(c: Call, i: int) -> str:
    """pipe's and socketpair's two new descriptors: ``[3, 4]``."""
    arr = c.array(i, "int")
    if not c.ok or arr is None or len(arr.data) < LS.INT_PAIR.size:
        return ptr(c.arg(i))
    return "[" + ", ".join(c.fd_text(fd) for fd in LS.INT_PAIR.unpack_from(arr.data)) + "]"


def print_array(c: Call, addr: int, nmemb: int, items: list[str], elem_size: int,
                most: int | None = None) -> str:
    """print_array: ``NULL``, ``[]``, the address when the first element was not
    recorded, ``..., /* addr */`` after the last one that was; cut at -s
    elements when abbreviated, and after ``most`` (a printer's own count)."""
    if not addr:
        return "NULL"
    if not nmemb:
        return "[]"
    if nmemb * elem_size >= 1 << 64:
        return ptr(addr)
    out = []
    for k in range(nmemb):
        if most is not None and k >= most:
            out.append("...")
            break
        if k >= len(items):
            if not k:
                return ptr(addr)
            out.append(f"... /* {ptr(addr + k * elem_size)} */")
            break
        if c.abbrev and k >= c.opts.strsize:
            out.append("...")
            break
        out.append(items[k])
    return "[" + ", ".join(out) + "]"


POLLFD_SIZE = 8
IOVEC_SIZE = 16


def _pollfd(f: dict, fd_text) -> str:
    if f["fd"] < 0:
        return f"{{fd={fd_text(f['fd'])}}}"
    events = flags(L.POLL_EVENTS, f['events'] & 0xFFFF, unknown='POLL???')
    return f"{{fd={fd_text(f['fd'])}, events={events}}}"


def _pollfds(c: Call, i: int) -> str:
    arr = c.array(i, "pollfd", exit=False)
    items = [_pollfd(f, c.fd_text) for f in S.iter_array("pollfd", arr.data, arr.struct_size)] \
        if arr is not None else []
    return print_array(c, c.arg(i), c.arg(i + 1) & 0xFFFFFFFF, items, POLLFD_SIZE)


def poll_result(c: Call, text: str) -> str:
    """`` (Timeout)``, or the `` ([{fd=3, revents=POLLIN}], left {..})`` strace adds."""
    if not c.ok:
        return text
    if c.retval == 0:
        return f"{text} (Timeout)"
    nfds = c.arg(1) & 0xFFFFFFFF
    addr = c.arg(0)
    out = ""
    if c.verbose and addr and nfds:
        arr = c.array(0, "pollfd", exit=True)
        if arr is c.array(0, "pollfd", exit=False):
            arr = None
        fds = list(S.iter_array("pollfd", arr.data, arr.struct_size)) if arr is not None else []
        shown: list[str] = []
        for k in range(nfds):
            if k >= len(fds):
                shown.append(ptr(addr + k * POLLFD_SIZE))
                break
            f = fds[k]
            if not f["revents"]:
                continue
            if c.abbrev and len(shown) >= c.opts.strsize:
                shown.append("...")
                break
            shown.append(f"{{fd={f['fd']}, revents={flags(L.POLL_EVENTS, f['revents'] & 0xFFFF)}}}")
        if shown:
            out = "[" + ", ".join(shown) + "]"
    if c.name == "ppoll" and c.arg(2):
        left = c.struct(2, "timespec")
        if left is not None and left is not c.struct(2, "timespec", exit=False) and c.verbose:
            left_text = T.timespec_text(left)
        else:
            left_text = ptr(c.arg(2))
        out += f"{', ' if out else ''}left {left_text}"
    return f"{text} ({out})" if out else text


def _epoll_out(c: Call, i: int) -> str:
    arr = c.array(i, "epoll_event")
    if not c.ok or arr is None:
        return ptr(c.arg(i))
    return T.epoll_events(arr.data, arr.struct_size, c.opts)


EPOLL_CTL_DEL = L.EPOLL_CTL_OPS.value("EPOLL_CTL_DEL")


def _epoll_in(c: Call, i: int) -> str:
    """epoll_ctl's event; EPOLL_CTL_DEL ignores it: its address."""
    data = c.struct(i, "epoll_event", exit=False)
    if data is None or len(data) < 12 or not c.verbose or \
            c.arg(1) & 0xFFFFFFFF == EPOLL_CTL_DEL:
        return ptr(c.arg(i))
    return T.epoll_events(data, 12)[1:-1]


_F = L.FCNTL_CMDS


def _fcntl_cmd(c: Call, i: int) -> str:
    return xval(_F, c.arg(1) & 0xFFFFFFFF, "F_???")


def _cmd(name: str) -> int:
    return _F.value(name)


def flock_text(f: dict, getlk: bool) -> str:
    """``{l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=4096}`` (and l_pid for F_GETLK)."""
    text = (f"{{l_type={xval(L.LOCK_TYPES, f['l_type'] & U64, 'F_???')}, "
            f"l_whence={xval(L.SEEK_WHENCE, f['l_whence'] & U64, 'SEEK_???')}, "
            f"l_start={f['l_start']}, l_len={f['l_len']}")
    return text + (f", l_pid={f['l_pid']}}}" if getlk else "}")


def _struct_arg(c: Call, name: str, exit: bool, render) -> str:
    """A struct argument (umove_or_printaddr): the address when NULL, not
    recorded, not verbose, or written by a call that failed."""
    f = S.fixed(name, c.struct(2, name, exit=exit) or b"")
    if f is None or not c.verbose or (exit and not c.ok):
        return ptr(c.arg(2))
    return render(f)


# what f_owner_ex's pid is, by its type (others: none, printed bare)
_OWNER_PIDS = {L.F_OWNER_TYPES.value(name): kind for name, kind in
               (("F_OWNER_TID", PT_TID), ("F_OWNER_PID", PT_TGID), ("F_OWNER_PGRP", PT_PGID))}


def _owner_ex(c: Call, f: dict) -> str:
    owner = f['type'] & 0xFFFFFFFF
    kind = _OWNER_PIDS.get(owner)
    pid = pid_text(c, f['pid'], kind) if kind else str(f['pid'])
    return f"{{type={xval(L.F_OWNER_TYPES, owner, 'F_OWNER_???')}, pid={pid}}}"


U64 = (1 << 64) - 1
_FCNTL_NO_ARG = {_cmd(n) for n in ("F_GETFD", "F_GETFL", "F_GETOWN", "F_GETSIG", "F_GETLEASE",
                                   "F_GETPIPE_SZ", "F_GET_SEALS")}
_FCNTL_AT_EXIT = {_cmd(n) for n in ("F_GETLK", "F_OFD_GETLK", "F_GETOWN_EX")}


def _fcntl_arg(c: Call, i: int) -> str | None:
    """print_fcntl: the third argument as the command means it (none for a getter)."""
    cmd, arg = c.arg(1) & 0xFFFFFFFF, c.arg(2)
    if cmd in _FCNTL_NO_ARG:
        return None
    if cmd == _cmd("F_SETFD"):
        return flags(L.FD_FLAGS, arg, unknown="FD_???")
    if cmd == _cmd("F_SETOWN"):
        return p_pid_tgid_pgid(c, i)
    if cmd in (_cmd("F_SETPIPE_SZ"), _cmd("F_DUPFD"), _cmd("F_DUPFD_CLOEXEC")):
        return str(c_long(arg))
    if cmd == _cmd("F_SETFL"):
        return open_flags(arg & 0xFFFFFFFF)
    if cmd in (_cmd("F_SETLK"), _cmd("F_SETLKW"), _cmd("F_OFD_SETLK"), _cmd("F_OFD_SETLKW")):
        return _struct_arg(c, "flock", False, lambda f: flock_text(f, False))
    if cmd in (_cmd("F_GETLK"), _cmd("F_OFD_GETLK")):
        return _struct_arg(c, "flock", True, lambda f: flock_text(f, True))
    if cmd == _cmd("F_SETOWN_EX"):
        return _struct_arg(c, "f_owner_ex", False, lambda f: _owner_ex(c, f))
    if cmd == _cmd("F_GETOWN_EX"):
        return _struct_arg(c, "f_owner_ex", True, lambda f: _owner_ex(c, f))
    if cmd == _cmd("F_NOTIFY"):
        return flags(L.DNOTIFY_FLAGS, arg, unknown="DN_???")
    if cmd == _cmd("F_SETLEASE"):
        return xval(L.LOCK_TYPES, arg, "F_???")
    if cmd == _cmd("F_ADD_SEALS"):
        return flags(L.F_SEALS, arg, unknown="F_SEAL_???")
    if cmd == _cmd("F_SETSIG"):
        return printsignal(c_int(arg))
    return hexval(arg)


def is_dup(c: Call) -> bool:
    return c.arg(1) & 0xFFFFFFFF in (_F.value("F_DUPFD"), _F.value("F_DUPFD_CLOEXEC"))


def fcntl_result(c: Call, text: str) -> str:
    """What some commands return means more: ``= 0x8002 (flags O_RDWR|O_LARGEFILE)``."""
    cmd, value = c.arg(1) & 0xFFFFFFFF, c.retval
    if is_dup(c):
        return c.fd_text(value)
    if cmd == _F.value("F_GETFL"):
        return f"{hexval(value)} (flags {open_flags(value & 0xFFFFFFFF)})"
    if cmd == _F.value("F_GETFD") and value:
        return f"{hexval(value)} (flags {flags(L.FD_FLAGS, value)})"
    if cmd == _F.value("F_GETLEASE"):
        lease = L.LOCK_TYPES.name(value)
        return f"{hexval(value)} ({lease})" if lease else hexval(value)
    if cmd == _F.value("F_GET_SEALS") and value:
        return f"{hexval(value)} (seals {flags(L.F_SEALS, value)})"
    if cmd == _F.value("F_GETSIG") and value:
        return f"{value} ({signal_name(value) or value})"
    if cmd == _F.value("F_GETOWN"):      # a process, or a group as -N
        return pid_text(c, c_int(value), PT_PGID if c_int(value) < 0 else PT_TGID)
    return text


def _num(data: bytes | None, unsigned: bool) -> str | None:
    f = S.fixed("long", data or b"")
    if f is None:
        return None
    return f"[{f['value'] & U64 if unsigned else f['value']}]"


def printnum_int64(c: Call, i: int) -> str:
    """printnum_int64: ``[-5]`` read at entry, else the address."""
    return _num(c.struct(i, "long", exit=False), False) or ptr(c.arg(i))


def _offset(c: Call, i: int) -> str:
    """sendfile's offset (printnum_ulong): ``[0]`` at entry."""
    return _num(c.struct(i, "long", exit=False), True) or ptr(c.arg(i))


def _sendfile_late(c: Call) -> bool:
    """The count waits for the exit when the offset was read and the count is not 0."""
    return _num(c.struct(2, "long", exit=False), True) is not None and bool(c.arg(3))


def _offset_rest(c: Call, i: int) -> str:
    """`` => [5], 5``: the offset the kernel moved it to, then the count."""
    changed = ""
    if _sendfile_late(c) and c.ok and c.retval:
        after = c.struct(2, "long")
        if after is c.struct(2, "long", exit=False):
            after = None
        changed = f" => {_num(after, True) or ptr(c.arg(2))}"
    return f"{changed}, {c.arg(3)}"


def _fd_sets(c: Call, i: int) -> str:
    """decode_select's sets: the address where nfds (an int) is not positive,
    as strace reads none of them then, or the set could not be read (an
    empty record: linux_plan's PLACE_KEPT_STRUCTS)."""
    data = c.struct(i, "fd_set", exit=False)
    nfds = c_int(c.arg(0))
    if not data or nfds <= 0 or not c.verbose:
        return ptr(c.arg(i))
    return T.fd_set_text(data, nfds, c.fd_text)


def sigset_argpack(c: Call, i: int) -> str:
    """print_kernel_sigset: pselect6's and io_pgetevents' ``{sigmask=[HUP],
    sigsetsize=8}``, its mask recorded after it (linux_plan.SIGMASK)."""
    data = c.struct(i, "sigset_argpack", exit=False)
    f = S.fixed("sigset_argpack", data) if data is not None and c.verbose else None
    if f is None:
        return ptr(c.arg(i))
    size, mask = f["sigsetsize"], c.struct(i, "sigset", exit=False)
    text = ptr(f["sigmask"])
    # print_sigset_addr_len: a mask of a word up to NSIG_BYTES, else its address
    if f["sigmask"] and 8 <= size <= NSIG_BYTES and mask is not None and len(mask) >= size:
        text = sigset(int.from_bytes(mask[:size], "little"), size)
    return f"{{sigmask={text}, sigsetsize={size}}}"


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
    "fcntl": (FD, Arg(_fcntl_cmd),
              Arg(_fcntl_arg, exit=lambda c: c.arg(1) & 0xFFFFFFFF in _FCNTL_AT_EXIT)),
    "dup": (FD,), "dup2": (FD, FD), "dup3": (FD, FD, Arg(p_flags(L.OPEN_FLAGS, "O_???"))),
    "pipe": (at_exit(fd_pair),), "pipe2": (at_exit(fd_pair), PIPE_FLAGS),
    "poll": (Arg(_pollfds), UINT, INT),
    "ppoll": (Arg(_pollfds), UINT, Arg(p_struct("timespec", T.timespec_text, exit=False)),
              sigset_arg(4), ULONG),
    "epoll_create": (INT,),
    "epoll_create1": (Arg(p_flags(L.EPOLL_CREATE_FLAGS, "EPOLL_???")),),
    "epoll_ctl": (FD, Arg(p_xval(L.EPOLL_CTL_OPS, "EPOLL_CTL_???")), FD, Arg(_epoll_in)),
    "epoll_wait": (FD, at_exit(_epoll_out), INT, INT),
    "epoll_pwait": (FD, at_exit(_epoll_out), INT, INT, PTR, ULONG),
    "eventfd2": (UINT, Arg(p_flags(L.EVENTFD_FLAGS, "EFD_???"))),
    "sendfile": (FD, FD, Arg(_offset), Arg(_offset_rest, exit=_sendfile_late, lead=True)),
    "copy_file_range": (FD, Arg(printnum_int64), FD, Arg(printnum_int64), ULONG, UINT),
    "select": (INT, Arg(_fd_sets), Arg(_fd_sets), Arg(_fd_sets),
               Arg(p_struct("timeval", T.timeval_text, exit=False))),
    "pselect6": (INT, Arg(_fd_sets), Arg(_fd_sets), Arg(_fd_sets),
                 Arg(p_struct("timespec", T.timespec_text, exit=False)), Arg(sigset_argpack)),
    "getrandom": (at_exit(_random), ULONG, Arg(p_flags(L.GETRANDOM_FLAGS, "GRND_???"))),
    "close_range": (UINT, UINT, Arg(p_flags(L.CLOSE_RANGE_FLAGS, "CLOSE_RANGE_???"))),
    "inotify_init1": (Arg(p_flags(L.INOTIFY_INIT_FLAGS, "IN_???")),),
    "splice": (FD, Arg(printnum_int64), FD, Arg(printnum_int64), ULONG, SPLICE),
    "tee": (FD, FD, ULONG, SPLICE),
    "vmsplice": (FD, Arg(_iovecs), ULONG, SPLICE),
    "sync_file_range": (FD, LONG, LONG,
                        Arg(p_flags(L.SYNC_FILE_RANGE_FLAGS, "SYNC_FILE_RANGE_???"))),
    "userfaultfd": (Arg(p_flags(L.USERFAULTFD_FLAGS, "UFFD_???")),),
    "memfd_secret": (Arg(p_flags(L.MEMFD_SECRET_FLAGS)),),
}

def landlock_result(c: Call, text: str) -> str:
    """landlock_create_ruleset returns a descriptor, or with
    LANDLOCK_CREATE_RULESET_VERSION the ABI version."""
    if c.arg(2) & L.LANDLOCK_CREATE_RULESET_FLAGS.value("LANDLOCK_CREATE_RULESET_VERSION"):
        return text
    return c.fd_text(c.retval)


RESULTS = {"landlock_create_ruleset": landlock_result, "poll": poll_result,
           "ppoll": poll_result, "fcntl": fcntl_result, "select": select_result,
           "pselect6": select_result}

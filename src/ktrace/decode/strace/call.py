"""One system call as the strace view sees it, and the basic argument printers.

A :class:`Call` holds the CALL arguments, the records paired with each
argument (from the recording plan), and the result.  An :class:`Arg` says how
one argument prints and whether strace prints it at syscall entry or exit:
the split matters for ``<unfinished ...>`` lines.
"""

from __future__ import annotations

import errno
from typing import Callable, NamedTuple

from ... import record as r
from ...abi import linux_plan as plan
from .fmt import StraceOptions, c_int, c_long, flags, hexval, named, printpath, printstr, ptr, xval
from ..xlat import Xlat

AT_FDCWD = -100
# what a pid is (strace's enum pid_type): which of a process's ids a number names
PT_TID, PT_TGID, PT_PGID, PT_SID = "tid", "tgid", "pgid", "sid"


def no_pid_note(pid: int, kind: str) -> str:
    return ""


class Call:
    """A syscall: arguments, paired records, result.

    ``pid_note(pid, kind)`` is what follows a pid strace's printpid prints
    (--decode-pids=: ``<comm>``, `` /* N in strace's PID NS */``): the view's
    to set, nothing by default."""

    pid_note: Callable[[int, str], str] = staticmethod(no_pid_note)
    # The view's too: process ``pid``'s descriptor table as it follows it (a
    # files.Files; None when unknown), and how -y prints a descriptor of it
    # (strace's printfd_pid; the bare number when unknown)
    files_of: Callable[[int], object] = staticmethod(lambda pid: None)
    fd_text_of: Callable[[int], Callable[[int], str]] = staticmethod(lambda pid: str)

    def __init__(self, name: str, nr: int, args: tuple[int, ...], opts: StraceOptions,
                 fd_text: Callable[[int], str] = str):
        self.name = name
        self.nr = nr
        self.args = args
        self.opts = opts
        self.fd_text = fd_text
        self.records: dict[int, list] = {}      # argument index -> records, in order
        self.retval: int | None = None          # None: no RET (yet)
        self.error = 0                          # SYSRET.error (FreeBSD numbering)
        self.restored_mask: int | None = None   # rt_sigreturn: the mask saved at delivery
        self.resumes: str | None = None         # restart_syscall: the call a signal interrupted
        # strace's -e raw=, -e verbose=, -e abbrev= (-v) for this call
        self.raw = (name, nr) in opts.raw
        self.verbose = (name, nr) in opts.verbose
        self.abbrev = (name, nr) in opts.abbrev

    def arg(self, i: int) -> int:
        return self.args[i] if i < len(self.args) else 0

    @property
    def returned(self) -> bool:
        return self.retval is not None

    @property
    def ok(self) -> bool:
        return self.returned and self.error == 0

    def linux_errno(self) -> int:
        """The Linux errno of a failed call (the raw return register holds -errno)."""
        return -self.retval if self.retval is not None and -4096 < self.retval < 0 else 0

    def find(self, i: int, rtype: int, name: bytes | None = None, last: bool = False):
        """The (first or last) record of type ``rtype`` paired with argument ``i``."""
        found = [rec for rec in self.records.get(i, ())
                 if rec.header.type == rtype and (name is None or rec.name == name)]
        if not found:
            return None
        return found[-1] if last else found[0]

    def struct(self, i: int, name: str, exit: bool = True) -> bytes | None:
        """The bytes of STRU ``name`` for argument ``i`` (the exit copy by default)."""
        rec = self.find(i, r.STRUCT, name.encode(), last=exit)
        return rec.data if rec is not None else None

    def array(self, i: int, name: str, exit: bool = True):
        return self.find(i, r.STRUCT_ARRAY, name.encode(), last=exit)

    def gio(self, i: int):
        return self.find(i, r.GENIO)


Render = Callable[[Call, int], str]


class Arg(NamedTuple):
    render: Render
    # printed when the call returns (a function of the call when that depends on it)
    exit: bool | Callable[[Call], bool] = False
    lead: bool = False    # an exit argument that carries its own ", " (clone)

    def late(self, call: Call) -> bool:
        return self.exit(call) if callable(self.exit) else self.exit


def at_exit(render: Render) -> Arg:
    return Arg(render, exit=True)


# --- basic printers ---------------------------------------------------------


def p_int(c: Call, i: int) -> str:
    return str(c_int(c.arg(i)))


def p_uint(c: Call, i: int) -> str:
    return str(c.arg(i) & 0xFFFFFFFF)


def p_long(c: Call, i: int) -> str:
    return str(c_long(c.arg(i)))


def p_ulong(c: Call, i: int) -> str:
    return str(c.arg(i))


def uid_text(value: int) -> str:
    """printuid: -1 for (uid_t) -1, else unsigned."""
    value &= 0xFFFFFFFF
    return "-1" if value == 0xFFFFFFFF else str(value)


def p_uid(c: Call, i: int) -> str:
    return uid_text(c.arg(i))


def p_hex(c: Call, i: int) -> str:
    return hexval(c.arg(i))


def p_ptr(c: Call, i: int) -> str:
    return ptr(c.arg(i))


def octal(value: int) -> str:
    """C's %#03o: 0755, 022, 004, 000."""
    return f"0{value:o}".rjust(3, "0")


def p_mode(c: Call, i: int) -> str:
    return octal(c.arg(i) & 0xFFFF)      # umode_t: print_numeric_umode_t's %#03ho


def p_fd(c: Call, i: int) -> str:
    """A descriptor; -100 is no descriptor here, only a dirfd's AT_FDCWD (the
    cwd -y shows: p_dirfd)."""
    fd = c_int(c.arg(i))
    return str(fd) if fd == AT_FDCWD else c.fd_text(fd)


def p_dirfd(c: Call, i: int) -> str:
    fd = c_int(c.arg(i))
    if fd == AT_FDCWD:
        path = c.fd_text(fd)[len(str(fd)):] if c.opts.yflag else ""
        return named("AT_FDCWD", fd, str(fd)) + path
    return c.fd_text(fd)


def pid_text(c: Call, pid: int, kind: str = PT_TGID) -> str:
    """printpid: the number, then what --decode-pids= adds."""
    return f"{pid}{c.pid_note(pid, kind)}"


def p_pid(kind: str) -> Render:
    return lambda c, i: pid_text(c, c_int(c.arg(i)), kind)


def p_pid_tgid_pgid(c: Call, i: int) -> str:
    """printpid_tgid_pgid (kill, wait4): a process, or -N for process group N."""
    pid = c_int(c.arg(i))
    note = c.pid_note(pid, PT_TGID) if pid > 0 else c.pid_note(-pid, PT_PGID) if pid < -1 else ""
    return f"{pid}{note}"


def p_path(c: Call, i: int) -> str:
    rec = c.find(i, r.NAMEI)
    return printpath(rec.path, c.opts) if rec is not None else ptr(c.arg(i))


def string_read(c: Call, i: int, wanted: int) -> bytes | None:
    """String argument ``i`` as read at entry by strace, which reads ``wanted``
    bytes of it, all or none: the string (STRU string), or of one only partly
    readable (STRU PARTIAL_STRING) the bytes recorded when there are that many."""
    data = c.struct(i, "string", exit=False)
    if data is None:
        part = c.struct(i, plan.PARTIAL_STRING, exit=False)
        if part is not None and len(part) >= wanted:
            return part
    return data


def p_string_in(c: Call, i: int) -> str:
    """printstr of a NUL-terminated string: -s bytes and one more are read."""
    data = string_read(c, i, c.opts.strsize + 1)
    return printstr(data, c.opts) if data is not None else ptr(c.arg(i))


def p_counted(len_arg: int, exit: bool = False) -> Callable[[Call, int], str]:
    """printstrn(addr, len): a buffer of argument ``len_arg``'s length, recorded
    (a STRU bytes) at entry or, ``exit``, at a successful exit; ``...`` where
    the recording holds less than the length.  strace reads the bytes it
    shows and one more when there are more (-s + 1 at most) all or none:
    the address where fewer were recorded (the rest unreadable)."""
    def render(c: Call, i: int) -> str:
        data = c.struct(i, "bytes", exit=exit) if c.ok or not exit else None
        return counted_text(c, c.arg(i), data, c.arg(len_arg))
    return render


def counted_text(c: Call, addr: int, data: bytes | None, size: int,
                 force_hex: bool = False) -> str:
    """printstrn (``force_hex``: printstr_ex's QUOTE_FORCE_HEX) of ``size``
    bytes at ``addr``, recorded as ``data`` (None: not recorded): the address
    where fewer than strace reads were recorded."""
    if not addr:
        return "NULL"
    if data is None or len(data) < min(size, c.opts.strsize + 1):
        return ptr(addr)
    text = printstr(data[:size], c.opts, force_hex=force_hex)
    if size > len(data) and not text.endswith("..."):
        text += "..."
    return text


def p_string_out(c: Call, i: int) -> str:
    data = c.struct(i, "string")
    return printstr(data, c.opts) if c.ok and data is not None else ptr(c.arg(i))


def p_buf(c: Call, i: int) -> str:
    """A read or written buffer: its GIO data, else a failed write's STRU buf
    (what strace read at entry), else the address."""
    rec = c.gio(i)
    if rec is not None:
        return printstr(rec.data, c.opts)
    given = c.struct(i, plan.FAILED_BUF)
    return _given(c, i, given) if given is not None else ptr(c.arg(i))


def _given(c: Call, i: int, data: bytes) -> str:
    """strace's printstr of a buffer of ``count`` bytes: it reads min(count, -s)
    of them, all or none.  A record shorter than that after EFAULT is the
    readable prefix (strace printed the address); else it was cut at the
    genio size."""
    count, most = c.arg(i + plan.BUF_COUNT), c.opts.strsize
    shown = min(count, most)
    if len(data) < shown and c.linux_errno() == errno.EFAULT:
        return ptr(c.arg(i))
    return printstr(data[:shown], c.opts) + ("..." if count > most else "")


def p_flags(table: Xlat, unknown: str = "", zero: str = "0") -> Render:
    """printflags(table, arg, unknown): ``unknown`` comments bits none of which is named."""
    return lambda c, i: flags(table, c.arg(i) & 0xFFFFFFFF, zero, unknown)


def p_xval(table: Xlat, unknown: str) -> Render:
    """printxval of an int: the name of its signed value (RUSAGE_CHILDREN is -1)
    or of its unsigned one (LINUX_REBOOT_MAGIC1), else the unsigned number."""
    def render(c: Call, i: int) -> str:
        value = c_int(c.arg(i))
        return xval(table, value if table.name(value) is not None else value & 0xFFFFFFFF,
                    unknown)
    return render


def resized(c: Call, i: int, name: str, offset: int) -> int | bool | None:
    """The size the kernel wrote into struct ``name`` of argument ``i`` at
    ``offset`` when the call failed with E2BIG (IN_SIZED_STRUCT); None when it
    could not be read there, False when the call did not fail so."""
    if c.linux_errno() != plan.E2BIG:
        return False
    copies = [rec.data for rec in c.records.get(i, ())
              if rec.header.type == r.STRUCT and rec.name == name.encode()]
    if len(copies) < 2 or len(copies[-1]) < offset + 4:      # (the first: the entry's)
        return None
    return int.from_bytes(copies[-1][offset:offset + 4], "little")


def p_struct(name: str, render: Callable[[bytes, Call], str], exit: bool = True) -> Render:
    """A struct from its STRU record, else the pointer (NULL, failed call, ...)."""
    def printer(c: Call, i: int) -> str:
        data = c.struct(i, name, exit=exit)
        if data is None or (exit and not c.ok) or not c.verbose:
            return ptr(c.arg(i))
        return render(data, c)
    return printer


INT, UINT, LONG, ULONG, UID = Arg(p_int), Arg(p_uint), Arg(p_long), Arg(p_ulong), Arg(p_uid)
HEX, PTR, MODE = Arg(p_hex), Arg(p_ptr), Arg(p_mode)
FD, DIRFD, PATH = Arg(p_fd), Arg(p_dirfd), Arg(p_path)
STR_IN, STR_OUT = Arg(p_string_in), at_exit(p_string_out)
TID, TGID, PGID, SID = (Arg(p_pid(kind)) for kind in (PT_TID, PT_TGID, PT_PGID, PT_SID))
TGID_PGID = Arg(p_pid_tgid_pgid)
RBUF, WBUF = at_exit(p_buf), Arg(p_buf)

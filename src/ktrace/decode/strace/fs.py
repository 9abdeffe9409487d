"""Files and paths: open, stat, access, links, directories, xattrs."""

from __future__ import annotations

import struct as _struct
import time

from .. import structs as S
from ..xlat import LINUX as L
from . import structs as T
from .call import (DIRFD, FD, LONG, MODE, PATH, STR_IN, STR_OUT, UID, UINT, ULONG, Arg,
                   Call, at_exit, octal, p_dirfd, p_flags, p_struct, p_xval, string_read)
from .fmt import (HEX_ALL, HEX_NON_ASCII, STYLE, c_int, flags, hexval, named, printpath,
                  printstr, ptr, quote, xval)

O_ACCMODE = 3
O_CREAT = L.OPEN_FLAGS.value("O_CREAT")
O_TMPFILE_BIT = L.OPEN_FLAGS.value("__O_TMPFILE")
U64 = (1 << 64) - 1
LS_STATX_SIZE = 144     # the fields linux_statx reads; stx_mnt_id and the rest follow
SWAP_FLAG_PRIO_MASK = L.SWAP_FLAG_PRIO_MASK.value("SWAP_FLAG_PRIO_MASK")


def open_flags(value: int) -> str:
    """O_RDONLY|O_CLOEXEC: the access mode always first (one constant to -X)."""
    mode = L.OPEN_ACCESS.name(value & O_ACCMODE) or "O_ACCMODE"
    names, rem = L.OPEN_FLAGS.flags(value & ~O_ACCMODE)
    if rem:
        names.append(f"{rem:#x}")
    return named("|".join([mode] + names), value)


def _open(flags_at: int):
    """open's flags, then its mode only when O_CREAT or O_TMPFILE asks for one."""
    def render(c: Call, i: int) -> str:
        value = c.arg(flags_at) & 0xFFFFFFFF
        text = open_flags(value)
        if takes_mode(value):
            text += ", " + octal(c.arg(flags_at + 1) & 0xFFFF)
        return text
    return Arg(render)


def takes_mode(value: int) -> bool:
    """Whether open flags ``value`` (O_CREAT, __O_TMPFILE) ask for a mode."""
    return bool(value & (O_CREAT | O_TMPFILE_BIT))


OPEN_HOW_SIZE = 24      # open_how's size in the first kernel that had openat2


def _open_how(c: Call, i: int) -> str:
    """``{flags=O_RDONLY, resolve=0}``, its mode too when set or O_CREAT/O_TMPFILE asks for one."""
    data = c.struct(i, "open_how", exit=False)
    how = S.fixed("open_how", data or b"")
    if how is None or c.arg(3) < OPEN_HOW_SIZE or not c.verbose:
        return ptr(c.arg(i))
    parts = [f"flags={open_flags(how['flags'])}"]
    if takes_mode(how["flags"]) or how["mode"]:
        parts.append(f"mode={octal(how['mode'])}")
    parts.append(f"resolve={flags(L.RESOLVE_FLAGS, how['resolve'], unknown='RESOLVE_???')}")
    tail = T.nonzero_tail(data, OPEN_HOW_SIZE, c.arg(3), c.opts)
    if tail:
        parts.append(tail)
    return "{" + ", ".join(parts) + "}"


def _mknod(mode_at: int):
    """mknod's mode with its file type, then the device only for a device node."""
    def render(c: Call, i: int) -> str:
        mode = c.arg(mode_at) & 0xFFFF                # umode_t; the device an unsigned int
        text = T.mode_text(mode)
        return f"{text}, {T.makedev(c.arg(mode_at + 1) & 0xFFFFFFFF)}" if T.is_dev(mode) else text
    return Arg(render)


def sprinttime(sec: int, part: int = 0, width: int = 0) -> str:
    """strace's time comment: `` /* 2017-04-16T16:05:06.123456789+0000 */``, with
    ``part`` (unsigned, ``width`` digits) the fraction; none for 0, a fraction
    out of range or a time localtime cannot hold."""
    part &= U64
    if (sec, part) == (0, 0) or part >= 10 ** width:
        return ""
    try:
        when = time.localtime(sec)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", when)
        zone = time.strftime("%z", when)
    except (OverflowError, OSError, ValueError):
        return ""
    fraction = f".{part:0{width}d}" if part else ""
    return f" /* {text}{fraction}{zone} */"


# utimensat's tv_nsec values that are no time (linux/stat.h)
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2


def _utimbuf(c: Call, i: int) -> str:
    """utime's ``{actime=N /* date */, modtime=N /* date */}``."""
    f = S.fixed("utimbuf", c.struct(i, "utimbuf", exit=False) or b"")
    if f is None:
        return ptr(c.arg(i))
    return (f"{{actime={f['actime']}{sprinttime(f['actime'])}, "
            f"modtime={f['modtime']}{sprinttime(f['modtime'])}}}")


def _time_pair(name: str):
    """utimes' two timevals, utimensat's two timespecs: ``[{tv_sec=.., ..} /* date */, ..]``."""
    def render(c: Call, i: int) -> str:
        arr = c.array(i, name, exit=False)
        items = S.array(name, arr.data, arr.struct_size) if arr is not None else []
        if len(items) < 2:
            return ptr(c.arg(i))
        return "[" + ", ".join(map(_timespec_utime if name == "timespec" else _timeval_utime,
                                   items[:2])) + "]"
    return Arg(render)


def _timeval_utime(f: dict) -> str:
    sec, usec = f["tv_sec"], f["tv_usec"]
    return f"{{tv_sec={sec}, tv_usec={usec & U64}}}{sprinttime(sec, usec, 6)}"


def _timespec_utime(f: dict) -> str:
    sec, nsec = f["tv_sec"], f["tv_nsec"]
    text = f"{{tv_sec={sec}, tv_nsec={nsec & U64}}}"
    if nsec in (UTIME_NOW, UTIME_OMIT):
        word = "UTIME_NOW" if nsec == UTIME_NOW else "UTIME_OMIT"
        style = STYLE.get()
        return text if style == "raw" else f"{text} /* {word} */" if style == "verbose" else word
    return text + sprinttime(sec, nsec, 9)


AT_FLAGS = Arg(p_flags(L.AT_FLAGS, "AT_???"))
ACCESS = Arg(p_flags(L.ACCESS_MODES, "?_OK"))
STAT_OUT = at_exit(p_struct("stat", T.stat_text))
STATFS_OUT = at_exit(p_struct("statfs", T.statfs_text))
AT_STATX_SYNC_TYPE = 0x6000


def _statx_flags(c: Call, i: int) -> str:
    """The sync type (AT_STATX_SYNC_AS_STAT when none), then the other AT_ flags."""
    value = c.arg(i) & 0xFFFFFFFF
    text = flags(L.AT_STATX_SYNC, value & AT_STATX_SYNC_TYPE)
    rest = value & ~AT_STATX_SYNC_TYPE
    return f"{text}|{flags(L.AT_FLAGS, rest)}" if rest else text


STATX_MNT_ID = L.STATX_MASK.value("STATX_MNT_ID")
STATX_DIOALIGN = L.STATX_MASK.value("STATX_DIOALIGN")
STATX_TAIL = _struct.Struct("<QII")     # stx_mnt_id, stx_dio_mem_align, stx_dio_offset_align


def _stx_time(ts) -> str:
    return f"{{tv_sec={ts.sec}, tv_nsec={ts.nsec & 0xFFFFFFFF}}}{sprinttime(ts.sec, ts.nsec, 9)}"


def statx_text(data: bytes, c: Call) -> str:
    """struct statx as strace prints it: the fields its stx_mask says are
    filled; without -v the mask, attributes, mode and size alone."""
    sx = S.linux_statx(data)
    if sx is None:
        return ptr(c.arg(4))
    full = not c.abbrev
    mask = sx.mask
    fields = [f"stx_mask={flags(L.STATX_MASK, mask, unknown='STATX_???')}"]
    if full:
        fields.append(f"stx_blksize={sx.blksize}")
    fields.append(f"stx_attributes={flags(L.STATX_ATTRS, sx.attributes, unknown='STATX_ATTR_???')}")
    bit = L.STATX_MASK.value
    if full:
        for name, value in (("NLINK", sx.nlink), ("UID", sx.uid), ("GID", sx.gid)):
            if mask & bit("STATX_" + name):
                fields.append(f"stx_{name.lower()}={value}")
    if mask & (bit("STATX_TYPE") | bit("STATX_MODE")):
        fields.append(f"stx_mode={T.mode_text(sx.mode)}")
    if full and mask & bit("STATX_INO"):
        fields.append(f"stx_ino={sx.ino}")
    if mask & bit("STATX_SIZE"):
        fields.append(f"stx_size={sx.size}")
    if not full:
        return "{" + ", ".join(fields) + ", ...}"
    if mask & bit("STATX_BLOCKS"):
        fields.append(f"stx_blocks={sx.blocks}")
    fields.append(f"stx_attributes_mask="
                  f"{flags(L.STATX_ATTRS, sx.attributes_mask, unknown='STATX_ATTR_???')}")
    for name in ("atime", "btime", "ctime", "mtime"):
        if mask & bit("STATX_" + name.upper()):
            fields.append(f"stx_{name}={_stx_time(getattr(sx, name))}")
    fields += [f"stx_rdev_major={sx.rdev_major}", f"stx_rdev_minor={sx.rdev_minor}",
               f"stx_dev_major={sx.dev_major}", f"stx_dev_minor={sx.dev_minor}"]
    tail = STATX_TAIL.unpack_from(data, LS_STATX_SIZE) if len(data) >= LS_STATX_SIZE + \
        STATX_TAIL.size else (0, 0, 0)
    if mask & STATX_MNT_ID:
        fields.append(f"stx_mnt_id={hexval(tail[0])}")
    if mask & STATX_DIOALIGN:
        fields += [f"stx_dio_mem_align={tail[1]}", f"stx_dio_offset_align={tail[2]}"]
    return "{" + ", ".join(fields) + "}"


def _swap_flags(c: Call, i: int) -> str:
    """swapon's flags, then ``|`` and the priority the low bits carry."""
    value = c.arg(i) & 0xFFFFFFFF
    prio = value & SWAP_FLAG_PRIO_MASK
    rest = value & ~SWAP_FLAG_PRIO_MASK
    return (flags(L.SWAP_FLAGS, rest, unknown="SWAP_FLAG_???") + "|" if rest else "") + str(prio)


FAN_ALL_CLASS_BITS = 0x0C
FAN_NOFD = -1


def _fanotify_dirfd(c: Call, i: int) -> str:
    """fanotify_mark's dirfd: FAN_NOFD (-1 in decimal to -X), else a dirfd."""
    fd = c_int(c.arg(i))
    return named("FAN_NOFD", fd, str(fd)) if fd == FAN_NOFD else p_dirfd(c, i)


def _fanotify_init(c: Call, i: int) -> str:
    """fanotify_init's class, its other flags, then the open flags of the event descriptors."""
    value = c.arg(0) & 0xFFFFFFFF
    text = xval(L.FAN_CLASSES, value & FAN_ALL_CLASS_BITS, "FAN_CLASS_???")
    if value & ~FAN_ALL_CLASS_BITS:
        text += "|" + flags(L.FAN_INIT_FLAGS, value & ~FAN_ALL_CLASS_BITS, unknown="FAN_???")
    return f"{text}, {open_flags(c.arg(1) & 0xFFFFFFFF)}"


DIRENT_HEAD = _struct.Struct("<QQH")    # d_ino, d_off, d_reclen of both layouts
D_NAME_LEN_MAX = 256


def _pathn(data: bytes, n: int, opts) -> str:
    """printpathn: the name up to its NUL in ``n`` bytes, ``...`` when none ends it."""
    head = data[:n + 1]
    nul = head.find(b"\0")
    return quote(head[:nul], opts.xflag) if nul >= 0 else quote(head[:n], opts.xflag) + "..."


def _dentry(data: bytes, at: int, reclen: int, header: int, old: bool, note: str,
            opts) -> str:
    """One entry: d_ino, d_off, d_reclen (and a note on a bad d_reclen), then
    d_type and d_name in the layout's order."""
    ino, off, _ = DIRENT_HEAD.unpack_from(data, at)
    fields = [f"d_ino={ino}", f"d_off={off}", f"d_reclen={reclen}{note}"]
    rest = reclen - header
    name = data[at + header:at + reclen]
    if old:                       # linux_dirent: the name, then d_type in the last byte
        if rest:
            if rest - 1:
                fields.append(f"d_name={_pathn(name, min(rest - 1, D_NAME_LEN_MAX) - 1, opts)}")
            fields.append(f"d_type={xval(L.DIRENT_TYPES, name[rest - 1], 'DT_???')}")
    else:
        fields.append(f"d_type={xval(L.DIRENT_TYPES, data[at + header - 1], 'DT_???')}")
        if rest:
            fields.append(f"d_name={_pathn(name, min(rest, D_NAME_LEN_MAX) - 1, opts)}")
    return "{" + ", ".join(fields) + "}"


def dents_text(c: Call, i: int, data: bytes, length: int, header: int, old: bool) -> str:
    """decode_dents: ``[{d_ino=.., ...}, ...]``, or abbreviated the address and
    ``/* N entries */``.  An entry past the recorded bytes prints as memory
    strace cannot read."""
    addr, abbrev = c.arg(i), c.abbrev
    items, notes, count, at = [], "", 0, 0
    tail = ""
    while True:
        if length < header:
            if not abbrev:
                if not length:
                    count += 1
                elif len(data) - at >= min(length, c.opts.strsize + 1):
                    tail = printstr(data[at:at + length], c.opts, force_hex=True)
                else:
                    tail = ptr(addr + at)
            break
        if at + header > len(data):
            tail = f"... /* {ptr(addr + at)} */" if count else ptr(addr + at)
            break
        count += 1
        reclen = DIRENT_HEAD.unpack_from(data, at)[2]
        word = "d_reclen " if abbrev else ""
        note, next_at = "", None
        if reclen > length:
            note = f" /* {word}{reclen - length} bytes overflow */"
            reclen, length = length, 0
        elif reclen < header:
            note = f" /* {word}{header - reclen} bytes underflow */"
            reclen, length = header, length - header
        else:
            length -= reclen
            next_at = at + reclen if length else None
        if abbrev:
            notes += note
        elif at + reclen > len(data):          # its name or type not recorded
            items.append(_dentry(data, at, header, header, old, note, c.opts))
            tail = "..." if next_at is not None else ""
            break
        else:
            items.append(_dentry(data, at, reclen, header, old, note, c.opts))
        if next_at is None:
            break
        at = next_at
    if abbrev:
        return f"{ptr(addr)}{notes} /* {count}{'+' if length else ''} entries */"
    if not count:
        return tail
    return "[" + ", ".join(items + ([tail] if tail else [])) + "]"


def _dents(header: int, old: bool) -> Arg:
    def render(c: Call, i: int) -> str:
        data = c.struct(i, "dirents")
        count = c.arg(2) & 0xFFFFFFFF
        if not c.ok or not c.verbose or c.retval > count or data is None and c.retval:
            return ptr(c.arg(i))
        return dents_text(c, i, data or b"", c.retval, header, old)
    return at_exit(render)


def _cwd(c: Call, i: int) -> str:
    """getcwd's result is a path: not cut at -s."""
    data = c.struct(i, "string")
    return printpath(data.split(b"\0", 1)[0], c.opts) if c.ok and data is not None \
        else ptr(c.arg(i))


XATTR_SIZE_MAX = 65536


def printstr_ex(c: Call, i: int, data: bytes | None, size: int, omit_trailing_0: bool) -> str:
    """printstr_ex of ``size`` bytes at argument ``i``: the address when NULL or
    when the bytes strace reads (-s of them and one more) were not recorded;
    a last NUL shown is left out given QUOTE_OMIT_TRAILING_0."""
    addr = c.arg(i)
    if not addr:
        return "NULL"
    strsize = c.opts.strsize
    data = data or b""
    if len(data) < min(size, strsize + 1):
        return ptr(addr)
    shown = data[:min(size, strsize)]
    hexed = c.opts.xflag == HEX_ALL or (
        c.opts.xflag == HEX_NON_ASCII and any(b > 0x7E or b < 0x20 and not 9 <= b <= 13
                                               for b in shown))
    if omit_trailing_0 and not hexed and shown.endswith(b"\0"):
        return quote(shown[:-1], c.opts.xflag)
    return quote(shown, c.opts.xflag, hexed) + ("..." if size > strsize else "")


def printstr_upto(c: Call, i: int, limit: int) -> str:
    """printstr_ex(addr, limit, QUOTE_0_TERMINATED) of a string read at entry:
    at most -s bytes and at most ``limit``; ``...`` when no NUL ends it within
    what strace reads."""
    data = string_read(c, i, min(limit, c.opts.strsize + 1))
    if data is None:
        return ptr(c.arg(i))
    if c.opts.strsize < limit:
        return printstr(data, c.opts)
    return quote(data[:limit], c.opts.xflag) + ("..." if len(data) >= limit else "")


MFD_NAME_MAX_LEN = 255 - len("memfd:")
MFD_HUGE_SHIFT, MFD_HUGE_MASK = 26, 0x3F


def _memfd_flags(c: Call, i: int) -> str:
    """memfd_create's flags, the huge page size as ``N<<MFD_HUGE_SHIFT``."""
    value = c.arg(i) & 0xFFFFFFFF
    style = STYLE.get()
    if not value or style != "abbrev":
        number = hexval(value)
        if not value or style == "raw":
            return number
    huge = value & MFD_HUGE_MASK << MFD_HUGE_SHIFT
    rest = value & ~(MFD_HUGE_MASK << MFD_HUGE_SHIFT)
    parts = []
    if rest or not huge:
        names, rem = L.MEMFD_FLAGS.flags(rest)
        parts.append("|".join(names + ([hexval(rem)] if rem else [])) if names
                     else hexval(rest))
    if huge:
        parts.append(f"{huge >> MFD_HUGE_SHIFT}<<MFD_HUGE_SHIFT")
    text = "|".join(parts)
    return f"{number} /* {text} */" if style == "verbose" else text


def _xattr_value(size_of) -> Arg:
    """print_xattr_val: the value (``size_of(call)`` bytes, the address past
    XATTR_SIZE_MAX), then its size argument; printed at exit when the kernel
    fills it."""
    def render(c: Call, i: int) -> str:
        size = size_of(c)
        if size > XATTR_SIZE_MAX:
            text = ptr(c.arg(i))
        else:
            text = printstr_ex(c, i, c.struct(i, "bytes", exit=not c.name.endswith("setxattr")),
                               size, True)
        return f"{text}, {c.arg(i + 1)}"
    return Arg(render)


def _xattr_list(c: Call, i: int) -> str:
    """listxattr's names (the address when none asked or the call failed), then the size."""
    size = c.arg(i + 1)
    if not size or not c.ok:
        text = ptr(c.arg(i))
    else:
        text = printstr_ex(c, i, c.struct(i, "bytes"), c.retval, False)
    return f"{text}, {size}"


SET_XATTR = _xattr_value(lambda c: c.arg(3))
GOT_XATTR = Arg(_xattr_value(lambda c: c.retval & U64 if c.returned else U64).render,
                exit=True)
XATTR_LIST = at_exit(_xattr_list)
XATTR_FLAGS = Arg(p_flags(L.XATTR_FLAGS, "XATTR_???"))


SYSCALLS = {
    "open": (PATH, _open(1)),
    "openat": (DIRFD, PATH, _open(2)),
    "openat2": (DIRFD, PATH, Arg(_open_how), ULONG),
    "creat": (PATH, MODE),
    "close": (FD,),
    "stat": (PATH, STAT_OUT), "lstat": (PATH, STAT_OUT), "fstat": (FD, STAT_OUT),
    "newfstatat": (DIRFD, PATH, STAT_OUT, AT_FLAGS),
    "statx": (DIRFD, PATH, Arg(_statx_flags), Arg(p_flags(L.STATX_MASK, "STATX_???")),
              at_exit(p_struct("statx", statx_text))),
    "access": (PATH, ACCESS),
    "faccessat": (DIRFD, PATH, ACCESS),
    "faccessat2": (DIRFD, PATH, ACCESS, Arg(p_flags(L.AT_EACCESS_FLAGS, "AT_???"))),
    "readlink": (PATH, STR_OUT, ULONG),
    "readlinkat": (DIRFD, PATH, STR_OUT, ULONG),
    "getcwd": (at_exit(_cwd), ULONG),
    "chdir": (PATH,), "fchdir": (FD,), "chroot": (PATH,),
    "mkdir": (PATH, MODE), "mkdirat": (DIRFD, PATH, MODE),
    "rmdir": (PATH,), "unlink": (PATH,),
    "unlinkat": (DIRFD, PATH, AT_FLAGS),
    "rename": (PATH, PATH), "renameat": (DIRFD, PATH, DIRFD, PATH),
    "renameat2": (DIRFD, PATH, DIRFD, PATH, Arg(p_flags(L.RENAME_FLAGS, "RENAME_??"))),
    "link": (PATH, PATH), "linkat": (DIRFD, PATH, DIRFD, PATH, AT_FLAGS),
    "symlink": (STR_IN, PATH), "symlinkat": (STR_IN, DIRFD, PATH),
    "chmod": (PATH, MODE), "fchmod": (FD, MODE), "fchmodat": (DIRFD, PATH, MODE),
    "chown": (PATH, UID, UID), "lchown": (PATH, UID, UID), "fchown": (FD, UID, UID),
    "fchownat": (DIRFD, PATH, UID, UID, AT_FLAGS),
    "umask": (MODE,),
    "mknod": (PATH, _mknod(1)), "mknodat": (DIRFD, PATH, _mknod(2)),
    "truncate": (PATH, LONG), "ftruncate": (FD, LONG),
    "getdents": (FD, _dents(18, True), UINT),
    "getdents64": (FD, _dents(19, False), UINT),
    "statfs": (PATH, STATFS_OUT), "fstatfs": (FD, STATFS_OUT),
    "setxattr": (PATH, STR_IN, SET_XATTR, None, XATTR_FLAGS),
    "lsetxattr": (PATH, STR_IN, SET_XATTR, None, XATTR_FLAGS),
    "fsetxattr": (FD, STR_IN, SET_XATTR, None, XATTR_FLAGS),
    "getxattr": (PATH, STR_IN, GOT_XATTR, None),
    "lgetxattr": (PATH, STR_IN, GOT_XATTR, None),
    "fgetxattr": (FD, STR_IN, GOT_XATTR, None),
    "listxattr": (PATH, XATTR_LIST, None), "llistxattr": (PATH, XATTR_LIST, None),
    "flistxattr": (FD, XATTR_LIST, None),
    "removexattr": (PATH, STR_IN), "lremovexattr": (PATH, STR_IN), "fremovexattr": (FD, STR_IN),
    "fsync": (FD,), "fdatasync": (FD,), "syncfs": (FD,),
    "flock": (FD, Arg(p_flags(L.FLOCK_OPS, "LOCK_???"))),
    "fadvise64": (FD, LONG, ULONG, Arg(p_xval(L.FADVISE, "POSIX_FADV_???"))),
    "fallocate": (FD, Arg(p_flags(L.FALLOC_FLAGS, "FALLOC_FL_???")), LONG, LONG),
    "utime": (PATH, Arg(_utimbuf)),
    "utimes": (PATH, _time_pair("timeval")),
    "futimesat": (DIRFD, PATH, _time_pair("timeval")),
    "utimensat": (DIRFD, PATH, _time_pair("timespec"), AT_FLAGS),
    "memfd_create": (Arg(lambda c, i: printstr_upto(c, i, MFD_NAME_MAX_LEN + 1)),
                     Arg(_memfd_flags)),
    "inotify_add_watch": (FD, PATH, Arg(p_flags(L.INOTIFY_MASK, "IN_???"))),
    "fanotify_init": (Arg(_fanotify_init),),
    "fanotify_mark": (FD, Arg(p_flags(L.FAN_MARK_FLAGS, "FAN_MARK_???")),
                      Arg(lambda c, i: flags(L.FAN_EVENT_FLAGS, c.arg(i), unknown="FAN_???")),
                      Arg(_fanotify_dirfd), PATH),
    # mounts and swap
    "umount2": (PATH, Arg(p_flags(L.UMOUNT_FLAGS, "MNT_???"))),
    "open_tree": (DIRFD, PATH, Arg(p_flags(L.OPEN_TREE_FLAGS, "OPEN_TREE_???"))),
    "fspick": (DIRFD, PATH, Arg(p_flags(L.FSPICK_FLAGS, "FSPICK_???"))),
    "move_mount": (DIRFD, PATH, DIRFD, PATH, Arg(p_flags(L.MOVE_MOUNT_FLAGS, "MOVE_MOUNT_???"))),
    "swapon": (PATH, Arg(_swap_flags)), "swapoff": (PATH,),
}

"""Files and paths: open, stat, access, links, directories, xattrs."""

from __future__ import annotations

from .. import structs as S
from ..xlat import LINUX as L
from . import structs as T
from .call import (DIRFD, FD, HEX, INT, MODE, PATH, PTR, STR_IN, STR_OUT, ULONG, Arg,
                   Call, at_exit, octal, p_flags, p_struct, p_xval)
from .fmt import printpath, printstr, ptr

O_ACCMODE = 3
O_CREAT = L.OPEN_FLAGS.value("O_CREAT")
O_TMPFILE = L.OPEN_FLAGS.value("O_TMPFILE")


def open_flags(value: int) -> str:
    """O_RDONLY|O_CLOEXEC: the access mode always first."""
    mode = L.OPEN_ACCESS.name(value & O_ACCMODE) or "O_ACCMODE"
    names, rem = L.OPEN_FLAGS.flags(value & ~O_ACCMODE)
    if rem:
        names.append(f"{rem:#x}")
    return "|".join([mode] + names)


def _open(flags_at: int):
    """open's flags, then its mode only when O_CREAT or O_TMPFILE asks for one."""
    def render(c: Call, i: int) -> str:
        value = c.arg(flags_at) & 0xFFFFFFFF
        text = open_flags(value)
        if value & O_CREAT or value & O_TMPFILE == O_TMPFILE:
            text += ", " + octal(c.arg(flags_at + 1) & 0o7777)
        return text
    return Arg(render)


AT_FLAGS = Arg(p_flags(L.AT_FLAGS))
ACCESS = Arg(p_flags(L.ACCESS_MODES))
STAT_OUT = at_exit(p_struct("stat", T.stat_text))
STATFS_OUT = at_exit(p_struct("statfs", T.statfs_text))
STATX_FLAGS = Arg(lambda c, i: "|".join(
    filter(None, [L.AT_STATX_SYNC.name(c.arg(i) & 0x6000) or "",
                  p_flags(L.AT_FLAGS)(c, i) if c.arg(i) & ~0x6000 else ""])))


def _dents(c: Call, i: int) -> str:
    if not c.ok:
        return ptr(c.arg(i))
    data = c.struct(i, "dirents")
    count = sum(1 for _ in S.iter_dirents(data)) if data is not None else 0
    return f"{ptr(c.arg(i))} /* {count} entries */"


def _cwd(c: Call, i: int) -> str:
    """getcwd's result is a path: not cut at -s."""
    data = c.struct(i, "string")
    return printpath(data.split(b"\0", 1)[0], c.opts) if c.ok and data is not None \
        else ptr(c.arg(i))


def _xattr_value(c: Call, i: int) -> str:
    data = c.struct(i, "bytes")
    return printstr(data, c.opts) if c.ok and data is not None else ptr(c.arg(i))


SYSCALLS = {
    "open": (PATH, _open(1)),
    "openat": (DIRFD, PATH, _open(2)),
    "creat": (PATH, MODE),
    "close": (FD,),
    "stat": (PATH, STAT_OUT), "lstat": (PATH, STAT_OUT), "fstat": (FD, STAT_OUT),
    "newfstatat": (DIRFD, PATH, STAT_OUT, AT_FLAGS),
    "statx": (DIRFD, PATH, STATX_FLAGS, Arg(p_flags(L.STATX_MASK)),
              at_exit(p_struct("statx", T.statx_text))),
    "access": (PATH, ACCESS),
    "faccessat": (DIRFD, PATH, ACCESS),
    "faccessat2": (DIRFD, PATH, ACCESS, Arg(p_flags(L.AT_EACCESS_FLAGS))),
    "readlink": (PATH, STR_OUT, ULONG),
    "readlinkat": (DIRFD, PATH, STR_OUT, ULONG),
    "getcwd": (at_exit(_cwd), ULONG),
    "chdir": (PATH,), "fchdir": (FD,), "chroot": (PATH,),
    "mkdir": (PATH, MODE), "mkdirat": (DIRFD, PATH, MODE),
    "rmdir": (PATH,), "unlink": (PATH,),
    "unlinkat": (DIRFD, PATH, AT_FLAGS),
    "rename": (PATH, PATH), "renameat": (DIRFD, PATH, DIRFD, PATH),
    "renameat2": (DIRFD, PATH, DIRFD, PATH, Arg(p_flags(L.RENAME_FLAGS))),
    "link": (PATH, PATH), "linkat": (DIRFD, PATH, DIRFD, PATH, AT_FLAGS),
    "symlink": (STR_IN, PATH), "symlinkat": (STR_IN, DIRFD, PATH),
    "chmod": (PATH, MODE), "fchmod": (FD, MODE), "fchmodat": (DIRFD, PATH, MODE),
    "chown": (PATH, INT, INT), "lchown": (PATH, INT, INT), "fchown": (FD, INT, INT),
    "fchownat": (DIRFD, PATH, INT, INT, AT_FLAGS),
    "umask": (MODE,),
    "truncate": (PATH, INT), "ftruncate": (FD, INT),
    "getdents64": (FD, at_exit(_dents), ULONG),
    "statfs": (PATH, STATFS_OUT), "fstatfs": (FD, STATFS_OUT),
    "getxattr": (PATH, STR_IN, at_exit(_xattr_value), ULONG),
    "lgetxattr": (PATH, STR_IN, at_exit(_xattr_value), ULONG),
    "fgetxattr": (FD, STR_IN, at_exit(_xattr_value), ULONG),
    "fsync": (FD,), "fdatasync": (FD,), "syncfs": (FD,),
    "flock": (FD, Arg(p_flags(L.FLOCK_OPS))),
    "fadvise64": (FD, INT, INT, Arg(p_xval(L.FADVISE, "POSIX_FADV_???"))),
    "fallocate": (FD, Arg(p_flags(L.FALLOC_FLAGS)), INT, INT),
    "utimensat": (DIRFD, PATH, PTR, AT_FLAGS),
    "memfd_create": (STR_IN, Arg(p_flags(L.MEMFD_FLAGS))),
    "inotify_add_watch": (FD, PATH, HEX),
}

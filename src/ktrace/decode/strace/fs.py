"""Files and paths: open, stat, access, links, directories, xattrs."""

from __future__ import annotations

from .. import structs as S
from ..xlat import LINUX as L
from . import structs as T
from .call import (DIRFD, FD, LONG, MODE, PATH, PTR, STR_IN, STR_OUT, UID, ULONG, Arg,
                   Call, at_exit, octal, p_flags, p_struct, p_xval)
from .fmt import flags, named, printpath, printstr, ptr, xval

O_ACCMODE = 3
O_CREAT = L.OPEN_FLAGS.value("O_CREAT")
O_TMPFILE = L.OPEN_FLAGS.value("O_TMPFILE")
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
    """Whether open flags ``value`` (O_CREAT, O_TMPFILE) ask for a mode."""
    return bool(value & O_CREAT) or value & O_TMPFILE == O_TMPFILE


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


AT_FLAGS = Arg(p_flags(L.AT_FLAGS, "AT_???"))
ACCESS = Arg(p_flags(L.ACCESS_MODES, "?_OK"))
STAT_OUT = at_exit(p_struct("stat", T.stat_text))
STATFS_OUT = at_exit(p_struct("statfs", T.statfs_text))
STATX_FLAGS = Arg(lambda c, i: "|".join(
    filter(None, [L.AT_STATX_SYNC.name(c.arg(i) & 0x6000) or "",
                  p_flags(L.AT_FLAGS, "AT_???")(c, i) if c.arg(i) & ~0x6000 else ""])))


def _swap_flags(c: Call, i: int) -> str:
    """swapon's flags, then ``|`` and the priority the low bits carry."""
    value = c.arg(i) & 0xFFFFFFFF
    prio = value & SWAP_FLAG_PRIO_MASK
    rest = value & ~SWAP_FLAG_PRIO_MASK
    return (flags(L.SWAP_FLAGS, rest, unknown="SWAP_FLAG_???") + "|" if rest else "") + str(prio)


FAN_ALL_CLASS_BITS = 0x0C


def _fanotify_init(c: Call, i: int) -> str:
    """fanotify_init's class, its other flags, then the open flags of the event descriptors."""
    value = c.arg(0) & 0xFFFFFFFF
    text = xval(L.FAN_CLASSES, value & FAN_ALL_CLASS_BITS, "FAN_CLASS_???")
    if value & ~FAN_ALL_CLASS_BITS:
        text += "|" + flags(L.FAN_INIT_FLAGS, value & ~FAN_ALL_CLASS_BITS, unknown="FAN_???")
    return f"{text}, {open_flags(c.arg(1) & 0xFFFFFFFF)}"


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
    "openat2": (DIRFD, PATH, Arg(_open_how), ULONG),
    "creat": (PATH, MODE),
    "close": (FD,),
    "stat": (PATH, STAT_OUT), "lstat": (PATH, STAT_OUT), "fstat": (FD, STAT_OUT),
    "newfstatat": (DIRFD, PATH, STAT_OUT, AT_FLAGS),
    "statx": (DIRFD, PATH, STATX_FLAGS, Arg(p_flags(L.STATX_MASK, "STATX_???")),
              at_exit(p_struct("statx", T.statx_text))),
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
    "getdents64": (FD, at_exit(_dents), ULONG),
    "statfs": (PATH, STATFS_OUT), "fstatfs": (FD, STATFS_OUT),
    "getxattr": (PATH, STR_IN, at_exit(_xattr_value), ULONG),
    "lgetxattr": (PATH, STR_IN, at_exit(_xattr_value), ULONG),
    "fgetxattr": (FD, STR_IN, at_exit(_xattr_value), ULONG),
    "fsync": (FD,), "fdatasync": (FD,), "syncfs": (FD,),
    "flock": (FD, Arg(p_flags(L.FLOCK_OPS, "LOCK_???"))),
    "fadvise64": (FD, LONG, ULONG, Arg(p_xval(L.FADVISE, "POSIX_FADV_???"))),
    "fallocate": (FD, Arg(p_flags(L.FALLOC_FLAGS, "FALLOC_FL_???")), LONG, LONG),
    "utimensat": (DIRFD, PATH, PTR, AT_FLAGS),
    "memfd_create": (STR_IN, Arg(p_flags(L.MEMFD_FLAGS))),
    "inotify_add_watch": (FD, PATH, Arg(p_flags(L.INOTIFY_MASK, "IN_???"))),
    "fanotify_init": (Arg(_fanotify_init),),
    "landlock_create_ruleset": (PTR, ULONG, Arg(p_flags(L.LANDLOCK_CREATE_RULESET_FLAGS,
                                                        "LANDLOCK_CREATE_RULESET_???"))),
    # mounts and swap
    "umount2": (PATH, Arg(p_flags(L.UMOUNT_FLAGS, "MNT_???"))),
    "open_tree": (DIRFD, PATH, Arg(p_flags(L.OPEN_TREE_FLAGS, "OPEN_TREE_???"))),
    "fspick": (DIRFD, PATH, Arg(p_flags(L.FSPICK_FLAGS, "FSPICK_???"))),
    "move_mount": (DIRFD, PATH, DIRFD, PATH, Arg(p_flags(L.MOVE_MOUNT_FLAGS, "MOVE_MOUNT_???"))),
    "mount_setattr": (DIRFD, PATH, Arg(p_flags(L.MOUNT_SETATTR_FLAGS, "AT_???")), PTR, ULONG),
    "swapon": (PATH, Arg(_swap_flags)), "swapoff": (PATH,),
}

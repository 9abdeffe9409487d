"""ioctl requests of strace's fs_x_ioctl.c, fs_f_ioctl.c (the inode flags) and
fs_0x94_ioctl.c (clone, dedupe, the label; btrfs.py the rest of type 0x94)."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from ..call import Call
from ..fdio import print_array
from ..fmt import c_int, flags, hexval, ptr
from ..sockaddr import cstring
from . import INT_VALUE, NO_ARG, UINT, Request, exchanged, ior, iow, memory, read_verbosely

FS_XFLAGS = Xlat([(1 << bit, f"FS_XFLAG_{name}") for bit, name in enumerate((
    "REALTIME", "PREALLOC", None, "IMMUTABLE", "APPEND", "SYNC", "NOATIME", "NODUMP",
    "RTINHERIT", "PROJINHERIT", "NOSYMLINKS", "EXTSIZE", "EXTSZINHERIT", "NODEFRAG",
    "FILESTREAM", "DAX", "COWEXTSIZE")) if name] + [(0x80000000, "FS_XFLAG_HASATTR")])
_FSTRIM = struct.Struct("<QQQ")         # fstrim_range: start, len, minlen
_FSXATTR = struct.Struct("<5I8x")       # xflags, extsize, nextents, projid, cowextsize


def fstrim_text(data: bytes, c: Call) -> str:
    start, length, minlen = _FSTRIM.unpack_from(data)
    return f"{{start={hexval(start)}, len={length}, minlen={minlen}}}"


def _fsxattr(get: bool) -> Request:
    def text(data: bytes, c: Call) -> str:
        xflags, extsize, nextents, projid, cowextsize = _FSXATTR.unpack_from(data)
        nextents_text = f", fsx_nextents={nextents}" if get else ""
        return (f"{{fsx_xflags={flags(FS_XFLAGS, xflags, unknown='FS_XFLAG_???')}, "
                f"fsx_extsize={extsize}{nextents_text}, fsx_projid={hexval(projid)}, "
                f"fsx_cowextsize={cowextsize}}}")
    return memory("ioc", get, text, _FSXATTR.size)


# fs_f_ioctl.c: the inode flags (an unsigned int, whatever the request's size says)
FS_IOC_FLAGS = Xlat([(1 << bit, f"FS_{name}_FL") for bit, name in enumerate((
    "SECRM", "UNRM", "COMPR", "SYNC", "IMMUTABLE", "APPEND", "NODUMP", "NOATIME", "DIRTY",
    "COMPRBLK", "NOCOMP", "ENCRYPT", "INDEX", "IMAGIC", "JOURNAL_DATA", "NOTAIL", "DIRSYNC",
    "TOPDIR", "HUGE_FILE", "EXTENT", "VERITY", "EA_INODE", "EOFBLOCKS", "NOCOW", None, "DAX",
    None, None, "INLINE_DATA", "PROJINHERIT", "CASEFOLD", "RESERVED")) if name])


def fs_flags_text(data: bytes, c: Call) -> str:
    return f"[{flags(FS_IOC_FLAGS, UINT.unpack_from(data)[0], unknown='FS_???_FL')}]"


# userfaultfd.c: a struct given, and what the kernel adds to it (``=> features=``,


# fs_0x94_ioctl.c: file_clone_range (src_fd, src_offset, src_length, dest_offset);
# file_dedupe_range's head (src_offset, src_length, dest_count) and the infos after
# it (dest_fd, dest_offset, bytes_deduped, status: linux_plan.FIDEDUPERANGE's length)
_CLONE_RANGE = struct.Struct("<qQQQ")
_DEDUPE = struct.Struct("<QQH6x")
_DEDUPE_INFO = struct.Struct("<qQQi4x")
FSLABEL_MAX = 256
DEDUPE_SHOWN = 2            # the infos strace prints unless -v


def _clone_range(data: bytes, c: Call) -> str:
    src_fd, offset, length, dest = _CLONE_RANGE.unpack_from(data)
    return (f"{{src_fd={c.fd_text(c_int(src_fd))}, src_offset={offset}, "
            f"src_length={length}, dest_offset={dest}}}")


def _dedupe_infos(c: Call, data: bytes, entering: bool) -> tuple[str, bool]:
    """The infos (at entry the descriptors and offsets, at exit what was
    deduped) and whether strace goes on: all of them printed."""
    count = _DEDUPE.unpack_from(data)[2]
    infos = [_DEDUPE_INFO.unpack_from(data, at)
             for at in range(_DEDUPE.size, len(data) - _DEDUPE_INFO.size + 1, _DEDUPE_INFO.size)]
    items = [f"{{dest_fd={c.fd_text(c_int(fd))}, dest_offset={offset}}}" if entering else
             f"{{bytes_deduped={deduped}, status={status}}}"
             for fd, offset, deduped, status in infos]
    if c.abbrev and count > DEDUPE_SHOWN and len(items) > DEDUPE_SHOWN:
        items = items[:DEDUPE_SHOWN] + ["..."]
        count = len(items)
    text = print_array(c, c.arg(2) + _DEDUPE.size, count, items, _DEDUPE_INFO.size)
    return text, bool(count) and len(items) >= count


def _dedupe_range(c: Call) -> str:
    copies = exchanged(c, _DEDUPE.size)
    if copies is None:
        return ptr(c.arg(2))
    given, answer = copies
    offset, length, count = _DEDUPE.unpack_from(given)
    infos, done = _dedupe_infos(c, given, True)
    text = f"{{src_offset={offset}, src_length={length}, dest_count={count}, info={infos}}}"
    if answer is None or not done:
        return text
    return f"{text} => {{info={_dedupe_infos(c, answer, False)[0]}}}"


def _fslabel(data: bytes, c: Call) -> str:
    return cstring(data[:FSLABEL_MAX])


NAMES = {
    "FS_IOC32_GETFLAGS": ior("f", 1, 4), "FS_IOC32_SETFLAGS": iow("f", 2, 4),
}

REQUESTS: dict[str, Request] = {
    # fs_0x94_ioctl.c
    "FICLONE": INT_VALUE,
    "FICLONERANGE": read_verbosely(memory("ioc", False, _clone_range, _CLONE_RANGE.size)),
    "FIDEDUPERANGE": read_verbosely(Request(_dedupe_range)),
    "FS_IOC_GETFSLABEL": read_verbosely(memory("ioc", True, _fslabel, FSLABEL_MAX)),
    "FS_IOC_SETFSLABEL": read_verbosely(memory("ioc", False, _fslabel, FSLABEL_MAX)),
    # fs_x_ioctl.c
    "FIFREEZE": NO_ARG, "FITHAW": NO_ARG,
    "FITRIM": memory("ioc", False, fstrim_text, _FSTRIM.size),
    "FS_IOC_FSGETXATTR": _fsxattr(True), "FS_IOC_FSSETXATTR": _fsxattr(False),
    # fs_f_ioctl.c
    # (FS_IOC_[GS]ETFLAGS, a long by _IOC and an int in use: the selector's STRU int)
    **{req: memory(name, req.endswith("GETFLAGS"), fs_flags_text, UINT.size)
       for req, name in (("FS_IOC_GETFLAGS", "int"), ("FS_IOC_SETFLAGS", "int"),
                         ("FS_IOC32_GETFLAGS", "ioc"), ("FS_IOC32_SETFLAGS", "ioc"))},
}

"""ioctl requests of strace's fs_x_ioctl.c and fs_f_ioctl.c (the inode flags)."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from ..call import Call
from ..fmt import flags, hexval
from . import NO_ARG, UINT, Request, ior, iow, memory

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


NAMES = {
    "FS_IOC32_GETFLAGS": ior("f", 1, 4), "FS_IOC32_SETFLAGS": iow("f", 2, 4),
}

REQUESTS: dict[str, Request] = {
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

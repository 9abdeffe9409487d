"""Struct layouts: raw bytes of STRU records to named fields.

Linux structs are the x86-64 kernel's (what the kernel copies to or from
user memory), with the layouts of :mod:`ktrace.abi.linux_structs`;
FreeBSD's stat and sockaddr are here for FreeBSD traces.
Parsers return None when the bytes cannot be the struct (too short), so
callers can say "invalid record" as kdump does.
"""

from __future__ import annotations

import ipaddress
import socket as _socket
import struct
from typing import NamedTuple

from ..abi import linux_structs as LS
from ..abi.linux_structs import FIXED, SUN_PATH_MAX


class Timespec(NamedTuple):
    sec: int
    nsec: int


class Stat(NamedTuple):
    dev: int
    ino: int
    mode: int
    nlink: int
    uid: int
    gid: int
    rdev: int
    size: int
    blksize: int
    blocks: int
    atime: Timespec
    mtime: Timespec
    ctime: Timespec
    birthtime: Timespec | None = None   # FreeBSD only
    flags: int | None = None            # FreeBSD only


def _ts(pairs) -> list[Timespec]:
    it = iter(pairs)
    return [Timespec(s, ns) for s, ns in zip(it, it)]


def linux_stat(data: bytes) -> Stat | None:
    if len(data) < LS.STAT.size:
        return None
    dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks, *times = \
        LS.STAT.unpack_from(data)
    a, m, c = _ts(times)
    return Stat(dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, a, m, c)


class Statx(NamedTuple):
    mask: int
    blksize: int
    attributes: int
    nlink: int
    uid: int
    gid: int
    mode: int
    ino: int
    size: int
    blocks: int
    attributes_mask: int
    atime: Timespec
    btime: Timespec
    ctime: Timespec
    mtime: Timespec
    rdev_major: int
    rdev_minor: int
    dev_major: int
    dev_minor: int


def linux_statx(data: bytes) -> Statx | None:
    if len(data) < LS.STATX.size:
        return None
    v = LS.STATX.unpack_from(data)
    times = _ts(v[11:19])
    return Statx(*v[:11], *times, *v[19:23])


# FreeBSD struct stat by (word size, byte size): ino64 (12+) and freebsd11.
_FREEBSD_STATS = {
    224: ("<QQQHxxIIxxxxQ8qqqiIQQ72x", "new"),
    208: ("<QQQHxxIIxxxx Q 4x ii 4x ii 4x ii 4x ii qqiIQQ72x", "new"),
    120: ("<IIHHIII6qqqIIIi2q", "old"),
    96: ("<IIHHIII6iqqIIIi2i8x", "old"),
}


def freebsd_stat(data: bytes) -> Stat | None:
    """FreeBSD's struct stat in any of the layouts kdump has met."""
    layout = _FREEBSD_STATS.get(len(data))
    if layout is None:
        return None
    fmt, kind = layout
    v = struct.unpack(fmt.replace(" ", ""), data)
    if kind == "new":
        dev, ino, nlink, mode, uid, gid, rdev = v[:7]
        a, m, c, b = _ts(v[7:15])
        size, blocks, blksize, flags = v[15:19]
    else:
        dev, ino, mode, nlink, uid, gid, rdev = v[:7]
        a, m, c = _ts(v[7:13])
        size, blocks, blksize, flags = v[13:17]
        b = Timespec(*v[19:21])
    return Stat(dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, a, m, c, b, flags)


class Sockaddr(NamedTuple):
    family: int
    address: str | None      # printable address ("1.2.3.4", "::1", a path)
    port: int | None
    extra: dict              # per family: flowinfo/scope_id, netlink pid/groups


AF_UNIX, AF_INET = 1, 2
LINUX_AF_INET6, LINUX_AF_NETLINK = LS.AF_INET6, LS.AF_NETLINK
FREEBSD_AF_INET6 = 28


def _inet6(data: bytes) -> Sockaddr | None:
    if len(data) < 24:
        return None
    port, flow = struct.unpack_from("!HI", data, 2)
    scope = struct.unpack_from("<I", data, 24)[0] if len(data) >= 28 else 0
    addr = str(ipaddress.IPv6Address(data[8:24]))
    return Sockaddr(0, addr, port, {"flowinfo": flow, "scope_id": scope})


def _parse_sockaddr(family: int, data: bytes, inet6: int, netlink: int | None) -> Sockaddr:
    """``data`` is the whole sockaddr; the family was read by the caller."""
    if family == AF_INET and len(data) >= 8:
        port = struct.unpack_from("!H", data, 2)[0]
        return Sockaddr(family, _socket.inet_ntoa(data[4:8]), port, {})
    if family == inet6:
        parsed = _inet6(data)
        if parsed is not None:
            return parsed._replace(family=family)
    if family == AF_UNIX:
        path = data[2:2 + SUN_PATH_MAX]
        abstract = path[:1] == b"\0" and len(path) > 0
        if not abstract:
            path = path.split(b"\0", 1)[0]
        return Sockaddr(family, path.decode("utf-8", "surrogateescape"), None,
                        {"abstract": abstract})
    if family == netlink and len(data) >= 12:
        pid, groups = struct.unpack_from("<II", data, 4)
        return Sockaddr(family, None, None, {"pid": pid, "groups": groups})
    return Sockaddr(family, None, None, {"raw": data[2:]})


def linux_sockaddr(data: bytes) -> Sockaddr | None:
    if len(data) < 2:
        return None
    family = LS.SA_FAMILY.unpack_from(data)[0]
    return _parse_sockaddr(family, data, LINUX_AF_INET6, LINUX_AF_NETLINK)


def freebsd_sockaddr(data: bytes) -> Sockaddr | None:
    """FreeBSD's sockaddr starts with sa_len, which must be the record's length."""
    if len(data) < 2 or data[0] != len(data):
        return None
    return _parse_sockaddr(data[1], data, FREEBSD_AF_INET6, None)


def fixed(name: str, data: bytes, at: int = 0) -> dict | None:
    """The fields of a fixed-layout struct, or None if it does not fit."""
    spec = FIXED.get(name)
    if spec is None or len(data) - at < spec[0].size:
        return None
    return dict(zip(spec[1], spec[0].unpack_from(data, at)))


def array(name: str, data: bytes, size: int) -> list[dict]:
    """The elements of a STRUCT_ARRAY (whole elements only)."""
    return list(iter_array(name, data, size))


def iter_array(name: str, data: bytes, size: int):
    """The elements of a STRUCT_ARRAY one at a time (whole elements only)."""
    if size > 0:
        for at in range(0, len(data) - size + 1, size):
            f = fixed(name, data, at)
            if f is not None:
                yield f


UTSNAME_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")


def utsname(data: bytes) -> dict | None:
    n = LS.UTSNAME_FIELD
    if len(data) < n * 5:
        return None
    return {f: data[i * n:(i + 1) * n].split(b"\0", 1)[0]
            for i, f in enumerate(UTSNAME_FIELDS) if len(data) >= (i + 1) * n}


class Dirent(NamedTuple):
    ino: int
    off: int
    reclen: int
    type: int
    name: bytes


def dirents(data: bytes) -> list[Dirent]:
    """The linux_dirent64 entries of a getdents64 buffer."""
    return list(iter_dirents(data))


def iter_dirents(data: bytes):
    """The linux_dirent64 entries of a getdents64 buffer, one at a time."""
    at, head = 0, LS.DIRENT64_NAME
    while at + head <= len(data):
        ino, off, reclen, dtype = LS.DIRENT64.unpack_from(data, at)
        if reclen < head or at + reclen > len(data):
            break
        yield Dirent(ino, off, reclen, dtype, data[at + head:at + reclen].split(b"\0", 1)[0])
        at += reclen

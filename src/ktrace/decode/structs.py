"""Struct layouts: raw bytes of STRU records to named fields.

Linux structs are the x86-64 kernel's (what the kernel copies to or from
user memory); FreeBSD's stat and sockaddr are there for FreeBSD traces.
Parsers return None when the bytes cannot be the struct (too short), so
callers can say "invalid record" as kdump does.
"""

from __future__ import annotations

import ipaddress
import socket as _socket
import struct
from typing import NamedTuple


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


_LINUX_STAT = struct.Struct("<QQQIII4xQqqq6q24x")


def linux_stat(data: bytes) -> Stat | None:
    if len(data) < _LINUX_STAT.size:
        return None
    dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks, *times = \
        _LINUX_STAT.unpack_from(data)
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


_STATX = struct.Struct("<IIQIIIH2xQQQQqI4xqI4xqI4xqI4xIIII")


def linux_statx(data: bytes) -> Statx | None:
    if len(data) < _STATX.size:
        return None
    v = _STATX.unpack_from(data)
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
LINUX_AF_INET6, LINUX_AF_NETLINK = 10, 16
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
        path = data[2:]
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
    family = struct.unpack_from("<H", data)[0]
    return _parse_sockaddr(family, data, LINUX_AF_INET6, LINUX_AF_NETLINK)


def freebsd_sockaddr(data: bytes) -> Sockaddr | None:
    """FreeBSD's sockaddr starts with sa_len, which must be the record's length."""
    if len(data) < 2 or data[0] != len(data):
        return None
    return _parse_sockaddr(data[1], data, FREEBSD_AF_INET6, None)


# Small fixed structs: name -> (layout, field names).
FIXED = {
    "timespec": (struct.Struct("<qq"), ("tv_sec", "tv_nsec")),
    "timeval": (struct.Struct("<qq"), ("tv_sec", "tv_usec")),
    "itimerspec": (struct.Struct("<qqqq"), ("interval_sec", "interval_nsec",
                                            "value_sec", "value_nsec")),
    "itimerval": (struct.Struct("<qqqq"), ("interval_sec", "interval_usec",
                                           "value_sec", "value_usec")),
    "rlimit": (struct.Struct("<QQ"), ("rlim_cur", "rlim_max")),
    # the two timevals that open struct rusage (the rest is counters)
    "rusage": (struct.Struct("<qqqq"), ("utime_sec", "utime_usec", "stime_sec",
                                        "stime_usec")),
    "sigaction": (struct.Struct("<QQQQ"), ("handler", "flags", "restorer", "mask")),
    "sigset": (struct.Struct("<Q"), ("mask",)),
    "pollfd": (struct.Struct("<ihh"), ("fd", "events", "revents")),
    "epoll_event": (struct.Struct("<IQ"), ("events", "data")),
    "iovec": (struct.Struct("<QQ"), ("iov_base", "iov_len")),
    "int": (struct.Struct("<i"), ("value",)),
    "long": (struct.Struct("<q"), ("value",)),
    "stack": (struct.Struct("<Qi4xQ"), ("ss_sp", "ss_flags", "ss_size")),
    "tms": (struct.Struct("<qqqq"), ("tms_utime", "tms_stime", "tms_cutime", "tms_cstime")),
    "winsize": (struct.Struct("<HHHH"), ("ws_row", "ws_col", "ws_xpixel", "ws_ypixel")),
    "termios": (struct.Struct("<IIIIB19s"), ("c_iflag", "c_oflag", "c_cflag", "c_lflag",
                                             "c_line", "c_cc")),
    "clone_args": (struct.Struct("<11Q"), ("flags", "pidfd", "child_tid", "parent_tid",
                                           "exit_signal", "stack", "stack_size", "tls",
                                           "set_tid", "set_tid_size", "cgroup")),
    "msghdr": (struct.Struct("<QI4xQQQQi4x"), ("msg_name", "msg_namelen", "msg_iov",
                                               "msg_iovlen", "msg_control",
                                               "msg_controllen", "msg_flags")),
    "sysinfo": (struct.Struct("<q3Q6QHH4xQQI"), ("uptime", "load1", "load5", "load15",
                                                 "totalram", "freeram", "sharedram",
                                                 "bufferram", "totalswap", "freeswap",
                                                 "procs", "pad", "totalhigh", "freehigh",
                                                 "mem_unit")),
    "statfs": (struct.Struct("<qqQQQQQiiqqq"), ("f_type", "f_bsize", "f_blocks", "f_bfree",
                                                "f_bavail", "f_files", "f_ffree", "fsid0",
                                                "fsid1", "f_namelen", "f_frsize",
                                                "f_flags")),
}


def fixed(name: str, data: bytes, at: int = 0) -> dict | None:
    """The fields of a fixed-layout struct, or None if it does not fit."""
    spec = FIXED.get(name)
    if spec is None or len(data) - at < spec[0].size:
        return None
    return dict(zip(spec[1], spec[0].unpack_from(data, at)))


def array(name: str, data: bytes, size: int) -> list[dict]:
    """The elements of a STRUCT_ARRAY (whole elements only)."""
    return [f for f in (fixed(name, data, at) for at in range(0, len(data) - size + 1, size))
            if f is not None] if size > 0 else []


UTSNAME_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")


def utsname(data: bytes) -> dict | None:
    if len(data) < 65 * 5:
        return None
    return {f: data[i * 65:(i + 1) * 65].split(b"\0", 1)[0]
            for i, f in enumerate(UTSNAME_FIELDS) if len(data) >= (i + 1) * 65}


class Dirent(NamedTuple):
    ino: int
    off: int
    reclen: int
    type: int
    name: bytes


def dirents(data: bytes) -> list[Dirent]:
    """The linux_dirent64 entries of a getdents64 buffer."""
    out, at = [], 0
    while at + 19 <= len(data):
        ino, off, reclen, dtype = struct.unpack_from("<QqHB", data, at)
        if reclen < 19 or at + reclen > len(data):
            break
        out.append(Dirent(ino, off, reclen, dtype, data[at + 19:at + reclen].split(b"\0", 1)[0]))
        at += reclen
    return out

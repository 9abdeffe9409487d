"""A traced process's socket as the kernel describes it (what strace's -yy
asks for as it prints): its protocol's name, its addresses, a Unix socket's
peer.

The socket is borrowed: pidfd_getfd(2) (Linux 5.6; the ptrace access a
tracer has) gives this process a descriptor of it for the few calls that
ask, closed at once.  That reaches a socket of any network namespace, where
sock_diag queries reach only this process's own; only a Unix socket's peer
has no call of its own, and is asked of sock_diag by inode (strace's way).
"""

from __future__ import annotations

import ctypes
import os
import socket
import struct

from . import procfs
from .libc import function

SYS_PIDFD_GETFD = 438
SOCKADDR_STORAGE = 128

_syscall = function("syscall", ctypes.c_long)
_getsockname = function("getsockname")
_getpeername = function("getpeername")

# sock_diag (linux/sock_diag.h, linux/unix_diag.h)
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
UDIAG_SHOW_PEER = 4
UNIX_DIAG_PEER = 2
NLMSGHDR = struct.Struct("<IHHII")
UNIX_DIAG_REQ = struct.Struct("<BBHIII8s")      # family, protocol, pad, states, ino, show, cookie
UNIX_DIAG_MSG = struct.Struct("<BBBBI8s")       # family, type, state, pad, ino, cookie
RTATTR = struct.Struct("<HH")


def borrow(pid: int, tid: int, fd: int) -> int | None:
    """A descriptor, in this process, of what thread ``tid`` of process
    ``pid`` holds as ``fd``; None if it cannot be had."""
    task = procfs.pidfd(tid, pid)
    if task is None:
        return None
    try:
        got = _syscall(ctypes.c_long(SYS_PIDFD_GETFD), task, fd, 0)
    finally:
        os.close(task)
    return got if got >= 0 else None


def protocol_name(fd: int) -> bytes:
    """The name of socket ``fd``'s protocol (b"UNIX-STREAM", b"TCPv6"), b"" if none."""
    try:
        return os.getxattr(f"/proc/self/fd/{fd}", "system.sockprotoname").split(b"\0", 1)[0]
    except OSError:
        return b""


def address(fd: int, peer: bool) -> bytes:
    """Socket ``fd``'s own address (getsockname) or its peer's, b"" if none."""
    buf = ctypes.create_string_buffer(SOCKADDR_STORAGE)
    size = ctypes.c_uint32(SOCKADDR_STORAGE)
    if (_getpeername if peer else _getsockname)(fd, buf, ctypes.byref(size)) < 0:
        return b""
    return buf.raw[:min(size.value, SOCKADDR_STORAGE)]


def unix_peer(ino: int) -> int:
    """The inode of the peer of the Unix socket of inode ``ino``; 0 if none or unknown."""
    if not 0 < ino < 1 << 32:
        return 0
    req = UNIX_DIAG_REQ.pack(socket.AF_UNIX, 0, 0, 0xFFFFFFFF, ino, UDIAG_SHOW_PEER, b"\xff" * 8)
    message = NLMSGHDR.pack(NLMSGHDR.size + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as s:
            s.sendall(message + req)
            reply = s.recv(8192)
    except OSError:
        return 0
    return _peer_of(reply, ino)


def _peer_of(reply: bytes, ino: int) -> int:
    """UNIX_DIAG_PEER of the answer about ``ino`` in a sock_diag reply."""
    if len(reply) < NLMSGHDR.size + UNIX_DIAG_MSG.size:
        return 0
    length, kind = NLMSGHDR.unpack_from(reply)[:2]
    if kind == NLMSG_ERROR or UNIX_DIAG_MSG.unpack_from(reply, NLMSGHDR.size)[4] != ino:
        return 0
    at, end = NLMSGHDR.size + UNIX_DIAG_MSG.size, min(length, len(reply))
    while at + RTATTR.size <= end:
        size, kind = RTATTR.unpack_from(reply, at)
        if size < RTATTR.size:
            break
        if kind == UNIX_DIAG_PEER and size >= RTATTR.size + 4:
            return struct.unpack_from("<I", reply, at + RTATTR.size)[0]
        at += (size + 3) & ~3
    return 0

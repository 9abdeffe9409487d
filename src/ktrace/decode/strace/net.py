"""Sockets."""

from __future__ import annotations

import struct as _struct

from .. import structs as S
from ..xlat import LINUX as L
from . import sockaddr as SA
from . import sockopt
from .files import Socket
from .netlink import netlink_text
from .nlattr import readable_str, short_read
from . import structs as T
from .call import FD, INT, UINT, ULONG, Arg, Call, at_exit, p_buf, p_flags, p_xval, pid_text
from .fdio import fd_pair, iovecs
from .fmt import c_int, flags, ptr

AF_INET = L.ADDRESS_FAMILIES.value("AF_INET")
AF_INET6 = L.ADDRESS_FAMILIES.value("AF_INET6")
AF_NETLINK = L.ADDRESS_FAMILIES.value("AF_NETLINK")
TYPE_MASK = 0xF


def _socket_type(value: int) -> str:
    kind = L.SOCKET_TYPES.name(value & TYPE_MASK) or f"{value & TYPE_MASK:#x} /* SOCK_??? */"
    rest = value & ~TYPE_MASK
    return kind if not rest else f"{kind}|{flags(L.SOCKET_FLAGS, rest)}"


def _socket(c: Call, i: int) -> str:
    domain = c_int(c.arg(0))
    proto = c_int(c.arg(2))
    if domain in (AF_INET, AF_INET6):
        proto_text = L.IPPROTOS.name(proto) or str(proto)
    elif domain == AF_NETLINK:
        proto_text = L.NETLINK_PROTOCOLS.name(proto) or str(proto)
    else:
        proto_text = str(proto)
    family = L.ADDRESS_FAMILIES.name(domain) or f"{domain:#x} /* AF_??? */"
    return f"{family}, {_socket_type(c.arg(1) & 0xFFFFFFFF)}, {proto_text}"


def _int_at(data: bytes | None) -> int | None:
    return _struct.unpack_from("<i", data)[0] if data is not None and len(data) >= 4 else None


def _sockaddr_in(c: Call, i: int) -> str:
    """decode_sockaddr of an address read in, its length the next argument."""
    addrlen = c_int(c.arg(i + 1))
    data = c.struct(i, "sockaddr", exit=False)
    if addrlen < 2 or data is None or len(data) < min(addrlen, SA.SOCKADDR_STORAGE):
        return ptr(c.arg(i))
    return SA.sockaddr_text(data, addrlen, c.fd_text, lambda pid: pid_text(c, pid))


def _socklens(c: Call, i: int) -> tuple[int | None, int | None]:
    """The socklen given (entry) and the one returned (exit) through argument ``i + 1``."""
    ulen = _int_at(c.struct(i + 1, "int", exit=False))
    rlen = _int_at(c.struct(i + 1, "int")) if c.ok else None
    return ulen, rlen


def _sockaddr_out(c: Call, i: int) -> str:
    """decode_sockname's address: min(given, returned) bytes of it."""
    addr = c.arg(i)
    ulen, rlen = _socklens(c, i)
    if not addr or not c.arg(i + 1) or ulen is None or rlen is None:
        return ptr(addr)
    addrlen = min(ulen, rlen)
    data = c.struct(i, "sockaddr")
    if addrlen < 2 or data is None or len(data) < min(addrlen, SA.SOCKADDR_STORAGE):
        return ptr(addr)
    return SA.sockaddr_text(data, addrlen, c.fd_text, lambda pid: pid_text(c, pid))


def _len_inout(c: Call, i: int) -> str:
    """[110 => 16]: the length given and the length the kernel wrote back."""
    ulen, rlen = _socklens(c, i - 1)
    if not c.arg(i - 1) or ulen is None:
        return ptr(c.arg(i))
    if rlen is None or rlen == ulen:
        return f"[{ulen}]"
    return f"[{ulen} => {rlen}]"


def _namelen(c: Call, i: int, after: dict) -> str:
    """recvmsg's ``128 => 16``: the msg_namelen given (entry msghdr) and the one returned."""
    given = S.fixed("msghdr", c.struct(i, "msghdr", exit=False) or b"")
    if given is None or given["msg_namelen"] == after["msg_namelen"]:
        return str(after["msg_namelen"])
    return f"{given['msg_namelen']} => {after['msg_namelen']}"


def _msg_name(c: Call, i: int, f: dict, exit: bool) -> str:
    """decode_sockaddr of msg_name: msg_namelen bytes (at exit, no more than were given)."""
    namelen = c_int(f["msg_namelen"])
    if exit:
        given = S.fixed("msghdr", c.struct(i, "msghdr", exit=False) or b"")
        if given is not None:
            namelen = min(namelen, c_int(given["msg_namelen"]))
    data = c.struct(i, "sockaddr", exit=exit) if f["msg_name"] else None
    if namelen < 2 or data is None or len(data) < min(namelen, SA.SOCKADDR_STORAGE):
        return ptr(f["msg_name"])
    return SA.sockaddr_text(data, namelen, c.fd_text, lambda pid: pid_text(c, pid))


def _msghdr(exit: bool):
    """{msg_name=.., msg_namelen=.., msg_iov=[..], msg_iovlen=.., msg_controllen=.., msg_flags=..}."""
    def render(c: Call, i: int) -> str:
        if exit and c.returned and not c.ok:
            # recvmsg failed: the msg_namelen it was given (read at entry)
            given = S.fixed("msghdr", c.struct(i, "msghdr", exit=False) or b"")
            if given is None or not c.verbose:
                return ptr(c.arg(i))
            return f"{{msg_namelen={c_int(given['msg_namelen'])}}}"
        f = S.fixed("msghdr", c.struct(i, "msghdr", exit=exit) or b"")
        if f is None or (exit and not c.ok):
            return ptr(c.arg(i))
        iov = iovecs(c, i, exit=exit)
        parts = [f"msg_name={_msg_name(c, i, f, exit)}",
                 f"msg_namelen={_namelen(c, i, f) if exit else f['msg_namelen']}",
                 f"msg_iov={iov if iov is not None else ptr(f['msg_iov'])}",
                 f"msg_iovlen={f['msg_iovlen']}"]
        if f["msg_controllen"]:
            parts.append(f"msg_control={ptr(f['msg_control'])}")
        parts += [f"msg_controllen={f['msg_controllen']}",
                  f"msg_flags={flags(L.MSG_FLAGS, f['msg_flags'] & 0xFFFFFFFF)}"]
        return "{" + ", ".join(parts) + "}"
    return render


def _mmsgvec(c: Call, i: int) -> str:
    """sendmmsg/recvmmsg's msgvec: the address (the messages behind it are not recorded)."""
    return ptr(c.arg(i))


def _mmsg_timeout(c: Call, i: int) -> str:
    """recvmmsg's timeout as it was at entry."""
    data = c.struct(i, "timespec", exit=False)
    return T.timespec_text(data) if data is not None and c.verbose else ptr(c.arg(i))


def recvmmsg_result(c: Call, text: str) -> str:
    """``0 (Timeout)``, ``1 (left {tv_sec=0, tv_nsec=..})``: the timeout left at exit."""
    if c.retval == 0:
        return f"{text} (Timeout)"
    if not c.verbose or not c.arg(4):
        return text
    before, after = c.struct(4, "timespec", exit=False), c.struct(4, "timespec")
    if after is None or after is before:
        return text
    return f"{text} (left {T.timespec_text(after)})"


def _netlink_protocol(c: Call, fd: int) -> int | None:
    """The protocol of a netlink socket open on ``fd`` (None: not one we know of)."""
    files = getattr(c, "files", None)
    kind = files.fds.get(fd) if files is not None else None
    if isinstance(kind, Socket) and kind.domain == AF_NETLINK:
        return kind.protocol
    return None


def _sockbuf(c: Call, i: int) -> str:
    """decode_sockbuf: the data sent, as netlink messages on a netlink socket.
    A failed call's buffer is its STRU buf: what could be read of it, shorter
    than the length when the rest was not readable (EFAULT), which strace shows
    by the address of what it could not read."""
    rec = c.gio(i)
    data = rec.data[:c.arg(i + 1)] if rec is not None else c.struct(i, "buf")
    if data is None:
        # nothing was recorded; an empty buffer strace reads all the same
        return '""' if c.arg(i) and not c.arg(i + 1) else ptr(c.arg(i))
    if rec is None:
        data = short_read(data, c.arg(i), c.arg(i + 1))
    protocol = _netlink_protocol(c, c_int(c.arg(0)))
    if protocol is None:
        return readable_str(data, c.opts)
    return netlink_text(data, protocol, c.opts, lambda pid: pid_text(c, pid))


def _sockbuf_out(c: Call, i: int) -> str:
    """recvfrom's buffer: what was read, as netlink messages on a netlink socket."""
    rec = c.gio(i)
    protocol = _netlink_protocol(c, c_int(c.arg(0)))
    if rec is None or not c.ok or protocol is None:
        return p_buf(c, i) if c.ok else ptr(c.arg(i))
    return netlink_text(rec.data[:c.arg(i + 1)], protocol, c.opts, lambda pid: pid_text(c, pid))


MSG = Arg(p_flags(L.MSG_FLAGS, "MSG_???"))
MMSGVEC = Arg(_mmsgvec, exit=lambda c: c.verbose)
RESULTS = {"recvmmsg": recvmmsg_result}
ADDR_IN, ADDR_OUT, LEN_INOUT = Arg(_sockaddr_in), at_exit(_sockaddr_out), at_exit(_len_inout)

SYSCALLS = {
    "socket": (Arg(_socket),),
    "socketpair": (Arg(_socket), None, None, at_exit(fd_pair)),
    "connect": (FD, ADDR_IN, INT), "bind": (FD, ADDR_IN, INT),
    "listen": (FD, INT),
    "accept": (FD, ADDR_OUT, LEN_INOUT),
    "accept4": (FD, ADDR_OUT, LEN_INOUT, Arg(p_flags(L.SOCKET_FLAGS, "SOCK_???"))),
    "getsockname": (FD, ADDR_OUT, LEN_INOUT), "getpeername": (FD, ADDR_OUT, LEN_INOUT),
    "sendto": (FD, Arg(_sockbuf), ULONG, MSG, ADDR_IN, INT),
    "recvfrom": (FD, at_exit(_sockbuf_out), ULONG, MSG, ADDR_OUT, LEN_INOUT),
    "sendmsg": (FD, Arg(_msghdr(False)), MSG), "recvmsg": (FD, at_exit(_msghdr(True)), MSG),
    "sendmmsg": (FD, MMSGVEC, UINT, MSG),
    "recvmmsg": (FD, MMSGVEC, UINT, MSG, Arg(_mmsg_timeout)),
    "shutdown": (FD, Arg(p_xval(L.SHUTDOWN_HOW, "SHUT_???"))),
    "setsockopt": (FD, Arg(lambda c, i: sockopt.option_name(c, i, False)), None,
                   Arg(sockopt.set_value), INT),
    "getsockopt": (FD, Arg(lambda c, i: sockopt.option_name(c, i, True)), None,
                   at_exit(sockopt.get_value), at_exit(sockopt.optlen_in)),
}

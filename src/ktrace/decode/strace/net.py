"""Sockets."""

from __future__ import annotations

from .. import structs as S
from ..xlat import LINUX as L
from . import structs as T
from .call import FD, INT, RBUF, ULONG, WBUF, Arg, Call, at_exit, p_flags, p_xval
from .fdio import fd_pair, iovecs
from .fmt import c_int, flags, printstr, ptr, xval

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


def _sockaddr_in(c: Call, i: int) -> str:
    data = c.struct(i, "sockaddr", exit=False)
    return T.sockaddr_text(data) if data is not None else ptr(c.arg(i))


def _sockaddr_out(c: Call, i: int) -> str:
    data = c.struct(i, "sockaddr")
    return T.sockaddr_text(data) if c.ok and data is not None else ptr(c.arg(i))


def _len_inout(c: Call, i: int) -> str:
    """[110 => 16]: the length given and the length the kernel wrote back."""
    before = c.struct(i, "int", exit=False)
    after = c.struct(i, "int") if c.ok else None
    if before is None:
        return ptr(c.arg(i))
    b = S.fixed("int", before)["value"]
    if after is None or after is before:
        return f"[{b}]"
    a = S.fixed("int", after)["value"]
    return f"[{b}]" if a == b else f"[{b} => {a}]"


# a level's option names and strace's word for an unknown one
SOCKOPT_NAMES = {L.SOCKOPT_LEVELS.value("SOL_SOCKET"): (L.SOL_SOCKET_OPTS, "SO_???"),
                 L.SOCKOPT_LEVELS.value("SOL_TCP"): (L.TCP_OPTS, "TCP_???"),
                 L.SOCKOPT_LEVELS.value("SOL_IP"): (L.IP_OPTS, "IP_???"),
                 L.SOCKOPT_LEVELS.value("SOL_IPV6"): (L.IPV6_OPTS, "IPV6_???")}


def _sockopt_name(c: Call, i: int) -> str:
    level = c.arg(1) & 0xFFFFFFFF
    name = c.arg(2) & 0xFFFFFFFF
    level_text = xval(L.SOCKOPT_LEVELS, level, "SOL_??")
    if level not in SOCKOPT_NAMES:
        return f"{level_text}, {name}"
    table, unknown = SOCKOPT_NAMES[level]
    return f"{level_text}, {xval(table, name, unknown)}"


def _optval(exit: bool):
    def render(c: Call, i: int) -> str:
        data = c.struct(i, "bytes", exit=exit)
        if data is None or (exit and not c.ok):
            return ptr(c.arg(i))
        if len(data) == 4:
            return f"[{S.fixed('int', data)['value']}]"
        # getsockopt's value of another length: its bytes, in hex (print_getsockopt)
        return printstr(data, c.opts, force_hex=exit)
    return render


def _namelen(c: Call, i: int, after: dict) -> str:
    """recvmsg's ``128 => 16``: the msg_namelen given (entry msghdr) and the one returned."""
    given = S.fixed("msghdr", c.struct(i, "msghdr", exit=False) or b"")
    if given is None or given["msg_namelen"] == after["msg_namelen"]:
        return str(after["msg_namelen"])
    return f"{given['msg_namelen']} => {after['msg_namelen']}"


def _msghdr(exit: bool):
    """{msg_name=.., msg_namelen=.., msg_iov=[..], msg_iovlen=.., msg_controllen=.., msg_flags=..}."""
    def render(c: Call, i: int) -> str:
        f = S.fixed("msghdr", c.struct(i, "msghdr", exit=exit) or b"")
        if f is None or (exit and not c.ok):
            return ptr(c.arg(i))
        name = c.struct(i, "sockaddr", exit=exit) if f["msg_name"] else None
        iov = iovecs(c, i, exit=exit)
        parts = [f"msg_name={T.sockaddr_text(name) if name is not None else ptr(f['msg_name'])}",
                 f"msg_namelen={_namelen(c, i, f) if exit else f['msg_namelen']}",
                 f"msg_iov={iov if iov is not None else ptr(f['msg_iov'])}",
                 f"msg_iovlen={f['msg_iovlen']}"]
        if f["msg_controllen"]:
            parts.append(f"msg_control={ptr(f['msg_control'])}")
        parts += [f"msg_controllen={f['msg_controllen']}",
                  f"msg_flags={flags(L.MSG_FLAGS, f['msg_flags'] & 0xFFFFFFFF)}"]
        return "{" + ", ".join(parts) + "}"
    return render


MSG = Arg(p_flags(L.MSG_FLAGS, "MSG_???"))
ADDR_IN, ADDR_OUT, LEN_INOUT = Arg(_sockaddr_in), at_exit(_sockaddr_out), at_exit(_len_inout)

SYSCALLS = {
    "socket": (Arg(_socket),),
    "socketpair": (Arg(_socket), None, None, at_exit(fd_pair)),
    "connect": (FD, ADDR_IN, INT), "bind": (FD, ADDR_IN, INT),
    "listen": (FD, INT),
    "accept": (FD, ADDR_OUT, LEN_INOUT),
    "accept4": (FD, ADDR_OUT, LEN_INOUT, Arg(p_flags(L.SOCKET_FLAGS, "SOCK_???"))),
    "getsockname": (FD, ADDR_OUT, LEN_INOUT), "getpeername": (FD, ADDR_OUT, LEN_INOUT),
    "sendto": (FD, WBUF, ULONG, MSG, ADDR_IN, INT),
    "recvfrom": (FD, RBUF, ULONG, MSG, ADDR_OUT, LEN_INOUT),
    "sendmsg": (FD, Arg(_msghdr(False)), MSG), "recvmsg": (FD, at_exit(_msghdr(True)), MSG),
    "shutdown": (FD, Arg(p_xval(L.SHUTDOWN_HOW, "SHUT_???"))),
    "setsockopt": (FD, Arg(_sockopt_name), None, Arg(_optval(False)), INT),
    "getsockopt": (FD, Arg(_sockopt_name), None, at_exit(_optval(True)), LEN_INOUT),
}

"""Sockets."""

from __future__ import annotations

import struct as _struct

from ... import record as r
from ...abi import linux_plan as plan
from ...abi import linux_structs as LS
from .. import structs as S
from ..xlat import LINUX as L
from . import sockaddr as SA
from . import sockopt
from .files import Socket
from .netlink import netlink_text
from .nlattr import Located, readable_str, short_read
from . import structs as T
from .cmsg import msg_control_text
from .call import FD, INT, UINT, ULONG, Arg, Call, at_exit, p_buf, p_flags, p_xval, pid_text
from .fdio import fd_pair, iovec_items, iovec_texts, print_array
from .fmt import array, c_int, flags, ptr

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


def _namelen(f: dict, given: int | None) -> str:
    """recvmsg's ``128 => 16``: the msg_namelen given and the one returned."""
    if given is None or given == f["msg_namelen"]:
        return str(f["msg_namelen"])
    return f"{given} => {f['msg_namelen']}"


def _msg_name(c: Call, f: dict, data: bytes | None, given: int | None) -> str:
    """decode_sockaddr of msg_name: msg_namelen bytes (no more than were given)."""
    namelen = c_int(f["msg_namelen"])
    if given is not None:
        namelen = min(namelen, c_int(given))
    if not f["msg_name"] or namelen < 2 or data is None or \
            len(data) < min(namelen, SA.SOCKADDR_STORAGE):
        return ptr(f["msg_name"])
    return SA.sockaddr_text(data, namelen, c.fd_text, lambda pid: pid_text(c, pid))


def msghdr_text(c: Call, f: dict, given: int | None, name: bytes | None,
                iovs: list[str] | None, control: bytes | None) -> str:
    """print_struct_msghdr of the msghdr ``f`` and what its pointers held (None:
    not recorded): {msg_name=.., msg_namelen=.., msg_iov=[..], msg_iovlen=..,
    msg_control=[..], msg_controllen=.., msg_flags=..}; ``given``: recvmsg's
    msg_namelen before the call."""
    parts = [f"msg_name={_msg_name(c, f, name, given)}",
             f"msg_namelen={_namelen(f, given)}",
             f"msg_iov={array(iter(iovs), c.opts) if iovs is not None else ptr(f['msg_iov'])}",
             f"msg_iovlen={f['msg_iovlen']}"]
    if f["msg_controllen"]:
        parts.append("msg_control=" + msg_control_text(
            c, f["msg_control"], f["msg_controllen"], control if f["msg_control"] else None))
    parts += [f"msg_controllen={f['msg_controllen']}",
              f"msg_flags={flags(L.MSG_FLAGS, f['msg_flags'] & 0xFFFFFFFF)}"]
    return "{" + ", ".join(parts) + "}"


def _msghdr(exit: bool):
    """sendmsg's msghdr (at entry) and recvmsg's (at exit)."""
    def render(c: Call, i: int) -> str:
        given = S.fixed("msghdr", c.struct(i, "msghdr", exit=False) or b"") if exit else None
        if exit and c.returned and not c.ok:
            # recvmsg failed: the msg_namelen it was given (read at entry)
            if given is None or not c.verbose:
                return ptr(c.arg(i))
            return f"{{msg_namelen={c_int(given['msg_namelen'])}}}"
        f = S.fixed("msghdr", c.struct(i, "msghdr", exit=exit) or b"")
        if f is None or (exit and not c.ok):
            return ptr(c.arg(i))
        return msghdr_text(c, f, given["msg_namelen"] if given is not None else None,
                           c.struct(i, "sockaddr", exit=exit), iovec_items(c, i, exit=exit),
                           c.struct(i, "cmsghdr", exit=exit))
    return render


MMSGHDR_SIZE = LS.MSGHDR.size + 8        # struct mmsghdr: a msghdr, msg_len, padding
IOV_MAX = 1024              # the messages decode_mmsgvec prints at most
_IOV_DATA = plan.IOV_DATA.encode()


def _mmsghdrs(rec) -> list[tuple[dict, int]]:
    """The (msghdr fields, msg_len) of each whole mmsghdr of a STRUCT_ARRAY."""
    if rec is None or rec.struct_size != MMSGHDR_SIZE:
        return []
    data = rec.data
    return [(S.fixed("msghdr", data, at), LS.U32.unpack_from(data, at + LS.MSGHDR.size)[0])
            for at in range(0, len(data) - MMSGHDR_SIZE + 1, MMSGHDR_SIZE)]


def mmsg_messages(c: Call, i: int) -> tuple[list, list, list[list]]:
    """sendmmsg's or recvmmsg's records (linux_plan's doc): the mmsghdrs given
    (entry), those moved (exit), and the records of each message moved (a
    failed sendmmsg's: given), each message's ending with its data (GIO, STRU
    iovdata)."""
    arrays = [rec for rec in c.records.get(i, ())
              if rec.header.type == r.STRUCT_ARRAY and rec.name == b"mmsghdr"]
    given = _mmsghdrs(arrays[0]) if arrays else []
    moved = _mmsghdrs(arrays[-1]) if c.ok and arrays else []
    messages: list[list] = [[]]
    for rec in c.records.get(i, ())[len(arrays):]:
        messages[-1].append(rec)
        if _iov_data(rec):
            messages.append([])
    return given, moved, [m for m in messages if m]


def _iov_data(rec) -> bool:
    """Is ``rec`` the data of a message's iovecs: moved (GIO) or given (STRU iovdata)?"""
    return rec.header.type == r.GENIO or type(rec) is r.Struct and rec.name == _IOV_DATA


def _part(recs: list, rtype: int, name: bytes | None = None):
    return next((rec for rec in recs if rec.header.type == rtype
                 and (name is None or rec.name == name)), None)


def _mmsghdr_text(c: Call, f: dict, msg_len: int | None, given: int | None,
                  recs: list) -> str:
    """print_struct_mmsghdr: {msg_hdr={..}, msg_len=N}."""
    name, control, handed = (_part(recs, r.STRUCT, n)
                             for n in (b"sockaddr", b"cmsghdr", _IOV_DATA))
    moved = _part(recs, r.GENIO)
    data = moved or handed
    iovs = iovec_texts(c, _part(recs, r.STRUCT_ARRAY, b"iovec"),
                       data.data if data is not None else None, given=moved is None)
    text = "{msg_hdr=" + msghdr_text(c, f, given, name.data if name else None, iovs,
                                     control.data if control else None)
    return text + (f", msg_len={msg_len}}}" if msg_len is not None else "}")


def _mmsgvec(c: Call, i: int) -> str:
    """decode_mmsgvec: sendmmsg's messages (msg_len of those sent), recvmmsg's
    received (each one's msg_namelen given, its data up to msg_len); the
    address unless -v (strace prints it at entry then)."""
    addr = c.arg(i)
    if not c.verbose or (c.name == "recvmmsg" and not c.ok):
        return ptr(addr)
    given, moved, messages = mmsg_messages(c, i)
    if c.name == "sendmmsg":
        nmemb, shown = c.arg(2) & 0xFFFFFFFF, moved + given[len(moved):]
        names = [None] * len(shown)
    else:
        nmemb, shown = c.retval, moved
        names = [f["msg_namelen"] for f, _ in given] + [None] * len(shown)
    sent = len(moved)
    items = [_mmsghdr_text(c, f, msg_len if k < sent else None, names[k],
                           messages[k] if k < len(messages) else [])
             for k, (f, msg_len) in enumerate(shown)]
    return print_array(c, addr, nmemb, items, MMSGHDR_SIZE, most=IOV_MAX)


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
    data = short_read(data, c.arg(i), c.arg(i + 1)) if rec is None else Located(data, c.arg(i))
    protocol = _netlink_protocol(c, c_int(c.arg(0)))
    if protocol is None:
        return readable_str(data, c.opts)
    return netlink_text(data, protocol, c.opts, lambda pid: pid_text(c, pid), c.fd_text,
                        c.abbrev)


def _sockbuf_out(c: Call, i: int) -> str:
    """recvfrom's buffer: what was read, as netlink messages on a netlink socket."""
    rec = c.gio(i)
    protocol = _netlink_protocol(c, c_int(c.arg(0)))
    if rec is None or not c.ok or protocol is None:
        return p_buf(c, i) if c.ok else ptr(c.arg(i))
    return netlink_text(Located(rec.data[:c.arg(i + 1)], c.arg(i)), protocol, c.opts,
                        lambda pid: pid_text(c, pid), c.fd_text, c.abbrev)


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

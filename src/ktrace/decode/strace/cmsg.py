"""A msghdr's control data (msg_control) as strace 6.1 prints it (msghdr.c's
decode_msg_control).

The engines record msg_control's bytes as ``STRU cmsghdr`` (linux_plan's doc):
msg_controllen of them, or fewer when capped, and strace's ``...`` then follows
the messages.  Each control message prints its header, then its data by a
printer of its level and type, when the data is at least the printer's
minimum length.
"""

from __future__ import annotations

import struct as _struct

from ..xlat import LINUX as L, Xlat
from . import sockaddr as SA
from . import structs as T
from .call import Call, pid_text, uid_text
from .fmt import hexval, ptr, quote, xval
from .ioctls import local_array

CMSGHDR = _struct.Struct("<Qii")       # cmsg_len, cmsg_level, cmsg_type
ALIGN = 8                              # CMSG_ALIGN: the kernel's long
TIMESPEC_SIZE = 16                     # a timeval and a timespec on x86-64
UCRED = _struct.Struct("<iII")         # pid, uid, gid
IN_PKTINFO = _struct.Struct("<i4s4s")  # ipi_ifindex, ipi_spec_dst, ipi_addr
SOCK_EE = _struct.Struct("<IBBBxII")   # struct sock_extended_err, a sockaddr_in after it
SOCKADDR_IN_SIZE = 16

SOL_SOCKET = L.SOCKOPT_LEVELS.value("SOL_SOCKET")
SOL_IP = L.SOCKOPT_LEVELS.value("SOL_IP")
SO_ = {n: v for v, n in L.SOL_SOCKET_OPTS.entries}
IP_ = {n: v for v, n in L.IP_OPTS.entries}
SCM_RIGHTS, SCM_CREDENTIALS, SCM_SECURITY = 1, 2, 3

# strace's xlat/scmvals and xlat/ip_cmsg_types (x86-64 values)
SCM_TYPES = Xlat([(SCM_RIGHTS, "SCM_RIGHTS"), (SCM_CREDENTIALS, "SCM_CREDENTIALS"),
                  (SCM_SECURITY, "SCM_SECURITY")]
                 + [(SO_[n], n) for n in (
                     "SO_WIFI_STATUS", "SO_TXTIME", "SO_TIMESTAMP_OLD", "SO_TIMESTAMPNS_OLD",
                     "SO_TIMESTAMPING_OLD", "SO_TIMESTAMP_NEW", "SO_TIMESTAMPNS_NEW",
                     "SO_TIMESTAMPING_NEW")]
                 + [(0x36, "SCM_TIMESTAMPING_OPT_STATS"), (0x3A, "SCM_TIMESTAMPING_PKTINFO")])
IP_CMSG_TYPES = Xlat([(IP_[n], n) for n in (
    "IP_TOS", "IP_TTL", "IP_RECVOPTS", "IP_RETOPTS", "IP_PKTINFO", "IP_RECVERR",
    "IP_ORIGDSTADDR", "IP_CHECKSUM")] + [(SCM_SECURITY, "SCM_SECURITY")])


def _words(data: bytes, kind: str) -> tuple:
    return _struct.unpack_from(f"<{len(data) // 4}{kind}", data)


def _rights(c: Call, data: bytes) -> str:
    return local_array((c.fd_text(fd) for fd in _words(data, "i")), c)


def _creds(c: Call, data: bytes) -> str:
    pid, uid, gid = UCRED.unpack_from(data)
    return f"{{pid={pid_text(c, pid)}, uid={uid_text(uid)}, gid={uid_text(gid)}}}"


def _security(c: Call, data: bytes) -> str:
    return quote(data, c.opts.xflag)


def _timeval(c: Call, data: bytes) -> str:
    return T.timeval_text(data) if len(data) >= TIMESPEC_SIZE else "???"


def _timespec(c: Call, data: bytes) -> str:
    return T.timespec_text(data) if len(data) >= TIMESPEC_SIZE else "???"


def _timespecs(c: Call, data: bytes) -> str:
    """SO_TIMESTAMPING's three timespecs, or ??? when fewer fit."""
    if len(data) < 3 * TIMESPEC_SIZE:
        return "???"
    return "[" + ", ".join(T.timespec_text(data[k:k + TIMESPEC_SIZE])
                           for k in range(0, 3 * TIMESPEC_SIZE, TIMESPEC_SIZE)) + "]"


def _pktinfo(c: Call, data: bytes) -> str:
    index, spec_dst, addr = IN_PKTINFO.unpack_from(data)
    return (f"{{ipi_ifindex={SA.ifindex_text(index)}, {SA.inet_addr('ipi_spec_dst', spec_dst)}, "
            f"{SA.inet_addr('ipi_addr', addr)}}}")


def _uints(c: Call, data: bytes) -> str:
    return local_array(map(str, _words(data, "I")), c)


def _bytes(c: Call, data: bytes) -> str:
    return local_array(map(hexval, data), c)


def _sockaddr(c: Call, data: bytes) -> str:
    return SA.sockaddr_text(data, len(data), c.fd_text, lambda pid: pid_text(c, pid))


def _recverr(c: Call, data: bytes) -> str:
    errno, origin, ee_type, code, info, ee_data = SOCK_EE.unpack_from(data)
    offender = data[SOCK_EE.size:SOCK_EE.size + SOCKADDR_IN_SIZE]
    return (f"{{ee_errno={errno}, ee_origin={origin}, ee_type={ee_type}, ee_code={code}, "
            f"ee_info={info}, ee_data={ee_data}, offender={_sockaddr(c, offender)}}}")


def _origdstaddr(c: Call, data: bytes) -> str:
    return _sockaddr(c, data[:SA.SOCKADDR_STORAGE])


# level -> (its types, strace's word for an unknown one, {type: (printer, least data)})
LEVELS = {
    SOL_SOCKET: (SCM_TYPES, "SCM_???", {
        SCM_RIGHTS: (_rights, 4), SCM_CREDENTIALS: (_creds, UCRED.size),
        SCM_SECURITY: (_security, 1),
        SO_["SO_TIMESTAMP_OLD"]: (_timeval, 1), SO_["SO_TIMESTAMPNS_OLD"]: (_timespec, 1),
        SO_["SO_TIMESTAMPING_OLD"]: (_timespecs, 1), SO_["SO_TIMESTAMP_NEW"]: (_timeval, 1),
        SO_["SO_TIMESTAMPNS_NEW"]: (_timespec, 1), SO_["SO_TIMESTAMPING_NEW"]: (_timespecs, 1)}),
    SOL_IP: (IP_CMSG_TYPES, "IP_???", {
        IP_["IP_PKTINFO"]: (_pktinfo, IN_PKTINFO.size), IP_["IP_TTL"]: (_uints, 4),
        IP_["IP_TOS"]: (_bytes, 1), IP_["IP_RECVOPTS"]: (_bytes, 1),
        IP_["IP_RETOPTS"]: (_bytes, 1),
        IP_["IP_RECVERR"]: (_recverr, SOCK_EE.size + SOCKADDR_IN_SIZE),
        IP_["IP_ORIGDSTADDR"]: (_origdstaddr, SOCKADDR_IN_SIZE),
        IP_["IP_CHECKSUM"]: (_uints, 4), SCM_SECURITY: (_security, 1)}),
}


def _cmsg(c: Call, length: int, level: int, kind: int, data: bytes) -> str:
    """One control message: ``{cmsg_len=.., cmsg_level=.., cmsg_type=.., cmsg_data=..}``."""
    level &= 0xFFFFFFFF
    kind &= 0xFFFFFFFF
    text = f"{{cmsg_len={length}, cmsg_level={xval(L.SOCKOPT_LEVELS, level, 'SOL_???')}"
    if level not in LEVELS:
        return f"{text}, cmsg_type={hexval(kind)}}}"
    types, unknown, printers = LEVELS[level]
    text += f", cmsg_type={xval(types, kind, unknown)}"
    printer, least = printers.get(kind, (None, 0))
    if printer is not None and len(data) >= least:
        text += f", cmsg_data={printer(c, data)}"
    return text + "}"


def passed_fds(data: bytes | None) -> list[int]:
    """The descriptors of the SCM_RIGHTS messages in recorded control data."""
    fds: list[int] = []
    at = 0
    while data is not None and len(data) - at >= CMSGHDR.size:
        length, level, kind = CMSGHDR.unpack_from(data, at)
        if length < CMSGHDR.size:
            break
        if level == SOL_SOCKET and kind == SCM_RIGHTS:
            fds += _words(data[at + CMSGHDR.size:at + length], "i")
        at += (length + ALIGN - 1) & ~(ALIGN - 1)
    return fds


def msg_control_text(c: Call, addr: int, controllen: int, data: bytes | None) -> str:
    """decode_msg_control: the messages in ``data`` (msg_control's recorded
    bytes, ``controllen`` given), ``... /* ADDR */`` after the last whole one
    when bytes are left, ``...`` when fewer than ``controllen`` were recorded;
    the address when nothing (or less than a header) was."""
    if data is None or len(data) < CMSGHDR.size:
        return ptr(addr)
    items, at, left = [], 0, len(data)
    while left >= CMSGHDR.size:
        length, level, kind = CMSGHDR.unpack_from(data, at)
        seen = min(length, left)
        items.append(_cmsg(c, length, level, kind, data[at + CMSGHDR.size:at + seen]))
        if seen < CMSGHDR.size:
            left -= CMSGHDR.size
            break
        step = (length + ALIGN - 1) & ~(ALIGN - 1)
        if step >= left:
            left = 0
            break
        at += step
        left -= step
    if left:
        items.append(f"... /* {ptr(addr + len(data) - left)} */")
    elif len(data) < controllen:
        items.append("...")
    return "[" + ", ".join(items) + "]"

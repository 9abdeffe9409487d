"""Netlink messages as strace 6.1 prints them (netlink.c): the buffer a
process sent on a netlink socket.  Attributes are nlattr.py's, each
protocol's payloads its own module's (rtnetlink.py, sockdiag.py, nfnetlink.py).

:func:`netlink_text` takes the bytes recorded (sendto's GIO data, or a failed
call's STRU buf as a nlattr.ShortRead when only a prefix was readable) and the
socket's netlink protocol (``NETLINK_ROUTE``, ...; None when unknown) and
prints the messages in it; every decoder takes what was recorded and prints
what strace prints for the part it could not read (its address).
"""

from __future__ import annotations

import errno as _errno
import struct as _struct

from ..xlat import LINUX as L
from ..xlat import Xlat
from .fmt import StraceOptions, flags, hexval, named, xval
from .nlattr import (ABBREV, FD_TEXT, NLMSG_DONE, NLMSG_HDRLEN, ShortRead, address, align4, hexstr, items,
                     nla_cookie, nlattr_text, readable, readable_str, u32)
from . import nfnetlink
from .rtnetlink import RTM, route
from .sockdiag import sock_diag

NLMSG_MIN_TYPE = 0x10
NLMSG_ERROR = L.NLMSG_TYPES.value("NLMSG_ERROR")
NLM_F_CAPPED = L.NLM_ACK_FLAGS.value("NLM_F_CAPPED")

PROTO = {n: v for v, n in L.NETLINK_PROTOCOLS.entries}
XFRM = {n: v for v, n in L.NL_XFRM_TYPES.entries}

# GENL_ID_CTRL's family; strace asks the kernel for the rest
GENERIC_FAMILIES = Xlat([(0x10, "nlctrl")])

# a protocol's message types and strace's word for an unknown one (or the
# function that spells its types)
MESSAGE_TYPES = {PROTO.get("NETLINK_AUDIT"): (L.NL_AUDIT_TYPES, "AUDIT_???"),
                 PROTO.get("NETLINK_GENERIC"): (GENERIC_FAMILIES, "GENERIC_FAMILY_???"),
                 PROTO.get("NETLINK_NETFILTER"): nfnetlink.message_type_text,
                 PROTO.get("NETLINK_ROUTE"): (L.NL_ROUTE_TYPES, "RTM_???"),
                 PROTO.get("NETLINK_SELINUX"): (L.NL_SELINUX_TYPES, "SELNL_MSG_???"),
                 PROTO.get("NETLINK_SOCK_DIAG"): (L.NL_SOCK_DIAG_TYPES, "SOCK_DIAG_???"),
                 PROTO.get("NETLINK_XFRM"): (L.NL_XFRM_TYPES, "XFRM_MSG_???")}

XFRM_FLAGS = {
    **{XFRM.get(n): L.NLM_NEW_FLAGS for n in ("XFRM_MSG_NEWSA", "XFRM_MSG_NEWPOLICY",
                                               "XFRM_MSG_NEWAE", "XFRM_MSG_NEWSADINFO",
                                               "XFRM_MSG_NEWSPDINFO")},
    **{XFRM.get(n): L.NLM_DELETE_FLAGS for n in ("XFRM_MSG_DELSA", "XFRM_MSG_DELPOLICY")},
    **{XFRM.get(n): L.NLM_GET_FLAGS for n in ("XFRM_MSG_GETSA", "XFRM_MSG_GETPOLICY",
                                               "XFRM_MSG_GETAE", "XFRM_MSG_GETSADINFO",
                                               "XFRM_MSG_GETSPDINFO")},
}


def _type_text(msg_type: int, protocol: int | None) -> str:
    table, unknown = L.NLMSG_TYPES, "NLMSG_???"
    if msg_type >= NLMSG_MIN_TYPE and protocol in MESSAGE_TYPES:
        if callable(MESSAGE_TYPES[protocol]):
            return MESSAGE_TYPES[protocol](msg_type)
        table, unknown = MESSAGE_TYPES[protocol]
    return xval(table, msg_type, unknown)


def _flag_table(msg_type: int, protocol: int | None) -> Xlat | None:
    """decode_nlmsg_flags: the type's own flags beside the common ones."""
    if msg_type < NLMSG_MIN_TYPE:
        return L.NLM_ACK_FLAGS if msg_type == NLMSG_ERROR else None
    if protocol == PROTO.get("NETLINK_ROUTE"):
        if msg_type == RTM.get("RTM_DELACTION"):
            return L.NLM_GET_FLAGS
        return {0: L.NLM_NEW_FLAGS, 1: L.NLM_DELETE_FLAGS, 2: L.NLM_GET_FLAGS}.get(msg_type & 3)
    if protocol == PROTO.get("NETLINK_SOCK_DIAG"):
        return L.NLM_GET_FLAGS
    if protocol == PROTO.get("NETLINK_XFRM"):
        return XFRM_FLAGS.get(msg_type)
    if protocol == PROTO.get("NETLINK_NETFILTER"):
        return nfnetlink.flag_table(msg_type)
    return None


def _header(data: bytes, protocol: int | None, pid_text=str) -> str:
    length, msg_type, msg_flags, seq, pid = _struct.unpack_from("<IHHIi", data)
    table = _flag_table(msg_type, protocol)
    both = L.NLM_FLAGS + table if table is not None else L.NLM_FLAGS
    return (f"{{nlmsg_len={length}, nlmsg_type={_type_text(msg_type, protocol)}, "
            f"nlmsg_flags={flags(both, msg_flags, '0', 'NLM_F_???')}, nlmsg_seq={seq}, "
            f"nlmsg_pid={pid_text(pid)}}}")


# a protocol's payload decoder: (type, flags, payload, options) -> text, or None
# for strace's fallback (the bytes in hex)


def _selinux(msg_type: int, msg_flags: int, body: bytes, opts: StraceOptions) -> str | None:
    """decode_netlink_selinux: selnl_msg_setenforce's int, selnl_msg_policyload's u32."""
    field = SELINUX_PAYLOADS.get(msg_type)
    if field is None:
        return None
    if len(body) < 4:
        return hexstr(body, opts)
    name, code = field
    return f"{{{name}={_struct.unpack_from(code, body)[0]}}}"


SELINUX_PAYLOADS = {L.NL_SELINUX_TYPES.value("SELNL_MSG_SETENFORCE"): ("val", "<i"),
                    L.NL_SELINUX_TYPES.value("SELNL_MSG_POLICYLOAD"): ("seqno", "<I")}

PAYLOAD_DECODERS = {PROTO.get("NETLINK_ROUTE"): route,
                    PROTO.get("NETLINK_SOCK_DIAG"): sock_diag,
                    PROTO.get("NETLINK_NETFILTER"): nfnetlink.netfilter,
                    PROTO.get("NETLINK_SELINUX"): _selinux}

# --- messages -----------------------------------------------------------------------


def _nlmsgerr(body: bytes, protocol: int | None, capped: bool, opts: StraceOptions,
              pid_text=str) -> str:
    if len(body) < 4 + NLMSG_HDRLEN:
        return hexstr(body, opts)
    err = _struct.unpack_from("<i", body)[0]
    inner = body[4:]
    inner_len = max(NLMSG_HDRLEN, u32(inner, 0))
    payload = min(len(inner), NLMSG_HDRLEN if capped else inner_len)
    text = f"{{error={_error(err)}, msg={_message(inner[:payload], protocol, opts, pid_text)}}}"
    if len(inner) > payload:
        attrs = nlattr_text(inner[payload:], opts, L.NLMSGERR_ATTRS, "NLMSGERR_ATTR_???",
                            {L.NLMSGERR_ATTRS.value("NLMSGERR_ATTR_COOKIE"): nla_cookie})
        return f"[{text}, {attrs}]"
    return text


def _error(err: int) -> str:
    """PRINT_FIELD_ERR_D: ``-EACCES`` (the number with -X raw)."""
    name = _errno.errorcode.get(-err) if err < 0 else None
    if name is None:
        return str(err)
    return named(f"-{name}", err, str(err))


def _payload(msg_type: int, msg_flags: int, body: bytes, protocol: int | None,
             opts: StraceOptions, pid_text=str) -> str:
    try:
        return _payload_text(msg_type, msg_flags, body, protocol, opts, pid_text)
    except (_struct.error, IndexError):
        if not isinstance(body, ShortRead):
            raise
        # umove_or_printaddr: the struct the payload starts with was not read
        return address(body)


def _payload_text(msg_type: int, msg_flags: int, body: bytes, protocol: int | None,
                  opts: StraceOptions, pid_text=str) -> str:
    if msg_type == NLMSG_ERROR:
        return _nlmsgerr(body, protocol, bool(msg_flags & NLM_F_CAPPED), opts, pid_text)
    if msg_type >= NLMSG_MIN_TYPE or msg_type == NLMSG_DONE:
        decoder = PAYLOAD_DECODERS.get(protocol)
        text = decoder(msg_type, msg_flags, body, opts) if decoder is not None else None
        if text is not None:
            return text
    if msg_type == NLMSG_DONE and len(body) == 4:
        return str(_struct.unpack_from("<i", body)[0])
    return hexstr(body, opts)


def _message(data: bytes, protocol: int | None, opts: StraceOptions, pid_text=str) -> str:
    """decode_nlmsghdr_with_payload: the header, and the payload after it in a list."""
    head = _header(data, protocol, pid_text)
    size = min(u32(data, 0), len(data))
    if size <= NLMSG_HDRLEN:
        return head
    msg_type, msg_flags = _struct.unpack_from("<HH", data, 4)
    body = data[NLMSG_HDRLEN:size]
    return f"[{head}, {_payload(msg_type, msg_flags, body, protocol, opts, pid_text)}]"


# udev_monitor_netlink_header: "libudev", then u32s, those marked True in
# network order
UDEV_HEADER = _struct.Struct("<8sIIIIIIII")
UDEV_FIELDS = (("magic", True), ("header_size", False), ("properties_off", False),
               ("properties_len", False), ("filter_subsystem_hash", True),
               ("filter_devtype_hash", True), ("filter_tag_bloom_hi", True),
               ("filter_tag_bloom_lo", True))


def _kobject_uevent(data: bytes, opts: StraceOptions) -> str:
    """decode_netlink_kobject_uevent: libudev's header and its properties, else a string."""
    if (len(data) < UDEV_HEADER.size or not readable(data, UDEV_HEADER.size)
            or not data.startswith(b"libudev\0")):
        return readable_str(data, opts)
    prefix, *values = UDEV_HEADER.unpack_from(data)
    parts = ['prefix="libudev"']
    for (name, network), value in zip(UDEV_FIELDS, values):
        if network:
            parts.append(f"{name}=htonl({hexval(int.from_bytes(value.to_bytes(4, 'little'), 'big'))})")
        else:
            parts.append(f"{name}={value}")
    text = "{" + ", ".join(parts) + "}"
    if len(data) > UDEV_HEADER.size:
        return f"[{text}, {readable_str(data[UDEV_HEADER.size:], opts)}]"
    return text


def netlink_text(data: bytes, protocol: int | None, opts: StraceOptions, pid_text=str,
                 fd_text=str, abbrev: bool = True) -> str:
    """decode_netlink: the messages in a buffer sent on a netlink socket;
    ``pid_text`` spells nlmsg_pid (--decode-pids=), ``fd_text`` a descriptor
    an attribute holds (-y), ``abbrev`` whether the call's structs print
    abbreviated.  ``data`` may be a ShortRead (the decoders print the address
    of what was not read) or Located."""
    if protocol == PROTO.get("NETLINK_KOBJECT_UEVENT"):
        return _kobject_uevent(data, opts)
    tokens = FD_TEXT.set(fd_text), ABBREV.set(abbrev)
    try:
        return items(opts, data, NLMSG_HDRLEN, align4,
                     lambda item: _message(item, protocol, opts, pid_text))
    finally:
        FD_TEXT.reset(tokens[0])
        ABBREV.reset(tokens[1])


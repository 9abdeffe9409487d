"""Netlink messages as strace 6.1 prints them (netlink.c, nlattr.c and the
rtnl_*.c decoders it has): the buffer a process sent on a netlink socket.

:func:`netlink_text` takes the bytes recorded (sendto's GIO data) and the
socket's netlink protocol (``NETLINK_ROUTE``, ...; None when unknown) and
prints the messages in it; every decoder takes what was recorded and prints
what strace prints for the part it could not read.
"""

from __future__ import annotations

import errno as _errno
import struct as _struct

from ..xlat import LINUX as L
from ..xlat import Xlat
from .fmt import StraceOptions, flags, named, printstr, quote, xval
from .sockaddr import ifindex_text, inet6_addr, inet_addr, net_port

NLMSG_HDRLEN = 16
NLA_HDRLEN = 4
NLMSG_MIN_TYPE = 0x10
NLMSG_ERROR = L.NLMSG_TYPES.value("NLMSG_ERROR")
NLMSG_DONE = L.NLMSG_TYPES.value("NLMSG_DONE")
NLM_F_CAPPED = L.NLM_ACK_FLAGS.value("NLM_F_CAPPED")
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 1 << 15, 1 << 14
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF

PROTO = {n: v for v, n in L.NETLINK_PROTOCOLS.entries}
RTM = {n: v for v, n in L.NL_ROUTE_TYPES.entries}
XFRM = {n: v for v, n in L.NL_XFRM_TYPES.entries}

# GENL_ID_CTRL's family; strace asks the kernel for the rest
GENERIC_FAMILIES = Xlat([(0x10, "nlctrl")])

# a protocol's message types and strace's word for an unknown one
MESSAGE_TYPES = {PROTO.get("NETLINK_AUDIT"): (L.NL_AUDIT_TYPES, "AUDIT_???"),
                 PROTO.get("NETLINK_GENERIC"): (GENERIC_FAMILIES, "GENERIC_FAMILY_???"),
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


def _u16(data: bytes, at: int) -> int:
    return _struct.unpack_from("<H", data, at)[0]


def _u32(data: bytes, at: int) -> int:
    return _struct.unpack_from("<I", data, at)[0]


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _hexstr(data: bytes, opts: StraceOptions) -> str:
    return printstr(data, opts, force_hex=True)


def _type_text(msg_type: int, protocol: int | None) -> str:
    table, unknown = L.NLMSG_TYPES, "NLMSG_???"
    if msg_type >= NLMSG_MIN_TYPE and protocol in MESSAGE_TYPES:
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
    return None


def _header(data: bytes, protocol: int | None, pid_text=str) -> str:
    length, msg_type, msg_flags, seq, pid = _struct.unpack_from("<IHHIi", data)
    table = _flag_table(msg_type, protocol)
    both = L.NLM_FLAGS + table if table is not None else L.NLM_FLAGS
    return (f"{{nlmsg_len={length}, nlmsg_type={_type_text(msg_type, protocol)}, "
            f"nlmsg_flags={flags(both, msg_flags, '0', 'NLM_F_???')}, nlmsg_seq={seq}, "
            f"nlmsg_pid={pid_text(pid)}}}")


def _items(opts: StraceOptions, data: bytes, min_len: int, align, one):
    """The loop of decode_netlink and decode_nlattr: items of ``data`` each
    ``one(item_data, rest)`` printed; a list when more than one follows."""
    parts: list[str] = []
    is_array = False
    elt = 0
    while True:
        if len(data) < min_len:
            parts.append(_hexstr(data, opts))
            break
        if elt == opts.strsize:
            parts.append("...")
            break
        length = _u32(data, 0) if min_len == NLMSG_HDRLEN else _u16(data, 0)
        step = align(length)
        rest = data[step:] if length >= min_len and len(data) > step else b""
        if rest and not is_array:
            is_array = True
        parts.append(one(data))
        if not rest:
            break
        data = rest
        elt += 1
    return "[" + ", ".join(parts) + "]" if is_array else ", ".join(parts)


# --- attributes ---------------------------------------------------------------------


def nlattr_text(data: bytes, opts: StraceOptions, table: Xlat, unknown: str,
                decoders: dict | None = None) -> str:
    """decode_nlattr: ``[{nla_len=8, nla_type=IFAL_ADDRESS}, "\\x61..."]``, a list of them."""
    decoders = decoders or {}

    def one(item: bytes) -> str:
        nla_len, nla_type = _struct.unpack_from("<HH", item)
        size = min(nla_len, len(item))
        kind = ""
        if nla_type & NLA_F_NESTED:
            kind += named("NLA_F_NESTED", NLA_F_NESTED) + "|"
        if nla_type & NLA_F_NET_BYTEORDER:
            kind += named("NLA_F_NET_BYTEORDER", NLA_F_NET_BYTEORDER) + "|"
        kind += xval(table, nla_type & NLA_TYPE_MASK, unknown)
        head = f"{{nla_len={nla_len}, nla_type={kind}}}"
        if size <= NLA_HDRLEN:
            return head
        body = item[NLA_HDRLEN:size]
        decoder = decoders.get(nla_type & NLA_TYPE_MASK)
        text = decoder(body, opts) if decoder is not None else None
        return f"[{head}, {text if text is not None else _hexstr(body, opts)}]"

    return _items(opts, data, NLA_HDRLEN, _align4, one)


def nla_u32(body: bytes, opts: StraceOptions) -> str | None:
    return str(_u32(body, 0)) if len(body) >= 4 else None


def nla_str(body: bytes, opts: StraceOptions) -> str:
    """decode_nla_str: a string whose trailing NUL is not shown."""
    end = body.find(b"\0")
    if end >= 0:
        return printstr(body[:end], opts)
    text = printstr(body, opts)
    return text if text.endswith("...") else text + "..."


def nla_flags(table: Xlat, unknown: str, size: int = 4):
    def decode(body: bytes, opts: StraceOptions) -> str | None:
        if len(body) > 8 or len(body) < size:
            return None
        value = int.from_bytes(body[:size], "little")
        return flags(table, value, "0", unknown)
    return decode


def nla_cookie(body: bytes, opts: StraceOptions) -> str:
    shown = [str(b) for b in body[:opts.strsize]]
    if len(body) > opts.strsize:
        shown.append("...")
    return "[" + ", ".join(shown) + "]"


# --- NETLINK_ROUTE ------------------------------------------------------------------


def _family(value: int) -> str:
    return xval(L.ADDRESS_FAMILIES, value, "AF_???")


def _with_attrs(struct_text: str, body: bytes, size: int, opts: StraceOptions,
                table: Xlat, unknown: str, decoders=None, decode: bool = True) -> str:
    """A message's fixed part and, past its aligned size, its attributes."""
    offset = _align4(size)
    if decode and len(body) > offset:
        return f"{struct_text}, {nlattr_text(body[offset:], opts, table, unknown, decoders)}"
    return struct_text


def _br_port_msg(body: bytes, opts: StraceOptions) -> str:
    if len(body) < 8:
        return f"{{family={_family(body[0])}, ...}}"
    text = f"{{family={_family(body[0])}, ifindex={ifindex_text(_u32(body, 4))}}}"
    return _with_attrs(text, body, 8, opts, L.MDB_ATTRS, "MDBA_???")


def _dcbmsg(body: bytes, opts: StraceOptions) -> str:
    if len(body) < 4:
        return f"{{dcb_family={_family(body[0])}, ...}}"
    text = f"{{dcb_family={_family(body[0])}, cmd={xval(L.DCB_COMMANDS, body[1], 'DCB_CMD_???')}}}"
    return _with_attrs(text, body, 4, opts, L.DCB_ATTRS, "DCB_ATTR_???")


def _ifaddrlblmsg(body: bytes, opts: StraceOptions) -> str:
    if len(body) < 12:
        return f"{{ifal_family={_family(body[0])}, ...}}"
    text = (f"{{ifal_family={_family(body[0])}, ifal_prefixlen={body[1]}, "
            f"ifal_flags={body[2]}, ifal_index={ifindex_text(_u32(body, 4))}, "
            f"ifal_seq={_u32(body, 8)}}}")
    return _with_attrs(text, body, 12, opts, L.ADDRLABEL_ATTRS, "IFAL_???")


def _family_only(field: str, table: Xlat, unknown: str, decoders=None):
    """Messages that are one family byte and attributes (netconfmsg, rtgenmsg, tcamsg)."""
    def decode(body: bytes, opts: StraceOptions) -> str:
        return _with_attrs(f"{{{field}={_family(body[0])}}}", body, 1, opts, table, unknown,
                           decoders)
    return decode


TCA_ACT = {n: v for v, n in L.TC_ACTION_ATTRS.entries}
TCA_ACT_DECODERS = {
    TCA_ACT["TCA_ACT_KIND"]: nla_str, TCA_ACT["TCA_ACT_INDEX"]: nla_u32,
    TCA_ACT["TCA_ACT_FLAGS"]: nla_flags(L.TCA_ACT_FLAGS, "TCA_ACT_FLAGS_???"),
    TCA_ACT["TCA_ACT_HW_STATS"]: nla_flags(L.TCA_ACT_HW_STATS, "TCA_ACT_HW_STATS_???"),
    TCA_ACT["TCA_ACT_USED_HW_STATS"]: nla_flags(L.TCA_ACT_HW_STATS, "TCA_ACT_HW_STATS_???"),
    TCA_ACT["TCA_ACT_IN_HW_COUNT"]: nla_u32,
}


def _route_decoders() -> dict:
    table = {}

    def put(names, decoder):
        for name in names.split():
            if name in RTM:
                table[RTM[name]] = decoder

    put("RTM_NEWMDB RTM_DELMDB RTM_GETMDB", _br_port_msg)
    put("RTM_GETDCB RTM_SETDCB", _dcbmsg)
    put("RTM_NEWADDRLABEL RTM_DELADDRLABEL RTM_GETADDRLABEL", _ifaddrlblmsg)
    put("RTM_NEWNETCONF RTM_DELNETCONF RTM_GETNETCONF",
        _family_only("ncm_family", L.NETCONF_ATTRS, "NETCONFA_???"))
    put("RTM_NEWNSID RTM_DELNSID RTM_GETNSID",
        _family_only("rtgen_family", L.NSID_ATTRS, "NETNSA_???"))
    put("RTM_NEWACTION RTM_DELACTION RTM_GETACTION",
        _family_only("tca_family", L.TC_ACTION_ATTRS, "TCA_ACT_???", TCA_ACT_DECODERS))
    return table


ROUTE_DECODERS = _route_decoders()


def _route(msg_type: int, body: bytes, opts: StraceOptions) -> str | None:
    """decode_netlink_route: the message of its type, else its family and data."""
    if msg_type == NLMSG_DONE:
        return None
    decoder = ROUTE_DECODERS.get(msg_type)
    if decoder is not None:
        return decoder(body, opts)
    text = f"{{family={_family(body[0])}"
    if len(body) > 1:
        text += f", data={_hexstr(body[1:], opts)}"
    return text + "}"


# --- NETLINK_SOCK_DIAG -------------------------------------------------------------

AF_INET = L.ADDRESS_FAMILIES.value("AF_INET")
AF_INET6 = L.ADDRESS_FAMILIES.value("AF_INET6")
NLM_F_REQUEST = L.NLM_FLAGS.value("NLM_F_REQUEST")
SOCK_DIAG = {n: v for v, n in L.NL_SOCK_DIAG_TYPES.entries}
# idiag_ext and idiag_states are bit sets of these numbers, as strace spells them
INET_DIAG_EXT_FLAGS = Xlat((1 << (v - 1), f"1<<({n}-1)") for v, n in L.INET_DIAG_EXTENSIONS.entries)
TCP_STATE_FLAGS = Xlat((1 << v, f"1<<{n}") for v, n in L.TCP_STATES.entries)


def _inet_addr(name: str, raw: bytes, family: int) -> str:
    """PRINT_FIELD_INET_ADDR of a 16-byte address field."""
    if family == AF_INET:
        return inet_addr(name, raw[:4])
    if family == AF_INET6:
        return inet6_addr(name, raw)
    return f"{name}={quote(raw, force_hex=True)}"


def _inet_diag_sockid(raw: bytes, family: int) -> str:
    cookie = _struct.unpack_from("<II", raw, 40)
    return (f"{{{net_port('idiag_sport', raw[0:2])}, {net_port('idiag_dport', raw[2:4])}, "
            f"{_inet_addr('idiag_src', raw[4:20], family)}, "
            f"{_inet_addr('idiag_dst', raw[20:36], family)}, "
            f"idiag_if={ifindex_text(_u32(raw, 36))}, idiag_cookie=[{cookie[0]}, {cookie[1]}]}}")


INET_DIAG_REQ_SIZE = 60


def _inet_diag_req_compat(body: bytes, opts: StraceOptions) -> str:
    family = body[0]
    if len(body) < INET_DIAG_REQ_SIZE:
        return f"{{idiag_family={_family(family)}, ...}}"
    states, dbs = _struct.unpack_from("<II", body, 52)
    text = (f"{{idiag_family={_family(family)}, idiag_src_len={body[1]}, "
            f"idiag_dst_len={body[2]}, "
            f"idiag_ext={flags(INET_DIAG_EXT_FLAGS, body[3], '0', '1<<INET_DIAG_???-1')}, "
            f"id={_inet_diag_sockid(body[4:52], family)}, "
            f"idiag_states={flags(TCP_STATE_FLAGS, states, '0', '1<<TCP_???')}, "
            f"idiag_dbs={dbs}}}")
    return _with_attrs(text, body, INET_DIAG_REQ_SIZE, opts, L.INET_DIAG_REQ_ATTRS,
                       "INET_DIAG_REQ_???")


def _sock_diag(msg_type: int, msg_flags: int, body: bytes, opts: StraceOptions) -> str | None:
    """decode_netlink_sock_diag: the requests decoded here, else the family and its data."""
    if msg_type == NLMSG_DONE:
        return None
    family = body[0]
    if (len(body) > 1 and msg_flags & NLM_F_REQUEST and family in (AF_INET, AF_INET6)
            and msg_type in (SOCK_DIAG.get("TCPDIAG_GETSOCK"), SOCK_DIAG.get("DCCPDIAG_GETSOCK"))):
        return _inet_diag_req_compat(body, opts)
    text = f"{{family={_family(family)}"
    if len(body) > 1:
        text += f", data={_hexstr(body[1:], opts)}"
    return text + "}"


PAYLOAD_DECODERS = {PROTO.get("NETLINK_ROUTE"): lambda t, f, b, o: _route(t, b, o),
                    PROTO.get("NETLINK_SOCK_DIAG"): _sock_diag}


# --- messages -----------------------------------------------------------------------


def _nlmsgerr(body: bytes, protocol: int | None, capped: bool, opts: StraceOptions,
              pid_text=str) -> str:
    if len(body) < 4 + NLMSG_HDRLEN:
        return _hexstr(body, opts)
    err = _struct.unpack_from("<i", body)[0]
    inner = body[4:]
    inner_len = max(NLMSG_HDRLEN, _u32(inner, 0))
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
    if msg_type == NLMSG_ERROR:
        return _nlmsgerr(body, protocol, bool(msg_flags & NLM_F_CAPPED), opts, pid_text)
    if msg_type >= NLMSG_MIN_TYPE or msg_type == NLMSG_DONE:
        decoder = PAYLOAD_DECODERS.get(protocol)
        text = decoder(msg_type, msg_flags, body, opts) if decoder is not None else None
        if text is not None:
            return text
    if msg_type == NLMSG_DONE and len(body) == 4:
        return str(_struct.unpack_from("<i", body)[0])
    return _hexstr(body, opts)


def _message(data: bytes, protocol: int | None, opts: StraceOptions, pid_text=str) -> str:
    """decode_nlmsghdr_with_payload: the header, and the payload after it in a list."""
    head = _header(data, protocol, pid_text)
    size = min(_u32(data, 0), len(data))
    if size <= NLMSG_HDRLEN:
        return head
    msg_type, msg_flags = _struct.unpack_from("<HH", data, 4)
    body = data[NLMSG_HDRLEN:size]
    return f"[{head}, {_payload(msg_type, msg_flags, body, protocol, opts, pid_text)}]"


def netlink_text(data: bytes, protocol: int | None, opts: StraceOptions, pid_text=str) -> str:
    """decode_netlink: the messages in a buffer sent on a netlink socket;
    ``pid_text`` spells nlmsg_pid (--decode-pids=)."""
    return _items(opts, data, NLMSG_HDRLEN, _align4,
                  lambda item: _message(item, protocol, opts, pid_text))


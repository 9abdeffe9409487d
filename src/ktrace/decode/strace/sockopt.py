"""getsockopt and setsockopt: option names by level and option values as
strace 6.1 prints them (net.c's print_getsockopt / print_setsockopt).

The recording plan gives setsockopt's value as ``STRU bytes`` of optlen bytes
read at entry, getsockopt's as ``STRU bytes`` of the length the kernel wrote
back, at a successful exit; optlen itself is ``STRU int`` at entry and exit.
"""

from __future__ import annotations

import errno as _errno
import struct as _struct

from ..xlat import LINUX as L
from . import bpf_filter
from .call import Call, pid_text
from .fmt import STYLE, array, named, printstr, ptr, quote, xval
from .sockaddr import ifindex_text, inet6_addr, inet_addr, mac_text, sockaddr_text

SOL_SOCKET = L.SOCKOPT_LEVELS.value("SOL_SOCKET")
SOL_IP = L.SOCKOPT_LEVELS.value("SOL_IP")
SOL_IPV6 = L.SOCKOPT_LEVELS.value("SOL_IPV6")
SOL_TCP = L.SOCKOPT_LEVELS.value("SOL_TCP")
SOL_RAW = L.SOCKOPT_LEVELS.value("SOL_RAW")
SOL_PACKET = L.SOCKOPT_LEVELS.value("SOL_PACKET")
SOL_NETLINK = L.SOCKOPT_LEVELS.value("SOL_NETLINK")

# a level's option names and strace's word for an unknown one
OPTION_NAMES = {SOL_SOCKET: (L.SOL_SOCKET_OPTS, "SO_???"),
                SOL_TCP: (L.TCP_OPTS, "TCP_???"),
                SOL_IP: (L.IP_OPTS, "IP_???"),
                SOL_IPV6: (L.IPV6_OPTS, "IPV6_???"),
                SOL_PACKET: (L.PACKET_OPTS, "PACKET_???"),
                SOL_RAW: (L.RAW_OPTS, "RAW_???"),
                SOL_NETLINK: (L.NETLINK_OPTS, "NETLINK_???")}

SO_ = {n: v for v, n in L.SOL_SOCKET_OPTS.entries}
SO_LINGER, SO_PEERCRED, SO_ERROR = SO_["SO_LINGER"], SO_["SO_PEERCRED"], SO_["SO_ERROR"]
SO_ATTACH_FILTER = SO_["SO_ATTACH_FILTER"]      # getsockopt's SO_GET_FILTER
# the options strace prints as an int (net.c's "All known int-like options")
INT_OPTIONS = frozenset(SO_[n] for n in (
    "SO_DEBUG SO_REUSEADDR SO_DONTROUTE SO_BROADCAST SO_SNDBUF SO_RCVBUF SO_KEEPALIVE "
    "SO_OOBINLINE SO_NO_CHECK SO_PRIORITY SO_BSDCOMPAT SO_REUSEPORT SO_PASSCRED "
    "SO_RCVLOWAT SO_SNDLOWAT SO_DETACH_FILTER SO_TIMESTAMP_OLD SO_ACCEPTCONN "
    "SO_SNDBUFFORCE SO_RCVBUFFORCE SO_PASSSEC SO_TIMESTAMPNS_OLD SO_MARK "
    "SO_TIMESTAMPING_OLD SO_RXQ_OVFL SO_WIFI_STATUS SO_PEEK_OFF SO_NOFCS "
    "SO_LOCK_FILTER SO_SELECT_ERR_QUEUE SO_BUSY_POLL SO_INCOMING_CPU SO_CNX_ADVICE "
    "SO_INCOMING_NAPI_ID SO_ZEROCOPY SO_TIMESTAMP_NEW SO_TIMESTAMPNS_NEW "
    "SO_TIMESTAMPING_NEW SO_DETACH_REUSEPORT_BPF SO_PREFER_BUSY_POLL "
    "SO_BUSY_POLL_BUDGET SO_RESERVE_MEM SO_RCVMARK").split() if n in SO_)
SO_TXREHASH = SO_["SO_TXREHASH"]

PACKET_ = {n: v for v, n in L.PACKET_OPTS.entries}
ICMP_FILTER = L.RAW_OPTS.value("ICMP_FILTER")
NETLINK_LIST_MEMBERSHIPS = L.NETLINK_OPTS.value("NETLINK_LIST_MEMBERSHIPS")
IP_MEMBERSHIP = {L.IP_OPTS.value("IP_ADD_MEMBERSHIP"), L.IP_OPTS.value("IP_DROP_MEMBERSHIP")}
IPV6_MEMBERSHIP = {L.IPV6_OPTS.value(n) for n in ("IPV6_ADD_MEMBERSHIP", "IPV6_DROP_MEMBERSHIP",
                                                  "IPV6_JOIN_ANYCAST", "IPV6_LEAVE_ANYCAST")}
GROUP_REQ = {L.IP_OPTS.value("MCAST_JOIN_GROUP"), L.IP_OPTS.value("MCAST_LEAVE_GROUP")}


def option_name(c: Call, i: int, getting: bool) -> str:
    """``SOL_SOCKET, SO_DEBUG``: the level and option name (arguments 1 and 2)."""
    level = c.arg(1) & 0xFFFFFFFF
    name = c.arg(2) & 0xFFFFFFFF
    level_text = xval(L.SOCKOPT_LEVELS, level, "SOL_??")
    if level not in OPTION_NAMES:
        return f"{level_text}, {name}"
    table, unknown = OPTION_NAMES[level]
    if getting and level == SOL_SOCKET and name == SO_ATTACH_FILTER:
        return f"{level_text}, {named('SO_GET_FILTER', name)}"
    return f"{level_text}, {xval(table, name, unknown)}"


def _int(data: bytes, at: int = 0, signed: bool = True) -> int:
    return _struct.unpack_from("<i" if signed else "<I", data, at)[0]


def _hexstr(data: bytes) -> str:
    return quote(data, force_hex=True)


def _fields(data: bytes, length: int, fields) -> str:
    """MAYBE_PRINT_FIELD_LEN over 4-byte fields: whole ones by ``spell``, a cut
    one as its bytes in hex, none past ``length``."""
    parts = []
    for k, (name, spell) in enumerate(fields):
        start = 4 * k
        if length <= start:
            break
        if length >= start + 4:
            parts.append(f"{name}={spell(_int(data, start))}")
        else:
            parts.append(f"{name}={_hexstr(data[start:length])}")
    return "{" + ", ".join(parts) + "}"


def _uint(value: int) -> str:
    return str(value & 0xFFFFFFFF)


def _id(value: int) -> str:
    return "-1" if value == -1 else str(value & 0xFFFFFFFF)


def _icmp_filter(data: bytes) -> str:
    mask = int.from_bytes(data[:4].ljust(4, b"\xff"), "little")
    text = ""
    if bin(mask).count("1") > 16:
        mask ^= 0xFFFFFFFF
        text = "~"
    bits = [xval(L.ICMP_FILTER_TYPES, b, "ICMP_???") for b in range(32) if mask >> b & 1]
    return text + "[" + " ".join(bits) + "]"


def _txrehash(value: int) -> str:
    """printxval_d of sockopt_txrehash_vals: ``[SOCK_TXREHASH_DEFAULT]``, ``[2 /* SOCK_TXREHASH_??? */]``."""
    name = L.SOCK_TXREHASH_VALUES.name(value)
    if name is not None:
        return f"[{named(name, value, str(value))}]"
    return f"[{value}]" if STYLE.get() == "raw" else f"[{value} /* SOCK_TXREHASH_??? */]"


def _errno_name(err: int) -> str:
    name = _errno.errorcode.get(err)
    return named(name, err, str(err)) if name else str(err)


def get_value(c: Call, i: int) -> str:
    """getsockopt's optval at exit (print_getsockopt)."""
    addr = c.arg(i)
    if not c.ok:
        return ptr(addr)
    before = c.struct(4, "int", exit=False)
    after = c.struct(4, "int")
    if before is None or after is None or len(before) < 4 or len(after) < 4:
        return ptr(addr)
    ulen, rlen = _int(before), _int(after)
    if ulen <= 0 or rlen <= 0:
        return ptr(addr)
    data = c.struct(i, "bytes")
    if data is None or not addr or not c.verbose:
        return ptr(addr)
    level, name = c.arg(1) & 0xFFFFFFFF, c.arg(2) & 0xFFFFFFFF
    if level == SOL_SOCKET:
        if name == SO_LINGER:
            n = min(rlen, 8)
            if len(data) < n:
                return ptr(addr)
            return _fields(data, n, (("l_onoff", str), ("l_linger", str)))
        if name == SO_PEERCRED:
            n = min(rlen, 12)
            if len(data) < n:
                return ptr(addr)
            return _fields(data, n, (("pid", lambda pid: pid_text(c, pid)), ("uid", _id),
                                     ("gid", _id)))
        if name == SO_ERROR:
            if rlen < 4:
                return _hexstr(data[:rlen])
            return f"[{_errno_name(_int(data, 0, signed=False))}]" if len(data) >= 4 else ptr(addr)
        if name in INT_OPTIONS or name == SO_TXREHASH:
            if rlen < 4:
                return _hexstr(data[:rlen])
            if name == SO_TXREHASH:
                return _txrehash(_int(data)) if len(data) >= 4 else ptr(addr)
            return f"[{_int(data)}]" if len(data) >= 4 else ptr(addr)
        if name == SO_ATTACH_FILTER:     # SO_GET_FILTER: rlen instructions
            if rlen > 0xFFFF:             # not a sock_fprog's len: forged
                return ptr(addr)
            return bpf_filter.filter_text(c, data, addr, rlen, bpf_filter.sock_k)
    elif level == SOL_PACKET and name == PACKET_.get("PACKET_STATISTICS"):
        n = min(rlen, 12)
        if len(data) < n:
            return ptr(addr)
        return _fields(data, n, (("tp_packets", _uint), ("tp_drops", _uint),
                                 ("tp_freeze_q_cnt", _uint)))
    elif level == SOL_RAW and name == ICMP_FILTER:
        n = min(rlen, 4)
        return _icmp_filter(data[:n]) if len(data) >= n else ptr(addr)
    elif level == SOL_NETLINK:
        if name == NETLINK_LIST_MEMBERSHIPS:
            count = min(ulen, rlen) // 4
            values = [_int(data, 4 * k, signed=False) for k in range(min(count, len(data) // 4))]
            if count and not values:
                return ptr(addr)
            return array(iter(str(v) for v in values), c.opts)
        return f"[{_int(data)}]" if len(data) >= 4 else ptr(addr)
    if rlen == 4:
        return f"[{_int(data)}]" if len(data) >= 4 else ptr(addr)
    return printstr(data[:rlen], c.opts)




def set_value(c: Call, i: int) -> str:
    """setsockopt's optval, read at entry (print_setsockopt)."""
    addr = c.arg(i)
    length = _int((c.arg(4) & 0xFFFFFFFF).to_bytes(4, "little"))
    data = c.struct(i, "bytes", exit=False)
    if not addr or not c.verbose:
        return ptr(addr)
    level, name = c.arg(1) & 0xFFFFFFFF, c.arg(2) & 0xFFFFFFFF

    def need(n: int) -> bytes | None:
        return data if data is not None and len(data) >= n else None

    if level == SOL_SOCKET:
        if name == SO_LINGER:
            d = need(8) if length >= 8 else None
            return f"{{l_onoff={_int(d)}, l_linger={_int(d, 4)}}}" if d else ptr(addr)
        if name == SO_ATTACH_FILTER or name == SO_.get("SO_ATTACH_REUSEPORT_CBPF"):
            if length != bpf_filter.FPROG_SIZE:
                return ptr(addr)
            return bpf_filter.fprog_text(c, i, "bytes", bpf_filter.sock_k)
        if name in INT_OPTIONS or name == SO_TXREHASH:
            d = need(4) if length >= 4 else None
            if not d:
                return ptr(addr)
            return _txrehash(_int(d)) if name == SO_TXREHASH else f"[{_int(d)}]"
    elif level == SOL_IP and name in IP_MEMBERSHIP:
        d = need(8) if length >= 8 else None
        if not d:
            return ptr(addr)
        return f"{{{inet_addr('imr_multiaddr', d[:4])}, {inet_addr('imr_interface', d[4:8])}}}"
    elif level == SOL_IPV6 and name in IPV6_MEMBERSHIP:
        d = need(20) if length >= 20 else None
        if not d:
            return ptr(addr)
        return (f"{{{inet6_addr('ipv6mr_multiaddr', d[:16])}, "
                f"ipv6mr_interface={ifindex_text(_int(d, 16, signed=False))}}}")
    elif level in (SOL_IP, SOL_IPV6) and name in GROUP_REQ:
        d = need(136) if length >= 136 else None
        if not d:
            return ptr(addr)
        return (f"{{gr_interface={ifindex_text(_int(d, 0, signed=False))}, "
                f"gr_group={sockaddr_text(d[8:136], 128, c.fd_text, lambda pid: pid_text(c, pid))}}}")
    elif level == SOL_PACKET and name in (PACKET_["PACKET_RX_RING"], PACKET_["PACKET_TX_RING"]):
        d = need(16) if length == 16 else None
        if not d:
            return ptr(addr)
        fields = ("tp_block_size", "tp_block_nr", "tp_frame_size", "tp_frame_nr")
        return "{" + ", ".join(f"{f}={_int(d, 4 * k, signed=False)}"
                               for k, f in enumerate(fields)) + "}"
    elif level == SOL_PACKET and name in (PACKET_["PACKET_ADD_MEMBERSHIP"],
                                          PACKET_["PACKET_DROP_MEMBERSHIP"]):
        d = need(16) if length == 16 else None
        if not d:
            return ptr(addr)
        ifindex, mr_type, alen = _struct.unpack_from("<iHH", d)
        address = d[8:8 + min(alen, 8)]
        return (f"{{mr_ifindex={ifindex_text(ifindex & 0xFFFFFFFF)}, "
                f"mr_type={xval(L.PACKET_MR_TYPES, mr_type, 'PACKET_MR_???')}, "
                f"mr_alen={alen}, mr_address={mac_text(address)}}}")
    elif level == SOL_RAW and name == ICMP_FILTER:
        if length <= 0:
            return ptr(addr)
        d = need(min(length, 4))
        return _icmp_filter(d[:min(length, 4)]) if d is not None else ptr(addr)
    elif level == SOL_NETLINK:
        d = need(4) if length >= 4 else None
        return f"[{_int(d)}]" if d else ptr(addr)
    if length == 4:
        d = need(4)
        return f"[{_int(d)}]" if d else ptr(addr)
    if data is None or length < 0 or len(data) < length:
        return ptr(addr)
    return printstr(data[:length], c.opts)


def optlen_in(c: Call, i: int) -> str:
    """getsockopt's optlen: ``[4]``, ``[8 => 4]`` (print_getsockopt's tail)."""
    before = c.struct(i, "int", exit=False)
    if before is None or len(before) < 4 or not c.verbose:
        return ptr(c.arg(i))
    b = _int(before)
    after = c.struct(i, "int") if c.ok else None
    if after is None or after is before or len(after) < 4:
        return f"[{b}]"
    a = _int(after)
    return f"[{b}]" if a == b else f"[{b} => {a}]"

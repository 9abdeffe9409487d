"""Socket addresses as strace 6.1 prints them (sockaddr.c's print_sockaddr).

:func:`sockaddr_text` takes the bytes of a recorded ``STRU sockaddr`` and the
address length strace would use, and prints it family by family; bytes past
what was recorded read as zero, as strace zero-fills its buffer past addrlen.
"""

from __future__ import annotations

import socket as _socket
import struct as _struct

from ..xlat import LINUX as L
from .fmt import STYLE, flags, hexval, named, quote, xval

SOCKADDR_STORAGE = 128        # strace reads at most sizeof(struct sockaddr_storage)
UNIX_PATH = 108

AF = {n: v for v, n in L.ADDRESS_FAMILIES.entries}


def styled(raw: str, abbrev: str) -> str:
    """A value printed as its raw bytes (-X raw), its decoding (-X abbrev) or
    both, the decoding in a comment (-X verbose)."""
    style = STYLE.get()
    if style == "raw":
        return raw
    return f"{raw} /* {abbrev} */" if style == "verbose" else abbrev


def hex_bytes(data: bytes) -> str:
    return quote(data, force_hex=True)


def val_0x(value: int, size: int) -> str:
    """PRINT_VAL_0X: C's ``%#0*x`` with width twice the size."""
    return f"{value:#0{2 * size}x}" if value else "0" * (2 * size)


def cstring(data: bytes) -> str:
    """print_quoted_cstring of a char array: up to its NUL, ``...`` when it has none."""
    end = data.find(b"\0")
    if end < 0:
        return quote(data[:-1]) + "..." if data else '""...'
    return quote(data[:end])


def ifindex_text(index: int) -> str:
    """print_ifindex: ``if_nametoindex("lo")`` for an interface of this machine."""
    try:
        name = _socket.if_indextoname(index) if index else None
    except (OSError, OverflowError, ValueError):
        name = None
    if name is None:
        return str(index)
    return named(f'if_nametoindex("{name}")', index, str(index))


def mac_text(data: bytes) -> str:
    """print_mac_addr: ``ff:ff:..`` (-X raw: its bytes in hex; -X verbose: both)."""
    return styled(hex_bytes(data), ":".join(f"{b:02x}" for b in data))


def net_port(name: str, raw: bytes) -> str:
    port = int.from_bytes(raw, "big")
    return f"{name}={styled(hex_bytes(raw), f'htons({port})')}"


def inet_addr(name: str, raw: bytes) -> str:
    """PRINT_FIELD_INET_ADDR of an IPv4 address."""
    text = f'inet_addr("{_socket.inet_ntop(_socket.AF_INET, raw)}")'
    return f"{name}={styled(hex_bytes(raw), text)}"


def inet6_addr(name: str | None, raw: bytes) -> str:
    """PRINT_FIELD_INET_ADDR of an IPv6 address: ``inet_pton(AF_INET6, "::1", &name)``."""
    address = _socket.inet_ntop(_socket.AF_INET6, raw)
    if STYLE.get() == "abbrev":
        tail = f", &{name}" if name else ""
        return f'inet_pton(AF_INET6, "{address}"{tail})'
    head = f"{name}=" if name else ""
    return head + styled(hex_bytes(raw), f'inet_pton(AF_INET6, "{address}")')


def _u16(buf: bytes, at: int) -> int:
    return _struct.unpack_from("<H", buf, at)[0]


def _u32(buf: bytes, at: int) -> int:
    return _struct.unpack_from("<I", buf, at)[0]


def _i32(buf: bytes, at: int) -> int:
    return _struct.unpack_from("<i", buf, at)[0]


def _unix(buf: bytes, addrlen: int) -> str:
    path_len = min(addrlen, 2 + UNIX_PATH) - 2
    path = buf[2:2 + path_len]
    if path[:1] != b"\0":
        return "sun_path=" + quote(path.split(b"\0", 1)[0])
    return f"sun_path=@{quote(path[1:path_len])}"


def _in(buf: bytes, addrlen: int) -> str:
    return f"{net_port('sin_port', buf[2:4])}, {inet_addr('sin_addr', buf[4:8])}"


SIN6_MIN_LEN = 24


def _in6(buf: bytes, addrlen: int) -> str:
    flow = buf[4:8]
    style = STYLE.get()
    flowinfo = f"htonl({int.from_bytes(flow, 'big')})"
    if style == "raw":
        flowinfo = hex_bytes(flow)
    elif style == "verbose":
        flowinfo = f"{hex_bytes(flow)} /* {flowinfo} */"
    addr = buf[8:24]
    text = (f"{net_port('sin6_port', buf[2:4])}, sin6_flowinfo={flowinfo}, "
            f"{inet6_addr('sin6_addr', addr)}")
    if addrlen <= SIN6_MIN_LEN:
        return text
    scope = _u32(buf, 24)
    link_local = (addr[0] == 0xFE and addr[1] & 0xC0 == 0x80) or (
        addr[0] == 0xFF and addr[1] & 0x0F == 0x02)
    return text + f", sin6_scope_id={ifindex_text(scope) if link_local else scope}"


def _ax25_style(call: bytes) -> str:
    """check_ax25_address: "" (the -X style), "verbose" or "raw"."""
    ret = ""
    space_seen = char_seen = False
    for b in call[:6]:
        if b & 1:
            ret = "verbose"
        ch = b >> 1
        if ch == 0x20:
            space_seen = True
        else:
            char_seen = True
        if not (0x30 <= ch <= 0x39 or 0x41 <= ch <= 0x5A or ch == 0x20):
            ret = "verbose"
        if ch != 0x20 and space_seen:
            ret = "verbose"
        if ch < 0x20 or ch > 0x7E or ch in (0x2A, 0x2F):
            return "raw"
    if call[6] & ~0x1E:
        ret = "verbose"
    if not char_seen and call[6]:
        ret = "verbose"
    return ret


def _ax25_str(call: bytes) -> str:
    end = 6
    while end and call[end - 1] >> 1 == 0x20:
        end -= 1
    text = "".join(chr(b >> 1) for b in call[:end])
    ssid = (call[6] >> 1) & 0xF
    text += f"-{ssid}"
    return "*" if text == "-0" else text


def _ax25_addr(call: bytes) -> str:
    style = _ax25_style(call) or STYLE.get()
    raw = f"{{ax25_call={hex_bytes(call)}}}"
    if style == "raw":
        return raw
    text = _ax25_str(call)
    return f"{raw} /* {text} */" if style == "verbose" else text


def _ax25(buf: bytes, addrlen: int) -> str:
    ndigis = _i32(buf, 12)
    full = ndigis != 0 or addrlen > 16
    head = f"sax25_call={_ax25_addr(buf[2:9])}, sax25_ndigis={ndigis}"
    if not full:
        return head
    parts = [f"fsa_ax25={{{head}}}"]
    has = min(max(addrlen - 16, 0) // 7, 8)
    want = min(max(ndigis, 0), 8)
    digis = min(has, want)
    if want:
        items = [_ax25_addr(buf[16 + 7 * k:23 + 7 * k]) for k in range(digis)]
        if want > has:
            items.append("...")
        parts.append(f"fsa_digipeater=[{', '.join(items)}]")
    if addrlen > has * 7 + 16:
        parts.append("...")
    return ", ".join(parts)


def _ipx(buf: bytes, addrlen: int) -> str:
    port = int.from_bytes(buf[2:4], "big")
    network = int.from_bytes(buf[4:8], "big")
    node = ", ".join(val_0x(b, 1) for b in buf[8:14])
    text = (f"sipx_port=htons({port}), sipx_network=htonl({network:#x}), "
            f"sipx_node=[{node}], sipx_type={val_0x(buf[14], 1)}")
    if buf[15]:
        text += f", sipx_zero={buf[15]:#x}"
    return text


def _x25(buf: bytes, addrlen: int) -> str:
    return f"sx25_addr={{x25_addr={cstring(buf[2:18])}}}"


def _nl(buf: bytes, addrlen: int, pid_text=str) -> str:
    pad = _u16(buf, 2)
    text = f"nl_pad={pad:#x}, " if pad else ""
    return text + f"nl_pid={pid_text(_i32(buf, 4))}, nl_groups={val_0x(_u32(buf, 8), 4)}"


def _ll(buf: bytes, addrlen: int) -> str:
    proto_raw = buf[2:4]
    proto = int.from_bytes(proto_raw, "big")
    name = L.ETH_PROTOCOLS.name(proto)
    proto_text = f"htons({name if name else f'{proto:#x} /* ETH_P_??? */'})"
    hatype, pkttype, halen = _u16(buf, 8), buf[10], buf[11]
    parts = [f"sll_protocol={styled(hex_bytes(proto_raw), proto_text)}",
             f"sll_ifindex={ifindex_text(_u32(buf, 4))}",
             f"sll_hatype={xval(L.ARPHRD_TYPES, hatype, 'ARPHRD_???')}",
             f"sll_pkttype={xval(L.PACKET_TYPES, pkttype, 'PACKET_???')}",
             f"sll_halen={halen}"]
    if halen:
        oob = addrlen - 12
        items = []
        for k in range(halen):
            if k >= oob:
                items.append("...")
                break
            items.append(val_0x(buf[12 + k], 1) if 12 + k < len(buf) else "00")
        parts.append(f"sll_addr=[{', '.join(items)}]")
    return ", ".join(parts)


def xval_bare(table, value: int) -> str:
    """printxval with no default: an unknown value is its hex alone."""
    name = table.name(value)
    return named(name, value) if name is not None else hexval(value)


def xval_verbose(table, value: int, unknown: str | None = None) -> str:
    """PRINT_FIELD_XVAL_VERBOSE: the number with its name in a comment, but for -X raw."""
    if STYLE.get() == "raw":
        return hexval(value)
    name = table.name(value) or unknown
    return f"{hexval(value)} /* {name} */" if name else hexval(value)


def flags_verbose(table, value: int, unknown: str) -> str:
    """PRINT_FIELD_FLAGS_VERBOSE: the number with its flags in a comment, but for -X raw."""
    if STYLE.get() == "raw" or not value:
        return hexval(value)
    names, rem = table.flags(value)
    if not names:
        return f"{hexval(value)} /* {unknown} */"
    if rem:
        names.append(f"{rem:#x}")
    return f"{hexval(value)} /* {'|'.join(names)} */"


def _rxrpc(buf: bytes, addrlen: int) -> str:
    service, ttype, tlen = _u16(buf, 2), _u16(buf, 4), _u16(buf, 6)
    text = (f"srx_service={xval_verbose(L.RXRPC_SERVICES, service, '???_SERVICE')}, "
            f"transport_type={xval(L.SOCKET_TYPES, ttype, 'SOCK_???')}, "
            f"transport_len={tlen}, transport={{")
    tfamily = _u16(buf, 8)
    length = min(tlen, addrlen - 8)
    rest = max(0, length - 2)
    family_text = xval(L.ADDRESS_FAMILIES, tfamily, "AF_???")
    transport = buf[8:]
    if tfamily == AF["AF_INET"] or tfamily == AF["AF_INET6"]:
        v6 = tfamily == AF["AF_INET6"]
        inner = f"{'sin6_family' if v6 else 'sin_family'}={family_text}"
        if tlen >= (SIN6_MIN_LEN if v6 else 16):
            inner += ", " + (_in6 if v6 else _in)(transport, length)
        elif rest > 0:
            inner += ", " + quote(transport[2:2 + rest])
        text += f"{'sin6' if v6 else 'sin'}={{{inner}}}"
    else:
        text += f"family={family_text}"
        if rest > 0:
            text += ", " + quote(transport[2:2 + rest])
    return text + "}"


def _ieee802154(buf: bytes, addrlen: int) -> str:
    addr_type, pan_id = _u32(buf, 4), _u16(buf, 8)
    text = (f"addr={{addr_type={xval_verbose(L.IEEE802154_ADDR_TYPES, addr_type, 'IEEE802154_ADDR_???')}, "
            f"pan_id={xval_verbose(L.IEEE802154_PAN_IDS, pan_id)}")
    if addr_type == L.IEEE802154_ADDR_TYPES.value("IEEE802154_ADDR_SHORT"):
        text += f", short_addr={xval_verbose(L.IEEE802154_ADDRS, _u16(buf, 10))}"
    elif addr_type != L.IEEE802154_ADDR_TYPES.value("IEEE802154_ADDR_NONE"):
        text += f", hwaddr={mac_text(buf[10:18])}"
    return text + "}"


def _alg(buf: bytes, addrlen: int) -> str:
    return (f"salg_type={cstring(buf[2:16])}, "
            f"salg_feat={flags_verbose(L.ALG_SOCKADDR_FLAGS, _u32(buf, 16), 'CRYPTO_ALG_???')}, "
            f"salg_mask={flags_verbose(L.ALG_SOCKADDR_FLAGS, _u32(buf, 20), 'CRYPTO_ALG_???')}, "
            f"salg_name={cstring(buf[24:addrlen])}")


NFC_LLCP_LEN = 96      # struct sockaddr_nfc_llcp on a 64-bit ABI


def _nfc(buf: bytes, addrlen: int) -> str:
    text = (f"dev_idx={ifindex_text(_u32(buf, 4))}, target_idx={hexval(_u32(buf, 8))}, "
            f"nfc_protocol={xval(L.NFC_PROTOCOLS, _u32(buf, 12), 'NFC_PROTO_???')}")
    if addrlen < NFC_LLCP_LEN:
        return text + (", ..." if addrlen > 16 else "")
    size = _struct.unpack_from("<Q", buf, 88)[0]
    return text + (f", dsap={xval_verbose(L.NFC_SAPS, buf[16])}, "
                   f"ssap={xval_verbose(L.NFC_SAPS, buf[17])}, "
                   f"service_name={quote(buf[18:18 + min(63, size)])}, service_name_len={size}")


def _vsock(buf: bytes, addrlen: int) -> str:
    reserved = _u16(buf, 2)
    text = f"svm_reserved1={reserved:#x}, " if reserved else ""
    text += (f"svm_cid={xval_bare(L.VSOCK_CIDS, _u32(buf, 8))}, "
             f"svm_port={xval_bare(L.VSOCK_PORTS, _u32(buf, 4))}, "
             f"svm_flags={flags(L.VSOCK_FLAGS, buf[12], '0', 'VMADDR_FLAG_???')}")
    if any(buf[13:16]):
        text += f", svm_zero={hex_bytes(buf[13:16])}"
    return text


def _qrtr(buf: bytes, addrlen: int) -> str:
    return (f"sq_node={xval_bare(L.QRTR_NODES, _u32(buf, 4))}, "
            f"sq_port={xval_bare(L.QRTR_PORTS, _u32(buf, 8))}")


def _xdp(buf: bytes, addrlen: int, fd_text=str) -> str:
    sxdp_flags, fd = _u16(buf, 2), _u32(buf, 12)
    text = (f"sxdp_flags={flags(L.XDP_SOCKADDR_FLAGS, sxdp_flags, '0', 'XDP_???')}, "
            f"sxdp_ifindex={ifindex_text(_u32(buf, 4))}, sxdp_queue_id={_u32(buf, 8)}")
    if sxdp_flags & 1:
        text += f", sxdp_shared_umem_fd={fd_text(_i32(buf, 12))}"
    elif fd:
        text += f", sxdp_shared_umem_fd={fd:#x}"
    return text


def _mctp(buf: bytes, addrlen: int) -> str:
    pad0, pad1 = _u16(buf, 2), buf[11]
    text = f"__smctp_pad0={pad0:#x}, " if pad0 else ""
    text += (f"smctp_network={xval_bare(L.MCTP_NETS, _u32(buf, 4))}, "
             f"smctp_addr={{s_addr={xval_bare(L.MCTP_ADDRS, buf[8])}}}, "
             f"smctp_type={hexval(buf[9])}, smctp_tag={hexval(buf[10])}")
    if pad1:
        text += f", __smctp_pad1={pad1:#x}"
    return text


# family: (printer, the least addrlen it needs)
PRINTERS = {
    AF["AF_UNIX"]: (_unix, 3),
    AF["AF_INET"]: (_in, 16),
    AF["AF_AX25"]: (_ax25, 16),
    AF["AF_IPX"]: (_ipx, 16),
    AF["AF_X25"]: (_x25, 18),
    AF["AF_INET6"]: (_in6, SIN6_MIN_LEN),
    AF["AF_NETLINK"]: (_nl, 12),
    AF["AF_PACKET"]: (_ll, 20),
    AF["AF_RXRPC"]: (_rxrpc, 36),
    AF["AF_IEEE802154"]: (_ieee802154, 20),
    AF["AF_ALG"]: (_alg, 25),
    AF["AF_NFC"]: (_nfc, 16),
    AF["AF_VSOCK"]: (_vsock, 16),
    AF["AF_QIPCRTR"]: (_qrtr, 12),
    AF["AF_XDP"]: (_xdp, 16),
    AF["AF_MCTP"]: (_mctp, 12),
}


def sockaddr_text(data: bytes, addrlen: int, fd_text=str, pid_text=str) -> str:
    """print_sockaddr of ``addrlen`` bytes (capped as strace caps them);
    ``fd_text`` spells a descriptor in it (-y), ``pid_text`` a pid (--decode-pids=)."""
    addrlen = min(addrlen, SOCKADDR_STORAGE)
    buf = data[:addrlen].ljust(SOCKADDR_STORAGE + 1, b"\0")
    family = _u16(buf, 0)
    text = "{sa_family=" + xval(L.ADDRESS_FAMILIES, family, "AF_???")
    if addrlen > 2:
        printer = PRINTERS.get(family)
        if printer is not None and addrlen >= printer[1]:
            if family == AF["AF_XDP"]:
                text += ", " + _xdp(buf, addrlen, fd_text)
            elif family == AF["AF_NETLINK"]:
                text += ", " + _nl(buf, addrlen, pid_text)
            else:
                text += ", " + printer[0](buf, addrlen)
        else:
            text += f", sa_data={quote(buf[2:addrlen])}"
    return text + "}"

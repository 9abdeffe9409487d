"""NETLINK_SOCK_DIAG messages as strace 6.1 prints them (netlink_sock_diag.c
and its per-family files: netlink_inet_diag.c, netlink_unix_diag.c,
netlink_netlink_diag.c, netlink_packet_diag.c, netlink_smc_diag.c).

Each family's request and reply is a :class:`Layout` (its fields, their C
types and printers) and, after it, attributes decoded by that family's table.
"""

from __future__ import annotations

import struct as _struct
from typing import NamedTuple

from ..xlat import LINUX as L
from ..xlat import Xlat
from .fmt import StraceOptions, flags, hexval, named, quote, xval
from .bpf_filter import INSN, insn_text, sock_k
from .nlattr import (ABBREV, NLMSG_DONE, address, family_text, family_then_address, hexstr,
                     inet_addr_text, nla_array, nla_flags, nla_flags_verbose, nla_ip_proto,
                     nla_meminfo, nla_nested, nla_str, nla_u8, nla_u16, nla_u32, nla_u64, nla_uid,
                     nla_x32, nla_xint, nla_xval, partial_array, readable, reads_partial, u32,
                     with_attrs)
from .sockaddr import (cstring, ifindex_text, net_port, sockaddr_text, val_0x,
                       xval_verbose)
from .structs import makedev

AF = {n: v for v, n in L.ADDRESS_FAMILIES.entries}
AF_INET, AF_INET6 = AF["AF_INET"], AF["AF_INET6"]
NLM_F_REQUEST = L.NLM_FLAGS.value("NLM_F_REQUEST")
SOCK_DIAG = {n: v for v, n in L.NL_SOCK_DIAG_TYPES.entries}
# idiag_ext and idiag_states are bit sets of these numbers, as strace spells them
INET_DIAG_EXT_FLAGS = Xlat((1 << (v - 1), f"1<<({n}-1)") for v, n in L.INET_DIAG_EXTENSIONS.entries)
TCP_STATE_FLAGS = Xlat((1 << v, f"1<<{n}") for v, n in L.TCP_STATES.entries)

# --- structs ---------------------------------------------------------------------


class Layout:
    """A C struct as rows (field, struct code, printer): its size and its text.
    A printer takes (field, value, family) and returns ``field=value``; a row
    whose code is padding (``x``) prints nothing."""

    def __init__(self, *rows):
        self.rows = rows
        self.struct = _struct.Struct("<" + "".join(code for _, code, _ in rows))
        self.size = self.struct.size

    def text(self, data: bytes, family: int | None = None) -> str:
        values = iter(self.struct.unpack_from(data))
        parts = [printer(name, next(values), family)
                 for name, code, printer in self.rows if not code.endswith("x")]
        return "{" + ", ".join(parts) + "}"

    def decoder(self, body: bytes, opts: StraceOptions) -> str | None:
        """The struct as an attribute's value (None: too short, strace's hex)."""
        return self.text(body) if len(body) >= self.size else None


def U(name, value, family):
    return f"{name}={value}"


def X(name, value, family):
    return f"{name}={hexval(value)}"


def X0(name, value, family):
    return f"{name}={val_0x(value, 1)}"


def XV(table: Xlat, unknown: str):
    return lambda name, value, family: f"{name}={xval(table, value, unknown)}"


def FL(table: Xlat, unknown: str):
    return lambda name, value, family: f"{name}={flags(table, value, '0', unknown)}"


def COOKIE(name, value, family):
    return f"{name}=[{u32(value, 0)}, {u32(value, 4)}]"


def IFINDEX(name, value, family):
    return f"{name}={ifindex_text(value)}"


def CSTRING(name, value, family):
    return f"{name}={cstring(value)}"


def INET_ADDR(name, value, family):
    return inet_addr_text(family, value, name)


INET_DIAG_SOCKID = Layout(
    ("idiag_sport", "2s", lambda n, v, f: net_port(n, v)),
    ("idiag_dport", "2s", lambda n, v, f: net_port(n, v)),
    ("idiag_src", "16s", INET_ADDR), ("idiag_dst", "16s", INET_ADDR),
    ("idiag_if", "I", IFINDEX), ("idiag_cookie", "8s", COOKIE))


def SOCKID(name, value, family):
    return f"{name}={INET_DIAG_SOCKID.text(value, family)}"


def SOCKID_INET(name, value, family):
    """AF_SMC's sockets keep an AF_INET address."""
    return SOCKID(name, value, AF_INET)


def ADDR_FAMILY(name, value, family):
    return f"{name}={family_text(value)}"


def _named_decoders(table: Xlat, **by_name) -> dict:
    """A decoder dict keyed by the attribute's value in ``table``."""
    return {table.value(name): decoder for name, decoder in by_name.items()}


# --- AF_INET, AF_INET6 (netlink_inet_diag.c) ----------------------------------------

INET_DIAG_BC_OP = Layout(("code", "B", XV(L.INET_DIAG_BYTECODES, "INET_DIAG_BC_???")),
                         ("yes", "B", U), ("no", "H", U))
INET_DIAG_MARKCOND = Layout(("mark", "I", U), ("mask", "I", U))
BC = {n: v for v, n in L.INET_DIAG_BYTECODES.entries}


@reads_partial
def _hostcond(data: bytes, opts: StraceOptions) -> str:
    """inet_diag_hostcond, then its address of its family (each the address
    when it was not read)."""
    if len(data) < 8:
        return hexstr(data, opts)
    if not readable(data, 8):
        return address(data)
    family, prefix_len, port = _struct.unpack_from("<BBxxI", data)
    text = f"{{family={family_text(family)}, prefix_len={prefix_len}, port={port}"
    if len(data) > 8:
        addr = data[8:]
        size = {AF_INET: 4, AF_INET6: 16}.get(family, 0)
        if size and len(addr) >= size and not readable(addr, size):
            text += f", addr={address(addr)}"
        elif size and len(addr) >= size:
            text += ", " + inet_addr_text(family, addr[:size], "addr")
        else:
            text += f", addr={hexstr(addr, opts)}"
    return text + "}"


def _struct_or_hex(layout: Layout):
    return lambda data, opts: layout.decoder(data, opts) or hexstr(data, opts)


BYTECODE_DATA = {
    BC["INET_DIAG_BC_S_COND"]: _hostcond, BC["INET_DIAG_BC_D_COND"]: _hostcond,
    BC["INET_DIAG_BC_DEV_COND"]:
        lambda data, opts: ifindex_text(u32(data, 0)) if len(data) >= 4 else hexstr(data, opts),
    **{BC[n]: _struct_or_hex(INET_DIAG_BC_OP)
       for n in ("INET_DIAG_BC_S_GE", "INET_DIAG_BC_S_LE", "INET_DIAG_BC_D_GE", "INET_DIAG_BC_D_LE")},
    BC["INET_DIAG_BC_MARK_COND"]: _struct_or_hex(INET_DIAG_MARKCOND),
}


@reads_partial
def _bc_op(body: bytes, opts: StraceOptions) -> str | None:
    """decode_inet_diag_bc_op: the op, then the data its code has (each the
    address when it was not read)."""
    if len(body) < INET_DIAG_BC_OP.size:
        return None
    if not readable(body, INET_DIAG_BC_OP.size):
        return address(body)
    text = INET_DIAG_BC_OP.text(body)
    rest = body[INET_DIAG_BC_OP.size:]
    if rest:
        data = BYTECODE_DATA.get(body[0])
        if data is None:
            shown = hexstr(rest, opts)
        elif readable(rest, len(rest)) or getattr(data, "reads_partial", False):
            shown = data(rest, opts)
        else:
            shown = address(rest)
        text += ", " + shown
    return text


INET_DIAG_REQ_DECODERS = _named_decoders(
    L.INET_DIAG_REQ_ATTRS, INET_DIAG_REQ_BYTECODE=_bc_op, INET_DIAG_REQ_PROTOCOL=nla_ip_proto)

INET_DIAG_MEMINFO = Layout(("idiag_rmem", "I", U), ("idiag_wmem", "I", U),
                           ("idiag_fmem", "I", U), ("idiag_tmem", "I", U))
TCPVEGAS_INFO = Layout(("tcpv_enabled", "I", U), ("tcpv_rttcnt", "I", U),
                       ("tcpv_rtt", "I", U), ("tcpv_minrtt", "I", U))
TCP_DCTCP_INFO = Layout(("dctcp_enabled", "H", U), ("dctcp_ce_state", "H", U),
                        ("dctcp_alpha", "I", U), ("dctcp_ab_ecn", "I", U),
                        ("dctcp_ab_tot", "I", U))
TCP_BBR_INFO = Layout(("bbr_bw_lo", "I", X), ("bbr_bw_hi", "I", X), ("bbr_min_rtt", "I", U),
                      ("bbr_pacing_gain", "I", U), ("bbr_cwnd_gain", "I", U))
SOCKADDR_STORAGE = 128
MD5SIG_SIZE = 100


def _md5sig(raw: bytes, i: int) -> str:
    family, prefixlen, keylen = _struct.unpack_from("<BBH", raw)
    return (f"{{tcpm_family={family_text(family)}, tcpm_prefixlen={prefixlen}, "
            f"tcpm_keylen={keylen}, {inet_addr_text(family, raw[4:20], 'tcpm_addr')}, "
            f"tcpm_key={quote(raw[20:20 + min(80, keylen)], force_hex=True)}}}")


SOCKOPT_BITS = ("recverr", "is_icsk", "freebind", "hdrincl", "mc_loop", "transparent",
                "mc_all", "nodefrag", "bind_address_no_port", "recverr_rfc4884",
                "defer_connect")
PAGE_SIZE = 4096


def _sockopt(body: bytes, opts: StraceOptions) -> str | None:
    """INET_DIAG_SOCKOPT: its bit fields that are set (netlink payloads print
    abbreviated, as the message loop does), then any non-zero bytes after it."""
    if len(body) < 2:
        return None
    bits = body[0] | body[1] << 8
    parts = [f"{name}=1" for i, name in enumerate(SOCKOPT_BITS) if bits >> i & 1]
    unused = bits >> len(SOCKOPT_BITS)
    if unused:
        parts.append(f"unused={hexval(unused)} /* bits 3..8 */")
    text = "{" + ", ".join(parts) + "}"
    tail = body[2:PAGE_SIZE]
    if any(tail):
        text += f", /* bytes 2..{len(tail) + 1} */ {hexstr(tail, opts)}"
    return text


ULP_TLS_DECODERS = _named_decoders(
    L.INET_DIAG_ULP_INFO_TLS_ATTRS,
    TLS_INFO_VERSION=nla_xval(L.TLS_INFO_VERSIONS, "TLS_???_VERSION", 2),
    TLS_INFO_CIPHER=nla_xval(L.TLS_INFO_CIPHERS, "TLS_CIPHER_???", 2),
    TLS_INFO_TXCONF=nla_xval(L.TLS_INFO_CONFIGS, "TLS_CONF_???", 2),
    TLS_INFO_RXCONF=nla_xval(L.TLS_INFO_CONFIGS, "TLS_CONF_???", 2))


ULP_MPTCP_DECODERS = _named_decoders(
    L.INET_DIAG_ULP_INFO_MPTCP_ATTRS,
    MPTCP_SUBFLOW_ATTR_TOKEN_REM=nla_x32, MPTCP_SUBFLOW_ATTR_TOKEN_LOC=nla_x32,
    MPTCP_SUBFLOW_ATTR_RELWRITE_SEQ=nla_u32, MPTCP_SUBFLOW_ATTR_MAP_SEQ=nla_u64,
    MPTCP_SUBFLOW_ATTR_MAP_SFSEQ=nla_u32, MPTCP_SUBFLOW_ATTR_SSN_OFFSET=nla_u32,
    MPTCP_SUBFLOW_ATTR_MAP_DATALEN=nla_u16,
    MPTCP_SUBFLOW_ATTR_FLAGS=nla_flags(L.MPTCP_SUBFLOW_FLAGS, "MPTCP_SUBFLOW_FLAG_???"),
    MPTCP_SUBFLOW_ATTR_ID_REM=nla_u8, MPTCP_SUBFLOW_ATTR_ID_LOC=nla_u8)

ULP_INFO_DECODERS = _named_decoders(
    L.INET_DIAG_ULP_INFO_ATTRS, INET_ULP_INFO_NAME=nla_str,
    INET_ULP_INFO_TLS=nla_nested(L.INET_DIAG_ULP_INFO_TLS_ATTRS, "TLS_INFO_???", ULP_TLS_DECODERS),
    INET_ULP_INFO_MPTCP=nla_nested(L.INET_DIAG_ULP_INFO_MPTCP_ATTRS, "MPTCP_SUBFLOW_ATTR_???",
                                ULP_MPTCP_DECODERS))

BPF_STORAGE_DECODERS = _named_decoders(
    L.INET_DIAG_BPF_STORAGE_ATTRS, SK_DIAG_BPF_STORAGE_MAP_ID=nla_u32,
    SK_DIAG_BPF_STORAGE_MAP_VALUE=nla_xint)
BPF_STORAGES_DECODERS = _named_decoders(
    L.INET_DIAG_BPF_STORAGES_ATTRS,
    SK_DIAG_BPF_STORAGE=nla_nested(L.INET_DIAG_BPF_STORAGE_ATTRS, "SK_DIAG_BPF_STORAGE_???",
                                BPF_STORAGE_DECODERS))


@reads_partial
def _sockaddrs(body: bytes, opts: StraceOptions) -> str | None:
    return partial_array(body, SOCKADDR_STORAGE,
                         lambda raw, i: sockaddr_text(raw, SOCKADDR_STORAGE), opts)


INET_DIAG_MSG_DECODERS = _named_decoders(
    L.INET_DIAG_ATTRS,
    INET_DIAG_MEMINFO=INET_DIAG_MEMINFO.decoder, INET_DIAG_VEGASINFO=TCPVEGAS_INFO.decoder,
    INET_DIAG_CONG=nla_str, INET_DIAG_TOS=nla_u8, INET_DIAG_TCLASS=nla_u8,
    INET_DIAG_SKMEMINFO=nla_meminfo,
    # RCV_SHUTDOWN and SEND_SHUTDOWN are not UAPI: strace shows their numbers
    INET_DIAG_SHUTDOWN=nla_flags_verbose(L.INET_DIAG_SHUTDOWN_FLAGS, "???_SHUTDOWN", 1),
    INET_DIAG_DCTCPINFO=TCP_DCTCP_INFO.decoder, INET_DIAG_PROTOCOL=nla_ip_proto,
    INET_DIAG_SKV6ONLY=nla_u8, INET_DIAG_LOCALS=_sockaddrs, INET_DIAG_PEERS=_sockaddrs,
    INET_DIAG_MARK=nla_u32, INET_DIAG_BBRINFO=TCP_BBR_INFO.decoder,
    INET_DIAG_CLASS_ID=nla_u32,
    INET_DIAG_MD5SIG=reads_partial(
        lambda body, opts: partial_array(body, MD5SIG_SIZE, _md5sig, opts)),
    INET_DIAG_ULP_INFO=nla_nested(L.INET_DIAG_ULP_INFO_ATTRS, "INET_ULP_INFO_???", ULP_INFO_DECODERS),
    INET_DIAG_SK_BPF_STORAGES=nla_nested(L.INET_DIAG_BPF_STORAGES_ATTRS, "SK_DIAG_BPF_STORAGE_???",
                                      BPF_STORAGES_DECODERS),
    INET_DIAG_CGROUP_ID=nla_u64, INET_DIAG_SOCKOPT=_sockopt)

EXT = FL(INET_DIAG_EXT_FLAGS, "1<<INET_DIAG_???-1")
STATES = FL(TCP_STATE_FLAGS, "1<<TCP_???")
INET_DIAG_REQ = Layout(("idiag_family", "B", ADDR_FAMILY), ("idiag_src_len", "B", U),
                       ("idiag_dst_len", "B", U), ("idiag_ext", "B", EXT),
                       ("id", "48s", SOCKID), ("idiag_states", "I", STATES),
                       ("idiag_dbs", "I", U))
INET_DIAG_REQ_V2 = Layout(("sdiag_family", "B", ADDR_FAMILY),
                          ("sdiag_protocol", "B", XV(L.IPPROTOS, "IPPROTO_???")),
                          ("idiag_ext", "B", EXT), ("pad", "x", None),
                          ("idiag_states", "I", STATES), ("id", "48s", SOCKID))
INET_DIAG_MSG = Layout(("idiag_family", "B", ADDR_FAMILY),
                       ("idiag_state", "B", XV(L.TCP_STATES, "TCP_???")),
                       ("idiag_timer", "B", U), ("idiag_retrans", "B", U),
                       ("id", "48s", SOCKID), ("idiag_expires", "I", U),
                       ("idiag_rqueue", "I", U), ("idiag_wqueue", "I", U),
                       ("idiag_uid", "I", U), ("idiag_inode", "I", U))

# --- AF_UNIX (netlink_unix_diag.c) ----------------------------------------------------

def _unix_diag_vfs(body: bytes, opts: StraceOptions) -> str | None:
    """unix_diag_vfs holds the inode first; strace prints the device first."""
    if len(body) < 8:
        return None
    ino, dev = _struct.unpack_from("<II", body)
    return f"{{udiag_vfs_dev={makedev(dev)}, udiag_vfs_ino={ino}}}"


UNIX_DIAG_RQLEN = Layout(("udiag_rqueue", "I", U), ("udiag_wqueue", "I", U))
UNIX_DIAG_MSG_DECODERS = _named_decoders(
    L.UNIX_DIAG_ATTRS, UNIX_DIAG_NAME=nla_str, UNIX_DIAG_VFS=_unix_diag_vfs,
    UNIX_DIAG_PEER=nla_u32,
    UNIX_DIAG_ICONS=nla_array("I"),
    UNIX_DIAG_RQLEN=UNIX_DIAG_RQLEN.decoder, UNIX_DIAG_MEMINFO=nla_meminfo,
    UNIX_DIAG_SHUTDOWN=nla_u8, UNIX_DIAG_UID=nla_uid)
UNIX_DIAG_REQ = Layout(("sdiag_family", "B", ADDR_FAMILY), ("sdiag_protocol", "B", U),
                       ("pad", "2x", None), ("udiag_states", "I", STATES),
                       ("udiag_ino", "I", U),
                       ("udiag_show", "I", FL(L.UNIX_DIAG_SHOW, "UDIAG_SHOW_???")),
                       ("udiag_cookie", "8s", COOKIE))
UNIX_DIAG_MSG = Layout(("udiag_family", "B", ADDR_FAMILY),
                       ("udiag_type", "B", XV(L.SOCKET_TYPES, "SOCK_???")),
                       ("udiag_state", "B", XV(L.TCP_STATES, "TCP_???")), ("pad", "x", None),
                       ("udiag_ino", "I", U), ("udiag_cookie", "8s", COOKIE))

# --- AF_NETLINK (netlink_netlink_diag.c) ---------------------------------------------

NDIAG_PROTO_ALL = 0xFF
NETLINK_DIAG_RING = Layout(("ndr_block_size", "I", U), ("ndr_block_nr", "I", U),
                           ("ndr_frame_size", "I", U), ("ndr_frame_nr", "I", U))
NETLINK_DIAG_MSG_DECODERS = _named_decoders(
    L.NETLINK_DIAG_ATTRS, NETLINK_DIAG_MEMINFO=nla_meminfo,
    NETLINK_DIAG_GROUPS=reads_partial(lambda body, opts: partial_array(
        body, 8, lambda raw, i: val_0x(int.from_bytes(raw, "little"), 8), opts)),
    NETLINK_DIAG_RX_RING=NETLINK_DIAG_RING.decoder, NETLINK_DIAG_TX_RING=NETLINK_DIAG_RING.decoder,
    NETLINK_DIAG_FLAGS=nla_flags(L.NETLINK_SOCKET_FLAGS, "NDIAG_FLAG_???"))


def NDIAG_PROTOCOL(name, value, family):
    if value == NDIAG_PROTO_ALL:
        return f"{name}={named('NDIAG_PROTO_ALL', value)}"
    return f"{name}={xval(L.NETLINK_PROTOCOLS, value, 'NETLINK_???')}"


NETLINK_DIAG_REQ = Layout(("sdiag_family", "B", ADDR_FAMILY), ("sdiag_protocol", "B", NDIAG_PROTOCOL),
                          ("pad", "2x", None), ("ndiag_ino", "I", U),
                          ("ndiag_show", "I", FL(L.NETLINK_DIAG_SHOW, "NDIAG_SHOW_???")),
                          ("ndiag_cookie", "8s", COOKIE))
NETLINK_DIAG_MSG = Layout(("ndiag_family", "B", ADDR_FAMILY),
                          ("ndiag_type", "B", XV(L.SOCKET_TYPES, "SOCK_???")),
                          ("ndiag_protocol", "B", XV(L.NETLINK_PROTOCOLS, "NETLINK_???")),
                          ("ndiag_state", "B", XV(L.NETLINK_STATES, "NETLINK_???")),
                          ("ndiag_portid", "I", U), ("ndiag_dst_portid", "I", U),
                          ("ndiag_dst_group", "I", U), ("ndiag_ino", "I", U),
                          ("ndiag_cookie", "8s", COOKIE))

# --- AF_PACKET (netlink_packet_diag.c) -------------------------------------------------

PACKET_DIAG_INFO = Layout(("pdi_index", "I", IFINDEX),
                          ("pdi_version", "I", XV(L.AF_PACKET_VERSIONS, "TPACKET_???")),
                          ("pdi_reserve", "I", U), ("pdi_copy_thresh", "I", U),
                          ("pdi_tstamp", "I", U),
                          ("pdi_flags", "I", FL(L.PACKET_DIAG_INFO_FLAGS, "PDI_???")))
PACKET_DIAG_RING = Layout(("pdr_block_size", "I", U), ("pdr_block_nr", "I", U),
                          ("pdr_frame_size", "I", U), ("pdr_frame_nr", "I", U),
                          ("pdr_retire_tmo", "I", U), ("pdr_sizeof_priv", "I", U),
                          ("pdr_features", "I", U))
MAX_ADDR_LEN = 32
PACKET_DIAG_MCLIST_SIZE = 12 + MAX_ADDR_LEN


def _mclist(raw: bytes, i: int) -> str:
    """packet_diag_mclist: its address as long as pdmc_alen says."""
    index, count, kind, alen = _struct.unpack_from("<IIHH", raw)
    addr = raw[12:12 + min(alen, MAX_ADDR_LEN)]
    return (f"{{pdmc_index={ifindex_text(index)}, pdmc_count={count}, pdmc_type={kind}, "
            f"pdmc_alen={alen}, pdmc_addr={quote(addr, force_hex=True)}}}")


@reads_partial
def _packet_filter(body: bytes, opts: StraceOptions) -> str | None:
    """decode_packet_diag_filter: the socket's classic BPF program
    (print_sock_fprog), or where it is when the call's structs print
    abbreviated; none for less than one instruction."""
    if len(body) < INSN.size:
        return None
    if ABBREV.get():
        return address(body) if hasattr(body, "addr") else None
    return partial_array(body, INSN.size, lambda raw, i: insn_text(raw, sock_k), opts)


PACKET_DIAG_MSG_DECODERS = _named_decoders(
    L.PACKET_DIAG_ATTRS, PACKET_DIAG_INFO=PACKET_DIAG_INFO.decoder,
    PACKET_DIAG_MCLIST=reads_partial(
        lambda body, opts: partial_array(body, PACKET_DIAG_MCLIST_SIZE, _mclist, opts)),
    PACKET_DIAG_RX_RING=PACKET_DIAG_RING.decoder, PACKET_DIAG_TX_RING=PACKET_DIAG_RING.decoder,
    PACKET_DIAG_FANOUT=nla_u32, PACKET_DIAG_UID=nla_uid, PACKET_DIAG_MEMINFO=nla_meminfo,
    PACKET_DIAG_FILTER=_packet_filter)
# AF_PACKET takes protocol 0 alone: strace prints it in hex
PACKET_DIAG_REQ = Layout(("sdiag_family", "B", ADDR_FAMILY), ("sdiag_protocol", "B", X),
                         ("pad", "2x", None), ("pdiag_ino", "I", U),
                         ("pdiag_show", "I", FL(L.PACKET_DIAG_SHOW, "PACKET_SHOW_???")),
                         ("pdiag_cookie", "8s", COOKIE))
PACKET_DIAG_MSG = Layout(("pdiag_family", "B", ADDR_FAMILY),
                         ("pdiag_type", "B", XV(L.SOCKET_TYPES, "SOCK_???")),
                         ("pdiag_num", "H", XV(L.ETH_PROTOCOLS, "ETH_P_???")),
                         ("pdiag_ino", "I", U), ("pdiag_cookie", "8s", COOKIE))

# --- AF_SMC (netlink_smc_diag.c) -------------------------------------------------------

SMC_DIAG_CURSOR = Layout(("reserved", "H", U), ("wrap", "H", U), ("count", "I", U))


def CURSOR(name, value, family):
    return f"{name}={SMC_DIAG_CURSOR.text(value)}"


SMC_DIAG_CONNINFO = Layout(
    ("token", "I", U), ("sndbuf_size", "I", U), ("rmbe_size", "I", U),
    ("peer_rmbe_size", "I", U), ("rx_prod", "8s", CURSOR), ("rx_cons", "8s", CURSOR),
    ("tx_prod", "8s", CURSOR), ("tx_cons", "8s", CURSOR), ("rx_prod_flags", "B", X0),
    ("rx_conn_state_flags", "B", X0), ("tx_prod_flags", "B", X0),
    ("tx_conn_state_flags", "B", X0), ("tx_prep", "8s", CURSOR), ("tx_sent", "8s", CURSOR),
    ("tx_fin", "8s", CURSOR))
IB_DEVICE_NAME_MAX = 64
SMC_DIAG_LINKINFO = Layout(("link_id", "B", U), ("ibname", f"{IB_DEVICE_NAME_MAX}s", CSTRING),
                           ("ibport", "B", U), ("gid", "40s", CSTRING),
                           ("peer_gid", "40s", CSTRING))
SMC_DIAG_LGRINFO = Layout(
    ("lnk", f"{SMC_DIAG_LINKINFO.size}s", lambda n, v, f: f"{n}=[{SMC_DIAG_LINKINFO.text(v)}]"),
    ("role", "B", XV(L.SMC_LINK_GROUP_ROLES, "SMC_???")))
SMCD_DIAG_DMBINFO = Layout(("linkid", "I", U), ("pad", "4x", None), ("peer_gid", "Q", X),
                           ("my_gid", "Q", X), ("token", "Q", X), ("peer_token", "Q", X))
SMC_DIAG_FALLBACK = Layout(
    ("reason", "I", lambda n, v, f: f"{n}={xval_verbose(L.SMC_DECL_CODES, v, 'SMC_CLC_DECL_???')}"),
    ("peer_diagnosis", "I",
     lambda n, v, f: f"{n}={xval_verbose(L.SMC_DECL_CODES, v, 'SMC_CLC_DECL_???')}"))
SMC_DIAG_MSG_DECODERS = _named_decoders(
    L.SMC_DIAG_ATTRS, SMC_DIAG_CONNINFO=SMC_DIAG_CONNINFO.decoder,
    SMC_DIAG_LGRINFO=SMC_DIAG_LGRINFO.decoder,
    SMC_DIAG_SHUTDOWN=nla_flags(L.SOCK_SHUTDOWN_FLAGS, "???_SHUTDOWN", 1),
    SMC_DIAG_DMBINFO=SMCD_DIAG_DMBINFO.decoder, SMC_DIAG_FALLBACK=SMC_DIAG_FALLBACK.decoder)
SMC_DIAG_REQ = Layout(("diag_family", "B", ADDR_FAMILY), ("pad", "2x", None),
                      ("diag_ext", "B", FL(L.SMC_DIAG_EXTENDED_FLAGS, "1<<SMC_DIAG_???-1")),
                      ("id", "48s", SOCKID_INET))
SMC_DIAG_MSG = Layout(("diag_family", "B", ADDR_FAMILY),
                      ("diag_state", "B", XV(L.SMC_STATES, "SMC_???")),
                      ("diag_fallback", "B", XV(L.SMC_DIAG_MODE, "SMC_DIAG_MODE_???")),
                      ("diag_shutdown", "B", U), ("id", "48s", SOCKID_INET),
                      ("diag_uid", "I", U), ("diag_inode", "Q", U))

# --- the messages -----------------------------------------------------------------------


class Diag(NamedTuple):
    """A family's message: its struct, then (past its aligned size) its attributes."""
    layout: Layout
    attrs: Xlat | None = None
    unknown: str = ""
    decoders: dict | None = None

    def text(self, body: bytes, opts: StraceOptions) -> str:
        family = body[0]
        first = self.layout.rows[0][0]
        if len(body) < self.layout.size:
            return f"{{{first}={family_text(family)}, ...}}"
        if not readable(body, self.layout.size):
            return family_then_address(first, body)
        text = self.layout.text(body, family)
        if self.attrs is None:
            return text
        return with_attrs(text, body, self.layout.size, opts, self.attrs, self.unknown,
                          self.decoders)


INET_REQ_ATTRS = (L.INET_DIAG_REQ_ATTRS, "INET_DIAG_REQ_???", INET_DIAG_REQ_DECODERS)
INET_DIAG_REPLY = Diag(INET_DIAG_MSG, L.INET_DIAG_ATTRS, "INET_DIAG_???", INET_DIAG_MSG_DECODERS)
# family -> (request, reply)
DIAGS = {
    AF["AF_UNIX"]: (Diag(UNIX_DIAG_REQ),
                    Diag(UNIX_DIAG_MSG, L.UNIX_DIAG_ATTRS, "UNIX_DIAG_???", UNIX_DIAG_MSG_DECODERS)),
    AF_INET: (None, INET_DIAG_REPLY),
    AF_INET6: (None, INET_DIAG_REPLY),
    AF["AF_NETLINK"]: (Diag(NETLINK_DIAG_REQ),
                       Diag(NETLINK_DIAG_MSG, L.NETLINK_DIAG_ATTRS, "NETLINK_DIAG_???",
                            NETLINK_DIAG_MSG_DECODERS)),
    AF["AF_PACKET"]: (Diag(PACKET_DIAG_REQ),
                      Diag(PACKET_DIAG_MSG, L.PACKET_DIAG_ATTRS, "PACKET_DIAG_???",
                           PACKET_DIAG_MSG_DECODERS)),
    AF["AF_SMC"]: (Diag(SMC_DIAG_REQ),
                   Diag(SMC_DIAG_MSG, L.SMC_DIAG_ATTRS, "SMC_DIAG_???", SMC_DIAG_MSG_DECODERS)),
}
# the inet requests: the old struct for the old message types, else inet_diag_req_v2
INET_DIAG_COMPAT_TYPES = {SOCK_DIAG.get("TCPDIAG_GETSOCK"), SOCK_DIAG.get("DCCPDIAG_GETSOCK")}
INET_DIAG_REQUESTS = (Diag(INET_DIAG_REQ_V2, *INET_REQ_ATTRS),
                      Diag(INET_DIAG_REQ, *INET_REQ_ATTRS))


def sock_diag(msg_type: int, msg_flags: int, body: bytes, opts: StraceOptions) -> str | None:
    """decode_netlink_sock_diag: the family's request or reply, else the family and its data."""
    if msg_type == NLMSG_DONE:
        return None
    family = body[0]
    if len(body) > 1 and family in DIAGS:
        request, reply = DIAGS[family]
        if msg_flags & NLM_F_REQUEST:
            request = request or INET_DIAG_REQUESTS[msg_type in INET_DIAG_COMPAT_TYPES]
            return request.text(body, opts)
        return reply.text(body, opts)
    text = f"{{family={family_text(family)}"
    if len(body) > 1:
        text += f", data={hexstr(body[1:], opts)}"
    return text + "}"

"""NETLINK_ROUTE messages as strace 6.1 prints them (rtnl_*.c): each message
type's fixed struct, then its attributes by their tables.
"""

from __future__ import annotations

import struct as _struct
from functools import lru_cache

from ..xlat import LINUX as L
from ..xlat import Xlat
from .fmt import StraceOptions, array, flags, hexval, named, xval
from .nlattr import (MAX_ADDR_LEN, NLMSG_DONE, align4, family_text, family_then_address, hexstr, index_text,
                     inet_addr_text, nla_array, nla_be16, nla_be64, nla_clock_t, nla_cstr,
                     nla_fd, nla_flags, nla_hwaddr, nla_ifindex, nla_in6_addr, nla_in_addr,
                     nla_inet_addr, nla_nested, nla_s32, nla_str, nla_struct,
                     nla_u8, nla_u16, nla_u32, nla_u64, nla_uid, nla_x16, nla_x32, nla_xval,
                     nlattr_text, readable, reads_partial, struct_text, u32, with_attrs, xval_or_hex)
from .sockaddr import hex_bytes, ifindex_text, mac_text, styled, val_0x

AF_BRIDGE = L.ADDRESS_FAMILIES.value("AF_BRIDGE")

RTM = {n: v for v, n in L.NL_ROUTE_TYPES.entries}


def by_name(table: Xlat, **decoders) -> dict:
    """An attribute table's decoders keyed by the attributes' values."""
    return {table.value(name): decoder for name, decoder in decoders.items()}


# field spellings of PRINT_FIELD_*
U = str


def field_flags(table: Xlat, unknown: str):
    return lambda value: flags(table, value, "0", unknown)


def field_xval(table: Xlat, unknown: str | None):
    return (lambda value: xval(table, value, unknown)) if unknown else (
        lambda value: xval_or_hex(table, value))


def field_x(value: int) -> str:
    """PRINT_FIELD_X: C's %#x."""
    return hexval(value)


def family_head(field: str, body: bytes, size: int) -> tuple[str, str | None]:
    """A message's family field, and what strace prints instead of the message
    when its ``size``-byte fixed part is short (``...``) or unreadable (None: neither)."""
    head = f"{field}={family_text(body[0])}"
    if len(body) < size:
        return head, f"{{{head}, ...}}"
    if not readable(body, size):
        return head, family_then_address(field, body)
    return head, None


def fixed_msg(family_field: str, code: str, fields, table: Xlat, unknown: str, decoders=None):
    """A message of a family byte, more fields (``struct`` format ``code`` after
    the family, (name, spell) each) and attributes; ``decoders``: a dict, or a
    function of the family giving one."""
    code = "<B" + code
    size = _struct.calcsize(code)

    def decode(body: bytes, opts: StraceOptions) -> str:
        head, instead = family_head(family_field, body, size)
        if instead is not None:
            return instead
        values = _struct.unpack_from(code, body)[1:]
        text = "{" + head + ", " + struct_text(fields, values)[1:]
        attrs = decoders(body[0]) if callable(decoders) else decoders
        return with_attrs(text, body, size, opts, table, unknown, attrs)
    return decode


# --- ifaddrmsg (rtnl_addr.c) ---------------------------------------------------------

@lru_cache(maxsize=None)
def _ifaddr_decoders(family: int) -> dict:
    address = nla_inet_addr(family)
    return by_name(
        L.RTNL_ADDR_ATTRS, IFA_ADDRESS=address, IFA_LOCAL=address, IFA_LABEL=nla_str,
        IFA_BROADCAST=address, IFA_ANYCAST=address,
        IFA_CACHEINFO=nla_struct("IIII", [("ifa_prefered", U), ("ifa_valid", U),
                                          ("cstamp", U), ("tstamp", U)]),
        IFA_MULTICAST=address, IFA_FLAGS=nla_flags(L.IFADDRFLAGS, "IFA_F_???"),
        IFA_RT_PRIORITY=nla_u32, IFA_TARGET_NETNSID=nla_s32)


_ifaddrmsg = fixed_msg(
    "ifa_family", "BBBI", [("ifa_prefixlen", U),
                           ("ifa_flags", field_flags(L.IFADDRFLAGS, "IFA_F_???")),
                           ("ifa_scope", field_xval(L.ROUTING_SCOPES, None)),
                           ("ifa_index", ifindex_text)],
    L.RTNL_ADDR_ATTRS, "IFA_???", _ifaddr_decoders)

# --- rtmsg (rtnl_route.c) ------------------------------------------------------------

RTA_METRICS = nla_nested(L.RTNL_RTA_METRICS_ATTRS, "RTAX_???", {
    **{value: nla_u32 for value, name in L.RTNL_RTA_METRICS_ATTRS.entries if value},
    L.RTNL_RTA_METRICS_ATTRS.value("RTAX_CC_ALGO"): nla_str})
nla_rt_class = nla_xval(L.ROUTING_TABLE_IDS, None, 4)
nla_rt_proto = nla_xval(L.ROUTING_PROTOCOLS, "RTPROT_???", 1)
RTNEXTHOP = _struct.Struct("<HBBi")


def _rtvia(body: bytes, opts: StraceOptions) -> str | None:
    if len(body) < 2:
        return None
    family = int.from_bytes(body[:2], "little")
    text = f"{{rtvia_family={xval(L.ADDRESS_FAMILIES, family, 'AF_???')}"
    if len(body) > 2:
        text += ", " + nla_inet_addr(family, "rtvia_addr")(body[2:], opts)
    return text + "}"


@lru_cache(maxsize=None)
def _rtmsg_decoders(family: int) -> dict:
    address = nla_inet_addr(family)
    decoders = by_name(
        L.RTNL_ROUTE_ATTRS, RTA_DST=address, RTA_SRC=address, RTA_IIF=nla_ifindex,
        RTA_OIF=nla_ifindex, RTA_GATEWAY=address, RTA_PRIORITY=nla_u32, RTA_PREFSRC=address,
        RTA_METRICS=RTA_METRICS, RTA_PROTOINFO=nla_u32, RTA_FLOW=nla_u32,
        # rta_error is an __s32 that PRINT_FIELD_U shows unsigned
        RTA_CACHEINFO=nla_struct("IIIIIIII", [
            ("rta_clntref", U), ("rta_lastuse", U), ("rta_expires", U), ("rta_error", U),
            ("rta_used", U), ("rta_id", field_x), ("rta_ts", U),
            ("rta_tsage", U)]),
        RTA_MP_ALGO=nla_u32, RTA_TABLE=nla_rt_class, RTA_MARK=nla_u32,
        RTA_MFC_STATS=nla_struct("QQQ", [("mfcs_packets", U), ("mfcs_bytes", U),
                                         ("mfcs_wrong_if", U)]),
        RTA_VIA=_rtvia, RTA_NEWDST=address, RTA_PREF=nla_u8,
        RTA_ENCAP_TYPE=nla_xval(L.LWTUNNEL_ENCAP_TYPES, "LWTUNNEL_ENCAP_???", 2),
        RTA_EXPIRES=nla_u64, RTA_UID=nla_u32, RTA_TTL_PROPAGATE=nla_u8, RTA_IP_PROTO=nla_u8,
        RTA_SPORT=nla_u16, RTA_DPORT=nla_u16)
    decoders[L.RTNL_ROUTE_ATTRS.value("RTA_MULTIPATH")] = lambda body, opts: _multipath(
        body, opts, decoders)
    return decoders


def _multipath(body: bytes, opts: StraceOptions, decoders: dict) -> str | None:
    """decode_rta_multipath: rtnexthop structs, each with its attributes."""
    if len(body) < RTNEXTHOP.size:
        return None
    parts, rest = [], body
    while len(rest) >= RTNEXTHOP.size:
        length, nh_flags, hops, ifindex = RTNEXTHOP.unpack_from(rest)
        size = min(len(rest), length)
        text = (f"{{rtnh_len={length}, rtnh_flags="
                f"{flags(L.ROUTE_NEXTHOP_FLAGS, nh_flags, '0', 'RTNH_F_???')}, "
                f"rtnh_hops={hops}, rtnh_ifindex={ifindex_text(ifindex)}}}")
        if size > RTNEXTHOP.size:
            attrs = with_attrs(text, rest[:size], RTNEXTHOP.size, opts, L.RTNL_ROUTE_ATTRS,
                               "RTA_???", decoders)
            text = f"[{attrs}]"
        parts.append(text)
        step = align4(size)
        if not step or step >= len(rest):   # a zero rtnh_len: strace would print it forever
            break
        rest = rest[step:]
    first_len = RTNEXTHOP.unpack_from(body)[0]
    return f"[{', '.join(parts)}]" if first_len < len(body) else parts[0]


_rtmsg = fixed_msg(
    "rtm_family", "BBBBBBBI", [
        ("rtm_dst_len", U), ("rtm_src_len", U),
        ("rtm_tos", field_flags(L.IP_TYPE_OF_SERVICES, "IPTOS_TOS_???")),
        ("rtm_table", field_xval(L.ROUTING_TABLE_IDS, None)),
        ("rtm_protocol", field_xval(L.ROUTING_PROTOCOLS, "RTPROT_???")),
        ("rtm_scope", field_xval(L.ROUTING_SCOPES, None)),
        ("rtm_type", field_xval(L.ROUTING_TYPES, "RTN_???")),
        ("rtm_flags", field_flags(L.ROUTING_FLAGS, "RTM_F_???"))],
    L.RTNL_ROUTE_ATTRS, "RTA_???", _rtmsg_decoders)

# --- ifinfomsg (rtnl_link.c) ----------------------------------------------------------

# print_mac.c's hwaddr_sizes: an address's bytes by device type (strace looks it up
# by ifi_family); 0 for a type it does not list, all of them past its end
HWADDR_SIZES = {L.ARPHRD_TYPES.value(name): int(size) for name, size in (w.split("=") for w in (
    "ARPHRD_NETROM=7 ARPHRD_ETHER=6 ARPHRD_AX25=7 ARPHRD_IEEE802=6 ARPHRD_ARCNET=1 "
    "ARPHRD_DLCI=2 ARPHRD_IEEE1394=16 ARPHRD_EUI64=8 ARPHRD_INFINIBAND=20 ARPHRD_ROSE=5 "
    "ARPHRD_MCTP=1 ARPHRD_TUNNEL=4 ARPHRD_TUNNEL6=16 ARPHRD_LOOPBACK=6 ARPHRD_LOCALTLK=1 "
    "ARPHRD_FDDI=6 ARPHRD_SIT=4 ARPHRD_IPGRE=4 ARPHRD_HIPPI=6 ARPHRD_IRDA=4 "
    "ARPHRD_IEEE80211=6 ARPHRD_IEEE80211_PRISM=6 ARPHRD_IEEE80211_RADIOTAP=6 "
    "ARPHRD_IEEE802154=8 ARPHRD_IEEE802154_MONITOR=8 ARPHRD_PHONET=1 ARPHRD_PHONET_PIPE=1 "
    "ARPHRD_IP6GRE=16 ARPHRD_6LOWPAN=8").split())}
HWADDR_TYPES_END = L.ARPHRD_TYPES.value("ARPHRD_VSOCKMON") + 1


def hwaddr_printer(devtype: int):
    """decode_nla_hwaddr_family: ``aa:bb:..`` of as many bytes as the type has."""
    shown = HWADDR_SIZES.get(devtype, 0) if devtype < HWADDR_TYPES_END else 255

    def decode(body: bytes, opts: StraceOptions) -> str | None:
        if len(body) > MAX_ADDR_LEN:
            return None
        return styled(hex_bytes(body), ":".join(f"{b:02x}" for b in body[:shown]))
    return decode


LINK_STATS = [(name, U) for name in (
    "rx_packets tx_packets rx_bytes tx_bytes rx_errors tx_errors rx_dropped tx_dropped "
    "multicast collisions rx_length_errors rx_over_errors rx_crc_errors rx_frame_errors "
    "rx_fifo_errors rx_missed_errors tx_aborted_errors tx_carrier_errors tx_fifo_errors "
    "tx_heartbeat_errors tx_window_errors rx_compressed tx_compressed rx_nohandler "
    "rx_otherhost_dropped").split()]


def link_stats(code: str, sizes: tuple[int, ...]):
    """rtnl_link_stats(64): the struct of fields of ``code`` each, the older
    (shorter) sizes only when the attribute is exactly one of them."""
    def decode(body: bytes, opts: StraceOptions) -> str | None:
        count = next((n for n in sizes if len(body) >= n * _struct.calcsize(code)
                      and (n == sizes[0] or len(body) == n * _struct.calcsize(code))), 0)
        if not count:
            return None
        return struct_text(LINK_STATS[:count], _struct.unpack_from(f"<{count}{code}", body))
    return decode


@reads_partial
def _prop_list(body: bytes, opts: StraceOptions) -> str:
    return nlattr_text(body, opts, L.RTNL_LINK_ATTRS, "IFLA_???",
                       by_name(L.RTNL_LINK_ATTRS, IFLA_ALT_IFNAME=nla_str))


def _port_vsi(body: bytes, opts: StraceOptions) -> str | None:
    """decode_ifla_port_vsi: struct ifla_port_vsi, its pad only when not zero."""
    if len(body) < 8:
        return None
    text = (f"{{vsi_mgr_id={body[0]}, vsi_type_id={hex_bytes(body[1:4])}, "
            f"vsi_type_version={body[4]}")
    if any(body[5:8]):
        text += f", pad={hex_bytes(body[5:8])}"
    return text + "}"


IFLA_PORT = nla_nested(L.RTNL_IFLA_PORT_ATTRS, "IFLA_PORT_???", by_name(
    L.RTNL_IFLA_PORT_ATTRS, IFLA_PORT_VF=nla_u32, IFLA_PORT_PROFILE=nla_str,
    IFLA_PORT_VSI_TYPE=_port_vsi, IFLA_PORT_REQUEST=nla_u8, IFLA_PORT_RESPONSE=nla_u16))
IFLA_XDP = nla_nested(L.RTNL_IFLA_XDP_ATTRS, "IFLA_XDP_???", by_name(
    L.RTNL_IFLA_XDP_ATTRS, IFLA_XDP_FD=nla_fd,
    IFLA_XDP_ATTACHED=nla_xval(L.RTNL_IFLA_XDP_ATTACHED_MODE, "XDP_ATTACHED_???", 1),
    IFLA_XDP_FLAGS=nla_flags(L.XDP_FLAGS, "XDP_FLAGS_???", 4),
    IFLA_XDP_PROG_ID=nla_u32, IFLA_XDP_DRV_PROG_ID=nla_u32, IFLA_XDP_SKB_PROG_ID=nla_u32,
    IFLA_XDP_HW_PROG_ID=nla_u32, IFLA_XDP_EXPECTED_FD=nla_fd))


def bridge_id(body: bytes, opts: StraceOptions) -> str | None:
    """decode_ifla_bridge_id: ``{prio=[1, 2], addr=aa:bb:..}``."""
    if len(body) < 8:
        return None
    return f"{{prio=[{body[0]}, {body[1]}], addr={mac_text(body[2:8])}}}"


BRPORT_U8 = ("IFLA_BRPORT_STATE IFLA_BRPORT_MODE IFLA_BRPORT_GUARD IFLA_BRPORT_PROTECT "
             "IFLA_BRPORT_FAST_LEAVE IFLA_BRPORT_LEARNING IFLA_BRPORT_UNICAST_FLOOD "
             "IFLA_BRPORT_PROXYARP IFLA_BRPORT_LEARNING_SYNC IFLA_BRPORT_PROXYARP_WIFI "
             "IFLA_BRPORT_TOPOLOGY_CHANGE_ACK IFLA_BRPORT_CONFIG_PENDING "
             "IFLA_BRPORT_MULTICAST_ROUTER IFLA_BRPORT_MCAST_FLOOD IFLA_BRPORT_MCAST_TO_UCAST "
             "IFLA_BRPORT_VLAN_TUNNEL IFLA_BRPORT_BCAST_FLOOD IFLA_BRPORT_NEIGH_SUPPRESS "
             "IFLA_BRPORT_ISOLATED IFLA_BRPORT_MRP_RING_OPEN IFLA_BRPORT_MRP_IN_OPEN "
             "IFLA_BRPORT_LOCKED")
BRPORT_U16 = ("IFLA_BRPORT_PRIORITY IFLA_BRPORT_DESIGNATED_PORT IFLA_BRPORT_DESIGNATED_COST "
              "IFLA_BRPORT_ID IFLA_BRPORT_NO")
BRPORT_CLOCK = ("IFLA_BRPORT_MESSAGE_AGE_TIMER IFLA_BRPORT_FORWARD_DELAY_TIMER "
                "IFLA_BRPORT_HOLD_TIMER")
BRPORT = {
    **by_name(L.RTNL_IFLA_BRPORT_ATTRS, **dict.fromkeys(BRPORT_U8.split(), nla_u8)),
    **by_name(L.RTNL_IFLA_BRPORT_ATTRS, **dict.fromkeys(BRPORT_U16.split(), nla_u16)),
    **by_name(L.RTNL_IFLA_BRPORT_ATTRS, **dict.fromkeys(BRPORT_CLOCK.split(), nla_clock_t)),
    **by_name(L.RTNL_IFLA_BRPORT_ATTRS, IFLA_BRPORT_COST=nla_u32,
              IFLA_BRPORT_ROOT_ID=bridge_id, IFLA_BRPORT_BRIDGE_ID=bridge_id,
              IFLA_BRPORT_GROUP_FWD_MASK=nla_x16, IFLA_BRPORT_BACKUP_PORT=nla_ifindex,
              IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT=nla_u32, IFLA_BRPORT_MCAST_EHT_HOSTS_CNT=nla_u32),
}
BRPORT_ATTRS = (L.RTNL_IFLA_BRPORT_ATTRS, "IFLA_BRPORT_???", BRPORT)

BR_CLOCK = ("IFLA_BR_FORWARD_DELAY IFLA_BR_HELLO_TIME IFLA_BR_MAX_AGE IFLA_BR_AGEING_TIME "
            "IFLA_BR_HELLO_TIMER IFLA_BR_TCN_TIMER IFLA_BR_TOPOLOGY_CHANGE_TIMER IFLA_BR_GC_TIMER "
            "IFLA_BR_MCAST_LAST_MEMBER_INTVL IFLA_BR_MCAST_MEMBERSHIP_INTVL "
            "IFLA_BR_MCAST_QUERIER_INTVL IFLA_BR_MCAST_QUERY_INTVL "
            "IFLA_BR_MCAST_QUERY_RESPONSE_INTVL IFLA_BR_MCAST_STARTUP_QUERY_INTVL")
BR_U8 = ("IFLA_BR_VLAN_FILTERING IFLA_BR_TOPOLOGY_CHANGE IFLA_BR_TOPOLOGY_CHANGE_DETECTED "
         "IFLA_BR_MCAST_ROUTER IFLA_BR_MCAST_SNOOPING IFLA_BR_MCAST_QUERY_USE_IFADDR "
         "IFLA_BR_MCAST_QUERIER IFLA_BR_NF_CALL_IPTABLES IFLA_BR_NF_CALL_IP6TABLES "
         "IFLA_BR_NF_CALL_ARPTABLES IFLA_BR_VLAN_STATS_ENABLED IFLA_BR_MCAST_STATS_ENABLED "
         "IFLA_BR_MCAST_IGMP_VERSION IFLA_BR_MCAST_MLD_VERSION IFLA_BR_VLAN_STATS_PER_PORT")
BR_U32 = ("IFLA_BR_STP_STATE IFLA_BR_ROOT_PATH_COST IFLA_BR_MCAST_HASH_ELASTICITY "
          "IFLA_BR_MCAST_HASH_MAX IFLA_BR_MCAST_LAST_MEMBER_CNT IFLA_BR_MCAST_STARTUP_QUERY_CNT")
BOOLOPT = field_flags(L.RTNL_IFLA_BR_BOOLOPT_FLAGS, "1<<BR_BOOLOPT_???")
INFO_DATA_BRIDGE = {
    **by_name(L.RTNL_IFLA_INFO_DATA_BRIDGE_ATTRS, **dict.fromkeys(BR_CLOCK.split(), nla_clock_t)),
    **by_name(L.RTNL_IFLA_INFO_DATA_BRIDGE_ATTRS, **dict.fromkeys(BR_U8.split(), nla_u8)),
    **by_name(L.RTNL_IFLA_INFO_DATA_BRIDGE_ATTRS, **dict.fromkeys(BR_U32.split(), nla_u32)),
    **by_name(
        L.RTNL_IFLA_INFO_DATA_BRIDGE_ATTRS, IFLA_BR_PRIORITY=nla_u16,
        IFLA_BR_VLAN_PROTOCOL=nla_xval(L.ETH_PROTOCOLS, "ETHER_P_???", 2, host_order=True),
        IFLA_BR_GROUP_FWD_MASK=nla_x16, IFLA_BR_ROOT_ID=bridge_id, IFLA_BR_BRIDGE_ID=bridge_id,
        IFLA_BR_ROOT_PORT=nla_u16, IFLA_BR_GROUP_ADDR=nla_hwaddr,
        IFLA_BR_VLAN_DEFAULT_PVID=nla_u16,
        IFLA_BR_MULTI_BOOLOPT=nla_struct("II", [("optval", BOOLOPT), ("optmask", BOOLOPT)]),
        IFLA_BR_MCAST_QUERIER_STATE=nla_nested(
            L.RTNL_IFLA_BR_MCAST_QUERIER_ATTRS, "BRIDGE_QUERIER_???", by_name(
                L.RTNL_IFLA_BR_MCAST_QUERIER_ATTRS, BRIDGE_QUERIER_IP_ADDRESS=nla_in_addr,
                BRIDGE_QUERIER_IP_PORT=nla_ifindex, BRIDGE_QUERIER_IP_OTHER_TIMER=nla_clock_t,
                BRIDGE_QUERIER_IPV6_ADDRESS=nla_in6_addr, BRIDGE_QUERIER_IPV6_PORT=nla_ifindex,
                BRIDGE_QUERIER_IPV6_OTHER_TIMER=nla_clock_t))),
}
INFO_DATA_TUN = by_name(
    L.RTNL_IFLA_INFO_DATA_TUN_ATTRS, IFLA_TUN_OWNER=nla_uid, IFLA_TUN_GROUP=nla_uid,
    IFLA_TUN_TYPE=nla_xval(L.TUN_DEVICE_TYPES, "IFF_???", 1), IFLA_TUN_PI=nla_u8,
    IFLA_TUN_VNET_HDR=nla_u8, IFLA_TUN_PERSIST=nla_u8, IFLA_TUN_MULTI_QUEUE=nla_u8,
    IFLA_TUN_NUM_QUEUES=nla_u32, IFLA_TUN_NUM_DISABLED_QUEUES=nla_u32)
# IFLA_INFO_DATA, IFLA_INFO_XSTATS, IFLA_INFO_SLAVE_DATA by the kind named before them
INFO_DATA = {"bridge": (L.RTNL_IFLA_INFO_DATA_BRIDGE_ATTRS, "IFLA_BR_???", INFO_DATA_BRIDGE),
             "tun": (L.RTNL_IFLA_INFO_DATA_TUN_ATTRS, "IFLA_TUN_???", INFO_DATA_TUN)}
INFO_XSTATS = {"can": nla_struct("IIIIII", [(name, U) for name in (
    "bus_error error_warning error_passive bus_off arbitration_lost restarts").split()])}
INFO_SLAVE_DATA = {"bridge": BRPORT_ATTRS}
IFLA_INFO = {n: v for v, n in L.RTNL_IFLA_INFO_ATTRS.entries}


@reads_partial
def _linkinfo(body: bytes, opts: StraceOptions) -> str:
    """decode_ifla_linkinfo: IFLA_INFO_KIND (and SLAVE_KIND) tell how the data
    after them reads."""
    kinds = {"kind": "", "slave_kind": ""}

    def kind(key: str):
        def decode(value: bytes, opts: StraceOptions) -> str:
            end = value.find(b"\0")
            if len(value) < 64:
                kinds[key] = (value[:end] if end >= 0 else value).decode("latin-1")
            return nla_cstr(value, opts)
        return decode

    def by_kind(key: str, table: dict, nested: bool):
        def decode(value: bytes, opts: StraceOptions) -> str | None:
            found = table.get(kinds[key])
            if found is None:
                return None
            return nlattr_text(value, opts, *found) if nested else found(value, opts)
        return decode

    decoders = {IFLA_INFO["IFLA_INFO_KIND"]: kind("kind"),
                IFLA_INFO["IFLA_INFO_DATA"]: by_kind("kind", INFO_DATA, True),
                IFLA_INFO["IFLA_INFO_XSTATS"]: by_kind("kind", INFO_XSTATS, False),
                IFLA_INFO["IFLA_INFO_SLAVE_KIND"]: kind("slave_kind"),
                IFLA_INFO["IFLA_INFO_SLAVE_DATA"]: by_kind("slave_kind", INFO_SLAVE_DATA, True)}
    return nlattr_text(body, opts, L.RTNL_IFLA_INFO_ATTRS, "IFLA_INFO_???", decoders)


INET6_ATTRS = (L.RTNL_IFLA_AF_SPEC_INET6_ATTRS, "IFLA_INET6_???", by_name(
    L.RTNL_IFLA_AF_SPEC_INET6_ATTRS, IFLA_INET6_FLAGS=nla_flags(L.INET6_IF_FLAGS, "IF_???", 4),
    IFLA_INET6_CONF=nla_array("i", (L.INET6_DEVCONF_INDICES, "DEVCONF_???")),
    IFLA_INET6_STATS=nla_array("Q", (L.SNMP_IP_STATS, "IPSTATS_MIB_???")),
    IFLA_INET6_CACHEINFO=nla_struct("IIII", [("max_reasm_len", U), ("tstamp", U),
                                             ("reachable_time", U), ("retrans_time", U)]),
    IFLA_INET6_ICMP6STATS=nla_array("Q", (L.SNMP_ICMP6_STATS, "ICMP6_MIB_???")),
    IFLA_INET6_TOKEN=nla_in6_addr,
    IFLA_INET6_ADDR_GEN_MODE=nla_xval(L.IN6_ADDR_GEN_MODE, "IN6_ADDR_GEN_MODE_???", 1),
    IFLA_INET6_RA_MTU=nla_u32))
AF = {n: v for v, n in L.ADDRESS_FAMILIES.entries}
PROTINFO = {AF["AF_BRIDGE"]: BRPORT_ATTRS, AF["AF_INET6"]: INET6_ATTRS}
AF_SPEC = {  # IFLA_AF_SPEC's attributes, typed by address family (decode_ifla_af)
    AF["AF_INET"]: nla_nested(L.RTNL_IFLA_AF_SPEC_INET_ATTRS, "IFLA_INET_???", by_name(
        L.RTNL_IFLA_AF_SPEC_INET_ATTRS,
        IFLA_INET_CONF=nla_array("i", (L.INET_DEVCONF_INDICES, "IPV4_DEVCONF_???")))),
    AF["AF_INET6"]: nla_nested(*INET6_ATTRS),
    AF["AF_MCTP"]: nla_nested(L.RTNL_IFLA_AF_SPEC_MCTP_ATTRS, "IFLA_MCTP_???", by_name(
        L.RTNL_IFLA_AF_SPEC_MCTP_ATTRS, IFLA_MCTP_NET=nla_u32)),
}
VLAN_FLAGS = nla_flags(L.NL_BRIDGE_VLAN_FLAGS, "BRIDGE_VLAN_INFO_???", 2)


def _bridge_vlan_info(body: bytes, opts: StraceOptions) -> str | None:
    if len(body) < 4:
        return None
    vlan_flags, vid = _struct.unpack_from("<HH", body)
    text = (f"{{flags={flags(L.NL_BRIDGE_VLAN_FLAGS, vlan_flags, '0', 'BRIDGE_VLAN_INFO_???')}, "
            f"vid={vid}}}")
    return f"{text}, {hexstr(body[4:], opts)}" if len(body) > 4 else text


AF_SPEC_BRIDGE = by_name(
    L.RTNL_IFLA_AF_SPEC_BRIDGE_ATTRS,
    IFLA_BRIDGE_FLAGS=nla_flags(L.RTNL_IFLA_BRIDGE_FLAGS, "BRIDGE_FLAGS_???", 2),
    IFLA_BRIDGE_MODE=nla_xval(L.RTNL_IFLA_BRIDGE_MODES, "BRIDGE_MODE_???", 2),
    IFLA_BRIDGE_VLAN_INFO=_bridge_vlan_info,
    IFLA_BRIDGE_VLAN_TUNNEL_INFO=nla_nested(
        L.RTNL_IFLA_AF_SPEC_BRIDGE_VLAN_TUNNEL_INFO_ATTRS, "IFLA_BRIDGE_VLAN_TUNNEL_???",
        by_name(L.RTNL_IFLA_AF_SPEC_BRIDGE_VLAN_TUNNEL_INFO_ATTRS,
                IFLA_BRIDGE_VLAN_TUNNEL_ID=nla_u32, IFLA_BRIDGE_VLAN_TUNNEL_VID=nla_u16,
                IFLA_BRIDGE_VLAN_TUNNEL_FLAGS=VLAN_FLAGS)))

VF_SETTING = [("vf", U), ("setting", U)]


def _vf_guid(body: bytes, opts: StraceOptions) -> str | None:
    """decode_ifla_vf_guid: the packed (12 bytes) or the aligned (16) struct."""
    code = {12: "<IQ", 16: "<IxxxxQ"}.get(len(body))
    if code is None:
        return None
    vf, guid = _struct.unpack(code, body)
    return f"{{vf={vf}, guid={field_x(guid)}}}"


def _vf_vlan_info(body: bytes, opts: StraceOptions) -> str | None:
    if len(body) < 16:
        return None
    vf, vlan, qos, proto = _struct.unpack_from("<III2s", body)
    proto = xval(L.ETH_PROTOCOLS, int.from_bytes(proto, "big"), "ETH_P_???")
    return f"{{vf={vf}, vlan={vlan}, qos={qos}, vlan_proto=htons({proto})}}"


VF_STATS = ("IFLA_VF_STATS_RX_PACKETS IFLA_VF_STATS_TX_PACKETS IFLA_VF_STATS_RX_BYTES "
            "IFLA_VF_STATS_TX_BYTES IFLA_VF_STATS_BROADCAST IFLA_VF_STATS_MULTICAST "
            "IFLA_VF_STATS_RX_DROPPED IFLA_VF_STATS_TX_DROPPED")
VF_INFO = by_name(
    L.RTNL_IFLA_VF_INFO_ATTRS,
    IFLA_VF_MAC=lambda body, opts: (f"{{vf={u32(body, 0)}, mac={mac_text(body[4:36])}}}"
                                    if len(body) >= 36 else None),
    IFLA_VF_VLAN=nla_struct("III", [("vf", U), ("vlan", U), ("qos", U)]),
    IFLA_VF_TX_RATE=nla_struct("II", [("vf", U), ("rate", U)]),
    IFLA_VF_SPOOFCHK=nla_struct("II", VF_SETTING),
    IFLA_VF_LINK_STATE=nla_struct("II", [("vf", U), ("link_state", field_xval(
        L.RTNL_IFLA_VF_LINK_STATES, "IFLA_VF_LINK_STATE_???"))]),
    IFLA_VF_RATE=nla_struct("III", [("vf", U), ("min_tx_rate", U), ("max_tx_rate", U)]),
    IFLA_VF_RSS_QUERY_EN=nla_struct("II", VF_SETTING),
    IFLA_VF_STATS=nla_nested(L.RTNL_IFLA_VF_STATS_ATTRS, "IFLA_VF_STATS_???", by_name(
        L.RTNL_IFLA_VF_STATS_ATTRS, **dict.fromkeys(VF_STATS.split(), nla_u64))),
    IFLA_VF_TRUST=nla_struct("II", VF_SETTING),
    IFLA_VF_IB_NODE_GUID=_vf_guid, IFLA_VF_IB_PORT_GUID=_vf_guid,
    IFLA_VF_VLAN_LIST=nla_nested(L.RTNL_IFLA_VF_VLAN_LIST_ATTRS, "IFLA_VF_VLAN_INFO_???", by_name(
        L.RTNL_IFLA_VF_VLAN_LIST_ATTRS, IFLA_VF_VLAN_INFO=_vf_vlan_info)),
    IFLA_VF_BROADCAST=lambda body, opts: (f"{{broadcast={mac_text(body[:32])}}}"
                                          if len(body) >= 32 else None))
VFINFO_LIST = nla_nested(L.RTNL_IFLA_VFINFO_LIST_ATTRS, "IFLA_VF_INFO_???", by_name(
    L.RTNL_IFLA_VFINFO_LIST_ATTRS,
    IFLA_VF_INFO=nla_nested(L.RTNL_IFLA_VF_INFO_ATTRS, "IFLA_VF_???", VF_INFO)))
PROTO_DOWN_REASON = nla_nested(
    L.RTNL_IFLA_PROTO_DOWN_REASON_ATTRS, "IFLA_PROTO_DOWN_REASON_???", by_name(
        L.RTNL_IFLA_PROTO_DOWN_REASON_ATTRS, IFLA_PROTO_DOWN_REASON_MASK=nla_x32,
        IFLA_PROTO_DOWN_REASON_VALUE=nla_x32))
IFLA_U32 = ("IFLA_MTU IFLA_LINK IFLA_MASTER IFLA_TXQLEN IFLA_WEIGHT IFLA_NET_NS_PID "
            "IFLA_NUM_VF IFLA_GROUP IFLA_PROMISCUITY IFLA_NUM_TX_QUEUES IFLA_NUM_RX_QUEUES "
            "IFLA_CARRIER_CHANGES IFLA_GSO_MAX_SEGS IFLA_GSO_MAX_SIZE IFLA_CARRIER_UP_COUNT "
            "IFLA_CARRIER_DOWN_COUNT IFLA_MIN_MTU IFLA_MAX_MTU IFLA_GRO_MAX_SIZE "
            "IFLA_TSO_MAX_SIZE IFLA_TSO_MAX_SEGS IFLA_ALLMULTI")
IFLA_STR = ("IFLA_IFNAME IFLA_QDISC IFLA_IFALIAS IFLA_PHYS_PORT_NAME IFLA_ALT_IFNAME "
            "IFLA_PARENT_DEV_NAME IFLA_PARENT_DEV_BUS_NAME")
IFLA_DECODERS = {
    **by_name(L.RTNL_LINK_ATTRS, **dict.fromkeys(IFLA_U32.split(), nla_u32)),
    **by_name(L.RTNL_LINK_ATTRS, **dict.fromkeys(IFLA_STR.split(), nla_str)),
    **by_name(L.RTNL_LINK_ATTRS, **dict.fromkeys(
        "IFLA_OPERSTATE IFLA_LINKMODE IFLA_CARRIER IFLA_PROTO_DOWN".split(), nla_u8)),
    **by_name(L.RTNL_LINK_ATTRS, **dict.fromkeys(
        "IFLA_LINK_NETNSID IFLA_NEW_NETNSID IFLA_IF_NETNSID".split(), nla_s32)),
    **by_name(
        L.RTNL_LINK_ATTRS, IFLA_STATS=link_stats("I", (24, 23)),
        IFLA_STATS64=link_stats("Q", (25, 24, 23)),
        IFLA_MAP=nla_struct("QQQHBB", [("mem_start", field_x), ("mem_end", field_x),
                                       ("base_addr", field_x), ("irq", U), ("dma", U),
                                       ("port", U)], 28),
        IFLA_EXT_MASK=nla_flags(L.RTNL_IFLA_EXT_FILTER_FLAGS, "RTEXT_FILTER_???", 4),
        IFLA_EVENT=nla_xval(L.RTNL_IFLA_EVENTS, "IFLA_EVENT_???", 4),
        IFLA_NEW_IFINDEX=nla_ifindex, IFLA_PROP_LIST=_prop_list, IFLA_PORT_SELF=IFLA_PORT,
        IFLA_VF_PORTS=nla_nested(L.RTNL_IFLA_VF_PORT_ATTRS, "IFLA_VF_PORT_???", by_name(
            L.RTNL_IFLA_VF_PORT_ATTRS, IFLA_VF_PORT=IFLA_PORT)),
        IFLA_XDP=IFLA_XDP, IFLA_LINKINFO=_linkinfo, IFLA_VFINFO_LIST=VFINFO_LIST,
        IFLA_PROTO_DOWN_REASON=PROTO_DOWN_REASON, IFLA_NET_NS_FD=nla_fd),
}


@lru_cache(maxsize=None)
def _ifinfo_decoders(family: int) -> dict:
    hwaddr = hwaddr_printer(family)
    protinfo = PROTINFO.get(family)
    af_spec = (nla_nested(L.RTNL_IFLA_AF_SPEC_BRIDGE_ATTRS, "IFLA_BRIDGE_???", AF_SPEC_BRIDGE)
               if family == AF_BRIDGE else nla_nested(L.ADDRESS_FAMILIES, "AF_???", AF_SPEC))
    return {**IFLA_DECODERS, **by_name(
        L.RTNL_LINK_ATTRS, IFLA_ADDRESS=hwaddr, IFLA_BROADCAST=hwaddr, IFLA_PERM_ADDRESS=hwaddr,
        IFLA_AF_SPEC=af_spec,
        IFLA_PROTINFO=nla_nested(*protinfo) if protinfo else lambda body, opts: None)}


_ifinfomsg = fixed_msg(
    "ifi_family", "xHiII", [("ifi_type", field_xval(L.ARPHRD_TYPES, "ARPHRD_???")),
                            ("ifi_index", ifindex_text),
                            ("ifi_flags", field_flags(L.IFFFLAGS, "IFF_???")),
                            ("ifi_change", field_x)],
    L.RTNL_LINK_ATTRS, "IFLA_???", _ifinfo_decoders)


def _getneigh(body: bytes, opts: StraceOptions) -> str:
    """decode_rtm_getneigh: AF_BRIDGE asks with an ifinfomsg."""
    return (_ifinfomsg if body[0] == AF_BRIDGE else _ndmsg)(body, opts)

# --- if_stats_msg (rtnl_stats.c) -------------------------------------------------------


def with_tail(decode, size: int):
    """A struct decoder followed, past ``size`` bytes, by the rest in hex."""
    def decode_all(body: bytes, opts: StraceOptions) -> str | None:
        text = decode(body, opts)
        if text is None or len(body) <= size:
            return text
        return f"{text}, {hexstr(body[size:], opts)}"
    return decode_all


def _bridge_vlan_xstats(body: bytes, opts: StraceOptions) -> str | None:
    if len(body) < 40:
        return None
    rx_bytes, rx_packets, tx_bytes, tx_packets, vid, vlan_flags, pad2 = _struct.unpack_from(
        "<QQQQHHI", body)
    text = (f"{{rx_bytes={rx_bytes}, rx_packets={rx_packets}, tx_bytes={tx_bytes}, "
            f"tx_packets={tx_packets}, vid={vid}, "
            f"flags={flags(L.NL_BRIDGE_VLAN_FLAGS, vlan_flags, '0', 'BRIDGE_VLAN_INFO_???')}")
    text += f", pad2={field_x(pad2)}}}" if pad2 else "}"
    return f"{text}, {hexstr(body[40:], opts)}" if len(body) > 40 else text


MCAST_FIELDS = ("igmp_v1queries igmp_v2queries igmp_v3queries igmp_leaves igmp_v1reports "
                "igmp_v2reports igmp_v3reports igmp_parse_errors= mld_v1queries mld_v2queries "
                "mld_leaves mld_v1reports mld_v2reports mld_parse_errors= mcast_bytes "
                "mcast_packets").split()


def _mcast_dirs(pair) -> str:
    """PRINT_FIELD_ARRAY_INDEXED by ifstats_xstats_bridge_mcast_indices."""
    return "[" + ", ".join(f"[{index_text(L.IFSTATS_XSTATS_BRIDGE_MCAST_INDICES, i)}]={v}"
                           for i, v in enumerate(pair)) + "]"


def _bridge_mcast_xstats(body: bytes, opts: StraceOptions) -> str | None:
    if len(body) < 240:
        return None
    values = iter(_struct.unpack_from("<30Q", body))
    parts = []
    for field in MCAST_FIELDS:
        if field.endswith("="):
            parts.append(f"{field}{next(values)}")
        else:
            parts.append(f"{field}={_mcast_dirs((next(values), next(values)))}")
    text = "{" + ", ".join(parts) + "}"
    return f"{text}, {hexstr(body[240:], opts)}" if len(body) > 240 else text


XSTATS_BRIDGE = nla_nested(L.IFSTATS_XSTATS_BRIDGE_ATTRS, "BRIDGE_XSTATS_???", by_name(
    L.IFSTATS_XSTATS_BRIDGE_ATTRS, BRIDGE_XSTATS_VLAN=_bridge_vlan_xstats,
    BRIDGE_XSTATS_MCAST=_bridge_mcast_xstats,
    BRIDGE_XSTATS_STP=with_tail(nla_struct("6Q", [(name, U) for name in (
        "transition_blk transition_fwd rx_bpdu tx_bpdu rx_tcn tx_tcn").split()]), 48)))
BOND_3AD = ("BOND_3AD_STAT_LACPDU_RX BOND_3AD_STAT_LACPDU_TX BOND_3AD_STAT_LACPDU_UNKNOWN_RX "
            "BOND_3AD_STAT_LACPDU_ILLEGAL_RX BOND_3AD_STAT_MARKER_RX BOND_3AD_STAT_MARKER_TX "
            "BOND_3AD_STAT_MARKER_RESP_RX BOND_3AD_STAT_MARKER_RESP_TX "
            "BOND_3AD_STAT_MARKER_UNKNOWN_RX")
XSTATS_BOND = nla_nested(L.IFSTATS_XSTATS_BOND_ATTRS, "BOND_XSTATS_???", by_name(
    L.IFSTATS_XSTATS_BOND_ATTRS, BOND_XSTATS_3AD=nla_nested(
        L.IFSTATS_XSTATS_BOND_3AD_ATTRS, "BOND_XSTATS_???",
        by_name(L.IFSTATS_XSTATS_BOND_3AD_ATTRS, **dict.fromkeys(BOND_3AD.split(), nla_u64)))))
LINK_XSTATS = nla_nested(L.IFSTATS_XSTATS_TYPE_ATTRS, "LINK_XSTATS_TYPE_???", by_name(
    L.IFSTATS_XSTATS_TYPE_ATTRS, LINK_XSTATS_TYPE_BRIDGE=XSTATS_BRIDGE,
    LINK_XSTATS_TYPE_BOND=XSTATS_BOND))
MPLS_STATS = nla_nested(L.IFSTATS_AF_SPEC_MPLS_ATTRS, "MPLS_STATS_???", by_name(
    L.IFSTATS_AF_SPEC_MPLS_ATTRS, MPLS_STATS_LINK=with_tail(nla_struct("9Q", [
        (name, U) for name in ("rx_packets tx_packets rx_bytes tx_bytes rx_errors tx_errors "
                               "rx_dropped tx_dropped rx_noroute").split()]), 72)))
IFSTATS_DECODERS = by_name(
    L.IFSTATS_ATTRS, IFLA_STATS_LINK_64=link_stats("Q", (25, 24, 23)),
    IFLA_STATS_LINK_XSTATS=LINK_XSTATS, IFLA_STATS_LINK_XSTATS_SLAVE=LINK_XSTATS,
    IFLA_STATS_LINK_OFFLOAD_XSTATS=nla_nested(
        L.IFSTATS_OFFLOAD_ATTRS, "IFLA_OFFLOAD_XSTATS_???", by_name(
            L.IFSTATS_OFFLOAD_ATTRS, IFLA_OFFLOAD_XSTATS_CPU_HIT=link_stats("Q", (25, 24, 23)))),
    IFLA_STATS_AF_SPEC=nla_nested(L.ADDRESS_FAMILIES, "AF_???", {AF["AF_MPLS"]: MPLS_STATS}))


def _if_stats_msg(body: bytes, opts: StraceOptions) -> str:
    head, instead = family_head("family", body, 12)
    if instead is not None:
        return instead
    _, pad1, pad2, ifindex, mask = _struct.unpack_from("<BBHII", body)
    fields = [head] + [f"{name}={field_x(v)}" for name, v in (("pad1", pad1), ("pad2", pad2)) if v]
    fields += [f"ifindex={ifindex_text(ifindex)}",
               f"filter_mask={flags(L.IFSTATS_ATTR_FLAGS, mask, '0', '1<<IFLA_STATS_???')}"]
    return with_attrs("{" + ", ".join(fields) + "}", body, 12, opts, L.IFSTATS_ATTRS,
                      "IFLA_STATS_???", IFSTATS_DECODERS)

# --- nhmsg (rtnl_nh.c) ------------------------------------------------------------------

NH_GRP = _struct.Struct("<IBBH")


def _nh_grp(body: bytes, opts: StraceOptions) -> str | None:
    """decode_nha_nh_grp: the nexthop_grp array, its reserved fields only when set."""
    count = len(body) // NH_GRP.size
    if not count:
        return None

    def one(at: int) -> str:
        nh_id, weight, resvd1, resvd2 = NH_GRP.unpack_from(body, at)
        resvd = "".join(f", {name}={field_x(v)}" for name, v in (("resvd1", resvd1),
                                                              ("resvd2", resvd2)) if v)
        return f"{{id={nh_id}, weight={weight}{resvd}}}"
    return array((one(i * NH_GRP.size) for i in range(count)), opts)


@lru_cache(maxsize=None)
def _nhmsg_decoders(family: int) -> dict:
    return by_name(
        L.RTNL_NEXTHOP_ATTRS, NHA_ID=nla_u32, NHA_GROUP=_nh_grp,
        NHA_GROUP_TYPE=nla_xval(L.RTNL_NEXTHOP_GRP_TYPES, "NEXTHOP_GRP_TYPE_???", 2),
        NHA_BLACKHOLE=nla_u32, NHA_OIF=nla_ifindex, NHA_GATEWAY=nla_inet_addr(family),
        NHA_ENCAP_TYPE=nla_xval(L.LWTUNNEL_ENCAP_TYPES, "LWTUNNEL_ENCAP_???", 2),
        NHA_GROUPS=nla_u32, NHA_MASTER=nla_ifindex, NHA_FDB=nla_u32,
        NHA_RES_GROUP=nla_nested(L.RTNL_NHA_RES_GROUP_ATTRS, "NHA_RES_GROUP_???", by_name(
            L.RTNL_NHA_RES_GROUP_ATTRS, NHA_RES_GROUP_BUCKETS=nla_u16,
            NHA_RES_GROUP_IDLE_TIMER=nla_clock_t, NHA_RES_GROUP_UNBALANCED_TIMER=nla_clock_t,
            NHA_RES_GROUP_UNBALANCED_TIME=nla_clock_t)),
        NHA_RES_BUCKET=nla_nested(L.RTNL_NHA_RES_BUCKET_ATTRS, "NHA_RES_BUCKET_???", by_name(
            L.RTNL_NHA_RES_BUCKET_ATTRS, NHA_RES_BUCKET_INDEX=nla_u16,
            NHA_RES_BUCKET_IDLE_TIME=nla_clock_t, NHA_RES_BUCKET_NH_ID=nla_u32)))


def _nhmsg(body: bytes, opts: StraceOptions) -> str:
    head, instead = family_head("nh_family", body, 8)
    if instead is not None:
        return instead
    _, scope, protocol, resvd, nh_flags = _struct.unpack_from("<BBBBI", body)
    text = (f"{{{head}, nh_scope={xval_or_hex(L.ROUTING_SCOPES, scope)}, "
            f"nh_protocol={xval(L.ROUTING_PROTOCOLS, protocol, 'RTPROT_???')}, "
            + (f"resvd={field_x(resvd)}, " if resvd else "")
            + f"nh_flags={flags(L.ROUTE_NEXTHOP_FLAGS, nh_flags, '0', 'RTNH_F_???')}}}")
    return with_attrs(text, body, 8, opts, L.RTNL_NEXTHOP_ATTRS, "NHA_???",
                      _nhmsg_decoders(body[0]))

# --- ndmsg, ndtmsg (rtnl_neigh.c, rtnl_neightbl.c) ---------------------------------------


@lru_cache(maxsize=None)
def _ndmsg_decoders(family: int) -> dict:
    return by_name(
        L.RTNL_NEIGH_ATTRS, NDA_DST=nla_inet_addr(family), NDA_LLADDR=nla_hwaddr,
        NDA_CACHEINFO=nla_struct("IIII", [("ndm_confirmed", U), ("ndm_used", U),
                                          ("ndm_updated", U), ("ndm_refcnt", U)]),
        NDA_PROBES=nla_u32, NDA_VLAN=nla_u16, NDA_PORT=nla_be16, NDA_VNI=nla_u32,
        NDA_IFINDEX=nla_ifindex, NDA_MASTER=nla_ifindex, NDA_LINK_NETNSID=nla_u32,
        NDA_SRC_VNI=nla_u32, NDA_PROTOCOL=nla_xval(L.IPPROTOS, "IPPROTO_???"),
        NDA_NH_ID=nla_u32,
        NDA_FDB_EXT_ATTRS=nla_nested(L.RTNL_NEIGH_FDB_EXT_ATTRS, "NFEA_???", by_name(
            L.RTNL_NEIGH_FDB_EXT_ATTRS,
            NFEA_ACTIVITY_NOTIFY=nla_flags(L.FDB_NOTIFY_FLAGS, "FDB_NOTIFY_???", 1))),
        NDA_FLAGS_EXT=nla_flags(L.NEIGHBOR_CACHE_ENTRY_EXT_FLAGS, "NTF_EXT_???", 4),
        NDA_NDM_STATE_MASK=nla_flags(L.NEIGHBOR_CACHE_ENTRY_STATES, "NUD_???", 2),
        NDA_NDM_FLAGS_MASK=nla_flags(L.NEIGHBOR_CACHE_ENTRY_FLAGS, "NTF_???", 1))


_ndmsg = fixed_msg(
    "ndm_family", "xxxiHBB", [
        ("ndm_ifindex", ifindex_text),
        ("ndm_state", field_flags(L.NEIGHBOR_CACHE_ENTRY_STATES, "NUD_???")),
        ("ndm_flags", field_flags(L.NEIGHBOR_CACHE_ENTRY_FLAGS, "NTF_???")),
        ("ndm_type", field_xval(L.ROUTING_TYPES, "RTN_???"))],
    L.RTNL_NEIGH_ATTRS, "NDA_???", _ndmsg_decoders)

NDT_STATS = [(name, U) for name in (
    "ndts_allocs ndts_destroys ndts_hash_grows ndts_res_failed ndts_lookups ndts_hits "
    "ndts_rcv_probes_mcast ndts_rcv_probes_ucast ndts_periodic_gc_runs ndts_forced_gc_runs "
    "ndts_table_fulls").split()]


def _ndt_stats(body: bytes, opts: StraceOptions) -> str | None:
    """decode_ndt_stats: the older struct (without ndts_table_fulls) too."""
    if len(body) >= 88:
        return struct_text(NDT_STATS, _struct.unpack_from("<11Q", body))
    if len(body) == 80:
        return struct_text(NDT_STATS[:10], _struct.unpack_from("<10Q", body))
    return None


NDTPA_U64 = ("NDTPA_REACHABLE_TIME NDTPA_BASE_REACHABLE_TIME NDTPA_RETRANS_TIME "
             "NDTPA_GC_STALETIME NDTPA_DELAY_PROBE_TIME NDTPA_ANYCAST_DELAY NDTPA_PROXY_DELAY "
             "NDTPA_LOCKTIME NDTPA_INTERVAL_PROBE_TIME_MS")
NDTPA_U32 = ("NDTPA_REFCNT NDTPA_QUEUE_LEN NDTPA_APP_PROBES NDTPA_UCAST_PROBES "
             "NDTPA_MCAST_PROBES NDTPA_PROXY_QLEN NDTPA_QUEUE_LENBYTES NDTPA_MCAST_REPROBES")
NDT_PARMS = {**by_name(L.RTNL_NEIGHTBL_PARMS_ATTRS, NDTPA_IFINDEX=nla_ifindex),
             **by_name(L.RTNL_NEIGHTBL_PARMS_ATTRS, **dict.fromkeys(NDTPA_U64.split(), nla_u64)),
             **by_name(L.RTNL_NEIGHTBL_PARMS_ATTRS, **dict.fromkeys(NDTPA_U32.split(), nla_u32))}

NDTMSG_DECODERS = by_name(
    L.RTNL_NEIGHTBL_ATTRS, NDTA_NAME=nla_str, NDTA_THRESH1=nla_u32, NDTA_THRESH2=nla_u32,
    NDTA_THRESH3=nla_u32,
    NDTA_CONFIG=nla_struct("HHIIIIIII", [
        ("ndtc_key_len", U), ("ndtc_entry_size", U), ("ndtc_entries", U),
        ("ndtc_last_flush", U), ("ndtc_last_rand", U), ("ndtc_hash_rnd", U),
        ("ndtc_hash_mask", lambda v: val_0x(v, 4)), ("ndtc_hash_chain_gc", U),
        ("ndtc_proxy_qlen", U)]),
    NDTA_PARMS=nla_nested(L.RTNL_NEIGHTBL_PARMS_ATTRS, "NDTPA_???", NDT_PARMS),
    NDTA_STATS=_ndt_stats, NDTA_GC_INTERVAL=nla_u64)

# --- fib_rule_hdr (rtnl_rule.c) ------------------------------------------------------

RANGE = [("start", U), ("end", U)]


@lru_cache(maxsize=None)
def _rule_decoders(family: int) -> dict:
    address = nla_inet_addr(family)
    return by_name(
        L.RTNL_RULE_ATTRS, FRA_DST=address, FRA_SRC=address, FRA_IIFNAME=nla_str,
        FRA_GOTO=nla_u32, FRA_PRIORITY=nla_u32, FRA_FWMARK=nla_u32, FRA_FLOW=nla_u32,
        FRA_TUN_ID=nla_be64, FRA_SUPPRESS_IFGROUP=nla_u32, FRA_SUPPRESS_PREFIXLEN=nla_u32,
        FRA_TABLE=nla_rt_class, FRA_FWMASK=nla_u32, FRA_OIFNAME=nla_str, FRA_L3MDEV=nla_u8,
        FRA_UID_RANGE=nla_struct("II", RANGE), FRA_PROTOCOL=nla_rt_proto,
        FRA_IP_PROTO=nla_xval(L.IPPROTOS, "IPPROTO_???"),
        FRA_SPORT_RANGE=nla_struct("HH", RANGE), FRA_DPORT_RANGE=nla_struct("HH", RANGE))


_fib_rule_hdr = fixed_msg(
    "family", "BBBBxxBI", [
        ("dst_len", U), ("src_len", U),
        ("tos", field_flags(L.IP_TYPE_OF_SERVICES, "IPTOS_TOS_???")),
        ("table", field_xval(L.ROUTING_TABLE_IDS, "RT_TABLE_???")),
        ("action", field_xval(L.FIB_RULE_ACTIONS, "FR_ACT_???")),
        ("flags", field_flags(L.FIB_RULE_FLAGS, "FIB_RULE_???"))],
    L.RTNL_RULE_ATTRS, "FRA_???", _rule_decoders)

# --- tcmsg (rtnl_tc.c) ---------------------------------------------------------------

TCA_STATS = nla_nested(L.RTNL_TCA_STATS_ATTRS, "TCA_STATS_???", by_name(
    L.RTNL_TCA_STATS_ATTRS,
    TCA_STATS_BASIC=nla_struct("QI", [("bytes", U), ("packets", U)], 12),
    TCA_STATS_RATE_EST=nla_struct("II", [("bps", U), ("pps", U)]),
    TCA_STATS_QUEUE=nla_struct("IIIII", [("qlen", U), ("backlog", U), ("drops", U),
                                         ("requeues", U), ("overlimits", U)]),
    TCA_STATS_RATE_EST64=nla_struct("QQ", [("bps", U), ("pps", U)]),
    TCA_STATS_BASIC_HW=nla_struct("QI", [("bytes", U), ("packets", U)], 12),
    TCA_STATS_PKT64=nla_u64))
TC_STATS = nla_struct("QIIIIIII", [(name, U) for name in (
    "bytes packets drops overlimits bps pps qlen backlog").split()])
TCA_STAB = nla_nested(L.RTNL_TCA_STAB_ATTRS, "TCA_STAB_???", by_name(
    L.RTNL_TCA_STAB_ATTRS,
    TCA_STAB_BASE=nla_struct("BBhiIIII", [
        ("cell_log", U), ("size_log", U), ("cell_align", U), ("overhead", U),
        ("linklayer", U), ("mpu", U), ("mtu", U), ("tsize", U)]),
    TCA_STAB_DATA=nla_array("H")))
TCMSG_DECODERS = by_name(
    L.RTNL_TC_ATTRS, TCA_KIND=nla_str, TCA_STATS=TC_STATS,
    TCA_RATE=nla_struct("bB", [("interval", U), ("ewma_log", U)]), TCA_FCNT=nla_u32,
    TCA_STATS2=TCA_STATS, TCA_STAB=TCA_STAB, TCA_CHAIN=nla_u32, TCA_HW_OFFLOAD=nla_u8,
    TCA_INGRESS_BLOCK=nla_u32, TCA_EGRESS_BLOCK=nla_u32, TCA_DUMP_FLAGS=nla_u32)
_tcmsg = fixed_msg(
    "tcm_family", "xxxiIII", [("tcm_ifindex", ifindex_text), ("tcm_handle", U),
                              ("tcm_parent", U), ("tcm_info", U)],
    L.RTNL_TC_ATTRS, "TCA_???", TCMSG_DECODERS)

BR_MDB_ENTRY = _struct.Struct("<IBBH16s2sxx")


def _mdb_entry_info(body: bytes, opts: StraceOptions) -> str | None:
    """decode_mdba_mdb_entry_info: a br_mdb_entry and its attributes."""
    if len(body) < BR_MDB_ENTRY.size:
        return None
    ifindex, state, entry_flags, vid, address, proto = BR_MDB_ENTRY.unpack_from(body)
    proto = int.from_bytes(proto, "big")
    text = (f"{{ifindex={ifindex_text(ifindex)}, state={xval(L.MDB_STATES, state, 'MDB_???')}, "
            f"flags={flags(L.MDB_FLAGS, entry_flags, '0', 'MDB_FLAGS_???')}, vid={vid}, "
            f"addr={{{inet_addr_text(proto, address, 'u')}, "
            f"proto=htons({xval(L.ADDRESS_FAMILIES, proto, 'AF_???')})}}}}")
    return with_attrs(text, body, BR_MDB_ENTRY.size, opts, L.RTNL_MDBA_MDB_EATTR_ATTRS,
                      "MDBA_MDB_EATTR_???",
                      by_name(L.RTNL_MDBA_MDB_EATTR_ATTRS, MDBA_MDB_EATTR_TIMER=nla_clock_t))


MDBA_MDB = nla_nested(L.RTNL_MDBA_MDB_ATTRS, "MDBA_MDB_???", by_name(
    L.RTNL_MDBA_MDB_ATTRS, MDBA_MDB_ENTRY=nla_nested(
        L.RTNL_MDBA_MDB_ENTRY_ATTRS, "MDBA_MDB_ENTRY_???",
        by_name(L.RTNL_MDBA_MDB_ENTRY_ATTRS, MDBA_MDB_ENTRY_INFO=_mdb_entry_info))))
ROUTER_PATTRS = by_name(
    L.RTNL_MDBA_ROUTER_PATTR_ATTRS, MDBA_ROUTER_PATTR_TIMER=nla_clock_t,
    MDBA_ROUTER_PATTR_TYPE=nla_xval(L.MULTICAST_ROUTER_TYPES, "MDB_RTR_TYPE_???", 1),
    MDBA_ROUTER_PATTR_INET_TIMER=nla_clock_t, MDBA_ROUTER_PATTR_INET6_TIMER=nla_clock_t)


def _router_port(body: bytes, opts: StraceOptions) -> str | None:
    if len(body) < 4:
        return None
    return with_attrs(ifindex_text(u32(body, 0)), body, 4, opts, L.RTNL_MDBA_ROUTER_PATTR_ATTRS,
                      "MDBA_ROUTER_PATTR_???", ROUTER_PATTRS)


MDBA_ROUTER = nla_nested(L.RTNL_MDBA_ROUTER_ATTRS, "MDBA_ROUTER_???",
                         by_name(L.RTNL_MDBA_ROUTER_ATTRS, MDBA_ROUTER_PORT=_router_port))


def _br_port_msg(body: bytes, opts: StraceOptions) -> str:
    head, instead = family_head("family", body, 8)
    if instead is not None:
        return instead
    text = f"{{{head}, ifindex={ifindex_text(u32(body, 4))}}}"
    return with_attrs(text, body, 8, opts, L.MDB_ATTRS, "MDBA_???",
                      by_name(L.MDB_ATTRS, MDBA_MDB=MDBA_MDB, MDBA_ROUTER=MDBA_ROUTER))


# --- cachereport (rtnl_cachereport.c) --------------------------------------------------

CACHEREPORT = {  # rtgen_family -> (table, strace's word for an unknown attribute, decoders)
    L.RTNL_FAMILY.value("RTNL_FAMILY_IPMR"): (
        L.RTNL_IPMRA_CREPORT_ATTR, "IPMRA_CREPORT_???", by_name(
            L.RTNL_IPMRA_CREPORT_ATTR,
            IPMRA_CREPORT_MSGTYPE=nla_xval(L.RTNL_IPMRA_MSG_TYPES, "IGMPMSG_???", 1),
            IPMRA_CREPORT_VIF_ID=nla_u32, IPMRA_CREPORT_SRC_ADDR=nla_in_addr,
            IPMRA_CREPORT_DST_ADDR=nla_in_addr, IPMRA_CREPORT_TABLE=nla_u32)),
    L.RTNL_FAMILY.value("RTNL_FAMILY_IP6MR"): (
        L.RTNL_IP6MRA_CREPORT_ATTR, "IP6MRA_CREPORT_???", by_name(
            L.RTNL_IP6MRA_CREPORT_ATTR,
            IP6MRA_CREPORT_MSGTYPE=nla_xval(L.RTNL_IP6MRA_MSG_TYPES, "MRT6MSG_???", 1),
            IP6MRA_CREPORT_MIF_ID=nla_u32, IP6MRA_CREPORT_SRC_ADDR=nla_in6_addr,
            IP6MRA_CREPORT_DST_ADDR=nla_in6_addr)),
}


def _cachereport(body: bytes, opts: StraceOptions) -> str:
    family = body[0]
    # printxvals: RTNL_FAMILY_* first, then AF_*
    name = L.RTNL_FAMILY.name(family) or L.ADDRESS_FAMILIES.name(family)
    spelled = named(name, family) if name else xval(L.RTNL_FAMILY, family, "RTNL_FAMILY_???")
    text = f"{{rtgen_family={spelled}}}"
    if len(body) <= 4:
        return text
    spec = CACHEREPORT.get(family)
    attrs = nlattr_text(body[4:], opts, *spec) if spec else hexstr(body[4:], opts)
    return f"{text}, {attrs}"


def _dcbmsg(body: bytes, opts: StraceOptions) -> str:
    head, instead = family_head("dcb_family", body, 4)
    if instead is not None:
        return instead
    cmd = xval(L.DCB_COMMANDS, body[1], "DCB_CMD_???")
    text = f"{{{head}, cmd={cmd}}}"
    return with_attrs(text, body, 4, opts, L.DCB_ATTRS, "DCB_ATTR_???")


@lru_cache(maxsize=None)
def _addrlabel_decoders(family: int) -> dict:
    return by_name(L.ADDRLABEL_ATTRS, IFAL_ADDRESS=nla_inet_addr(family), IFAL_LABEL=nla_u32)


_ifaddrlblmsg = fixed_msg(
    "ifal_family", "xBBII", [("ifal_prefixlen", U), ("ifal_flags", U),
                             ("ifal_index", ifindex_text), ("ifal_seq", U)],
    L.ADDRLABEL_ATTRS, "IFAL_???", _addrlabel_decoders)


def _family_only(field: str, table: Xlat, unknown: str, decoders=None):
    """Messages that are one family byte and attributes (netconfmsg, rtgenmsg, tcamsg)."""
    def decode(body: bytes, opts: StraceOptions) -> str:
        return with_attrs(f"{{{field}={family_text(body[0])}}}", body, 1, opts, table, unknown,
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

    put("RTM_NEWADDR RTM_DELADDR RTM_GETADDR RTM_GETMULTICAST RTM_GETANYCAST", _ifaddrmsg)
    put("RTM_NEWROUTE RTM_DELROUTE RTM_GETROUTE", _rtmsg)
    put("RTM_NEWLINK RTM_DELLINK RTM_GETLINK RTM_SETLINK", _ifinfomsg)
    put("RTM_NEWNEIGH RTM_DELNEIGH", _ndmsg)
    put("RTM_GETNEIGH", _getneigh)
    put("RTM_NEWRULE RTM_DELRULE RTM_GETRULE", _fib_rule_hdr)
    put("RTM_NEWQDISC RTM_DELQDISC RTM_GETQDISC RTM_NEWTCLASS RTM_DELTCLASS RTM_GETTCLASS "
        "RTM_NEWTFILTER RTM_DELTFILTER RTM_GETTFILTER RTM_NEWCHAIN RTM_DELCHAIN RTM_GETCHAIN",
        _tcmsg)
    put("RTM_NEWNEIGHTBL RTM_GETNEIGHTBL RTM_SETNEIGHTBL",
        _family_only("ndtm_family", L.RTNL_NEIGHTBL_ATTRS, "NDTA_???", NDTMSG_DECODERS))
    put("RTM_NEWMDB RTM_DELMDB RTM_GETMDB", _br_port_msg)
    put("RTM_NEWCACHEREPORT", _cachereport)
    put("RTM_NEWSTATS RTM_GETSTATS", _if_stats_msg)
    put("RTM_NEWNEXTHOP RTM_DELNEXTHOP RTM_GETNEXTHOP", _nhmsg)
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


def route(msg_type: int, msg_flags: int, body: bytes, opts: StraceOptions) -> str | None:
    """decode_netlink_route: the message of its type, else its family and data."""
    if msg_type == NLMSG_DONE:
        return None
    decoder = ROUTE_DECODERS.get(msg_type)
    if decoder is not None:
        return decoder(body, opts)
    text = f"{{family={family_text(body[0])}"
    if len(body) > 1:
        text += f", data={hexstr(body[1:], opts)}"
    return text + "}"

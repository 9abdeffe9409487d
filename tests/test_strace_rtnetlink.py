"""kdump --strace: NETLINK_ROUTE messages (rtnetlink.py, nlattr.py) must print
as strace 6.1 prints them; each expected text is a line strace's own test
programs (tests/nlattr_*.c) print for the same bytes."""

import socket
import struct

import pytest

from ktrace.decode.strace.fmt import StraceOptions, constant_style
from ktrace.decode.strace.netlink import netlink_text

NETLINK_ROUTE = 0
NLM_F_DUMP = 0x300
RTM = {"GETADDR": 22, "GETROUTE": 26, "GETNEIGH": 30, "GETRULE": 34, "GETQDISC": 38,
       "GETLINK": 18, "GETMDB": 86, "NEWCACHEREPORT": 96, "GETNEIGHTBL": 66}
LO = socket.if_nametoindex("lo")
LO_TEXT = 'if_nametoindex("lo")'


def nlattr(nla_type: int, data: bytes) -> bytes:
    attr = struct.pack("<HH", 4 + len(data), nla_type) + data
    return attr + bytes(-len(attr) % 4)


def message(kind: str, body: bytes, flags: int = NLM_F_DUMP) -> bytes:
    return struct.pack("<IHHIi", 16 + len(body), RTM[kind], flags, 0, 0) + body


def payload(kind: str, body: bytes, style: str = "abbrev", msg_flags: int = NLM_F_DUMP) -> str:
    """The message's text past its header."""
    with constant_style(style):
        text = netlink_text(message(kind, body, msg_flags), NETLINK_ROUTE, StraceOptions())
    assert text.startswith("[{nlmsg_len=") and text.endswith("]")
    return text[text.index("}, ") + 3:-1]


def ifaddrmsg(family: int) -> bytes:
    return struct.pack("<BBBBI", family, 0, 1, 0, LO)


IFADDR = ("ifa_prefixlen=0, ifa_flags=IFA_F_SECONDARY, ifa_scope=RT_SCOPE_UNIVERSE, "
          f"ifa_index={LO_TEXT}}}")


def test_ifaddrmsg_and_its_addresses_by_family():
    assert payload("GETADDR", ifaddrmsg(2) + nlattr(1, bytes([12, 34, 56, 78]))) == (
        f'{{ifa_family=AF_INET, {IFADDR}, [{{nla_len=8, nla_type=IFA_ADDRESS}}, '
        f'inet_addr("12.34.56.78")]')
    # an address too short for its family, and one of no family: their bytes
    assert payload("GETADDR", ifaddrmsg(2) + nlattr(1, b"abc")) == (
        f'{{ifa_family=AF_INET, {IFADDR}, [{{nla_len=7, nla_type=IFA_ADDRESS}}, "\\x61\\x62\\x63"]')
    assert payload("GETADDR", ifaddrmsg(0) + nlattr(0x3fff, b"abcd")) == (
        f'{{ifa_family=AF_UNSPEC, {IFADDR}, [{{nla_len=8, nla_type=0x3fff /* IFA_??? */}}, '
        f'"\\x61\\x62\\x63\\x64"]')
    six = socket.inet_pton(socket.AF_INET6, "12:34:56:78:90:ab:cd:ef")
    assert payload("GETADDR", ifaddrmsg(10) + nlattr(1, six)) == (
        f'{{ifa_family=AF_INET6, {IFADDR}, [{{nla_len=20, nla_type=IFA_ADDRESS}}, '
        f'inet_pton(AF_INET6, "12:34:56:78:90:ab:cd:ef")]')
    ci = struct.pack("<IIII", 0xabcdefac, 0xbcdadbca, 0xcdabedba, 0xdebabdac)
    assert payload("GETADDR", ifaddrmsg(10) + nlattr(6, ci)) == (
        f'{{ifa_family=AF_INET6, {IFADDR}, [{{nla_len=20, nla_type=IFA_CACHEINFO}}, '
        '{ifa_prefered=2882400172, ifa_valid=3168459722, cstamp=3450596794, tstamp=3736780204}]')
    assert payload("GETADDR", ifaddrmsg(10) + nlattr(8, struct.pack("<I", 0x81))) == (
        f'{{ifa_family=AF_INET6, {IFADDR}, [{{nla_len=8, nla_type=IFA_FLAGS}}, '
        'IFA_F_SECONDARY|IFA_F_PERMANENT]')


def test_a_message_shorter_than_its_struct():
    assert payload("GETADDR", b"\x02\0\0") == "{ifa_family=AF_INET, ...}"


def test_tcmsg_with_nested_stab_data():
    tcmsg = struct.pack("<BxxxiIII", 1, LO, 0, 0, 0)
    stab = nlattr(8, nlattr(2, struct.pack("<HH", 44221, 61370)))
    assert payload("GETQDISC", tcmsg + stab) == (
        f"{{tcm_family=AF_UNIX, tcm_ifindex={LO_TEXT}, tcm_handle=0, tcm_parent=0, tcm_info=0}}, "
        "[{nla_len=12, nla_type=TCA_STAB}, [{nla_len=8, nla_type=TCA_STAB_DATA}, [44221, 61370]]]")


def test_mdb_entry_and_its_timer():
    entry = struct.pack("<IBBH", LO, 0, 1, 52719) + bytes(range(0x61, 0x71)) + bytes(4)
    info = nlattr(1, entry + nlattr(1, b""))
    body = struct.pack("<Bxxxi", 1, LO) + nlattr(1, nlattr(1, info))
    assert payload("GETMDB", body) == (
        f'{{family=AF_UNIX, ifindex={LO_TEXT}}}, [{{nla_len=44, nla_type=MDBA_MDB}}, '
        '[{nla_len=40, nla_type=MDBA_MDB_ENTRY}, [{nla_len=36, nla_type=MDBA_MDB_ENTRY_INFO}, '
        f'{{ifindex={LO_TEXT}, state=MDB_TEMPORARY, flags=MDB_FLAGS_OFFLOAD, vid=52719, '
        'addr={u="\\x61\\x62\\x63\\x64\\x65\\x66\\x67\\x68\\x69\\x6a\\x6b\\x6c\\x6d\\x6e\\x6f\\x70", '
        'proto=htons(AF_UNSPEC)}}, {nla_len=4, nla_type=MDBA_MDB_EATTR_TIMER}]]]')


def test_cachereport_attributes_by_rtgen_family():
    src = socket.inet_pton(socket.AF_INET6, "badc:ded:face:beef:deca:feed:dead:feed")
    body = bytes([129, 0, 0, 0]) + nlattr(3, src)              # RTNL_FAMILY_IP6MR
    assert payload("NEWCACHEREPORT", body, msg_flags=0x600) == (
        '{rtgen_family=RTNL_FAMILY_IP6MR}, [{nla_len=20, nla_type=IP6MRA_CREPORT_SRC_ADDR}, '
        'inet_pton(AF_INET6, "badc:ded:face:beef:deca:feed:dead:feed")]')


def ifinfomsg() -> bytes:
    return struct.pack("<BxHiII", 0, 772, LO, 1, 0)        # ARPHRD_LOOPBACK, IFF_UP


IFINFO = (f"{{ifi_family=AF_UNSPEC, ifi_type=ARPHRD_LOOPBACK, ifi_index={LO_TEXT}, "
          "ifi_flags=IFF_UP, ifi_change=0}")


def test_ifinfomsg_strings_keep_inner_nuls_and_mark_a_missing_last_one():
    name = b"OH HAI THAR\r\n\t\377\0\v~"
    assert payload("GETLINK", ifinfomsg() + nlattr(53, name + b"\0")) == (
        f'{IFINFO}, [{{nla_len=23, nla_type=IFLA_ALT_IFNAME}}, "OH HAI THAR\\r\\n\\t\\377\\0\\v~"]')
    assert payload("GETLINK", ifinfomsg() + nlattr(53, name)) == (
        f'{IFINFO}, [{{nla_len=22, nla_type=IFLA_ALT_IFNAME}}, '
        '"OH HAI THAR\\r\\n\\t\\377\\0\\v~"...]')


def test_ifinfomsg_in_raw_and_verbose_styles():
    body = ifinfomsg() + nlattr(29, struct.pack("<I", 1))      # IFLA_EXT_MASK
    assert payload("GETLINK", body, "raw") == (
        f"{{ifi_family=0, ifi_type=0x304, ifi_index={LO}, ifi_flags=0x1, ifi_change=0}}, "
        "[{nla_len=8, nla_type=0x1d}, 0x1]")
    assert payload("GETLINK", body, "verbose") == (
        f"{{ifi_family=0 /* AF_UNSPEC */, ifi_type=0x304 /* ARPHRD_LOOPBACK */, "
        f"ifi_index={LO} /* {LO_TEXT} */, ifi_flags=0x1 /* IFF_UP */, ifi_change=0}}, "
        "[{nla_len=8, nla_type=0x1d /* IFLA_EXT_MASK */}, 0x1 /* RTEXT_FILTER_VF */]")


def test_linkinfo_data_reads_by_the_kind_named_before_it():
    delay = nlattr(1, struct.pack("<Q", 0xdeadc0defacefeed))     # IFLA_BR_FORWARD_DELAY
    kind, data = nlattr(1, b"bridge\0"), nlattr(2, delay)         # IFLA_INFO_KIND, _DATA
    assert payload("GETLINK", ifinfomsg() + nlattr(18, kind + data)) == (
        f'{IFINFO}, [{{nla_len=32, nla_type=IFLA_LINKINFO}}, '
        '[[{nla_len=11, nla_type=IFLA_INFO_KIND}, "bridge"], '
        '[{nla_len=16, nla_type=IFLA_INFO_DATA}, '
        '[{nla_len=12, nla_type=IFLA_BR_FORWARD_DELAY}, '
        '16045693111314087661 /* 160456931113140876.61 s */]]]]')
    # no kind named: the data in hex
    assert payload("GETLINK", ifinfomsg() + nlattr(18, data)) == (
        f'{IFINFO}, [{{nla_len=20, nla_type=IFLA_LINKINFO}}, '
        '[{nla_len=16, nla_type=IFLA_INFO_DATA}, '
        '"\\x0c\\x00\\x01\\x00\\xed\\xfe\\xce\\xfa\\xde\\xc0\\xad\\xde"]]')


def test_af_spec_attributes_by_address_family():
    conf = nlattr(2, nlattr(1, struct.pack("<i", -559038242)))  # AF_INET: IFLA_INET_CONF
    assert payload("GETLINK", ifinfomsg() + nlattr(26, conf)) == (
        f'{IFINFO}, [{{nla_len=16, nla_type=IFLA_AF_SPEC}}, [{{nla_len=12, nla_type=AF_INET}}, '
        '[{nla_len=8, nla_type=IFLA_INET_CONF}, [[IPV4_DEVCONF_FORWARDING-1]=-559038242]]]]')


def test_a_multipath_nexthop_of_zero_length_ends_the_list():
    nexthops = struct.pack("<HBBi", 0, 0, 0, LO) + struct.pack("<HBBi", 8, 0, 0, LO)
    text = payload("GETROUTE", bytes([2]) + bytes(11) + nlattr(9, nexthops))   # RTA_MULTIPATH
    assert text.endswith(f"[{{rtnh_len=0, rtnh_flags=0, rtnh_hops=0, rtnh_ifindex={LO_TEXT}}}]]")


@pytest.mark.parametrize("kind", sorted(RTM))
@pytest.mark.parametrize("size", range(1, 40))
def test_cut_and_hostile_route_messages_never_raise(kind, size):
    body = bytes([2]) + bytes(range(0xff, 0xff - size + 1, -1))
    assert payload(kind, body).startswith("{")

"""kdump --strace: a netlink buffer only partly readable (a sendto that failed
with EFAULT, its STRU buf shorter than its length) must print as strace 6.1
prints it: what was read decoded, the address of the first part not read.
The cases are the forms of strace's tests (test_netlink.h, test_nlattr.h:
"short read" of a header, a payload, an attribute's value, an array)."""

import struct

from ktrace.decode.strace.fmt import StraceOptions
from ktrace.decode.strace.netlink import netlink_text
from ktrace.decode.strace.nlattr import short_read
from test_strace_net import Trace, EFAULT
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

OPTS = StraceOptions()
ROUTE, SOCK_DIAG = 0, 4
ADDR = 0x7f0000001000
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
RTM_GETADDR, SOCK_DIAG_BY_FAMILY, NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE = 22, 20, 1, 2, 3
AF_UNIX, AF_INET = 1, 2
IFA_ADDRESS, INET_DIAG_SKMEMINFO, INET_DIAG_SK_BPF_STORAGES = 1, 7, 20


def nlmsg(msg_type, flags, payload=b""):
    return struct.pack("<IHHIi", 16 + len(payload), msg_type, flags, 0, 0) + payload


def nla(nla_type, value, nla_len=None):
    return struct.pack("<HH", 4 + len(value) if nla_len is None else nla_len, nla_type) + value


def head(length, msg_type, flags):
    return (f"{{nlmsg_len={length}, nlmsg_type={msg_type}, nlmsg_flags={flags}, nlmsg_seq=0, "
            "nlmsg_pid=0}")


def sent(data, readable, protocol):
    """The buffer as printed when only its first ``readable`` bytes were read."""
    return netlink_text(short_read(data[:readable], ADDR, len(data)), protocol, OPTS)


IFADDRMSG = struct.pack("<BBBBI", AF_INET, 0, 1, 0, 0)
IFADDRMSG_TEXT = ("{ifa_family=AF_INET, ifa_prefixlen=0, ifa_flags=IFA_F_SECONDARY, "
                  "ifa_scope=RT_SCOPE_UNIVERSE, ifa_index=0}")


def test_an_attribute_value_not_read_is_its_address():
    msg = nlmsg(RTM_GETADDR, NLM_F_DUMP, IFADDRMSG + nla(IFA_ADDRESS, b"\x7f\0\0\1"))
    assert sent(msg, 31, ROUTE) == (
        f"[{head(32, 'RTM_GETADDR', 'NLM_F_DUMP')}, {IFADDRMSG_TEXT}, "
        f"[{{nla_len=8, nla_type=IFA_ADDRESS}}, {ADDR + 28:#x}]]")
    # the whole buffer read: decoded as before
    assert sent(msg, 32, ROUTE).endswith('[{nla_len=8, nla_type=IFA_ADDRESS}, inet_addr("127.0.0.1")]]')


def test_a_header_not_read_is_its_address_alone_or_after_those_read():
    assert sent(nlmsg(NLMSG_DONE, 2, bytes(4)), 3, ROUTE) == f"{ADDR:#x}"
    two = nlmsg(NLMSG_NOOP, 0x301, b"abcd") + nlmsg(NLMSG_NOOP, 1, b"abcd")
    assert sent(two, 20, ROUTE) == (
        f"[[{head(20, 'NLMSG_NOOP', 'NLM_F_REQUEST|0x300')}, \"\\x61\\x62\\x63\\x64\"], "
        f"... /* {ADDR + 20:#x} */]")


def test_a_payload_struct_not_read_is_its_address():
    for msg_type, flags, name, size in ((NLMSG_ERROR, NLM_F_REQUEST, "NLMSG_ERROR", 20),
                                        (NLMSG_ERROR, NLM_F_REQUEST, "NLMSG_ERROR", 4),
                                        (NLMSG_DONE, 2, "NLMSG_DONE", 4)):
        flag_name = "NLM_F_REQUEST" if flags == NLM_F_REQUEST else "NLM_F_MULTI"
        assert sent(nlmsg(msg_type, flags, bytes(size)), 16, ROUTE) == (
            f"[{head(16 + size, name, flag_name)}, {ADDR + 16:#x}]")
    assert sent(nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, b"\1"), 16, SOCK_DIAG) == (
        f"[{head(17, 'SOCK_DIAG_BY_FAMILY', 'NLM_F_REQUEST')}, {ADDR + 16:#x}]")


def test_a_sock_diag_struct_read_up_to_its_family():
    req = struct.pack("<BB", AF_UNIX, 0) + bytes(22)
    assert sent(nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, req), 39, SOCK_DIAG) == (
        f"[{head(40, 'SOCK_DIAG_BY_FAMILY', 'NLM_F_REQUEST')}, "
        f"{{sdiag_family=AF_UNIX, {ADDR + 17:#x}}}]")


UNIX_MSG = struct.pack("<BBBxI", AF_UNIX, 1, 4, 0) + bytes(8)
UNIX_TEXT = ("{udiag_family=AF_UNIX, udiag_type=SOCK_STREAM, udiag_state=TCP_FIN_WAIT1, "
             "udiag_ino=0, udiag_cookie=[0, 0]}")


def test_attribute_headers_not_read():
    one = nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, UNIX_MSG + nla(0, b""))
    assert sent(one, 35, SOCK_DIAG) == (
        f"[{head(36, 'SOCK_DIAG_BY_FAMILY', 'NLM_F_DUMP')}, {UNIX_TEXT}, {ADDR + 32:#x}]")
    two = nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, UNIX_MSG + nla(0, b"") + nla(0, b""))
    assert sent(two, 39, SOCK_DIAG) == (
        f"[{head(40, 'SOCK_DIAG_BY_FAMILY', 'NLM_F_DUMP')}, {UNIX_TEXT}, "
        f"[{{nla_len=4, nla_type=UNIX_DIAG_NAME}}, ... /* {ADDR + 36:#x} */]]")


INET_MSG = struct.pack("<BBBB", AF_INET, 10, 0, 0) + bytes(68)        # inet_diag_msg


def inet_diag(attr):
    return nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, INET_MSG + attr)


def test_an_array_read_in_part_ends_with_the_address_of_the_element_not_read():
    meminfo = struct.pack("<3I", 1, 2, 3)
    msg = inet_diag(nla(INET_DIAG_SKMEMINFO, meminfo))
    text = sent(msg, len(msg) - 1, SOCK_DIAG)
    assert text.endswith("[{nla_len=16, nla_type=INET_DIAG_SKMEMINFO}, "
                         "[[SK_MEMINFO_RMEM_ALLOC]=1, [SK_MEMINFO_RCVBUF]=2, "
                         f"... /* {ADDR + len(msg) - 4:#x} */]]]")
    # not even the first element read: its address alone
    assert sent(msg, len(msg) - 9, SOCK_DIAG).endswith(
        f"[{{nla_len=16, nla_type=INET_DIAG_SKMEMINFO}}, {ADDR + len(msg) - 12:#x}]]")


def test_nested_attributes_read_in_part():
    # SK_DIAG_BPF_STORAGE, a list of attributes itself, with its header not read
    msg = inet_diag(nla(INET_DIAG_SK_BPF_STORAGES, nla(1, b"\0\0\0\0")))
    assert sent(msg, len(msg) - 1, SOCK_DIAG).endswith(
        "[{nla_len=12, nla_type=INET_DIAG_SK_BPF_STORAGES}, "
        f"[{{nla_len=8, nla_type=SK_DIAG_BPF_STORAGE}}, {ADDR + len(msg) - 4:#x}]]]")


def test_failed_sendto_prints_its_stru_buf():
    t = Trace()
    t.call("socket", 16, 3, 0); t.ret("socket", 3)            # NETLINK_ROUTE
    t.call("socket", 1, 1, 0); t.ret("socket", 4)             # not netlink
    msg = nlmsg(RTM_GETADDR, NLM_F_DUMP, IFADDRMSG + nla(IFA_ADDRESS, b"\x7f\0\0\1"))
    for fd, readable in ((3, 29), (4, 29), (4, 32)):
        t.call("sendto", fd, ADDR, len(msg), 0x40, 0, 0)
        t.stru(b"buf", msg[:readable])
        t.ret("sendto", -EFAULT, error=EFAULT)
    assert t.lines()[2:] == [
        f"sendto(3, [{head(32, 'RTM_GETADDR', 'NLM_F_DUMP')}, {IFADDRMSG_TEXT}, "
        f"[{{nla_len=8, nla_type=IFA_ADDRESS}}, {ADDR + 28:#x}]], 32, MSG_DONTWAIT, NULL, 0)",
        f"sendto(4, {ADDR:#x}, 32, MSG_DONTWAIT, NULL, 0)",
        'sendto(4, " \\0\\0\\0\\26\\0\\0\\3\\0\\0\\0\\0\\0\\0\\0\\0\\2\\0\\1\\0\\0\\0\\0\\0\\10\\0\\1\\0'
        '\\177\\0\\0\\1", 32, MSG_DONTWAIT, NULL, 0)',
    ]


def test_structs_read_up_to_their_family_or_not_at_all():
    assert sent(nlmsg(RTM_GETADDR, NLM_F_DUMP, IFADDRMSG), 23, ROUTE) == (
        f"[{head(24, 'RTM_GETADDR', 'NLM_F_DUMP')}, {{ifa_family=AF_INET, {ADDR + 17:#x}}}]")
    nft_newtable = 10 << 8                                   # NETLINK_NETFILTER's nfgenmsg
    assert sent(nlmsg(nft_newtable, NLM_F_REQUEST, b"abcd"), 19, 12) == (
        f"[{head(20, 'NFNL_SUBSYS_NFTABLES<<8|NFT_MSG_NEWTABLE', 'NLM_F_REQUEST')}, "
        f"{ADDR + 16:#x}]")


def test_rtnetlink_lists_of_attributes_read_in_part():
    rtm_getlink, ifla_prop_list, ifla_alt_ifname = 18, 52, 53
    msg = nlmsg(rtm_getlink, NLM_F_DUMP, bytes(16) + nla(ifla_prop_list, nla(ifla_alt_ifname, b"eth\0")))
    assert sent(msg, len(msg) - 1, ROUTE).endswith(
        "[{nla_len=12, nla_type=IFLA_PROP_LIST}, "
        f"[{{nla_len=8, nla_type=IFLA_ALT_IFNAME}}, {ADDR + len(msg) - 4:#x}]]]")


def test_bytecode_host_condition_address_not_read():
    inet_diag_req_bytecode, bc_s_cond = 1, 7
    req = struct.pack("<BBBxI", AF_INET, 6, 0, 0) + bytes(48)            # inet_diag_req_v2
    op = struct.pack("<BBH", bc_s_cond, 0, 0)
    cond = struct.pack("<BBxxI", AF_INET, 0, 0) + b"\x7f\0\0\1"
    msg = nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, req + nla(inet_diag_req_bytecode, op + cond))
    assert sent(msg, len(msg) - 1, SOCK_DIAG).endswith(
        "[{nla_len=20, nla_type=INET_DIAG_REQ_BYTECODE}, {code=INET_DIAG_BC_S_COND, yes=0, no=0}, "
        f"{{family=AF_INET, prefix_len=0, port=0, addr={ADDR + len(msg) - 4:#x}}}]]")


def test_kobject_uevent_read_in_part_is_a_string_or_its_address():
    data = b"libudev\0" + bytes(32)
    assert netlink_text(short_read(data[:32], ADDR, 40), 15, OPTS) == \
        '"libudev\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0"...'
    assert netlink_text(short_read(data[:20], ADDR, 40), 15, OPTS) == f"{ADDR:#x}"

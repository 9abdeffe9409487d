"""kdump --strace: netlink messages of NETLINK_SOCK_DIAG, NETLINK_NETFILTER,
NETLINK_SELINUX and NETLINK_KOBJECT_UEVENT, built as strace 6.1's own test
programs build them (tests/nlattr_*_diag_msg.c, netlink_sock_diag.c,
nfnetlink_*.c, netlink_netfilter.c, netlink_selinux.c,
netlink_kobject_uevent.c), must print as those programs say strace prints
them."""

import socket
import struct

import pytest

import strace_diff as D
from engine_support import ENGINES, need_engine
from ptrace_support import build
from strace_harness import STRACE, parse_log

from ktrace.decode.strace.fmt import StraceOptions
from ktrace.decode.strace.netlink import netlink_text

OPTS = StraceOptions()
SOCK_DIAG, NETFILTER, SELINUX, KOBJECT_UEVENT = 4, 12, 7, 15
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
AF_UNIX, AF_INET, AF_NETLINK, AF_PACKET, AF_SMC = 1, 2, 16, 17, 43
DUMP_HEAD = ("{{nlmsg_len={}, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_DUMP, "
             "nlmsg_seq=0, nlmsg_pid=0}}")
REQUEST_HEAD = ("{{nlmsg_len={}, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_REQUEST, "
                "nlmsg_seq=0, nlmsg_pid=0}}")
COOKIE = struct.pack("<II", 0xdeadbeef, 0xbadc0ded)


def nlmsg(msg_type, flags, payload=b""):
    return struct.pack("<IHHIi", 16 + len(payload), msg_type, flags, 0, 0) + payload


def nla(nla_type, value):
    return struct.pack("<HH", 4 + len(value), nla_type) + value


def diag(protocol, flags, payload, msg_type=SOCK_DIAG_BY_FAMILY):
    data = nlmsg(msg_type, flags, payload)
    head = (DUMP_HEAD if flags == NLM_F_DUMP else REQUEST_HEAD).format(len(data))
    text = netlink_text(data, protocol, OPTS)
    assert text.startswith(f"[{head}, ") and text.endswith("]")
    return text[len(head) + 3:-1]


def test_requests_of_each_family():
    unix = struct.pack("<BBxxIII", AF_UNIX, 253, 0x402, 0xfacefeed, 1) + COOKIE
    assert diag(SOCK_DIAG, NLM_F_REQUEST, unix) == (
        "{sdiag_family=AF_UNIX, sdiag_protocol=253, udiag_states=1<<TCP_ESTABLISHED|1<<TCP_LISTEN, "
        "udiag_ino=4207869677, udiag_show=UDIAG_SHOW_NAME, udiag_cookie=[3735928559, 3134983661]}")
    assert diag(SOCK_DIAG, NLM_F_REQUEST, unix[:5]) == "{sdiag_family=AF_UNIX, ...}"
    netlink = struct.pack("<BBxxII", AF_NETLINK, 0xff, 0xfacefeed, 1) + COOKIE
    assert diag(SOCK_DIAG, NLM_F_REQUEST, netlink) == (
        "{sdiag_family=AF_NETLINK, sdiag_protocol=NDIAG_PROTO_ALL, ndiag_ino=4207869677, "
        "ndiag_show=NDIAG_SHOW_MEMINFO, ndiag_cookie=[3735928559, 3134983661]}")
    packet = struct.pack("<BBxxII", AF_PACKET, 0, 0xfacefeed, 0x21) + COOKIE
    assert diag(SOCK_DIAG, NLM_F_REQUEST, packet) == (
        "{sdiag_family=AF_PACKET, sdiag_protocol=0, pdiag_ino=4207869677, "
        "pdiag_show=PACKET_SHOW_INFO|PACKET_SHOW_FILTER, pdiag_cookie=[3735928559, 3134983661]}")
    sockid = (struct.pack(">HH", 0xfacf, 0xdead) + socket.inet_aton("10.11.12.13") + bytes(12)
              + socket.inet_aton("12.34.56.78") + bytes(12) + struct.pack("<I", 0)) + COOKIE
    inet = struct.pack("<BBBxI", AF_INET, 6, 1, 0x2) + sockid
    assert diag(SOCK_DIAG, NLM_F_REQUEST, inet) == (
        "{sdiag_family=AF_INET, sdiag_protocol=IPPROTO_TCP, idiag_ext=1<<(INET_DIAG_MEMINFO-1), "
        "idiag_states=1<<TCP_ESTABLISHED, id={idiag_sport=htons(64207), idiag_dport=htons(57005), "
        'idiag_src=inet_addr("10.11.12.13"), idiag_dst=inet_addr("12.34.56.78"), idiag_if=0, '
        "idiag_cookie=[3735928559, 3134983661]}}")
    smc = struct.pack("<BxxB", AF_SMC, 1) + sockid
    assert diag(SOCK_DIAG, NLM_F_REQUEST, smc).startswith(
        "{diag_family=AF_SMC, diag_ext=1<<(SMC_DIAG_CONNINFO-1), id={idiag_sport=htons(64207)")


UNIX_MSG = struct.pack("<BBBxI", AF_UNIX, 1, 1, 0) + bytes(8)
UNIX_HEAD = ("{udiag_family=AF_UNIX, udiag_type=SOCK_STREAM, udiag_state=TCP_ESTABLISHED, "
             "udiag_ino=0, udiag_cookie=[0, 0]}")


@pytest.mark.parametrize("attr, text", [
    (nla(1, struct.pack("<II", 0xbadc0ded, 0xabcddafa)),      # UNIX_DIAG_VFS: the inode first
     "[{nla_len=12, nla_type=UNIX_DIAG_VFS}, {udiag_vfs_dev=makedev(0xdda, 0xabcfa), "
     "udiag_vfs_ino=3134983661}]"),
    (nla(3, struct.pack("<II", 1, 2)), "[{nla_len=12, nla_type=UNIX_DIAG_ICONS}, [1, 2]]"),
    (nla(5, struct.pack("<I", 7) + b"\1\2"),
     "[{nla_len=10, nla_type=UNIX_DIAG_MEMINFO}, [[SK_MEMINFO_RMEM_ALLOC]=7]]"),
    (nla(7, struct.pack("<i", -1)), "[{nla_len=8, nla_type=UNIX_DIAG_UID}, -1]"),
    (nla(6, b""), "{nla_len=4, nla_type=UNIX_DIAG_SHUTDOWN}"),
    (nla(8, b"1234"), '[{nla_len=8, nla_type=0x8 /* UNIX_DIAG_??? */}, "\\x31\\x32\\x33\\x34"]'),
])
def test_unix_diag_msg_attributes(attr, text):
    assert diag(SOCK_DIAG, NLM_F_DUMP, UNIX_MSG + attr) == f"{UNIX_HEAD}, {text}"


INET_MSG = (struct.pack("<BBBB", AF_INET, 10, 0, 0) + bytes(4) + socket.inet_aton("10.11.12.13")
            + bytes(12) + socket.inet_aton("10.11.12.13") + bytes(12) + bytes(12) + bytes(20))


@pytest.mark.parametrize("attr, name, text", [
    (nla(8, b"\3"), "INET_DIAG_SHUTDOWN", "0x3 /* RCV_SHUTDOWN|SEND_SHUTDOWN */"),
    (nla(8, b"\4"), "INET_DIAG_SHUTDOWN", "0x4 /* ???_SHUTDOWN */"),
    (nla(7, struct.pack("<II", 2952448941, 4289576107)), "INET_DIAG_SKMEMINFO",
     "[[SK_MEMINFO_RMEM_ALLOC]=2952448941, [SK_MEMINFO_RCVBUF]=4289576107]"),
    (nla(22, b"\x53\x05"), "INET_DIAG_SOCKOPT",
     "{recverr=1, is_icsk=1, mc_loop=1, mc_all=1, bind_address_no_port=1, defer_connect=1}"),
    (nla(22, b"\xff\xff\x00\xff"), "INET_DIAG_SOCKOPT",
     "{recverr=1, is_icsk=1, freebind=1, hdrincl=1, mc_loop=1, transparent=1, mc_all=1, "
     "nodefrag=1, bind_address_no_port=1, recverr_rfc4884=1, defer_connect=1, "
     'unused=0x1f /* bits 3..8 */}, /* bytes 2..3 */ "\\x00\\xff"'),
    (nla(19, nla(2, nla(1, struct.pack("<H", 0x304)))), "INET_DIAG_ULP_INFO",
     "[{nla_len=10, nla_type=INET_ULP_INFO_TLS}, [{nla_len=6, nla_type=TLS_INFO_VERSION}, "
     "TLS_1_3_VERSION]]"),
    (nla(20, nla(1, nla(3, struct.pack("<I", 0xbadc0ded)))), "INET_DIAG_SK_BPF_STORAGES",
     "[{nla_len=12, nla_type=SK_DIAG_BPF_STORAGE}, [{nla_len=8, "
     "nla_type=SK_DIAG_BPF_STORAGE_MAP_VALUE}, 0xbadc0ded]]"),
])
def test_inet_diag_msg_attributes(attr, name, text):
    printed = diag(SOCK_DIAG, NLM_F_DUMP, INET_MSG + attr)
    assert printed.startswith("{idiag_family=AF_INET, idiag_state=TCP_LISTEN, ")
    assert printed.endswith(f"idiag_inode=0}}, [{{nla_len={len(attr)}, nla_type={name}}}, {text}]")


def test_netlink_packet_smc_diag_msg_attributes():
    netlink = struct.pack("<BBBBIIII", AF_NETLINK, 3, 0, 1, 0, 0, 0, 0) + bytes(8)
    assert diag(SOCK_DIAG, NLM_F_DUMP, netlink + nla(1, struct.pack("<Q", 0xdeadbeefbadc0ded))) == (
        "{ndiag_family=AF_NETLINK, ndiag_type=SOCK_RAW, ndiag_protocol=NETLINK_ROUTE, "
        "ndiag_state=NETLINK_CONNECTED, ndiag_portid=0, ndiag_dst_portid=0, ndiag_dst_group=0, "
        "ndiag_ino=0, ndiag_cookie=[0, 0]}, "
        "[{nla_len=12, nla_type=NETLINK_DIAG_GROUPS}, [0xdeadbeefbadc0ded]]")
    packet = struct.pack("<BBHI", AF_PACKET, 1, 3, 0) + bytes(8)
    info = struct.pack("<IIIIII", 1, 2, 0, 0, 0, 1)
    assert diag(SOCK_DIAG, NLM_F_DUMP, packet + nla(0, info)) == (
        "{pdiag_family=AF_PACKET, pdiag_type=SOCK_STREAM, pdiag_num=ETH_P_ALL, pdiag_ino=0, "
        "pdiag_cookie=[0, 0]}, [{nla_len=28, nla_type=PACKET_DIAG_INFO}, "
        '{pdi_index=if_nametoindex("lo"), pdi_version=TPACKET_V3, pdi_reserve=0, '
        "pdi_copy_thresh=0, pdi_tstamp=0, pdi_flags=PDI_RUNNING}]")
    smc = struct.pack("<BBBB", AF_SMC, 1, 0, 0) + bytes(48) + bytes(4) + bytes(8)
    fallback = struct.pack("<II", 0x3060000, 0x99999999)
    assert diag(SOCK_DIAG, NLM_F_DUMP, smc + nla(5, fallback)).endswith(
        "diag_uid=0, diag_inode=0}, [{nla_len=12, nla_type=SMC_DIAG_FALLBACK}, "
        "{reason=0x3060000 /* SMC_CLC_DECL_OPTUNSUPP */, "
        "peer_diagnosis=0x99999999 /* SMC_CLC_DECL_??? */}]")


def test_unknown_families_print_their_data():
    assert diag(SOCK_DIAG, NLM_F_REQUEST, b"\x1f\x31\x32") == '{family=AF_BLUETOOTH, data="\\x31\\x32"}'


@pytest.mark.parametrize("family", [AF_UNIX, AF_INET, 10, AF_NETLINK, AF_PACKET, AF_SMC, 99])
@pytest.mark.parametrize("flags", [NLM_F_REQUEST, NLM_F_DUMP])
def test_cut_and_hostile_sock_diag_messages_never_raise(family, flags):
    for size in range(1, 120):
        body = bytes([family]) + bytes(range(1, size))
        for attrs in (b"", nla(1, bytes(range(size % 13))), struct.pack("<HH", 3, 0x8013)):
            for msg_type in (SOCK_DIAG_BY_FAMILY, 18):
                assert netlink_text(nlmsg(msg_type, flags, body + attrs), SOCK_DIAG, OPTS)


# --- NETLINK_NETFILTER ------------------------------------------------------------


def nf(msg_type, flags, payload=b""):
    return netlink_text(nlmsg(msg_type, flags, payload), NETFILTER, OPTS)


def test_netfilter_message_types_and_flags():
    assert nf(0x10, 1) == ("{nlmsg_len=16, nlmsg_type=NFNL_MSG_BATCH_BEGIN, "
                           "nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, nlmsg_pid=0}")
    assert "nlmsg_type=NFNL_SUBSYS_ACCT<<8|NFNL_MSG_ACCT_NEW, nlmsg_flags=NLM_F_REQUEST|NLM_F_CREATE" \
        in nf(0x700, 0x401)
    assert "nlmsg_type=NFNL_SUBSYS_NFTABLES<<8|NFT_MSG_NEWTABLE, nlmsg_flags=NLM_F_REQUEST|NLM_F_REPLACE" \
        in nf(0xa00, 0x101)
    assert "nlmsg_type=NFNL_SUBSYS_CTNETLINK<<8|0xff /* IPCTNL_MSG_CT_??? */" in nf(0x1ff, 1)
    assert "nlmsg_type=0xff /* NFNL_SUBSYS_??? */<<8|0xff," in nf(0xffff, 1)
    assert "nlmsg_type=NFNL_SUBSYS_NONE<<8|0x12," in nf(0x12, 1)


@pytest.mark.parametrize("res_id, text", [
    (struct.pack(">H", 10), "htons(NFNL_SUBSYS_NFTABLES)"),
    (struct.pack("<H", 10), "NFNL_SUBSYS_NFTABLES"),
    (struct.pack(">H", 0xabcd), "htons(43981)"),
])
def test_nfgenmsg_res_id_as_nftables_sent_it(res_id, text):
    assert nf(0xaff, 1, b"\1\0" + res_id).endswith(
        f"{{nfgen_family=AF_UNIX, version=NFNETLINK_V0, res_id={text}}}]")


def test_nfgenmsg_of_other_subsystems_and_batches():
    assert nf(0x700, 1, b"\1\0" + struct.pack("<H", 10)).endswith("res_id=htons(2560)}]")
    assert nf(0x10, 1, b"\1\0\0\0" + b"1234").endswith(
        '{nfgen_family=AF_UNIX, version=NFNETLINK_V0, res_id=htons(0)}, "\\x31\\x32\\x33\\x34"]')
    assert nf(0x700, 1, b"\1\0").endswith(', "\\x01\\x00"]')


# --- NETLINK_SELINUX, NETLINK_KOBJECT_UEVENT ----------------------------------------


def test_selinux_payloads():
    text = netlink_text(nlmsg(0x10, 1, struct.pack("<i", -69410901)), SELINUX, OPTS)
    assert text == ("[{nlmsg_len=20, nlmsg_type=SELNL_MSG_SETENFORCE, nlmsg_flags=NLM_F_REQUEST, "
                    "nlmsg_seq=0, nlmsg_pid=0}, {val=-69410901}]")
    assert netlink_text(nlmsg(0x11, 1, b"abc"), SELINUX, OPTS).endswith(', "\\x61\\x62\\x63"]')
    assert netlink_text(nlmsg(0x11, 1, struct.pack("<I", 4207869677)), SELINUX,
                        OPTS).endswith(", {seqno=4207869677}]")
    assert netlink_text(nlmsg(0xffff, 1, b"1234"), SELINUX, OPTS).startswith(
        "[{nlmsg_len=20, nlmsg_type=0xffff /* SELNL_MSG_??? */")


UDEV = (b"libudev\0" + struct.pack(">I", 0xfeedcafe) + struct.pack("<III", 40, 40, 299)
        + struct.pack(">IIII", 0xc370b302, 0x10800000, 0x2000400, 0x800000))


def test_kobject_uevent_header_and_properties():
    header = ('{prefix="libudev", magic=htonl(0xfeedcafe), header_size=40, properties_off=40, '
              "properties_len=299, filter_subsystem_hash=htonl(0xc370b302), "
              "filter_devtype_hash=htonl(0x10800000), filter_tag_bloom_hi=htonl(0x2000400), "
              "filter_tag_bloom_lo=htonl(0x800000)}")
    assert netlink_text(UDEV, KOBJECT_UEVENT, OPTS) == header
    assert netlink_text(UDEV + b"ACTION=change\0", KOBJECT_UEVENT, OPTS) == (
        f'[{header}, "ACTION=change\\0"]')
    assert netlink_text(b"change@\0", KOBJECT_UEVENT, OPTS) == '"change@\\0"'


# A packet_diag_msg with its socket's classic BPF program (PACKET_DIAG_FILTER),
# sent whole and then with its second instruction on an unmapped page: strace
# prints the instructions with -v, where the program is without it (both runs
# of the program put the message at one fixed address)
PACKET_FILTER_C = r"""
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#define AT ((char *) 0x7e5a00000000)
int main(void) {
    unsigned char msg[52] = {52, 0, 0, 0, SOCK_DIAG_BY_FAMILY, 0, 0x00, 0x03};
    unsigned char insns[16] = {0x30, 0, 0, 0, 0x04, 0xf0, 0xff, 0xff,   /* ld b SKF_AD_PKTTYPE */
                               0x06, 0, 0, 0, 0x2a, 0, 0, 0};           /* ret 0x2a */
    struct sockaddr_nl me = {.nl_family = AF_NETLINK};
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
    /* bound: strace finds a socket's protocol by asking sock_diag for it */
    if (bind(fd, (struct sockaddr *) &me, sizeof(me)) ||
        mmap(AT, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
        != AT || munmap(AT + 4096, 4096))
        return 77;
    msg[16] = 17; msg[17] = 1; msg[18] = 3;          /* AF_PACKET, SOCK_STREAM, ETH_P_ALL */
    msg[32] = 20; msg[34] = 7;                       /* nla_len, PACKET_DIAG_FILTER */
    memcpy(msg + 36, insns, 16);
    memcpy(AT, msg, 52);
    sendto(fd, AT, 52, MSG_DONTWAIT, NULL, 0);
    memcpy(AT + 4096 - 44, msg, 44);                 /* the second instruction unmapped */
    sendto(fd, AT + 4096 - 44, 52, MSG_DONTWAIT, NULL, 0);
    return 0;
}
"""


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_a_packet_sockets_filter_prints_as_straces(tmp_path, engine):
    need_engine(engine)
    exe = build(tmp_path, "packet_filter", PACKET_FILTER_C)
    filters = ("-e trace=sendto", "-v -e trace=sendto")
    _, logs = D.run_filters(D.Program("packet_filter", [exe]), tmp_path, None, filters, engine)
    for label in filters:
        want, got = ([ln.text for lines in parse_log(log).values()
                      for ln in D.drop_before_exec(lines) if ln.name == "sendto"]
                     for log in logs[label])
        assert len(want) == 2 and got == want
    terse, verbose = (logs[label][0] for label in filters)
    assert "nla_type=PACKET_DIAG_FILTER}, 0x7e5a00000024]" in terse
    assert "[BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_AD_OFF+SKF_AD_PKTTYPE), " in verbose
    assert "... /* 0x7e5a00001000 */" in verbose

"""kdump --strace: socket calls from hand-built records laid out as the
recording plan says (sockaddrs of many families, socket options, recvmmsg)
must print as strace 6.1 prints the same calls."""

import io
import struct

import pytest

from ktrace import record as r
from ktrace.kdump import strace as view
from test_strace_view import Trace as ViewTrace, linux_tables  # noqa: F401  (the fixture)
from test_strace_view import ABI

EBADF, EFAULT = 9, 14


class Trace(ViewTrace):
    """A trace of one Linux process, its PROCCTOR first."""

    def __init__(self):
        super().__init__()
        self.start()

    def lines(self, *argv):
        """The lines without their results' alignment (and without results)."""
        return [line.split(" = ")[0].rstrip() if " = " in line else line
                for line in super().lines(*argv)]


def connect(t, data, addrlen=None):
    addrlen = len(data) if addrlen is None else addrlen
    t.call("connect", (1 << 64) - 1, 0x1000, addrlen)
    t.stru(b"sockaddr", data)
    t.ret("connect", -EBADF, error=EBADF)


def test_sockaddrs_of_many_families():
    t = Trace()
    connect(t, struct.pack("<H", 2) + struct.pack("!H", 12345) + bytes([12, 34, 56, 78]) + bytes(8))
    connect(t, struct.pack("<H", 2) + bytes(10))               # too short for sockaddr_in
    in6 = (struct.pack("<H", 10) + struct.pack("!HI", 12345, 1234567890)
           + bytes.fromhex("00120034005600780090" "00ab00cd00ef"))
    connect(t, in6 + struct.pack("<I", 7))
    connect(t, in6)                                             # no sin6_scope_id
    connect(t, struct.pack("<HHII", 16, 0xffff, 1234567890, 0xfacefeed))
    connect(t, struct.pack("<HHII", 16, 0, 0, 0))
    connect(t, struct.pack("<H", 17) + struct.pack("!H", 3) + struct.pack("<IHBB", 9999, 1, 0, 2)
            + b"ab" + bytes(6))
    connect(t, struct.pack("<H", 4) + struct.pack("!HI", 12345, 0xfacefeed) + b"ABCDEF\xff\0")
    connect(t, struct.pack("<H", 1) + b"\0\0ab")                # abstract
    connect(t, struct.pack("<H", 1) + b"/tmp/x" + bytes(8), 6)  # cut at addrlen
    connect(t, struct.pack("<H", 0xff) + b"01")
    connect(t, struct.pack("<H", 1), 1)                         # addrlen < 2: the pointer
    assert t.lines() == [
        'connect(-1, {sa_family=AF_INET, sin_port=htons(12345), sin_addr=inet_addr("12.34.56.78")}, 16)',
        'connect(-1, {sa_family=AF_INET, sa_data="\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0"}, 12)',
        'connect(-1, {sa_family=AF_INET6, sin6_port=htons(12345), sin6_flowinfo=htonl(1234567890), '
        'inet_pton(AF_INET6, "12:34:56:78:90:ab:cd:ef", &sin6_addr), sin6_scope_id=7}, 28)',
        'connect(-1, {sa_family=AF_INET6, sin6_port=htons(12345), sin6_flowinfo=htonl(1234567890), '
        'inet_pton(AF_INET6, "12:34:56:78:90:ab:cd:ef", &sin6_addr)}, 24)',
        "connect(-1, {sa_family=AF_NETLINK, nl_pad=0xffff, nl_pid=1234567890, nl_groups=0xfacefeed}, 12)",
        "connect(-1, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12)",
        "connect(-1, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=9999, "
        "sll_hatype=ARPHRD_ETHER, sll_pkttype=PACKET_HOST, sll_halen=2, sll_addr=[0x61, 0x62]}, 20)",
        "connect(-1, {sa_family=AF_IPX, sipx_port=htons(12345), sipx_network=htonl(0xfacefeed), "
        "sipx_node=[0x41, 0x42, 0x43, 0x44, 0x45, 0x46], sipx_type=0xff}, 16)",
        'connect(-1, {sa_family=AF_UNIX, sun_path=@"\\0ab"}, 6)',
        'connect(-1, {sa_family=AF_UNIX, sun_path="/tmp"}, 6)',
        'connect(-1, {sa_family=0xff /* AF_??? */, sa_data="01"}, 4)',
        "connect(-1, 0x1000, 1)",
    ]


def test_sockaddr_constants_in_each_xlat_style():
    t = Trace()
    connect(t, struct.pack("<H", 2) + struct.pack("!H", 12345) + bytes([127, 0, 0, 1]) + bytes(8))
    connect(t, struct.pack("<HHII", 42, 0, 0xfffffffe, 0xfffffffe))
    assert t.lines("-Xraw")[0] == 'connect(-1, {sa_family=0x2, sin_port="\\x30\\x39", sin_addr="\\x7f\\x00\\x00\\x01"}, 16)'
    assert t.lines("-Xverbose") == [
        'connect(-1, {sa_family=0x2 /* AF_INET */, sin_port="\\x30\\x39" /* htons(12345) */, '
        'sin_addr="\\x7f\\x00\\x00\\x01" /* inet_addr("127.0.0.1") */}, 16)',
        "connect(-1, {sa_family=0x2a /* AF_QIPCRTR */, sq_node=0xfffffffe, "
        "sq_port=0xfffffffe /* QRTR_PORT_CTRL */}, 12)",
    ]


def test_socknames_print_no_more_than_the_buffer_given():
    t = Trace()
    sun = struct.pack("<H", 1) + b"accept.socket.connect\0"
    t.call("accept", 3, 0x1000, 0x2000); t.stru(b"int", struct.pack("<i", 2))
    t.stru(b"sockaddr", sun); t.stru(b"int", struct.pack("<i", 24)); t.ret("accept", 5)
    t.call("accept", 3, 0x1000, 0x2000); t.stru(b"int", struct.pack("<i", 16))
    t.stru(b"sockaddr", sun); t.stru(b"int", struct.pack("<i", 24)); t.ret("accept", 6)
    t.call("accept", 3, 0, 0x2000); t.stru(b"int", struct.pack("<i", 16)); t.ret("accept", 7)
    t.call("getsockname", 3, 0x1000, 0x2000); t.stru(b"int", struct.pack("<i", 16))
    t.ret("getsockname", -EFAULT, error=EFAULT)
    assert t.lines() == [
        "accept(3, {sa_family=AF_UNIX}, [2 => 24])",
        'accept(3, {sa_family=AF_UNIX, sun_path="accept.socket."}, [16 => 24])',
        "accept(3, NULL, 0x2000)",
        "getsockname(3, 0x1000, [16])",
    ]


def getsockopt(t, level, name, value, ulen, rlen=None, ok=True):
    rlen = ulen if rlen is None else rlen
    t.call("getsockopt", 3, level, name, 0x1000, 0x2000)
    t.stru(b"int", struct.pack("<i", ulen))
    if ok:
        t.stru(b"bytes", value); t.stru(b"int", struct.pack("<i", rlen)); t.ret("getsockopt", 0)
    else:
        t.ret("getsockopt", -EFAULT, error=EFAULT)


def setsockopt(t, level, name, value, optlen=None):
    t.call("setsockopt", 3, level, name, 0x1000, len(value) if optlen is None else optlen)
    t.stru(b"bytes", value)
    t.ret("setsockopt", 0)


def test_socket_option_values():
    t = Trace()
    cred = struct.pack("<iII", 77, 0, 0)
    getsockopt(t, 1, 17, cred, 12)
    getsockopt(t, 1, 17, cred[:7], 7)
    getsockopt(t, 1, 17, b"", 0)
    getsockopt(t, 1, 17, cred, 13, 12)
    getsockopt(t, 1, 13, struct.pack("<ii", 1, -5), 8)
    getsockopt(t, 1, 4, struct.pack("<i", 111), 4)
    getsockopt(t, 1, 4, b"\1\2", 2)
    getsockopt(t, 263, 6, struct.pack("<III", 1, 2, 3), 12)
    getsockopt(t, 1, 17, cred, 12, ok=False)
    setsockopt(t, 1, 13, struct.pack("<ii", -15, -42))
    setsockopt(t, 1, 13, struct.pack("<i", -15))
    setsockopt(t, 1, 74, struct.pack("<i", 255))
    setsockopt(t, 1, 74, struct.pack("<i", 2))
    setsockopt(t, 1, 1, struct.pack("<i", 1), 5)        # the int of a longer optlen
    setsockopt(t, 1, 1, b"\0\0\0")
    setsockopt(t, 263, 1, struct.pack("<iHH", 0, 1, 6) + b"\xff" * 8)
    setsockopt(t, 263, 5, struct.pack("<IIII", 1, 2, 3, 4))
    setsockopt(t, 255, 1, struct.pack("<I", 0xFFFFFFFF & ~0b11000))
    setsockopt(t, 0, 35, bytes([224, 0, 0, 3, 127, 0, 0, 1]))
    assert t.lines() == [
        "getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=77, uid=0, gid=0}, [12])",
        'getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=77, uid="\\x00\\x00\\x00"}, [7])',
        "getsockopt(3, SOL_SOCKET, SO_PEERCRED, 0x1000, [0])",
        "getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=77, uid=0, gid=0}, [13 => 12])",
        "getsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=-5}, [8])",
        "getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4])",
        'getsockopt(3, SOL_SOCKET, SO_ERROR, "\\x01\\x02", [2])',
        "getsockopt(3, SOL_PACKET, PACKET_STATISTICS, {tp_packets=1, tp_drops=2, tp_freeze_q_cnt=3}, [12])",
        "getsockopt(3, SOL_SOCKET, SO_PEERCRED, 0x1000, [12])",
        "setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=-15, l_linger=-42}, 8)",
        "setsockopt(3, SOL_SOCKET, SO_LINGER, 0x1000, 4)",
        "setsockopt(3, SOL_SOCKET, SO_TXREHASH, [SOCK_TXREHASH_DEFAULT], 4)",
        "setsockopt(3, SOL_SOCKET, SO_TXREHASH, [2 /* SOCK_TXREHASH_??? */], 4)",
        "setsockopt(3, SOL_SOCKET, SO_DEBUG, [1], 5)",
        "setsockopt(3, SOL_SOCKET, SO_DEBUG, 0x1000, 3)",
        "setsockopt(3, SOL_PACKET, PACKET_ADD_MEMBERSHIP, {mr_ifindex=0, mr_type=PACKET_MR_PROMISC, "
        "mr_alen=6, mr_address=ff:ff:ff:ff:ff:ff}, 16)",
        "setsockopt(3, SOL_PACKET, PACKET_RX_RING, {tp_block_size=1, tp_block_nr=2, tp_frame_size=3, "
        "tp_frame_nr=4}, 16)",
        "setsockopt(3, SOL_RAW, ICMP_FILTER, ~[ICMP_DEST_UNREACH ICMP_SOURCE_QUENCH], 4)",
        'setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr("224.0.0.3"), '
        'imr_interface=inet_addr("127.0.0.1")}, 8)',
    ]


def test_recvmmsg_timeout_left_and_timeout():
    t = Trace()
    t.call("recvmmsg", 3, 0x1000, 1, 0x40, 0x2000)
    t.stru(b"timespec", struct.pack("<qq", 0, 12345678))
    t.stru(b"timespec", struct.pack("<qq", 0, 12000000)); t.ret("recvmmsg", 1)
    t.call("recvmmsg", 3, 0x1000, 1, 0, 0x2000)
    t.stru(b"timespec", struct.pack("<qq", 1, 0)); t.stru(b"timespec", bytes(16))
    t.ret("recvmmsg", 0)
    t.call("sendmmsg", 3, 0x1000, 2, 0x40); t.ret("sendmmsg", 2)
    out = io.StringIO()
    view.run(view.parse([]), io.BytesIO(b"".join(t.recs)), out)
    assert [" ".join(line.split()) for line in out.getvalue().splitlines()] == [
        "recvmmsg(3, 0x1000, 1, MSG_DONTWAIT, {tv_sec=0, tv_nsec=12345678}) = 1 "
        "(left {tv_sec=0, tv_nsec=12000000})",
        "recvmmsg(3, [], 1, 0, {tv_sec=1, tv_nsec=0}) = 0 (Timeout)",     # no message
        "sendmmsg(3, 0x1000, 2, MSG_DONTWAIT) = 2",
    ]


@pytest.mark.parametrize("family", [1, 2, 3, 4, 9, 10, 16, 17, 33, 36, 38, 39, 40, 42, 44, 45, 99])
def test_short_and_odd_sockaddrs_never_raise(family):
    t = Trace()
    for n in (0, 1, 2, 3, 13, 40, 200):
        data = (struct.pack("<H", family) + bytes(range(0x80, 0xff)) * 2)[:n]
        connect(t, data, 128)
        connect(t, data, n)
    for name in (1, 4, 13, 17, 26, 74):
        getsockopt(t, 1, name, b"\xff" * 3, 12)
        setsockopt(t, 1, name, b"\xff" * 3, 16)
    assert len(t.lines()) == 26


def nlmsg(msg_type, flags, payload=b"", seq=0, pid=0, length=None):
    length = 16 + len(payload) if length is None else length
    return struct.pack("<IHHIi", length, msg_type, flags, seq, pid) + payload


def send(t, fd, data):
    t.call("sendto", fd, 0x1000, len(data), 0x40, 0, 0)
    t.add(r.GENIO, r.genio_payload(fd, 1, data))
    t.ret("sendto", len(data))


def test_netlink_messages_on_a_netlink_socket():
    t = Trace()
    t.call("socket", 16, 3, 0); t.ret("socket", 3)            # NETLINK_ROUTE
    t.call("socket", 16, 3, 9); t.ret("socket", 4)            # NETLINK_AUDIT
    t.call("socket", 1, 1, 0); t.ret("socket", 5)             # not netlink
    attr = struct.pack("<HH", 8, 0x3fff) + b"abcd"
    send(t, 3, nlmsg(86, 0x300, struct.pack("<Bxxxi", 1, 0) + attr))          # RTM_GETMDB
    send(t, 3, nlmsg(50, 0x300, struct.pack("<Bxxx", 2)
                     + struct.pack("<HH", 16, 1) + b"Hello\tthere\0"))        # TCA_ACT_KIND
    send(t, 3, nlmsg(90, 0x300, b"\1\0\0\0") + nlmsg(3, 2))                 # two messages
    send(t, 4, nlmsg(1000, 1, pid=77))                                        # AUDIT_GET
    send(t, 3, nlmsg(2, 0x101, struct.pack("<i", -13) + nlmsg(1, 1, length=20)
                     + struct.pack("<HH", 6, 3) + b"\xab\xfe"))               # NLMSG_ERROR
    send(t, 3, b"\1\2\3")                                                     # shorter than a header
    send(t, 5, nlmsg(1000, 1))
    assert t.lines() == [
        "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)",
        "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)",
        "socket(AF_UNIX, SOCK_STREAM, 0)",
        "sendto(3, [{nlmsg_len=32, nlmsg_type=RTM_GETMDB, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, "
        "nlmsg_pid=0}, {family=AF_UNIX, ifindex=0}, [{nla_len=8, nla_type=0x3fff /* MDBA_??? */}, "
        '"\\x61\\x62\\x63\\x64"]], 32, MSG_DONTWAIT, NULL, 0)',
        "sendto(3, [{nlmsg_len=36, nlmsg_type=RTM_GETACTION, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, "
        'nlmsg_pid=0}, {tca_family=AF_INET}, [{nla_len=16, nla_type=TCA_ACT_KIND}, "Hello\\tthere"]], '
        "36, MSG_DONTWAIT, NULL, 0)",
        "sendto(3, [[{nlmsg_len=20, nlmsg_type=RTM_GETNSID, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, "
        "nlmsg_pid=0}, {rtgen_family=AF_UNIX}], {nlmsg_len=16, nlmsg_type=NLMSG_DONE, "
        "nlmsg_flags=NLM_F_MULTI, nlmsg_seq=0, nlmsg_pid=0}], 36, MSG_DONTWAIT, NULL, 0)",
        "sendto(4, {nlmsg_len=16, nlmsg_type=AUDIT_GET, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, "
        "nlmsg_pid=77}, 16, MSG_DONTWAIT, NULL, 0)",
        "sendto(3, [{nlmsg_len=42, nlmsg_type=NLMSG_ERROR, nlmsg_flags=NLM_F_REQUEST|NLM_F_CAPPED, "
        "nlmsg_seq=0, nlmsg_pid=0}, [{error=-EACCES, msg={nlmsg_len=20, nlmsg_type=NLMSG_NOOP, "
        "nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, nlmsg_pid=0}}, [{nla_len=6, "
        "nla_type=NLMSGERR_ATTR_COOKIE}, [171, 254]]]], 42, MSG_DONTWAIT, NULL, 0)",
        'sendto(3, "\\x01\\x02\\x03", 3, MSG_DONTWAIT, NULL, 0)',
        'sendto(5, "\\20\\0\\0\\0\\350\\3\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0", 16, MSG_DONTWAIT, NULL, 0)',
    ]


@pytest.mark.parametrize("size", [0, 1, 4, 15, 16, 17, 19, 20, 21, 33, 61])
def test_cut_and_hostile_netlink_messages_never_raise(size):
    t = Trace()
    t.call("socket", 16, 3, 0); t.ret("socket", 3)
    t.call("socket", 16, 3, 4); t.ret("socket", 4)
    for fd in (3, 4):
        for msg_type in (2, 3, 18, 20, 50, 86, 90, 0x44):
            body = nlmsg(msg_type, 0x1, bytes(range(1, 64)), length=size)[:size]
            send(t, fd, body)
            send(t, fd, body + struct.pack("<HH", 2, 5) + struct.pack("<HH", 0xffff, 1))
    assert len(t.lines()) == 34


def test_plan_reads_what_strace_reads_of_socket_arguments():
    from ktrace.abi import linux_plan as lp
    setsockopt = ABI.syscall_number("setsockopt")
    optval = {name: lp.plan_for_call(setsockopt, (3, 1, name, 0x1000, 9, 0))[3]
              for name in (1, 13, 27, 35, 20)}
    # optlen bytes, else the int (SO_DEBUG, SO_DETACH_FILTER, SO_MARK) or the struct read
    assert {name: (spec.role, spec.size) for name, spec in optval.items()} == {
        1: (lp.Role.IN_STRUCT, 4), 13: (lp.Role.IN_STRUCT, 8), 27: (lp.Role.IN_STRUCT, 4),
        35: (lp.Role.IN_STRUCT, 4), 20: (lp.Role.IN_STRUCT, 20)}
    int_count = lp.Length(lp.Len.ARG_U32, 4)       # optlen is an int: its low 32 bits
    assert all(spec.length == int_count for spec in optval.values())
    connect = lp.plan_for(ABI.syscall_number("connect"))[1]
    assert (connect.name, connect.size, connect.length) == (
        "sockaddr", 128, lp.Length(lp.Len.ARG_U32, 2))
    timeout = lp.plan_for(ABI.syscall_number("recvmmsg"))[4]
    assert (timeout.role, timeout.name) == (lp.Role.INOUT_STRUCT, "timespec")


def test_recvfrom_on_a_netlink_socket_prints_the_messages_read():
    t = Trace()
    t.call("socket", 16, 3, 4); t.ret("socket", 3)            # NETLINK_SOCK_DIAG
    data = nlmsg(3, 2, struct.pack("<i", 0))
    t.call("recvfrom", 3, 0x1000, 8192, 0, 0, 0)
    t.add(r.GENIO, r.genio_payload(3, 0, data)); t.ret("recvfrom", len(data))
    t.call("recvfrom", 3, 0x1000, 8192, 0, 0, 0); t.ret("recvfrom", -EBADF, error=EBADF)
    t.call("sendto", 3, 0x1000, 0, 0, 0, 0); t.ret("sendto", -61, error=61)
    assert t.lines()[1:] == [
        "recvfrom(3, [{nlmsg_len=20, nlmsg_type=NLMSG_DONE, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=0, "
        "nlmsg_pid=0}, 0], 8192, 0, NULL, NULL)",
        "recvfrom(3, 0x1000, 8192, 0, NULL, NULL)",
        'sendto(3, "", 0, 0, NULL, 0)',
    ]

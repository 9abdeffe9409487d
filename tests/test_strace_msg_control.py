"""A msghdr's control data: recorded by both engines as ``STRU cmsghdr``
(msg_control's bytes) and printed by kdump --strace as strace 6.1 prints the
control messages (SCM_RIGHTS, SCM_CREDENTIALS, the IP cmsgs, cut and short
ones), against the real strace on a program passing descriptors; and
sendmmsg's and recvmmsg's messages, each one's parts and data."""

import re
import struct

import pytest

import strace_diff as D
from engine_support import ENGINES, need_engine
from ptrace_support import build
from strace_harness import STRACE, parse_log
from test_strace_net import Trace
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

from ktrace.abi import linux_plan as lp

MSGHDR = struct.Struct("<QI4xQQQQi4x")
CONTROL = 0x7000
SOL_SOCKET, SOL_IP, SOL_TCP = 1, 0, 6
SCM_RIGHTS, SCM_CREDENTIALS = 1, 2
IP_TTL, IP_PKTINFO = 2, 8


def cmsg(level, kind, data, length=None):
    """One control message, padded to its CMSG_SPACE."""
    length = 16 + len(data) if length is None else length
    raw = struct.pack("<QiI", length, level, kind) + data
    return raw + bytes(-len(raw) % 8)


def sendmsg(t, controllen, control=None):
    t.call("sendmsg", 3, 0x1000, 0)
    t.stru(b"msghdr", MSGHDR.pack(0, 0, 0, 0, CONTROL, controllen, 0))
    if control is not None:
        t.stru(b"cmsghdr", control)
    t.ret("sendmsg", 0)


def test_control_messages_print_as_straces():
    t = Trace()
    fds = struct.pack("<40i", *range(40))
    sendmsg(t, 56, cmsg(SOL_SOCKET, SCM_RIGHTS, struct.pack("<2i", 0, 1))
            + cmsg(SOL_SOCKET, SCM_CREDENTIALS, struct.pack("<iII", 42, 1000, 0xFFFFFFFF)))
    sendmsg(t, 176, cmsg(SOL_SOCKET, SCM_RIGHTS, fds))
    # a header cut at msg_controllen; a short message and bytes after it
    sendmsg(t, 24, cmsg(SOL_SOCKET, SCM_RIGHTS, fds)[:24])
    sendmsg(t, 44, cmsg(SOL_IP, IP_TTL, struct.pack("<I", 64)) + bytes(20))
    sendmsg(t, 32, cmsg(SOL_IP, IP_PKTINFO, struct.pack("<i4s4s", 0, b"\1\2\3\4", b"\5\6\7\10")))
    sendmsg(t, 16, cmsg(SOL_TCP, 0xDEADBEEF, b""))
    sendmsg(t, 16, cmsg(SOL_SOCKET, 0xFACEFEED, b""))
    # fewer bytes recorded than msg_controllen (the engines' cap); none; too few for a header
    sendmsg(t, 1 << 20, cmsg(SOL_SOCKET, SCM_RIGHTS, fds, length=1 << 20)[:48])
    sendmsg(t, 16)
    sendmsg(t, 8, bytes(8))
    lines = t.lines()
    head = "sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_control="
    assert [ln.removeprefix(head) for ln in lines] == [
        "[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0, 1]}, "
        "{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, "
        "cmsg_data={pid=42, uid=1000, gid=-1}}], msg_controllen=56, msg_flags=0}, 0)",
        "[{cmsg_len=176, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=["
        + ", ".join(map(str, range(32))) + ", ...]}], msg_controllen=176, msg_flags=0}, 0)",
        "[{cmsg_len=176, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0, 1]}], "
        "msg_controllen=24, msg_flags=0}, 0)",
        "[{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_TTL, cmsg_data=[64]}, "
        "{cmsg_len=0, cmsg_level=SOL_IP, cmsg_type=0 /* IP_??? */}, ... /* 0x7028 */], "
        "msg_controllen=44, msg_flags=0}, 0)",
        "[{cmsg_len=28, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO, cmsg_data={ipi_ifindex=0, "
        'ipi_spec_dst=inet_addr("1.2.3.4"), ipi_addr=inet_addr("5.6.7.8")}}], '
        "msg_controllen=32, msg_flags=0}, 0)",
        "[{cmsg_len=16, cmsg_level=SOL_TCP, cmsg_type=0xdeadbeef}], msg_controllen=16, "
        "msg_flags=0}, 0)",
        "[{cmsg_len=16, cmsg_level=SOL_SOCKET, cmsg_type=0xfacefeed /* SCM_??? */}], "
        "msg_controllen=16, msg_flags=0}, 0)",
        "[{cmsg_len=1048576, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data="
        "[0, 1, 2, 3, 4, 5, 6, 7]}, ...], msg_controllen=1048576, msg_flags=0}, 0)",
        "0x7000, msg_controllen=16, msg_flags=0}, 0)",
        "0x7000, msg_controllen=8, msg_flags=0}, 0)",
    ]
    # -v: every descriptor; -X raw: the numbers
    every = "cmsg_data=[" + ", ".join(map(str, range(40))) + "]}]"
    assert every in t.lines("-v")[1]
    assert "cmsg_level=0x1, cmsg_type=0x1, cmsg_data=[0, 1]" in t.lines("-Xraw")[0]


# --- both engines against strace ----------------------------------------------

# Descriptors and credentials over a datagram socket pair: sent with both, received
# into a buffer with room for both, then into one with room for the credentials
# only (MSG_CTRUNC: the descriptors are dropped); a control pointer that cannot be
# read (EFAULT), printed as its address (no data: a failed call's is not recorded).
PASS_FDS_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#define SPACE (CMSG_SPACE(2 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred)))
int main(void) {
    int sv[2], one = 1;
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
    int fds[2] = {open("/dev/null", O_RDONLY), open("/dev/zero", O_RDONLY)};
    struct ucred cr = {getpid(), getuid(), getgid()};
    char data[] = "fd", in[8];
    struct iovec iov = {data, 2}, riov = {in, sizeof(in)};
    union { char buf[SPACE]; struct cmsghdr align; } out, back;
    memset(&out, 0, sizeof(out));
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = out.buf,
                       .msg_controllen = sizeof(out.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(c), fds, sizeof(fds));
    c = CMSG_NXTHDR(&m, c);
    c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_CREDENTIALS, c->cmsg_len = CMSG_LEN(sizeof(cr));
    memcpy(CMSG_DATA(c), &cr, sizeof(cr));
    sendmsg(sv[0], &m, 0);
    sendmsg(sv[0], &m, 0);
    struct msghdr r = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = back.buf,
                       .msg_controllen = sizeof(back.buf)};
    recvmsg(sv[1], &r, 0);
    r.msg_controllen = CMSG_SPACE(sizeof(struct ucred));
    recvmsg(sv[1], &r, 0);
    m.msg_control = (void *) 8, m.msg_iov = NULL, m.msg_iovlen = 0;
    sendmsg(sv[0], &m, 0);
    return 0;
}
"""
MSG_CALLS = "-e trace=execve,sendmsg,recvmsg"


def _msg_lines(log: str) -> list[str]:
    """The program's sendmsg and recvmsg lines, its pid in SCM_CREDENTIALS made P."""
    return [re.sub(r"pid=\d+", "pid=P", ln.text) for lines in parse_log(log).values()
            for ln in D.drop_before_exec(lines) if ln.name in ("sendmsg", "recvmsg")]


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_passed_descriptors_and_credentials_print_as_straces(tmp_path, engine):
    need_engine(engine)
    exe = build(tmp_path, "pass_fds", PASS_FDS_C)
    _, logs = D.run_filters(D.Program("pass_fds", [exe]), tmp_path, None, (MSG_CALLS,), engine)
    want, got = (_msg_lines(log) for log in logs[MSG_CALLS])
    assert len(want) == 5 and "cmsg_type=SCM_RIGHTS, cmsg_data=[5, 6]" in want[0]
    assert "MSG_CTRUNC" in want[3] and "SCM_RIGHTS" not in want[3]
    assert got == want


def test_msg_control_is_capped_for_both_engines_alike():
    """One cap in the plan, in parts the bpf program's largest record holds."""
    assert 0 < lp.MSG_CONTROL_PART <= 32768
    assert lp.MSG_CONTROL_MAX % lp.MSG_CONTROL_PART == 0
    assert lp.STRUCT_SIZES["cmsghdr"] == 0


# Control data past the bpf program's largest record: SCM_RIGHTS of twice
# optmem_max bytes (strace reads the first optmem_max: the kernel takes no
# more), 40000 bytes of it, then 60000 bytes whose 13th page is unmapped
# (strace reads all or nothing: the address)
BIG_CONTROL_C = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
int main(void) {
    int optmem = 20480;
    FILE *f = fopen("/proc/sys/net/core/optmem_max", "r");
    if (f) fscanf(f, "%d", &optmem), fclose(f);
    size_t len = 2 * ((optmem + 7) & ~7);
    struct cmsghdr *c = malloc(len);
    int *fds = (int *) CMSG_DATA(c);
    for (size_t i = 0; i < (len - sizeof(*c)) / sizeof(int); i++)
        fds[i] = i % 7 - 1;
    c->cmsg_len = len, c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS;
    struct msghdr m = {.msg_control = c, .msg_controllen = len};
    sendmsg(-1, &m, 0);
    m.msg_controllen = c->cmsg_len = 40000;
    sendmsg(-1, &m, 0);
    char *area = mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(area, c, 16 * 4096);
    munmap(area + 12 * 4096, 4096);
    m.msg_control = area, m.msg_controllen = 60000;
    sendmsg(-1, &m, 0);
    return 0;
}
"""


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_control_data_in_parts_prints_as_straces(tmp_path, engine, monkeypatch):
    need_engine(engine)
    monkeypatch.setattr(D, "GENIO_SIZE", 1 << 20)     # more than optmem_max
    exe = build(tmp_path, "big_control", BIG_CONTROL_C)
    calls = "-v -e trace=execve,sendmsg"
    _, logs = D.run_filters(D.Program("big_control", [exe]), tmp_path, None, (calls,), engine)
    want, got = (_msg_lines(log) for log in logs[calls])
    assert len(want) == 3 and "cmsg_data=[-1, 0, 1, 2, 3, 4, 5, -1, " in want[0]
    assert "msg_control=0x" in want[2]
    assert got == want


# Three datagrams in one sendmmsg (two buffers, one, one with descriptors), read
# back by one recvmmsg into buffers of 4 and 8 bytes with room for control data
MMSG_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
int main(void) {
    int sv[2], fd;
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    fd = open("/dev/null", O_RDONLY);
    char a[] = "hello", b[] = ", world", c[] = "third";
    struct iovec out[3] = {{a, 5}, {b, 7}, {c, 5}};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl, back[3];
    memset(&ctl, 0, sizeof(ctl));
    struct mmsghdr m[3] = {{.msg_hdr = {.msg_iov = out, .msg_iovlen = 2}},
                           {.msg_hdr = {.msg_iov = out + 1, .msg_iovlen = 1}},
                           {.msg_hdr = {.msg_iov = out + 2, .msg_iovlen = 1,
                                        .msg_control = ctl.buf, .msg_controllen = sizeof(ctl)}}};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m[2].msg_hdr);
    cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
    sendmmsg(sv[0], m, 3, 0);
    char r[3][12];
    struct iovec in[6];
    struct mmsghdr rm[3];
    memset(rm, 0, sizeof(rm));
    for (int i = 0; i < 3; i++) {
        in[2 * i] = (struct iovec){r[i], 4}, in[2 * i + 1] = (struct iovec){r[i] + 4, 8};
        rm[i].msg_hdr.msg_iov = in + 2 * i, rm[i].msg_hdr.msg_iovlen = 2;
        rm[i].msg_hdr.msg_control = back[i].buf, rm[i].msg_hdr.msg_controllen = sizeof(back[i]);
    }
    recvmmsg(sv[1], rm, 3, MSG_DONTWAIT, NULL);
    return 0;
}
"""
MMSG_CALLS = "-e trace=execve,sendmmsg,recvmmsg -e write=3 -e read=4"


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_mmsghdr_messages_print_as_straces(tmp_path, engine):
    """Each message's msghdr, iovecs, data, control data and msg_len, and the
    -e write=/read= dumps message by message."""
    need_engine(engine)
    exe = build(tmp_path, "mmsg", MMSG_C)
    _, logs = D.run_filters(D.Program("mmsg", [exe]), tmp_path, None, (MMSG_CALLS,), engine)

    def calls(log: str) -> list[tuple[str, list[str]]]:
        return [(ln.text, ln.dump) for lines in parse_log(log).values()
                for ln in D.drop_before_exec(lines) if ln.name in ("sendmmsg", "recvmmsg")]
    want = calls(logs[MMSG_CALLS][0])
    assert [text.split("(")[0] for text, _ in want] == ["sendmmsg", "recvmmsg"]
    assert 'iov_base="hell", iov_len=4}, {iov_base="o, world", iov_len=8}' in want[1][0]
    assert "cmsg_type=SCM_RIGHTS" in want[1][0] and " = 2 buffers in vector 0" in want[1][1]
    assert calls(logs[MMSG_CALLS][1]) == want


# recvmsg's msg_namelen is the sender's address length (2 + 40 + a NUL), more than
# the 16-byte buffer given, which ends where its page does: strace reads the 16
NAME_AT_PAGE_END_C = r"""
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(void) {
    int sv[2];
    struct sockaddr_un me = {.sun_family = AF_UNIX};
    memset(me.sun_path, 'n', 40);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    bind(sv[0], (struct sockaddr *) &me, 2 + 40);
    send(sv[0], "x", 1, 0);
    char *page = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    char in[4];
    struct iovec iov = {in, sizeof(in)};
    struct msghdr m = {.msg_name = page + 4096 - 16, .msg_namelen = 16, .msg_iov = &iov,
                       .msg_iovlen = 1};
    recvmsg(sv[1], &m, 0);
    unlink(me.sun_path);
    return 0;
}
"""


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_msg_name_longer_than_its_buffer_prints_as_straces(tmp_path, engine):
    need_engine(engine)
    exe = build(tmp_path, "name_at_page_end", NAME_AT_PAGE_END_C)
    calls = "-e trace=execve,recvmsg"
    _, logs = D.run_filters(D.Program("name_at_page_end", [exe]), tmp_path, None, (calls,),
                            engine)
    want, got = (_msg_lines(log) for log in logs[calls])
    assert len(want) == 1 and 'msg_name={sa_family=AF_UNIX, sun_path="nnnnnnnnnnnnnn"}' in want[0]
    assert "msg_namelen=16 => 43" in want[0]
    assert got == want


# More messages than one record of mmsghdrs holds (512), each with an address:
# a sendmmsg that fails (every message given, UIO_MAXIOV of them printed), one
# that sends what the stream socket takes, a recvmmsg of them (each msg_namelen
# given, then the kernel's)
MANY_MESSAGES_C = r"""
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#define N 1025
static struct sockaddr_un names[N];
static char bytes[N];
static struct iovec iov[N];
static struct mmsghdr m[N];
int main(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    for (int i = 0; i < N; i++) {
        names[i].sun_family = AF_UNIX;
        memset(names[i].sun_path, 'a' + i % 26, i % 100 + 1);
        bytes[i] = '0' + i % 10;
        iov[i] = (struct iovec){bytes + i, 1};
        m[i].msg_hdr = (struct msghdr){.msg_name = names + i, .msg_namelen = i % 100 + 3,
                                       .msg_iov = iov + i, .msg_iovlen = 1};
    }
    sendmmsg(-1, m, N, MSG_DONTWAIT);
    for (int i = 0; i < N; i++)
        m[i].msg_hdr.msg_name = NULL, m[i].msg_hdr.msg_namelen = 0;
    sendmmsg(sv[0], m, N, MSG_DONTWAIT);
    for (int i = 0; i < N; i++)
        m[i].msg_hdr.msg_name = names + i, m[i].msg_hdr.msg_namelen = i % 40;
    recvmmsg(sv[1], m, N, MSG_DONTWAIT, NULL);
    return 0;
}
"""


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_a_thousand_messages_print_as_straces(tmp_path, engine):
    need_engine(engine)
    exe = build(tmp_path, "many_messages", MANY_MESSAGES_C)
    calls = "-v -e trace=execve,sendmmsg,recvmmsg"
    _, logs = D.run_filters(D.Program("many_messages", [exe]), tmp_path, None, (calls,), engine)

    def lines(log: str) -> list[str]:
        return [ln.text for lines in parse_log(log).values()
                for ln in D.drop_before_exec(lines) if ln.name in ("sendmmsg", "recvmmsg")]
    want, got = (lines(log) for log in logs[calls])
    assert len(want) == 3 and want[0].count("{msg_hdr=") == lp.MMSG_MAX
    assert 'sun_path="' + "x" * 100 in want[0] and "msg_namelen=102" in want[0]
    assert got == want


def _mmsghdrs(count, msg_len=0):
    return b"".join(MSGHDR.pack(0, 0, 0x2000 + 16 * k, 1, 0, 0, 0) + struct.pack("<I4x", msg_len)
                    for k in range(count))


def _sendmmsg(t, vlen, sent):
    """sendmmsg of ``vlen`` messages of which ``sent`` went, its mmsghdr arrays
    in records of MMSGHDR_PART bytes (linux_plan's doc)."""
    per = lp.MMSGHDR_PART // 64
    t.call("sendmmsg", 3, 0x1000, vlen, 0)
    for items in (_mmsghdrs(vlen), _mmsghdrs(sent, 1)):
        for at in range(0, len(items), per * 64):
            t.array(b"mmsghdr", 64, items[at:at + per * 64])
    for k in range(sent):
        t.array(b"iovec", 16, struct.pack("<QQ", 0x3000 + k, 1))
        t.gio(3, 1, b"x")
    t.ret("sendmmsg", sent)


def test_mmsghdr_arrays_in_parts_join_up_to_the_calls_count():
    """600 messages: two records of each array, joined; 512 given (one whole
    record) and 3 sent: the exit's array is not a part of the entry's."""
    t = Trace()
    _sendmmsg(t, 600, 600)
    _sendmmsg(t, 512, 3)
    many, whole = t.lines("-v")
    assert many.count("{msg_hdr=") == 600 and many.count('msg_len=1}') == 600
    assert whole.count("{msg_hdr=") == 512 and whole.count('msg_len=1}') == 3
    assert '[{iov_base="x", iov_len=1}]' in whole

"""A socket's state as strace's -yy shows it: ``UNIX-STREAM:[INODE->PEER,"path"]``,
``TCP:[127.0.0.1:PORT->127.0.0.1:PORT]``, ``NETLINK:[ROUTE:PORTID]``.

strace asks the kernel as it prints; both engines record a STRU sockinfo
(record.py's SOCKINFO) at each call that makes a socket or may change its
addresses (linux_plan.SOCKET_STATES), and kdump --strace -yy prints from
those.  A program that binds, listens, connects and accepts sockets of each
family is traced by each engine and by /usr/bin/strace: the lines must be the
same but for inode and port numbers, which differ from run to run.
"""

from __future__ import annotations

import re

import pytest

from ktrace import record as r
from ktrace.abi import LINUX_X86_64
from ktrace.abi import linux_plan as lp
from ktrace.decode.kdump.structs import linux_struct_text
from ktrace.decode.strace.files import Socket
from ktrace.decode.strace.fmt import StraceOptions
from ktrace.decode.strace.sockets import Sockets
from engine_support import kdump_of, program_fixtures, real_strace, strace_view
from test_bpf_layout import assert_stru_layout
from test_socket_inode import BPF_C

SOCKETS_C = r"""
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static socklen_t unix_name(struct sockaddr_un *sun, const char *name, int abstract) {
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path + abstract, name);
    return offsetof(struct sockaddr_un, sun_path) + abstract + strlen(name) + !abstract;
}
int main(void) {
    struct sockaddr_un sun;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
    socklen_t len, inlen = sizeof sin;
    char c = 'x';
    int pair[2];
    unlink("sock");
    /* Unix: a named listener, a client that gets an abstract name of its own */
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    len = unix_name(&sun, "sock", 0);
    if (bind(l, (void *) &sun, len) || listen(l, 1))
        return 1;
    int cl = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un mine;
    socklen_t mine_len = unix_name(&mine, "ktrace-client", 1);
    if (bind(cl, (void *) &mine, mine_len) || connect(cl, (void *) &sun, len))
        return 1;
    int a = accept(l, NULL, NULL);
    write(cl, &c, 1);
    read(a, &c, 1);
    close(a);
    close(cl);
    close(l);
    unlink("sock");
    /* TCP over the loopback */
    int tl = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(tl, (void *) &sin, sizeof sin) || listen(tl, 1) ||
        getsockname(tl, (void *) &sin, &inlen))
        return 1;
    int tc = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(tc, (void *) &sin, sizeof sin))
        return 1;
    int ta = accept(tl, NULL, NULL);
    write(tc, &c, 1);
    read(ta, &c, 1);
    /* a non-blocking connect, under way (EINPROGRESS) or done as it returns */
    int tn = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(tn, (void *) &sin, sizeof sin);
    close(tn);
    close(ta);
    close(tc);
    close(tl);
    /* netlink, bound by the kernel's choice of port id */
    int n = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    if (bind(n, (void *) &snl, sizeof snl))
        return 1;
    close(n);
    /* a pair: each end names the other */
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair))
        return 1;
    close(pair[0]);
    close(pair[1]);
    return 0;
}
"""

CALLS = "trace=socket,bind,listen,connect,accept,getsockname,socketpair,close,read,write"
exe, traced = program_fixtures("socket_states", SOCKETS_C)


def _comparable(lines: list[str]) -> list[str]:
    """The lines of the program's own calls on sockets, inode and port numbers
    taken out (they differ from run to run), the result's padding too."""
    first = next(i for i, line in enumerate(lines) if line.startswith("socket("))
    numbers = re.compile(r"\d{4,}|(?<=NETLINK:\[ROUTE:)\d+|(?<=nl_pid=)\d+")    # a port id is a pid
    return [numbers.sub("N", re.sub(r" +=", " =", line)) for line in lines[first:]]


def test_strace_yy_shows_what_strace_shows(exe, traced, engine, tmp_path):
    out, _ = traced(engine)
    want, _ = real_strace(exe, tmp_path, "-yy", "-e", CALLS)
    got = strace_view(out, "-yy", "-e", CALLS)
    assert _comparable(got) == _comparable(want)
    # the details are really there, not all left out alike
    assert any(re.search(r'UNIX-STREAM:\[\d+->\d+,"sock"\]', line) for line in got)
    # the client had its name before its peer: strace keeps what it saw first
    assert any(re.search(r'UNIX-STREAM:\[\d+,@"ktrace-client"\]', line) for line in got)
    assert any(re.search(r"TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]", line) for line in got)
    assert any(re.search(r"NETLINK:\[ROUTE:\d+\]", line) for line in got)
    # after the non-blocking connect (the last), its peer, whether it was under way or done
    last = max(i for i, line in enumerate(got) if line.startswith("connect("))
    assert re.fullmatch(r"close\(\d<TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]>\) = 0",
                        got[last + 1]), got[last:last + 2]


def test_decode_fds_socket_alone_shows_sockets_not_paths(traced, engine):
    out, _ = traced(engine)
    got = strace_view(out, "--decode-fds=socket", "-e", CALLS)
    assert any("<TCP:[127.0.0.1:" in line for line in got)
    assert not any("</" in line for line in got)


def test_kdump_shows_the_records(traced, engine):
    out, _ = traced(engine)
    text = kdump_of(out)
    assert re.search(r'STRU  struct sockinfo \{fd=\d+, ino=\d+, peer_ino=\d+, '
                     r'protocol="TCP", local=struct sockaddr \{ AF_INET, 127\.0\.0\.1:\d+ \}, '
                     r'remote=struct sockaddr \{ AF_INET, 127\.0\.0\.1:\d+ \} \}', text)


def _info(fd, ino, peer, protocol, local, remote=b""):
    return r.parse_sockinfo(r.sockinfo_payload(r.Sockinfo(fd, ino, peer, protocol, local,
                                                          remote))[len(r.SOCKINFO_NAME) + 1:])


UNBOUND = b"\x01\x00"
NAMED = b"\x01\x00sock\x00"


def _noted(sockets: Sockets, *infos: r.Sockinfo) -> None:
    for info in infos:
        sockets.note(r.sockinfo_payload(info)[len(r.SOCKINFO_NAME) + 1:])


def test_a_unix_connection_s_ends_name_each_other():
    """The end accept made names its peer; the peer's own record (at its
    connect) could not name the end not yet made."""
    sockets = Sockets(StraceOptions())
    _noted(sockets, _info(4, 20, 0, b"UNIX-STREAM", UNBOUND),
           _info(5, 21, 20, b"UNIX-STREAM", NAMED))
    assert sockets.text(Socket(20)) == "UNIX-STREAM:[20->21]"
    assert sockets.text(Socket(21)) == 'UNIX-STREAM:[21->20,"sock"]'


def test_what_is_shown_once_is_kept_as_strace_keeps_it():
    """strace caches a socket's details once it has some, by the inode's
    low bits: a later change is not shown, another inode in the slot is."""
    sockets = Sockets(StraceOptions())
    _noted(sockets, _info(3, 7, 0, b"UDP", b"\x02\x00\x00\x35\x7f\x00\x00\x01" + bytes(8)))
    assert sockets.text(Socket(7)) == "UDP:[127.0.0.1:53]"
    _noted(sockets, _info(3, 7, 0, b"UDP", b"\x02\x00\x00\x35\x7f\x00\x00\x01" + bytes(8),
                          b"\x02\x00\x00\x09\x7f\x00\x00\x01" + bytes(8)))
    assert sockets.text(Socket(7)) == "UDP:[127.0.0.1:53]"
    _noted(sockets, _info(4, 7 + 1024, 0, b"UDP", b"\x02\x00\x00\x36\x7f\x00\x00\x01" + bytes(8)))
    assert sockets.text(Socket(7 + 1024)) == "UDP:[127.0.0.1:54]"
    assert sockets.text(Socket(7)) == "UDP:[127.0.0.1:53->127.0.0.1:9]"


def test_sockets_without_details():
    sockets = Sockets(StraceOptions())
    _noted(sockets, _info(3, 8, 0, b"TCP", b"\x02\x00" + bytes(14)),
           _info(4, 9, 0, b"PACKET", b""), _info(5, 10, 0, b"NETLINK", b"\x10\x00" + bytes(10)))
    assert sockets.text(Socket(8)) == "TCP:[8]"             # no port: inet_diag lists it not
    assert sockets.text(Socket(9)) == "socket:[9]"          # a protocol strace does not know
    assert sockets.text(Socket(10, 16, 0)) == "NETLINK:[10]"  # not bound
    assert sockets.text(Socket(11)) == "socket:[11]"        # no record of it
    assert sockets.text(Socket(None)) == "socket:"


@pytest.mark.parametrize("data", [b"", b"\x03" * (r.SOCKINFO.size - 1)])
def test_a_short_sockinfo_is_refused(data):
    sockets = Sockets(StraceOptions())
    sockets.note(data)
    assert sockets.latest == {}
    assert r.parse_sockinfo(data) is None
    assert linux_struct_text("sockinfo", data, None) == "invalid record"


def test_hostile_lengths_are_cut_to_the_fields():
    """Address lengths past their fields give what the fields hold."""
    data = bytearray(r.sockinfo_payload(r.Sockinfo(3, 5, 0, b"UNIX", NAMED, b""))
                     [len(r.SOCKINFO_NAME) + 1:])
    data[4:8] = b"\xff\xff\xff\xff"
    info = r.parse_sockinfo(bytes(data))
    assert info.local == NAMED.ljust(112, b"\0") and info.remote == bytes(28)


def test_the_bpf_program_knows_the_same_calls():
    defines = dict(re.findall(r"^#define\s+NR_(\w+)\s+(\d+)", BPF_C.read_text(), re.M))
    for name in lp.SOCKET_STATES:
        assert int(defines[name.upper()]) == LINUX_X86_64.syscall_number(name), name
    assert all(lp.records_of(nr) & r.facility(r.STRUCT) for nr in lp.socket_states())


def test_the_bpf_program_s_sockinfo_is_the_record_s(tmp_path):
    fields = ["fd", "local_len", "remote_len", "ino", "peer_ino", "protocol", "local", "remote"]
    assert_stru_layout(tmp_path, "ktr_sockinfo", fields, r.SOCKINFO.format, r.SOCKINFO_NAME)

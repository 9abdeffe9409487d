"""Structs of which strace reads a part (linux_plan.PAGE_PART_STRUCTS) that run
into an unmapped page: both engines record the part up to the end of the first
page.  getsockname's sockaddr is of the length the kernel writes back, the
address's own, past the buffer given; setsockopt's optval of optlen bytes,
past the struct of the option (the plan's selector sees the option number
alone: IP_ADD_MEMBERSHIP's 35 is SO_MARK's int too).  The strace view prints
what strace 6.1 prints of them.  Real processes, under each engine (bpf: root
and BPF only)."""

from __future__ import annotations

import re
import subprocess
import sys

from engine_support import ENGINES, program_fixtures
from ktrace import record as r
from ptrace_support import read_calls

# Each buffer ends where the unmapped page (``end``) begins.
PARTS_C = r"""
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(void) {
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *end = m + 4096;
    munmap(end, 4096);
    memset(m, 0, 4096);
    printf("%p\n", (void *)end);
    fflush(stdout);
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "sockaddr-parts.socket"};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(fd, (struct sockaddr *)&un, sizeof(un));
    socklen_t *len = (socklen_t *)m;
    *len = 16;
    getsockname(fd, (struct sockaddr *)(end - 16), len);
    unlink(un.sun_path);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct ip_mreq *mreq = (struct ip_mreq *)(end - sizeof(*mreq));
    mreq->imr_multiaddr.s_addr = inet_addr("224.0.0.3");
    mreq->imr_interface.s_addr = inet_addr("127.0.0.1");
    setsockopt(udp, SOL_IP, IP_ADD_MEMBERSHIP, mreq, INT_MAX);
    int *mark = (int *)(end - sizeof(int));
    *mark = 7;
    setsockopt(udp, SOL_SOCKET, SO_MARK, mark, sizeof(int) + 1);
    return 0;
}
"""


exe, traced = program_fixtures("parts", PARTS_C)


def _recorded(path) -> list[tuple[str, list[tuple[str, bytes]]]]:
    """(name, [(struct name, bytes)]) of the getsockname and setsockopt calls."""
    return [(c.name, [(s.name.decode(), s.data) for s in c.of(r.Struct)])
            for calls in read_calls(path).values() for c in calls
            if c.name in ("getsockname", "setsockopt")]


def test_the_first_pages_part_is_recorded(engine, traced):
    path, _ = traced(engine)
    (getsockname, mreq, mark) = _recorded(path)
    # the int given (16) and returned (2 + the path + its NUL), then the part
    # of the 24-byte address the buffer holds
    assert getsockname == ("getsockname", [("int", (16).to_bytes(4, "little")),
                                           ("sockaddr", b"\1\0sockaddr-parts"),
                                           ("int", (24).to_bytes(4, "little"))])
    assert mreq == ("setsockopt", [("bytes", bytes([224, 0, 0, 3, 127, 0, 0, 1]))])
    assert mark == ("setsockopt", [("bytes", (7).to_bytes(4, "little"))])


def test_both_engines_record_the_same(traced):
    recorded = [_recorded(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_prints_what_strace_read(engine, traced):
    path, _ = traced(engine)
    res = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "-f", str(path), "--strace",
                          "-e", "trace=getsockname,setsockopt"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = [re.sub(r" +=", " =", line) for line in res.stdout.splitlines()]
    assert lines[:2] == [
        'getsockname(3, {sa_family=AF_UNIX, sun_path="sockaddr-parts"}, [16 => 24]) = 0',
        'setsockopt(4, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr("224.0.0.3"), '
        'imr_interface=inet_addr("127.0.0.1")}, 2147483647) = -1 EFAULT (Bad address)',
    ]
    # SO_MARK needs CAP_NET_ADMIN: its result is the machine's
    assert lines[2].startswith("setsockopt(4, SOL_SOCKET, SO_MARK, [7], 5) = "), lines[2]

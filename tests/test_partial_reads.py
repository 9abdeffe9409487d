"""Memory a call is given that is only partly readable (linux_plan's doc): a
string or an array running into an unmapped page.  Both engines record the
readable part up to the end of its first page: a string as ``STRU strpart``
(PARTIAL_STRING, empty when no byte is readable) in place of ``STRU string``, an array as a STRUCT_ARRAY of
the whole items there, fewer than the call's count.  The strace view prints
what strace prints: the -s bytes it reads of such a string (or the address
when fewer are readable), and the readable items then ``... /* ADDR */``.
Real processes, under each engine (bpf: root and BPF only)."""

from __future__ import annotations

import re
import struct

from engine_support import ENGINES, kdump_of, program_fixtures
from ktrace import record as r
from ktrace.abi import linux_plan as lp
from ptrace_support import read_calls

# A page of 'a's followed by an unmapped one (``end``); each call's memory ends
# there.  The page is written first, so the bpf program (which reads only
# memory in place) can read it.  Every call fails: EFAULT, but writev's
# (EBADF: the descriptor is looked at first).
PARTIAL_C = r"""
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
int main(void) {
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *end = m + 4096;
    munmap(end, 4096);
    memset(m, 'a', 4096);
    printf("%p\n", (void *)end);
    fflush(stdout);
    syscall(SYS_memfd_create, end - 40, 0);
    syscall(SYS_memfd_create, end - 10, 0);
    syscall(SYS_memfd_create, end, 0);
    strcpy(m, "desc");
    syscall(SYS_request_key, end, m, NULL, 0);
    syscall(SYS_request_key, m, end, m, 0);
    unsigned int *gids = (unsigned int *)(end - 8);
    gids[0] = 1;
    gids[1] = 2;
    syscall(SYS_setgroups, 3, gids);
    struct pollfd *fds = (struct pollfd *)(end - sizeof(struct pollfd));
    fds->fd = -5;
    fds->events = POLLIN;
    poll(fds, 2, 0);
    struct iovec *iov = (struct iovec *)(end - sizeof(struct iovec));
    iov->iov_base = m;
    iov->iov_len = 3;
    writev(-1, iov, 2);
    return 0;
}
"""


exe, traced = program_fixtures("partial", PARTIAL_C)


def _recorded(path):
    """(name, [(record type, struct name, count or bytes)]) of the calls made."""
    out = []
    for calls in read_calls(path).values():
        for c in calls:
            if c.name not in ("memfd_create", "request_key", "setgroups", "poll", "writev"):
                continue
            recs = [("STRU", s.name.decode(), s.data) for s in c.of(r.Struct)]
            recs += [("ARRAY", a.name.decode(), len(a.data) // a.struct_size)
                     for a in c.of(r.StructArray)]
            out.append((c.name, recs))
    return out


def test_the_readable_part_is_recorded(engine, traced):
    path, _ = traced(engine)
    part = lp.PARTIAL_STRING
    assert _recorded(path) == [
        ("memfd_create", [("STRU", part, b"a" * 40)]),
        ("memfd_create", [("STRU", part, b"a" * 10)]),
        ("memfd_create", [("STRU", part, b"")]),   # no byte of it readable
        # the empty part keeps its argument's place: the next string pairs with its own
        ("request_key", [("STRU", part, b""), ("STRU", "string", b"desc")]),
        ("request_key", [("STRU", "string", b"desc"), ("STRU", part, b""),
                         ("STRU", "string", b"desc")]),
        ("setgroups", [("ARRAY", "int", 2)]),      # 2 of 3
        ("poll", [("ARRAY", "pollfd", 1)]),        # 1 of 2, at entry only (the call failed)
        # the data of the iovec read (a failed writev's: lp.IOV_DATA)
        ("writev", [("STRU", lp.IOV_DATA, b"des"), ("ARRAY", "iovec", 1)]),
    ]


def test_both_engines_record_the_same(traced):
    recorded = [_recorded(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_setgroups_items_are_the_readable_ones(engine, traced):
    path, _ = traced(engine)
    (setgroups,) = [c for cs in read_calls(path).values() for c in cs if c.name == "setgroups"]
    (arr,) = setgroups.of(r.StructArray)
    assert struct.unpack("<2I", arr.data) == (1, 2)


def test_the_strace_view_prints_what_strace_read(engine, traced):
    path, printed = traced(engine)
    end = int(printed, 16)
    text = kdump_of(path, "--strace", "-e", "trace=memfd_create,request_key,setgroups,poll,writev")
    lines = [re.sub(r" +=", " =", line) for line in text.splitlines()]
    assert lines == [
        # strace reads -s bytes and one more of a string, all or none
        f'memfd_create("{"a" * 32}"..., 0) = -1 EFAULT (Bad address)',
        f"memfd_create({end - 10:#x}, 0) = -1 EFAULT (Bad address)",
        f"memfd_create({end:#x}, 0) = -1 EFAULT (Bad address)",
        f'request_key({end:#x}, "desc", NULL, 0) = -1 EFAULT (Bad address)',
        f'request_key("desc", {end:#x}, "desc", 0) = -1 EFAULT (Bad address)',
        f"setgroups(3, [1, 2, ... /* {end:#x} */]) = -1 EFAULT (Bad address)",
        f"poll([{{fd=-5}}, ... /* {end:#x} */], 2, 0) = -1 EFAULT (Bad address)",
        f'writev(-1, [{{iov_base="des", iov_len=3}}, ... /* {end:#x} */], 2)'
        " = -1 EBADF (Bad file descriptor)",
        "+++ exited with 0 +++",
    ]
    # a longer -s than the readable part: the address
    assert f"memfd_create({end - 40:#x}, 0)" in kdump_of(path, "--strace", "-s", "40")


def test_the_freebsd_view_shows_the_part(engine, traced):
    text = kdump_of(traced(engine)[0])
    assert re.search(rf'STRU +{lp.PARTIAL_STRING} "a{{40}}"', text), text

"""Arguments strace reads whole or not at all, running into unmapped memory
(linux_plan's doc): select's fd_set that cannot be read (an empty STRU
fd_set keeps its place: the next set pairs with its own argument), a failed
writev's iovec that runs into an unmapped page (its first page's part:
strace prints it when that holds min(iov_len, -s + 1) bytes), move_mount's
paths, and a sendmmsg that sends a part of its messages (those not sent:
their data given).  Both engines record them alike, and the strace view
prints what strace 6.1 prints: the program prints the lines strace -v prints
of its calls (checked against /usr/bin/strace where there is one).  Real
processes, under each engine (bpf: root and BPF only)."""

from __future__ import annotations

import re

from engine_support import ENGINES, program_fixtures, real_strace, strace_view
from ktrace import record as r
from ptrace_support import read_calls

CALLS = ("select", "writev", "move_mount", "sendmmsg")
TRACE = "trace=" + ",".join(CALLS)

UNREADABLE_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

static const char *err(long rc) {
    static char text[64];
    if (rc >= 0)
        snprintf(text, sizeof text, "%ld", rc);
    else
        snprintf(text, sizeof text, "-1 %s (%s)", errno == EFAULT ? "EFAULT" :
                 errno == EBADF ? "EBADF" : errno == ENOENT ? "ENOENT" : "E???",
                 strerror(errno));
    return text;
}

int main(void) {
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *end = m + 4096;           /* an unmapped page */
    munmap(end, 4096);
    memset(m, 'x', 4096);
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);

    /* select: the read set's 16 bytes (65 descriptors) run into the hole */
    unsigned long *rs = (unsigned long *) end - 1, ws[2] = {6, 0};
    long rc = syscall(SYS_select, 65, rs, ws, NULL, NULL);
    printf("select(65, %p, [1 2], NULL, NULL) = %s\n", (void *) rs, err(rc));

    /* writev: an iovec of -1 bytes, -s + 1 of them readable, then -s */
    char *tail = end - 33;
    struct iovec io = {tail, (size_t) -1};
    rc = writev(-1, &io, 1);
    printf("writev(-1, [{iov_base=\"%.32s\"..., iov_len=%zu}], 1) = %s\n", tail,
           (size_t) -1, err(rc));
    io.iov_base = tail + 1;
    rc = writev(-1, &io, 1);
    printf("writev(-1, [{iov_base=%p, iov_len=%zu}], 1) = %s\n", tail + 1, (size_t) -1,
           err(rc));

    /* move_mount's two paths */
    rc = syscall(SYS_move_mount, -1, "/nonexistent/from", -100, "/nonexistent/to", 0);
    printf("move_mount(-1, \"/nonexistent/from\", AT_FDCWD, \"/nonexistent/to\", 0) = %s\n",
           err(rc));

    /* sendmmsg on a connected socket: the message with an address is not sent */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
        return 1;
    char a[] = "a", b[] = "b";
    struct sockaddr_un to = {.sun_family = AF_UNIX, .sun_path = "x"};
    struct iovec ia = {a, 1}, ib = {b, 1};
    struct mmsghdr mh[2];
    memset(mh, 0, sizeof mh);
    mh[0].msg_hdr.msg_iov = &ia;
    mh[0].msg_hdr.msg_iovlen = 1;
    mh[1].msg_hdr.msg_name = &to;
    mh[1].msg_hdr.msg_namelen = sizeof(sa_family_t) + 2;
    mh[1].msg_hdr.msg_iov = &ib;
    mh[1].msg_hdr.msg_iovlen = 1;
    rc = sendmmsg(sv[0], mh, 2, 0);
    printf("sendmmsg(%d, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"a\", "
           "iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=1}, "
           "{msg_hdr={msg_name={sa_family=AF_UNIX, sun_path=\"x\"}, msg_namelen=4, "
           "msg_iov=[{iov_base=\"b\", iov_len=1}], msg_iovlen=1, msg_controllen=0, "
           "msg_flags=0}}], 2, 0) = %s\n", sv[0], err(rc));
    return 0;
}
"""

exe, traced = program_fixtures("unreadable_args", UNREADABLE_C)


def _records(path) -> list[tuple[str, list[tuple[int, bytes, int]]]]:
    """(call, [(record type, struct name or b"", bytes)]) of the calls."""
    return [(c.name, [(rec.header.type, getattr(rec, "name", b""), len(rec.data))
                      for rec in c.records if hasattr(rec, "data")])
            for calls in read_calls(path).values() for c in calls if c.name in CALLS]


def test_the_records_keep_what_strace_reads(engine, traced):
    recorded = _records(traced(engine)[0])
    iovec = (r.STRUCT_ARRAY, b"iovec", 16)
    assert recorded[:3] == [
        # the unreadable set's empty record, then the write set's
        ("select", [(r.STRUCT, b"fd_set", 0), (r.STRUCT, b"fd_set", 16)]),
        # each iovec's first page's part: 33 bytes, then 32
        ("writev", [iovec, (r.STRUCT, b"iovdata", 33)]),
        ("writev", [iovec, (r.STRUCT, b"iovdata", 32)]),
    ]


def test_both_engines_record_the_same(traced):
    recorded = [_records(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_prints_what_strace_prints(engine, traced):
    path, printed = traced(engine)
    assert strace_view(path, "-v", "-e", TRACE) == printed.splitlines()


def test_the_program_prints_what_strace_prints(exe, tmp_path):
    lines, printed = real_strace(exe, tmp_path, "-v", "-e", TRACE)
    assert [re.sub(r" +=", " =", line) for line in lines] == printed

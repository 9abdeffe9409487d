"""io_submit's iocbs (linux_plan's doc): the array of pointers, each iocb it
points to (one unreadable, one NULL), what their aio_buf holds (a PWRITE's
bytes, a PWRITEV's iovecs and their data, a PREADV's iovecs), and io_cancel's
iocb.  Both engines record them alike, and the strace view prints what strace
6.1 prints: the program prints the lines strace prints of its calls (checked
against /usr/bin/strace where there is one).  Real processes, under each
engine (bpf: root and BPF only)."""

from __future__ import annotations

import re

from engine_support import ENGINES, program_fixtures, real_strace, strace_view
from ktrace import record as r
from ptrace_support import read_calls

CALLS = ("io_setup", "io_submit", "io_getevents", "io_cancel", "io_destroy")
TRACE = "trace=" + ",".join(CALLS)

AIO_C = r"""
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void print_iocb_head(const struct iocb *cb, const char *op) {
    printf("{aio_data=%#llx, aio_lio_opcode=%s, aio_fildes=%u", (unsigned long long)cb->aio_data,
           op, cb->aio_fildes);
}

int main(void) {
    int fd = open("aio.data", O_RDWR | O_CREAT | O_TRUNC, 0600);
    aio_context_t ctx = 0;
    syscall(SYS_io_setup, 8, &ctx);          /* (its ring is a mapping: before the hole) */
    printf("io_setup(8, [%#lx]) = 0\n", (unsigned long)ctx);
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *end = m + 4096;                  /* an unmapped page: an unreadable iocb */
    munmap(end, 4096);

    static char text[] = "hello, aio", ab[] = "ab", cdef[] = "cdef", got[8];
    struct iovec wiov[] = {{ab, 2}, {cdef, 4}}, riov[] = {{got, 4}, {got + 4, 4}};
    struct iocb cb[3];
    memset(cb, 0, sizeof(cb));
    cb[0].aio_data = 0x11; cb[0].aio_lio_opcode = IOCB_CMD_PWRITE; cb[0].aio_fildes = fd;
    cb[0].aio_buf = (unsigned long)text; cb[0].aio_nbytes = 10;
    cb[1].aio_data = 0x22; cb[1].aio_lio_opcode = IOCB_CMD_PWRITEV; cb[1].aio_fildes = fd;
    cb[1].aio_buf = (unsigned long)wiov; cb[1].aio_nbytes = 2; cb[1].aio_offset = 10;
    cb[2].aio_data = 0x33; cb[2].aio_lio_opcode = IOCB_CMD_PREADV; cb[2].aio_fildes = fd;
    cb[2].aio_buf = (unsigned long)riov; cb[2].aio_nbytes = 2;
    struct iocb *cbs[] = {&cb[0], &cb[1], &cb[2], (struct iocb *)end, NULL};
    long rc = syscall(SYS_io_submit, ctx, 5L, cbs);
    printf("io_submit(%#lx, 5, [", (unsigned long)ctx);
    print_iocb_head(&cb[0], "IOCB_CMD_PWRITE");
    printf(", aio_buf=\"hello, aio\", aio_nbytes=10, aio_offset=0}, ");
    print_iocb_head(&cb[1], "IOCB_CMD_PWRITEV");
    printf(", aio_buf=[{iov_base=\"ab\", iov_len=2}, {iov_base=\"cdef\", iov_len=4}]"
           ", aio_offset=10}, ");
    print_iocb_head(&cb[2], "IOCB_CMD_PREADV");
    printf(", aio_buf=[{iov_base=%p, iov_len=4}, {iov_base=%p, iov_len=4}], aio_offset=0}"
           ", %p, NULL]) = %ld\n", got, got + 4, end, rc);

    struct io_event ev[3];
    rc = syscall(SYS_io_getevents, ctx, 3L, 3L, ev, NULL);
    printf("io_getevents(%#lx, 3, 3, [", (unsigned long)ctx);
    for (long k = 0; k < rc; k++)
        printf("%s{data=%#llx, obj=%#llx, res=%lld, res2=%lld}", k ? ", " : "",
               (unsigned long long)ev[k].data, (unsigned long long)ev[k].obj,
               (long long)ev[k].res, (long long)ev[k].res2);
    printf("], NULL) = %ld\n", rc);

    rc = syscall(SYS_io_cancel, ctx, &cb[0], ev);
    printf("io_cancel(%#lx, ", (unsigned long)ctx);
    print_iocb_head(&cb[0], "IOCB_CMD_PWRITE");
    printf("}, %p) = %ld %s\n", (void *)ev, rc,
           rc == -1 && errno == EINVAL ? "EINVAL (Invalid argument)" : strerror(errno));
    syscall(SYS_io_destroy, ctx);
    printf("io_destroy(%#lx) = 0\n", (unsigned long)ctx);
    return 0;
}
"""


exe, traced = program_fixtures("aio_iocbs", AIO_C)


def _shapes(path) -> list[tuple[str, list[tuple[int, bytes, int]]]]:
    """(call, [(record type, struct name, bytes)]) of the aio calls."""
    return [(c.name, [(rec.header.type, rec.name, len(rec.data))
                      for rec in c.records if isinstance(rec, (r.Struct, r.StructArray))])
            for calls in read_calls(path).values() for c in calls
            if c.name in ("io_submit", "io_cancel")]


def test_the_iocbs_are_recorded(engine, traced):
    path, _ = traced(engine)
    iocb, iovecs = (r.STRUCT, b"iocb", 64), (r.STRUCT_ARRAY, b"iovec", 32)
    assert _shapes(path) == [
        # the 5 pointers; the PWRITE's bytes; the PWRITEV's iovecs and their data;
        # the PREADV's iovecs; the unreadable iocb's empty record (none for NULL)
        ("io_submit", [(r.STRUCT_ARRAY, b"long", 40), iocb, (r.STRUCT, b"buf", 10),
                       iocb, iovecs, (r.STRUCT, b"iovdata", 6), iocb, iovecs,
                       (r.STRUCT, b"iocb", 0)]),
        ("io_cancel", [iocb]),
    ]


def test_both_engines_record_the_same(traced):
    recorded = [_shapes(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_prints_what_strace_prints(engine, traced):
    path, printed = traced(engine)
    assert strace_view(path, "-e", TRACE) == printed.splitlines()


def test_the_program_prints_what_strace_prints(exe, tmp_path):
    lines, printed = real_strace(exe, tmp_path, "-e", TRACE)
    assert [re.sub(r" +=", " =", line) for line in lines] == printed

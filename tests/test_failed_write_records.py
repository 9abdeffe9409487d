"""A failed call's written buffer (linux_plan's IN_BUF in ON_FAILURE): both
engines record it at exit as ``STRU buf``, the bytes of its count argument
(capped at the genio size) or, when they cannot all be read, those up to the
end of its first page; a successful write is its GIO alone.  The strace view
prints the data as strace does (it reads a written buffer at entry whatever
the result).  Real processes, under each engine (bpf: root and BPF only)."""

from __future__ import annotations

import re

from engine_support import ENGINES, kdump_of, program_fixtures
from ktrace.abi import linux_plan as lp
from ktrace.engine import DEFAULT_GENIO_SIZE
from ptrace_support import data_of_calls

# The writes, in order: a pipe filled (65536 bytes written), then EAGAIN for
# more of them and for "hello"; pwrite64 on a pipe (ESPIPE) and sendto on one
# (ENOTSOCK); on an empty blocking pipe, "ok" written, then EFAULT for
# buffers running into an unmapped page 10 and 40 bytes after their start,
# one starting on it, and a NULL one (EBADF).  The strings are on the stack:
# the bpf program reads only memory in place, and the kernel faults in no
# page of a write that fails before copying (a string literal's page of the
# executable may never have been touched).
WRITES_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
    static char fill[65536];
    char hello[] = "hello", seek[] = "seek", sock[] = "sock", ok[] = "ok";
    int full[2], empty[2];
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + 4096, 4096);
    memset(m, 'z', 4096);
    memset(fill, 'f', sizeof fill);
    if (pipe2(full, O_NONBLOCK) || pipe(empty))
        return 1;
    while (write(full[1], fill, sizeof fill) > 0)
        ;
    write(full[1], hello, 5);
    pwrite(full[1], seek, 4, 0);
    sendto(full[1], sock, 4, 0, NULL, 0);
    write(empty[1], ok, 2);
    write(empty[1], m + 4096 - 10, 100);
    write(empty[1], m + 4096 - 40, 100);
    write(empty[1], m + 4096, 100);
    write(-1, NULL, 5);
    return 0;
}
"""

EAGAIN, ESPIPE, ENOTSOCK, EFAULT, EBADF = 35, 29, 38, 14, 9   # FreeBSD numbering (SYSRET)
WRITERS = {"write", "pwrite64", "sendto"}


exe, traced = program_fixtures("writes", WRITES_C)


def _writes(path):
    """(name, error, GIO data, STRU buf data) of each write-like call."""
    return data_of_calls(path, WRITERS, lp.FAILED_BUF.encode())


def test_a_failed_write_records_its_buffer(engine, traced):
    writes = _writes(traced(engine)[0])
    gio = DEFAULT_GENIO_SIZE
    assert writes[0] == ("write", 0, [b"f" * gio], [])              # a successful write: GIO only
    assert writes[1] == ("write", EAGAIN, [], [b"f" * gio])         # capped at the genio size
    assert writes[2:] == [
        ("write", EAGAIN, [], [b"hello"]),
        ("pwrite64", ESPIPE, [], [b"seek"]),
        ("sendto", ENOTSOCK, [], [b"sock"]),
        ("write", 0, [b"ok"], []),
        ("write", EFAULT, [], [b"z" * 10]),        # the first page's part
        ("write", EFAULT, [], [b"z" * 40]),
        ("write", EFAULT, [], []),                 # no byte of it readable
        ("write", EBADF, [], []),                  # NULL
    ]


def test_both_engines_record_the_same_buffers(traced):
    recorded = [_writes(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_shows_the_data_strace_read(engine, traced):
    text = kdump_of(traced(engine)[0], "--strace")
    for line in (r'write\(\d+, "hello", 5\) += -1 EAGAIN',
                 r'pwrite64\(\d+, "seek", 4, 0\) += -1 ESPIPE',
                 r'sendto\(\d+, "sock", 4, 0, NULL, 0\) += -1 ENOTSOCK',
                 r'write\(\d+, "f{32}"\.\.\., 65536\) += -1 EAGAIN',
                 r'write\(\d+, "ok", 2\) += 2',
                 # strace reads min(count, -s) bytes, all or none
                 r'write\(\d+, 0x[0-9a-f]+, 100\) += -1 EFAULT',
                 r'write\(\d+, "z{32}"\.\.\., 100\) += -1 EFAULT',
                 r'write\(-1, NULL, 5\) += -1 EBADF'):
        assert re.search(line, text), (line, text)
    assert len(re.findall(r'write\(\d+, 0x[0-9a-f]+, 100\) += -1 EFAULT', text)) == 2


def test_a_record_cut_at_the_genio_size_is_not_taken_for_unreadable(engine, traced):
    text = kdump_of(traced(engine)[0], "--strace", "-s", "8192")
    cut = f'"{"f" * DEFAULT_GENIO_SIZE}"...'
    assert f"{cut}, 65536) = -1 EAGAIN" in text


def test_the_freebsd_view_shows_the_struct(engine, traced):
    text = kdump_of(traced(engine)[0])
    assert re.search(r"STRU +buf 5 68656c6c6f\b", text), text

"""A short write (it moved fewer bytes than its count): both engines write
``STRU unmoved`` after its GIO, what is in memory of the next bytes it was
given (linux_plan's doc), so that the strace view dumps its whole count as
strace's -e write= does, ``<Cannot fetch ...>`` where strace could not read.
FreeBSD's view leaves it out.  Real processes, under each engine (bpf: root
and BPF only); the dumps checked against /usr/bin/strace's."""

from __future__ import annotations

import re

import pytest

from engine_support import (compiled_once, kdump_of, program_fixtures, real_strace,
                            traced_once)
from ptrace_support import data_of_calls

# A full non-blocking pipe with one page read out takes 4096 of 8192 bytes;
# a file takes the 100 bytes of 200 before an unmapped page.
SHORT_C = r"""
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static char page[4096], big[8192];
int main(void) {
    int p[2], fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + 4096, 4096);
    memset(m, 'm', 4096);
    memset(big, 'b', 4096);
    memset(big + 4096, 'B', 4096);
    if (fd != 3 || pipe2(p, O_NONBLOCK) || p[1] != 5)
        return 1;
    while (write(p[1], page, sizeof page) > 0)
        ;
    read(p[0], page, sizeof page);
    return write(p[1], big, sizeof big) != 4096 || write(fd, m + 4096 - 100, 200) != 100;
}
"""

exe, traced = program_fixtures("short_writes", SHORT_C)
OPTIONS = ("-e", "trace=write", "-e", "write=3,5")


def test_a_short_write_records_what_it_did_not_move(engine, traced):
    writes = data_of_calls(traced(engine)[0], {"write"}, b"unmoved")
    assert writes[-2] == ("write", 0, [b"b" * 4096], [b"B" * 4096])
    assert writes[-1] == ("write", 0, [b"m" * 100], [b""])       # none readable
    assert all(unmoved == [] for _, _, _, unmoved in writes[:-2])  # whole writes: none
    assert "unmoved" not in kdump_of(traced(engine)[0])


def test_the_strace_view_dumps_the_whole_count(engine, traced, exe, tmp_path):
    view = kdump_of(traced(engine)[0], "--strace", *OPTIONS).splitlines()
    theirs, _ = real_strace(exe, tmp_path, *OPTIONS)
    dumps = [line for line in view if line.startswith(" | ")]
    assert dumps == [line for line in theirs if line.startswith(" | ")]
    assert any(line.startswith(" | 01ff0  42 42") for line in dumps)   # the 8192 bytes, whole


# A file takes the 65536 bytes of 65537 before an unmapped page: strace reads
# 65536 at a time, and says it cannot read the next one.
CUT_C = r"""
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void) {
    int fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *m = mmap(NULL, 65536 + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    munmap(m + 65536, 4096);
    memset(m, 'c', 65536);
    return fd != 3 || write(fd, m, 65537) != 65536;
}
"""


@pytest.fixture(scope="module")
def cut_exe(tmp_path_factory) -> str:
    return compiled_once(tmp_path_factory, "cut_write", CUT_C)


@pytest.fixture(scope="module")
def cut_traced(cut_exe, tmp_path_factory):
    return traced_once(tmp_path_factory, [cut_exe], "cut_write", genio_size=1 << 17)


def _normal(lines) -> list[str]:
    """The dump lines, the pid and address of strace's note taken out."""
    return [re.sub(r"from pid \d+ @0x[0-9a-f]+", "from pid P @A", line)
            for line in lines if line.startswith(" | ")]


def test_what_strace_cannot_read_is_said(engine, cut_traced, cut_exe, tmp_path):
    view = kdump_of(cut_traced(engine)[0], "--strace", *OPTIONS).splitlines()
    theirs, _ = real_strace(cut_exe, tmp_path, *OPTIONS)
    assert _normal(view) == _normal(theirs)
    assert _normal(view)[-1] == " | <Cannot fetch 1 byte from pid P @A>"
    assert len(_normal(view)) == 65536 // 16 + 1

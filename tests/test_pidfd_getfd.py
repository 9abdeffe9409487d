"""pidfd_getfd's new descriptor: a copy of another process's, which strace's
-y prints by that process's path (``= 6</dev/full>``, /proc/PID/fd of the
target).

Both engines follow a successful pidfd_getfd with a STRU fdesc of the new
descriptor (linux_plan.NEW_DESCRIPTORS: st_mode, st_rdev, inode, no path);
kdump --strace names it from the target's descriptor table as the view
follows it (the pidfd tells which process), a socket's inode and a device's
numbers from the fdesc.  A program copies a device and a socket of its
child: traced by each engine and by /usr/bin/strace, the lines must be the
same but for pids and inodes, which differ from run to run.
"""

from __future__ import annotations

import os
import re
import stat

import pytest

from ktrace import record as r
from engine_support import ENGINES, program_fixtures, real_strace, strace_view, traced_once
from ptrace_support import read_calls, syscall_name

# The child holds /dev/full (inherited) and a socket it made after the fork,
# at descriptor 20; the parent copies both.  Raw syscalls: glibc 2.36 has
# pidfd_getfd, older ones not.
GETFD_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int ready[2], hold[2];
    char c;
    struct stat st;
    int full = open("/dev/full", O_RDONLY);
    if (pipe(ready) || pipe(hold) || full < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(socket(AF_UNIX, SOCK_DGRAM, 0), 20);
        write(ready[1], "x", 1);
        read(hold[0], &c, 1);        /* until the parent is done */
        _exit(0);
    }
    read(ready[0], &c, 1);
    int pidfd = syscall(SYS_pidfd_open, pid, 0);
    int device = syscall(SYS_pidfd_getfd, pidfd, full, 0);
    int sock = syscall(SYS_pidfd_getfd, pidfd, 20, 0);
    syscall(SYS_pidfd_getfd, pidfd, 99, 0);            /* fails: no fdesc */
    if (device < 0 || sock < 0 || fstat(sock, &st))
        return 2;
    printf("%d %d %lu\n", device, sock, (unsigned long) st.st_ino);
    fflush(stdout);
    write(hold[1], "x", 1);
    wait(NULL);
    return 0;
}
"""

exe, traced = program_fixtures("pidfd_getfd", GETFD_C)


@pytest.fixture(scope="module")
def untraced_child(exe, tmp_path_factory):
    """The program traced without its child (ktrace without -i)."""
    return traced_once(tmp_path_factory, [exe], "pidfd_getfd", inherit=False)


def _copies(path) -> list[tuple[int, list[r.Fdesc]]]:
    """(result, fdescs) of each pidfd_getfd of the trace."""
    return [(call.retval, [r.parse_fdesc(x.data) for x in call.records
                           if type(x) is r.Struct and x.name == r.FDESC_NAME])
            for calls in read_calls(path).values() for call in calls
            if syscall_name(call.nr) == "pidfd_getfd"]


def test_a_copied_descriptor_has_its_fdesc(engine, traced):
    path, printed = traced(engine)
    device, sock, ino = (int(n) for n in printed.split())
    full = os.stat("/dev/full")
    (fd1, made1), (fd2, made2), (failed, none) = _copies(path)
    assert (fd1, fd2) == (device, sock) and failed < 0 and none == []
    assert [(d.fd, d.mode, d.rdev, d.ino, d.path) for d in made1] == \
        [(device, full.st_mode, full.st_rdev, full.st_ino, b"")]
    assert [(d.fd, stat.S_ISSOCK(d.mode), d.ino, d.path) for d in made2] == \
        [(sock, True, ino, b"")]


def test_both_engines_record_the_same(traced):
    shapes = [[(fd, [(d.fd, stat.S_IFMT(d.mode), d.rdev) for d in made])
               for fd, made in _copies(traced(engine)[0])] for engine in ENGINES]
    assert shapes[0] == shapes[1]


def _same_but_numbers(lines: list[str]) -> list[str]:
    """The pidfd_getfd lines, numbers left out: pids and inodes, and
    descriptors (the program traced here inherits pytest's, strace's run
    none); and the pid the view puts before a line when the trace holds more
    than one process, and the result's padding."""
    lines = (re.sub(r"^\[pid +\d+\] ", "", re.sub(r" +=", " =", line)) for line in lines)
    return [re.sub(r"\d+", "N", line) for line in lines if line.startswith("pidfd_getfd(")]


@pytest.mark.parametrize("option", ["-y", "-yy"])
def test_strace_y_names_the_copy(engine, traced, exe, tmp_path, option):
    """The target's descriptor and the copy, as strace prints them (the view
    follows the child: it is traced)."""
    want, _ = real_strace(exe, tmp_path, "-qq", option, "-e", "trace=pidfd_getfd")
    have = strace_view(traced(engine)[0], option, "-e", "trace=pidfd_getfd")
    assert _same_but_numbers(have) == _same_but_numbers(want)


def test_a_copy_of_an_unknown_descriptor_is_named_by_its_fdesc(engine, untraced_child):
    """The child's socket, made untraced: its path the view does not know, but
    a socket's -y text is its inode, which the fdesc holds."""
    path, printed = untraced_child(engine)
    device, sock, ino = (int(n) for n in printed.split())
    lines = strace_view(path, "-y", "-e", "trace=pidfd_getfd")
    assert lines[0].endswith(f"= {device}</dev/full>")
    assert lines[1].endswith(f"20, 0) = {sock}<socket:[{ino}]>")

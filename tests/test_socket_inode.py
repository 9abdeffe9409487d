"""A socket's inode number, which strace's -y prints (``3<socket:[INODE]>``).

Both engines follow each successful socket, accept, accept4 and socketpair
with a STRU fdesc per new descriptor (linux_plan.NEW_DESCRIPTORS): its
number, the file's st_mode and inode, no path.  A program prints the inodes
/proc gives for its sockets; the trace must hold the same, and kdump
--strace -y must print them.  Both engines, through the service.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.abi import LINUX_X86_64
from ktrace.abi import linux_plan as lp
from ktrace.decode.strace.files import Files
from ptrace_support import build, read_calls, syscall_name
from test_bpf_layout import assert_stru_layout

SRC = Path(__file__).resolve().parents[1] / "src"
BPF_C = SRC / "ktrace" / "engine" / "bpf" / "ktrace.bpf.c"
ENV = dict(os.environ, PYTHONPATH=str(SRC))

# Each call that makes sockets, then "NAME FD INODE" per new socket on stdout
# (the inode as /proc/self/fd names it, as strace's tests find it)
SOCKETS_C = r"""
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
static void show(const char *name, int fd) {
    char path[64], link[64] = "";
    unsigned long ino = 0;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (readlink(path, link, sizeof link - 1) > 0)
        sscanf(link, "socket:[%lu]", &ino);
    printf("%s %d %lu\n", name, fd, ino);
}
int main(void) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 +
        snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "ktrace-inode-%d", getpid());
    int pair[2];
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    show("socket", l);
    if (bind(l, (void *) &addr, len) || listen(l, 2))
        return 1;
    int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    show("socket", c1);
    show("socket", c2);
    if (connect(c1, (void *) &addr, len) || connect(c2, (void *) &addr, len))
        return 1;
    show("accept", syscall(SYS_accept, l, NULL, NULL));
    show("accept4", syscall(SYS_accept4, l, NULL, NULL, SOCK_CLOEXEC));
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair))
        return 1;
    show("socketpair", pair[0]);
    show("socketpair", pair[1]);
    return socket(AF_UNIX, 12345, 0) != -1;       /* a failure: no fdesc */
}
"""


# the calls of NEW_DESCRIPTORS that make sockets (the others open devices, or
# copy another process's descriptor)
SOCKET_CALLS = {name for name, where in lp.SOCKET_STATES.items() if where != lp.FD_ARGUMENT}


def strace_lines(path, *options):
    out = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "--strace", *options,
                          "-f", str(path)], env=ENV, capture_output=True, timeout=60, check=True)
    return out.stdout.decode().splitlines()


@pytest.fixture
def traced(engine, tmp_path):
    """The program traced by ``engine``: (trace file, [(call name, fd, inode)])."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "sockets", SOCKETS_C)
    out, stdout = tmp_path / "t.out", tmp_path / "stdout"
    with open(stdout, "wb") as f:
        done = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine,
                               "-t", "cnst", "-f", str(out), exe],
                              env=ENV, stdout=f, stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 0, done.stderr
    made = [(name, int(fd), int(ino)) for name, fd, ino in
            (line.split() for line in stdout.read_text().splitlines())]
    assert len(made) == 7 and all(ino for _, _, ino in made)
    return out, made


def test_each_new_socket_has_its_inode_recorded(traced):
    out, made = traced
    found = []
    for calls in read_calls(out).values():
        for call in calls:
            name = syscall_name(call.nr)
            fdescs = [r.parse_fdesc(x.data) for x in call.records
                      if type(x) is r.Struct and x.name == r.FDESC_NAME]
            if name in SOCKET_CALLS:
                assert (len(fdescs) == 0) == (call.error != 0), call
                found += [(name, d.fd, d.ino) for d in fdescs]
                assert all(stat.S_ISSOCK(d.mode) and d.path == b"" for d in fdescs)
            elif call.nr != -1:
                assert not fdescs, name
    assert found == made


def test_strace_y_prints_a_socket_s_inode(traced):
    out, made = traced
    lines = strace_lines(out, "-y", "-e", "trace=socket,accept,accept4,socketpair,close")
    ino = {fd: i for _, fd, i in made}
    listener, _, _, a, a4, p0, p1 = (fd for _, fd, _ in made)
    want = [f"socket(AF_UNIX, SOCK_STREAM, 0) = {listener}<socket:[{ino[listener]}]>",
            f"accept({listener}<socket:[{ino[listener]}]>, NULL, NULL) = {a}<socket:[{ino[a]}]>",
            f"accept4({listener}<socket:[{ino[listener]}]>, NULL, NULL, SOCK_CLOEXEC) = "
            f"{a4}<socket:[{ino[a4]}]>",
            f"socketpair(AF_UNIX, SOCK_DGRAM, 0, [{p0}<socket:[{ino[p0]}]>, "
            f"{p1}<socket:[{ino[p1]}]>]) = 0"]
    got = [re.sub(r"\s+= ", " = ", line) for line in lines]
    for line in want:
        assert line in got, (line, lines)


def test_a_socket_held_as_tracing_began_is_named_by_its_inode():
    """An fdesc with no path (an exit whose entry was not seen, so no call to
    pair it with) names a socket as /proc does."""
    files = Files()
    files.held(r.FDESC.pack(4, 0, stat.S_IFSOCK | 0o777, 0, 99) + b"")
    files.held(r.FDESC.pack(5, 0, stat.S_IFSOCK | 0o777, 0, 7) + b"socket:[7]")
    assert files.fds == {4: "socket:[99]", 5: "socket:[7]"}


def test_the_bpf_program_knows_the_same_calls():
    """ktrace.bpf.c's NR_* of NEW_DESCRIPTORS' calls are linux_plan's."""
    defines = dict(re.findall(r"^#define\s+NR_(\w+)\s+(\d+)", BPF_C.read_text(), re.M))
    for name in lp.NEW_DESCRIPTORS:
        assert int(defines[name.upper()]) == LINUX_X86_64.syscall_number(name), name
    assert set(lp.new_descriptors()) == {LINUX_X86_64.syscall_number(n)
                                         for n in lp.NEW_DESCRIPTORS}
    assert all(lp.records_of(nr) & r.facility(r.STRUCT) for nr in lp.new_descriptors())


def test_the_bpf_program_s_fdesc_is_the_record_s(tmp_path):
    fields = ["fd", "flags", "mode", "rdev", "ino"]
    assert_stru_layout(tmp_path, "ktr_fdesc", fields, r.FDESC.format, r.FDESC_NAME)

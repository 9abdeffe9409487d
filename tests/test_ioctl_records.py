"""What both engines record for the arguments the plan reads by their request or
length alone: an ioctl argument by its request's _IOC direction and size
(``STRU ioc``), and a path or string at the most bytes read (PATH_MAX) with no
NUL in them, which both keep whole so that the view marks it cut.  Each test
runs under each engine (bpf: root and BPF only)."""

from __future__ import annotations

import shutil
import struct

import pytest

from engine_support import trace_command
from ktrace import record as r
from ktrace.abi import linux_plan as lp
from ktrace.engine import DEFAULT_GENIO_SIZE
from ptrace_support import build, read_calls

# _IOW: the driver reads the argument (recorded at entry, whatever the result);
# _IOR: it writes it (recorded at exit of a call that succeeded); _IOWR: both;
# _IO: no argument to record.  The requests are no driver's ('x' on fd -1),
# but for /dev/ptmx's TIOCGPTN, an _IOR that succeeds.
IOCTLS_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
int main(void) {
    static char big[0x3fff];
    int in = 123, out = 456, both = 789, n = -1;
    long pair = 0x1122334455667788L;
    ioctl(-1, _IOW('x', 1, int), &in);
    ioctl(-1, _IOR('x', 2, int), &out);
    ioctl(-1, _IOWR('x', 3, long), &pair);
    ioctl(-1, _IO('x', 4), &both);
    memset(big, 'b', sizeof big);
    ioctl(-1, _IOC(_IOC_WRITE, 'x', 5, sizeof big), big);
    ioctl(-1, _IOW('x', 6, int), NULL);
    int ptmx = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (ptmx >= 0 && ioctl(ptmx, TIOCGPTN, &n) == 0)
        printf("%d\n", n);
    return 0;
}
"""

# paths of PATH_MAX - 1 and PATH_MAX bytes (the second with no NUL before an
# unmapped page) and a PATH_MAX one with its NUL after it
PATHS_C = r"""
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void) {
    char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *q = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 4096, 4096);
    memset(p, '/', 4096);
    p[4095] = 0;
    chdir(p);
    p[4095] = '/';
    chdir(p);
    memset(q, '/', 4096);
    q[4096] = 0;
    chdir(q);
    return 0;
}
"""


def _calls(path, name):
    return [c for cs in read_calls(path).values() for c in cs if c.name == name]


def _exe(tmp_path, name, source):
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    return build(tmp_path, name, source)


def test_ioctl_arguments_follow_the_request_direction_and_size(engine, tmp_path):
    exe = _exe(tmp_path, "ioctls", IOCTLS_C)
    out, stdout = tmp_path / "i.out", tmp_path / "stdout"
    trace_command(engine, [exe], out, "ct", stdout=stdout)
    calls = _calls(out, "ioctl")
    by_nr = {c.args[1] & 0xFF: c for c in calls if c.args[1] >> 8 & 0xFF == ord("x")}
    structs = {nr: [(s.name, s.data) for s in c.of(r.Struct)] for nr, c in by_nr.items()}
    assert structs[1] == [(b"ioc", struct.pack("<i", 123))]          # read in, call failed
    assert structs[2] == []                                          # written by a failed call
    assert structs[3] == [(b"ioc", struct.pack("<q", 0x1122334455667788))]
    assert structs[4] == []                                          # _IOC_NONE
    assert structs[5] == [(b"ioc", b"b" * DEFAULT_GENIO_SIZE)]       # capped at the genio size
    assert structs[6] == []                                          # NULL
    if stdout.read_text().strip():
        (ptn,) = [c for c in calls if c.args[1] & 0xFFFFFFFF == 0x80045430]
        assert [(s.name, struct.unpack("<i", s.data)[0]) for s in ptn.of(r.Struct)] == \
            [(b"ioc", int(stdout.read_text()))]


def test_the_plan_says_what_an_ioctl_records():
    nr = 16
    assert lp.plan_for(nr)[2].role == lp.Role.IOC
    assert lp.plan_for_call(nr, (0, 0x5401, 0))[2].name == "termios"      # TCGETS: the selector's
    assert (lp.ioc_dir(0xC0087803), lp.ioc_size(0xC0087803)) == (lp.IOC_READ | lp.IOC_WRITE, 8)


def test_paths_at_the_longest_are_kept_whole(engine, tmp_path):
    exe = _exe(tmp_path, "paths", PATHS_C)
    out = tmp_path / "p.out"
    trace_command(engine, [exe], out, "cn")
    lengths = [[len(n.path) for n in c.of(r.Namei)] for c in _calls(out, "chdir")]
    assert lengths == [[lp.MAX_STRING - 1], [lp.MAX_STRING], [lp.MAX_STRING]]

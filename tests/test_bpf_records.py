"""What the bpf engine records, where the strace differential found it short:
string arguments, a syscall's records kept together, msghdr parts, memory
not yet paged in at entry, the signal that killed a process, utrace's
argument count.  Root and BPF only.  What both engines record alike (siginfo
after PSIG, a failed exec's argv and envp, whole getdents64 buffers,
recvmsg's msghdr as given, stored pidfds) is tests/test_engine_records.py.
"""

from __future__ import annotations

import os
import signal
import struct

import pytest

from ktrace import record as r
from ptrace_support import build, read_calls
from test_bpf_engine import need_bpf, of, trace

UTRACE_NR = 0x6b74
SIGSET_BLOCKED = 1 << (signal.SIGUSR2 - 1)

RECORDS_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* a sigset in the middle of 1 MiB of .rodata: a page nothing has touched */
static const unsigned long rodata[1 << 17] __attribute__((aligned(4096))) = {
    [1 << 16] = 1UL << (SIGUSR2 - 1)};

int main(int argc, char **argv)
{
    char path[512], buf[64];
    int sv[2], ready[2];

    snprintf(path, sizeof path, "%s/link", argv[1]);
    symlink("target-of-the-link", path);
    getxattr(argv[1], "user.ktrace-name", buf, sizeof buf);
    prctl(PR_SET_NAME, "renamed-probe");
    sigset_t old;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &rodata[1 << 16], &old, 8);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct iovec out[2] = {{"data", 4}, {"gram", 4}}, in = {buf, sizeof buf};
    struct msghdr mo = {.msg_iov = out, .msg_iovlen = 2};
    struct msghdr mi = {.msg_iov = &in, .msg_iovlen = 1};
    sendmsg(sv[0], &mo, 0);
    recvmsg(sv[1], &mi, 0);
    syscall(0x6b74, "utrace", 6);
    pipe(ready);
    pid_t child = fork();
    if (child == 0) {
        write(ready[1], "r", 1);
        pause();
        _exit(1);
    }
    read(ready[0], buf, 1);
    kill(child, SIGTERM);               /* its default action: the end of the child */
    waitpid(child, NULL, 0);
    return 0;
}
"""

# Failing opens of long paths, so that batches fill mid-syscall
LONG_OPENS_C = r"""
#include <fcntl.h>
#include <string.h>
int main(void)
{
    static char path[3000];
    memset(path, 'x', sizeof path - 1);
    path[0] = '/';
    for (int i = 0; i < 1500; i++) {
        path[1] = 'a' + i % 26;
        open(path, O_RDONLY);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    need_bpf()
    d = tmp_path_factory.mktemp("bpf-records")
    return {name: build(d, name, src) for name, src in
            (("records", RECORDS_C), ("long_opens", LONG_OPENS_C))}


@pytest.fixture(scope="module")
def records_trace(programs, tmp_path_factory):
    d = tmp_path_factory.mktemp("records-run")
    t, recs, status = trace(d, [programs["records"], d], trace="+")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return t, recs


def calls_named(path, name):
    return [c for cs in read_calls(path).values() for c in cs if c.name == name]


def test_string_arguments_are_stru_string(records_trace):
    t, _ = records_trace
    for name, text in (("symlink", b"target-of-the-link"), ("getxattr", b"user.ktrace-name"),
                       ("prctl", b"renamed-probe")):
        calls = [c for c in calls_named(t.out, name) if c.of(r.Struct)]
        assert calls, name
        assert [(s.name, s.data) for s in calls[0].of(r.Struct)] == [(b"string", text)], name


def test_a_sigset_not_paged_in_at_entry_is_read_at_exit(records_trace):
    t, _ = records_trace
    call = next(c for c in calls_named(t.out, "rt_sigprocmask") if c.args[0] == 0)
    sets = call.of(r.Struct)
    assert [s.name for s in sets] == [b"sigset", b"sigset"]
    assert int.from_bytes(sets[0].data, "little") == SIGSET_BLOCKED


def test_msghdr_parts(records_trace):
    t, _ = records_trace
    send = calls_named(t.out, "sendmsg")[0]
    assert [type(x).__name__ for x in send.records] == ["Struct", "StructArray", "Genio"]
    assert send.records[1].name == b"iovec" and len(send.records[1].data) == 32
    assert send.records[2].rw == 1 and send.records[2].data == b"datagram"
    recv = calls_named(t.out, "recvmsg")[0]
    # the msghdr as given at entry, then as returned, its iovec, the data
    assert [type(x).__name__ for x in recv.records] == ["Struct", "Struct", "StructArray",
                                                       "Genio"]
    assert recv.records[3].rw == 0 and recv.records[3].data == b"datagram"


def test_a_fatal_signal_is_recorded_as_sent(records_trace):
    t, recs = records_trace
    child = ({x.header.pid for x in recs} - {t.pid}).pop()
    psigs = of(recs, r.Psig, child)
    assert [(p.signo, p.action, p.code) for p in psigs] == [(signal.SIGTERM, 0, 0)]   # SI_USER
    info = recs[recs.index(psigs[0]) + 1]
    assert isinstance(info, r.Struct) and info.name == b"siginfo"
    signo, _, code = struct.unpack_from("<iii", info.data)
    assert (signo, code, struct.unpack_from("<i", info.data, 16)[0]) == (signal.SIGTERM, 0, t.pid)
    assert isinstance(of(recs, r.ProcDtor, child)[0], r.ProcDtor)


def test_utrace_call_has_its_two_arguments(records_trace):
    _, recs = records_trace
    calls = [x for x in of(recs, r.Syscall) if x.code == UTRACE_NR]
    assert [x.narg for x in calls] == [2]


def test_a_syscalls_records_stay_together(programs, tmp_path):
    """A batch that fills up mid-syscall carries the syscall's records over whole."""
    exe = programs["long_opens"]
    t, recs, _ = trace(tmp_path, ["sh", "-c", f"{exe} & {exe}; wait"], trace="cn")
    long_opens = [i for i, x in enumerate(recs) if isinstance(x, r.Syscall) and x.code == 257
                  and len(recs[i + 1].path) > 1000]          # openat: CALL, then its NAMI
    assert len(long_opens) == 3000
    assert all(recs[i + 1].header.tid == recs[i].header.tid for i in long_opens)

"""What both engines record where the strace differential found the trace short:
a signal's siginfo, a failed exec's argv and envp, whole getdents64 buffers,
recvmsg's msghdr as given, and the pidfd clone and clone3 store.  Each test
runs under each engine (bpf: root and BPF only), recording for a fake
facility (engine_support.py)."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import sys

import pytest

from engine_support import trace_command
from ktrace import record as r
from ptrace_support import GAPS_C, build, read_calls, records


# clone3's clone_args and openat2's open_how given a size past their end, where
# nothing is mapped (the kernel: EFAULT; strace: the fields, then "???"),
# and a clone_args with a set_tid array (flags the kernel refuses: EINVAL)
EXTENSIBLE_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    struct clone_args *ca = (void *)(page + 4096 - sizeof *ca);
    memset(ca, 0, sizeof *ca);
    ca->flags = 0xdec0deac0040007fULL;
    syscall(SYS_clone3, ca, sizeof *ca + 8);
    struct open_how *how = (void *)(page + 4096 - sizeof *how);
    memset(how, 0, sizeof *how);
    how->mode = 0755;
    how->resolve = RESOLVE_NO_XDEV;
    syscall(SYS_openat2, AT_FDCWD, "/", how, sizeof *how + 8);
    static int tids[2] = {0x7ffffff0, 0x7ffffff1};
    struct clone_args *with_tids = (void *)page;
    memset(with_tids, 0, sizeof *with_tids);
    with_tids->flags = 0xdec0deac0040007fULL;
    with_tids->set_tid = (uintptr_t)tids;
    with_tids->set_tid_size = 2;
    syscall(SYS_clone3, with_tids, sizeof *with_tids);
    return 0;
}
"""


# a thread waiting in pause() when another ends the process with exit_group
KILLED_WAITER_C = r"""
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
static void *waiter(void *arg) { pause(); return arg; }
int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    usleep(100000);
    syscall(SYS_exit_group, 0);
}
"""


@pytest.fixture(scope="module")
def gaps(tmp_path_factory) -> str:
    """ptrace_support.GAPS_C built."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    return build(tmp_path_factory.mktemp("gaps"), "gaps", GAPS_C)


def _int(data: bytes) -> int:
    return struct.unpack_from("<i", data)[0]


def calls_named(path, name):
    return [c for cs in read_calls(path).values() for c in cs if c.name == name]


# a child made by each of fork, vfork, clone and clone3, and a thread
FORKS_C = r"""
#define _GNU_SOURCE
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void *work(void *arg) { return arg; }
int main(void) {
    struct clone_args ca;
    pthread_t t;
    if (fork() == 0) _exit(0);
    wait(NULL);
    if (vfork() == 0) _exit(0);
    wait(NULL);
    if (syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) == 0) _exit(0);
    wait(NULL);
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    if (syscall(SYS_clone3, &ca, sizeof ca) == 0) _exit(0);
    wait(NULL);
    pthread_create(&t, NULL, work, NULL);
    pthread_join(t, NULL);
    return 0;
}
"""


def test_a_new_task_returns_0_from_the_call_that_made_it(engine, tmp_path):
    # FreeBSD's fork_return records the child's RET; the bpf engine sees its
    # return, the ptrace engine writes it at its first stop: its first record
    # after PROCCTOR (a thread has none)
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "forks", FORKS_C, "-pthread")
    out = tmp_path / "f.out"
    trace_command(engine, [exe], out, "+")
    tasks: dict[int, list] = {}                  # in the order they first appear
    for rec in records(out):
        tasks.setdefault(rec.header.tid, []).append(rec)
    made = []
    for recs in list(tasks.values())[1:]:
        born = isinstance(recs[0], r.ProcCtor)
        first = recs[born]
        made.append((born, type(first).__name__, first.code, first.retval))
    clone, vfork, clone3 = 56, 58, 435           # glibc's fork and pthread_create: clone, clone3
    assert made == [(True, "Sysret", clone, 0), (True, "Sysret", vfork, 0),
                    (True, "Sysret", clone, 0), (True, "Sysret", clone3, 0),
                    (False, "Sysret", clone3, 0)], made


def test_a_signal_is_followed_by_its_siginfo(engine, gaps, tmp_path):
    out = tmp_path / "s.out"
    status = trace_command(engine, [gaps], out, "cst")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    recs = records(out)
    pid = recs[0].header.pid
    psigs = [i for i, rec in enumerate(recs) if isinstance(rec, r.Psig)
             and rec.header.pid == pid]
    assert [recs[i].signo for i in psigs] == [signal.SIGUSR1, signal.SIGCHLD, signal.SIGCHLD,
                                              signal.SIGSEGV]
    infos = []
    for i in psigs:
        info = recs[i + 1]                  # right after its PSIG, same thread
        assert isinstance(info, r.Struct) and info.name == b"siginfo"
        assert len(info.data) == 128 and info.header.tid == recs[i].header.tid
        signo, _, code = struct.unpack_from("<iii", info.data)
        assert (signo, code) == (recs[i].signo, recs[i].code)
        infos.append(info.data)
    usr1, chld, _, segv = infos
    assert struct.unpack_from("<iI", usr1, 16) == (pid, os.getuid())
    child_pid, _, status = struct.unpack_from("<iIi", chld, 16)
    assert child_pid not in (0, pid) and status == 3
    assert struct.unpack_from("<Q", segv, 16)[0] == 16
    # a handler run from sigsuspend's wait restores the mask from before it
    assert [recs[i].mask[0] for i in psigs[1:3]] == [1 << (signal.SIGCHLD - 1)] * 2


def test_siginfo_needs_struct_tracing_too(engine, gaps, tmp_path):
    out = tmp_path / "s.out"
    trace_command(engine, [gaps], out, "cs")
    recs = records(out)
    pid = recs[0].header.pid
    assert len([rec for rec in recs if isinstance(rec, r.Psig) and rec.header.pid == pid]) == 4
    assert not [rec for rec in recs if isinstance(rec, r.Struct)]


def test_failed_execs_have_their_argv_and_envp(engine, gaps, tmp_path):
    out = tmp_path / "e.out"
    trace_command(engine, [gaps], out, "cnae")
    failed = [c for c in calls_named(out, "execve") if c.errno]
    assert [c.errno for c in failed] == ["ENOENT", "EACCES"]
    for call in failed:
        assert [type(rec).__name__ for rec in call.records] == ["Namei", "Args", "Envs"]
        assert r.split_strings(call.of(r.Args)[0].strings) == [b"missing", b"arg"]
        assert r.split_strings(call.of(r.Envs)[0].strings) == [b"A=1"]


def test_a_failed_exec_by_path_search_has_its_argv_and_envp(engine, tmp_path):
    out = tmp_path / "e.out"
    trace_command(engine, ["/bin/sh", "-c", "exec ./missing one two"], out, "cnae",
                  cwd=tmp_path, env={"PATH": "/bin:/usr/bin", "ONLY": "this"})
    failed = [c for c in calls_named(out, "execve") if c.errno == "ENOENT"]
    assert len(failed) == 1
    call = failed[0]
    assert [type(rec).__name__ for rec in call.records] == ["Namei", "Args", "Envs"]
    assert r.split_strings(call.of(r.Args)[0].strings) == [b"./missing", b"one", b"two"]
    assert b"ONLY=this" in r.split_strings(call.of(r.Envs)[0].strings)


def test_getdents64_buffers_are_whole(engine, tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(300):
        (many / f"a-file-with-a-long-name-{i:03d}").touch()
    out = tmp_path / "d.out"
    trace_command(engine, [sys.executable, "-S", "-c", f"import os; os.listdir({str(many)!r})"],
                  out, "ct")
    listing = []
    for c in calls_named(out, "getdents64"):
        data = c.of(r.Struct)[0].data if c.retval else b""
        assert len(data) == c.retval
        names = _dirent_names(data)
        if b"a-file-with-a-long-name-000" in names:
            listing.append((c.retval, data, names))
    assert len(listing) == 1
    retval, data, names = listing[0]
    assert len(data) == retval > 4096           # more than the genio size
    assert len(names) == 302                    # . and .. too


def _dirent_names(data: bytes) -> list[bytes]:
    """The names in a getdents64 buffer (struct linux_dirent64: reclen at 16, name at 19)."""
    names, at = [], 0
    while at + 19 <= len(data):
        reclen = struct.unpack_from("<H", data, at + 16)[0]
        if reclen == 0:
            break
        names.append(data[at + 19:at + reclen].split(b"\0", 1)[0])
        at += reclen
    return names


def test_recvmsg_name_length_and_stored_pidfds(engine, gaps, tmp_path):
    out, stdout = tmp_path / "p.out", tmp_path / "stdout"
    status = trace_command(engine, [gaps], out, "ct", stdout=stdout)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    clone3_fd, clone_fd = (int(line.split()[1]) for line in stdout.read_text().splitlines())
    recvmsg = calls_named(out, "recvmsg")[0]
    hdrs = [s.data for s in recvmsg.of(r.Struct) if s.name == b"msghdr"]
    assert [struct.unpack_from("<I", h, 8)[0] for h in hdrs] == [128, 16]   # given, returned
    clone3 = next(c for c in calls_named(out, "clone3") if c.retval)
    assert [s.name for s in clone3.of(r.Struct)] == [b"clone_args", b"int"]
    assert _int(clone3.of(r.Struct)[1].data) == clone3_fd
    clone = next(c for c in calls_named(out, "clone") if c.retval)
    assert [(s.name, _int(s.data)) for s in clone.of(r.Struct)] == [(b"int", clone_fd)]


def test_extensible_structs_keep_their_known_part_and_set_tid(engine, tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "extensible", EXTENSIBLE_C)
    out = tmp_path / "x.out"
    trace_command(engine, [exe], out, "ct")
    past_end, with_tids = calls_named(out, "clone3")
    assert past_end.errno == "EFAULT"
    (args,) = past_end.of(r.Struct)
    assert args.name == b"clone_args" and len(args.data) == 88     # not the 96 asked
    assert struct.unpack_from("<Q", args.data)[0] == 0xdec0deac0040007f
    (openat2,) = calls_named(out, "openat2")
    (how,) = openat2.of(r.Struct)
    assert (how.name, struct.unpack("<3Q", how.data)) == (b"open_how", (0, 0o755, 1))
    assert [s.name for s in with_tids.of(r.Struct)] == [b"clone_args"]
    (tids,) = with_tids.of(r.StructArray)
    assert (tids.name, struct.unpack("<2i", tids.data)) == (b"int", (0x7ffffff0, 0x7ffffff1))


def test_a_call_its_thread_dies_in_has_no_return(engine, tmp_path):
    # killed in the call, the thread never returns from it: ptrace sees no
    # return, strace prints "= ?", and the bpf engine records none either
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "killed", KILLED_WAITER_C, "-pthread")
    out = tmp_path / "k.out"
    trace_command(engine, [exe], out, "c")
    (pause,) = calls_named(out, "pause")
    assert pause.retval is None


def test_getresuid_ids_are_written_at_exit(engine, tmp_path):
    # strace shows each id the call wrote ("[0]"): one STRU int per pointer
    out = tmp_path / "u.out"
    trace_command(engine, [sys.executable, "-S", "-c", "import os; os.getresuid(); os.getresgid()"],
                  out, "ct")
    for name, ids in (("getresuid", os.getresuid()), ("getresgid", os.getresgid())):
        (call,) = calls_named(out, name)
        assert [(s.name, _int(s.data)) for s in call.of(r.Struct)] == [(b"int", i) for i in ids]

"""Differential tests: the ptrace engine records what strace records.

Each program runs twice, once under strace and once under the engine, with
address randomisation off (both tracers run under ``setarch -R``) so that both runs are the same
run as far as the kernel boundary goes.  Per thread (threads paired through
the clone/fork return values of their parents) the syscall sequence, the
return values, the errnos, the paths and the I/O data must agree.  What can
legitimately differ between two runs (pids, wait4 and signal timing in a
shell, futex contention between threads) is named per program.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.abi import linux_plan as lp
from ptrace_support import ENV, GAPS_C, build, read_calls, run_traced
from strace_harness import FORKS, STRACE, children, decode_string, pair_processes, parse_log, \
    run_strace

pytestmark = pytest.mark.skipif(STRACE is None or shutil.which("gcc") is None,
                                reason="needs strace and gcc")

# strace -xx: every string as \xNN escapes, so that string arguments decode to exact bytes
STRACE_OPTIONS = ("-qq", "-xx", "-s", "65536")
# return values that name processes or come from the clock: differ between runs
VOLATILE_RET = FORKS | {"getpid", "gettid", "getppid", "wait4", "waitid", "set_tid_address",
                        "getpgrp", "getsid", "kill", "tgkill", "rt_sigreturn", "time"}
IO_CALLS = {"read", "write", "pread64", "pwrite64", "readv", "writev", "sendto", "recvfrom"}
GENIO = 4096
NO_ASLR = ("/usr/bin/setarch", "-R")    # both tracers and so their tracees: same addresses
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')

THREADS_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <stdlib.h>
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *work(void *arg) {
    char path[64], line[64];
    snprintf(path, sizeof path, "%s.%ld", getenv("OUT"), (long)arg);
    pthread_mutex_lock(&lock);      /* one file open at a time: the same fd each run */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    for (int i = 0; i < 3; i++) {
        int n = snprintf(line, sizeof line, "thread %ld line %d\n", (long)arg, i);
        write(fd, line, n);
    }
    close(fd);
    pthread_mutex_unlock(&lock);
    return NULL;
}
int main(void) {
    pthread_t t[2];
    for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    write(1, "joined\n", 7);
    return 0;
}
"""

SIGNALS_C = r"""
#include <signal.h>
#include <unistd.h>
static void on_usr1(int s) { write(1, "usr1\n", 5); }
int main(void) {
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    raise(SIGTERM);
    return 0;
}
"""

FAILURES_C = r"""
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>
int main(void) {
    char buf[16];
    open("/nonexistent/file", O_RDONLY);                /* ENOENT */
    read(-1, buf, sizeof buf);                          /* EBADF */
    mkdir("/tmp", 0700);                                /* EEXIST */
    open("/tmp", O_WRONLY);                             /* EISDIR */
    rmdir("/etc/hostname");                             /* ENOTDIR */
    kill(0x7ffffff0, 0);                                /* ESRCH */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1),
                             .sin_addr.s_addr = htonl(0x7f000001) };
    connect(s, (struct sockaddr *)&a, sizeof a);        /* ECONNREFUSED */
    syscall(0x6b73, 1, 2);                              /* ENOSYS */
    lseek(0, -1, SEEK_SET);                             /* EINVAL or ESPIPE */
    return write(1, "done\n", 5) == 5 ? 0 : 1;
}
"""


def both(tmp_path: Path, argv: list[str], env=None):
    """Run ``argv`` under strace and under the engine: (strace's lines per thread,
    our calls per thread)."""
    env = dict(env or ENV)
    s_log, k_out = tmp_path / "strace.log", tmp_path / "ktrace.out"
    run_strace(argv, s_log, STRACE_OPTIONS, env=env, cwd=tmp_path, prefix=NO_ASLR,
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    run_traced(argv, k_out, "+", env=env, cwd=tmp_path, prefix=NO_ASLR)
    return parse_log(s_log.read_text(errors="replace")), read_calls(k_out)


def _ours_from_exec(calls):
    """Our root's calls from its execve on (strace starts there)."""
    for i, c in enumerate(calls):
        if c.name == "execve":
            return calls[i:]
    return calls


def _keep(calls, skip):
    calls = [c for c in calls if c.nr != -1]
    if calls and calls[0].name in FORKS and not calls[0].args and calls[0].retval == 0:
        calls = calls[1:]       # a new task's return from the call that made it: strace shows none
    return [c for c in calls if c.name not in skip]


def _strace_keep(lines, skip):
    """strace's calls (not its signal and exit lines) but those in ``skip``."""
    return [ln for ln in lines if ln.name not in skip and ln.name not in ("---", "+++")]


def _strace_io(call) -> bytes | None:
    """The data strace shows for an I/O call (iovecs concatenated)."""
    args = call.args
    if call.ret is None or call.ret < 0 or len(args) < 2:
        return None
    return b"".join(decode_string(m) or b"" for m in _QUOTED.findall(args[1]))


def compare_thread(ours, theirs, skip, problems, label):
    ours, theirs = _keep(ours, skip), _strace_keep(theirs, skip)
    names_o, names_t = [c.name for c in ours], [c.name for c in theirs]
    if names_o != names_t:
        diff = "\n".join(difflib.unified_diff(names_t, names_o, "strace", "ktrace", lineterm=""))
        problems.append(f"{label}: syscall sequences differ\n{diff}")
        return
    for o, t in zip(ours, theirs):
        where = f"{label}: {o.name}"
        if o.errno != t.errno and not (o.retval is None or t.ret is None):
            problems.append(f"{where}: errno {o.errno} vs strace {t.errno}")
        if o.name not in VOLATILE_RET and t.ret is not None and o.retval is not None \
                and t.errno is None and o.retval != t.ret:
            problems.append(f"{where}: returned {o.retval} vs strace {t.ret}")
        plan = lp.plan_for(o.nr)
        want_paths = [t.string_arg(i) for i, spec in enumerate(plan)
                      if spec.role == lp.Role.PATH and i < len(t.args)
                      and t.args[i] != "NULL"]
        got_paths = [rec.path for rec in o.of(r.Namei)]
        if got_paths != want_paths:
            problems.append(f"{where}: paths {got_paths} vs strace {want_paths}")
        if o.name in IO_CALLS:
            want = _strace_io(t)
            got = o.of(r.Genio)
            if want is not None and (len(got) != 1 or got[0].data != want[:GENIO]):
                problems.append(f"{where}: I/O {[g.data[:40] for g in got]} vs strace "
                                f"{want[:40]!r}")


def _our_children(calls) -> list[int]:
    """The threads and processes a thread of ours created, in order of creation."""
    return [c.retval for c in calls if c.name in FORKS and c.retval and c.retval > 0]


def compare(strace_threads, our_calls, skip=frozenset(), skip_in_root=frozenset()):
    """Problems found comparing every thread, paired from the roots down; [] when equal."""
    problems: list[str] = []
    root_o = next(tid for tid, calls in our_calls.items()
                  if any(c.name == "execve" for c in calls))
    ours = {**our_calls, root_o: _ours_from_exec(our_calls[root_o])}
    pairs = pair_processes(strace_threads, ours, roots=(next(iter(strace_threads)), root_o),
                           children_of=(children, _our_children))
    for n, (t_tid, o_tid) in enumerate(pairs):
        label = "root" if n == 0 else f"thread {n}"
        if t_tid is None or o_tid is None:
            problems.append(f"{label}: strace's {t_tid} and our {o_tid} are not a pair")
            continue
        compare_thread(ours.get(o_tid, []), strace_threads.get(t_tid, []),
                       skip | (skip_in_root if n == 0 else frozenset()), problems, label)
    return problems


def test_coreutils_listing_and_errors(tmp_path):
    s, k = both(tmp_path, ["/bin/ls", "-l", "/etc/hostname", "/nonexistent"])
    assert compare(s, k) == []


def test_coreutils_data(tmp_path):
    s, k = both(tmp_path, ["/usr/bin/sort", "-r", "/etc/passwd"])
    assert compare(s, k) == []


def test_shell_pipeline_with_forks(tmp_path):
    script = "cat /etc/passwd | /usr/bin/head -n 3 | wc -c; echo status $?"
    s, k = both(tmp_path, ["/bin/sh", "-c", script])
    # the shell's waits race with its children's exits: their count is timing
    assert compare(s, k, skip_in_root={"wait4", "rt_sigreturn", "restart_syscall"}) == []


def test_python(tmp_path):
    env = dict(ENV, PYTHONHASHSEED="0")
    code = "import os; print(open('/etc/hostname').read()); print(len(os.listdir('/etc')))"
    s, k = both(tmp_path, ["/usr/bin/python3", "-I", "-c", code], env)
    assert compare(s, k) == []


def test_threaded_program(tmp_path):
    exe = build(tmp_path, "threads", THREADS_C, "-pthread")
    env = dict(ENV, OUT=str(tmp_path / "out"))
    s, k = both(tmp_path, [exe], env)
    # futex waits depend on which thread gets where first
    problems = compare(s, k, skip={"futex"})
    assert problems == []
    # (made: each thread's own return from it too)
    assert sum(1 for calls in k.values() for c in calls if c.name == "clone3" and c.args) == 2


def test_program_handling_signals(tmp_path):
    exe = build(tmp_path, "signals", SIGNALS_C)
    s, k = both(tmp_path, [exe])
    assert compare(s, k) == []
    # a PSIG for each signal strace shows, the ignored SIGUSR2 too
    root = next(iter(s))
    shown = [ln.text.split()[1] for ln in s[root] if ln.name == "---"]
    ours = [rec.signo for calls in k.values() for c in calls for rec in c.of(r.Psig)]
    import signal
    assert [signal.Signals(n).name for n in ours] == shown == \
        ["SIGUSR1", "SIGUSR1", "SIGUSR2", "SIGTERM"]


def test_program_failing_syscalls(tmp_path):
    exe = build(tmp_path, "failures", FAILURES_C)
    s, k = both(tmp_path, [exe])
    assert compare(s, k) == []
    root = next(tid for tid, calls in k.items() if any(c.name == "execve" for c in calls))
    errnos = {c.errno for c in k[root]} - {None}
    assert {"ENOENT", "EBADF", "EEXIST", "EISDIR", "ENOTDIR", "ESRCH", "ECONNREFUSED",
            "ENOSYS"} <= errnos



def test_view_shows_what_the_gaps_were(tmp_path):
    """Each gap the strace differential found, end to end: kdump --strace prints
    these lines exactly as strace does (siginfo, a failed exec's argv, recvmsg's
    name length, stored pidfds)."""
    import strace_diff as D
    exe = build(tmp_path, "gaps", GAPS_C)
    run = D.run_program(D.Program("gaps", [exe]), tmp_path, None)
    c = D.compare(run.strace, run.kdump, str(tmp_path / "work"))
    assert (c.differ, c.missing, c.extra, c.known) == ([], [], [], []), \
        "\n".join(f"strace: {m.strace}\nkdump:  {m.kdump}" for m in c.differ + c.missing + c.extra)
    assert c.matched == c.total
    for text in ('execve("/", ["missing", "arg"], ', "msg_namelen=128 => 16",
                 "=> {pidfd=[", "parent_tid=[", "si_pid=", "si_status=3", "si_addr=0x10"):
        assert text in run.kdump, text

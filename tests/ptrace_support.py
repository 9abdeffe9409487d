"""Helpers for the ptrace engine's tests: run a command traced, read its calls."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ktrace import record as r
from ktrace.abi import LINUX_X86_64

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src"))

# Linux's restart codes, as strace names them
RESTART_NAMES = {512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND",
                 516: "ERESTART_RESTARTBLOCK"}


# What the strace differential found the trace could not show, in one program:
# a signal's siginfo (SI_USER, SIGCHLD's status, a fault's address), a failed
# exec's argv and envp, recvmsg's msg_namelen as given and as returned, the
# pidfds clone3 and clone store.  SIGCHLD stays blocked but in sigsuspend, so
# the calls come in one order only; it ends by _exit(0) from the SIGSEGV handler.
GAPS_C = r"""
#define _GNU_SOURCE
#include <linux/sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void on_signal(int sig) { if (sig == SIGSEGV) _exit(0); }
static void child_with_pidfd(int use_clone3) {
    int pidfd = -1;
    long pid;
    sigset_t none;
    sigemptyset(&none);
    if (use_clone3) {
        struct clone_args ca;
        memset(&ca, 0, sizeof ca);
        ca.flags = CLONE_PIDFD;
        ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
        ca.exit_signal = SIGCHLD;
        pid = syscall(SYS_clone3, &ca, sizeof ca);
    } else {
        pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
    }
    if (pid == 0)
        _exit(3);
    sigsuspend(&none);                  /* SIGCHLD is blocked until here: one order only */
    waitpid(pid, NULL, 0);
    dprintf(1, "pidfd %d\n", pidfd);
    close(pidfd);
}
int main(void) {
    char *argv[] = {"missing", "arg", NULL}, *envp[] = {"A=1", NULL};
    execve("/nonexistent/missing", argv, envp);         /* ENOENT */
    execve("/", argv, envp);                            /* EACCES */
    signal(SIGUSR1, on_signal);
    signal(SIGCHLD, on_signal);
    signal(SIGSEGV, on_signal);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    kill(getpid(), SIGUSR1);                            /* SI_USER: si_pid, si_uid */
    int s = socket(AF_INET, SOCK_DGRAM, 0), r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof a;
    bind(r, (struct sockaddr *)&a, sizeof a);
    getsockname(r, (struct sockaddr *)&a, &len);
    sendto(s, "hi", 2, 0, (struct sockaddr *)&a, sizeof a);
    struct sockaddr_storage from;
    char buf[16];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof from,
                        .msg_iov = &iov, .msg_iovlen = 1};
    recvmsg(r, &mh, 0);                                 /* msg_namelen=128 => 16 */
    child_with_pidfd(1);                                /* SIGCHLD: si_status, times */
    child_with_pidfd(0);
    *(volatile char *)16 = 1;                           /* SIGSEGV: si_addr */
    return 1;
}
"""


def run_traced(argv: list[str], out: Path, trstr: str = "+", *, seccomp: bool = False,
               timeout: float = 120, prefix: tuple[str, ...] = (),
               **kw) -> subprocess.CompletedProcess:
    """Run ``argv`` under the ptrace engine alone (python -m ktrace.engine.ptrace)."""
    cmd = [*prefix, sys.executable, "-m", "ktrace.engine.ptrace", "-f", str(out), "-t", trstr]
    if seccomp:
        cmd.append("--seccomp")
    kw.setdefault("env", ENV)
    return subprocess.run(cmd + ["--", *argv], timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def build(tmp_path: Path, name: str, source: str, *flags: str) -> str:
    """Compile a C test program; the executable's path."""
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(src), *flags], check=True)
    return str(exe)


def syscall_name(nr: int) -> str:
    info = LINUX_X86_64.syscall(nr)
    return info.name if info is not None else f"syscall_{nr:#x}"


def errno_name(retval: int) -> str | None:
    """strace's name for the error of a raw return value (None for success)."""
    if not -4095 <= retval < 0:
        return None
    return RESTART_NAMES.get(-retval) or errno.errorcode.get(-retval, str(-retval))


@dataclass
class TracedCall:
    """One syscall of one thread, with the records between its CALL and RET."""

    tid: int
    nr: int
    args: tuple
    retval: int | None = None
    error: int | None = None
    records: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return syscall_name(self.nr)

    @property
    def errno(self) -> str | None:
        return None if self.retval is None else errno_name(self.retval)

    def of(self, kind) -> list:
        return [rec for rec in self.records if isinstance(rec, kind)]


def read_calls(path: Path) -> dict[int, list[TracedCall]]:
    """Per-thread calls of a trace file; records outside a call are kept in a call nr -1."""
    calls: dict[int, list[TracedCall]] = {}
    current: dict[int, TracedCall] = {}
    for rec in r.read_records(str(path)):
        tid = rec.header.tid
        seq = calls.setdefault(tid, [])
        if isinstance(rec, r.Syscall):
            call = current[tid] = TracedCall(tid, rec.code, rec.args)
            seq.append(call)
        elif isinstance(rec, r.Sysret):
            call = current.pop(tid, None)
            if call is None or call.nr != rec.code:
                call = TracedCall(tid, rec.code, ())
                seq.append(call)
            call.retval, call.error = rec.retval, rec.error
        elif tid in current:
            current[tid].records.append(rec)
        else:
            seq.append(TracedCall(tid, -1, (), records=[rec]))
    return calls


def data_of_calls(path: Path, names, struct_name: bytes) -> list[tuple]:
    """(name, error, GIO data, STRU ``struct_name`` data) of each call in ``names``."""
    out = []
    for calls in read_calls(path).values():
        for c in calls:
            if c.name in names:
                out.append((c.name, c.error, [g.data for g in c.of(r.Genio)],
                            [s.data for s in c.of(r.Struct) if s.name == struct_name]))
    return out


def records(path: Path) -> list:
    return list(r.read_records(str(path)))

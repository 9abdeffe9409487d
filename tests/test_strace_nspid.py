"""--pidns-translation of pids no getpid of the trace shows: STRU nspid.

strace reads /proc as it prints a pid a process in another pid namespace
sees: its group (getpgrp, F_GETOWN), a socket's peer (SO_PEERCRED), itself
(F_SETOWN, kcmp) without ever calling getpid.  A recording has no /proc to
read afterwards: both engines write each task a traced fork or clone made in
a namespace not ktrace's its id there (record.py's NSPID_NAME), which the view
maps to the task's own pid.  A program in a new pid namespace forks a
process that leads its own group and never calls getpid, with a thread, and a
process in that group; traced by each engine (the program alone) and by
/usr/bin/strace, the lines must be the same but for the numbers, and each
comment must name the group leader as the trace numbers it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ktrace import record as r
from engine_support import program_fixtures, real_strace, strace_view

NSPID_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void *work(void *arg) { (void) arg; syscall(SYS_getpgrp); return NULL; }
int main(void) {
    int hold[2], go[2], done[2], sv[2];
    char c;
    if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0 || pipe(hold) || pipe(go) || pipe(done))
        return 1;
    if (fork() == 0) {                   /* 1, the namespace's init: keeps it alive */
        close(hold[1]);
        read(hold[0], &c, 1);
        _exit(0);
    }
    close(hold[0]);
    pid_t leader = fork();               /* 2: leads its own group */
    if (leader == 0) {
        read(go[0], &c, 1);
        pid_t me = syscall(SYS_getpgrp);
        struct ucred cred;
        socklen_t len = sizeof(cred);
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len);
        fcntl(sv[0], F_SETOWN, me);
        fcntl(sv[0], F_GETOWN);          /* glibc's: by F_GETOWN_EX */
        syscall(SYS_fcntl, sv[0], F_GETOWN);
        struct f_owner_ex owner = {F_OWNER_PGRP, me};
        fcntl(sv[0], F_SETOWN_EX, &owner);
        syscall(SYS_kcmp, me, me, KCMP_FILE, sv[0], sv[0]);
        pthread_t t;
        pthread_create(&t, NULL, work, NULL);
        pthread_join(t, NULL);
        write(done[1], "x", 1);
        _exit(0);
    }
    setpgid(leader, leader);
    pid_t member = fork();               /* 3: in 2's group, once 2 is done */
    if (member == 0) {
        read(done[0], &c, 1);
        syscall(SYS_getpgrp);
        _exit(0);
    }
    setpgid(member, leader);
    write(go[1], "x", 1);
    waitpid(leader, NULL, 0);
    waitpid(member, NULL, 0);
    close(hold[1]);
    wait(NULL);
    return 0;
}
"""

exe, traced = program_fixtures("nspid", NSPID_C)
TRACED = ("-qq", "--pidns-translation", "-e", "trace=getpgrp,getsockopt,fcntl,kcmp",
          "-e", "signal=none")
NOTE = re.compile(r" /\* (\d+) in strace's PID NS \*/")


def _whole_calls(lines) -> list[str]:
    """Each call on one line: an ``<unfinished ...>`` line joined to its
    ``<... NAME resumed>`` (another task's exit may come between, in either
    trace: when is a matter of timing)."""
    out: list[str] = []
    begun: dict[str, int] = {}
    for line in lines:
        if line.endswith(" <unfinished ...>"):
            begun[line.split("(", 1)[0]] = len(out)
            out.append(line[:-len(" <unfinished ...>")])
            continue
        resumed = re.match(r"<\.\.\. (\w+) resumed>(.*)$", line)
        if resumed and resumed.group(1) in begun:
            out[begun.pop(resumed.group(1))] += resumed.group(2)
            continue
        out.append(line)
    return out


def _same_but_numbers(lines: list[str]) -> list[str]:
    """The calls, whoever made them (strace -o prefixes ``PID ``, the view
    ``[pid PID] ``): the program runs one task at a time."""
    calls = _whole_calls(re.sub(r"^(\[pid +\d+\]|\d+) +", "", line) for line in lines)
    return [re.sub(r"\d+", "N", re.sub(r" +=", " =", call)) for call in calls
            if "+++" not in call]


def test_nspid_of_each_task_made_in_the_namespace(engine, traced):
    path = traced(engine)[0]
    own = {(rec.header.pid, rec.header.tid): r.parse_int32(rec.data)
           for rec in r.read_records(str(path))
           if type(rec) is r.Struct and rec.name == r.NSPID_NAME}
    # init, the leader, the member, then the leader's thread: 1, 2, 3, 4 there
    assert sorted(own.values()) == [1, 2, 3, 4], own
    assert sorted(own[pid, tid] for pid, tid in own if pid == tid) == [1, 2, 3], own


def test_pids_seen_in_the_namespace_as_strace(engine, traced, exe, tmp_path):
    want, _ = real_strace(exe, tmp_path, "-f", *TRACED)
    have = strace_view(traced(engine)[0], "--follow", *TRACED)
    assert _same_but_numbers(have) == _same_but_numbers(want)
    leader = next(int(m.group(1)) for m in map(re.compile(r"\[pid +(\d+)\] getsockopt").match,
                                                have) if m)
    notes = [int(n) for line in have for n in NOTE.findall(line)]
    # getpgrp thrice, the peer, F_SETOWN, F_GETOWN_EX, F_GETOWN, F_SETOWN_EX, kcmp's two
    assert notes == [leader] * 10, have


# a process with a thread, both calling getpid until its input ends
ATTACHED_PY = """
import os, sys, threading, time
def loop():
    while True:
        os.getpid()
        time.sleep(0.01)
threading.Thread(target=loop, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
os.getpid()
"""


def _child_of(parent: int) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    if int(f.read().rsplit(b")", 1)[1].split()[1]) == parent:
                        return int(entry)
            except (OSError, IndexError, ValueError):
                pass
    raise AssertionError(f"no child of {parent}")


def _ended(path: Path, pid: int, timeout: float = 30) -> list:
    """The trace's records once ``pid``'s PROCDTOR is in it."""
    deadline = time.monotonic() + timeout
    while True:
        records = list(r.read_records(str(path))) if path.exists() else []
        if any(rec.header.type == r.PROCDTOR and rec.header.pid == pid for rec in records) \
                or time.monotonic() > deadline:
            return records
        time.sleep(0.1)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare(1)")
def test_nspid_of_a_process_attached_in_another_namespace(engine, tmp_path):
    ns = subprocess.Popen(["unshare", "-pf", "--mount-proc", "--kill-child", sys.executable,
                           "-c", ATTACHED_PY], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        if ns.stdout.readline() != b"ready\n":
            pytest.skip("unshare -pf --mount-proc refused here")
        pid, out = _child_of(ns.pid), tmp_path / "ktrace.out"
        attach = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine, "-f",
                                 str(out), "-p", str(pid)], capture_output=True, text=True)
        assert attach.returncode == 0, attach.stderr
        time.sleep(0.3)
        ns.stdin.close()
        ns.wait(timeout=30)
    finally:
        ns.kill()
        ns.wait()
    records = _ended(out, pid)
    own = {rec.header.tid: r.parse_int32(rec.data) for rec in records
           if type(rec) is r.Struct and rec.name == r.NSPID_NAME}
    assert own.pop(pid) == 1 and len(own) == 1 and next(iter(own.values())) > 1, own
    first = [rec.header.type for rec in records if rec.header.tid == pid][:3]
    assert first[:2] == [r.PROCCTOR, r.STRUCT]           # after PROCCTOR, as at a fork
    lines = strace_view(out, "--follow", "--pidns-translation", "-e", "trace=getpid")
    noted = {int(n) for line in lines if "getpid() = 1 " in line for n in NOTE.findall(line)}
    assert noted == {pid}, lines

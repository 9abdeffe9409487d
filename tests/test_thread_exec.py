"""An exec from a thread that is not the leader, by a real program under each
engine: the kernel ends the other threads and gives the exec'ing thread the
leader's id.  Both engines record the exec's PROCCTOR under the id the thread
called exec with (docs/design.md), what comes after under the leader's, and
kdump --strace shows it as strace 6.1 does (``+++ superseded by execve in pid
N +++``)."""

from __future__ import annotations

import io
import re

import pytest

from engine_support import compiled_once, trace_command
from ktrace import record as r
from ktrace.abi import LINUX_X86_64
from ktrace.kdump import strace as view

# The leader and a second thread wait in pause(); a third execs itself with
# "again" once both are there (as /proc tells), and the new image calls getpid.
THREAD_EXEC_C = r"""
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *self;
static pid_t leader;
static volatile pid_t waiter;

static int in_pause(pid_t tid)
{
    char path[64], buf[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    if (read(fd, buf, sizeof buf - 1) < 0)
        buf[0] = 0;
    close(fd);
    return atoi(buf) == SYS_pause;
}

static void *wait_forever(void *arg)
{
    waiter = syscall(SYS_gettid);
    pause();
    return arg;
}

static void *exec_again(void *arg)
{
    while (!waiter || !in_pause(leader) || !in_pause(waiter))
        usleep(1000);
    usleep(50000);             /* their CALLs written, whatever the engine */
    char *argv[] = {self, "again", NULL}, *envp[] = {"X=1", NULL};
    execve(self, argv, envp);
    return arg;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return syscall(SYS_getpid) > 0 ? 0 : 1;
    self = argv[0];
    leader = getpid();
    pthread_t a, b;
    pthread_create(&a, NULL, wait_forever, NULL);
    pthread_create(&b, NULL, exec_again, NULL);
    pause();
    return 1;
}
"""
EXECVE = LINUX_X86_64.syscall_number("execve")
PAUSE = LINUX_X86_64.syscall_number("pause")


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> str:
    return compiled_once(tmp_path_factory, "thread_exec", THREAD_EXEC_C, "-pthread")


def _traced(engine: str, program: str, tmp_path) -> tuple[list, bytes]:
    out = tmp_path / "t.out"
    status = trace_command(engine, [program], out, "cnae")
    assert status == 0
    data = out.read_bytes()
    return list(r.RecordReader(io.BytesIO(data))), data


def test_the_exec_is_recorded_under_the_ids_before_and_after(engine, program, tmp_path):
    recs, _ = _traced(engine, program, tmp_path)
    pid = recs[0].header.pid
    calls = [rec for rec in recs if isinstance(rec, r.Syscall) and rec.code == EXECVE]
    execer = calls[-1].header.tid
    assert execer != pid and calls[-1].header.pid == pid
    at = recs.index(calls[-1])
    after = recs[at + 1:]
    # its path at entry, its PROCCTOR, under the id it called exec with
    assert isinstance(after[0], r.Namei) and after[0].header.tid == execer
    ctor = next(rec for rec in after if isinstance(rec, r.ProcCtor))
    assert (ctor.header.pid, ctor.header.tid) == (pid, execer)
    # the rest of the call, and the new image, under the leader's id
    rest = after[after.index(ctor) + 1:]
    args = next(rec for rec in rest if isinstance(rec, r.Args))
    envs = next(rec for rec in rest if isinstance(rec, r.Envs))
    ret = next(rec for rec in rest if isinstance(rec, r.Sysret))
    assert r.split_strings(args.strings) == [program.encode(), b"again"]
    assert r.split_strings(envs.strings) == [b"X=1"]
    assert ret.code == EXECVE and ret.retval == 0
    assert {(rec.header.pid, rec.header.tid) for rec in rest} == {(pid, pid)}
    # the calls the exec ended never return
    pauses = [rec for rec in recs if isinstance(rec, r.Syscall) and rec.code == PAUSE]
    assert len(pauses) == 2 and pid in {rec.header.tid for rec in pauses}
    assert not [rec for rec in recs if isinstance(rec, r.Sysret) and rec.code == PAUSE]


def test_strace_view_shows_the_thread_superseding_the_leader(engine, program, tmp_path):
    recs, data = _traced(engine, program, tmp_path)
    pid = recs[0].header.pid
    execer = [rec for rec in recs if isinstance(rec, r.Syscall) and rec.code == EXECVE][-1].header.tid
    waiter = next(rec.header.tid for rec in recs if isinstance(rec, r.Syscall)
                  and rec.code == PAUSE and rec.header.tid != pid)
    out = io.StringIO()
    view.run(view.parse(["-a1", "-s256", "-e", "trace=execve,pause,getpid,exit_group"]),
             io.BytesIO(data), out)
    lines = [re.sub(r"0x[0-9a-f]+", "ADDR", line) for line in out.getvalue().splitlines()]
    assert sorted(lines[-11:-9]) == sorted([f"[pid {pid:5d}] pause( <unfinished ...>",
                                            f"[pid {waiter:5d}] pause( <unfinished ...>"])
    assert lines[-9:] == [
        f'[pid {execer:5d}] execve("{program}", ["{program}", "again"], ADDR /* 1 var */'
        " <unfinished ...>",
        f"[pid {pid:5d}] <... pause resumed>) = ?",
        f"[pid {waiter:5d}] <... pause resumed>) = ?",
        f"[pid {waiter:5d}] +++ exited with 0 +++",
        f"+++ superseded by execve in pid {execer} +++",
        "<... execve resumed>) = 0",
        f"getpid() = {pid}",
        "exit_group(0) = ?",
        "+++ exited with 0 +++",
    ]

"""System V messages: msgsnd's and msgrcv's struct msgbuf (mtype, then msgsz
bytes of mtext) recorded by both engines (linux_plan's msgbuf: a Length with
``add``) and printed as strace prints it, msgrcv's at its exit: msgsz bytes
whatever it received, the address if it failed.  Real processes, under each engine
(bpf: root and BPF only), checked against /usr/bin/strace."""

from __future__ import annotations

import re
import shutil
import subprocess

from engine_support import kdump_of, program_fixtures

MSGBUF_C = r"""
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
int main(void) {
    struct { long mtype; char mtext[16]; } out = {0x7facefed5adc0ded, "hello"},
                                           in = {0, "xxxxxxxxxxxxxxx"};
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0)
        return 77;
    msgsnd(q, &out, 6, 0);
    msgrcv(q, &in, 10, 0, 0);                       /* 6 bytes in a 10-byte mtext */
    msgrcv(q, &in, 10, 0, IPC_NOWAIT);              /* ENOMSG: its address */
    msgsnd(q, NULL, 6, 0);                          /* EFAULT */
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
"""
CALLS = ("msgsnd", "msgrcv")


exe, traced = program_fixtures("msgbuf", MSGBUF_C)


def _calls(text: str) -> list[str]:
    """The message calls' lines, their result's padding (-a) and the queue's
    id (each run makes its own) taken out."""
    return [re.sub(r"\) +=", ") =", re.sub(r"^(\w+)\(\d+,", r"\1(Q,", line))
            for line in text.splitlines() if line.startswith(CALLS)]


def test_msgbufs_print_as_straces(engine, traced, exe):
    calls = _calls(kdump_of(traced(engine)[0], "--strace"))
    assert len(calls) == 4, calls
    assert calls[0].endswith(r'{mtype=9199991941521739245, mtext="hello\0"}, 6, 0) = 0')
    assert calls[1].endswith(
        r'{mtype=9199991941521739245, mtext="hello\0xxxx"}, 10, 0, 0) = 6')
    assert re.search(r"msgrcv\(Q, 0x[0-9a-f]+, 10, 0, IPC_NOWAIT\) = -1 ENOMSG", calls[2])
    assert calls[3].endswith("NULL, 6, 0) = -1 EFAULT (Bad address)")
    if shutil.which("strace"):
        real = subprocess.run(["strace", "-qq", "-e", "trace=" + ",".join(CALLS), exe],
                              capture_output=True, text=True, timeout=60)
        def unplaced(lines):               # another run: other stack addresses
            return [re.sub(r"0x[0-9a-f]+", "ADDR", line) for line in lines]
        assert unplaced(_calls(real.stderr)) == unplaced(calls)

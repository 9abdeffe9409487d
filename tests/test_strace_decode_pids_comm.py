"""--decode-pids=comm (-Y): the name strace reads from /proc/PID/comm as it
prints a pid.

A child the trace does not follow (no -f) has its name as fork copied it
from its parent while it exists, none once a wait reaped it (a waitid's
argument is printed at its entry, its siginfo at its exit, after the
reaping).  A program waits for its children with waitid (WNOHANG, WNOWAIT,
then reaping) and wait4, and sends a reaped one a signal; traced by each
engine (the program alone) and by /usr/bin/strace, the lines must be the
same but for the numbers (pids, times).

The parent getppid names is no process of the trace (strace's own, in
strace's tests): both engines follow getppid with a STRU parent, the
parent's name (record.py's PARENT).
"""

from __future__ import annotations

import re

import pytest

from ktrace import record as r
from ktrace.abi import LINUX_X86_64
from ktrace.abi import linux_plan as lp
from engine_support import ENGINES, compiled_once, kdump_of, program_fixtures, real_strace, \
    strace_view, traced_once
from test_socket_inode import BPF_C

TRACED = ("-Y", "-e", "trace=waitid,wait4,kill", "-e", "signal=none")

REAPING_C = r"""
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
/* the raw call: glibc's takes no rusage */
#define waitid(idtype, id, si, options, ru) syscall(SYS_waitid, idtype, id, si, options, ru)
int main(void) {
    int go[2];
    char c;
    siginfo_t si = {0};
    if (pipe(go))
        return 1;
    pid_t a = fork();
    if (a == 0) {
        read(go[0], &c, 1);
        _exit(7);
    }
    waitid(P_PID, a, &si, WEXITED | WNOHANG, NULL);       /* alive: {} */
    write(go[1], "x", 1);
    waitid(P_PID, a, &si, WEXITED | WNOWAIT, NULL);       /* a zombie still */
    waitid(P_PID, a, &si, WEXITED, NULL);                 /* reaped */
    kill(a, 0);                                           /* ESRCH */
    pid_t b = fork();
    if (b == 0)
        _exit(0);
    int status;
    wait4(b, &status, 0, NULL);
    return 0;
}
"""

exe, traced = program_fixtures("reaping", REAPING_C, inherit=False)


def _same_but_numbers(lines: list[str]) -> list[str]:
    return [re.sub(r"\d+", "N", re.sub(r" +=", " =", line)) for line in lines]


def test_decode_pids_comm_as_strace(engine, traced, exe, tmp_path):
    want, _ = real_strace(exe, tmp_path, "-qq", *TRACED)
    have = strace_view(traced(engine)[0], *TRACED)
    assert _same_but_numbers(have) == _same_but_numbers(want)
    assert [line.count("<reaping>") for line in have] == [1, 2, 1, 0, 1]


# The program's parent's name as the program reads it, then getppid
PARENT_C = r"""
#include <stdio.h>
#include <unistd.h>
int main(void) {
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", (int) getppid());
    FILE *f = fopen(path, "r");
    if (!f || !fgets(comm, sizeof comm, f))
        return 1;
    fputs(comm, stdout);
    getppid();
    return 0;
}
"""

@pytest.fixture(scope="module")
def parent_traced(tmp_path_factory):
    """The parent program's traced_once (program_fixtures' names are the
    reaping program's)."""
    exe = compiled_once(tmp_path_factory, "parent", PARENT_C)
    return traced_once(tmp_path_factory, [exe], "parent")


def test_getppid_s_result_has_its_parent_s_name(engine, parent_traced):
    path, printed = parent_traced(engine)
    lines = strace_view(path, "-Y", "-e", "trace=getppid")
    assert len(lines) == 2 and all(line.endswith(f"<{printed.strip()}>") for line in lines)


def test_both_engines_record_the_parent_s_name(parent_traced):
    texts = [[line.split("STRU", 1)[1] for line in kdump_of(parent_traced(e)[0]).splitlines()
              if "STRU  struct parent" in line] for e in ENGINES]
    assert texts[0] == texts[1] and len(texts[0]) == 2


def test_the_bpf_program_knows_the_same_calls():
    """ktrace.bpf.c's NR_GETPPID is linux_plan's PARENT_NAMED."""
    defines = dict(re.findall(r"^#define\s+NR_(\w+)\s+(\d+)", BPF_C.read_text(), re.M))
    assert lp.PARENT_NAMED == {"getppid"}
    assert int(defines["GETPPID"]) == LINUX_X86_64.syscall_number("getppid")
    assert lp.parent_named() == {LINUX_X86_64.syscall_number("getppid")}
    assert lp.records_of(LINUX_X86_64.syscall_number("getppid")) & r.facility(r.STRUCT)

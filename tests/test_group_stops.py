"""A thread entering a group-stop: both engines write ``STRU groupstop`` (the
stop signal) with the process's signals, the strace view prints strace's
``--- stopped by SIGSTOP ---`` there, FreeBSD's view leaves it out (FreeBSD's
kernel records no stop).  Real processes, under each engine (bpf: root and BPF
only); the lines checked against /usr/bin/strace's where it can run."""

from __future__ import annotations

import json

from engine_support import kdump_of, program_fixtures, real_strace
from ktrace import record as r

# A child stops itself twice (SIGSTOP, then SIGTSTP at its default action);
# the parent sees each stop (WUNTRACED) and continues it (SIGCONT).  The child
# takes a process group of its own first: the kernel discards SIGTSTP sent to
# an orphaned group, which the test's own may be (a CI job's is).
STOPS_C = r"""
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int status;
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        raise(SIGSTOP);
        raise(SIGTSTP);
        _exit(0);
    }
    for (int i = 0; i < 2; i++) {
        if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status))
            return 1;
        kill(child, SIGCONT);
    }
    return waitpid(child, &status, 0) == child && WIFEXITED(status) ? 0 : 1;
}
"""

exe, traced = program_fixtures("stops", STOPS_C)


def _stop_lines(text: str) -> list[str]:
    """The group-stop lines, their pid prefix (``[pid N] ``, ``N  ``) taken out."""
    return [line[line.index("---"):] for line in text.splitlines() if "stopped by" in line]


def test_each_group_stop_is_recorded(engine, traced):
    path = traced(engine)[0]
    stops = [rec for rec in r.read_records(str(path))
             if type(rec) is r.Struct and rec.name == r.GROUPSTOP_NAME]
    assert [r.parse_int32(rec.data) for rec in stops] == [19, 20]    # SIGSTOP, SIGTSTP
    assert len({rec.header.pid for rec in stops}) == 1                   # the child's


def test_the_strace_view_prints_them_as_strace(engine, traced, exe, tmp_path):
    view = kdump_of(traced(engine)[0], "--strace", "--follow", "-e", "trace=none")
    assert _stop_lines(view) == ["--- stopped by SIGSTOP ---", "--- stopped by SIGTSTP ---"]
    lines, _ = real_strace(exe, tmp_path, "-f", "-e", "trace=none")
    assert _stop_lines("\n".join(lines)) == _stop_lines(view)
    # -e signal= selects them as it does the signals
    assert _stop_lines(kdump_of(traced(engine)[0], "--strace", "--follow", "-e", "trace=none",
                                "-e", "signal=!SIGTSTP")) == ["--- stopped by SIGSTOP ---"]


def test_freebsds_view_leaves_them_out(engine, traced):
    path = traced(engine)[0]
    assert "groupstop" not in kdump_of(path)
    shown = [json.loads(line) for line in kdump_of(path, "--json").splitlines()]
    assert [rec["text"] for rec in shown if rec.get("name") == "groupstop"] == [
        "struct groupstop {signo=SIGSTOP}", "struct groupstop {signo=SIGTSTP}"]

"""Signals not acted on (ignored, or a default of ignore): recorded by both
engines, shown by the strace view where strace shows them, left out of
FreeBSD's view.

strace, a ptracer, sees every signal a process gets, SIGCHLD included, which
the kernel discards at once for a process that is not ptraced and ignores it
(the bpf engine records it as it is sent, inside the parent's wait4: the view
must still print it after wait4's line).  FreeBSD's kernel records only a
signal acted on, and FreeBSD's view of the trace is what it was before such
signals were recorded: the same text as the trace without their records.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest

import strace_diff as D
from engine_support import ENGINES, need_engine
from ktrace import record as r
from ktrace.kdump.signals import acted_on
from ptrace_support import build
from strace_harness import STRACE, parse_log

pytestmark = pytest.mark.skipif(STRACE is None or shutil.which("gcc") is None,
                                reason="needs strace and gcc")

# The scenarios run in the traced command (held by the bpf engine's ptrace:
# Linux queues even its ignored signals), then in its child (not held: the
# kernel discards them as they are sent).  A child exits while its parent
# waits in wait4; a SIG_IGN'd signal sent with kill and with raise (tgkill);
# a SIGWINCH (ignored by default); a SIGCHLD blocked, then unblocked (queued:
# delivered at the unblock).
IGNORED_C = r"""
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void child_exits_while_waited(void) {
    pid_t p = fork();
    if (p == 0) { usleep(200000); _exit(3); }
    waitpid(p, NULL, 0);
}
static void scenarios(void) {
    sigset_t chld;
    child_exits_while_waited();
    signal(SIGUSR2, SIG_IGN);
    kill(getpid(), SIGUSR2);
    raise(SIGUSR2);
    kill(getpid(), SIGWINCH);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    child_exits_while_waited();
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
}
int main(void) {
    pid_t p;
    scenarios();
    p = fork();
    if (p == 0) { scenarios(); _exit(0); }
    waitpid(p, NULL, 0);
    return 0;
}
"""
# the signal lines strace prints for each process (the first has one SIGCHLD
# more: its child's), and the PSIGs of both
EXPECTED = {"SIGCHLD": 2, "SIGUSR2": 2, "SIGWINCH": 1}
PSIGS = {17: 5, 12: 4, 28: 2}


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    base = tmp_path_factory.mktemp("ignored-signals")
    return base, D.Program("ignored", [build(base, "ignored", IGNORED_C)])


@pytest.fixture(scope="module")
def strace_log(program):
    base, prog = program
    log = base / "ignored.strace"
    D.run_strace(prog, base, None, [], log)
    return log.read_text()


@pytest.fixture(scope="module", params=ENGINES)
def trace(request, program):
    need_engine(request.param)
    base, prog = program
    path, _ = D.record(prog, base, None, request.param)
    path = path.rename(base / f"ignored-{request.param}.kt")
    return path


def kdump(*argv: str) -> bytes:
    return subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", *argv], check=True,
                          capture_output=True, env=D.environment(), timeout=120).stdout


def signal_lines(log: str) -> dict[int, list[str]]:
    """Each process's ``--- SIGNAME {...} ---`` lines (not strace's ``---
    stopped by SIGSTOP ---``), with the name of the line before each."""
    out = {}
    for pid, lines in parse_log(log).items():
        out[pid] = [f"{before.name} | {ln.text.split(' {')[0]}"
                    for before, ln in zip(lines, lines[1:])
                    if ln.name == "---" and " {" in ln.text]
    return out


def test_strace_shows_them(strace_log):
    """The program does what the test needs: strace prints each signal."""
    per_process = [lines for lines in signal_lines(strace_log).values() if lines]
    assert len(per_process) == 2, per_process
    for i, lines in enumerate(per_process):
        for name, count in EXPECTED.items():
            count += i == 0 and name == "SIGCHLD"
            assert sum(line.endswith(name) for line in lines) == count, lines


def test_strace_view_prints_them_where_strace_does(trace, program, strace_log):
    base, _ = program
    log = base / f"{trace.stem}.kdump"
    D.run_kdump(trace, [], log)
    ours = log.read_text()
    assert sorted(map(tuple, signal_lines(ours).values())) == \
        sorted(map(tuple, signal_lines(strace_log).values()))
    c = D.compare(strace_log, ours, cwd=str(base / "work"))
    wrong = [m for m in c.differ + c.missing + c.extra
             if "---" in (m.strace or "") + (m.kdump or "")]
    assert not wrong, wrong
    assert not c.known, c.known
    assert "si_code=CLD_EXITED, si_pid=" in ours and "si_status=3" in ours


# A stopped process whose group is orphaned gets SIGHUP, then SIGCONT, and the
# SIGHUP ends it.  Whether the SIGCONT is seen first is a race, under strace
# too (both views are strace's): the bpf engine records the SIGCONT only when
# it is sent before the SIGHUP is pending, as a ptracer would see it.
ORPHANED_C = r"""
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    pid_t p = fork();
    if (p == 0) {
        setpgid(0, 0);
        if (fork() == 0) { raise(SIGSTOP); _exit(0); }
        usleep(200000);
        _exit(0);
    }
    waitpid(p, NULL, 0);
    usleep(300000);
    return 0;
}
"""


def test_a_signal_a_ptracer_would_never_see_is_not_shown(program):
    base, _ = program
    prog = D.Program("orphaned", [build(base, "orphaned", ORPHANED_C)])
    log = base / "orphaned.strace"
    D.run_strace(prog, base, None, [], log)
    stopped = ("--- SIGSTOP", "--- SIGHUP")
    theirs = signals_by_process(log)
    assert stopped in theirs or stopped + ("--- SIGCONT",) in theirs, theirs
    others = [s for s in theirs if s[0] != "--- SIGSTOP"]
    for engine in ENGINES:
        need_engine(engine)
        trace, _ = D.record(prog, base, None, engine)
        D.run_kdump(trace, [], base / "orphaned.kdump")
        ours = signals_by_process(base / "orphaned.kdump")
        assert [s for s in ours if s[0] != "--- SIGSTOP"] == others, engine
        assert [s for s in ours if s[0] == "--- SIGSTOP"] in (
            [stopped], [stopped + ("--- SIGCONT",)]), (engine, ours)


def signals_by_process(log) -> list[tuple[str, ...]]:
    return sorted(tuple(line.split(" | ")[1] for line in lines)
                  for lines in signal_lines(log.read_text()).values())


def _unacted(rec) -> bool:
    return type(rec) is r.Psig and not acted_on(rec.signo, rec.action)


def test_records_and_json_have_them(trace):
    recs = list(r.RecordReader(io.BytesIO(trace.read_bytes())).wellformed())
    psigs = [rec for rec in recs if _unacted(rec)]
    assert Counter(rec.signo for rec in psigs) == PSIGS
    assert {rec.action for rec in psigs if rec.signo == 12} == {1}          # SIG_IGN
    assert {rec.action for rec in psigs if rec.signo != 12} == {0}          # SIG_DFL
    # each with its siginfo, the record after it
    after = [recs[i + 1] for i, rec in enumerate(recs) if _unacted(rec)]
    assert all(type(a) is r.Struct and a.name == b"siginfo" for a in after)
    lines = [json.loads(line) for line in kdump("--json", "-f", str(trace)).splitlines()]
    assert sum(1 for j in lines if j.get("type") == "PSIG") == \
        sum(1 for rec in recs if type(rec) is r.Psig)


def test_freebsd_view_leaves_them_out(trace, tmp_path):
    """The text view is that of the trace without those PSIGs and their siginfo."""
    data = trace.read_bytes()
    recs = list(r.RecordReader(io.BytesIO(data)).wellformed())
    dropped = {i for i, rec in enumerate(recs) if _unacted(rec)}
    dropped |= {i + 1 for i in dropped}
    without = tmp_path / "without.kt"
    without.write_bytes(b"".join(r.encode(rec) for i, rec in enumerate(recs)
                                 if i not in dropped))
    for options in ([], ["-H", "-t", "st"], ["-T"]):
        text = kdump(*options, "-f", str(trace))
        assert text == kdump(*options, "-f", str(without)), options
        assert b"STRU" in text and not re.search(rb"PSIG +SIG(USR2|WINCH)", text)

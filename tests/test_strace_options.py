"""The strace view's framework options on real traces: --decode-pids=pidns
(--pidns-translation) and =comm (-Y), the pid prefix of several processes with
-o, strace's spellings of them; and tools/strace_suite.py's stand-in strace:
its getopt, -h, -c/-C."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest

from ktrace.kdump import strace as view
from ktrace.kdump.cli import UsageError
from ktrace.kdump.select import SelectError, fd_set, syscall_set

from ptrace_support import build, run_traced

ROOT = Path(__file__).resolve().parents[1]

# A child in a new pid namespace (its pid there is 1): its getpid, gettid,
# kill and sched_getscheduler name itself by that pid; its parent forks it and
# calls getpid in the tracer's namespace.
PIDNS = r"""
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void handler(int sig) { (void) sig; }
int main(void)
{
    syscall(SYS_getpid);
    if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
        return 77;
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_NAME, "in<ns>");
        pid_t me = syscall(SYS_getpid);
        syscall(SYS_gettid);
        syscall(SYS_kill, me, 0);
        syscall(SYS_sched_getscheduler, me);
        syscall(SYS_kill, 12345, 0);        /* no such process: nothing known of it */
        signal(SIGUSR1, handler);
        syscall(SYS_kill, me, SIGUSR1);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    syscall(SYS_kill, child, 0);
    return 0;
}
"""


@pytest.fixture(scope="module")
def pidns_trace(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("strace-pidns")
    out = base / "pidns.kt"
    done = run_traced([build(base, "pidns", PIDNS)], out, "+i")
    if done.returncode == 77:
        pytest.skip("no user and pid namespaces here")
    assert done.returncode == 0, done.stderr
    return out


def shown(trace: Path, *argv: str) -> list[str]:
    out = io.StringIO()
    with open(trace, "rb") as f:
        view.run(view.parse(["-e", "trace=getpid,gettid,kill,sched_getscheduler", "-a0",
                             *argv]), f, out)
    return out.getvalue().splitlines()


def test_pidns_translation(pidns_trace):
    lines = shown(pidns_trace, "--pidns-translation")
    parent = int(re.match(r"getpid\(\) = (\d+)$", lines[0]).group(1))
    child = next(int(m.group(1)) for m in map(re.compile(r"\[pid +(\d+)\] getpid\(\) = 1 ").match,
                                              lines) if m)
    note = f"/* {child} in strace's PID NS */"
    assert child != parent
    assert f"[pid {child:5d}] getpid() = 1 {note}" in lines
    assert f"[pid {child:5d}] gettid() = 1 {note}" in lines
    assert f"[pid {child:5d}] kill(1 {note}, 0) = 0" in lines
    assert f"[pid {child:5d}] sched_getscheduler(1 {note}) = 0 (SCHED_OTHER)" in lines
    assert any(t.startswith(f"[pid {child:5d}] --- SIGUSR1 {{si_signo=SIGUSR1, si_code=SI_USER, "
                            f"si_pid=1 {note}, si_uid=") for t in lines), lines
    # a pid the records do not tell of prints bare; the parent is in the tracer's namespace
    assert any(re.match(rf"\[pid {child:5d}\] kill\(12345, 0\) = -1 ESRCH", t) for t in lines)
    assert any(t.startswith(f"kill({child}, 0) = ") for t in lines)
    # the same as --decode-pids=pidns; without it, nothing is added
    assert lines == shown(pidns_trace, "--decode-pids=pidns")
    assert not any("PID NS" in t for t in shown(pidns_trace))


def test_decode_pids_comm(pidns_trace):
    lines = shown(pidns_trace, "--decode-pids=comm,pidns")   # -Y then --pidns-translation: the last wins
    named = [t for t in lines if "<in\\74ns\\76>" in t]
    assert any(re.match(r"\[pid +\d+<in\\74ns\\76>\] getpid\(\) = 1<in\\74ns\\76> /\* \d+ ", t)
               for t in named), lines


def test_pid_prefix_of_several_processes_in_a_file(pidns_trace, tmp_path):
    """strace -o FILE prints ``PID `` (not ``[pid PID]``) once there are more
    processes (print_pid_pfx), ``PID<comm> `` with -Y."""
    out = tmp_path / "log"
    opts = view.parse(["-e", "trace=gettid", "-a0", "-o", str(out), "--follow", "-Y", "-f",
                       str(pidns_trace)])
    view._run(opts)
    text = out.read_text().splitlines()
    assert any(re.match(r"\d+<in\\74ns\\76> gettid\(\) = 1", t) for t in text), text


def test_option_spellings():
    assert view.parse(["-Y"]).decode_pids == {"comm"}
    assert view.parse(["--pidns-translation"]).decode_pids == {"pidns"}
    assert view.parse(["--decode-pids=all"]).decode_pids == {"comm", "pidns"}
    assert view.parse(["--decode-pids=!comm"]).decode_pids == {"pidns"}
    with pytest.raises(UsageError, match="invalid decode-pids 'x'"):
        view.parse(["--decode-pids=x"])
    # --absolute-timestamps without a value is -t's, and takes no next argument
    o = view.parse(["--absolute-timestamps", "-e", "trace=read"])
    assert o.clock == "%T" and o.clock_digits == 0


def test_comm_text():
    assert view.comm_text(b"sleep\0\0\0") == "sleep"
    assert view.comm_text(b"a<b>\n") == "a\\74b\\76\\n"
    assert view.comm_text(b"\x1b[2J") == "\\33[2J"


def test_sets_as_strace_tokenizes_them():
    assert ("mmap", 9) in syscall_set(",mmap,,")
    for text, word in [(",", "','"), ("!", "'!'"), ("", "''")]:
        with pytest.raises(SelectError, match=f"invalid system call {word}"):
            syscall_set(text)
    for text, bad in [("1,-1", "-1"), ("2147483648", "2147483648"), ("1,!all", "!all"),
                      (",,", ",,")]:
        with pytest.raises(SelectError, match=f"invalid descriptor '{re.escape(bad)}'"):
            fd_set(text)
    assert 2147483647 in fd_set("2147483647").numbers


# --- tools/strace_suite.py's stand-in strace --------------------------------------

def _suite():
    spec = importlib.util.spec_from_file_location("strace_suite", ROOT / "tools" / "strace_suite.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("strace_suite", module)
    spec.loader.exec_module(module)
    return module


def test_stand_in_getopt():
    suite = _suite()
    pairs, command = suite.strace_options(["-e,mmap", "-fY", "-p", "12", "--pidns-translation",
                                           "-c", "prog", "-x"])
    assert pairs == [("-e", ",mmap"), ("-f", None), ("-Y", None), ("-p", "12"),
                     ("--pidns-translation", None), ("-c", None)]
    assert command == ["prog", "-x"]


def test_stand_in_help_checks_what_comes_before(capsys):
    """strace -e NAME -h: 0 for a syscall strace knows, 1 (and strace's words) else."""
    suite = _suite()
    assert suite.as_strace("ptrace", ["-e,mmap,mmap2", "-h"]) == 0
    assert suite.as_strace("ptrace", ["-e", "trace=nosuch", "-h"]) == 1
    assert "invalid system call 'nosuch'" in capsys.readouterr().err
    assert suite.as_strace("ptrace", ["-e", "read=,", "prog"]) == 1
    assert "invalid descriptor ','" in capsys.readouterr().err


def test_stand_in_summary_selection():
    suite = _suite()
    assert suite._selection(["-e", "trace=chdir", "-a", "9", "-e", "abbrev=none", "-z",
                             "--trace=open", "-P", "/x", "-e", "quiet=attach"]) == \
        ["-e", "trace=chdir", "-z", "-e", "trace=open", "-P", "/x", "-e", "quiet=attach"]

"""ktrace in a pid namespace below the one /proc was mounted in.

Under ``unshare -Urpf`` (as strace's --pidns-translation tests run their
tracer) the host's /proc is still mounted: the pids the kernel gives (getpid,
waitpid, ptrace's events) are the namespace's, /proc/N is someone else, or
no one.  procfs must read our processes all the same, and the ptrace engine
must never leave a task stopped for want of /proc: a fork's child reported
before its parent's fork event, whose /proc/PID/status it could not read, was
left stopped for good (the recording hung).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ktrace import record as r
from ptrace_support import ENV


def _unshare_refused() -> str | None:
    if shutil.which("unshare") is None:
        return "needs unshare(1)"
    done = subprocess.run(["unshare", "-Urpf", "true"], capture_output=True)
    if done.returncode != 0:
        return f"unshare -Urpf refused here: {done.stderr.decode(errors='replace').strip()}"
    return None


pytestmark = pytest.mark.skipif(_unshare_refused() is not None,
                                reason=str(_unshare_refused()))

# killed with unshare (--kill-child), its namespace ends with it
IN_NAMESPACE = ("unshare", "-Urpf", "--kill-child")

# What procfs says of us (pid 1 here), a thread of ours and a child, as JSON
PROCFS_VIEW = r"""
import json, os, threading, time
from ktrace.platform import procfs
me, started, done = os.getpid(), threading.Event(), threading.Event()
tid = []
def work():
    tid.append(threading.get_native_id()); started.set(); done.wait()
t = threading.Thread(target=work); t.start(); started.wait()
child = os.fork()
if child == 0:
    os.execvp("sleep", ["sleep", "30"])
try:
    for _ in range(500):                # the exec may not have happened yet
        if procfs.comm(child) == b"sleep":
            break
        time.sleep(0.01)
    table = procfs.process_table()
    print(json.dumps({
        "me": me, "tid": tid[0], "child": child, "cwd": os.getcwd(),
        "own_comm": open("/proc/self/comm", "rb").read().strip().decode(),
        "comm": procfs.comm(me).decode(), "child_comm": procfs.comm(child).decode(),
        "threads": procfs.threads(me), "thread_ids": procfs.task_ids(tid[0]),
        "child_ids": procfs.task_ids(child), "is_process": procfs.is_process(me),
        "thread_is_process": procfs.is_process(tid[0]),
        "child_ppid": procfs.stat(child).ppid, "child_cwd": procfs.cwd(child),
        "table": sorted(table), "table_child_ppid": table[child].ppid,
        "may_debug": procfs.may_debug(child),
    }))
finally:
    os.kill(child, 9); os.waitpid(child, 0); done.set(); t.join()
"""


def test_procfs_reads_our_processes_in_a_namespace_below_procs():
    done = subprocess.run([*IN_NAMESPACE, sys.executable, "-c", PROCFS_VIEW], env=ENV,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    v = json.loads(done.stdout)
    me, tid, child = v["me"], v["tid"], v["child"]
    assert me == 1                       # the namespace's init: /proc/1 is the host's
    assert v["comm"] == v["own_comm"]
    assert v["child_comm"] == "sleep"
    assert v["threads"] == sorted([me, tid])
    assert v["thread_ids"][0] == me and v["child_ids"] == [child, me]
    assert v["is_process"] and not v["thread_is_process"]
    assert v["child_ppid"] == me and v["child_cwd"] == v["cwd"]
    assert v["table"] == sorted([me, child])     # no process of another namespace
    assert v["table_child_ppid"] == me
    assert v["may_debug"]


# children forked at once: their first stops often come before the fork events
FORKS = 10
FORKING = f"for i in {' '.join(map(str, range(FORKS)))}; do /bin/true & done; wait"


def test_ktrace_follows_forks_in_a_namespace_below_procs(tmp_path):
    trace = tmp_path / "ktrace.out"
    for attempt in range(3):             # the race it guards against is not won every time
        cmd = [*IN_NAMESPACE, sys.executable, "-m", "ktrace.cli", "--engine", "ptrace", "-i",
               "-f", str(trace), "sh", "-c", FORKING]
        try:
            done = subprocess.run(cmd, env=ENV, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run {attempt + 1}: the recording hung (a task left stopped)")
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        names: dict[str, set[int]] = {}
        for rec in r.read_records(str(trace)):
            names.setdefault(rec.header.command, set()).add(rec.header.pid)
        # the names are the tracees' own, not those of the host's pids of the same number
        assert set(names) <= {Path(sys.executable).name[:15], "sh", "true"}, names
        assert len(names["true"]) == FORKS

"""The facility's ktrace(2) rules, against real processes and real files.

The engine here only notes what the facility asks of it: these tests are
about the facility's decisions (who is traced, into which file, with what
errors), which kern_ktrace.c defines; the engines have their own tests.
"""

import errno
import os
import subprocess
import sys
import time

import pytest

from ktrace import record as r
from ktrace import trpoints
from ktrace.engine import Engine
from ktrace.facility import (KTROP_CLEAR, KTROP_CLEARFILE, KTROP_SET, KTRFLAG_DESCEND,
                             Cred, Facility, Request, TraceFile)

ROOT = Cred(os.getpid(), 0, 0)
# (without STRUCT, a process's descriptors are not written when its tracing
# begins: the tests count records; test_set_attaches_and_writes_procctor has them)
FACS = (trpoints.DEFAULT | trpoints.LIFECYCLE) & ~r.facility(r.STRUCT)


class NotingEngine(Engine):
    name = "noting"

    def __init__(self, refuse=()):
        self.attached, self.detached, self.refuse = [], [], set(refuse)
        self.flags = {}

    def attach(self, pid, options):
        if pid in self.refuse:
            raise PermissionError(errno.EPERM, "refused")
        self.attached.append(pid)

    def detach(self, pid):
        self.detached.append(pid)

    def flags_changed(self, pid, settings):
        self.flags[pid] = settings.flags

    def run(self, service):
        pass

    def wake(self):
        pass


@pytest.fixture
def sleeper():
    procs = []

    def start(*argv):
        p = subprocess.Popen(argv or ["sleep", "30"])
        procs.append(p)
        return p
    yield start
    for p in procs:
        p.kill()
        p.wait()


def tfile(tmp_path, name="t.out", limit=None, owner=ROOT, log_fd=None):
    path = tmp_path / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return path, TraceFile(fd, limit, owner, log_fd)


def records(path):
    return list(r.read_records(str(path)))


def test_no_facility_is_einval(tmp_path, sleeper):
    p = sleeper()
    fac = Facility(NotingEngine())
    _, f = tfile(tmp_path)
    assert fac.ktrace(Request(KTROP_SET, 0, p.pid, f), ROOT) == errno.EINVAL
    assert fac.ktrace(Request(KTROP_SET, r.KTRFAC_INHERIT, p.pid, f), ROOT) == errno.EINVAL


def test_missing_pid_thread_id_and_empty_group_are_esrch(tmp_path):
    fac = Facility(NotingEngine())
    _, f = tfile(tmp_path)
    assert fac.ktrace(Request(KTROP_SET, FACS, 2**22 + 12345, f), ROOT) == errno.ESRCH
    assert fac.ktrace(Request(KTROP_SET, FACS, -(2**22 + 12345), f), ROOT) == errno.ESRCH
    # a thread id names no process, as pfind() would not find it
    code = "import threading,os,time;t=threading.Thread(target=time.sleep,args=(30,));t.start();print(t.native_id,flush=True);t.join()"
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        tid = int(p.stdout.readline())
        assert fac.ktrace(Request(KTROP_SET, FACS, tid, f), ROOT) == errno.ESRCH
    finally:
        p.kill()
        p.wait()


def test_set_attaches_and_writes_procctor(tmp_path, sleeper):
    p = sleeper()
    eng = NotingEngine()
    fac = Facility(eng)
    path, f = tfile(tmp_path)
    assert fac.ktrace(Request(KTROP_SET, FACS | r.facility(r.STRUCT), p.pid, f), ROOT) == 0
    assert eng.attached == [p.pid]
    assert fac.flags(p.pid) & FACS == FACS
    assert fac.flags(p.pid) & r.KTRFAC_ROOT       # root set it
    rec, *held = records(path)
    assert isinstance(rec, r.ProcCtor) and rec.sv_flags == r.SV_LINUX_X86_64
    assert rec.header.pid == rec.header.tid == p.pid
    assert rec.header.command == "sleep"
    # then what it held as its tracing began: its cwd and descriptors
    assert {type(x) for x in held} == {r.Struct} and {x.name for x in held} == {r.FDESC_NAME}
    fds = {d.fd for d in (r.parse_fdesc(x.data) for x in held)}
    assert fds == {-100, *map(int, os.listdir(f"/proc/{p.pid}/fd"))}


def test_set_to_another_file_switches(tmp_path, sleeper):
    p = sleeper()
    eng = NotingEngine()
    fac = Facility(eng)
    path1, f1 = tfile(tmp_path, "one")
    path2, f2 = tfile(tmp_path, "two")
    fac.ktrace(Request(KTROP_SET, FACS, p.pid, f1), ROOT)
    fac.ktrace(Request(KTROP_SET, FACS, p.pid, f2), ROOT)
    assert eng.attached == [p.pid]                  # attached once
    assert fac.procs[p.pid].file is f2
    with pytest.raises(OSError):
        os.fstat(f1.writer.fd)                      # released and closed
    assert len(records(path1)) == 1 and len(records(path2)) == 1
    fac.emit(p.pid, r.pack_record(r.USER, b"x", p.pid, p.pid, b"", 0, 0))
    fac.flush()
    assert len(records(path2)) == 2


def test_partial_clear_keeps_tracing_full_clear_detaches(tmp_path, sleeper):
    p = sleeper()
    eng = NotingEngine()
    fac = Facility(eng)
    path, f = tfile(tmp_path)
    fac.ktrace(Request(KTROP_SET, FACS, p.pid, f), ROOT)
    assert fac.ktrace(Request(KTROP_CLEAR, trpoints.parse("i"), p.pid, None), ROOT) == 0
    assert fac.flags(p.pid) & FACS == FACS & ~trpoints.parse("i")
    assert eng.detached == []
    assert len(records(path)) == 2                  # a PROCCTOR per change
    fac.ktrace(Request(KTROP_CLEAR, trpoints.ALL, p.pid, None), ROOT)
    assert eng.detached == [p.pid] and not fac.tracing()
    with pytest.raises(OSError):
        os.fstat(f.writer.fd)


def test_clearfile_stops_everything_on_that_file(tmp_path, sleeper):
    a, b, c = sleeper(), sleeper(), sleeper()
    eng = NotingEngine()
    fac = Facility(eng)
    _, f1 = tfile(tmp_path, "one")
    path2, f2 = tfile(tmp_path, "two")
    for p in (a, b):
        fac.ktrace(Request(KTROP_SET, FACS, p.pid, f1), ROOT)
    fac.ktrace(Request(KTROP_SET, FACS, c.pid, f2), ROOT)
    _, again = tfile(tmp_path, "one")               # another descriptor, same file
    assert fac.ktrace(Request(KTROP_CLEARFILE, 0, 0, again), ROOT) == 0
    assert sorted(eng.detached) == sorted([a.pid, b.pid])
    assert list(fac.procs) == [c.pid]


def test_descend_reaches_the_whole_subtree(tmp_path, sleeper):
    top = sleeper("sh", "-c", "sleep 30 & sleep 30 & sh -c 'sleep 30 & wait' & wait")
    time.sleep(0.3)
    eng = NotingEngine()
    fac = Facility(eng)
    _, f = tfile(tmp_path)
    assert fac.ktrace(Request(KTROP_SET | KTRFLAG_DESCEND, FACS, top.pid, f), ROOT) == 0
    assert eng.attached[0] == top.pid and len(eng.attached) == 5
    fac2 = Facility(NotingEngine())
    fac2.ktrace(Request(KTROP_SET, FACS, top.pid, tfile(tmp_path, "x")[1]), ROOT)
    assert list(fac2.procs) == [top.pid]            # without -d only the process


def test_process_group(tmp_path, sleeper):
    leader = sleeper("setsid", "sh", "-c", "sleep 30 & sleep 30 & wait")
    time.sleep(0.3)
    eng = NotingEngine()
    fac = Facility(eng)
    _, f = tfile(tmp_path)
    assert fac.ktrace(Request(KTROP_SET, FACS, -leader.pid, f), ROOT) == 0
    assert leader.pid in eng.attached and len(eng.attached) == 3


def test_fork_inherits_only_with_inherit(tmp_path, sleeper):
    p = sleeper()
    fac = Facility(NotingEngine())
    _, f = tfile(tmp_path)
    fac.ktrace(Request(KTROP_SET, FACS, p.pid, f), ROOT)
    assert not fac.fork(p.pid, 999999)
    fac.ktrace(Request(KTROP_SET, FACS | r.KTRFAC_INHERIT, p.pid, f), ROOT)
    assert fac.fork(p.pid, 999999)
    assert fac.flags(999999) == fac.flags(p.pid) and f.refs == 2


def test_privileged_exec_stops_tracing_unless_root(tmp_path, sleeper):
    p = sleeper()
    eng = NotingEngine()
    fac = Facility(eng)
    _, f = tfile(tmp_path)
    fac.ktrace(Request(KTROP_SET, FACS, p.pid, f), ROOT)
    assert not fac.exec_gains_privilege(p.pid)
    q = sleeper()
    user = Cred(1, 1000, 1000)
    _, g = tfile(tmp_path, "u", owner=user)
    fac.ktrace(Request(KTROP_SET, FACS, q.pid, g), ROOT)
    g.owner = user
    assert fac.exec_gains_privilege(q.pid)
    assert q.pid in eng.detached and q.pid not in fac.procs


def test_write_error_stops_only_that_process(tmp_path, sleeper):
    a, b = sleeper(), sleeper()
    eng = NotingEngine()
    fac = Facility(eng)
    rd, wr = os.pipe()
    path, f = tfile(tmp_path, limit=64 * 3 + 200, log_fd=wr)
    fac.ktrace(Request(KTROP_SET, FACS, a.pid, f), ROOT)
    fac.ktrace(Request(KTROP_SET, FACS, b.pid, f), ROOT)   # two PROCCTORs: 2 * 68 bytes
    fac.emit(b.pid, r.pack_record(r.USER, b"s" * 10, b.pid, b.pid, b"", 0, 0))
    fac.emit(a.pid, r.pack_record(r.USER, b"x" * 200, a.pid, a.pid, b"", 0, 0))
    fac.flush()
    assert os.read(rd, 200) == f"ktrace write failed, errno {errno.EFBIG}, tracing stopped for pid {a.pid}\n".encode()
    assert eng.detached == [a.pid] and b.pid in fac.procs
    recs = records(path)                               # whole records only
    assert [type(x) for x in recs] == [r.ProcCtor, r.ProcCtor, r.User]


def test_non_root_cannot_touch_what_it_may_not_debug(tmp_path, sleeper):
    p = sleeper()
    _, f = tfile(tmp_path)
    rd, wr = os.pipe()
    child = os.fork()
    if child == 0:
        os.setgid(65534)
        os.setuid(65534)
        fac = Facility(NotingEngine())
        err = fac.ktrace(Request(KTROP_SET, FACS, p.pid, f), Cred(os.getpid(), 65534, 65534))
        os.write(wr, str(err).encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert int(os.read(rd, 10)) == errno.EPERM


def test_root_set_trace_is_root_only(tmp_path, sleeper):
    p = sleeper()
    eng = NotingEngine()
    fac = Facility(eng)
    _, f = tfile(tmp_path)
    fac.ktrace(Request(KTROP_SET, FACS, p.pid, f), ROOT)
    user = Cred(1, 1000, 1000)
    assert fac.ktrace(Request(KTROP_CLEAR, trpoints.ALL, p.pid, None), user) == errno.EPERM
    assert p.pid in fac.procs


def test_exiting_process_counts_as_success(tmp_path):
    z = subprocess.Popen(["true"])
    time.sleep(0.2)              # a zombie until we wait for it
    fac = Facility(NotingEngine())
    _, f = tfile(tmp_path)
    assert fac.ktrace(Request(KTROP_SET, FACS, z.pid, f), ROOT) == 0
    assert not fac.tracing()
    z.wait()

"""The bpf engine, driven in-process: a real kernel, real processes, real files.

Each test forks a child that waits on a pipe, sets tracing on it through the
Facility (as ktrace(2) would), releases it and runs the engine loop until the
facility traces nothing; then reads the trace file back with ktrace.record.
Tests need root, BTF and the built BPF object: they skip with the reason,
unless KTRACE_REQUIRE_BPF=1 (then they fail).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine_support import bpf_reason, need_engine
from ktrace import record as r
from ktrace import trpoints
from ktrace.facility import KTROP_SET, Cred, Facility, Request, TraceFile

UTRACE_NR = 0x6b74
PROBE_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv)
{
    const char *dir = argv[1];
    char path[512], buf[64];
    struct stat st;
    snprintf(path, sizeof path, "%s/probe.txt", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    write(fd, "hello ktrace\n", 13);
    struct iovec iov[2] = {{"vec-one ", 8}, {"vec-two\n", 8}};
    writev(fd, iov, 2);
    lseek(fd, 0, SEEK_SET);
    read(fd, buf, sizeof buf);
    fstat(fd, &st);
    close(fd);
    open("/nonexistent/ktrace-probe", O_RDONLY);
    syscall(0x6b74, "utrace-bytes", 12);
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pid_t child = fork();
    if (child == 0) {
        if (setresuid(65534, 65534, 65534) == 0)
            chroot("/");
        _exit(3);
    }
    waitpid(child, NULL, 0);
    execl("/bin/true", "true", "arg-one", (char *)NULL);
    return 1;
}
"""


def need_bpf():
    need_engine("bpf")


@pytest.fixture
def probe(tmp_path) -> Path:
    src = tmp_path / "probe.c"
    src.write_text(PROBE_C)
    exe = tmp_path / "probe"
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(src)], check=True)
    return exe


class Traced:
    """A child released after tracing was set on it, and its records."""

    def __init__(self, argv, trace: str = "+", inherit: bool = True,
                 options: dict | None = None, genio_size: int = 4096, out: Path = None):
        from ktrace.engine.bpf import BpfEngine
        self.engine = BpfEngine(options or {})
        self.facility = Facility(self.engine)
        self.out = out
        rfd, wfd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:                       # the child: wait, then exec
            try:
                os.close(wfd)
                os.read(rfd, 1)
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        os.close(rfd)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        self.log_r, log_w = os.pipe()
        os.set_blocking(self.log_r, False)
        cred = Cred(os.getpid(), 0, 0)
        facs = trpoints.parse(trace) | trpoints.LIFECYCLE
        if inherit:
            facs |= r.KTRFAC_INHERIT
        err = self.facility.ktrace(Request(KTROP_SET, facs, self.pid,
                                           TraceFile(fd, None, cred, log_w, genio_size)), cred)
        assert err == 0
        os.write(wfd, b"go")
        os.close(wfd)

    def run(self) -> int:
        """Record until nothing is traced; the child's wait status."""
        try:
            self.engine.run(self.facility.tracing)
        finally:
            self.facility.stop_all()
        _, status = os.waitpid(self.pid, 0)
        return status

    def log(self) -> str:
        try:
            return os.read(self.log_r, 65536).decode()
        except BlockingIOError:
            return ""

    def records(self) -> list:
        return list(r.read_records(str(self.out)))


def trace(tmp_path, argv, **kw) -> tuple[Traced, list]:
    need_bpf()
    t = Traced([str(a) for a in argv], out=tmp_path / "trace.out", **kw)
    status = t.run()
    return t, t.records(), status


def of(records, cls, pid=None):
    return [x for x in records if isinstance(x, cls) and (pid is None or x.header.pid == pid)]


# ---------------------------------------------------------------------------


def test_unavailable_reason_is_one_line_or_none(monkeypatch, tmp_path):
    reason = bpf_reason()
    if os.environ.get("KTRACE_REQUIRE_BPF") == "1":
        assert reason is None               # CI: the engine must be able to run
    assert reason is None or ("\n" not in reason and reason)
    # the reasons it gives where the engine cannot run are one line each
    bpf = pytest.importorskip("ktrace.engine.bpf")
    monkeypatch.setattr(bpf, "_capable", lambda: False)
    reason = bpf.unavailable_reason()
    assert reason and "\n" not in reason
    monkeypatch.setattr(bpf, "_capable", lambda: True)
    monkeypatch.setattr(bpf, "OBJECT", tmp_path / "missing.bpf.o")
    reason = bpf.unavailable_reason()
    assert reason and "\n" not in reason and "not built" in reason


def test_syscalls_paths_io_structs(tmp_path, probe):
    t, recs, status = trace(tmp_path, [probe, tmp_path], trace="+t")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    main = t.pid
    names = [x.path for x in of(recs, r.Namei, main)]
    assert str(tmp_path / "probe.txt").encode() in names
    assert b"/nonexistent/ktrace-probe" in names
    assert b"/bin/true" in names
    # every CALL of the main process has its RET (execve's after the new image's PROCCTOR)
    calls = Counter(x.code for x in of(recs, r.Syscall, main))
    rets = Counter(x.code for x in of(recs, r.Sysret, main))
    assert calls[1] == rets[1] and calls[20] == rets[20]
    # the failed open: FreeBSD ENOENT (2) in error, -ENOENT in retval
    failed = [x for x in of(recs, r.Sysret, main) if x.retval == -2]
    assert failed and all(x.error == 2 for x in failed)
    gio = of(recs, r.Genio, main)
    assert any(x.rw == 1 and x.data == b"hello ktrace\n" for x in gio)
    assert any(x.rw == 1 and x.data == b"vec-one vec-two\n" for x in gio)
    assert any(x.rw == 0 and x.data == b"hello ktrace\nvec-one vec-two\n" for x in gio)
    stats = [x for x in of(recs, r.Struct, main) if x.name == b"stat"]
    assert stats and len(stats[-1].data) == 144
    iovecs = [x for x in of(recs, r.StructArray, main) if x.name == b"iovec"]
    assert iovecs and iovecs[0].struct_size == 16 and len(iovecs[0].data) == 32


def test_record_order_and_headers(tmp_path, probe):
    t, recs, _ = trace(tmp_path, [probe, tmp_path])
    main = [x for x in recs if x.header.pid == t.pid]
    assert isinstance(main[0], r.ProcCtor) and main[0].sv_flags == r.SV_LINUX_X86_64
    assert isinstance(main[-1], r.ProcDtor)
    times = [(x.header.sec, x.header.nsec) for x in main]
    assert times == sorted(times)
    assert all(x.header.version == 1 for x in recs)
    # CALL, then its NAMI, then its RET (openat of the probe file)
    opened = str(tmp_path / "probe.txt").encode()
    i = next(i for i, x in enumerate(main) if isinstance(x, r.Namei) and x.path == opened)
    assert isinstance(main[i - 1], r.Syscall) and main[i - 1].code == 257
    assert isinstance(main[i + 1], r.Sysret) and main[i + 1].code == 257
    # exec: a PROCCTOR for the new image, its argv and environment (the
    # default points), then execve's RET with the new name
    j = max(i for i, x in enumerate(main) if isinstance(x, r.ProcCtor))
    assert main[j].header.command == "true"
    assert [type(x) for x in main[j + 1:j + 4]] == [r.Args, r.Envs, r.Sysret]
    assert main[j + 3].code == 59


def test_fork_inherits_only_with_inherit(tmp_path, probe):
    t, recs, _ = trace(tmp_path, [probe, tmp_path])
    children = {x.header.pid for x in recs} - {t.pid}
    assert len(children) == 1
    child = children.pop()
    kinds = [type(x) for x in recs if x.header.pid == child]
    assert kinds[0] is r.ProcCtor and kinds[-1] is r.ProcDtor
    assert r.Syscall in kinds

    t2, recs2, _ = trace(tmp_path, [probe, tmp_path], inherit=False)
    assert {x.header.pid for x in recs2} == {t2.pid}


def test_utrace_signal_fault_capability_csw(tmp_path, probe):
    t, recs, _ = trace(tmp_path, [probe, tmp_path], trace="+wfp")
    main = t.pid
    users = of(recs, r.User, main)
    assert [u.data for u in users] == [b"utrace-bytes"]
    sigs = of(recs, r.Psig, main)
    assert any(s.signo == signal.SIGUSR1 and s.action > 1 and s.code == -6 for s in sigs)
    faults = of(recs, r.Fault, main)
    assert faults and all(f.type in (1, 2, 4) for f in faults)
    assert any(f.type == 2 for f in faults)
    ends = of(recs, r.FaultEnd, main)
    assert len(ends) >= len(faults) - 1 and all(e.result == 0 for e in ends)
    sw = of(recs, r.Csw, main)
    slept = [c for c in sw if c.out == 1 and c.user == 0 and c.wmesg == b"clock_na"]
    assert slept, "nanosleep sleeps in clock_nanosleep: wmesg names it"
    assert any(c.out == 0 for c in sw)
    child = ({x.header.pid for x in recs} - {main}).pop()
    caps = of(recs, r.CapFail, child)
    assert caps and caps[0].type == r.CAPFAIL_LINUX_CAPABILITY
    assert caps[0].svflags == r.SV_LINUX_X86_64
    assert int.from_bytes(caps[0].data[:4], "little") == 18      # CAP_SYS_CHROOT
    assert caps[0].code == 161                                    # chroot


def test_exec_arguments_and_environment(tmp_path, probe):
    t, recs, _ = trace(tmp_path, [probe, tmp_path], trace="cae")
    args = of(recs, r.Args, t.pid)
    assert [r.split_strings(a.strings) for a in args][-1] == [b"true", b"arg-one"]
    envs = of(recs, r.Envs, t.pid)
    assert envs and any(s.startswith(b"PATH=") for s in r.split_strings(envs[-1].strings))


def test_genio_size_caps_data(tmp_path):
    t, recs, _ = trace(tmp_path, ["dd", "if=/dev/zero", "of=/dev/null", "bs=10000", "count=2"],
                       trace="i", genio_size=100)
    reads = [g for g in of(recs, r.Genio, t.pid) if g.fd == 0]
    assert reads and all(len(g.data) == 100 for g in reads)


def test_full_ring_drops_are_counted_flagged_and_logged(tmp_path):
    t, recs, _ = trace(tmp_path, ["dd", "if=/dev/zero", "of=/dev/null", "bs=4096", "count=20000"],
                       trace="ci", options={"ring_size": 1 << 16})
    log = t.log()
    assert log.count("Out of ktrace request objects.") == 1
    assert "records of pid" in log and "were lost" in log
    assert any(x.header.dropped for x in recs)
    assert t.engine.dropped > 0


def test_pids_and_names_are_the_threads(tmp_path):
    code = ("import threading, os\n"
            "def f(): os.getppid()\n"
            "t = threading.Thread(target=f, name='worker'); t.start(); t.join()\n")
    t, recs, _ = trace(tmp_path, [sys.executable, "-c", code], trace="c")
    tids = {x.header.tid for x in recs if x.header.pid == t.pid}
    assert t.pid in tids and len(tids) >= 2
    getppid = [x for x in of(recs, r.Syscall, t.pid) if x.code == 110]
    assert getppid and getppid[-1].header.tid != t.pid


def test_traced_program_sees_the_same_results(tmp_path):
    cmd = ["sh", "-c", "echo out; ls /nonexistent 2>&1; exit 7"]
    plain = subprocess.run(cmd, capture_output=True)
    need_bpf()
    out = tmp_path / "stdout"
    t = Traced(["sh", "-c", f"exec > {out} 2>&1; " + cmd[2]], out=tmp_path / "trace.out")
    status = t.run()
    assert os.WEXITSTATUS(status) == plain.returncode == 7
    assert out.read_bytes() == plain.stdout


def test_exec_gaining_privilege_stops_tracing_for_a_non_root_tracer(tmp_path):
    need_bpf()
    code = ("import os; os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534); "
            "os.execv('/usr/bin/passwd', ['passwd', '--help'])")
    t = Traced([sys.executable, "-c", code], out=tmp_path / "trace.out")
    tracer = t.facility.procs[t.pid].file
    tracer.owner = Cred(os.getpid(), 65534, 65534)     # as if a user had asked
    t.engine.flags_changed(t.pid, t.facility.settings(t.pid))
    t.run()
    recs = [x for x in t.records() if x.header.pid == t.pid]
    call = max(i for i, x in enumerate(recs) if isinstance(x, r.Syscall) and x.code == 59)
    after = recs[call + 1:]
    # the execve CALL (with its path) is the last thing of that process in the file
    assert not any(isinstance(x, (r.Sysret, r.ProcCtor, r.ProcDtor)) for x in after)
    assert all(x.header.command == recs[call].header.command for x in after)   # the old image
    assert t.pid not in t.facility.procs


def test_exec_gaining_privilege_goes_on_for_a_root_tracer(tmp_path):
    code = ("import os; os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534); "
            "os.execv('/usr/bin/passwd', ['passwd', '--help'])")
    t, recs, _ = trace(tmp_path, [sys.executable, "-c", code], trace="c")
    assert any(isinstance(x, r.ProcCtor) and x.header.command == "passwd" for x in recs)


def test_proc_sys_reads_and_writes_are_sysctl_records(tmp_path):
    t, recs, _ = trace(tmp_path, ["sh", "-c", "cat /proc/sys/kernel/ostype /etc/hostname "
                                  "> /dev/null; echo 1 > /proc/sys/kernel/ns_last_pid"],
                       trace="cy")
    names = [x.name for x in of(recs, r.Sysctl)]
    assert b"kernel.ostype" in names and b"kernel.ns_last_pid" in names
    assert all(n.startswith(b"kernel.") for n in names)     # /etc/hostname is no sysctl
    i = next(i for i, x in enumerate(recs) if isinstance(x, r.Sysctl))
    assert isinstance(recs[i + 1], r.Sysret) and recs[i + 1].code in (0, 1)


NESTED = r"""
import os, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from test_bpf_engine import Traced
from ktrace import record as r
t = Traced(["sh", "-c", "echo $$ > " + sys.argv[3] + "; sh -c 'echo $$ >> " + sys.argv[3] + "'"],
           trace="c", out=sys.argv[4])
t.run()
print(sorted({x.header.pid for x in r.read_records(sys.argv[4])}))
"""


def test_pids_are_those_of_ktraces_pid_namespace(tmp_path):
    need_bpf()
    if subprocess.run(["unshare", "--help"], capture_output=True).returncode != 0:
        pytest.skip("unshare(1) is not installed")
    script = tmp_path / "nested.py"
    script.write_text(NESTED)
    said = tmp_path / "pids"
    res = subprocess.run(["timeout", "-s", "KILL", "60", "unshare", "--pid", "--fork",
                          "--mount-proc", sys.executable, str(script),
                          str(Path(__file__).resolve().parents[1] / "src"),
                          str(Path(__file__).resolve().parent), str(said),
                          str(tmp_path / "trace.out")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    inner = sorted(int(p) for p in said.read_text().split())
    assert res.stdout.strip() == str(inner)            # the namespace's own numbers
    assert inner[0] < 100                                 # a fresh namespace: small pids


def test_a_map_refuses_buffers_of_another_size():
    need_bpf()
    import ctypes
    from ktrace.engine.bpf.loader import Program
    prog = Program(1 << 16)
    try:
        with pytest.raises(ValueError, match="procs"):
            prog.procs.update(ctypes.c_uint32(1), ctypes.c_uint64(0))
        with pytest.raises(ValueError, match="procs"):
            prog.procs.lookup(ctypes.c_uint64(1), ctypes.c_uint64(0))
        assert prog.proc(1) is None         # the right sizes pass
    finally:
        prog.close()

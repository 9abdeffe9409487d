"""The ptrace engine against real processes: records, lifecycle, signals, job control.

Most tests run a program under the engine alone (``python -m
ktrace.engine.ptrace``); the ones about attaching to running processes,
clearing, job control and the tracer's death go through ktrace(1) and its
trace service, as users do.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ktrace import record as r
from ptrace_support import ENV, build, read_calls, records, run_traced

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

HANDLER_C = r"""
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void on_usr1(int s) { got = s; }
int main(void) {
    signal(SIGUSR1, on_usr1);
    printf("%p\n", (void *)on_usr1);
    fflush(stdout);
    while (!got)
        pause();
    write(1, "handled\n", 8);
    return 0;
}
"""

THREAD_NAME_C = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>
static void *work(void *arg) {
    pthread_setname_np(pthread_self(), "worker-x");
    write(1, "w\n", 2);
    return arg;
}
int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, work, NULL);
    pthread_join(t, NULL);
    return 0;
}
"""


# execve blocks in the kernel reading its argv from a page a userfaultfd serves:
# a fault taken in kernel mode waits through PTRACE_INTERRUPT, so the exec goes
# on to its PTRACE_EVENT_EXEC stop, inside the call, after the tracer attached.
BLOCKED_EXEC_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
extern char **environ;
static int uffd;
static char *page;
static long pagesize;
static void *serve(void *arg) {
    struct uffd_msg msg;
    char go;
    if (read(uffd, &msg, sizeof msg) != sizeof msg)
        _exit(2);
    write(1, "blocked\n", 8);       /* the execve waits for the page */
    if (read(0, &go, 1) != 1)        /* until the test has attached */
        _exit(2);
    char *src = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(src, "resumed");
    struct uffdio_copy copy = {.dst = (unsigned long)page, .src = (unsigned long)src,
                               .len = pagesize};
    ioctl(uffd, UFFDIO_COPY, &copy);
    return arg;
}
int main(void) {
    pagesize = sysconf(_SC_PAGESIZE);
    uffd = syscall(SYS_userfaultfd, O_CLOEXEC);      /* kernel faults too: privileged */
    struct uffdio_api api = {.api = UFFD_API};
    if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0)
        return 77;
    page = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct uffdio_register reg = {.range = {(unsigned long)page, pagesize},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
        return 77;
    pthread_t t;
    pthread_create(&t, NULL, serve, NULL);
    char *argv[] = {"/bin/echo", page, NULL};
    execve("/bin/echo", argv, environ);
    return 1;
}
"""


def ktrace_env(tmp_path: Path) -> dict:
    """The environment for ktrace(1): this test's own trace service."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700, exist_ok=True)
    return dict(ENV, KTRACE_RUNTIME_DIR=str(run))


def ktrace_cmd(*args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "ktrace.cli", "--engine", "ptrace", *args]


def python_for_nobody() -> str | None:
    """A Python 3.11+ that an unprivileged user may run (ours may live under /root)."""
    for python in ("/usr/bin/python3", sys.executable):
        ok = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             python, "-c", "import sys; assert sys.version_info >= (3, 11)"],
                            capture_output=True)
        if ok.returncode == 0:
            return python
    return None


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def tracer_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return 0


def state_of(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


# ---------------------------------------------------------------------------
# records of one program


def test_records_of_a_simple_program(tmp_path):
    out = tmp_path / "t.out"
    proc = run_traced(["/bin/cat", "/etc/hostname"], out, "+ae")
    assert proc.returncode == 0
    recs = records(out)
    assert isinstance(recs[0], r.ProcCtor) and recs[0].sv_flags == r.SV_LINUX_X86_64
    assert isinstance(recs[-1], r.ProcDtor)
    pid = recs[0].header.pid
    assert {rec.header.pid for rec in recs} == {pid}
    ncpu = os.cpu_count()
    assert all(0 <= rec.header.cpu < ncpu for rec in recs)
    # exec: CALL, NAMI, PROCCTOR (new image), ARGS, ENVS, RET; comm changes at the exec
    exec_at = next(i for i, rec in enumerate(recs)
                   if isinstance(rec, r.Syscall) and rec.code == 59)
    kinds = [type(rec).__name__ for rec in recs[exec_at:exec_at + 6]]
    assert kinds == ["Syscall", "Namei", "ProcCtor", "Args", "Envs", "Sysret"]
    assert recs[exec_at + 1].path == b"/bin/cat"
    assert r.split_strings(recs[exec_at + 3].strings) == [b"/bin/cat", b"/etc/hostname"]
    assert recs[exec_at + 2].header.command == "cat"
    # the file's contents in a read's GIO, and written to stdout
    host = Path("/etc/hostname").read_bytes()
    gios = [rec for rec in recs if isinstance(rec, r.Genio)]
    assert any(g.rw == 0 and g.data == host for g in gios)
    assert any(g.rw == 1 and g.fd == 1 and g.data == host for g in gios)
    # times never go backwards within the thread
    times = [(rec.header.sec, rec.header.nsec) for rec in recs]
    assert times == sorted(times)


# python -m ktrace.engine.ptrace, with the syscall stop's shortcuts (CALL alone,
# RET alone, a read/write's GIO) on or off
PTRACE_MAIN = ("import functools, sys; from ktrace.engine.ptrace import engine, __main__; "
               "engine.PtraceEngine._make_syscall_stop = functools.partialmethod("
               "engine.PtraceEngine._make_syscall_stop, shortcuts=sys.argv.pop(1) == 'on'); "
               "sys.exit(__main__.main(sys.argv[1:]))")
GETRANDOM = 318


def _comparable(path: Path) -> list:
    """Records from cat's exec on (it runs without ASLR), without what differs
    between two runs: times, CPUs, the pid's value, getrandom's bytes."""
    recs = records(path)
    recs = recs[next(i for i, rec in enumerate(recs)
                     if isinstance(rec, r.ProcCtor) and rec.header.command == "cat"):]
    pid = recs[0].header.pid
    out, call = [], None
    for rec in recs:
        call = rec.code if isinstance(rec, r.Syscall) else call
        if isinstance(rec, r.Sysret) and rec.retval == pid:
            rec = rec._replace(retval=0)            # set_tid_address's
        if not (call == GETRANDOM and isinstance(rec, r.Struct)):
            out.append((rec.header.pid - pid, rec.header.tid - pid, rec.header.command,
                        rec._replace(header=None)))
    return out


def test_shortcuts_and_the_general_path_write_the_same_records(tmp_path):
    if shutil.which("setarch") is None:
        pytest.skip("needs setarch (the same addresses in both runs)")
    argv = ["setarch", "x86_64", "-R", "/bin/cat", "/etc/hostname"]
    found = {}
    for shortcuts in ("on", "off"):
        out = tmp_path / f"{shortcuts}.out"
        cmd = [sys.executable, "-c", PTRACE_MAIN, shortcuts, "-f", str(out), "-t", "+", "--",
               *argv]
        assert subprocess.run(cmd, env=ENV, timeout=120, stdout=subprocess.DEVNULL).returncode == 0
        found[shortcuts] = _comparable(out)
    assert found["on"] == found["off"]
    assert any(isinstance(rec, r.Genio) for *_, rec in found["on"])


def test_calls_pair_with_structs_and_errors(tmp_path):
    out = tmp_path / "t.out"
    script = "import os; os.stat('/etc'); os.pipe();\ntry: os.stat('/nonexistent')\nexcept OSError: pass"
    run_traced([sys.executable, "-S", "-c", script], out, "cnt")
    calls = [c for cs in read_calls(out).values() for c in cs]
    stat_calls = [c for c in calls if c.name == "newfstatat" and c.of(r.Namei)
                  and c.of(r.Namei)[0].path in (b"/etc", b"/nonexistent")]
    ok = next(c for c in stat_calls if c.of(r.Namei)[0].path == b"/etc")
    bad = next(c for c in stat_calls if c.of(r.Namei)[0].path == b"/nonexistent")
    stru = ok.of(r.Struct)
    assert [s.name for s in stru] == [b"stat"] and len(stru[0].data) == 144
    st = os.stat("/etc")
    assert int.from_bytes(stru[0].data[8:16], "little") == st.st_ino
    assert bad.error == 2 and bad.retval == -2 and bad.of(r.Struct) == []
    pipe = next(c for c in calls if c.name == "pipe2")
    arr = pipe.of(r.StructArray)[0]
    assert arr.name == b"int" and arr.struct_size == 4 and len(arr.data) == 8


def test_exit_status_and_signal_death_are_the_programs(tmp_path):
    assert run_traced(["/bin/sh", "-c", "exit 7"], tmp_path / "a.out").returncode == 7
    proc = run_traced(["/bin/sh", "-c", "kill -TERM $$"], tmp_path / "b.out")
    assert proc.returncode == 128 + signal.SIGTERM
    psig = [rec for rec in records(tmp_path / "b.out") if isinstance(rec, r.Psig)]
    assert [(p.signo, p.action) for p in psig] == [(signal.SIGTERM, 0)]


def test_sysctl_names_for_proc_sys_files(tmp_path):
    out = tmp_path / "s.out"
    run_traced(["/bin/cat", "/proc/sys/kernel/hostname"], out, "ciy")
    recs = records(out)
    sctl = [i for i, rec in enumerate(recs) if isinstance(rec, r.Sysctl)]
    assert [recs[i].name for i in sctl] == [b"kernel.hostname"] * len(sctl) and sctl
    # SCTL sits between the read's CALL and its GIO
    i = sctl[0]
    assert isinstance(recs[i - 1], r.Syscall) and recs[i - 1].code == 0
    assert isinstance(recs[i + 1], r.Genio)


@needs_gcc
def test_thread_names_follow_pthread_setname(tmp_path):
    exe = build(tmp_path, "names", THREAD_NAME_C, "-pthread")
    out = tmp_path / "n.out"
    run_traced([exe], out, "ci")
    recs = records(out)
    pid = recs[0].header.pid
    worker = [rec for rec in recs if rec.header.tid != pid]
    assert worker and worker[0].header.command == "names"
    write = next(rec for rec in worker if isinstance(rec, r.Genio) and rec.data == b"w\n")
    assert write.header.command == "worker-x"


def test_inherit_and_exec_in_children(tmp_path):
    out = tmp_path / "f.out"
    run_traced(["/bin/sh", "-c", "/bin/true; /bin/echo hi >/dev/null"], out, "c")
    recs = records(out)
    pids = []
    for rec in recs:
        if isinstance(rec, r.ProcCtor) and rec.header.pid not in pids:
            pids.append(rec.header.pid)
    assert len(pids) == 3                     # the shell and its two children
    for pid in pids:
        mine = [rec for rec in recs if rec.header.pid == pid]
        assert isinstance(mine[0], r.ProcCtor) and isinstance(mine[-1], r.ProcDtor)


# ---------------------------------------------------------------------------
# through ktrace(1): attach, clear, job control, signals, the tracer's death


def test_child_not_inherited_without_i(tmp_path):
    env = ktrace_env(tmp_path)
    out = tmp_path / "k.out"
    proc = subprocess.run(ktrace_cmd("-f", str(out), "/bin/sh", "-c", "/bin/echo child; exit 3"),
                          env=env, capture_output=True, timeout=60)
    assert proc.returncode == 3 and proc.stdout == b"child\n"
    pids = {rec.header.pid for rec in records(out)}
    assert pids == {proc_pid for proc_pid in pids}        # one process only
    assert len(pids) == 1


@needs_gcc
def test_handler_installed_before_attach_is_found(tmp_path):
    exe = build(tmp_path, "handler", HANDLER_C)
    env = ktrace_env(tmp_path)
    out = tmp_path / "h.out"
    child = subprocess.Popen([exe], stdout=subprocess.PIPE)
    try:
        handler = int(child.stdout.readline(), 16)
        subprocess.run(ktrace_cmd("-p", str(child.pid), "-f", str(out), "-t", "cs"), env=env,
                       check=True, timeout=60)
        os.kill(child.pid, signal.SIGUSR1)
        assert child.stdout.readline() == b"handled\n"
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
    psig = [rec for rec in records(out) if isinstance(rec, r.Psig)]
    assert [(p.signo, p.action, p.code) for p in psig] == [(signal.SIGUSR1, handler, 0)]


def test_job_control_works_while_traced(tmp_path):
    env = ktrace_env(tmp_path)
    out = tmp_path / "j.out"
    code = "import time\nfor i in range(200):\n    time.sleep(0.02)\nprint('end')"
    # its own process group, child of ours: never orphaned, so SIGTSTP stops it
    # (the kernel discards it in an orphaned group, traced or not)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             process_group=0)
    try:
        subprocess.run(ktrace_cmd("-p", str(child.pid), "-f", str(out), "-t", "cs"), env=env,
                       check=True, timeout=60)
        assert tracer_of(child.pid) != 0
        os.kill(child.pid, signal.SIGTSTP)
        pid, status = os.waitpid(child.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTSTP
        assert state_of(child.pid) in ("T", "t")
        os.kill(child.pid, signal.SIGCONT)
        pid, status = os.waitpid(child.pid, os.WCONTINUED)
        assert os.WIFCONTINUED(status)
        assert child.stdout.read() == b"end\n"
        assert child.wait(timeout=60) == 0
    finally:
        child.kill()
    calls = [rec for rec in records(out) if isinstance(rec, r.Syscall)]
    assert len(calls) > 50                    # traced before and after the stop


def test_attaching_to_a_stopped_process_keeps_it_stopped(tmp_path):
    env = ktrace_env(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "print('ran')"], stdout=subprocess.PIPE)
    try:
        os.kill(child.pid, signal.SIGSTOP)
        os.waitpid(child.pid, os.WUNTRACED)
        subprocess.run(ktrace_cmd("-p", str(child.pid), "-f", str(tmp_path / "s.out")),
                       env=env, check=True, timeout=60)
        wait_for(lambda: tracer_of(child.pid) != 0)
        time.sleep(0.3)
        assert state_of(child.pid) in ("T", "t")
        os.kill(child.pid, signal.SIGCONT)
        assert child.stdout.read() == b"ran\n"
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()


def _line_within(stream, seconds: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], seconds)
    return stream.readline() if ready else b""


@needs_gcc
def test_attached_inside_a_call_records_its_return_only(tmp_path):
    """A call the tracer joins midway (no entry stop) still ends with its RET."""
    exe = build(tmp_path, "blocked_exec", BLOCKED_EXEC_C, "-pthread")
    out = tmp_path / "x.out"
    child = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        if _line_within(child.stdout, 30) != b"blocked\n":
            assert child.wait(timeout=30) == 77, "the program failed"
            pytest.skip("userfaultfd for kernel-mode faults needs privilege")
        subprocess.run(ktrace_cmd("-p", str(child.pid), "-f", str(out), "-t", "c"),
                       env=ktrace_env(tmp_path), check=True, timeout=60)
        child.stdin.write(b"g")
        child.stdin.close()
        assert child.stdout.read() == b"resumed\n"
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
    mine = [rec for rec in records(out) if rec.header.tid == child.pid]
    at = next(i for i, rec in enumerate(mine) if isinstance(rec, r.Sysret) and rec.code == 59)
    assert (mine[at].retval, mine[at].error) == (0, 0)
    assert not [rec for rec in mine[:at] if isinstance(rec, r.Syscall) and rec.code == 59]
    assert isinstance(mine[at - 1], r.ProcCtor) and mine[at - 1].header.command == "echo"
    assert isinstance(mine[at + 1], r.Syscall)          # the new image's first call
    text = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "-f", str(out)], env=ENV,
                          capture_output=True, text=True, check=True).stdout
    assert re.search(r"echo +RET +execve 0$", text, re.M)


def test_clear_lets_the_process_go(tmp_path):
    env = ktrace_env(tmp_path)
    out = tmp_path / "c.out"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    try:
        subprocess.run(ktrace_cmd("-p", str(child.pid), "-f", str(out)), env=env, check=True,
                       timeout=60)
        wait_for(lambda: tracer_of(child.pid) != 0)
        subprocess.run([sys.executable, "-m", "ktrace.cli", "-c", "-p", str(child.pid)],
                       env=env, check=True, timeout=60)
        wait_for(lambda: tracer_of(child.pid) == 0)
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()


def test_tracer_killed_leaves_the_program_running(tmp_path):
    env = ktrace_env(tmp_path)
    out = tmp_path / "d.out"
    marker = tmp_path / "marker"
    script = (f"for i in $(seq 1 40); do echo $i >> {marker}; sleep 0.05; done; "
              f"echo done >> {marker}; exit 5")
    cmd = subprocess.Popen(ktrace_cmd("-i", "-f", str(out), "/bin/sh", "-c", script), env=env)
    try:
        wait_for(lambda: marker.exists() and marker.read_text().count("\n") >= 3)
        tracer = tracer_of(cmd.pid)
        assert tracer not in (0, os.getpid())
        os.kill(tracer, signal.SIGKILL)
        assert cmd.wait(timeout=30) == 5          # the program ran on to its own end
        assert marker.read_text().splitlines()[-1] == "done"
    finally:
        cmd.kill()
    leftovers = subprocess.run(["ps", "-eo", "stat,args"], capture_output=True,
                               text=True).stdout.splitlines()
    assert not [line for line in leftovers if str(marker) in line]


def test_setuid_exec_is_not_traced_for_an_unprivileged_tracer(tmp_path):
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root (to make a set-uid binary) and setpriv")
    python = python_for_nobody()
    if python is None:
        pytest.skip("no Python 3.11 that user nobody may run")
    base = Path(tempfile_dir())
    exe = base / "id-suid"
    shutil.copy("/usr/bin/id", exe)
    os.chown(exe, 0, 0)
    os.chmod(exe, 0o4755)
    if os.statvfs(exe).f_flag & os.ST_NOSUID:
        pytest.skip("temporary directory is mounted nosuid")
    out = base / "p.out"
    run = base / "run"
    run.mkdir(mode=0o700)
    os.chown(run, 65534, 65534)
    env = dict(ENV, XDG_RUNTIME_DIR=str(run), KTRACE_RUNTIME_DIR=str(run / "ktrace"),
               HOME=str(base))
    user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    proc = subprocess.run(user + ktrace_cmd("-f", str(out), "-t", "cn", str(exe), "-u",
                                            python=python),
                          env=env, capture_output=True, text=True, timeout=60, cwd=base)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"            # the program got its privilege
    recs = records(out)
    assert isinstance(recs[-1], r.Syscall) and recs[-1].code == 59    # the execve CALL is last
    shutil.rmtree(base)


def tempfile_dir() -> str:
    import tempfile
    d = tempfile.mkdtemp(prefix="ktrace-suid-", dir="/tmp")
    os.chmod(d, 0o755)
    os.chown(d, 65534, 65534)
    return d

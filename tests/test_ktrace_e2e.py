"""ktrace(1) end to end, through the trace service, with each engine.

What FreeBSD's ktrace(1) and ktrace(2) promise: the command keeps its place;
-p/-g return at once and tracing goes on until -c/-C; -d and -i; switching
files; several ktraces sharing a file; the errors of ktrace(2).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.abi import LINUX_X86_64

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = dict(os.environ, PYTHONPATH=str(SRC))


def ktrace(engine, *args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 60)
    return subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine, *args],
                          env=kw.pop("env", ENV), **kw)


def records(path):
    return list(r.read_records(str(path)))


def pids_of(path, kind=r.ProcCtor):
    return {x.header.pid for x in records(path) if isinstance(x, kind)}


def calls(path, pid):
    return sum(1 for x in records(path) if isinstance(x, r.Syscall) and x.header.pid == pid)


def settle(path, pid, seconds=0.3):
    time.sleep(seconds)
    return calls(path, pid)


def test_command_keeps_its_pid_status_and_stdin(engine, tmp_path):
    out = tmp_path / "t.out"
    p = subprocess.Popen([sys.executable, "-m", "ktrace.cli", "--engine", engine, "-f", str(out),
                          "sh", "-c", 'echo $$; read x; echo "got $x"; exit 7'],
                         env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    stdout, _ = p.communicate(b"hello\n", timeout=60)
    assert p.returncode == 7
    assert stdout.decode().split("\n")[:2] == [str(p.pid), "got hello"]
    recs = records(out)
    assert {x.header.pid for x in recs} == {p.pid}
    assert isinstance(recs[-1], r.ProcDtor)        # every record is in before it returned
    reads = [x.data for x in recs if isinstance(x, r.Genio) and x.rw == 0 and x.fd == 0]
    assert b"".join(reads) == b"hello\n"           # sh reads a byte at a time


def test_a_death_signal_is_ktraces(engine, tmp_path):
    res = ktrace(engine, "-f", str(tmp_path / "t.out"), "sh", "-c", "kill -TERM $$")
    assert res.returncode == -signal.SIGTERM


def test_interrupt_reaches_the_command(engine, tmp_path):
    script = 'trap "echo caught; exit 3" INT; echo ready; while :; do sleep 0.05; done'
    p = subprocess.Popen([sys.executable, "-m", "ktrace.cli", "--engine", engine, "-f",
                          str(tmp_path / "t.out"), "sh", "-c", script],
                         env=ENV, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert p.stdout.readline() == b"ready\n"
        os.killpg(p.pid, signal.SIGINT)             # as the terminal would
        assert p.wait(timeout=30) == 3
        assert p.stdout.read() == b"caught\n"
    finally:                                        # a failure leaves no loop running
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def test_attach_returns_at_once_and_clear_stops_it(engine, tmp_path, looper):
    target = looper()
    out = tmp_path / "t.out"
    res = ktrace(engine, "-p", str(target.pid), "-t", "cn", "-f", str(out))
    assert (res.returncode, res.stderr) == (0, b"")
    assert settle(out, target.pid) > 0
    assert ktrace(engine, "-c", "-p", str(target.pid)).returncode == 0
    before = settle(out, target.pid, 0.1)
    assert settle(out, target.pid) == before
    assert target.poll() is None                     # and it runs on


@pytest.mark.parametrize("args, message", [
    (["-p", "4194300"], "No such process"),
    (["-g", "4194300"], "No such process"),
])
def test_attach_errors(engine, tmp_path, args, message):
    res = ktrace(engine, *args, "-f", str(tmp_path / "t.out"))
    assert res.returncode == 1
    assert res.stderr.decode() == f"ktrace: {tmp_path / 't.out'}: {message}\n"


def test_attach_to_what_you_may_not_debug_is_eperm(tmp_path):
    if os.getuid() != 0:
        pytest.skip("needs root to become another user")
    python = "/usr/bin/python3"       # ours may live where nobody cannot reach (/root)
    if not os.access(python, os.X_OK):
        pytest.skip(f"{python} is needed to run ktrace as nobody")
    home = Path(tempfile.mkdtemp(prefix="ktrace-nobody-"))
    (home / "run").mkdir(mode=0o700)
    for d in (home, home / "run"):
        os.chown(d, 65534, 65534)
    env = dict(ENV, KTRACE_RUNTIME_DIR=str(home / "run"), HOME=str(home))

    def as_nobody():
        os.setgid(65534)
        os.setuid(65534)
    if subprocess.run([python, "-c", "import ktrace.cli"], env=env, preexec_fn=as_nobody,
                      cwd=home, capture_output=True).returncode != 0:
        pytest.skip(f"nobody cannot read ktrace's sources in {SRC}")
    res = subprocess.run([python, "-m", "ktrace.cli", "-p", "1", "-f", str(home / "t.out")],
                         env=env, preexec_fn=as_nobody, cwd=home, capture_output=True, timeout=60)
    assert res.returncode == 1
    assert res.stderr.decode() == f"ktrace: {home / 't.out'}: Operation not permitted\n"


def test_bpf_without_privilege_says_so_in_one_line(tmp_path):
    if os.getuid() != 0 or not os.access("/usr/bin/python3", os.X_OK):
        pytest.skip("needs root to become another user, and /usr/bin/python3")

    def as_nobody():
        os.setgid(65534)
        os.setuid(65534)
    res = subprocess.run(["/usr/bin/python3", "-m", "ktrace.cli", "--engine", "bpf", "true"],
                         env=ENV, preexec_fn=as_nobody, cwd="/", capture_output=True, timeout=60)
    if b"No module named" in res.stderr:
        pytest.skip(f"nobody cannot read ktrace's sources in {SRC}")
    assert res.returncode == 1
    assert res.stderr == b"ktrace: the bpf engine needs root (or CAP_BPF and CAP_PERFMON)\n"


def test_process_group_and_descend(engine, tmp_path):
    tree = subprocess.Popen(["setsid", "sh", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        time.sleep(0.3)
        kids = [int(x) for x in Path(f"/proc/{tree.pid}/task/{tree.pid}/children").read_text().split()]
        assert len(kids) == 2
        group = tmp_path / "g.out"
        assert ktrace(engine, "-g", str(tree.pid), "-f", str(group)).returncode == 0
        assert pids_of(group) == {tree.pid, *kids}
        only = tmp_path / "p.out"
        assert ktrace(engine, "-p", str(tree.pid), "-f", str(only)).returncode == 0
        assert pids_of(only) == {tree.pid}
        down = tmp_path / "d.out"
        assert ktrace(engine, "-d", "-p", str(tree.pid), "-f", str(down)).returncode == 0
        assert pids_of(down) == {tree.pid, *kids}
    finally:
        os.killpg(tree.pid, signal.SIGKILL)
        tree.wait()


def test_children_are_traced_only_with_inherit(engine, tmp_path):
    script = "/bin/true; /bin/true"
    without, with_i = tmp_path / "n.out", tmp_path / "i.out"
    assert ktrace(engine, "-f", str(without), "sh", "-c", script).returncode == 0
    assert ktrace(engine, "-i", "-f", str(with_i), "sh", "-c", script).returncode == 0
    assert len(pids_of(without, r.Syscall)) == 1
    assert len(pids_of(with_i, r.Syscall)) == 3


def test_set_to_another_file_switches_files(engine, tmp_path, looper):
    target = looper()
    one, two = tmp_path / "one.out", tmp_path / "two.out"
    assert ktrace(engine, "-p", str(target.pid), "-t", "c", "-f", str(one)).returncode == 0
    settle(one, target.pid)
    assert ktrace(engine, "-p", str(target.pid), "-t", "c", "-f", str(two)).returncode == 0
    frozen = settle(one, target.pid, 0.1)
    assert settle(one, target.pid) == frozen
    assert calls(two, target.pid) > 0
    ktrace(engine, "-c", "-p", str(target.pid))


def test_clear_by_file_and_clear_all(engine, tmp_path, looper):
    a, b = looper(), looper()
    f1, f2 = tmp_path / "one.out", tmp_path / "two.out"
    ktrace(engine, "-p", str(a.pid), "-t", "c", "-f", str(f1))
    ktrace(engine, "-p", str(b.pid), "-t", "c", "-f", str(f2))
    assert ktrace(engine, "-c", "-f", str(f1)).returncode == 0
    frozen = settle(f1, a.pid, 0.1)
    assert settle(f1, a.pid) == frozen and settle(f2, b.pid) > 0
    assert ktrace(engine, "-C").returncode == 0
    frozen = settle(f2, b.pid, 0.1)
    assert settle(f2, b.pid) == frozen
    assert a.poll() is None and b.poll() is None


def test_several_ktraces_share_one_file(engine, tmp_path):
    shared = tmp_path / "shared.out"
    shared.write_bytes(b"")
    runs = [subprocess.Popen([sys.executable, "-m", "ktrace.cli", "--engine", engine, "-a", "-f",
                              str(shared), "sh", "-c", "for i in 1 2 3 4 5; do cat /etc/hostname; done"],
                             env=ENV, stdout=subprocess.DEVNULL) for _ in range(3)]
    assert [p.wait(timeout=60) for p in runs] == [0, 0, 0]
    recs = records(shared)                           # reads to its end: nothing torn
    assert {x.header.pid for x in recs if isinstance(x, r.ProcDtor)} == {p.pid for p in runs}


def test_the_commands_first_call_is_its_exec(engine, tmp_path):
    # as ktrace(2) leaves it: before the exec at most the return of the request
    # that turned tracing on (ptrace may attach after it), none of ktrace's own
    # calls (its closes)
    out = tmp_path / "t.out"
    assert ktrace(engine, "-f", str(out), "/bin/true").returncode == 0
    recs = records(out)
    first_call = next(i for i, x in enumerate(recs) if isinstance(x, r.Syscall))
    assert LINUX_X86_64.syscall_name(recs[first_call].code) == "execve"
    # (and what the command held as tracing began: STRU fdesc)
    assert [type(x) for x in recs[:first_call] if not isinstance(x, r.ProcCtor)
            and not (isinstance(x, r.Struct) and x.name == r.FDESC_NAME)] in ([], [r.Sysret])


def _in_syscall(pid, nr):
    """Wait until ``pid`` blocks in syscall ``nr``."""
    for _ in range(200):
        with open(f"/proc/{pid}/syscall") as f:
            if f.read().split()[0] == str(nr):
                return
        time.sleep(0.01)
    raise AssertionError(f"{pid} never blocked in syscall {nr}")


@pytest.mark.parametrize("code, name", [
    ("import os; os.read(0, 1)", "read"),                  # restarted as itself
    ("import time; time.sleep(2)", "clock_nanosleep"),     # restarted as restart_syscall
])
def test_a_call_in_progress_at_attach_shows_only_its_return(engine, tmp_path, code, name):
    # the call began before tracing did: ktrace(2) records its return alone,
    # though ptrace's attach makes the kernel restart it
    out = tmp_path / "t.out"
    rfd, wfd = os.pipe()
    target = subprocess.Popen([sys.executable, "-c", code], stdin=rfd)
    os.close(rfd)
    try:
        _in_syscall(target.pid, LINUX_X86_64.syscall_number(name))
        assert ktrace(engine, "-p", str(target.pid), "-t", "c", "-f", str(out)).returncode == 0
        os.write(wfd, b"x")
        assert target.wait(timeout=30) == 0
    finally:
        os.close(wfd)
        target.kill()
        target.wait()
    first = next(x for x in records(out) if isinstance(x, (r.Syscall, r.Sysret)))
    assert isinstance(first, r.Sysret) and LINUX_X86_64.syscall_name(first.code) == name

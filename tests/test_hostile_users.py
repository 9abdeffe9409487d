"""Hostile users and hostile requests: what ktrace must withstand (docs/security.md).

Another user who can write the trace file's directory, symlinks planted at
the trace file's name, requests aimed at the trace service's own processes,
malformed requests carrying descriptors, and a stranger squatting on a
user's runtime directory.  Most of these need root (to be the victim, or to
become another user): they skip with the reason elsewhere.
"""

import array
import errno
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import require_bpf
from ktrace import record as r
from ktrace import service
from ktrace.platform import procfs

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = dict(os.environ, PYTHONPATH=str(SRC))
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"     # ours may live where other users cannot reach (/root)
SLEEP = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"]

needs_root = pytest.mark.skipif(os.getuid() != 0, reason="needs root to be the victim "
                                "and to become another user")


def ktrace(*args, engine="ptrace", env=None, timeout=60, user=None, python=sys.executable,
           cwd=None):
    extra = {} if user is None else {"user": user, "group": user, "extra_groups": []}
    return subprocess.run([python, "-m", "ktrace.cli", "--engine", engine, *map(str, args)],
                          env=env or ENV, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or "/", **extra)


def nobody_can_run_ktrace(env):
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"{SYSTEM_PYTHON} is needed to run ktrace as another user")
    res = subprocess.run([SYSTEM_PYTHON, "-c", "import ktrace.cli"], env=env, user=NOBODY,
                         group=NOBODY, extra_groups=[], cwd="/", capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"nobody cannot read ktrace's sources in {SRC}")


@pytest.fixture
def world():
    """A directory in /tmp that anyone may reach, removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="ktrace-hostile-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def owned_dir(parent: Path, name: str, uid: int, mode: int = 0o755) -> Path:
    d = parent / name
    d.mkdir()
    os.chown(d, uid, uid)
    d.chmod(mode)
    return d


@pytest.fixture(params=["ptrace", "bpf"])
def engine(request):
    if request.param == "bpf":
        from ktrace import control
        reason = control.bpf_unavailable()
        if reason is not None:
            if require_bpf():
                pytest.fail(f"bpf engine required: {reason}")
            pytest.skip(reason)
    return request.param


@pytest.fixture
def traced_sleeper(tmp_path):
    """A process traced by (and so keeping alive) each engine's service of ours."""
    procs = []

    def start(engine):
        p = subprocess.Popen(SLEEP)
        procs.append(p)
        res = ktrace("-p", p.pid, "-t", "c", "-f", tmp_path / f"sleeper-{engine}.out",
                     engine=engine)
        assert (res.returncode, res.stderr) == (0, "")
        return p
    yield start
    for p in procs:
        p.kill()
        p.wait()


def service_pid(engine: str) -> int:
    """The pid of our running service: its listening socket's credentials."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(service.socket_path(engine)))
        return service.peer_cred(s).pid


def children(pid: int) -> list[int]:
    return [p for p, st in procfs.process_table().items() if st.ppid == pid]


# ---------------------------------------------------------------------------
# The trace file: one open, every check on that descriptor


@needs_root
@pytest.mark.parametrize("append", [False, True])
def test_a_racing_hard_link_swap_never_gets_roots_records(world, append):
    """Another user swaps their own file in while root's ktrace opens the trace file."""
    d = owned_dir(world, "d", NOBODY)
    out, theirs = d / "out", d / "theirs"
    attacker = os.fork()
    if attacker == 0:
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.close(os.open(theirs, os.O_WRONLY | os.O_CREAT, 0o644))
            swap = str(d / "swap")
            while True:
                # away with root's file (so that root makes a new one), then
                # our hard link in its place, as fast as we can
                for step in (lambda: os.unlink(out), lambda: os.link(theirs, swap),
                             lambda: os.rename(swap, out)):
                    try:
                        step()
                    except OSError:
                        pass
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 20
        runs = 0
        while runs < 40 and time.monotonic() < deadline:
            ktrace(*["-a"] * append, "-f", out, "-t", "ci", "echo", "root's secret",
                   timeout=30)
            runs += 1
            if theirs.exists() and theirs.stat().st_size:
                break
    finally:
        os.kill(attacker, signal.SIGKILL)
        os.waitpid(attacker, 0)
    assert theirs.stat().st_size == 0, f"root's records landed in nobody's file ({runs} runs)"


@needs_root
def test_append_refuses_a_hard_link_to_a_file_of_ours(world):
    """A link someone made to root's own file (no protected_hardlinks) is not appended to."""
    precious = owned_dir(world, "etc", 0) / "precious"
    precious.write_text("keep me\n")
    d = owned_dir(world, "d", NOBODY)
    os.link(precious, d / "out")
    res = ktrace("-a", "-f", d / "out", "true")
    assert res.returncode == 1
    assert res.stderr == f"ktrace: refuse to append to {d / 'out'} with other hard links\n"
    assert precious.read_text() == "keep me\n"


@needs_root
@pytest.mark.parametrize("target_exists", [False, True])
def test_append_creates_and_writes_nothing_through_a_symlink(world, target_exists):
    target = owned_dir(world, "etc", 0) / "anything"
    if target_exists:
        target.write_text("keep me\n")
    d = owned_dir(world, "d", NOBODY)
    (d / "link").symlink_to(target)
    res = ktrace("-a", "-f", d / "link", "true")
    assert res.returncode == 1
    assert res.stderr == f"ktrace: {d / 'link'}: Too many levels of symbolic links\n"
    if target_exists:
        assert target.read_text() == "keep me\n"
    else:
        assert not target.exists()


@needs_root
def test_without_append_a_symlink_is_replaced_never_followed(world):
    target = owned_dir(world, "etc", 0) / "anything"
    d = owned_dir(world, "d", NOBODY)
    (d / "link").symlink_to(target)
    res = ktrace("-f", d / "link", "-t", "c", "true")
    assert (res.returncode, res.stderr) == (0, "")
    assert not target.exists()
    st = os.lstat(d / "link")
    assert (st.st_uid, st.st_mode & 0o7777, st.st_size > 0) == (0, 0o600, True)


def test_clear_by_file_neither_blocks_on_a_fifo_nor_follows_a_symlink(tmp_path):
    """A FIFO planted at the name would have kept `ktrace -c -f` waiting for a writer."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    res = ktrace("-c", "-f", tmp_path / "fifo", timeout=20)
    assert (res.returncode, res.stderr) == (1, f"ktrace: {tmp_path / 'fifo'}: not a regular file\n")
    res = ktrace("-c", "-f", tmp_path / "link", timeout=20)
    assert (res.returncode, res.stderr) == \
        (1, f"ktrace: {tmp_path / 'link'}: Too many levels of symbolic links\n")


# ---------------------------------------------------------------------------
# The service's own processes are never targets


def test_the_service_never_traces_itself(engine, tmp_path, traced_sleeper):
    traced_sleeper(engine)
    me = service_pid(engine)
    helpers = children(me)
    out = tmp_path / "t.out"
    for pid in [me, *helpers]:
        res = ktrace("-p", pid, "-f", out, engine=engine, timeout=20)
        assert (res.returncode, res.stderr) == (1, f"ktrace: {out}: Operation not permitted\n")
        # a walk skips them: with nothing else below, nothing could be changed
        res = ktrace("-d", "-p", pid, "-f", out, engine=engine, timeout=20)
        assert (res.returncode, res.stderr) == (1, f"ktrace: {out}: Operation not permitted\n")
    for pid in [me, *helpers]:
        assert Path(f"/proc/{pid}/status").read_text().count("TracerPid:\t0\n") == 1
    res = ktrace("-f", out, "-t", "c", "true", engine=engine, timeout=20)
    assert (res.returncode, res.stderr) == (0, "")
    assert any(isinstance(x, r.Syscall) for x in r.read_records(str(out)))


# ---------------------------------------------------------------------------
# Malformed requests carrying descriptors


def _bad_requests():
    # were one taken as a request, it would trace a process that is not there
    good = {"ops": 0, "facs": 2, "pid": 4194300, "fds": ["file"], "limit": None,
            "genio_size": None, "options": {}, "hold_exit": False}
    yield b"not json"
    yield b"null"
    yield b"[1, 2]"
    yield b'"text"'
    yield json.dumps(dict(good, fds="file")).encode()
    yield json.dumps(dict(good, fds=["file", "file"])).encode()
    yield json.dumps(dict(good, fds=["file", "log"])).encode()      # one fd for two names
    yield json.dumps(dict(good, fds=[["file"]])).encode()
    # these fail after the trace file is taken in
    yield json.dumps(dict(good, pid="me")).encode()
    yield json.dumps(dict(good, ops=None)).encode()
    yield json.dumps(dict(good, options=7)).encode()
    yield json.dumps(dict(good, limit="big")).encode()
    yield json.dumps(dict(good, genio_size=[1])).encode()


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_flood_of_malformed_requests_leaks_no_descriptor(engine, tmp_path, traced_sleeper):
    traced_sleeper(engine)
    me = service_pid(engine)
    before = fd_count(me)
    bad = list(_bad_requests())
    path = str(service.socket_path(engine))
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"")
    answers = set()
    for i in range(1200):
        fd = os.open(garbage, os.O_WRONLY | os.O_APPEND)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.settimeout(10)
                s.connect(path)
                s.sendmsg([bad[i % len(bad)]],
                          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
                reply, _ = service.recv_message(s)
                answers.add(None if reply is None else reply["errno"])
        finally:
            os.close(fd)
    assert fd_count(me) <= before + 2
    assert answers <= {errno.EINVAL, None}
    assert garbage.stat().st_size == 0
    out = tmp_path / "t.out"
    res = ktrace("-f", out, "-t", "c", "true", engine=engine, timeout=20)
    assert (res.returncode, res.stderr) == (0, "")


# ---------------------------------------------------------------------------
# Other users' ktrace


@needs_root
def test_clearing_roots_trace_without_privilege_is_eperm(world, traced_sleeper):
    victim = traced_sleeper("ptrace")
    run = owned_dir(world, "run", NOBODY, 0o700)
    env = dict(ENV, KTRACE_RUNTIME_DIR=str(run))
    nobody_can_run_ktrace(env)
    res = ktrace("-c", "-p", victim.pid, env=env, user=NOBODY, python=SYSTEM_PYTHON)
    assert (res.returncode, res.stderr) == (1, "ktrace: ktrace.out: Operation not permitted\n")
    # -C walks every process: nobody's own ones could be cleared, so it succeeds
    res = ktrace("-C", env=env, user=NOBODY, python=SYSTEM_PYTHON)
    assert (res.returncode, res.stderr) == (0, "")
    # and root's trace goes on
    assert "TracerPid:\t0\n" not in Path(f"/proc/{victim.pid}/status").read_text()


@needs_root
def test_a_stranger_cannot_block_a_users_runtime_directory(world):
    taken = {int(line.split(":")[2]) for line in open("/etc/passwd") if line.count(":") >= 3}
    uid = next(u for u in random.sample(range(60000, 65000), 200)
               if u not in taken and not Path(f"/tmp/ktrace-{u}").exists())
    squat = Path(f"/tmp/ktrace-{uid}")
    # another user (nobody) makes the directory ktrace would have used
    subprocess.run(["mkdir", "-m", "700", str(squat)], user=NOBODY, group=NOBODY,
                   extra_groups=[], check=True)
    home = owned_dir(world, "home", uid)
    env = {k: v for k, v in ENV.items() if k not in ("KTRACE_RUNTIME_DIR", "XDG_RUNTIME_DIR")}
    env["HOME"] = str(home)
    try:
        res = subprocess.run([SYSTEM_PYTHON, "-m", "ktrace.cli", "--engine", "ptrace",
                              "-t", "c", "-f", str(home / "t.out"), "true"],
                             env=env, user=uid, group=uid, extra_groups=[], cwd=str(home),
                             capture_output=True, text=True, timeout=60)
        if "No module named" in res.stderr:
            pytest.skip(f"another user cannot read ktrace's sources in {SRC}")
        assert (res.returncode, res.stderr) == (0, "")
        assert any(isinstance(x, r.Syscall) for x in r.read_records(str(home / "t.out")))
        assert squat.stat().st_uid == NOBODY and not any(squat.iterdir())
    finally:
        shutil.rmtree(squat, ignore_errors=True)
        time.sleep(service.IDLE_SECONDS + 1)       # the user's service ends by itself
        for d in Path("/tmp").glob(f"ktrace-{uid}*"):
            shutil.rmtree(d, ignore_errors=True)

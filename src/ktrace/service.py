"""The trace service: the process that is "the kernel" of ktrace for one user.

FreeBSD keeps trace state in the kernel, so ``ktrace -p PID`` can return at
once and ``ktrace -c`` can clear it later.  Here a service process per
(user, engine) holds that state: a :class:`~ktrace.facility.Facility` and the
engine that records.  ktrace(1) talks to it over a unix socket; requests are
ktrace(2) calls.  The caller opens the trace file itself and passes the
descriptor, so the service never opens a path for anybody, and the service
checks every peer's credentials (SO_PEERCRED).

The service is started on demand (detached: double fork, own session, so it
is nobody's child and no terminal signal reaches it) and ends by itself when
it traces nothing and nobody has talked to it for a moment.
"""

from __future__ import annotations

import array
import errno
import fcntl
import json
import os
import queue
import socket
import stat
import struct
import sys
import threading
import time
from pathlib import Path

from . import engine as engines
from .facility import Cred, Facility, Request, TraceFile

IDLE_SECONDS = 2.0        # how long an idle service waits before it ends
CONNECT_SECONDS = 10.0    # how long a client waits for a service to come up
MAX_MESSAGE = 64 * 1024


class ServiceError(Exception):
    """The service could not be reached or refused to run (one line)."""


# ---------------------------------------------------------------------------
# Where services live


def runtime_dir(uid: int | None = None, create: bool = True) -> Path:
    """The private directory holding this user's service sockets.

    It must be ours and closed to others; anything else (a symlink, a
    directory someone else made in /tmp) is refused rather than used.
    """
    uid = os.getuid() if uid is None else uid
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if os.environ.get("KTRACE_RUNTIME_DIR"):     # a private set of services (tests)
        path = Path(os.environ["KTRACE_RUNTIME_DIR"])
    elif uid == 0:
        path = Path("/run/ktrace")
    elif xdg and os.path.isdir(xdg) and os.stat(xdg).st_uid == uid:
        path = Path(xdg) / "ktrace"
    else:
        path = Path(f"/tmp/ktrace-{uid}")
    if create:
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        raise ServiceError(f"{path}: not a private directory owned by uid {uid}")
    return path


def service_name(engine: str) -> str:
    """Services are per pid namespace too: a pid means nothing outside its own."""
    try:
        return f"{engine}-{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return engine


def socket_path(engine: str, uid: int | None = None, create: bool = True) -> Path:
    return runtime_dir(uid, create) / f"{service_name(engine)}.sock"


# ---------------------------------------------------------------------------
# Messages: one JSON object per SOCK_SEQPACKET message, descriptors alongside


def send_message(sock: socket.socket, obj: dict, fds: list[int] = ()) -> None:
    data = json.dumps(obj).encode()
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([data], anc)


def recv_message(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """(message, received descriptors); (None, []) when the peer closed."""
    fds = array.array("i")
    data, anc, _flags, _addr = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(data), list(fds)


def peer_cred(sock: socket.socket) -> Cred:
    pid, uid, gid = struct.unpack("3i", sock.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return Cred(pid, uid, gid)


# ---------------------------------------------------------------------------
# The service side


class Service:
    """Accepts requests on a control thread; applies them on the engine's."""

    def __init__(self, engine_name: str, engine_options: dict):
        self.engine = engines.load(engine_name, engine_options)
        self.facility = Facility(self.engine)
        self.engine.facility = self.facility
        self.path = socket_path(engine_name)
        self._queue: queue.Queue = queue.Queue()
        self._ending = threading.Event()
        self._busy = 0            # requests accepted but not answered
        self._lock = threading.Lock()

    # control thread -----------------------------------------------------

    def _listen(self) -> socket.socket:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        listener.bind(str(self.path))
        listener.listen(16)
        listener.settimeout(0.2)
        return listener

    def _accept_loop(self, listener: socket.socket) -> None:
        idle_since = time.monotonic()
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                with self._lock:
                    idle = self._busy == 0 and not self.facility.tracing()
                if not idle:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > IDLE_SECONDS:
                    break
                continue
            if self._take(conn):      # an empty probe (running()) keeps nothing alive
                idle_since = time.monotonic()
        # stop taking requests before the engine is told to end
        self.path.unlink(missing_ok=True)
        listener.close()
        self._ending.set()
        self.engine.wake()

    def _take(self, conn: socket.socket) -> bool:
        """Queue the request on ``conn``; False when there was none."""
        conn.settimeout(5)
        try:
            cred = peer_cred(conn)
            message, fds = recv_message(conn)
        except (OSError, ValueError):
            conn.close()
            return False
        if message is None:
            conn.close()
            return False
        if cred.uid not in (os.getuid(), 0):
            for fd in fds:
                os.close(fd)
            self._reply(conn, errno.EPERM, "not your trace service")
            return False
        with self._lock:
            self._busy += 1
        self._queue.put((conn, cred, message, fds))
        self.engine.wake()
        return True

    @staticmethod
    def _reply(conn: socket.socket, err: int, text: str = "") -> None:
        try:
            send_message(conn, {"errno": err, "message": text})
        except OSError:
            pass
        conn.close()

    # engine thread ------------------------------------------------------

    def _service(self) -> bool:
        """Called by the engine loop: apply queued requests; False to end."""
        while True:
            try:
                conn, cred, message, fds = self._queue.get_nowait()
            except queue.Empty:
                break
            try:
                err = self._apply(cred, message, fds)
            except Exception as e:   # a bad request must not take the service down
                err = errno.EINVAL
                print(f"ktrace service: {e!r}", file=sys.stderr)
            self._reply(conn, err, os.strerror(err) if err else "")
            with self._lock:
                self._busy -= 1
        return not self._ending.is_set()

    def _apply(self, cred: Cred, message: dict, fds: list[int]) -> int:
        names = message.get("fds", [])
        if len(names) != len(fds):
            for fd in fds:
                os.close(fd)
            return errno.EINVAL
        given = dict(zip(names, fds))
        trace_fd, log_fd = given.get("file"), given.get("log")
        file = None
        if trace_fd is not None:
            file = TraceFile(trace_fd, message.get("limit"), cred, log_fd,
                             message.get("genio_size") or 4096)
        elif log_fd is not None:
            os.close(log_fd)
        req = Request(int(message["ops"]), int(message["facs"]), int(message["pid"]),
                      file, dict(message.get("options", {})))
        err = self.facility.ktrace(req, cred)
        if err == 0 and message.get("hold_exit"):
            self.engine.hold_exit(req.pid)
        if file is not None and file.refs == 0:
            file.close()         # nobody took it: the request's own copy
        return err

    def run(self) -> None:
        listener = self._listen()
        control = threading.Thread(target=self._accept_loop, args=(listener,),
                                   name="ktrace-control", daemon=True)
        control.start()
        try:
            self.engine.run(self._service)
        finally:
            self.facility.stop_all()


def _hold_lock(engine_name: str) -> int | None:
    """Only one service per user and engine: the lock says who it is."""
    fd = os.open(runtime_dir() / f"{service_name(engine_name)}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def serve(engine_name: str, engine_options: dict) -> int:
    lock = _hold_lock(engine_name)
    if lock is None:
        return 0                  # another service of ours is already up
    Service(engine_name, engine_options).run()
    return 0


# ---------------------------------------------------------------------------
# The client side


def _spawn(engine_name: str, engine_options: dict) -> None:
    """Start a detached service: a grandchild in its own session."""
    log = runtime_dir() / f"{service_name(engine_name)}.log"
    argv = [sys.executable, "-c", "import sys; from ktrace.service import main; "
            "sys.exit(main(sys.argv[1:]))", engine_name, json.dumps(engine_options)]
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                os.chdir("/")
                null = os.open(os.devnull, os.O_RDWR)
                out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(null, 0)
                os.dup2(out, 1)
                os.dup2(out, 2)
                env = dict(os.environ)
                env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
                os.execve(sys.executable, argv, env)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def call(engine_name: str, message: dict, fds: dict[str, int] | None = None,
         engine_options: dict | None = None, spawn: bool = True) -> tuple[int, str]:
    """Send one request to the service, starting it if needed: (errno, text)."""
    fds = fds or {}
    message = dict(message, fds=list(fds))
    path = str(socket_path(engine_name))
    deadline = time.monotonic() + CONNECT_SECONDS
    spawned_at = None
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        try:
            sock.connect(path)
            send_message(sock, message, list(fds.values()))
            reply, _ = recv_message(sock)
            if reply is not None:
                return int(reply["errno"]), str(reply.get("message", ""))
            # the service was ending as we came: start a new one
        except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError,
                BrokenPipeError):
            if not spawn:
                return errno.ESRCH, "no trace service is running"
        finally:
            sock.close()
        if time.monotonic() > deadline:
            raise ServiceError(f"the {engine_name} trace service did not answer "
                               f"(see {runtime_dir() / (service_name(engine_name) + '.log')})")
        # (re)start one; a service that is just ending still holds the lock
        if spawned_at is None or time.monotonic() - spawned_at > 0.5:
            _spawn(engine_name, engine_options or {})
            spawned_at = time.monotonic()
        time.sleep(0.01)


def running(engine_name: str) -> bool:
    """Is a service of ours for this engine up (without starting one)?"""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        sock.connect(str(socket_path(engine_name, create=False)))
        return True          # the service sees an empty connection and drops it
    except (OSError, ServiceError):
        return False         # none, or a stale socket of a service that died
    finally:
        sock.close()


def main(argv: list[str]) -> int:
    engine_name = argv[0]
    options = json.loads(argv[1]) if len(argv) > 1 else {}
    os.umask(0o077)
    return serve(engine_name, options)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

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
it traces nothing and nobody has talked to it for a moment.  ktrace(1) starts
it as soon as its command line is read (:func:`start`), so that the service's
start (an interpreter, imports, a BPF program's verification) overlaps the
command's own: importing this module is cheap for that reason, and the
service side imports the engine and the facility where it uses them.
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

TYPE_CHECKING = False     # as in ktrace/__init__.py: typing is not imported on the way to start()
if TYPE_CHECKING:
    from typing import Callable

    from .facility import Cred
    from .platform import procfs

IDLE_SECONDS = 2.0        # how long an idle service waits before it ends
START_POLL = 0.01         # seconds between looks at a service another client started
UNANSWERED_MAX = 3        # services that took a request and ended without answering
MAX_MESSAGE = 64 * 1024
ANSWER_WAIT_MAX = 1.0     # seconds a self-tracing requester is given to wait for its answer
ANSWER_WAIT_POLL = 0.0002
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # holds ktrace/
# What a service of an engine does first, before it imports the rest of itself:
# the bpf engine begins loading its program, on a thread, meanwhile.
BEGIN = {"bpf": "from ktrace.engine.bpf import begin_loading; begin_loading(sys.argv[2]); "}


class ServiceError(Exception):
    """The service could not be reached or refused to run (one line)."""


# ---------------------------------------------------------------------------
# Where services live


def runtime_dir(uid: int | None = None, create: bool = True) -> Path:
    """The private directory holding this user's service sockets.

    It must be ours and closed to others; anything else (a symlink, a
    directory someone else made) is never used.  In /tmp, where anybody may
    take the name ``ktrace-UID`` first, a squatted name costs nothing: the
    directory is then one with an unguessable suffix (see :func:`_tmp_dir`).
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
        return _tmp_dir(uid, create)
    if create:
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
    if not _private(path, uid):
        raise ServiceError(f"{path}: not a private directory owned by uid {uid}")
    return path


def _private(path: Path, uid: int) -> bool:
    """A directory (not a symlink to one) of ``uid``'s that nobody else may enter."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o077


def _tmp_dir(uid: int, create: bool) -> Path:
    """``/tmp/ktrace-UID``, or when someone else holds that name, ``/tmp/ktrace-UID-*``.

    Only a directory owned by ``uid`` counts, and nobody else can make one:
    decoys of other users are passed over.  Every client and service of the
    user picks the same one (the first in name order), so they meet.
    """
    tmp = Path("/tmp")
    main = tmp / f"ktrace-{uid}"
    if create and not os.path.lexists(main):
        try:
            main.mkdir(mode=0o700)
        except FileExistsError:
            pass
    if _private(main, uid):
        return main
    spare = _spare_dirs(tmp, uid)
    if spare:
        return spare[0]
    if not create:
        raise FileNotFoundError(errno.ENOENT, "no runtime directory", str(main))
    import tempfile     # here: only this rare case needs it, and importing it costs ~8 ms
    mine = Path(tempfile.mkdtemp(prefix=f"ktrace-{uid}-", dir=tmp))
    first = _spare_dirs(tmp, uid)[0]
    if first != mine:              # another client of ours made one at the same time
        try:
            mine.rmdir()
        except OSError:
            pass
    return first


def _spare_dirs(tmp: Path, uid: int) -> list[Path]:
    prefix = f"ktrace-{uid}-"
    with os.scandir(tmp) as entries:
        names = sorted(e.name for e in entries if e.name.startswith(prefix))
    return [tmp / name for name in names if _private(tmp / name, uid)]


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
    """(message, received descriptors); (None, []) when the peer closed.

    Raises ValueError for a message that is not a JSON object, with the
    descriptors that came with it closed: the receiver owns them only when
    it gets a message.
    (Descriptors beyond the four there is room for are closed by the kernel.)
    """
    fds = array.array("i")
    data, anc, _flags, _addr = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * fds.itemsize),
                                            socket.MSG_CMSG_CLOEXEC)
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    message = None
    if data:
        try:
            message = json.loads(data)
        except ValueError:
            pass
    if isinstance(message, dict):
        return message, list(fds)
    for fd in fds:
        os.close(fd)
    if data:
        raise ValueError("not a JSON object")
    return None, []


def peer_cred(sock: socket.socket) -> Cred:
    from .facility import Cred
    pid, uid, gid = struct.unpack("3i", sock.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return Cred(pid, uid, gid)


# ---------------------------------------------------------------------------
# The service side


def _checked(message: dict, fds: list[int]) -> dict:
    """The fields of a request, every one of the type it must have.

    Raises ValueError for anything else.  The service's own uid (and root)
    are trusted, but a request is still only data: a wrong field must cost
    an EINVAL, never a descriptor or the service.  ``fds`` becomes a dict by
    name ("file", "log"); a file for SET must be what tracefile.create
    returns, one for CLEARFILE a regular file.
    """
    from . import tracefile
    from .facility import KTRFLAG_DESCEND, KTROP_CLEAR, KTROP_CLEARFILE, KTROP_MASK, KTROP_SET

    def integer(key: str, low: int, high: int, optional: bool = False) -> int | None:
        value = message.get(key)
        if value is None and optional:
            return None
        if type(value) is not int or not low <= value < high:
            raise ValueError(f"{key} must be an integer in [{low}, {high})")
        return value

    names = message.get("fds", [])
    if type(names) is not list or len(names) != len(fds) \
            or not all(n in ("file", "log") for n in names) or len(set(names)) != len(names):
        raise ValueError("fds must name each descriptor sent, file and log at most once")
    given = dict(zip(names, fds))
    ops = integer("ops", 0, (KTROP_MASK | KTRFLAG_DESCEND) + 1)
    op = ops & KTROP_MASK
    if op not in (KTROP_SET, KTROP_CLEAR, KTROP_CLEARFILE):
        raise ValueError(f"no operation {op}")
    if op != KTROP_CLEAR:
        fd = given.get("file")
        if fd is None:
            raise ValueError("a trace file is needed")
        if op == KTROP_SET and not tracefile.is_trace_file(fd):
            raise ValueError("the trace file is not a regular file open for appending")
        if op == KTROP_CLEARFILE and not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("the trace file is not a regular file")
    options = message.get("options", {})
    hold_exit = message.get("hold_exit", False)
    if type(options) is not dict or type(hold_exit) is not bool:
        raise ValueError("options must be an object, hold_exit a boolean")
    return {"ops": ops, "facs": integer("facs", 0, 2**32), "pid": integer("pid", -2**31, 2**31),
            "limit": integer("limit", 0, 2**63, optional=True),
            "genio_size": integer("genio_size", 1, 2**31, optional=True),
            "options": options, "hold_exit": hold_exit, "fds": given}


def _own_processes(table: dict[int, procfs.ProcStat]) -> list[int]:
    """This service and every process it started (the ptrace engine's waker).

    They are never traced, as the kernel never traces itself: a service
    stopped by its own tracing would wait for itself for ever.
    """
    from .platform import procfs
    return procfs.subtree(table, os.getpid())


class Service:
    """Accepts requests on a control thread; applies them on the engine's."""

    def __init__(self, engine_name: str, engine_options: dict):
        from . import engine as engines
        from .facility import Facility
        self.engine = engines.load(engine_name, engine_options)
        self.facility = Facility(self.engine, exempt=_own_processes)
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
        self._end(listener)

    def _end(self, listener: socket.socket) -> None:
        # stop taking requests before the engine is told to end
        self.path.unlink(missing_ok=True)
        listener.close()
        self._ending.set()
        self.engine.wake()

    def _take(self, conn: socket.socket) -> bool:
        """Queue the request on ``conn``; False when there was none.

        Whatever arrives, every descriptor that came with it is either
        queued with a well-formed request or closed here.
        """
        conn.settimeout(5)
        try:
            cred = peer_cred(conn)
        except OSError:
            conn.close()
            return False
        if cred.uid not in (os.getuid(), 0):
            # unread, its descriptors go with the connection
            self._reply(conn, errno.EPERM, "not your trace service")
            return False
        try:
            message, fds = recv_message(conn)
        except ValueError as e:
            self._reply(conn, errno.EINVAL, f"malformed request: {e}")
            return False
        except OSError:
            conn.close()
            return False
        if message is None:
            conn.close()
            return False
        try:
            request = _checked(message, fds)
        except (ValueError, OSError) as e:
            for fd in fds:
                os.close(fd)
            self._reply(conn, errno.EINVAL, f"malformed request: {e}")
            return False
        with self._lock:
            self._busy += 1
        self._queue.put((conn, cred, request))
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
                conn, cred, request = self._queue.get_nowait()
            except queue.Empty:
                break
            try:
                err = self._apply(cred, request)
            except Exception as e:   # a bad request must not take the service down
                err = errno.EINVAL
                print(f"ktrace service: {e!r}", file=sys.stderr)
            self._reply(conn, err, os.strerror(err) if err else "")
            with self._lock:
                self._busy -= 1
        return not self._ending.is_set()

    def _apply(self, cred: Cred, request: dict) -> int:
        """One checked request (see :func:`_checked`); its descriptors are
        closed on every path unless the facility keeps the file."""
        from .engine import DEFAULT_GENIO_SIZE
        from .facility import Request, TraceFile
        given = request["fds"]
        file = None
        try:
            if "file" in given:
                file = TraceFile(given["file"], request["limit"], cred, given.get("log"),
                                 request["genio_size"] or DEFAULT_GENIO_SIZE)
                given = {}           # the TraceFile holds both now
            req = Request(request["ops"], request["facs"], request["pid"], file,
                          request["options"])
            if request["hold_exit"] and req.pid == cred.pid:
                _await_answer_wait(req.pid)
            err = self.facility.ktrace(req, cred)
            if err == 0 and request["hold_exit"]:
                self.engine.hold_exit(req.pid)
            return err
        finally:
            for fd in given.values():   # a log without a file: nothing to log for
                os.close(fd)
            if file is not None and file.refs == 0:
                file.close()         # nobody took it: the request's own copy

    def run(self, ready: Callable[[], bool] = lambda: True) -> None:
        """Serve until idle; ``ready`` is called once requests can come, and
        says whether anybody waits for them: if not, the service ends at once
        (a service ktrace(1) started for a command that failed, or that
        traces with another engine: see start)."""
        listener = self._listen()
        if ready():
            control = threading.Thread(target=self._accept_loop, args=(listener,),
                                       name="ktrace-control", daemon=True)
            control.start()
        else:
            self._end(listener)
        try:
            self.engine.run(self._service)
        finally:
            self.facility.stop_all()


def _await_answer_wait(pid: int) -> None:
    """Until ``pid`` blocks in the recvmsg that waits for our answer (briefly).

    ktrace(1) running a command traces itself and execs once answered; tracing
    it from before that wait would record its own last calls (a brk, the
    recvmsg), where ktrace(2) records only its return.  A requester that does
    not get there in ANSWER_WAIT_MAX (or whose state we may not read) is
    traced anyway.
    """
    from .abi import LINUX_X86_64    # here: importing ktrace loads no syscall table
    from .platform import procfs
    recvmsg = b"%d" % LINUX_X86_64.syscall_number("recvmsg")
    task = procfs.task_dir(pid)
    if task is None:                 # /proc cannot show it: trace it anyway
        return
    deadline = time.monotonic() + ANSWER_WAIT_MAX
    while time.monotonic() < deadline:
        try:
            with open(f"{task}/syscall", "rb") as f:
                if f.read().split(b" ", 1)[0] == recvmsg:
                    return
        except OSError:
            return
        time.sleep(ANSWER_WAIT_POLL)


def _lock_path(engine_name: str) -> Path:
    return runtime_dir() / f"{service_name(engine_name)}.lock"


def _hold_lock(engine_name: str) -> int | None:
    """Only one service per user and engine: the lock says who it is."""
    fd = os.open(_lock_path(engine_name), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _one_line(e: BaseException) -> str:
    text = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or repr(e)
    return text.strip().split("\n")[0]


def _tell(status: int | None, state: dict) -> bool:
    """Tell whoever started us how the start went (one JSON line), once;
    False when they are gone (the pipe has no reader)."""
    if status is None:
        return True     # started by hand: anybody may come
    try:
        os.write(status, json.dumps(state).encode() + b"\n")
        told = True
    except OSError:
        told = False
    os.close(status)
    return told


def serve(engine_name: str, engine_options: dict, status: int | None = None) -> int:
    """Run the service; ``status`` (a pipe to the client that started us)
    learns "ready", "running" (another service holds the lock) or the error."""
    if status is not None:
        os.set_inheritable(status, False)       # not for the engine's own children
    lock = _hold_lock(engine_name)
    if lock is None:
        _tell(status, {"running": True})
        return 0
    told = False

    def ready() -> bool:
        nonlocal told
        told = True
        return _tell(status, {"ready": True})

    try:
        Service(engine_name, engine_options).run(ready)
    except Exception as e:
        if not told:            # (after that, nobody waits for our word)
            _tell(status, {"error": _one_line(e)})
        raise                   # the whole story goes to the log
    return 0


# ---------------------------------------------------------------------------
# The client side


def log_path(engine_name: str) -> Path:
    return runtime_dir() / f"{service_name(engine_name)}.log"


# engine name -> the status pipe of the service start() began, until call() reads it
_started: dict[str, int] = {}


def start(engine_name: str, engine_options: dict) -> None:
    """Start the engine's service now, unless one is up, for a request that
    comes later (:func:`call` then waits for its word on how the start went).

    ktrace(1) calls this as soon as it has read its command line, so the
    service starts while the command imports and opens the trace file.  A
    service nobody turns out to need (the command failed, or traces with
    another engine) ends as soon as it is ready, its word unheard.
    """
    try:
        if engine_name not in _started and _lock_free(engine_name):
            _started[engine_name] = _launch(engine_name, engine_options)
    except (OSError, ServiceError):
        pass            # the request meets the same trouble, and says what it is


def service_options(options: dict) -> dict:
    """The options that shape a whole service (fixed when it starts)."""
    return {k: v for k, v in options.items() if k in ("ring_size", "lossless")}


def _launch(engine_name: str, engine_options: dict) -> int:
    """Start a detached service (a grandchild in its own session); the pipe
    it says how its start went on (:func:`_word`)."""
    log = log_path(engine_name)
    status_r, status_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                os.chdir("/")
                # (where ktrace(1) runs with 0-2 closed, the pipe may be one of them)
                status_w = fcntl.fcntl(status_w, fcntl.F_DUPFD, 3)
                null = os.open(os.devnull, os.O_RDWR)
                out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(null, 0)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.set_inheritable(status_w, True)
                code = (f"import sys; {BEGIN.get(engine_name, '')}"
                        "from ktrace.service import main; sys.exit(main(sys.argv[1:]))")
                argv = [sys.executable, "-S", "-c", code, engine_name,
                        json.dumps(engine_options), str(status_w)]
                # -S: no site module (~6 ms of a cold start); the path it made, and
                # the ktrace we are, come in PYTHONPATH (ktrace needs nothing else)
                env = dict(os.environ)
                env["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT, *(p for p in sys.path if p)])
                os.execve(sys.executable, argv, env)
        finally:
            os._exit(0)
    os.close(status_w)
    os.waitpid(pid, 0)          # (the child only forks the service)
    return status_r


def _word(status_r: int) -> dict:
    """A launched service's word on how its start went, waited for with no
    time limit while it lives, as a BPF program's verification takes seconds
    on a slow or emulated machine."""
    with os.fdopen(status_r, "rb") as status:
        line = status.readline()
    try:
        return json.loads(line)
    except ValueError:
        return {}           # it died without a word (killed, or crashed)


def _lock_free(engine_name: str) -> bool:
    """Is no service of ours for this engine alive (its lock free)?"""
    try:
        fd = os.open(_lock_path(engine_name), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


class _Unanswered(Exception):
    """The service took the request and closed without a reply (it ended)."""


def _ask(path: str, message: dict, fds: list[int],
         exec_next: bool = False) -> tuple[int, str] | None:
    """One request to the service at ``path``: (errno, text); None when none listens.

    ``exec_next``: the caller execs next, and an answered request's socket
    is left open for the exec to close (it is close-on-exec), so that a
    trace the request starts has no close of ours before the exec.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    reply = None
    try:
        sock.connect(path)
        send_message(sock, message, fds)
        reply, _ = recv_message(sock)
    except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
        return None
    finally:
        if exec_next and reply is not None:
            sock.detach()
        else:
            sock.close()
    if reply is None:
        raise _Unanswered
    return int(reply["errno"]), str(reply.get("message", ""))


def call(engine_name: str, message: dict, fds: dict[str, int] | None = None,
         engine_options: dict | None = None, spawn: bool = True,
         exec_next: bool = False) -> tuple[int, str]:
    """Send one request to the service, starting it if needed: (errno, text).

    Waits, with no time limit, while a service is alive but not yet (or no
    longer) listening; raises ServiceError with the reason when one cannot
    start, or when services keep ending without answering.  ``exec_next``
    as for :func:`_ask`.
    """
    fds = fds or {}
    message = dict(message, fds=list(fds))
    path = str(socket_path(engine_name))
    unanswered = 0
    while True:
        try:
            reply = _ask(path, message, list(fds.values()), exec_next)
        except _Unanswered:
            reply = None
            unanswered += 1
        if reply is not None:
            return reply
        if not spawn:
            return errno.ESRCH, "no trace service is running"
        if unanswered > UNANSWERED_MAX:
            raise ServiceError(f"the {engine_name} trace service ended without answering "
                               f"(see {log_path(engine_name)})")
        status = _started.pop(engine_name, None)
        if status is None:
            if not _lock_free(engine_name):
                time.sleep(START_POLL)   # one is starting, or ending: wait while it lives
                continue
            status = _launch(engine_name, engine_options or {})
        state = _word(status)
        if "error" in state:
            raise ServiceError(f"the {engine_name} trace service could not start: "
                               f"{state['error']}")
        if not state:
            unanswered += 1


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
    status = int(argv[2]) if len(argv) > 2 else None
    os.umask(0o077)
    return serve(engine_name, options, status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What strace's -y knows of a process: its descriptors and working directory.

Followed through the process's successful calls (open, dup, close, pipe,
chdir, ...), from what the process held when its tracing began: the STRU
fdesc records after its PROCCTOR (record.py's FDESC), where the facility
wrote them (a process traced by request, with the STRU facility).
"""

from __future__ import annotations

import os
import stat
from collections import deque

from ... import record as r
from ...abi import linux_structs as LS
from .bpf import made_by_bpf
from .call import AT_FDCWD, Call
from .cmsg import passed_fds
from .fdio import is_dup
from .fmt import c_int
from .ioctls import kvm
from .pairing import NEW_FDS
from .process import FORKS, made_pidfd
from .structs import dev_numbers

# What -y shows for descriptors that are not files.  The kernel adds an inode
# number to pipe: that the trace does not hold; a socket's is in the STRU
# fdesc the call leaves (linux_plan.NEW_DESCRIPTORS).
SOCKETS = {"socket", "accept", "accept4"}     # calls whose result is a new socket
KINDS = {"eventfd2": "anon_inode:[eventfd]", "epoll_create": "anon_inode:[eventpoll]",
         "epoll_create1": "anon_inode:[eventpoll]", "timerfd_create": "anon_inode:[timerfd]",
         "signalfd4": "anon_inode:[signalfd]", "inotify_init1": "anon_inode:inotify",
         "inotify_init": "anon_inode:inotify",
         "io_uring_setup": "anon_inode:[io_uring]",
         "fsopen": "anon_inode:[fscontext]", "fspick": "anon_inode:[fscontext]"}
# calls that make two descriptors: (argument holding them, kind)
PAIRS = {"pipe": (0, "pipe:"), "pipe2": (0, "pipe:"), "socketpair": (3, "socket:")}
# calls whose new descriptors print inside their own arguments: pipe's [3, 4], clone's
# parent_tid=[3<...>], recvmsg's SCM_RIGHTS (Passing)
MADE_IN_ARGUMENTS = frozenset(PAIRS) | {"clone", "clone3", "recvmsg"}
# calls that open a path: (argument of the directory descriptor or None, of the path)
OPENS = {"open": (None, 0), "creat": (None, 0), "openat": (0, 1), "openat2": (0, 1),
         "open_tree": (0, 1)}
DUPS = {"dup", "dup2", "dup3"}
# calls that remove a name (arguments as OPENS'): a descriptor open on it shows
# ``(deleted)`` after its path from then on, as the kernel's readlink says
UNLINKS = {"unlink": (None, 0), "unlinkat": (0, 1), "rmdir": (None, 0)}
LANDLOCK_CREATE_RULESET_VERSION = 1
PATH_MAX = 4096   # bytes of a path kept: no longer one names a file, a hostile trace may


class Socket(str):
    """A socket's -y text (``socket:[INODE]``; ``socket:`` when the trace
    holds no inode) that also knows its inode, and its domain and protocol
    where the call that made it says (what strace asks the kernel, e.g. to
    decode a netlink socket's messages)."""

    def __new__(cls, ino: int | None, domain: int | None = None, protocol: int | None = None):
        self = super().__new__(cls, "socket:" if ino is None else f"socket:[{ino}]")
        self.ino, self.domain, self.protocol = ino, domain, protocol
        return self


class Device(str):
    """A device's -y text that also knows what -yy adds: ``char 1:3``."""

    def __new__(cls, text: str, mode: int, rdev: int):
        self = super().__new__(cls, text)
        kind = "char" if stat.S_ISCHR(mode) else "block"
        major, minor = dev_numbers(rdev)
        self.details = f"{kind} {major}:{minor}"
        return self


def too_long(path: str) -> bool:
    """Is ``path`` too long for the kernel to give (readlink's ENAMETOOLONG):
    strace then prints no path for the descriptor.  (The first test is cheap: a
    character is 4 bytes at most.)"""
    return len(path) >= PATH_MAX // 4 and len(path.encode("utf-8", "surrogateescape")) >= PATH_MAX


class Deleted(str):
    """The path of an open file whose name was removed."""


class Pidfd(str):
    """A pidfd's -y text that also knows its process, what --decode-fds=pidfd
    shows (strace reads it from the descriptor's fdinfo; the trace has it from
    the call that made the descriptor: pidfd_open's argument, clone's result)."""

    def __new__(cls, pid: int):
        self = super().__new__(cls, "anon_inode:[pidfd]")
        self.pid = pid
        return self


def fdesc_name(d: r.Fdesc) -> str:
    """-y's name of the descriptor a STRU fdesc tells of: its path, or a
    socket's inode as /proc/PID/fd names it (the engines record no path then);
    a device's knows its numbers too (:class:`Device`)."""
    if not d.path and stat.S_ISSOCK(d.mode):
        return Socket(d.ino)
    return _device_or_path(d.path[:PATH_MAX].decode("utf-8", "surrogateescape"), d)


def _device_or_path(path: str, d: r.Fdesc | None) -> str:
    """``path``, as a :class:`Device` when the fdesc ``d`` of it tells of one."""
    if d is not None and (stat.S_ISCHR(d.mode) or stat.S_ISBLK(d.mode)):
        return Device(path, d.mode, d.rdev)
    return path


def made_fdesc(call: Call, fd: int) -> r.Fdesc | None:
    """The STRU fdesc the call left of descriptor ``fd`` it made."""
    for rec in call.records.get(NEW_FDS, ()):
        d = r.parse_fdesc(rec.data)
        if d is not None and d.fd == fd:
            return d
    return None


def opened_name(call: Call, fd: int, path: str) -> str:
    """-y's name of the file ``path`` the call opened as ``fd``: a device's
    knows its numbers from the STRU fdesc the call left (linux_plan's
    NEW_DESCRIPTORS: one for devices only)."""
    return _device_or_path(path, made_fdesc(call, fd))


def socket_name(call: Call, fd: int) -> str:
    """-y's name of the socket ``fd`` the call made; one from socket(2) or
    socketpair(2) also knows its domain and protocol (their arguments 0 and 2)."""
    d = made_fdesc(call, fd)
    ino = d.ino if d is not None and stat.S_ISSOCK(d.mode) else None
    if call.name == "socket" or call.name == "socketpair":
        return Socket(ino, c_int(call.arg(0)), c_int(call.arg(2)))
    return Socket(ino)


def copied_name(call: Call, fd: int, original: str | None) -> str | None:
    """-y's name of pidfd_getfd's copy ``fd`` of another process's descriptor,
    whose name in that process's table is ``original``: the same file (strace
    reads it from /proc/PID/fd); the STRU fdesc the call left tells a socket's
    inode, a device's numbers, and whether the name the view has is still
    the descriptor's (it does not see what an untraced process does)."""
    d = made_fdesc(call, fd)
    if d is not None and stat.S_ISSOCK(d.mode):
        return Socket(d.ino)
    if original is None or d is None:
        return original
    if type(original) is Socket:
        return None               # a socket then, no more: the name is stale
    name = _device_or_path(original, d)
    # a device, or another one, where the name was not: stale too
    return name if getattr(name, "details", None) == getattr(original, "details", None) else None


class Files:
    """A descriptor table (shared by processes made with CLONE_FILES) and a cwd."""

    def __init__(self, fds: dict[int, str] | None = None, cwd: str | None = None):
        self.fds: dict[int, str] = fds if fds is not None else {}
        self.cwd = cwd

    def copy(self, share_fds: bool) -> "Files":
        return Files(self.fds if share_fds else dict(self.fds), self.cwd)

    def name(self, fd: int) -> str | None:
        return self.cwd if fd == AT_FDCWD else self.fds.get(fd)

    def pidfd_process(self, fd: int) -> int | None:
        """The process pidfd ``fd`` refers to, where the trace tells."""
        name = self.fds.get(fd)
        return name.pid if type(name) is Pidfd else None

    def track(self, call: Call) -> None:
        """What a successful call changed."""
        if not call.ok:
            return
        name, ret = call.name, call.retval
        if name in OPENS:
            path = self._named(call, *OPENS[name])
            if path is not None:
                self.fds[ret] = opened_name(call, ret, path)
        elif name in UNLINKS:
            gone = self._named(call, *UNLINKS[name])
            for fd, path in self.fds.items():
                if path == gone and type(path) is str:
                    self.fds[fd] = Deleted(path)
        elif name in SOCKETS:
            self.fds[ret] = socket_name(call, ret)
        elif name == "landlock_create_ruleset":
            if not call.arg(2) & LANDLOCK_CREATE_RULESET_VERSION:    # else a version
                self.fds[ret] = "anon_inode:[landlock-ruleset]"
        elif name in KINDS:
            self.fds[ret] = KINDS[name]
        elif name == "bpf":
            kind = made_by_bpf(call)
            if kind is not None:
                self.fds[ret] = kind
        elif name == "ioctl" and (made := kvm.made_descriptor(call)) is not None:
            self.fds[ret] = made
        elif name == "pidfd_getfd":
            pid = self.pidfd_process(c_int(call.arg(0)))
            target = call.files_of(pid) if pid is not None else None
            original = target.name(c_int(call.arg(1))) if target is not None else None
            self._set(ret, copied_name(call, ret, original))
        elif name == "pidfd_open":
            self.fds[ret] = Pidfd(c_int(call.arg(0)))
        elif name in FORKS:
            pidfd = made_pidfd(call)
            if pidfd is not None:
                self.fds[pidfd] = Pidfd(ret)
        elif name in PAIRS:
            i, kind = PAIRS[name]
            arr = call.array(i, "int")
            for fd in LS.INT_PAIR.unpack_from(arr.data) if arr and len(arr.data) >= 8 else ():
                self.fds[fd] = socket_name(call, fd) if kind == "socket:" else kind
        elif name in DUPS or (name == "fcntl" and is_dup(call)):
            self._set(ret, self.fds.get(c_int(call.arg(0))))
        elif name == "close":
            self.fds.pop(c_int(call.arg(0)), None)
        elif name == "chdir":
            rec = call.find(0, r.NAMEI)
            if rec is not None:
                self.cwd = self._abspath(AT_FDCWD, rec.path)
        elif name == "fchdir":
            self.cwd = self.fds.get(c_int(call.arg(0)))
        elif name == "getcwd":
            data = call.struct(0, "string")
            if data:
                self.cwd = data.split(b"\0", 1)[0][:PATH_MAX].decode("utf-8", "surrogateescape")

    def held(self, data: bytes) -> None:
        """A descriptor, or the cwd, the process held as its tracing began
        (a STRU fdesc's bytes)."""
        d = r.parse_fdesc(data)
        if d is None:
            return
        path = fdesc_name(d)
        if not path:        # an opened device's, whose call is not in the trace
            return
        if d.fd == AT_FDCWD:
            self.cwd = path
        elif d.fd >= 0:
            self.fds[d.fd] = path

    def _set(self, fd: int, path: str | None) -> None:
        if path is None:
            self.fds.pop(fd, None)
        else:
            self.fds[fd] = path

    def _named(self, call: Call, dirfd: int | None, at: int) -> str | None:
        """The absolute path (where its directory is known) argument ``at`` names."""
        rec = call.find(at, r.NAMEI)
        if rec is None:
            return None
        return self._abspath(AT_FDCWD if dirfd is None else c_int(call.arg(dirfd)), rec.path)

    def _abspath(self, dirfd: int, raw: bytes) -> str:
        """The path opened, made absolute when its directory is known."""
        path = raw[:PATH_MAX].decode("utf-8", "surrogateescape")
        base = self.name(dirfd)
        if path.startswith("/") or base is None:
            return path
        return os.path.normpath(os.path.join(base, path))


class Passing:
    """Descriptors in flight through Unix sockets (SCM_RIGHTS).  A sendmsg's
    are queued, by name, for its socket's peer (``peer``: a socket inode's
    peer's, from the trace's sockinfo); a recvmsg there gives the names to the
    descriptors it made, one message's a call.  strace reads their names from
    /proc as it prints recvmsg; a recording knows them from the sender's."""

    MAX_QUEUED = 1024        # messages held in all: a hostile trace may send without end

    def __init__(self, peer):
        self.peer = peer
        self.queued: dict[int, deque] = {}
        self.count = 0

    def track(self, call: Call, files: Files) -> None:
        if not call.ok or call.name not in ("sendmsg", "recvmsg"):
            return
        sending = call.name == "sendmsg"
        fds = passed_fds(call.struct(1, "cmsghdr", exit=not sending))
        ino = getattr(files.name(c_int(call.arg(0))), "ino", None)
        if not fds or ino is None:
            return
        if sending:
            peer = self.peer(ino)
            if peer:
                if self.count >= self.MAX_QUEUED:
                    self.queued.clear()
                    self.count = 0
                self.queued.setdefault(peer, deque()).append([files.name(fd) for fd in fds])
                self.count += 1
        elif self.queued.get(ino):
            self.count -= 1
            for fd, name in zip(fds, self.queued[ino].popleft()):
                files._set(fd, name)

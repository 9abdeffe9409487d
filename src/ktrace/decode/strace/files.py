"""What strace's -y knows of a process: its descriptors and working directory.

Followed through the process's successful calls (open, dup, close, pipe,
chdir, ...).  What was there before tracing began is unknown: the trace holds
neither the first cwd nor the inherited descriptors.
"""

from __future__ import annotations

import os

from ... import record as r
from ...abi import linux_structs as LS
from .call import AT_FDCWD, Call
from .fdio import is_dup
from .fmt import c_int

# What -y shows for descriptors that are not files.  The kernel adds an inode
# number to pipe: and socket: that the trace does not hold.
KINDS = {"socket": "socket:", "accept": "socket:", "accept4": "socket:",
         "eventfd2": "anon_inode:[eventfd]", "epoll_create": "anon_inode:[eventpoll]",
         "epoll_create1": "anon_inode:[eventpoll]", "timerfd_create": "anon_inode:[timerfd]",
         "signalfd4": "anon_inode:[signalfd]", "inotify_init1": "anon_inode:inotify",
         "inotify_init": "anon_inode:inotify",
         "pidfd_open": "anon_inode:[pidfd]", "io_uring_setup": "anon_inode:[io_uring]",
         "fsopen": "anon_inode:[fscontext]", "fspick": "anon_inode:[fscontext]"}
# calls that make two descriptors: (argument holding them, kind)
PAIRS = {"pipe": (0, "pipe:"), "pipe2": (0, "pipe:"), "socketpair": (3, "socket:")}
# calls that open a path: (argument of the directory descriptor or None, of the path)
OPENS = {"open": (None, 0), "creat": (None, 0), "openat": (0, 1), "openat2": (0, 1),
         "open_tree": (0, 1)}
DUPS = {"dup", "dup2", "dup3"}
LANDLOCK_CREATE_RULESET_VERSION = 1
PATH_MAX = 4096   # bytes of a path kept: no longer one names a file, a hostile trace may


class Socket(str):
    """A socket's -y text that also knows the socket's domain and protocol
    (what strace asks the kernel, e.g. to decode a netlink socket's messages)."""

    def __new__(cls, text: str, domain: int, protocol: int):
        self = super().__new__(cls, text)
        self.domain, self.protocol = domain, protocol
        return self


class Files:
    """A descriptor table (shared by processes made with CLONE_FILES) and a cwd."""

    def __init__(self, fds: dict[int, str] | None = None, cwd: str | None = None):
        self.fds: dict[int, str] = fds if fds is not None else {}
        self.cwd = cwd

    def copy(self, share_fds: bool) -> "Files":
        return Files(self.fds if share_fds else dict(self.fds), self.cwd)

    def name(self, fd: int) -> str | None:
        return self.cwd if fd == AT_FDCWD else self.fds.get(fd)

    def track(self, call: Call) -> None:
        """What a successful call changed."""
        if not call.ok:
            return
        name, ret = call.name, call.retval
        if name in OPENS:
            dirfd, at = OPENS[name]
            path = call.find(at, r.NAMEI)
            if path is not None:
                base = AT_FDCWD if dirfd is None else c_int(call.arg(dirfd))
                self.fds[ret] = self._abspath(base, path.path)
        elif name == "socket":
            self.fds[ret] = Socket(KINDS[name], c_int(call.arg(0)), c_int(call.arg(2)))
        elif name == "landlock_create_ruleset":
            if not call.arg(2) & LANDLOCK_CREATE_RULESET_VERSION:    # else a version
                self.fds[ret] = "anon_inode:[landlock-ruleset]"
        elif name in KINDS:
            self.fds[ret] = KINDS[name]
        elif name in PAIRS:
            i, kind = PAIRS[name]
            arr = call.array(i, "int")
            for fd in LS.INT_PAIR.unpack_from(arr.data) if arr and len(arr.data) >= 8 else ():
                self.fds[fd] = kind
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

    def _set(self, fd: int, path: str | None) -> None:
        if path is None:
            self.fds.pop(fd, None)
        else:
            self.fds[fd] = path

    def _abspath(self, dirfd: int, raw: bytes) -> str:
        """The path opened, made absolute when its directory is known."""
        path = raw[:PATH_MAX].decode("utf-8", "surrogateescape")
        base = self.name(dirfd)
        if path.startswith("/") or base is None:
            return path
        return os.path.normpath(os.path.join(base, path))

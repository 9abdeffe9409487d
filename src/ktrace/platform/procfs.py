"""What /proc tells about processes: the facts the facility's rules need.

Every pid here, given or returned, is one of our own pid namespace's: what
the kernel's calls (getpid, waitpid, ptrace) use.  /proc numbers processes as
the namespace it was mounted in does, which may be an ancestor of ours (the
host's /proc seen from ``unshare -Urpf``): there /proc/N is someone else, or
no one.  So a path is made from our pid by the kernel's own translation (a
pidfd's fdinfo tells the pid as this /proc shows it), and a pid read from
/proc is taken at our level of its NS* fields.  A /proc that shows none of
our processes (mounted in another branch) is not read at all: its answers
are those for a process that is gone.
"""

from __future__ import annotations

import os
from typing import NamedTuple

PIDFD_THREAD = os.O_EXCL     # pidfd_open(2): any task, not only a leader (Linux 6.9)


class ProcStat(NamedTuple):
    """The fields of /proc/PID/stat that matter here."""

    comm: str
    state: str
    ppid: int
    pgrp: int
    processor: int


_level: tuple[int, int | None] | None = None    # (our pid, level()) once known


def level() -> int | None:
    """Where our pid namespace is in /proc's NS* fields: 0 when /proc is our
    namespace's, more when it is an ancestor's, None when it shows none of ours."""
    global _level
    me = os.getpid()                     # a forked child asks again
    if _level is None or _level[0] != me:
        fields = status_fields("/proc/self/status", b"Pid", b"NSpid")
        ns = fields.get(b"NSpid") or fields.get(b"Pid", [])   # no NSpid: no pid namespaces
        _level = (me, len(ns) - 1 if ns and int(ns[-1]) == me else None)
    return _level[1]


def pidfd(tid: int, leader: int | None = None) -> int | None:
    """A pidfd of task ``tid``; before Linux 6.9, which opens leaders' only,
    of its process's ``leader`` (itself if not given); None if gone."""
    try:
        return os.pidfd_open(tid, PIDFD_THREAD)
    except OSError:
        try:
            return os.pidfd_open(tid if leader is None else leader)
        except OSError:
            return None


def _shown(pid: int) -> int | None:
    """Our ``pid`` (any task's id) as /proc numbers it, None if it shows no such task."""
    fd = pidfd(pid)
    if fd is None:
        return None
    try:
        fields = status_fields(f"/proc/self/fdinfo/{fd}", b"Pid")
    finally:
        os.close(fd)
    shown = int(fields.get(b"Pid", [b"0"])[0])    # 0: not in /proc's namespace, -1: gone
    return shown if shown > 0 else None


def task_dir(pid: int, tid: int | None = None) -> str | None:
    """The /proc directory of our process ``pid`` (of its thread ``tid``), or None."""
    at = level()
    if at == 0:
        return f"/proc/{pid}" if tid is None else f"/proc/{pid}/task/{tid}"
    shown = _shown(pid) if at is not None and pid > 0 else None
    if shown is None or tid is None:
        return None if shown is None else f"/proc/{shown}"
    shown_tid = _shown(tid)
    return None if shown_tid is None else f"/proc/{shown}/task/{shown_tid}"


def status_fields(path: str, *names: bytes) -> dict[bytes, list[bytes]]:
    """Fields of a /proc status file (or fdinfo): name -> its values; {} if unreadable."""
    wanted = set(names)
    found: dict[bytes, list[bytes]] = {}
    try:
        with open(path, "rb") as f:
            for line in f:
                name, _, rest = line.partition(b":")
                if name in wanted:
                    found[name] = rest.split()
                    if len(found) == len(wanted):
                        break
    except OSError:
        pass
    return found


def _ours(fields: dict[bytes, list[bytes]], name: bytes) -> int:
    """An NS* field's pid in our namespace; 0 when it has none there.

    (Of a task of ours or of a namespace below ours, or of a parent of one:
    for any other task, the namespace at our level may be a sibling's.)"""
    at = level()
    values = fields.get(name, [])
    return int(values[at]) if at is not None and len(values) > at else 0


def _ours_of_shown(shown: int) -> int:
    """Our pid of the process /proc numbers ``shown`` (0: none of ours)."""
    return _ours(status_fields(f"/proc/{shown}/status", b"NSpid"), b"NSpid") if shown > 0 else 0


def own_id(pid: int, tid: int) -> int:
    """Task ``tid`` of our process ``pid`` as its own pid namespace numbers it
    (the last of its NSpid, whatever namespace /proc is of); 0 when /proc does
    not tell."""
    where = task_dir(pid, tid if tid != pid else None)
    ids = status_fields(f"{where}/status", b"NSpid").get(b"NSpid") if where else None
    return int(ids[-1]) if ids else 0


def _read_stat(where: str) -> ProcStat | None:
    try:
        with open(f"{where}/stat", "rb") as f:
            line = f.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: it ends at the last ')'
    lparen, rparen = line.index(b"("), line.rindex(b")")
    rest = line[rparen + 2:].split()
    return ProcStat(line[lparen + 1:rparen].decode("utf-8", "replace"), rest[0].decode(),
                    int(rest[1]), int(rest[2]), int(rest[36]))


def stat(pid: int, tid: int | None = None) -> ProcStat | None:
    where = task_dir(pid, tid)
    st = _read_stat(where) if where is not None else None
    if st is None or level() == 0:
        return st
    return st._replace(ppid=_ours_of_shown(st.ppid),
                       pgrp=_ours(status_fields(f"{where}/status", b"NSpgid"), b"NSpgid"))


def comm(pid: int, tid: int | None = None) -> bytes:
    """The thread's name as the kernel keeps it (at most 15 bytes)."""
    where = task_dir(pid, tid)
    if where is None:
        return b""
    try:
        with open(f"{where}/comm", "rb") as f:
            return f.read().rstrip(b"\n")
    except OSError:
        return b""


def task_ids(tid: int) -> tuple[int, int] | None:
    """(thread group id, parent pid) of a task, None when /proc does not tell."""
    where = task_dir(tid)
    fields = status_fields(f"{where}/status", b"Tgid", b"NStgid", b"PPid") if where else {}
    if b"Tgid" not in fields or b"PPid" not in fields:
        return None
    ppid = int(fields[b"PPid"][0])
    if level() == 0:
        return int(fields[b"Tgid"][0]), ppid
    return _ours(fields, b"NStgid"), _ours_of_shown(ppid)


def is_process(pid: int) -> bool:
    """True for a process id (a thread group leader), False for a tid or nothing."""
    ids = task_ids(pid)
    return ids is not None and ids[0] == pid


def is_exiting(pid: int) -> bool:
    st = stat(pid)
    return st is None or st.state in ("Z", "X")


def threads(pid: int) -> list[int]:
    where = task_dir(pid)
    try:
        shown = os.listdir(f"{where}/task") if where is not None else []
    except OSError:
        return []
    if level() == 0:
        return sorted(int(t) for t in shown)
    ours = (_ours(status_fields(f"{where}/task/{t}/status", b"NSpid"), b"NSpid") for t in shown)
    return sorted(t for t in ours if t)


def process_table() -> dict[int, ProcStat]:
    """Every visible process of our namespace, for walking subtrees and process groups."""
    at = level()
    shown = [int(p) for p in os.listdir("/proc") if p.isdigit()] if at is not None else []
    table, ours_of = {}, {}
    for pid in shown:
        where = f"/proc/{pid}"
        st = _read_stat(where)
        if st is None:
            continue
        if at == 0:
            table[pid] = st
            continue
        ids = status_fields(f"{where}/status", b"NSpid", b"NSpgid")
        ours = _ours(ids, b"NSpid")
        # at our level, but maybe in a sibling namespace: the kernel knows
        if ours and _shown(ours) == pid:
            ours_of[pid] = ours
            table[ours] = st._replace(pgrp=_ours(ids, b"NSpgid"))
    if at:                               # parents by our numbers: 0 outside our namespace
        table = {pid: st._replace(ppid=ours_of.get(st.ppid, 0)) for pid, st in table.items()}
    return table


def subtree(table: dict[int, ProcStat], top: int) -> list[int]:
    """``top`` and all its descendants, parents before children."""
    children: dict[int, list[int]] = {}
    for pid, st in table.items():
        children.setdefault(st.ppid, []).append(pid)
    order, todo = [], [top]
    while todo:
        pid = todo.pop()
        order.append(pid)
        todo.extend(sorted(children.get(pid, ()), reverse=True))
    return order


def group_members(table: dict[int, ProcStat], pgrp: int) -> list[int]:
    return sorted(pid for pid, st in table.items() if st.pgrp == pgrp)


def may_debug(pid: int) -> bool:
    """Could this process ptrace-attach to ``pid``?

    Opening /proc/PID/mem runs the kernel's own PTRACE_MODE_ATTACH check
    with our credentials, so this is exactly the p_candebug() question.
    """
    where = task_dir(pid)
    if where is None:
        return False
    try:
        os.close(os.open(f"{where}/mem", os.O_RDONLY | os.O_CLOEXEC))
        return True
    except OSError:
        return False


def cwd(pid: int) -> str | None:
    where = task_dir(pid)
    if where is None:
        return None
    try:
        return os.readlink(f"{where}/cwd")
    except OSError:
        return None


def open_files(pid: int, limit: int) -> list[tuple[int, int, os.stat_result, bytes]]:
    """The lowest ``limit`` descriptors ``pid`` holds now, each as (fd, open
    flags, the file's stat, its path as /proc/PID/fd names it); those that
    close while they are read are left out; [] when /proc does not show it."""
    where = task_dir(pid)
    if where is None:
        return []
    try:
        fds = sorted(int(name) for name in os.listdir(f"{where}/fd") if name.isdigit())
    except OSError:
        return []
    found = []
    for fd in fds[:limit]:
        try:
            path = os.readlink(f"{where}/fd/{fd}".encode())
            st = os.stat(f"{where}/fd/{fd}")
            flags = status_fields(f"{where}/fdinfo/{fd}", b"flags").get(b"flags")
        except OSError:
            continue
        if flags:
            found.append((fd, int(flags[0], 8), st, path))
    return found


OPTMEM_MAX = "/proc/sys/net/core/optmem_max"
# strace's get_optmem_max where the file cannot be read: the kernel's old default
OPTMEM_MAX_DEFAULT = 8 * (2 * 1024 + 512)
_optmem_max: int | None = None


def optmem_max() -> int:
    """The most ancillary data (msg_control) a socket call takes, as strace
    reads it (once, rounded up to 8 bytes): what the engines record of a
    msghdr's control data at most (linux_plan's doc)."""
    global _optmem_max
    if _optmem_max is None:
        try:
            with open(OPTMEM_MAX) as f:
                value = int(f.read())
        except (OSError, ValueError):
            value = 0
        _optmem_max = (value + 7) & ~7 if value > 0 else OPTMEM_MAX_DEFAULT
    return _optmem_max

"""What /proc tells about processes: the facts the facility's rules need."""

from __future__ import annotations

import os
from typing import NamedTuple


class ProcStat(NamedTuple):
    """The fields of /proc/PID/stat that matter here."""

    comm: str
    state: str
    ppid: int
    pgrp: int
    processor: int


def stat(pid: int, tid: int | None = None) -> ProcStat | None:
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        with open(path, "rb") as f:
            line = f.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: it ends at the last ')'
    lparen, rparen = line.index(b"("), line.rindex(b")")
    rest = line[rparen + 2:].split()
    return ProcStat(line[lparen + 1:rparen].decode("utf-8", "replace"), rest[0].decode(),
                    int(rest[1]), int(rest[2]), int(rest[36]))


def comm(pid: int, tid: int | None = None) -> bytes:
    """The thread's name as the kernel keeps it (at most 15 bytes)."""
    path = f"/proc/{pid}/comm" if tid is None else f"/proc/{pid}/task/{tid}/comm"
    try:
        with open(path, "rb") as f:
            return f.read().rstrip(b"\n")
    except OSError:
        return b""


def is_process(pid: int) -> bool:
    """True for a process id (a thread group leader), False for a tid or nothing."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1]) == pid
    except OSError:
        pass
    return False


def is_exiting(pid: int) -> bool:
    st = stat(pid)
    return st is None or st.state in ("Z", "X")


def threads(pid: int) -> list[int]:
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return []


def pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def process_table() -> dict[int, ProcStat]:
    """Every visible process, for walking subtrees and process groups."""
    table = {}
    for pid in pids():
        st = stat(pid)
        if st is not None:
            table[pid] = st
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
    try:
        os.close(os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC))
        return True
    except OSError:
        return False


def cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None

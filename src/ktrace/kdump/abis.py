"""Which ABI each traced process has, from its PROCCTOR/PROCDTOR records.

kdump keeps the ``sv_flags`` of every PROCCTOR per pid, forgets them at
PROCDTOR, and picks the syscall and errno tables from them.  A pid with no
PROCCTOR seen (old files have none) gets FreeBSD's native tables, the ones
matching the file's layout, and ``U00`` in the -A column, as FreeBSD's
kdump does.
"""

from __future__ import annotations

from ktrace import abi as _abi
from ktrace import record as r


def label(sv_flags: int) -> str:
    """kdump -A's column: L/F/U for Linux/FreeBSD/other, then 64/32/00."""
    kind = sv_flags & r.SV_ABI_MASK
    letter = "L" if kind == r.SV_ABI_LINUX else "F" if kind == r.SV_ABI_FREEBSD else "U"
    bits = "64" if sv_flags & r.SV_LP64 else "32" if sv_flags & r.SV_ILP32 else "00"
    return letter + bits


class ProcessAbi:
    """The ABI of a process: its tables (None: unknown) and how to show it.

    One object per distinct ``sv_flags`` in a tracker: formatters may key
    caches on it.  ``names`` is the text formatter's cache of syscall names
    as printed.
    """

    __slots__ = ("sv_flags", "abi", "label", "linux", "names")

    def __init__(self, sv_flags: int, abi):
        self.sv_flags = sv_flags
        self.abi = abi
        self.label = label(sv_flags)
        self.linux = sv_flags & r.SV_ABI_MASK == r.SV_ABI_LINUX
        self.names: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"ProcessAbi({self.sv_flags:#x}, {self.label})"


class AbiTracker:
    """pid -> ProcessAbi, fed with the PROCCTOR and PROCDTOR records."""

    def __init__(self, layout: r.Layout | None):
        native = _abi.FREEBSD_I386 if layout is not None and layout.word == 4 \
            else _abi.FREEBSD_AMD64
        self.default = ProcessAbi(0, native)
        self._by_flags: dict[int, ProcessAbi] = {}
        self.by_pid: dict[int, ProcessAbi] = {}   # the processes seen created

    def created(self, pid: int, sv_flags: int) -> None:
        proc = self._by_flags.get(sv_flags)
        if proc is None:
            proc = self._by_flags[sv_flags] = ProcessAbi(sv_flags, _abi.abi_for_svflags(sv_flags))
        self.by_pid[pid] = proc

    def destroyed(self, pid: int) -> None:
        self.by_pid.pop(pid, None)

    def get(self, pid: int) -> ProcessAbi:
        return self.by_pid.get(pid, self.default)

    def feed(self, rec) -> bool:
        """Track ``rec`` if it is a PROCCTOR/PROCDTOR; True when it was one."""
        kind = type(rec)
        if kind is r.ProcCtor:
            self.created(rec.header.pid, rec.sv_flags)
        elif kind is r.ProcDtor:
            self.destroyed(rec.header.pid)
        else:
            return rec.header.type in (r.PROCCTOR, r.PROCDTOR)
        return True

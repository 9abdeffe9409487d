"""strace's selection options, with strace's meaning, for every kdump view.

    -e trace=SET    -e status=SET   -e signal=SET   -e read=FDS   -e write=FDS
    -e quiet=SET    -z  -Z          -P PATH         -q  -qq

A SET is strace's: comma-separated items, each leading ``!`` inverting what
follows, ``all`` and ``none``.  For ``trace``: names, numbers, ``/regex``
(POSIX extended, searched in the name) and the classes (``%file`` ...: strace's
own table, ``ktrace.decode.strace.syscall_classes``); an item with a leading
``?`` may select nothing, any other must name something (strace's rule).

What strace decides when a call starts (trace=, -P) also narrows ``-c``'s
counts; status= only decides whether a finished line is printed.  -P selects
a call that names the path, or a descriptor open on it as strace follows
descriptors (:class:`Descriptors`, from every call, shown or not).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ktrace import record as r
from ktrace.abi import abi_for_svflags
from ktrace.decode.strace import Call, StraceOptions, split_args
from ktrace.decode.strace.files import PAIRS, Files
from ktrace.decode.strace.mount import fsconfig_traced
from ktrace.decode.strace.pairing import pair
from ktrace.decode.strace.process import FORKS, shares_files
from ktrace.decode.strace.syscall_classes import ALIASES, CLASSES

STATUSES = ("successful", "failed", "unfinished", "unavailable", "detached")
QUIET = ("attach", "exit", "path-resolution", "personality", "thread-execve")
QUIET_ALIASES = {"exits": "exit", "path-resolution": "path-resolution",
                 "superseded": "thread-execve"}
# strace's qualifier names and their aliases (strace.c's qual_options)
QUALIFIERS = {"trace": "trace", "t": "trace", "signal": "signal", "signals": "signal",
              "s": "signal", "status": "status", "read": "read", "reads": "read",
              "r": "read", "write": "write", "writes": "write", "w": "write",
              "quiet": "quiet", "silent": "quiet", "silence": "quiet", "q": "quiet"}


class SelectError(ValueError):
    """A selection strace would refuse: the message is strace's."""


@dataclass(frozen=True)
class NameSet:
    """A set of strace's: what its items select, or (inverted) all but that."""
    names: frozenset = frozenset()
    patterns: tuple = ()
    numbers: frozenset = frozenset()
    inverted: bool = False

    def __contains__(self, item: tuple[str, int]) -> bool:
        name, number = item
        hit = (name in self.names or number in self.numbers
               or any(p.search(name) for p in self.patterns))
        return hit != self.inverted


ALL = NameSet(inverted=True)


def _items(text: str, what: str = "value") -> tuple[list[str], bool]:
    """strace's SET syntax: (the items, inverted?); ``all``/``none`` as no items.
    Empty items are skipped (strtok's), a SET of none is ``invalid WHAT 'SET'``."""
    whole, inverted = text, False
    while text.startswith("!"):
        inverted, text = not inverted, text[1:]
    if text in ("all", "none"):
        return [], inverted == (text == "none")
    items = [item for item in text.split(",") if item]
    if not items:
        raise SelectError(f"invalid {what} '{whole}'")
    return items, inverted


@lru_cache(maxsize=None)
def known_syscalls() -> frozenset[str]:
    """Every Linux syscall name kdump can show (x86_64 and i386 tables)."""
    from ktrace import abi
    names = set().union(*CLASSES.values())
    for table in (abi.LINUX_X86_64, abi.LINUX_I386):
        names.update(info.name for info in table.syscalls.values())
    return frozenset(names)


def syscall_set(text: str) -> NameSet:
    """``-e trace=``'s SET (basic_filters.c's qualify_syscall_tokens)."""
    items, inverted = _items(text, "system call")
    names, patterns, numbers = set(), [], set()
    for item in items:
        optional = item.startswith("?")
        token = item.lstrip("?")
        if token.isdigit():
            numbers.add(int(token))
        elif token.startswith("/"):
            try:
                pattern = re.compile(token[1:])
            except re.error as e:
                raise SelectError(f"regcomp: {token[1:]}: {e}") from None
            if not any(pattern.search(n) for n in known_syscalls()) and not optional:
                raise SelectError(f"invalid system call '{item}'")
            patterns.append(pattern)
        elif _class(token) is not None:
            names |= CLASSES[_class(token)]
        elif token in known_syscalls():
            names.add(token)
        elif not optional:
            raise SelectError(f"invalid system call '{item}'")
    return NameSet(frozenset(names), tuple(patterns), frozenset(numbers), inverted)


def _class(token: str) -> str | None:
    """The class a token names (case does not matter to strace), or None."""
    low = token.lower()
    if low in CLASSES:
        return low
    return ALIASES.get(low)


def word_set(text: str, words: tuple[str, ...], what: str,
             aliases: dict[str, str] | None = None) -> frozenset[str]:
    """status= and quiet=: a SET of fixed words, as the selected words."""
    items, inverted = _items(text, what)
    chosen = set()
    for item in items:
        word = (aliases or {}).get(item, item)
        if word not in words:
            raise SelectError(f"invalid {what} '{item}'")
        chosen.add(word)
    return frozenset(set(words) - chosen if inverted else chosen)


SIGNAL_NUMBER_MAX = 255      # strace's sigstr_to_uint takes numbers up to it


def signal_set(text: str) -> NameSet:
    """``-e signal=``: names with or without SIG, or numbers."""
    from ktrace.decode.strace.fmt import signame
    items, inverted = _items(text, "signal")
    names = set()
    for item in items:
        if item.isdigit():
            if int(item) > SIGNAL_NUMBER_MAX:
                raise SelectError(f"invalid signal '{item}'")
            names.add(signame(int(item)))
            continue
        name = item.upper() if item.upper().startswith("SIG") else "SIG" + item.upper()
        if not any(signame(n) == name for n in range(1, 65)):
            raise SelectError(f"invalid signal '{item}'")
        names.add(name)
    return NameSet(frozenset(names), inverted=inverted)


def fd_set(text: str) -> NameSet:
    """``-e read=`` and ``-e write=``: descriptor numbers."""
    items, inverted = _items(text, "descriptor")
    for item in items:       # string_to_uint: 0 to INT_MAX
        if not item.isdigit() or int(item) > 0x7FFFFFFF:
            raise SelectError(f"invalid descriptor '{item}'")
    return NameSet(numbers=frozenset(int(i) for i in items), inverted=inverted)


NONE = NameSet()
PLAIN = StraceOptions()      # -P reads the arguments as strace prints them by default


@dataclass
class Selection:
    """What the options select; every view asks it the same questions."""
    trace: NameSet = ALL
    status: frozenset = frozenset(STATUSES)
    signals: NameSet = ALL
    reads: NameSet = NONE
    writes: NameSet = NONE
    quiet: frozenset = frozenset()
    quiet_chosen: bool = False     # by -q or -e quiet= (else strace's -o implies a -q)
    paths: list[str] = field(default_factory=list)

    def expression(self, text: str) -> None:
        """One ``-e [QUALIFIER=]SET``."""
        qualifier, _, value = text.partition("=") if "=" in text else ("trace", "", text)
        kind = QUALIFIERS.get(qualifier)
        if kind is None:
            raise SelectError(f"invalid filter '{qualifier}'")
        if kind == "trace":
            self.trace = syscall_set(value)
        elif kind == "status":
            self.status = word_set(value, STATUSES, "status")
        elif kind == "signal":
            self.signals = signal_set(value)
        elif kind == "read":
            self.reads = fd_set(value)
        elif kind == "write":
            self.writes = fd_set(value)
        else:
            self.quiet = word_set(value, QUIET, "quiet", QUIET_ALIASES)
            self.quiet_chosen = True

    def path(self, path: str) -> None:
        """-P: the path as given, and where it leads (strace's storepath)."""
        self.paths.append(path)
        real = os.path.realpath(path)
        if real != path:
            self.paths.append(real)

    def quieter(self) -> None:
        """One -q: attach and personality messages; a second (-qq): exit lines
        too; a third (-qqq): all of them."""
        if "exit" in self.quiet:
            more = set(QUIET)
        else:
            more = {"exit"} if "attach" in self.quiet else {"attach", "personality"}
        self.quiet = self.quiet | more
        self.quiet_chosen = True

    @property
    def by_status(self) -> bool:
        return self.status != frozenset(STATUSES)

    @property
    def narrows(self) -> bool:
        """Does anything but the defaults select?"""
        return (self.trace is not ALL or self.by_status or self.signals is not ALL
                or bool(self.paths))

    def call(self, name: str, number: int) -> bool:
        return (name, number) in self.trace

    def finished(self, returned: bool, failed: bool) -> bool:
        """status=: is a call that ended so printed?"""
        word = "unfinished" if not returned else ("failed" if failed else "successful")
        return word in self.status

    def signal(self, name: str) -> bool:
        return (name, -1) in self.signals

    def names_path(self, paths) -> bool:
        """-P: does any of ``paths`` (the call's, its descriptors') match?"""
        return any(p in self.paths for p in paths if p)

    def dumps(self, fd: int, writing: bool) -> bool:
        return ("", fd) in (self.writes if writing else self.reads)


# What calls waiting for their RET may hold back in ``narrow`` (status= and -P
# decide at the RET): per call, and over all; beyond, a call is let through
# undecided, so that memory has a bound whatever the file holds.
MAX_HELD_RECORDS = 64
MAX_HELD_BYTES = 16 << 20
MAX_HELD_TOTAL = 64 << 20
# the records that belong to the call in progress on their thread
CALL_PARTS = frozenset({r.NAMEI, r.GENIO, r.STRUCT, r.STRUCT_ARRAY, r.SYSRET, r.ARGS, r.ENVS})


def _name(abi, code: int) -> str:
    name = abi.syscall_name(code) if abi is not None else None
    return name or f"syscall_{code:#x}"


def _signal_name(abi, signo: int) -> str:
    from ktrace.decode.strace.fmt import signame
    return (abi.signal_name(signo) if abi is not None else None) or signame(signo)


class Descriptors:
    """-P's descriptors: each process's table and cwd as strace follows them
    (:class:`~ktrace.decode.strace.files.Files`), a child's taken from the fork
    that made it; ``track`` follows what a finished call changed."""

    def __init__(self):
        self.files: dict[int, Files] = {}

    def of(self, pid: int) -> Files:
        files = self.files.get(pid)
        if files is None:
            files = self.files[pid] = Files()
        return files

    def created(self, pid: int, fork: Call | None, parent: int) -> None:
        """A new process: made by ``fork`` (in progress in ``parent``), if any."""
        if pid not in self.files and fork is not None:
            self.files[pid] = self.of(parent).copy(shares_files(fork))

    def destroyed(self, pid: int) -> None:
        self.files.pop(pid, None)

    def track(self, pid: int, call: Call) -> None:
        """What a finished call changed: descriptors, the cwd, a child's table."""
        files = self.of(pid)
        files.track(call)
        if call.name in FORKS and call.ok and call.retval > 0:
            self.created(call.retval, call, pid)


# calls strace's -P matches by a rule of their own (pathtrace.c's cases): the
# (paths, descriptors) it looks at
OWN_PATH_RULES = {"fsconfig": fsconfig_traced}


def named_paths(call: Call, info, files: Files) -> list[str]:
    """What -P matches of a paired ``call`` (``info``: its SyscallInfo) in a
    process with ``files``: its NAMI records' paths and the files of the
    descriptors strace prints in its arguments (as -y would show them), or
    those of the call's own rule."""
    own = OWN_PATH_RULES.get(call.name)
    if own is not None:
        paths, fds = own(call)
        return [p.decode("utf-8", "surrogateescape") for p in paths] + [files.name(fd)
                                                                        for fd in fds]
    named = [rec.path.decode("utf-8", "surrogateescape")
             for recs in call.records.values() for rec in recs if rec[0].type == r.NAMEI]
    fds: set[int] = set()
    shown = call.fd_text

    def noting(fd: int) -> str:
        fds.add(fd)
        return shown(fd)
    call.fd_text = noting
    try:
        split_args(call, info)
    finally:
        call.fd_text = shown
    return named + [files.name(fd) for fd in fds]


def call_of(abi, rec, records: list) -> tuple[Call, object]:
    """A CALL record and the records after it (to its RET) as strace's Call,
    with the ABI's SyscallInfo (None when unknown).  Records whose payload
    does not fit their type are left out (the FreeBSD view lets them through)."""
    info = abi.syscall(rec.code) if abi is not None else None
    call = Call(_name(abi, rec.code), rec.code, rec.args, PLAIN)
    records = [x for x in records if type(x) is not r.Unknown]
    pair(call, records)
    if records and type(records[-1]) is r.Sysret:
        call.retval, call.error = records[-1].retval, records[-1].error
    return call, info


class _Held:
    __slots__ = ("records", "size", "shown")

    def __init__(self, rec, shown: bool):
        self.records, self.size, self.shown = [rec], 0, shown


def narrow(records, sel: Selection, statuses: bool = True):
    """The records of the calls and signals ``sel`` selects (the text, JSON and
    summary views).  A call's records go or stay with its CALL; status= and -P
    (the paths the call names, its descriptors' too) are decided at its RET, so
    its records wait for it.  ``statuses`` False: status= does not narrow (strace -c).
    Nothing to narrow: ``records`` themselves (a reader stays one, for the
    text view's fast path)."""
    if not sel.narrows:
        return records
    return _Narrowing(sel, statuses).run(records)


class _Narrowing:
    def __init__(self, sel: Selection, statuses: bool):
        self.sel = sel
        self.by_status = statuses and sel.by_status
        self.waits = self.by_status or bool(sel.paths)
        # -P: every call is held to its RET, shown or not, for what it does to descriptors
        self.descriptors = Descriptors() if sel.paths else None
        self.abis: dict = {}
        self.dropped: set = set()       # tids inside a call that is not shown
        self.held: dict = {}            # tid -> _Held: a call waiting for its RET
        self.total = 0                  # bytes held over all calls

    def run(self, records):
        for rec in records:
            h = rec[0]
            t, tid = h.type, (h.tid if h.tid > 0 else h.pid)
            if t == r.PROCCTOR and hasattr(rec, "sv_flags"):   # the text view passes bad ones
                self.abis[h.pid] = abi_for_svflags(rec.sv_flags)
                if self.descriptors is not None:
                    self._created(h.pid)
            elif t == r.PROCDTOR:
                for other in [k for k, c in self.held.items() if c.records[0][0].pid == h.pid]:
                    yield from self._end(other, returned=False, failed=False)
                if self.descriptors is not None:
                    self.descriptors.destroyed(h.pid)
            elif (type(rec) is r.Struct and rec.name == r.FDESC_NAME and tid not in self.held
                    and self.descriptors is not None):     # held as tracing began
                self.descriptors.of(h.pid).held(rec.data)
            if t == r.SYSCALL and hasattr(rec, "code"):
                yield from self._call(tid, rec)
            elif tid in self.dropped and t in CALL_PARTS:
                if t == r.SYSRET:
                    self.dropped.discard(tid)
            elif tid in self.held and t != r.PSIG:
                yield from self._hold(tid, rec, t == r.SYSRET)
            elif t != r.PSIG or not hasattr(rec, "signo") or \
                    self.sel.signal(_signal_name(self.abis.get(h.pid), rec.signo)):
                yield rec
        for tid in list(self.held):
            yield from self._end(tid, returned=False, failed=False)

    def _call(self, tid: int, rec):
        self.dropped.discard(tid)
        yield from self._release(tid)       # a CALL with no RET before it: let it go
        shown = self.sel.call(_name(self.abis.get(rec[0].pid), rec.code), rec.code)
        if self.descriptors is not None:
            self.held[tid] = _Held(rec, shown)
        elif not shown:
            self.dropped.add(tid)
        elif self.waits:
            self.held[tid] = _Held(rec, shown)
        else:
            yield rec

    def _created(self, pid: int):
        """-P: a new process has the descriptors of the fork in progress that
        made it (the latest: nothing in the trace names a parent)."""
        forks = [c.records for c in self.held.values()
                 if _name(self.abis.get(c.records[0][0].pid), c.records[0].code) in FORKS]
        if forks:
            recs = max(forks, key=lambda recs: (recs[0][0].sec, recs[0][0].nsec))
            parent = recs[0][0].pid
            fork, _ = call_of(self.abis.get(parent), recs[0], recs[1:])
            self.descriptors.created(pid, fork, parent)

    def _hold(self, tid: int, rec, is_ret: bool):
        c = self.held[tid]
        c.records.append(rec)
        tail = rec[-1]
        size = len(tail) if isinstance(tail, (bytes, bytearray)) else 0
        c.size += size
        self.total += size
        if is_ret:
            yield from self._end(tid, returned=True, failed=getattr(rec, "error", 0) != 0)
        elif len(c.records) > MAX_HELD_RECORDS or c.size > MAX_HELD_BYTES:
            yield from self._release(tid)
        while self.total > MAX_HELD_TOTAL:         # the oldest call goes first
            yield from self._release(next(iter(self.held)))

    def _release(self, tid: int):
        """Let ``tid``'s held call through undecided."""
        c = self.held.pop(tid, None)
        if c is not None:
            self.total -= c.size
            if c.shown:
                yield from c.records

    def _end(self, tid: int, returned: bool, failed: bool):
        c = self.held.pop(tid)
        self.total -= c.size
        if self._decide(c) and (not self.by_status or self.sel.finished(returned, failed)):
            yield from c.records

    def _decide(self, c: _Held) -> bool:
        """-P (if given) for a shown call, once it ended; what it changed is tracked
        after: the file close(3) names is the one 3 was open on (as strace's view)."""
        if self.descriptors is None:
            return c.shown
        pid = c.records[0][0].pid
        call, info = call_of(self.abis.get(pid), c.records[0], c.records[1:])
        early = call.name in PAIRS        # its new descriptors are named in its arguments
        if early:
            self.descriptors.track(pid, call)
        shown = c.shown and self.sel.names_path(named_paths(call, info, self.descriptors.of(pid)))
        if not early:
            self.descriptors.track(pid, call)
        return shown

"""What every strace differential shares: running strace(1), reading its
``-f -o`` log, pairing the processes of two runs.

``parse_log`` turns a log (strace's, or ``kdump --strace --follow -o``'s) into
per-pid :class:`Line` lists, unfinished and resumed halves joined, -e read=/
write= dumps kept with their call.  A line keeps strace's text; ``args``,
``ret``, ``errno`` and ``string_arg`` read it back where a comparison needs
values (with ``-xx`` every string decodes to exact bytes).

``pair_processes`` pairs the processes of two runs of one program: from the
roots down, the children each created in order of creation; what the tree
does not reach (a filter hid the clone), by likeness.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

STRACE = shutil.which("strace")
COLUMN = 40                  # strace's -a: where " = " goes
FORKS = {"clone", "clone3", "fork", "vfork"}


def run_strace(argv: Sequence[str], log: str | Path, options: Sequence[str] = (), *,
               prefix: Sequence[str] = (), **run) -> subprocess.CompletedProcess:
    """``strace -f OPTIONS -o LOG -- ARGV``; ``prefix`` runs strace under a wrapper
    (``setarch -R``: no address randomisation for strace and so for the program);
    ``run`` goes to subprocess.run (cwd, env, the standard files, timeout)."""
    if STRACE is None:
        raise FileNotFoundError("strace is not installed")
    return subprocess.run([*prefix, STRACE, "-f", *options, "-o", str(log), "--", *argv],
                          check=False, **run)


# --- reading a log ----------------------------------------------------------------

_PREFIX = re.compile(r"^(\d+) +")
_UNFINISHED = " <unfinished ...>"
_RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>")
_NAME = re.compile(r"^([a-z0-9_]+)\(")
# lines a call's -e read=/write= dump is made of (util.c's dumpstr, dumpiov_upto and
# mmsghdr.c's dumpiov_in_mmsghdr), after the call's line and without a pid
_DUMP = (" | ", " * ", " = ")
_BRACKETS = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
_RESULT = re.compile(r"^(0x[0-9a-f]+|-?\d+|\?)(?: ([A-Z][A-Z0-9_]*)\b)?")
_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "v": b"\v", "f": b"\f", '"': b'"', "\\": b"\\"}


def _unquoted(text: str, at: int = 0):
    """(index, character) of each character of ``text`` from ``at`` outside strace's
    quoted strings (the quotes themselves included)."""
    i, quoted = at, False
    while i < len(text):
        c = text[i]
        if not quoted:
            quoted = c == '"'
            yield i, c
        elif c == "\\":
            i += 1
        elif c == '"':
            quoted = False
        i += 1


def args_end(text: str, at: int) -> int:
    """Index of the ``)`` closing a call's arguments that start at ``at``; -1: none."""
    depth = 1
    for i, c in _unquoted(text, at):
        depth += _BRACKETS.get(c, 0)
        if depth == 0:
            return i
    return -1


def split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of strace's argument text."""
    out, start, depth = [], 0, 0
    for i, c in _unquoted(text):
        if c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        else:
            depth += _BRACKETS.get(c, 0)
    last = text[start:].strip()
    if last or out:
        out.append(last)
    return out


def decode_string(arg: str) -> bytes | None:
    """The bytes of a quoted strace string (``"\\x61..."``, maybe followed by ``...``)."""
    arg = arg.strip()
    if not arg.startswith('"'):
        return None
    out, i = bytearray(), 1
    while i < len(arg):
        c = arg[i]
        if c == '"':
            return bytes(out)
        if c == "\\":
            nxt = arg[i + 1]
            if nxt == "x":
                out.append(int(arg[i + 2:i + 4], 16))
                i += 4
                continue
            if nxt.isdigit():
                octal = re.match(r"[0-7]{1,3}", arg[i + 1:]).group(0)
                out.append(int(octal, 8))
                i += 1 + len(octal)
                continue
            out += _ESCAPES.get(nxt, nxt.encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


@dataclass
class Line:
    """One strace line, unfinished and resumed halves joined; its dump lines, if
    any, follow in ``text`` after a newline each."""
    pid: int
    name: str                  # syscall name, "---" for a signal, "+++" for an exit
    text: str                  # without the pid prefix and alignment padding
    result: str | None = None  # what follows "= " (None: no result printed)
    bad_padding: bool = False  # the line did not pad to the column as strace does

    @property
    def args(self) -> list[str]:
        """The top-level argument texts of a call."""
        call = self.text.split("\n", 1)[0].removesuffix(_UNFINISHED)
        start = len(self.name) + 1
        end = args_end(call, start)
        return split_args(call[start:end if end >= 0 else len(call)])

    @property
    def ret(self) -> int | None:
        """The result as a number; None for ``= ?`` and a call that never returned."""
        m = _RESULT.match(self.result or "")
        return int(m.group(1), 0) if m and m.group(1) != "?" else None

    @property
    def errno(self) -> str | None:
        """``ENOENT``, ``ERESTARTSYS``, ... or None."""
        m = _RESULT.match(self.result or "")
        return m.group(2) if m else None

    @property
    def dump(self) -> list[str]:
        """The -e read=/write= dump lines that followed the call."""
        return self.text.split("\n")[1:]

    def string_arg(self, i: int) -> bytes | None:
        args = self.args
        return decode_string(args[i]) if i < len(args) else None


def _call_line(pid: int, name: str, body: str, prefix_len: int, joined: bool) -> Line:
    """``body`` is ``name(args) <pad>= result``; padding checked unless joined."""
    end = args_end(body, len(name) + 1)
    if end < 0:
        return Line(pid, name, body)
    head, rest = body[:end + 1], body[end + 1:]
    m = re.match(r"^ += (.*)$", rest)
    if m is None:
        return Line(pid, name, body)
    pad = len(rest) - len(rest.lstrip(" "))
    want = max(1, COLUMN - prefix_len - len(head))
    return Line(pid, name, f"{head} = {m.group(1)}", m.group(1),
                bad_padding=not joined and pad != want)


def parse_log(text: str, pid: int | None = None) -> dict[int, list[Line]]:
    """Per-pid lines of an ``strace -f -o`` style log, in order; or, given the
    ``pid`` whose it is, of an ``strace -ff -o`` file (lines without a pid)."""
    out: dict[int, list[Line]] = {}
    pending: dict[int, tuple[int, str]] = {}   # pid -> (index of its line, head)
    last: Line | None = None
    for raw in text.splitlines():
        if raw.startswith(_DUMP):
            if last is not None:
                last.text += "\n" + raw
            continue
        if pid is None:
            m = _PREFIX.match(raw)
            if m is None:
                continue
            line_pid, body, plen = int(m.group(1)), raw[m.end():], m.end()
        else:
            line_pid, body, plen = pid, raw, 0
        lines = out.setdefault(line_pid, [])
        if body.startswith(("---", "+++")):
            last = Line(line_pid, body[:3], body)
            lines.append(last)
            continue
        rm = _RESUMED.match(body)
        if rm is not None:
            name = rm.group(1)
            index, head = pending.pop(line_pid, (None, f"{name}("))
            last = _call_line(line_pid, name, head + body[rm.end():], plen, True)
            if index is None:
                lines.append(last)
            else:
                lines[index] = last
            continue
        nm = _NAME.match(body)
        if nm is None:
            lines.append(Line(line_pid, "?", body))
            continue
        if body.endswith(_UNFINISHED):
            head = body[:-len(_UNFINISHED)]
            pending[line_pid] = (len(lines), head)
            lines.append(Line(line_pid, nm.group(1), body))
            continue
        last = _call_line(line_pid, nm.group(1), body, plen, False)
        lines.append(last)
    return out


def name_of(text: str) -> str:
    """The syscall of a line's text; ``---`` or ``+++`` for a signal or an exit."""
    m = _NAME.match(text)
    return m.group(1) if m else text[:3]


def children(lines: list[Line]) -> list[int]:
    """The pids this process created, in order of creation."""
    return [ln.ret for ln in lines if ln.name in FORKS and ln.ret is not None and ln.ret > 0]


# --- pairing the processes of two runs -------------------------------------------

Pair = tuple  # (pid in a or None, pid in b or None)


def pair_processes(a: Mapping[int, list], b: Mapping[int, list], *,
                   roots: Pair | None = None,
                   children_of: tuple[Callable, Callable] = (children, children),
                   alike: Callable[[list, list], float] | None = None) -> list[Pair]:
    """The processes of two runs of one program, paired.

    From ``roots`` (the two runs' first processes unless given; None: no tree)
    down, the children of a pair (``children_of`` each side's, from its
    entries) pair in order of creation.  Those the tree did not reach pair
    the most ``alike`` first when given; the rest stand alone.
    """
    pairs: list[Pair] = []
    todo = [] if roots is None and alike is not None else \
        [roots or (next(iter(a), None), next(iter(b), None))]
    while todo:
        pa, pb = todo.pop(0)
        if pa is None and pb is None:       # two empty runs
            continue
        pairs.append((pa, pb))
        ca = children_of[0](a[pa]) if pa in a else []
        cb = children_of[1](b[pb]) if pb in b else []
        for i in range(max(len(ca), len(cb))):
            todo.append((ca[i] if i < len(ca) else None, cb[i] if i < len(cb) else None))
    left_a = [p for p in a if p not in {pa for pa, _ in pairs}]
    left_b = [p for p in b if p not in {pb for _, pb in pairs}]
    if alike is not None:
        scores = sorted(((alike(a[pa], b[pb]), pa, pb) for pa in left_a for pb in left_b),
                        key=lambda s: s[0], reverse=True)
        for _, pa, pb in scores:
            if pa in left_a and pb in left_b:
                pairs.append((pa, pb))
                left_a.remove(pa)
                left_b.remove(pb)
    return pairs + [(p, None) for p in left_a] + [(None, p) for p in left_b]


def likeness(x: list[str], y: list[str]) -> float:
    """How alike two processes' normalised lines are (0 to 1)."""
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()

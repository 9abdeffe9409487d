"""A differential harness around strace(1): run a program under it, parse the log.

``run_strace`` runs ``strace -f -o FILE -qq -xx -s 65536 argv...``; with
``-xx`` every string is printed as ``\\xNN`` escapes, so string arguments
decode to exact bytes.  ``parse_strace`` turns the log into per-thread
sequences of :class:`StraceCall` (unfinished/resumed halves joined), with
the signals each thread received.

The values are kept as strace prints them (``args`` is the list of
top-level argument texts); helpers decode what comparisons need:
``string_arg`` for a quoted string, ``errno`` names like ``ENOENT``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

STRACE = shutil.which("strace")
STRACE_OPTIONS = ("-f", "-qq", "-xx", "-s", "65536")

_LINE = re.compile(r"^(\d+)\s+(.*)$")
_CALL = re.compile(r"^([a-z_0-9]+|syscall_0x[0-9a-f]+)\((.*)$", re.S)
_RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+|syscall_0x[0-9a-f]+) resumed>(.*)$", re.S)
_RESULT = re.compile(r"^(.*)\)\s+= (\?|-?\d+|0x[0-9a-f]+)(?: ([A-Z][A-Z0-9_]*) \(.*\))?"
                     r"(?: \(.*\))?$", re.S)
_SIGNAL = re.compile(r"^--- (SIG[A-Z0-9]+|SIGRT_\d+) (.*) ---$")
_UNFINISHED = " <unfinished ...>"


@dataclass
class StraceCall:
    tid: int
    name: str
    args: list[str]           # top-level argument texts
    ret: int | None           # None for "= ?"
    errno: str | None         # "ENOENT", "ERESTARTSYS", ... or None
    line: str = ""

    def string_arg(self, i: int) -> bytes | None:
        return decode_string(self.args[i]) if i < len(self.args) else None


@dataclass
class StraceThread:
    tid: int
    calls: list[StraceCall] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)   # "SIGCHLD", ...


def run_strace(argv: list[str], log: str | Path, *, env=None, cwd=None, timeout=120,
               extra: tuple[str, ...] = (), prefix: tuple[str, ...] = ()
               ) -> subprocess.CompletedProcess:
    """Run ``argv`` under strace writing ``log``; returns the finished process.

    ``prefix`` runs strace itself under a wrapper (``("setarch", "-R")``
    turns address randomisation off for strace and so for the program).
    """
    if STRACE is None:
        raise FileNotFoundError("strace is not installed")
    cmd = [*prefix, STRACE, *STRACE_OPTIONS, *extra, "-o", str(log), "--", *argv]
    return subprocess.run(cmd, env=env, cwd=cwd, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments of strace's argument text."""
    out, depth, cur, quoted, i = [], 0, [], False, 0
    while i < len(text):
        c = text[i]
        if quoted:
            cur.append(c)
            if c == "\\" and i + 1 < len(text):
                cur.append(text[i + 1])
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
            cur.append(c)
        elif c in "[{(":
            depth += 1
            cur.append(c)
        elif c in "]})":
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    last = "".join(cur).strip()
    if last or out:
        out.append(last)
    return out


_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "v": b"\v", "f": b"\f",
            '"': b'"', "\\": b"\\"}


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
                m = re.match(r"[0-7]{1,3}", arg[i + 1:])
                out.append(int(m.group(0), 8))
                i += 1 + len(m.group(0))
                continue
            out += _ESCAPES.get(nxt, nxt.encode())
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def _finish(tid: int, name: str, body: str, line: str) -> StraceCall:
    m = _RESULT.match(body)
    if m is None:                     # no result: the process ended inside the call
        return StraceCall(tid, name, split_args(body.rstrip(") ")), None, None, line)
    argtext, ret, err = m.group(1), m.group(2), m.group(3)
    value = None if ret == "?" else int(ret, 0)
    if ret == "?" and err is None:
        em = re.search(r"= \? ([A-Z_]+)", body)
        err = em.group(1) if em else None
    return StraceCall(tid, name, split_args(argtext), value, err, line)


def parse_strace(path: str | Path) -> dict[int, StraceThread]:
    """Per-thread calls and signals of an ``strace -f -o`` log, in order."""
    threads: dict[int, StraceThread] = {}
    pending: dict[int, tuple[str, str]] = {}      # tid -> (name, argument text so far)
    for line in Path(path).read_text(errors="replace").splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        tid, rest = int(m.group(1)), m.group(2)
        th = threads.setdefault(tid, StraceThread(tid))
        if rest.startswith("+++"):
            continue
        sm = _SIGNAL.match(rest)
        if sm:
            th.signals.append(sm.group(1))
            continue
        rm = _RESUMED.match(rest)
        if rm:
            name, head = pending.pop(tid, (rm.group(1), ""))
            th.calls.append(_finish(tid, name, head + rm.group(2), line))
            continue
        cm = _CALL.match(rest)
        if cm is None:
            continue
        name, body = cm.group(1), cm.group(2)
        if body.endswith(_UNFINISHED):
            pending[tid] = (name, body[:-len(_UNFINISHED)])
            continue
        th.calls.append(_finish(tid, name, body, line))
    for tid, (name, head) in pending.items():        # ended inside the call
        threads[tid].calls.append(StraceCall(tid, name, split_args(head), None, None, ""))
    return threads


def thread_order(threads: dict[int, StraceThread]) -> list[int]:
    """Thread ids in order of first appearance (the log's order)."""
    return list(threads)

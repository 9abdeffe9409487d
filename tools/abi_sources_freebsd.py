"""FreeBSD ABI facts, read from freebsd-src files for tools/gen_abi_tables.py.

Sources: syscall numbers, names and prototypes from sys/kern/syscalls.master
(named the way kdump prints them, see :func:`kdump_name`); errno names from
sys/sys/errno.h and texts from lib/libc/gen/errlst.c; signal names from
lib/libsysdecode/signal.c numbered by sys/sys/signal.h; FreeBSD's Linux errno
table from sys/compat/linux/linux_errno.inc with sys/compat/linux/linux_errno.h.

``src`` is a freebsd-src checkout, or a directory holding copies of the
files below at the same relative paths.  Parsers read definitions only
(``#define`` lines, table initialisers, syscalls.master entries), so copies
may leave out comments.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

SYSCALLS_MASTER = "sys/kern/syscalls.master"
ERRNO_H = "sys/sys/errno.h"
ERRLST_C = "lib/libc/gen/errlst.c"
SIGNAL_H = "sys/sys/signal.h"
SYSDECODE_SIGNAL_C = "lib/libsysdecode/signal.c"
LINUX_ERRNO_H = "sys/compat/linux/linux_errno.h"
LINUX_ERRNO_INC = "sys/compat/linux/linux_errno.inc"

# The design's errno numbering (docs/design.md, "Errno numbering"): Linux's
# restart codes become FreeBSD's ERESTART; Linux errnos FreeBSD lacks are
# carried as MISSING_ERRNO_FLAG | linux_errno.
LINUX_RESTART_ERRNOS = (512, 513, 514, 516)   # ERESTARTSYS .. ERESTART_RESTARTBLOCK
LINUX_ERESTARTSYS = 512
ERESTART = -1
MISSING_ERRNO_FLAG = 0x10000

# strerror's text for numbers it does not know: UPREFIX and ": %d"
# (lib/libc/string/strerror.c, errstr()).
UNKNOWN_ERRNO = "Unknown error: %d"

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+\(?(-?\d+)\)?\s*$", re.M)


def _read(src: Path, rel: str) -> str:
    return _COMMENT.sub("", (src / rel).read_text())


def _defines(text: str, prefix: str) -> dict[str, int]:
    """``#define <prefix>NAME number`` (number possibly parenthesised)."""
    return {name: int(num) for name, num in _DEFINE.findall(text) if name.startswith(prefix)}


def errno_numbers(src: Path) -> dict[str, int]:
    names = _defines(_read(src, ERRNO_H), "E")
    names.pop("ELAST", None)        # a bound, not an errno
    return names


def errno_names(src: Path) -> dict[int, str]:
    """Number -> name; the header's first name of a number wins."""
    names: dict[int, str] = {}
    for name, number in errno_numbers(src).items():
        names.setdefault(number, name)
    return names


def linux_errno_numbers(src: Path) -> dict[str, int]:
    """Linux errno names (as FreeBSD's Linux layer spells them) -> numbers."""
    return {name[len("LINUX_"):]: number
            for name, number in _defines(_read(src, LINUX_ERRNO_H), "LINUX_E").items()}


def bsd_to_linux_errno(src: Path) -> dict[int, int]:
    """FreeBSD's ``linux_errtbl``: FreeBSD errno -> Linux errno."""
    text = _read(src, LINUX_ERRNO_INC)
    body = re.search(r"linux_errtbl\s*\[[^]]*\]\s*=\s*\{(.*?)\};", text, re.S)
    if body is None:
        raise ValueError(f"{LINUX_ERRNO_INC}: no linux_errtbl initialiser")
    bsd = errno_numbers(src) | {"0": 0}
    linux = linux_errno_numbers(src) | {"0": 0}
    table = {}
    for index, value in re.findall(r"\[(\w+)\]\s*=\s*-\s*(?:LINUX_)?(\w+)", body[1]):
        table[bsd[index]] = linux[value]
    return table


def errno_translation(src: Path) -> tuple[dict[int, int], dict[int, int]]:
    """(FreeBSD -> Linux, Linux -> FreeBSD) per the design's numbering.

    Linux -> FreeBSD inverts FreeBSD's table.  Where several FreeBSD errnos
    map to one Linux errno (ENXIO <- ENXIO, EBADRPC, EAUTH ...) the one of the
    same name is chosen, else the lowest number.  The restart codes map to
    ERESTART, and ERESTART maps back to ERESTARTSYS.
    """
    forward = bsd_to_linux_errno(src)
    bsd_names = errno_names(src)
    linux_names = {number: name for name, number in linux_errno_numbers(src).items()}
    inverse: dict[int, int] = {}
    for bsd, linux in sorted(forward.items()):
        chosen = inverse.get(linux)
        if chosen is None or (bsd_names.get(bsd) == linux_names.get(linux)
                              and bsd_names.get(chosen) != linux_names.get(linux)):
            inverse[linux] = bsd
    inverse.update(dict.fromkeys(LINUX_RESTART_ERRNOS, ERESTART))
    forward[ERESTART] = LINUX_ERESTARTSYS
    return forward, inverse


def errno_texts(src: Path) -> dict[int, str]:
    """``sys_errlist`` (errlst.c) for every number errno.h names."""
    text = _read(src, ERRLST_C)
    body = re.search(r"sys_errlist\[\]\s*=\s*\{(.*?)\};", text, re.S)
    if body is None:
        raise ValueError(f"{ERRLST_C}: no sys_errlist initialiser")
    lines = [line for line in body[1].splitlines() if not line.lstrip().startswith("#")]
    # An entry is a string literal or an identifier (the reserve slots).
    entries = re.findall(r'"((?:[^"\\]|\\.)*)"|\b(\w+)\b', "\n".join(lines))
    texts = [literal if literal or not ident else None for literal, ident in entries]
    names = errno_names(src)
    return {n: texts[n] for n in sorted(names) if 0 <= n < len(texts) and texts[n]}


def signal_names(src: Path) -> dict[int, str]:
    """libsysdecode's names (what kdump prints), numbered by signal.h."""
    numbers = _defines(_read(src, SIGNAL_H), "SIG")
    text = _read(src, SYSDECODE_SIGNAL_C)
    names = {}
    for base, offset, name in re.findall(r'\[(SIG\w+)(?:\s*\+\s*(\d+))?\]\s*=\s*"(\w+)"', text):
        names[numbers[base] + int(offset or 0)] = name
    return names


# --- syscalls.master -------------------------------------------------------

_ENTRY = re.compile(r"^(\d+)(?:-(\d+))?\s+(\S+)\s+(\S+)\s*(.*)$")
_ANNOTATION = re.compile(r"^_(?:In|Out|Inout|Outptr|Contains)\w*(?:\([^)]*\))?$")


class MasterEntry(NamedTuple):
    number: int
    flags: frozenset[str]
    name: str                                   # the function's (or one-line entry's) name
    args: tuple[tuple[str, str], ...] | None    # None: no prototype


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _argument(decl: str) -> tuple[str, str] | None:
    """(C type, name) of one prototype argument, SAL annotations dropped."""
    words = [w for w in decl.split() if not _ANNOTATION.match(w)]
    text = " ".join(words)
    if text in ("", "void", "..."):
        return None
    m = re.match(r"(.*?)\s*(\w+)$", text)
    return m[1].strip(), m[2]


def _prototype(body: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Name and arguments of ``{ rettype name(args); }``."""
    head = re.search(r"(\w+)\s*\(", body)
    depth, end = 0, head.end() - 1
    for end in range(head.end() - 1, len(body)):
        depth += {"(": 1, ")": -1}.get(body[end], 0)
        if depth == 0:
            break
    inner = body[head.end():end]
    args = tuple(a for a in map(_argument, _split_top(inner)) if a is not None)
    return head[1], args


def master_entries(src: Path) -> list[MasterEntry]:
    """Every numbered entry of syscalls.master, ranges expanded."""
    lines = [line for line in (src / SYSCALLS_MASTER).read_text().splitlines()
             if line.strip() and not line.startswith((";", "#", "%"))]
    entries: list[MasterEntry] = []
    i = 0
    while i < len(lines):
        m = _ENTRY.match(lines[i])
        if m is None:
            raise ValueError(f"{SYSCALLS_MASTER}: unexpected line {lines[i]!r}")
        first, last, _audit, flags, rest = m.groups()
        flags = frozenset(flags.split("|"))
        i += 1
        if rest.startswith("{"):
            body = rest
            while body.count("{") > body.count("}"):
                body += "\n" + lines[i]
                i += 1
            name, args = _prototype(body[1:body.rindex("}")])
        else:
            name, args = (rest.split() or [""])[0], None
        for number in range(int(first), int(last or first) + 1):
            entries.append(MasterEntry(number, flags, name, args))
    return entries


def _compat_flag(flags: frozenset[str]) -> str | None:
    return next((f for f in flags if re.fullmatch(r"COMPAT\d*", f)), None)


def kdump_name(entry: MasterEntry) -> str:
    """The name FreeBSD's kdump prints: kern/syscalls.c's, as generated by
    sys/tools/syscalls/scripts/syscalls.lua (compat entries as
    "compat<N>.<name>", OBSOL as "obs_<name>", RESERVED/UNIMPL as "#<n>")."""
    if entry.flags & {"RESERVED", "UNIMPL"}:
        return f"#{entry.number}"
    if "OBSOL" in entry.flags:
        return f"obs_{entry.name}"
    compat = _compat_flag(entry.flags)
    return f"{compat.lower()}.{entry.name}" if compat else entry.name


def syscalls(src: Path) -> dict[int, tuple]:
    """number: (kdump name, argument count or None, ((C type, name), ...))."""
    table = {}
    for expected, entry in enumerate(master_entries(src)):
        if entry.number != expected:
            raise ValueError(f"{SYSCALLS_MASTER}: entry {entry.number} where {expected} was due")
        args = entry.args if entry.args is not None else ()
        # A one-line NODEF entry (lkmnosys) takes nosys' zero arguments.
        known = entry.args is not None or "NODEF" in entry.flags
        table[entry.number] = (kdump_name(entry), len(args) if known else None, args)
    return table

"""FreeBSD ABI facts, read from freebsd-src files for tools/gen_abi_tables.py.

``src`` is a freebsd-src checkout, or a directory holding copies of the
files below at the same relative paths.  Parsers read definitions only
(``#define`` lines, table initialisers, syscalls.master entries), so copies
may leave out comments.
"""

from __future__ import annotations

import re
from pathlib import Path

SYSCALLS_MASTER = "sys/kern/syscalls.master"
ERRNO_H = "sys/sys/errno.h"
ERRLST_C = "lib/libc/gen/errlst.c"
SIGNAL_H = "sys/sys/signal.h"
LINUX_ERRNO_H = "sys/compat/linux/linux_errno.h"
LINUX_ERRNO_INC = "sys/compat/linux/linux_errno.inc"

# The design's errno numbering (docs/design.md, "Errno numbering"): Linux's
# restart codes become FreeBSD's ERESTART; Linux errnos FreeBSD lacks are
# carried as MISSING_ERRNO_FLAG | linux_errno.
LINUX_RESTART_ERRNOS = (512, 513, 514, 516)   # ERESTARTSYS .. ERESTART_RESTARTBLOCK
LINUX_ERESTARTSYS = 512
ERESTART = -1
MISSING_ERRNO_FLAG = 0x10000

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

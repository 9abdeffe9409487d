#!/usr/bin/env python3
"""Generate src/ktrace/decode/strace/syscall_classes.py from strace's source.

``kdump --strace -e trace=%file`` must select what ``strace -e trace=%file``
selects, so the classes are strace's own: the flags column of its syscall
tables (``src/linux/<arch>/syscallent.h`` and the ``syscallent-common*.h``
they include), read through the shorthand names of
``src/sysent_shorthand_defs.h`` (TD is TRACE_DESC, ...) and the class names
of ``qualify_syscall_class`` in ``src/basic_filters.c``.  Only the table this
writes is kept in ktrace, not strace's code.

strace applies a class to every personality, so a name's classes here are
those of x86_64's table, then of i386's and x32's for names x86_64 lacks.

    apt-get source strace      # with a deb-src line for bookworm
    python3 tools/gen_strace_classes.py strace-6.1 [output]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NamedTuple

OUT = Path(__file__).resolve().parents[1] / "src/ktrace/decode/strace/syscall_classes.py"
ABIS = ("x86_64", "i386", "x32")      # the first table's flags win for a shared name

# strace's class names (basic_filters.c) -> the sysent shorthand naming its flag
# (sysent_shorthand_defs.h).  "%net" and the legacy names without "%" are
# aliases that strace also accepts.
CLASSES = {
    "%desc": "TD", "%file": "TF", "%memory": "TM", "%process": "TP", "%creds": "TC",
    "%signal": "TS", "%ipc": "TI", "%network": "TN", "%stat": "TST", "%lstat": "TLST",
    "%fstat": "TFST", "%%stat": "TSTA", "%statfs": "TSF", "%fstatfs": "TFSF",
    "%%statfs": "TSFA", "%pure": "PU", "%clock": "TCL",
}
ALIASES = {"%net": "%network", "desc": "%desc", "file": "%file", "memory": "%memory",
           "process": "%process", "signal": "%signal", "ipc": "%ipc",
           "network": "%network"}

_ENTRY = re.compile(r'^\[\s*(?:BASE_NR\s*\+\s*)?(\d+)\]\s*=\s*\{\s*(\w+),\s*([A-Z0-9|]+|0),'
                    r'\s*SEN\(\w+\),\s*"(\w+)"')
_INCLUDE = re.compile(r'^#\s*include\s+"([^"]+)"')


def include(path: Path, name: str) -> Path:
    """Where strace's build finds ``#include "name"``: beside the including
    file, else in linux/generic (its -I path for the common tables)."""
    near = path.parent / name
    return near if near.exists() else path.parents[1] / "generic" / name


class SysEnt(NamedTuple):
    """One row of a syscallent.h."""
    number: int          # the index, BASE_NR left out (0 in i386's table)
    nargs: int | None    # None: MA, or another symbol
    name: str
    flags: set[str]      # shorthands (TD, TF, ...)


def entries(path: Path) -> list[SysEnt]:
    """The rows of a syscallent.h, its includes expanded in place."""
    out = []
    for line in path.read_text().splitlines():
        inc = _INCLUDE.match(line)
        if inc:
            out += entries(include(path, inc.group(1)))
            continue
        m = _ENTRY.match(line)
        if m:
            number, nargs, flags, name = m.groups()
            out.append(SysEnt(int(number), int(nargs) if nargs.isdigit() else None, name,
                              set() if flags == "0" else set(flags.split("|"))))
    return out


def check_names(src: Path) -> None:
    """Fail if strace's class list or shorthands changed from what CLASSES says."""
    filters = (src / "basic_filters.c").read_text()
    shorthands = (src / "sysent_shorthand_defs.h").read_text()
    for name in [*CLASSES, *ALIASES]:
        if f'"{name}"' not in filters:
            raise SystemExit(f"{name} is not a class of this strace")
    for flag in CLASSES.values():
        if not re.search(rf"#\s*define\s+{flag}\s+TRACE_", shorthands):
            raise SystemExit(f"{flag} is not a shorthand of this strace")


def classes(src: Path) -> dict[str, list[str]]:
    flags: dict[str, set[str]] = {}
    for abi in ABIS:
        for row in entries(src / "linux" / abi / "syscallent.h"):
            flags.setdefault(row.name, row.flags)
    return {cls: sorted(n for n, f in flags.items() if short in f)
            for cls, short in CLASSES.items()}


def version(root: Path) -> str:
    for name in (".tarball-version", ".version"):
        if (root / name).exists():
            return (root / name).read_text().strip()
    return root.name


def render(root: Path, table: dict[str, list[str]]) -> str:
    lines = [
        '"""strace\'s syscall classes (-e trace=%file ...): generated, do not edit.',
        "",
        f"Source: strace {version(root)}, src/linux/{{{','.join(ABIS)}}}/syscallent.h",
        "(flags column), src/sysent_shorthand_defs.h, src/basic_filters.c.",
        "Generator: tools/gen_strace_classes.py.",
        '"""',
        "",
        "CLASSES: dict[str, frozenset[str]] = {",
    ]
    for cls, names in table.items():
        lines.append(f"    {cls!r}: frozenset({{")
        row = "       "
        for n in names:
            item = f" {n!r},"
            if len(row) + len(item) > 92:
                lines.append(row)
                row = "       "
            row += item
        lines.append(row)
        lines.append("    }),")
    lines.append("}")
    lines.append("")
    lines.append("# names strace also accepts for a class")
    lines.append(f"ALIASES: dict[str, str] = {ALIASES!r}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    src = root / "src"
    check_names(src)
    out = Path(argv[1]) if len(argv) > 1 else OUT
    out.write_text(render(root, classes(src)))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

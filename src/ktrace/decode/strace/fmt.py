"""strace 6.1's ways of spelling values: strings, flags, pointers, signal sets."""

from __future__ import annotations

from itertools import islice
from typing import Iterator, NamedTuple

from ..names import SIGRTMAX, signal_name
from ..xlat import Xlat


class StraceOptions(NamedTuple):
    strsize: int = 32        # -s
    xflag: int = 0           # -x: 1 hex when non-printable, 2 always hex
    yflag: bool = False      # -y: fd paths


_ESCAPES = {ord("\t"): "\\t", ord("\n"): "\\n", ord("\v"): "\\v", ord("\f"): "\\f",
            ord("\r"): "\\r", ord('"'): '\\"', ord("\\"): "\\\\"}


def _printable(b: int) -> bool:
    return 0x20 <= b < 0x7F


def quote(data: bytes, xflag: int = 0, force_hex: bool = False) -> str:
    """string_quote: C escapes, octal for the rest (hex with -x/-xx)."""
    hexed = force_hex or xflag > 1 or (xflag == 1 and not all(map(_printable, data)))
    out = ['"']
    if hexed:
        out.extend(f"\\x{b:02x}" for b in data)
    else:
        for i, b in enumerate(data):
            if b in _ESCAPES:
                out.append(_ESCAPES[b])
            elif _printable(b):
                out.append(chr(b))
            elif i + 1 < len(data) and 0x30 <= data[i + 1] <= 0x37:
                out.append(f"\\{b:03o}")     # a following digit needs all three
            else:
                out.append(f"\\{b:o}")
    out.append('"')
    return "".join(out)


def printstr(data: bytes, opts: StraceOptions, limit: int | None = None,
             force_hex: bool = False) -> str:
    """printstr: at most -s bytes, then ``...`` when there was more."""
    size = opts.strsize if limit is None else min(limit, opts.strsize)
    text = quote(data[:size], opts.xflag, force_hex)
    return text + "..." if len(data) > size else text


PATH_MAX = 4096


def printpath(path: bytes, opts: StraceOptions) -> str:
    """printpath: paths are not cut at -s, but at PATH_MAX - 1 bytes."""
    if len(path) >= PATH_MAX:
        return quote(path[:PATH_MAX - 1], opts.xflag) + "..."
    return quote(path, opts.xflag)


def array(items: Iterator[str], opts: StraceOptions) -> str:
    """print_array: ``[a, b, ...]``, cut after -s elements as strace cuts it."""
    shown = list(islice(items, opts.strsize))
    if next(items, None) is not None:
        shown.append("...")
    return "[" + ", ".join(shown) + "]"


def fd_path(path: str) -> str:
    """A path -y shows in ``fd<path>``: escaped like a string, without the quotes."""
    return quote(path.encode("utf-8", "surrogateescape"))[1:-1]


def ptr(value: int) -> str:
    return "NULL" if value == 0 else f"{value:#x}"


def hexval(value: int) -> str:
    """C's %#x: 0x1f, and 0 for zero."""
    return f"{value:#x}" if value else "0"


def flags(table: Xlat, value: int, zero: str = "0") -> str:
    """printflags: A|B, unknown bits as ``|0x..``, nothing known as ``0x..``."""
    if value == 0:
        names, _ = table.flags(0)
        return names[0] if names else zero
    names, rem = table.flags(value)
    if rem:
        names.append(f"{rem:#x}")
    return "|".join(names) if names else f"{value:#x}"


def xval(table: Xlat, value: int, unknown: str) -> str:
    """printxval: the name, or ``0x.. /* UNKNOWN */``."""
    name = table.name(value)
    if name is not None:
        return name
    return f"{value:#x} /* {unknown} */"


def signame(signo: int) -> str:
    return signal_name(signo) or str(signo)


def sigset(mask: int, nsig: int = SIGRTMAX) -> str:
    """``[INT TERM]``, or ``~[...]`` of the complement when most are set."""
    present = [s for s in range(1, nsig + 1) if mask >> (s - 1) & 1]
    if len(present) > nsig // 2:
        absent = [s for s in range(1, nsig + 1) if not mask >> (s - 1) & 1]
        return "~[" + " ".join(signame(s)[3:] for s in absent) + "]"
    return "[" + " ".join(signame(s)[3:] for s in present) + "]"


def c_int(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def c_long(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value

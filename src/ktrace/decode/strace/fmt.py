"""strace 6.1's ways of spelling values: strings, flags, pointers, signal sets."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from itertools import islice
from typing import Container, Iterator, NamedTuple

from ..names import SIGRTMAX, signal_name
from ..xlat import Xlat

# -x, -xx, --strings-in-hex=: strace's xflag values
HEX_NONE, HEX_NON_ASCII, HEX_ALL, HEX_NON_ASCII_CHARS = 0, 1, 2, 3


class EveryCall:
    """The default of -e abbrev= and -e verbose=: every syscall."""

    def __contains__(self, call: object) -> bool:
        return True


EVERY_CALL = EveryCall()


# StraceOptions.yflag's bits (--decode-fds=path,dev,pidfd,socket)
FD_PATHS, FD_DEVICES, FD_PIDFDS, FD_SOCKETS = 1, 2, 4, 8


class StraceOptions(NamedTuple):
    strsize: int = 32               # -s
    xflag: int = HEX_NONE           # -x, -xx, --strings-in-hex=
    yflag: int = 0                  # FD_PATHS (-y), FD_DEVICES|FD_PIDFDS|FD_SOCKETS too (-yy)
    # -e SET=: (name, number) of the syscalls whose structs print abbreviated,
    # are decoded at all, have their arguments in hex
    abbrev: Container = EVERY_CALL
    verbose: Container = EVERY_CALL
    raw: Container = frozenset()
    vcpu_exits: bool = False        # -e kvm=vcpu: a KVM_RUN's exit reason after its result


# -X: how named constants print: "abbrev" (the name), "raw" (the number),
# "verbose" (the number with the name in a comment).  strace's one global
# setting, read by every flag and constant printer of every family; the view
# sets it for as long as it prints (``constant_style``).
STYLE: ContextVar[str] = ContextVar("constant_style", default="abbrev")


@contextmanager
def constant_style(style: str):
    token = STYLE.set(style)
    try:
        yield
    finally:
        STYLE.reset(token)


_ESCAPES = {ord("\t"): "\\t", ord("\n"): "\\n", ord("\v"): "\\v", ord("\f"): "\\f",
            ord("\r"): "\\r", ord('"'): '\\"', ord("\\"): "\\\\"}


def _printable(b: int) -> bool:
    return 0x20 <= b < 0x7F


def _forces_hex(b: int) -> bool:
    """-x prints a whole string in hex for a byte neither printable nor a space."""
    return b > 0x7E or (b < 0x20 and not 9 <= b <= 13)


def quote(data: bytes, xflag: int = HEX_NONE, force_hex: bool = False) -> str:
    """string_quote: C escapes, octal for the rest (hex with -x/-xx,
    ``\\xNN`` for those bytes alone with --strings-in-hex=non-ascii-chars)."""
    hexed = force_hex or xflag == HEX_ALL or (
        xflag == HEX_NON_ASCII and any(map(_forces_hex, data)))
    out = ['"']
    if hexed:
        out.extend(f"\\x{b:02x}" for b in data)
    else:
        for i, b in enumerate(data):
            if b in _ESCAPES:
                out.append(_ESCAPES[b])
            elif _printable(b):
                out.append(chr(b))
            elif xflag == HEX_NON_ASCII_CHARS:
                out.append(f"\\x{b:02x}")
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
    """A path -y shows in ``fd<path>``: escaped like a string, without the
    quotes, and ``<`` and ``>`` in octal (strace's escape_chars "<>")."""
    data = path.encode("utf-8", "surrogateescape")
    out, start = [], 0
    for i, b in enumerate(data):
        if b in (0x3C, 0x3E):           # '<', '>'
            out.append(quote(data[start:i])[1:-1])
            digit = i + 1 < len(data) and 0x30 <= data[i + 1] <= 0x37
            out.append(f"\\{b:03o}" if digit else f"\\{b:o}")
            start = i + 1
    out.append(quote(data[start:])[1:-1])
    return "".join(out)


def ptr(value: int) -> str:
    return "NULL" if value == 0 else f"{value:#x}"


def hexval(value: int) -> str:
    """C's %#x: 0x1f, and 0 for zero."""
    return f"{value:#x}" if value else "0"


def flags(table: Xlat, value: int, zero: str = "0", unknown: str = "") -> str:
    """printflags: A|B, unknown bits as ``|0x..``, nothing known as ``0x..``
    (``0x.. /* UNKNOWN */`` given strace's word for it); -X raw: ``0x..``;
    -X verbose: ``0x.. /* A|B */``."""
    style = STYLE.get()
    if style == "raw":
        return hexval(value)
    names, rem = table.flags(value)
    if not names:
        if not value:
            return zero
        return f"{value:#x} /* {unknown} */" if unknown else f"{value:#x}"
    if rem:
        names.append(f"{rem:#x}")
    text = "|".join(names)
    return f"{hexval(value)} /* {text} */" if style == "verbose" else text


def named(name: str, value: int, number: str | None = None) -> str:
    """One named constant in -X's style; ``number`` spells the value (hex if not given)."""
    style = STYLE.get()
    number = hexval(value) if number is None else number
    if style == "raw":
        return number
    return f"{number} /* {name} */" if style == "verbose" else name


def xval(table: Xlat, value: int, unknown: str) -> str:
    """printxval: the name, or ``0x.. /* UNKNOWN */`` (-X raw: the number alone)."""
    name = table.name(value)
    if name is not None:
        return named(name, value)
    return hexval(value) if STYLE.get() == "raw" else f"{hexval(value)} /* {unknown} */"


def xval_u(table: Xlat, value: int, unknown: str) -> str:
    """PRINT_FIELD_XVAL_U, printxval_ex's XLAT_STYLE_FMT_U: a named constant
    whose number is decimal."""
    name = table.name(value)
    if name is not None:
        return named(name, value, str(value))
    return str(value) if STYLE.get() == "raw" else f"{value} /* {unknown} */"


def signame(signo: int) -> str:
    return signal_name(signo) or str(signo)


def printsignal(sig: int) -> str:
    """printsignal: SIGUSR1 in -X's style; a number no signal has (0, 256, -1) as it is."""
    name = signal_name(sig) if sig > 0 else None
    return named(name, sig, str(sig)) if name else str(sig)


NSIG_BYTES = SIGRTMAX // 8


def sigset(mask: int, nbytes: int = NSIG_BYTES) -> str:
    """sprintsigmask_n: ``[INT TERM]`` of a mask of ``nbytes`` bytes (in 32-bit
    words), or ``~[...]`` of the complement when 2/3 of its bits are set;
    -X raw: the numbers, -X verbose: ``[1 /* HUP */ 2 /* INT */]``."""
    bits = 32 * ((min(nbytes, NSIG_BYTES) + 3) // 4)
    everything = (1 << bits) - 1
    mask &= everything
    head = "["
    if mask.bit_count() >= bits * 2 // 3:
        mask ^= everything
        head = "~["
    style = STYLE.get()
    items = []
    for s in range(1, bits + 1):
        if mask >> (s - 1) & 1:
            name = signame(s).removeprefix("SIG")
            items.append(name if style == "abbrev" else str(s) if style == "raw"
                         else f"{s} /* {name} */")
    return head + " ".join(items) + "]"


def c_int(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def c_long(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value

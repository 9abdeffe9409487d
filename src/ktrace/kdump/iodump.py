"""The data of GIO records as FreeBSD's kdump shows it.

Data that is all printable ASCII, tab, newline, CR or NUL is shown as a C
string, vis(3)-encoded (``VIS_CSTYLE``) and folded like fold(1) at the
screen width; anything else as a hex dump with an ASCII column.  Both keep
kdump's quirks: a string that ends with a newline closes with a quote alone
on its line, and a hex dump whose length is not a multiple of its width ends
with one empty line.
"""

from __future__ import annotations

import os
import re

# Bytes that keep data a "string": printable ASCII, TAB, LF, CR, NUL.
_TEXT_BYTES = bytes([0, 9, 10, 13]) + bytes(range(32, 127))

# vis(3) with VIS_CSTYLE and no other flag, for the bytes that can reach it:
# whitespace and graphic characters stand for themselves, the backslash is
# doubled, CR and NUL get C escapes.  NUL before an octal digit must be
# "\000" (so the digit does not extend the escape): it is first replaced by
# \x01, a byte that never reaches here.
_VIS = {0: "\\0", 1: "\\000", 13: "\\r", 92: "\\\\"}
_NUL_BEFORE_OCTAL = re.compile("\x00(?=[0-7])")
_OCTAL = frozenset("01234567")

# A hex dump's ASCII column: printable ASCII stays, the rest is '.'.
_ASCII = bytes(b if 32 <= b <= 126 else ord(".") for b in range(256))


def screen_width(fancy: bool) -> int:
    """The width kdump folds at: stderr's terminal (when decoding), else 80."""
    if fancy:
        try:
            columns = os.get_terminal_size(2).columns
        except OSError:
            return 80
        if columns > 8:
            return columns
    return 80


def io_data(data: bytes, width: int) -> str:
    """The lines that follow ``fd N read|wrote N bytes`` (no final newline)."""
    if data.translate(None, _TEXT_BYTES):
        return hexdump(data, width)
    return visdump(data, width)


def _vis(text: str) -> str:
    if "\x00" in text:
        text = _NUL_BEFORE_OCTAL.sub("\x01", text)
    return text.translate(_VIS)


def _folded(text: str, limit: int) -> str:
    """One line of the string dump, broken with ``\\`` where it passes limit."""
    out = []
    col = 8
    for i, ch in enumerate(text):
        if ch == "\t":
            width = 8 - (col & 7)
            token = ch
        else:
            if ch == "\x00" and text[i + 1:i + 2] in _OCTAL:
                ch = "\x01"
            token = _VIS.get(ord(ch), ch)
            width = len(token)
        if col + width > limit:
            out.append("\\\n\t")
            col = 8
        col += width
        out.append(token)
    return "".join(out)


def visdump(data: bytes, width: int) -> str:
    """kdump's quoted-string dump of text data."""
    limit = width - 2
    lines = data.decode("latin-1").split("\n")
    last = len(lines) - 1
    out = ['       "']
    for i, line in enumerate(lines):
        if i:
            if i == last and not line:
                out.append('\n       ')     # the quote alone on the last line
                break
            out.append("\n\t")
        shown = _vis(line)
        if 8 + len(shown) + 7 * shown.count("\t") > limit:
            shown = _folded(line, limit)
        out.append(shown)
    out.append('"')
    return "".join(out)


def _hex_width(width: int) -> int:
    """Bytes per hex dump line: the most pairs whose line fits the screen."""
    n = 0
    while True:
        n += 2
        line = 13 + (n // 2 + 1) + n * 2 + 3 + n + 1
        if line >= width:
            return n - 2


def hexdump(data: bytes, width: int) -> str:
    """kdump's hex dump: offset, byte pairs, ``|ascii|``."""
    per_line = _hex_width(width) or 2
    pairs_width = per_line * 2 + per_line // 2 - 1   # "0a0b" pairs, one space apart
    ascii = data.translate(_ASCII).decode("ascii")
    lines = [f"       0x{n:04x} {data[n:n + per_line].hex(' ', -2).ljust(pairs_width)}"
             f"  |{ascii[n:n + per_line]}|"
             for n in range(0, len(data), per_line)]
    if len(data) % per_line:
        lines.append("")
    return "\n".join(lines)

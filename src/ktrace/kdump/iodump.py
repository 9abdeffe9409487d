"""The data of GIO records as FreeBSD's kdump shows it.

Data that is all printable ASCII, tab, newline, CR or NUL is shown as a C
string, vis(3)-encoded (``VIS_CSTYLE``) and folded like fold(1) at the
screen width; anything else as a hex dump with an ASCII column.  Both keep
kdump's quirks: a string that ends with a newline closes with a quote alone
on its line, and a hex dump whose length is not a multiple of its width ends
with one empty line.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Iterable

# Bytes that keep data a "string": printable ASCII, TAB, LF, CR, NUL.
_TEXT_BYTES = bytes([0, 9, 10, 13]) + bytes(range(32, 127))

# vis(3) with VIS_CSTYLE and no other flag, for the bytes that can reach it:
# whitespace and graphic characters stand for themselves, the backslash is
# doubled, CR and NUL get C escapes.  A NUL before an octal digit must be
# "\000", so that the digit does not extend the escape.
_ESCAPES = {"\\": "\\\\", "\r": "\\r", "\x00": "\\0"}
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


PIECE = 1 << 16   # data bytes formatted at a time when a record's data is long


def io_data(data: bytes, width: int) -> str:
    """The lines that follow ``fd N read|wrote N bytes`` (no final newline)."""
    return "\n".join(io_pieces(data, width))


def io_pieces(data: bytes, width: int, piece: int = PIECE):
    """io_data in pieces of whole lines, each made from at most about ``piece``
    bytes of data: joined by newlines they are io_data's text."""
    if data.translate(None, _TEXT_BYTES):
        return hexdump_pieces(data, width, piece)
    return visdump_pieces(data, width, piece)


def _vis(text: str) -> str:
    """vis(3)-encode text (the common bytes need no change: test before replacing)."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    if "\x00" in text:
        text = _NUL_BEFORE_OCTAL.sub(r"\\000", text).replace("\x00", "\\0")
    return text


def _folded(line: str, limit: int) -> str:
    """One line of the string dump, broken with ``\\`` where it passes limit.

    Columns count as kdump counts them: a tab to the next multiple of 8, an
    escape as its length; a continuation line starts at column 8.
    """
    out = []
    col = 8
    for i, ch in enumerate(line):
        if ch == "\t":
            token, width = ch, 8 - (col & 7)
        else:
            if ch == "\x00" and line[i + 1:i + 2] in _OCTAL:
                token = "\\000"
            else:
                token = _ESCAPES.get(ch, ch)
            width = len(token)
        if col + width > limit:
            out.append("\\\n\t")
            col = 8
        col += width
        out.append(token)
    return "".join(out)


def _vis_lines(text: str, limit: int) -> list[str]:
    """The lines of ``text`` escaped, folded when one has a tab or is too long."""
    lines = _vis(text).split("\n")
    if "\t" in text or max(map(len, lines)) + 8 > limit:
        lines = [_folded(line, limit) for line in text.split("\n")]
    return lines


def _chunk_end(text: str, start: int, piece: int) -> int:
    """Where the chunk from ``start`` ends: just after a newline, or at the end."""
    if len(text) - start <= piece:
        return len(text)
    nl = text.rfind("\n", start, start + piece)
    if nl < 0:
        nl = text.find("\n", start + piece)
    return len(text) if nl < 0 else nl + 1


def visdump_pieces(data: bytes, width: int, piece: int = PIECE):
    """kdump's quoted-string dump of text data.

    Each newline ends a line; the next line starts with a tab (the first
    with the opening quote).  A last empty line holds only the closing quote.
    Folding is decided line by line, so chunks of whole lines come out as the
    whole would.
    """
    limit = width - 2
    text = data.decode("latin-1")
    lead, start = '       "', 0
    while True:
        end = _chunk_end(text, start, piece)
        if end < len(text):
            yield lead + "\n\t".join(_vis_lines(text[start:end - 1], limit))
            lead, start = "\t", end
            continue
        lines = _vis_lines(text[start:], limit)
        if (start or len(lines) > 1) and not lines[-1]:
            body = "\n\t".join(lines[:-1])
            yield (lead + body + '\n       "') if len(lines) > 1 else '       "'
        else:
            yield lead + "\n\t".join(lines) + '"'
        return


@functools.lru_cache(maxsize=None)
def _hex_width(width: int) -> int:
    """Bytes per hex dump line: the most pairs whose line fits the screen."""
    n = 0
    while True:
        n += 2
        line = 13 + (n // 2 + 1) + n * 2 + 3 + n + 1
        if line >= width:
            return max(n - 2, 2)


def hexdump_pieces(data: bytes, width: int, piece: int = PIECE):
    """kdump's hex dump: offset, byte pairs, ``|ascii|``."""
    per_line = _hex_width(width)
    pairs_width = per_line * 2 + per_line // 2 - 1   # "0a0b" pairs, one space apart
    step = max(piece // per_line, 1) * per_line
    for at in range(0, len(data), step):
        chunk = data[at:at + step]
        ascii = chunk.translate(_ASCII).decode("ascii")
        yield "\n".join(
            f"       0x{at + n:04x} {chunk[n:n + per_line].hex(' ', -2).ljust(pairs_width)}"
            f"  |{ascii[n:n + per_line]}|" for n in range(0, len(chunk), per_line))
    if len(data) % per_line:
        yield ""


def strace_dump(data: bytes, length: int | None = None) -> list[str]:
    """strace's ``-e read=``/``-e write=`` dump of ``data`` (util.c's dumpstr):
    `` | 00000  xx .. xx  xx .. xx  ascii |``, 16 bytes a line in two groups of
    8; the offset takes 5 digits, more when the whole (``length``) needs them."""
    length = len(data) if length is None else length
    # 1 + ilog2(length - 1) / 4 hex digits, as strace computes them
    digits = 1 + ((length - 1).bit_length() - 1) // 4 if length > 1 << 20 else 5
    lines = []
    for at in range(0, len(data), 16):
        chunk = data[at:at + 16]
        cells = [f"{b:02x}" for b in chunk] + ["  "] * (16 - len(chunk))
        hexes = " ".join(cells[:8]) + "  " + " ".join(cells[8:])
        text = chunk.translate(_ASCII).decode("ascii").ljust(16)
        lines.append(f" | {at:0{digits}x}  {hexes}  {text} |")
    return lines


STRACE_FETCH = 1 << 16     # what strace's dumpstr reads of the tracee at a time


def strace_cut_dump(data: bytes, length: int, pid: int, addr: int) -> list[str]:
    """strace's dump of ``length`` bytes at ``addr`` of which only ``data``, the
    first ones, could be read: its reads of STRACE_FETCH bytes up to the one
    that fails, then `` | <Cannot fetch N bytes from pid P @ADDR>`` (nothing at
    all when the first one fails)."""
    failed = len(data) // STRACE_FETCH * STRACE_FETCH
    if not failed:
        return []
    fetch = min(length - failed, STRACE_FETCH)
    return strace_dump(data[:failed], length) + [
        f" | <Cannot fetch {fetch} byte{'' if fetch == 1 else 's'} from pid {pid} "
        f"@{addr + failed:#x}>"]


def strace_iov_dump(data: bytes, lengths: Iterable[int], limit: int | None) -> list[str]:
    """strace's dump of vectored I/O (util.c's dumpiov_upto): for each buffer
    `` * N bytes in buffer K`` and its dump, ``data`` being the buffers' bytes end
    to end.  N is the buffer's length, cut where ``limit`` bytes (a read's result;
    None for a write, whose buffers strace shows whole) run out; the first empty
    buffer ends the dump, as in strace.  A buffer holds what the trace recorded of
    it: its N bytes, fewer where the record was capped or a write moved less
    (the GIO record holds the bytes moved; strace reads the whole buffer)."""
    lines: list[str] = []
    at = 0
    for k, length in enumerate(lengths):
        n = length if limit is None else min(length, limit - at)
        if n <= 0:
            break
        lines.append(f" * {n} bytes in buffer {k}")
        lines += strace_dump(data[at:at + n], n)
        at += n
    return lines

"""FreeBSD kdump's ways of printing one argument.

These reproduce kdump.c's print_number, print_integer_arg(_valid),
print_mask_arg(0) and decode_filemode: raw numbers are ``%#jx`` (so zero is
``0``) or ``%jd`` with -d; a decoded mask is ``%#x<NAME|NAME>``; an integer
with no name is ``<invalid=%#x>``.  Decoders below work on C ``int`` views of
the 64-bit (or 32-bit) registers, as kdump's do.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from ..xlat import Xlat


class Options(NamedTuple):
    """kdump's options that change decoding: -d, not -n, -r."""

    decimal: bool = False
    fancy: bool = True
    symbolic: bool = False


# vis(3)'s VIS_CSTYLE names for the control characters that have one; every
# other byte that may not reach a terminal raw is VIS_OCTAL's \ooo.
_C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
# Bytes that are not UTF-8 come out of surrogateescape as U+DC80..U+DCFF.
# Those of 0x80-0x9f are C1 controls to a terminal that reads 8 bits (0x9b is
# CSI): escaped.  The others are kept as read, as FreeBSD's kdump keeps them:
# no terminal takes them for a control, and a name in another charset stays
# legible in that charset.
_C1_BYTES = range(0xDC80, 0xDCA0)


def vis(raw: bytes) -> str:
    """A string from a trace, safe to print: vis(3) with VIS_CSTYLE | VIS_OCTAL.

    Printable characters, UTF-8 included, stand for themselves, so an
    ordinary name prints as it is.  The rest are escaped byte by byte:
    control characters (C0, DEL, C1), format characters such as the bidi
    overrides, and the bytes that are not UTF-8 and could be C1 controls.
    Nothing a traced program names can move the cursor, retitle the terminal
    or forge a line.
    """
    text = raw.decode("utf-8", "surrogateescape")
    return text if text.isprintable() else text.translate(_VIS)


def vis_strings(blob: bytes) -> str:
    """The NUL-separated strings of ``blob`` as kdump prints ARGS: escaped,
    each quoted, joined by ``, `` (in one pass: there may be millions)."""
    if not blob:
        return ""
    if blob.endswith(b"\0"):
        blob = blob[:-1]
    return '"' + blob.decode("utf-8", "surrogateescape").translate(_VIS_STRINGS) + '"'


def _vis_char(ch: str) -> str:
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code >= 0xDC80:
        return f"\\{code - 0xDC00:03o}" if code in _C1_BYTES else ch
    return "".join(_C_ESCAPES.get(b) or f"\\{b:03o}" for b in ch.encode())


class _VisTable(dict):
    """str.translate's table for vis, filled as characters are met.

    Only the first 256 code points and the escaped bytes are kept, so that
    text made of every Unicode character cannot grow it without bound.
    """

    def __missing__(self, code: int) -> str:
        shown = _vis_char(chr(code))
        if code < 0x100 or code >= 0xDC80 and code < 0xDD00:
            self[code] = shown
        return shown


_VIS = _VisTable()
_VIS_STRINGS = _VisTable({0: '", "'})


def c_hex(value: int) -> str:
    """C's ``%#x``: ``0`` for zero, else ``0x...``."""
    return f"{value:#x}" if value else "0"


def c_oct(value: int) -> str:
    """C's ``%#o``: ``0`` for zero, else ``0...``."""
    return f"0{value:o}" if value else "0"


def signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def c_int(value: int) -> int:
    """The register seen as a C int."""
    return signed(value, 32)


def u32(value: int) -> int:
    return value & 0xFFFFFFFF


def number(value: int, opts: Options, bits: int = 64) -> str:
    """print_number: ``%jd`` with -d, else ``%#jx`` of the unsigned register."""
    if opts.decimal:
        return str(signed(value, bits))
    return c_hex(value & ((1 << bits) - 1))


def integer_arg(name: str | None, value: int, opts: Options) -> str:
    """print_integer_arg: the name, or ``<invalid=...>``."""
    if name is not None:
        return name
    v = c_int(value)
    return f"<invalid={v}>" if opts.decimal else f"<invalid={c_hex(u32(v))}>"


def integer_arg_valid(name: str | None, value: int, opts: Options) -> str:
    """print_integer_arg_valid: the name, or the number itself."""
    if name is not None:
        return name
    v = c_int(value)
    return str(v) if opts.decimal else c_hex(u32(v))


# A mask decoder returns (names, bits it could not name), like libsysdecode's.
MaskDecoder = Callable[[int], tuple[list[str], int]]


def mask_arg(decoder: MaskDecoder, value: int) -> str:
    """print_mask_arg: ``%#x<A|B>``, then ``<invalid>N`` when nothing matched."""
    v = u32(value)
    names, rem = decoder(c_int(value))
    text = f"{c_hex(v)}<{'|'.join(names)}>"
    return text if names else f"{text}<invalid>{u32(rem)}"


def mask_arg0(decoder: MaskDecoder, value: int) -> str:
    """print_mask_arg0: like mask_arg, but zero prints as ``0``."""
    return "0" if u32(value) == 0 else mask_arg(decoder, value)


def xlat_mask(table: Xlat) -> MaskDecoder:
    return lambda v: table.mask(u32(v))


# sys/stat.h's mode names as libsysdecode's filemode table orders them; the
# values are POSIX's, the same for FreeBSD and Linux.
FILEMODE = Xlat((
    (0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISTXT"),
    (0o700, "S_IRWXU"), (0o400, "S_IRUSR"), (0o200, "S_IWUSR"), (0o100, "S_IXUSR"),
    (0o400, "S_IREAD"), (0o200, "S_IWRITE"), (0o100, "S_IEXEC"),
    (0o70, "S_IRWXG"), (0o40, "S_IRGRP"), (0o20, "S_IWGRP"), (0o10, "S_IXGRP"),
    (0o7, "S_IRWXO"), (0o4, "S_IROTH"), (0o2, "S_IWOTH"), (0o1, "S_IXOTH"),
    (0o170000, "S_IFMT"), (0o10000, "S_IFIFO"), (0o20000, "S_IFCHR"),
    (0o40000, "S_IFDIR"), (0o60000, "S_IFBLK"), (0o100000, "S_IFREG"),
    (0o120000, "S_IFLNK"), (0o140000, "S_IFSOCK"), (0o1000, "S_ISVTX"),
    (0o160000, "S_IFWHT"),
))


def filemode(value: int) -> str:
    """decode_filemode: ``0`` or ``%#o<S_IRUSR|...>``."""
    v = u32(value)
    if v == 0:
        return "0"
    names, rem = FILEMODE.mask(v)
    text = f"{c_oct(v)}<{'|'.join(names)}>"
    return text if names else f"{text}<invalid>{rem}"


def open_flags_decoder(access: Xlat, flags: Xlat, accmode: int) -> MaskDecoder:
    """sysdecode_open_flags: the access mode's name, then the flag bits."""
    def decode(value: int) -> tuple[list[str], int]:
        v = u32(value)
        mode = v & accmode
        name = access.name(mode)
        names, rem = flags.mask(v & ~accmode)
        if name is None:
            return names, rem | mode
        return [name] + names, rem
    return decode


def socket_type_decoder(types: Xlat, flags: Xlat) -> MaskDecoder:
    """sysdecode_socket_type: the type's name, then the SOCK_ flag bits."""
    flag_bits = sum(value for value, _ in flags.entries)

    def decode(value: int) -> tuple[list[str], int]:
        v = u32(value)
        name = types.name(v & ~flag_bits)
        names, _ = flags.mask(v & flag_bits)
        return ([name] + names, 0) if name else (names, v & ~flag_bits)
    return decode

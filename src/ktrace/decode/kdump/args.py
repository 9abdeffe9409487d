"""CALL arguments in FreeBSD kdump's layout.

A syscall's decoding is a sequence of *printers*.  Each printer takes the
arguments it needs from a :class:`Cursor` and appends the strings it prints;
whatever no printer took is printed as raw numbers, as kdump's trailing
``while (narg) print_number`` loop does.  A printer may take two arguments and
print one (open's mode without O_CREAT, fcntl without an argument), exactly
like kdump.  The per-ABI tables map syscall names to printer sequences.
"""

from __future__ import annotations

from typing import Callable, Iterable

from .fmt import (MaskDecoder, Options, c_int, filemode, integer_arg,
                        integer_arg_valid, mask_arg, mask_arg0, number, signed)
from ..xlat import Xlat


class Cursor:
    """The arguments of one call, the position reached, and what was printed."""

    __slots__ = ("args", "pos", "opts", "bits", "out")

    def __init__(self, args: tuple[int, ...], opts: Options, bits: int):
        self.args = args
        self.pos = 0
        self.opts = opts
        self.bits = bits
        self.out: list[str] = []

    def left(self) -> int:
        return len(self.args) - self.pos

    def take(self) -> int:
        value = self.args[self.pos]
        self.pos += 1
        return value

    def peek(self, ahead: int = 0) -> int | None:
        i = self.pos + ahead
        return self.args[i] if i < len(self.args) else None


Printer = Callable[[Cursor], None]


def _one(render: Callable[[int, Cursor], str]) -> Printer:
    """A printer of one argument (nothing when the arguments ran out)."""
    def printer(c: Cursor) -> None:
        if c.left():
            c.out.append(render(c.take(), c))
    return printer


num = _one(lambda v, c: number(v, c.opts, c.bits))
dec = _one(lambda v, c: str(signed(v, c.bits)))          # print_decimal_number
mode = _one(lambda v, c: filemode(v))


def enum(table: Xlat) -> Printer:
    return _one(lambda v, c: integer_arg(table.name(c_int(v)), v, c.opts))


def enum_valid(lookup: Callable[[int], str | None]) -> Printer:
    return _one(lambda v, c: integer_arg_valid(lookup(c_int(v)), v, c.opts))


def mask(decoder: MaskDecoder) -> Printer:
    return _one(lambda v, c: mask_arg(decoder, v))


def mask0(decoder: MaskDecoder) -> Printer:
    return _one(lambda v, c: mask_arg0(decoder, v))


def named(lookup: Callable[[int], str | None], fallback: Callable[[int, Cursor], str]) -> Printer:
    """A name where the lookup knows one, else the fallback's text."""
    return _one(lambda v, c: lookup(v) or fallback(v, c))


def open_flags(flags: MaskDecoder, creat: int) -> Printer:
    """open's flags, and its mode only with O_CREAT (both arguments taken)."""
    def printer(c: Cursor) -> None:
        if not c.left():
            return
        value = c.take()
        c.out.append(mask_arg(flags, value))
        if c.left():
            m = c.take()
            if value & creat:
                c.out.append(filemode(m))
    return printer


def fcntl(cmds: Xlat, has_arg: Callable[[int], bool],
          arg_text: Callable[[int, int, Cursor], str]) -> Printer:
    """fcntl's command, and its argument only for commands that take one."""
    def printer(c: Cursor) -> None:
        if not c.left():
            return
        cmd = c_int(c.take())
        c.out.append(integer_arg(cmds.name(cmd), cmd, c.opts))
        if c.left():
            arg = c.take()
            if has_arg(cmd):
                c.out.append(arg_text(cmd, arg, c))
    return printer


def when(test: Callable[[Cursor], bool], printer: Printer) -> Printer:
    """Run ``printer`` only when ``test`` holds for the arguments so far."""
    def conditional(c: Cursor) -> None:
        if test(c):
            printer(c)
    return conditional


Table = dict[str, tuple[Printer, ...]]


def table(*groups: Iterable[tuple[Iterable[str], tuple[Printer, ...]]]) -> Table:
    """Build name -> printers from (names, printers) groups."""
    out: Table = {}
    for group in groups:
        for names, printers in group:
            for name in names:
                out[name] = printers
    return out


def render(printers: tuple[Printer, ...], args: tuple[int, ...], opts: Options,
           bits: int) -> list[str]:
    c = Cursor(args, opts, bits)
    for printer in printers:
        printer(c)
    opts = c.opts
    c.out += [number(v, opts, bits) for v in args[c.pos:]]
    return c.out


def raw(args: tuple[int, ...], opts: Options, bits: int) -> list[str]:
    return render((), args, opts, bits)


def socket(domains: Xlat, types: MaskDecoder, protocols: Xlat, inet: tuple[int, ...]) -> Printer:
    """socket(domain, type, protocol): the protocol named only for IP domains."""
    def printer(c: Cursor) -> None:
        if not c.left():
            return
        domain = c_int(c.peek())
        enum(domains)(c)
        mask(types)(c)
        if domain in inet:
            enum(protocols)(c)
    return printer


def fcntl_arg(setfd: int, setfl: int, locks: set[int], open_flags: MaskDecoder):
    """sysdecode_fcntl_arg: how fcntl's third argument prints for ``cmd``."""
    def text(cmd: int, arg: int, c: Cursor) -> str:
        if cmd == setfd and arg == 1:           # FD_CLOEXEC on every system
            return "FD_CLOEXEC"
        if cmd == setfl:
            return mask_arg(open_flags, arg)
        if cmd in locks:
            return f"{arg:#x}"
        v = c_int(arg)
        return str(v) if c.opts.decimal else f"0x{v & 0xFFFFFFFF:x}"
    return text

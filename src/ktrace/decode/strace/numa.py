"""NUMA memory policies: mbind, set_mempolicy, get_mempolicy,
set_mempolicy_home_node, migrate_pages, move_pages (strace's numa.c)."""

from __future__ import annotations

import errno as _errno
import struct

from ..xlat import LINUX as L
from .call import PTR, ULONG, Arg, Call, at_exit, p_ulong
from .call import TGID  # printpid: --decode-pids=
from .fmt import STYLE, flags, hexval, named, ptr, xval

LONG_BITS = 64
_MODE_FLAGS = 0
for _value, _name in L.MPOL_MODE_FLAGS.entries:
    _MODE_FLAGS |= _value
_U64 = (1 << 64) - 1


def print_array(c: Call, addr: int, nmemb: int, size: int, data: bytes | None, item) -> str:
    """print_array over recorded bytes: NULL, ``[]``, the address when the
    array's end wraps or nothing was recorded, else ``[a, b, ...]`` (at most
    -s elements unless -v)."""
    if not addr:
        return "NULL"
    if not nmemb:
        return "[]"
    if addr + nmemb * size > _U64 or data is None or len(data) < size or not c.verbose:
        return ptr(addr)
    shown = nmemb if not c.abbrev else min(nmemb, c.opts.strsize)
    have = len(data) // size
    out = [item(data[k * size:(k + 1) * size]) for k in range(min(shown, have))]
    # strace reads an item before it sees that -s items were shown
    if have <= shown and have < nmemb:
        out.append(f"... /* {ptr(addr + have * size)} */")
    elif shown < nmemb:
        out.append("...")
    return "[" + ", ".join(out) + "]"


def _node(raw: bytes) -> str:
    """PRINT_VAL_0X of a long: C's %#016lx (no 0x for zero)."""
    value = struct.unpack("<Q", raw)[0]
    return f"{value:#016x}" if value else "0" * 16


def _nodemask(mask_arg: int, max_arg: int, exit: bool = False):
    """print_nodemask: (maxnode + 62) / 64 longs (the address when maxnode is
    nonzero but that is none)."""
    def render(c: Call, i: int) -> str:
        maxnode = c.arg(max_arg)
        nmemb = (maxnode + LONG_BITS - 2) // LONG_BITS
        addr = c.arg(mask_arg)
        if maxnode and not nmemb:
            return ptr(addr)
        arr = c.array(i, "long", exit=exit)
        data = arr.data if arr is not None and (c.ok or not exit) else None
        return print_array(c, addr, nmemb, 8, data, _node)
    return render


def mode_text(value: int) -> str:
    """print_mode: MPOL_BIND|MPOL_F_STATIC_NODES (one constant to -X)."""
    mode, mode_flags = value & ~_MODE_FLAGS, value & _MODE_FLAGS
    if not mode_flags:
        return xval(L.MPOL_MODES, mode, "MPOL_???")
    name = L.MPOL_MODES.name(mode)
    if name is None:
        return flags(L.MPOL_MODE_FLAGS, value, unknown="MPOL_???")
    style = STYLE.get()
    if style == "raw":
        return hexval(value)
    text = name + "|" + "|".join(L.MPOL_MODE_FLAGS.flags(mode_flags)[0])
    return f"{hexval(value)} /* {text} */" if style == "verbose" else text


def _mode(bits: int):
    return Arg(lambda c, i: mode_text(c.arg(i) & ((1 << bits) - 1)))


def _stored_mode(c: Call, i: int) -> str:
    """get_mempolicy's mode, written through a pointer: ``[MPOL_DEFAULT]``."""
    data = c.struct(i, "int")
    if data is None or len(data) < 4 or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    pol = struct.unpack("<i", data[:4])[0]
    return "[" + xval(L.MPOL_MODES, pol & 0xFFFFFFFF, "MPOL_???") + "]"


def _int_item(raw: bytes) -> str:
    return str(struct.unpack("<i", raw)[0])


def _addr_item(raw: bytes) -> str:
    return ptr(struct.unpack("<Q", raw)[0])


def _status_item(raw: bytes) -> str:
    """print_err: a negative status is an errno's name."""
    value = struct.unpack("<i", raw)[0]
    if value < 0:
        name = _errno.errorcode.get(-value)
        if name:
            return named(f"-{name}", value, str(value))
    return str(value)


def _pages_array(name: str, size: int, item, exit: bool = False):
    def render(c: Call, i: int) -> str:
        rec = c.array(i, name, exit=exit)
        data = rec.data if rec is not None and not (exit and not c.ok) else None
        return print_array(c, c.arg(i), c.arg(1), size, data, item)
    return render


NODEMASK_FLAGS = Arg(lambda c, i: flags(L.MBIND_FLAGS, c.arg(i) & 0xFFFFFFFF, unknown="MPOL_???"))

SYSCALLS = {
    "mbind": (PTR, ULONG, _mode(64), Arg(_nodemask(3, 4)), ULONG, NODEMASK_FLAGS),
    "set_mempolicy": (_mode(32), Arg(_nodemask(1, 2)), ULONG),
    "get_mempolicy": (at_exit(_stored_mode), at_exit(_nodemask(1, 2, exit=True)),
                      at_exit(p_ulong), at_exit(lambda c, i: ptr(c.arg(i))),
                      at_exit(lambda c, i: flags(L.GET_MEMPOLICY_FLAGS, c.arg(i),
                                                 unknown="MPOL_???"))),
    "set_mempolicy_home_node": (PTR, ULONG, ULONG, Arg(lambda c, i: hexval(c.arg(i)))),
    "migrate_pages": (TGID, ULONG, Arg(_nodemask(2, 1)), Arg(_nodemask(3, 1))),
    "move_pages": (TGID, ULONG, Arg(_pages_array("long", 8, _addr_item)),
                   Arg(_pages_array("int", 4, _int_item)),
                   at_exit(_pages_array("int", 4, _status_item, exit=True)),
                   at_exit(lambda c, i: flags(L.MOVE_PAGES_FLAGS, c.arg(i) & 0xFFFFFFFF,
                                              unknown="MPOL_???"))),
}

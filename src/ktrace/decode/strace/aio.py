"""Linux native AIO: contexts and events (io_submit's iocbs are not recorded)."""

from __future__ import annotations

import struct

from . import structs as T
from .call import PTR, Arg, Call, at_exit
from .fdio import print_array, sigset_argpack
from .fmt import c_long, hexval, ptr

IO_EVENT = struct.Struct("<QQqq")       # data, obj, res, res2


def _context(c: Call, i: int) -> str:
    """io_setup's context (printnum_ptr): ``[0x7f...]`` once the kernel stored it."""
    data = c.struct(i, "long")
    if data is None or len(data) < 8 or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return f"[{ptr(int.from_bytes(data[:8], 'little'))}]"


def _events(c: Call, i: int) -> str:
    if not c.ok:
        return ptr(c.arg(i))
    arr = c.array(i, "io_event")
    data = arr.data if arr is not None else b""
    items = [f"{{data={hexval(d)}, obj={hexval(o)}, res={r}, res2={r2}}}"
             for d, o, r, r2 in IO_EVENT.iter_unpack(data[:len(data) // 32 * 32])]
    return print_array(c, c.arg(i), c.retval, items if c.verbose else [], IO_EVENT.size)


def _timeout(c: Call, i: int) -> str:
    """The timeout read at entry, printed when the call returns, failed or not."""
    data = c.struct(i, "timespec", exit=False)
    return T.timespec_text(data) if data is not None and c.verbose else ptr(c.arg(i))


LONG_ARG = Arg(lambda c, i: str(c_long(c.arg(i))))

SYSCALLS = {
    "io_setup": (Arg(lambda c, i: str(c.arg(i) & 0xFFFFFFFF)), at_exit(_context)),
    "io_destroy": (PTR,),
    "io_submit": (PTR, LONG_ARG, PTR),
    "io_getevents": (PTR, LONG_ARG, LONG_ARG, at_exit(_events), at_exit(_timeout)),
    "io_pgetevents": (PTR, LONG_ARG, LONG_ARG, at_exit(_events), at_exit(_timeout),
                      at_exit(sigset_argpack)),
    "io_cancel": (PTR, PTR, at_exit(PTR.render)),
}

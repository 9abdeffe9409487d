"""POSIX message queues."""

from __future__ import annotations

import struct

from .. import structs as S
from ..xlat import LINUX as L
from . import structs as T
from .call import FD, ULONG, Arg, Call, at_exit, octal, p_struct
from .clocks import sigevent_text
from .fmt import flags, hexval, printpath, ptr
from .fs import open_flags, printstr_ex

O_CREAT = L.OPEN_FLAGS.value("O_CREAT")
MQ_ATTR = struct.Struct("<qqqq")        # mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs


def mq_attr_text(data: bytes, decode_flags: bool) -> str | None:
    if len(data) < MQ_ATTR.size:
        return None
    mq_flags, maxmsg, msgsize, curmsgs = MQ_ATTR.unpack_from(data)
    text = (flags(L.MQ_ATTR_FLAGS, mq_flags & (1 << 64) - 1, unknown="O_???")
            if decode_flags else hexval(mq_flags & (1 << 64) - 1))
    return f"{{mq_flags={text}, mq_maxmsg={maxmsg}, mq_msgsize={msgsize}, mq_curmsgs={curmsgs}}}"


def _attr(exit: bool, decode_flags: bool):
    def render(c: Call, i: int) -> str:
        data = c.struct(i, "mq_attr", exit=exit)
        text = mq_attr_text(data, decode_flags) if data is not None else None
        if text is None or not c.verbose or (exit and not c.ok):
            return ptr(c.arg(i))
        return text
    return render


def _name(c: Call, i: int) -> str:
    data = c.struct(i, "string", exit=False)
    return printpath(data, c.opts) if data is not None else ptr(c.arg(i))


def _open_rest(c: Call, i: int) -> str:
    """mq_open's flags, then its mode and attr only with O_CREAT."""
    value = c.arg(1) & 0xFFFFFFFF
    text = open_flags(value)
    if value & O_CREAT:
        text += f", {octal(c.arg(2) & 0xFFFF)}, {_attr(False, False)(c, 3)}"
    return text


def _sent(c: Call, i: int) -> str:
    return printstr_ex(c, i, c.struct(i, "bytes", exit=False), c.arg(i + 1), False)


def _received(c: Call, i: int) -> str:
    if not c.ok:
        return ptr(c.arg(i))
    gio = c.gio(i)
    return printstr_ex(c, i, gio.data if gio is not None else None, c.retval, False)


def _prio(c: Call, i: int) -> str:
    f = S.fixed("int", c.struct(i, "int") or b"")
    if f is None or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return f"[{f['value'] & 0xFFFFFFFF}]"


def _timeout(c: Call, i: int) -> str:
    """The timeout the kernel read at entry, whether the call failed or not."""
    f = c.struct(i, "timespec", exit=False)
    return T.timespec_text(f) if f is not None and c.verbose else ptr(c.arg(i))


def _sigevent(c: Call, i: int) -> str:
    data = c.struct(i, "sigevent", exit=False)
    return sigevent_text(data) if data is not None and c.verbose else ptr(c.arg(i))


SYSCALLS = {
    "mq_open": (Arg(_name), Arg(_open_rest)),
    "mq_unlink": (Arg(_name),),
    "mq_getsetattr": (FD, Arg(_attr(False, True)), at_exit(_attr(True, True))),
    "mq_timedsend": (FD, Arg(_sent), ULONG, Arg(lambda c, i: str(c.arg(i) & 0xFFFFFFFF)),
                     Arg(p_struct("timespec", T.timespec_text, exit=False))),
    "mq_timedreceive": (FD, at_exit(_received), at_exit(lambda c, i: str(c.arg(i))),
                        at_exit(_prio), at_exit(_timeout)),
    "mq_notify": (FD, Arg(_sigevent)),
}

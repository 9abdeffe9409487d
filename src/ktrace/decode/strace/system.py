"""The system as a whole: host name, kernel log, dcookies, ustat."""

from __future__ import annotations

import struct

from ..xlat import LINUX as L, Xlat
from . import structs as T
from .call import PTR, Arg, Call, at_exit
from .fmt import c_int, ptr
from .fs import printstr_ex

NEW_UTS_LEN = 64            # the longest host name the kernel takes


def _hostname(c: Call, i: int) -> str:
    """sethostname's name: ``len`` bytes, the address past __NEW_UTS_LEN."""
    size = c.arg(1) & 0xFFFFFFFF
    if size > NEW_UTS_LEN:
        return ptr(c.arg(i))
    return printstr_ex(c, i, c.struct(i, "string", exit=False), size, False)


# syslog's console levels, and the one past LOGLEVEL_DEBUG strace names
LOGLEVELS = Xlat(L.SYSLOG_LOGLEVELS.entries + ((8, "LOGLEVEL_DEBUG+1"),))
_A = L.SYSLOG_ACTIONS.value
NO_BUFFER = {_A(n) for n in ("SYSLOG_ACTION_CLOSE", "SYSLOG_ACTION_OPEN", "SYSLOG_ACTION_CLEAR",
                             "SYSLOG_ACTION_CONSOLE_OFF", "SYSLOG_ACTION_CONSOLE_ON",
                             "SYSLOG_ACTION_SIZE_UNREAD", "SYSLOG_ACTION_SIZE_BUFFER")}
READS = {_A(n) for n in ("SYSLOG_ACTION_READ", "SYSLOG_ACTION_READ_ALL",
                         "SYSLOG_ACTION_READ_CLEAR")}
CONSOLE_LEVEL = _A("SYSLOG_ACTION_CONSOLE_LEVEL")


def _decimal_verbose(table: Xlat, value: int, unknown: str) -> str:
    """printxval_ex(XLAT_STYLE_VERBOSE | XLAT_STYLE_FMT_D): ``8 /* NAME */`` whatever -X says."""
    return f"{value} /* {table.name(value) or unknown} */"


def _syslog_type(c: Call, i: int) -> str:
    return _decimal_verbose(L.SYSLOG_ACTIONS, c_int(c.arg(0)), "SYSLOG_ACTION_???")


def _syslog_buf(c: Call, i: int) -> str | None:
    """The buffer and length the action uses: none, the address, or what was read."""
    action = c_int(c.arg(0))
    size = c_int(c.arg(2))
    if action in NO_BUFFER:
        return None
    if action == CONSOLE_LEVEL:
        return f"{ptr(c.arg(1))}, {_decimal_verbose(LOGLEVELS, size, 'LOGLEVEL_???')}"
    if action in READS and c.ok:
        data = c.struct(1, "bytes")
        return f"{printstr_ex(c, 1, data, c.retval, False)}, {size}"
    return f"{ptr(c.arg(1))}, {size}"


def _dcookie_buf(c: Call, i: int) -> str:
    if not c.ok:
        return ptr(c.arg(i))
    return printstr_ex(c, i, c.struct(i, "bytes"), c.retval, False)


SYSCTL_ARGS = struct.Struct("<Qi4xQQQQ32x")   # struct __sysctl_args


def _sysctl_args(c: Call, i: int) -> str:
    data = c.struct(i, "sysctl_args", exit=False)
    if data is None or len(data) < SYSCTL_ARGS.size or not c.verbose:
        return ptr(c.arg(i))
    name, nlen, oldval, oldlenp, newval, newlen = SYSCTL_ARGS.unpack_from(data)
    return (f"{{name={ptr(name)}, nlen={nlen}, oldval={ptr(oldval)}, oldlenp={ptr(oldlenp)}, "
            f"newval={ptr(newval)}, newlen={newlen}}}")


SYSCALLS = {
    "_sysctl": (Arg(_sysctl_args),),
    "sethostname": (Arg(_hostname), Arg(lambda c, i: str(c.arg(i) & 0xFFFFFFFF))),
    "syslog": (Arg(_syslog_type),
               Arg(_syslog_buf, exit=lambda c: c_int(c.arg(0)) in READS), None),
    # lookup_dcookie prints nothing until it returns
    "lookup_dcookie": (at_exit(lambda c, i: str(c.arg(i))), at_exit(_dcookie_buf),
                       at_exit(lambda c, i: str(c.arg(i)))),
    "ustat": (Arg(lambda c, i: T.makedev(c.arg(i) & 0xFFFFFFFF)), at_exit(PTR.render)),
}

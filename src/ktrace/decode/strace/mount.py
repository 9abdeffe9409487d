"""Mounts: mount(2) and the new mount API (fsopen, fsmount, fsconfig)."""

from __future__ import annotations

import struct

from ..xlat import LINUX as L
from . import structs as T
from .call import (DIRFD, FD, PATH, STR_IN, ULONG, Arg, Call, p_dirfd, p_fd, p_flags, p_path,
                   p_string_in)
from .fmt import c_int, flags, named, printpath, ptr, quote, xval
from .fs import printstr_upto

MS_MGC_VAL = L.MOUNT_MAGIC.value("MS_MGC_VAL")
MS_MGC_MSK = L.MOUNT_MAGIC.value("MS_MGC_MSK")
_MS = L.MOUNT_FLAGS.value
MS_REMOUNT = _MS("MS_REMOUNT")
# flags that make mount ignore its type and data
MS_NO_TYPE_NO_DATA = (_MS("MS_BIND") | _MS("MS_MOVE") | _MS("MS_SHARED") | _MS("MS_PRIVATE")
                      | _MS("MS_SLAVE") | _MS("MS_UNBINDABLE"))
U64 = (1 << 64) - 1


FSCONFIG_STRING_MAX = 256      # the bytes of a key or value strace reads


def _mount_flags(c: Call) -> tuple[int, bool]:
    """mount's flags without the old magic, and whether it was there."""
    value = c.arg(3)
    if value & MS_MGC_MSK == MS_MGC_VAL:
        return value & ~MS_MGC_MSK & U64, True
    return value, False


def _ignores(c: Call) -> tuple[bool, bool]:
    """(type ignored, data ignored) for mount's flags."""
    value, _ = _mount_flags(c)
    if value & MS_REMOUNT:
        return True, False
    if value & MS_NO_TYPE_NO_DATA:
        return True, True
    return False, False


def _source(c: Call, i: int) -> str:
    data = c.struct(i, "string", exit=False)
    return printpath(data, c.opts) if data is not None else ptr(c.arg(i))


def _type(c: Call, i: int) -> str:
    return ptr(c.arg(i)) if _ignores(c)[0] else p_string_in(c, i)


def _data(c: Call, i: int) -> str:
    return ptr(c.arg(i)) if _ignores(c)[1] else p_string_in(c, i)


def _flags(c: Call, i: int) -> str:
    value, magic = _mount_flags(c)
    text = named("MS_MGC_VAL", MS_MGC_VAL) if magic else ""
    if value or not magic:
        text += ("|" if magic else "") + flags(L.MOUNT_FLAGS, value, unknown="MS_???")
    return text


_CMD = L.FSCONFIG_CMDS.value
KEYED = {_CMD(n) for n in ("FSCONFIG_SET_FLAG", "FSCONFIG_SET_STRING", "FSCONFIG_SET_BINARY",
                           "FSCONFIG_SET_PATH", "FSCONFIG_SET_PATH_EMPTY", "FSCONFIG_SET_FD")}
PATHS = {_CMD("FSCONFIG_SET_PATH"), _CMD("FSCONFIG_SET_PATH_EMPTY")}


def _fsconfig(c: Call, i: int) -> str:
    """fsconfig's command, key, value and aux, each as the command means it."""
    cmd = c.arg(1) & 0xFFFFFFFF
    aux = c_int(c.arg(4))
    key = printstr_upto(c, 2, FSCONFIG_STRING_MAX) if cmd in KEYED else ptr(c.arg(2))
    if cmd == _CMD("FSCONFIG_SET_STRING"):
        value = printstr_upto(c, 3, FSCONFIG_STRING_MAX)
    elif cmd in PATHS:
        value = _source(c, 3)
    elif cmd == _CMD("FSCONFIG_SET_BINARY") and 0 <= aux <= 1 << 20:
        data = c.struct(3, "bytes", exit=False)
        shown = min(aux, c.opts.strsize)
        if c.arg(3) and data is not None and len(data) >= min(aux, c.opts.strsize + 1):
            value = quote(data[:shown], force_hex=True) + ("..." if aux > shown else "")
        else:
            value = ptr(c.arg(3))
    else:
        value = ptr(c.arg(3))
    if cmd in PATHS:
        aux_text = p_dirfd(c, 4)
    elif cmd == _CMD("FSCONFIG_SET_FD"):
        aux_text = p_fd(c, 4)
    else:
        aux_text = str(aux)
    return f"{xval(L.FSCONFIG_CMDS, cmd, 'FSCONFIG_???')}, {key}, {value}, {aux_text}"


def fsconfig_traced(c: Call) -> tuple[list[bytes], list[int]]:
    """(paths, descriptors) strace's -P matches of an fsconfig (pathtrace.c's
    own case of it): FSCONFIG_SET_PATH's and _PATH_EMPTY's path and
    descriptor, FSCONFIG_SET_FD's descriptor; not the first argument's."""
    cmd, aux = c.arg(1) & 0xFFFFFFFF, c_int(c.arg(4))
    fds = [aux] if cmd in PATHS | {_CMD("FSCONFIG_SET_FD")} and aux >= 0 else []
    path = c.struct(3, "string", exit=False) if cmd in PATHS else None
    return ([path] if path is not None else []), fds


MOUNT_ATTR_SIZE_VER0 = 32
MOUNT_ATTR = struct.Struct("<QQQQ")     # attr_set, attr_clr, propagation, userns_fd
MOUNT_ATTR_IDMAP = L.MOUNT_ATTR_FLAGS.value("MOUNT_ATTR_IDMAP")
INT_MAX = (1 << 31) - 1


def _mount_attr(c: Call, i: int) -> str:
    """mount_setattr's struct mount_attr of ``usize`` bytes, what it holds past
    the fields strace knows as bytes."""
    size = c.arg(4)
    data = c.struct(i, "mount_attr", exit=False)
    if size < MOUNT_ATTR_SIZE_VER0 or data is None or len(data) < MOUNT_ATTR.size \
            or not c.verbose:
        return ptr(c.arg(i))
    attr_set, attr_clr, propagation, userns_fd = MOUNT_ATTR.unpack_from(data)
    if userns_fd > INT_MAX or not (attr_set | attr_clr) & MOUNT_ATTR_IDMAP:
        userns = str(userns_fd)
    else:
        userns = c.fd_text(userns_fd)
    fields = [f"attr_set={flags(L.MOUNT_ATTR_FLAGS, attr_set, unknown='MOUNT_ATTR_???')}",
              f"attr_clr={flags(L.MOUNT_ATTR_FLAGS, attr_clr, unknown='MOUNT_ATTR_???')}",
              f"propagation={xval(L.MOUNT_PROPAGATION, propagation, 'MS_???')}",
              f"userns_fd={userns}"]
    tail = T.nonzero_tail(data, MOUNT_ATTR.size, size, c.opts)
    if tail:
        fields.append(tail)
    return "{" + ", ".join(fields) + "}"


SYSCALLS = {
    "mount_setattr": (DIRFD, PATH, Arg(p_flags(L.MOUNT_SETATTR_FLAGS, "AT_???")),
                      Arg(_mount_attr), ULONG),
    "mount": (Arg(_source), Arg(p_path), Arg(_type), Arg(_flags), Arg(_data)),
    "fsopen": (STR_IN, Arg(p_flags(L.FSOPEN_FLAGS, "FSOPEN_???"))),
    "fsmount": (FD, Arg(p_flags(L.FSMOUNT_FLAGS, "FSMOUNT_???")),
                Arg(p_flags(L.FSMOUNT_ATTR_FLAGS, "MOUNT_ATTR_???"))),
    "fsconfig": (FD, Arg(_fsconfig)),
}

"""Kernel keys: add_key, request_key, keyctl (strace's keyctl.c)."""

from __future__ import annotations

import errno as _errno

from .. import structs as S
from ..xlat import LINUX as L
from .call import STR_IN, Arg, Call, counted_text, p_counted, p_string_in, uid_text
from .fdio import given_iovecs
from .fmt import STYLE, array, c_int, flags, hexval, named, printstr, ptr, xval


def serial_text(value: int) -> str:
    """printxval_d(key_spec): a special keyring's name, else the serial in decimal."""
    serial = c_int(value)
    name = L.KEY_SPECS.name(serial)
    return named(name, serial, str(serial)) if name else str(serial)


def _serial(c: Call, i: int) -> str:
    return serial_text(c.arg(i))


def _written(c: Call, i: int) -> bytes | None:
    """What a successful call wrote to the buffer of argument ``i``, where recorded."""
    return c.struct(i, "bytes") if c.ok and c.arg(i) else None


def _read_buf(omit_nul: bool):
    """KEYCTL_DESCRIBE/READ/GET_SECURITY's buffer: what the call wrote (at most
    its size), a description's closing NUL left out."""
    def render(c: Call, i: int) -> str:
        data = _written(c, i)
        if data is None:
            return ptr(c.arg(i))
        data = data[:min(c.retval, c.arg(3))] if c.retval >= 0 else data
        if omit_nul and data.endswith(b"\0"):
            data = data[:-1]
        return printstr(data, c.opts)
    return render


def _u32(c: Call, i: int) -> str:
    return str(c.arg(i) & 0xFFFFFFFF)


def _ulong(c: Call, i: int) -> str:
    return str(c.arg(i))


def _int(c: Call, i: int) -> str:
    return str(c_int(c.arg(i)))


def _hex(c: Call, i: int) -> str:
    return hexval(c.arg(i))


def _uid(c: Call, i: int) -> str:
    return uid_text(c.arg(i))


def _error(c: Call, i: int) -> str:
    """print_err(error, false): an errno's name, else the number."""
    value = c.arg(i) & 0xFFFFFFFF
    name = _errno.errorcode.get(value)
    return named(name, value, str(value)) if name else str(value)


def _reqkey(c: Call, i: int) -> str:
    value = c_int(c.arg(i))
    name = L.KEY_REQKEYS.name(value)
    if name is not None:
        return named(name, value, str(value))
    return str(value) if STYLE.get() == "raw" else f"{value} /* KEY_REQKEY_DEFL_??? */"


def _perm(c: Call, i: int) -> str:
    return flags(L.KEY_PERMS, c.arg(i) & 0xFFFFFFFF, unknown="KEY_???")


def _move_flags(c: Call, i: int) -> str:
    return flags(L.KEYCTL_MOVE_FLAGS, c.arg(i) & 0xFFFFFFFF, unknown="KEYCTL_MOVE_???")


def _ptr(c: Call, i: int) -> str:
    return ptr(c.arg(i))


def _caps(c: Call, i: int) -> str:
    """KEYCTL_CAPABILITIES' bytes: the first two as their flags, the rest in hex."""
    data = _written(c, i)
    if data is None:
        return ptr(c.arg(i))
    count = min(c.arg(2), c.retval)
    tables = ((L.KEYCTL_CAPS0, "KEYCTL_CAPS0_???"), (L.KEYCTL_CAPS1, "KEYCTL_CAPS1_???"))
    items = [flags(tables[k][0], data[k], unknown=tables[k][1]) if k < 2 else hexval(data[k])
             for k in range(min(count, len(data)))]
    return array(iter(items), c.opts) if count else "[]"


def _fields(c: Call, i: int, name: str, exit: bool = False) -> dict | None:
    """The fields of STRU ``name`` of argument ``i``, where recorded."""
    data = c.struct(i, name, exit=exit)
    return S.fixed(name, data) if data is not None else None


def _struct_text(c: Call, f: dict, shown: tuple[tuple[str, str], ...], spare: int) -> str:
    """``{field=text, ...}`` of (name, text) pairs ``shown``, then the struct's
    ``spare`` __spare words when any is set (print_xint_array_member)."""
    words = [f[f"__spare{k}"] for k in range(spare)]
    if any(words):
        shown += (("__spare", array(map(hexval, words), c.opts)),)
    return "{" + ", ".join(f"{name}={text}" for name, text in shown) + "}"


def _dh_params(c: Call, i: int) -> str:
    """KEYCTL_DH_COMPUTE's struct keyctl_dh_params: three key serials."""
    f = _fields(c, i, "keyctl_dh_params") if c.verbose else None
    if f is None:
        return ptr(c.arg(i))
    return _struct_text(c, f, tuple((k, serial_text(f[k])) for k in ("private", "prime", "base")),
                        0)


def _dh_buf(c: Call, i: int) -> str:
    """KEYCTL_DH_COMPUTE's result: what the call wrote, at most its buffer's length."""
    data = _written(c, i)
    if data is None:
        return ptr(c.arg(i))
    return counted_text(c, c.arg(i), data, min(c.retval, c.arg(3)))


def _kdf(c: Call, i: int) -> str:
    """KEYCTL_DH_COMPUTE's struct keyctl_kdf_params, its hashname string and
    otherinfo bytes (its address when otherinfolen is 0: the kernel reads none)."""
    f = _fields(c, i, "keyctl_kdf_params")
    if f is None:
        return ptr(c.arg(i))
    hashname = c.struct(i, "string", exit=False)
    info, info_len = f["otherinfo"], f["otherinfolen"]
    return _struct_text(c, f, (
        ("hashname", printstr(hashname, c.opts) if hashname is not None else ptr(f["hashname"])),
        ("otherinfo", counted_text(c, info, c.struct(i, "bytes", exit=False), info_len)
         if info_len else ptr(info)),
        ("otherinfolen", str(info_len))), 8)


_PKEY_SIZES = ("key_size", "max_data_size", "max_sig_size", "max_enc_size", "max_dec_size")


def _pkey_query(c: Call, i: int) -> str:
    """KEYCTL_PKEY_QUERY's struct keyctl_pkey_query, written by a successful call."""
    f = _fields(c, i, "keyctl_pkey_query", exit=True) if c.ok and c.verbose else None
    if f is None:
        return ptr(c.arg(i))
    ops = flags(L.KEYCTL_PKEY_OPS, f["supported_ops"], unknown="KEYCTL_SUPPORTS_???")
    return _struct_text(c, f, (("supported_ops", ops),
                               *((k, str(f[k])) for k in _PKEY_SIZES)), 10)


def _pkey(c: Call) -> dict | None:
    """KEYCTL_PKEY_*'s struct keyctl_pkey_params (argument 1), where strace reads it."""
    return _fields(c, 1, "keyctl_pkey_params") if c.verbose else None


def _pkey_params(second: str):
    """The params, their third field named ``second``: out_len, or VERIFY's in2_len."""
    def render(c: Call, i: int) -> str:
        f = _pkey(c)
        if f is None:
            return ptr(c.arg(i))
        return _struct_text(c, f, (("key_id", serial_text(f["key_id"])),
                                   ("in_len", str(f["in_len"])),
                                   (second, str(f["out_len"]))), 7)
    return render


def _pkey_data(length: str, exit: bool = False):
    """A data argument of the params' ``length`` bytes: read at entry, or
    (``exit``) written by a successful call."""
    def render(c: Call, i: int) -> str:
        f = _pkey(c)
        if f is None or (exit and not c.ok):
            return ptr(c.arg(i))
        return counted_text(c, c.arg(i), c.struct(i, "bytes", exit=exit), f[length])
    return render


_E, _X = False, True     # printed at entry, at exit
# KEYCTL_PKEY_ENCRYPT's, _DECRYPT's and _SIGN's arguments: the data read, then written
_PKEY_OUT = ((_pkey_params("out_len"), _E), (p_string_in, _E),
             (_pkey_data("in_len"), _E), (_pkey_data("out_len", exit=True), _X))
# command -> its arguments after the command: (printer, printed at exit)
_COMMANDS = {
    "KEYCTL_GET_KEYRING_ID": ((_serial, _E), (_int, _E)),
    "KEYCTL_JOIN_SESSION_KEYRING": ((p_string_in, _E),),
    "KEYCTL_UPDATE": ((_serial, _E), (p_counted(3), _E), (_ulong, _E)),
    "KEYCTL_REVOKE": ((_serial, _E),), "KEYCTL_CLEAR": ((_serial, _E),),
    "KEYCTL_INVALIDATE": ((_serial, _E),), "KEYCTL_ASSUME_AUTHORITY": ((_serial, _E),),
    "KEYCTL_LINK": ((_serial, _E), (_serial, _E)),
    "KEYCTL_UNLINK": ((_serial, _E), (_serial, _E)),
    "KEYCTL_DESCRIBE": ((_serial, _E), (_read_buf(True), _X), (_ulong, _X)),
    "KEYCTL_READ": ((_serial, _E), (_read_buf(False), _X), (_ulong, _X)),
    "KEYCTL_GET_SECURITY": ((_serial, _E), (_read_buf(True), _X), (_ulong, _X)),
    "KEYCTL_SEARCH": ((_serial, _E), (p_string_in, _E), (p_string_in, _E), (_serial, _E)),
    "KEYCTL_CHOWN": ((_serial, _E), (_uid, _E), (_uid, _E)),
    "KEYCTL_SETPERM": ((_serial, _E), (_perm, _E)),
    "KEYCTL_INSTANTIATE": ((_serial, _E), (p_counted(3), _E), (_ulong, _E), (_serial, _E)),
    "KEYCTL_NEGATE": ((_serial, _E), (_u32, _E), (_serial, _E)),
    "KEYCTL_SET_REQKEY_KEYRING": ((_reqkey, _E),),
    "KEYCTL_SET_TIMEOUT": ((_serial, _E), (_u32, _E)),
    "KEYCTL_SESSION_TO_PARENT": (),
    "KEYCTL_REJECT": ((_serial, _E), (_u32, _E), (_error, _E), (_serial, _E)),
    "KEYCTL_INSTANTIATE_IOV": ((_serial, _E), (given_iovecs, _E), (_ulong, _E), (_serial, _E)),
    "KEYCTL_GET_PERSISTENT": ((_uid, _E), (_serial, _E)),
    "KEYCTL_RESTRICT_KEYRING": ((_serial, _E), (p_string_in, _E), (p_string_in, _E)),
    "KEYCTL_MOVE": ((_serial, _E), (_serial, _E), (_serial, _E), (_move_flags, _E)),
    "KEYCTL_CAPABILITIES": ((_caps, _X), (_ulong, _X)),
    "KEYCTL_DH_COMPUTE": ((_dh_params, _E), (_dh_buf, _X), (_ulong, _X), (_kdf, _X)),
    "KEYCTL_PKEY_QUERY": ((_serial, _E), (_hex, _E), (p_string_in, _E), (_pkey_query, _X)),
    "KEYCTL_PKEY_ENCRYPT": _PKEY_OUT, "KEYCTL_PKEY_DECRYPT": _PKEY_OUT,
    "KEYCTL_PKEY_SIGN": _PKEY_OUT,
    "KEYCTL_PKEY_VERIFY": ((_pkey_params("in2_len"), _E), (p_string_in, _E),
                           (_pkey_data("in_len"), _E), (_pkey_data("out_len"), _E)),
}
_DEFAULT = ((_hex, _E),) * 4


def _command(c: Call):
    name = L.KEYCTL_CMDS.name(c.arg(0) & 0xFFFFFFFF)
    return _COMMANDS.get(name, _DEFAULT) if name else _DEFAULT


def _keyctl_arg(c: Call, i: int) -> str | None:
    spec = _command(c)
    return spec[i - 1][0](c, i) if i - 1 < len(spec) else None


def _keyctl_late(c: Call, i: int) -> bool:
    spec = _command(c)
    return i - 1 < len(spec) and spec[i - 1][1]


def _keyctl_position(i: int) -> Arg:
    return Arg(_keyctl_arg, exit=lambda c: _keyctl_late(c, i))


SYSCALLS = {
    "add_key": (STR_IN, STR_IN, Arg(p_counted(3)), Arg(_ulong), Arg(_serial)),
    "request_key": (STR_IN, STR_IN, STR_IN, Arg(_serial)),
    "keyctl": (Arg(lambda c, i: xval(L.KEYCTL_CMDS, c.arg(i) & 0xFFFFFFFF, "KEYCTL_???")),
               *(_keyctl_position(i) for i in range(1, 5))),
}

"""ioctl requests of strace's loop.c (loop.h's loop device and loop-control requests).

The numbers are from before _IOC: the plan records the structs the setters
read (linux_plan's IOCTL_BLOCK); LOOP_GET_STATUS*'s answers are not recorded,
so they print as the address.  strace reads these structs with
umove_or_printaddr, which under ``-e verbose=`` (a call left out) prints the
address alone.
"""

from __future__ import annotations

import struct

from ...xlat import LINUX as L
from ..call import Call
from ..fmt import flags, hexval, ptr, quote, xval
from ..sockaddr import cstring
from ..structs import makedev
from . import FD_VALUE, INT_VALUE, NO_ARG, ULONG_VALUE, Request, hex_array, memory

LO_CRYPT_NONE, LO_KEY_SIZE = 0, 32
# loop_info (x86-64): lo_number, lo_device, lo_inode, lo_rdevice, lo_offset,
# lo_encrypt_type, lo_encrypt_key_size, lo_flags, lo_name, lo_encrypt_key,
# lo_init[2], reserved[4]
_INFO = struct.Struct("<i4xQQQIIII64s32s2Q4s4x")
# loop_info64: lo_device, lo_inode, lo_rdevice, lo_offset, lo_sizelimit, lo_number,
# lo_encrypt_type, lo_encrypt_key_size, lo_flags, lo_file_name, lo_crypt_name,
# lo_encrypt_key, lo_init[2]
_INFO64 = struct.Struct("<5Q4I64s64s32s2Q")
_CONFIG_HEAD = struct.Struct("<iI")                 # loop_config: fd, block_size, then info
_CONFIG_RESERVED = struct.Struct("<8Q")             # after the info
CONFIG_SIZE = _CONFIG_HEAD.size + _INFO64.size + _CONFIG_RESERVED.size


def _crypt(encrypt_type: int, key_size: int) -> str:
    return (f"lo_encrypt_type={xval(L.LOOP_CRYPT_TYPES, encrypt_type, 'LO_CRYPT_???')}, "
            f"lo_encrypt_key_size={key_size}")


def _key(key: bytes, key_size: int) -> str:
    return f"lo_encrypt_key={quote(key[:min(key_size, LO_KEY_SIZE)])}"


def _flags(value: int) -> str:
    return f"lo_flags={flags(L.LOOP_FLAGS, value, unknown='LO_FLAGS_???')}"


def info_text(data: bytes, c: Call) -> str:
    """loop_info: the encryption's fields when it has one (or -v), the device's with -v."""
    (number, device, inode, rdevice, offset, encrypt_type, key_size, lo_flags, name, key,
     init0, init1, reserved) = _INFO.unpack_from(data)
    encrypted = not c.abbrev or encrypt_type != LO_CRYPT_NONE
    parts = [f"lo_number={number}"]
    if not c.abbrev:
        parts += [f"lo_device={makedev(device)}", f"lo_inode={inode}",
                  f"lo_rdevice={makedev(rdevice)}"]
    parts.append(f"lo_offset={hexval(offset)}")
    if encrypted:
        parts.append(_crypt(encrypt_type, key_size))
    parts += [_flags(lo_flags), f"lo_name={cstring(name)}"]
    if encrypted:
        parts.append(_key(key, key_size))
    if c.abbrev:
        parts.append("...")
    else:
        parts += [f"lo_init={hex_array((init0, init1))}", f"reserved={hex_array(reserved)}"]
    return "{" + ", ".join(parts) + "}"


def info64_text(data: bytes, c: Call) -> str:
    """loop_info64, as loop_info prints (its fields in their own order)."""
    (device, inode, rdevice, offset, sizelimit, number, encrypt_type, key_size, lo_flags,
     file_name, crypt_name, key, init0, init1) = _INFO64.unpack_from(data)
    encrypted = not c.abbrev or encrypt_type != LO_CRYPT_NONE
    if c.abbrev:
        parts = [f"lo_offset={hexval(offset)}", f"lo_number={number}"]
    else:
        parts = [f"lo_device={makedev(device)}", f"lo_inode={inode}",
                 f"lo_rdevice={makedev(rdevice)}", f"lo_offset={hexval(offset)}",
                 f"lo_sizelimit={sizelimit}", f"lo_number={number}"]
    if encrypted:
        parts.append(_crypt(encrypt_type, key_size))
    parts += [_flags(lo_flags), f"lo_file_name={cstring(file_name)}"]
    if encrypted:
        parts += [f"lo_crypt_name={cstring(crypt_name)}", _key(key, key_size)]
    parts.append("..." if c.abbrev else f"lo_init={hex_array((init0, init1))}")
    return "{" + ", ".join(parts) + "}"


def config_text(data: bytes, c: Call) -> str:
    """loop_config: its reserved words when one is not zero."""
    fd, block_size = _CONFIG_HEAD.unpack_from(data)
    info = info64_text(data[_CONFIG_HEAD.size:], c)
    reserved = _CONFIG_RESERVED.unpack_from(data, _CONFIG_HEAD.size + _INFO64.size)
    tail = f", __reserved={hex_array(reserved)}" if any(reserved) else ""
    return f"{{fd={c.fd_text(fd)}, block_size={block_size}, info={info}{tail}}}"


def _struct(render, size: int, written: bool = False) -> Request:
    """umove_or_printaddr's struct: the address when the call is not verbose."""
    read = memory("ioc", written, render, size)
    return Request(lambda c: read.render(c) if c.verbose else ptr(c.arg(2)), late=written)


NAMES = {name: value for value, name in L.LOOP_IOCTLS.entries}

REQUESTS: dict[str, Request] = {
    "LOOP_SET_STATUS": _struct(info_text, _INFO.size),
    "LOOP_GET_STATUS": _struct(info_text, _INFO.size, written=True),
    "LOOP_SET_STATUS64": _struct(info64_text, _INFO64.size),
    "LOOP_GET_STATUS64": _struct(info64_text, _INFO64.size, written=True),
    "LOOP_CONFIGURE": _struct(config_text, CONFIG_SIZE),
    **{req: NO_ARG for req in ("LOOP_CLR_FD", "LOOP_SET_CAPACITY", "LOOP_CTL_GET_FREE")},
    "LOOP_SET_FD": FD_VALUE, "LOOP_CHANGE_FD": FD_VALUE,
    "LOOP_CTL_ADD": INT_VALUE, "LOOP_CTL_REMOVE": INT_VALUE,
    "LOOP_SET_DIRECT_IO": ULONG_VALUE, "LOOP_SET_BLOCK_SIZE": ULONG_VALUE,
}

"""ioctl requests of strace's dm.c (device-mapper).

Each request's argument is a struct dm_ioctl, its header (up to ``data``)
then ``data_size - data_start`` bytes of payload at ``data_start``: target
specs, a message, a string.  What is recorded is the request's ``_IOC_SIZE``
bytes, the header and a few bytes more, but for the requests whose payload
the driver reads (DEV_RENAME, TABLE_LOAD, TARGET_MSG, DEV_SET_GEOMETRY:
linux_plan's IOCTL_DM_MTD_UBI), recorded of data_size bytes.  A payload
beyond what was recorded prints as strace prints memory it cannot read, its
address.
"""

from __future__ import annotations

import itertools
import struct

from ..call import Call
from ..fmt import array, flags, ptr, quote
from ..sockaddr import cstring
from ..structs import makedev
from . import Request, flag_bits, iowr

DM_VERSION_MAJOR = 4
_HEADER = struct.Struct("<3IIIIiIIIQ128s129s")  # struct dm_ioctl up to its data
_DATA_SIZE_AT = 12                              # offsetof(struct dm_ioctl, data_size)
DM_IOCTL = _HEADER.size + 7                     # the struct with its data[7], as _IOC_SIZE says
_TARGET_SPEC = struct.Struct("<QQiI16s")        # sector_start, length, status, next, target_type
_TARGET_MSG = struct.Struct("<Q")               # sector, then the message
_TARGET_DEPS = struct.Struct("<I4x")            # count, then its devices
_DEV = struct.Struct("<Q")
_NAME_LIST = struct.Struct("<QI")               # dev, next, then the name (at 12)
_TARGET_VERSIONS = struct.Struct("<4I")         # next, version[3], then the name
_RECORD = 16                                    # either's size, as strace reads it
DM_FLAGS = flag_bits("DM_", (
    "READONLY_FLAG", "SUSPEND_FLAG", "EXISTS_FLAG", "PERSISTENT_DEV_FLAG", "STATUS_TABLE_FLAG",
    "ACTIVE_PRESENT_FLAG", "INACTIVE_PRESENT_FLAG", "", "BUFFER_FULL_FLAG", "SKIP_BDGET_FLAG",
    "SKIP_LOCKFS_FLAG", "NOFLUSH_FLAG", "QUERY_INACTIVE_TABLE_FLAG", "UEVENT_GENERATED_FLAG",
    "UUID_FLAG", "SECURE_DATA_FLAG", "DATA_OUT_FLAG", "DEFERRED_REMOVE", "INTERNAL_SUSPEND_FLAG",
    "IMA_MEASUREMENT_FLAG"))
DM_SUSPEND_FLAG, DM_DATA_OUT_FLAG = 1 << 1, 1 << 16

COMMANDS = ("VERSION", "REMOVE_ALL", "LIST_DEVICES", "DEV_CREATE", "DEV_REMOVE", "DEV_RENAME",
            "DEV_SUSPEND", "DEV_STATUS", "DEV_WAIT", "TABLE_LOAD", "TABLE_CLEAR", "TABLE_DEPS",
            "TABLE_STATUS", "LIST_VERSIONS", "TARGET_MSG", "DEV_SET_GEOMETRY", "DEV_ARM_POLL")
NAMES = {f"DM_{name}": iowr("\xfd", nr, DM_IOCTL) for nr, name in enumerate(COMMANDS)}

# the requests with no device (dev, name, uuid), with no payload (data_start)
_NO_DEVICE = frozenset({"REMOVE_ALL", "LIST_DEVICES", "LIST_VERSIONS"})
_NO_PARAMS = frozenset({"VERSION", "REMOVE_ALL", "DEV_CREATE", "DEV_REMOVE", "DEV_SUSPEND",
                        "DEV_STATUS", "TABLE_CLEAR", "DEV_ARM_POLL"})
# the requests whose answer (target_count, open_count, event_nr) strace shows
_STATUS_ANSWER = frozenset({"DEV_CREATE", "DEV_RENAME", "DEV_SUSPEND", "DEV_STATUS", "DEV_WAIT",
                            "TABLE_LOAD", "TABLE_CLEAR", "TABLE_DEPS", "TABLE_STATUS",
                            "TARGET_MSG"})


class Header:
    """struct dm_ioctl's fields, from the recorded bytes ``mem``."""

    def __init__(self, mem: bytes):
        (v0, v1, v2, self.data_size, self.data_start, self.target_count, self.open_count,
         self.flags, self.event_nr, _, self.dev, self.name, self.uuid) = _HEADER.unpack_from(mem)
        self.version = (v0, v1, v2)


def _read(mem: bytes, offset: int, size: int) -> bytes | None:
    end = offset + size
    return mem[offset:end] if end <= len(mem) else None


def _zstring(c: Call, mem: bytes, offset: int, length: int) -> str:
    """printstr_ex(addr + offset, length, QUOTE_0_TERMINATED): up to a NUL, -s
    bytes at most; the address when the bytes strace reads were not recorded."""
    strsize = c.opts.strsize
    wanted = mem[offset:offset + min(length, strsize + 1)]
    nul = wanted.find(b"\0")
    if nul < 0 and len(wanted) < min(length, strsize + 1):
        return ptr(c.arg(2) + offset)
    shown = min(length, strsize)
    if 0 <= nul < shown:
        return quote(wanted[:nul], c.opts.xflag)
    text = quote(wanted[:shown], c.opts.xflag)
    ends = length > strsize and nul == strsize
    return text if ends or not length else text + "..."


def _header(cmd: str, ioc: Header, exiting: bool) -> tuple[str, bool]:
    """The header as strace prints it; whether it was sound enough for the payload."""
    parts = ["version=[{}, {}, {}]".format(*ioc.version)]
    if ioc.version[0] != DM_VERSION_MAJOR:
        return "{" + parts[0] + " /* unsupported device mapper ABI version */}", False
    parts.append(f"data_size={ioc.data_size}")
    if ioc.data_size < _HEADER.size:
        return "{" + ", ".join(parts) + " /* data_size too small */}", False
    if cmd not in _NO_PARAMS:
        parts.append(f"data_start={ioc.data_start}")
    if cmd not in _NO_DEVICE:
        if ioc.dev:
            parts.append(f"dev={makedev(ioc.dev)}")
        if ioc.name[:1] != b"\0":
            parts.append(f"name={cstring(ioc.name)}")
        if ioc.uuid[:1] != b"\0":
            parts.append(f"uuid={cstring(ioc.uuid)}")
    if not exiting:
        if cmd == "TABLE_LOAD":
            parts.append(f"target_count={ioc.target_count}")
        elif cmd in ("DEV_RENAME", "DEV_REMOVE", "DEV_WAIT") or (
                cmd == "DEV_SUSPEND" and not ioc.flags & DM_SUSPEND_FLAG):
            parts.append(f"event_nr={ioc.event_nr}")
    elif cmd in _STATUS_ANSWER:
        parts.append(f"target_count={ioc.target_count}, open_count={ioc.open_count}, "
                     f"event_nr={ioc.event_nr}")
    parts.append(f"flags={flags(DM_FLAGS, ioc.flags, unknown='DM_???')}")
    return "{" + ", ".join(parts) + "}", True


def _target_specs(c: Call, mem: bytes, ioc: Header, exiting: bool) -> list[str]:
    """dm_decode_dm_target_spec: the targets of a table, each followed by its
    parameter string; ``???`` where one is out of the data's bounds."""
    if c.abbrev:
        return ["..."] if ioc.target_count else []
    items: list[str] = []
    offset, end = ioc.data_start, 0
    for i in range(ioc.target_count):
        if (i and offset <= end) or not offset + _TARGET_SPEC.size <= ioc.data_size:
            items.append("??? /* misplaced struct dm_target_spec */")
            break
        end = offset + _TARGET_SPEC.size
        if i >= c.opts.strsize:
            items.append("...")
            break
        raw = _read(mem, offset, _TARGET_SPEC.size)
        if raw is None:
            items.append(ptr(c.arg(2) + offset))
            break
        sector, length, status, step, kind = _TARGET_SPEC.unpack(raw)
        shown = f"sector_start={sector}, length={length}"
        if exiting:
            shown += f", status={status}"
        items.append(f"{{{shown}, target_type={cstring(kind)}, "
                     f"string={_zstring(c, mem, end, ioc.data_size - end)}}}")
        offset = offset + step if not exiting else ioc.data_start + step
        offset &= 0xFFFFFFFF
    return items


def _target_msg(c: Call, mem: bytes, ioc: Header) -> list[str]:
    if ioc.data_start == ioc.data_size:
        return []
    if c.abbrev:
        return ["..."]
    offset = ioc.data_start
    end = offset + _TARGET_MSG.size
    if end > ioc.data_size:
        return ["??? /* misplaced struct dm_target_msg */"]
    raw = _read(mem, offset, _TARGET_MSG.size)
    if raw is None:
        return [ptr(c.arg(2) + offset)]
    return [f"{{sector={_TARGET_MSG.unpack(raw)[0]}, "
            f"message={_zstring(c, mem, end, ioc.data_size - end)}}}"]


def _string(c: Call, mem: bytes, ioc: Header) -> list[str]:
    if c.abbrev:
        return ["..."]
    if ioc.data_start > ioc.data_size:
        return ["??? /* misplaced string */"]
    return [f"{{string={_zstring(c, mem, ioc.data_start, ioc.data_size - ioc.data_start)}}}"]


def _target_deps(c: Call, mem: bytes, ioc: Header) -> list[str]:
    """TABLE_DEPS's answer: the devices the table uses."""
    if ioc.data_start == ioc.data_size:
        return []
    if c.abbrev:
        return ["..."]
    offset = ioc.data_start
    end = offset + _TARGET_DEPS.size
    if end > ioc.data_size:
        return ["??? /* misplaced struct dm_target_deps */"]
    raw = _read(mem, offset, _TARGET_DEPS.size)
    if raw is None:
        return [ptr(c.arg(2) + offset)]
    count = _TARGET_DEPS.unpack(raw)[0]
    if count > (ioc.data_size - end) // _DEV.size:
        return ["??? /* misplaced struct dm_target_deps */"]
    devs = [_DEV.unpack(d)[0] for d in (_read(mem, end + i * _DEV.size, _DEV.size)
                                        for i in range(min(count, c.opts.strsize + 1)))
            if d is not None]
    if count and not devs:
        return [f"{{count={count}, deps={ptr(c.arg(2) + end)}}}"]
    return [f"{{count={count}, deps={array((makedev(d) for d in devs), c.opts)}}}"]


def _chain(c: Call, mem: bytes, ioc: Header, head: int, what: str, render) -> list[str]:
    """LIST_DEVICES's and LIST_VERSIONS's answers: records of ``head`` bytes
    and a name, each ``next`` bytes after the one before (0: the last);
    ``render(offset, raw)`` -> (its text, its next)."""
    if ioc.data_start == ioc.data_size:
        return []
    if c.abbrev:
        return ["..."]
    items: list[str] = []
    offset, end = ioc.data_start, 0
    for count in itertools.count():
        if (count and offset <= end) or offset + head > ioc.data_size:
            items.append(f"??? /* misplaced struct {what} */")
            break
        end = offset + head
        if count >= c.opts.strsize:
            items.append("...")
            break
        raw = _read(mem, offset, _RECORD)
        if raw is None:
            items.append(ptr(c.arg(2) + offset))
            break
        text, step = render(offset, raw)
        items.append(text)
        if not step:
            break
        offset = (offset + step) & 0xFFFFFFFF
    return items


def _name_list(c: Call, mem: bytes, ioc: Header) -> list[str]:
    """dm_name_list: a device, its name and (since 4.37, where ``next`` leaves
    room after the name) its event_nr, at the next 8 bytes' boundary."""
    def render(offset: int, raw: bytes) -> tuple[str, int]:
        dev, step = _NAME_LIST.unpack_from(raw)
        at = offset + _NAME_LIST.size
        length = ioc.data_size - at
        text = f"{{dev={makedev(dev)}, name={_zstring(c, mem, at, length)}"
        nul = mem[at:at + min(length, c.opts.strsize + 1)].find(b"\0")
        if nul >= 0 and ioc.version[1] >= 37:
            event_at = ((c.arg(2) + at + nul + 1 + 7) & ~7) - c.arg(2)
            event = _read(mem, event_at, 4)
            if event_at + 4 <= offset + step and event is not None:
                text += f", event_nr={int.from_bytes(event, 'little')}"
        return text + "}", step
    return _chain(c, mem, ioc, _NAME_LIST.size, "dm_name_list", render)


def _target_versions(c: Call, mem: bytes, ioc: Header) -> list[str]:
    def render(offset: int, raw: bytes) -> tuple[str, int]:
        step, *version = _TARGET_VERSIONS.unpack_from(raw)
        at = offset + _TARGET_VERSIONS.size
        name = _zstring(c, mem, at, ioc.data_size - at)
        return "{{name={}, version=[{}, {}, {}]}}".format(name, *version), step
    return _chain(c, mem, ioc, _TARGET_VERSIONS.size, "dm_target_versions", render)


def _payload(cmd: str, c: Call, mem: bytes, ioc: Header, exiting: bool) -> list[str]:
    """What follows the header: at entry, what the caller gives; at the exit of
    a successful call, what the driver answers."""
    if not exiting:
        if cmd == "TABLE_LOAD":
            return _target_specs(c, mem, ioc, False)
        if cmd == "TARGET_MSG":
            return _target_msg(c, mem, ioc)
        if cmd in ("DEV_RENAME", "DEV_SET_GEOMETRY"):
            return _string(c, mem, ioc)
        return []
    if cmd in ("DEV_WAIT", "TABLE_STATUS"):
        return _target_specs(c, mem, ioc, True)
    if cmd == "TARGET_MSG" and ioc.flags & DM_DATA_OUT_FLAG:
        return _string(c, mem, ioc)
    if cmd == "TABLE_DEPS":
        return _target_deps(c, mem, ioc)
    if cmd == "LIST_DEVICES":
        return _name_list(c, mem, ioc)
    if cmd == "LIST_VERSIONS":
        return _target_versions(c, mem, ioc)
    return []


def _dm_ioctl(c: Call, cmd: str, mem: bytes, exiting: bool) -> str:
    ioc = Header(mem)
    header, sound = _header(cmd, ioc, exiting)
    items = [header, *(_payload(cmd, c, mem, ioc, exiting) if sound else ())]
    return "[" + ", ".join(items) + "]"


def _usable(mem: bytes | None) -> bool:
    """strace decodes a header it could read whose data_size is not below data_size's offset."""
    return mem is not None and len(mem) >= _HEADER.size and Header(mem).data_size >= _DATA_SIZE_AT


def _request(cmd: str) -> Request:
    """The struct as given; `` => `` and the driver's answer when the call succeeded."""
    def text(c: Call) -> str:
        given = c.struct(2, "ioc", exit=False)
        if not _usable(given):
            return ptr(c.arg(2))
        shown = _dm_ioctl(c, cmd, given, False)
        answer = c.struct(2, "ioc")
        if c.ok and answer is not given and _usable(answer):
            shown += " => " + _dm_ioctl(c, cmd, answer, True)
        return shown
    return Request(text, late=True)


REQUESTS: dict[str, Request] = {f"DM_{cmd}": _request(cmd) for cmd in COMMANDS}

"""ioctl requests of btrfs, type 0x94 (strace's btrfs.c).

A struct given prints at entry; one the filesystem writes (``_IOR``) at exit,
its address when the call failed; one it reads and writes back prints as
given, then ``=> {...}`` the fields it answered when the call succeeded.  What
lies past a request's ``_IOC_SIZE`` (a tree search's v2 buffer, the space
infos, an ino_paths or logical_ino container) is not recorded: its address
prints, as strace prints memory it cannot read.  A subvolume's qgroup_inherit
and a send's clone sources follow the struct (linux_plan.IOCTL_BTRFS).
"""

from __future__ import annotations

import struct
from typing import Callable

from ...xlat import LINUX as L
from ...xlat import Xlat
from ..call import Call
from ..fdio import print_array
from ..fmt import c_int, flags, named, ptr, xval
from ..fs import sprinttime
from ..sockaddr import cstring
from ..structs import makedev
from . import NO_ARG, Request, exchanged, fields, hex_array, memory, read_verbosely

NAMES = {name: value for value, name in L.BTRFS_IOCTLS.entries}

U64_MAX = (1 << 64) - 1


def _unsigned(table: Xlat) -> Xlat:
    """A table whose values the generator wrote signed (UINT64_MAX: -1)."""
    return Xlat((value & U64_MAX, name) for value, name in table.entries)


OBJECTIDS = _unsigned(L.BTRFS_TREE_OBJECTIDS)
KEY_TYPES = _unsigned(L.BTRFS_KEY_TYPES)


def _u64s(d: bytes, at: int, n: int = 1) -> tuple[int, ...]:
    return struct.unpack_from(f"<{n}Q", d, at)


def _u64(d: bytes, at: int) -> int:
    return _u64s(d, at)[0]


def _u32(d: bytes, at: int) -> int:
    return struct.unpack_from("<I", d, at)[0]


def u64(value: int) -> str:
    """PRINT_FIELD_U64: UINT64_MAX by its name."""
    return named("UINT64_MAX", value, str(value)) if value == U64_MAX else str(value)


def xval_u(table: Xlat, value: int) -> str:
    """PRINT_FIELD_XVAL_U with no default: a name, else the decimal number."""
    name = table.name(value)
    return named(name, value, str(value)) if name else str(value)


def objectid(value: int) -> str:
    return xval_u(OBJECTIDS, value)


def uuid(d: bytes, at: int) -> str:
    h = d[at:at + 16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _fd(c: Call, value: int) -> str:
    """PRINT_FIELD_FD of an __s64: the descriptor is its int."""
    return c.fd_text(c_int(value & 0xFFFFFFFF))


Render = Callable[[bytes, Call], str]
Exchange = Callable[[bytes, "bytes | None", Call], str]


def _given(render: Render, size: int) -> Request:
    return memory("ioc", False, render, size)


def _got(render: Render, size: int) -> Request:
    return memory("ioc", True, render, size)


def _exchange(size: int, given: Render, answer: Render) -> Request:
    """A struct read in and written back: as given, ``=> answer`` after a
    successful call."""
    def text(c: Call) -> str:
        copies = exchanged(c, size)
        if copies is None:
            return ptr(c.arg(2))
        text = given(copies[0], c)
        return text if copies[1] is None else f"{text} => {answer(copies[1], c)}"
    return Request(text)


# --- balance -----------------------------------------------------------------------

BALANCE_DATA, BALANCE_SYSTEM, BALANCE_METADATA = 1, 2, 4


def _balance_args(d: bytes, at: int) -> str:
    profiles, usage, devid, pstart, pend, vstart, vend, target, flags_ = _u64s(d, at, 9)
    return (f"{{profiles={flags(L.BTRFS_SPACE_INFO_FLAGS, profiles, unknown='BTRFS_BLOCK_GROUP_???')}"
            f", usage={u64(usage)}, devid={makedev(devid)}, pstart={u64(pstart)}, "
            f"pend={u64(pend)}, vstart={u64(vstart)}, vend={u64(vend)}, target={u64(target)}, "
            f"flags={flags(L.BTRFS_BALANCE_ARGS, flags_, unknown='BTRFS_BALANCE_ARGS_???')}}}")


def _balance(out: bool) -> Render:
    """btrfs_print_balance: the flags (and the state answered), and the
    args of each of data, meta, sys the flags name."""
    def render(d: bytes, c: Call) -> str:
        flags_, state = _u64s(d, 0, 2)
        parts = [f"flags={flags(L.BTRFS_BALANCE_FLAGS, flags_, unknown='BTRFS_BALANCE_???')}"]
        if out:
            parts.append("state=" + flags(L.BTRFS_BALANCE_STATE, state,
                                          unknown="BTRFS_BALANCE_STATE_???"))
        for bit, name, at in ((BALANCE_DATA, "data", 16), (BALANCE_METADATA, "meta", 152),
                              (BALANCE_SYSTEM, "sys", 288)):
            if flags_ & bit:
                parts.append(f"{name}={_balance_args(d, at)}")
        return "{" + ", ".join(parts) + "}"
    return render


BALANCE = 1024              # struct btrfs_ioctl_balance_args


# --- the other structs, by request ---------------------------------------------------

def _defrag_range(d: bytes, c: Call) -> str:
    start, length, flags_ = _u64s(d, 0, 3)
    thresh, compress = struct.unpack_from("<II", d, 24)
    return (f"{{start={start}, len={u64(length)}, "
            f"flags={flags(L.BTRFS_DEFRAG_FLAGS, flags_, unknown='BTRFS_DEFRAG_RANGE_???')}, "
            f"extent_thresh={thresh}, "
            f"compress_type={xval(L.BTRFS_COMPRESS_TYPES, compress, 'BTRFS_COMPRESS_???')}}}")


def _has_uuid(d: bytes, at: int) -> bool:
    return any(d[at:at + 16])


def _dev_info_given(d: bytes, c: Call) -> str:
    text = f"{{devid={makedev(_u64(d, 0))}"
    return text + (f", uuid={uuid(d, 8)}}}" if _has_uuid(d, 8) else "}")


def _dev_info_answer(d: bytes, c: Call) -> str:
    head = f"uuid={uuid(d, 8)}, " if _has_uuid(d, 8) else ""
    used, total = _u64s(d, 24, 2)
    return f"{{{head}bytes_used={used}, total_bytes={total}, path={cstring(d[3072:4096])}}}"


REPLACE_START, REPLACE_STATUS = 0, 1


def _dev_replace_given(d: bytes, c: Call) -> str:
    cmd = _u64(d, 0)
    text = f"{{cmd={xval(L.BTRFS_DEV_REPLACE_CMDS, cmd, 'BTRFS_IOCTL_DEV_REPLACE_CMD_???')}"
    if cmd == REPLACE_START:
        srcdevid, mode = _u64s(d, 16, 2)
        text += (f", start={{srcdevid={makedev(srcdevid)}, cont_reading_from_srcdev_mode="
                 + xval(L.BTRFS_CONT_READING_FROM_SRCDEV_MODE, mode,
                        "BTRFS_IOCTL_DEV_REPLACE_CONT_READING_FROM_SRCDEV_MODE_???")
                 + f", srcdev_name={cstring(d[32:1057])}, tgtdev_name={cstring(d[1057:2082])}}}")
    return text + "}"


def _dev_replace_answer(d: bytes, c: Call) -> str:
    cmd, result = _u64s(d, 0, 2)
    text = ("{result=" + xval(L.BTRFS_DEV_REPLACE_RESULTS, result,
                              "BTRFS_IOCTL_DEV_REPLACE_RESULT_???"))
    if cmd == REPLACE_STATUS:
        state, progress, started, stopped, write_errors, read_errors = _u64s(d, 16, 6)
        percent = f" /* {progress // 10}.{progress % 10}% */" if progress <= 1000 else ""
        text += (", status={replace_state=" + xval(L.BTRFS_DEV_REPLACE_STATE, state,
                                                   "BTRFS_IOCTL_DEV_REPLACE_STATE_???")
                 + f", progress_1000={progress}{percent}, "
                 f"time_started={started}{sprinttime(started)}, "
                 f"time_stopped={stopped}{sprinttime(stopped)}, "
                 f"num_write_errors={write_errors}, "
                 f"num_uncorrectable_read_errors={read_errors}}}")
    return text + "}"


FEATURES = 24               # struct btrfs_ioctl_feature_flags


def _features(d: bytes, at: int) -> str:
    compat, compat_ro, incompat = _u64s(d, at, 3)
    return ("{compat_flags=" + flags(Xlat(()), compat, unknown="BTRFS_FEATURE_COMPAT_???")
            + ", compat_ro_flags=" + flags(L.BTRFS_FEATURES_COMPAT_RO, compat_ro,
                                           unknown="BTRFS_FEATURE_COMPAT_RO_???")
            + ", incompat_flags=" + flags(L.BTRFS_FEATURES_INCOMPAT, incompat,
                                          unknown="BTRFS_FEATURE_INCOMPAT_???") + "}")


def _feature_list(*comments: str) -> Render:
    """SET_FEATURES' two feature sets, GET_SUPPORTED_FEATURES' three (each with
    its comment)."""
    def render(d: bytes, c: Call) -> str:
        return "[" + ", ".join(_features(d, k * FEATURES) + (f" /* {note} */" if note else "")
                               for k, note in enumerate(comments)) + "]"
    return render


FS_INFO_CSUM_INFO, FS_INFO_GENERATION, FS_INFO_METADATA_UUID = 1, 2, 4


def _fs_info(d: bytes, c: Call) -> str:
    max_id, devices = _u64s(d, 0, 2)
    nodesize, sectorsize, alignment = struct.unpack_from("<3I", d, 32)
    csum_type, csum_size = struct.unpack_from("<HH", d, 44)
    flags_, generation = _u64s(d, 48, 2)
    text = (f"{{max_id={max_id}, num_devices={devices}, fsid={uuid(d, 16)}, "
            f"nodesize={nodesize}, sectorsize={sectorsize}, clone_alignment={alignment}")
    if flags_ & FS_INFO_CSUM_INFO:
        text += (f", csum_type={xval(L.BTRFS_CSUM_TYPES, csum_type, 'BTRFS_CSUM_TYPE_???')}"
                 f", csum_size={csum_size}")
    text += f", flags={flags(L.BTRFS_FS_INFO_FLAGS, flags_, unknown='BTRFS_FS_INFO_FLAG_???')}"
    if flags_ & FS_INFO_GENERATION:
        text += f", generation={generation}"
    if flags_ & FS_INFO_METADATA_UUID:
        text += f", metadata_uuid={uuid(d, 64)}"
    return text + "}"


DEV_STATS_VALUES = 5        # struct btrfs_ioctl_get_dev_stats' values[]


def _dev_stats_flags(d: bytes) -> str:
    return (f"nr_items={_u64(d, 8)}, "
            f"flags={flags(L.BTRFS_DEV_STATS_FLAGS, _u64(d, 16), unknown='BTRFS_DEV_STATS_???')}")


def _dev_stats_answer(d: bytes, c: Call) -> str:
    values = _u64s(d, 24, DEV_STATS_VALUES)
    shown = [f"[{xval_u(L.BTRFS_DEV_STATS_VALUES, k)}]={values[k]}"
             for k in range(min(_u64(d, 8), DEV_STATS_VALUES))]
    if _u64(d, 8) > DEV_STATS_VALUES:
        shown.append("...")
    return f"{{{_dev_stats_flags(d)}, [{', '.join(shown)}]}}"


def _ino_lookup(c: Call) -> str:
    """The tree and object given; the name answered, with the tree the
    filesystem chose when none was given (treeid 0)."""
    copies = exchanged(c, 4096)
    if copies is None:
        return ptr(c.arg(2))
    given, answer = copies
    text = f"{{treeid={objectid(_u64(given, 0))}, objectid={objectid(_u64(given, 8))}}}"
    if answer is None:
        return text
    tree = f"treeid={objectid(_u64(answer, 0))}, " if not _u64(given, 0) else ""
    return f"{text} => {{{tree}name={cstring(answer[16:4096])}}}"


def _ino_paths_given(d: bytes, c: Call) -> str:
    return f"{{inum={_u64(d, 0)}, size={_u64(d, 8)}, fspath={ptr(_u64(d, 48))}}}"


def _logical_ino_given(d: bytes, c: Call) -> str:
    logical, size, *reserved = _u64s(d, 0, 5)
    text = f"{{logical={logical}, size={size}"
    if any(reserved):
        text += f", reserved={hex_array(reserved)}"
    return (text + ", flags=" + flags(L.BTRFS_LOGICAL_INO_ARGS_FLAGS, _u64(d, 40),
                                      unknown="BTRFS_LOGICAL_INO_ARGS_???")
            + f", inodes={ptr(_u64(d, 48))}}}")


def _container(at: int, name: str) -> Render:
    """The data container answered: not recorded, its address."""
    return lambda d, c: f"{{{name}={ptr(_u64(d, at))}}}"


def _qgroup_limit(d: bytes, at: int) -> str:
    flags_, *limits = _u64s(d, at, 5)
    return ("{flags=" + flags(L.BTRFS_QGROUP_LIMIT_FLAGS, flags_, unknown="BTRFS_QGROUP_LIMIT_???")
            + ", " + fields(("max_rfer", "max_excl", "rsv_rfer", "rsv_excl"), limits) + "}")


def _timespec(d: bytes, at: int) -> str:
    sec, nsec = _u64(d, at), _u32(d, at + 8)
    return f"{{sec={sec}, nsec={nsec}}}{sprinttime(sec, nsec, 9)}"


def _received_given(d: bytes, c: Call) -> str:
    return (f"{{uuid={uuid(d, 0)}, stransid={_u64(d, 16)}, stime={_timespec(d, 32)}, "
            f"flags={_u64(d, 64)}}}")


def _received_answer(d: bytes, c: Call) -> str:
    return f"{{rtransid={_u64(d, 24)}, rtime={_timespec(d, 48)}}}"


SCRUB_PROGRESS = ("data_extents_scrubbed", "tree_extents_scrubbed", "data_bytes_scrubbed",
                  "tree_bytes_scrubbed", "read_errors", "csum_errors", "verify_errors",
                  "no_csum", "csum_discards", "super_errors", "malloc_errors",
                  "uncorrectable_errors", "corrected_errors", "last_physical",
                  "unverified_errors")


def _scrub_given(full: bool) -> Render:
    def render(d: bytes, c: Call) -> str:
        devid, start, end, flags_ = _u64s(d, 0, 4)
        text = f"{{devid={makedev(devid)}"
        if full:
            text += (f", start={start}, end={u64(end)}, "
                     f"flags={flags(L.BTRFS_SCRUB_FLAGS, flags_, unknown='BTRFS_SCRUB_???')}")
        return text + "}"
    return render


def _scrub_answer(d: bytes, c: Call) -> str:
    return f"{{progress={{{fields(SCRUB_PROGRESS, _u64s(d, 32, len(SCRUB_PROGRESS)))}}}}}"


FIRST_FREE_OBJECTID, LAST_FREE_OBJECTID = 256, U64_MAX - 255
SEARCH_KEY = 104            # struct btrfs_ioctl_search_key
SEARCH_ARGS = 4096          # struct btrfs_ioctl_search_args: the key, its buffer
SEARCH_HEADER = struct.Struct("<4QI")   # transid, objectid, offset, type, len


def _search_key(d: bytes, c: Call, entering: bool) -> str:
    """print_btrfs_ioctl_search_key: all of it given (the default object
    range left out unless -v), the items answered."""
    if not entering:
        return f"{{nr_items={_u32(d, 64)}}}"
    tree, low, high, *ranges = _u64s(d, 0, 7)
    parts = [f"tree_id={objectid(tree)}"]
    if low != FIRST_FREE_OBJECTID or not c.abbrev:
        parts.append(f"min_objectid={objectid(low)}")
    if high != LAST_FREE_OBJECTID or not c.abbrev:
        parts.append(f"max_objectid={objectid(high)}")
    parts += [f"{name}={u64(value)}" for name, value in
              zip(("min_offset", "max_offset", "min_transid", "max_transid"), ranges)]
    min_type, max_type, items = struct.unpack_from("<3I", d, 56)
    parts += [f"min_type={xval_u(KEY_TYPES, min_type)}",
              f"max_type={xval_u(KEY_TYPES, max_type)}", f"nr_items={items}"]
    return "{" + ", ".join(parts) + "}"


def _search_buf(d: bytes, at: int, size: int, addr: int, c: Call) -> str:
    """decode_search_arg_buf of the items answered: their headers, as far
    as the record (``d``, the buffer at ``at`` of it) holds them."""
    if c.abbrev:
        return "..."
    shown, off = [], 0
    for k in range(_u32(d, 64)):
        if off + SEARCH_HEADER.size > size or k > c.opts.strsize:
            shown.append("...")
            break
        if at + off + SEARCH_HEADER.size > len(d):
            shown.append(f"... /* {ptr(addr + at + off)} */")
            break
        transid, obj, offset, kind, length = SEARCH_HEADER.unpack_from(d, at + off)
        shown.append(f"{{transid={transid}, objectid={objectid(obj)}, offset={offset}, "
                     f"type={xval_u(KEY_TYPES, kind)}, len={length}}}")
        off += SEARCH_HEADER.size + length
    return "buf=[" + ", ".join(shown) + "]"


def _tree_search(v2: bool) -> Request:
    """TREE_SEARCH: the key; TREE_SEARCH_V2: the key and buf_size; the items
    answered after a successful call (the v2 buffer, past the request's
    size, is not recorded)."""
    buf_at = SEARCH_KEY + 8 if v2 else SEARCH_KEY

    def text(c: Call) -> str:
        copies = exchanged(c, buf_at)
        if copies is None:
            return ptr(c.arg(2))
        given, answer = copies
        tail = f", buf_size={_u64(given, SEARCH_KEY)}" if v2 else ""
        text = f"{{key={_search_key(given, c, True)}{tail}}}"
        if answer is None:
            return text
        room = _u64(answer, SEARCH_KEY) if v2 else SEARCH_ARGS - SEARCH_KEY
        return (f"{text} => {{key={_search_key(answer, c, False)}"
                + (f", buf_size={room}" if v2 else "")
                + f", {_search_buf(answer, buf_at, room, c.arg(2), c)}}}")
    return Request(text)


def _send(d: bytes, c: Call) -> str:
    """The clone sources: their address, with -v the objectids
    (STRUCT_ARRAY btrfs_clone_source, linux_plan.BTRFS_CLONE_SOURCES)."""
    send_fd, count, sources, parent, flags_ = _u64s(d, 0, 5)
    if c.abbrev:
        shown = ptr(sources)
    else:
        arr = c.array(2, "btrfs_clone_source", exit=False)
        items = [objectid(v) for v in _u64s(arr.data, 0, len(arr.data) // 8)] if arr else []
        shown = print_array(c, sources, count, items, 8)
    return (f"{{send_fd={_fd(c, send_fd)}, clone_sources_count={count}, clone_sources={shown}, "
            f"parent_root={objectid(parent)}, "
            f"flags={flags(L.BTRFS_SEND_FLAGS, flags_, unknown='BTRFS_SEND_FLAGS_???')}}}")


def _space_info_answer(d: bytes, c: Call) -> str:
    slots, total = _u64s(d, 0, 2)
    text = f"{{total_spaces={total}"
    if not slots and total:
        return text + "}"
    spaces = "..." if c.abbrev else f"spaces={print_array(c, c.arg(2) + 16, total, [], 24)}"
    return f"{text}, {spaces}}}"


def _vol_args(d: bytes, c: Call) -> str:
    return f"{{fd={_fd(c, _u64(d, 0))}, name={cstring(d[8:4096])}}}"


QGROUP_INHERIT_FLAG = 4     # BTRFS_SUBVOL_QGROUP_INHERIT
QGROUP_INHERIT = 72         # struct btrfs_qgroup_inherit, up to its qgroups


def _qgroup_inherit(c: Call, addr: int) -> str:
    """btrfs_print_qgroup_inherit, from STRU btrfs_qgroup_inherit (its size
    field's bytes: linux_plan.BTRFS_QGROUP_INHERIT): the address when it was
    not recorded."""
    d = c.struct(2, "btrfs_qgroup_inherit", exit=False)
    if not addr or d is None or len(d) < QGROUP_INHERIT:
        return ptr(addr)
    flags_, count, ref, excl = _u64s(d, 0, 4)
    text = ("{flags=" + flags(L.BTRFS_QGROUP_INHERIT_FLAGS, flags_,
                              unknown="BTRFS_QGROUP_INHERIT_???")
            + f", num_qgroups={count}, num_ref_copies={ref}, num_excl_copies={excl}, "
            f"lim={_qgroup_limit(d, 32)}")
    if c.abbrev:
        return text + ", ...}"
    items = [str(v) for v in _u64s(d, QGROUP_INHERIT, (len(d) - QGROUP_INHERIT) // 8)]
    return text + f", qgroups={print_array(c, addr + QGROUP_INHERIT, count, items, 8)}}}"


def _vol_args_v2(d: bytes, c: Call) -> str:
    flags_ = _u64(d, 16)
    text = (f"{{fd={_fd(c, _u64(d, 0))}, "
            f"flags={flags(L.BTRFS_SNAP_FLAGS_V2, flags_, unknown='BTRFS_SUBVOL_???')}")
    if flags_ & QGROUP_INHERIT_FLAG:
        text += f", size={_u64(d, 24)}, qgroup_inherit={_qgroup_inherit(c, _u64(d, 32))}"
    return text + f", name={cstring(d[56:4096])}}}"


def _snap_flags(d: bytes, c: Call) -> str:
    return flags(L.BTRFS_SNAP_FLAGS_V2, _u64(d, 0), unknown="BTRFS_SUBVOL_???")


def _u64_text(d: bytes, c: Call) -> str:
    return f"[{_u64(d, 0)}]"


VOL_ARGS = 4096             # struct btrfs_ioctl_vol_args, _v2, dev_info, ino_lookup

STRUCTS: dict[str, Request] = {
    "BTRFS_IOC_START_SYNC": _got(_u64_text, 8),
    "BTRFS_IOC_DEFAULT_SUBVOL": _given(_u64_text, 8),
    "BTRFS_IOC_WAIT_SYNC": _given(_u64_text, 8),
    "BTRFS_IOC_SUBVOL_GETFLAGS": _got(_snap_flags, 8),
    "BTRFS_IOC_SUBVOL_SETFLAGS": _given(_snap_flags, 8),
    "BTRFS_IOC_BALANCE_V2": _exchange(BALANCE, _balance(False), _balance(True)),
    "BTRFS_IOC_BALANCE_PROGRESS": _got(_balance(True), BALANCE),
    "BTRFS_IOC_DEFRAG_RANGE": _given(_defrag_range, 48),
    "BTRFS_IOC_DEV_INFO": _exchange(VOL_ARGS, _dev_info_given, _dev_info_answer),
    "BTRFS_IOC_DEV_REPLACE": _exchange(2600, _dev_replace_given, _dev_replace_answer),
    "BTRFS_IOC_GET_FEATURES": _got(lambda d, c: _features(d, 0), FEATURES),
    "BTRFS_IOC_SET_FEATURES": _given(_feature_list("", ""), 2 * FEATURES),
    "BTRFS_IOC_GET_SUPPORTED_FEATURES": _got(
        _feature_list("supported", "safe to set", "safe to clear"), 3 * FEATURES),
    "BTRFS_IOC_FS_INFO": _got(_fs_info, 80),
    "BTRFS_IOC_GET_DEV_STATS": _exchange(
        0x408, lambda d, c: f"{{devid={makedev(_u64(d, 0))}, {_dev_stats_flags(d)}}}",
        _dev_stats_answer),
    "BTRFS_IOC_INO_LOOKUP": Request(_ino_lookup),
    "BTRFS_IOC_INO_PATHS": _exchange(56, _ino_paths_given, _container(48, "fspath")),
    "BTRFS_IOC_LOGICAL_INO": _exchange(56, _logical_ino_given, _container(48, "inodes")),
    "BTRFS_IOC_QGROUP_ASSIGN": _given(
        lambda d, c: "{" + fields(("assign", "src", "dst"), _u64s(d, 0, 3)) + "}", 24),
    "BTRFS_IOC_QGROUP_CREATE": _given(
        lambda d, c: "{" + fields(("create", "qgroupid"), _u64s(d, 0, 2)) + "}", 16),
    "BTRFS_IOC_QGROUP_LIMIT": _got(
        lambda d, c: f"{{qgroupid={_u64(d, 0)}, lim={_qgroup_limit(d, 8)}}}", 48),
    "BTRFS_IOC_QUOTA_CTL": _given(
        lambda d, c: "{cmd=" + xval(L.BTRFS_QGROUP_CTL_CMDS, _u64(d, 0),
                                    "BTRFS_QUOTA_CTL_???") + "}", 16),
    "BTRFS_IOC_QUOTA_RESCAN": _given(lambda d, c: f"{{flags={_u64(d, 0)}}}", 64),
    "BTRFS_IOC_QUOTA_RESCAN_STATUS": _got(
        lambda d, c: f"{{flags={_u64(d, 0)}, progress={objectid(_u64(d, 8))}}}", 64),
    "BTRFS_IOC_SET_RECEIVED_SUBVOL": _exchange(200, _received_given, _received_answer),
    "BTRFS_IOC_SCRUB": _exchange(1024, _scrub_given(True), _scrub_answer),
    "BTRFS_IOC_SCRUB_PROGRESS": _exchange(1024, _scrub_given(False), _scrub_answer),
    "BTRFS_IOC_TREE_SEARCH": _tree_search(False),
    "BTRFS_IOC_TREE_SEARCH_V2": _tree_search(True),
    "BTRFS_IOC_SEND": _given(_send, 72),
    "BTRFS_IOC_SPACE_INFO": _exchange(
        16, lambda d, c: f"{{space_slots={_u64(d, 0)}}}", _space_info_answer),
    **{name: _given(_vol_args, VOL_ARGS) for name in (
        "BTRFS_IOC_SNAP_CREATE", "BTRFS_IOC_RESIZE", "BTRFS_IOC_SCAN_DEV",
        "BTRFS_IOC_FORGET_DEV", "BTRFS_IOC_ADD_DEV", "BTRFS_IOC_RM_DEV",
        "BTRFS_IOC_SUBVOL_CREATE", "BTRFS_IOC_SNAP_DESTROY", "BTRFS_IOC_DEVICES_READY")},
    # (their codes say _IOW: the filesystem writes the transid back)
    **{name: _exchange(VOL_ARGS, _vol_args_v2, lambda d, c: f"{{transid={_u64(d, 8)}}}")
       for name in ("BTRFS_IOC_SNAP_CREATE_V2", "BTRFS_IOC_SUBVOL_CREATE_V2")},
}

REQUESTS: dict[str, Request] = {
    **{name: NO_ARG for name in (
        "BTRFS_IOC_TRANS_START", "BTRFS_IOC_TRANS_END", "BTRFS_IOC_SYNC",
        "BTRFS_IOC_SCRUB_CANCEL", "BTRFS_IOC_QUOTA_RESCAN_WAIT",
        # (their codes say a vol_args; none reads one)
        "BTRFS_IOC_DEFRAG", "BTRFS_IOC_BALANCE")},
    "BTRFS_IOC_BALANCE_CTL": Request(
        lambda c: xval(L.BTRFS_BALANCE_CTL_CMDS, c.arg(2), "BTRFS_BALANCE_CTL_???")),
    **{name: read_verbosely(request) for name, request in STRUCTS.items()},
}

"""ioctl, as strace 6.1's ioctl.c and its per-driver decoders print it.

The request: its names (strace prints every name a number has, ``A or B``),
else its ``_IOC`` parts.  The names are the generated tables' (IOCTLS,
IOCTL_ALIASES) and ``FAMILY_NAMES``: the requests of the families decoded
here (term.c's tty requests aside, which the tables hold), with the names of
other drivers' requests that share their numbers.

The argument, by ``REQUESTS`` (a request's name -> :class:`Request`): nothing,
the value itself, or the memory it points to, printed from the records the
plan gives it: the STRU of ioctl's selector cases (termios, winsize, int),
else ``STRU ioc``, the request's ``_IOC_SIZE`` bytes, read at entry when the
request has ``_IOC_WRITE`` and at the exit of a successful call when it has
``_IOC_READ`` (linux_plan's doc).  A request no family decodes prints its
argument in hex, as strace does.

Families (strace's sources): watchdog_ioctl.c, random_ioctl.c,
inotify_ioctl.c, nsfs.c, rtc.c, counter_ioctl.c, perf_ioctl.c, fs_x_ioctl.c,
fs_f_ioctl.c (the inode flags), seccomp_ioctl.c, userfaultfd.c.
"""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple

from ...abi import linux_plan as lp
from ..xlat import LINUX as L
from ..xlat import Xlat
from . import structs as T
from .call import FD, Arg, Call, p_string_in, pid_text, uid_text
from .fmt import STYLE, c_int, flags, hexval, named, ptr, xval
from .kernel import perf_attr_text
from .ptrace import _err_d as err_text, _syscall_nr as syscall_nr_text


def _ioc(direction: int, kind: str, nr: int, size: int) -> int:
    return direction << lp.IOC_DIR_SHIFT | size << lp.IOC_SIZE_SHIFT | ord(kind) << 8 | nr


def _io(kind: str, nr: int) -> int:
    return _ioc(0, kind, nr, 0)


def _ior(kind: str, nr: int, size: int) -> int:
    return _ioc(lp.IOC_READ, kind, nr, size)


def _iow(kind: str, nr: int, size: int) -> int:
    return _ioc(lp.IOC_WRITE, kind, nr, size)


def _iowr(kind: str, nr: int, size: int) -> int:
    return _ioc(lp.IOC_READ | lp.IOC_WRITE, kind, nr, size)


RTC_TIME, RTC_WKALRM, RTC_PLL_INFO, RTC_PARAM = 36, 40, 32, 24     # struct sizes

# name -> request (linux/watchdog.h, random.h, inotify.h, nsfs.h, rtc.h, nvram.h, phantom.h,
# misc/fastrpc.h, counter.h, perf_event.h; fs.h's are in the generated table)
FAMILY_NAMES = {
    "WDIOC_GETSUPPORT": _ior("W", 0, 40), "WDIOC_GETSTATUS": _ior("W", 1, 4),
    "WDIOC_GETBOOTSTATUS": _ior("W", 2, 4), "WDIOC_GETTEMP": _ior("W", 3, 4),
    "WDIOC_SETOPTIONS": _ior("W", 4, 4), "WDIOC_KEEPALIVE": _ior("W", 5, 4),
    "WDIOC_SETTIMEOUT": _iowr("W", 6, 4), "WDIOC_GETTIMEOUT": _ior("W", 7, 4),
    "WDIOC_SETPRETIMEOUT": _iowr("W", 8, 4), "WDIOC_GETPRETIMEOUT": _ior("W", 9, 4),
    "WDIOC_GETTIMELEFT": _ior("W", 10, 4),
    "RNDGETENTCNT": _ior("R", 0, 4), "RNDADDTOENTCNT": _iow("R", 1, 4),
    "RNDGETPOOL": _ior("R", 2, 8), "RNDADDENTROPY": _iow("R", 3, 8),
    "RNDZAPENTCNT": _io("R", 4), "RNDCLEARPOOL": _io("R", 6), "RNDRESEEDCRNG": _io("R", 7),
    "FASTRPC_IOCTL_INIT_ATTACH": _io("R", 4),
    "INOTIFY_IOC_SETNEXTWD": _iow("I", 0, 4),
    "NS_GET_USERNS": _io("\xb7", 1), "NS_GET_PARENT": _io("\xb7", 2),
    "NS_GET_NSTYPE": _io("\xb7", 3), "NS_GET_OWNER_UID": _io("\xb7", 4),
    "RTC_AIE_ON": _io("p", 1), "RTC_AIE_OFF": _io("p", 2), "RTC_UIE_ON": _io("p", 3),
    "RTC_UIE_OFF": _io("p", 4), "RTC_PIE_ON": _io("p", 5), "RTC_PIE_OFF": _io("p", 6),
    "RTC_WIE_ON": _io("p", 15), "RTC_WIE_OFF": _io("p", 16), "RTC_VL_CLR": _io("p", 20),
    "PHN_NOT_OH": _io("p", 4),
    "RTC_ALM_SET": _iow("p", 7, RTC_TIME), "RTC_ALM_READ": _ior("p", 8, RTC_TIME),
    "RTC_RD_TIME": _ior("p", 9, RTC_TIME), "RTC_SET_TIME": _iow("p", 10, RTC_TIME),
    "RTC_IRQP_READ": _ior("p", 11, 8), "RTC_IRQP_SET": _iow("p", 12, 8),
    "RTC_EPOCH_READ": _ior("p", 13, 8), "RTC_EPOCH_SET": _iow("p", 14, 8),
    "RTC_WKALM_SET": _iow("p", 15, RTC_WKALRM), "RTC_WKALM_RD": _ior("p", 16, RTC_WKALRM),
    "RTC_PLL_GET": _ior("p", 17, RTC_PLL_INFO), "RTC_PLL_SET": _iow("p", 18, RTC_PLL_INFO),
    "RTC_VL_READ": _ior("p", 19, 4),
    "RTC_PARAM_GET": _iow("p", 19, RTC_PARAM), "RTC_PARAM_SET": _iow("p", 20, RTC_PARAM),
    "NVRAM_INIT": _io("p", 0x40), "NVRAM_SETCKS": _io("p", 0x41),
    "COUNTER_ADD_WATCH_IOCTL": _iow(">", 0, 6), "COUNTER_ENABLE_EVENTS_IOCTL": _io(">", 1),
    "COUNTER_DISABLE_EVENTS_IOCTL": _io(">", 2),
    "PERF_EVENT_IOC_ENABLE": _io("$", 0), "PERF_EVENT_IOC_DISABLE": _io("$", 1),
    "PERF_EVENT_IOC_REFRESH": _io("$", 2), "PERF_EVENT_IOC_RESET": _io("$", 3),
    "PERF_EVENT_IOC_PERIOD": _iow("$", 4, 8), "PERF_EVENT_IOC_SET_OUTPUT": _io("$", 5),
    "PERF_EVENT_IOC_SET_FILTER": _iow("$", 6, 8), "PERF_EVENT_IOC_ID": _ior("$", 7, 8),
    "PERF_EVENT_IOC_SET_BPF": _iow("$", 8, 4), "PERF_EVENT_IOC_PAUSE_OUTPUT": _iow("$", 9, 4),
    "PERF_EVENT_IOC_QUERY_BPF": _iowr("$", 10, 8),
    "PERF_EVENT_IOC_MODIFY_ATTRIBUTES": _iow("$", 11, 8),
    "SECCOMP_IOCTL_NOTIF_RECV": _iowr("!", 0, 80), "SECCOMP_IOCTL_NOTIF_SEND": _iowr("!", 1, 24),
    "SECCOMP_IOCTL_NOTIF_ID_VALID": _iow("!", 2, 8),
    "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR": _ior("!", 2, 8),
    "SECCOMP_IOCTL_NOTIF_ADDFD": _iow("!", 3, 24),
    "FS_IOC32_GETFLAGS": _ior("f", 1, 4), "FS_IOC32_SETFLAGS": _iow("f", 2, 4),
    "UFFDIO_REGISTER": _iowr("\xaa", 0, 32), "UFFDIO_UNREGISTER": _ior("\xaa", 1, 16),
    "UFFDIO_WAKE": _ior("\xaa", 2, 16), "UFFDIO_COPY": _iowr("\xaa", 3, 40),
    "UFFDIO_ZEROPAGE": _iowr("\xaa", 4, 32), "UFFDIO_API": _iowr("\xaa", 0x3F, 24),
}
_NAMES_BY_REQUEST: dict[int, list[str]] = {}
for _name, _req in FAMILY_NAMES.items():
    _NAMES_BY_REQUEST.setdefault(_req, []).append(_name)


def _ioc_text(req: int) -> str:
    """A request no table names, as its parts: _IOC(_IOC_READ, 0x54, 0x99, 0x4)."""
    dirs = flags(L.IOC_DIRS, req >> 30)
    return (f"_IOC({dirs}, {hexval(req >> 8 & 0xFF)}, {hexval(req & 0xFF)}, "
            f"{hexval(req >> 16 & 0x3FFF)})")


def request_names(req: int) -> list[str]:
    names = {L.IOCTLS.name(req), L.IOCTL_ALIASES.name(req), *_NAMES_BY_REQUEST.get(req, ())}
    return sorted(filter(None, names))


def ioctl_name(req: int) -> str:
    """The request as strace spells it: ``BTRFS_IOC_CLONE or FICLONE`` when two
    share it; -X raw: the number, -X verbose: the number and its names."""
    style = STYLE.get()
    if style == "raw":
        return hexval(req)
    abbrev = STYLE.set("abbrev")        # the parts of a nameless one, in the comment too
    try:
        names = " or ".join(request_names(req)) or _ioc_text(req)
    finally:
        STYLE.reset(abbrev)
    return f"{hexval(req)} /* {names} */" if style == "verbose" else names


# --- the argument -------------------------------------------------------------


class Request(NamedTuple):
    """How a request's argument prints: ``render(call)``, None for no argument;
    ``late``: strace prints it when the call returns (the driver writes it)."""

    render: Callable[[Call], str | None]
    late: bool = False


def _memory(name: str, written: bool, render: Callable[[bytes, Call], str],
            size: int = 0) -> Request:
    """The memory the argument points to, from STRU ``name``: the entry copy, or
    (``written``) the exit copy of a call that succeeded; the address when
    there is none, or fewer than ``size`` bytes of it."""
    def text(c: Call) -> str:
        data = c.struct(2, name, exit=written)
        if data is None or len(data) < size or (written and not c.ok):
            return ptr(c.arg(2))
        return render(data, c)
    return Request(text, late=written)


_INT = struct.Struct("<i")
_UINT = struct.Struct("<I")
_ULONG = struct.Struct("<Q")
_POOL = struct.Struct("<ii")     # rand_pool_info: entropy_count, buf_size (then buf)


def _int_text(data: bytes, c: Call) -> str:
    return f"[{_INT.unpack_from(data)[0]}]"


def _ulong_text(data: bytes, c: Call) -> str:
    return f"[{_ULONG.unpack_from(data)[0]}]"


def _uid_text(data: bytes, c: Call) -> str:
    return f"[{uid_text(_UINT.unpack_from(data)[0])}]"


def rand_pool_text(data: bytes, c: Call) -> str:
    """RNDADDENTROPY's struct rand_pool_info; its buffer follows it, beyond the
    request's size: not recorded, its address."""
    count, size = _POOL.unpack_from(data)
    buf = f"{c.arg(2) + _POOL.size:#x}" if size else '""'
    return f"{{entropy_count={count}, buf_size={size}, buf={buf}}}"


def _ioc_int(written: bool) -> Request:
    return _memory("ioc", written, _int_text, _INT.size)


NO_ARG = Request(lambda c: None)
INT_VALUE = Request(lambda c: str(c_int(c.arg(2))))
ULONG_VALUE = Request(lambda c: str(c.arg(2)))
FD_VALUE = Request(lambda c: c.fd_text(c_int(c.arg(2))))

# rtc.c
_RTC_TIME = struct.Struct("<9i")
_RTC_TIME_FIELDS = ("tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year", "tm_wday",
                    "tm_yday", "tm_isdst")
_RTC_PLL = struct.Struct("<6iq")
_RTC_PLL_FIELDS = ("pll_ctrl", "pll_value", "pll_max", "pll_min", "pll_posmult", "pll_negmult",
                   "pll_clock")
_RTC_PARAM = struct.Struct("<QQII")     # param, value (uvalue/svalue), index, __pad
RTC_VL_FLAGS = Xlat([(1, "RTC_VL_DATA_INVALID"), (2, "RTC_VL_BACKUP_LOW"),
                     (4, "RTC_VL_BACKUP_EMPTY"), (8, "RTC_VL_ACCURACY_LOW"),
                     (16, "RTC_VL_BACKUP_SWITCH")])
RTC_FEATURES, RTC_PARAM_CORRECTION, RTC_PARAM_BACKUP_SWITCH_MODE = 0, 1, 2
RTC_PARAMS = Xlat([(RTC_FEATURES, "RTC_PARAM_FEATURES"),
                   (RTC_PARAM_CORRECTION, "RTC_PARAM_CORRECTION"),
                   (RTC_PARAM_BACKUP_SWITCH_MODE, "RTC_PARAM_BACKUP_SWITCH_MODE")])
RTC_FEATURE_BITS = Xlat([(1 << bit, f"1<<RTC_FEATURE_{name}") for bit, name in enumerate((
    "ALARM", "ALARM_RES_MINUTE", "NEED_WEEK_DAY", "ALARM_RES_2S", "UPDATE_INTERRUPT",
    "CORRECTION", "BACKUP_SWITCH_MODE", "ALARM_WAKEUP_ONLY"))])
RTC_BSM = Xlat([(0, "RTC_BSM_DISABLED"), (1, "RTC_BSM_DIRECT"), (2, "RTC_BSM_LEVEL"),
                (3, "RTC_BSM_STANDBY")])


def _fields(names, values) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, values))


def rtc_time_text(data: bytes, c: Call) -> str:
    """``{tm_sec=.., .., tm_year=.., ...}`` (all nine with -v)."""
    values = _RTC_TIME.unpack_from(data)
    if c.abbrev:
        return f"{{{_fields(_RTC_TIME_FIELDS[:6], values)}, ...}}"
    return f"{{{_fields(_RTC_TIME_FIELDS, values)}}}"


def rtc_wkalrm_text(data: bytes, c: Call) -> str:
    return f"{{enabled={data[0]}, pending={data[1]}, time={rtc_time_text(data[4:], c)}}}"


def rtc_pll_text(data: bytes, c: Call) -> str:
    return f"{{{_fields(_RTC_PLL_FIELDS, _RTC_PLL.unpack_from(data))}}}"


def rtc_vl_text(data: bytes, c: Call) -> str:
    return f"[{flags(RTC_VL_FLAGS, _UINT.unpack_from(data)[0], unknown='RTC_VL_???')}]"


def _rtc_param_value(param: int, value: int) -> str:
    if param == RTC_FEATURES:
        return f"uvalue={flags(RTC_FEATURE_BITS, value, unknown='1<<RTC_FEATURE_???')}"
    if param == RTC_PARAM_CORRECTION:
        return f"svalue={value - (1 << 64) if value >> 63 else value}"
    if param == RTC_PARAM_BACKUP_SWITCH_MODE:
        return f"uvalue={xval(RTC_BSM, value, 'RTC_BSM_???')}"
    return f"uvalue={hexval(value)}"


def _rtc_param(get: bool) -> Request:
    """RTC_PARAM_GET/SET's struct as given: the parameter and its index (and for
    SET its value); GET's value is the driver's, shown at exit (`` => ``)."""
    def text(data: bytes, c: Call) -> str:
        param, value, index, pad = _RTC_PARAM.unpack_from(data)
        parts = [f"param={xval(RTC_PARAMS, param, 'RTC_PARAM_???')}"]
        if not get:
            parts.append(_rtc_param_value(param, value))
        parts.append(f"index={index}")
        if pad:
            parts.append(f"__pad={hexval(pad)}")
        given = "{" + ", ".join(parts) + "}"
        # the driver's answer is not recorded (the request is _IOW): its address
        return f"{given} => {ptr(c.arg(2))}" if get and c.returned else given
    return _memory("ioc", False, text, _RTC_PARAM.size)


# counter_ioctl.c
COUNTER_COMPONENTS = Xlat(enumerate(("COUNTER_COMPONENT_NONE", "COUNTER_COMPONENT_SIGNAL",
                                     "COUNTER_COMPONENT_COUNT", "COUNTER_COMPONENT_FUNCTION",
                                     "COUNTER_COMPONENT_SYNAPSE_ACTION",
                                     "COUNTER_COMPONENT_EXTENSION")))
COUNTER_SCOPES = Xlat(enumerate(("COUNTER_SCOPE_DEVICE", "COUNTER_SCOPE_SIGNAL",
                                 "COUNTER_SCOPE_COUNT")))
COUNTER_EVENTS = Xlat(enumerate(("COUNTER_EVENT_OVERFLOW", "COUNTER_EVENT_UNDERFLOW",
                                 "COUNTER_EVENT_OVERFLOW_UNDERFLOW", "COUNTER_EVENT_THRESHOLD",
                                 "COUNTER_EVENT_INDEX", "COUNTER_EVENT_CHANGE_OF_STATE",
                                 "COUNTER_EVENT_CAPTURE")))
COUNTER_WATCH = 6       # struct counter_watch: component (type, scope, parent, id), event, channel


def counter_watch_text(data: bytes, c: Call) -> str:
    kind, scope, parent, ident, event, channel = data[:COUNTER_WATCH]
    return (f"{{component={{type={xval(COUNTER_COMPONENTS, kind, 'COUNTER_COMPONENT_???')}, "
            f"scope={xval(COUNTER_SCOPES, scope, 'COUNTER_SCOPE_???')}, parent={parent}, "
            f"id={ident}}}, event={xval(COUNTER_EVENTS, event, 'COUNTER_EVENT_???')}, "
            f"channel={channel}}}")


# perf_ioctl.c
PERF_IOC_FLAGS = Xlat([(1, "PERF_IOC_FLAG_GROUP")])
_QUERY_BPF = struct.Struct("<II")       # perf_event_query_bpf: ids_len, prog_cnt (then ids)


def _perf_query_bpf(c: Call) -> str:
    """``{ids_len=N, ...}``; a successful call's ``prog_cnt``, its ids (past the
    request's size: not recorded) by their address."""
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < _QUERY_BPF.size:
        return ptr(c.arg(2))
    head = f"{{ids_len={_QUERY_BPF.unpack_from(given)[0]}, "
    answer = c.struct(2, "ioc")
    if not c.ok or answer is given or len(answer) < _QUERY_BPF.size:
        return head + "...}"
    count = _QUERY_BPF.unpack_from(answer)[1]
    ids = "[]" if not count else f"{c.arg(2) + _QUERY_BPF.size:#x}"
    return f"{head}prog_cnt={count}, ids={ids}}}"


def _perf_attr(c: Call) -> str:
    data = c.struct(2, "perf_event_attr", exit=False)
    text = perf_attr_text(data, c) if data is not None else None
    return text if text is not None else ptr(c.arg(2))


# fs_x_ioctl.c
FS_XFLAGS = Xlat([(1 << bit, f"FS_XFLAG_{name}") for bit, name in enumerate((
    "REALTIME", "PREALLOC", None, "IMMUTABLE", "APPEND", "SYNC", "NOATIME", "NODUMP",
    "RTINHERIT", "PROJINHERIT", "NOSYMLINKS", "EXTSIZE", "EXTSZINHERIT", "NODEFRAG",
    "FILESTREAM", "DAX", "COWEXTSIZE")) if name] + [(0x80000000, "FS_XFLAG_HASATTR")])
_FSTRIM = struct.Struct("<QQQ")         # fstrim_range: start, len, minlen
_FSXATTR = struct.Struct("<5I8x")       # xflags, extsize, nextents, projid, cowextsize


def fstrim_text(data: bytes, c: Call) -> str:
    start, length, minlen = _FSTRIM.unpack_from(data)
    return f"{{start={hexval(start)}, len={length}, minlen={minlen}}}"


def _fsxattr(get: bool) -> Request:
    def text(data: bytes, c: Call) -> str:
        xflags, extsize, nextents, projid, cowextsize = _FSXATTR.unpack_from(data)
        nextents_text = f", fsx_nextents={nextents}" if get else ""
        return (f"{{fsx_xflags={flags(FS_XFLAGS, xflags, unknown='FS_XFLAG_???')}, "
                f"fsx_extsize={extsize}{nextents_text}, fsx_projid={hexval(projid)}, "
                f"fsx_cowextsize={cowextsize}}}")
    return _memory("ioc", get, text, _FSXATTR.size)


# fs_f_ioctl.c: the inode flags (an unsigned int, whatever the request's size says)
FS_IOC_FLAGS = Xlat([(1 << bit, f"FS_{name}_FL") for bit, name in enumerate((
    "SECRM", "UNRM", "COMPR", "SYNC", "IMMUTABLE", "APPEND", "NODUMP", "NOATIME", "DIRTY",
    "COMPRBLK", "NOCOMP", "ENCRYPT", "INDEX", "IMAGIC", "JOURNAL_DATA", "NOTAIL", "DIRSYNC",
    "TOPDIR", "HUGE_FILE", "EXTENT", "VERITY", "EA_INODE", "EOFBLOCKS", "NOCOW", None, "DAX",
    None, None, "INLINE_DATA", "PROJINHERIT", "CASEFOLD", "RESERVED")) if name])


def fs_flags_text(data: bytes, c: Call) -> str:
    return f"[{flags(FS_IOC_FLAGS, _UINT.unpack_from(data)[0], unknown='FS_???_FL')}]"


# userfaultfd.c: a struct given, and what the kernel adds to it (``=> features=``,
# ``ioctls=``, ``copy=``) when the call succeeded
def _flag_bits(prefix: str, names) -> Xlat:
    return Xlat([(1 << bit, f"{prefix}{name}") for bit, name in enumerate(names) if name])


UFFD_FEATURES = _flag_bits("UFFD_FEATURE_", (
    "PAGEFAULT_FLAG_WP", "EVENT_FORK", "EVENT_REMAP", "EVENT_REMOVE", "MISSING_HUGETLBFS",
    "MISSING_SHMEM", "EVENT_UNMAP", "SIGBUS", "THREAD_ID", "MINOR_HUGETLBFS", "MINOR_SHMEM",
    "EXACT_ADDRESS", "WP_HUGETLBFS_SHMEM"))
UFFD_API_IOCTLS = Xlat([(1 << 0, "1<<_UFFDIO_REGISTER"), (1 << 1, "1<<_UFFDIO_UNREGISTER"),
                        (1 << 0x3F, "1<<_UFFDIO_API")])
UFFD_RANGE_IOCTLS = Xlat([(1 << nr, f"1<<_UFFDIO_{name}") for nr, name in (
    (2, "WAKE"), (3, "COPY"), (4, "ZEROPAGE"), (6, "WRITEPROTECT"), (7, "CONTINUE"))])
UFFD_REGISTER_MODES = _flag_bits("UFFDIO_REGISTER_MODE_", ("MISSING", "WP", "MINOR"))
UFFD_COPY_MODES = _flag_bits("UFFDIO_COPY_MODE_", ("DONTWAKE", "WP"))
UFFD_ZEROPAGE_MODES = _flag_bits("UFFDIO_ZEROPAGE_MODE_", ("DONTWAKE",))
_UFFD_API = struct.Struct("<QQQ")        # api, features, ioctls
_UFFD_REGISTER = struct.Struct("<QQQQ")  # range (start, len), mode, ioctls
_UFFD_COPY = struct.Struct("<QQQQq")     # dst, src, len, mode, copy
_UFFD_ZEROPAGE = struct.Struct("<QQQq")  # range (start, len), mode, zeropage
_UFFD_RANGE = struct.Struct("<QQ")


def _uffd_range(start: int, length: int) -> str:
    return f"{{start={hexval(start)}, len={hexval(length)}}}"


def _uffd_features(features: int) -> str:
    return flags(UFFD_FEATURES, features, unknown="UFFD_FEATURE_???")


def _uffd_api(given: bytes, answer: bytes | None) -> str:
    api, features, _ = _UFFD_API.unpack_from(given)
    text = f"{{api={hexval(api)}, features={_uffd_features(features)}"
    if answer is not None:
        _, now, ioctls = _UFFD_API.unpack_from(answer)
        if now != features:
            text += f" => features={_uffd_features(now)}"
        text += f", ioctls={flags(UFFD_API_IOCTLS, ioctls, unknown='_UFFDIO_???')}"
    return text + "}"


def _uffd_register(given: bytes, answer: bytes | None) -> str:
    start, length, mode, _ = _UFFD_REGISTER.unpack_from(given)
    text = (f"{{range={_uffd_range(start, length)}, "
            f"mode={flags(UFFD_REGISTER_MODES, mode, unknown='UFFDIO_REGISTER_MODE_???')}")
    if answer is not None:
        ioctls = _UFFD_REGISTER.unpack_from(answer)[3]
        text += f", ioctls={flags(UFFD_RANGE_IOCTLS, ioctls, unknown='UFFDIO_???')}"
    return text + "}"


def _uffd_copy(given: bytes, answer: bytes | None) -> str:
    dst, src, length, mode, _ = _UFFD_COPY.unpack_from(given)
    text = (f"{{dst={hexval(dst)}, src={hexval(src)}, len={hexval(length)}, "
            f"mode={flags(UFFD_COPY_MODES, mode, unknown='UFFDIO_COPY_???')}")
    if answer is not None:
        text += f", copy={hexval(_UFFD_COPY.unpack_from(answer)[4] & (1 << 64) - 1)}"
    return text + "}"


def _uffd_zeropage(given: bytes, answer: bytes | None) -> str:
    start, length, mode, _ = _UFFD_ZEROPAGE.unpack_from(given)
    text = (f"{{range={_uffd_range(start, length)}, "
            f"mode={flags(UFFD_ZEROPAGE_MODES, mode, unknown='UFFDIO_ZEROPAGE_???')}")
    if answer is not None:
        text += f", zeropage={hexval(_UFFD_ZEROPAGE.unpack_from(answer)[3] & (1 << 64) - 1)}"
    return text + "}"


def _given_and_answer(render: Callable[[bytes, bytes | None], str], size: int) -> Request:
    """A struct read in and written back (_IOWR): as given, with what the
    kernel's copy adds when the call succeeded."""
    def text(c: Call) -> str:
        given = c.struct(2, "ioc", exit=False)
        if given is None or len(given) < size:
            return ptr(c.arg(2))
        answer = c.struct(2, "ioc") if c.ok else None
        ok = answer is not None and answer is not given and len(answer) >= size
        return render(given, answer if ok else None)
    return Request(text)


def _uffd_range_text(data: bytes, c: Call) -> str:
    return _uffd_range(*_UFFD_RANGE.unpack_from(data))


# seccomp_ioctl.c
_NOTIF = struct.Struct("<QIIiIQ6Q")     # seccomp_notif: id, pid, flags, data (nr, arch, ip, args)
_NOTIF_RESP = struct.Struct("<QqiI")    # id, val, error, flags
_NOTIF_ADDFD = struct.Struct("<QIiiI")  # id, flags, srcfd, newfd, newfd_flags
SECCOMP_RESP_FLAGS = Xlat([(1, "SECCOMP_USER_NOTIF_FLAG_CONTINUE")])
SECCOMP_ADDFD_FLAGS = Xlat([(1, "SECCOMP_ADDFD_FLAG_SETFD"), (2, "SECCOMP_ADDFD_FLAG_SEND")])


def _notif_text(data: bytes, c: Call) -> str:
    ident, pid, notif_flags, nr, arch, ip, *args = _NOTIF.unpack_from(data)
    data_text = (f"{{nr={syscall_nr_text(nr & 0xFFFFFFFF, arch)}, "
                 f"arch={xval(L.AUDIT_ARCHES, arch, 'AUDIT_ARCH_???')}, "
                 f"instruction_pointer={ptr(ip)}, "
                 f"args=[{', '.join(hexval(a) for a in args)}]}}")
    return (f"{{id={hexval(ident)}, pid={pid_text(c, c_int(pid))}, flags={hexval(notif_flags)}, "
            f"data={data_text}}}")


def _notif_recv(c: Call) -> str:
    """SECCOMP_IOCTL_NOTIF_RECV: the notification as given when not all zeros
    (then `` => `` the kernel's), else the kernel's alone."""
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < _NOTIF.size:
        return ptr(c.arg(2))
    answer = c.struct(2, "ioc")
    after = _notif_text(answer, c) if c.ok and answer is not given else ptr(c.arg(2))
    if not any(given) or not c.returned:
        return after if c.returned else ""
    return f"{_notif_text(given, c)} => {after}"


def _notif_resp_text(data: bytes, c: Call) -> str:
    ident, val, error, resp_flags = _NOTIF_RESP.unpack_from(data)
    resp = flags(SECCOMP_RESP_FLAGS, resp_flags, unknown="SECCOMP_USER_NOTIF_FLAG_???")
    return f"{{id={hexval(ident)}, val={val}, error={err_text(error)}, flags={resp}}}"


def _notif_addfd_text(data: bytes, c: Call) -> str:
    ident, addfd_flags, srcfd, newfd, newfd_flags = _NOTIF_ADDFD.unpack_from(data)
    return (f"{{id={hexval(ident)}, "
            f"flags={flags(SECCOMP_ADDFD_FLAGS, addfd_flags, unknown='SECCOMP_ADDFD_FLAG_???')}, "
            f"srcfd={c.fd_text(srcfd)}, newfd={newfd}, "
            f"newfd_flags={flags(L.OPEN_FLAGS, newfd_flags, unknown='O_???')}}}")


def _hex_u64_text(data: bytes, c: Call) -> str:
    return f"[{hexval(_ULONG.unpack_from(data)[0])}]"


REQUESTS: dict[str, Request] = {
    # term.c (the tty requests' own STRU records: linux_plan's ioctl selector)
    **{req: _memory("termios", req == "TCGETS", T.termios_text)
       for req in ("TCGETS", "TCSETS", "TCSETSW", "TCSETSF")},
    "TIOCGWINSZ": _memory("winsize", True, T.winsize_text),
    "TIOCSWINSZ": _memory("winsize", False, T.winsize_text),
    **{req: _memory("int", True, T.int_text) for req in ("FIONREAD", "TIOCGPGRP", "TIOCOUTQ")},
    **{req: _memory("int", False, T.int_text) for req in ("TIOCSPGRP", "FIONBIO")},
    **{req: NO_ARG for req in ("FIOCLEX", "FIONCLEX", "TIOCNOTTY", "TIOCSBRK", "TIOCCBRK",
                               "TIOCCONS", "TIOCEXCL", "TIOCNXCL", "TIOCVHANGUP")},
    **{req: INT_VALUE for req in ("TCSBRK", "TCSBRKP", "TIOCSCTTY")},
    "FICLONE": FD_VALUE,        # the source descriptor
    # watchdog_ioctl.c (WDIOC_KEEPALIVE's int is ignored)
    **{req: _ioc_int(True) for req in (
        "WDIOC_GETSTATUS", "WDIOC_GETBOOTSTATUS", "WDIOC_GETTEMP", "WDIOC_GETTIMEOUT",
        "WDIOC_GETPRETIMEOUT", "WDIOC_GETTIMELEFT")},
    "WDIOC_SETTIMEOUT": _ioc_int(False), "WDIOC_SETPRETIMEOUT": _ioc_int(False),
    "WDIOC_KEEPALIVE": NO_ARG,
    # random_ioctl.c
    "RNDGETENTCNT": _ioc_int(True), "RNDADDTOENTCNT": _ioc_int(False),
    "RNDADDENTROPY": _memory("ioc", False, rand_pool_text, _POOL.size),
    **{req: NO_ARG for req in ("RNDZAPENTCNT", "RNDCLEARPOOL", "RNDRESEEDCRNG")},
    # inotify_ioctl.c
    "INOTIFY_IOC_SETNEXTWD": INT_VALUE,
    # nsfs.c (NS_GET_OWNER_UID's uid: the selector's STRU int)
    **{req: NO_ARG for req in ("NS_GET_USERNS", "NS_GET_PARENT", "NS_GET_NSTYPE")},
    "NS_GET_OWNER_UID": _memory("int", True, _uid_text, _UINT.size),
    # rtc.c
    **{req: NO_ARG for req in ("RTC_AIE_ON", "RTC_AIE_OFF", "RTC_UIE_ON", "RTC_UIE_OFF",
                               "RTC_PIE_ON", "RTC_PIE_OFF", "RTC_WIE_ON", "RTC_WIE_OFF",
                               "RTC_VL_CLR")},
    "RTC_ALM_READ": _memory("ioc", True, rtc_time_text, RTC_TIME),
    "RTC_RD_TIME": _memory("ioc", True, rtc_time_text, RTC_TIME),
    "RTC_ALM_SET": _memory("ioc", False, rtc_time_text, RTC_TIME),
    "RTC_SET_TIME": _memory("ioc", False, rtc_time_text, RTC_TIME),
    "RTC_IRQP_SET": ULONG_VALUE, "RTC_EPOCH_SET": ULONG_VALUE,
    "RTC_IRQP_READ": _memory("ioc", True, _ulong_text, _ULONG.size),
    "RTC_EPOCH_READ": _memory("ioc", True, _ulong_text, _ULONG.size),
    "RTC_WKALM_RD": _memory("ioc", True, rtc_wkalrm_text, RTC_WKALRM),
    "RTC_WKALM_SET": _memory("ioc", False, rtc_wkalrm_text, RTC_WKALRM),
    "RTC_PLL_GET": _memory("ioc", True, rtc_pll_text, RTC_PLL_INFO),
    "RTC_PLL_SET": _memory("ioc", False, rtc_pll_text, RTC_PLL_INFO),
    "RTC_VL_READ": _memory("ioc", True, rtc_vl_text, _UINT.size),
    "RTC_PARAM_GET": _rtc_param(True), "RTC_PARAM_SET": _rtc_param(False),
    # counter_ioctl.c
    "COUNTER_ADD_WATCH_IOCTL": _memory("ioc", False, counter_watch_text, COUNTER_WATCH),
    "COUNTER_ENABLE_EVENTS_IOCTL": NO_ARG, "COUNTER_DISABLE_EVENTS_IOCTL": NO_ARG,
    # perf_ioctl.c (SET_FILTER's string and MODIFY_ATTRIBUTES' perf_event_attr: the
    # selector's STRU string and perf_event_attr, the request's size being a pointer's)
    **{req: Request(lambda c: flags(PERF_IOC_FLAGS, c.arg(2) & 0xFFFFFFFF,
                                    unknown="PERF_IOC_FLAG_???"))
       for req in ("PERF_EVENT_IOC_ENABLE", "PERF_EVENT_IOC_DISABLE", "PERF_EVENT_IOC_RESET")},
    "PERF_EVENT_IOC_REFRESH": INT_VALUE,
    "PERF_EVENT_IOC_PERIOD": _memory("ioc", False, _ulong_text, _ULONG.size),
    "PERF_EVENT_IOC_ID": _memory("ioc", True, _ulong_text, _ULONG.size),
    "PERF_EVENT_IOC_SET_OUTPUT": FD_VALUE, "PERF_EVENT_IOC_SET_BPF": FD_VALUE,
    "PERF_EVENT_IOC_PAUSE_OUTPUT": ULONG_VALUE,
    "PERF_EVENT_IOC_QUERY_BPF": Request(_perf_query_bpf),
    "PERF_EVENT_IOC_SET_FILTER": Request(lambda c: p_string_in(c, 2)),
    "PERF_EVENT_IOC_MODIFY_ATTRIBUTES": Request(_perf_attr),
    # fs_x_ioctl.c
    "FIFREEZE": NO_ARG, "FITHAW": NO_ARG,
    "FITRIM": _memory("ioc", False, fstrim_text, _FSTRIM.size),
    "FS_IOC_FSGETXATTR": _fsxattr(True), "FS_IOC_FSSETXATTR": _fsxattr(False),
    # fs_f_ioctl.c
    # (FS_IOC_[GS]ETFLAGS, a long by _IOC and an int in use: the selector's STRU int)
    **{req: _memory(name, req.endswith("GETFLAGS"), fs_flags_text, _UINT.size)
       for req, name in (("FS_IOC_GETFLAGS", "int"), ("FS_IOC_SETFLAGS", "int"),
                         ("FS_IOC32_GETFLAGS", "ioc"), ("FS_IOC32_SETFLAGS", "ioc"))},
    # userfaultfd.c (UNREGISTER's and WAKE's range, _IOR the kernel reads: strace prints
    # it at entry; recorded as _IOR says, at the exit of a successful call)
    "UFFDIO_API": _given_and_answer(_uffd_api, _UFFD_API.size),
    "UFFDIO_REGISTER": _given_and_answer(_uffd_register, _UFFD_REGISTER.size),
    "UFFDIO_COPY": _given_and_answer(_uffd_copy, _UFFD_COPY.size),
    "UFFDIO_ZEROPAGE": _given_and_answer(_uffd_zeropage, _UFFD_ZEROPAGE.size),
    **{req: _memory("ioc", True, _uffd_range_text, _UFFD_RANGE.size)
       for req in ("UFFDIO_UNREGISTER", "UFFDIO_WAKE")},
    # seccomp_ioctl.c (ID_VALID_WRONG_DIR, an _IOR the kernel reads: the selector's STRU long)
    "SECCOMP_IOCTL_NOTIF_RECV": Request(_notif_recv),
    "SECCOMP_IOCTL_NOTIF_SEND": _memory("ioc", False, _notif_resp_text, _NOTIF_RESP.size),
    "SECCOMP_IOCTL_NOTIF_ID_VALID": _memory("ioc", False, _hex_u64_text, _ULONG.size),
    "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR": _memory("long", False, _hex_u64_text, _ULONG.size),
    "SECCOMP_IOCTL_NOTIF_ADDFD": _memory("ioc", False, _notif_addfd_text, _NOTIF_ADDFD.size),
}


def _request(c: Call) -> Request | None:
    """The decoder of the call's request: the first of its names that has one."""
    for name in request_names(c.arg(1) & 0xFFFFFFFF):
        found = REQUESTS.get(name)
        if found is not None:
            return found
    return None


def _ioctl(c: Call, i: int) -> str:
    name = ioctl_name(c.arg(1) & 0xFFFFFFFF)
    req = _request(c)
    arg = req.render(c) if req is not None else hexval(c.arg(2))
    return name if arg is None else f"{name}, {arg}"


def _late(c: Call) -> bool:
    req = _request(c)
    return req is not None and req.late


def ioctl_result(c: Call, text: str) -> str:
    """NS_GET_NSTYPE's namespace type: ``268435456 (CLONE_NEWUSER)``."""
    if c.ok and request_names(c.arg(1) & 0xFFFFFFFF) == ["NS_GET_NSTYPE"]:
        kind = L.SETNS_TYPES.name(c.retval)
        if kind is not None:
            return f"{text} ({named(kind, c.retval, str(c.retval))})"
    return text


RESULTS = {"ioctl": ioctl_result}

SYSCALLS = {
    "ioctl": (FD, Arg(_ioctl, exit=_late)),
}

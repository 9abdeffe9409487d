"""ioctl requests of strace's watchdog_ioctl.c, random_ioctl.c, inotify_ioctl.c, nsfs.c
and counter_ioctl.c."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from ..call import Call, counted_text, uid_text
from ..fmt import xval
from . import INT_VALUE, NO_ARG, UINT, Request, io, ioc_int, ior, iow, iowr, memory

_POOL = struct.Struct("<ii")     # rand_pool_info: entropy_count, buf_size (then buf)

def _uid_text(data: bytes, c: Call) -> str:
    return f"[{uid_text(UINT.unpack_from(data)[0])}]"


def rand_pool_text(data: bytes, c: Call) -> str:
    """RNDADDENTROPY's struct rand_pool_info and the buf_size bytes of its
    buffer after it (linux_plan's IOCTL_MISC), printstrn'd."""
    count, size = _POOL.unpack_from(data)
    buf = counted_text(c, c.arg(2) + _POOL.size, data[_POOL.size:], size & 0xFFFFFFFF)
    return f"{{entropy_count={count}, buf_size={size}, buf={buf}}}"


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


NAMES = {
    "WDIOC_GETSUPPORT": ior("W", 0, 40), "WDIOC_GETSTATUS": ior("W", 1, 4),
    "WDIOC_GETBOOTSTATUS": ior("W", 2, 4), "WDIOC_GETTEMP": ior("W", 3, 4),
    "WDIOC_SETOPTIONS": ior("W", 4, 4), "WDIOC_KEEPALIVE": ior("W", 5, 4),
    "WDIOC_SETTIMEOUT": iowr("W", 6, 4), "WDIOC_GETTIMEOUT": ior("W", 7, 4),
    "WDIOC_SETPRETIMEOUT": iowr("W", 8, 4), "WDIOC_GETPRETIMEOUT": ior("W", 9, 4),
    "WDIOC_GETTIMELEFT": ior("W", 10, 4),
    "RNDGETENTCNT": ior("R", 0, 4), "RNDADDTOENTCNT": iow("R", 1, 4),
    "RNDGETPOOL": ior("R", 2, 8), "RNDADDENTROPY": iow("R", 3, 8),
    "RNDZAPENTCNT": io("R", 4), "RNDCLEARPOOL": io("R", 6), "RNDRESEEDCRNG": io("R", 7),
    "FASTRPC_IOCTL_INIT_ATTACH": io("R", 4),
    "INOTIFY_IOC_SETNEXTWD": iow("I", 0, 4),
    "NS_GET_USERNS": io("\xb7", 1), "NS_GET_PARENT": io("\xb7", 2),
    "NS_GET_NSTYPE": io("\xb7", 3), "NS_GET_OWNER_UID": io("\xb7", 4),
    "NVRAM_INIT": io("p", 0x40), "NVRAM_SETCKS": io("p", 0x41),
    "COUNTER_ADD_WATCH_IOCTL": iow(">", 0, 6), "COUNTER_ENABLE_EVENTS_IOCTL": io(">", 1),
    "COUNTER_DISABLE_EVENTS_IOCTL": io(">", 2),
}

REQUESTS: dict[str, Request] = {
    # watchdog_ioctl.c (WDIOC_KEEPALIVE's int is ignored)
    **{req: ioc_int(True) for req in (
        "WDIOC_GETSTATUS", "WDIOC_GETBOOTSTATUS", "WDIOC_GETTEMP", "WDIOC_GETTIMEOUT",
        "WDIOC_GETPRETIMEOUT", "WDIOC_GETTIMELEFT")},
    "WDIOC_SETTIMEOUT": ioc_int(False), "WDIOC_SETPRETIMEOUT": ioc_int(False),
    "WDIOC_KEEPALIVE": NO_ARG,
    # random_ioctl.c
    "RNDGETENTCNT": ioc_int(True), "RNDADDTOENTCNT": ioc_int(False),
    "RNDADDENTROPY": memory("ioc", False, rand_pool_text, _POOL.size),
    **{req: NO_ARG for req in ("RNDZAPENTCNT", "RNDCLEARPOOL", "RNDRESEEDCRNG")},
    # inotify_ioctl.c
    "INOTIFY_IOC_SETNEXTWD": INT_VALUE,
    # nsfs.c (NS_GET_OWNER_UID's uid: the selector's STRU int)
    **{req: NO_ARG for req in ("NS_GET_USERNS", "NS_GET_PARENT", "NS_GET_NSTYPE")},
    "NS_GET_OWNER_UID": memory("int", True, _uid_text, UINT.size),
    # counter_ioctl.c
    "COUNTER_ADD_WATCH_IOCTL": memory("ioc", False, counter_watch_text, COUNTER_WATCH),
    "COUNTER_ENABLE_EVENTS_IOCTL": NO_ARG, "COUNTER_DISABLE_EVENTS_IOCTL": NO_ARG,
}

"""ioctl requests of strace's perf_ioctl.c."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from ..call import Call, p_string_in
from ..fmt import flags, ptr
from ..kernel import perf_attr_text
from . import (FD_VALUE, INT_VALUE, ULONG, ULONG_VALUE, Request, io, ior, iow, iowr, memory,
               ulong_text)

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


NAMES = {
    "PERF_EVENT_IOC_ENABLE": io("$", 0), "PERF_EVENT_IOC_DISABLE": io("$", 1),
    "PERF_EVENT_IOC_REFRESH": io("$", 2), "PERF_EVENT_IOC_RESET": io("$", 3),
    "PERF_EVENT_IOC_PERIOD": iow("$", 4, 8), "PERF_EVENT_IOC_SET_OUTPUT": io("$", 5),
    "PERF_EVENT_IOC_SET_FILTER": iow("$", 6, 8), "PERF_EVENT_IOC_ID": ior("$", 7, 8),
    "PERF_EVENT_IOC_SET_BPF": iow("$", 8, 4), "PERF_EVENT_IOC_PAUSE_OUTPUT": iow("$", 9, 4),
    "PERF_EVENT_IOC_QUERY_BPF": iowr("$", 10, 8),
    "PERF_EVENT_IOC_MODIFY_ATTRIBUTES": iow("$", 11, 8),
}

REQUESTS: dict[str, Request] = {
    # perf_ioctl.c (SET_FILTER's string and MODIFY_ATTRIBUTES' perf_event_attr: the
    # selector's STRU string and perf_event_attr, the request's size being a pointer's)
    **{req: Request(lambda c: flags(PERF_IOC_FLAGS, c.arg(2) & 0xFFFFFFFF,
                                    unknown="PERF_IOC_FLAG_???"))
       for req in ("PERF_EVENT_IOC_ENABLE", "PERF_EVENT_IOC_DISABLE", "PERF_EVENT_IOC_RESET")},
    "PERF_EVENT_IOC_REFRESH": INT_VALUE,
    "PERF_EVENT_IOC_PERIOD": memory("ioc", False, ulong_text, ULONG.size),
    "PERF_EVENT_IOC_ID": memory("ioc", True, ulong_text, ULONG.size),
    "PERF_EVENT_IOC_SET_OUTPUT": FD_VALUE, "PERF_EVENT_IOC_SET_BPF": FD_VALUE,
    "PERF_EVENT_IOC_PAUSE_OUTPUT": ULONG_VALUE,
    "PERF_EVENT_IOC_QUERY_BPF": Request(_perf_query_bpf),
    "PERF_EVENT_IOC_SET_FILTER": Request(lambda c: p_string_in(c, 2)),
    "PERF_EVENT_IOC_MODIFY_ATTRIBUTES": Request(_perf_attr),
}

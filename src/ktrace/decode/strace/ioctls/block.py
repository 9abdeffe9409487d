"""ioctl requests of strace's block.c (fs.h's, blkpg.h's, blkzoned.h's and
blktrace_api.h's block device requests).

Most of them are numbers from before _IOC: the plan records what the setters
read (linux_plan's IOCTL_BLOCK); a getter's answer is recorded only when its
bits say so (BLKBSZGET, BLKGETSIZE64, ...), else it prints as the address.
"""

from __future__ import annotations

import struct
from functools import partial
from typing import Callable

from ...xlat import LINUX as L
from ..call import Call, pid_text
from ..fmt import ptr, xval
from ..sockaddr import cstring
from . import INT, NO_ARG, UINT, ULONG, ULONG_VALUE, Request, fields, given_and_answer, memory

_USHORT = struct.Struct("<H")
_LONG = struct.Struct("<q")
_U64_PAIR = struct.Struct("<QQ")
_BLKPG = struct.Struct("<iii4xQ")               # op, flags, datalen, data
_PARTITION = struct.Struct("<qqi64s64s4x")      # blkpg_partition: start, length, pno, names
# blk_user_trace_setup: name[32], act_mask, buf_size, buf_nr, start_lba, end_lba, pid
_TRACE_SETUP = struct.Struct("<32sH2xII4xQQi4x")


def _number(layout: struct.Struct) -> Callable[[bytes, Call], str]:
    return lambda data, c: f"[{layout.unpack_from(data)[0]}]"


def _got(layout: struct.Struct) -> Request:
    """A number the driver writes at a successful exit."""
    return memory("ioc", True, _number(layout), layout.size)


def u64_pair_text(data: bytes, c: Call) -> str:
    return "[{}, {}]".format(*_U64_PAIR.unpack_from(data))


def _partition_text(c: Call, addr: int) -> str:
    """The blkpg_partition behind ``data`` (linux_plan.BLKPG_PARTITION): the
    address when it was not recorded."""
    recorded = c.array(2, "blkpg_partition", exit=False)
    if not addr or recorded is None or len(recorded.data) < _PARTITION.size:
        return ptr(addr)
    start, length, pno, devname, volname = _PARTITION.unpack_from(recorded.data)
    return (f"{{start={start}, length={length}, pno={pno}, devname={cstring(devname)}, "
            f"volname={cstring(volname)}}}")


def blkpg_text(data: bytes, c: Call) -> str:
    op, flags, datalen, partition = _BLKPG.unpack_from(data)
    return (f"{{op={xval(L.BLKPG_OPS, op, 'BLKPG_???')}, flags={flags}, datalen={datalen}, "
            f"data={_partition_text(c, partition)}}}")


def _trace_setup(c: Call, given: bytes, answer: bytes | None) -> str:
    """The setup as given (its pid as the call's pids print), and the name of
    the relay files the kernel chose."""
    name, *numbers, pid = _TRACE_SETUP.unpack_from(given)
    names = ("act_mask", "buf_size", "buf_nr", "start_lba", "end_lba")
    text = f"{{{fields(names, numbers)}, pid={pid_text(c, pid)}"
    if answer is not None:
        text += f", name={cstring(_TRACE_SETUP.unpack_from(answer)[0])}"
    return text + "}"


NAMES = {name: value for value, name in L.BLOCK_IOCTLS.entries}

REQUESTS: dict[str, Request] = {
    "BLKRASET": ULONG_VALUE, "BLKFRASET": ULONG_VALUE,
    **{req: _got(_USHORT) for req in ("BLKSECTGET", "BLKROTATIONAL")},
    **{req: _got(INT) for req in ("BLKROGET", "BLKBSZGET", "BLKSSZGET", "BLKALIGNOFF")},
    **{req: memory("ioc", False, _number(INT), INT.size) for req in ("BLKROSET", "BLKBSZSET")},
    **{req: _got(UINT) for req in ("BLKPBSZGET", "BLKIOMIN", "BLKIOOPT", "BLKDISCARDZEROES",
                                   "BLKGETZONESZ", "BLKGETNRZONES")},
    **{req: _got(_LONG) for req in ("BLKRAGET", "BLKFRAGET")},
    **{req: _got(ULONG) for req in ("BLKGETSIZE", "BLKGETSIZE64", "BLKGETDISKSEQ")},
    **{req: memory("ioc", False, u64_pair_text, _U64_PAIR.size)
       for req in ("BLKDISCARD", "BLKSECDISCARD", "BLKZEROOUT")},
    "BLKPG": memory("ioc", False, blkpg_text, _BLKPG.size),
    "BLKTRACESETUP": Request(lambda c: given_and_answer(partial(_trace_setup, c),
                                                        _TRACE_SETUP.size).render(c)),
    **{req: NO_ARG for req in ("BLKRRPART", "BLKFLSBUF", "BLKTRACESTART", "BLKTRACESTOP",
                               "BLKTRACETEARDOWN")},
}

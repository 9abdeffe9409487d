"""ioctl requests of strace's fs_f_ioctl.c that file_ioctl.c's tests check: FS_IOC_FIEMAP.

The request's _IOC size is struct fiemap's head alone: the extents the driver
writes after it are not recorded, and print as memory strace cannot read (their
address) unless there are none.
"""

from __future__ import annotations

import struct

from ..call import Call
from ..fmt import flags, ptr
from . import Request, flag_bits, given_and_answer

FIEMAP_FLAGS = flag_bits("FIEMAP_FLAG_", ("SYNC", "XATTR", "CACHE"))
# fiemap: fm_start, fm_length, fm_flags, fm_mapped_extents, fm_extent_count, fm_reserved
_FIEMAP = struct.Struct("<QQIIII")


def _fiemap_flags(value: int) -> str:
    return flags(FIEMAP_FLAGS, value, unknown="FIEMAP_FLAG_???")


def _fiemap_text(c: Call, given: bytes, answer: bytes | None) -> str:
    start, length, fm_flags, _, extent_count, _ = _FIEMAP.unpack_from(given)
    text = (f"{{fm_start={start}, fm_length={length}, fm_flags={_fiemap_flags(fm_flags)}, "
            f"fm_extent_count={extent_count}}}")
    if answer is None:
        return text
    _, _, fm_flags, mapped, _, _ = _FIEMAP.unpack_from(answer)
    extents = "..." if c.abbrev else \
        f"fm_extents={'[]' if not mapped else ptr(c.arg(2) + _FIEMAP.size)}"
    return (f"{text} => {{fm_flags={_fiemap_flags(fm_flags)}, "
            f"fm_mapped_extents={mapped}, {extents}}}")


def _fiemap(c: Call) -> str | None:
    return given_and_answer(lambda given, answer: _fiemap_text(c, given, answer),
                            _FIEMAP.size).render(c)


NAMES: dict[str, int] = {}

REQUESTS: dict[str, Request] = {"FS_IOC_FIEMAP": Request(_fiemap)}

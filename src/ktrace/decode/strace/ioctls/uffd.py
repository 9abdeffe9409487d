"""ioctl requests of strace's userfaultfd.c."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from ..call import Call
from ..fmt import flags, hexval
from . import Request, flag_bits, given_and_answer, ior, iowr, memory

UFFD_FEATURES = flag_bits("UFFD_FEATURE_", (
    "PAGEFAULT_FLAG_WP", "EVENT_FORK", "EVENT_REMAP", "EVENT_REMOVE", "MISSING_HUGETLBFS",
    "MISSING_SHMEM", "EVENT_UNMAP", "SIGBUS", "THREAD_ID", "MINOR_HUGETLBFS", "MINOR_SHMEM",
    "EXACT_ADDRESS", "WP_HUGETLBFS_SHMEM"))
UFFD_API_IOCTLS = Xlat([(1 << 0, "1<<_UFFDIO_REGISTER"), (1 << 1, "1<<_UFFDIO_UNREGISTER"),
                        (1 << 0x3F, "1<<_UFFDIO_API")])
UFFD_RANGE_IOCTLS = Xlat([(1 << nr, f"1<<_UFFDIO_{name}") for nr, name in (
    (2, "WAKE"), (3, "COPY"), (4, "ZEROPAGE"), (6, "WRITEPROTECT"), (7, "CONTINUE"))])
UFFD_REGISTER_MODES = flag_bits("UFFDIO_REGISTER_MODE_", ("MISSING", "WP", "MINOR"))
UFFD_COPY_MODES = flag_bits("UFFDIO_COPY_MODE_", ("DONTWAKE", "WP"))
UFFD_ZEROPAGE_MODES = flag_bits("UFFDIO_ZEROPAGE_MODE_", ("DONTWAKE",))
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


def _uffd_range_text(data: bytes, c: Call) -> str:
    return _uffd_range(*_UFFD_RANGE.unpack_from(data))


NAMES = {
    "UFFDIO_REGISTER": iowr("\xaa", 0, 32), "UFFDIO_UNREGISTER": ior("\xaa", 1, 16),
    "UFFDIO_WAKE": ior("\xaa", 2, 16), "UFFDIO_COPY": iowr("\xaa", 3, 40),
    "UFFDIO_ZEROPAGE": iowr("\xaa", 4, 32), "UFFDIO_API": iowr("\xaa", 0x3F, 24),
}

REQUESTS: dict[str, Request] = {
    # userfaultfd.c (UNREGISTER's and WAKE's range, _IOR the kernel reads: read at
    # entry, as strace prints it; linux_plan's IOCTL_MISC)
    "UFFDIO_API": given_and_answer(_uffd_api, _UFFD_API.size),
    "UFFDIO_REGISTER": given_and_answer(_uffd_register, _UFFD_REGISTER.size),
    "UFFDIO_COPY": given_and_answer(_uffd_copy, _UFFD_COPY.size),
    "UFFDIO_ZEROPAGE": given_and_answer(_uffd_zeropage, _UFFD_ZEROPAGE.size),
    **{req: memory("ioc", False, _uffd_range_text, _UFFD_RANGE.size)
       for req in ("UFFDIO_UNREGISTER", "UFFDIO_WAKE")},
}

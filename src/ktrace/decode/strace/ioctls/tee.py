"""ioctl requests of strace's tee.c (linux/tee.h).

OPEN_SESSION, INVOKE, SUPPL_RECV and SUPPL_SEND pass a ``tee_ioctl_buf_data``
whose ``buf_ptr`` holds the call's arguments: that memory is not recorded, so
the struct prints as strace prints it when it cannot read there.  These
requests, CANCEL's and CLOSE_SESSION's are _IOR ones the driver reads: recorded
as the bits say, at the exit of a successful call.
"""

from __future__ import annotations

import struct
from typing import Callable

from ...xlat import Xlat
from ..call import Call
from ..fmt import c_int, flags, hexval, ptr, xval
from . import Request, flag_bits, given_and_answer, ior, iowr, memory

TEE_IMPL_ID_OPTEE = 1
TEE_IMPL_IDS = Xlat([(TEE_IMPL_ID_OPTEE, "TEE_IMPL_ID_OPTEE"), (2, "TEE_IMPL_ID_AMDTEE")])
TEE_GEN_CAPS = flag_bits("TEE_GEN_CAP_", ("GP", "PRIVILEGED", "REG_MEM", "MEMREF_NULL"))
TEE_OPTEE_CAPS = flag_bits("TEE_OPTEE_CAP_", ("TZ",))
TEE_SHM_FLAGS = flag_bits("TEE_IOCTL_SHM_", (
    "MAPPED", "DMA_BUF", "EXT_DMA_BUF", "REGISTER", "USER_MAPPED", "POOL", "KERNEL_MAPPED"))
_VERSION = struct.Struct("<III")            # impl_id, impl_caps, gen_caps
_SHM_ALLOC = struct.Struct("<QIi")          # size, flags, id
_BUF_DATA = struct.Struct("<QQ")            # buf_ptr, buf_len
_CANCEL = struct.Struct("<II")              # cancel_id, session
_CLOSE_SESSION = struct.Struct("<I")        # session
_SHM_REGISTER = struct.Struct("<QQIi")      # addr, length, flags, id
_SHM_REGISTER_FD = struct.Struct("<qQI4xi4x")  # fd, size, flags, id
# strace's own request (not in linux/tee.h): decoded, printed by its parts
TEE_IOC_SHM_REGISTER_FD = iowr("\xa4", 8, _SHM_REGISTER_FD.size)


def _shm_flags(value: int) -> str:
    return flags(TEE_SHM_FLAGS, value, unknown="TEE_IOCTL_SHM_???")


def _version_text(data: bytes, c: Call) -> str:
    impl_id, impl_caps, gen_caps = _VERSION.unpack_from(data)
    caps = flags(TEE_OPTEE_CAPS, impl_caps, unknown="TEE_OPTEE_CAP_???") \
        if impl_id == TEE_IMPL_ID_OPTEE else hexval(impl_caps)
    return (f"{{impl_id={xval(TEE_IMPL_IDS, impl_id, 'TEE_IMPL_ID_???')}, "
            f"gen_caps={flags(TEE_GEN_CAPS, gen_caps, unknown='TEE_GEN_CAP_???')}, "
            f"impl_caps={caps}}}")


def _buf_data_text(data: bytes, c: Call) -> str:
    buf_ptr, buf_len = _BUF_DATA.unpack_from(data)
    return f"{{buf_len={buf_len}, buf_ptr={ptr(buf_ptr)}}}"


def _cancel_text(data: bytes, c: Call) -> str:
    cancel_id, session = _CANCEL.unpack_from(data)
    return f"{{cancel_id={cancel_id}, session={hexval(session)}}}"


def _close_session_text(data: bytes, c: Call) -> str:
    return f"{{session={hexval(_CLOSE_SESSION.unpack_from(data)[0])}}}"


def _read_by_driver(render: Callable[[bytes, Call], str], size: int) -> Request:
    """A struct the driver reads, printed at entry as strace does: its first
    copy (an _IOR's is the one at the exit of a successful call)."""
    def text(c: Call) -> str:
        data = c.struct(2, "ioc", exit=False)
        return ptr(c.arg(2)) if data is None or len(data) < size else render(data, c)
    return Request(text)


def _shm_alloc(given: bytes, answer: bytes | None) -> str:
    size, shm_flags, _ = _SHM_ALLOC.unpack_from(given)
    text = f"{{size={hexval(size)}, flags={_shm_flags(shm_flags)}}}"
    if answer is not None:
        size, shm_flags, shm_id = _SHM_ALLOC.unpack_from(answer)
        text += f" => {{size={hexval(size)}, flags={_shm_flags(shm_flags)}, id={shm_id}}}"
    return text


def _shm_register(given: bytes, answer: bytes | None) -> str:
    addr, length, shm_flags, _ = _SHM_REGISTER.unpack_from(given)
    text = f"{{addr={ptr(addr)}, length={hexval(length)}, flags={_shm_flags(shm_flags)}}}"
    if answer is not None:
        _, length, shm_flags, shm_id = _SHM_REGISTER.unpack_from(answer)
        text += (f" => {{length={hexval(length)}, flags={_shm_flags(shm_flags)}, "
                 f"id={shm_id}}}")
    return text


def _shm_register_fd(c: Call) -> str | None:
    def text(given: bytes, answer: bytes | None) -> str:
        fd, _, shm_flags, _ = _SHM_REGISTER_FD.unpack_from(given)
        out = f"{{fd={c.fd_text(c_int(fd))}, flags={_shm_flags(shm_flags)}}}"
        if answer is not None:
            _, size, _, shm_id = _SHM_REGISTER_FD.unpack_from(answer)
            out += f" => {{size={hexval(size)}, id={shm_id}}}"
        return out
    return given_and_answer(text, _SHM_REGISTER_FD.size).render(c)


def number_name(req: int, verbose: bool) -> str | None:
    """No name: strace prints TEE_IOC_SHM_REGISTER_FD by its parts."""
    return None


def number_request(req: int) -> Request | None:
    return Request(_shm_register_fd) if req == TEE_IOC_SHM_REGISTER_FD else None


NAMES = {
    "TEE_IOC_VERSION": ior("\xa4", 0, _VERSION.size),
    "TEE_IOC_SHM_ALLOC": iowr("\xa4", 1, _SHM_ALLOC.size),
    "TEE_IOC_OPEN_SESSION": ior("\xa4", 2, _BUF_DATA.size),
    "TEE_IOC_INVOKE": ior("\xa4", 3, _BUF_DATA.size),
    "TEE_IOC_CANCEL": ior("\xa4", 4, _CANCEL.size),
    "TEE_IOC_CLOSE_SESSION": ior("\xa4", 5, _CLOSE_SESSION.size),
    "TEE_IOC_SUPPL_RECV": ior("\xa4", 6, _BUF_DATA.size),
    "TEE_IOC_SUPPL_SEND": ior("\xa4", 7, _BUF_DATA.size),
    "TEE_IOC_SHM_REGISTER": iowr("\xa4", 9, _SHM_REGISTER.size),
}

REQUESTS: dict[str, Request] = {
    "TEE_IOC_VERSION": memory("ioc", True, _version_text, _VERSION.size),
    "TEE_IOC_SHM_ALLOC": given_and_answer(_shm_alloc, _SHM_ALLOC.size),
    "TEE_IOC_SHM_REGISTER": given_and_answer(_shm_register, _SHM_REGISTER.size),
    "TEE_IOC_CANCEL": _read_by_driver(_cancel_text, _CANCEL.size),
    "TEE_IOC_CLOSE_SESSION": _read_by_driver(_close_session_text, _CLOSE_SESSION.size),
    **{req: _read_by_driver(_buf_data_text, _BUF_DATA.size) for req in (
        "TEE_IOC_OPEN_SESSION", "TEE_IOC_INVOKE", "TEE_IOC_SUPPL_RECV",
        "TEE_IOC_SUPPL_SEND")},
}

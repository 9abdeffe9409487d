"""ioctl requests of strace's tee.c (linux/tee.h).

OPEN_SESSION, INVOKE, SUPPL_RECV and SUPPL_SEND pass a ``tee_ioctl_buf_data``
whose ``buf_ptr`` holds the call's arguments: a struct of the request's, then
its ``num_params`` params, ``buf_len`` bytes in all (linux_plan.TEE_BUF: at
entry, and again after a successful call, which wrote its answer there).
These requests, CANCEL's and CLOSE_SESSION's are _IOR ones the driver reads
(linux_plan's IOCTL_TEE).
"""

from __future__ import annotations

import struct
from typing import Callable

from ...xlat import Xlat
from ..call import Call
from ..call import uid_text
from ..fdio import print_array
from ..fmt import c_int, flags, hexval, ptr, xval
from . import Request, flag_bits, given_and_answer, hex_array, ior, iowr, memory

TEE_IMPL_ID_OPTEE = 1
TEE_IMPL_IDS = Xlat([(TEE_IMPL_ID_OPTEE, "TEE_IMPL_ID_OPTEE"), (2, "TEE_IMPL_ID_AMDTEE")])
TEE_GEN_CAPS = flag_bits("TEE_GEN_CAP_", ("GP", "PRIVILEGED", "REG_MEM", "MEMREF_NULL"))
TEE_OPTEE_CAPS = flag_bits("TEE_OPTEE_CAP_", ("TZ",))
TEE_SHM_FLAGS = flag_bits("TEE_IOCTL_SHM_", (
    "MAPPED", "DMA_BUF", "EXT_DMA_BUF", "REGISTER", "USER_MAPPED", "POOL", "KERNEL_MAPPED"))
_VERSION = struct.Struct("<III")            # impl_id, impl_caps, gen_caps
_SHM_ALLOC = struct.Struct("<QIi")          # size, flags, id
_BUF_DATA = struct.Struct("<QQ")            # buf_ptr, buf_len
TEE_MAX_ARG_SIZE = 4096                     # the most of buf_len the driver takes
# behind buf_ptr: tee_ioctl_open_session_arg (uuid, clnt_uuid, clnt_login, cancel_id,
# session, ret, ret_origin, num_params), tee_ioctl_invoke_arg (func, session,
# cancel_id, ret, ret_origin, num_params), tee_iocl_supp_recv_arg (func,
# num_params), tee_iocl_supp_send_arg (ret, num_params); then the params
_OPEN_SESSION = struct.Struct("<16s16s6I")
_INVOKE = struct.Struct("<6I")
_SUPP = struct.Struct("<2I")
_PARAM = struct.Struct("<4Q")               # tee_ioctl_param: attr, a, b, c
TEE_PARAM_ATTR_META = 0x100
TEE_PARAM_ATTR_TYPES = Xlat(
    [(n, f"TEE_IOCTL_PARAM_ATTR_TYPE_{name}") for n, name in (
        (0, "NONE"), (1, "VALUE_INPUT"), (2, "VALUE_OUTPUT"), (3, "VALUE_INOUT"),
        (5, "MEMREF_INPUT"), (6, "MEMREF_OUTPUT"), (7, "MEMREF_INOUT"))]
    + [(TEE_PARAM_ATTR_META, "TEE_IOCTL_PARAM_ATTR_META")])
TEE_PARAM_MEMREFS = frozenset({5, 6, 7})
TEE_LOGINS = Xlat([(0, "TEE_IOCTL_LOGIN_PUBLIC"), (1, "TEE_IOCTL_LOGIN_USER"),
                   (2, "TEE_IOCTL_LOGIN_GROUP"), (4, "TEE_IOCTL_LOGIN_APPLICATION"),
                   (5, "TEE_IOCTL_LOGIN_USER_APPLICATION"),
                   (6, "TEE_IOCTL_LOGIN_GROUP_APPLICATION")])
TEE_GROUP_LOGINS = frozenset({2, 6})        # clnt_uuid holds a gid
TEE_ORIGINS = Xlat([(1, "TEEC_ORIGIN_API"), (2, "TEEC_ORIGIN_COMMS"), (3, "TEEC_ORIGIN_TEE"),
                    (4, "TEEC_ORIGIN_TRUSTED_APP")])
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


def _uuid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _param_text(raw: bytes) -> str:
    attr, a, b, cc = _PARAM.unpack(raw)
    text = "{attr=" + xval(TEE_PARAM_ATTR_TYPES, attr & ~TEE_PARAM_ATTR_META,
                           "TEE_IOCTL_PARAM_ATTR_")
    if attr & TEE_PARAM_ATTR_META:
        text += "|TEE_IOCTL_PARAM_ATTR_META"
    if attr in TEE_PARAM_MEMREFS:
        return f"{text}, shm_offs={hexval(a)}, size={hexval(b)}, shm_id={cc}}}"
    if attr:
        return f"{text}, a={hexval(a)}, b={hexval(b)}, c={hexval(cc)}}}"
    return text + "}"


class _Args:
    """What buf_ptr holds, as strace's tee_fetch_buf_data reads it: the
    request's struct (``layout``, its num_params last) and the params after
    it; ``fields`` None when strace prints the buf_data alone (a length the
    driver refuses, memory not recorded, at entry params that do not fill it)."""

    def __init__(self, c: Call, layout: struct.Struct, buf_data: bytes, exiting: bool):
        self.c, self.layout = c, layout
        self.buf_ptr, self.buf_len = _BUF_DATA.unpack_from(buf_data)
        held = c.struct(2, "teebuf", exit=exiting)
        self.fields = None
        if (self.buf_len > TEE_MAX_ARG_SIZE or self.buf_len < layout.size or held is None
                or len(held) < layout.size):
            return
        fields = layout.unpack_from(held)
        if not exiting and layout.size + _PARAM.size * fields[-1] != self.buf_len:
            return
        self.fields, self.held = fields, held

    def buf_text(self) -> str:
        return f"{{buf_len={self.buf_len}, buf_ptr={ptr(self.buf_ptr)}}}"

    def params(self) -> str:
        count, at = self.fields[-1], self.layout.size
        raw = self.held[at:at + _PARAM.size * count]
        items = [_param_text(raw[k:k + _PARAM.size])
                 for k in range(0, len(raw) - _PARAM.size + 1, _PARAM.size)]
        return "params=" + print_array(self.c, self.buf_ptr + at if count else 0, count, items,
                                       _PARAM.size)


def _open_session_given(c: Call, fields) -> list[str]:
    uuid, clnt_uuid, login, cancel_id, _, _, _, count = fields
    out = [f"uuid={_uuid(uuid)}", f"clnt_login={xval(TEE_LOGINS, login, 'TEE_IOCTL_LOGIN_???')}"]
    if login in TEE_GROUP_LOGINS:
        out.append(f"clnt_uuid={uid_text(int.from_bytes(clnt_uuid[:4], 'little'))}")
    elif TEE_LOGINS.name(login) is None:
        out.append(f"clnt_uuid={hex_array(clnt_uuid)}")
    return out + [f"cancel_id={cancel_id}", f"num_params={count}"]


def _open_session_answer(c: Call, fields) -> list[str]:
    *_, session, ret, origin, _ = fields
    return [f"session={hexval(session)}", f"ret={ret}",
            f"ret_origin={xval(TEE_ORIGINS, origin, 'TEEC_ORIGIN_???')}"]


def _invoke_given(c: Call, fields) -> list[str]:
    func, session, cancel_id, _, _, count = fields
    return [f"func={func}", f"session={hexval(session)}", f"cancel_id={cancel_id}",
            f"num_params={count}"]


def _invoke_answer(c: Call, fields) -> list[str]:
    _, _, _, ret, origin, _ = fields
    return [f"ret={ret}", f"ret_origin={xval(TEE_ORIGINS, origin, 'TEEC_ORIGIN_???')}"]


def _buf_args(layout: struct.Struct, given_fields, answer_fields) -> Request:
    """OPEN_SESSION, INVOKE, SUPPL_RECV, SUPPL_SEND: the buf_data and what its
    buf_ptr holds (``given_fields``: the struct's fields strace prints at entry,
    ``answer_fields`` after a successful call), each with its params."""
    def text(c: Call) -> str:
        buf_data = c.struct(2, "ioc", exit=False)
        if buf_data is None or len(buf_data) < _BUF_DATA.size:
            return ptr(c.arg(2))
        given = _Args(c, layout, buf_data, exiting=False)
        if given.fields is None:
            return given.buf_text()
        out = (f"{{buf_len={given.buf_len}, buf_ptr={{"
               f"{', '.join(given_fields(c, given.fields) + [given.params()])}}}")
        after = c.struct(2, "ioc") if c.ok else None
        if after is None or len(after) < _BUF_DATA.size:
            return out + "}"
        answer = _Args(c, layout, after, exiting=True)
        if answer.fields is None:
            return f"{out} => {answer.buf_text()}"
        parts = answer_fields(c, answer.fields) + [answer.params()]
        return f"{out} => {{{', '.join(parts)}}}}}"
    return Request(text, late=True)


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
    "TEE_IOC_OPEN_SESSION": _buf_args(_OPEN_SESSION, _open_session_given,
                                      _open_session_answer),
    "TEE_IOC_INVOKE": _buf_args(_INVOKE, _invoke_given, _invoke_answer),
    "TEE_IOC_SUPPL_RECV": _buf_args(
        _SUPP, lambda c, f: [f"func={f[0]}", f"num_params={f[1]}"],
        lambda c, f: [f"num_params={f[1]}"]),
    "TEE_IOC_SUPPL_SEND": _buf_args(
        _SUPP, lambda c, f: [f"num_params={f[1]}"], lambda c, f: [f"ret={f[0]}"]),
}

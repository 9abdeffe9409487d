"""io_uring: setting up a ring and entering it."""

from __future__ import annotations

import struct

from ..xlat import LINUX as L
from .call import FD, Arg, Call, p_flags
from .fmt import flags, hexval, ptr
from .signals import sigset_arg

# struct io_uring_params: sq_entries, cq_entries, flags, sq_thread_cpu,
# sq_thread_idle, features, wq_fd, resv[3], then struct io_sqring_offsets
# (head, tail, ring_mask, ring_entries, flags, dropped, array, resv1, resv2)
# and struct io_cqring_offsets (head, tail, ring_mask, ring_entries,
# overflow, cqes, flags, resv1, resv2)
PARAMS = struct.Struct("<7I3I" "7IIQ" "7IIQ")
SQ_OFF = ("head", "tail", "ring_mask", "ring_entries", "flags", "dropped", "array")
CQ_OFF = ("head", "tail", "ring_mask", "ring_entries", "overflow", "cqes", "flags")
IORING_SETUP_ATTACH_WQ = L.IO_URING_SETUP_FLAGS.value("IORING_SETUP_ATTACH_WQ")


def _offsets(names, values) -> str:
    fields = [f"{n}={v}" for n, v in zip(names, values)]
    resv1, resv2 = values[len(names)], values[len(names) + 1]
    if resv1:
        fields.append(f"resv1={hexval(resv1)}")
    if resv2:
        fields.append(f"resv2={hexval(resv2)}")
    return "{" + ", ".join(fields) + "}"


def _params_in(c: Call, i: int) -> str:
    """The fields the caller sets; the struct stays open for those the kernel fills."""
    data = c.struct(i, "io_uring_params", exit=False)
    if data is None or len(data) < PARAMS.size or not c.verbose:
        return ptr(c.arg(i))
    v = PARAMS.unpack_from(data)
    fields = [f"flags={flags(L.IO_URING_SETUP_FLAGS, v[2], unknown='IORING_SETUP_???')}",
              f"sq_thread_cpu={hexval(v[3])}", f"sq_thread_idle={v[4]}"]
    if v[2] & IORING_SETUP_ATTACH_WQ:
        fields.append(f"wq_fd={c.fd_text(v[6] - (1 << 32) if v[6] >> 31 else v[6])}")
    if any(v[7:10]):
        fields.append("resv=[" + ", ".join(map(hexval, v[7:10])) + "]")
    return "{" + ", ".join(fields)


def _params_out(c: Call, i: int) -> str:
    """The kernel's fields after a successful call, then the struct's end."""
    entry = c.struct(1, "io_uring_params", exit=False)
    if entry is None or len(entry) < PARAMS.size or not c.verbose:
        return ""
    data = c.struct(1, "io_uring_params")
    if not c.ok or data is None or data is entry or len(data) < PARAMS.size:
        return "}"
    v = PARAMS.unpack_from(data)
    return (f", sq_entries={v[0]}, cq_entries={v[1]}, "
            f"features={flags(L.IO_URING_FEATURES, v[5], unknown='IORING_FEAT_???')}, "
            f"sq_off={_offsets(SQ_OFF, v[10:19])}, cq_off={_offsets(CQ_OFF, v[19:28])}}}")


U32 = Arg(lambda c, i: str(c.arg(i) & 0xFFFFFFFF))

SYSCALLS = {
    "io_uring_setup": (U32, Arg(_params_in), Arg(_params_out, exit=True, lead=True)),
    "io_uring_enter": (FD, U32, U32,
                       Arg(p_flags(L.IO_URING_ENTER_FLAGS, "IORING_ENTER_???")),
                       sigset_arg(5), Arg(lambda c, i: str(c.arg(i)))),
}

"""io_uring: setting up a ring, entering it, registering its resources."""

from __future__ import annotations

import itertools
import struct

from ..xlat import LINUX as L
from ..xlat import Xlat
from . import structs as T
from .call import FD, Arg, Call, p_flags
from .fmt import c_int, flags, hexval, named, ptr, xval, xval_u
from .numa import print_array
from .sched import affinity_list
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


# --- io_uring_register ------------------------------------------------------
# strace 6.1's tables (xlat/uring_*.in): enums numbered from 0 in this order;
# later kernels' additions stay unnamed, as strace 6.1 prints them.

REGISTER_OPCODES = Xlat(enumerate((
    "IORING_REGISTER_BUFFERS", "IORING_UNREGISTER_BUFFERS", "IORING_REGISTER_FILES",
    "IORING_UNREGISTER_FILES", "IORING_REGISTER_EVENTFD", "IORING_UNREGISTER_EVENTFD",
    "IORING_REGISTER_FILES_UPDATE", "IORING_REGISTER_EVENTFD_ASYNC", "IORING_REGISTER_PROBE",
    "IORING_REGISTER_PERSONALITY", "IORING_UNREGISTER_PERSONALITY",
    "IORING_REGISTER_RESTRICTIONS", "IORING_REGISTER_ENABLE_RINGS", "IORING_REGISTER_FILES2",
    "IORING_REGISTER_FILES_UPDATE2", "IORING_REGISTER_BUFFERS2",
    "IORING_REGISTER_BUFFERS_UPDATE", "IORING_REGISTER_IOWQ_AFF",
    "IORING_UNREGISTER_IOWQ_AFF", "IORING_REGISTER_IOWQ_MAX_WORKERS",
    "IORING_REGISTER_RING_FDS", "IORING_UNREGISTER_RING_FDS", "IORING_REGISTER_PBUF_RING",
    "IORING_UNREGISTER_PBUF_RING")))
SQE_OPS = Xlat(enumerate("IORING_OP_" + name for name in (
    "NOP READV WRITEV FSYNC READ_FIXED WRITE_FIXED POLL_ADD POLL_REMOVE SYNC_FILE_RANGE "
    "SENDMSG RECVMSG TIMEOUT TIMEOUT_REMOVE ACCEPT ASYNC_CANCEL LINK_TIMEOUT CONNECT "
    "FALLOCATE OPENAT CLOSE FILES_UPDATE STATX READ WRITE FADVISE MADVISE SEND RECV OPENAT2 "
    "EPOLL_CTL SPLICE PROVIDE_BUFFERS REMOVE_BUFFERS TEE SHUTDOWN RENAMEAT UNLINKAT MKDIRAT "
    "SYMLINKAT LINKAT MSG_RING FSETXATTR SETXATTR FGETXATTR GETXATTR SOCKET URING_CMD"
).split()))
SQE_FLAGS = Xlat((1 << bit, name) for bit, name in enumerate((
    "IOSQE_FIXED_FILE", "IOSQE_IO_DRAIN", "IOSQE_IO_LINK", "IOSQE_IO_HARDLINK", "IOSQE_ASYNC",
    "IOSQE_BUFFER_SELECT", "IOSQE_CQE_SKIP_SUCCESS")))
PROBE_OP_FLAGS = Xlat([(1, "IO_URING_OP_SUPPORTED")])
RSRC_REGISTER_FLAGS = Xlat([(1, "IORING_RSRC_REGISTER_SPARSE")])
IOWQ_ACCT = Xlat(enumerate(("IO_WQ_BOUND", "IO_WQ_UNBOUND")))
RESTRICTION_OPCODES = Xlat(enumerate((
    "IORING_RESTRICTION_REGISTER_OP", "IORING_RESTRICTION_SQE_OP",
    "IORING_RESTRICTION_SQE_FLAGS_ALLOWED", "IORING_RESTRICTION_SQE_FLAGS_REQUIRED")))
_OP = REGISTER_OPCODES.value

# struct io_uring_probe: last_op, ops_len, resv, resv2[3], then ops[] of struct
# io_uring_probe_op: op, resv, flags, resv2.  strace reads the ops nr_args says
# (at most PROBE_MAX_OPS): the plan records room for all of them, else for the
# 32 strace shows unless -v (a shorter record than nr_args needs: the address)
PROBE = struct.Struct("<BBH3I")
PROBE_OP = struct.Struct("<BBHI")
PROBE_MAX_OPS = 256
# struct io_uring_restriction: opcode, a u8 (register_op, sqe_op or sqe_flags), resv, resv2[3]
RESTRICTION = struct.Struct("<HBB3I")
# struct io_uring_rsrc_register: nr, flags, resv2, data, tags;
# struct io_uring_rsrc_update2: offset, resv, data, tags, nr, resv2
RSRC_REGISTER = struct.Struct("<IIQQQ")
RSRC_UPDATE2 = struct.Struct("<IIQQII")
RSRC_SIZE = 32
# struct io_uring_files_update: offset, resv, fds; struct io_uring_rsrc_update: offset, resv, data
FILES_UPDATE = struct.Struct("<IIQ")
# struct io_uring_buf_reg: ring_addr, ring_entries, bgid, pad, resv[3]
BUF_REG = struct.Struct("<QIHH3Q")
IOVEC = struct.Struct("<QQ")
U32_ITEM = struct.Struct("<I")
TAG = struct.Struct("<Q")
FD_SIZE = 4
# xlat/uring_files_update_fds.in
FILES_UPDATE_FDS = Xlat([(-2, "IORING_REGISTER_FILES_SKIP")])


def _hex_fields(**values) -> list[str]:
    """Reserved fields, printed only when nonzero (a list: hex items in brackets)."""
    out = []
    for name, value in values.items():
        if isinstance(value, tuple):
            if any(value):
                out.append(f"{name}=[{', '.join(map(hexval, value))}]")
        elif value:
            out.append(f"{name}={value:#x}")
    return out


def _pointed(c: Call, name: str, addr: int, nmemb: int, size: int, item) -> str:
    """An array the argument's struct points to (its Pointee, recorded after it)."""
    rec = c.array(2, name, exit=False) if addr else None
    return print_array(c, addr, nmemb, size, rec.data if rec is not None else None, item)


def _iovec(raw: bytes) -> str:
    base, length = IOVEC.unpack(raw)
    return f"{{iov_base={ptr(base)}, iov_len={length}}}"


def _tag(raw: bytes) -> str:
    return hexval(TAG.unpack(raw)[0])


def _fd_item(c: Call):
    return lambda raw: c.fd_text(c_int(U32_ITEM.unpack(raw)[0]))


def _update_fd_item(c: Call):
    """print_files_update_array_member: IORING_REGISTER_FILES_SKIP (-2) and
    other numbers below -1 by FILES_UPDATE_FDS, the others as descriptors."""
    def render(raw: bytes) -> str:
        fd = c_int(U32_ITEM.unpack(raw)[0])
        if fd >= -1:
            return c.fd_text(fd)
        name = FILES_UPDATE_FDS.name(fd)
        return named(name, fd, str(fd)) if name is not None else str(fd)
    return render


def _array(c: Call, name: str, size: int, item) -> str:
    """The argument's array of nr_args items, recorded at entry."""
    rec = c.array(2, name, exit=False)
    return print_array(c, c.arg(2), c.arg(3) & 0xFFFFFFFF, size,
                       rec.data if rec is not None else None, item)


def _fds(c: Call) -> str:
    return _array(c, "int", FD_SIZE, _fd_item(c))


def _restriction(raw: bytes) -> str:
    opcode, op, resv, *resv2 = RESTRICTION.unpack(raw)
    text = f"opcode={xval(RESTRICTION_OPCODES, opcode, 'IORING_RESTRICTION_???')}"
    name = RESTRICTION_OPCODES.name(opcode)
    if name == "IORING_RESTRICTION_REGISTER_OP":
        text += f", register_op={xval(REGISTER_OPCODES, op, 'IORING_REGISTER_???')}"
    elif name == "IORING_RESTRICTION_SQE_OP":
        text += f", sqe_op={xval(SQE_OPS, op, 'IORING_OP_???')}"
    elif name is not None:
        text += f", sqe_flags={flags(SQE_FLAGS, op, unknown='IOSQE_???')}"
    else:
        text += f" /* op: {hexval(op)} */"
    return "{" + ", ".join([text, *_hex_fields(resv=resv, resv2=tuple(resv2))]) + "}"


def _ring_fd(raw: bytes, c: Call) -> str:
    offset, resv, data = FILES_UPDATE.unpack(raw)
    shown = "-1" if offset == 0xFFFFFFFF else str(offset)     # -1: the first free slot
    return "{" + ", ".join([f"offset={shown}", *_hex_fields(resv=resv),
                            f"data={c.fd_text(c_int(data))}"]) + "}"


def _ring_fd_gone(raw: bytes) -> str:
    offset, resv, data = FILES_UPDATE.unpack(raw)
    return "{" + ", ".join([f"offset={offset}", *_hex_fields(resv=resv, data=data)]) + "}"


def _struct(c: Call, name: str, size: int) -> bytes | None:
    """The argument's struct recorded at entry, when strace could read ``size`` bytes."""
    data = c.struct(2, name, exit=False)
    return data if c.verbose and data is not None and len(data) >= size else None


def _files_update(c: Call) -> str:
    data = _struct(c, "io_uring_files_update", FILES_UPDATE.size)
    if data is None:
        return ptr(c.arg(2))
    offset, resv, fds = FILES_UPDATE.unpack_from(data)
    fds_text = _pointed(c, "int", fds, c.arg(3) & 0xFFFFFFFF, FD_SIZE, _update_fd_item(c))
    return "{" + ", ".join([f"offset={offset}", *_hex_fields(resv=resv),
                            f"fds={fds_text}"]) + "}"


def _rsrc(c: Call, name: str, head, rest) -> str:
    """FILES2, BUFFERS2 (struct io_uring_rsrc_register) or FILES_UPDATE2,
    BUFFERS_UPDATE (io_uring_rsrc_update2): nr_args is the struct's size;
    ``head`` and ``rest`` print its fields around the data and tags arrays."""
    size = c.arg(3) & 0xFFFFFFFF
    data = _struct(c, name, RSRC_SIZE)
    if size < RSRC_SIZE or data is None:
        return ptr(c.arg(2))
    fields, (addr, tags, nr) = head(data), _rsrc_arrays(data, name)
    elem, elem_size, item = RSRC_DATA[_opcode(c)](c)
    fields += [f"data={_pointed(c, elem, addr, nr, elem_size, item)}",
               f"tags={_pointed(c, 'long', tags, nr, TAG.size, _tag)}", *rest(data)]
    tail = T.nonzero_tail(data, RSRC_SIZE, size, c.opts)
    if tail is not None:
        fields.append(tail)
    return "{" + ", ".join(fields) + "}"


def _rsrc_arrays(data: bytes, name: str) -> tuple[int, int, int]:
    if name == "io_uring_rsrc_register":
        nr, _, _, addr, tags = RSRC_REGISTER.unpack_from(data)
    else:
        _, _, addr, tags, nr, _ = RSRC_UPDATE2.unpack_from(data)
    return addr, tags, nr


# opcode -> its data array's (recorded name, item size, item printer for the call)
RSRC_DATA = {
    _OP("IORING_REGISTER_FILES2"): lambda c: ("int", FD_SIZE, _fd_item(c)),
    _OP("IORING_REGISTER_FILES_UPDATE2"): lambda c: ("int", FD_SIZE, _update_fd_item(c)),
    **{_OP(name): lambda c: ("iovec", IOVEC.size, _iovec)
       for name in ("IORING_REGISTER_BUFFERS2", "IORING_REGISTER_BUFFERS_UPDATE")},
}


def _register_head(data: bytes) -> list[str]:
    nr, fl, resv2, _, _ = RSRC_REGISTER.unpack_from(data)
    return [f"nr={nr}",
            f"flags={flags(RSRC_REGISTER_FLAGS, fl, unknown='IORING_RSRC_REGISTER_???')}",
            *_hex_fields(resv2=resv2)]


def _update_head(data: bytes) -> list[str]:
    offset, resv, _, _, _, _ = RSRC_UPDATE2.unpack_from(data)
    return [f"offset={offset}", *_hex_fields(resv=resv)]


def _update_rest(data: bytes) -> list[str]:
    _, _, _, _, nr, resv2 = RSRC_UPDATE2.unpack_from(data)
    return [f"nr={nr}", *_hex_fields(resv2=resv2)]


def _buf_reg(c: Call) -> str:
    data = _struct(c, "io_uring_buf_reg", BUF_REG.size)
    if data is None:
        return ptr(c.arg(2))
    ring, entries, bgid, pad, *resv = BUF_REG.unpack_from(data)
    return "{" + ", ".join([f"ring_addr={ptr(ring)}", f"ring_entries={entries}",
                            f"bgid={bgid}", *_hex_fields(pad=pad, resv=tuple(resv))]) + "}"


# --- the two opcodes that print their argument again at exit

def _probe_size(c: Call) -> int:
    return PROBE.size + PROBE_OP.size * (c.arg(3) & 0xFFFFFFFF)


def _probe_given(c: Call) -> bytes | None:
    """The probe as given, when strace read it: nr_args ops at most 256."""
    if c.arg(3) & 0xFFFFFFFF > PROBE_MAX_OPS:
        return None
    return _struct(c, "io_uring_probe", _probe_size(c))


def _probe_text(c: Call, data: bytes, count: int, more: bool) -> str:
    last_op, ops_len, resv, *resv2 = PROBE.unpack_from(data)
    ops = []
    for k in range(count):
        op, op_resv, op_flags, op_resv2 = PROBE_OP.unpack_from(data, PROBE.size + k * PROBE_OP.size)
        ops.append("{" + ", ".join([
            f"op={xval_u(SQE_OPS, op, 'IORING_OP_???')}", *_hex_fields(resv=op_resv),
            f"flags={flags(PROBE_OP_FLAGS, op_flags, unknown='IO_URING_OP_???')}",
            *_hex_fields(resv2=op_resv2)]) + "}")
    if c.abbrev and count > c.opts.strsize:
        ops, more = ops[:c.opts.strsize], True
    return "{" + ", ".join([
        f"last_op={xval_u(SQE_OPS, last_op, 'IORING_OP_???')}", f"ops_len={ops_len}",
        *_hex_fields(resv=resv, resv2=tuple(resv2)),
        "ops=[" + ", ".join(ops + ["..."] * more) + "]"]) + "}"


def _probe_in(c: Call) -> str:
    """The probe as given (the kernel wants it zeroed: strace shows a zeroed one at exit alone)."""
    data = _probe_given(c)
    if data is None:
        return ptr(c.arg(2))
    if not any(data[:_probe_size(c)]):
        return ""
    return _probe_text(c, data, c.arg(3) & 0xFFFFFFFF, False)


def _probe_out(c: Call) -> str | None:
    """The kernel's probe; after a failure, the address unless the entry showed it."""
    given = _probe_given(c)
    shown = any(given[:_probe_size(c)])
    if not c.ok:
        return None if shown else ptr(c.arg(2))
    data = c.struct(2, "io_uring_probe")     # the entry's copy when none was made at exit
    nargs = c.arg(3) & 0xFFFFFFFF
    if data is None or data is given or len(data) < _probe_size(c):
        text = ptr(c.arg(2))
    else:
        ops_len = data[1]
        text = _probe_text(c, data, min(ops_len, nargs), nargs < ops_len)
    return f" => {text}" if shown else text


def _max_workers_array(c: Call, rec) -> str:
    index = itertools.count()
    return print_array(c, c.arg(2), c.arg(3) & 0xFFFFFFFF, U32_ITEM.size,
                       rec.data if rec is not None else None,
                       lambda raw: f"[{xval_u(IOWQ_ACCT, next(index), 'IO_WQ_???')}]="
                                   f"{U32_ITEM.unpack(raw)[0]}")


def _max_workers_given(c: Call):
    """The workers' counts as given, when strace read them all (it prints the
    kernel's at exit then)."""
    rec = c.array(2, "int", exit=False)
    nargs = c.arg(3) & 0xFFFFFFFF
    if not c.arg(2) or not nargs or rec is None or len(rec.data) < nargs * U32_ITEM.size \
            or not c.verbose:
        return None
    return rec


def _max_workers_in(c: Call) -> str:
    rec = _max_workers_given(c)
    text = _max_workers_array(c, c.array(2, "int", exit=False))
    return text if rec is None else f"{text} => "


def _max_workers_out(c: Call) -> str | None:
    given = _max_workers_given(c)
    if given is None:
        return None
    rec = c.array(2, "int")
    return _max_workers_array(c, rec) if c.ok and rec is not given else ptr(c.arg(2))


# opcode -> what its argument prints at entry
REGISTER_ARGS = {
    _OP("IORING_REGISTER_BUFFERS"): lambda c: _array(c, "iovec", IOVEC.size, _iovec),
    _OP("IORING_REGISTER_FILES"): _fds, _OP("IORING_REGISTER_EVENTFD"): _fds,
    _OP("IORING_REGISTER_EVENTFD_ASYNC"): _fds,
    _OP("IORING_REGISTER_FILES_UPDATE"): _files_update,
    _OP("IORING_REGISTER_PROBE"): _probe_in,
    _OP("IORING_REGISTER_RESTRICTIONS"):
        lambda c: _array(c, "io_uring_restriction", RESTRICTION.size, _restriction),
    **{_OP(name): lambda c: _rsrc(c, "io_uring_rsrc_register", _register_head, lambda d: [])
       for name in ("IORING_REGISTER_FILES2", "IORING_REGISTER_BUFFERS2")},
    **{_OP(name): lambda c: _rsrc(c, "io_uring_rsrc_update2", _update_head, _update_rest)
       for name in ("IORING_REGISTER_FILES_UPDATE2", "IORING_REGISTER_BUFFERS_UPDATE")},
    _OP("IORING_REGISTER_IOWQ_AFF"): lambda c: affinity_list(c, 2, c.arg(3) & 0xFFFFFFFF, False),
    _OP("IORING_REGISTER_IOWQ_MAX_WORKERS"): _max_workers_in,
    _OP("IORING_REGISTER_RING_FDS"):
        lambda c: _array(c, "io_uring_rsrc_update", FILES_UPDATE.size,
                         lambda raw: _ring_fd(raw, c)),
    _OP("IORING_UNREGISTER_RING_FDS"):
        lambda c: _array(c, "io_uring_rsrc_update", FILES_UPDATE.size, _ring_fd_gone),
    **{_OP(name): _buf_reg for name in ("IORING_REGISTER_PBUF_RING",
                                         "IORING_UNREGISTER_PBUF_RING")},
}
# opcode -> (printed at exit too? given the entry, what the exit adds)
REGISTER_EXITS = {
    _OP("IORING_REGISTER_PROBE"): (lambda c: _probe_given(c) is not None, _probe_out),
    _OP("IORING_REGISTER_IOWQ_MAX_WORKERS"):
        (lambda c: _max_workers_given(c) is not None, _max_workers_out),
}


def _opcode(c: Call) -> int:
    return c.arg(1) & 0xFFFFFFFF


def _register_arg(c: Call, i: int) -> str:
    render = REGISTER_ARGS.get(_opcode(c))
    return render(c) if render is not None else ptr(c.arg(i))


def _pending(c: Call) -> bool:
    """strace's io_uring_register not done at entry: the argument prints again at exit."""
    exits = REGISTER_EXITS.get(_opcode(c))
    return exits is not None and exits[0](c)


def _register_exit(c: Call, i: int) -> str | None:
    return REGISTER_EXITS[_opcode(c)][1](c) if _pending(c) else None


U32 = Arg(lambda c, i: str(c.arg(i) & 0xFFFFFFFF))

SYSCALLS = {
    "io_uring_setup": (U32, Arg(_params_in), Arg(_params_out, exit=True, lead=True)),
    "io_uring_enter": (FD, U32, U32,
                       Arg(p_flags(L.IO_URING_ENTER_FLAGS, "IORING_ENTER_???")),
                       sigset_arg(5), Arg(lambda c, i: str(c.arg(i)))),
    "io_uring_register": (FD, Arg(lambda c, i: xval(REGISTER_OPCODES, _opcode(c),
                                                    "IORING_REGISTER_???")),
                          Arg(_register_arg), Arg(_register_exit, exit=True, lead=True),
                          Arg(lambda c, i: str(c.arg(3) & 0xFFFFFFFF), exit=_pending)),
}

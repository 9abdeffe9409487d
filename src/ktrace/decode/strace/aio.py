"""Linux native AIO: contexts, iocbs and events."""

from __future__ import annotations

import struct

from ... import record as r
from ...abi import linux_plan as plan
from ..xlat import LINUX as L
from . import structs as T
from .call import PTR, Arg, Call, at_exit, counted_text
from .fdio import IOVEC_SIZE, iovec_texts, print_array, sigset_argpack
from .fmt import c_int, c_long, flags, hexval, ptr, xval_u
from .process import ioprio_text

IO_EVENT = struct.Struct("<QQqq")       # data, obj, res, res2
# struct iocb: aio_data, aio_key, aio_rw_flags, aio_lio_opcode, aio_reqprio,
# aio_fildes, aio_buf, aio_nbytes, aio_offset, aio_reserved2, aio_flags, aio_resfd
IOCB = struct.Struct("<QIIHhIQqqQII")
IOCB_POINTER = struct.Struct("<Q")
IOCB_FLAG_RESFD, IOCB_FLAG_IOPRIO = (L.AIO_IOCB_FLAGS.value(name)
                                     for name in ("IOCB_FLAG_RESFD", "IOCB_FLAG_IOPRIO"))
IOCB_CMD_POLL = L.AIO_CMDS.value("IOCB_CMD_POLL")
# the opcodes whose aio_buf and aio_nbytes strace prints (its SUB_COMMON); the
# vector ones and PWRITE's data are linux_plan's
IOCB_BUFFER_CMDS = (L.AIO_CMDS.value("IOCB_CMD_PREAD"), plan.IOCB_CMD_PWRITE)
IOCB_VECTOR_CMDS = (plan.IOCB_CMD_PREADV, plan.IOCB_CMD_PWRITEV)
_IOCB_NAME = b"iocb"


def _context(c: Call, i: int) -> str:
    """io_setup's context (printnum_ptr): ``[0x7f...]`` once the kernel stored it."""
    data = c.struct(i, "long")
    if data is None or len(data) < 8 or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return f"[{ptr(int.from_bytes(data[:8], 'little'))}]"


def _events(c: Call, i: int) -> str:
    if not c.ok:
        return ptr(c.arg(i))
    arr = c.array(i, "io_event")
    data = arr.data if arr is not None else b""
    items = [f"{{data={hexval(d)}, obj={hexval(o)}, res={r}, res2={r2}}}"
             for d, o, r, r2 in IO_EVENT.iter_unpack(data[:len(data) // 32 * 32])]
    return print_array(c, c.arg(i), c.retval, items if c.verbose else [], IO_EVENT.size)


def _timeout(c: Call, i: int) -> str:
    """The timeout read at entry, printed when the call returns, failed or not."""
    data = c.struct(i, "timespec", exit=False)
    return T.timespec_text(data) if data is not None and c.verbose else ptr(c.arg(i))


def _iocb_header(c: Call, f: tuple) -> list[str]:
    """print_iocb_header: aio_data .. aio_fildes."""
    data, key, rw_flags, opcode, reqprio, fildes, _, _, _, _, aio_flags, _ = f
    out = [f"aio_data={hexval(data)}"]
    if key:
        out.append(f"aio_key={key}")
    if rw_flags:
        out.append(f"aio_rw_flags={flags(L.RWF_FLAGS, rw_flags, unknown='RWF_???')}")
    out.append(f"aio_lio_opcode={xval_u(L.AIO_CMDS, opcode, 'IOCB_CMD_???')}")
    if aio_flags & IOCB_FLAG_IOPRIO:
        out.append(f"aio_reqprio={ioprio_text(reqprio & 0xFFFF)}")
    elif reqprio:
        out.append(f"aio_reqprio={reqprio}")
    out.append(f"aio_fildes={c.fd_text(c_int(fildes))}")
    return out


def _common_flags(c: Call, f: tuple) -> list[str]:
    """print_common_flags: aio_flags and aio_resfd, when set."""
    aio_flags, resfd = f[10], f[11]
    out = [f"aio_flags={flags(L.AIO_IOCB_FLAGS, aio_flags, unknown='IOCB_FLAG_???')}"] \
        if aio_flags else []
    if aio_flags & IOCB_FLAG_RESFD:
        out.append(f"aio_resfd={c.fd_text(c_int(resfd))}")
    elif resfd:
        out.append(f"aio_resfd={hexval(resfd)}")
    return out


def _iocb_text(c: Call, f: tuple, held: list) -> str:
    """print_iocb: the header, then by the opcode what aio_buf holds (``held``:
    the records that followed its STRU iocb)."""
    opcode, buf, nbytes, offset = f[3], f[6], f[7], f[8]
    out = _iocb_header(c, f)
    if opcode in IOCB_BUFFER_CMDS:
        if opcode == plan.IOCB_CMD_PWRITE and nbytes >= 0:
            data = next((rec.data for rec in held if type(rec) is r.Struct), None)
            text = counted_text(c, buf, data, nbytes)
        else:
            text = hexval(buf)
        out += [f"aio_buf={text}", f"aio_nbytes={nbytes & (1 << 64) - 1}",
                f"aio_offset={offset}", *_common_flags(c, f)]
    elif opcode in IOCB_VECTOR_CMDS:
        if nbytes >= 0:
            out.append(f"aio_buf={_iocb_iovecs(c, buf, nbytes, held)}")
        else:
            out += [f"aio_buf={hexval(buf)}", f"aio_nbytes={nbytes & (1 << 64) - 1}"]
        out += [f"aio_offset={offset}", *_common_flags(c, f)]
    elif opcode == IOCB_CMD_POLL:
        out += [f"aio_buf={flags(L.POLL_EVENTS, buf, unknown='POLL???')}",
                *_common_flags(c, f)]
    return "{" + ", ".join(out) + "}"


def _iocb_iovecs(c: Call, addr: int, count: int, held: list) -> str:
    """tprint_iov: a PREADV's iovecs (their addresses), a PWRITEV's (their data)."""
    arr = next((rec for rec in held if type(rec) is r.StructArray and rec.name == b"iovec"),
               None)
    data = next((rec.data for rec in held
                 if type(rec) is r.Struct and rec.name == plan.IOV_DATA.encode()), None)
    return print_array(c, addr, count, iovec_texts(c, arr, data, given=True) or [], IOVEC_SIZE)


def _iocbs_held(c: Call, i: int) -> list[list]:
    """The records after io_submit's pointers, one list per STRU iocb (it first)."""
    held: list[list] = []
    for rec in c.records.get(i, ()):
        if type(rec) is r.Struct and rec.name == _IOCB_NAME:
            held.append([rec])
        elif held:
            held[-1].append(rec)
    return held


def _iocbs(c: Call, i: int) -> str:
    """io_submit's iocbpp: print_array of pointers, each iocb it points to
    (``NULL``; the address of one not recorded or unreadable)."""
    addr, nr = c.arg(i), c_long(c.arg(i - 1))
    if nr < 0 or not c.verbose:
        return ptr(addr)
    arr = c.array(i, "long", exit=False)
    pointers = arr.data[:len(arr.data) // IOCB_POINTER.size * IOCB_POINTER.size] if arr else b""
    held = iter(_iocbs_held(c, i))
    items = []
    for (iocb,) in IOCB_POINTER.iter_unpack(pointers):
        recs = next(held, None) if iocb and len(items) < plan.IOCBS_MAX else None
        if not iocb:
            items.append("NULL")
        elif recs is None or len(recs[0].data) < IOCB.size:
            items.append(ptr(iocb))
        else:
            items.append(_iocb_text(c, IOCB.unpack_from(recs[0].data), recs[1:]))
    return print_array(c, addr, nr, items, IOCB_POINTER.size)


def _cancelled(c: Call, i: int) -> str:
    """io_cancel's iocb: its header alone."""
    data = c.struct(i, "iocb", exit=False)
    if data is None or len(data) < IOCB.size or not c.verbose:
        return ptr(c.arg(i))
    return "{" + ", ".join(_iocb_header(c, IOCB.unpack_from(data))) + "}"


LONG_ARG = Arg(lambda c, i: str(c_long(c.arg(i))))

SYSCALLS = {
    "io_setup": (Arg(lambda c, i: str(c.arg(i) & 0xFFFFFFFF)), at_exit(_context)),
    "io_destroy": (PTR,),
    "io_submit": (PTR, LONG_ARG, Arg(_iocbs)),
    "io_getevents": (PTR, LONG_ARG, LONG_ARG, at_exit(_events), at_exit(_timeout)),
    "io_pgetevents": (PTR, LONG_ARG, LONG_ARG, at_exit(_events), at_exit(_timeout),
                      at_exit(sigset_argpack)),
    "io_cancel": (PTR, Arg(_cancelled), at_exit(PTR.render)),
}

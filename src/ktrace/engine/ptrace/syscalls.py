"""Recording one system call by the plan: the records of its entry and exit.

``ktrace.abi.linux_plan`` says what each argument is; this module turns
that into records, one small function per role.  A :class:`CallPlan` is the
plan of one syscall compiled for speed: the (argument, function, facility
bits) steps of its entry and of its exit, so a stop only runs the steps whose
records are wanted.
"""

from __future__ import annotations

import os
import socket
import stat
import struct

from ... import record as r
from ...abi import linux_plan as lp
from ...abi import linux_structs as LS
from ...abi.linux_plan import Len, Role
from ...platform import procfs, sockets

F_NAMEI = r.facility(r.NAMEI)
F_GENIO = r.facility(r.GENIO)
F_STRUCT = r.facility(r.STRUCT)
F_ARRAY = r.facility(r.STRUCT_ARRAY)
F_SYSCTL = r.facility(r.SYSCTL)
F_ARGS = r.facility(r.ARGS)
F_ENVS = r.facility(r.ENVS)
F_USER = r.facility(r.USER)

MAX_ARGV = 8192          # execve strings read at most (ARG_MAX / page-sized strings)
# execve's argv and envp bytes read at most, each: the kernel takes no more than
# 3/4 of _STK_LIM (8 MiB) of strings, and a tracee may point every entry at one
# 128 KiB string
MAX_ARGV_BYTES = 6 << 20
_MSGHDR = LS.MSGHDR            # name, namelen, iov, iovlen, control, controllen, flags
_U32 = LS.U32
_CLONE_PIDFD = LS.CLONE_ARGS_HEAD  # clone_args: flags, pidfd
_SET_TID = struct.Struct("<QQ")       # clone_args: set_tid, set_tid_size
IOVEC_SIZE = LS.IOVEC.size
_IOV_DATA = lp.IOV_DATA.encode()
_ARGV_FAULTS = lp.ARGV_FAULTS.encode()
_IOCB_SIZE = lp.STRUCT_SIZES["iocb"]
_MMSGHDR_SIZE = lp.STRUCT_SIZES["mmsghdr"]
_IOCB_POINTER = struct.Struct("<Q")
_POINTER = struct.Struct("<Q")           # an item of an array of pointers (Pointee.strings)
_IOCB_OPCODE = struct.Struct("<H")
_IOCB_BUF = struct.Struct("<Qq")        # aio_buf, aio_nbytes (a ssize_t to strace)


class Call:
    """A syscall between its entry and exit stops."""

    __slots__ = ("nr", "args", "plan", "saved", "result", "cpu")

    def __init__(self, nr: int, args: tuple, plan: "CallPlan | None"):
        self.nr = nr
        self.args = args
        self.plan = plan         # None: an i386 call (int $0x80), which has none
        self.saved: dict = {}    # argument index -> what the entry read for the exit
        self.result = None       # a return value the engine imposes (utrace)
        self.cpu = None          # the CPU of the entry


class Stop:
    """The record header fields of the stop being handled, and where records go."""

    __slots__ = ("pid", "tid", "comm", "time", "cpu", "flags", "genio", "out", "mem", "proc")

    def __init__(self, mem):
        self.mem = mem
        self.out: list[bytes] = []

    def add(self, rtype: int, payload: bytes) -> None:
        self.out.append(r.pack_record(rtype, payload, self.pid, self.tid, self.comm,
                                      self.time, self.cpu))


# ---------------------------------------------------------------------------
# Lengths


def _length(spec: lp.ArgSpec, call: Call, st: Stop, rval: int) -> int:
    """The byte count (struct roles) or element count (arrays) of ``spec``."""
    ln = spec.length
    if ln is None:
        return spec.size
    return _count(ln, call, st, rval) * ln.scale + ln.add


def _count(ln: lp.Length, call: Call, st: Stop, rval: int) -> int:
    """What a length's source counts (in units of its scale)."""
    kind = ln.kind
    if kind == Len.RET:
        return rval
    if kind == Len.ARG:
        return call.args[ln.n]
    if kind == Len.ARG_U32:
        return call.args[ln.n] & 0xFFFFFFFF
    if kind == Len.FIXED:
        return ln.n
    if kind == Len.ARG_PTR:
        data = st.mem.read(st.pid, call.args[ln.n] + ln.at, 4)
        return _U32.unpack(data)[0] if len(data) == 4 else 0
    if kind == Len.FDSET:
        return (((call.args[ln.n] & 0xFFFFFFFF) + 63) // 64) * 8
    if kind == Len.IOC_SIZE:
        return lp.ioc_size(call.args[ln.n])
    if kind == Len.NODEMASK:
        return (call.args[ln.n] + 62) // 64     # (no wrap: bpf's arithmetic agrees)
    if kind == Len.PAGES:
        return (call.args[ln.n] + lp.PAGE_SIZE - 1) // lp.PAGE_SIZE
    raise ValueError(kind)


def _clamp(n: int) -> int:
    """Counts come from registers: negative or absurd values read nothing."""
    return n if 0 < n < (1 << 31) else 0


# ---------------------------------------------------------------------------
# Entry steps


def path_entry(st: Stop, call: Call, i: int, spec) -> None:
    path = call.saved[i] = st.mem.read_string(st.pid, call.args[i], lp.MAX_STRING)
    if path is not None:
        st.add(r.NAMEI, path)


def _whole(st: Stop, addr: int, n: int) -> bytes | None:
    """``n`` bytes at ``addr`` (at most a reader's buffer), or None when not all
    of them can be read: the kernel's copy of them fails too (EFAULT), and as
    for strace, a failed read records nothing."""
    n = min(n, st.mem.size)
    data = st.mem.read(st.pid, addr, n)
    return data if len(data) == n else None


def _readable(st: Stop, addr: int, n: int) -> bytes | None:
    """``n`` bytes at ``addr`` (at most a reader's buffer); when not all of them
    can be read, those up to the end of their first page (a page the engines
    read in one go: linux_plan's doc), or None when those cannot be read either."""
    n = min(n, st.mem.size)
    data = st.mem.read(st.pid, addr, n)
    if len(data) < n:
        first = lp.PAGE_SIZE - addr % lp.PAGE_SIZE
        if len(data) < first:
            return None
        data = data[:first]
    return data


def _struct_part(st: Stop, addr: int, n: int, spec) -> bytes | None:
    """What is recorded of a struct whose ``n`` bytes cannot all be read
    (linux_plan's doc): the longer of its known part (an extensible struct's)
    and, for PAGE_PART_STRUCTS, its first page's part (as the bpf program's
    emit_extensible reads them)."""
    known = spec.size if 0 < spec.size < n else 0
    first = lp.PAGE_SIZE - addr % lp.PAGE_SIZE
    if spec.name in lp.PAGE_PART_STRUCTS and known <= first < n:
        return _whole(st, addr, min(first, st.genio))
    return _whole(st, addr, min(known, st.genio)) if known else None


def _struct(st: Stop, call: Call, i: int, spec, rval: int) -> bytes | None:
    """STRU of argument ``i`` (capped at the genio size but for WHOLE_STRUCTS): its bytes."""
    addr = call.args[i]
    if not addr:
        return None
    n = _clamp(_length(spec, call, st, rval))
    data = _whole(st, addr, n if spec.name in lp.WHOLE_STRUCTS else min(n, st.genio))
    if data is None:
        data = _struct_part(st, addr, n, spec)
    if data is not None:
        st.add(r.STRUCT, r.struct_payload(spec.name.encode(), data))
    return data


def _pointees(st: Stop, call: Call, spec, data: bytes | None, at_exit: bool) -> None:
    """What the pointer fields of a struct just recorded (``data``) point to,
    those recorded after its entry record, or ``at_exit`` its exit record."""
    items: list[bytes] = []     # the array the row before recorded (an in_items row's)
    for pointee in spec.then:
        if pointee.at_exit != at_exit:
            continue
        if pointee.in_items:
            _item_pointees(st, pointee, items)
        else:
            items = _pointee(st, call, pointee, data)


def _item_pointees(st: Stop, pointee: lp.Pointee, items: list[bytes]) -> None:
    """What each of the first ITEMS_FOLLOWED ``items`` (the array recorded
    before) points to: STRU, whole (or a ``part`` row's first page's part),
    or empty when unreadable; none for a 0 pointer or count (the bpf
    program's item_pointee_step reads the same)."""
    if not st.flags & F_STRUCT:
        return
    read = _readable if pointee.part else _whole
    for item in items[:lp.ITEMS_FOLLOWED]:
        addr = int.from_bytes(item[pointee.ptr:pointee.ptr + 8], "little")
        count = int.from_bytes(item[pointee.count_at:pointee.count_at + pointee.width], "little")
        if addr and count:
            held = read(st, addr, min(count, pointee.most, st.genio))
            st.add(r.STRUCT, r.struct_payload(pointee.name.encode(), held or b""))


def _pointee(st: Stop, call: Call, pointee: lp.Pointee, data: bytes | None) -> list[bytes]:
    """What a pointer field of a struct just recorded (``data``) points to
    (linux_plan's doc): STRUCT_ARRAY, its readable items (of its count, or
    with no count field ``most``); STRU, whole or none; or a string.  The
    items of the array recorded (none for the others), or of a struct of
    another kind than the row's (its first_int)."""
    if data is None or len(data) < pointee.record_end():
        return []
    if pointee.first_int >= 0 and int.from_bytes(data[:4], "little") != pointee.first_int:
        return []
    if pointee.via >= 0:            # the fields of the struct the pointer at via points to
        data = st.mem.read(st.pid, int.from_bytes(data[pointee.via:pointee.via + 8], "little"),
                           pointee.fields_end())
        if len(data) < pointee.fields_end():
            return []
    addr = int.from_bytes(data[pointee.ptr:pointee.ptr + 8], "little")
    if not pointee.width and not pointee.elem:
        text = st.mem.read_string(st.pid, addr, min(pointee.most, st.genio)) if addr else None
        if text is not None:
            st.add(r.STRUCT, r.struct_payload(pointee.name.encode(), text))
        return []
    if pointee.count_arg >= 0:
        count = call.args[pointee.count_arg] & 0xFFFFFFFF
    elif pointee.width:
        count = int.from_bytes(data[pointee.count_at:pointee.count_at + pointee.width], "little")
    else:
        count = pointee.most
    count = min(count, pointee.most)
    if pointee.elem:
        if not st.flags & F_ARRAY:
            return []
        held = _array(st, pointee.name, pointee.elem, addr, count, part=True)
        if pointee.strings and st.flags & F_STRUCT:
            _pointer_strings(st, held)
        return [held[k:k + pointee.elem] for k in range(0, len(held), pointee.elem)]
    if addr and count:
        held = _whole(st, addr, min(count, st.genio))
        if held is not None:
            st.add(r.STRUCT, r.struct_payload(pointee.name.encode(), held))
    return []


def struct_in(st: Stop, call: Call, i: int, spec) -> None:
    data = _struct(st, call, i, spec, 0)
    if data is None and call.args[i] and spec.name in lp.PLACE_KEPT_STRUCTS:
        st.add(r.STRUCT, r.struct_payload(spec.name.encode(), b""))    # (linux_plan's doc)
    _pointees(st, call, spec, data, at_exit=False)


def ioc_in(st: Stop, call: Call, i: int, spec) -> None:
    """An ioctl argument the driver reads (_IOC_WRITE)."""
    if lp.ioc_dir(call.args[spec.length.n]) & lp.IOC_WRITE:
        _struct(st, call, i, spec, 0)


def string_in(st: Stop, call: Call, i: int, spec) -> None:
    """STRU string; a string that runs into unreadable memory before its NUL
    is STRU PARTIAL_STRING, its first page's part or none (linux_plan's doc)."""
    addr, most = call.args[i], min(lp.MAX_STRING, st.genio)
    text = st.mem.read_string(st.pid, addr, most)
    if text is not None:
        st.add(r.STRUCT, r.struct_payload(b"string", text))
    elif addr:
        part = _readable(st, addr, most) or b""
        st.add(r.STRUCT, r.struct_payload(lp.PARTIAL_STRING.encode(), part))


def _array(st: Stop, name: str, size: int, addr: int, count: int, part: bool = False) -> bytes:
    """STRUCT_ARRAY, trimmed to the genio size as ktrstructarray() does; all
    items or none, or ``part`` (an entry array's): those readable (``_items``).
    The items recorded."""
    if not addr or count <= 0:
        return b""
    count = min(count, max(1, st.genio // size))
    data = _items(st, addr, count, size) if part else _whole(st, addr, count * size)
    if data:
        st.add(r.STRUCT_ARRAY, r.struct_array_payload(name.encode(), size, data))
    return data or b""


def _pointer_strings(st: Stop, items: bytes) -> None:
    """The strings the first POINTER_STRINGS_MAX pointers of ``items`` that are
    not NULL point to (linux_plan's Pointee.strings; the bpf program's
    pointer_strings reads the same)."""
    pointers = _POINTER.iter_unpack(items[:lp.POINTER_STRINGS_MAX * _POINTER.size])
    for (addr,) in pointers:
        if addr:
            text = st.mem.read_string(st.pid, addr, min(lp.MAX_STRING, st.genio))
            name = b"string" if text is not None else lp.PARTIAL_STRING.encode()
            st.add(r.STRUCT, r.struct_payload(name, text or b""))


def _items(st: Stop, addr: int, count: int, size: int) -> bytes:
    """``count`` items of ``size`` bytes at ``addr``; when not all can be read,
    the whole items of their first page's part (a STRUCT_ARRAY holding fewer
    items than the call's count: linux_plan's doc); b"" when none."""
    data = _readable(st, addr, count * size) or b""
    return data[:len(data) // size * size]


def array_in(st: Stop, call: Call, i: int, spec) -> None:
    _array(st, spec.name, spec.size, call.args[i], _clamp(_length(spec, call, st, 0)), part=True)


def iocbs_entry(st: Stop, call: Call, i: int, spec) -> None:
    """io_submit's iocb pointers, then each iocb and what it points to
    (linux_plan's doc; the bpf program's ktr_iocbs reads the same)."""
    addr, count = call.args[i], _clamp(_length(spec, call, st, 0))
    count = min(count, max(1, st.genio // spec.size))     # (as _array's)
    raw = _items(st, addr, count, spec.size) if addr and count else b""
    if not raw:
        return
    _array_bytes(st, spec.name.encode(), spec.size, raw)
    if not st.flags & F_STRUCT:
        return
    for (iocb_addr,) in _IOCB_POINTER.iter_unpack(raw[:lp.IOCBS_MAX * spec.size]):
        if iocb_addr:
            _iocb(st, iocb_addr)


def _iocb(st: Stop, addr: int) -> None:
    """STRU iocb (empty when unreadable), then what its aio_buf holds."""
    raw = _whole(st, addr, _IOCB_SIZE) or b""
    st.add(r.STRUCT, r.struct_payload(b"iocb", raw[:st.genio]))
    if not raw:
        return
    opcode = _IOCB_OPCODE.unpack_from(raw, lp.IOCB_OPCODE)[0]
    buf, nbytes = _IOCB_BUF.unpack_from(raw, lp.IOCB_BUF)
    if nbytes < 0:
        return
    if opcode == lp.IOCB_CMD_PWRITE and buf:
        data = _readable(st, buf, min(nbytes, st.genio))
        if data is not None:
            st.add(r.STRUCT, r.struct_payload(lp.FAILED_BUF.encode(), data))
    elif opcode in (lp.IOCB_CMD_PREADV, lp.IOCB_CMD_PWRITEV):
        _array(st, "iovec", IOVEC_SIZE, buf, nbytes, part=True)
        if opcode == lp.IOCB_CMD_PWRITEV:
            _iov_data(st, buf, nbytes, st.genio)


def _iovecs(st: Stop, addr: int, count: int, whole: bool = False) -> tuple[bytes, list]:
    """The iovecs' bytes and (base, len) spans: those readable (``_items``), or
    ``whole``: all of them or none."""
    count = min(_clamp(count), 1024)
    if not addr:
        raw = b""
    elif whole:
        raw = _whole(st, addr, count * IOVEC_SIZE) or b""
    else:
        raw = _items(st, addr, count, IOVEC_SIZE)
    words = struct.unpack(f"<{len(raw) // 8}Q", raw)
    return raw, list(zip(words[0::2], words[1::2]))


def iovec_entry(st: Stop, call: Call, i: int, spec) -> None:
    raw, spans = _iovecs(st, call.args[i], call.args[spec.length.n])
    call.saved[i] = spans
    if st.flags & F_ARRAY and raw:
        _array_bytes(st, b"iovec", IOVEC_SIZE, raw)


def _array_bytes(st: Stop, name: bytes, size: int, raw: bytes) -> None:
    keep = max(1, st.genio // size) * size
    st.add(r.STRUCT_ARRAY, r.struct_array_payload(name, size, raw[:keep]))


def _msghdr(st: Stop, addr: int, call: Call, i: int) -> None:
    """STRU msghdr, its sockaddr, its iovecs and its control data; keeps the
    iovecs for the GIO."""
    raw = st.mem.read(st.pid, addr, _MSGHDR.size)
    if len(raw) < _MSGHDR.size:
        call.saved[i] = []
        return
    if st.flags & F_STRUCT:
        st.add(r.STRUCT, r.struct_payload(b"msghdr", raw))
    call.saved[i] = _msghdr_parts(st, raw)


def _msghdr_parts(st: Stop, raw: bytes) -> list:
    """What a msghdr's pointers hold: STRU sockaddr, STRUCT_ARRAY iovec, STRU
    cmsghdr; the iovecs' (base, len) spans."""
    name, namelen, iov, iovlen, control, controllen, _ = _MSGHDR.unpack_from(raw)
    # a msghdr's iovecs whole or none, as the bpf program's ktr_msg_parts reads them
    iov_raw, spans = _iovecs(st, iov, iovlen, whole=True)
    if st.flags & F_STRUCT:
        if name and namelen:
            # its first page's part when not all can be read (as ktr_msg_parts
            # reads it): recvmsg's namelen may be more than the buffer given
            data = _readable(st, name, min(namelen, 128, st.genio))
            if data:
                st.add(r.STRUCT, r.struct_payload(b"sockaddr", data))
    if st.flags & F_ARRAY and iov_raw:
        _array_bytes(st, b"iovec", IOVEC_SIZE, iov_raw)
    if st.flags & F_STRUCT and control and controllen:
        _msg_control(st, control, controllen)
    return spans


def _msg_control(st: Stop, control: int, controllen: int) -> None:
    """STRU cmsghdr records: msg_control's bytes (up to optmem_max), whole or
    none, in parts of MSG_CONTROL_PART (as the bpf program's emit_control reads them)."""
    n = min(controllen, procfs.optmem_max(), lp.MSG_CONTROL_MAX, st.genio)
    parts = [_whole(st, control + at, min(n - at, lp.MSG_CONTROL_PART))
             for at in range(0, n, lp.MSG_CONTROL_PART)]
    if parts and None not in parts:
        for part in parts:
            st.add(r.STRUCT, r.struct_payload(b"cmsghdr", part))


def msghdr_in_entry(st: Stop, call: Call, i: int, spec) -> None:
    _msghdr(st, call.args[i], call, i)


def msghdr_out_entry(st: Stop, call: Call, i: int, spec) -> None:
    """recvmsg's msghdr as given: the msg_namelen before the kernel changes it."""
    raw = st.mem.read(st.pid, call.args[i], _MSGHDR.size)
    if len(raw) == _MSGHDR.size:
        st.add(r.STRUCT, r.struct_payload(b"msghdr", raw))


def clone_args_entry(st: Stop, call: Call, i: int, spec) -> None:
    """STRU clone_args and its set_tid array; its flags and pidfd pointer kept for the exit."""
    data = _struct(st, call, i, spec, 0)
    if data is None:
        return
    if len(data) >= _CLONE_PIDFD.size:
        call.saved[i] = _CLONE_PIDFD.unpack_from(data)
    if len(data) >= lp.CLONE_ARGS_SET_TID + _SET_TID.size and st.flags & F_ARRAY:
        set_tid, count = _SET_TID.unpack_from(data, lp.CLONE_ARGS_SET_TID)
        if count <= lp.MAX_SET_TID:
            _array(st, "int", lp.STRUCT_SIZES["int"], set_tid, count)


def strings_entry(st: Stop, call: Call, i: int, spec) -> None:
    """execve's argv or envp, read now: after a successful exec they are gone."""
    call.saved[i] = _strings(st.mem, st.pid, call.args[i])


def _strings(mem, pid: int, addr: int) -> tuple[list[bytes], int, list[tuple[int, int]]]:
    """The strings of the NULL-terminated array of pointers at ``addr`` (an
    unreadable one empty); the index of its pointer that could not be read
    (``ARGV_READ_ALL``: none); the (index, pointer) of the strings that could
    not be, of the first ARGV_FAULTS_MAX (linux_plan's ARGV_FAULTS)."""
    strings: list[bytes] = []
    faults: list[tuple[int, int]] = []
    left = MAX_ARGV_BYTES
    while addr and len(strings) < MAX_ARGV and left > 0:
        ptrs = mem.read_words(pid, addr, 64)
        if not ptrs:
            return strings, len(strings), faults
        for p in ptrs:
            if not p or left <= 0:
                return strings, lp.ARGV_READ_ALL, faults
            s = mem.read_string(pid, p, min(1 << 17, left))
            if s is None:
                if len(faults) < lp.ARGV_FAULTS_MAX:
                    faults.append((len(strings), p))
                s = b""
            strings.append(s)
            left -= len(s) + 1
        addr += 8 * len(ptrs)
    return strings, lp.ARGV_READ_ALL, faults


# ---------------------------------------------------------------------------
# Exit steps (rval: the return value; called for successful calls, and for
# failed ones where the role is in ON_FAILURE)


def struct_out(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    _pointees(st, call, spec, _struct(st, call, i, spec, rval), at_exit=True)


def struct_interrupted(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """OUT_INTERRUPTED: written by the kernel only when a signal interrupted the call."""
    if lp.ERESTART_FIRST <= -rval <= lp.ERESTART_LAST:
        _struct(st, call, i, spec, rval)


def struct_resized(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """IN_SIZED_STRUCT at exit: written back (its size) only by an E2BIG failure."""
    if rval == -lp.E2BIG:
        _struct(st, call, i, spec, rval)


def ioc_out(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """An ioctl argument the driver wrote (_IOC_READ)."""
    if lp.ioc_dir(call.args[spec.length.n]) & lp.IOC_READ:
        _struct(st, call, i, spec, rval)


def array_out(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    _array(st, spec.name, spec.size, call.args[i], _clamp(_length(spec, call, st, rval)))


def string_out(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    addr = call.args[i]
    n = _clamp(_length(spec, call, st, rval))
    if addr:
        data = st.mem.read(st.pid, addr, min(n, st.genio))
        st.add(r.STRUCT, r.struct_payload(b"string", data.split(b"\0", 1)[0]))


def _sysctl(st: Stop, fd: int) -> None:
    path = st.proc.fds.get(fd)
    if path is not None and path.startswith("/proc/sys/"):
        st.add(r.SYSCTL, path[len("/proc/sys/"):].replace("/", ".").encode())


def _genio(st: Stop, fd: int, rw: int, data: bytes) -> None:
    if st.proc.fds and st.flags & F_SYSCTL:
        _sysctl(st, fd)
    if st.flags & F_GENIO:
        st.add(r.GENIO, r.genio_payload(fd, rw, data))


def gio_parts(mem, pid: int, addr: int, n: int) -> list[bytes]:
    """The data of a read's or write's GIO records: ``n`` bytes at ``addr`` (n
    within the genio size), in parts of GIO_PART bytes, GIO_PARTS_MAX at most,
    up to the first not all read (linux_plan's doc; the bpf program's
    ktr_gio_parts)."""
    parts: list[bytes] = []
    n = min(n, lp.GIO_PART * lp.GIO_PARTS_MAX)
    for at in range(0, n, lp.GIO_PART):
        part = min(n - at, lp.GIO_PART)
        parts.append(mem.read(pid, addr + at, part))
        if len(parts[-1]) < part:
            break
    return parts or [b""]


def unmoved(mem, pid: int, addr: int, count: int, moved: int, genio: int) -> bytes | None:
    """STRU unmoved's data of a write of ``count`` bytes at ``addr`` that moved
    ``moved`` (all in its GIO): what is readable of the next min(count - moved,
    GIO_PART); None for a write not short (linux_plan's doc)."""
    if not 0 <= moved < count or moved > min(genio, lp.GIO_PART * lp.GIO_PARTS_MAX):
        return None
    return mem.read(pid, addr + moved, min(count - moved, lp.GIO_PART))


def buf_exit(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    fd, rw = call.args[spec.fd] & 0xFFFFFFFF, 1 if spec.role == Role.IN_BUF else 0
    first, *more = gio_parts(st.mem, st.pid, call.args[i], min(_clamp(rval), st.genio))
    _genio(st, fd, rw, first)
    if st.flags & F_GENIO:
        for data in more:
            st.add(r.GENIO, r.genio_payload(fd, rw, data))
    if rw and st.flags & F_GENIO and st.flags & F_STRUCT:
        tail = unmoved(st.mem, st.pid, call.args[i], call.args[i + lp.BUF_COUNT], rval, st.genio)
        if tail is not None:
            st.add(r.STRUCT, r.struct_payload(lp.UNMOVED.encode(), tail))


def buf_failed(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """A failed call's IN_BUF: STRU buf, its count's bytes or their first page's
    part (linux_plan's doc; the bpf program's emit_readable reads the same)."""
    addr = call.args[i]
    if not addr:
        return
    data = _readable(st, addr, min(call.args[i + lp.BUF_COUNT], st.genio))
    if data is not None:
        st.add(r.STRUCT, r.struct_payload(lp.FAILED_BUF.encode(), data))


def iovec_exit(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    if spec.fd < 0:          # no descriptor moved the data: STRU iovdata (linux_plan's doc)
        n = _clamp(rval) if spec.role == Role.OUT_IOVEC else st.genio
        _iov_data(st, call.args[i], _length(spec, call, st, 0), n)
        return
    n = min(_clamp(rval), st.genio)
    data = st.mem.read_gather(st.pid, call.saved.get(i, ()), n) if n else b""
    rw = 1 if spec.role in (Role.IN_IOVEC, Role.IN_MSGHDR) else 0
    _genio(st, call.args[spec.fd] & 0xFFFFFFFF, rw, data)


def iovec_given(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """A failed call's data given: STRU iovdata."""
    _iov_data(st, call.args[i], _length(spec, call, st, 0), st.genio)


def msghdr_given(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """A failed sendmsg's data given: STRU iovdata of its msghdr's iovecs."""
    raw = st.mem.read(st.pid, call.args[i], _MSGHDR.size)
    if len(raw) == _MSGHDR.size:
        _iov_data(st, *_msg_iov(raw), st.genio)


def _msg_iov(raw: bytes) -> tuple[int, int]:
    """A msghdr's msg_iov and msg_iovlen."""
    return _MSGHDR.unpack_from(raw)[2:4]


def _iov_data(st: Stop, iov: int, count: int, n: int) -> None:
    """STRU iovdata: ``n`` bytes at most (and the genio size's) of the data of
    the first IOVECS_MAX of the ``count`` iovecs at ``iov`` that can be read,
    each whole, up to the first whose bytes cannot all be read, of which its
    first page's part (linux_plan's doc; the bpf program's ktr_iovec_data reads
    the same, at exit too)."""
    if not st.flags & F_STRUCT:
        return
    _, spans = _iovecs(st, iov, min(count, lp.IOVECS_MAX))
    n = min(n, st.genio, st.mem.size)
    data = st.mem.read_gather(st.pid, spans, n) if n else b""
    if len(data) < n:
        # it stopped at an iovec not all readable: the whole ones, then that one's part
        end = 0
        for base, length in spans:
            if end + length > len(data):
                first = lp.PAGE_SIZE - base % lp.PAGE_SIZE
                part = _whole(st, base, first) if first < min(length, n - end) else None
                data = data[:end] + (part or b"")
                break
            end += length
    st.add(r.STRUCT, r.struct_payload(_IOV_DATA, data))


def msghdr_out_exit(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    _msghdr(st, call.args[i], call, i)
    iovec_exit(st, call, i, spec, rval)


def mmsghdr_exit(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """The messages sendmmsg or recvmmsg moved: STRUCT_ARRAY mmsghdr, then each
    one's parts and a GIO of its msg_len bytes (linux_plan's doc; the bpf
    program's ktr_mmsgs)."""
    addr, count = call.args[i], _clamp(rval)
    if not addr or not count:
        return
    if st.flags & F_ARRAY:
        _mmsghdrs(st, addr, count, part=False)
    fd, rw = call.args[spec.fd] & 0xFFFFFFFF, int(spec.role == Role.IN_MMSGHDR)
    for raw, spans in _messages(st, addr, count, spec.size):
        n = min(_U32.unpack_from(raw, _MSGHDR.size)[0], st.genio)
        if st.flags & F_GENIO:
            _genio(st, fd, rw, st.mem.read_gather(st.pid, spans, n) if n else b"")
    if rw:                  # the messages given but not sent
        left = min(_length(spec, call, st, 0), lp.MMSG_MAX) - count
        _given_messages(st, addr + count * spec.size, left, spec.size)


def mmsghdr_entry(st: Stop, call: Call, i: int, spec) -> None:
    _mmsghdrs(st, call.args[i], _clamp(_length(spec, call, st, 0)), part=True)


def _mmsghdrs(st: Stop, addr: int, count: int, part: bool) -> None:
    """STRUCT_ARRAY mmsghdr: the first MMSG_MAX of ``count`` mmsghdrs at
    ``addr`` (and the genio size's), in records of MMSGHDR_PART bytes, each as
    _array's, the next after a whole one (linux_plan's doc; the bpf program's
    emit_mmsghdrs)."""
    size, per = _MMSGHDR_SIZE, lp.MMSGHDR_PART // _MMSGHDR_SIZE
    count = min(count, lp.MMSG_MAX, max(1, st.genio // size))
    for first in range(0, count if addr else 0, per):
        n = min(count - first, per)
        if len(_array(st, "mmsghdr", size, addr + first * size, n, part)) < n * size:
            return


def mmsghdr_failed(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """A failed sendmmsg's messages given (linux_plan's doc; the bpf program's ktr_mmsgs)."""
    _given_messages(st, call.args[i], _length(spec, call, st, 0), spec.size)


def _given_messages(st: Stop, addr: int, count: int, size: int) -> None:
    """Each of ``count`` messages given: its parts and STRU iovdata."""
    for raw, _ in _messages(st, addr, count, size):
        _iov_data(st, *_msg_iov(raw), st.genio)


def _messages(st: Stop, addr: int, count: int, size: int):
    """(mmsghdr bytes, iovec spans) of each of the first MMSG_MAX of ``count``
    mmsghdrs at ``addr`` up to one that cannot be read, each yielded after the
    records of what its pointers hold."""
    for k in range(min(count, lp.MMSG_MAX)):
        raw = st.mem.read(st.pid, addr + k * size, size)
        if len(raw) < size:
            return
        yield raw, _msghdr_parts(st, raw)


def clone_pidfd_exit(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """STRU int: the pidfd clone3 stored through clone_args.pidfd (CLONE_PIDFD)."""
    flags, pidfd_addr = call.saved.get(i, (0, 0))
    if flags & lp.CLONE_PIDFD and pidfd_addr:
        data = st.mem.read(st.pid, pidfd_addr, 4)
        if len(data) == 4:
            st.add(r.STRUCT, r.struct_payload(b"int", data))


def strings_exit(st: Stop, call: Call, i: int, spec, rval: int) -> None:
    """ARGS/ENVS, then (a failed exec's) STRU argvfault when some of it could not be read."""
    saved = call.saved.get(i)
    if saved is None or rval < 0 and not call.args[i]:
        return              # a failed exec's NULL array: nothing, as the bpf program does
    strings, end, faults = saved
    st.add(r.ARGS if spec.role == Role.ARGV else r.ENVS, r.strings_payload(strings))
    if rval < 0 and (end != lp.ARGV_READ_ALL or faults) and st.flags & F_STRUCT:
        data = LS.ARGV_FAULT_END.pack(end) + b"".join(LS.ARGV_FAULT.pack(*f) for f in faults)
        st.add(r.STRUCT, r.struct_payload(_ARGV_FAULTS, data))


def _fdesc(st: Stop, fd: int, devices_only: bool) -> None:
    """STRU fdesc of the thread's descriptor ``fd`` as it is now (its file's
    mode, device number and inode: a socket's is what strace -y prints);
    nothing if gone, or when ``devices_only`` and it is no device."""
    where = procfs.task_dir(st.pid, st.tid)
    try:
        if where is None:
            return
        found = os.stat(f"{where}/fd/{fd}")
    except OSError:
        return
    if devices_only and not (stat.S_ISCHR(found.st_mode) or stat.S_ISBLK(found.st_mode)):
        return
    st.add(r.STRUCT, r.fdesc_payload(r.Fdesc(fd, 0, found.st_mode, found.st_rdev,
                                               found.st_ino, b"")))


def new_descriptors_exit(st: Stop, call: Call, where: int, spec, rval: int) -> None:
    """STRU fdesc of each descriptor the call made (linux_plan.NEW_DESCRIPTORS):
    the result (a device only, for DEVICE_RESULT), or the int[2] argument
    ``where`` points to."""
    if where in (lp.RESULT, lp.DEVICE_RESULT):
        _fdesc(st, rval, where == lp.DEVICE_RESULT)
        return
    data = st.mem.read(st.pid, call.args[where], LS.INT_PAIR.size)
    if len(data) == LS.INT_PAIR.size:
        for fd in LS.INT_PAIR.unpack(data):
            _fdesc(st, fd, False)


def parent_exit(st: Stop, call: Call, where: int, spec, rval: int) -> None:
    """STRU parent: the name of the thread's parent process (linux_plan's
    PARENT_NAMED: what getppid named), as /proc gives it now; none when the
    parent is gone."""
    ids = procfs.task_ids(st.pid)
    comm = procfs.comm(ids[1]) if ids else b""
    if comm:
        st.add(r.STRUCT, r.parent_payload(comm))


VCPU_PREFIX = b"anon_inode:kvm-vcpu:"     # a vcpu descriptor's path (kvm's create_vcpu_fd)
KVM_RUN_EXIT_REASON = 8                    # kvm_run's exit_reason, a u32 (linux/kvm.h)


def vcpu_exit(st: Stop, call: Call, where: int, spec, rval: int) -> None:
    """STRU kvmexit after a successful KVM_RUN (linux_plan.VCPU_EXITS: its
    plan's alone) on a kvm vcpu's descriptor: the exit reason in its kvm_run,
    read where the process maps the descriptor, as strace finds it (the first
    mapping of /proc/PID/maps of its path, an anonymous inode's); nothing when
    unmapped."""
    fd_dir, maps_dir = procfs.task_dir(st.pid, st.tid), procfs.task_dir(st.pid)
    try:
        if fd_dir is None or maps_dir is None:
            return
        path = os.readlink(f"{fd_dir}/fd/{call.args[0] & 0xFFFFFFFF}".encode())
        if not path.startswith(VCPU_PREFIX):
            return
        with open(f"{maps_dir}/maps", "rb") as f:
            maps = f.read()
    except OSError:
        return
    start = _mapping_of(maps, path)
    if start is not None:
        data = st.mem.read(st.pid, start + KVM_RUN_EXIT_REASON, r.INT32.size)
        if len(data) == r.INT32.size:
            st.add(r.STRUCT, r.struct_payload(r.KVMEXIT_NAME, data))


def _mapping_of(maps: bytes, path: bytes) -> int | None:
    """The start of the first mapping in ``maps`` (/proc/PID/maps) of an
    anonymous inode's ``path`` (its device's major 0, as strace's is_map_for_file)."""
    for line in maps.splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5] == path and fields[3].startswith(b"00:"):
            return int(fields[0].split(b"-", 1)[0], 16)
    return None


def _sockinfo(st: Stop, fd: int) -> None:
    """STRU sockinfo of the thread's descriptor ``fd`` as it is now; nothing
    when it is no socket, or gone."""
    mine = sockets.borrow(st.pid, st.tid, fd) if 0 <= fd < 1 << 31 else None
    if mine is None:
        return
    try:
        found = os.fstat(mine)
        if not stat.S_ISSOCK(found.st_mode):
            return
        local = sockets.address(mine, peer=False)
        family = int.from_bytes(local[:2], "little") if len(local) >= 2 else 0
        peer_ino, remote = 0, b""
        if family == socket.AF_UNIX:
            peer_ino = sockets.unix_peer(found.st_ino)
        elif family in (socket.AF_INET, socket.AF_INET6):
            remote = sockets.address(mine, peer=True)
        elif family == socket.AF_NETLINK:
            local = local[:8].ljust(12, b"\0")          # its port id; no groups
        else:
            local = b""
        info = r.Sockinfo(fd, found.st_ino, peer_ino, sockets.protocol_name(mine), local, remote)
    finally:
        os.close(mine)
    st.add(r.STRUCT, r.sockinfo_payload(info))


def socket_states_exit(st: Stop, call: Call, where: int, spec, rval: int) -> None:
    """STRU sockinfo of each socket the call made or may have changed
    (linux_plan.SOCKET_STATES): the result (a successful call's), the int[2]
    argument ``where`` points to, or the descriptor of argument 0."""
    if where == lp.FD_ARGUMENT:
        _sockinfo(st, call.args[0] & 0xFFFFFFFF)
    elif where == lp.RESULT:
        _sockinfo(st, rval)
    else:
        data = st.mem.read(st.pid, call.args[where], LS.INT_PAIR.size)
        if len(data) == LS.INT_PAIR.size:
            for fd in LS.INT_PAIR.unpack(data):
                _sockinfo(st, fd)


# role -> (entry bits, entry step, exit bits, exit step)
STEPS = {
    Role.PATH: (F_NAMEI, path_entry, 0, None),
    Role.IN_STRUCT: (F_STRUCT, struct_in, 0, None),
    Role.OUT_STRUCT: (0, None, F_STRUCT, struct_out),
    Role.OUT_INTERRUPTED: (0, None, F_STRUCT, struct_interrupted),
    Role.IN_SIZED_STRUCT: (F_STRUCT, struct_in, F_STRUCT, struct_resized),
    Role.INOUT_STRUCT: (F_STRUCT, struct_in, F_STRUCT, struct_out),
    Role.IN_ARRAY: (F_ARRAY, array_in, 0, None),
    Role.OUT_ARRAY: (0, None, F_ARRAY, array_out),
    Role.INOUT_ARRAY: (F_ARRAY, array_in, F_ARRAY, array_out),
    Role.IN_BUF: (0, None, F_GENIO | F_SYSCTL, buf_exit),
    Role.OUT_BUF: (0, None, F_GENIO | F_SYSCTL, buf_exit),
    Role.IN_IOVEC: (F_ARRAY | F_GENIO | F_SYSCTL, iovec_entry,
                    F_GENIO | F_SYSCTL | F_STRUCT, iovec_exit),
    Role.OUT_IOVEC: (F_ARRAY | F_GENIO | F_SYSCTL, iovec_entry,
                     F_GENIO | F_SYSCTL | F_STRUCT, iovec_exit),
    Role.IN_MSGHDR: (F_STRUCT | F_ARRAY | F_GENIO, msghdr_in_entry, F_GENIO, iovec_exit),
    Role.OUT_MSGHDR: (F_STRUCT, msghdr_out_entry, F_STRUCT | F_ARRAY | F_GENIO, msghdr_out_exit),
    Role.IN_STRING: (F_STRUCT, string_in, 0, None),
    Role.OUT_STRING: (0, None, F_STRUCT, string_out),
    Role.ARGV: (F_ARGS, strings_entry, F_ARGS, strings_exit),
    Role.ENVP: (F_ENVS, strings_entry, F_ENVS, strings_exit),
    Role.CLONE_ARGS: (F_STRUCT, clone_args_entry, F_STRUCT, clone_pidfd_exit),
    Role.IOC: (F_STRUCT, ioc_in, F_STRUCT, ioc_out),
    Role.IN_MMSGHDR: (F_ARRAY, mmsghdr_entry, F_STRUCT | F_ARRAY | F_GENIO, mmsghdr_exit),
    Role.OUT_MMSGHDR: (F_ARRAY, mmsghdr_entry, F_STRUCT | F_ARRAY | F_GENIO, mmsghdr_exit),
    Role.IN_IOCBS: (F_ARRAY, iocbs_entry, 0, None),
}


# role -> (exit bits, exit step) of a failed call, for the roles in ON_FAILURE
FAILED_STEPS = {
    Role.ARGV: (F_ARGS, strings_exit),
    Role.ENVP: (F_ENVS, strings_exit),
    Role.IN_BUF: (F_STRUCT, buf_failed),
    Role.IN_IOVEC: (F_STRUCT, iovec_given),
    Role.IN_MSGHDR: (F_STRUCT, msghdr_given),
    Role.IN_MMSGHDR: (F_STRUCT | F_ARRAY, mmsghdr_failed),
    Role.OUT_INTERRUPTED: (F_STRUCT, struct_interrupted),
    Role.IN_SIZED_STRUCT: (F_STRUCT, struct_resized),
}


def record_code(nr: int) -> int:
    """The syscall number as a record's ``short ktr_code`` holds it.

    A tracee may ask for any number (-1, 100000, 2^40): the kernel answers
    ENOSYS, and the record keeps the low 16 bits, as the bpf engine's C
    assignment does.
    """
    return ((nr & 0xFFFF) ^ 0x8000) - 0x8000


class CallPlan:
    """The plan of one syscall, compiled into steps.

    ``entry_bits``/``exit_bits``: the facilities any entry/exit step records.
    ``failed``: the exit steps that run when the call failed (``ON_FAILURE``).
    ``buf``: (buffer argument, descriptor argument, rw) when the exit's only
    step is one I/O buffer (read, write, pread64, ...): the engine's fast path
    (of a call that succeeded, or whose failure records nothing: ``failed``).
    """

    __slots__ = ("nr", "code", "narg", "entry", "exit", "failed", "entry_bits", "exit_bits",
                 "bits", "buf")

    def __init__(self, nr: int, narg: int, plan: tuple, case: int | None = None):
        self.nr = nr
        self.code = record_code(nr)
        self.narg = narg
        entry, exit_ = [], []
        for i, spec in enumerate(plan):
            steps = STEPS.get(spec.role)
            if steps is None:
                continue
            in_bits, in_step, out_bits, out_step = steps
            if in_step is not None:
                entry.append((i, spec, in_step, in_bits))
            if out_step is not None:
                exit_.append((i, spec, out_step, out_bits))
        self.failed = tuple((i, spec, FAILED_STEPS[spec.role][1], FAILED_STEPS[spec.role][0])
                            for i, spec, _, _ in exit_ if spec.role in lp.ON_FAILURE)
        made = lp.new_descriptors().get(nr)
        if made is not None:
            exit_.append((made, None, new_descriptors_exit, F_STRUCT))
        if nr in lp.parent_named():
            exit_.append((lp.RESULT, None, parent_exit, F_STRUCT))
        if case is not None and lp.vcpu_exits().get(nr) == case:
            exit_.append((lp.FD_ARGUMENT, None, vcpu_exit, F_STRUCT))
        sockets_at = lp.socket_states().get(nr)
        if sockets_at is not None:
            exit_.append((sockets_at, None, socket_states_exit, F_STRUCT))
            if sockets_at == lp.FD_ARGUMENT:
                self.failed += ((sockets_at, None, socket_states_exit, F_STRUCT),)
        self.entry = tuple(entry)
        self.exit = tuple(exit_)
        self.entry_bits = self.exit_bits = 0
        for _, _, _, bits in entry:
            self.entry_bits |= bits
        for _, _, _, bits in (*exit_, *self.failed):
            self.exit_bits |= bits
        self.bits = self.entry_bits | self.exit_bits
        self.buf = None
        if not entry and len(exit_) == 1 and exit_[0][2] is buf_exit:
            i, spec = exit_[0][0], exit_[0][1]
            self.buf = (i, spec.fd, 1 if spec.role == Role.IN_BUF else 0)


class Plans:
    """CallPlans by syscall number, built on first use.

    Only plans of known numbers and selector cases are kept: the numbers and
    arguments come from the tracee, and a cache keyed by whatever it passes
    would grow without bound.
    """

    def __init__(self, nargs):
        self._nargs = nargs            # nr -> argument count
        self._plans: dict = {}
        self._selectors = lp.selectors()
        self.selected = frozenset(self._selectors)   # numbers whose plan depends on arguments
        self._known = frozenset(lp.plans())
        # numbers whose plan is the same for every call (callers may cache those)
        self.fixed = self._known - self.selected

    def get(self, nr: int, args: tuple) -> CallPlan:
        sel = self._selectors.get(nr)
        if sel is None:
            key = nr
        else:
            case = args[sel.arg] & sel.mask
            key = (nr, case if case in sel.cases else None)
        cp = self._plans.get(key)
        if cp is None:
            cp = CallPlan(nr, self._nargs(nr), lp.plan_for_call(nr, args),
                          key[1] if sel is not None else None)
            if nr in self._known:
                self._plans[key] = cp
        return cp


def run_entry(st: Stop, call: Call) -> None:
    flags = st.flags
    for i, spec, step, bits in call.plan.entry:
        if flags & bits:
            step(st, call, i, spec)


def run_exit(st: Stop, call: Call, rval: int, failed: bool = False) -> None:
    flags = st.flags
    for i, spec, step, bits in call.plan.failed if failed else call.plan.exit:
        if flags & bits:
            step(st, call, i, spec, rval)

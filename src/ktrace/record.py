"""The ktrace record format: the one place that knows the bytes on disk.

A trace file is FreeBSD's: no file header, records back to back, each a
``struct ktr_header`` followed by ``ktr_len`` bytes of payload.  Three header
layouts exist in the wild and are read here:

* ``amd64-v1``: 64 bytes, ``KTR_VERSIONED`` set in every type, nanosecond time,
  thread id and CPU.  This is what the engines of this project write.
* ``amd64-v0``: 56 bytes, microsecond time, no CPU.
* ``i386-v0``:  44 bytes, 4-byte longs and pointers.

Records are immutable named tuples: a :class:`Header` plus the payload fields
of their type.  ``decode`` and ``encode`` are exact inverses for every record
this module can build (the property tests hold them to that).  The hot paths
(``RecordReader`` and the ``pack_*`` helpers that the engines call once per
event) use precompiled :class:`struct.Struct` objects and build no
intermediate objects.
"""

from __future__ import annotations

import struct
import time
from typing import BinaryIO, Callable, Iterator, NamedTuple, Union

from .platform.zstd import ZstdError
from .tracefile import TraceStream

# Record types (sys/ktrace.h).
SYSCALL = 1
SYSRET = 2
NAMEI = 3
GENIO = 4
PSIG = 5
CSW = 6
USER = 7
STRUCT = 8
SYSCTL = 9
PROCCTOR = 10
PROCDTOR = 11
CAPFAIL = 12
FAULT = 13
FAULTEND = 14
STRUCT_ARRAY = 15
ARGS = 16
ENVS = 17

TYPE_NAMES = {
    SYSCALL: "SYSCALL", SYSRET: "SYSRET", NAMEI: "NAMEI", GENIO: "GENIO",
    PSIG: "PSIG", CSW: "CSW", USER: "USER", STRUCT: "STRUCT", SYSCTL: "SYSCTL",
    PROCCTOR: "PROCCTOR", PROCDTOR: "PROCDTOR", CAPFAIL: "CAPFAIL",
    FAULT: "FAULT", FAULTEND: "FAULTEND", STRUCT_ARRAY: "STRUCT_ARRAY",
    ARGS: "ARGS", ENVS: "ENVS",
}
MAX_TYPE = ENVS

# Flags in ktr_type.
KTR_DROP = 0x8000        # an event before this record was dropped
KTR_VERSIONED = 0x4000   # header carries ktr_version (v1 and later)
KTR_TYPE_FLAGS = KTR_DROP | KTR_VERSIONED
KTR_TYPE_MASK = 0xFFFF & ~KTR_TYPE_FLAGS   # 0x3FFF: the record type itself

# Trace facility bits (p_traceflag): bit (1 << type) enables that record type.
KTRFAC_MASK = 0x00FFFFFF
KTRFAC_ROOT = 0x80000000     # set by root: only root may change it
KTRFAC_INHERIT = 0x40000000  # children created later inherit flags and file
KTRFAC_DROP = 0x20000000     # an event was dropped; next record gets KTR_DROP


def facility(record_type: int) -> int:
    """The p_traceflag bit that enables ``record_type``."""
    return 1 << record_type


# Process ABI flags carried by PROCCTOR (sys/sysent.h).
SV_ABI_MASK = 0xFF
SV_ABI_LINUX = 3
SV_ABI_FREEBSD = 9
SV_ILP32 = 0x100
SV_LP64 = 0x200
SV_LINUX_X86_64 = SV_ABI_LINUX | SV_LP64
# An i386 syscall (int $0x80) of an x86-64 process: its CALL and RET each sit
# between a PROCCTOR with these flags and one with SV_LINUX_X86_64 (docs/design.md).
SV_LINUX_I386 = SV_ABI_LINUX | SV_ILP32

KTR_USER_MAXLEN = 2048   # largest utrace(2) record
COMM_SIZE = 20           # MAXCOMLEN + 1 on FreeBSD
CAP_PATH_MAX = 1024      # MAXPATHLEN: the union in struct ktr_cap_fail

# CAPFAIL violation types.  FreeBSD's enum ktr_cap_violation, plus one of
# ours: a Linux capability check (capable(CAP_...)) that was denied.
CAPFAIL_NOTCAPABLE = 0
CAPFAIL_INCREASE = 1
CAPFAIL_SYSCALL = 2
CAPFAIL_SIGNAL = 3
CAPFAIL_PROTO = 4
CAPFAIL_SOCKADDR = 5
CAPFAIL_NAMEI = 6
CAPFAIL_CPUSET = 7
CAPFAIL_LINUX_CAPABILITY = 0x100   # cap_data.cap_int holds the CAP_* number


# ---------------------------------------------------------------------------
# Header layouts


class Layout(NamedTuple):
    """One header layout and the word size of its payloads."""

    name: str
    version: int              # 0 or 1
    header: struct.Struct     # len, type, [version], pid, comm, sec, frac, tid, [cpu]
    word: int                 # sizeof(long) and sizeof(register_t): 8 or 4
    frac_per_sec: int         # 10**9 (timespec) or 10**6 (timeval)

    @property
    def header_size(self) -> int:
        return self.header.size


AMD64_V1 = Layout("amd64-v1", 1, struct.Struct("<iHhi20sqqqi4x"), 8, 10**9)
AMD64_V0 = Layout("amd64-v0", 0, struct.Struct("<iH2xi20sqqq"), 8, 10**6)
I386_V0 = Layout("i386-v0", 0, struct.Struct("<iH2xi20siii"), 4, 10**6)
LAYOUTS = (AMD64_V1, AMD64_V0, I386_V0)
# ktr_len and ktr_type: how every layout's header starts
LEN_TYPE = struct.Struct("<iH")


class Header(NamedTuple):
    """struct ktr_header, decoded.

    ``nsec`` is nanoseconds in every layout (v0 microseconds times 1000), so
    readers need not care; ``version`` says how many digits the time has.
    ``comm`` is the raw 20-byte field: use :attr:`command` for the name.
    ``cpu`` is None in v0 headers.
    """

    type: int
    dropped: bool
    version: int
    pid: int
    tid: int
    comm: bytes
    sec: int
    nsec: int
    cpu: int | None

    @property
    def command(self) -> str:
        return self.comm.split(b"\0", 1)[0].decode("utf-8", "replace")

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, str(self.type))

    @property
    def time_ns(self) -> int:
        """The timestamp in nanoseconds since the epoch (CLOCK_REALTIME)."""
        return self.sec * 1_000_000_000 + self.nsec

    @property
    def time(self) -> float:
        """The timestamp in seconds since the epoch, as a float."""
        return self.sec + self.nsec / 1e9


# ---------------------------------------------------------------------------
# Typed records: one NamedTuple per record type, header first.


class Syscall(NamedTuple):
    header: Header
    code: int
    narg: int                  # as stored; args holds what the payload carries
    args: tuple[int, ...]      # unsigned register values


class Sysret(NamedTuple):
    header: Header
    code: int
    eosys: int
    error: int
    retval: int                # signed register value


class Namei(NamedTuple):
    header: Header
    path: bytes


class Genio(NamedTuple):
    header: Header
    fd: int
    rw: int                    # 0 read, 1 write (enum uio_rw)
    data: bytes


class Psig(NamedTuple):
    header: Header
    signo: int
    action: int                # handler address; 0 SIG_DFL, 1 SIG_IGN
    code: int                  # si_code
    mask: tuple[int, int, int, int]


class Csw(NamedTuple):
    header: Header
    out: int                   # 1 switched out, 0 back in
    user: int                  # 1 preempted in user mode, 0 slept in the kernel
    wmesg: bytes | None        # None in the old 8-byte form


class User(NamedTuple):
    header: Header
    data: bytes


class Struct(NamedTuple):
    header: Header
    name: bytes
    data: bytes


class Sysctl(NamedTuple):
    header: Header
    name: bytes


class ProcCtor(NamedTuple):
    header: Header
    sv_flags: int


class ProcDtor(NamedTuple):
    header: Header


class CapFail(NamedTuple):
    """struct ktr_cap_fail.

    FreeBSD 14 layout: type, code (syscall), svflags, then the data union
    (rights, an int, a sockaddr or a path).  The older 40-byte layout has only
    the type and the needed/held rights: there ``code`` and ``svflags`` are
    None and ``data`` holds the two rights words.
    """

    header: Header
    type: int
    code: int | None
    svflags: int | None
    data: bytes


class Fault(NamedTuple):
    header: Header
    vaddr: int
    type: int                  # VM_PROT_* of the access


class FaultEnd(NamedTuple):
    header: Header
    result: int                # KERN_* result of vm_fault


class StructArray(NamedTuple):
    header: Header
    struct_size: int
    name: bytes
    data: bytes


class Args(NamedTuple):
    header: Header
    strings: bytes             # NUL-terminated strings back to back


class Envs(NamedTuple):
    header: Header
    strings: bytes


class Unknown(NamedTuple):
    """A record this reader cannot decode, its payload kept raw.

    Either its type is unknown, or its payload does not fit its type (too
    short, a struct name without its NUL): ``header.type`` says which type it
    claimed to be.
    """

    header: Header
    payload: bytes


Record = Union[Syscall, Sysret, Namei, Genio, Psig, Csw, User, Struct, Sysctl,
               ProcCtor, ProcDtor, CapFail, Fault, FaultEnd, StructArray,
               Args, Envs, Unknown]


def split_strings(blob: bytes) -> list[bytes]:
    """The strings of an ARGS/ENVS payload (a trailing NUL ends the last)."""
    return list(iter_strings(blob))


def iter_strings(blob: bytes) -> Iterator[bytes]:
    """The strings of an ARGS/ENVS payload, one at a time.

    A payload of a million empty strings is a few megabytes; as a list of
    bytes objects it would be forty times that.
    """
    end = len(blob) - 1 if blob.endswith(b"\0") else len(blob)
    start = 0
    while start <= end and blob:
        nul = blob.find(b"\0", start, end)
        if nul < 0:
            yield blob[start:end]
            return
        yield blob[start:nul]
        start = nul + 1


def count_strings(blob: bytes) -> int:
    """How many strings an ARGS/ENVS payload holds."""
    if not blob:
        return 0
    return blob.count(b"\0") + (0 if blob.endswith(b"\0") else 1)


class Cut(bytes):
    """The start of a payload field too long for a reader to keep whole.

    :class:`RecordReader` keeps at most ``MAX_KEPT`` bytes of a record's
    payload; the field that ends the payload (data, path, strings) then holds
    what was kept, and ``length`` says how long it really was.
    """

    length: int


def full_length(field: bytes) -> int:
    """The length a (possibly :class:`Cut`) field had in the trace."""
    return field.length if type(field) is Cut else len(field)


# ---------------------------------------------------------------------------
# Payload layouts per word size


class CorruptRecord(ValueError):
    """A record whose bytes cannot be what they claim to be."""


class _Payloads:
    """The fixed parts of payloads for one word size (amd64 or i386)."""

    def __init__(self, word: int):
        q = "q" if word == 8 else "i"
        uq = "Q" if word == 8 else "I"
        self.word = word
        self.arg = uq
        self.syscall = struct.Struct("<hh4x" if word == 8 else "<hh")
        self.sysret = struct.Struct("<hhi" + q)
        self.genio = struct.Struct("<ii")
        # struct ktr_psig {int signo; sig_t action; int code; sigset_t mask;}
        self.psig = struct.Struct("<i4xQi4I4x" if word == 8 else "<iIi4I")
        self.csw = struct.Struct("<ii8s")
        self.csw_old = struct.Struct("<ii")
        self.procctor = struct.Struct("<I")
        # FreeBSD 14: {int type; short code; u_int svflags; union data;}
        self.capfail = struct.Struct("<ih2xI4x" if word == 8 else "<ih2xI")
        # older: {int type; cap_rights_t needed, held;}
        self.capfail_old = struct.Struct("<i4x32s" if word == 8 else "<i32s")
        self.fault = struct.Struct("<" + uq + "i" + ("4x" if word == 8 else ""))
        self.faultend = struct.Struct("<i")
        self.struct_array = struct.Struct("<" + uq)
        self.args = [struct.Struct(f"<{n}{uq}") for n in range(9)]


_P64 = _Payloads(8)
_P32 = _Payloads(4)


def _payloads(layout: Layout) -> _Payloads:
    return _P64 if layout.word == 8 else _P32


# Where a whole amd64-v1 SYSCALL record's arguments start (64-bit each).
V1_SYSCALL_ARGS_AT = AMD64_V1.header_size + _P64.syscall.size


class _Invalid(Exception):
    """Internal: a payload that does not fit its record type."""


def _fixed(s: struct.Struct, buf, start: int, end: int) -> tuple:
    if end - start < s.size:
        raise _Invalid
    return s.unpack_from(buf, start)


def _cstring(data: bytes) -> tuple[bytes, bytes]:
    nul = data.find(b"\0")
    if nul < 0:
        raise _Invalid
    return data[:nul], data[nul + 1:]


# One decoder per record type: (header, buffer, payload start, payload end,
# word layouts) -> record.  They read the payload where it lies in the
# reader's buffer (fixed parts are never sliced out), and the frequent ones
# build their tuples directly (no namedtuple __new__ frame).

_new = tuple.__new__


MAX_ARGS = 64   # arguments kept of a SYSCALL record: no ABI passes more than 8


def _syscall(h, buf, start, end, p):
    fixed = p.syscall.size
    if end - start < fixed:
        raise _Invalid
    code, narg = p.syscall.unpack_from(buf, start)
    n = min((end - start - fixed) // p.word, MAX_ARGS)
    args = p.args[n] if n < len(p.args) else struct.Struct(f"<{n}{p.arg}")
    return _new(Syscall, (h, code, narg, args.unpack_from(buf, start + fixed)))


def _sysret(h, buf, start, end, p):
    return _new(Sysret, (h, *_fixed(p.sysret, buf, start, end)))


def _genio(h, buf, start, end, p):
    fd, rw = _fixed(p.genio, buf, start, end)
    return _new(Genio, (h, fd, rw, buf[start + p.genio.size:end]))


def _psig(h, buf, start, end, p):
    signo, action, code, *mask = _fixed(p.psig, buf, start, end)
    return Psig(h, signo, action, code, tuple(mask))


def _csw(h, buf, start, end, p):
    if end - start >= p.csw.size:
        return Csw(h, *p.csw.unpack_from(buf, start))
    return Csw(h, *_fixed(p.csw_old, buf, start, end), None)


def _struct(h, buf, start, end, p):
    return Struct(h, *_cstring(buf[start:end]))


def _procctor(h, buf, start, end, p):
    return ProcCtor(h, _fixed(p.procctor, buf, start, end)[0])


def _capfail(h, buf, start, end, p):
    if end - start == p.capfail_old.size:
        ctype, rights = p.capfail_old.unpack_from(buf, start)
        return CapFail(h, ctype, None, None, rights)
    ctype, code, svflags = _fixed(p.capfail, buf, start, end)
    return CapFail(h, ctype, code, svflags, buf[start + p.capfail.size:end])


def _fault(h, buf, start, end, p):
    return Fault(h, *_fixed(p.fault, buf, start, end))


def _faultend(h, buf, start, end, p):
    return FaultEnd(h, _fixed(p.faultend, buf, start, end)[0])


def _struct_array(h, buf, start, end, p):
    size = _fixed(p.struct_array, buf, start, end)[0]
    return StructArray(h, size, *_cstring(buf[start + p.struct_array.size:end]))


def _bytes_record(cls):
    """The decoder of a type whose payload is all one bytes field."""
    return lambda h, buf, start, end, p: _new(cls, (h, buf[start:end]))


_DECODERS = {
    SYSCALL: _syscall, SYSRET: _sysret, NAMEI: _bytes_record(Namei), GENIO: _genio,
    PSIG: _psig, CSW: _csw, USER: _bytes_record(User), STRUCT: _struct,
    SYSCTL: _bytes_record(Sysctl), PROCCTOR: _procctor,
    PROCDTOR: lambda h, buf, start, end, p: ProcDtor(h), CAPFAIL: _capfail,
    FAULT: _fault, FAULTEND: _faultend, STRUCT_ARRAY: _struct_array,
    ARGS: _bytes_record(Args), ENVS: _bytes_record(Envs),
}


def _unknown(h, buf, start, end, p):
    return _new(Unknown, (h, buf[start:end]))


# The decoder of every record type (KTR_TYPE_MASK bits), indexed by type.
_DECODER_BY_TYPE = [_DECODERS.get(t, _unknown) for t in range(KTR_TYPE_MASK + 1)]


def decode_payload(h: Header, data: bytes, p: _Payloads) -> Record:
    """Build the typed record for header ``h`` from its payload bytes.

    A payload that cannot be what its type says (too short, a struct name
    without its NUL) gives an :class:`Unknown` record keeping the bytes: the
    record's framing is intact, so readers go on with the next one.
    """
    try:
        return _DECODERS.get(h.type, _unknown)(h, data, 0, len(data), p)
    except _Invalid:
        return Unknown(h, data)


def encode_payload(r: Record, p: _Payloads) -> bytes:
    """The payload bytes of typed record ``r`` (inverse of decode_payload)."""
    t = type(r)
    if t is Syscall:
        return p.syscall.pack(r.code, r.narg) + struct.pack(f"<{len(r.args)}{p.arg}", *r.args)
    if t is Sysret:
        return p.sysret.pack(r.code, r.eosys, r.error, r.retval)
    if t is Namei:
        return r.path
    if t is Genio:
        return p.genio.pack(r.fd, r.rw) + r.data
    if t is Psig:
        return p.psig.pack(r.signo, r.action, r.code, *r.mask)
    if t is Csw:
        if r.wmesg is None:
            return p.csw_old.pack(r.out, r.user)
        return p.csw.pack(r.out, r.user, r.wmesg)
    if t is User:
        return r.data
    if t is Struct:
        return r.name + b"\0" + r.data
    if t is Sysctl:
        return r.name
    if t is ProcCtor:
        return p.procctor.pack(r.sv_flags)
    if t is ProcDtor:
        return b""
    if t is CapFail:
        if r.code is None:
            return p.capfail_old.pack(r.type, r.data)
        return p.capfail.pack(r.type, r.code, r.svflags) + r.data
    if t is Fault:
        return p.fault.pack(r.vaddr, r.type)
    if t is FaultEnd:
        return p.faultend.pack(r.result)
    if t is StructArray:
        return p.struct_array.pack(r.struct_size) + r.name + b"\0" + r.data
    if t is Args or t is Envs:
        return r.strings
    if t is Unknown:
        return r.payload
    raise TypeError(f"not a ktrace record: {r!r}")


# ---------------------------------------------------------------------------
# Whole records


def _pack_header(layout: Layout, h: Header, length: int) -> bytes:
    rtype = h.type | (KTR_DROP if h.dropped else 0)
    if layout.version:
        return layout.header.pack(length, rtype | KTR_VERSIONED, h.version, h.pid,
                                  h.comm, h.sec, h.nsec, h.tid,
                                  -1 if h.cpu is None else h.cpu)
    return layout.header.pack(length, rtype, h.pid, h.comm, h.sec,
                              h.nsec // (10**9 // layout.frac_per_sec), h.tid)


def encode(r: Record, layout: Layout = AMD64_V1) -> bytes:
    """The bytes of one whole record, header and payload."""
    payload = encode_payload(r, _payloads(layout))
    return _pack_header(layout, r.header, len(payload)) + payload


def _header_maker(layout: Layout) -> Callable[[tuple], Header]:
    """The function from ``layout.header``'s unpacked fields to a :class:`Header`.

    The one place header fields are interpreted: :func:`decode` and the
    :class:`RecordReader`'s loop both use it.
    """
    # (defaults are locals: this runs once per record read)
    if layout.version:
        def make(fields: tuple, new=tuple.__new__, header=Header, mask=KTR_TYPE_MASK,
                 drop=KTR_DROP) -> Header:
            _, rtype, version, pid, comm, sec, nsec, tid, cpu = fields
            return new(header, (rtype & mask, rtype >= drop, version, pid, tid,
                                comm, sec, nsec, cpu))
        return make

    def make_v0(fields: tuple, new=tuple.__new__, header=Header, mask=KTR_TYPE_MASK,
                drop=KTR_DROP, scale=10**9 // layout.frac_per_sec) -> Header:
        _, rtype, pid, comm, sec, frac, tid = fields
        return new(header, (rtype & mask, rtype >= drop, 0, pid, tid,
                            comm, sec, frac * scale, None))
    return make_v0


_HEADER_MAKERS = {layout: _header_maker(layout) for layout in LAYOUTS}


def _make_header(layout: Layout) -> Callable[[tuple], Header]:
    make = _HEADER_MAKERS.get(layout)
    return make if make is not None else _header_maker(layout)


def _unpack_header(layout: Layout, buf, offset: int) -> tuple[int, Header]:
    """(payload length, Header) of the record at ``offset``."""
    fields = layout.header.unpack_from(buf, offset)
    return fields[0], _make_header(layout)(fields)


def decode(buf: bytes, layout: Layout = AMD64_V1) -> Record:
    """Decode exactly one whole record (inverse of :func:`encode`)."""
    if len(buf) < layout.header_size:
        raise CorruptRecord("record shorter than its header")
    length, h = _unpack_header(layout, buf, 0)
    if length != len(buf) - layout.header_size:
        raise CorruptRecord(f"bogus length 0x{length & 0xffffffff:x}")
    return decode_payload(h, bytes(buf[layout.header_size:]), _payloads(layout))


# ---------------------------------------------------------------------------
# Fast encoders for the engines: amd64 v1 records straight from fields.

_V1 = AMD64_V1.header
_V1_SIZE = _V1.size
_VERSIONED_TYPES = {t: t | KTR_VERSIONED for t in range(1, MAX_TYPE + 1)}


def pack_header(rtype: int, length: int, pid: int, tid: int, comm: bytes,
                time_ns: int, cpu: int, dropped: bool = False) -> bytes:
    """An amd64 v1 ktr_header for a payload of ``length`` bytes."""
    flags = KTR_VERSIONED | (KTR_DROP if dropped else 0)
    sec, nsec = divmod(time_ns, 1_000_000_000)
    return _V1.pack(length, rtype | flags, 1, pid, comm, sec, nsec, tid, cpu)


def pack_record(rtype: int, payload: bytes, pid: int, tid: int, comm: bytes,
                time_ns: int, cpu: int, dropped: bool = False) -> bytes:
    """A whole amd64 v1 record with an already built payload."""
    return pack_header(rtype, len(payload), pid, tid, comm, time_ns, cpu,
                       dropped) + payload


def syscall_payload(code: int, args) -> bytes:
    return _P64.syscall.pack(code, len(args)) + struct.pack(f"<{len(args)}Q", *args)


def sysret_payload(code: int, error: int, retval: int, eosys: int = 0) -> bytes:
    return _P64.sysret.pack(code, eosys, error, retval)


def genio_payload(fd: int, rw: int, data: bytes) -> bytes:
    return _P64.genio.pack(fd, rw) + data


def psig_payload(signo: int, action: int, code: int, mask: int) -> bytes:
    """``mask`` is a sigset as one integer (bit n-1 = signal n)."""
    words = [(mask >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    return _P64.psig.pack(signo, action, code, *words)


def csw_payload(out: int, user: int, wmesg: bytes) -> bytes:
    return _P64.csw.pack(out, user, wmesg)


def struct_payload(name: bytes, data: bytes) -> bytes:
    return name + b"\0" + data


def struct_array_payload(name: bytes, struct_size: int, data: bytes) -> bytes:
    return _P64.struct_array.pack(struct_size) + name + b"\0" + data


def procctor_payload(sv_flags: int) -> bytes:
    return _P64.procctor.pack(sv_flags)


# A Linux process's descriptor (or its cwd, fd AT_FDCWD), for strace's -y:
# STRU "fdesc".  The facility writes one for each descriptor a process held
# when its tracing began, after the PROCCTOR of a process traced by request
# (not by inheritance); the engines write one inside a call for each socket a
# successful socket, accept, accept4 or socketpair made, and for the
# descriptor of a call that opened a character or block device, and for
# pidfd_getfd's copy of another process's descriptor (linux_plan's
# NEW_DESCRIPTORS: flags 0, no path; -y's socket:[INODE], -yy's device
# numbers).  fd, open flags, st_mode, padding, st_rdev, st_ino, then the path
# as readlink(2) gives it (no NUL).
FDESC = struct.Struct("<iII4xQQ")
FDESC_NAME = b"fdesc"


class Fdesc(NamedTuple):
    fd: int
    flags: int
    mode: int
    rdev: int
    ino: int
    path: bytes


def fdesc_payload(d: Fdesc) -> bytes:
    return struct_payload(FDESC_NAME, FDESC.pack(*d[:5]) + d.path)


def parse_fdesc(data: bytes) -> Fdesc | None:
    """A STRU fdesc's struct bytes (after the name), or None when too short."""
    if len(data) < FDESC.size:
        return None
    return Fdesc(*FDESC.unpack_from(data), bytes(data[FDESC.size:]))


# A socket's state, for strace's -yy (``UNIX-STREAM:[INODE->PEER,"path"]``,
# ``TCP:[SRC->DST]``, ``NETLINK:[ROUTE:PORTID]``, what strace asks the kernel
# as it prints): STRU "sockinfo".  The engines write one inside a call for
# each socket a successful socket, accept, accept4 or socketpair made, and
# for the socket of a bind, listen or connect, whatever its result
# (linux_plan's SOCKET_STATES).  fd, the lengths of the two addresses, the
# socket's inode and its peer's (a Unix socket's; 0 when none or unknown), the
# name of its protocol as the kernel gives it (getxattr's
# system.sockprotoname: "UNIX-STREAM", "TCPv6", ...; NUL-padded), the
# socket's own address (what getsockname gives: a Unix socket's name, a
# netlink socket's port id; 112 bytes, a sockaddr_un's 110 padded) and its
# peer's (an inet socket's; 28 bytes, a sockaddr_in6's), each of its length,
# the rest zeros.  Its addresses are what getsockname and getpeername give,
# for the families the view shows (Unix, inet, netlink: a port id, its groups
# 0), none for others.
SOCKINFO = struct.Struct("<iHHQQ32s112s28s4x")
SOCKINFO_NAME = b"sockinfo"


class Sockinfo(NamedTuple):
    fd: int
    ino: int
    peer_ino: int
    protocol: bytes
    local: bytes
    remote: bytes


# The name (comm) of the process getppid named, what strace's
# --decode-pids=comm prints after its result (it reads /proc/PPID/comm):
# STRU "parent".  The engines write one at getppid's exit (linux_plan's
# PARENT_NAMED): the 16 bytes of the parent's comm, NUL-padded.
PARENT = struct.Struct("<16s")
PARENT_NAME = b"parent"


def parent_payload(comm: bytes) -> bytes:
    return struct_payload(PARENT_NAME, PARENT.pack(comm[:15]))


def parse_parent(data: bytes) -> bytes | None:
    """A STRU parent's comm (NULs cut), or None when too short."""
    if len(data) < PARENT.size:
        return None
    return PARENT.unpack_from(data)[0].split(b"\0", 1)[0]


def sockinfo_payload(s: Sockinfo) -> bytes:
    local, remote = s.local[:112], s.remote[:28]
    return struct_payload(SOCKINFO_NAME, SOCKINFO.pack(
        s.fd, len(local), len(remote), s.ino, s.peer_ino, s.protocol, local, remote))


def parse_sockinfo(data: bytes) -> Sockinfo | None:
    """A STRU sockinfo's struct bytes (after the name), or None when too short."""
    if len(data) < SOCKINFO.size:
        return None
    fd, local_len, remote_len, ino, peer_ino, protocol, local, remote = SOCKINFO.unpack_from(data)
    return Sockinfo(fd, ino, peer_ino, protocol.split(b"\0", 1)[0],
                    local[:local_len], remote[:remote_len])


# STRUs of one int32, Linux only (FreeBSD's kernel records none of them, and
# FreeBSD's view leaves them out):
#
# * "groupstop": a thread entering a group-stop (SIGSTOP, SIGTSTP, SIGTTIN,
#   SIGTTOU: strace's ``--- stopped by SIGSTOP ---``), the stop signal.  Both
#   engines write one, outside any call, when the process is traced for
#   signals (``s``).
# * "nspid": a task's id in its own pid namespace, where that is not ktrace's
#   (the last of /proc's NSpid), which strace's --pidns-translation reads in
#   /proc as it prints.  Both engines write one, outside any call, for each
#   task a traced one's fork or clone made in such a namespace (a process's
#   after its PROCCTOR), when it traces syscalls (``c``); and the facility
#   one for each thread of a process in such a namespace that tracing
#   attaches to (after its PROCCTOR, before its fdescs).
# * "kvmexit": a kvm vcpu's exit reason (its kvm_run's exit_reason, a u32),
#   which strace's -e kvm=vcpu prints after a KVM_RUN's result.  Both engines
#   write one inside a successful KVM_RUN on a vcpu's descriptor, at its exit
#   (linux_plan's VCPU_EXITS).
INT32 = struct.Struct("<i")
GROUPSTOP_NAME = b"groupstop"
NSPID_NAME = b"nspid"
KVMEXIT_NAME = b"kvmexit"


def int32_payload(name: bytes, value: int) -> bytes:
    return struct_payload(name, INT32.pack(value))


def parse_int32(data: bytes) -> int | None:
    """A one-int32 STRU's value (groupstop's, nspid's, kvmexit's), or None when too short."""
    return INT32.unpack_from(data)[0] if len(data) >= INT32.size else None


def capfail_payload(ctype: int, code: int, svflags: int, data: bytes) -> bytes:
    """FreeBSD 14 layout; the data union is padded to its full size."""
    return _P64.capfail.pack(ctype, code, svflags) + data.ljust(CAP_PATH_MAX, b"\0")


def fault_payload(vaddr: int, ftype: int) -> bytes:
    return _P64.fault.pack(vaddr, ftype)


def faultend_payload(result: int) -> bytes:
    return _P64.faultend.pack(result)


def strings_payload(strings) -> bytes:
    """ARGS/ENVS payload from a sequence of bytes strings."""
    return b"".join(s + b"\0" for s in strings)


# ---------------------------------------------------------------------------
# Recognising a file


class ForeignFormat(ValueError):
    """The bytes are a trace file, but not one this reader decodes."""


def _plausible(buf, offset: int, layout: Layout) -> bool:
    """Does a record of ``layout`` plausibly start at ``offset``?"""
    if offset + layout.header_size > len(buf):
        return False
    length, h = _unpack_header(layout, buf, offset)
    rtype = layout.header.unpack_from(buf, offset)[1]
    if layout.version:
        if not rtype & KTR_VERSIONED or h.version != 1:
            return False
    elif rtype & KTR_VERSIONED or buf[offset + 6:offset + 8] != b"\0\0":
        return False    # v0 has padding where later headers keep a version
    return (0 <= length < (1 << 24) and 1 <= h.type <= MAX_TYPE
            and h.pid >= 0 and 0 <= h.nsec < 10**9)


def _chain(buf, layout: Layout, records: int = 8) -> int:
    """How many plausible records follow each other from the start of buf."""
    offset = n = 0
    while n < records and _plausible(buf, offset, layout):
        length = layout.header.unpack_from(buf, offset)[0]
        offset += layout.header_size + length
        n += 1
        if offset == len(buf):
            return records   # the whole (short) buffer parsed: good enough
    return n


def detect_layout(head: bytes) -> Layout:
    """Choose the header layout from the first bytes of a file.

    Raises ForeignFormat for the ktrace files of other systems, with a line
    saying what they look like, and CorruptRecord for bytes that look like no
    trace at all.
    """
    if head.startswith(b"KTR\0"):
        raise ForeignFormat("this is an OpenBSD ktrace file (KTR_START header); "
                            "only FreeBSD-format traces can be read")
    if _looks_netbsd(head):
        raise ForeignFormat("this looks like a NetBSD ktrace file (KTR_EMUL "
                            "record first); only FreeBSD-format traces can be read")
    best = max(LAYOUTS, key=lambda lay: _chain(head, lay))   # ties: first wins
    if _chain(head, best) > 0:
        return best
    if len(head) >= 8:
        be_len, be_type = struct.unpack_from(">iH", head)
        if 0 <= be_len < (1 << 20) and 1 <= (be_type & KTR_TYPE_MASK) <= MAX_TYPE:
            raise ForeignFormat("this looks like a big-endian ktrace file "
                                "(Darwin, or FreeBSD on powerpc/mips); only "
                                "little-endian traces can be read")
    raise CorruptRecord("not a ktrace file: no record header at offset 0")


def _looks_netbsd(head: bytes) -> bool:
    """NetBSD writes a KTR_EMUL record (type 7) naming the emulation first.

    Its v0 header has the same size as FreeBSD's (17-byte comm, padded), so
    only the content tells them apart: on FreeBSD type 7 is a utrace record,
    which no process writes before its first system call.
    """
    if len(head) < 8:
        return False
    length, rtype = LEN_TYPE.unpack_from(head)
    if rtype & KTR_TYPE_MASK != USER or not 0 < length <= 32:
        return False
    for header_size in (I386_V0.header_size, AMD64_V0.header_size):
        name = head[header_size:header_size + length].rstrip(b"\0")
        if name and name.isalnum() and name.islower():
            return True
    return False


# ---------------------------------------------------------------------------
# Reading a stream of records


class TraceFileError(Exception):
    """Bad bytes at a known offset; every record before it was good.

    Of a compressed file the offset is one in its decompressed bytes.
    """

    def __init__(self, offset: int, what: str, compressed: bool = False):
        where = " of the decompressed data" if compressed else ""
        super().__init__(f"offset {offset}{where}: {what}")
        self.offset = offset
        self.what = what


# per word size (amd64: True), per header kind (v1: True): the header's size,
# unpacker and Header maker, and its KTR_VERSIONED bit
_HEADER_KINDS = {amd64: {v1: (lay.header_size, lay.header.unpack_from, _make_header(lay),
                              KTR_VERSIONED if v1 else 0)
                         for v1, lay in ((True, AMD64_V1), (False, AMD64_V0 if amd64 else I386_V0))}
                 for amd64 in (True, False)}


class RecordReader:
    """Iterate the records of a trace stream lazily, in constant memory.

    ``stream`` is a binary file object (a regular file, a pipe, stdin), plain
    or compressed (zstd frames: see :class:`ktrace.tracefile.TraceStream`;
    offsets are then in the decompressed bytes).  The layout is detected
    from the first bytes unless given; it is then the layout of the first
    record: an amd64 file may mix v0 and v1 records (the kernel was upgraded
    between two ``ktrace -a``), and each record's ``header.version`` says
    which it had.  Iteration yields typed records; on bad bytes it raises
    :class:`TraceFileError` naming the offset, after yielding every good
    record before it.  A clean end of file ends the
    iteration, unless ``follow`` is set (``kdump -l``): then the reader waits
    for the file to grow, forever.  ``offset`` is the file offset of the next
    record, ``record_offset`` that of the record last yielded.  Of a record
    longer than ``MAX_KEPT`` only the start is kept (see :class:`Cut`), so a
    file cannot make a reader hold more than a few megabytes, whatever its
    lengths say.
    """

    CHUNK = 1 << 20
    POLL = 0.25             # seconds between looks at a file being followed
    MAX_PAYLOAD = 1 << 26   # larger is no record any kernel writes: corruption
    # Payload bytes kept of one record: the rest of a longer one is read past
    # (its last field is then a Cut).  Memory stays bounded whatever the file
    # says, yet 1 MiB GIO records and execve's 2 MiB of arguments come whole.
    MAX_KEPT = 2 << 20

    def __init__(self, stream: BinaryIO, layout: Layout | None = None,
                 follow: bool = False):
        self._source = TraceStream(stream, follow)
        self._buf = b""
        self._pos = 0           # position in _buf of the next record
        self._base = 0          # file offset of _buf[0]
        self.layout = layout
        self.follow = follow
        self.record_offset = 0  # file offset of the record last yielded

    def _read(self, size: int) -> bytes:
        """What the stream has (a pipe or growing file: without waiting for more)."""
        try:
            return self._source.read1(size)
        except ZstdError as e:
            self._fail(str(e))

    def _fill(self, need: int, wait: bool | None = None) -> bool:
        """Make ``need`` bytes available at _pos; False at end of data.

        At the end of data a follower (``wait``, by default ``follow``)
        sleeps and looks again instead.
        """
        if wait is None:
            wait = self.follow
        have = len(self._buf) - self._pos
        while have < need:
            chunk = self._read(max(self.CHUNK, need - have))
            if not chunk:
                if not wait:
                    return False
                time.sleep(self.POLL)
                continue
            self._base += self._pos
            self._buf = self._buf[self._pos:] + chunk
            self._pos = 0
            have = len(self._buf)
        return True

    def detect(self) -> Layout | None:
        """The layout, detected from the first 4 KiB; None for an empty stream.

        Iterating detects it too; call this to know it before the first record.
        """
        if self.layout is not None:
            return self.layout
        want = 4096
        if not self._fill(1):
            return None
        while True:
            self._fill(want, wait=False)
            head = self._buf[self._pos:self._pos + want]
            try:
                self.layout = detect_layout(head)
                return self.layout
            except CorruptRecord as e:
                if not self.follow or len(head) >= want:
                    self._fail(str(e))
            # a followed file may still be writing its first records
            time.sleep(self.POLL)
            self._fill(len(head) + 1)

    @property
    def offset(self) -> int:
        """The file offset of the next record."""
        return self._base + self._pos

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def buffered(self) -> tuple[bytes, int]:
        """The bytes read ahead and where the next record starts in them.

        For a caller that walks records in memory itself: it reports where it
        stopped with :meth:`skip_to`, and takes from :meth:`next_record` each
        record it leaves to this reader (a partial one at the end of the
        bytes, anything that is not a whole amd64-v1 record), which reads on.
        """
        return self._buf, self._pos

    def skip_to(self, pos: int) -> None:
        """Go on from ``pos`` in :meth:`buffered`'s bytes, a record's start."""
        self._pos = pos

    def next_record(self) -> Record | None:
        """The next record, read as iterating does; None at the end."""
        return next(self.records(), None)

    def _fail(self, what: str):
        raise TraceFileError(self.offset, what, self._source.compressed)

    def records(self) -> Iterator[Record]:
        if self.detect() is None:
            return
        payloads = _payloads(self.layout)
        amd64 = self.layout.word == 8
        kinds = _HEADER_KINDS[amd64]
        v0_size = kinds[False][0]
        current_v1 = self.layout.version == 1
        hsize, unpack, make, versioned = kinds[current_v1]
        fill, decoders = self._fill, _DECODER_BY_TYPE
        max_payload, max_kept, versioned_bit = self.MAX_PAYLOAD, self.MAX_KEPT, KTR_VERSIONED
        buf, pos, base = self._buf, self._pos, self._base
        buf_len = len(buf)
        while True:
            if buf_len - pos < hsize:
                if not fill(hsize):
                    left = len(self._buf) - self._pos
                    if not left:
                        return
                    if (current_v1 and left >= v0_size
                            and not LEN_TYPE.unpack_from(self._buf, self._pos)[1] & KTR_VERSIONED):
                        current_v1 = False
                        hsize, unpack, make, versioned = kinds[current_v1]
                        buf, pos, base = self._buf, self._pos, self._base
                        buf_len = len(buf)
                        continue        # a short v0 record ends a v1 file
                    self._fail(f"truncated record header ({left} bytes)")
                buf, pos, base = self._buf, self._pos, self._base
                buf_len = len(buf)
            fields = unpack(buf, pos)
            rtype = fields[1]
            if rtype & versioned_bit != versioned:
                # amd64 files may mix v0 and v1 records: switch header layouts
                if not amd64:
                    self._fail("versioned (v1) record in an i386 v0 file")
                current_v1 = not current_v1
                hsize, unpack, make, versioned = kinds[current_v1]
                continue
            length = fields[0]
            if not 0 <= length <= max_payload:
                self._fail(f"bogus length 0x{length & 0xffffffff:x}")
            kept = length if length <= max_kept else max_kept
            start = pos + hsize
            end = start + kept
            if end > buf_len:
                if not fill(hsize + kept):
                    self._truncated(rtype, hsize + length, len(self._buf) - self._pos)
                buf, pos, base = self._buf, self._pos, self._base
                buf_len = len(buf)
                start = pos + hsize
                end = start + kept
            h = make(fields)
            if fields[2] != 1 and current_v1:     # (v0: fields[2] is the pid)
                self._fail(f"unsupported ktrace header version {h.version}")
            try:
                rec = decoders[h[0]](h, buf, start, end, payloads)    # h[0]: h.type
            except _Invalid:
                rec = Unknown(h, buf[start:end])
            self.record_offset = base + pos
            if kept < length:
                rec = _cut(rec, length - kept)
                self._skip(rtype, hsize + length)
                buf, pos, base = self._buf, self._pos, self._base
                buf_len = len(buf)
            else:
                self._pos = pos = end
            yield rec

    def wellformed(self) -> Iterator[Record]:
        """The records, with one whose payload cannot be its type as bad input.

        For views that need a record's fields (--strace, --summary): the
        text and JSON views show such a record as invalid and go on, as
        FreeBSD's kdump does.  Types this reader does not know stay Unknown.
        """
        for rec in self:
            if type(rec) is Unknown and rec.header.type in TYPE_NAMES:
                self._malformed(rec)
            yield rec

    def next_wellformed(self) -> Record | None:
        """The next record as :meth:`wellformed` gives it; None at the end."""
        rec = self.next_record()
        if type(rec) is Unknown and rec.header.type in TYPE_NAMES:
            self._malformed(rec)
        return rec

    def _malformed(self, rec: Unknown):
        raise TraceFileError(self.record_offset, (
            f"malformed {TYPE_NAMES[rec.header.type]} record "
            f"({full_length(rec.payload)}-byte payload)"), self._source.compressed)

    def _truncated(self, rtype: int, need: int, left: int):
        name = TYPE_NAMES.get(rtype & KTR_TYPE_MASK, f"type {rtype & KTR_TYPE_MASK}")
        self._fail(f"truncated record: {name} needs {need} bytes, {left} left")

    def _skip(self, rtype: int, size: int) -> None:
        """Read past the record of ``size`` bytes at _pos, keeping none of it."""
        have = len(self._buf) - self._pos
        if have >= size:
            self._pos += size
            return
        left = size - have
        while left > 0:
            chunk = self._read(min(self.CHUNK, left))
            if not chunk:
                if not self.follow:
                    self._truncated(rtype, size, size - left)
                time.sleep(self.POLL)
            left -= len(chunk)
        self._buf, self._pos, self._base = b"", 0, self.offset + size


# The records whose payload ends with a bytes field (the one a cut shortens).
_TAILED = frozenset({Namei, Genio, User, Struct, Sysctl, CapFail, StructArray, Args, Envs,
                     Unknown})


def _cut(rec: Record, dropped: int) -> Record:
    """``rec`` read from the first part of its payload, ``dropped`` bytes missing."""
    if type(rec) not in _TAILED:
        return rec          # fixed fields only, all read: what follows them is padding
    kept = Cut(rec[-1])
    kept.length = len(kept) + dropped
    return rec._replace(**{rec._fields[-1]: kept})


def read_records(source, layout: Layout | None = None,
                 follow: bool = False) -> Iterator[Record]:
    """Iterate the records of a trace file (a path) or binary stream.

    >>> for rec in read_records("ktrace.out"):
    ...     if type(rec) is Syscall:
    ...         print(rec.header.pid, rec.code, rec.args)
    """
    if hasattr(source, "read"):
        yield from RecordReader(source, layout, follow)
        return
    with open(source, "rb") as stream:
        yield from RecordReader(stream, layout, follow)

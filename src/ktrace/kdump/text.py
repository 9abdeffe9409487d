"""kdump's text output: FreeBSD's layout, byte for byte.

Every printed record is one line (GIO data adds more) made of the header
columns (pid, [tid,] command, [timestamps,] [cpu,] tag, [ABI]) and a body
that depends on the record type.  The loop is :mod:`.lines`' (shared with
--json): this view gives it the head (the columns a thread's records share),
the timestamp and cpu columns when asked for, and a small method per record
class for the body.

FreeBSD's kernel records a signal only when it is acted on; a Linux
process's trace holds the others too (for the strace view): this view leaves
out such a PSIG and the siginfo that came with it (:mod:`.signals`).  It
leaves out STRU iovdata too: data of iovecs that no descriptor moved (a
failed writev's, process_vm_writev's: linux_plan's doc), which strace shows
and FreeBSD's kernel never records (its GIO is data a descriptor moved);
STRU argvfault, what of a failed execve's argv or envp could not be read;
STRU unmoved (a short write's data past what it moved), STRU groupstop (a
thread entering a group-stop), STRU nspid (a task's id in its own pid
namespace) and STRU kvmexit (a kvm vcpu's exit reason after KVM_RUN), which
FreeBSD never records.
"""

from __future__ import annotations

import collections
from typing import Callable

from ktrace import abi as _abi
from ktrace.abi import linux_plan as _plan
from ktrace import decode
from ktrace.decode.kdump.fmt import vis, vis_strings
from ktrace import record as r

from .abis import AbiTracker, ProcessAbi
from .faults import fault_text, faultend_text
from .iodump import PIECE, io_data, io_pieces, screen_width
from .lines import CACHE_LIMIT, LineView
from .options import DumpOptions
from .signals import acted_on

TAGS = {
    r.SYSCALL: "CALL", r.SYSRET: "RET ", r.NAMEI: "NAMI", r.GENIO: "GIO ",
    r.PSIG: "PSIG", r.CSW: "CSW ", r.USER: "USER", r.STRUCT: "STRU",
    r.SYSCTL: "SCTL", r.CAPFAIL: "CAP ", r.FAULT: "PFLT", r.FAULTEND: "PRET",
    r.STRUCT_ARRAY: "STRU", r.ARGS: "ARGS", r.ENVS: "ENVS",
}
MAXCOMLEN = 19
ERESTART = -1
EJUSTRETURN = -2
INVALID = "invalid record"
SIGINFO_NAME = b"siginfo"
# STRUs of ktrace's own, which FreeBSD's kernel never writes: always left out
LINUX_ONLY_STRUCTS = (_plan.IOV_DATA.encode(), _plan.ARGV_FAULTS.encode(), _plan.UNMOVED.encode(),
                      r.GROUPSTOP_NAME, r.NSPID_NAME, r.KVMEXIT_NAME)
# how the payloads of the STRUs this view screens begin
SCREENED_STRUCTS = tuple(name + b"\0" for name in (SIGINFO_NAME, *LINUX_ONLY_STRUCTS))


def brief(rec: tuple) -> str:
    """A record's repr with its long fields cut short (a record can be megabytes)."""
    fields = ", ".join(repr(f[:200] if isinstance(f, (bytes, tuple)) else f) for f in rec[1:])
    return f"{type(rec).__name__}({rec[0]!r}, {fields})"


def c_hex(value: int) -> str:
    """C's ``%#x``: no ``0x`` for zero."""
    return f"{value:#x}" if value else "0"


def c_string(raw: bytes) -> str:
    """A C string field: up to its NUL, bytes kept (surrogateescape)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def c_name(raw: bytes) -> str:
    """A C string field as the text view prints it: up to its NUL, escaped."""
    return vis(raw.split(b"\0", 1)[0])


def ljust_bytes(text: str, width: int) -> str:
    """``%-Ns`` of C: padded to ``width`` bytes (not characters) of output."""
    return text + " " * (width - len(text.encode("utf-8", "surrogateescape")))


class Stamp:
    """The columns between a line's head and its tag: -T, -E and -R, in that
    order, as kdump computes them, then -c's cpu; the tag (and -A's ABI) last,
    so that a record costs one call.

    v1 records carry a timespec (9 digits), v0 records a timeval (6).  The
    differences use timersub's arithmetic, and the reference times start at
    the first record whose seconds are not zero, as in kdump.
    """

    def __init__(self, opts: DumpOptions, tags: Callable[[ProcessAbi], dict[int, str]],
                 same_tags: dict[int, str] | None):
        self.absolute, self.elapsed, self.relative = opts.absolute, opts.elapsed, opts.relative
        self.cpu_column = opts.cpu_column
        self.tags, self.same_tags = tags, same_tags
        self.first = (0, 0)      # (sec, nsec) for -E
        self.previous = (0, 0)   # for -R

    def columns(self, h: r.Header, proc: ProcessAbi) -> str:
        unit, width = (1, 9) if h.version else (1000, 6)
        now = (h.sec, h.nsec)
        out = []
        if self.absolute:
            out.append(f"{h.sec}.{h.nsec // unit:0{width}d} ")
        if self.elapsed:
            if self.first[0] == 0:
                self.first = now
            out.append(_since(now, self.first, unit, width, ""))
        if self.relative:
            if self.previous[0] == 0:
                self.previous = now
            if now < self.previous:
                out.append(_since(self.previous, now, unit, width, "-"))
            else:
                out.append(_since(now, self.previous, unit, width, ""))
            self.previous = now
        if self.cpu_column and h.version:
            out.append(f"{h.cpu:3d} ")
        out.append((self.same_tags or self.tags(proc))[h.type])
        return "".join(out)


def _since(a: tuple[int, int], b: tuple[int, int], unit: int, width: int, sign: str) -> str:
    """a - b as timersub/timespecsub compute it, formatted as kdump does."""
    sec = a[0] - b[0]
    frac = a[1] // unit - b[1] // unit
    if frac < 0:
        sec -= 1
        frac += 10**9 // unit
    return f"{sign}{sec}.{frac:0{width}d} "


class TextFormatter(LineView):
    """Formats records as FreeBSD's kdump(1) does, for one trace file."""

    def __init__(self, opts: DumpOptions, layout: r.Layout):
        super().__init__(opts, AbiTracker(layout))
        self.fancy = opts.fancy
        self.decode_opts = decode.Options(opts.decimal, opts.fancy, opts.symbolic)
        self.word_mask = (1 << 8 * layout.word) - 1
        self.width = screen_width(opts.fancy)
        # decoders that raised, kept for the fuzzer (the output says "invalid record"):
        # the record's repr, cut short (records can be megabytes), and the error
        self.decode_errors: collections.deque = collections.deque(maxlen=100)
        self._tags: dict[str, dict[int, str]] = {}
        self._calls: dict[tuple, str] = {}
        self._unacted: r.Header | None = None    # the last PSIG left out, if the last PSIG was
        if opts.absolute or opts.elapsed or opts.relative or opts.cpu_column:
            same_tags = None if opts.abi_column else self.tags(self.abis.default)
            self.stamp = Stamp(opts, self.tags, same_tags).columns
        self.bodies = {
            r.Syscall: self.call, r.Sysret: self.ret, r.Namei: self.namei,
            r.Genio: self.genio, r.Psig: self.psig, r.Csw: self.csw,
            r.User: self.user, r.Struct: self.struct, r.Sysctl: self.namei,
            r.CapFail: self.capfail, r.Fault: self.fault, r.FaultEnd: self.faultend,
            r.StructArray: self.struct_array, r.Args: self.strings,
            r.Envs: self.strings, r.Unknown: lambda rec, proc: INVALID,
        }

    # -- what the loop asks of the view

    def shown_types(self) -> list[bool]:
        """The types -t selects that have a tag (PROCCTOR/PROCDTOR have none)."""
        shown = [False] * (r.KTR_TYPE_MASK + 1)
        for t in TAGS:
            shown[t] = self.opts.shown(t)
        return shown

    def screened_types(self) -> list[bool]:
        screened = super().screened_types()
        screened[r.PSIG] = screened[r.STRUCT] = True
        return screened

    def screens(self, t: int, payload: bytes) -> bool:
        return t == r.PSIG or payload.startswith(SCREENED_STRUCTS)

    def left_out(self, rec: r.Record) -> bool:
        """A Linux process's PSIG of a signal not acted on, and its STRU
        siginfo: the record after it, of the same event (thread and time);
        every STRU iovdata, argvfault, unmoved, groupstop, nspid and kvmexit."""
        h = rec[0]
        if h.type == r.PSIG:
            unacted = (type(rec) is r.Psig and self.abis.get(h.pid).linux
                       and not acted_on(rec.signo, rec.action))
            self._unacted = h if unacted else None
            return unacted
        if type(rec) is r.Struct and rec.name in LINUX_ONLY_STRUCTS:
            return True
        last = self._unacted
        return (last is not None and type(rec) is r.Struct and rec.name == SIGINFO_NAME
                and (h.pid, h.tid, h.sec, h.nsec) == (last.pid, last.tid, last.sec, last.nsec))

    def make_head(self, h: r.Header, proc: ProcessAbi) -> str:
        """The columns up to the body; up to the timestamps when there are some."""
        if self.stamp is not None:
            return self.start(h)
        return self.start(h) + self.tags(proc)[h.type]

    def cut_note(self, field: r.Cut) -> str:
        """The line after a record the reader kept only the start of."""
        return f"\n       [{field.length - len(field)} more bytes not kept]"

    def dropped(self, h: r.Header) -> str:
        return self.start(h) + "Events dropped."

    # -- the columns before the body

    def start(self, h: r.Header) -> str:
        """``"%6d %-8.*s "`` (pid, command), with -H ``"%6d %6d %-8.*s "``."""
        comm = ljust_bytes(vis(h.comm.split(b"\0", 1)[0][:MAXCOMLEN]), 8)
        if self.opts.threads:
            return f"{h.pid:6d} {h.tid if h.tid > 0 else 0:6d} {comm} "
        return f"{h.pid:6d} {comm} "

    def tags(self, proc: ProcessAbi) -> dict[int, str]:
        """Tag and two spaces per record type, then with -A the ABI column."""
        tags = self._tags.get(proc.label)
        if tags is None:
            after = f"{proc.label}  " if self.opts.abi_column else ""
            tags = self._tags[proc.label] = {t: f"{tag}  {after}" for t, tag in TAGS.items()}
        return tags

    # -- bodies, one per record class: (record, process ABI) -> text

    def syscall_name(self, proc: ProcessAbi, code: int) -> str:
        """``name``, ``[code]`` when unknown, ``name[code]`` with -S (cached)."""
        name = proc.names.get(code)
        if name is None:
            known = proc.abi.syscall_name(code) if proc.abi is not None else None
            if known is None:
                name = f"[{code}]"
            elif self.opts.syscall_numbers:
                name = f"{known}[{code}]"
            else:
                name = known
            proc.names[code] = name
        return name

    def call(self, rec: r.Syscall, proc: ProcessAbi) -> str:
        """``name(arg,...)``; the same call with the same arguments is cached."""
        key = (proc, rec.code, rec.narg, rec.args)
        text = self._calls.get(key)
        if text is None:
            text = self.syscall_name(proc, rec.code)
            if rec.narg:
                text += f"({','.join(self.call_args(rec, proc))})"
            if len(self._calls) >= CACHE_LIMIT:
                self._calls.clear()
            self._calls[key] = text
        return text

    def call_args(self, rec: r.Syscall, proc: ProcessAbi) -> list[str]:
        """The arguments as printed: the first ``narg`` of those recorded."""
        args = rec.args[:rec.narg] if rec.narg > 0 else ()
        try:
            return decode.call_args(proc.abi, rec.code, args, self.decode_opts)
        except Exception as e:     # a decoder bug must not lose the trace
            self.decode_errors.append((brief(rec), e))
            return [self.number(a) for a in args]

    def number(self, value: int) -> str:
        """kdump's print_number: ``%#jx``, or ``%jd`` with -d."""
        if self.opts.decimal:
            if value > self.word_mask >> 1:
                value -= self.word_mask + 1
            return str(value)
        return c_hex(value)

    def ret(self, rec: r.Sysret, proc: ProcessAbi) -> str:
        _, code, _, error, value = rec
        name = proc.names.get(code) or self.syscall_name(proc, code)
        if error == 0:
            if self.fancy:
                if 0 <= value <= 9:
                    return f"{name} {value}"
                return f"{name} {value}/{value & self.word_mask:#x}"
            if self.opts.decimal:
                return f"{name} {value}"
            return f"{name} {c_hex(value & self.word_mask)}"
        if error == ERESTART:
            return f"{name} RESTART"
        if error == EJUSTRETURN:
            return f"{name} JUSTRETURN"
        number, text = self.errno(proc, error, rec.retval)
        if self.opts.fancy:
            return f"{name} -1 errno {number} {text}"
        return f"{name} -1 errno {number}"

    def errno(self, proc: ProcessAbi, error: int, retval: int) -> tuple[int, str]:
        """The errno in the process's numbering and its text.

        SYSRET holds FreeBSD's errno.  A Linux process's exact errno is in
        its return register when that holds -errno; else it is translated.
        """
        if proc.linux:
            number = -retval if -4095 <= retval < 0 else _abi.freebsd_to_linux_errno(error)
            tables = proc.abi or _abi.LINUX_X86_64
        else:
            number = error
            tables = proc.abi or self.abis.default.abi
        return number, tables.errno_text(number)

    def namei(self, rec, proc: ProcessAbi) -> str:
        return f'"{c_name(rec[1])}"'

    def genio(self, rec: r.Genio, proc: ProcessAbi):
        """The head line and the data: a string, or pieces when the data is long."""
        data = rec.data
        n = r.full_length(data)
        head = f"fd {rec.fd} {'read' if rec.rw == 0 else 'wrote'} {n} byte{'' if n == 1 else 's'}"
        if self.opts.suppress_data:
            return head
        maxdata = self.opts.maxdata
        if maxdata and n > maxdata:
            data = data[:max(maxdata, 0)]
        if len(data) <= PIECE:
            return f"{head}\n{io_data(data, self.width)}"
        return _lines_after(head, io_pieces(data, self.width))

    def csw(self, rec: r.Csw, proc: ProcessAbi) -> str:
        text = f"{'stop' if rec.out else 'resume'} {'user' if rec.user else 'kernel'}"
        return text if rec.wmesg is None else f'{text} "{c_name(rec.wmesg)}"'

    def user(self, rec: r.User, proc: ProcessAbi) -> str:
        data = rec.data
        if self.opts.decimal:
            return f"{r.full_length(data)} " + "".join(map(_DECIMAL.__getitem__, data))
        return f"{r.full_length(data)} " + (" " + data.hex(" ") if data else "")

    def strings(self, rec, proc: ProcessAbi) -> str:
        return vis_strings(rec.strings)

    def fault(self, rec: r.Fault, proc: ProcessAbi) -> str:
        return fault_text(rec.vaddr, rec.type)

    def faultend(self, rec: r.FaultEnd, proc: ProcessAbi) -> str:
        return faultend_text(rec.result)

    # bodies that ktrace.decode knows per ABI

    def _decoded(self, rec: tuple, render: Callable[[], str]) -> str:
        try:
            return render()
        except Exception as e:     # a decoder bug must not lose the trace
            self.decode_errors.append((brief(rec), e))
            return INVALID

    def psig(self, rec: r.Psig, proc: ProcessAbi) -> str:
        return self._decoded(rec, lambda: decode.psig_text(proc.abi, rec, self.decode_opts))

    def struct(self, rec: r.Struct, proc: ProcessAbi) -> str:
        return self._decoded(rec, lambda: decode.struct_text(proc.abi, rec.name, rec.data,
                                                        self.decode_opts))

    def struct_array(self, rec: r.StructArray, proc: ProcessAbi) -> str:
        return self._decoded(rec, lambda: decode.struct_array_text(
            proc.abi, rec.name, rec.struct_size, rec.data, self.decode_opts))

    def capfail(self, rec: r.CapFail, proc: ProcessAbi) -> str:
        return self._decoded(rec, lambda: decode.capfail_text(proc.abi, rec, self.decode_opts))


_DECIMAL = [f" {b}" for b in range(256)]     # kdump -d's USER bytes


def _lines_after(head: str, pieces):
    """``head``, then each piece on the lines that follow it."""
    yield head
    for piece in pieces:
        yield "\n" + piece

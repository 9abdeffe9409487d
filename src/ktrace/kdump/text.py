"""kdump's text output: FreeBSD's layout, byte for byte.

Every printed record is one line (GIO data adds more) made of the header
columns (pid, [tid,] command, [timestamps,] [cpu,] tag, [ABI]) and a body
that depends on the record type.  The columns of a thread are computed once
and kept; bodies are small methods chosen by record class; output is
gathered and written in large chunks.
"""

from __future__ import annotations

import collections
from typing import Callable, Iterable

from ktrace import abi as _abi
from ktrace import decode
from ktrace.decode.kdump.fmt import vis, vis_strings
from ktrace import record as r

from .abis import AbiTracker, ProcessAbi
from .faults import fault_text, faultend_text
from .iodump import PIECE, io_data, io_pieces, screen_width
from .options import DumpOptions

TAGS = {
    r.SYSCALL: "CALL", r.SYSRET: "RET ", r.NAMEI: "NAMI", r.GENIO: "GIO ",
    r.PSIG: "PSIG", r.CSW: "CSW ", r.USER: "USER", r.STRUCT: "STRU",
    r.SYSCTL: "SCTL", r.CAPFAIL: "CAP ", r.FAULT: "PFLT", r.FAULTEND: "PRET",
    r.STRUCT_ARRAY: "STRU", r.ARGS: "ARGS", r.ENVS: "ENVS",
}
MAXCOMLEN = 19
CACHE_LIMIT = 16384      # entries per cache: memory stays flat however long the trace
FLUSH_BYTES = 1 << 20    # output held before it is written, however few the lines
ERESTART = -1
EJUSTRETURN = -2
INVALID = "invalid record"


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


class Clock:
    """The -T, -E and -R columns, in that order, as kdump computes them.

    v1 records carry a timespec (9 digits), v0 records a timeval (6).  The
    differences use timersub's arithmetic, and the reference times start at
    the first record whose seconds are not zero, as in kdump.
    """

    def __init__(self, opts: DumpOptions):
        self.absolute, self.elapsed, self.relative = opts.absolute, opts.elapsed, opts.relative
        self.first = (0, 0)      # (sec, nsec) for -E
        self.previous = (0, 0)   # for -R

    def __call__(self, h: r.Header) -> str:
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
        return "".join(out)


def _since(a: tuple[int, int], b: tuple[int, int], unit: int, width: int, sign: str) -> str:
    """a - b as timersub/timespecsub compute it, formatted as kdump does."""
    sec = a[0] - b[0]
    frac = a[1] // unit - b[1] // unit
    if frac < 0:
        sec -= 1
        frac += 10**9 // unit
    return f"{sign}{sec}.{frac:0{width}d} "


class TextFormatter:
    """Formats records as FreeBSD's kdump(1) does, for one trace file."""

    def __init__(self, opts: DumpOptions, layout: r.Layout):
        self.opts = opts
        self.fancy = opts.fancy
        self.abis = AbiTracker(layout)
        self.decode_opts = decode.Options(opts.decimal, opts.fancy, opts.symbolic)
        self.word_mask = (1 << 8 * layout.word) - 1
        self.width = screen_width(opts.fancy)
        self.clock = Clock(opts) if opts.absolute or opts.elapsed or opts.relative else None
        self.drop_logged = False
        # decoders that raised, kept for the fuzzer (the output says "invalid record"):
        # the record's repr, cut short (records can be megabytes), and the error
        self.decode_errors: collections.deque = collections.deque(maxlen=100)
        self._starts: dict[tuple, str] = {}
        self._tags: dict[str, dict[int, str]] = {}
        self._calls: dict[tuple, str] = {}
        self._bodies: dict[type, Callable[[tuple, ProcessAbi], str]] = {
            r.Syscall: self.call, r.Sysret: self.ret, r.Namei: self.namei,
            r.Genio: self.genio, r.Psig: self.psig, r.Csw: self.csw,
            r.User: self.user, r.Struct: self.struct, r.Sysctl: self.namei,
            r.CapFail: self.capfail, r.Fault: self.fault, r.FaultEnd: self.faultend,
            r.StructArray: self.struct_array, r.Args: self.strings,
            r.Envs: self.strings, r.Unknown: lambda rec, proc: INVALID,
        }

    # -- the columns before the body

    def start(self, h: r.Header) -> str:
        """``"%6d %-8.*s "`` (pid, command), with -H ``"%6d %6d %-8.*s "``."""
        key = (h.pid, h.tid, h.comm)
        text = self._starts.get(key)
        if text is None:
            comm = ljust_bytes(vis(h.comm.split(b"\0", 1)[0][:MAXCOMLEN]), 8)
            if self.opts.threads:
                text = f"{h.pid:6d} {h.tid if h.tid > 0 else 0:6d} {comm} "
            else:
                text = f"{h.pid:6d} {comm} "
            if len(self._starts) >= CACHE_LIMIT:
                self._starts.clear()
            self._starts[key] = text
        return text

    def tags(self, proc: ProcessAbi) -> dict[int, str]:
        """Tag and two spaces per record type, then with -A the ABI column."""
        tags = self._tags.get(proc.label)
        if tags is None:
            after = f"{proc.label}  " if self.opts.abi_column else ""
            tags = self._tags[proc.label] = {t: f"{tag}  {after}" for t, tag in TAGS.items()}
        return tags

    def dropped(self, h: r.Header) -> str:
        return self.start(h) + "Events dropped."

    # -- the whole loop

    def dump(self, records: Iterable[r.Record], write: Callable[[bytes], object],
             every: int = 2048) -> None:
        """Format ``records`` and ``write`` the bytes, ``every`` lines at a time."""
        opts = self.opts
        selected = frozenset(t for t in TAGS if opts.shown(t))
        pid_wanted = opts.pid
        abis = self.abis
        proc_of, default_proc = abis.by_pid.get, abis.default
        starts, start, clock = self._starts, self.start, self.clock
        same_tags = None if opts.abi_column else self.tags(default_proc)
        bodies, cpu_column = self._bodies, opts.cpu_column
        drop_logged = self.drop_logged
        lines: list[str] = []
        add = lines.append
        held = 0                 # characters in lines
        cut = r.Cut
        try:
            for rec in records:
                h = rec[0]
                t, dropped, version, pid, tid, comm, _, _, cpu = h
                if dropped and not drop_logged:
                    add(self.dropped(h))
                    drop_logged = True
                if t not in selected:
                    if t == r.PROCCTOR or t == r.PROCDTOR:
                        abis.feed(rec)
                    continue
                if pid_wanted and pid != pid_wanted and tid != pid_wanted:
                    continue
                drop_logged = False
                proc = proc_of(pid, default_proc)
                columns = starts.get((pid, tid, comm)) or start(h)
                if clock is not None:
                    columns += clock(h)
                if cpu_column and version:
                    columns += f"{cpu:3d} "
                tags = same_tags or self.tags(proc)
                body = bodies[type(rec)](rec, proc)
                if type(body) is str and len(body) < FLUSH_BYTES:
                    line = columns + tags[t] + body
                else:                            # long: written as it is made
                    write_long(write, lines, columns + tags[t], body)
                    line, held = "", 0           # the line ends the record's text
                if type(rec[-1]) is cut:
                    line += cut_note(rec[-1])
                add(line)
                held += len(line)
                if len(lines) >= every or held >= FLUSH_BYTES:
                    write(encode_lines(lines))
                    lines.clear()
                    held = 0
        finally:
            self.drop_logged = drop_logged
            if lines:
                write(encode_lines(lines))

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


def write_long(write: Callable[[bytes], object], lines: list[str], start: str,
               pieces) -> None:
    """One record's text (a long string, or pieces of it as they are made)
    written without copies into a line, after the ``lines`` held before it
    (which are emptied)."""
    if type(pieces) is str:
        pieces = (pieces,)
    if lines:
        write(encode_lines(lines))
        lines.clear()
    write(start.encode("utf-8", "surrogateescape"))
    for piece in pieces:
        write(piece.encode("utf-8", "surrogateescape"))


def cut_note(field: r.Cut) -> str:
    """The line after a record the reader kept only the start of."""
    return f"\n       [{field.length - len(field)} more bytes not kept]"


def encode_lines(lines: list[str]) -> bytes:
    """The lines as output bytes, each ended by a newline (bytes kept as read)."""
    lines.append("")
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    lines.pop()
    return data


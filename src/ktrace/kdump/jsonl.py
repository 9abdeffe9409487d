"""kdump --json: one JSON object per record, one per line (JSON Lines).

The schema is documented in docs/json.md.  Every object has the header
fields, the type's raw fields, and the decoded text kdump would print for
it; binary data is base64.  Lines are built from cached pieces rather than
with json.dumps on a dict: the header part of a thread is made once.
"""

from __future__ import annotations

from base64 import b64encode
from itertools import islice
from json.encoder import encode_basestring_ascii as quote
from typing import Callable, Iterable

from ktrace import record as r

from .abis import ProcessAbi
from .faults import fault_text, faultend_text
from .options import DumpOptions
from .iodump import PIECE
from .text import CACHE_LIMIT, FLUSH_BYTES, TextFormatter, c_string, encode_lines, write_long

SCHEMA_VERSION = 1


def b64(data: bytes) -> str:
    return '"' + b64encode(data).decode("ascii") + '"'


def text_field(key: str, raw: bytes) -> str:
    """``"key":"text"``; bytes that are not UTF-8 also as ``"key_b64"``."""
    try:
        return f'"{key}":{quote(raw.decode("utf-8"))}'
    except UnicodeDecodeError:
        return f'"{key}":{quote(raw.decode("utf-8", "replace"))},"{key}_b64":{b64(raw)}'


def opt(value) -> str:
    """A JSON value that may be missing: a string, an int, or null."""
    if value is None:
        return "null"
    return quote(value) if isinstance(value, str) else str(value)


class JsonFormatter:
    """Formats records as JSON Lines, for one trace file."""

    def __init__(self, opts: DumpOptions, layout: r.Layout):
        self.opts = opts
        self.text = TextFormatter(opts, layout)     # the decoded "text" fields
        self.abis = self.text.abis
        self._heads: dict[tuple, str] = {}
        self._names: dict[tuple[ProcessAbi, int], str] = {}
        self._calls: dict[tuple, str] = {}
        self._bodies: dict[type, Callable[[tuple, ProcessAbi], str]] = {
            r.Syscall: self.syscall, r.Sysret: self.sysret, r.Namei: self.namei,
            r.Genio: self.genio, r.Psig: self.psig, r.Csw: self.csw, r.User: self.user,
            r.Struct: self.struct, r.Sysctl: self.sysctl, r.ProcCtor: self.procctor,
            r.ProcDtor: lambda rec, proc: "", r.CapFail: self.capfail,
            r.Fault: self.fault, r.FaultEnd: self.faultend,
            r.StructArray: self.struct_array, r.Args: self.strings, r.Envs: self.strings,
            r.Unknown: self.unknown,
        }

    def head(self, h: r.Header, proc: ProcessAbi) -> str:
        """The fields of the header that a thread's records share."""
        key = (h.type, h.dropped, h.version, h.pid, h.tid, h.comm, proc)
        text = self._heads.get(key)
        if text is None:
            name = r.TYPE_NAMES.get(h.type, "UNKNOWN")
            comm = text_field("comm", h.comm.split(b"\0", 1)[0])
            text = (f'{{"type":"{name}","type_code":{h.type},'
                    f'"dropped":{"true" if h.dropped else "false"},"version":{h.version},'
                    f'"pid":{h.pid},"tid":{h.tid},{comm},"abi":"{proc.label}"')
            if len(self._heads) >= CACHE_LIMIT:
                self._heads.clear()
            self._heads[key] = text
        return text

    def dump(self, records: Iterable[r.Record], write: Callable[[bytes], object],
             every: int = 2048) -> None:
        opts = self.opts
        # -t leaves out known types; PROCCTOR/PROCDTOR and unknown types always go
        left_out = frozenset(t for t in r.TYPE_NAMES if not opts.shown(t)) - {
            r.PROCCTOR, r.PROCDTOR}
        pid_wanted = opts.pid
        abis, heads, head, bodies = self.abis, self._heads, self.head, self._bodies
        proc_of, default_proc = abis.by_pid.get, abis.default
        lines: list[str] = []
        add = lines.append
        held = 0                 # characters in lines
        cut = r.Cut
        try:
            for rec in records:
                h = rec[0]
                t, dropped, version, pid, tid, comm, sec, nsec, cpu = h
                if t in left_out or pid_wanted and pid != pid_wanted and tid != pid_wanted:
                    abis.feed(rec)
                    continue
                if t == r.PROCCTOR:
                    abis.feed(rec)
                proc = proc_of(pid, default_proc)
                columns = heads.get((t, dropped, version, pid, tid, comm, proc)) or head(h, proc)
                columns += f',"sec":{sec},"nsec":{nsec},"cpu":{"null" if cpu is None else cpu}'
                body = bodies[type(rec)](rec, proc)
                if type(body) is not str or len(body) >= FLUSH_BYTES:   # long: written as made
                    write_long(write, lines, columns, body)
                    columns = body = ""          # the line ends the record's object
                    held = 0
                if type(rec[-1]) is cut:         # the reader kept only its start
                    body += f',"cut_from":{rec[-1].length}'
                add(f"{columns}{body}}}")
                held += len(body)
                if t == r.PROCDTOR:
                    abis.feed(rec)
                if len(lines) >= every or held >= FLUSH_BYTES:
                    write(encode_lines(lines))
                    lines.clear()
                    held = 0
        finally:
            if lines:
                write(encode_lines(lines))

    # -- bodies: (record, process ABI) -> ',"field":value...'

    def name(self, proc: ProcessAbi, code: int) -> str:
        key = (proc, code)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = opt(proc.abi.syscall_name(code) if proc.abi else None)
        return name

    def syscall(self, rec: r.Syscall, proc: ProcessAbi) -> str:
        """The fields of a call; the same call with the same arguments is cached."""
        key = (proc, rec.code, rec.narg, rec.args)
        fields = self._calls.get(key)
        if fields is None:
            args = ",".join(map(str, rec.args))
            shown = ",".join(map(quote, self.text.call_args(rec, proc))) if rec.narg else ""
            fields = (f',"code":{rec.code},"name":{self.name(proc, rec.code)},'
                      f'"narg":{rec.narg},"args":[{args}],"args_text":[{shown}]')
            if len(self._calls) >= CACHE_LIMIT:
                self._calls.clear()
            self._calls[key] = fields
        return fields

    def sysret(self, rec: r.Sysret, proc: ProcessAbi) -> str:
        fields = (f',"code":{rec.code},"name":{self.name(proc, rec.code)},"eosys":{rec.eosys},'
                  f'"error":{rec.error},"retval":{rec.retval}')
        if rec.error in (0, -1, -2):     # success, ERESTART, EJUSTRETURN
            return fields + ',"errno":null,"errno_name":null,"errno_text":null'
        number, text = self.text.errno(proc, rec.error, rec.retval)
        tables = proc.abi or self.abis.default.abi
        return (f'{fields},"errno":{number},"errno_name":{opt(tables.errno_name(number))},'
                f'"errno_text":{quote(text)}')

    def namei(self, rec: r.Namei, proc: ProcessAbi) -> str:
        return "," + text_field("path", rec.path)

    def sysctl(self, rec: r.Sysctl, proc: ProcessAbi) -> str:
        return "," + text_field("name", rec.name)

    def genio(self, rec: r.Genio, proc: ProcessAbi) -> str:
        fields = (f',"fd":{rec.fd},"rw":{rec.rw},'
                  f'"direction":"{"read" if rec.rw == 0 else "write"}",'
                  f'"len":{r.full_length(rec.data)}')
        if self.opts.suppress_data:
            return fields
        data, maxdata = rec.data, self.opts.maxdata
        if maxdata and len(data) > maxdata:
            data = data[:max(maxdata, 0)]
        return f'{fields},"data":{b64(data)}'

    def psig(self, rec: r.Psig, proc: ProcessAbi) -> str:
        signal = proc.abi.signal_name(rec.signo) if proc.abi else None
        mask = ",".join(map(str, rec.mask))
        return (f',"signo":{rec.signo},"signal":{opt(signal)},"action":{rec.action},'
                f'"code":{rec.code},"mask":[{mask}],"text":{quote(self.text.psig(rec, proc))}')

    def csw(self, rec: r.Csw, proc: ProcessAbi) -> str:
        wmesg = "null" if rec.wmesg is None else quote(c_string(rec.wmesg))
        return f',"out":{rec.out},"user":{rec.user},"wmesg":{wmesg}'

    def user(self, rec: r.User, proc: ProcessAbi) -> str:
        return f',"len":{r.full_length(rec.data)},"data":{b64(rec.data)}'

    def struct(self, rec: r.Struct, proc: ProcessAbi) -> str:
        return (f',{text_field("name", rec.name)},"data":{b64(rec.data)},'
                f'"text":{quote(self.text.struct(rec, proc))}')

    def struct_array(self, rec: r.StructArray, proc: ProcessAbi) -> str:
        return (f',{text_field("name", rec.name)},"struct_size":{rec.struct_size},'
                f'"data":{b64(rec.data)},"text":{quote(self.text.struct_array(rec, proc))}')

    def procctor(self, rec: r.ProcCtor, proc: ProcessAbi) -> str:
        return f',"sv_flags":{rec.sv_flags}'

    def capfail(self, rec: r.CapFail, proc: ProcessAbi) -> str:
        return (f',"cap_type":{rec.type},"code":{opt(rec.code)},"svflags":{opt(rec.svflags)},'
                f'"data":{b64(rec.data)},"text":{quote(self.text.capfail(rec, proc))}')

    def fault(self, rec: r.Fault, proc: ProcessAbi) -> str:
        return (f',"vaddr":{rec.vaddr},"access":{rec.type},'
                f'"text":{quote(fault_text(rec.vaddr, rec.type))}')

    def faultend(self, rec: r.FaultEnd, proc: ProcessAbi) -> str:
        return f',"result":{rec.result},"text":{quote(faultend_text(rec.result))}'

    def strings(self, rec, proc: ProcessAbi):
        """The strings, and the bytes too when they are not UTF-8; in pieces
        when there are many (one execve may pass a million)."""
        pieces = self._strings(rec.strings)
        return "".join(pieces) if len(rec.strings) <= PIECE else pieces

    @staticmethod
    def _strings(blob: bytes):
        try:
            blob.decode("utf-8")     # a character never spans a NUL: each string is UTF-8
            errors = "strict"
        except UnicodeDecodeError:
            errors = "replace"
        yield ',"strings":['
        items, sep = r.iter_strings(blob), ""
        while batch := list(islice(items, 4096)):
            yield sep + ",".join(quote(s.decode("utf-8", errors)) for s in batch)
            sep = ","
        yield "]"
        if errors == "replace":
            yield f',"strings_b64":{b64(blob)}'

    def unknown(self, rec: r.Unknown, proc: ProcessAbi) -> str:
        return f',"invalid":true,"payload":{b64(rec.payload)}'


"""kdump --json: one JSON object per record, one per line (JSON Lines).

The schema is documented in docs/json.md.  Every object has the header
fields, the type's raw fields, and the decoded text kdump would print for
it; binary data is base64.  Lines are built from cached pieces rather than
with json.dumps on a dict: the loop is :mod:`.lines`' (shared with the text
view), which makes the header part of a thread once.
"""

from __future__ import annotations

from base64 import b64encode
from itertools import islice
from json.encoder import encode_basestring_ascii as quote

from ktrace import record as r

from .abis import ProcessAbi
from .iodump import PIECE
from .lines import CACHE_LIMIT, Body, LineView, TimeLabels
from .options import DumpOptions
from .text import TextFormatter, c_string

SCHEMA_VERSION = 1
# the record classes whose "text" field is what the text view prints as their body
WITH_TEXT = (r.Psig, r.Struct, r.StructArray, r.CapFail, r.Fault, r.FaultEnd)


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


class JsonFormatter(LineView):
    """Formats records as JSON Lines, for one trace file."""

    end = "}"

    def __init__(self, opts: DumpOptions, layout: r.Layout):
        self.text = TextFormatter(opts, layout)     # the decoded "text" fields
        super().__init__(opts, self.text.abis)
        self.stamp = TimeLabels(',"sec":', ',"nsec":', ',"cpu":', "null")
        self._names: dict[tuple[ProcessAbi, int], str] = {}
        self._calls: dict[tuple, str] = {}
        self.bodies = {
            r.Syscall: self.syscall, r.Sysret: self.sysret, r.Namei: self.namei,
            r.Genio: self.genio, r.Psig: self.psig, r.Csw: self.csw, r.User: self.user,
            r.Struct: self.struct, r.Sysctl: self.sysctl, r.ProcCtor: self.procctor,
            r.ProcDtor: lambda rec, proc: "", r.CapFail: self.capfail,
            r.Fault: self.fault, r.FaultEnd: self.faultend,
            r.StructArray: self.struct_array, r.Args: self.strings, r.Envs: self.strings,
            r.Unknown: self.unknown,
        }
        for kind in WITH_TEXT:
            self.bodies[kind] = _and_text(self.bodies[kind], self.text.bodies[kind])

    # -- what the loop asks of the view

    def shown_types(self) -> list[bool]:
        """Every type but the known ones -t leaves out (PROCCTOR/PROCDTOR always go)."""
        shown = [True] * (r.KTR_TYPE_MASK + 1)
        for t in r.TYPE_NAMES.keys() - {r.PROCCTOR, r.PROCDTOR}:
            shown[t] = self.opts.shown(t)
        return shown

    def make_head(self, h: r.Header, proc: ProcessAbi) -> str:
        """The fields of the header that a thread's records share."""
        name = r.TYPE_NAMES.get(h.type, "UNKNOWN")
        comm = text_field("comm", h.comm.split(b"\0", 1)[0])
        return (f'{{"type":"{name}","type_code":{h.type},'
                f'"dropped":{"true" if h.dropped else "false"},"version":{h.version},'
                f'"pid":{h.pid},"tid":{h.tid},{comm},"abi":"{proc.label}"')

    @staticmethod
    def cut_note(field: r.Cut) -> str:
        return f',"cut_from":{field.length}'

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
                f'"code":{rec.code},"mask":[{mask}]')

    def csw(self, rec: r.Csw, proc: ProcessAbi) -> str:
        wmesg = "null" if rec.wmesg is None else quote(c_string(rec.wmesg))
        return f',"out":{rec.out},"user":{rec.user},"wmesg":{wmesg}'

    def user(self, rec: r.User, proc: ProcessAbi) -> str:
        return f',"len":{r.full_length(rec.data)},"data":{b64(rec.data)}'

    def struct(self, rec: r.Struct, proc: ProcessAbi) -> str:
        return f',{text_field("name", rec.name)},"data":{b64(rec.data)}'

    def struct_array(self, rec: r.StructArray, proc: ProcessAbi) -> str:
        name = text_field("name", rec.name)
        return f',{name},"struct_size":{rec.struct_size},"data":{b64(rec.data)}'

    def procctor(self, rec: r.ProcCtor, proc: ProcessAbi) -> str:
        return f',"sv_flags":{rec.sv_flags}'

    def capfail(self, rec: r.CapFail, proc: ProcessAbi) -> str:
        return (f',"cap_type":{rec.type},"code":{opt(rec.code)},"svflags":{opt(rec.svflags)},'
                f'"data":{b64(rec.data)}')

    def fault(self, rec: r.Fault, proc: ProcessAbi) -> str:
        return f',"vaddr":{rec.vaddr},"access":{rec.type}'

    def faultend(self, rec: r.FaultEnd, proc: ProcessAbi) -> str:
        return f',"result":{rec.result}'

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


def _and_text(fields: Body, text: Body) -> Body:
    """A body of ``fields``, then as ``"text"`` what the text view prints for the record."""
    return lambda rec, proc: f'{fields(rec, proc)},"text":{quote(text(rec, proc))}'

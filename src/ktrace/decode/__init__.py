"""Turning trace numbers into text, per ABI (the kdump layout).

The API kdump's text and JSON modules call::

    call_args(abi, code, args, opts)            -> one string per printed argument
    struct_text(abi, name, data, opts)          -> "struct stat {dev=..., ... }"
    struct_array_text(abi, name, size, data, opts)
    psig_text(abi, rec, opts)                   -> "SIGINT caught handler=0x401000 mask=0x0 code=SI_USER"
    capfail_text(abi, rec, opts)

``abi`` is a :class:`ktrace.abi.Abi` (its ``key`` says which system) or None
for a process whose ABI is unknown: then numbers stay raw.  The printers
behind this API live in :mod:`ktrace.decode.kdump`; the strace view's
decoders in :mod:`ktrace.decode.strace`.
"""

from __future__ import annotations

from .. import record as r
from . import freebsd_xlat as F
from .kdump import args as kdump_args, freebsd as kdump_freebsd, linux as kdump_linux
from .kdump.fmt import Options, c_hex, vis
from .kdump.structs import freebsd_struct_text, linux_struct_text, struct_array_text_linux
from .names import sigcode_name, signal_name
from .xlat import LINUX

__all__ = ["Options", "call_args", "struct_text", "struct_array_text", "psig_text",
           "capfail_text", "is_linux"]


def is_linux(abi) -> bool:
    return abi is not None and abi.key.startswith("linux")


def _bits(abi) -> int:
    return 32 if abi is not None and abi.key.endswith("i386") else 64


_FREEBSD_TABLES: dict[str, kdump_args.Table] = {}


def _table(abi) -> kdump_args.Table:
    if is_linux(abi):
        return kdump_linux.TABLE
    table = _FREEBSD_TABLES.get(abi.key)
    if table is None:
        table = _FREEBSD_TABLES[abi.key] = kdump_freebsd.make_table(abi.signal_name)
    return table


def call_args(abi, code: int, args: tuple[int, ...], opts: Options) -> list[str]:
    """The arguments of a CALL line, decoded where kdump would decode them."""
    bits = _bits(abi)
    if abi is None or not opts.fancy:
        return kdump_args.raw(args, opts, bits)
    printers = _table(abi).get(abi.syscall_name(code) or "", ())
    return kdump_args.render(printers, args, opts, bits)


def _name(name: bytes) -> str:
    return vis(name)


def struct_text(abi, name: bytes, data: bytes, opts: Options) -> str:
    """The body of a STRU line for one struct."""
    if is_linux(abi):
        return linux_struct_text(_name(name), data, opts)
    return freebsd_struct_text(_name(name), data, opts, F.SOCKET_FAMILIES)


def struct_array_text(abi, name: bytes, struct_size: int, data: bytes, opts: Options) -> str:
    """The body of a STRU line for a STRUCT_ARRAY record."""
    if is_linux(abi):
        return struct_array_text_linux(_name(name), struct_size, data, opts)
    return f"struct {_name(name)}[] = {{ <unknown structure> }}"


def _signal(abi, signo: int) -> str:
    name = signal_name(signo) if is_linux(abi) or abi is None else abi.signal_name(signo)
    return name or f"SIG {signo}"


def _sigcode(abi, signo: int, code: int) -> str | None:
    if is_linux(abi) or abi is None:
        return sigcode_name(signo, code)
    table = F.SIGCODES.get(signo)
    return F.SI_CODES.name(code) or (table.name(code) if table else None)


def psig_text(abi, rec, opts: Options) -> str:
    """kdump's ktrpsig: ``SIGNAME SIG_DFL|caught handler=.. mask=.. code=..``."""
    text = _signal(abi, rec.signo)
    if rec.action == 0:
        text += " SIG_DFL"
    else:
        text += f" caught handler={rec.action:#x} mask=0x{rec.mask[0]:x}"
    code = _sigcode(abi, rec.signo, rec.code)
    return text + " code=" + (code if code is not None else f"<invalid={c_hex(rec.code & 0xFFFFFFFF)}>")


def _syscall(abi, code: int | None) -> str:
    name = abi.syscall_name(code) if abi is not None and code is not None else None
    return name or f"[{code}]"


def _rights(data: bytes) -> str:
    words = [int.from_bytes(data[i:i + 8], "little") for i in range(0, 16, 8)]
    return ",".join(f"{w:#x}" for w in words)


def _held_rights(data: bytes) -> str:
    return f"operation requires {_rights(data[:16])}, descriptor holds {_rights(data[16:32])}"


def _sockaddr_body(data: bytes, opts: Options) -> str:
    return freebsd_struct_text("sockaddr", data[:data[0]] if data else b"", opts,
                               F.SOCKET_FAMILIES)


# CAPFAIL type -> its text from (data, syscall name, number, abi, opts); the
# number is the int32 the data starts with (a capability, signal or protocol)
_CAPFAIL_TEXTS = {
    r.CAPFAIL_LINUX_CAPABILITY: lambda d, call, n, abi, o:
        f"operation requires {LINUX.CAPABILITIES.name(n) or f'capability {n}'}: {call}",
    r.CAPFAIL_NOTCAPABLE: lambda d, call, n, abi, o: _held_rights(d),
    r.CAPFAIL_INCREASE: lambda d, call, n, abi, o:
        f"attempt to increase capabilities from {_rights(d[16:32])} to {_rights(d[:16])}",
    r.CAPFAIL_SYSCALL: lambda d, call, n, abi, o: f"system call not allowed: {call}",
    r.CAPFAIL_SIGNAL: lambda d, call, n, abi, o:
        f"system call not allowed: {call}, signal {_signal(abi, n)}",
    r.CAPFAIL_PROTO: lambda d, call, n, abi, o:
        f"system call not allowed: {call}, protocol {n}",
    r.CAPFAIL_SOCKADDR: lambda d, call, n, abi, o:
        f"system call not allowed: {call}, sockaddr {_sockaddr_body(d, o)}",
    r.CAPFAIL_NAMEI: lambda d, call, n, abi, o:
        "restricted VFS lookup: " + vis(d.split(b"\0", 1)[0]),
    r.CAPFAIL_CPUSET: lambda d, call, n, abi, o: "restricted cpuset operation",
}


def capfail_text(abi, rec, opts: Options) -> str:
    """kdump's ktrcapfail, plus our Linux capability failures."""
    data = rec.data
    if rec.code is None:            # the old layout: needed and held rights
        if rec.type == r.CAPFAIL_NOTCAPABLE:
            return _held_rights(data)
        return f"unknown capability failure: {_rights(data[:16])} {_rights(data[16:])}"
    text = _CAPFAIL_TEXTS.get(rec.type)
    if text is None:
        return "unknown capability failure"
    number = int.from_bytes(data[:4], "little", signed=True) if len(data) >= 4 else 0
    return text(data, _syscall(abi, rec.code), number, abi, opts)

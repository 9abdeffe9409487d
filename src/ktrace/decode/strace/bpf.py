"""bpf(2) as strace 6.1's bpf.c prints it: BPF_PROG_LOAD's attr and the map
commands' (union bpf_attr, the member of the command, as far as the size the
call gives).  The plan records the attr's ``size`` bytes; what its pointers
point to (instructions, license, log, keys, values) is not recorded and
prints as addresses, as do the other commands' attrs.
"""

from __future__ import annotations

import socket
import struct

from ..xlat import LINUX as L
from .call import Arg, Call
from .fmt import STYLE, c_int, flags, hexval, ptr, quote, xval

PAGE_SIZE = 4096        # strace reads no attr longer than a page


def _cstring(raw: bytes, c: Call) -> str:
    """print_quoted_cstring of a field of len(raw) bytes: up to the NUL, else all
    but the last byte (the NUL's place) and ``...``."""
    nul = raw.find(b"\0")
    if nul >= 0:
        return quote(raw[:nul], c.opts.xflag)
    return quote(raw[:len(raw) - 1], c.opts.xflag) + "..."


# --- BPF_PROG_LOAD ----------------------------------------------------------

BPF_PROG_LOAD = L.BPF_CMDS.value("BPF_PROG_LOAD")
PROG_LOAD = struct.Struct("<IIQQIIQII16sIIIIQIIQIIIIQ")
PROG_LOAD_FIELDS = ("prog_type", "insn_cnt", "insns", "license", "log_level", "log_size",
                    "log_buf", "kern_version", "prog_flags", "prog_name", "prog_ifindex",
                    "expected_attach_type", "prog_btf_fd", "func_info_rec_size", "func_info",
                    "func_info_cnt", "line_info_rec_size", "line_info", "line_info_cnt",
                    "attach_btf_id", "attach_prog_fd", "pad", "fd_array")


def kernel_version(value: int) -> str:
    """print_kernel_version: ``KERNEL_VERSION(4, 19, 0)``."""
    style = STYLE.get()
    if style == "raw":
        return hexval(value)
    text = f"KERNEL_VERSION({value >> 16}, {value >> 8 & 0xFF}, {value & 0xFF})"
    return f"{hexval(value)} /* {text} */" if style == "verbose" else text


def _prog_load(data: bytes, size: int, c: Call) -> str:
    """BPF_PROG_LOAD's attr, field by field as far as ``size`` reaches; what the
    pointers point to (instructions, license, log) is not recorded."""
    f = dict(zip(PROG_LOAD_FIELDS, PROG_LOAD.unpack(
        data[:PROG_LOAD.size] + bytes(max(0, PROG_LOAD.size - len(data))))))
    fd = lambda v: c.fd_text(c_int(v))       # noqa: E731
    steps = (
        (0, lambda: [f"prog_type={xval(L.BPF_PROG_TYPES, f['prog_type'], 'BPF_PROG_TYPE_???')}",
                     f"insn_cnt={f['insn_cnt']}", f"insns={ptr(f['insns'])}",
                     f"license={ptr(f['license'])}"]),
        (24, lambda: [f"log_level={f['log_level']}", f"log_size={f['log_size']}",
                      f"log_buf={ptr(f['log_buf'])}"]),
        (40, lambda: [f"kern_version={kernel_version(f['kern_version'])}"]),
        (44, lambda: ["prog_flags="
                      + flags(L.BPF_PROG_FLAGS, f["prog_flags"], unknown="BPF_F_???")]),
        (48, lambda: [f"prog_name={_cstring(f['prog_name'][:min(16, size - 48)], c)}"]),
        (64, lambda: [f"prog_ifindex={f['prog_ifindex']}"]),
        (68, lambda: ["expected_attach_type="
                      + xval(L.BPF_ATTACH_TYPES, f["expected_attach_type"], "BPF_???")]),
        (72, lambda: [f"prog_btf_fd={fd(f['prog_btf_fd'])}",
                      f"func_info_rec_size={f['func_info_rec_size']}",
                      f"func_info={ptr(f['func_info'])}", f"func_info_cnt={f['func_info_cnt']}",
                      f"line_info_rec_size={f['line_info_rec_size']}",
                      f"line_info={ptr(f['line_info'])}", f"line_info_cnt={f['line_info_cnt']}"]),
        (108, lambda: [f"attach_btf_id={f['attach_btf_id']}"]),
        (112, lambda: [f"attach_prog_fd={fd(f['attach_prog_fd'])}"]),
        (120, lambda: [f"fd_array={ptr(f['fd_array'])}"]),
    )
    parts: list[str] = []
    for offset, fields in steps:
        if offset and size <= offset:
            break
        parts += fields()
    extra = data[PROG_LOAD.size:size]
    if any(extra):
        parts.append("..." if not c.verbose or c.abbrev else
                     f"extra_data={quote(extra, force_hex=True)} /* bytes "
                     f"{PROG_LOAD.size}..{size - 1} */")
    return "{" + ", ".join(parts) + "}"

# --- the map commands -------------------------------------------------------

BPF_CMD = {n: v for v, n in L.BPF_CMDS.entries}
BPF_F_NUMA_NODE = L.BPF_MAP_FLAGS.value("BPF_F_NUMA_NODE")
BPF_MAP_CREATE = struct.Struct("<7I16s5IQ")   # up to map_extra: 72 bytes
BPF_MAP_ELEM = struct.Struct("<I4xQQQ")     # map_fd, key, value (next_key), flags
_U32 = struct.Struct("<I")


def _bpf_attr_extra(data: bytes, known: int, c: Call) -> str:
    """decode_attr_extra_data: nonzero bytes past the member strace knows."""
    tail = data[known:]
    if not any(tail):
        return ""
    if c.abbrev:
        return ", ..."
    return f", extra_data={quote(tail, force_hex=True)} /* bytes {known}..{len(data) - 1} */"


def _bpf_map_create(a: bytes, n: int, c: Call) -> str:
    (kind, key_size, value_size, max_entries, map_flags, inner_fd, numa, name, ifindex,
     btf_fd, btf_key, btf_value, btf_vmlinux, extra) = BPF_MAP_CREATE.unpack(a)
    out = [f"map_type={xval(L.BPF_MAP_TYPES, kind, 'BPF_MAP_TYPE_???')}",
           f"key_size={key_size}", f"value_size={value_size}", f"max_entries={max_entries}"]
    for offset, text in (
            (16, f"map_flags={flags(L.BPF_MAP_FLAGS, map_flags, unknown='BPF_F_???')}"),
            (20, f"inner_map_fd={c.fd_text(c_int(inner_fd))}"),
            (24, (f"numa_node={numa}" + (" /* NUMA_NO_NODE */" if numa == 0xFFFFFFFF else ""))
             if map_flags & BPF_F_NUMA_NODE else None),
            (28, "map_name=" + _cstring(name[:min(16, n - 28)], c)),
            (44, f"map_ifindex={_ifindex(ifindex)}"),
            (48, f"btf_fd={c.fd_text(c_int(btf_fd))}, btf_key_type_id={btf_key}, "
                 f"btf_value_type_id={btf_value}"),
            (60, f"btf_vmlinux_value_type_id={btf_vmlinux}"),
            (64, f"map_extra={extra}")):
        if n <= offset:
            break
        if text is not None:
            out.append(text)
    return ", ".join(out)


def _ifindex(index: int) -> str:
    """PRINT_FIELD_IFINDEX: the interface's name when this machine has one of that index."""
    try:
        return f'if_nametoindex({quote(socket.if_indextoname(index).encode())})' if index else "0"
    except OSError:
        return str(index)


def _bpf_elem(last: str | None, flag_printer=None, always: bool = False):
    """map_fd, key, then value/next_key, then the flags (when the size has them,
    or ``always``: BPF_MAP_UPDATE_ELEM's)."""
    def render(a: bytes, n: int, c: Call) -> str:
        fd, key, value, flag_word = BPF_MAP_ELEM.unpack_from(a)
        out = [f"map_fd={c.fd_text(c_int(fd))}", f"key={ptr(key)}"]
        if last:
            out.append(f"{last}={ptr(value)}")
        if flag_printer is not None and (always or n > 24):
            out.append(f"flags={flag_printer(flag_word)}")
        return ", ".join(out)
    return render


# command -> (bytes of its member strace knows, printer of its fields)
_BPF_DECODERS = {
    BPF_CMD["BPF_MAP_CREATE"]: (BPF_MAP_CREATE.size, _bpf_map_create),
    BPF_CMD["BPF_MAP_LOOKUP_ELEM"]: (32, _bpf_elem("value", flag_printer=lambda v: flags(
        L.BPF_MAP_LOOKUP_ELEM_FLAGS, v, zero="BPF_ANY", unknown="BPF_???"))),
    BPF_CMD["BPF_MAP_LOOKUP_AND_DELETE_ELEM"]: (32, _bpf_elem("value", flag_printer=lambda v:
        flags(L.BPF_MAP_LOOKUP_ELEM_FLAGS, v, zero="BPF_ANY", unknown="BPF_???"))),
    BPF_CMD["BPF_MAP_UPDATE_ELEM"]: (32, _bpf_elem("value", flag_printer=lambda v: xval(
        L.BPF_MAP_UPDATE_ELEM_FLAGS, v, "BPF_???"), always=True)),
    BPF_CMD["BPF_MAP_DELETE_ELEM"]: (16, _bpf_elem(None)),
    BPF_CMD["BPF_MAP_GET_NEXT_KEY"]: (24, _bpf_elem("next_key")),
    BPF_CMD["BPF_MAP_FREEZE"]: (4, lambda a, n, c:
                                f"map_fd={c.fd_text(c_int(_U32.unpack_from(a)[0]))}"),
}


def map_attr(cmd: int, data: bytes | None, size: int, c: Call) -> str | None:
    """The map commands' member of union bpf_attr (``data``: the ``size`` bytes
    recorded); None for the other commands, an unreadable, empty or more than a
    page long attr, which print the address."""
    decoder = _BPF_DECODERS.get(cmd & 0xFFFFFFFF)
    if decoder is None or not 0 < size <= PAGE_SIZE or data is None or len(data) < size \
            or not c.verbose:
        return None
    known, printer = decoder
    data = data[:size]
    member = data[:known] + bytes(max(0, BPF_MAP_CREATE.size - min(size, known)))
    return "{" + printer(member, size, c) + _bpf_attr_extra(data, known, c) + "}"


def _bpf(c: Call, i: int) -> str:
    cmd, size = c.arg(0) & 0xFFFFFFFF, c.arg(2) & 0xFFFFFFFF
    data = c.struct(1, "bytes", exit=False)
    attr = map_attr(cmd, data, size, c)
    if attr is None:
        attr = (_prog_load(data, size, c)
                if cmd == BPF_PROG_LOAD and 0 < size <= PAGE_SIZE and data is not None
                and len(data) >= size else ptr(c.arg(1)))
    return f"{xval(L.BPF_CMDS, cmd, 'BPF_???')}, {attr}, {size}"


SYSCALLS = {
    "bpf": (Arg(_bpf),),
}

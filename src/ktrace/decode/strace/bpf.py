"""bpf(2) as strace 6.1's bpf.c prints it: each command's member of union
bpf_attr, as far as the size the call gives.  The plan records the attr's
``size`` bytes, and by the command (linux_plan.BPF_ATTRS) what its pointers
point to: a program's instructions, license and log, a pinned path, a raw
tracepoint's name, BTF data, link_create's iter_info, kprobe_multi syms
(and their strings), addrs and cookies, an object's info and a
task_fd_query's buf as given; at exit, the attr again for the commands
strace prints then, and the info, prog_ids and buf the kernel wrote, and a
program info's translated and JIT instructions and map ids.  A pointer whose
memory is not recorded prints as its address.
"""

from __future__ import annotations

import socket
import struct
import time
from typing import Callable, NamedTuple

from ... import record as r
from ...abi.linux_plan import PARTIAL_STRING
from ..xlat import LINUX as L
from ..xlat import Xlat
from .call import PT_TGID, Arg, Call, uid_text
from .fmt import STYLE, c_int, flags, hexval, printpath, printstr, ptr, quote, xval
from . import structs as T
from .numa import print_array

PAGE_SIZE = 4096        # strace reads no attr longer than a page

# strace 6.1's tables (xlat/*.in) the generated ones do not hold
ATTACH_FLAGS = Xlat([(1, "BPF_F_ALLOW_OVERRIDE"), (2, "BPF_F_ALLOW_MULTI"), (4, "BPF_F_REPLACE")])
FILE_MODE_FLAGS = Xlat([(1 << 3, "BPF_F_RDONLY"), (1 << 4, "BPF_F_WRONLY")])
QUERY_FLAGS = Xlat([(1, "BPF_F_QUERY_EFFECTIVE")])
TEST_RUN_FLAGS = Xlat([(1, "BPF_F_TEST_RUN_ON_CPU"), (2, "BPF_F_TEST_XDP_LIVE_FRAMES")])
TASK_FD_TYPES = Xlat(enumerate((
    "BPF_FD_TYPE_RAW_TRACEPOINT", "BPF_FD_TYPE_TRACEPOINT", "BPF_FD_TYPE_KPROBE",
    "BPF_FD_TYPE_KRETPROBE", "BPF_FD_TYPE_UPROBE", "BPF_FD_TYPE_URETPROBE")))
KPROBE_MULTI_FLAGS = Xlat([(1, "BPF_F_KPROBE_MULTI_RETURN")])
EBPF_REGS = Xlat((n, f"BPF_REG_{n}") for n in range(11))
EBPF_CLASS = Xlat(enumerate(("BPF_LD", "BPF_LDX", "BPF_ST", "BPF_STX", "BPF_ALU", "BPF_JMP",
                             "BPF_JMP32", "BPF_ALU64")))
EBPF_MODE = Xlat([(0x00, "BPF_IMM"), (0x20, "BPF_ABS"), (0x40, "BPF_IND"), (0x60, "BPF_MEM"),
                  (0xC0, "BPF_XADD")])

BPF_CMD = {n: v for v, n in L.BPF_CMDS.entries}
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _cstring(raw: bytes, c: Call) -> str:
    """print_quoted_cstring of a field of len(raw) bytes: up to the NUL, else all
    but the last byte (the NUL's place) and ``...``."""
    nul = raw.find(b"\0")
    if nul >= 0:
        return quote(raw[:nul], c.opts.xflag)
    return quote(raw[:len(raw) - 1], c.opts.xflag) + "..."


def kernel_version(value: int) -> str:
    """print_kernel_version: ``KERNEL_VERSION(4, 19, 0)``."""
    style = STYLE.get()
    if style == "raw":
        return hexval(value)
    text = f"KERNEL_VERSION({value >> 16}, {value >> 8 & 0xFF}, {value & 0xFF})"
    return f"{hexval(value)} /* {text} */" if style == "verbose" else text


def _ifindex(index: int) -> str:
    """PRINT_FIELD_IFINDEX: the interface's name when this machine has one of that index."""
    try:
        return f'if_nametoindex({quote(socket.if_indextoname(index).encode())})' if index else "0"
    except OSError:
        return str(index)


class Layout(NamedTuple):
    """A member of union bpf_attr: its C layout and field names."""

    struct: struct.Struct
    names: tuple[str, ...]


def layout(fmt: str, names: str) -> Layout:
    return Layout(struct.Struct("<" + fmt), tuple(names.split()))


class Attr:
    """One command's member of union bpf_attr as recorded: its fields by name
    (zero past the ``size`` bytes given, as strace's copy), what its pointers
    point to, and the call."""

    def __init__(self, c: Call, layout: Layout, data: bytes, size: int):
        self.c, self.data, self.size = c, data, size
        self.known = layout.struct.size      # the member's bytes strace knows (extra data after)
        known = data[:min(size, layout.struct.size)]
        self.f = dict(zip(layout.names, layout.struct.unpack(
            known + bytes(layout.struct.size - len(known)))))

    def view(self, layout: Layout) -> "Attr":
        """The same bytes as another member of a union (link_create's)."""
        return Attr(self.c, layout, self.data, self.size)

    def __getitem__(self, name: str) -> int:
        return self.f[name]

    def u(self, *names: str) -> list[str]:
        return [f"{n}={self.f[n]}" for n in names]

    def x(self, *names: str) -> list[str]:
        return [f"{n}={hexval(self.f[n])}" for n in names]

    def addr(self, *names: str) -> list[str]:
        return [f"{n}={ptr(self.f[n])}" for n in names]

    def fd(self, *names: str) -> list[str]:
        return [f"{n}={self.c.fd_text(c_int(self.f[n]))}" for n in names]

    def flags(self, name: str, table: Xlat, unknown: str = "BPF_F_???") -> list[str]:
        return [f"{name}={flags(table, self.f[name], unknown=unknown)}"]

    def xval(self, name: str, table: Xlat, unknown: str = "BPF_???") -> list[str]:
        return [f"{name}={xval(table, self.f[name], unknown)}"]

    def has(self, offset: int) -> bool:
        """Whether the size given reaches past ``offset`` (strace's ``len > offsetof``)."""
        return self.size > offset

    # what the pointers point to (linux_plan.BPF_ATTRS)
    def string(self, name: str) -> str:
        """printstr of a string the plan recorded (license, tracepoint name)."""
        addr = self.f[name]
        data = self.c.struct(1, "string", exit=False) if addr else None
        return ptr(addr) if data is None else printstr(data, self.c.opts)

    def path(self, name: str) -> str:
        addr = self.f[name]
        data = self.c.struct(1, "string", exit=False) if addr else None
        return ptr(addr) if data is None else printpath(data, self.c.opts)

    def bytes_(self, name: str, length: int, terminated: bool, exit: bool = False,
               record: str = "bpf_data", hexed: bool = False) -> str:
        """printstr_ex of ``length`` bytes the plan recorded (STRU ``record``):
        QUOTE_0_TERMINATED's (up to a NUL) or printstrn's (``hexed``:
        QUOTE_FORCE_HEX's)."""
        addr = self.f[name]
        data = self.c.struct(1, record, exit=exit) if addr else None
        if not addr:
            return "NULL"
        strsize = self.c.opts.strsize
        size = min(strsize + 1, length)
        if data is None or len(data) < size:
            return ptr(addr)
        shown = data[:min(size, strsize)]
        if terminated:
            nul = shown.find(b"\0")
            if nul >= 0:
                return quote(shown[:nul], self.c.opts.xflag)
            more = size <= strsize or data[strsize] != 0
        else:
            more = length > strsize
        text = quote(shown, self.c.opts.xflag, force_hex=hexed)
        return text + ("..." if more and length else "")

    def items(self, name: str, record: str, count: int, size: int, item, exit=False,
              array: bool = True) -> str:
        """print_array of the items the plan recorded (STRUCT_ARRAY ``record``,
        or not ``array`` a STRU of their bytes)."""
        addr = self.f[name]
        if not addr:
            data = None
        elif array:
            rec = self.c.array(1, record, exit=exit)
            data = rec.data if rec is not None else None
        else:
            data = self.c.struct(1, record, exit=exit)
        return print_array(self.c, addr, count, size, data, item)


def _u32_item(raw: bytes) -> str:
    return str(_U32.unpack(raw)[0])


def _x64_item(raw: bytes) -> str:
    return hexval(_U64.unpack(raw)[0])


# --- eBPF instructions ------------------------------------------------------

INSN = struct.Struct("<BBhI")          # code, dst_reg:4 src_reg:4, off, imm


def ebpf_code(code: int) -> str:
    """print_bpf_filter_code(code, extended=true)."""
    cls, rest = code & 7, code & ~7
    out = [xval(EBPF_CLASS, cls, "BPF_???")]
    if cls <= 3:                                    # LD, LDX, ST, STX
        out += [xval(L.BPF_SIZE, code & 0x18, "BPF_???"), xval(EBPF_MODE, code & 0xE0, "BPF_???")]
    elif cls in (4, 5, 7):                          # ALU, JMP, ALU64
        ops = L.BPF_OP_JMP if cls == 5 else L.BPF_OP_ALU
        out += [xval(L.BPF_SRC, code & 0x08, "BPF_???"), xval(ops, code & 0xF0, "BPF_???")]
    elif rest:                                      # JMP32: strace's BPF_RET case
        out.append(f"{rest:#x} /* BPF_??? */")
    return "|".join(out)


def _insn(raw: bytes) -> str:
    code, regs, off, imm = INSN.unpack(raw)
    return (f"{{code={ebpf_code(code)}, dst_reg={xval(EBPF_REGS, regs & 0xF, 'BPF_REG_???')}, "
            f"src_reg={xval(EBPF_REGS, regs >> 4, 'BPF_REG_???')}, off={off}, "
            f"imm={hexval(imm)}}}")


def _insns(a: Attr) -> str:
    """print_ebpf_prog: the address unless -v.  (The plan records BPF_MAXINSNS
    instructions at most, all strace prints: a longer program's end prints as
    unreadable where strace prints ``...``.)"""
    if a.c.abbrev:
        return ptr(a["insns"])
    return a.items("insns", "bpf_insn", a["insn_cnt"], INSN.size, _insn)


# --- the commands -----------------------------------------------------------
# A printer gives the fields of its member (in the braces strace opens for the
# attr), from the attr as given; an exit printer, of the commands strace prints
# again at exit, what the exit adds, from the attr then and as given.

def _upto(a: Attr, steps) -> list[str]:
    """The fields of each (offset, fields) step while the size given reaches past it."""
    out: list[str] = []
    for offset, fields in steps:
        if offset and not a.has(offset):
            break
        out += fields()
    return out


def _map_create(a: Attr) -> list[str]:
    numa = a["numa_node"]
    numa_node = L.BPF_MAP_FLAGS.value("BPF_F_NUMA_NODE")
    return _upto(a, (
        (0, lambda: a.xval("map_type", L.BPF_MAP_TYPES, "BPF_MAP_TYPE_???")
         + a.u("key_size", "value_size", "max_entries")),
        (16, lambda: a.flags("map_flags", L.BPF_MAP_FLAGS)),
        (20, lambda: a.fd("inner_map_fd")),
        (24, lambda: [f"numa_node={numa}" + (" /* NUMA_NO_NODE */" if numa == 0xFFFFFFFF else "")]
         if a["map_flags"] & numa_node else []),
        (28, lambda: ["map_name=" + _cstring(a["map_name"][:min(16, a.size - 28)], a.c)]),
        (44, lambda: [f"map_ifindex={_ifindex(a['map_ifindex'])}"]),
        (48, lambda: a.fd("btf_fd") + a.u("btf_key_type_id", "btf_value_type_id")),
        (60, lambda: a.u("btf_vmlinux_value_type_id")),
        (64, lambda: a.u("map_extra"))))


def _elem_flags(table: Xlat, value: int) -> str:
    return flags(table, value, zero="BPF_ANY", unknown="BPF_???")


def _elem(last: str | None, flag_text: Callable[[int], str] | None = None,
          always: bool = False):
    """map_fd, key, then value/next_key, then the flags (when the size has them,
    or ``always``: BPF_MAP_UPDATE_ELEM's)."""
    def render(a: Attr) -> list[str]:
        out = a.fd("map_fd") + a.addr("key") + (a.addr(last) if last else [])
        if flag_text is not None and (always or a.has(24)):
            out.append(f"flags={flag_text(a['flags'])}")
        return out
    return render


def _prog_load(a: Attr) -> list[str]:
    return _upto(a, (
        (0, lambda: a.xval("prog_type", L.BPF_PROG_TYPES, "BPF_PROG_TYPE_???") + a.u("insn_cnt")
         + [f"insns={_insns(a)}", f"license={a.string('license')}"]),
        (24, lambda: a.u("log_level", "log_size")
         + [f"log_buf={a.bytes_('log_buf', a['log_size'], True)}"]),
        (40, lambda: [f"kern_version={kernel_version(a['kern_version'])}"]),
        (44, lambda: a.flags("prog_flags", L.BPF_PROG_FLAGS)),
        (48, lambda: ["prog_name=" + _cstring(a["prog_name"][:min(16, a.size - 48)], a.c)]),
        (64, lambda: [f"prog_ifindex={_ifindex(a['prog_ifindex'])}"]),
        (68, lambda: a.xval("expected_attach_type", L.BPF_ATTACH_TYPES)),
        (72, lambda: a.fd("prog_btf_fd") + a.u("func_info_rec_size") + a.addr("func_info")
         + a.u("func_info_cnt", "line_info_rec_size") + a.addr("line_info")
         + a.u("line_info_cnt")),
        (108, lambda: a.u("attach_btf_id")),
        (112, lambda: a.fd("attach_prog_fd")),
        (120, lambda: a.addr("fd_array"))))


def _obj_pin(a: Attr) -> list[str]:
    return _upto(a, ((0, lambda: [f"pathname={a.path('pathname')}"] + a.fd("bpf_fd")),
                     (12, lambda: a.flags("file_flags", FILE_MODE_FLAGS))))


def _prog_attach(a: Attr) -> list[str]:
    return _upto(a, (
        (0, lambda: a.fd("target_fd", "attach_bpf_fd")
         + a.xval("attach_type", L.BPF_ATTACH_TYPES) + a.flags("attach_flags", ATTACH_FLAGS)),
        (16, lambda: a.fd("replace_bpf_fd"))))


def _prog_detach(a: Attr) -> list[str]:
    return a.fd("target_fd") + a.xval("attach_type", L.BPF_ATTACH_TYPES)


def _test_run(a: Attr) -> list[str]:
    out = a.fd("prog_fd") + a.u("retval", "data_size_in", "data_size_out") \
        + a.addr("data_in", "data_out") + a.u("repeat", "duration")
    if a.has(40):
        out += a.u("ctx_size_in", "ctx_size_out") + a.addr("ctx_in", "ctx_out")
    if a.has(64):
        out += a.flags("flags", TEST_RUN_FLAGS) + a.u("cpu")
    if a.has(72):
        out += a.u("batch_size")
    return [_inner("test", out)]


def _inner(name: str, fields: list[str]) -> str:
    return f"{name}={{" + ", ".join(fields) + "}"


def _changed(a: Attr, given: Attr, name: str) -> str:
    """tprint_value_changed: `` => N`` when the kernel changed the field."""
    return f" => {a[name]}" if a[name] != given[name] else ""


def _get_next_id(a: Attr) -> list[str]:
    return a.u("start_id", "next_id")


def _get_next_id_exit(a: Attr, given: Attr) -> str:
    return _changed(a, given, "next_id") + "".join(
        ", " + field for field in _upto(a, ((8, lambda: a.flags("open_flags",
                                                                   FILE_MODE_FLAGS)),)))


def _get_fd_by_id(id_name: str):
    return lambda a: _upto(a, ((0, lambda: a.u(id_name, "next_id")),
                               (8, lambda: a.flags("open_flags", FILE_MODE_FLAGS))))


def _obj_get_info(a: Attr) -> list[str]:
    return ["info={" + ", ".join(a.fd("bpf_fd") + a.u("info_len"))]


def _obj_get_info_exit(a: Attr, given: Attr) -> str:
    return f"{_changed(a, given, 'info_len')}, info={_obj_info(a)}}}"


MAP_INFO = layout("6I16sIIQQIIIIQ", "type id key_size value_size max_entries map_flags name "
                  "ifindex btf_vmlinux_value_type_id netns_dev netns_ino btf_id "
                  "btf_key_type_id btf_value_type_id pad map_extra")


def _obj_info(a: Attr) -> str:
    """print_bpf_obj_info (-v): the info of a map or a program (by what its
    descriptor is), as the call left it; another object's prints its address."""
    addr, size = a["info"], a["info_len"]
    data = a.c.struct(1, "bpf_info") if addr else None
    files = getattr(a.c, "files", None)
    printer = INFO_PRINTERS.get(files.fds.get(c_int(a["bpf_fd"])) if files is not None else None)
    if a.c.abbrev or printer is None or data is None or not 0 < size <= PAGE_SIZE \
            or len(data) < size:
        return ptr(addr)
    return printer(a, data[:size], size)


def _map_info(a: Attr, data: bytes, size: int) -> str:
    info = Attr(a.c, MAP_INFO, data, size)
    fields = _upto(info, (
        (0, lambda: info.xval("type", L.BPF_MAP_TYPES, "BPF_MAP_TYPE_???")
         + info.u("id", "key_size", "value_size", "max_entries")
         + info.flags("map_flags", L.BPF_MAP_FLAGS)),
        (24, lambda: ["name=" + _cstring(info["name"], a.c)]),
        (40, lambda: [f"ifindex={_ifindex(info['ifindex'])}"]
         + info.u("btf_vmlinux_value_type_id")
         + [f"netns_dev={T.makedev(info['netns_dev'])}"] + info.u("netns_ino")),
        (64, lambda: info.u("btf_id", "btf_key_type_id", "btf_value_type_id"))))
    return "{" + ", ".join(fields) + (_extra(info) if info.has(64) else "") + "}"


PROG_INFO = layout(
    "II8sIIQQQIIQ16sIIQQIIQQIIQIIQQIIIIQQQQI",
    "type id tag jited_prog_len xlated_prog_len jited_prog_insns xlated_prog_insns load_time "
    "created_by_uid nr_map_ids map_ids name ifindex gpl_compatible netns_dev netns_ino "
    "nr_jited_ksyms nr_jited_func_lens jited_ksyms jited_func_lens btf_id func_info_rec_size "
    "func_info nr_func_info nr_line_info line_info jited_line_info nr_jited_line_info "
    "line_info_rec_size jited_line_info_rec_size nr_prog_tags prog_tags run_time_ns run_cnt "
    "recursion_misses verified_insns")


def _boottime(ns: int) -> str:
    """print_boottime: the time of day a boot-time clock's value was, as a comment."""
    if STYLE.get() == "raw":
        return ""
    offset = time.clock_gettime(time.CLOCK_REALTIME) - time.clock_gettime(time.CLOCK_BOOTTIME)
    return T.time_comment(int(ns / 1e9 + offset))


def _info_given(c: Call) -> bytes:
    """The info as the call was given it, what strace reads at entry (zeros
    when it could not: an empty, unreadable or more than a page long one)."""
    size = _given(c)["info_len"]
    data = c.struct(1, "bpf_info", exit=False)
    return data[:size] if data is not None and 0 < size <= PAGE_SIZE \
        and len(data) >= size else b""


def _prog_info(a: Attr, data: bytes, size: int) -> str:
    """print_bpf_prog_info: the info as the call left it, each count (and some
    addresses) the caller gave ``N => `` before it where the kernel changed it;
    the arrays it points to, of the counts both gave."""
    info = Attr(a.c, PROG_INFO, data, size)
    saved = Attr(a.c, PROG_INFO, _info_given(a.c), size)

    def was(*names: str, show=str) -> list[str]:
        return [f"{n}=" + (f"{show(saved[n])} => " if saved[n] != info[n] else "")
                + show(info[n]) for n in names]

    def both(n: str) -> int:
        return min(saved[n], info[n])

    xlated = (ptr(info["xlated_prog_insns"]) if a.c.abbrev else
              info.items("xlated_prog_insns", "bpf_xlated", both("xlated_prog_len") // 8,
                         INSN.size, _insn, exit=True, array=False))
    fields = _upto(info, (
        (0, lambda: info.xval("type", L.BPF_PROG_TYPES, "BPF_PROG_TYPE_???") + info.u("id")
         + [f"tag={quote(info['tag'], force_hex=True)}"] + was("jited_prog_len")
         + [f"jited_prog_insns={info.bytes_('jited_prog_insns', info['jited_prog_len'], False, exit=True, record='bpf_jited', hexed=True)}"]
         + was("xlated_prog_len") + [f"xlated_prog_insns={xlated}"]),
        (40, lambda: [f"load_time={info['load_time']}{_boottime(info['load_time'])}",
                      f"created_by_uid={uid_text(info['created_by_uid'])}"]
         + was("nr_map_ids")
         + [f"map_ids={info.items('map_ids', 'bpf_map_ids', both('nr_map_ids'), 4, _u32_item, exit=True)}",
            "name=" + _cstring(info["name"], a.c)]),
        (80, lambda: [f"ifindex={_ifindex(info['ifindex'])}",
                      f"gpl_compatible={info['gpl_compatible'] & 1}",
                      f"netns_dev={T.makedev(info['netns_dev'])}"] + info.u("netns_ino")),
        (104, lambda: was("nr_jited_ksyms", "nr_jited_func_lens")
         + was("jited_ksyms", "jited_func_lens", show=ptr)),
        (128, lambda: info.u("btf_id") + was("func_info_rec_size") + info.addr("func_info")
         + was("nr_func_info", "nr_line_info") + info.addr("line_info")
         + was("jited_line_info", show=ptr)
         + was("nr_jited_line_info", "line_info_rec_size", "jited_line_info_rec_size",
               "nr_prog_tags") + info.addr("prog_tags")),
        (192, lambda: info.u("run_time_ns", "run_cnt")),
        (208, lambda: info.u("recursion_misses")),
        (216, lambda: info.u("verified_insns"))))
    return "{" + ", ".join(fields) + (_extra(info) if info.has(216) else "") + "}"


INFO_PRINTERS = {"anon_inode:bpf-map": _map_info, "anon_inode:bpf-prog": _prog_info}


def _prog_query(a: Attr) -> list[str]:
    return ["query={" + ", ".join(
        a.fd("target_fd") + a.xval("attach_type", L.BPF_ATTACH_TYPES)
        + a.flags("query_flags", QUERY_FLAGS, "BPF_F_QUERY_???")
        + a.flags("attach_flags", ATTACH_FLAGS) + ["prog_ids="])]


def _prog_query_exit(a: Attr, given: Attr) -> str:
    ids = a.items("prog_ids", "int", a["prog_cnt"], 4, _u32_item, exit=True)
    count = str(a["prog_cnt"])
    if given["prog_cnt"] != a["prog_cnt"]:
        count = f"{given['prog_cnt']} => {count}"
    return f"{ids}, prog_cnt={count}}}"


def _raw_tracepoint(a: Attr) -> list[str]:
    return [_inner("raw_tracepoint", [f"name={a.string('name')}"] + a.fd("prog_fd"))]


def _btf_load(a: Attr) -> list[str]:
    return [f"btf={a.bytes_('btf', a['btf_size'], False)}"] + a.addr("btf_log_buf") \
        + a.u("btf_size", "btf_log_size", "btf_log_level")


def _task_fd_query(a: Attr) -> list[str]:
    pid = c_int(a["pid"])
    return ["task_fd_query={" + ", ".join(
        [f"pid={pid}{a.c.pid_note(pid, PT_TGID)}"] + a.fd("fd") + a.u("flags", "buf_len"))]


def _task_fd_query_exit(a: Attr, given: Attr) -> str:
    buf = a.bytes_("buf", min(a["buf_len"], given["buf_len"]), True, exit=True)
    fields = [f"buf={buf}"] + a.u("prog_id") \
        + a.xval("fd_type", TASK_FD_TYPES, "BPF_FD_TYPE_???") + a.x("probe_offset", "probe_addr")
    return _changed(a, given, "buf_len") + ", " + ", ".join(fields) + "}"


def _batch(*pointers: str):
    return lambda a: [_inner("batch", a.addr(*pointers) + a.u("count") + a.fd("map_fd") + [
        f"elem_flags={_elem_flags(L.BPF_MAP_LOOKUP_ELEM_FLAGS, a['elem_flags'])}"]
        + a.x("flags"))]


def _batch_exit(a: Attr, given: Attr) -> str:
    return f" => {{batch={{count={a['count']}}}}}" if a["count"] != given["count"] else ""


# link_create's union after its flags, by the attach type strace guesses it from
LINK_UNION_AT = 16
LINK_TARGET_BTF = layout("16xI", "target_btf_id")
LINK_ITER = layout("16xQI", "iter_info iter_info_len")
LINK_PERF_EVENT = layout("16xQ", "bpf_cookie")
LINK_KPROBE_MULTI = layout("16xIIQQQ", "flags cnt syms addrs cookies")


def _strings_item(c: Call):
    """print_str_array_member: each pointer's string, in the order the plan
    recorded those of the pointers not NULL (linux_plan's Pointee.strings; the
    address of one not recorded or unreadable)."""
    partial = PARTIAL_STRING.encode()
    strings = iter([rec for rec in c.records.get(1, ()) if rec.header.type == r.STRUCT
                    and rec.name in (b"string", partial)])

    def render(raw: bytes) -> str:
        addr = _U64.unpack(raw)[0]
        if not addr:
            return "NULL"
        rec = next(strings, None)
        if rec is None or rec.name != b"string":
            return ptr(addr)
        return printstr(rec.data, c.opts)
    return render


def _iter_info(c: Call):
    return lambda raw: f"{{map={{map_fd={c.fd_text(c_int(_U32.unpack(raw)[0]))}}}}}"


def _link_union(a: Attr) -> tuple[list[str], int]:
    """The union's fields by the attach type, and where the member strace knows ends."""
    kind = a["attach_type"]
    if kind == 0:               # BPF_CGROUP_INET_INGRESS: a BPF_PROG_TYPE_EXT's target
        u = a.view(LINK_TARGET_BTF)
        return (u.u("target_btf_id") if u["target_btf_id"] else []), 20
    if kind == L.BPF_ATTACH_TYPES.value("BPF_TRACE_ITER"):
        u = a.view(LINK_ITER)
        return [f"iter_info={u.items('iter_info', 'int', u['iter_info_len'], 4, _iter_info(a.c))}",
                *u.u("iter_info_len")], 28
    if kind == L.BPF_ATTACH_TYPES.value("BPF_PERF_EVENT"):
        return [_inner("perf_event", a.view(LINK_PERF_EVENT).x("bpf_cookie"))], 24
    if kind == L.BPF_ATTACH_TYPES.value("BPF_TRACE_KPROBE_MULTI"):
        u = a.view(LINK_KPROBE_MULTI)
        cnt = u["cnt"]
        return [_inner("kprobe_multi", u.flags("flags", KPROBE_MULTI_FLAGS) + u.u("cnt") + [
            f"syms={u.items('syms', 'bpf_syms', cnt, 8, _strings_item(a.c))}",
            f"addrs={u.items('addrs', 'long', cnt, 8, _x64_item)}",
            f"cookies={u.items('cookies', 'bpf_cookie', cnt, 8, _x64_item)}"])], 48
    return [], LINK_UNION_AT


def _link_create(a: Attr) -> list[str]:
    fields = a.fd("prog_fd", "target_fd") + a.xval("attach_type", L.BPF_ATTACH_TYPES) \
        + a.x("flags")
    if a.has(LINK_UNION_AT):
        more, a.known = _link_union(a)
        fields += more
    return [_inner("link_create", fields)]


def _link_update(a: Attr) -> list[str]:
    out = a.fd("link_fd", "new_prog_fd") + a.flags("flags", ATTACH_FLAGS)
    if a["flags"] & ATTACH_FLAGS.value("BPF_F_REPLACE"):
        out += a.fd("old_prog_fd")
    return [_inner("link_update", out)]


class Command(NamedTuple):
    """A command's member of union bpf_attr: its layout, its fields at entry,
    and for the commands strace prints again at exit what the exit adds
    (``closed``: the entry closed the member, the exit adds a line of its own)."""

    layout: Layout
    entry: Callable[[Attr], list[str]]
    exit: Callable[[Attr, Attr], str] | None = None
    closed: bool = False


_ELEM = layout("I4xQQQ", "map_fd key value flags")
_NEXT_ID = layout("III", "start_id next_id open_flags")
_BATCH = layout("QQQQIIQQ", "in_batch out_batch keys values count map_fd elem_flags flags")
_LOOKUP_FLAGS = lambda v: _elem_flags(L.BPF_MAP_LOOKUP_ELEM_FLAGS, v)    # noqa: E731
_UPDATE_FLAGS = lambda v: xval(L.BPF_MAP_UPDATE_ELEM_FLAGS, v, "BPF_???")  # noqa: E731

COMMANDS: dict[str, Command] = {
    "BPF_MAP_CREATE": Command(layout(
        "7I16s5IQ", "map_type key_size value_size max_entries map_flags inner_map_fd "
        "numa_node map_name map_ifindex btf_fd btf_key_type_id btf_value_type_id "
        "btf_vmlinux_value_type_id map_extra"), _map_create),
    "BPF_MAP_LOOKUP_ELEM": Command(_ELEM, _elem("value", _LOOKUP_FLAGS)),
    "BPF_MAP_LOOKUP_AND_DELETE_ELEM": Command(_ELEM, _elem("value", _LOOKUP_FLAGS)),
    "BPF_MAP_UPDATE_ELEM": Command(_ELEM, _elem("value", _UPDATE_FLAGS, always=True)),
    "BPF_MAP_DELETE_ELEM": Command(layout("I4xQ", "map_fd key"), _elem(None)),
    "BPF_MAP_GET_NEXT_KEY": Command(layout("I4xQQ", "map_fd key next_key"), _elem("next_key")),
    "BPF_MAP_FREEZE": Command(layout("I", "map_fd"), lambda a: a.fd("map_fd")),
    "BPF_PROG_LOAD": Command(layout(
        "IIQQIIQII16sIIIIQIIQIIIIQ", "prog_type insn_cnt insns license log_level log_size "
        "log_buf kern_version prog_flags prog_name prog_ifindex expected_attach_type "
        "prog_btf_fd func_info_rec_size func_info func_info_cnt line_info_rec_size line_info "
        "line_info_cnt attach_btf_id attach_prog_fd pad fd_array"), _prog_load),
    **{cmd: Command(layout("QII", "pathname bpf_fd file_flags"), _obj_pin)
       for cmd in ("BPF_OBJ_PIN", "BPF_OBJ_GET")},
    "BPF_PROG_ATTACH": Command(layout(
        "5I", "target_fd attach_bpf_fd attach_type attach_flags replace_bpf_fd"), _prog_attach),
    "BPF_PROG_DETACH": Command(layout("3I", "target_fd dummy attach_type"), _prog_detach),
    "BPF_PROG_TEST_RUN": Command(layout(
        "4IQQ4IQQ3I", "prog_fd retval data_size_in data_size_out data_in data_out repeat "
        "duration ctx_size_in ctx_size_out ctx_in ctx_out flags cpu batch_size"), _test_run),
    **{cmd: Command(_NEXT_ID, _get_next_id, _get_next_id_exit)
       for cmd in ("BPF_PROG_GET_NEXT_ID", "BPF_MAP_GET_NEXT_ID", "BPF_BTF_GET_NEXT_ID",
                   "BPF_LINK_GET_NEXT_ID")},
    **{cmd: Command(layout("III", f"{name} next_id open_flags"), _get_fd_by_id(name))
       for cmd, name in (("BPF_PROG_GET_FD_BY_ID", "prog_id"),
                         ("BPF_MAP_GET_FD_BY_ID", "map_id"))},
    "BPF_OBJ_GET_INFO_BY_FD": Command(layout("IIQ", "bpf_fd info_len info"), _obj_get_info,
                                      _obj_get_info_exit),
    "BPF_PROG_QUERY": Command(layout(
        "4IQI", "target_fd attach_type query_flags attach_flags prog_ids prog_cnt"),
        _prog_query, _prog_query_exit),
    "BPF_RAW_TRACEPOINT_OPEN": Command(layout("QI", "name prog_fd"), _raw_tracepoint),
    "BPF_BTF_LOAD": Command(layout(
        "QQIII", "btf btf_log_buf btf_size btf_log_size btf_log_level"), _btf_load),
    "BPF_BTF_GET_FD_BY_ID": Command(layout("I", "btf_id"), lambda a: a.u("btf_id")),
    "BPF_TASK_FD_QUERY": Command(layout(
        "4IQIIQQ", "pid fd flags buf_len buf prog_id fd_type probe_offset probe_addr"),
        _task_fd_query, _task_fd_query_exit),
    **{cmd: Command(_BATCH, _batch(*pointers), _batch_exit, closed=True)
       for cmd, pointers in (
           ("BPF_MAP_LOOKUP_BATCH", ("in_batch", "out_batch", "keys", "values")),
           ("BPF_MAP_LOOKUP_AND_DELETE_BATCH", ("in_batch", "out_batch", "keys", "values")),
           ("BPF_MAP_UPDATE_BATCH", ("keys", "values")),
           ("BPF_MAP_DELETE_BATCH", ("keys",)))},
    "BPF_LINK_CREATE": Command(layout("4I", "prog_fd target_fd attach_type flags"),
                               _link_create),
    "BPF_LINK_UPDATE": Command(layout("4I", "link_fd new_prog_fd flags old_prog_fd"),
                               _link_update),
    "BPF_LINK_GET_FD_BY_ID": Command(layout("I", "link_id"), lambda a: a.u("link_id")),
}
_BY_NUMBER = {BPF_CMD[name]: command for name, command in COMMANDS.items() if name in BPF_CMD}


# what the descriptor a command makes is (the name of its anon inode, as -y shows it)
MADE = {BPF_CMD[name]: kind for kind, names in (
    ("anon_inode:bpf-map", ("BPF_MAP_CREATE", "BPF_MAP_GET_FD_BY_ID")),
    ("anon_inode:bpf-prog", ("BPF_PROG_LOAD", "BPF_PROG_GET_FD_BY_ID")),
    ("anon_inode:btf", ("BPF_BTF_LOAD", "BPF_BTF_GET_FD_BY_ID")),
    ("anon_inode:bpf_link", ("BPF_LINK_CREATE", "BPF_LINK_GET_FD_BY_ID",
                             "BPF_RAW_TRACEPOINT_OPEN"))) for name in names}


def made_by_bpf(call: Call) -> str | None:
    """-y's name of the descriptor a successful bpf(2) call returned, when its
    command makes one of a kind known by the command alone."""
    return MADE.get(call.arg(0) & 0xFFFFFFFF)


def _extra(a: Attr) -> str:
    """decode_attr_extra_data: nonzero bytes past the member strace knows."""
    tail = a.data[a.known:a.size]
    if not any(tail):
        return ""
    if a.c.abbrev:
        return ", ..."
    return (f", extra_data={quote(tail, force_hex=True)} "
            f"/* bytes {a.known}..{a.size - 1} */")


def _command(c: Call) -> Command | None:
    return _BY_NUMBER.get(c.arg(0) & 0xFFFFFFFF)


def _given(c: Call, exit: bool = False) -> Attr | None:
    """The attr strace decodes (as given, or ``exit`` as the call left it): None
    for a command it does not know, an empty, unreadable or more than a page
    long attr, which print the address."""
    command, size = _command(c), c.arg(2) & 0xFFFFFFFF
    data = c.struct(1, "bytes", exit=exit)
    if command is None or not 0 < size <= PAGE_SIZE or data is None or len(data) < size \
            or not c.verbose:
        return None
    return Attr(c, command.layout, data[:size], size)


def _attr(c: Call, i: int) -> str:
    a = _given(c)
    if a is None:
        return ptr(c.arg(1))
    command = _command(c)
    fields = command.entry(a)
    if command.exit is not None and not command.closed:
        return "{" + ", ".join(fields)
    return "{" + ", ".join(fields) + _extra(a) + "}"


def _pending(c: Call) -> bool:
    """strace's decoder not done at entry: the attr prints more at exit."""
    command = _command(c)
    return command is not None and command.exit is not None and _given(c) is not None


def _attr_exit(c: Call, i: int) -> str | None:
    if not _pending(c):
        return None
    command, given = _command(c), _given(c)
    a = _given(c, exit=True) or given
    text = command.exit(a, given)
    return text if command.closed else text + _extra(a) + "}"


# the commands whose decoders return RVAL_FD: their result prints as a descriptor
FD_COMMANDS = frozenset(BPF_CMD[name] for name in (
    "BPF_MAP_CREATE", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET", "BPF_PROG_GET_FD_BY_ID",
    "BPF_MAP_GET_FD_BY_ID", "BPF_BTF_LOAD", "BPF_BTF_GET_FD_BY_ID", "BPF_LINK_CREATE",
    "BPF_LINK_GET_FD_BY_ID"))


def bpf_result(c: Call, text: str) -> str:
    """A descriptor when the command's decoder ran (strace's RVAL_FD)."""
    if c.arg(0) & 0xFFFFFFFF in FD_COMMANDS and _given(c) is not None:
        return c.fd_text(c.retval)
    return text


RESULTS = {"bpf": bpf_result}
SYSCALLS = {
    "bpf": (Arg(lambda c, i: xval(L.BPF_CMDS, c.arg(0) & 0xFFFFFFFF, "BPF_???")),
            Arg(_attr), Arg(_attr_exit, exit=True, lead=True),
            Arg(lambda c, i: str(c.arg(2) & 0xFFFFFFFF), exit=_pending)),
}

"""Kernel modules and kexec: init_module, finit_module, delete_module,
kexec_load, kexec_file_load (strace's bjm.c, kexec.c); process memory
calls: process_mrelease, process_madvise, mincore (mem.c); perf_event_open
and its struct perf_event_attr (perf.c)."""

from __future__ import annotations

import struct

from .. import structs as S
from ..xlat import LINUX as L
from .call import (FD, INT, PTR, STR_IN, ULONG, Arg, Call, at_exit, p_counted, p_ulong,
                   resized)
from .call import TGID  # printpid: --decode-pids=
from .fdio import undescribed_iovecs
from .fmt import flags, hexval, ptr, xval
from .numa import print_array

KEXEC_ARCH_MASK = L.KEXEC_ARCH_MASK.value("KEXEC_ARCH_MASK")
KEXEC_SEGMENT_MAX = 16
_SEGMENT = struct.Struct("<QQQQ")   # struct kexec_segment: buf, bufsz, mem, memsz


def _kexec_flags(c: Call, i: int) -> str:
    """The architecture (the high half), then the flags."""
    value = c.arg(i)
    text = xval(L.KEXEC_ARCHS, value & KEXEC_ARCH_MASK, "KEXEC_ARCH_???")
    rest = value & ~KEXEC_ARCH_MASK & (1 << 64) - 1
    if rest:
        text += "|" + flags(L.KEXEC_LOAD_FLAGS, rest, unknown="KEXEC_???")
    return text


def _segment(raw: bytes) -> str:
    buf, bufsz, mem, memsz = _SEGMENT.unpack(raw)
    return f"{{buf={ptr(buf)}, bufsz={bufsz}, mem={ptr(mem)}, memsz={memsz}}}"


def _segments(c: Call, i: int) -> str:
    count = c.arg(1)
    if count > KEXEC_SEGMENT_MAX:
        return ptr(c.arg(i))
    rec = c.array(i, "kexec_segment", exit=False)
    return print_array(c, c.arg(i), count, _SEGMENT.size, rec.data if rec else None, _segment)


def _iovec(raw: bytes) -> str:
    f = S.fixed("iovec", raw)
    return f"{{iov_base={ptr(f['iov_base'])}, iov_len={f['iov_len']}}}"


def _madvise_iovecs(c: Call, i: int) -> str:
    """process_madvise's ranges: iovecs whose bases are addresses."""
    rec = c.array(i, "iovec", exit=False)
    return print_array(c, c.arg(i), c.arg(i + 1), 16, rec.data if rec else None, _iovec)


def _vm_iovecs(c: Call, i: int) -> str:
    """process_vm_readv/writev's iovec arrays: the local one's with the data
    read (up to the result) or written, the remote one's addresses."""
    return undescribed_iovecs(c, i, given=c.name == "process_vm_writev")


def _mincore_vec(c: Call, i: int) -> str:
    """One byte per page of the range: its lowest bit."""
    pages = (c.arg(1) + 4095) // 4096
    data = c.struct(i, "bytes") if c.ok else None
    return print_array(c, c.arg(i), pages, 1, data, lambda b: str(b[0] & 1))


# struct perf_event_attr (x86-64, PERF_ATTR_SIZE_VER7: 128 bytes): type, size,
# config, sample_period, sample_type, read_format, the flag bits, then the
# fields printed with -v (wakeup, bp_type, config1, config2, branch_sample_type,
# sample_regs_user, sample_stack_user, clockid, sample_regs_intr,
# aux_watermark, sample_max_stack, __reserved_2, aux_sample_size,
# __reserved_3, sig_data)
PERF_ATTR = struct.Struct("<IIQQQQQIIQQQQIiQIHHIIQ")
PERF_ATTR_SIZE_VER0 = 64
PERF_ATTR_ABBREV = 48          # offsetof(wakeup_events): what strace reads without -v
_PERF_FLAGS = ("disabled inherit pinned exclusive exclude_user exclude_kernel exclude_hv "
               "exclude_idle mmap comm freq inherit_stat enable_on_exec task watermark").split()
_PERF_FLAGS2 = ("mmap_data sample_id_all exclude_host exclude_guest exclude_callchain_kernel "
                "exclude_callchain_user mmap2 comm_exec use_clockid context_switch "
                "write_backward namespaces ksymbol bpf_event aux_output cgroup text_poke "
                "build_id inherit_thread remove_on_exec sigtrap").split()
_PRECISE_IP = ("arbitrary skid", "constant skid", "requested to have 0 skid",
               "must have 0 skid")
_PERF_TYPE = {n: v for v, n in L.PERF_TYPES.entries}
_HW_BREAKPOINT_X_RW = 4 | 3
_SAMPLE = {n: v for v, n in L.PERF_SAMPLE_FORMAT.entries}


def _perf_config(kind: int, config: int) -> str:
    high = f"{hexval(config >> 32)}<<32|" if config >> 32 else ""
    if kind == _PERF_TYPE["PERF_TYPE_HARDWARE"]:
        return high + xval(L.PERF_HW_IDS, config & 0xFFFFFFFF, "PERF_COUNT_HW_???")
    if kind == _PERF_TYPE["PERF_TYPE_SOFTWARE"]:
        return xval(L.PERF_SW_IDS, config, "PERF_COUNT_SW_???")
    if kind == _PERF_TYPE["PERF_TYPE_TRACEPOINT"]:
        return str(config)
    if kind == _PERF_TYPE["PERF_TYPE_HW_CACHE"]:
        event = (config & 0xFFFFFFFF) >> 24
        return (high + (f"{hexval(event)}<<24|" if event else "")
                + xval(L.PERF_HW_CACHE_RESULT_IDS, config >> 16 & 0xFF,
                       "PERF_COUNT_HW_CACHE_RESULT_???") + "<<16|"
                + xval(L.PERF_HW_CACHE_OP_IDS, config >> 8 & 0xFF,
                       "PERF_COUNT_HW_CACHE_OP_???") + "<<8|"
                + xval(L.PERF_HW_CACHE_IDS, config & 0xFF, "PERF_COUNT_HW_CACHE_???"))
    return hexval(config)


def perf_attr_text(data: bytes, c: Call, size_change: str = "") -> str | None:
    """print_perf_event_attr: None when strace prints the address (a size
    below PERF_ATTR_SIZE_VER0, or fewer bytes recorded than it reads);
    ``size_change`` follows the size (`` => 0x88 /* ... */``)."""
    if len(data) < 8:
        return None
    field_size = struct.unpack_from("<I", data, 4)[0]
    size = min(field_size, PERF_ATTR.size) or PERF_ATTR_SIZE_VER0
    if size < PERF_ATTR_SIZE_VER0:
        return None
    if c.abbrev:
        size = PERF_ATTR_ABBREV
    if len(data) < size:
        return None
    f = PERF_ATTR.unpack((data[:size] + bytes(PERF_ATTR.size))[:PERF_ATTR.size])
    (kind, _, config, period, sample_type, read_format, bits, wakeup, bp_type, config1,
     config2, branch_type, regs_user, stack_user, clockid, regs_intr, aux_watermark,
     max_stack, reserved2, aux_sample_size, reserved3, sig_data) = f
    out = [f"type={xval(L.PERF_TYPES, kind, 'PERF_TYPE_???')}",
           f"size={xval(L.PERF_ATTR_SIZES, field_size, 'PERF_ATTR_SIZE_???')}{size_change}",
           f"config={_perf_config(kind, config)}",
           f"{'sample_freq' if bits >> 10 & 1 else 'sample_period'}={period}",
           f"sample_type={flags(L.PERF_SAMPLE_FORMAT, sample_type, unknown='PERF_SAMPLE_???')}",
           f"read_format={flags(L.PERF_READ_FORMAT, read_format, unknown='PERF_FORMAT_???')}"]

    def bit_fields(names, first):
        for k, name in enumerate(names):
            value = bits >> (first + k) & 1
            if value or not c.abbrev:
                out.append(f"{name}={value}")
    bit_fields(_PERF_FLAGS, 0)
    precise = bits >> 15 & 3
    out.append(f"precise_ip={precise} /* {_PRECISE_IP[precise]} */")
    bit_fields(_PERF_FLAGS2, 17)
    if bits >> 38:
        out.append(f"__reserved_1={hexval(bits >> 38)} /* Bits 63..38 */")
    if not c.abbrev:
        breakpoint = kind == _PERF_TYPE["PERF_TYPE_BREAKPOINT"]
        out.append(f"{'wakeup_watermark' if bits >> 14 & 1 else 'wakeup_events'}={wakeup}")
        if breakpoint:
            unknown = ("HW_BREAKPOINT_INVALID" if bp_type <= _HW_BREAKPOINT_X_RW
                       else "HW_BREAKPOINT_???")
            out.append(f"bp_type={xval(L.HW_BREAKPOINT_TYPES, bp_type, unknown)}")
            out.append(f"bp_addr={hexval(config1)}")
        else:
            out.append(f"config1={hexval(config1)}")
        for offset, text in (
                (64, f"bp_len={config2}" if breakpoint else f"config2={hexval(config2)}"),
                (72, "branch_sample_type=" + flags(L.PERF_BRANCH_SAMPLE_TYPES, branch_type,
                                                   unknown="PERF_SAMPLE_BRANCH_???")
                 if sample_type & _SAMPLE["PERF_SAMPLE_BRANCH_STACK"] else None),
                (80, f"sample_regs_user={hexval(regs_user)}"),
                (88, f"sample_stack_user={hexval(stack_user)}"
                 if sample_type & _SAMPLE["PERF_SAMPLE_STACK_USER"] else None),
                (92, f"clockid={xval(L.CLOCK_IDS, clockid & 0xFFFFFFFF, 'CLOCK_???')}"
                 if bits >> 25 & 1 else None),
                (96, f"sample_regs_intr={hexval(regs_intr)}"),
                (104, f"aux_watermark={aux_watermark}"),
                (108, f"sample_max_stack={max_stack}"),
                (110, f" /* bytes 110..111: {hexval(reserved2)} */" if reserved2 else ""),
                (112, f"aux_sample_size={aux_sample_size}"),
                (116, f" /* bytes 116..119: {hexval(reserved3)} */" if reserved3 else ""),
                (120, f"sig_data={hexval(sig_data)}")):
            if offset >= size:
                break
            if text is None:
                continue
            if text.startswith(" /*") or not text:
                out[-1] += text
            else:
                out.append(text)
    if (field_size and field_size > size) or (not field_size and size < PERF_ATTR_SIZE_VER0):
        out.append("...")
    return "{" + ", ".join(out) + "}"


def _perf_attr(c: Call, i: int) -> str:
    data = c.struct(i, "perf_event_attr", exit=False)
    text = None
    if data is not None and c.verbose:
        size = resized(c, i, "perf_event_attr", 4)
        change = "" if size is False else \
            f" => {xval(L.PERF_ATTR_SIZES, size, 'PERF_ATTR_SIZE_???') if size is not None else '???'}"
        text = perf_attr_text(data, c, change)
    return text if text is not None else ptr(c.arg(i))


SYSCALLS = {
    "init_module": (PTR, ULONG, STR_IN),
    "finit_module": (FD, STR_IN,
                     Arg(lambda c, i: flags(L.MODULE_INIT_FLAGS, c.arg(i) & 0xFFFFFFFF,
                                            unknown="MODULE_INIT_???"))),
    "delete_module": (STR_IN, Arg(lambda c, i: flags(L.DELETE_MODULE_FLAGS,
                                                           c.arg(i) & 0xFFFFFFFF,
                                                           unknown="O_???"))),
    "kexec_load": (PTR, ULONG, Arg(_segments), Arg(_kexec_flags)),
    "kexec_file_load": (FD, FD, ULONG, Arg(p_counted(2)),
                        Arg(lambda c, i: flags(L.KEXEC_FILE_LOAD_FLAGS, c.arg(i),
                                               unknown="KEXEC_FILE_???"))),
    "process_mrelease": (FD, Arg(lambda c, i: hexval(c.arg(i) & 0xFFFFFFFF))),
    "process_madvise": (FD, Arg(_madvise_iovecs), ULONG,
                        Arg(lambda c, i: xval(L.MADVISE, c.arg(i) & 0xFFFFFFFF, "MADV_???")),
                        Arg(lambda c, i: hexval(c.arg(i) & 0xFFFFFFFF))),
    "mincore": (PTR, ULONG, at_exit(_mincore_vec)),
    "process_vm_readv": (TGID, at_exit(_vm_iovecs), at_exit(p_ulong), at_exit(_vm_iovecs),
                         at_exit(p_ulong), at_exit(p_ulong)),
    "process_vm_writev": (TGID, Arg(_vm_iovecs), ULONG, Arg(_vm_iovecs), ULONG, ULONG),
    "perf_event_open": (at_exit(_perf_attr), INT, INT, FD,
                        Arg(lambda c, i: flags(L.PERF_EVENT_OPEN_FLAGS, c.arg(i),
                                               unknown="PERF_FLAG_???"))),
}

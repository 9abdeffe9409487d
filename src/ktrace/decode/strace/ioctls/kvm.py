"""ioctl requests of strace's kvm.c (linux/kvm.h, x86-64's arch_kvm.c).

A kvm_cpuid2's entries follow its head, past the request's _IOC size: the
engines record them with it (linux_plan.IOCTL_KVM).  A KVM_RUN's exit reason
(-e kvm=vcpu) is the call's STRU kvmexit (linux_plan.VCPU_EXITS).
"""

from __future__ import annotations

import struct

from .... import record as r
from ...xlat import LINUX as L
from ..call import Call
from ..fmt import flags, hexval, ptr, xval
from ..pairing import VCPU_EXIT
from . import Request, fields, flag_bits, io, ior, iow, iowr, memory

KVMIO = "\xae"
KVM_MEM_FLAGS = flag_bits("KVM_MEM_", ("LOG_DIRTY_PAGES", "READONLY"))
# kvm_userspace_memory_region: slot, flags, guest_phys_addr, memory_size, userspace_addr
_MEMORY_REGION = struct.Struct("<IIQQQ")
_REGS_NAMES = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10",
               "r11", "r12", "r13", "r14", "r15", "rip", "rflags")
_REGS = struct.Struct(f"<{len(_REGS_NAMES)}Q")
_REGS_ABBREV = (("rax",), ("rsp", "rbp"), ("rip", "rflags"))  # -v off: "..." between
_SEGMENT = struct.Struct("<QIH8B2x")    # base, limit, selector, type .. avl, unusable
_SEGMENT_FIELDS = ("limit", "selector", "type", "present", "dpl", "db", "s", "l", "g", "avl")
_DTABLE = struct.Struct("<QH6x")        # base, limit
_SEGMENTS = ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt")
_DTABLES = ("gdt", "idt")
_SREGS_TAIL = struct.Struct("<6Q Q 4Q")  # cr0 cr2 cr3 cr4 cr8 efer, apic_base, bitmap
_SREGS_SIZE = len(_SEGMENTS) * _SEGMENT.size + len(_DTABLES) * _DTABLE.size \
    + _SREGS_TAIL.size
_CPUID2 = struct.Struct("<I4x")         # nent (the entries follow)
# kvm_cpuid_entry2: function, index, flags, eax, ebx, ecx, edx, padding
_CPUID_ENTRY = struct.Struct("<7I12x")
KVM_CPUID_FLAGS = flag_bits("KVM_CPUID_FLAG_", ("SIGNIFCANT_INDEX", "STATEFUL_FUNC",
                                                 "STATE_READ_NEXT"))


def _memory_region_text(data: bytes, c: Call) -> str:
    slot, mem_flags, guest_phys_addr, memory_size, userspace_addr = \
        _MEMORY_REGION.unpack_from(data)
    return (f"{{slot={slot}, flags={flags(KVM_MEM_FLAGS, mem_flags, unknown='KVM_MEM_???')}, "
            f"guest_phys_addr={hexval(guest_phys_addr)}, memory_size={memory_size}, "
            f"userspace_addr={hexval(userspace_addr)}}}")


def _regs_text(data: bytes, c: Call) -> str:
    regs = dict(zip(_REGS_NAMES, _REGS.unpack_from(data)))
    if c.abbrev:
        shown = [", ".join(f"{n}={hexval(regs[n])}" for n in group) for group in _REGS_ABBREV]
        return "{" + ", ..., ".join(shown) + "}"
    return "{" + ", ".join(f"{n}={hexval(v)}" for n, v in regs.items()) + "}"


def _segment(data: bytes, offset: int) -> str:
    base, *rest = _SEGMENT.unpack_from(data, offset)
    return f"{{base={hexval(base)}, {fields(_SEGMENT_FIELDS, rest)}}}"


def _sregs_text(data: bytes, c: Call) -> str:
    if c.abbrev:
        return f"{{cs={_segment(data, 0)}, ...}}"
    parts = [f"{name}={_segment(data, i * _SEGMENT.size)}" for i, name in enumerate(_SEGMENTS)]
    offset = len(_SEGMENTS) * _SEGMENT.size
    for i, name in enumerate(_DTABLES):
        base, limit = _DTABLE.unpack_from(data, offset + i * _DTABLE.size)
        parts.append(f"{name}={{base={hexval(base)}, limit={limit}}}")
    offset += len(_DTABLES) * _DTABLE.size
    cr0, cr2, cr3, cr4, cr8, efer, apic_base, *bitmap = _SREGS_TAIL.unpack_from(data, offset)
    parts.append(fields(("cr0", "cr2", "cr3", "cr4", "cr8", "efer"),
                        (cr0, cr2, cr3, cr4, cr8, efer)))
    parts.append(f"apic_base={hexval(apic_base)}, "
                 f"interrupt_bitmap=[{', '.join(hexval(word) for word in bitmap)}]")
    return "{" + ", ".join(parts) + "}"


def _cpuid_entry(data: bytes, offset: int) -> str:
    function, index, entry_flags, eax, ebx, ecx, edx = _CPUID_ENTRY.unpack_from(data, offset)
    return (f"{{function={hexval(function)}, index={hexval(index)}, "
            f"flags={flags(KVM_CPUID_FLAGS, entry_flags, unknown='KVM_CPUID_FLAG_???')}, "
            f"eax={hexval(eax)}, ebx={hexval(ebx)}, ecx={hexval(ecx)}, edx={hexval(edx)}}}")


def _cpuid2_text(data: bytes, c: Call) -> str:
    """A kvm_cpuid2 and (-v) its entries, recorded after its head
    (linux_plan.IOCTL_KVM): their address when they were not."""
    nent = _CPUID2.unpack_from(data)[0]
    end = _CPUID2.size + nent * _CPUID_ENTRY.size
    if not nent:
        entries = "[]"
    elif c.abbrev:
        entries = "[...]"
    elif len(data) < end:
        entries = ptr(c.arg(2) + _CPUID2.size)
    else:
        entries = "[" + ", ".join(_cpuid_entry(data, at)
                                  for at in range(_CPUID2.size, end, _CPUID_ENTRY.size)) + "]"
    return f"{{nent={nent}, entries={entries}}}"


NAMES = {
    "KVM_GET_API_VERSION": io(KVMIO, 0), "KVM_CREATE_VM": io(KVMIO, 1),
    "KVM_CHECK_EXTENSION": io(KVMIO, 3), "KVM_GET_VCPU_MMAP_SIZE": io(KVMIO, 4),
    "KVM_GET_SUPPORTED_CPUID": iowr(KVMIO, 5, _CPUID2.size),
    "KVM_GET_EMULATED_CPUID": iowr(KVMIO, 9, _CPUID2.size),
    "KVM_CREATE_VCPU": io(KVMIO, 0x41),
    "KVM_SET_USER_MEMORY_REGION": iow(KVMIO, 0x46, _MEMORY_REGION.size),
    "KVM_RUN": io(KVMIO, 0x80),
    "KVM_GET_REGS": ior(KVMIO, 0x81, _REGS.size), "KVM_SET_REGS": iow(KVMIO, 0x82, _REGS.size),
    "KVM_GET_SREGS": ior(KVMIO, 0x83, _SREGS_SIZE),
    "KVM_SET_SREGS": iow(KVMIO, 0x84, _SREGS_SIZE),
    "KVM_SET_CPUID2": iow(KVMIO, 0x90, _CPUID2.size),
}


def made_descriptor(c: Call) -> str | None:
    """-y's name of the descriptor a successful ioctl ``c`` made, when it is
    kvm's: what the kernel's anon_inode_getfd names it (kvm_dev_ioctl_create_vm's
    ``kvm-vm``, create_vcpu_fd's ``kvm-vcpu:ID``)."""
    request = c.arg(1) & 0xFFFFFFFF
    if request == NAMES["KVM_CREATE_VM"]:
        return "anon_inode:kvm-vm"
    if request == NAMES["KVM_CREATE_VCPU"]:
        return f"anon_inode:kvm-vcpu:{c.arg(2) & 0xFFFFFFFF}"
    return None


def exit_reason(c: Call) -> str | None:
    """-e kvm=vcpu's text after a successful KVM_RUN's result (strace's
    RVAL_STR: ``0 (KVM_EXIT_HLT)``): its vcpu's exit reason, when recorded."""
    if not c.opts.vcpu_exits or c.arg(1) & 0xFFFFFFFF != NAMES["KVM_RUN"]:
        return None
    for rec in c.records.get(VCPU_EXIT, ()):
        reason = r.parse_int32(rec.data)
        if reason is not None:
            return L.KVM_EXIT_REASONS.name(reason & 0xFFFFFFFF) or "KVM_EXIT_???"
    return None


REQUESTS: dict[str, Request] = {
    "KVM_CREATE_VCPU": Request(lambda c: str(c.arg(2) & 0xFFFFFFFF)),
    "KVM_CHECK_EXTENSION": Request(lambda c: xval(L.KVM_CAPS, c.arg(2), "KVM_CAP_???")),
    "KVM_SET_USER_MEMORY_REGION": memory("ioc", False, _memory_region_text,
                                         _MEMORY_REGION.size),
    "KVM_GET_REGS": memory("ioc", True, _regs_text, _REGS.size),
    "KVM_SET_REGS": memory("ioc", False, _regs_text, _REGS.size),
    "KVM_GET_SREGS": memory("ioc", True, _sregs_text, _SREGS_SIZE),
    "KVM_SET_SREGS": memory("ioc", False, _sregs_text, _SREGS_SIZE),
    "KVM_GET_SUPPORTED_CPUID": memory("ioc", True, _cpuid2_text, _CPUID2.size),
    "KVM_GET_EMULATED_CPUID": memory("ioc", True, _cpuid2_text, _CPUID2.size),
    "KVM_SET_CPUID2": memory("ioc", False, _cpuid2_text, _CPUID2.size),
}

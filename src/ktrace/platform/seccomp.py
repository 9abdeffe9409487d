"""seccomp-bpf filters that hand chosen syscalls to a ptrace tracer.

A filter built here returns ``SECCOMP_RET_TRACE`` for the wanted syscall
numbers and ``SECCOMP_RET_ALLOW`` for every other: with
``PTRACE_O_TRACESECCOMP`` the tracer then stops only at the wanted ones.

The cost, which is why it is never a default: a filter can never be
removed, and a ``SECCOMP_RET_TRACE`` with no tracer attached makes the call
fail with ENOSYS.  A program that loses its tracer keeps failing those
syscalls for the rest of its life.  And installing a filter without
CAP_SYS_ADMIN requires ``no_new_privs``, after which exec never grants
privilege (set-uid programs run without it).
"""

from __future__ import annotations

import struct

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_TRACE = 0x7FF00000
AUDIT_ARCH_X86_64 = 0xC000003E
PR_SET_NO_NEW_PRIVS = 38

# classic BPF opcodes
BPF_LD_W_ABS = 0x20      # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15         # BPF_JMP | BPF_JEQ | BPF_K
BPF_RET_K = 0x06         # BPF_RET | BPF_K

SECCOMP_DATA_NR = 0      # struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }
SECCOMP_DATA_ARCH = 4
MAX_INSNS = 4096

_INSN = struct.Struct("<HBBI")           # struct sock_filter { u16 code; u8 jt, jf; u32 k; }
_FPROG = struct.Struct("<H6xQ")          # struct sock_fprog { u16 len; ptr filter; }


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return _INSN.pack(code, jt, jf, k)


def trace_filter(numbers) -> bytes:
    """The sock_filter array: trace ``numbers`` (x86-64 ABI), allow the rest."""
    nrs = sorted(set(numbers))
    if 2 * len(nrs) + 4 > MAX_INSNS:
        raise ValueError(f"too many syscalls for one filter: {len(nrs)}")
    prog = [
        _insn(BPF_LD_W_ABS, SECCOMP_DATA_ARCH),
        _insn(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),    # another ABI: let it through
        _insn(BPF_RET_K, SECCOMP_RET_ALLOW),
        _insn(BPF_LD_W_ABS, SECCOMP_DATA_NR),
    ]
    for nr in nrs:
        prog.append(_insn(BPF_JEQ_K, nr, 0, 1))         # equal: the next insn traces it
        prog.append(_insn(BPF_RET_K, SECCOMP_RET_TRACE))
    prog.append(_insn(BPF_RET_K, SECCOMP_RET_ALLOW))
    return b"".join(prog)


def fprog(filter_addr: int, filter_bytes: bytes) -> bytes:
    """struct sock_fprog pointing at a filter placed at ``filter_addr``."""
    return _FPROG.pack(len(filter_bytes) // _INSN.size, filter_addr)

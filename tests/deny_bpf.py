"""Run a command where bpf(2) fails with EPERM, as on a kernel or in a
container that forbids it: a seccomp filter, inherited by the command and
everything it starts (ktrace's services included).

    python deny_bpf.py COMMAND [ARG ...]
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys

NR_BPF = 321
AUDIT_ARCH_X86_64 = 0xC000003E
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06


def insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def deny_bpf() -> None:
    prog = b"".join([
        insn(LD_W_ABS, 4),                          # seccomp_data.arch
        insn(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        insn(RET_K, SECCOMP_RET_ALLOW),
        insn(LD_W_ABS, 0),                          # seccomp_data.nr
        insn(JEQ_K, NR_BPF, 0, 1),
        insn(RET_K, SECCOMP_RET_ERRNO | errno.EPERM),
        insn(RET_K, SECCOMP_RET_ALLOW),
    ])
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("<H6xQ", len(prog) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    # without CAP_SYS_ADMIN a filter needs no_new_privs; root keeps set-id execs working
    if os.geteuid() != 0 and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_char_p(fprog), 0, 0):
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


if __name__ == "__main__":
    deny_bpf()
    os.execvp(sys.argv[1], sys.argv[1:])

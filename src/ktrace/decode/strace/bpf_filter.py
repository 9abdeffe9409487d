"""Classic BPF programs, a sock_fprog's instructions, as strace 6.1's
bpf_filter.c, bpf_seccomp_filter.c and bpf_sock_filter.c print them.

The recording plan records a sock_fprog's instructions after it
(linux_plan.SOCK_FILTER: STRUCT_ARRAY sock_filter), and getsockopt's
SO_GET_FILTER its optval, the instructions themselves; a filter not recorded
(unreadable) or abbreviated (no -v) prints its address.
"""

from __future__ import annotations

import errno
import struct as _struct

from .. import structs as S
from ..xlat import LINUX as L
from .call import Call
from .fmt import hexval, named, ptr, xval

FPROG_SIZE = 16                         # struct sock_fprog: len, filter
INSN = _struct.Struct("<HBBI")          # struct sock_filter: code, jt, jf, k
BPF_MAXINSNS = 4096
BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC = range(8)
BPF_ABS = 0x20
SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SKF = {name: value for value, name in L.SKF_OFF.entries}


def _stray(bits: int) -> str:
    """PRINT_VAL_X with the comment strace gives bits no name has."""
    return f"{bits:#x} /* BPF_??? */"


def code_text(code: int) -> str:
    """print_bpf_filter_code of a classic instruction: BPF_LD|BPF_W|BPF_ABS."""
    cls = code & 7
    rest = code & ~cls
    out = [xval(L.BPF_CLASS, cls, "BPF_???")]
    if cls in (BPF_ST, BPF_STX):
        if rest:
            out.append(_stray(rest))
    elif cls in (BPF_LD, BPF_LDX):
        out += [xval(L.BPF_SIZE, code & 0x18, "BPF_???"), xval(L.BPF_MODE, code & 0xE0, "BPF_???")]
    elif cls == BPF_MISC:
        out.append(xval(L.BPF_MISCOP, code & 0xF8, "BPF_???"))
        if rest & ~0xF8:
            out.append(_stray(rest & ~0xF8))
    elif cls in (BPF_ALU, BPF_JMP):
        ops = L.BPF_OP_ALU if cls == BPF_ALU else L.BPF_OP_JMP
        out += [xval(L.BPF_SRC, code & 0x08, "BPF_???"), xval(ops, code & 0xF0, "BPF_???")]
    else:                                           # BPF_RET
        out.append(xval(L.BPF_RVAL, code & 0x18, "BPF_???"))
        if rest & ~0x18:
            out.append(_stray(rest & ~0x18))
    return "|".join(out)


def seccomp_k(code: int, k: int) -> str | None:
    """print_seccomp_filter_k: a BPF_RET's action (and its data)."""
    if code & 7 != BPF_RET:
        return None
    action = k & SECCOMP_RET_ACTION_FULL
    text = xval(L.SECCOMP_RET_ACTIONS, action, "SECCOMP_RET_???")
    return text + f"|{hexval(k & ~action)}" if k & ~action else text


def sock_k(code: int, k: int) -> str | None:
    """print_sock_filter_k: an absolute load's offset past SKF_AD_OFF, _NET_OFF, _LL_OFF."""
    if code & 7 != BPF_LD or code & 0xE0 != BPF_ABS:
        return None
    if k >= SKF["SKF_AD_OFF"]:
        off = k - SKF["SKF_AD_OFF"]
        return f"{named('SKF_AD_OFF', SKF['SKF_AD_OFF'])}+{xval(L.SKF_AD, off, 'SKF_AD_???')}"
    for base in ("SKF_NET_OFF", "SKF_LL_OFF"):
        if k >= SKF[base]:
            return f"{named(base, SKF[base])}+{k - SKF[base]}"
    return None


def insn_text(insn: bytes, print_k) -> str:
    code, jt, jf, k = INSN.unpack(insn)
    if jt or jf:
        return f"BPF_JUMP({code_text(code)}, {hexval(k)}, {hexval(jt)}, {hexval(jf)})"
    return f"BPF_STMT({code_text(code)}, {print_k(code, k) or hexval(k)})"


def filter_text(c: Call, data: bytes | None, addr: int, count: int, print_k) -> str:
    """print_bpf_fprog: the ``count`` instructions at ``addr`` as recorded
    (``data``).  Fewer recorded than ``count`` of a call that failed with
    EFAULT: the readable ones, then ``... /* ADDR */`` where reading stopped
    (print_array); of another call: cut at BPF_MAXINSNS or the genio size, ``...``."""
    if c.abbrev or not addr:
        return ptr(addr)
    if not count:
        return "[]"
    have = min(len(data) // INSN.size, BPF_MAXINSNS) if data is not None else 0
    if not have:
        return ptr(addr)
    items = [insn_text(data[n * INSN.size:(n + 1) * INSN.size], print_k)
             for n in range(min(have, count))]
    if have < count:
        unread = have < BPF_MAXINSNS and c.linux_errno() == errno.EFAULT
        items.append(f"... /* {ptr(addr + have * INSN.size)} */" if unread else "...")
    return "[" + ", ".join(items) + "]"


def fprog_text(c: Call, i: int, name: str, print_k) -> str:
    """decode_bpf_fprog: ``{len=N, filter=[...]}`` of the sock_fprog recorded
    as STRU ``name`` for argument ``i``."""
    data = c.struct(i, name, exit=False)
    f = S.fixed("sock_fprog", data) if data is not None and c.verbose else None
    if f is None:
        return ptr(c.arg(i))
    insns = c.array(i, "sock_filter", exit=False)
    filter_ = filter_text(c, insns.data if insns is not None else None, f["filter"], f["len"],
                          print_k)
    return f"{{len={f['len']}, filter={filter_}}}"

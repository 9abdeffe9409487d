"""ptrace and seccomp, as strace 6.1's ptrace.c, ptrace_syscall_info.c and
seccomp.c print them.

ptrace's request says what its addr and data are; the recording plan's
selector on the request records what the kernel reads or writes through them
(a siginfo, a word, a sigset, PTRACE_GET_SYSCALL_INFO's struct, the registers),
and what GETREGSET's and SETREGSET's iovec points to (STRU regset:
linux_plan.REGSET) and a seccomp filter's sock_fprog (its instructions).
"""

from __future__ import annotations

import struct as _struct

from ... import abi as _abi
from ...abi import linux_structs as LS
from .. import structs as S
from ..xlat import LINUX as L, Xlat
from . import bpf_filter, structs as T
from .call import Arg, Call, pid_text
from .fmt import array, c_int, c_long, flags, hexval, named, printsignal, ptr, sigset, xval

# strace spells PTRACE_PEEKUSR and PTRACE_POKEUSR with an E
PTRACE_CMDS = Xlat([(v, {"PTRACE_PEEKUSR": "PTRACE_PEEKUSER",
                         "PTRACE_POKEUSR": "PTRACE_POKEUSER"}.get(n, n))
                    for v, n in L.PTRACE_CMDS.entries])
PT = {name: value for value, name in PTRACE_CMDS.entries}

NO_ADDR = {PT[n] for n in ("PTRACE_ATTACH", "PTRACE_INTERRUPT", "PTRACE_KILL",
                           "PTRACE_LISTEN")}
ADDR_DECIMAL = {PT[n] for n in ("PTRACE_GETSIGMASK", "PTRACE_SETSIGMASK",
                                "PTRACE_SECCOMP_GET_FILTER", "PTRACE_SECCOMP_GET_METADATA",
                                "PTRACE_GET_SYSCALL_INFO")}
REGSETS = {PT["PTRACE_GETREGSET"], PT["PTRACE_SETREGSET"]}
RESUMES = {PT[n] for n in ("PTRACE_CONT", "PTRACE_DETACH", "PTRACE_SYSCALL",
                           "PTRACE_SINGLESTEP", "PTRACE_SINGLEBLOCK", "PTRACE_SYSEMU",
                           "PTRACE_SYSEMU_SINGLESTEP")}
SETS_OPTIONS = {PT[n] for n in ("PTRACE_SEIZE", "PTRACE_SETOPTIONS", "PTRACE_OLDSETOPTIONS")}
# requests whose data is written by the kernel: printed at exit (unless -e verbose= leaves
# the call out)
DATA_AT_EXIT = {PT[n] for n in (
    "PTRACE_PEEKDATA", "PTRACE_PEEKTEXT", "PTRACE_PEEKUSER", "PTRACE_GETEVENTMSG",
    "PTRACE_GETSIGINFO", "PTRACE_GETSIGMASK", "PTRACE_PEEKSIGINFO",
    "PTRACE_SECCOMP_GET_FILTER", "PTRACE_GET_SYSCALL_INFO")}
# PTRACE_GETREGS and PTRACE_GETFPREGS: the registers' address, at exit
REGS_AT_EXIT = {PT["PTRACE_GETREGS"], PT["PTRACE_GETFPREGS"]}
REGS_AT_ENTRY = {PT["PTRACE_SETREGS"], PT["PTRACE_SETFPREGS"]}
PEEKS = {PT[n] for n in ("PTRACE_PEEKDATA", "PTRACE_PEEKTEXT", "PTRACE_PEEKUSER")}
NSIG_BYTES = 8
SIGINFO_BYTES = 128     # sizeof(siginfo_t): an element of PTRACE_PEEKSIGINFO's array
USER_REGS, USER_REGS_FIELDS = LS.FIXED["user_regs"]
# struct user_fpregs_struct (sys/user.h): its head's fields (name, offset), then
# its arrays of u32s (name, offset, count)
FPREGS_SIZE = 512
FPREGS_HEAD = _struct.Struct("<HHHHQQII")
FPREGS_HEAD_FIELDS = (("cwd", 0), ("swd", 2), ("ftw", 4), ("fop", 6), ("rip", 8), ("rdp", 16),
                      ("mxcsr", 24), ("mxcr_mask", 28))
FPREGS_ARRAYS = (("st_space", 32, 32), ("xmm_space", 160, 64), ("padding", 416, 24))


def _stored(c: Call, i: int, name: str, render) -> str:
    """umove_or_printaddr at exit: ``render`` of the recorded struct, else the address."""
    data = c.struct(i, name)
    if data is None or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return render(data)


def _word(data: bytes, fmt: str) -> int | None:
    return _struct.unpack_from(fmt, data)[0] if len(data) >= _struct.calcsize(fmt) else None


def _bracketed(c: Call, i: int, name: str, fmt: str, spell) -> str:
    """printnum_*: ``[value]``."""
    def render(data: bytes) -> str:
        value = _word(data, fmt)
        return ptr(c.arg(i)) if value is None else f"[{spell(value)}]"
    return _stored(c, i, name, render)


def _siginfo_at(c: Call, i: int, exit: bool) -> str:
    """printsiginfo_at: the siginfo read in (entry) or written out (exit)."""
    data = c.struct(i, "siginfo", exit=exit)
    if data is None or (exit and not c.ok) or not c.verbose:
        return ptr(c.arg(i))
    return T.siginfo_text(data, c.fd_text)


def _sigset_addr_len(c: Call, i: int, length: int, exit: bool) -> str:
    """print_sigset_addr_len: a sigset of ``length`` bytes (a word multiple, at most NSIG/8)."""
    if not length or length > NSIG_BYTES or length % 8:
        return ptr(c.arg(i))
    data = c.struct(i, "sigset", exit=exit)
    if data is None or (exit and not c.ok) or len(data) < length:
        return ptr(c.arg(i))
    return sigset(int.from_bytes(data[:length], "little"))


def _peeksiginfo_args(c: Call) -> str:
    data = c.struct(2, "peeksiginfo_args", exit=False)
    f = S.fixed("peeksiginfo_args", data) if data is not None and c.verbose else None
    if f is None:
        return ptr(c.arg(2))
    return (f"{{off={f['off']}, flags="
            f"{flags(L.PTRACE_PEEKSIGINFO_FLAGS, f['flags'], unknown='PTRACE_PEEKSIGINFO_???')}"
            f", nr={f['nr']}}}")


def _siginfo_array(c: Call) -> str:
    """print_siginfo_array: the ``retval`` siginfos the kernel copied out."""
    rec = c.array(3, "siginfo")
    if rec is None or not c.ok or not c.verbose:
        return ptr(c.arg(3))
    size = SIGINFO_BYTES
    items = [T.siginfo_text(rec.data[at:at + size], c.fd_text)
             for at in range(0, len(rec.data) - size + 1, size)][:c.retval]
    shown = items[:c.opts.strsize]
    more = ["..."] if len(items) > len(shown) or c.retval > len(items) else []
    return "[" + ", ".join(shown + more) + "]"


def _user_regs_upto(data: bytes, size: int) -> str:
    """arch_decode_prstatus_regset: the user_regs_struct fields ``size`` bytes cover."""
    fetch = min(size, USER_REGS.size)
    words = _struct.unpack_from(f"<{fetch // 8}Q", data)
    parts = [f"{name}={hexval(v)}" for name, v in zip(USER_REGS_FIELDS, words)]
    return ", ".join(parts + ["..."] * (size > USER_REGS.size)).join("{}")


def _u32_array(data: bytes, at: int, count: int, c: Call) -> str:
    """print_local_array_upto of u32s: cut after -s of them unless -v."""
    items = (hexval(v) for v in _struct.unpack_from(f"<{count}I", data, at))
    return array(items, c.opts) if c.abbrev else ", ".join(items).join("[]")


def _fpregs_upto(data: bytes, size: int, c: Call) -> str:
    """arch_decode_fpregset: the user_fpregs_struct fields ``size`` bytes cover."""
    fetch = min(size, FPREGS_SIZE)
    head = FPREGS_HEAD.unpack_from(data)
    parts = [f"{name}={hexval(v)}" for (name, at), v in zip(FPREGS_HEAD_FIELDS, head)
             if at == 0 or fetch > at]
    for name, at, most in FPREGS_ARRAYS:
        if fetch > at:
            parts.append(f"{name}={_u32_array(data, at, min((fetch - at) // 4, most), c)}")
    return ", ".join(parts + ["..."] * (size > FPREGS_SIZE)).join("{}")


NT = {name: value for value, name in L.NT_TYPES.entries}
# decode_regset's register sets: NT type -> (the most bytes shown, their printer)
REGSET_PRINTERS = {NT["NT_PRSTATUS"]: (USER_REGS.size, lambda data, size, c:
                                       _user_regs_upto(data, size)),
                   NT["NT_FPREGSET"]: (FPREGS_SIZE, _fpregs_upto)}


def _regset_text(c: Call, base: int, size: int, exit: bool) -> str:
    """decode_regset: as much of the register set as iov_len covers (a word
    multiple), read at exit (GETREGSET) or entry (SETREGSET); else its address."""
    known = REGSET_PRINTERS.get(c.arg(2))
    if known is None or not size or size % 8 or not c.verbose or (exit and not c.ok):
        return ptr(base)
    most, render = known
    data = c.struct(3, "regset", exit=exit)
    if not base or data is None or len(data) < min(size, most):
        return ptr(base)
    return render(data.ljust(most, b"\0"), size, c)


def _iovec_text(c: Call, exit: bool) -> str:
    """GETREGSET's (``exit``) or SETREGSET's iovec, the register set it points
    to as read then, and the iov_len the kernel set: ``iov_len=520 => 512``."""
    given = S.fixed("iovec", c.struct(3, "iovec", exit=False) or b"")
    last = S.fixed("iovec", c.struct(3, "iovec") or b"")
    f = last if exit else given
    if f is None:
        return ptr(c.arg(3))
    text = f"{{iov_base={_regset_text(c, f['iov_base'], f['iov_len'], exit)}, iov_len="
    if given is not None and last is not None and given["iov_len"] != last["iov_len"]:
        return text + f"{given['iov_len']} => {last['iov_len']}}}"
    return text + f"{f['iov_len']}}}"


def _seccomp_metadata(c: Call) -> str:
    """decode_seccomp_metadata: filter_off given, flags returned."""
    size = c.arg(2)
    data = c.struct(3, "long", exit=False)
    if size < 8 or data is None or not c.verbose:
        return ptr(c.arg(3))
    text = f"{{filter_off={_word(data, '<Q')}"
    if c.ok and c.retval > 8:
        text += ", flags=???"         # the kernel's answer is not recorded
    return text + "}"


def _user_regs(data: bytes, c: Call) -> str | None:
    return _user_regs_upto(data, USER_REGS.size) if len(data) >= USER_REGS.size else None


def _user_fpregs(data: bytes, c: Call) -> str | None:
    return _fpregs_upto(data, FPREGS_SIZE, c) if len(data) >= FPREGS_SIZE else None


REGS = {PT["PTRACE_GETREGS"]: ("user_regs", _user_regs),
        PT["PTRACE_SETREGS"]: ("user_regs", _user_regs),
        PT["PTRACE_GETFPREGS"]: ("user_fpregs", _user_fpregs),
        PT["PTRACE_SETFPREGS"]: ("user_fpregs", _user_fpregs)}


def _regs(c: Call, exit: bool) -> str:
    """decode_pt_regs / decode_pt_fpregs: the registers read in or written out."""
    if c.arg(0) not in REGS:
        return ptr(c.arg(3))
    name, render = REGS[c.arg(0)]
    data = c.struct(3, name, exit=exit)
    text = render(data, c) if data is not None and c.verbose and (c.ok or not exit) else None
    return ptr(c.arg(3)) if text is None else text


# --- PTRACE_GET_SYSCALL_INFO ------------------------------------------------

OP = {name: value for value, name in L.PTRACE_SYSCALL_INFO_OPS.entries}
INFO_HEAD = _struct.Struct("<B3xIQQ")          # op, arch, instruction_pointer, stack_pointer
NR_END = 32                                    # offsetofend(entry.nr)
EXIT_SIZE = 33                                 # offsetofend(exit.is_error)
SECCOMP_SIZE = 84                              # offsetofend(seccomp.ret_data)


def _err_d(value: int) -> str:
    """print_err of a negated errno: ``-ENOENT``."""
    name = _abi.LINUX_X86_64.errno_name(-value) if -4096 < value < 0 else None
    return named(f"-{name}", value, str(value)) if name else str(value)


def _syscall_info(c: Call) -> str:
    """print_ptrace_syscall_info: as much of the struct as both sizes allow."""
    data = c.struct(3, "bytes")
    fetch = min(c.arg(2), c.retval if c.ok else 0, SECCOMP_SIZE)
    if not c.ok or not c.verbose or not fetch or data is None or len(data) < fetch:
        return ptr(c.arg(3))
    data = data[:fetch] + bytes(SECCOMP_SIZE + 4 - fetch)
    op, arch, ip, sp = INFO_HEAD.unpack_from(data)
    parts = [f"op={xval(L.PTRACE_SYSCALL_INFO_OPS, op, 'PTRACE_SYSCALL_INFO_???')}"]
    for end, text in ((8, lambda: f"arch={xval(L.AUDIT_ARCHES, arch, 'AUDIT_ARCH_???')}"),
                      (16, lambda: f"instruction_pointer={ptr(ip)}"),
                      (24, lambda: f"stack_pointer={ptr(sp)}")):
        if fetch < end:
            return "{" + ", ".join(parts) + "}"
        parts.append(text())
    if fetch >= NR_END:
        union = _struct.unpack_from("<7Q", data, 24)
        if op in (OP["PTRACE_SYSCALL_INFO_ENTRY"], OP["PTRACE_SYSCALL_INFO_SECCOMP"]):
            fields = [f"nr={T.syscall_nr_text(union[0], arch)}"]
            nargs = min((fetch - NR_END) // 8, 6)
            if nargs:
                fields.append("args=[" + ", ".join(hexval(a) for a in union[1:1 + nargs]) + "]")
            if op == OP["PTRACE_SYSCALL_INFO_SECCOMP"]:
                if fetch >= SECCOMP_SIZE:
                    fields.append(f"ret_data={_struct.unpack_from('<I', data, 80)[0]}")
                parts.append("seccomp={" + ", ".join(fields) + "}")
            else:
                parts.append("entry={" + ", ".join(fields) + "}")
        elif op == OP["PTRACE_SYSCALL_INFO_EXIT"]:
            rval = c_long(union[0])
            is_error = data[32]
            fields = [f"rval={_err_d(rval) if fetch >= EXIT_SIZE and is_error else rval}"]
            if fetch >= EXIT_SIZE:
                fields.append(f"is_error={is_error}")
            parts.append("exit={" + ", ".join(fields) + "}")
    return "{" + ", ".join(parts) + "}"


# --- the call ---------------------------------------------------------------


def _data_at_exit(c: Call) -> bool:
    request = c.arg(0)
    return (request in DATA_AT_EXIT and c.verbose) or request in REGS_AT_EXIT \
        or request == PT["PTRACE_GETREGSET"]


def _ptrace_entry(c: Call, i: int) -> str:
    request, pid, addr, data = c.arg(0), c_int(c.arg(1)), c.arg(2), c.arg(3)
    out = [xval(PTRACE_CMDS, request, "PTRACE_???")]
    if request == PT["PTRACE_TRACEME"]:
        return out[0]
    out.append(pid_text(c, pid))
    if request in NO_ADDR:
        return ", ".join(out)
    if request in REGSETS:
        out.append(xval(L.NT_TYPES, addr, "NT_???"))
    elif request in ADDR_DECIMAL:
        out.append(str(addr))
    elif request == PT["PTRACE_PEEKSIGINFO"]:
        out.append(_peeksiginfo_args(c))
    elif request in REGS_AT_ENTRY:
        return ", ".join(out + [_regs(c, exit=False)])
    elif request in REGS_AT_EXIT:
        return ", ".join(out)
    else:
        out.append(ptr(addr))
    if _data_at_exit(c):
        return ", ".join(out)
    if request in RESUMES:
        out.append(printsignal(c_int(data)))
    elif request in SETS_OPTIONS:
        out.append(flags(L.PTRACE_OPTIONS, data, unknown="PTRACE_O_???"))
    elif request == PT["PTRACE_SETSIGINFO"]:
        out.append(_siginfo_at(c, 3, exit=False))
    elif request == PT["PTRACE_SETSIGMASK"]:
        out.append(_sigset_addr_len(c, 3, addr, exit=False))
    elif request == PT["PTRACE_SETREGSET"]:
        out.append(_iovec_text(c, exit=False))
    elif request == PT["PTRACE_SECCOMP_GET_METADATA"]:
        out.append(_seccomp_metadata(c))
    else:
        out.append(ptr(data))
    return ", ".join(out)


def _ptrace_exit(c: Call, i: int) -> str | None:
    if not _data_at_exit(c):
        return None
    request = c.arg(0)
    if request in PEEKS:
        return _bracketed(c, 3, "long", "<Q", ptr)
    if request == PT["PTRACE_GETEVENTMSG"]:
        return _bracketed(c, 3, "long", "<Q", str)
    if request == PT["PTRACE_GETSIGINFO"]:
        return _siginfo_at(c, 3, exit=True)
    if request == PT["PTRACE_GETSIGMASK"]:
        return _sigset_addr_len(c, 3, c.arg(2), exit=True)
    if request == PT["PTRACE_PEEKSIGINFO"]:
        return _siginfo_array(c)
    if request == PT["PTRACE_GET_SYSCALL_INFO"]:
        return _syscall_info(c)
    if request == PT["PTRACE_GETREGSET"]:
        return _iovec_text(c, exit=True)
    if request in REGS_AT_EXIT:
        return _regs(c, exit=True)
    return ptr(c.arg(3))


# --- seccomp ----------------------------------------------------------------

SECCOMP = {name: value for value, name in L.SECCOMP_OPS.entries}


def seccomp_fprog(c: Call, i: int) -> str:
    """decode_seccomp_fprog: ``{len=N, filter=[BPF_STMT(...), ...]}``."""
    return bpf_filter.fprog_text(c, i, "sock_fprog", bpf_filter.seccomp_k)


def _seccomp(c: Call, i: int) -> str:
    op, flag_bits = c.arg(0) & 0xFFFFFFFF, c.arg(1) & 0xFFFFFFFF
    out = [xval(L.SECCOMP_OPS, op, "SECCOMP_SET_MODE_???")]
    if op == SECCOMP["SECCOMP_GET_ACTION_AVAIL"]:
        data = c.struct(2, "int", exit=False)
        action = _word(data, "<I") if data is not None and c.verbose else None
        return ", ".join(out + [hexval(flag_bits), ptr(c.arg(2)) if action is None else
                                f"[{xval(L.SECCOMP_RET_ACTIONS, action, 'SECCOMP_RET_???')}]"])
    if op == SECCOMP["SECCOMP_GET_NOTIF_SIZES"]:
        return ", ".join(out + [hexval(flag_bits)])
    if op == SECCOMP["SECCOMP_SET_MODE_FILTER"]:
        return ", ".join(out + [flags(L.SECCOMP_FILTER_FLAGS, flag_bits,
                                      unknown="SECCOMP_FILTER_FLAG_???"), seccomp_fprog(c, 2)])
    return ", ".join(out + [hexval(flag_bits), ptr(c.arg(2))])


def _notif_sizes(c: Call, i: int) -> str | None:
    if c.arg(0) & 0xFFFFFFFF != SECCOMP["SECCOMP_GET_NOTIF_SIZES"]:
        return None

    def render(data: bytes) -> str:
        f = S.fixed("seccomp_notif_sizes", data)
        if f is None:
            return ptr(c.arg(2))
        return ", ".join(f"{k}={v}" for k, v in f.items()).join("{}")
    return _stored(c, 2, "seccomp_notif_sizes", render)


SYSCALLS = {
    "ptrace": (Arg(_ptrace_entry), None, None,
               Arg(_ptrace_exit, exit=_data_at_exit)),
    "seccomp": (Arg(_seccomp), None,
                Arg(_notif_sizes, exit=True)),
}

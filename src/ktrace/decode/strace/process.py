"""Processes: exec, clone, exit, wait, ids, limits, futexes, prctl."""

from __future__ import annotations

from ... import record as r
from ...abi import linux_structs as LS
from .. import structs as S
from ..names import FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG
from ..xlat import LINUX as L, Xlat
from . import structs as T
from .call import (DIRFD, FD, HEX, INT, PATH, PTR, STR_IN, UID, UINT, ULONG, Arg, Call, at_exit, p_flags,
                   p_ptr, p_string_in, p_struct, p_xval, uid_text)
from .fmt import STYLE, array, c_int, flags, hexval, named, printstr, ptr, signame, xval


def _execve_argv(c: Call, i: int, rtype: int = r.ARGS) -> str:
    rec = c.find(i, rtype)
    if rec is None:
        return ptr(c.arg(i))
    return array((printstr(s, c.opts) for s in r.iter_strings(rec.strings)), c.opts)


def _execve_envp(c: Call, i: int) -> str:
    """The environment's strings with -v (-e abbrev=), else how many there are."""
    if not c.abbrev:
        return _execve_argv(c, i, r.ENVS)
    rec = c.find(i, r.ENVS)
    if rec is None:
        return ptr(c.arg(i))
    n = r.count_strings(rec.strings)
    return f"{ptr(c.arg(i))} /* {n} var{'' if n == 1 else 's'} */"


CSIGNAL = 0xFF
_CF = L.CLONE_FLAGS.value
CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS = (
    _CF("CLONE_PARENT_SETTID"), _CF("CLONE_PIDFD"), _CF("CLONE_SETTLS"))
CLONE_CHILD_TIDS = _CF("CLONE_CHILD_SETTID") | _CF("CLONE_CHILD_CLEARTID")
# clone prints more when it returns only for these flags
CLONE_EXIT_FLAGS = CLONE_PARENT_SETTID | CLONE_PIDFD | CLONE_SETTLS | CLONE_CHILD_TIDS


def clone_flags(value: int) -> str:
    """CLONE_VM|CLONE_FS|...|SIGCHLD: the exit signal last."""
    names, rem = L.CLONE_FLAGS.flags(value & ~CSIGNAL)
    if rem:
        names.append(f"{rem:#x}")
    if value & CSIGNAL or not names:
        names.append(signal_or_zero(value & CSIGNAL))
    return "|".join(names)


def _clone_entry(c: Call, i: int) -> str:
    return f"child_stack={ptr(c.arg(1))}, flags={clone_flags(c.arg(0))}"


def _child_tid(c: Call, addr: int) -> str:
    """``[tid]``: what CLONE_PARENT_SETTID made the kernel store at ``addr``, the child's tid."""
    return f"[{c.retval}]" if c.ok and addr else ptr(addr)


def _pidfd(c: Call, i: int, addr: int) -> str:
    """``[fd]``: the pidfd CLONE_PIDFD made the kernel store (its STRU int for argument ``i``)."""
    data = c.struct(i, "int")
    return f"[{c.fd_text(S.fixed('int', data)['value'])}]" if data is not None else ptr(addr)


def _clone_exit(c: Call, i: int) -> str | None:
    """x86-64 clone(flags, stack, parent_tid, child_tid, tls): what strace adds at exit."""
    fl = c.arg(0)
    if not fl & CLONE_EXIT_FLAGS:
        return None
    text = ""
    if fl & (CLONE_PARENT_SETTID | CLONE_PIDFD):
        stored = _child_tid(c, c.arg(2)) if fl & CLONE_PARENT_SETTID else _pidfd(c, 2, c.arg(2))
        text += f", parent_tid={stored}"
    if fl & CLONE_SETTLS:
        text += f", tls={ptr(c.arg(4))}"
    if fl & CLONE_CHILD_TIDS:
        text += f", child_tidptr={ptr(c.arg(3))}"
    return text


CLONE_ARGS_SIZE = LS.FIXED["clone_args"][0].size  # 88: the clone_args strace knows
CLONE_ARGS_MIN = 64        # clone_args up to tls: a smaller size prints the pointer
CLONE_ARGS_CGROUP = 80     # offset of cgroup: printed only when the size reaches past it
MAX_SET_TID = 32
INT_MAX = 0x7FFFFFFF
CLONE_INTO_CGROUP = _CF("CLONE_INTO_CGROUP")


def _clone_args_read(c: Call) -> bytes | None:
    """The bytes of clone_args clone3 read (size, at most 88); None when too few."""
    data = c.struct(0, "clone_args", exit=False)
    wanted = min(c.arg(1), CLONE_ARGS_SIZE)
    if data is None or wanted < CLONE_ARGS_MIN or len(data) < wanted:
        return None
    return data[:wanted]


def _clone_args(c: Call) -> dict | None:
    """clone_args' fields, those past the size read as 0."""
    data = _clone_args_read(c)
    return S.fixed("clone_args", data.ljust(CLONE_ARGS_SIZE, b"\0")) if data else None


def _set_tid(c: Call, f: dict) -> str:
    """``[1234, 56]``: the set_tid array, its pointer when strace would not read it."""
    n = f["set_tid_size"]
    rec = c.array(0, "int", exit=False)
    if not f["set_tid"] or not 0 < n <= MAX_SET_TID or rec is None or len(rec.data) < 4 * n:
        return ptr(f["set_tid"])
    return T.ints(rec.data[:4 * n])


def _clone_args_tail(c: Call) -> str | None:
    """What clone_args holds past the 88 bytes strace knows (None: nothing)."""
    data = c.struct(0, "clone_args", exit=False)
    return T.nonzero_tail(data, CLONE_ARGS_SIZE, c.arg(1), c.opts)


def _exit_signal(sig: int) -> str:
    """printsignal: SIGCHLD in -X's style; a number no signal has (0, 250) as it is."""
    name = signame(sig) if sig < INT_MAX else str(sig)
    return name if name == str(sig) else named(name, sig, str(sig))


def _clone3(c: Call, i: int) -> str:
    data = _clone_args_read(c)
    if data is None or not c.verbose:
        return ptr(c.arg(i))
    f = _clone_args(c)
    fl = f["flags"]
    parts = [f"flags={flags(L.CLONE_FLAGS, fl, unknown='CLONE_???')}"]
    for key, bits in (("pidfd", CLONE_PIDFD), ("child_tid", CLONE_CHILD_TIDS),
                      ("parent_tid", CLONE_PARENT_SETTID)):
        if fl & bits:
            parts.append(f"{key}={ptr(f[key])}")
    parts.append(f"exit_signal={_exit_signal(f['exit_signal'])}")
    parts.append(f"stack={ptr(f['stack'])}, stack_size={hexval(f['stack_size'])}")
    if fl & CLONE_SETTLS:
        parts.append(f"tls={ptr(f['tls'])}")
    if f["set_tid"] or f["set_tid_size"]:
        parts.append(f"set_tid={_set_tid(c, f)}, set_tid_size={f['set_tid_size']}")
    if len(data) > CLONE_ARGS_CGROUP and (f["cgroup"] or fl & CLONE_INTO_CGROUP):
        parts.append(f"cgroup={f['cgroup']}")
    tail = _clone_args_tail(c)
    if tail:
        parts.append(tail)
    return "{" + ", ".join(parts) + "}"


FORKS = {"clone", "clone3", "fork", "vfork"}
CLONE_FILES = _CF("CLONE_FILES")


def shares_files(c: Call) -> bool:
    """Whether the child of this fork-family call shares the descriptor table."""
    if c.name == "clone3":
        f = _clone_args(c)
        return f is not None and bool(f["flags"] & CLONE_FILES)
    return c.name == "clone" and bool(c.arg(0) & CLONE_FILES)


def _clone3_waits(c: Call) -> bool:
    """strace finishes clone3's line at exit when the kernel writes tids back
    (or clone_args runs past the part it knows)."""
    f = _clone_args(c)
    return f is not None and c.verbose and (bool(f["flags"] & (CLONE_PIDFD | CLONE_PARENT_SETTID))
                              or c.arg(1) > CLONE_ARGS_SIZE)


def _clone3_rest(c: Call, i: int) -> str:
    """`` => {pidfd=[3], parent_tid=[N]}, 88``: what was written back, then the size."""
    f = _clone_args(c)
    changed = []
    if f is not None and c.ok and c.verbose:
        if f["flags"] & CLONE_PIDFD:
            changed.append(f"pidfd={_pidfd(c, 0, f['pidfd'])}")
        if f["flags"] & CLONE_PARENT_SETTID:
            changed.append(f"parent_tid={_child_tid(c, f['parent_tid'])}")
        tail = _clone_args_tail(c)
        if tail:
            changed.append(tail)
    text = f" => {{{', '.join(changed)}}}" if changed else ""
    return f"{text}, {c.arg(1)}"


def _wait_status(c: Call, i: int) -> str:
    data = c.struct(i, "int")
    if data is None or not c.ok or not c.retval:
        return ptr(c.arg(i))
    return T.wait_status_text(data)


def _groups(exit: bool):
    """getgroups/setgroups' gid list: ``[0, 4, 24]``, ``[]`` when empty."""
    def render(c: Call, i: int) -> str:
        count = c.retval if exit else c.arg(0)
        if (exit and not c.ok) or not c.arg(i):
            return ptr(c.arg(i))
        if count == 0:
            return "[]"
        arr = c.array(i, "int", exit=exit)
        return T.ints(arr.data, "I") if arr is not None else ptr(c.arg(i))
    return render


def _stored_id(c: Call, i: int) -> str:
    """``[0]``: the uid or gid getresuid/getresgid stored through argument ``i``."""
    data = c.struct(i, "int")
    if data is None or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return f"[{uid_text(S.fixed('int', data)['value'])}]"


STORED_ID = at_exit(_stored_id)


def signal_or_zero(sig: int) -> str:
    return signame(sig) if sig else "0"


def _signal(c: Call, i: int) -> str:
    return signal_or_zero(c_int(c.arg(i)))


SIGNAL = Arg(_signal)

FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
FUTEX_OP_OPARG_SHIFT = 8
_FUTEX_CLOCKED = ("FUTEX_WAIT", "FUTEX_WAIT_BITSET", "FUTEX_WAIT_REQUEUE_PI")


def _futex_op_names() -> Xlat:
    """strace's futexops: each command, its _PRIVATE twin (FUTEX_FD's spelled
    |FUTEX_PRIVATE_FLAG), then the waits with |FUTEX_CLOCK_REALTIME."""
    def private(name: str) -> str:
        return name + ("|FUTEX_PRIVATE_FLAG" if name == "FUTEX_FD" else "_PRIVATE")
    ops = L.FUTEX_OPS.entries
    clocked = [(v | p, n + s + "|FUTEX_CLOCK_REALTIME") for v, n in ops if n in _FUTEX_CLOCKED
               for p, s in ((0, ""), (FUTEX_PRIVATE_FLAG, "_PRIVATE"))]
    return Xlat([*ops, *((v | FUTEX_PRIVATE_FLAG, private(n)) for v, n in ops),
                 *((v | FUTEX_CLOCK_REALTIME, n) for v, n in sorted(clocked))])


FUTEX_OP_NAMES = _futex_op_names()


def _futex_wake_op(val3: int) -> str:
    """FUTEX_WAKE_OP's encoded operation: op<<28|oparg<<12|cmp<<24|cmparg."""
    op, cmp = L.FUTEX_WAKE_OPS.name(val3 >> 28 & 7), L.FUTEX_WAKE_CMPS.name(val3 >> 24 & 0xF)
    shift = "FUTEX_OP_OPARG_SHIFT<<28|" if val3 >> 28 & FUTEX_OP_OPARG_SHIFT else ""
    return (f"{shift}{op or hexval(val3 >> 28 & 7)}<<28{'' if op else ' /* FUTEX_OP_??? */'}"
            f"|{hexval(val3 >> 12 & 0xFFF)}<<12"
            f"|{cmp or hexval(val3 >> 24 & 0xF)}<<24{'' if cmp else ' /* FUTEX_OP_CMP_??? */'}"
            f"|{hexval(val3 & 0xFFF)}")


def _futex(c: Call, i: int) -> str:
    """futex(uaddr, op, ...): the arguments each command uses, as do_futex prints them."""
    op = c_int(c.arg(1))
    cmd = L.FUTEX_OPS.name(op & 127)
    val, val2, val3 = (str(c.arg(k) & 0xFFFFFFFF) for k in (2, 3, 5))
    data = c.struct(3, "timespec", exit=False)
    timeout = T.timespec_text(data) if data else ptr(c.arg(3))
    uaddr2 = ptr(c.arg(4))
    bitset = "FUTEX_BITSET_MATCH_ANY" if int(val3) == FUTEX_BITSET_MATCH_ANY else hexval(int(val3))
    rest = {
        "FUTEX_WAIT": [val, timeout], "FUTEX_LOCK_PI": [timeout], "FUTEX_LOCK_PI2": [timeout],
        "FUTEX_WAIT_BITSET": [val, timeout, bitset], "FUTEX_WAKE_BITSET": [val, bitset],
        "FUTEX_REQUEUE": [val, val2, uaddr2],
        "FUTEX_CMP_REQUEUE": [val, val2, uaddr2, val3],
        "FUTEX_CMP_REQUEUE_PI": [val, val2, uaddr2, val3],
        "FUTEX_WAKE_OP": [val, val2, uaddr2, _futex_wake_op(int(val3))] if cmd else [],
        "FUTEX_WAIT_REQUEUE_PI": [val, timeout, uaddr2],
        "FUTEX_FD": [val], "FUTEX_WAKE": [val], "FUTEX_UNLOCK_PI": [], "FUTEX_TRYLOCK_PI": [],
    }.get(cmd, [val, ptr(c.arg(3)), uaddr2, hexval(int(val3))])
    return ", ".join([ptr(c.arg(0)), xval(FUTEX_OP_NAMES, op & 0xFFFFFFFF, "FUTEX_???")] + rest)


def _arch_prctl(c: Call, i: int) -> str:
    """The option; ARCH_GET_CPUID has no address, the other gets an address
    (the value stored there is not recorded), the rest a number in hex."""
    code = c.arg(0) & 0xFFFFFFFF        # strace's unsigned int option
    option = xval(L.ARCH_PRCTL_CODES, code, "ARCH_???")
    name = L.ARCH_PRCTL_CODES.name(code) or ""
    if name == "ARCH_GET_CPUID":
        return option
    return f"{option}, {ptr(c.arg(1)) if name.startswith('ARCH_GET') else hexval(c.arg(1))}"


def _rlimit(exit: bool):
    """x86-64's rlim_t is 64 bits for getrlimit too: strace's print_rlimit64."""
    return p_struct("rlimit", T.rlimit_text("RLIM64_INFINITY"), exit=exit)


IOPRIO_CLASS_SHIFT = L.IOPRIO_CLASS_SHIFT.value("IOPRIO_CLASS_SHIFT")


def ioprio_text(value: int) -> str:
    """sprint_ioprio: IOPRIO_PRIO_VALUE(class, data)."""
    value &= 0xFFFFFFFF
    kind = value >> IOPRIO_CLASS_SHIFT
    name = L.IOPRIO_CLASSES.name(kind)
    klass = named(name, kind, str(kind)) if name else f"{hexval(kind)} /* IOPRIO_CLASS_??? */"
    return f"IOPRIO_PRIO_VALUE({klass}, {value & ((1 << IOPRIO_CLASS_SHIFT) - 1)})"


def ioprio_result(c: Call, text: str) -> str:
    """ioprio_get's priority spelled after the number (not with -X raw)."""
    return text if STYLE.get() == "raw" else f"{text} ({ioprio_text(c.retval)})"


def _kexec_flags(c: Call, i: int) -> str:
    """kexec_load's flags: the architecture in the high half, then the flags."""
    value = c.arg(i)
    text = xval(L.KEXEC_ARCHS, value & KEXEC_ARCH_MASK, "KEXEC_ARCH_???")
    if value & ~KEXEC_ARCH_MASK:
        text += "|" + flags(L.KEXEC_LOAD_FLAGS, value & ~KEXEC_ARCH_MASK, unknown="KEXEC_???")
    return text


KEXEC_ARCH_MASK = L.KEXEC_ARCH_MASK.value("KEXEC_ARCH_MASK")
LINUX_REBOOT_CMD_RESTART2 = L.REBOOT_CMDS.value("LINUX_REBOOT_CMD_RESTART2")


def _reboot_arg(c: Call, i: int) -> str | None:
    """reboot's command string, only for LINUX_REBOOT_CMD_RESTART2."""
    if c.arg(2) & 0xFFFFFFFF != LINUX_REBOOT_CMD_RESTART2:
        return None
    return p_string_in(c, i)
IOPRIO_WHO = Arg(p_xval(L.IOPRIO_WHO, "IOPRIO_WHO_???"))
SCHED_POLICY = Arg(p_xval(L.SCHED_POLICIES, "SCHED_???"))


def _keyring(c: Call, i: int) -> str:
    """printxval_d: a key serial number that names no special keyring prints in decimal."""
    serial = c_int(c.arg(i))
    name = L.KEY_SPECS.name(serial)
    return named(name, serial, str(serial)) if name else str(serial)


KEYRING = Arg(_keyring)
OUT_PTR = at_exit(p_ptr)     # a struct the view does not spell out
RUSAGE = at_exit(p_struct("rusage", T.rusage_text))
RLIMIT = Arg(p_xval(L.RLIMITS, "RLIMIT_???"))
NO_ARGS = ("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
           "getpgrp", "setsid", "fork", "vfork", "sched_yield", "pause", "sync", "vhangup",
           "munlockall", "inotify_init", "restart_syscall")

SYSCALLS = {
    "execve": (PATH, Arg(_execve_argv), Arg(_execve_envp)),
    "execveat": (DIRFD, PATH, Arg(_execve_argv), Arg(_execve_envp), Arg(p_flags(L.AT_FLAGS, "AT_???"))),
    "clone": (Arg(_clone_entry), None, None, Arg(_clone_exit, exit=True, lead=True)),
    "clone3": (Arg(_clone3), Arg(_clone3_rest, exit=_clone3_waits, lead=True)),
    "exit": (INT,), "exit_group": (INT,),
    "wait4": (INT, at_exit(_wait_status), Arg(p_flags(L.WAIT_OPTIONS, "W???")), RUSAGE),
    "waitid": (Arg(p_xval(L.IDTYPES, "P_???")), INT,
               at_exit(p_struct("siginfo", lambda data, c: T.siginfo_text(data, c.fd_text))),
               Arg(p_flags(L.WAITID_OPTIONS, "W???")), RUSAGE),
    "kill": (INT, SIGNAL), "tkill": (INT, SIGNAL), "tgkill": (INT, INT, SIGNAL),
    "arch_prctl": (Arg(_arch_prctl),),
    "set_tid_address": (PTR,), "set_robust_list": (PTR, ULONG),
    "get_robust_list": (INT, PTR, PTR),
    "rseq": (PTR, HEX, INT, HEX),
    "futex": (Arg(_futex),),
    "getrlimit": (RLIMIT, at_exit(_rlimit(True))),
    "setrlimit": (RLIMIT, Arg(_rlimit(False))),
    "prlimit64": (INT, RLIMIT, Arg(_rlimit(False)), at_exit(_rlimit(True))),
    "getrusage": (Arg(p_xval(L.RUSAGE_WHO, "RUSAGE_???")), RUSAGE),
    "getgroups": (INT, at_exit(_groups(True))), "setgroups": (INT, Arg(_groups(False))),
    "uname": (at_exit(p_struct("utsname", T.utsname_text)),),
    "sysinfo": (at_exit(p_struct("sysinfo", T.sysinfo_text)),),
    "setuid": (UID,), "setgid": (UID,), "setpgid": (INT, INT), "getpgid": (INT,),
    "getsid": (INT,), "setresuid": (UID, UID, UID), "setresgid": (UID, UID, UID),
    "getresuid": (STORED_ID,) * 3, "getresgid": (STORED_ID,) * 3,
    "setreuid": (UID, UID), "setregid": (UID, UID), "setfsuid": (UID,), "setfsgid": (UID,),
    "getpriority": (Arg(p_xval(L.PRIO_WHICH, "PRIO_???")), INT),
    "setpriority": (Arg(p_xval(L.PRIO_WHICH, "PRIO_???")), INT, INT),
    "sched_getaffinity": (INT, ULONG, at_exit(p_struct("cpuset", T.cpuset_text))),
    "pidfd_open": (INT, Arg(p_flags(L.PIDFD_OPEN_FLAGS, "PIDFD_???"))),
    "pidfd_send_signal": (FD, SIGNAL, PTR, UINT),
    "personality": (HEX,),
    "ioprio_get": (IOPRIO_WHO, INT),
    "ioprio_set": (IOPRIO_WHO, INT,
                   Arg(lambda c, i: named(ioprio_text(c.arg(i)), c.arg(i), str(c_int(c.arg(i)))))),
    "setns": (FD, Arg(p_flags(L.SETNS_TYPES, "CLONE_NEW???"))),
    "unshare": (Arg(lambda c, i: flags(L.UNSHARE_FLAGS, c.arg(i), unknown="CLONE_???")),),
    "sched_get_priority_min": (SCHED_POLICY,), "sched_get_priority_max": (SCHED_POLICY,),
    "kexec_load": (PTR, ULONG, PTR, Arg(_kexec_flags)),
    "reboot": (Arg(p_xval(L.REBOOT_MAGIC1, "LINUX_REBOOT_MAGIC_???")),
               Arg(p_xval(L.REBOOT_MAGIC2, "LINUX_REBOOT_MAGIC_???")),
               Arg(p_xval(L.REBOOT_CMDS, "LINUX_REBOOT_CMD_???")), Arg(_reboot_arg)),
    "add_key": (STR_IN, STR_IN, STR_IN, ULONG, KEYRING),
    "request_key": (STR_IN, STR_IN, STR_IN, KEYRING),
    "sethostname": (STR_IN, ULONG),
    **{name: () for name in NO_ARGS},
}


# Calls that never return to the caller.
NO_RETURN = {"exit", "exit_group"}

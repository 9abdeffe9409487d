"""Processes: exec, clone, exit, wait, ids, limits, futexes, prctl."""

from __future__ import annotations

from ... import record as r
from .. import structs as S
from ..names import FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG, futex_op_name
from ..xlat import LINUX as L
from . import structs as T
from .call import (DIRFD, FD, HEX, INT, PATH, PTR, STR_IN, UINT, ULONG, Arg, Call, at_exit, p_flags,
                   p_ptr, p_struct, p_xval)
from .fmt import array, c_int, flags, hexval, printstr, ptr, signame


def _execve_argv(c: Call, i: int) -> str:
    rec = c.find(i, r.ARGS)
    if rec is None:
        return ptr(c.arg(i))
    return array((printstr(s, c.opts) for s in r.iter_strings(rec.strings)), c.opts)


def _execve_envp(c: Call, i: int) -> str:
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
        names.append(_signal_or_zero(value & CSIGNAL))
    return "|".join(names)


def _clone_entry(c: Call, i: int) -> str:
    return f"child_stack={ptr(c.arg(1))}, flags={clone_flags(c.arg(0))}"


def _child_tid(c: Call) -> str:
    """``[tid]``: what CLONE_PARENT_SETTID made the kernel store, the child's tid."""
    return f"[{c.retval}]" if c.ok else ptr(c.arg(2))


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
        stored = _child_tid(c) if fl & CLONE_PARENT_SETTID else _pidfd(c, 2, c.arg(2))
        text += f", parent_tid={stored}"
    if fl & CLONE_SETTLS:
        text += f", tls={ptr(c.arg(4))}"
    if fl & CLONE_CHILD_TIDS:
        text += f", child_tidptr={ptr(c.arg(3))}"
    return text


def _clone_args(c: Call) -> dict | None:
    return S.fixed("clone_args", c.struct(0, "clone_args", exit=False) or b"")


def _clone3(c: Call, i: int) -> str:
    f = _clone_args(c)
    if f is None:
        return ptr(c.arg(i))
    fl = f["flags"]
    parts = [f"flags={flags(L.CLONE_FLAGS, fl) if fl else '0'}"]
    for key, bits in (("pidfd", CLONE_PIDFD), ("child_tid", CLONE_CHILD_TIDS),
                      ("parent_tid", CLONE_PARENT_SETTID)):
        if fl & bits:
            parts.append(f"{key}={ptr(f[key])}")
    parts.append(f"exit_signal={_signal_or_zero(f['exit_signal'])}")
    parts.append(f"stack={ptr(f['stack'])}, stack_size={hexval(f['stack_size'])}")
    if fl & CLONE_SETTLS:
        parts.append(f"tls={ptr(f['tls'])}")
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
    """strace finishes clone3's line at exit when the kernel writes tids back."""
    f = _clone_args(c)
    return f is not None and bool(f["flags"] & (CLONE_PIDFD | CLONE_PARENT_SETTID))


def _clone3_rest(c: Call, i: int) -> str:
    """`` => {pidfd=[3], parent_tid=[N]}, 88``: what was written back, then the size."""
    f = _clone_args(c)
    changed = []
    if f is not None and c.ok:
        if f["flags"] & CLONE_PIDFD:
            changed.append(f"pidfd={_pidfd(c, 0, f['pidfd'])}")
        if f["flags"] & CLONE_PARENT_SETTID:
            changed.append(f"parent_tid={_child_tid(c)}")
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


def _signal_or_zero(sig: int) -> str:
    return signame(sig) if sig else "0"


def _signal(c: Call, i: int) -> str:
    return _signal_or_zero(c_int(c.arg(i)))


SIGNAL = Arg(_signal)

_FUTEX_WAIT = {L.FUTEX_OPS.value(n) for n in ("FUTEX_WAIT", "FUTEX_WAIT_BITSET")}
_FUTEX_BITSET = {L.FUTEX_OPS.value(n) for n in ("FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET")}
_FUTEX_REQUEUE = {L.FUTEX_OPS.value(n) for n in ("FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE")}
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF


def _futex(c: Call, i: int) -> str:
    """futex(uaddr, op, val, timeout|val2, uaddr2, val3): what each op uses."""
    op = c_int(c.arg(1))
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    parts = [ptr(c.arg(0)), futex_op_name(op), str(c_int(c.arg(2)))]
    if cmd in _FUTEX_WAIT:
        data = c.struct(3, "timespec", exit=False)
        parts.append(T.timespec_text(data) if data else ptr(c.arg(3)))
    elif cmd in _FUTEX_REQUEUE:
        parts += [str(c_int(c.arg(3))), ptr(c.arg(4))]
        if cmd == L.FUTEX_OPS.value("FUTEX_CMP_REQUEUE"):
            parts.append(str(c_int(c.arg(5))))
    elif cmd == L.FUTEX_OPS.value("FUTEX_WAKE_BITSET"):
        parts.append(ptr(c.arg(3)))
    if cmd in _FUTEX_BITSET:
        val3 = c.arg(5) & 0xFFFFFFFF
        parts.append("FUTEX_BITSET_MATCH_ANY" if val3 == FUTEX_BITSET_MATCH_ANY else f"{val3:#x}")
    return ", ".join(parts)


_PR = L.PRCTL_OPTIONS


def _prctl(c: Call, i: int) -> str:
    option = c_int(c.arg(0))
    name = _PR.name(option) or f"{option:#x} /* PR_??? */"
    if option == _PR.value("PR_SET_NAME"):
        data = c.struct(1, "string", exit=False)
        return f"{name}, {printstr(data, c.opts) if data is not None else ptr(c.arg(1))}"
    if option == _PR.value("PR_GET_NAME"):
        data = c.struct(1, "string")
        return f"{name}, {printstr(data, c.opts) if c.ok and data is not None else ptr(c.arg(1))}"
    if option == _PR.value("PR_SET_PDEATHSIG"):
        return f"{name}, {_signal(c, 1)}"
    if name.startswith("PR_GET_") and option != _PR.value("PR_GET_PDEATHSIG"):
        return name
    if option == _PR.value("PR_CAPBSET_READ") or option == _PR.value("PR_CAPBSET_DROP"):
        return f"{name}, {L.CAPABILITIES.name(c_int(c.arg(1))) or c.arg(1)}"
    return ", ".join([name] + [str(c.arg(k)) if c.arg(k) < 1 << 32 else f"{c.arg(k):#x}"
                               for k in range(1, 5)])


def _arch_prctl(c: Call, i: int) -> str:
    code = c_int(c.arg(0))
    name = L.ARCH_PRCTL_CODES.name(code) or f"{code:#x} /* ARCH_??? */"
    return f"{name}, {ptr(c.arg(1)) if c.arg(1) else '0'}" if name.startswith("ARCH_GET") \
        else f"{name}, {c.arg(1):#x}" if c.arg(1) else f"{name}, 0"


def _rlimit(infinity: str, exit: bool):
    return p_struct("rlimit", T.rlimit_text(infinity), exit=exit)


OUT_PTR = at_exit(p_ptr)     # a struct the view does not spell out
RUSAGE = at_exit(p_struct("rusage", T.rusage_text))
RLIMIT = Arg(p_xval(L.RLIMITS, "RLIMIT_???"))
NO_ARGS = ("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
           "getpgrp", "setsid", "fork", "vfork", "sched_yield", "pause", "sync", "vhangup",
           "munlockall", "inotify_init", "restart_syscall")

SYSCALLS = {
    "execve": (PATH, Arg(_execve_argv), Arg(_execve_envp)),
    "execveat": (DIRFD, PATH, Arg(_execve_argv), Arg(_execve_envp), Arg(p_flags(L.AT_FLAGS))),
    "clone": (Arg(_clone_entry), None, None, Arg(_clone_exit, exit=True, lead=True)),
    "clone3": (Arg(_clone3), Arg(_clone3_rest, exit=_clone3_waits, lead=True)),
    "exit": (INT,), "exit_group": (INT,),
    "wait4": (INT, at_exit(_wait_status), Arg(p_flags(L.WAIT_OPTIONS)), RUSAGE),
    "waitid": (Arg(p_xval(L.IDTYPES, "P_???")), INT,
               at_exit(p_struct("siginfo", lambda data, c: T.siginfo_text(data, c.fd_text))),
               Arg(p_flags(L.WAITID_OPTIONS)), RUSAGE),
    "kill": (INT, SIGNAL), "tkill": (INT, SIGNAL), "tgkill": (INT, INT, SIGNAL),
    "prctl": (Arg(_prctl),),
    "arch_prctl": (Arg(_arch_prctl),),
    "set_tid_address": (PTR,), "set_robust_list": (PTR, ULONG),
    "get_robust_list": (INT, PTR, PTR),
    "rseq": (PTR, HEX, INT, HEX),
    "futex": (Arg(_futex),),
    "getrlimit": (RLIMIT, at_exit(_rlimit("RLIM_INFINITY", True))),
    "setrlimit": (RLIMIT, Arg(_rlimit("RLIM_INFINITY", False))),
    "prlimit64": (INT, RLIMIT, Arg(_rlimit("RLIM64_INFINITY", False)),
                  at_exit(_rlimit("RLIM64_INFINITY", True))),
    "getrusage": (Arg(p_xval(L.RUSAGE_WHO, "RUSAGE_???")), RUSAGE),
    "getgroups": (INT, at_exit(_groups(True))), "setgroups": (INT, Arg(_groups(False))),
    "uname": (at_exit(p_struct("utsname", T.utsname_text)),),
    "sysinfo": (at_exit(p_struct("sysinfo", T.sysinfo_text)),),
    "setuid": (UINT,), "setgid": (UINT,), "setpgid": (INT, INT), "getpgid": (INT,),
    "getsid": (INT,), "setresuid": (UINT, UINT, UINT), "setresgid": (UINT, UINT, UINT),
    "getpriority": (Arg(p_xval(L.PRIO_WHICH, "PRIO_???")), INT),
    "setpriority": (Arg(p_xval(L.PRIO_WHICH, "PRIO_???")), INT, INT),
    "sched_getaffinity": (INT, ULONG, at_exit(p_struct("cpuset", T.cpuset_text))),
    "pidfd_open": (INT, UINT), "pidfd_send_signal": (FD, SIGNAL, PTR, UINT),
    "personality": (HEX,),
    "sethostname": (STR_IN, ULONG),
    **{name: () for name in NO_ARGS},
}


# Calls that never return to the caller.
NO_RETURN = {"exit", "exit_group"}

"""Processes: exec, clone, exit, wait, ids, limits, futexes, prctl."""

from __future__ import annotations

import struct
from itertools import islice

from ... import record as r
from ...abi import linux_plan as plan
from ...abi import linux_structs as LS
from .. import structs as S
from ..names import FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG
from ..xlat import LINUX as L, Xlat
from . import signals, structs as T
from .call import (DIRFD, FD, HEX, INT, PATH, PTR, UID, ULONG, Arg, Call, at_exit, p_flags, p_ptr,
                   p_struct, p_xval, uid_text)
from .call import PGID, PT_PGID, PT_TGID, TGID, TGID_PGID, TID, pid_text  # printpid: --decode-pids=
from .fdio import print_array
from .fmt import STYLE, c_int, flags, hexval, named, printstr, ptr, signame, xval


def _argv_faults(c: Call, i: int) -> tuple[int | None, dict[int, int]]:
    """What of the array could not be read (STRU argvfault): the index of its
    unreadable pointer (None: none), and the pointers of the strings by index."""
    data = c.struct(i, plan.ARGV_FAULTS)
    if data is None or len(data) < LS.ARGV_FAULT_END.size:
        return None, {}
    (end,) = LS.ARGV_FAULT_END.unpack_from(data)
    pairs = data[LS.ARGV_FAULT_END.size:]
    pairs = pairs[:len(pairs) - len(pairs) % LS.ARGV_FAULT.size]
    return (None if end == plan.ARGV_READ_ALL else end), dict(LS.ARGV_FAULT.iter_unpack(pairs))


def _execve_argv(c: Call, i: int, rtype: int = r.ARGS) -> str:
    """printargv: each string (one that could not be read: its pointer); the
    array's address when its first pointer cannot be read, ``... /* ADDR */``
    where a later one cannot; with abbreviation, ``...`` after -s strings."""
    rec = c.find(i, rtype)
    end, unread = _argv_faults(c, i)
    if rec is None or end == 0:
        return ptr(c.arg(i))
    strings = r.iter_strings(rec.strings)
    if c.abbrev:
        strings = islice(strings, c.opts.strsize + 1)
    items = [ptr(unread[n]) if n in unread else printstr(s, c.opts)
             for n, s in enumerate(strings)]
    if c.abbrev and len(items) > c.opts.strsize:
        items[c.opts.strsize:] = ["..."]
    elif end is not None:
        items.append(f"... /* {ptr((c.arg(i) + 8 * end) & ULONG_MAX)} */")
    return "[" + ", ".join(items) + "]"


def _execve_envp(c: Call, i: int) -> str:
    """The environment's strings with -v (-e abbrev=), else how many there are
    (printargc: ``unterminated`` when a pointer after the first cannot be read)."""
    if not c.abbrev:
        return _execve_argv(c, i, r.ENVS)
    rec = c.find(i, r.ENVS)
    end, _ = _argv_faults(c, i)
    if rec is None or end == 0:
        return ptr(c.arg(i))
    n = r.count_strings(rec.strings)
    return (f"{ptr(c.arg(i))} /* {n} var{'' if n == 1 else 's'}"
            f"{'' if end is None else ', unterminated'} */")


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
WAITS = {"wait4", "waitid"}          # calls that may reap a child (reaped)
EXECS = {"execve", "execveat"}
CLONE_FILES = _CF("CLONE_FILES")


def shares_files(c: Call) -> bool:
    """Whether the child of this fork-family call shares the descriptor table."""
    if c.name == "clone3":
        f = _clone_args(c)
        return f is not None and bool(f["flags"] & CLONE_FILES)
    return c.name == "clone" and bool(c.arg(0) & CLONE_FILES)


def made_pidfd(c: Call) -> int | None:
    """The pidfd a successful clone or clone3 with CLONE_PIDFD stored (its STRU int)."""
    if c.name == "clone3":
        f = _clone_args(c)
        i, fl = 0, (f["flags"] if f is not None else 0)
    else:
        i, fl = 2, (c.arg(0) if c.name == "clone" else 0)
    data = c.struct(i, "int") if fl & CLONE_PIDFD else None
    return S.fixed("int", data)["value"] if data is not None else None


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


def wait_status(status: int) -> str:
    """printstatus: ``[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`` and what else is set."""
    status &= 0xFFFFFFFF
    low = status & 0x7F
    if status & 0xFF == 0x7F:
        sig = status >> 8 & 0xFF
        text = (f"{{WIFSTOPPED(s) && WSTOPSIG(s) == {signame(sig & 0x7F)}"
                f"{' | 0x80' if sig & 0x80 else ''}}}")
        status &= ~(sig << 8 | 0x7F)
    elif low and low != 0x7F:
        text = (f"{{WIFSIGNALED(s) && WTERMSIG(s) == {signame(low)}"
                f"{' && WCOREDUMP(s)' if status & 0x80 else ''}}}")
        status &= ~(low | 0x80)
    elif not low:
        text = f"{{WIFEXITED(s) && WEXITSTATUS(s) == {status >> 8 & 0xFF}}}"
        status &= ~(status & 0xFF00)
    elif status == 0xFFFF:
        text = "{WIFCONTINUED(s)}"
        status = 0
    else:
        return f"[{hexval(status)}]"
    if status >> 16:
        event = status >> 16
        text += f"|{xval(L.WAIT_PTRACE_EVENTS, event, 'PTRACE_EVENT_???')}<<16"
        status &= 0xFFFF
    if status:
        text += f"|{hexval(status)}"
    return f"[{text}]"


def _wait_status(c: Call, i: int) -> str:
    data = c.struct(i, "int")
    if data is None or not c.ok or not c.retval or len(data) < 4 or not c.verbose:
        return ptr(c.arg(i))
    return wait_status(int.from_bytes(data[:4], "little"))


def rusage_text(data: bytes, c: Call) -> str:
    """printrusage: the two timevals, then (-v) the 14 counters, unsigned."""
    if len(data) < LS.RUSAGE.size:
        return ptr(0)
    v = LS.RUSAGE.unpack_from(data)
    text = (f"{{ru_utime={{tv_sec={v[0]}, tv_usec={v[1] & ULONG_MAX}}}, "
            f"ru_stime={{tv_sec={v[2]}, tv_usec={v[3] & ULONG_MAX}}}")
    if c.abbrev:
        return text + ", ...}"
    return text + "".join(f", ru_{k}={n & ULONG_MAX}" for k, n in zip(RUSAGE_COUNTERS, v[4:])) + "}"


ULONG_MAX = (1 << 64) - 1
RUSAGE_COUNTERS = ("maxrss", "ixrss", "idrss", "isrss", "minflt", "majflt", "nswap", "inblock",
                   "oublock", "msgsnd", "msgrcv", "nsignals", "nvcsw", "nivcsw")


def _rusage(c: Call, i: int) -> str:
    data = c.struct(i, "rusage")
    if data is None or not c.ok or not c.verbose or len(data) < LS.RUSAGE.size:
        return ptr(c.arg(i))
    return rusage_text(data, c)


_P_PID, _P_PGID, _P_PIDFD = (L.IDTYPES.value(n) for n in ("P_PID", "P_PGID", "P_PIDFD"))
_CLD_ENDS = {L.CLD_CODES.value(n) for n in ("CLD_EXITED", "CLD_KILLED", "CLD_DUMPED")}
_SIGCHLD = L.SIGNALS.value("SIGCHLD")
WNOWAIT, WSTOPPED, WCONTINUED = (L.WAIT4_OPTIONS.value(n)
                                 for n in ("WNOWAIT", "WSTOPPED", "WCONTINUED"))


def reaped(c: Call) -> int | None:
    """The child a successful wait4 or waitid reaped (its pid names nothing
    from then on), where the call's records tell."""
    if not c.ok:
        return None
    if c.name == "wait4" and c.retval > 0:
        data = c.struct(1, "int")
        if data is not None and len(data) >= 4:
            status = int.from_bytes(data[:4], "little") & 0xFFFF
            return c.retval if status & 0x7F != 0x7F and status != 0xFFFF else None
        return c.retval if not c.arg(2) & (WSTOPPED | WCONTINUED) else None
    if c.name == "waitid" and not c.arg(3) & WNOWAIT:
        data = c.struct(2, "siginfo")
        if data is not None and len(data) >= T.SIGINFO_SIZE:
            signo, _, code = LS.SIGINFO_HEAD.unpack_from(data)
            pid = LS.SI_SENDER.unpack_from(data)[0]
            return pid if signo == _SIGCHLD and code in _CLD_ENDS and pid > 0 else None
    return None


def _waitid_id(c: Call, i: int) -> str:
    """waitid's id, as its idtype says: a process, a pidfd, a process group."""
    idtype, who = c.arg(0) & 0xFFFFFFFF, c_int(c.arg(i))
    if idtype == _P_PID:
        return pid_text(c, who, PT_TGID)
    if idtype == _P_PGID:
        return pid_text(c, who, PT_PGID)
    return c.fd_text(who) if idtype == _P_PIDFD else str(who)


def _waitid_siginfo(data: bytes, c: Call) -> str:
    """waitid's siginfo, printed at its exit: a child it reaped is gone then
    (no comm for --decode-pids=comm)."""
    return T.siginfo_text(data, c.fd_text, None if reaped(c) is not None else c.pid_note)


def _wait4_rusage(c: Call, i: int) -> str:
    """wait4 prints the rusage only for a child it reaped (a positive pid)."""
    return _rusage(c, i) if c.ok and c.retval > 0 else ptr(c.arg(i))


def _groups(exit: bool):
    """getgroups/setgroups' gid list: ``[0, 4, 24]``, ``[]`` when empty."""
    def render(c: Call, i: int) -> str:
        count = (c.retval if exit else c.arg(0)) & 0xFFFFFFFF
        if (exit and not c.ok) or not c.arg(i) or count > NGROUPS_MAX:
            return ptr(c.arg(i))
        arr = c.array(i, "int", exit=exit)
        gids = struct.unpack_from(f"<{len(arr.data) // 4}I", arr.data) if arr is not None else ()
        return print_array(c, c.arg(i), count, [uid_text(gid) for gid in gids], 4)
    return render


NGROUPS_MAX = 65536


def _stored_id(c: Call, i: int) -> str:
    """``[0]``: the uid or gid getresuid/getresgid stored through argument ``i``."""
    data = c.struct(i, "int")
    if data is None or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return f"[{uid_text(S.fixed('int', data)['value'])}]"


STORED_ID = at_exit(_stored_id)


_KCMP = L.KCMP_TYPES.value
KCMP_FILE, KCMP_EPOLL_TFD = _KCMP("KCMP_FILE"), _KCMP("KCMP_EPOLL_TFD")
KCMP_NO_INDEX = {_KCMP(n) for n in ("KCMP_VM", "KCMP_FILES", "KCMP_FS", "KCMP_SIGHAND",
                                    "KCMP_IO", "KCMP_SYSVSEM")}
KCMP_EPOLL_SLOT = struct.Struct("<iiI")


def _kcmp_fd(c: Call, pid: int, fd: int) -> str:
    """printfd_pid_tracee_ns: a descriptor of process ``pid``; its path (-y) is
    known here only as the tracee's own (any real pid: assumed to be it)."""
    fd = c_int(fd)
    return c.fd_text(fd) if pid > 0 else str(fd)


def _target_fd(c: Call, i: int) -> str:
    """pidfd_getfd's descriptor of the process its pidfd refers to (printfd_pid)."""
    files = getattr(c, "files", None)
    pid = files.pidfd_process(c_int(c.arg(0))) if files is not None else None
    fd = c_int(c.arg(i))
    return c.fd_text_of(pid)(fd) if pid is not None else str(fd)


def _kcmp(c: Call, i: int) -> str:
    """kcmp(pid1, pid2, type, idx1, idx2): the indexes as the type gives them."""
    pid1, pid2, kind = c_int(c.arg(0)), c_int(c.arg(1)), c_int(c.arg(2))
    parts = [pid_text(c, pid1), pid_text(c, pid2),
             xval(L.KCMP_TYPES, kind & 0xFFFFFFFF, "KCMP_???")]
    if kind == KCMP_FILE:
        parts += [_kcmp_fd(c, pid1, c.arg(3)), _kcmp_fd(c, pid2, c.arg(4))]
    elif kind == KCMP_EPOLL_TFD:
        parts.append(_kcmp_fd(c, pid1, c.arg(3)))
        data = c.struct(4, "kcmp_epoll_slot", exit=False)
        if data is None or len(data) < KCMP_EPOLL_SLOT.size or not c.verbose:
            parts.append(ptr(c.arg(4)))
        else:
            efd, tfd, toff = KCMP_EPOLL_SLOT.unpack_from(data)
            parts.append(f"{{efd={_kcmp_fd(c, pid2, efd)}, tfd={_kcmp_fd(c, pid2, tfd)}, "
                         f"toff={toff}}}")
    elif kind not in KCMP_NO_INDEX:
        parts += [hexval(c.arg(3)), hexval(c.arg(4))]
    return ", ".join(parts)


def printnum(name: str, spell, exit: bool = True):
    """printnum_int/_ulong/_ptr: ``[value]`` of the STRU int or long the kernel
    wrote (read), else the address."""
    def render(c: Call, i: int) -> str:
        data = c.struct(i, name, exit=exit)
        f = S.fixed(name, data) if data is not None else None
        if f is None or (exit and not c.ok) or not c.verbose:
            return ptr(c.arg(i))
        value = f["value"] & (0xFFFFFFFF if name == "int" else (1 << 64) - 1)
        return f"[{spell(value)}]"
    return render


def signal_or_zero(sig: int) -> str:
    return signame(sig) if sig else "0"


SIGNAL = signals.SIGNAL

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


FUTEX_WAITV = struct.Struct("<QQII")     # val, uaddr, flags, __reserved
FUTEX_WAITV_MAX = 128


def _waiters(c: Call, i: int) -> str:
    """futex_waitv's waiters: ``[{val=0, uaddr=0x.., flags=FUTEX_32}, ...]``."""
    count = c.arg(1) & 0xFFFFFFFF
    if not c.arg(i) or not c.verbose:
        return ptr(c.arg(i))
    if not count:
        return "[]"
    rec = c.array(i, "futex_waitv", exit=False)
    shown = min(count, c.opts.strsize, FUTEX_WAITV_MAX + 1)
    have = len(rec.data) // FUTEX_WAITV.size if rec is not None else 0
    if not have:
        return ptr(c.arg(i))

    def items():
        for n in range(count):
            if n >= have:       # the rest was unreadable (linux_plan's doc)
                yield f"... /* {ptr(c.arg(i) + n * FUTEX_WAITV.size)} */"
                return
            if n >= shown or n >= FUTEX_WAITV_MAX:
                yield "..."
                return
            val, uaddr, fl, reserved = FUTEX_WAITV.unpack_from(rec.data, n * FUTEX_WAITV.size)
            text = (f"{{val={hexval(val)}, uaddr={ptr(uaddr)}, "
                    f"flags={flags(L.FUTEX_WAITER_FLAGS, fl, unknown='FUTEX_???')}")
            yield text + (f", __reserved={hexval(reserved)}}}" if reserved else "}")
    parts = list(items())
    return "[" + ", ".join(parts) + "]"


def _futex_waitv(c: Call, i: int) -> str:
    data = c.struct(3, "timespec", exit=False)
    timeout = T.timespec_text(data) if data is not None and c.verbose else ptr(c.arg(3))
    return ", ".join([_waiters(c, 0), str(c.arg(1) & 0xFFFFFFFF),
                      hexval(c.arg(2) & 0xFFFFFFFF), timeout,
                      xval(L.CLOCK_IDS, c.arg(4) & 0xFFFFFFFF, "CLOCK_???")])


def rlim64(value: int) -> str:
    """print_rlim64_t: RLIM64_INFINITY, 8*1024, in -X's style."""
    if value == RLIM64_INFINITY:
        return named("RLIM64_INFINITY", value, str(value))
    if value > 1024 and value % 1024 == 0:
        return named(f"{value // 1024}*1024", value, str(value))
    return str(value)


RLIM64_INFINITY = (1 << 64) - 1


def rlimit_text(data: bytes, c: Call) -> str:
    f = S.fixed("rlimit", data)
    if f is None:
        return ptr(0)
    return f"{{rlim_cur={rlim64(f['rlim_cur'])}, rlim_max={rlim64(f['rlim_max'])}}}"


def _rlimit(exit: bool):
    """x86-64's rlim_t is 64 bits for getrlimit too: strace's print_rlimit64."""
    return p_struct("rlimit", rlimit_text, exit=exit)


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


IOPRIO_WHO = Arg(p_xval(L.IOPRIO_WHO, "IOPRIO_WHO_???"))


def _who(table: Xlat, process: str, pgrp: str) -> Arg:
    """ioprio's and getpriority's who: printpid of a process or a process group,
    as the first argument says, else a number."""
    kinds = {table.value(process): PT_TGID, table.value(pgrp): PT_PGID}

    def render(c: Call, i: int) -> str:
        kind, who = kinds.get(c_int(c.arg(0))), c_int(c.arg(i))
        return pid_text(c, who, kind) if kind else str(who)
    return Arg(render)


RUSAGE = at_exit(_rusage)
WAIT4_OPTIONS = Arg(p_flags(L.WAIT4_OPTIONS, "W???"))
RLIMIT = Arg(p_xval(L.RLIMITS, "RLIMIT_???"))
NO_ARGS = ("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
           "getpgrp", "setsid", "fork", "vfork", "sched_yield", "pause", "sync", "vhangup",
           "munlockall", "inotify_init")


def _resuming(c: Call, i: int) -> str:
    """restart_syscall's one "argument": the thread's call it resumes."""
    return f"<... resuming interrupted {c.resumes or 'system call'} ...>"


SYSCALLS = {
    "execve": (PATH, Arg(_execve_argv), Arg(_execve_envp)),
    "execveat": (DIRFD, PATH, Arg(_execve_argv), Arg(_execve_envp),
                 Arg(p_flags(L.AT_FLAGS, "AT_???"))),
    "clone": (Arg(_clone_entry), None, None, Arg(_clone_exit, exit=True, lead=True)),
    "clone3": (Arg(_clone3), Arg(_clone3_rest, exit=_clone3_waits, lead=True)),
    "exit": (INT,), "exit_group": (INT,),
    "wait4": (TGID_PGID, at_exit(_wait_status), WAIT4_OPTIONS, at_exit(_wait4_rusage)),
    "waitid": (Arg(p_xval(L.IDTYPES, "P_???")), Arg(_waitid_id),
               at_exit(p_struct("siginfo", _waitid_siginfo)), WAIT4_OPTIONS, RUSAGE),
    "kill": (TGID_PGID, SIGNAL), "tkill": (TID, SIGNAL), "tgkill": (TGID, TID, SIGNAL),
    "set_tid_address": (PTR,), "set_robust_list": (PTR, ULONG),
    "get_robust_list": (TID, at_exit(printnum("long", ptr)), at_exit(printnum("long", str))),
    "kcmp": (Arg(_kcmp),),
    "getcpu": (at_exit(printnum("int", lambda v: str(v & 0xFFFFFFFF))),
               at_exit(printnum("int", lambda v: str(v & 0xFFFFFFFF))), at_exit(p_ptr)),
    "rseq": (PTR, HEX, INT, HEX),
    "futex": (Arg(_futex),),
    "futex_waitv": (Arg(_futex_waitv),),
    "getrlimit": (RLIMIT, at_exit(_rlimit(True))),
    "setrlimit": (RLIMIT, Arg(_rlimit(False))),
    "prlimit64": (TGID, RLIMIT, Arg(_rlimit(False)), at_exit(_rlimit(True))),
    "getrusage": (Arg(p_xval(L.RUSAGE_WHO, "RUSAGE_???")), RUSAGE),
    "getgroups": (INT, at_exit(_groups(True))), "setgroups": (INT, Arg(_groups(False))),
    "uname": (at_exit(p_struct("utsname", T.utsname_text)),),
    "sysinfo": (at_exit(p_struct("sysinfo", T.sysinfo_text)),),
    "setuid": (UID,), "setgid": (UID,), "setpgid": (TGID, PGID), "getpgid": (TGID,),
    "getsid": (TGID,), "setresuid": (UID, UID, UID), "setresgid": (UID, UID, UID),
    "getresuid": (STORED_ID,) * 3, "getresgid": (STORED_ID,) * 3,
    "setreuid": (UID, UID), "setregid": (UID, UID), "setfsuid": (UID,), "setfsgid": (UID,),
    "getpriority": (Arg(p_xval(L.PRIO_WHICH, "PRIO_???")),
                    _who(L.PRIO_WHICH, "PRIO_PROCESS", "PRIO_PGRP")),
    "setpriority": (Arg(p_xval(L.PRIO_WHICH, "PRIO_???")),
                    _who(L.PRIO_WHICH, "PRIO_PROCESS", "PRIO_PGRP"), INT),
    "pidfd_open": (TGID, Arg(p_flags(L.PIDFD_OPEN_FLAGS, "PIDFD_???"))),
    "pidfd_getfd": (FD, Arg(_target_fd), Arg(lambda c, i: hexval(c.arg(i) & 0xFFFFFFFF))),
    "ioprio_get": (IOPRIO_WHO, _who(L.IOPRIO_WHO, "IOPRIO_WHO_PROCESS", "IOPRIO_WHO_PGRP")),
    "ioprio_set": (IOPRIO_WHO, _who(L.IOPRIO_WHO, "IOPRIO_WHO_PROCESS", "IOPRIO_WHO_PGRP"),
                   Arg(lambda c, i: named(ioprio_text(c.arg(i)), c.arg(i), str(c_int(c.arg(i)))))),
    "setns": (FD, Arg(p_flags(L.SETNS_TYPES, "CLONE_NEW???"))),
    "unshare": (Arg(lambda c, i: flags(L.UNSHARE_FLAGS, c.arg(i), unknown="CLONE_???")),),
    **{name: () for name in NO_ARGS},
    "restart_syscall": (Arg(_resuming),),
}


# Calls that never return to the caller.
NO_RETURN = {"exit", "exit_group"}

RESULTS = {"ioprio_get": ioprio_result}

"""Linux x86-64 CALL arguments in kdump's layout, by syscall family.

FreeBSD's kdump decodes Linux processes in usr.bin/kdump/linux.c (dirfds,
open flags and modes, AT_ flags, signals, clocks, clone flags, sigprocmask);
the rest follows what kdump does for the same FreeBSD call (mmap, fcntl,
ioctl, socket, wait4, lseek, ...), with Linux's constants.
"""

from __future__ import annotations

from . import args as k
from .fmt import c_hex, c_int, open_flags_decoder, socket_type_decoder, u32, xlat_mask
from ..names import futex_op_name, signal_name
from ..xlat import LINUX as L, Xlat

AT_FDCWD = L.AT_FDCWD.value("AT_FDCWD")
O_CREAT = L.OPEN_FLAGS.value("O_CREAT")
O_ACCMODE = 3
CSIGNAL = 0xFF

# --- shared argument printers ---------------------------------------------

atfd = k.enum_valid(lambda v: "AT_FDCWD" if v == AT_FDCWD else None)
at_flags = k.mask0(xlat_mask(L.AT_FLAGS))
OPEN_FLAGS = open_flags_decoder(L.OPEN_ACCESS, L.OPEN_FLAGS, O_ACCMODE)
open_flags = k.open_flags(OPEN_FLAGS, O_CREAT)
signal = k.named(lambda v: signal_name(c_int(v)), lambda v, c: f"SIG {c_int(v)}")


def _cpuclock(v: int) -> str:
    """sysdecode_linux_clockid for negative (CPU-time) clock ids."""
    pid = ~(v >> 3)
    if v & 7 == 7:
        return f"INVALID PERTHREAD|CLOCKFD({pid})"
    kind = ("CPUCLOCK_PROF", "CPUCLOCK_VIRT", "CPUCLOCK_SCHED", "CLOCKFD")[v & 3]
    return f"{'THREAD' if v & 4 else 'PROCESS'}|{kind}({pid})"


def _clockid(v: int, c: k.Cursor) -> str:
    cid = c_int(v)
    if cid < 0:
        return _cpuclock(cid)
    return L.CLOCK_IDS.name(cid) or f"UNKNOWN({cid})"


clockid = k._one(_clockid)


def _clone_flags(value: int) -> tuple[list[str], int]:
    """sysdecode_linux_clone_flags: ``(SIGCHLD)`` then the CLONE_ bits."""
    v = u32(value)
    sig = v & CSIGNAL
    names, rem = L.CLONE_FLAGS.mask(v & ~CSIGNAL)
    if sig:
        prefix = f"({signal_name(sig) or sig})"
        names = [prefix + (names[0] if names else "")] + names[1:]
    return names, rem


_socket_type = socket_type_decoder(L.SOCKET_TYPES, L.SOCKET_FLAGS)


MMAP_FLAGS = xlat_mask(L.MAP_TYPES + L.MAP_FLAGS)
prot = k.mask(xlat_mask(L.PROT_FLAGS))


_socket = k.socket(L.ADDRESS_FAMILIES, _socket_type, L.IPPROTOS,
                   (L.ADDRESS_FAMILIES.value("AF_INET"), L.ADDRESS_FAMILIES.value("AF_INET6")))


def _sockopt(c: k.Cursor) -> None:
    """[gs]etsockopt(fd, level, name, ...): the name only where it is known."""
    k.num(c)
    if not c.left():
        return
    level = c_int(c.peek())
    k.enum_valid(_sockopt_level)(c)
    names = _SOCKOPT_NAMES.get(level)
    if names is not None and c.left() and names.name(c_int(c.peek())):
        c.out.append(names.name(c_int(c.take())))


def _sockopt_level(level: int) -> str | None:
    if level == L.SOCKOPT_LEVELS.value("SOL_SOCKET"):
        return "SOL_SOCKET"
    return L.IPPROTOS.name(level)


_SOCKOPT_NAMES = {L.SOCKOPT_LEVELS.value("SOL_SOCKET"): L.SOL_SOCKET_OPTS,
                  L.IPPROTOS.value("IPPROTO_TCP"): L.TCP_OPTS}

# fcntl commands whose third argument means nothing.
_FCNTL_NO_ARG = {L.FCNTL_CMDS.value(n) for n in (
    "F_GETFD", "F_GETFL", "F_GETOWN", "F_GETSIG", "F_GETLEASE", "F_GETPIPE_SZ",
    "F_GET_SEALS")}
_FCNTL_LOCKS = {L.FCNTL_CMDS.value(n) for n in (
    "F_GETLK", "F_SETLK", "F_SETLKW", "F_OFD_GETLK", "F_OFD_SETLK", "F_OFD_SETLKW")}


_fcntl_arg = k.fcntl_arg(L.FCNTL_CMDS.value("F_SETFD"), L.FCNTL_CMDS.value("F_SETFL"),
                         _FCNTL_LOCKS, OPEN_FLAGS)
fcntl = k.fcntl(L.FCNTL_CMDS, lambda cmd: cmd not in _FCNTL_NO_ARG, _fcntl_arg)
ioctl_cmd = k.named(lambda v: L.IOCTLS.name(u32(v)),
                    lambda v, c: str(v) if c.opts.decimal else c_hex(v))
futex_op = k._one(lambda v, c: futex_op_name(c_int(v)))


def flags0(table: Xlat) -> k.Printer:
    return k.mask0(xlat_mask(table))


n = k.num

# --- the table, by family ---------------------------------------------------

FS = [
    (("open",), (n, open_flags)),
    (("openat",), (atfd, n, open_flags)),
    (("openat2", "readlinkat", "futimesat", "name_to_handle_at"), (atfd,)),
    (("creat", "chmod", "fchmod", "mkdir", "mknod"), (n, k.mode)),
    (("fchmodat", "mkdirat", "mknodat"), (atfd, n, k.mode)),
    (("access",), (n, k.mask(xlat_mask(L.ACCESS_MODES)))),
    (("faccessat",), (atfd, n, k.mask(xlat_mask(L.ACCESS_MODES)))),
    (("faccessat2",), (atfd, n, k.mask(xlat_mask(L.ACCESS_MODES)),
                       flags0(L.AT_EACCESS_FLAGS))),
    (("linkat",), (atfd, n, atfd, n, at_flags)),
    (("renameat",), (atfd, n, atfd, n)),
    (("renameat2",), (atfd, n, atfd, n, flags0(L.RENAME_FLAGS))),
    (("symlinkat",), (n, atfd, n)),
    (("fchownat",), (atfd, n, n, n, at_flags)),
    (("newfstatat", "utimensat"), (atfd, n, n, at_flags)),
    (("unlinkat",), (atfd, n, at_flags)),
    (("statx",), (atfd, n, flags0(L.AT_FLAGS + L.AT_STATX_SYNC),
                  k.mask(xlat_mask(L.STATX_MASK)))),
    (("execveat",), (atfd, n, n, n, at_flags)),
    (("umask",), (k.mode,)),
    (("lseek",), (n, n, k.enum(L.SEEK_WHENCE))),
    (("fcntl",), (n, fcntl)),
    (("ioctl",), (n, ioctl_cmd)),
    (("flock",), (n, k.mask(xlat_mask(L.FLOCK_OPS)))),
    (("fadvise64",), (n, n, n, k.enum(L.FADVISE))),
    (("pipe2",), (n, flags0(L.PIPE_FLAGS))),
    (("dup3",), (n, n, flags0(L.PIPE_FLAGS))),
    (("eventfd2",), (n, flags0(L.EVENTFD_FLAGS))),
    (("epoll_create1",), (flags0(L.EPOLL_CREATE_FLAGS),)),
    (("epoll_ctl",), (n, k.enum(L.EPOLL_CTL_OPS))),
    (("inotify_init1",), (flags0(L.INOTIFY_INIT_FLAGS),)),
    (("memfd_create",), (n, flags0(L.MEMFD_FLAGS))),
    (("getrandom",), (n, n, flags0(L.GETRANDOM_FLAGS))),
    (("fallocate",), (n, flags0(L.FALLOC_FLAGS))),
    (("close_range",), (n, n, flags0(L.CLOSE_RANGE_FLAGS))),
]

MM = [
    (("mmap",), (n, n, prot, k.mask(MMAP_FLAGS))),
    (("mprotect", "pkey_mprotect"), (n, n, prot)),
    (("madvise",), (n, n, k.enum(L.MADVISE))),
    (("mremap",), (n, n, n, flags0(L.MREMAP_FLAGS))),
    (("msync",), (n, n, k.mask(xlat_mask(L.MSYNC_FLAGS)))),
    (("mlockall",), (k.mask(xlat_mask(L.MLOCKALL_FLAGS)),)),
]

PROCESS = [
    (("clone",), (k.mask(_clone_flags),)),
    (("wait4",), (n, n, flags0(L.WAIT_OPTIONS))),
    (("waitid",), (k.enum(L.IDTYPES), n, n, flags0(L.WAITID_OPTIONS))),
    (("prctl",), (k.enum(L.PRCTL_OPTIONS),)),
    (("arch_prctl",), (k.enum(L.ARCH_PRCTL_CODES),)),
    (("getrlimit", "setrlimit"), (k.enum(L.RLIMITS),)),
    (("prlimit64",), (n, k.enum(L.RLIMITS))),
    (("getrusage",), (k.enum(L.RUSAGE_WHO),)),
    (("getpriority", "setpriority"), (k.enum(L.PRIO_WHICH),)),
    (("sched_setscheduler",), (n, k.enum(L.SCHED_POLICIES))),
    (("sched_get_priority_max", "sched_get_priority_min"), (k.enum(L.SCHED_POLICIES),)),
    (("futex",), (n, futex_op)),
    (("seccomp",), (k.enum(L.SECCOMP_OPS),)),
]

SIGNAL = [
    (("kill", "tkill", "rt_sigqueueinfo"), (k.dec, signal)),
    (("tgkill", "rt_tgsigqueueinfo"), (k.dec, k.dec, signal)),
    (("rt_sigaction",), (signal,)),
    (("rt_sigprocmask",), (k.enum(L.SIGPROCMASK_HOW),)),
]

NET = [
    (("socket",), (_socket,)),
    (("socketpair",), (k.enum(L.ADDRESS_FAMILIES), k.mask(_socket_type))),
    (("setsockopt", "getsockopt"), (_sockopt,)),
    (("sendto", "recvfrom"), (n, n, n, flags0(L.MSG_FLAGS))),
    (("sendmsg", "recvmsg"), (n, n, flags0(L.MSG_FLAGS))),
    (("sendmmsg", "recvmmsg"), (n, n, n, flags0(L.MSG_FLAGS))),
    (("accept4",), (n, n, n, flags0(L.SOCKET_FLAGS))),
    (("shutdown",), (n, k.enum(L.SHUTDOWN_HOW))),
]

TIME = [
    (("clock_gettime", "clock_settime", "clock_getres", "timer_create"), (clockid,)),
    (("clock_nanosleep",), (clockid, flags0(L.TIMER_FLAGS))),
    (("getitimer", "setitimer"), (k.enum(L.ITIMER_WHICH),)),
    (("timerfd_create",), (clockid, flags0(L.TIMERFD_FLAGS))),
]

TABLE = k.table(FS, MM, PROCESS, SIGNAL, NET, TIME)

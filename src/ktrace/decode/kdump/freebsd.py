"""FreeBSD CALL arguments as FreeBSD's kdump decodes them (the common ones)."""

from __future__ import annotations

from .. import freebsd_xlat as F
from . import args as k
from .fmt import c_int, open_flags_decoder, socket_type_decoder, u32, xlat_mask

OPEN_FLAGS = open_flags_decoder(F.OPEN_ACCESS, F.OPEN_FLAGS, F.O_ACCMODE)
atfd = k.enum_valid(lambda v: "AT_FDCWD" if v == F.AT_FDCWD else None)
at_flags = k.mask0(xlat_mask(F.AT_FLAGS))
n = k.num


def _mmap_flags(value: int) -> tuple[list[str], int]:
    """sysdecode_mmap_flags: the alignment request first, then the flag bits."""
    v = u32(value)
    align = v >> F.MAP_ALIGNMENT_SHIFT
    names, rem = F.MAP_FLAGS.mask(v & ((1 << F.MAP_ALIGNMENT_SHIFT) - 1))
    if v & ~((1 << F.MAP_ALIGNMENT_SHIFT) - 1) == F.MAP_ALIGNED_SUPER:
        names.insert(0, "MAP_ALIGNED_SUPER")
    elif align:
        names.insert(0, f"MAP_ALIGNED({align})")
    return names, rem


_FCNTL_NO_ARG = {F.FCNTL_CMDS.value(x) for x in ("F_GETFD", "F_GETFL", "F_GETOWN")}
_fcntl_arg = k.fcntl_arg(F.FCNTL_CMDS.value("F_SETFD"), F.FCNTL_CMDS.value("F_SETFL"),
                         {F.FCNTL_CMDS.value(x) for x in ("F_GETLK", "F_SETLK", "F_SETLKW")},
                         OPEN_FLAGS)
_socket_type = socket_type_decoder(F.SOCKET_TYPES, F.SOCKET_FLAGS)
_socket = k.socket(F.SOCKET_DOMAINS, _socket_type, F.IPPROTOS,
                   (F.SOCKET_DOMAINS.value("PF_INET"), F.SOCKET_DOMAINS.value("PF_INET6")))


def make_table(signal_name) -> k.Table:
    """The table for one ABI; signal names come from that ABI."""
    signal = k.named(lambda v: signal_name(c_int(v)), lambda v, c: f"SIG {c_int(v)}")
    access = k.mask(xlat_mask(F.ACCESS_MODES))
    prot = k.mask(xlat_mask(F.PROT_FLAGS))
    msg0 = k.mask0(xlat_mask(F.MSG_FLAGS))
    return k.table([
        (("openat",), (atfd, n, k.open_flags(OPEN_FLAGS, F.O_CREAT))),
        (("open",), (n, k.open_flags(OPEN_FLAGS, F.O_CREAT))),
        (("readlinkat", "futimesat", "bindat", "connectat", "chflagsat"), (atfd,)),
        (("access", "eaccess"), (n, access)),
        (("faccessat",), (atfd, n, access, at_flags)),
        (("chmod", "fchmod", "lchmod", "mkdir", "mkfifo"), (n, k.mode)),
        (("fchmodat", "mkdirat", "mkfifoat", "mknodat"), (atfd, n, k.mode)),
        (("linkat",), (atfd, n, atfd, n, at_flags)),
        (("renameat",), (atfd, n, atfd, n)),
        (("symlinkat",), (n, atfd, n)),
        (("fchownat",), (atfd, n, n, n, at_flags)),
        (("fstatat", "utimensat"), (atfd, n, n, at_flags)),
        (("unlinkat",), (atfd, n, at_flags)),
        (("umask",), (k.mode,)),
        (("ioctl",), (n, k.named(lambda v: F.IOCTLS.name(u32(v)),
                                 lambda v, c: str(v) if c.opts.decimal else f"{v:#x}"))),
        (("fcntl",), (n, k.fcntl(F.FCNTL_CMDS, lambda cmd: cmd not in _FCNTL_NO_ARG,
                                 _fcntl_arg))),
        (("lseek",), (n, n, k.enum(F.SEEK_WHENCE))),
        (("flock",), (n, k.mask(xlat_mask(F.FLOCK_OPS)))),
        (("mmap",), (n, n, prot, k.mask(_mmap_flags))),
        (("mprotect",), (n, n, prot)),
        (("madvise",), (n, n, k.enum(F.MADVISE))),
        (("wait4",), (n, n, k.mask0(xlat_mask(F.WAIT_OPTIONS)))),
        (("kill", "thr_kill"), (n, signal)),
        (("sigaction",), (signal,)),
        (("sigprocmask",), (k.enum(F.SIGPROCMASK_HOW),)),
        (("socket",), (_socket,)),
        (("socketpair",), (k.enum(F.SOCKET_DOMAINS), k.mask(_socket_type))),
        (("sendto", "recvfrom"), (n, n, n, msg0)),
        (("sendmsg", "recvmsg"), (n, n, msg0)),
        (("shutdown",), (n, k.enum(F.SHUTDOWN_HOW))),
        (("getrlimit", "setrlimit"), (k.enum(F.RLIMITS),)),
        (("getrusage",), (k.enum(F.RUSAGE_WHO),)),
        (("getpriority", "setpriority"), (k.enum(F.PRIO_WHICH),)),
    ])

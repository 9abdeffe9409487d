"""FreeBSD constant tables (values from FreeBSD's sys/*.h), for FreeBSD traces.

Written by hand: this machine has no FreeBSD headers.  Only the tables that
kdump's common decodings need are here; the order is libsysdecode's (header
definition order), which decides how masks print.
"""

from __future__ import annotations

from .xlat import Xlat


def _x(*pairs) -> Xlat:
    return Xlat(pairs)


AT_FDCWD = -100
O_ACCMODE = 3
O_CREAT = 0x200

OPEN_ACCESS = _x((0, "O_RDONLY"), (1, "O_WRONLY"), (2, "O_RDWR"))
OPEN_FLAGS = _x(
    (0x4, "O_NONBLOCK"), (0x8, "O_APPEND"), (0x10, "O_SHLOCK"), (0x20, "O_EXLOCK"),
    (0x40, "O_ASYNC"), (0x80, "O_FSYNC"), (0x100, "O_NOFOLLOW"), (0x200, "O_CREAT"),
    (0x400, "O_TRUNC"), (0x800, "O_EXCL"), (0x8000, "O_NOCTTY"), (0x10000, "O_DIRECT"),
    (0x20000, "O_DIRECTORY"), (0x40000, "O_EXEC"), (0x80000, "O_TTY_INIT"),
    (0x100000, "O_CLOEXEC"), (0x200000, "O_VERIFY"), (0x400000, "O_PATH"),
    (0x800000, "O_RESOLVE_BENEATH"), (0x1000000, "O_DSYNC"), (0x2000000, "O_EMPTY_PATH"),
    (0x4000000, "O_NAMEDATTR"), (0x8000000, "O_CLOFORK"))
AT_FLAGS = _x((0x100, "AT_EACCESS"), (0x200, "AT_SYMLINK_NOFOLLOW"),
              (0x400, "AT_SYMLINK_FOLLOW"), (0x800, "AT_REMOVEDIR"),
              (0x2000, "AT_RESOLVE_BENEATH"), (0x4000, "AT_EMPTY_PATH"))
ACCESS_MODES = _x((0, "F_OK"), (1, "X_OK"), (2, "W_OK"), (4, "R_OK"))
PROT_FLAGS = _x((0, "PROT_NONE"), (1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"))
MAP_FLAGS = _x(
    (0x1, "MAP_SHARED"), (0x2, "MAP_PRIVATE"), (0x10, "MAP_FIXED"),
    (0x200, "MAP_HASSEMAPHORE"), (0x400, "MAP_STACK"), (0x800, "MAP_NOSYNC"),
    (0x0, "MAP_FILE"), (0x1000, "MAP_ANON"), (0x2000, "MAP_GUARD"), (0x4000, "MAP_EXCL"),
    (0x20000, "MAP_NOCORE"), (0x40000, "MAP_PREFAULT_READ"), (0x80000, "MAP_32BIT"))
MAP_ALIGNMENT_SHIFT = 24
MAP_ALIGNED_SUPER = 1 << MAP_ALIGNMENT_SHIFT
MADVISE = _x((0, "MADV_NORMAL"), (1, "MADV_RANDOM"), (2, "MADV_SEQUENTIAL"),
             (3, "MADV_WILLNEED"), (4, "MADV_DONTNEED"), (5, "MADV_FREE"),
             (6, "MADV_NOSYNC"), (7, "MADV_AUTOSYNC"), (8, "MADV_NOCORE"),
             (9, "MADV_CORE"), (10, "MADV_PROTECT"))
FCNTL_CMDS = _x(
    (0, "F_DUPFD"), (1, "F_GETFD"), (2, "F_SETFD"), (3, "F_GETFL"), (4, "F_SETFL"),
    (5, "F_GETOWN"), (6, "F_SETOWN"), (7, "F_OGETLK"), (8, "F_OSETLK"), (9, "F_OSETLKW"),
    (10, "F_DUP2FD"), (11, "F_GETLK"), (12, "F_SETLK"), (13, "F_SETLKW"),
    (14, "F_SETLK_REMOTE"), (15, "F_READAHEAD"), (16, "F_RDAHEAD"),
    (17, "F_DUPFD_CLOEXEC"), (18, "F_DUP2FD_CLOEXEC"), (19, "F_ADD_SEALS"),
    (20, "F_GET_SEALS"), (21, "F_ISUNIONSTACK"), (22, "F_KINFO"))
FD_CLOEXEC = 1
IOCTLS = _x(
    (0x402C7413, "TIOCGETA"), (0x802C7414, "TIOCSETA"), (0x802C7415, "TIOCSETAW"),
    (0x802C7416, "TIOCSETAF"), (0x40087468, "TIOCGWINSZ"), (0x80087467, "TIOCSWINSZ"),
    (0x4004667F, "FIONREAD"), (0x8004667E, "FIONBIO"), (0x8004667D, "FIOASYNC"),
    (0x4004667A, "FIODTYPE"), (0x20006601, "FIOCLEX"), (0x20006602, "FIONCLEX"),
    (0x40047477, "TIOCGPGRP"), (0x80047476, "TIOCSPGRP"), (0x20007461, "TIOCSCTTY"),
    (0x20007471, "TIOCNOTTY"), (0x4004741A, "TIOCGETD"), (0x20007465, "TIOCSTAT"))
WAIT_OPTIONS = _x((1, "WNOHANG"), (2, "WUNTRACED"), (4, "WCONTINUED"), (8, "WNOWAIT"),
                  (16, "WEXITED"), (32, "WTRAPPED"), (0x80000000, "WLINUXCLONE"))
SIGPROCMASK_HOW = _x((1, "SIG_BLOCK"), (2, "SIG_UNBLOCK"), (3, "SIG_SETMASK"))
SOCKET_DOMAINS = _x(
    (0, "PF_UNSPEC"), (1, "PF_LOCAL"), (2, "PF_INET"), (17, "PF_ROUTE"), (27, "PF_KEY"),
    (28, "PF_INET6"), (32, "PF_NETGRAPH"), (36, "PF_BLUETOOTH"), (38, "PF_NETLINK"),
    (40, "PF_HYPERV"), (42, "PF_DIVERT"))
SOCKET_TYPES = _x((1, "SOCK_STREAM"), (2, "SOCK_DGRAM"), (3, "SOCK_RAW"), (4, "SOCK_RDM"),
                  (5, "SOCK_SEQPACKET"))
SOCKET_FLAGS = _x((0x10000000, "SOCK_CLOEXEC"), (0x08000000, "SOCK_CLOFORK"),
                  (0x20000000, "SOCK_NONBLOCK"))
IPPROTOS = _x((0, "IPPROTO_IP"), (1, "IPPROTO_ICMP"), (2, "IPPROTO_IGMP"), (6, "IPPROTO_TCP"),
              (17, "IPPROTO_UDP"), (41, "IPPROTO_IPV6"), (58, "IPPROTO_ICMPV6"),
              (132, "IPPROTO_SCTP"), (136, "IPPROTO_UDPLITE"), (255, "IPPROTO_RAW"))
SOCKET_FAMILIES = _x((0, "AF_UNSPEC"), (1, "AF_UNIX"), (2, "AF_INET"), (17, "AF_ROUTE"),
                     (28, "AF_INET6"), (38, "AF_NETLINK"))
RLIMITS = _x((0, "RLIMIT_CPU"), (1, "RLIMIT_FSIZE"), (2, "RLIMIT_DATA"), (3, "RLIMIT_STACK"),
             (4, "RLIMIT_CORE"), (5, "RLIMIT_RSS"), (6, "RLIMIT_MEMLOCK"), (7, "RLIMIT_NPROC"),
             (8, "RLIMIT_NOFILE"), (9, "RLIMIT_SBSIZE"), (10, "RLIMIT_VMEM"),
             (11, "RLIMIT_NPTS"), (12, "RLIMIT_SWAP"), (13, "RLIMIT_KQUEUES"),
             (14, "RLIMIT_UMTXP"), (15, "RLIMIT_PIPEBUF"))
SEEK_WHENCE = _x((0, "SEEK_SET"), (1, "SEEK_CUR"), (2, "SEEK_END"), (3, "SEEK_DATA"),
                 (4, "SEEK_HOLE"))
FLOCK_OPS = _x((1, "LOCK_SH"), (2, "LOCK_EX"), (4, "LOCK_NB"), (8, "LOCK_UN"))
SHUTDOWN_HOW = _x((0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR"))
MSG_FLAGS = _x((0x1, "MSG_OOB"), (0x2, "MSG_PEEK"), (0x4, "MSG_DONTROUTE"), (0x8, "MSG_EOR"),
               (0x10, "MSG_TRUNC"), (0x20, "MSG_CTRUNC"), (0x40, "MSG_WAITALL"),
               (0x80, "MSG_DONTWAIT"), (0x100, "MSG_EOF"), (0x2000, "MSG_NOTIFICATION"),
               (0x4000, "MSG_NBIO"), (0x8000, "MSG_COMPAT"), (0x20000, "MSG_NOSIGNAL"),
               (0x40000, "MSG_CMSG_CLOEXEC"), (0x80000, "MSG_WAITFORONE"))
RUSAGE_WHO = _x((0, "RUSAGE_SELF"), (-1, "RUSAGE_CHILDREN"), (1, "RUSAGE_THREAD"))
PRIO_WHICH = _x((0, "PRIO_PROCESS"), (1, "PRIO_PGRP"), (2, "PRIO_USER"))
# si_code: the general codes, then the per-signal ones (sys/signal.h).
SI_CODES = _x((0, "SI_NOINFO"), (0x10001, "SI_USER"), (0x10002, "SI_QUEUE"),
              (0x10003, "SI_TIMER"), (0x10004, "SI_ASYNCIO"), (0x10005, "SI_MESGQ"),
              (0x10006, "SI_KERNEL"), (0x10007, "SI_LWP"))
# sys/vm/vm.h, in header order (a mask: NONE shows only for zero): FAULT's access
VM_PROT = _x((0x00, "VM_PROT_NONE"), (0x01, "VM_PROT_READ"), (0x02, "VM_PROT_WRITE"),
             (0x04, "VM_PROT_EXECUTE"), (0x08, "VM_PROT_COPY"), (0x10, "VM_PROT_PRIV_FLAG"))
# sys/vm/vm_param.h: the KERN_* results of vm_fault (FAULTEND)
KERN_RESULTS = _x(
    (0, "KERN_SUCCESS"), (1, "KERN_INVALID_ADDRESS"), (2, "KERN_PROTECTION_FAILURE"),
    (3, "KERN_NO_SPACE"), (4, "KERN_INVALID_ARGUMENT"), (5, "KERN_FAILURE"),
    (6, "KERN_RESOURCE_SHORTAGE"), (7, "KERN_NOT_RECEIVER"), (8, "KERN_NO_ACCESS"),
    (9, "KERN_OUT_OF_BOUNDS"), (10, "KERN_RESTART"))

SIGCODES = {   # signal number -> its own codes
    4: _x((1, "ILL_ILLOPC"), (2, "ILL_ILLOPN"), (3, "ILL_ILLADR"), (4, "ILL_ILLTRP"),
          (5, "ILL_PRVOPC"), (6, "ILL_PRVREG"), (7, "ILL_COPROC"), (8, "ILL_BADSTK")),
    5: _x((1, "TRAP_BRKPT"), (2, "TRAP_TRACE"), (3, "TRAP_DTRACE"), (4, "TRAP_CAP")),
    8: _x((1, "FPE_INTOVF"), (2, "FPE_INTDIV"), (3, "FPE_FLTDIV"), (4, "FPE_FLTOVF"),
          (5, "FPE_FLTUND"), (6, "FPE_FLTRES"), (7, "FPE_FLTINV"), (8, "FPE_FLTSUB"),
          (9, "FPE_FLTIDO")),
    10: _x((1, "BUS_ADRALN"), (2, "BUS_ADRERR"), (3, "BUS_OBJERR"), (100, "BUS_OOMERR")),
    11: _x((1, "SEGV_MAPERR"), (2, "SEGV_ACCERR"), (100, "SEGV_PKUERR")),
    20: _x((1, "CLD_EXITED"), (2, "CLD_KILLED"), (3, "CLD_DUMPED"), (4, "CLD_TRAPPED"),
           (5, "CLD_STOPPED"), (6, "CLD_CONTINUED")),
}

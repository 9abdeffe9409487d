#!/usr/bin/env python3
"""Generate src/ktrace/decode/linux_xlat.py from this machine's headers.

The Linux constant tables (flags, commands, codes) are data, in the manner of
strace's xlat files: each table below names the constants it holds, in the
order they print, and the headers that define them.  This tool compiles one
tiny C program per table against those headers (the kernel's UAPI headers
under /usr/include/linux and /usr/include/asm*, glibc's where the UAPI has no
header of its own) and writes the values it prints as Python tuples.  Names a
header does not define are left out and reported.

Run: python3 tools/gen_xlat.py [output]   (needs a C compiler)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/ktrace/decode/linux_xlat.py"


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# (table, headers, names): the order of names is the printing order (strace's).
TABLES = [
    # --- fs -------------------------------------------------------------
    ("OPEN_ACCESS", ["linux/fcntl.h"], words("O_RDONLY O_WRONLY O_RDWR")),
    ("OPEN_FLAGS", ["linux/fcntl.h"], words(
        "O_CREAT O_EXCL O_NOCTTY O_TRUNC O_APPEND O_NONBLOCK O_SYNC O_DSYNC "
        "O_DIRECT O_LARGEFILE O_NOFOLLOW O_NOATIME O_CLOEXEC O_PATH O_TMPFILE "
        "O_DIRECTORY FASYNC")),
    ("AT_FLAGS", ["linux/fcntl.h"], words(
        "AT_SYMLINK_NOFOLLOW AT_REMOVEDIR AT_SYMLINK_FOLLOW AT_NO_AUTOMOUNT "
        "AT_EMPTY_PATH AT_RECURSIVE")),
    ("AT_EACCESS_FLAGS", ["linux/fcntl.h"], words(
        "AT_SYMLINK_NOFOLLOW AT_EACCESS AT_EMPTY_PATH")),
    ("AT_STATX_SYNC", ["linux/fcntl.h"], words(
        "AT_STATX_SYNC_AS_STAT AT_STATX_FORCE_SYNC AT_STATX_DONT_SYNC")),
    ("AT_FDCWD", ["linux/fcntl.h"], words("AT_FDCWD")),
    ("ACCESS_MODES", ["unistd.h"], words("F_OK R_OK W_OK X_OK")),
    ("SEEK_WHENCE", ["linux/fs.h"], words(
        "SEEK_SET SEEK_CUR SEEK_END SEEK_DATA SEEK_HOLE")),
    ("FCNTL_CMDS", ["linux/fcntl.h"], words(
        "F_DUPFD F_GETFD F_SETFD F_GETFL F_SETFL F_GETLK F_SETLK F_SETLKW "
        "F_SETOWN F_GETOWN F_SETSIG F_GETSIG F_SETOWN_EX F_GETOWN_EX "
        "F_GETOWNER_UIDS F_OFD_GETLK F_OFD_SETLK F_OFD_SETLKW F_SETLEASE "
        "F_GETLEASE F_NOTIFY F_CANCELLK F_DUPFD_CLOEXEC F_SETPIPE_SZ "
        "F_GETPIPE_SZ F_ADD_SEALS F_GET_SEALS F_GET_RW_HINT F_SET_RW_HINT "
        "F_GET_FILE_RW_HINT F_SET_FILE_RW_HINT")),
    ("FD_FLAGS", ["linux/fcntl.h"], words("FD_CLOEXEC")),
    ("LOCK_TYPES", ["linux/fcntl.h"], words("F_RDLCK F_WRLCK F_UNLCK")),
    ("FLOCK_OPS", ["linux/fcntl.h"], words("LOCK_SH LOCK_EX LOCK_NB LOCK_UN")),
    ("FILE_TYPES", ["sys/stat.h"], words(
        "S_IFREG S_IFSOCK S_IFIFO S_IFLNK S_IFDIR S_IFBLK S_IFCHR")),
    ("MODE_BITS", ["sys/stat.h"], words("S_ISUID S_ISGID S_ISVTX")),
    ("STATX_MASK", ["linux/stat.h"], words(
        "STATX_TYPE STATX_MODE STATX_NLINK STATX_UID STATX_GID STATX_ATIME "
        "STATX_MTIME STATX_CTIME STATX_INO STATX_SIZE STATX_BLOCKS "
        "STATX_BTIME STATX_MNT_ID STATX_DIOALIGN")),
    ("STATX_BASIC_STATS", ["linux/stat.h"], words("STATX_BASIC_STATS")),
    ("STATX_ATTRS", ["linux/stat.h"], words(
        "STATX_ATTR_COMPRESSED STATX_ATTR_IMMUTABLE STATX_ATTR_APPEND "
        "STATX_ATTR_NODUMP STATX_ATTR_ENCRYPTED STATX_ATTR_AUTOMOUNT "
        "STATX_ATTR_MOUNT_ROOT STATX_ATTR_VERITY STATX_ATTR_DAX")),
    ("RENAME_FLAGS", ["linux/fs.h"], words(
        "RENAME_NOREPLACE RENAME_EXCHANGE RENAME_WHITEOUT")),
    ("XATTR_FLAGS", ["linux/xattr.h"], words("XATTR_CREATE XATTR_REPLACE")),
    ("FALLOC_FLAGS", ["linux/falloc.h"], words(
        "FALLOC_FL_KEEP_SIZE FALLOC_FL_PUNCH_HOLE FALLOC_FL_NO_HIDE_STALE "
        "FALLOC_FL_COLLAPSE_RANGE FALLOC_FL_ZERO_RANGE FALLOC_FL_INSERT_RANGE "
        "FALLOC_FL_UNSHARE_RANGE")),
    ("FADVISE", ["linux/fadvise.h"], words(
        "POSIX_FADV_NORMAL POSIX_FADV_RANDOM POSIX_FADV_SEQUENTIAL "
        "POSIX_FADV_WILLNEED POSIX_FADV_DONTNEED POSIX_FADV_NOREUSE")),
    ("GETRANDOM_FLAGS", ["linux/random.h"], words(
        "GRND_NONBLOCK GRND_RANDOM GRND_INSECURE")),
    ("PIPE_FLAGS", ["linux/fcntl.h"], words(
        "O_NONBLOCK O_DIRECT O_NOTIFICATION_PIPE O_CLOEXEC")),
    ("EPOLL_CREATE_FLAGS", ["linux/eventpoll.h"], words("EPOLL_CLOEXEC")),
    ("EPOLL_CTL_OPS", ["linux/eventpoll.h"], words(
        "EPOLL_CTL_ADD EPOLL_CTL_DEL EPOLL_CTL_MOD")),
    ("EPOLL_EVENTS", ["linux/eventpoll.h"], words(
        "EPOLLIN EPOLLPRI EPOLLOUT EPOLLERR EPOLLHUP EPOLLNVAL EPOLLRDNORM "
        "EPOLLRDBAND EPOLLWRNORM EPOLLWRBAND EPOLLMSG EPOLLRDHUP "
        "EPOLLEXCLUSIVE EPOLLWAKEUP EPOLLONESHOT EPOLLET")),
    ("POLL_EVENTS", ["asm/poll.h"], words(
        "POLLIN POLLPRI POLLOUT POLLERR POLLHUP POLLNVAL POLLRDNORM "
        "POLLRDBAND POLLWRNORM POLLWRBAND POLLMSG POLLREMOVE POLLRDHUP")),
    ("EVENTFD_FLAGS", ["sys/eventfd.h"], words(
        "EFD_SEMAPHORE EFD_CLOEXEC EFD_NONBLOCK")),
    ("MEMFD_FLAGS", ["linux/memfd.h"], words(
        "MFD_CLOEXEC MFD_ALLOW_SEALING MFD_HUGETLB MFD_NOEXEC_SEAL MFD_EXEC")),
    ("INOTIFY_INIT_FLAGS", ["linux/inotify.h"], words("IN_NONBLOCK IN_CLOEXEC")),
    ("CLOSE_RANGE_FLAGS", ["linux/close_range.h"], words(
        "CLOSE_RANGE_UNSHARE CLOSE_RANGE_CLOEXEC")),
    ("DIRENT_TYPES", ["dirent.h"], words(
        "DT_UNKNOWN DT_FIFO DT_CHR DT_DIR DT_BLK DT_REG DT_LNK DT_SOCK DT_WHT")),
    # --- mm -------------------------------------------------------------
    ("PROT_FLAGS", ["linux/mman.h"], words(
        "PROT_NONE PROT_READ PROT_WRITE PROT_EXEC PROT_SEM PROT_GROWSDOWN PROT_GROWSUP")),
    ("MAP_TYPES", ["linux/mman.h"], words(
        "MAP_SHARED MAP_PRIVATE MAP_SHARED_VALIDATE")),
    ("MAP_FLAGS", ["linux/mman.h"], words(
        "MAP_FIXED MAP_ANONYMOUS MAP_32BIT MAP_NORESERVE MAP_POPULATE "
        "MAP_NONBLOCK MAP_GROWSDOWN MAP_DENYWRITE MAP_EXECUTABLE MAP_LOCKED "
        "MAP_STACK MAP_HUGETLB MAP_SYNC MAP_UNINITIALIZED MAP_FIXED_NOREPLACE")),
    ("MADVISE", ["linux/mman.h"], words(
        "MADV_NORMAL MADV_RANDOM MADV_SEQUENTIAL MADV_WILLNEED MADV_DONTNEED "
        "MADV_FREE MADV_REMOVE MADV_DONTFORK MADV_DOFORK MADV_HWPOISON "
        "MADV_SOFT_OFFLINE MADV_MERGEABLE MADV_UNMERGEABLE MADV_HUGEPAGE "
        "MADV_NOHUGEPAGE MADV_DONTDUMP MADV_DODUMP MADV_WIPEONFORK "
        "MADV_KEEPONFORK MADV_COLD MADV_PAGEOUT MADV_POPULATE_READ "
        "MADV_POPULATE_WRITE MADV_DONTNEED_LOCKED MADV_COLLAPSE")),
    ("MREMAP_FLAGS", ["linux/mman.h"], words(
        "MREMAP_MAYMOVE MREMAP_FIXED MREMAP_DONTUNMAP")),
    ("MSYNC_FLAGS", ["linux/mman.h"], words("MS_ASYNC MS_INVALIDATE MS_SYNC")),
    ("MLOCKALL_FLAGS", ["linux/mman.h"], words("MCL_CURRENT MCL_FUTURE MCL_ONFAULT")),
    # --- process ----------------------------------------------------------
    ("CLONE_FLAGS", ["linux/sched.h"], words(
        "CLONE_VM CLONE_FS CLONE_FILES CLONE_SIGHAND CLONE_PIDFD CLONE_PTRACE "
        "CLONE_VFORK CLONE_PARENT CLONE_THREAD CLONE_NEWNS CLONE_SYSVSEM "
        "CLONE_SETTLS CLONE_PARENT_SETTID CLONE_CHILD_CLEARTID CLONE_DETACHED "
        "CLONE_UNTRACED CLONE_CHILD_SETTID CLONE_NEWCGROUP CLONE_NEWUTS "
        "CLONE_NEWIPC CLONE_NEWUSER CLONE_NEWPID CLONE_NEWNET CLONE_IO "
        "CLONE_CLEAR_SIGHAND CLONE_INTO_CGROUP CLONE_NEWTIME")),
    ("WAIT_OPTIONS", ["linux/wait.h"], words(
        "WNOHANG WUNTRACED WEXITED WCONTINUED WNOWAIT __WNOTHREAD __WALL "
        "__WCLONE")),
    ("WAITID_OPTIONS", ["linux/wait.h"], words(
        "WNOHANG WSTOPPED WEXITED WCONTINUED WNOWAIT __WNOTHREAD __WALL "
        "__WCLONE")),
    ("IDTYPES", ["linux/wait.h"], words("P_ALL P_PID P_PGID P_PIDFD")),
    ("PRCTL_OPTIONS", ["linux/prctl.h"], words(
        "PR_SET_PDEATHSIG PR_GET_PDEATHSIG PR_GET_DUMPABLE PR_SET_DUMPABLE "
        "PR_GET_UNALIGN PR_SET_UNALIGN PR_GET_KEEPCAPS PR_SET_KEEPCAPS "
        "PR_GET_FPEMU PR_SET_FPEMU PR_GET_FPEXC PR_SET_FPEXC PR_GET_TIMING "
        "PR_SET_TIMING PR_SET_NAME PR_GET_NAME PR_GET_ENDIAN PR_SET_ENDIAN "
        "PR_GET_SECCOMP PR_SET_SECCOMP PR_CAPBSET_READ PR_CAPBSET_DROP "
        "PR_GET_TSC PR_SET_TSC PR_GET_SECUREBITS PR_SET_SECUREBITS "
        "PR_SET_TIMERSLACK PR_GET_TIMERSLACK PR_TASK_PERF_EVENTS_DISABLE "
        "PR_TASK_PERF_EVENTS_ENABLE PR_MCE_KILL PR_MCE_KILL_GET PR_SET_MM "
        "PR_SET_PTRACER PR_SET_CHILD_SUBREAPER PR_GET_CHILD_SUBREAPER "
        "PR_SET_NO_NEW_PRIVS PR_GET_NO_NEW_PRIVS PR_GET_TID_ADDRESS "
        "PR_SET_THP_DISABLE PR_GET_THP_DISABLE PR_MPX_ENABLE_MANAGEMENT "
        "PR_MPX_DISABLE_MANAGEMENT PR_SET_FP_MODE PR_GET_FP_MODE "
        "PR_CAP_AMBIENT PR_SVE_SET_VL PR_SVE_GET_VL PR_GET_SPECULATION_CTRL "
        "PR_SET_SPECULATION_CTRL PR_PAC_RESET_KEYS PR_SET_TAGGED_ADDR_CTRL "
        "PR_GET_TAGGED_ADDR_CTRL PR_SET_IO_FLUSHER PR_GET_IO_FLUSHER "
        "PR_SET_SYSCALL_USER_DISPATCH PR_PAC_SET_ENABLED_KEYS "
        "PR_PAC_GET_ENABLED_KEYS PR_SCHED_CORE PR_SET_MDWE PR_GET_MDWE "
        "PR_SET_VMA PR_GET_AUXV PR_SET_MEMORY_MERGE PR_GET_MEMORY_MERGE")),
    ("ARCH_PRCTL_CODES", ["asm/prctl.h"], words(
        "ARCH_SET_GS ARCH_SET_FS ARCH_GET_FS ARCH_GET_GS ARCH_GET_CPUID "
        "ARCH_SET_CPUID ARCH_GET_XCOMP_SUPP ARCH_GET_XCOMP_PERM "
        "ARCH_REQ_XCOMP_PERM ARCH_GET_XCOMP_GUEST_PERM "
        "ARCH_REQ_XCOMP_GUEST_PERM ARCH_MAP_VDSO_X32 ARCH_MAP_VDSO_32 "
        "ARCH_MAP_VDSO_64 ARCH_SHSTK_ENABLE ARCH_SHSTK_DISABLE "
        "ARCH_SHSTK_LOCK ARCH_SHSTK_UNLOCK ARCH_SHSTK_STATUS")),
    ("RLIMITS", ["linux/resource.h"], words(
        "RLIMIT_CPU RLIMIT_FSIZE RLIMIT_DATA RLIMIT_STACK RLIMIT_CORE "
        "RLIMIT_RSS RLIMIT_NPROC RLIMIT_NOFILE RLIMIT_MEMLOCK RLIMIT_AS "
        "RLIMIT_LOCKS RLIMIT_SIGPENDING RLIMIT_MSGQUEUE RLIMIT_NICE "
        "RLIMIT_RTPRIO RLIMIT_RTTIME")),
    ("RUSAGE_WHO", ["linux/resource.h"], words(
        "RUSAGE_SELF RUSAGE_CHILDREN RUSAGE_THREAD")),
    ("PRIO_WHICH", ["linux/resource.h"], words("PRIO_PROCESS PRIO_PGRP PRIO_USER")),
    ("SCHED_POLICIES", ["sched.h"], words(
        "SCHED_OTHER SCHED_FIFO SCHED_RR SCHED_BATCH SCHED_ISO SCHED_IDLE "
        "SCHED_DEADLINE")),
    ("FUTEX_OPS", ["linux/futex.h"], words(
        "FUTEX_WAIT FUTEX_WAKE FUTEX_FD FUTEX_REQUEUE FUTEX_CMP_REQUEUE "
        "FUTEX_WAKE_OP FUTEX_LOCK_PI FUTEX_UNLOCK_PI FUTEX_TRYLOCK_PI "
        "FUTEX_WAIT_BITSET FUTEX_WAKE_BITSET FUTEX_WAIT_REQUEUE_PI "
        "FUTEX_CMP_REQUEUE_PI FUTEX_LOCK_PI2")),
    ("FUTEX_OP_FLAGS", ["linux/futex.h"], words(
        "FUTEX_PRIVATE_FLAG FUTEX_CLOCK_REALTIME")),
    ("SECCOMP_OPS", ["linux/seccomp.h"], words(
        "SECCOMP_SET_MODE_STRICT SECCOMP_SET_MODE_FILTER "
        "SECCOMP_GET_ACTION_AVAIL SECCOMP_GET_NOTIF_SIZES")),
    # --- signal -----------------------------------------------------------
    ("SIGNALS", ["linux/signal.h"], words(
        "SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL "
        "SIGUSR1 SIGSEGV SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD "
        "SIGCONT SIGSTOP SIGTSTP SIGTTIN SIGTTOU SIGURG SIGXCPU SIGXFSZ "
        "SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS SIGRTMIN")),
    ("SIGPROCMASK_HOW", ["linux/signal.h"], words("SIG_BLOCK SIG_UNBLOCK SIG_SETMASK")),
    ("SA_FLAGS", ["linux/signal.h"], words(
        "SA_RESTORER SA_ONSTACK SA_RESTART SA_NODEFER SA_RESETHAND SA_SIGINFO "
        "SA_NOCLDSTOP SA_NOCLDWAIT")),
    ("SS_FLAGS", ["linux/signal.h"], words("SS_ONSTACK SS_DISABLE SS_AUTODISARM")),
    ("SI_CODES", ["linux/signal.h"], words(
        "SI_USER SI_KERNEL SI_QUEUE SI_TIMER SI_MESGQ SI_ASYNCIO SI_SIGIO "
        "SI_TKILL SI_DETHREAD SI_ASYNCNL")),
    ("ILL_CODES", ["linux/signal.h"], words(
        "ILL_ILLOPC ILL_ILLOPN ILL_ILLADR ILL_ILLTRP ILL_PRVOPC ILL_PRVREG "
        "ILL_COPROC ILL_BADSTK ILL_BADIADDR")),
    ("FPE_CODES", ["linux/signal.h"], words(
        "FPE_INTDIV FPE_INTOVF FPE_FLTDIV FPE_FLTOVF FPE_FLTUND FPE_FLTRES "
        "FPE_FLTINV FPE_FLTSUB FPE_FLTUNK FPE_CONDTRAP")),
    ("SEGV_CODES", ["linux/signal.h"], words(
        "SEGV_MAPERR SEGV_ACCERR SEGV_BNDERR SEGV_PKUERR SEGV_ACCADI "
        "SEGV_ADIDERR SEGV_ADIPERR SEGV_MTEAERR SEGV_MTESERR SEGV_CPERR")),
    ("BUS_CODES", ["linux/signal.h"], words(
        "BUS_ADRALN BUS_ADRERR BUS_OBJERR BUS_MCEERR_AR BUS_MCEERR_AO")),
    ("TRAP_CODES", ["linux/signal.h"], words(
        "TRAP_BRKPT TRAP_TRACE TRAP_BRANCH TRAP_HWBKPT TRAP_UNK TRAP_PERF")),
    ("CLD_CODES", ["linux/signal.h"], words(
        "CLD_EXITED CLD_KILLED CLD_DUMPED CLD_TRAPPED CLD_STOPPED CLD_CONTINUED")),
    ("POLL_CODES", ["linux/signal.h"], words(
        "POLL_IN POLL_OUT POLL_MSG POLL_ERR POLL_PRI POLL_HUP")),
    ("SYS_CODES", ["linux/signal.h"], words("SYS_SECCOMP SYS_USER_DISPATCH")),
    ("CAPABILITIES", ["linux/capability.h"], words(
        "CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID "
        "CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE "
        "CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW "
        "CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT "
        "CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE "
        "CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE "
        "CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE "
        "CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM CAP_BLOCK_SUSPEND "
        "CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE")),
    # --- net --------------------------------------------------------------
    ("ADDRESS_FAMILIES", ["sys/socket.h"], words(
        "AF_UNSPEC AF_UNIX AF_INET AF_AX25 AF_IPX AF_APPLETALK AF_NETROM "
        "AF_BRIDGE AF_ATMPVC AF_X25 AF_INET6 AF_ROSE AF_DECnet AF_NETBEUI "
        "AF_SECURITY AF_KEY AF_NETLINK AF_PACKET AF_ASH AF_ECONET AF_ATMSVC "
        "AF_RDS AF_SNA AF_IRDA AF_PPPOX AF_WANPIPE AF_LLC AF_IB AF_MPLS "
        "AF_CAN AF_TIPC AF_BLUETOOTH AF_IUCV AF_RXRPC AF_ISDN AF_PHONET "
        "AF_IEEE802154 AF_CAIF AF_ALG AF_NFC AF_VSOCK AF_KCM AF_QIPCRTR "
        "AF_SMC AF_XDP AF_MCTP")),
    ("SOCKET_TYPES", ["sys/socket.h"], words(
        "SOCK_STREAM SOCK_DGRAM SOCK_RAW SOCK_RDM SOCK_SEQPACKET SOCK_DCCP "
        "SOCK_PACKET")),
    ("SOCKET_FLAGS", ["sys/socket.h"], words("SOCK_CLOEXEC SOCK_NONBLOCK")),
    ("IPPROTOS", ["netinet/in.h"], words(
        "IPPROTO_IP IPPROTO_ICMP IPPROTO_IGMP IPPROTO_IPIP IPPROTO_TCP "
        "IPPROTO_EGP IPPROTO_PUP IPPROTO_UDP IPPROTO_IDP IPPROTO_TP "
        "IPPROTO_DCCP IPPROTO_IPV6 IPPROTO_RSVP IPPROTO_GRE IPPROTO_ESP "
        "IPPROTO_AH IPPROTO_ICMPV6 IPPROTO_MTP IPPROTO_BEETPH IPPROTO_ENCAP "
        "IPPROTO_PIM IPPROTO_COMP IPPROTO_L2TP IPPROTO_SCTP IPPROTO_UDPLITE "
        "IPPROTO_MPLS IPPROTO_ETHERNET IPPROTO_RAW IPPROTO_MPTCP")),
    ("NETLINK_PROTOCOLS", ["linux/netlink.h"], words(
        "NETLINK_ROUTE NETLINK_UNUSED NETLINK_USERSOCK NETLINK_FIREWALL "
        "NETLINK_SOCK_DIAG NETLINK_NFLOG NETLINK_XFRM NETLINK_SELINUX "
        "NETLINK_ISCSI NETLINK_AUDIT NETLINK_FIB_LOOKUP NETLINK_CONNECTOR "
        "NETLINK_NETFILTER NETLINK_IP6_FW NETLINK_DNRTMSG "
        "NETLINK_KOBJECT_UEVENT NETLINK_GENERIC NETLINK_SCSITRANSPORT "
        "NETLINK_ECRYPTFS NETLINK_RDMA NETLINK_CRYPTO NETLINK_SMC")),
    ("SOCKOPT_LEVELS", ["sys/socket.h", "netinet/in.h", "netinet/tcp.h", "netinet/udp.h"], words(
        "SOL_IP SOL_SOCKET SOL_TCP SOL_UDP SOL_IPV6 SOL_ICMPV6 SOL_RAW "
        "SOL_PACKET SOL_NETLINK SOL_ALG")),
    ("SOL_SOCKET_OPTS", ["sys/socket.h"], words(
        "SO_DEBUG SO_REUSEADDR SO_TYPE SO_ERROR SO_DONTROUTE SO_BROADCAST "
        "SO_SNDBUF SO_RCVBUF SO_KEEPALIVE SO_OOBINLINE SO_NO_CHECK "
        "SO_PRIORITY SO_LINGER SO_BSDCOMPAT SO_REUSEPORT SO_PASSCRED "
        "SO_PEERCRED SO_RCVLOWAT SO_SNDLOWAT SO_RCVTIMEO_OLD SO_SNDTIMEO_OLD "
        "SO_SECURITY_AUTHENTICATION SO_SECURITY_ENCRYPTION_TRANSPORT "
        "SO_SECURITY_ENCRYPTION_NETWORK SO_BINDTODEVICE SO_ATTACH_FILTER "
        "SO_DETACH_FILTER SO_PEERNAME SO_TIMESTAMP_OLD SO_ACCEPTCONN "
        "SO_PEERSEC SO_SNDBUFFORCE SO_RCVBUFFORCE SO_PASSSEC "
        "SO_TIMESTAMPNS_OLD SO_MARK SO_TIMESTAMPING_OLD SO_PROTOCOL "
        "SO_DOMAIN SO_RXQ_OVFL SO_WIFI_STATUS SO_PEEK_OFF SO_NOFCS "
        "SO_LOCK_FILTER SO_SELECT_ERR_QUEUE SO_BUSY_POLL SO_MAX_PACING_RATE "
        "SO_BPF_EXTENSIONS SO_INCOMING_CPU SO_ATTACH_BPF "
        "SO_ATTACH_REUSEPORT_CBPF SO_ATTACH_REUSEPORT_EBPF SO_CNX_ADVICE "
        "SO_MEMINFO SO_INCOMING_NAPI_ID SO_COOKIE SO_PEERGROUPS "
        "SO_ZEROCOPY SO_TXTIME SO_BINDTOIFINDEX SO_TIMESTAMP_NEW "
        "SO_TIMESTAMPNS_NEW SO_TIMESTAMPING_NEW SO_RCVTIMEO_NEW "
        "SO_SNDTIMEO_NEW SO_DETACH_REUSEPORT_BPF")),
    ("TCP_OPTS", ["netinet/tcp.h"], words(
        "TCP_NODELAY TCP_MAXSEG TCP_CORK TCP_KEEPIDLE TCP_KEEPINTVL "
        "TCP_KEEPCNT TCP_SYNCNT TCP_LINGER2 TCP_DEFER_ACCEPT "
        "TCP_WINDOW_CLAMP TCP_INFO TCP_QUICKACK TCP_CONGESTION TCP_MD5SIG "
        "TCP_THIN_LINEAR_TIMEOUTS TCP_THIN_DUPACK TCP_USER_TIMEOUT "
        "TCP_REPAIR TCP_REPAIR_QUEUE TCP_QUEUE_SEQ TCP_REPAIR_OPTIONS "
        "TCP_FASTOPEN TCP_TIMESTAMP TCP_NOTSENT_LOWAT TCP_CC_INFO "
        "TCP_SAVE_SYN TCP_SAVED_SYN TCP_REPAIR_WINDOW TCP_FASTOPEN_CONNECT "
        "TCP_ULP TCP_MD5SIG_EXT TCP_FASTOPEN_KEY TCP_FASTOPEN_NO_COOKIE "
        "TCP_ZEROCOPY_RECEIVE TCP_INQ TCP_TX_DELAY")),
    ("MSG_FLAGS", ["sys/socket.h"], words(
        "MSG_OOB MSG_PEEK MSG_DONTROUTE MSG_CTRUNC MSG_PROXY MSG_TRUNC "
        "MSG_DONTWAIT MSG_EOR MSG_WAITALL MSG_FIN MSG_SYN MSG_CONFIRM MSG_RST "
        "MSG_ERRQUEUE MSG_NOSIGNAL MSG_MORE MSG_WAITFORONE MSG_BATCH "
        "MSG_ZEROCOPY MSG_FASTOPEN MSG_CMSG_CLOEXEC")),
    ("SHUTDOWN_HOW", ["sys/socket.h"], words("SHUT_RD SHUT_WR SHUT_RDWR")),
    # --- time -------------------------------------------------------------
    ("CLOCK_IDS", ["linux/time.h"], words(
        "CLOCK_REALTIME CLOCK_MONOTONIC CLOCK_PROCESS_CPUTIME_ID "
        "CLOCK_THREAD_CPUTIME_ID CLOCK_MONOTONIC_RAW CLOCK_REALTIME_COARSE "
        "CLOCK_MONOTONIC_COARSE CLOCK_BOOTTIME CLOCK_REALTIME_ALARM "
        "CLOCK_BOOTTIME_ALARM CLOCK_SGI_CYCLE CLOCK_TAI")),
    ("TIMER_FLAGS", ["linux/time.h"], words("TIMER_ABSTIME")),
    ("ITIMER_WHICH", ["linux/time.h"], words(
        "ITIMER_REAL ITIMER_VIRTUAL ITIMER_PROF")),
    ("TIMERFD_FLAGS", ["sys/timerfd.h"], words(
        "TFD_TIMER_ABSTIME TFD_TIMER_CANCEL_ON_SET TFD_CLOEXEC TFD_NONBLOCK")),
    # --- ioctl ------------------------------------------------------------
    ("IOCTLS", ["asm/termbits.h", "asm/ioctls.h", "linux/fs.h", "linux/fiemap.h", "linux/sockios.h"], words(
        "TCGETS TCSETS TCSETSW TCSETSF TCGETA TCSETA TCSETAW TCSETAF TCSBRK "
        "TCXONC TCFLSH TIOCEXCL TIOCNXCL TIOCSCTTY TIOCGPGRP TIOCSPGRP "
        "TIOCOUTQ TIOCSTI TIOCGWINSZ TIOCSWINSZ TIOCMGET TIOCMBIS TIOCMBIC "
        "TIOCMSET TIOCGSOFTCAR TIOCSSOFTCAR FIONREAD TIOCLINUX TIOCCONS "
        "TIOCGSERIAL TIOCSSERIAL TIOCPKT FIONBIO TIOCNOTTY TIOCSETD TIOCGETD "
        "TCSBRKP TIOCSBRK TIOCCBRK TIOCGSID TCGETS2 TCSETS2 TCSETSW2 "
        "TCSETSF2 TIOCGRS485 TIOCSRS485 TIOCGPTN TIOCSPTLCK TIOCGDEV "
        "TIOCSIG TIOCVHANGUP TIOCGPKT TIOCGPTLCK TIOCGEXCL TIOCGPTPEER "
        "FIONCLEX FIOCLEX FIOASYNC TIOCSERCONFIG TIOCSERGWILD TIOCSERSWILD "
        "TIOCGLCKTRMIOS TIOCSLCKTRMIOS TIOCSERGSTRUCT TIOCSERGETLSR "
        "TIOCSERGETMULTI TIOCSERSETMULTI TIOCMIWAIT TIOCGICOUNT FIOQSIZE "
        "BLKROSET BLKROGET BLKRRPART BLKGETSIZE BLKFLSBUF BLKRASET BLKRAGET "
        "BLKSSZGET BLKBSZGET BLKBSZSET BLKGETSIZE64 BLKDISCARD BLKIOMIN "
        "BLKIOOPT BLKPBSZGET FIFREEZE FITHAW FITRIM FICLONE FICLONERANGE "
        "FIDEDUPERANGE FS_IOC_GETFLAGS FS_IOC_SETFLAGS FS_IOC_GETVERSION "
        "FS_IOC_SETVERSION FS_IOC_FIEMAP FS_IOC_FSGETXATTR FS_IOC_FSSETXATTR "
        "FS_IOC_GETFSLABEL FS_IOC_SETFSLABEL FIGETBSZ FIBMAP "
        "SIOCGIFNAME SIOCGIFCONF SIOCGIFFLAGS SIOCSIFFLAGS SIOCGIFADDR "
        "SIOCGIFINDEX SIOCGIFMTU SIOCGIFHWADDR SIOCATMARK SIOCGSTAMP_OLD "
        "SIOCINQ SIOCOUTQ")),
    ("IOC_DIRS", ["asm-generic/ioctl.h"], words("_IOC_NONE _IOC_READ _IOC_WRITE")),
    # --- statfs -------------------------------------------------------------
    ("FS_MAGICS", ["linux/magic.h"], words(
        "QNX4_SUPER_MAGIC AUTOFS_SUPER_MAGIC DEVPTS_SUPER_MAGIC NILFS_SUPER_MAGIC "
        "HFS_SUPER_MAGIC=0x4244 HFSPLUS_SUPER_MAGIC=0x482b MSDOS_SUPER_MAGIC MINIX3_SUPER_MAGIC "
        "SMB_SUPER_MAGIC NCP_SUPER_MAGIC NFS_SUPER_MAGIC ROMFS_MAGIC=0x7275 JFFS2_SUPER_MAGIC "
        "ISOFS_SUPER_MAGIC PROC_SUPER_MAGIC OPENPROM_SUPER_MAGIC USBDEVICE_SUPER_MAGIC "
        "ADFS_SUPER_MAGIC AFFS_SUPER_MAGIC EXT2_SUPER_MAGIC ECRYPTFS_SUPER_MAGIC "
        "CGROUP_SUPER_MAGIC HOSTFS_SUPER_MAGIC TMPFS_MAGIC V9FS_MAGIC "
        "ANON_INODE_FS_MAGIC UDF_SUPER_MAGIC BFS_MAGIC=0x1badface EXFAT_SUPER_MAGIC "
        "UBIFS_SUPER_MAGIC=0x24051905 CRAMFS_MAGIC BINFMTFS_MAGIC SMACK_MAGIC DMA_BUF_MAGIC "
        "CRAMFS_MAGIC_WEND DEVMEM_MAGIC PIPEFS_MAGIC REISERFS_SUPER_MAGIC SECRETMEM_MAGIC "
        "AFS_SUPER_MAGIC SOCKFS_MAGIC STACK_END_MAGIC ZSMALLOC_MAGIC=0x58295829 XFS_SUPER_MAGIC "
        "AAFS_MAGIC ZONEFS_MAGIC PSTOREFS_MAGIC BDEVFS_MAGIC CONFIGFS_MAGIC=0x62656570 SYSFS_MAGIC "
        "CGROUP2_SUPER_MAGIC DEBUGFS_MAGIC DAXFS_MAGIC FUSE_SUPER_MAGIC=0x65735546 "
        "QNX6_SUPER_MAGIC AFS_FS_MAGIC BINDERFS_SUPER_MAGIC NSFS_MAGIC SECURITYFS_MAGIC "
        "SQUASHFS_MAGIC BTRFS_TEST_MAGIC CODA_SUPER_MAGIC OCFS2_SUPER_MAGIC TRACEFS_MAGIC "
        "OVERLAYFS_SUPER_MAGIC RAMFS_MAGIC BTRFS_SUPER_MAGIC HUGETLBFS_MAGIC "
        "XENFS_SUPER_MAGIC BPF_FS_MAGIC EFIVARFS_MAGIC EROFS_SUPER_MAGIC_V1 "
        "F2FS_SUPER_MAGIC SELINUX_MAGIC HPFS_SUPER_MAGIC SMB2_SUPER_MAGIC "
        "CIFS_SUPER_MAGIC=0xff534d42")),
    ("STATFS_FLAGS", ["sys/statvfs.h"], words(
        "ST_VALID=0x0020 ST_RDONLY ST_NOSUID ST_NODEV ST_NOEXEC ST_SYNCHRONOUS "
        "ST_MANDLOCK ST_NOATIME ST_NODIRATIME ST_RELATIME ST_NOSYMFOLLOW=0x2000")),
    # --- termios (struct termios's flag words) -------------------------------
    ("TERM_IFLAGS", ["asm/termbits.h"], words(
        "IGNBRK BRKINT IGNPAR PARMRK INPCK ISTRIP INLCR IGNCR ICRNL IUCLC IXON IXANY "
        "IXOFF IMAXBEL IUTF8")),
    ("TERM_OFLAGS", ["asm/termbits.h"], words(
        "OPOST OLCUC ONLCR OCRNL ONOCR ONLRET OFILL OFDEL")),
    ("TERM_FIELD_MASKS", ["asm/termbits.h"], words(
        "NLDLY CRDLY TABDLY BSDLY VTDLY FFDLY CBAUD CSIZE CIBAUD")),
    ("TERM_NLDLY", ["asm/termbits.h"], words("NL0 NL1")),
    ("TERM_CRDLY", ["asm/termbits.h"], words("CR0 CR1 CR2 CR3")),
    ("TERM_TABDLY", ["asm/termbits.h"], words("XTABS TAB0 TAB1 TAB2 TAB3")),
    ("TERM_BSDLY", ["asm/termbits.h"], words("BS0 BS1")),
    ("TERM_VTDLY", ["asm/termbits.h"], words("VT0 VT1")),
    ("TERM_FFDLY", ["asm/termbits.h"], words("FF0 FF1")),
    ("TERM_BAUDS", ["asm/termbits.h"], words(
        "B0 B50 B75 B110 B134 B150 B200 B300 B600 B1200 B1800 B2400 B4800 B9600 B19200 "
        "B38400 B57600 B115200 B230400 B460800 B500000 B576000 B921600 B1000000 B1152000 "
        "B1500000 B2000000 B2500000 B3000000 B3500000 B4000000")),
    ("TERM_CSIZE", ["asm/termbits.h"], words("CS5 CS6 CS7 CS8")),
    ("TERM_CFLAGS", ["asm/termbits.h"], words(
        "CSTOPB CREAD PARENB PARODD HUPCL CLOCAL CMSPAR CRTSCTS")),
    ("TERM_LFLAGS", ["asm/termbits.h"], words(
        "ISIG ICANON XCASE ECHO ECHOE ECHOK ECHONL NOFLSH IEXTEN ECHOCTL ECHOPRT ECHOKE "
        "FLUSHO PENDIN TOSTOP EXTPROC")),
    # codes another header defines under a second name: strace prints "A or B"
    ("IOCTL_ALIASES", ["linux/btrfs.h"], words(
        "BTRFS_IOC_CLONE BTRFS_IOC_CLONE_RANGE BTRFS_IOC_FILE_EXTENT_SAME")),
]

PREFIX = "#define _GNU_SOURCE\n#include <stdio.h>\n"


def program(headers: list[str], names: tuple[str, ...]) -> str:
    """A C program printing each name's value.  ``NAME=VALUE`` gives the value a
    name has when no header defines it (the kernel's internal ST_VALID)."""
    lines = [PREFIX] + [f"#include <{h}>\n" for h in headers]
    for name, value in (n.split("=", 1) for n in names if "=" in n):
        lines.append(f"#ifndef {name}\n#define {name} {value}\n#endif\n")
    names = tuple(n.split("=", 1)[0] for n in names)
    lines.append("int main(void) {\n")
    for name in names:
        lines.append(f"#ifdef {name}\n  printf(\"%s %lld\\n\", \"{name}\", "
                     f"(long long)({name}));\n#else\n  printf(\"%s -\\n\", \"{name}\");\n"
                     "#endif\n")
    lines.append("  return 0;\n}\n")
    return "".join(lines)


def values(headers, names, workdir: Path) -> tuple[list[tuple[int, str]], list[str]]:
    src = workdir / "t.c"
    exe = workdir / "t"
    src.write_text(program(headers, names))
    subprocess.run(["cc", "-w", "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    found, missing = [], []
    for line in out.splitlines():
        name, value = line.split()
        if value == "-":
            missing.append(name)
        else:
            found.append((int(value), name))
    return found, missing


def render(tables) -> str:
    headers = sorted({h for _, hs, _ in TABLES for h in hs})
    out = ['"""Linux x86-64 constant tables: GENERATED by tools/gen_xlat.py; do not edit.\n',
           "\nValues come from these headers of the generating machine:\n"]
    out += [f"    <{h}>\n" for h in headers]
    out.append('\nEach table is ((value, name), ...) in printing order.\n"""\n\n')
    for name, entries in tables:
        out.append(f"{name} = (\n")
        for value, cname in entries:
            out.append(f"    ({value:#x}, {cname!r}),\n" if value >= 0
                       else f"    ({value}, {cname!r}),\n")
        out.append(")\n\n")
    return "".join(out).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else OUT
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, headers, names in TABLES:
            found, missing = values(headers, names, Path(tmp))
            if missing:
                print(f"{name}: not defined here: {' '.join(missing)}", file=sys.stderr)
            tables.append((name, found))
    target.write_text(render(tables))
    print(f"wrote {os.path.relpath(target)} ({len(tables)} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

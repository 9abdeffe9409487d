"""Linux x86-64 struct layouts: the one description of their bytes.

The structs the kernel copies to or from user memory, as ``struct.Struct``
layouts (little-endian, the kernel's padding spelled out).  Engines read
tracee memory by them (a msghdr's pointers, clone_args' pidfd, siginfo's
fields); the decoders (:mod:`ktrace.decode.structs` and the strace view)
turn recorded STRU bytes into fields by them.  Sizes of the recorded
structs are :data:`ktrace.abi.linux_plan.STRUCT_SIZES`; tests/test_abi.py
checks the two agree.
"""

from __future__ import annotations

import struct

# struct stat: dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks,
# then atime, mtime, ctime as (sec, nsec) pairs
STAT = struct.Struct("<QQQIII4xQqqq6q24x")
# struct statx: mask, blksize, attributes, nlink, uid, gid, mode, ino, size,
# blocks, attributes_mask, atime, btime, ctime, mtime (sec, nsec each),
# rdev_major, rdev_minor, dev_major, dev_minor
STATX = struct.Struct("<IIQIIIH2xQQQQqI4xqI4xqI4xqI4xIIII")

# struct linux_dirent64: d_ino, d_off, d_reclen, d_type; the name follows
DIRENT64 = struct.Struct("<QqHB")
DIRENT64_NAME = DIRENT64.size    # 19: offset of d_name

# struct new_utsname: six fields of this many bytes
UTSNAME_FIELD = 65

# sockaddr: sa_family, then per family
SA_FAMILY = struct.Struct("<H")
SUN_PATH_MAX = 108   # sizeof(sun_path): what a longer "sockaddr" holds beyond is no path
AF_INET6, AF_NETLINK = 10, 16

# Small fixed structs, by their STRU name: (layout, field names).
FIXED = {
    "timespec": (struct.Struct("<qq"), ("tv_sec", "tv_nsec")),
    "timeval": (struct.Struct("<qq"), ("tv_sec", "tv_usec")),
    "itimerspec": (struct.Struct("<qqqq"), ("interval_sec", "interval_nsec",
                                            "value_sec", "value_nsec")),
    "itimerval": (struct.Struct("<qqqq"), ("interval_sec", "interval_usec",
                                           "value_sec", "value_usec")),
    "rlimit": (struct.Struct("<QQ"), ("rlim_cur", "rlim_max")),
    # the two timevals that open struct rusage (the rest is counters)
    "rusage": (struct.Struct("<qqqq"), ("utime_sec", "utime_usec", "stime_sec",
                                        "stime_usec")),
    "sigaction": (struct.Struct("<QQQQ"), ("handler", "flags", "restorer", "mask")),
    "sigset": (struct.Struct("<Q"), ("mask",)),
    "pollfd": (struct.Struct("<ihh"), ("fd", "events", "revents")),
    "epoll_event": (struct.Struct("<IQ"), ("events", "data")),
    "iovec": (struct.Struct("<QQ"), ("iov_base", "iov_len")),
    "int": (struct.Struct("<i"), ("value",)),
    "long": (struct.Struct("<q"), ("value",)),
    "stack": (struct.Struct("<Qi4xQ"), ("ss_sp", "ss_flags", "ss_size")),
    "tms": (struct.Struct("<qqqq"), ("tms_utime", "tms_stime", "tms_cutime", "tms_cstime")),
    "winsize": (struct.Struct("<HHHH"), ("ws_row", "ws_col", "ws_xpixel", "ws_ypixel")),
    "termios": (struct.Struct("<IIIIB19s"), ("c_iflag", "c_oflag", "c_cflag", "c_lflag",
                                             "c_line", "c_cc")),
    "clone_args": (struct.Struct("<11Q"), ("flags", "pidfd", "child_tid", "parent_tid",
                                           "exit_signal", "stack", "stack_size", "tls",
                                           "set_tid", "set_tid_size", "cgroup")),
    "open_how": (struct.Struct("<QQQ"), ("flags", "mode", "resolve")),
    # seccomp's and ptrace's: struct sock_fprog (len, then the filter's address),
    # struct seccomp_notif_sizes, struct ptrace_peeksiginfo_args
    "sock_fprog": (struct.Struct("<H6xQ"), ("len", "filter")),
    "sock_filter": (struct.Struct("<HBBI"), ("code", "jt", "jf", "k")),
    "seccomp_notif_sizes": (struct.Struct("<HHH"), ("seccomp_notif", "seccomp_notif_resp",
                                                    "seccomp_data")),
    "peeksiginfo_args": (struct.Struct("<QII"), ("off", "flags", "nr")),
    # ptrace's PTRACE_GETREGS/SETREGS: struct user_regs_struct (sys/user.h)
    "user_regs": (struct.Struct("<27Q"), (
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
        "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
        "gs_base", "ds", "es", "fs", "gs")),
    # pselect6's sixth argument: the kernel's struct sigset_argpack
    "sigset_argpack": (struct.Struct("<QQ"), ("sigmask", "sigsetsize")),
    # struct user_desc (asm/ldt.h): its bit fields in one word
    "user_desc": (struct.Struct("<IIII"), ("entry_number", "base_addr", "limit", "flags")),
    "sched_attr": (struct.Struct("<IIQiIQQQII"), ("size", "sched_policy", "sched_flags",
                                                  "sched_nice", "sched_priority",
                                                  "sched_runtime", "sched_deadline",
                                                  "sched_period", "sched_util_min",
                                                  "sched_util_max")),
    "utimbuf": (struct.Struct("<qq"), ("actime", "modtime")),
    "f_owner_ex": (struct.Struct("<ii"), ("type", "pid")),
    "landlock_ruleset_attr": (struct.Struct("<Q"), ("handled_access_fs",)),
    "landlock_path_beneath_attr": (struct.Struct("<Qi"), ("allowed_access", "parent_fd")),
    "flock": (struct.Struct("<hh4xqqi4x"), ("l_type", "l_whence", "l_start", "l_len",
                                            "l_pid")),
    "msghdr": (struct.Struct("<QI4xQQQQi4x"), ("msg_name", "msg_namelen", "msg_iov",
                                               "msg_iovlen", "msg_control",
                                               "msg_controllen", "msg_flags")),
    "sysinfo": (struct.Struct("<q3Q6QHH4xQQI"), ("uptime", "load1", "load5", "load15",
                                                 "totalram", "freeram", "sharedram",
                                                 "bufferram", "totalswap", "freeswap",
                                                 "procs", "pad", "totalhigh", "freehigh",
                                                 "mem_unit")),
    "statfs": (struct.Struct("<qqQQQQQiiqqq"), ("f_type", "f_bsize", "f_blocks", "f_bfree",
                                                "f_bavail", "f_files", "f_ffree", "fsid0",
                                                "fsid1", "f_namelen", "f_frsize",
                                                "f_flags")),
    # SysV IPC (linux/msg.h, sem.h, shm.h: the *64_ds the kernel copies); each
    # *_ds opens with struct ipc64_perm: key, uid, gid, cuid, cgid, mode
    "msqid_ds": (struct.Struct("<IIIIII24xqqqQQQii16x"), (
        "key", "uid", "gid", "cuid", "cgid", "mode", "msg_stime", "msg_rtime",
        "msg_ctime", "msg_cbytes", "msg_qnum", "msg_qbytes", "msg_lspid", "msg_lrpid")),
    "semid_ds": (struct.Struct("<IIIIII24xq8xq8xQ16x"), (
        "key", "uid", "gid", "cuid", "cgid", "mode", "sem_otime", "sem_ctime",
        "sem_nsems")),
    "shmid_ds": (struct.Struct("<IIIIII24xQqqqiiQ16x"), (
        "key", "uid", "gid", "cuid", "cgid", "mode", "shm_segsz", "shm_atime",
        "shm_dtime", "shm_ctime", "shm_cpid", "shm_lpid", "shm_nattch")),
    "msginfo": (struct.Struct("<7iH2x"), ("msgpool", "msgmap", "msgmax", "msgmnb",
                                          "msgmni", "msgssz", "msgtql", "msgseg")),
    "seminfo": (struct.Struct("<10i"), ("semmap", "semmni", "semmns", "semmnu", "semmsl",
                                        "semopm", "semume", "semusz", "semvmx", "semaem")),
    "shminfo": (struct.Struct("<5Q32x"), ("shmmax", "shmmin", "shmmni", "shmseg", "shmall")),
    "shm_info": (struct.Struct("<i4x5Q"), ("used_ids", "shm_tot", "shm_rss", "shm_swp",
                                           "swap_attempts", "swap_successes")),
    "sembuf": (struct.Struct("<HhH"), ("sem_num", "sem_op", "sem_flg")),
    "kexec_segment": (struct.Struct("<QQQQ"), ("buf", "bufsz", "mem", "memsz")),
    # keyctl's (linux/keyctl.h): KEYCTL_DH_COMPUTE's params and kdf, KEYCTL_PKEY_*'s
    # query and params (out_len is VERIFY's in2_len), each __spare[] one field a word
    "keyctl_dh_params": (struct.Struct("<iii"), ("private", "prime", "base")),
    "keyctl_kdf_params": (struct.Struct("<QQI8I4x"), (
        "hashname", "otherinfo", "otherinfolen", *(f"__spare{k}" for k in range(8)))),
    "keyctl_pkey_query": (struct.Struct("<IIHHHH10I"), (
        "supported_ops", "key_size", "max_data_size", "max_sig_size", "max_enc_size",
        "max_dec_size", *(f"__spare{k}" for k in range(10)))),
    "keyctl_pkey_params": (struct.Struct("<iII7I"), (
        "key_id", "in_len", "out_len", *(f"__spare{k}" for k in range(7)))),
}

MSGHDR = FIXED["msghdr"][0]
IOVEC = FIXED["iovec"][0]
U32 = struct.Struct("<I")                # an unsigned int written back (a socklen_t)
INT_PAIR = struct.Struct("<2i")          # int[2]: pipe's and socketpair's descriptors
CLONE_ARGS_HEAD = struct.Struct("<QQ")   # clone_args' first fields: flags, pidfd
CLONE_ARGS_FLAGS = struct.Struct("<Q")   # clone_args' first field alone
SIGACTION_HEAD = struct.Struct("<QQ")    # struct sigaction's first fields: handler, flags
# STRU argvfault (linux_plan.ARGV_FAULTS), ktrace's own: the index of the array's
# unreadable pointer, then (index, pointer) of each string that could not be read
ARGV_FAULT_END = struct.Struct("<Q")
ARGV_FAULT = struct.Struct("<QQ")

# siginfo_t (128 bytes): si_signo, si_errno, si_code, then a union at offset 16.
# Each layout below reads from the start of the siginfo.
SIGINFO_SIZE = 128
SIGINFO_HEAD = struct.Struct("<iii")         # si_signo, si_errno, si_code
SI_SENDER = struct.Struct("<16xiI")          # si_pid, si_uid (timers: si_tid, si_overrun)
SI_INT = struct.Struct("<24xi")              # si_value.sival_int
SI_PTR = struct.Struct("<24xQ")              # si_value.sival_ptr
SI_POLL = struct.Struct("<16xqi")            # si_band, si_fd
SI_CHLD = struct.Struct("<24xi4xqq")         # si_status, si_utime, si_stime
SI_ADDR = struct.Struct("<16xQ")             # si_addr (faults)
SI_ADDR_LSB = struct.Struct("<24xH")         # si_addr_lsb (BUS_MCEERR_*)
SI_BOUNDS = struct.Struct("<32xQQ")          # si_lower, si_upper (SEGV_BNDERR)
SI_PKEY = struct.Struct("<32xI")             # si_pkey (SEGV_PKUERR)
SI_SYS = struct.Struct("<16xQiI")            # si_call_addr, si_syscall, si_arch (SIGSYS)

# struct rusage whole: ru_utime, ru_stime (sec, usec each), then its 14 longs
# (ru_maxrss ... ru_nivcsw)
RUSAGE = struct.Struct("<4q14q")

"""kdump --strace: hand-built Linux records (as the recording plan lays them out)
must print as strace 6.1 prints the same calls."""

import io
import struct

import pytest

from ktrace import record as r
from ktrace.kdump import strace as view
from ktrace.abi import LINUX_X86_64

ABI = LINUX_X86_64
PID = 4242


class Trace:
    """Builds a record stream for one or more threads."""

    def __init__(self):
        self.recs = []
        self.t = 1_700_000_000 * 10**9

    def add(self, rtype, payload, tid=PID, pid=PID, step=1000):
        self.t += step
        self.recs.append(r.pack_record(rtype, payload, pid, tid, b"prog", self.t, 0))

    def start(self, pid=PID):
        self.add(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64), pid=pid, tid=pid)

    def call(self, name, *args, tid=PID, pid=PID):
        self.add(r.SYSCALL, r.syscall_payload(ABI.syscall_number(name), args), tid, pid)

    def ret(self, name, value, error=0, tid=PID, pid=PID, step=1000):
        self.add(r.SYSRET, r.sysret_payload(ABI.syscall_number(name), error, value), tid, pid,
                 step)

    def nami(self, path, tid=PID):
        self.add(r.NAMEI, path, tid)

    def stru(self, name, data, tid=PID):
        self.add(r.STRUCT, r.struct_payload(name, data), tid)

    def array(self, name, size, data, tid=PID):
        self.add(r.STRUCT_ARRAY, r.struct_array_payload(name, size, data), tid)

    def gio(self, fd, rw, data, tid=PID):
        self.add(r.GENIO, r.genio_payload(fd, rw, data), tid)

    def lines(self, *argv):
        out = io.StringIO()
        opts = view.parse(list(argv))
        view.run(opts, io.BytesIO(b"".join(self.recs)), out)
        return out.getvalue().splitlines()


@pytest.fixture(autouse=True)
def linux_tables(monkeypatch):
    monkeypatch.setattr(view, "abi_for_svflags", lambda sv: ABI)


AT_FDCWD = (1 << 64) - 100
ENOENT = 2


def stat_bytes(mode, size=0, rdev=0):
    return struct.pack("<QQQIII4xQqqq6q24x", 2049, 7, 1, mode, 0, 0, rdev, size, 4096, 8,
                       *([0] * 6))


def test_each_syscall_is_spelled_by_one_family():
    """A syscall in two families' tables is dead code in all but the last one."""
    from ktrace.decode import strace as families
    for table in ("SYSCALLS", "RESULTS"):
        owners: dict[str, list[str]] = {}
        for family in families.FAMILIES:
            for name in getattr(family, table, {}):
                owners.setdefault(name, []).append(family.__name__)
        assert {n: o for n, o in owners.items() if len(o) > 1} == {}, table


def test_common_calls_match_strace_lines():
    t = Trace()
    t.start()
    t.call("openat", AT_FDCWD, 0x5000, 0, 0); t.nami(b"/etc/hostname"); t.ret("openat", 3)
    t.call("read", 3, 0x7000, 100); t.gio(3, 0, b"vm\n"); t.ret("read", 3)
    t.call("close", 3); t.ret("close", 0)
    t.call("write", 1, 0x6000, 7); t.gio(1, 1, b"a\tb\x01\x7f\xff\n"); t.ret("write", 7)
    t.call("newfstatat", AT_FDCWD, 0x5000, 0x7000, 0); t.nami(b"/dev/null")
    t.stru(b"stat", stat_bytes(0o20666, rdev=0x103)); t.ret("newfstatat", 0)
    t.call("newfstatat", AT_FDCWD, 0x5000, 0x7ffec6867080, 0x100); t.nami(b"/nonexist")
    t.ret("newfstatat", -ENOENT, error=ENOENT)
    t.call("mmap", 0, 4096, 0, 0x22, (1 << 64) - 1, 0); t.ret("mmap", 0x7f2eb1bd4000)
    t.call("access", 0x5000, 5); t.nami(b"/"); t.ret("access", 0)
    t.call("umask", 0o22); t.ret("umask", 0o22)
    t.call("kill", 13708, 0); t.ret("kill", 0)
    t.call("lseek", 10, 0, 1); t.ret("lseek", -29, error=29)
    t.call("exit_group", 3)
    t.add(r.PROCDTOR, b"")
    assert t.lines() == [
        'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3',
        'read(3, "vm\\n", 100)                    = 3',
        "close(3)                                = 0",
        'write(1, "a\\tb\\1\\177\\377\\n", 7)         = 7',
        'newfstatat(AT_FDCWD, "/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0',
        'newfstatat(AT_FDCWD, "/nonexist", 0x7ffec6867080, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)',
        "mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f2eb1bd4000",
        'access("/", R_OK|X_OK)                  = 0',
        "umask(022)                              = 022",
        "kill(13708, 0)                          = 0",
        "lseek(10, 0, SEEK_CUR)                  = -1 ESPIPE (Illegal seek)",
        "exit_group(3)                           = ?",
        "+++ exited with 3 +++",
    ]


def test_structs_sockaddrs_and_signals():
    t = Trace()
    t.start()
    sin = struct.pack("<H", 2) + struct.pack("!H", 1) + bytes([127, 0, 0, 1]) + bytes(8)
    t.call("connect", 3, 0x100, 16); t.stru(b"sockaddr", sin); t.ret("connect", -111, error=61)
    sun = struct.pack("<H", 1) + b"\0abs"
    t.call("connect", 5, 0x100, 6); t.stru(b"sockaddr", sun); t.ret("connect", 0)
    t.call("socket", 2, 1, 0); t.ret("socket", 3)
    t.call("clock_nanosleep", 0, 0, 0x100, 0); t.stru(b"timespec", struct.pack("<qq", 0, 1000))
    t.ret("clock_nanosleep", 0)
    t.call("prlimit64", 0, 3, 0, 0x200)
    t.stru(b"rlimit", struct.pack("<QQ", 8192 * 1024, (1 << 64) - 1)); t.ret("prlimit64", 0)
    t.call("rt_sigprocmask", 0, 0x100, 0, 8); t.stru(b"sigset", struct.pack("<Q", 2))
    t.ret("rt_sigprocmask", 0)
    t.call("rt_sigaction", 10, 0x100, 0, 8)
    t.stru(b"sigaction", struct.pack("<QQQQ", 1, 0x04000000, 0x7f2eb1a26050, 0))
    t.ret("rt_sigaction", 0)
    t.call("pipe2", 0x100, 0); t.array(b"int", 4, struct.pack("<ii", 6, 7)); t.ret("pipe2", 0)
    t.call("poll", 0x100, 1, 0); t.array(b"pollfd", 8, struct.pack("<ihh", 0, 1, 0))
    t.array(b"pollfd", 8, struct.pack("<ihh", 0, 1, 1)); t.ret("poll", 1)
    t.add(r.PSIG, r.psig_payload(17, 0x401000, 1, 0))
    assert t.lines() == [
        'connect(3, {sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)',
        'connect(5, {sa_family=AF_UNIX, sun_path=@"abs"}, 6) = 0',
        "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3",
        "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0",
        "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0",
        "rt_sigprocmask(SIG_BLOCK, [INT], NULL, 8) = 0",
        "rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f2eb1a26050}, NULL, 8) = 0",
        "pipe2([6, 7], 0)                        = 0",
        "poll([{fd=0, events=POLLIN}], 1, 0)     = 1 ([{fd=0, revents=POLLIN}])",
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---",
    ]


def test_threads_interleave_unfinished_and_resumed():
    t = Trace()
    t.start()
    t.start(pid=PID + 1)
    t.call("read", 3, 0x7000, 832)
    t.call("set_robust_list", 0x7fe8583faa20, 24, tid=PID + 1, pid=PID + 1)
    t.gio(3, 0, b"\x7fELF\x02\x01")
    t.ret("read", 6)
    t.ret("set_robust_list", 0, tid=PID + 1, pid=PID + 1)
    assert t.lines() == [
        f"[pid  {PID}] read(3,  <unfinished ...>",
        f"[pid  {PID + 1}] set_robust_list(0x7fe8583faa20, 24 <unfinished ...>",
        f'[pid  {PID}] <... read resumed>"\\177ELF\\2\\1", 832) = 6',
        f"[pid  {PID + 1}] <... set_robust_list resumed>) = 0",
    ]


def test_options_strsize_hex_timing_and_fd_paths():
    t = Trace()
    t.start()
    t.call("openat", AT_FDCWD, 0x5000, 0x80000, 0); t.nami(b"/etc/passwd"); t.ret("openat", 3)
    t.call("read", 3, 0x7000, 4096); t.gio(3, 0, b"root:x:0:0:root:/root:/bin/bash\n")
    t.ret("read", 33, step=36000)
    assert t.lines("-s", "10")[1] == 'read(3, "root:x:0:0"..., 4096) '.ljust(40) + "= 33"
    assert t.lines("-xx", "-s", "2")[1].startswith('read(3, "\\x72\\x6f"..., 4096) ')
    assert t.lines("-y")[1].startswith('read(3</etc/passwd>, "root')
    assert t.lines("-y")[0].endswith("= 3</etc/passwd>")
    assert t.lines("-T")[1].endswith("= 33 <0.000037>")
    assert t.lines("-ttt")[0].startswith("1700000000.000002 openat(")
    assert t.lines("-r")[1].startswith("     0.000003 read(")


def test_bad_options_and_missing_file(tmp_path, capsys):
    assert view.main(["-q"]) == 1
    assert view.main(["-f", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err


def padded(head, result):
    """A line as strace aligns it: `` = `` at column 40 at the earliest."""
    return (head + " ").ljust(40) + "= " + result


def siginfo_bytes(signo, code, pid, uid=0, status=0, utime=0, stime=0):
    return struct.pack("<iii4xiIi4xqq", signo, 0, code, pid, uid, status, utime, stime) + \
        bytes(80)


def test_signal_lines_with_and_without_siginfo():
    t = Trace()
    t.start()
    t.add(r.PSIG, r.psig_payload(17, 0x401000, 1, 0))
    t.stru(b"siginfo", siginfo_bytes(17, 1, 5000, status=3, utime=2))
    t.call("rt_sigreturn", 0); t.ret("rt_sigreturn", 5000)
    t.add(r.PSIG, r.psig_payload(10, 0x401000, 0, 1 << 14))
    t.call("rt_sigreturn", 0); t.ret("rt_sigreturn", 0)
    assert t.lines() == [
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=5000, si_uid=0, "
        "si_status=3, si_utime=2 /* 0.02 s */, si_stime=0} ---",
        "rt_sigreturn({mask=[]})                 = 5000",
        "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER} ---",
        "rt_sigreturn({mask=[TERM]})             = 0",
    ]


def test_a_signal_not_acted_on_during_a_call_follows_its_line():
    """A SIGCHLD the kernel discards as it is sent (SIG_DFL: ignored) is
    recorded in the sender's time, maybe inside the parent's wait4: strace
    sees it on the return to user space, after wait4's line.  One acted on
    (a handler) during a call interrupts the call's line, as before."""
    t = Trace()
    t.start()
    t.call("wait4", 2**64 - 1, 0, 0, 0)
    t.add(r.PSIG, r.psig_payload(17, 0, 1, 0))                    # SIGCHLD, SIG_DFL
    t.stru(b"siginfo", siginfo_bytes(17, 1, 5000, status=3))
    t.ret("wait4", 5000)
    t.call("kill", PID, 12)
    t.add(r.PSIG, r.psig_payload(12, 1, 0, 0))                    # SIGUSR2, SIG_IGN
    t.ret("kill", 0)
    t.call("pause")
    t.add(r.PSIG, r.psig_payload(10, 0x401000, 0, 0))             # SIGUSR1, a handler
    t.ret("pause", -514, error=-1)
    assert t.lines() == [
        padded("wait4(-1, NULL, 0, NULL)", "5000"),
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=5000, si_uid=0, "
        "si_status=3, si_utime=0, si_stime=0} ---",
        padded("kill(4242, SIGUSR2)", "0"),
        "--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_USER} ---",
        "pause( <unfinished ...>",
        "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER} ---",
        "<... pause resumed>)                    = ? ERESTARTNOHAND (To be restarted if no handler)",
    ]


def test_unfinished_line_waits_for_data_recorded_at_exit():
    """strace reads write's buffer and execve's argv at entry; the trace has them at exit."""
    t = Trace()
    t.start()
    t.start(pid=PID + 1)
    other = dict(tid=PID + 1, pid=PID + 1)
    t.call("write", 1, 0x6000, 3)
    t.call("getpid", **other)
    t.gio(1, 1, b"hi\n")
    t.ret("write", 3)
    t.ret("getpid", PID + 1, **other)
    t.call("execve", 0x5000, 0x5100, 0x5200, **other); t.nami(b"/bin/true", tid=PID + 1)
    t.call("getppid")
    t.add(r.ARGS, b"true\0-x\0", tid=PID + 1); t.add(r.ENVS, b"A=1\0", tid=PID + 1)
    t.ret("execve", 0, **other)
    t.ret("getppid", 1)
    me, other = f"[pid  {PID}] ", f"[pid  {PID + 1}] "
    assert t.lines() == [
        me + 'write(1, "hi\\n", 3 <unfinished ...>',
        other + "getpid( <unfinished ...>",
        padded(me + "<... write resumed>)", "3"),
        padded(other + "<... getpid resumed>)", str(PID + 1)),
        other + 'execve("/bin/true", ["true", "-x"], 0x5200 /* 1 var */ <unfinished ...>',
        me + "getppid( <unfinished ...>",
        padded(other + "<... execve resumed>)", "0"),
        padded(me + "<... getppid resumed>)", "1"),
    ]


def clone_args(flags, exit_signal=0, parent_tid=0, child_tid=0):
    return struct.pack("<11Q", flags, 0, child_tid, parent_tid, exit_signal, 0x7f00, 0x9000,
                       0x7f80, 0, 0, 0)


def test_clone_family_print_what_the_kernel_writes_back():
    thread = 0x3d0f00        # CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
    t = Trace()
    t.start()
    t.call("clone3", 0x100, 88)
    t.stru(b"clone_args", clone_args(thread, parent_tid=0x7e90, child_tid=0x7e90))
    t.ret("clone3", 4300)
    t.call("clone3", 0x100, 88)
    t.stru(b"clone_args", clone_args(0x4100, exit_signal=17))     # CLONE_VM|CLONE_VFORK
    t.ret("clone3", 4301)
    t.call("clone", 0x1200011, 0, 0, 0x7a10, 0)
    t.ret("clone", 4302)
    assert t.lines() == [
        "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM"
        "|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7e90, "
        "parent_tid=0x7e90, exit_signal=0, stack=0x7f00, stack_size=0x9000, tls=0x7f80} => "
        "{parent_tid=[4300]}, 88) = 4300",
        # no children recorded, no --follow: one process, no [pid N] (strace without -f)
        "clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, "
        "stack=0x7f00, stack_size=0x9000}, 88) = 4301",
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID"
        "|SIGCHLD, child_tidptr=0x7a10) = 4302",
    ]


def test_results_and_requests_strace_spells_its_own_way():
    t = Trace()
    t.start()
    t.call("fcntl", 3, 3); t.ret("fcntl", 0x8002)                   # F_GETFL
    t.call("fcntl", 3, 1); t.ret("fcntl", 1)                        # F_GETFD
    t.call("fcntl", 3, 1); t.ret("fcntl", 0)
    t.call("ioctl", 4, 0x40049409, 3); t.ret("ioctl", -95, error=45)
    t.call("ioctl", 4, 0x80045499, 0); t.ret("ioctl", -25, error=25)
    t.call("getcwd", 0x100, 4096); t.stru(b"string", b"/" + b"d" * 40); t.ret("getcwd", 42)
    t.call("getgroups", 0, 0); t.ret("getgroups", 1)
    t.call("sched_getaffinity", 0, 128, 0x100); t.stru(b"cpuset", b"\x05" + bytes(7))
    t.ret("sched_getaffinity", 8)
    out = [line.split(" = ")[0].rstrip() + " = " + line.split(" = ", 1)[1] for line in t.lines()]
    assert out == [
        "fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)",
        "fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)",
        "fcntl(3, F_GETFD) = 0",
        "ioctl(4, BTRFS_IOC_CLONE or FICLONE, 3) = -1 EOPNOTSUPP (Operation not supported)",
        "ioctl(4, _IOC(_IOC_READ, 0x54, 0x99, 0x4), 0) = -1 ENOTTY (Inappropriate ioctl for device)",
        f'getcwd("/{"d" * 40}", 4096) = 42',
        "getgroups(0, NULL) = 1",
        "sched_getaffinity(0, 128, [0 2]) = 8",
    ]


def test_select_and_messages():
    t = Trace()
    t.start()
    t.call("pselect6", 4, 0x100, 0, 0, 0x200, 0)
    t.stru(b"fd_set", b"\x09" + bytes(7)); t.stru(b"timespec", struct.pack("<qq", 1, 0))
    t.stru(b"fd_set", b"\x08" + bytes(7)); t.stru(b"timespec", struct.pack("<qq", 0, 5))
    t.ret("pselect6", 1)
    t.call("select", 1, 0x100, 0, 0, 0x200)
    t.stru(b"fd_set", b"\x01" + bytes(7)); t.stru(b"timeval", struct.pack("<qq", 0, 0))
    t.stru(b"fd_set", bytes(8)); t.stru(b"timeval", struct.pack("<qq", 0, 0))
    t.ret("select", 0)
    msg = struct.pack("<QI4xQQQQi4x", 0, 0, 0x300, 2, 0, 0, 0)
    t.call("sendmsg", 3, 0x100, 0x40)
    t.stru(b"msghdr", msg)
    t.array(b"iovec", 16, struct.pack("<QQQQ", 0x400, 3, 0x500, 4))
    t.gio(3, 1, b"abcdefg"); t.ret("sendmsg", 7)
    lines = t.lines()
    assert lines[0] == ("pselect6(4, [0 3], NULL, NULL, {tv_sec=1, tv_nsec=0}, NULL) = 1 "
                        "(in [3], left {tv_sec=0, tv_nsec=5})")
    assert lines[1].endswith("= 0 (Timeout)")
    assert lines[2] == ('sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="abc", '
                        'iov_len=3}, {iov_base="defg", iov_len=4}], msg_iovlen=2, '
                        'msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 7')


def test_y_follows_descriptors_into_children():
    t = Trace()
    t.start()
    t.call("pipe2", 0x100, 0); t.array(b"int", 4, struct.pack("<ii", 3, 4)); t.ret("pipe2", 0)
    t.call("clone", 0x1200011, 0, 0, 0x7a10, 0)
    t.start(pid=PID + 1)                      # the child appears before clone returns
    t.call("close", 4, tid=PID + 1, pid=PID + 1)
    t.ret("close", 0, tid=PID + 1, pid=PID + 1)
    t.ret("clone", PID + 1)
    lines = t.lines("-y")
    assert lines[0].startswith("pipe2([3<pipe:>, 4<pipe:>], 0)")
    assert f"[pid  {PID + 1}] close(4<pipe:>)" in lines[2]


def test_a_thread_signal_line_is_not_held_past_its_process_end():
    t = Trace()
    t.start()
    t.add(r.PSIG, r.psig_payload(15, 0, 0, 0), tid=PID + 5)
    t.add(r.PROCDTOR, b"")
    t.call("getpid", tid=PID + 9, pid=PID + 9)
    out = io.StringIO()
    v = view.View(view.parse([]), out)
    for rec in r.RecordReader(io.BytesIO(b"".join(t.recs))):
        v.record(rec)
    assert "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER} ---" in out.getvalue()


def test_threads_ended_by_exit_group_each_get_their_exit_line():
    # strace -f: a thread killed by another's exit_group ends with its own
    # "+++ exited" line; the leader's comes last, without a prefix once alone
    t = Trace()
    t.start()
    t.call("pause", tid=PID + 1)
    t.call("pause", tid=PID + 2)
    t.call("exit_group", 3)
    t.add(r.PROCDTOR, b"")
    assert t.lines() == [
        f"[pid  {PID + 1}] pause( <unfinished ...>",
        f"[pid  {PID + 2}] pause( <unfinished ...>",
        f"[pid  {PID}] exit_group(3)               = ?",
        f"[pid  {PID + 2}] <... pause resumed>)        = ?",
        f"[pid  {PID + 1}] <... pause resumed>)        = ?",
        f"[pid  {PID + 2}] +++ exited with 3 +++",
        f"[pid  {PID + 1}] +++ exited with 3 +++",
        "+++ exited with 3 +++",
    ]


def _thread_exec(leader_exits=False):
    """A thread execs while the leader waits in rt_sigsuspend (or has called
    exit) and another thread sleeps: the exec's PROCCTOR under the thread's
    own id, the rest of the call under the leader's (docs/design.md)."""
    execer = PID + 3
    t = Trace()
    t.start()
    if not leader_exits:
        t.call("nanosleep", 0x1000, 0, tid=PID + 1)
        t.stru(b"timespec", struct.pack("<qq", 123, 0), tid=PID + 1)
        t.call("rt_sigsuspend", 0x2000, 8)
        t.stru(b"sigset", bytes(8))
    else:
        t.call("exit", 42)
    t.call("getpid", tid=execer)
    t.ret("getpid", PID, tid=execer)
    t.call("execve", 0x3000, 0x4000, 0x5000, tid=execer)
    t.nami(b"/bin/prog", tid=execer)
    t.add(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64), tid=execer)
    t.add(r.ARGS, b"prog\0again\0")
    t.add(r.ENVS, b"X=1\0")
    t.ret("execve", 0)
    t.call("getpid")
    t.ret("getpid", PID)
    return t


def test_a_thread_that_execs_supersedes_the_leader():
    # strace -f: the other threads' calls end unfinished (a sleeper's exit
    # half never printed), each but the leader exits with 0, and the thread
    # goes on under the leader's pid
    assert _thread_exec().lines() == [
        f"[pid  {PID + 1}] nanosleep({{tv_sec=123, tv_nsec=0}},  <unfinished ...>",
        f"[pid  {PID}] rt_sigsuspend([], 8 <unfinished ...>",
        f"[pid  {PID + 3}] getpid()                    = {PID}",
        f'[pid  {PID + 3}] execve("/bin/prog", ["prog", "again"], 0x5000 /* 1 var */ <unfinished ...>',
        f"[pid  {PID}] <... rt_sigsuspend resumed>) = ?",
        f"[pid  {PID + 1}] <... nanosleep resumed> <unfinished ...>) = ?",
        f"[pid  {PID + 1}] +++ exited with 0 +++",
        f"+++ superseded by execve in pid {PID + 3} +++",
        "<... execve resumed>)                   = 0",
        f"getpid()                                = {PID}",
    ]
    quiet = [f"+++ superseded by execve in pid {PID + 3} +++"]
    for option in (["-e", "quiet=thread-execve"], ["--quiet=superseded"], ["-qqq"]):
        shown = _thread_exec().lines(*option)
        assert not set(quiet) & set(shown) and "<... execve resumed>)                   = 0" in shown
    assert f"[pid  {PID + 1}] +++ exited with 0 +++" not in _thread_exec().lines("-qqq")


def test_a_thread_exec_line_left_open_says_the_pid_changed():
    # the leader called exit: nothing ends the exec's line before the switch
    # (a call -e trace= leaves out, the thread's getpid, ends no line)
    assert _thread_exec(leader_exits=True).lines("--follow", "-o", "/dev/stdout",
                                                  "-e", "trace=execve,exit") == [
        f"{PID}  exit(42)                          = ?",
        f'{PID + 3}  execve("/bin/prog", ["prog", "again"], 0x5000 /* 1 var */'
        f" <pid changed to {PID} ...>",
        f"{PID}  +++ superseded by execve in pid {PID + 3} +++",
        f"{PID}  <... execve resumed>)             = 0",
    ]


def _unpadded(lines):
    return [line.split(" = ")[0].rstrip() + " = " + line.split(" = ", 1)[1] for line in lines]


def test_flag_and_constant_arguments_spelled_from_tables():
    t = Trace()
    t.start()
    t.call("dup3", 3, 4, 0x80200); t.ret("dup3", -22, error=22)
    t.call("setns", 3, 0x80); t.ret("setns", 0)
    t.call("unshare", 0x20000); t.ret("unshare", 0)
    t.call("umount2", 0x100, 0x1F); t.nami(b"/mnt"); t.ret("umount2", -22, error=22)
    t.call("swapon", 0x100, 0x8000); t.nami(b"/swap"); t.ret("swapon", 0)
    t.call("tee", 3, 4, 10, 0xF); t.ret("tee", 0)
    t.call("sync_file_range", 3, 0, 10, 0xFFFFFFFF); t.ret("sync_file_range", 0)
    t.call("pkey_alloc", 0, 0xBADC0DED00000002); t.ret("pkey_alloc", -22, error=22)
    t.call("kexec_load", 0, 0, 0, 0xBADC0DEDDA7A1054); t.ret("kexec_load", -1, error=1)
    t.call("fanotify_init", 0x4 | 0x1, 0x8002); t.ret("fanotify_init", 5)
    t.call("request_key", 0, 0, 0, (1 << 32) - 1); t.ret("request_key", -14, error=14)
    t.call("sched_get_priority_min", 1); t.ret("sched_get_priority_min", 1)
    t.call("inotify_add_watch", 3, 0x100, 0x40000102); t.nami(b"/tmp")
    t.ret("inotify_add_watch", 1)
    t.call("userfaultfd", 0x800); t.ret("userfaultfd", 6)
    assert _unpadded(t.lines()) == [
        "dup3(3, 4, O_TRUNC|O_CLOEXEC) = -1 EINVAL (Invalid argument)",
        "setns(3, CLONE_NEWTIME) = 0",
        "unshare(CLONE_NEWNS) = 0",
        'umount2("/mnt", MNT_FORCE|MNT_DETACH|MNT_EXPIRE|UMOUNT_NOFOLLOW|0x10)'
        " = -1 EINVAL (Invalid argument)",
        'swapon("/swap", SWAP_FLAG_PREFER|0) = 0',
        "tee(3, 4, 10, SPLICE_F_MOVE|SPLICE_F_NONBLOCK|SPLICE_F_MORE|SPLICE_F_GIFT) = 0",
        "sync_file_range(3, 0, 10, SYNC_FILE_RANGE_WAIT_BEFORE|SYNC_FILE_RANGE_WRITE"
        "|SYNC_FILE_RANGE_WAIT_AFTER|0xfffffff8) = 0",
        "pkey_alloc(0, PKEY_DISABLE_WRITE|0xbadc0ded00000000) = -1 EINVAL (Invalid argument)",
        "kexec_load(NULL, 0, NULL, 0xda7a0000 /* KEXEC_ARCH_??? */|0xbadc0ded00001054"
        " /* KEXEC_??? */) = -1 EPERM (Operation not permitted)",
        "fanotify_init(FAN_CLASS_CONTENT|FAN_CLOEXEC, O_RDWR|O_LARGEFILE) = 5",
        "request_key(NULL, NULL, NULL, KEY_SPEC_THREAD_KEYRING) = -1 EFAULT (Bad address)",
        "sched_get_priority_min(SCHED_FIFO) = 1",
        'inotify_add_watch(3, "/tmp", IN_MODIFY|IN_CREATE|IN_ISDIR) = 1',
        "userfaultfd(O_NONBLOCK) = 6",
    ]


def test_socket_option_names_of_ip_levels():
    t = Trace()
    t.start()
    t.call("setsockopt", 3, 41, 26, 0x100, 4); t.stru(b"bytes", struct.pack("<i", 1))
    t.ret("setsockopt", 0)
    t.call("setsockopt", 3, 0, 11, 0x100, 4); t.stru(b"bytes", struct.pack("<i", 1))
    t.ret("setsockopt", 0)
    t.call("setsockopt", 3, 0, 0xDEAD, 0x100, 4); t.stru(b"bytes", struct.pack("<i", 1))
    t.ret("setsockopt", -92, error=42)
    t.call("setsockopt", 3, 0xBEEF, 7, 0x100, 4); t.stru(b"bytes", struct.pack("<i", 1))
    t.ret("setsockopt", -92, error=42)
    t.call("getsockopt", 3, 1, 1, 0x100, 0x200); t.stru(b"int", struct.pack("<i", 3))
    t.stru(b"bytes", b"\0\0\0"); t.stru(b"int", struct.pack("<i", 3)); t.ret("getsockopt", 0)
    lines = [line.split(" = ")[0].rstrip() for line in t.lines()]
    assert lines == [
        "setsockopt(3, SOL_IPV6, IPV6_V6ONLY, [1], 4)",
        "setsockopt(3, SOL_IP, IP_RECVERR, [1], 4)",
        "setsockopt(3, SOL_IP, 0xdead /* IP_??? */, [1], 4)",
        "setsockopt(3, 0xbeef /* SOL_?? */, 7, [1], 4)",
        'getsockopt(3, SOL_SOCKET, SO_DEBUG, "\\x00\\x00\\x00", [3])',
    ]


def test_statx_mask_names_the_whole_sets_first():
    t = Trace()
    t.start()
    for mask in (0xFFF, 0x17FF, 0x7FF):
        t.call("statx", AT_FDCWD, 0x100, 0, mask, 0x200); t.nami(b"/f")
        t.ret("statx", -2, error=ENOENT)
    assert [line.split(", ")[3] for line in t.lines()] == [
        "STATX_ALL", "STATX_BASIC_STATS|STATX_MNT_ID", "STATX_BASIC_STATS"]


def test_prctl_options_and_results():
    t = Trace()
    t.start()
    t.call("prctl", 15, 0x100, 0, 0, 0); t.stru(b"string", b"0123456789abcdefXYZ")
    t.ret("prctl", 0)
    t.call("prctl", 15, 0x100, 0, 0, 0); t.stru(b"string", b"short"); t.ret("prctl", 0)
    t.call("prctl", 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC, 0xFFFFFFFB)
    t.ret("prctl", -22, error=22)
    t.call("prctl", 24, 0xFF, 0, 0, 0); t.ret("prctl", -22, error=22)       # PR_CAPBSET_DROP
    t.call("prctl", 47, 2, 13, 0, 0); t.ret("prctl", -1, error=1)           # PR_CAP_AMBIENT
    t.call("prctl", 33, 1, 1, 0, 0); t.ret("prctl", 0)                      # PR_MCE_KILL
    t.call("prctl", 4, 3, 0, 0, 0); t.ret("prctl", -22, error=22)           # PR_SET_DUMPABLE
    t.call("prctl", 3, 0, 0, 0, 0); t.ret("prctl", 1)                       # PR_GET_DUMPABLE
    t.call("prctl", 27, 0, 0, 0, 0); t.ret("prctl", 0x2F)                   # PR_GET_SECUREBITS
    t.call("prctl", 31, 0, 0, 0, 0); t.ret("prctl", 0)                      # PR_TASK_PERF_EVENTS_DISABLE
    t.call("prctl", 38, 1, 0, 0, 0); t.ret("prctl", 0)                      # PR_SET_NO_NEW_PRIVS
    t.call("prctl", 1, 200, 0, 0, 0); t.ret("prctl", -22, error=22)         # PR_SET_PDEATHSIG
    assert _unpadded(t.lines()) == [
        'prctl(PR_SET_NAME, "0123456789abcde"...) = 0',
        'prctl(PR_SET_NAME, "short") = 0',
        "prctl(0xffffffff /* PR_??? */, 0xfffffffe, 0xfffffffd, 0xfffffffc, 0xfffffffb)"
        " = -1 EINVAL (Invalid argument)",
        "prctl(PR_CAPBSET_DROP, 0xff /* CAP_??? */) = -1 EINVAL (Invalid argument)",
        "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0)"
        " = -1 EPERM (Operation not permitted)",
        "prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0) = 0",
        "prctl(PR_SET_DUMPABLE, 0x3 /* SUID_DUMP_??? */) = -1 EINVAL (Invalid argument)",
        "prctl(PR_GET_DUMPABLE) = 1 (SUID_DUMP_USER)",
        "prctl(PR_GET_SECUREBITS) = 0x2f (SECBIT_NOROOT|SECBIT_NOROOT_LOCKED"
        "|SECBIT_NO_SETUID_FIXUP|SECBIT_NO_SETUID_FIXUP_LOCKED|SECBIT_KEEP_CAPS_LOCKED)",
        "prctl(PR_TASK_PERF_EVENTS_DISABLE) = 0",
        "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0",
        "prctl(PR_SET_PDEATHSIG, 200) = -1 EINVAL (Invalid argument)",
    ]


def test_positioned_vector_reads_and_writes():
    t = Trace()
    t.start()
    t.call("pwritev", 1, 0x100, 2, 100)
    t.array(b"iovec", 16, struct.pack("<QQQQ", 0x400, 3, 0x500, 4)); t.gio(1, 1, b"abcdefg")
    t.ret("pwritev", 7)
    t.call("preadv", 0, 0x100, 1, 0)
    t.array(b"iovec", 16, struct.pack("<QQ", 0x400, 8)); t.gio(0, 0, b"xyz")
    t.ret("preadv", 3)
    t.call("pwritev2", 1, 0x100, 0, 5, 0, 0x34); t.ret("pwritev2", 0)
    t.call("preadv2", 0, 0, 1, 0, 0, 0x1); t.ret("preadv2", -14, error=14)
    assert _unpadded(t.lines()) == [
        'pwritev(1, [{iov_base="abc", iov_len=3}, {iov_base="defg", iov_len=4}], 2, 100) = 7',
        'preadv(0, [{iov_base="xyz", iov_len=8}], 1, 0) = 3',
        "pwritev2(1, [], 0, 5, RWF_SYNC|RWF_APPEND|0x20) = 0",
        "preadv2(0, NULL, 1, 0, RWF_HIPRI) = -1 EFAULT (Bad address)",
    ]


def test_modes_map_flags_and_file_ranges():
    t = Trace()
    t.start()
    t.call("mknod", 0x100, 0xFFFFFFFF, 0); t.nami(b"/n"); t.ret("mknod", -22, error=22)
    t.call("mknod", 0x100, 0o20024, 0xDEADBEEF00000107); t.nami(b"/n"); t.ret("mknod", -17, error=17)
    t.call("mknod", 0x100, 0o100000, 0); t.nami(b"/n"); t.ret("mknod", -17, error=17)
    t.call("remap_file_pages", 0x1000, 4096, 0xDEFACED00000000, 0, 0x5404401F)
    t.ret("remap_file_pages", -22, error=22)
    t.call("fadvise64", 3, (1 << 64) - 1, (1 << 64) - 1, 0xDEADCA75); t.ret("fadvise64", 0)
    t.call("reboot", 0xFEE1DEAD, 0x13111992, 0xCDEF0123, 0); t.ret("reboot", -22, error=22)
    assert _unpadded(t.lines()) == [
        'mknod("/n", 0177777) = -1 EINVAL (Invalid argument)',
        'mknod("/n", S_IFCHR|024, makedev(0x1, 0x7)) = -1 EEXIST (File exists)',
        'mknod("/n", S_IFREG|000) = -1 EEXIST (File exists)',
        "remap_file_pages(0x1000, 4096, 0xdefaced00000000 /* PROT_??? */, 0, 0xf /* MAP_??? */"
        "|MAP_FIXED|MAP_NORESERVE|MAP_HUGETLB|21<<MAP_HUGE_SHIFT) = -1 EINVAL (Invalid argument)",
        "fadvise64(3, -1, 18446744073709551615, 0xdeadca75 /* POSIX_FADV_??? */) = 0",
        "reboot(LINUX_REBOOT_MAGIC1, 0x13111992 /* LINUX_REBOOT_MAGIC_??? */,"
        " LINUX_REBOOT_CMD_HALT) = -1 EINVAL (Invalid argument)",
    ]


def test_futex_commands_and_io_priorities():
    t = Trace()
    t.start()
    t.call("futex", 0x1000, 0x101, 0xDEADBEE1, 0, 0, 0); t.ret("futex", -38, error=78)
    t.call("futex", 0x1000, 0x85, 0xFACEFEED, 8, 0x2000, 0x5000000F)
    t.ret("futex", -38, error=78)
    t.call("futex", 0x1000, 0x81, 1, 0, 0, 0); t.ret("futex", 0)
    t.call("futex", 0x1000, 0x180, 0, 0, 0, 0); t.ret("futex", -11, error=35)
    t.call("ioprio_get", 1, 0); t.ret("ioprio_get", 0x4004)
    t.call("ioprio_set", 2, 0, 0x1FFF); t.ret("ioprio_set", -22, error=22)
    assert _unpadded(t.lines()) == [
        "futex(0x1000, 0x101 /* FUTEX_??? */, 3735928545) = -1 ENOSYS (Function not implemented)",
        "futex(0x1000, FUTEX_WAKE_OP_PRIVATE, 4207869677, 8, 0x2000, "
        "0x5<<28 /* FUTEX_OP_??? */|0<<12|FUTEX_OP_CMP_EQ<<24|0xf)"
        " = -1 ENOSYS (Function not implemented)",
        "futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 0",
        "futex(0x1000, FUTEX_WAIT_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL)"
        " = -1 EAGAIN (Resource temporarily unavailable)",
        "ioprio_get(IOPRIO_WHO_PROCESS, 0) = 16388 (IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4))",
        "ioprio_set(IOPRIO_WHO_PGRP, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_NONE, 8191))"
        " = -1 EINVAL (Invalid argument)",
    ]


def test_protections_in_64_bits_and_fractions_of_seconds_unsigned():
    t = Trace()
    t.start()
    t.call("pkey_mprotect", 0, 0, 0xDEADFEED00CA7501, 0); t.ret("pkey_mprotect", 0)
    t.call("setitimer", 0, 0x100, 0)
    t.stru(b"itimerval", struct.pack("<qqqq", 1, -2, 3, -4)); t.ret("setitimer", -22, error=22)
    assert _unpadded(t.lines()) == [
        "pkey_mprotect(NULL, 0, PROT_READ|0xdeadfeed00ca7500, 0) = 0",
        "setitimer(ITIMER_REAL, {it_interval={tv_sec=1, tv_usec=18446744073709551614}, "
        "it_value={tv_sec=3, tv_usec=18446744073709551612}}, NULL) = -1 EINVAL (Invalid argument)",
    ]


def test_prctl_vector_lengths_keys_and_core_scheduling():
    t = Trace()
    t.start()
    t.call("prctl", 50, 0x40010, 0, 0, 0); t.ret("prctl", 0x40010)     # PR_SVE_SET_VL
    t.call("prctl", 54, 0x20, 0, 0, 0); t.ret("prctl", -22, error=22)  # PR_PAC_RESET_KEYS
    t.call("prctl", 62, 0, 7, 0, 0); t.ret("prctl", -22, error=22)     # PR_SCHED_CORE
    t.call("prctl", 59, 1, 0xDEADBEEF, 0, 0); t.ret("prctl", -22, error=22)
    assert _unpadded(t.lines()) == [
        "prctl(PR_SVE_SET_VL, PR_SVE_SET_VL_ONEXEC|0x10) = 0x40010 (PR_SVE_SET_VL_ONEXEC|0x10)",
        "prctl(PR_PAC_RESET_KEYS, 0x20 /* PR_PAC_??? */, 0, 0, 0) = -1 EINVAL (Invalid argument)",
        "prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, 7, 0 /* PIDTYPE_PID */, NULL)"
        " = -1 EINVAL (Invalid argument)",
        "prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0xdeadbeef, 0, NULL)"
        " = -1 EINVAL (Invalid argument)",
    ]


def test_getresuid_getresgid_print_each_stored_id():
    t = Trace()
    t.start()
    t.call("getresuid", 0x100, 0x104, 0x108)
    for uid in (0, 1000, 0xFFFFFFFF):
        t.stru(b"int", struct.pack("<I", uid))
    t.ret("getresuid", 0)
    t.call("getresgid", 0x100, 0x104, 0x108)
    t.stru(b"int", struct.pack("<i", 5)); t.stru(b"int", struct.pack("<i", 6))
    t.ret("getresgid", 0)
    t.call("getresuid", 0, 0x104, 0x108)
    t.ret("getresuid", -14, error=14)
    assert t.lines("-a0") == [
        "getresuid([0], [1000], [-1]) = 0",
        "getresgid([5], [6], 0x108) = 0",
        "getresuid(NULL, 0x104, 0x108) = -1 EFAULT (Bad address)",
    ]


def test_clone3_prints_the_fields_its_flags_use():
    into_cgroup, pidfd, vfork = 0x200000000, 0x1000, 0x4000
    t = Trace()
    t.start()
    args = bytearray(clone_args(vfork | 0x100, exit_signal=17))
    struct.pack_into("<QQQ", args, 64, 0x600, 2, 7)            # set_tid, set_tid_size, cgroup
    t.call("clone3", 0x100, 88); t.stru(b"clone_args", bytes(args))
    t.array(b"int", 4, struct.pack("<ii", 300, 1)); t.ret("clone3", 300)
    t.call("clone3", 0x100, 64); t.stru(b"clone_args", clone_args(into_cgroup)[:64])
    t.ret("clone3", 301)
    t.call("clone3", 0x100, 96); t.stru(b"clone_args", clone_args(0)[:88])  # tail unreadable
    t.ret("clone3", -14, error=14)
    t.call("clone3", 0x100, 96); t.stru(b"clone_args", clone_args(pidfd) + b"\x01" + b"\0" * 7)
    t.ret("clone3", -7, error=7)
    t.call("clone3", 0x100, 56)
    t.ret("clone3", -22, error=22)
    assert [line.split("] ", 1)[-1] for line in t.lines("-a0")] == [
        "clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f00, "
        "stack_size=0x9000, set_tid=[300, 1], set_tid_size=2, cgroup=7}, 88) = 300",
        "clone3({flags=CLONE_INTO_CGROUP, exit_signal=0, stack=0x7f00, stack_size=0x9000}, 64)"
        " = 301",
        "clone3({flags=0, exit_signal=0, stack=0x7f00, stack_size=0x9000, ???}, 96)"
        " = -1 EFAULT (Bad address)",
        "clone3({flags=CLONE_PIDFD, pidfd=NULL, exit_signal=0, stack=0x7f00, stack_size=0x9000,"
        ' /* bytes 88..95 */ "\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00"}, 96)'
        " = -1 E2BIG (Argument list too long)",
        "clone3(0x100, 56) = -1 EINVAL (Invalid argument)",
    ]


def open_how(flags, mode=0, resolve=0):
    return struct.pack("<QQQ", flags, mode, resolve)


def test_openat2_prints_open_how():
    t = Trace()
    t.start()
    t.call("openat2", AT_FDCWD, 0x5000, 0x6000, 24); t.nami(b"/etc/passwd")
    t.stru(b"open_how", open_how(0o2000000, resolve=4)); t.ret("openat2", 3)
    t.call("openat2", AT_FDCWD, 0x5000, 0x6000, 24); t.nami(b"/tmp/new")
    t.stru(b"open_how", open_how(0o101, mode=0o644)); t.ret("openat2", 4)
    t.call("openat2", AT_FDCWD, 0x5000, 0x6000, 32); t.nami(b"x")
    t.stru(b"open_how", open_how(0, resolve=0x40) + b"\0" * 8); t.ret("openat2", 5)
    t.call("openat2", AT_FDCWD, 0x5000, 0x6000, 16); t.nami(b"x")
    t.ret("openat2", -22, error=22)
    assert t.lines("-a0") == [
        'openat2(AT_FDCWD, "/etc/passwd", {flags=O_RDONLY|O_CLOEXEC, '
        "resolve=RESOLVE_NO_SYMLINKS}, 24) = 3",
        'openat2(AT_FDCWD, "/tmp/new", {flags=O_WRONLY|O_CREAT, mode=0644, resolve=0}, 24) = 4',
        'openat2(AT_FDCWD, "x", {flags=O_RDONLY, resolve=0x40 /* RESOLVE_??? */}, 32) = 5',
        'openat2(AT_FDCWD, "x", 0x6000, 16) = -1 EINVAL (Invalid argument)',
    ]


def test_y_marks_a_descriptor_whose_name_was_removed_deleted():
    """readlink of /proc/PID/fd/N ends in " (deleted)" once the file's name is
    gone: strace prints it after the path, the repeated calls too."""
    t = Trace()
    t.start()
    for fd, name in ((3, b"/tmp/a"), (4, b"/tmp/b")):
        t.call("openat", AT_FDCWD, 0x1000, 0o102, 0o600); t.nami(name); t.ret("openat", fd)
    t.call("unlink", 0x2000); t.nami(b"/tmp/a"); t.ret("unlink", 0)
    t.call("unlinkat", AT_FDCWD, 0x2000, 0); t.nami(b"/tmp/nothing"); t.ret("unlinkat", -2,
                                                                            error=ENOENT)
    for _ in range(2):
        for fd in (3, 4):
            t.call("fsync", fd); t.ret("fsync", 0)
    lines = t.lines("-y", "-a0")
    assert lines[-4:] == ["fsync(3</tmp/a>(deleted)) = 0", "fsync(4</tmp/b>) = 0"] * 2


def test_a_counted_buffer_read_in_part_prints_as_its_address():
    """printstrn reads -s bytes and one more (when the length is longer) all or
    none: a buffer recorded only to its page's end is its address unless it
    holds them."""
    t = Trace()
    t.start()
    for size in (32, 33):
        t.call("add_key", 0, 0, 0x1fe0, size, 0xFFFFFFFF)
        t.stru(b"bytes", b"x" * 32)
        t.ret("add_key", -14, error=14)
    lines = t.lines("-a0")
    assert lines[0].startswith(f'add_key(NULL, NULL, "{"x" * 32}", 32, ')
    assert lines[1].startswith("add_key(NULL, NULL, 0x1fe0, 33, ")

"""kdump --strace: hand-built Linux records (as the recording plan lays them out)
must print as strace 6.1 prints the same calls."""

import io
import struct

import pytest

from ktrace import record as r
from ktrace.kdump import strace as view
from test_decode_args import linux_abi

ABI = linux_abi()
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
    monkeypatch.setattr(view, "abi_for", lambda sv: ABI)


AT_FDCWD = (1 << 64) - 100
ENOENT = 2


def stat_bytes(mode, size=0, rdev=0):
    return struct.pack("<QQQIII4xQqqq6q24x", 2049, 7, 1, mode, 0, 0, rdev, size, 4096, 8,
                       *([0] * 6))


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

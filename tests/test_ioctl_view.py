"""kdump --strace: ioctl requests by family (watchdog, random, inotify, nsfs, rtc,
counter, perf, fs_x, seccomp, the tty requests), from hand-built records laid
out as the recording plan says (``STRU ioc`` at entry for _IOC_WRITE, at exit
for _IOC_READ; the selector's STRU for the requests it knows), must print as
strace 6.1 prints the same calls."""

import io
import struct

from kdump_support import header, linux, lines
from ktrace import record as r
from ktrace.kdump import strace as view
from test_strace_mm_ipc import Trace as LinuxTrace
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

EBADF = 9
ADDR = 0x7FFD0000
PID_IN_TRACE = 4242       # a pid a notification names


class Trace(LinuxTrace):
    """A trace of one Linux process and its ioctl calls."""
    def ioctl(self, request, arg=ADDR, entry=None, exit_=None, ret=0, fd=3):
        """One ioctl: its entry STRU ioc, its exit STRU ioc, its result (-EBADF: failed)."""
        self.call("ioctl", fd, request, arg)
        if entry is not None:
            self.stru(b"ioc", entry)
        if exit_ is not None:
            self.stru(b"ioc", exit_)
        self.ret("ioctl", ret, error=EBADF if ret == -EBADF else 0)


def bad_fd_ioctls(data: bytes, *options: str) -> list[str]:
    """kdump --strace -a0's lines of the ioctls on descriptor -1 in trace bytes
    ``data`` (a test program's requests, each failing EBADF)."""
    out = io.StringIO()
    view.run(view.parse(["-a0", "-e", "trace=ioctl", *options]), io.BytesIO(data), out)
    return [line for line in out.getvalue().splitlines() if line.startswith("ioctl(-1")]


RTC_TIME = struct.pack("<9i", 1, 2, 3, 4, 5, 6, 7, 8, 9)


def test_watchdog_ints_read_in_and_written_out():
    t = Trace()
    t.ioctl(0xC0045706, entry=struct.pack("<i", 123), exit_=struct.pack("<i", 60))
    t.ioctl(0x80045707, exit_=struct.pack("<i", 60))
    t.ioctl(0x80045707, ret=-EBADF)                  # written by a failed call: its address
    t.ioctl(0x80045705)
    assert t.lines() == [
        "ioctl(3, WDIOC_SETTIMEOUT, [123]) = 0",
        "ioctl(3, WDIOC_GETTIMEOUT, [60]) = 0",
        f"ioctl(3, WDIOC_GETTIMEOUT, {ADDR:#x}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, WDIOC_KEEPALIVE) = 0",
    ]


def test_rtc_structs_and_values():
    t = Trace()
    t.ioctl(0x80247009, exit_=RTC_TIME)
    t.ioctl(0x4024700A, entry=RTC_TIME, ret=-EBADF)
    t.ioctl(0x4028700F, entry=b"\1\0\0\0" + RTC_TIME)
    t.ioctl(0x40207012, entry=struct.pack("<6iq", 1, 2, 3, 4, 5, 6, -7))
    t.ioctl(0x4008700C, arg=1 << 63)
    t.ioctl(0x8008700D, exit_=struct.pack("<Q", 1900))
    t.ioctl(0x40187014, entry=struct.pack("<QQII", 0, 0x9, 0, 0))
    t.ioctl(0x40187013, entry=struct.pack("<QQII", 2, 0, 1, 5), ret=-EBADF)
    t.ioctl(0x7004)
    assert t.lines() == [
        "ioctl(3, RTC_RD_TIME, {tm_sec=1, tm_min=2, tm_hour=3, tm_mday=4, tm_mon=5, "
        "tm_year=6, ...}) = 0",
        "ioctl(3, RTC_SET_TIME, {tm_sec=1, tm_min=2, tm_hour=3, tm_mday=4, tm_mon=5, "
        "tm_year=6, ...}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, RTC_WKALM_SET, {enabled=1, pending=0, time={tm_sec=1, tm_min=2, tm_hour=3, "
        "tm_mday=4, tm_mon=5, tm_year=6, ...}}) = 0",
        "ioctl(3, RTC_PLL_SET, {pll_ctrl=1, pll_value=2, pll_max=3, pll_min=4, pll_posmult=5, "
        "pll_negmult=6, pll_clock=-7}) = 0",
        f"ioctl(3, RTC_IRQP_SET, {1 << 63}) = 0",
        "ioctl(3, RTC_EPOCH_READ, [1900]) = 0",
        "ioctl(3, RTC_PARAM_SET, {param=RTC_PARAM_FEATURES, "
        "uvalue=1<<RTC_FEATURE_ALARM|1<<RTC_FEATURE_ALARM_RES_2S, index=0}) = 0",
        "ioctl(3, RTC_PARAM_GET, {param=RTC_PARAM_BACKUP_SWITCH_MODE, index=1, __pad=0x5} "
        f"=> {ADDR:#x}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, PHN_NOT_OH or RTC_UIE_OFF) = 0",
    ]
    assert t.lines("-v")[0] == ("ioctl(3, RTC_RD_TIME, {tm_sec=1, tm_min=2, tm_hour=3, "
                                "tm_mday=4, tm_mon=5, tm_year=6, tm_wday=7, tm_yday=8, "
                                "tm_isdst=9}) = 0")


def test_nsfs_random_inotify():
    t = Trace()
    t.call("ioctl", 5, 0xB704, ADDR); t.stru(b"int", struct.pack("<I", 0)); t.ret("ioctl", 0)
    t.ioctl(0xB703, ret=0x10000000)
    t.ioctl(0x40044900, arg=0xDEADBEEFBADC0DED)
    t.ioctl(0x80045200, exit_=struct.pack("<i", 256))
    t.ioctl(0x40085203, entry=struct.pack("<ii", 3, 0))
    t.ioctl(0x40085203, arg=0, ret=-EBADF)
    assert t.lines() == [
        "ioctl(5, NS_GET_OWNER_UID, [0]) = 0",
        "ioctl(3, NS_GET_NSTYPE) = 268435456 (CLONE_NEWUSER)",
        "ioctl(3, INOTIFY_IOC_SETNEXTWD, -1159983635) = 0",
        "ioctl(3, RNDGETENTCNT, [256]) = 0",
        'ioctl(3, RNDADDENTROPY, {entropy_count=3, buf_size=0, buf=""}) = 0',
        "ioctl(3, RNDADDENTROPY, NULL) = -1 EBADF (Bad file descriptor)",
    ]


def test_requests_no_family_decodes():
    t = Trace()
    t.ioctl(0x80085701 | 0xFF, exit_=b"\0" * 8)      # _IOR('W', 0xff, 8): no decoder
    t.ioctl(0x5401, ret=-EBADF)                       # TCGETS, no record: its address
    assert t.lines() == [
        f"ioctl(3, _IOC(_IOC_READ, 0x57, 0xff, 0x8), {ADDR:#x}) = 0",
        f"ioctl(3, TCGETS, {ADDR:#x}) = -1 EBADF (Bad file descriptor)",
    ]
    assert t.lines("-Xraw")[1] == f"ioctl(3, 0x5401, {ADDR:#x}) = -1 EBADF (Bad file descriptor)"
    assert t.lines("-Xverbose")[0] == \
        f"ioctl(3, 0x800857ff /* _IOC(_IOC_READ, 0x57, 0xff, 0x8) */, {ADDR:#x}) = 0"
    assert t.lines("-Xverbose")[1] == \
        f"ioctl(3, 0x5401 /* TCGETS */, {ADDR:#x}) = -1 EBADF (Bad file descriptor)"


def test_counter_perf_fs_x():
    t = Trace()
    t.ioctl(0x40063E00, entry=bytes([5, 2, 23, 42, 6, 69]), ret=-EBADF)
    t.ioctl(0x2400, arg=0xDEADBEEFBADC0DED)
    t.ioctl(0x40082404, entry=struct.pack("<Q", 1 << 63))
    t.ioctl(0x80082407, exit_=struct.pack("<Q", 42))
    t.call("ioctl", 3, 0x40082406, ADDR); t.stru(b"string", b"filter"); t.ret("ioctl", 0)
    t.ioctl(0xC008240A, entry=struct.pack("<II", 3, 0), ret=-EBADF)
    t.ioctl(0xC0045877, arg=0)
    t.ioctl(0x401C5820, entry=struct.pack("<5I8x", 0x80000009, 1, 2, 0xCAFE, 3))
    t.ioctl(0x801C581F, exit_=struct.pack("<5I8x", 0x40000000, 1, 2, 0, 3))
    assert t.lines() == [
        "ioctl(3, COUNTER_ADD_WATCH_IOCTL, {component={type=COUNTER_COMPONENT_EXTENSION, "
        "scope=COUNTER_SCOPE_COUNT, parent=23, id=42}, event=COUNTER_EVENT_CAPTURE, "
        "channel=69}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP|0xbadc0dec) = 0",
        f"ioctl(3, PERF_EVENT_IOC_PERIOD, [{1 << 63}]) = 0",
        "ioctl(3, PERF_EVENT_IOC_ID, [42]) = 0",
        'ioctl(3, PERF_EVENT_IOC_SET_FILTER, "filter") = 0',
        "ioctl(3, PERF_EVENT_IOC_QUERY_BPF, {ids_len=3, ...}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, FIFREEZE) = 0",
        "ioctl(3, FS_IOC_FSSETXATTR, {fsx_xflags=FS_XFLAG_REALTIME|FS_XFLAG_IMMUTABLE|"
        "FS_XFLAG_HASATTR, fsx_extsize=1, fsx_projid=0xcafe, fsx_cowextsize=3}) = 0",
        "ioctl(3, FS_IOC_FSGETXATTR, {fsx_xflags=0x40000000 /* FS_XFLAG_??? */, fsx_extsize=1, "
        "fsx_nextents=2, fsx_projid=0, fsx_cowextsize=3}) = 0",
    ]


def test_seccomp_notifications():
    notif = struct.pack("<QIIiIQ6Q", 0, PID_IN_TRACE, 0, 186, 0xC000003E, 0, *range(6))
    t = Trace()
    t.ioctl(0xC0502100, entry=notif, ret=-EBADF)
    t.ioctl(0xC0502100, entry=bytes(80), exit_=notif)
    t.ioctl(0xC0182101, entry=struct.pack("<QqiI", 1, -2, -63, 1))
    t.call("ioctl", 3, 0x80082102, ADDR); t.stru(b"long", struct.pack("<Q", 0xFEED))
    t.ret("ioctl", -EBADF, error=EBADF)
    t.ioctl(0x40182103, entry=struct.pack("<QIiiI", 7, 3, 42, 5, 0x80000))
    data = ("data={nr=__NR_gettid, arch=AUDIT_ARCH_X86_64, instruction_pointer=NULL, "
            "args=[0, 0x1, 0x2, 0x3, 0x4, 0x5]}")
    assert t.lines() == [
        f"ioctl(3, SECCOMP_IOCTL_NOTIF_RECV, {{id=0, pid={PID_IN_TRACE}, flags=0, {data}}} => "
        f"{ADDR:#x}) = -1 EBADF (Bad file descriptor)",
        f"ioctl(3, SECCOMP_IOCTL_NOTIF_RECV, {{id=0, pid={PID_IN_TRACE}, flags=0, {data}}}) = 0",
        "ioctl(3, SECCOMP_IOCTL_NOTIF_SEND, {id=0x1, val=-2, error=-ENOSR, "
        "flags=SECCOMP_USER_NOTIF_FLAG_CONTINUE}) = 0",
        "ioctl(3, SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR, [0xfeed]) = -1 EBADF "
        "(Bad file descriptor)",
        "ioctl(3, SECCOMP_IOCTL_NOTIF_ADDFD, {id=0x7, flags=SECCOMP_ADDFD_FLAG_SETFD|"
        "SECCOMP_ADDFD_FLAG_SEND, srcfd=42, newfd=5, newfd_flags=O_CLOEXEC}) = 0",
    ]


def test_userfaultfd_given_and_answered_and_inode_flags():
    t = Trace()
    t.ioctl(0xC018AA3F, entry=struct.pack("<QQQ", 0xAA, 0, 0),
            exit_=struct.pack("<QQQ", 0xAA, 0x3, (1 << 63) | 3))
    t.ioctl(0xC018AA3F, entry=struct.pack("<QQQ", 0xAA, 0, 0), ret=-EBADF)
    t.ioctl(0xC028AA03, entry=struct.pack("<QQQQq", 0x1000, 0x2000, 0x1000, 0x3, 0),
            exit_=struct.pack("<QQQQq", 0x1000, 0x2000, 0x1000, 0x3, 0x1000))
    t.ioctl(0x8010AA02, exit_=struct.pack("<QQ", 0x1000, 0x1000))
    t.ioctl(0x8010AA02, ret=-EBADF)
    t.call("ioctl", 3, 0x40086602, ADDR); t.stru(b"int", struct.pack("<I", 0x10 | 0xD000000))
    t.ret("ioctl", 0)
    t.ioctl(0x80046601, exit_=struct.pack("<I", 0x80000))
    assert t.lines() == [
        "ioctl(3, UFFDIO_API, {api=0xaa, features=0 => features=UFFD_FEATURE_PAGEFAULT_FLAG_WP|"
        "UFFD_FEATURE_EVENT_FORK, ioctls=1<<_UFFDIO_REGISTER|1<<_UFFDIO_UNREGISTER|"
        "1<<_UFFDIO_API}) = 0",
        "ioctl(3, UFFDIO_API, {api=0xaa, features=0}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, UFFDIO_COPY, {dst=0x1000, src=0x2000, len=0x1000, "
        "mode=UFFDIO_COPY_MODE_DONTWAKE|UFFDIO_COPY_MODE_WP, copy=0x1000}) = 0",
        "ioctl(3, UFFDIO_WAKE, {start=0x1000, len=0x1000}) = 0",
        f"ioctl(3, UFFDIO_WAKE, {ADDR:#x}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, FS_IOC_SETFLAGS, [FS_IMMUTABLE_FL|0xd000000]) = 0",
        "ioctl(3, FS_IOC32_GETFLAGS, [FS_EXTENT_FL]) = 0",
    ]


def test_kdump_prints_an_ioctl_argument_as_its_bytes():
    # the FreeBSD view: STRU ioc is an opaque buffer, like STRU bytes
    recs = [linux(), r.Struct(header(r.STRUCT), b"ioc", struct.pack("<i", 123))]
    assert lines(recs)[0].endswith("STRU  ioc 4 7b000000")

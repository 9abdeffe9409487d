"""kdump --strace for processes, scheduling, signals and time: hand-built records
(as the recording plan lays them out) print as strace 6.1 prints the same calls,
and short or odd records print as strace prints what it could not read."""

import struct

import pytest

from test_strace_view import Trace, linux_tables  # noqa: F401  (the fixture, used by name)

EINVAL, EFAULT = 22, 14



def lines(build, *argv):
    t = Trace()
    t.start()
    build(t)
    return t.lines("-a1", *argv)


def test_sigsets_by_their_size():
    def build(t):
        t.call("rt_sigprocmask", 2, 0x1000, 0x2000, 8)
        t.stru(b"sigset", struct.pack("<Q", 1 << 8)); t.stru(b"sigset", struct.pack("<Q", (1 << 64) - 1))
        t.ret("rt_sigprocmask", 0)
        t.call("rt_sigprocmask", 1, 0x1000, 0x2000, 4)
        t.stru(b"sigset", b"\xff\xff\xff\xff"); t.ret("rt_sigprocmask", -EINVAL, error=EINVAL)
        t.call("rt_sigpending", 0x1000, 2); t.stru(b"sigset", b"\x03\x00"); t.ret("rt_sigpending", 0)
        t.call("rt_sigsuspend", 0x1000, 16); t.ret("rt_sigsuspend", -EINVAL, error=EINVAL)
        t.call("rt_sigpending", 0x1000, 8); t.stru(b"sigset", b"\x01"); t.ret("rt_sigpending", 0)
    assert lines(build)[:5] == [
        "rt_sigprocmask(SIG_SETMASK, [KILL], ~[], 8) = 0",
        "rt_sigprocmask(SIG_UNBLOCK, 0x1000, 0x2000, 4) = -1 EINVAL (Invalid argument)",
        "rt_sigpending([HUP INT], 2) = 0",
        "rt_sigsuspend(0x1000, 16) = -1 EINVAL (Invalid argument)",
        "rt_sigpending(0x1000, 8) = 0",          # recorded short: unread
    ]
    raw = lines(build, "-X", "raw")
    assert raw[0] == "rt_sigprocmask(0x2, [9], ~[], 8) = 0"


SIGINFO = struct.Struct("<iii4xiIQ")   # signo, errno, code, pid, uid, sigval


def test_queued_siginfo_and_signal_numbers():
    info = SIGINFO.pack(10, -1, -1, 77, 0xFFFFFFFF, 0xDEADBEEFFFFFFFFF).ljust(128, b"\0")

    def build(t):
        t.call("rt_sigqueueinfo", 77, 10, 0x1000); t.stru(b"siginfo", info)
        t.ret("rt_sigqueueinfo", 0)
        t.call("pidfd_send_signal", 3, 12, 0x1000, 0xFFFFFFFF); t.stru(b"siginfo", info[:20])
        t.ret("pidfd_send_signal", -EINVAL, error=EINVAL)
        t.call("kill", 77, 256); t.ret("kill", -EINVAL, error=EINVAL)
        t.call("rt_sigtimedwait", 0x1000, 0x2000, 0x3000, 8)
        t.stru(b"sigset", struct.pack("<Q", 1 << 13)); t.stru(b"timespec", struct.pack("<qq", 1, 2))
        t.stru(b"siginfo", SIGINFO.pack(14, 0, -6, 77, 0, 0).ljust(128, b"\0"))
        t.ret("rt_sigtimedwait", 14)
    out = lines(build)
    assert out[0] == ("rt_sigqueueinfo(77, SIGUSR1, {si_signo=SIGUSR1, si_code=SI_QUEUE, "
                      "si_errno=4294967295, si_pid=77, si_uid=-1, si_int=-1, si_ptr=0xdeadbeefffffffff}) = 0")
    assert out[1] == "pidfd_send_signal(3, SIGUSR2, 0x1000, 0xffffffff) = -1 EINVAL (Invalid argument)"
    assert out[2] == "kill(77, 256) = -1 EINVAL (Invalid argument)"
    assert out[3] == ("rt_sigtimedwait([ALRM], {si_signo=SIGALRM, si_code=SI_TKILL, si_pid=77, "
                      "si_uid=0}, {tv_sec=1, tv_nsec=2}, 8) = 14 (SIGALRM)")
    assert lines(build, "-X", "verbose")[2] == "kill(77, 256) = -1 EINVAL (Invalid argument)"


RUSAGE = struct.Struct("<4q14q")


def test_wait4_status_options_and_rusage():
    ru = RUSAGE.pack(0, 135, 0, 0, *range(1, 15))

    def build(t):
        t.call("wait4", 9, 0x1000, 8, 0x2000); t.stru(b"int", struct.pack("<i", 0xFFFF))
        t.stru(b"rusage", ru); t.ret("wait4", 9)
        t.call("wait4", 9, 0x1000, 0x40000003, 0x2000); t.ret("wait4", 0)
        t.call("wait4", 9, 0x1000, 2, 0x2000); t.stru(b"int", struct.pack("<i", 0x137F))
        t.stru(b"rusage", ru[:40]); t.ret("wait4", 9)
    out = lines(build)
    assert out[0] == ("wait4(9, [{WIFCONTINUED(s)}], WCONTINUED, {ru_utime={tv_sec=0, "
                      "tv_usec=135}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 9")
    assert out[1] == "wait4(9, 0x1000, WNOHANG|WSTOPPED|__WALL, 0x2000) = 0"
    assert out[2] == "wait4(9, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, 0x2000) = 9"
    assert lines(build, "-v")[0].endswith(
        "ru_maxrss=1, ru_ixrss=2, ru_idrss=3, ru_isrss=4, ru_minflt=5, ru_majflt=6, ru_nswap=7, "
        "ru_inblock=8, ru_oublock=9, ru_msgsnd=10, ru_msgrcv=11, ru_nsignals=12, ru_nvcsw=13, "
        "ru_nivcsw=14}) = 9")


def test_scheduling_calls():
    attr = struct.pack("<IIQiIQQQII", 48, 0, 0, 0, 0, 1400000, 0, 0, 0, 0)

    def build(t):
        t.call("sched_getscheduler", 5); t.ret("sched_getscheduler", 0)
        t.call("sched_setscheduler", 5, 0xFACEDA7A, 0x1000)
        t.stru(b"sched_param", struct.pack("<i", -1)); t.ret("sched_setscheduler", -EINVAL, error=EINVAL)
        t.call("sched_setaffinity", 5, 16, 0x1000); t.stru(b"cpuset", b"\x03" + b"\0" * 15)
        t.ret("sched_setaffinity", 0)
        t.call("sched_getaffinity", 5, 8, 0x1000); t.stru(b"cpuset", b"\x02" + b"\0" * 7)
        t.ret("sched_getaffinity", 8)
        t.call("sched_getattr", 0, 0x1000, 48, 0); t.stru(b"sched_attr", attr + b"\0" * 8)
        t.ret("sched_getattr", 0)
        t.call("sched_getattr", 0, 0x1000, 48, 0); t.stru(b"sched_attr", attr[:10])
        t.ret("sched_getattr", 0)
        t.call("sched_rr_get_interval", 0, 0x1000); t.ret("sched_rr_get_interval", -EFAULT, error=EFAULT)
    assert lines(build)[:7] == [
        "sched_getscheduler(5) = 0 (SCHED_OTHER)",
        "sched_setscheduler(5, 0xfaceda7a /* SCHED_??? */, [-1]) = -1 EINVAL (Invalid argument)",
        "sched_setaffinity(5, 16, [0 1]) = 0",
        "sched_getaffinity(5, 8, [1]) = 8",
        "sched_getattr(0, {size=48, sched_policy=SCHED_OTHER, sched_flags=0, sched_nice=0, "
        "sched_priority=0, sched_runtime=1400000, sched_deadline=0, sched_period=0}, 48, 0) = 0",
        "sched_getattr(0, 0x1000, 48, 0) = 0",
        "sched_rr_get_interval(0, 0x1000) = -1 EFAULT (Bad address)",
    ]


def test_clocks_timers_and_limits():
    its = struct.pack("<qqqq", 1, 2, 3, -1)
    sev = struct.pack("<QiiQQ", 0, 14, 0, 0, 0).ljust(64, b"\0")

    def build(t):
        t.call("time", 0x1000); t.stru(b"long", struct.pack("<q", 0)); t.ret("time", 0)
        t.call("timer_create", 1, 0x1000, 0x2000); t.stru(b"sigevent", sev)
        t.stru(b"int", struct.pack("<i", 3)); t.ret("timer_create", 0)
        t.call("timer_settime", 3, 1, 0x1000, 0); t.stru(b"itimerspec", its)
        t.ret("timer_settime", -EINVAL, error=EINVAL)
        t.call("setrlimit", 0, 0x1000); t.stru(b"rlimit", struct.pack("<QQ", 1024, 2048))
        t.ret("setrlimit", 0)
        t.call("gettimeofday", 0x1000, 0x2000); t.stru(b"timeval", struct.pack("<qq", 5, 6))
        t.stru(b"timezone", struct.pack("<ii", -60, 0)); t.ret("gettimeofday", 0)
        t.call("kcmp", 5, 5, 0xDA7ADEAD, 1, 2); t.ret("kcmp", -EINVAL, error=EINVAL)
        t.call("getcpu", 0x1000, 0x2000, 0); t.stru(b"int", struct.pack("<i", 1))
        t.stru(b"int", struct.pack("<i", 0)); t.ret("getcpu", 0)
    assert lines(build)[:7] == [
        "time([0]) = 0",
        "timer_create(CLOCK_MONOTONIC, {sigev_signo=SIGALRM, sigev_notify=SIGEV_SIGNAL}, [3]) = 0",
        "timer_settime(3, TIMER_ABSTIME, {it_interval={tv_sec=1, tv_nsec=2}, it_value="
        "{tv_sec=3, tv_nsec=18446744073709551615}}, NULL) = -1 EINVAL (Invalid argument)",
        "setrlimit(RLIMIT_CPU, {rlim_cur=1024, rlim_max=2*1024}) = 0",
        "gettimeofday({tv_sec=5, tv_usec=6}, {tz_minuteswest=-60, tz_dsttime=0}) = 0",
        "kcmp(5, 5, 0xda7adead /* KCMP_??? */, 0x1, 0x2) = -1 EINVAL (Invalid argument)",
        "getcpu([1], [0], NULL) = 0",
    ]
    assert lines(build, "-X", "verbose")[3] == (
        "setrlimit(0 /* RLIMIT_CPU */, {rlim_cur=1024, rlim_max=2048 /* 2*1024 */}) = 0")


@pytest.mark.parametrize("junk", [b"", b"\x01", b"\xff" * 7, b"\xff" * 300])
def test_short_or_odd_records_do_not_raise(junk):
    def build(t):
        for name, args, stru in [
                ("rt_sigprocmask", (0, 0x1000, 0x2000, 8), (b"sigset", b"sigset")),
                ("rt_sigqueueinfo", (1, 2, 0x1000), (b"siginfo",)),
                ("wait4", (1, 0x1000, 0, 0x2000), (b"int", b"rusage")),
                ("sched_getattr", (0, 0x1000, 56, 0), (b"sched_attr",)),
                ("sched_setattr", (0, 0x1000, 0), (b"sched_attr",)),
                ("timer_create", (0, 0x1000, 0x2000), (b"sigevent", b"int")),
                ("adjtimex", (0x1000,), (b"timex", b"timex")),
                ("kcmp", (1, 1, 7, 1, 0x1000), (b"kcmp_epoll_slot",)),
                ("futex_waitv", (0x1000, 2, 0, 0, 0), ()),
                ("get_robust_list", (0, 0x1000, 0x2000), (b"long", b"long")),
                ("time", (0x1000,), (b"long",))]:
            t.call(name, *args)
            for s in stru:
                t.stru(s, junk)
            t.ret(name, 0)
    out = lines(build, "-v")
    assert len(out) >= 11


def test_futex_waitv_and_kcmp_slots():
    waiter = struct.Struct("<QQII")
    arr = waiter.pack(0, 0x1000, 0x82, 0) + waiter.pack(1, 0x1004, 0xFFFFFFFF, 7)

    def build(t):
        t.call("futex_waitv", 0x2000, 2, 0, 0, 0xFFFFFFFF); t.array(b"futex_waitv", 24, arr)
        t.ret("futex_waitv", -EINVAL, error=EINVAL)
        t.call("kcmp", 5, 0xFFFFFFFF, 7, 3, 0x3000)
        t.stru(b"kcmp_epoll_slot", struct.pack("<iiI", 4, -1, 9))
        t.ret("kcmp", -EINVAL, error=EINVAL)
    out = lines(build)
    assert out[0] == (
        "futex_waitv([{val=0, uaddr=0x1000, flags=FUTEX_32|FUTEX_PRIVATE_FLAG}, {val=0x1, "
        "uaddr=0x1004, flags=FUTEX_32|FUTEX_PRIVATE_FLAG|0xffffff7d, __reserved=0x7}], 2, 0, "
        "NULL, 0xffffffff /* CLOCK_??? */) = -1 EINVAL (Invalid argument)")
    assert out[1] == ("kcmp(5, -1, KCMP_EPOLL_TFD, 3, {efd=4, tfd=-1, toff=9}) = "
                      "-1 EINVAL (Invalid argument)")
    assert lines(build, "-s", "1")[0].startswith(
        "futex_waitv([{val=0, uaddr=0x1000, flags=FUTEX_32|FUTEX_PRIVATE_FLAG}, ...], 2,")

"""CALL arguments in kdump's layout, per family, for Linux and FreeBSD processes."""

from types import SimpleNamespace

import pytest

from ktrace.abi import LINUX_X86_64
from ktrace.decode import Options, call_args

L = LINUX_X86_64
NR = {name: L.syscall_number(name) for name in (
    "openat", "open", "mmap", "mprotect", "madvise", "clone", "kill", "tgkill",
    "rt_sigaction", "rt_sigprocmask", "socket", "fcntl", "ioctl", "lseek", "wait4",
    "prctl", "futex", "clock_gettime", "prlimit64", "newfstatat", "faccessat2",
    "access", "read", "linkat", "clock_nanosleep", "waitid", "unlinkat")}
AT_FDCWD = (1 << 64) - 100
O = Options()


def args(name, *values, opts=O):
    return call_args(L, NR[name], tuple(values), opts)


def test_fs_open_flags_and_mode_only_with_o_creat():
    assert args("openat", AT_FDCWD, 0x7ffc1000, 0x80000, 0) == [
        "AT_FDCWD", "0x7ffc1000", "0x80000<O_RDONLY|O_CLOEXEC>"]
    assert args("openat", AT_FDCWD, 0x1000, 0x241, 0o644) == [
        "AT_FDCWD", "0x1000", "0x241<O_WRONLY|O_CREAT|O_TRUNC>",
        "0644<S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH>"]
    assert args("open", 0x1000, 2, 0) == ["0x1000", "0x2<O_RDWR>"]


def test_fs_at_flags_access_and_dirfds():
    assert args("newfstatat", 3, 0x10, 0x20, 0x1000) == ["0x3", "0x10", "0x20",
                                                         "0x1000<AT_EMPTY_PATH>"]
    assert args("newfstatat", AT_FDCWD, 0x10, 0x20, 0) == ["AT_FDCWD", "0x10", "0x20", "0"]
    assert args("access", 0x10, 0) == ["0x10", "0<F_OK>"]
    assert args("faccessat2", AT_FDCWD, 0x10, 5, 0x200) == [
        "AT_FDCWD", "0x10", "0x5<R_OK|X_OK>", "0x200<AT_EACCESS>"]
    assert args("linkat", AT_FDCWD, 1, AT_FDCWD, 2, 0x400) == [
        "AT_FDCWD", "0x1", "AT_FDCWD", "0x2", "0x400<AT_SYMLINK_FOLLOW>"]
    assert args("unlinkat", 5, 1, 0x200) == ["0x5", "0x1", "0x200<AT_REMOVEDIR>"]


def test_fs_fcntl_ioctl_lseek():
    assert args("fcntl", 3, 1, 0) == ["0x3", "F_GETFD"]
    assert args("fcntl", 3, 2, 1) == ["0x3", "F_SETFD", "FD_CLOEXEC"]
    assert args("fcntl", 3, 4, 0x800) == ["0x3", "F_SETFL", "0x800<O_RDONLY|O_NONBLOCK>"]
    assert args("fcntl", 3, 0, 10) == ["0x3", "F_DUPFD", "0xa"]
    assert args("ioctl", 1, 0x5401, 0x7ff0) == ["0x1", "TCGETS", "0x7ff0"]
    assert args("ioctl", 1, 0x5413, 0x7ff0)[1] == "TIOCGWINSZ"
    assert args("ioctl", 1, 0x541B, 0)[1] == "FIONREAD"
    assert args("ioctl", 1, 0x5451, 0)[1] == "FIOCLEX"
    assert args("ioctl", 1, 0xdead, 0)[1] == "0xdead"
    assert args("lseek", 3, 0, 2) == ["0x3", "0", "SEEK_END"]


def test_mm_prot_flags_and_advice():
    assert args("mmap", 0, 8192, 3, 0x22, (1 << 64) - 1, 0) == [
        "0", "0x2000", "0x3<PROT_READ|PROT_WRITE>", "0x22<MAP_PRIVATE|MAP_ANONYMOUS>",
        "0xffffffffffffffff", "0"]
    assert args("mprotect", 0x1000, 4096, 0) == ["0x1000", "0x1000", "0<PROT_NONE>"]
    assert args("madvise", 0x1000, 4096, 4) == ["0x1000", "0x1000", "MADV_DONTNEED"]
    assert args("madvise", 0x1000, 4096, 999)[2] == "<invalid=0x3e7>"


def test_process_clone_wait_prctl_futex_rlimit():
    assert args("clone", 0x1200011, 0, 0, 0x7f00, 0)[0] == \
        "0x1200011<(SIGCHLD)CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID>"
    assert args("wait4", (1 << 64) - 1, 0x10, 1, 0) == ["0xffffffffffffffff", "0x10",
                                                       "0x1<WNOHANG>", "0"]
    assert args("wait4", 5, 0, 0, 0)[2] == "0"
    assert args("waitid", 1, 5, 0, 4, 0)[:4] == ["P_PID", "0x5", "0", "0x4<WEXITED>"]
    assert args("prctl", 15, 0x1000, 0, 0, 0)[0] == "PR_SET_NAME"
    assert args("futex", 0x7f00, 0x81, 1, 0, 0, 0)[1] == "FUTEX_WAKE_PRIVATE"
    assert args("futex", 0x7f00, 0x189, 0, 0, 0, 0)[1] == \
        "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"
    assert args("prlimit64", 0, 3, 0, 0x10)[:2] == ["0", "RLIMIT_STACK"]


def test_signal_names_and_how():
    assert args("kill", 1234, 9) == ["1234", "SIGKILL"]
    assert args("tgkill", 10, 11, 34) == ["10", "11", "SIGRT_2"]
    assert args("kill", 1, 99) == ["1", "SIG 99"]
    assert args("rt_sigaction", 17, 0x10, 0, 8) == ["SIGCHLD", "0x10", "0", "0x8"]
    assert args("rt_sigprocmask", 2, 0x10, 0, 8)[0] == "SIG_SETMASK"
    assert args("rt_sigprocmask", 7, 0, 0, 8)[0] == "<invalid=0x7>"


def test_net_socket_domain_type_protocol():
    assert args("socket", 2, 0x80801, 6) == [
        "AF_INET", "0x80801<SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK>", "IPPROTO_TCP"]
    assert args("socket", 1, 1, 0) == ["AF_UNIX", "0x1<SOCK_STREAM>", "0"]


def test_time_clock_ids():
    assert args("clock_gettime", 1, 0x10) == ["CLOCK_MONOTONIC", "0x10"]
    assert args("clock_gettime", 99, 0)[0] == "UNKNOWN(99)"
    assert args("clock_gettime", (1 << 64) - 2, 0)[0] == "THREAD|CPUCLOCK_SCHED(0)"
    assert args("clock_nanosleep", 0, 1, 0x10, 0)[:2] == ["CLOCK_REALTIME", "0x1<TIMER_ABSTIME>"]


def test_decimal_and_no_decoding():
    d = Options(decimal=True)
    assert args("read", 3, 0x10, 4096, opts=d) == ["3", "16", "4096"]
    assert args("wait4", (1 << 64) - 1, 0, 0, 0, opts=d)[0] == "-1"
    n = Options(fancy=False)
    assert args("openat", AT_FDCWD, 0x10, 0, 0, opts=n) == [
        "0xffffffffffffff9c", "0x10", "0", "0"]
    assert call_args(None, 257, (1, 0), O) == ["0x1", "0"]


def test_unknown_linux_syscall_prints_raw():
    assert call_args(L, 0x6b74, (1, 2), O) == ["0x1", "0x2"]


@pytest.fixture
def freebsd_abi():
    names = {5: "open", 54: "ioctl", 477: "mmap", 92: "fcntl", 37: "kill", 499: "openat"}
    sigs = {9: "SIGKILL", 2: "SIGINT"}
    return SimpleNamespace(key="freebsd-amd64", syscall_name=names.get,
                           signal_name=sigs.get)


def test_freebsd_common_decodings(freebsd_abi):
    fb = freebsd_abi
    assert call_args(fb, 5, (0x1000, 0x100000), O) == ["0x1000", "0x100000<O_RDONLY|O_CLOEXEC>"]
    assert call_args(fb, 499, ((1 << 64) - 100, 1, 0x601, 0o600), O) == [
        "AT_FDCWD", "0x1", "0x601<O_WRONLY|O_CREAT|O_TRUNC>", "0600<S_IRUSR|S_IWUSR>"]
    assert call_args(fb, 54, (1, 0x402C7413, 0x10), O) == ["0x1", "TIOCGETA", "0x10"]
    assert call_args(fb, 477, (0, 4096, 3, 0x1002, (1 << 64) - 1, 0), O)[2:4] == [
        "0x3<PROT_READ|PROT_WRITE>", "0x1002<MAP_PRIVATE|MAP_ANON>"]
    assert call_args(fb, 92, (3, 2, 1), O) == ["0x3", "F_SETFD", "FD_CLOEXEC"]
    assert call_args(fb, 37, (12, 9), O) == ["0xc", "SIGKILL"]

"""kdump --strace's output options, with strace 6.1's meaning, on a real traced
program: -a, -n, -v, -X, -e abbrev=/verbose=/raw=, --decode-fds=, -yy, the
timestamps and their precisions, --strings-in-hex, and strace's long spellings."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ktrace.kdump import strace as view
from ktrace.kdump.cli import UsageError
from ktrace.kdump.select import SelectError

from ptrace_support import build, run_traced

PROBE = r"""
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    struct stat st;
    close(syscall(SYS_pidfd_open, getpid(), 0));
    int pidfd = -1;
    pid_t child = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    close(pidfd);
    int fd = openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
    syscall(SYS_fstat, fd, &st);      /* glibc's fstat is newfstatat */
    write(fd, "h\351llo\n", 6);
    close(fd);
    access("/nonexistent-ktrace", R_OK | W_OK);
    syscall(SYS_faccessat, -1, NULL, 8);                  /* no access bit named */
    syscall(SYS_chmod, "/nonexistent-ktrace", 4);
    syscall(SYS_fchown, -1, 0xffff0000u, -1);
    syscall(SYS_arch_prctl, 0, 0);                       /* no such option */
    return 0;
}
"""
ACCESS = 'access("/nonexistent-ktrace", R_OK|W_OK)'
ENOENT = "-1 ENOENT (No such file or directory)"


@pytest.fixture(scope="module")
def trace(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("strace-options")
    out = base / "probe.kt"
    done = run_traced([build(base, "probe", PROBE)], out, "+")
    assert done.returncode == 0, done.stderr
    return out


def shown(trace: Path, *argv: str) -> list[str]:
    out = io.StringIO()
    with open(trace, "rb") as f:
        view.run(view.parse(["-e", "trace=openat,fstat,write,close,access,faccessat,chmod,"
                             "fchown,mmap,arch_prctl,pidfd_open,clone", *argv]), f, out)
    return out.getvalue().splitlines()


def line(trace: Path, name: str, *argv: str) -> str:
    """The probe's own ``name`` call: the last (the loader's come first)."""
    return [text for text in shown(trace, *argv) if re.search(rf"\b{name}\(", text)][-1]


def test_column(trace):
    assert line(trace, "access") == f"{ACCESS:<39s} = {ENOENT}"
    assert line(trace, "access", "-a", "10") == f"{ACCESS} = {ENOENT}"
    assert line(trace, "close", "--columns=12") == "close(3)    = 0"


def test_syscall_number(trace):
    assert line(trace, "access", "-n", "-a0") == f"[  21] {ACCESS} = {ENOENT}"


def test_constant_styles(trace):
    opened = '"/dev/null", O_RDWR|O_CLOEXEC) = 3'
    assert line(trace, "openat", "-a0") == f"openat(AT_FDCWD, {opened}"
    assert line(trace, "openat", "-a0", "-X", "abbrev") == f"openat(AT_FDCWD, {opened}"
    assert line(trace, "openat", "-a0", "-Xraw") == 'openat(-100, "/dev/null", 0x80002) = 3'
    assert line(trace, "openat", "-a0", "--const-print-style=verbose") == (
        'openat(-100 /* AT_FDCWD */, "/dev/null", 0x80002 /* O_RDWR|O_CLOEXEC */) = 3')
    assert line(trace, "access", "-a0", "-Xverbose") == (
        f'access("/nonexistent-ktrace", 0x6 /* R_OK|W_OK */) = {ENOENT}')


def test_constants_as_strace_spells_them(trace):
    """Bits none of which has a name carry strace's comment; modes are %#03o;
    a uid of all ones but -1 is unsigned."""
    einval = "-1 EINVAL (Invalid argument)"
    assert line(trace, "faccessat", "-a0") == f"faccessat(-1, NULL, 0x8 /* ?_OK */) = {einval}"
    assert line(trace, "faccessat", "-a0", "-Xraw") == f"faccessat(-1, NULL, 0x8) = {einval}"
    assert line(trace, "faccessat", "-a0", "-Xverbose") == (
        f"faccessat(-1, NULL, 0x8 /* ?_OK */) = {einval}")
    assert line(trace, "chmod", "-a0") == f'chmod("/nonexistent-ktrace", 004) = {ENOENT}'
    assert line(trace, "fchown", "-a0") == (
        "fchown(-1, 4294901760, -1) = -1 EBADF (Bad file descriptor)")
    assert line(trace, "arch_prctl", "-a0") == f"arch_prctl(0 /* ARCH_??? */, 0) = {einval}"
    assert line(trace, "arch_prctl", "-a0", "-Xraw") == f"arch_prctl(0, 0) = {einval}"


def test_composite_constants(trace):
    """mmap's type and flags, open's mode and flags: one constant each to -X."""
    mapped = [text for text in shown(trace, "-a0", "-Xraw") if text.startswith("mmap(NULL")]
    assert mapped and all(re.fullmatch(r"mmap\(NULL, \d+, 0x\d, 0x[0-9a-f]+, -?\d+, \w+\) = "
                                       r"0x[0-9a-f]+", text) for text in mapped), mapped
    verbose = [text for text in shown(trace, "-a0", "-Xverbose") if text.startswith("mmap(NULL")]
    assert any(" 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0)" in text for text in verbose)


def test_raw_and_verbose_sets(trace):
    raw = line(trace, "access", "-a0", "-e", "raw=access")
    assert re.fullmatch(r"access\(0x[0-9a-f]+, 0x6\) = -1 ENOENT \(No such file or directory\)",
                        raw)
    assert line(trace, "close", "-a0", "--raw=access") == "close(3) = 0"
    assert re.fullmatch(r"fstat\(3, 0x[0-9a-f]+\) = 0",
                        line(trace, "fstat", "-a0", "-e", "verbose=none"))
    assert line(trace, "fstat", "-a0", "-e", "verbose=!fstat").startswith("fstat(3, 0x")
    assert line(trace, "fstat", "-a0", "-e", "verbose=all").startswith("fstat(3, {st_mode=")


def test_unabbreviated(trace):
    """-v, --no-abbrev, -e abbrev=none: every field of struct stat, times commented."""
    assert re.fullmatch(r"fstat\(3, \{st_mode=S_IFCHR\|0666, st_rdev=makedev\(0x1, 0x3\), "
                        r"\.\.\.\}\) = 0", line(trace, "fstat", "-a0"))
    whole = (r"fstat\(3, \{st_dev=makedev\(\w+, \w+\), st_ino=\d+, "
             r"st_mode=S_IFCHR\|0666, st_nlink=1, st_uid=0, st_gid=0, st_blksize=\d+, "
             r"st_blocks=0, st_rdev=makedev\(0x1, 0x3\), st_atime=\d+( /\* [-\d]+T[:.\d]+"
             r"[+-]\d{4} \*/)?, st_atime_nsec=\d+, .*st_ctime_nsec=\d+\}\) = 0")
    for argv in (["-v"], ["--no-abbrev"], ["-e", "abbrev=none"], ["-e", "abbrev=!fstat"]):
        assert re.fullmatch(whole, line(trace, "fstat", "-a0", *argv)), argv


def test_strings_in_hex(trace):
    assert line(trace, "write", "-a0") == r'write(3, "h\351llo\n", 6) = 6'
    assert line(trace, "write", "-a0", "-x") == r'write(3, "\x68\xe9\x6c\x6c\x6f\x0a", 6) = 6'
    assert line(trace, "write", "-a0", "--strings-in-hex=non-ascii-chars") == (
        r'write(3, "h\xe9llo\n", 6) = 6')
    assert line(trace, "write", "-a0", "--strings-in-hex") == line(trace, "write", "-a0", "-xx")
    with pytest.raises(UsageError):
        view.parse(["-x", "--strings-in-hex=all"])


def test_decode_fds(trace):
    assert line(trace, "close", "-a0", "--decode-fds=path") == "close(3</dev/null>) = 0"
    assert line(trace, "close", "-a0", "-yy") == "close(3</dev/null<char 1:3>>) = 0"
    assert line(trace, "close", "-a0", "-e", "decode-fds=none") == "close(3) = 0"
    with pytest.raises(UsageError):
        view.parse(["--decode-fds=sockets"])


def test_decode_fds_pidfd(trace):
    """A pidfd's process (-yy, --decode-fds=pidfd) from the call that made it:
    pidfd_open's argument, the child clone(CLONE_PIDFD) made."""
    made = line(trace, "pidfd_open", "-a0", "-yy")
    pid = re.fullmatch(r"pidfd_open\((\d+), 0\) = (\d+)<pid:(\d+)>", made)
    assert pid and pid[1] == pid[3], made
    assert line(trace, "pidfd_open", "-a0", "-y").endswith(f" = {pid[2]}<anon_inode:[pidfd]>")
    assert line(trace, "pidfd_open", "-a0", "--decode-fds=pidfd").endswith(f"<pid:{pid[1]}>")
    assert line(trace, "pidfd_open", "-a0", "--decode-fds=path,dev").endswith(
        "<anon_inode:[pidfd]>")
    clone = line(trace, "clone", "-a0", "-yy")
    child = re.search(r"parent_tid=\[(\d+)<pid:(\d+)>\]\) = (\d+)$", clone)
    assert child and child[2] == child[3], clone
    assert f"close({child[1]}<pid:{child[2]}>) = 0" in shown(trace, "-a0", "-yy")


@pytest.mark.parametrize("argv, stamp", [
    (["-t"], r"\d\d:\d\d:\d\d "),
    (["-tt"], r"\d\d:\d\d:\d\d\.\d{6} "),
    (["-ttt"], r"\d{10}\.\d{6} "),
    (["--timestamps"], r"\d\d:\d\d:\d\d "),
    (["--timestamps=format:unix,precision:ns"], r"\d{10}\.\d{9} "),
    (["--absolute-timestamps=precision:ms"], r"\d\d:\d\d:\d\d\.\d{3} "),
    (["--timestamps=unix,s"], r"\d{10} "),
    (["-r"], r" {5}\d\.\d{6} "),
    (["--relative-timestamps=ms"], r" {5}\d\.\d{3} "),
    (["--relative-timestamps=s"], r" {5}\d "),
    (["-t", "-r"], r"\d\d:\d\d:\d\d \(\+ {5}\d\.\d{6}\) "),
])
def test_timestamps(trace, argv, stamp):
    assert re.fullmatch(stamp + re.escape(f"{ACCESS} = {ENOENT}"),
                        line(trace, "access", "-a0", *argv))


@pytest.mark.parametrize("argv, took", [
    (["-T"], r"<\d\.\d{6}>"), (["--syscall-times=ns"], r"<\d\.\d{9}>"),
    (["--syscall-times=s"], r"<\d>"),
])
def test_syscall_times(trace, argv, took):
    assert re.fullmatch(re.escape("close(3) = 0 ") + took, line(trace, "close", "-a0", *argv))


@pytest.mark.parametrize("argv", [
    ["-X", "short"], ["--timestamps=format:date"], ["-t", "--timestamps"],
    ["--syscall-times=fortnights"], ["-e", "abbrev=nosuchcall"],
])
def test_refused(argv):
    with pytest.raises((UsageError, SelectError)):
        view.parse(argv)

"""ktrace.abi: the generated ABI tables and the API over them."""

import os
import runpy
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from ktrace import abi
from ktrace.abi import (Abi, SyscallInfo, LINUX_X86_64, FREEBSD_AMD64, FREEBSD_I386,
                        abi_for_svflags, freebsd_to_linux_errno, linux_to_freebsd_errno)
from ktrace.record import ProcCtor, Syscall, read_records

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "tools" / "gen_abi_tables.py"
# the strace source tools/strace_suite.py keeps (the i386 argument counts)
STRACE_SRC = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) \
    / "ktrace-strace-suite" / "strace-6.1"
LINUX_RESTART = (512, 513, 514, 516)


# --- Linux x86-64 syscalls ---------------------------------------------------

def test_linux_pinned_syscalls():
    read = LINUX_X86_64.syscall(0)
    assert read == SyscallInfo("read", 3, (("unsigned int", "fd"), ("char *", "buf"),
                                           ("size_t", "count")))
    assert LINUX_X86_64.syscall_name(257) == "openat"
    assert LINUX_X86_64.syscall_number("openat") == 257
    assert LINUX_X86_64.syscall_number("execve") == 59
    assert LINUX_X86_64.syscall(59).args[0] == ("const char *", "filename")
    assert LINUX_X86_64.syscall(9).nargs == 6                      # mmap
    assert LINUX_X86_64.syscall(231).name == "exit_group"
    assert LINUX_X86_64.syscall(435) == SyscallInfo(
        "clone3", 2, (("struct clone_args *", "uargs"), ("size_t", "size")))


def test_linux_entry_point_aliases_have_arguments():
    # stat(2) is sys_newstat in the kernel: its tracefs event is sys_enter_newstat
    assert LINUX_X86_64.syscall(4).args == (("const char *", "filename"),
                                           ("struct stat *", "statbuf"))
    assert LINUX_X86_64.syscall(63).name == "uname"
    assert LINUX_X86_64.syscall(166).nargs == 2                    # umount2 -> sys_umount


def test_linux_unimplemented_syscalls_keep_name_without_args():
    info = LINUX_X86_64.syscall(184)
    assert info == SyscallInfo("tuxcall", None, ())


def test_linux_unknown_numbers():
    assert LINUX_X86_64.syscall(100000) is None
    assert LINUX_X86_64.syscall_name(-1) is None
    assert LINUX_X86_64.syscall_number("no_such_call") is None


def test_linux_names_and_numbers_round_trip():
    for code, info in LINUX_X86_64.syscalls.items():
        assert LINUX_X86_64.syscall_number(info.name) == code
        assert LINUX_X86_64.syscall_name(code) == info.name
        assert info.nargs is None or info.nargs == len(info.args) <= 6


def test_linux_syscall_numbers_match_the_kernel():
    # a real call by number: the table's getpid and gettid are the kernel's
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(LINUX_X86_64.syscall_number("getpid")) == os.getpid()
    assert libc.syscall(LINUX_X86_64.syscall_number("gettid")) == threading.get_native_id()


def test_linux_i386_names():
    i386 = abi.LINUX_I386
    assert i386.syscall_name(5) == "open"
    assert i386.syscall_name(11) == "execve"
    assert i386.syscall(11).nargs == 3
    assert i386.syscall(200) == ("getgid32", 0, ())    # strace's count; no argument types
    assert i386.errno_name(2) == "ENOENT"


# --- Linux errnos and signals ------------------------------------------------

# (ABI, method, argument, expected): errno and signal names and texts
PINS = [
    ("LINUX_X86_64", "errno_name", 2, "ENOENT"),
    ("LINUX_X86_64", "errno_name", 11, "EAGAIN"),                     # not EWOULDBLOCK
    ("LINUX_X86_64", "errno_text", 2, "No such file or directory"),
    ("LINUX_X86_64", "errno_name", 512, "ERESTARTSYS"),
    ("LINUX_X86_64", "errno_text", 512, "To be restarted if SA_RESTART is set"),
    ("LINUX_X86_64", "errno_text", 516, "Interrupted by signal"),
    ("LINUX_X86_64", "errno_name", 517, "EPROBE_DEFER"),
    ("LINUX_X86_64", "errno_name", 531, "ENOGRACE"),
    ("LINUX_X86_64", "errno_name", 41, None),
    ("LINUX_X86_64", "errno_text", 41, "Unknown error 41"),
    ("LINUX_X86_64", "errno_text", 9999, "Unknown error 9999"),
    ("LINUX_X86_64", "signal_name", 32, "SIGRTMIN"),
    ("LINUX_X86_64", "signal_name", 34, "SIGRT_2"),
    ("LINUX_X86_64", "signal_name", 64, "SIGRT_32"),
    ("LINUX_X86_64", "signal_name", 65, None),
    ("LINUX_X86_64", "signal_number", "SIGRT_2", 34),
    ("LINUX_X86_64", "signal_number", "SIGKILL", 9),
    ("FREEBSD_AMD64", "errno_name", 35, "EAGAIN"),
    ("FREEBSD_AMD64", "errno_text", 35, "Resource temporarily unavailable"),
    ("FREEBSD_AMD64", "errno_name", 97, "EINTEGRITY"),
    ("FREEBSD_AMD64", "errno_name", -1, "ERESTART"),
    ("FREEBSD_AMD64", "errno_name", -2, "EJUSTRETURN"),
    ("FREEBSD_AMD64", "errno_text", 98, "Unknown error: 98"),
    ("FREEBSD_AMD64", "signal_name", 29, "SIGINFO"),
    ("FREEBSD_AMD64", "signal_name", 33, "SIGLIBRT"),
    ("FREEBSD_AMD64", "signal_name", 34, None),
    ("FREEBSD_AMD64", "signal_name", 65, "SIGRT0"),
    ("FREEBSD_AMD64", "signal_name", 126, "SIGRT61"),
    ("FREEBSD_AMD64", "signal_number", "SIGUSR1", 30),
]


@pytest.mark.parametrize("abi_name, method, arg, expected", PINS)
def test_errno_and_signal_pins(abi_name, method, arg, expected):
    assert getattr(getattr(abi, abi_name), method)(arg) == expected


def test_linux_errno_texts_are_this_libc_strerror():
    for n in range(1, 134):
        if LINUX_X86_64.errno_name(n):
            assert LINUX_X86_64.errno_text(n) == os.strerror(n)


def test_linux_signals_are_the_kernels():
    for sig in signal.Signals:
        if sig < 32:
            assert LINUX_X86_64.signal_name(sig) == sig.name


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_linux_realtime_signal_names_are_what_strace_prints():
    code = "import os, signal; signal.signal(36, lambda *a: None); os.kill(os.getpid(), 36)"
    out = subprocess.run(["strace", "-e", "trace=none", "-e", "signal=all",
                          sys.executable, "-c", code],
                         capture_output=True, text=True, check=True).stderr
    assert f"--- {LINUX_X86_64.signal_name(36)} {{" in out


# --- the API's shape -----------------------------------------------------------

def test_abi_is_immutable():
    with pytest.raises(AttributeError):
        LINUX_X86_64.key = "x"
    with pytest.raises(TypeError):
        LINUX_X86_64.syscalls[0] = None
    assert isinstance(LINUX_X86_64, Abi)
    assert (LINUX_X86_64.key, LINUX_X86_64.label) == ("linux-x86_64", "L64")
    assert abi.LINUX_X86_64 is LINUX_X86_64


def test_abi_for_svflags_linux():
    assert abi_for_svflags(0x203) is LINUX_X86_64                  # SV_ABI_LINUX|SV_LP64
    assert abi_for_svflags(0x103) is abi.LINUX_I386               # SV_ABI_LINUX|SV_ILP32
    assert abi_for_svflags(0) is None
    assert abi_for_svflags(0x207) is None                          # unknown ABI


def test_import_is_cheap():
    # importing the package loads no table; using an ABI loads only its own
    code = textwrap.dedent("""
        import sys, ktrace.abi as a
        print(sorted(m for m in sys.modules if m.startswith("ktrace.abi._")))
        a.LINUX_X86_64
        print(sorted(m for m in sys.modules if m.startswith("ktrace.abi._")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    before, after = out.stdout.splitlines()
    assert before == "['ktrace.abi._errno_translation']"
    assert after == "['ktrace.abi._errno_translation', 'ktrace.abi._linux_x86_64']"


# --- FreeBSD -------------------------------------------------------------------

def test_freebsd_pinned_syscalls():
    assert FREEBSD_AMD64.syscall(59) == SyscallInfo(
        "execve", 3, (("const char *", "fname"), ("char **", "argv"), ("char **", "envv")))
    mmap = FREEBSD_AMD64.syscall(477)
    assert (mmap.name, mmap.nargs, mmap.args[5]) == ("mmap", 6, ("off_t", "pos"))
    assert FREEBSD_AMD64.syscall_number("mmap") == 477
    assert FREEBSD_AMD64.syscall_name(202) == "__sysctl"
    assert FREEBSD_AMD64.syscall_name(499) == "openat"
    assert FREEBSD_AMD64.syscall_name(552) == "fstatat"


def test_freebsd_compat_and_placeholder_names_are_kdumps():
    # kern/syscalls.c spelling: compat<N>.<name>, obs_<name>, #<number>
    assert FREEBSD_AMD64.syscall_name(493) == "compat11.fstatat"
    assert FREEBSD_AMD64.syscall(493).nargs == 4
    assert FREEBSD_AMD64.syscall_name(8) == "compat.creat"
    assert FREEBSD_AMD64.syscall_name(197) == "compat6.mmap"
    assert FREEBSD_AMD64.syscall_name(11) == "obs_execv"
    assert FREEBSD_AMD64.syscall(91) == SyscallInfo("#91", None, ())
    assert FREEBSD_AMD64.syscall_name(152) == "#152"                  # inside a range
    assert FREEBSD_AMD64.syscall(210) == SyscallInfo("lkmnosys", 0, ())
    assert FREEBSD_AMD64.syscall_number("lkmnosys") == 210           # the first of ten
    assert FREEBSD_AMD64.syscall(100000) is None


def test_freebsd_i386_shares_the_table():
    assert (FREEBSD_I386.key, FREEBSD_I386.label) == ("freebsd-i386", "F32")
    assert (FREEBSD_AMD64.key, FREEBSD_AMD64.label) == ("freebsd-amd64", "F64")
    assert FREEBSD_I386.syscalls == FREEBSD_AMD64.syscalls
    assert FREEBSD_I386.syscall_name(493) == "compat11.fstatat"      # pre-ino64 fstatat


def test_freebsd_table_is_dense():
    codes = sorted(FREEBSD_AMD64.syscalls)
    assert codes == list(range(len(codes))) and len(codes) > 590


def test_abi_for_svflags_freebsd():
    assert abi_for_svflags(0x10209) is FREEBSD_AMD64     # SV_ABI_FREEBSD|SV_LP64|SV_ASLR
    assert abi_for_svflags(0x4109) is FREEBSD_I386       # SV_ABI_FREEBSD|SV_ILP32|SV_IA32
    assert abi_for_svflags(0x9) is None                  # neither LP64 nor ILP32


def test_every_sample_syscall_is_named(samples_dir):
    files = sorted((samples_dir / "freebsd").glob("*.ktrace.out"))
    assert files
    for path in files:
        native = FREEBSD_I386 if path.name.startswith("i386") else FREEBSD_AMD64
        abi_of = {}
        for rec in read_records(path):
            if isinstance(rec, ProcCtor):
                abi_of[rec.header.pid] = abi_for_svflags(rec.sv_flags)
            elif isinstance(rec, Syscall):
                table = abi_of.get(rec.header.pid) or native
                assert table.syscall_name(rec.code), (path.name, rec.code)


# --- errno translation -------------------------------------------------------

def test_errno_translation_pins():
    assert linux_to_freebsd_errno(0) == 0
    assert linux_to_freebsd_errno(2) == 2                          # ENOENT
    assert linux_to_freebsd_errno(11) == 35                        # EAGAIN
    assert linux_to_freebsd_errno(35) == 11                        # EDEADLK
    assert linux_to_freebsd_errno(95) == 45                        # EOPNOTSUPP
    assert linux_to_freebsd_errno(61) == 87                        # ENODATA -> ENOATTR
    assert linux_to_freebsd_errno(6) == 6                          # ENXIO, not EBADRPC
    for n in LINUX_RESTART:
        assert linux_to_freebsd_errno(n) == -1                     # ERESTART
    assert linux_to_freebsd_errno(126) == 0x10000 | 126            # ENOKEY: FreeBSD lacks it
    assert freebsd_to_linux_errno(-1) == 512
    assert freebsd_to_linux_errno(72) == 6                         # EBADRPC -> ENXIO
    assert freebsd_to_linux_errno(0x10000 | 126) == 126


@given(st.integers(min_value=0, max_value=4095))
def test_freebsd_to_linux_inverts_linux_to_freebsd(n):
    bsd = linux_to_freebsd_errno(n)
    if n in LINUX_RESTART:
        assert bsd == -1 and freebsd_to_linux_errno(bsd) == 512
    else:
        assert freebsd_to_linux_errno(bsd) == n


@given(st.integers(min_value=-1, max_value=97))
def test_linux_to_freebsd_keeps_the_linux_meaning(bsd):
    linux = freebsd_to_linux_errno(bsd)
    assert freebsd_to_linux_errno(linux_to_freebsd_errno(linux)) == linux


def test_translated_errnos_keep_their_names():
    for n in range(1, 4096):
        bsd = linux_to_freebsd_errno(n)
        name = LINUX_X86_64.errno_name(n)
        if bsd >= 0x10000:
            assert FREEBSD_AMD64.errno_name(bsd) is None
        elif bsd > 0 and name != "ENODATA":          # ENODATA -> ENOATTR, FreeBSD's choice
            assert FREEBSD_AMD64.errno_name(bsd) == name


# --- the generator -----------------------------------------------------------

def test_generator_reproduces_linux_tables(tmp_path):
    from ktrace.abi import _linux_x86_64 as committed
    tracefs = Path("/sys/kernel/tracing")
    if not (tracefs / "events").is_dir() and os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(tracefs)], capture_output=True)
    if not (tracefs / "events/syscalls").is_dir():
        pytest.skip("tracefs syscall events are not mounted")
    release, libc = os.uname().release, os.confstr("CS_GNU_LIBC_VERSION")
    # another build of the same kernel series has the same syscalls
    if (_series(release), libc) != (_series(committed.SOURCE_KERNEL), committed.SOURCE_LIBC):
        pytest.skip(f"tables come from {committed.SOURCE_KERNEL}/{committed.SOURCE_LIBC}, "
                    f"this machine is {release}/{libc}")
    if not (STRACE_SRC / "src/linux/i386/syscallent.h").exists():
        pytest.skip(f"no strace source in {STRACE_SRC} (tools/strace_suite.py fetches it)")
    subprocess.run([sys.executable, str(GENERATOR), "linux", "--strace-src", str(STRACE_SRC),
                    "--out-dir", str(tmp_path)], check=True, capture_output=True)
    for name in ("_linux_x86_64.py", "_linux_i386.py"):
        made = (tmp_path / name).read_text().replace(repr(release), repr(committed.SOURCE_KERNEL))
        assert made == (ROOT / "src/ktrace/abi" / name).read_text()


def _series(release: str) -> str:
    """6.18.44-fc-v669 -> 6.18"""
    return ".".join(release.split(".")[:2])


def test_generator_bad_source_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, str(GENERATOR), "errno-translation",
                           "--src", str(tmp_path), "--out-dir", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("gen_abi_tables: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


FREEBSD_SOURCES = {
    "sys/kern/syscalls.master": """\
; System call name/number master file.
#include <sys/param.h>
%%ABI_HEADERS%%

0\tAUE_NULL\tSYSMUX {
\t\tint syscall(
\t\t    int number,
\t\t    ...
\t\t);
\t}
1\tAUE_EXIT\tSTD|CAPENABLED|NORETURN {
\t\tvoid _exit(
\t\t    int rval
\t\t);
\t}
2-3\tAUE_NULL\tRESERVED
4\tAUE_NULL\tOBSOL\tvread
; a comment between entries
5\tAUE_STAT\tCOMPAT11 {
\t\tint stat(
\t\t    _In_z_ const char *path,
\t\t    _Out_ _Contains_timet_ struct freebsd11_stat *ub
\t\t);
\t}
6\tAUE_NULL\tNODEF|NOTSTATIC\tlkmnosys lkmnosys nosys_args int
7\tAUE_READ\tSTD {
\t\tssize_t read(
\t\t    int fd,
\t\t    _Out_writes_bytes_(nbyte) void *buf,
\t\t    size_t nbyte
\t\t);
\t}
""",
    "sys/sys/errno.h": "#define\tEPERM\t\t1\t\t/* Operation not permitted */\n"
                       "#define\tEWOULDBLOCK\tEAGAIN\n#define\tELAST\t\t1\n"
                       "#define\tERESTART\t(-1)\t\t/* restart syscall */\n",
    "lib/libc/gen/errlst.c": 'const char *const sys_errlist[] = {\n\t"No error: 0",\n'
                             '\t"Operation not permitted",\t/* 1 - EPERM */\n#ifdef X\n'
                             '\t__uprefix,\n#endif\n};\n',
    "sys/sys/signal.h": "#define\tSIGHUP\t\t1\t/* hangup */\n#define\tSIGRTMIN\t65\n",
    "lib/libsysdecode/signal.c": 'static const char *signames[] = {\n\t[SIGHUP] = "SIGHUP",\n'
                                 '\t[SIGRTMIN] = "SIGRT0",\n\t[SIGRTMIN + 1] = "SIGRT1",\n};\n',
}


def test_generator_reads_freebsd_sources(tmp_path):
    src = tmp_path / "src"
    for rel, text in FREEBSD_SOURCES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    origins = [f"--origin={rel}=example/repo@{i}" for i, rel in enumerate(FREEBSD_SOURCES)]
    subprocess.run([sys.executable, str(GENERATOR), "freebsd", "--src", str(src),
                    "--out-dir", str(tmp_path), *origins], check=True, capture_output=True)
    text = (tmp_path / "_freebsd.py").read_text()
    assert text.startswith("# Generated by tools/gen_abi_tables.py freebsd")
    assert "sys/kern/syscalls.master: example/repo@0" in text
    tables = runpy.run_path(str(tmp_path / "_freebsd.py"))
    assert tables["SYSCALLS"] == {
        0: ("syscall", 1, (("int", "number"),)),
        1: ("_exit", 1, (("int", "rval"),)),
        2: ("#2", None, ()),
        3: ("#3", None, ()),
        4: ("obs_vread", None, ()),
        5: ("compat11.stat", 2, (("const char *", "path"), ("struct freebsd11_stat *", "ub"))),
        6: ("lkmnosys", 0, ()),
        7: ("read", 3, (("int", "fd"), ("void *", "buf"), ("size_t", "nbyte"))),
    }
    assert tables["ERRNO_NAMES"] == {1: "EPERM", -1: "ERESTART"}
    assert tables["ERRNO_TEXTS"] == {1: "Operation not permitted"}
    assert tables["SIGNAL_NAMES"] == {1: "SIGHUP", 65: "SIGRT0", 66: "SIGRT1"}


def test_generator_wants_every_origin(tmp_path):
    proc = subprocess.run([sys.executable, str(GENERATOR), "freebsd", "--src", str(tmp_path),
                           "--out-dir", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and not (tmp_path / "_freebsd.py").exists()
    assert proc.stderr.startswith("gen_abi_tables: no --origin for sys/kern/syscalls.master")
    assert proc.stderr.count("\n") == 1


# Layouts that read only the start of what the plan records (the rest is
# counters, spare fields or padding the decoders do not print).
PREFIX_LAYOUTS = {"rusage", "sysinfo", "statfs"}


def test_linux_struct_layouts_match_the_recorded_sizes():
    """ktrace.abi.linux_structs describes the bytes the plan records: same sizes."""
    from ktrace.abi import linux_plan as lp, linux_structs as LS
    for name, (layout, fields) in LS.FIXED.items():
        size = lp.STRUCT_SIZES[name]
        assert len(fields) == len(layout.unpack(bytes(layout.size))), name
        if name in PREFIX_LAYOUTS:
            assert layout.size < size, name
        else:
            assert layout.size == size, name
    assert LS.STAT.size == lp.STRUCT_SIZES["stat"]
    assert LS.STATX.size <= lp.STRUCT_SIZES["statx"]
    assert LS.SIGINFO_SIZE == lp.STRUCT_SIZES["siginfo"]
    for si in (LS.SIGINFO_HEAD, LS.SI_SENDER, LS.SI_INT, LS.SI_PTR, LS.SI_POLL, LS.SI_CHLD,
               LS.SI_ADDR):
        assert si.size <= LS.SIGINFO_SIZE
    assert LS.IOVEC.size == lp.STRUCT_SIZES["iovec"]
    assert LS.MSGHDR.size == lp.STRUCT_SIZES["msghdr"]
    assert LS.INT_PAIR.size == 2 * lp.STRUCT_SIZES["int"]
    assert LS.CLONE_ARGS_HEAD.size <= lp.STRUCT_SIZES["clone_args"]
    assert LS.UTSNAME_FIELD * 6 == lp.STRUCT_SIZES["utsname"]

"""The strace differential: real programs under strace(1) and under ktrace;
``kdump --strace`` must print, line for line, what strace 6.1 prints.

The corpus, the runs and the normalising (pids, ASLR addresses, time,
randomness, scheduling) are in ``strace_diff.py``; so are strace's filters
(``-e trace=%file``, ``-z``, ``-P`` ...), each compared with strace run with it,
and ``-ff -o PREFIX``'s files.  Vectored and message I/O's ``-e read=/write=``
dumps are compared here too, from both engines.
``benchmarks/strace_match.py`` reports the match rate over the same corpus.
Here: every line of a covered syscall that both runs made must be the same
after normalising; lines one run made and the other did not (a contended
futex) are few; what the trace does not hold (``strace_diff.KNOWN_GAPS``) is
filed apart and not the view's failure.
"""

import os
import shutil
import subprocess
import sys

import pytest

import strace_diff as D
from engine_support import ENGINES, need_engine
from ktrace.kdump.iodump import strace_dump
from ptrace_support import build
from strace_harness import COLUMN, STRACE, parse_log

pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed")

# The syscalls whose lines must match strace's character for character: what ls,
# cat, cp, sh, python3 -c, gcc and the probe program call.
COVERED = frozenset("""
    execve brk mmap munmap mprotect mremap madvise arch_prctl set_tid_address
    set_robust_list rseq prlimit64 getrandom futex
    openat close read write pread64 pwrite64 readv writev lseek newfstatat statx statfs
    access faccessat2 readlink getcwd chdir mkdir rmdir unlink unlinkat rename renameat2
    chmod fchmod fchmodat symlink symlinkat linkat utimensat fstatfs
    umask getdents64 fsync ftruncate flock fadvise64 copy_file_range sendfile getxattr
    lgetxattr ioctl fcntl dup dup2 dup3 pipe2 poll pselect6 epoll_create1 epoll_ctl
    epoll_wait eventfd2 socket socketpair connect bind listen accept getsockname
    setsockopt getsockopt sendto recvfrom sendmsg recvmsg shutdown rt_sigaction
    rt_sigprocmask rt_sigreturn sigaltstack kill setitimer alarm clone clone3 vfork wait4
    exit_group exit getpid getppid gettid getuid geteuid getgid getegid getgroups getpgrp
    uname sysinfo times prctl sched_getaffinity sched_yield getrusage clock_nanosleep
    close_range --- +++
""".split())

# Lines one run made and the other did not: scheduling (futexes, coalesced
# SIGCHLDs, the order a shell reaps its children in).  A handful per program.
MAX_UNPAIRED = 0.02
MIN_UNPAIRED = 6


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tmp_path_factory.mktemp("strace-diff")


@pytest.fixture(scope="module")
def probe(base):
    if D.GCC is None:
        pytest.skip("gcc is not installed")
    return D.build_probe(base)


@pytest.fixture(scope="module")
def ptrace_allowed(base):
    """ktrace's ptrace engine needs to trace its children here."""
    trace = base / "check.kt"
    env = D.environment()
    done = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", D.ENGINE,
                           "-f", str(trace), "true"], env=env, capture_output=True,
                          timeout=60)
    if done.returncode != 0:
        pytest.skip(f"ktrace cannot trace here: {done.stderr.decode().strip()}")


@pytest.fixture(scope="module")
def results(base, probe, ptrace_allowed):
    """Every corpus program run under both tracers, compared (once per module)."""
    return {prog.name: D.compare(*_logs(D.run_program(prog, base, probe)),
                                 cwd=str(base / "work"))
            for prog in D.CORPUS}


def _logs(run: D.Run) -> tuple[str, str]:
    return run.strace, run.kdump


@pytest.mark.parametrize("name", [p.name for p in D.CORPUS])
def test_covered_syscalls_match_strace(results, name):
    c = results[name]
    assert c.total > 0
    wrong = c.differ_for(COVERED)
    assert not [m for m in wrong if m.kdump is not None], "\n".join(
        f"{m.pair}\n  strace: {m.strace}\n  kdump:  {m.kdump}" for m in wrong[:10])
    assert not c.bad_padding, c.bad_padding[:5]


@pytest.mark.parametrize("name", [p.name for p in D.CORPUS])
def test_few_lines_only_one_run_made(results, name):
    """Beyond the scheduler's calls, both runs made the same calls."""
    c = results[name]
    unpaired = [text for text in [m.strace for m in c.missing] + [m.kdump for m in c.extra]
                if D.name_of(text) not in D.SCHEDULED]
    assert len(unpaired) <= max(MIN_UNPAIRED, MAX_UNPAIRED * c.total), unpaired[:20]


def _total(results) -> D.Comparison:
    total = D.Comparison()
    for c in results.values():
        total.add(c)
    return total


@pytest.mark.parametrize("name", sorted(D.SCHEDULED))
def test_scheduled_calls_mostly_match(results, name):
    """futex, wait4 ... vary from run to run (a shell's SIGCHLDs come in any order),
    but a wrong decoding would miss them all."""
    total = _total(results)
    gaps = sum(1 for _, m in total.known if D.name_of(m.strace) == name)
    assert total.matched_by_name[name] >= max(1, (total.by_name[name] - gaps) / 3), name


def test_overall_match_rate(results):
    total = _total(results)
    # without what the trace cannot hold, nearly every line is strace's
    assert total.rate_without_gaps > 0.99, total.rate_without_gaps
    assert total.rate > 0.9, total.rate


def test_signals_and_exits_are_compared(results):
    """The corpus exercises the lines that are not calls: the test can fail on them."""
    probe = results["probe"]
    assert probe.by_name["---"] >= 2 and probe.by_name["+++"] >= 3
    assert probe.matched_by_name["+++"] == probe.by_name["+++"]


# --- strace's filters: one recording, shown through each ------------------------

@pytest.fixture(scope="module")
def filtered(base, probe, ptrace_allowed):
    """label -> Comparison over FILTER_PROGRAMS: each recorded once, then shown by
    ``kdump --strace`` with each filter of D.FILTERS, strace running it with the same;
    and under D.PER_PROCESS, ``-ff -o PREFIX``'s files on both sides."""
    out = {label: D.Comparison() for label in (*D.FILTERS, D.PER_PROCESS)}
    for prog in D.CORPUS:
        if prog.name in D.FILTER_PROGRAMS:
            for label, c in D.compare_filters(prog, base, probe).items():
                out[label].add(c)
    return out


@pytest.mark.parametrize("label", D.FILTERS)
def test_filters_match_strace(filtered, label):
    """Every line both runs made is strace's; lines only one run made are the
    scheduler's few (as without a filter)."""
    _assert_like_strace(filtered[label])


def test_per_process_files_are_straces(filtered):
    """``kdump --strace -ff -o P`` writes a file for each process strace -ff -o P
    writes one for, no other, and each holds that process's lines as strace's does."""
    c = filtered[D.PER_PROCESS]
    assert not c.lone, c.lone
    assert c.processes > len(D.FILTER_PROGRAMS), c.processes    # children and threads too
    _assert_like_strace(c)


def _assert_like_strace(c: D.Comparison) -> None:
    wrong = [m for m in c.differ if m.kdump is not None]
    assert not wrong, "\n".join(f"{m.pair}\n  strace: {m.strace}\n  kdump:  {m.kdump}"
                                 for m in wrong[:10])
    assert not c.bad_padding, c.bad_padding[:5]
    unpaired = [text for text in [m.strace for m in c.missing] + [m.kdump for m in c.extra]
                if D.name_of(text) not in D.SCHEDULED]
    assert len(unpaired) <= max(MIN_UNPAIRED, MAX_UNPAIRED * c.total), unpaired[:20]
    # a filter that shows little leaves the scheduler's lines (a shell's SIGCHLDs,
    # merged or not as its children end together) a large share: they count apart
    scheduled = sum(1 for m in c.missing if D.name_of(m.strace) in D.SCHEDULED)
    assert c.matched / max(1, c.total - len(c.known) - scheduled) > 0.95, (c.matched, c.total)


def test_filters_select_something(filtered):
    """The corpus exercises each filter: a filter that matched nothing would pass vacuously."""
    empty = [label for label, c in filtered.items() if c.total == 0]
    assert not empty, empty


# --- -e read=/write= of vectored and message I/O ------------------------------

# Buffers of 7, 15 and 40 bytes written and read back: a read that fills some
# buffers and not the last, one short of its buffers (preadv2 near the end of
# the file), one whose first buffer is empty (strace stops there), a writev to
# a descriptor not chosen, sendmsg and recvmsg on a socket pair.
VECTORED_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
int main(void) {
    char a[] = "hello, ", b[] = "vectored world\n", big[40];
    for (int i = 0; i < 40; i++) big[i] = 'A' + i % 26;
    big[39] = 0;
    struct iovec w[3] = {{a, 7}, {b, 15}, {big, 40}};
    int fd = open("v.out", O_RDWR | O_CREAT | O_TRUNC, 0600);      /* 3 */
    writev(fd, w, 3);
    pwritev(fd, w, 2, 100);
    pwritev2(fd, w + 2, 1, 200, 0);
    writev(1, w, 2);
    char r1[5], r2[30], r3[100];
    struct iovec r[3] = {{r1, 5}, {r2, 30}, {r3, 100}};
    lseek(fd, 0, SEEK_SET);
    readv(fd, r, 3);
    preadv(fd, r, 2, 100);
    preadv2(fd, r, 3, 190, 0);
    struct iovec empty_first[2] = {{r1, 0}, {r2, 3}};
    readv(fd, empty_first, 2);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);                       /* 4, 5 */
    struct msghdr out = {.msg_iov = w, .msg_iovlen = 2};
    sendmsg(sv[0], &out, 0);
    struct msghdr in = {.msg_iov = r, .msg_iovlen = 3};
    recvmsg(sv[1], &in, 0);
    return 0;
}
"""
VECTORED_CALLS = ("writev", "pwritev", "pwritev2", "readv", "preadv", "preadv2", "sendmsg",
                  "recvmsg")
# execve too: ktrace(1)'s own calls before it (a recvmsg) are not the program's
VECTORED_DUMPS = f"-e trace=execve,{','.join(VECTORED_CALLS)} -e read=3,5 -e write=3,4"


@pytest.mark.parametrize("engine", ENGINES)
def test_vectored_io_dumps_are_straces(tmp_path, engine):
    """Each buffer of a vectored or message call dumped as strace dumps it
    (`` * N bytes in buffer K`` and its lines), from either engine's records."""
    need_engine(engine)
    exe = build(tmp_path, "vectored", VECTORED_C)
    _, logs = D.run_filters(D.Program("vectored", [exe]), tmp_path, None, (VECTORED_DUMPS,),
                            engine)

    def dumps(log: str) -> list[tuple[str, list[str]]]:
        return [(ln.name, ln.dump) for lines in parse_log(log).values()
                for ln in D.drop_before_exec(lines) if ln.name in VECTORED_CALLS]
    want = dumps(logs[VECTORED_DUMPS][0])
    assert [name for name, _ in want] == ["writev", "pwritev", "pwritev2", "writev", "readv",
                                          "preadv", "preadv2", "readv", "sendmsg", "recvmsg"]
    heads = [[ln for ln in dump if ln.startswith(" * ")] for _, dump in want]
    assert heads[6] == [" * 5 bytes in buffer 0", " * 30 bytes in buffer 1",
                        " * 15 bytes in buffer 2"]
    assert heads[3] == heads[7] == []       # fd 1 not chosen; an empty first buffer
    assert dumps(logs[VECTORED_DUMPS][1]) == want


FAILED_WRITES_C = r"""
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void) {
    int fd = open("/dev/null", O_RDONLY);                              /* 3 */
    write(fd, "read-only", 9);                                         /* EBADF */
    pwrite64(fd, "\0", 1, -3);                                         /* EINVAL */
    char *gone = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 4096);
    write(fd, gone, 8);                                                /* EFAULT */
    return 0;
}
"""
FAILED_WRITE_DUMPS = "-e trace=execve,write,pwrite64 -e write=3"


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_writes_are_dumped_as_straces(tmp_path, engine):
    """strace dumps what a write was given whatever its result (syscall.c's
    dumpio), and nothing where it cannot read the buffer."""
    need_engine(engine)
    exe = build(tmp_path, "failed_writes", FAILED_WRITES_C)
    _, logs = D.run_filters(D.Program("failed_writes", [exe]), tmp_path, None,
                            (FAILED_WRITE_DUMPS,), engine)

    def dumps(log: str) -> list[tuple[str, list[str]]]:
        return [(ln.name, ln.dump) for lines in parse_log(log).values()
                for ln in D.drop_before_exec(lines) if ln.name in ("write", "pwrite64")]
    want = dumps(logs[FAILED_WRITE_DUMPS][0])
    assert [(name, len(dump)) for name, dump in want] == [("write", 1), ("pwrite64", 1),
                                                          ("write", 0)]
    assert dumps(logs[FAILED_WRITE_DUMPS][1]) == want


def test_dump_offsets_widen_as_straces():
    """util.c's dumpstr: offsets of 5 hex digits, beyond 1 MiB 1 + ilog2(length - 1) / 4."""
    for length, digits in ((1 << 20, 5), ((1 << 20) + 1, 6), (1 << 24, 6), ((1 << 24) + 1, 7)):
        assert strace_dump(b"x", length)[0].index("  78 ") == len(" | ") + digits, length


# --- the comparer itself -------------------------------------------------------

def log(*lines: tuple) -> str:
    """An strace -f -o log: (pid, call text, result) padded as strace pads them."""
    out = []
    for pid, text, *result in lines:
        line = f"{pid:<5d} {text}"
        if result:
            line = (line + " ").ljust(COLUMN) + "= " + result[0]
        out.append(line + "\n")
    return "".join(out)


STRACE_LOG = log(
    (100, 'execve("/bin/x", ["x"], 0x7ffd1 /* 3 vars */)', "0"),
    (100, "clone(child_stack=NULL, flags=SIGCHLD)", "101"),
    (100, "read(3,  <unfinished ...>"),
    (101, "getpid()", "101"),
    (100, '<... read resumed>"ab", 2)', "2"),
    (100, "exit_group(0)", "?"),
    (101, "+++ exited with 0 +++"),
    (100, "+++ exited with 0 +++"))
KDUMP_LOG = log(
    (700, "close(4)", "0"),
    (700, 'execve("/bin/x", ["x"], 0x7ffe2 /* 3 vars */)', "0"),
    (700, "clone(child_stack=NULL, flags=SIGCHLD)", "705"),
    (700, 'read(3, "ab", 2)', "2"),
    (705, "getpid()", "705"),
    (700, "exit_group(0)", "?"),
    (705, "+++ exited with 0 +++"),
    (700, "+++ exited with 0 +++"))


def test_comparer_pairs_processes_joins_resumed_and_normalises():
    c = D.compare(STRACE_LOG, KDUMP_LOG)
    assert (c.matched, c.total) == (7, 7)
    assert not c.differ and not c.missing and not c.extra and not c.bad_padding


def test_comparer_finds_a_wrong_line_and_wrong_padding():
    wrong = KDUMP_LOG.replace('"ab", 2) ', '"ab", 3)')
    c = D.compare(STRACE_LOG, wrong)
    assert [m.kdump for m in c.differ] == ['read(3, "ab", 3) = 2']
    assert len(c.bad_padding) == 1
    assert c.differ_for({"read"}) and not c.differ_for({"write"})


def test_comparer_files_known_gaps_apart():
    failed = "-1 ENOENT (No such file or directory)"
    sigchld = "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7} ---"
    strace_log = log((100, 'execve("a", ["a"], 0x7ffd /* 0 vars */)', failed), (100, sigchld))
    kdump_log = log((100, 'execve("a", 0x7ffd, 0x7ffe)', failed))
    c = D.compare(strace_log, kdump_log)
    assert c.matched == 0 and not c.differ
    assert len(c.known) == 1 and c.rate_without_gaps == 0.0
    assert [D.name_of(m.strace) for m in c.missing] == ["---"]   # recorded now: no gap


def test_probe_program_compiles(probe):
    assert os.access(probe, os.X_OK)
    assert shutil.which("strace")

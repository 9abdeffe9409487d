#!/usr/bin/env python3
"""strace 6.1's own test suite, run with ktrace + kdump --strace in strace's place.

    python3 tools/strace_suite.py [--engine ptrace|bpf|both] [--quick] [-j N] [TEST ...]

Gets strace 6.1's source from Debian's source package (once, cached in
~/.cache/ktrace-strace-suite; the machine's own apt sources, turned deb-src in a
private sources file and lists directory, so the system's apt is untouched),
builds it and its test programs, runs each test under the real strace 6.1 (once,
cached: tests that fail or skip there are left out), then under this script's
``strace`` command: a stand-in for strace that records the program with ktrace and
prints the recording with ``kdump --strace``.  It prints the pass count and the
mean share of expected lines found, by test kind (how the test checks strace's
output); fault-injection tests (``-e inject=``, ``-e fault=``: a live tracer's
feature, which a recording cannot have) are a kind of their own, counted apart.

--quick runs QUICK, a fixed few dozen tests that pass with both engines, and
exits 1 if one fails: the CI gate.  ``--failures`` lists each failing test with
its cause.  The suite's files stay in the cache; nothing is copied here.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

VERSION = "6.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ktrace-strace-suite"
SOURCE = CACHE / f"strace-{VERSION}"
TESTS = SOURCE / "tests"
THIS = Path(__file__).resolve()
# What the strace view needs recorded: calls, paths, I/O, signals, structs, exec's argv and envp;
# GENIO_SIZE: a whole getdents64 buffer or -e read= dump, not the 4096 default: as much
# as a read or write records (linux_plan's GIO_PART * GIO_PARTS_MAX).
KTRACE_POINTS = "cinstae"
GENIO_SIZE = 2 << 20
# Where the stand-in keeps its trace: a directory of the test's own, removed
# as the test ends, even when it was killed (a test looping until its timeout
# leaves gigabytes).  (Not bounded with RLIMIT_FSIZE: the program would inherit it.)
TRACES_IN = "KTRACE_SUITE_TRACES"
# seconds a test may take (the suite allows 1500): a hung recording fails in 60
# (a runaway one, clone_parent's under bpf, writes some 100 MB a second)
TEST_TIMEOUT = 60
# Set by tests/Makefile's AM_TEST_LOG_FLAGS for x86_64
TEST_ENV = {"STRACE_ARCH": "x86_64", "STRACE_NATIVE_ARCH": "x86_64",
            "SIZEOF_KERNEL_LONG_T": "8", "SIZEOF_LONG": "8", "MIPS_ABI": "",
            "TIMEOUT_DURATION": str(TEST_TIMEOUT)}
INJECTING = re.compile(r"(-e\s*|--)(inject|fault)=|\binject=|INJECT_RETVALS")
SOURCED = re.compile(r'\$\{?srcdir[^/]*/([\w.-]+\.(?:sh|test))')

# The CI subset: tests that pass with both engines, of each kind and option
# family (-a, -X, -y, -P, --decode-fds, the timestamps and their precisions,
# --strings-in-hex, -n, -x, status=, signals); a failure is a regression.
# fork-f is left out: with the ptrace engine its parent's and child's lines
# interleave as they happened to run, one time in three otherwise than the
# order its expected output fixes (flaky, not a regression check).
QUICK = (
    "access", "chmod", "creat", "dup", "fchmodat", "ftruncate", "getrlimit", "lseek", "umask",
    "fstat-Xabbrev", "fstat-Xverbose", "epoll_pwait2-y", "faccessat2-P", "pidfd_open-P",
    "dev--decode-fds-none", "strace--absolute-timestamps-format-unix-precision-ms",
    "strace--relative-timestamps-ns", "strace--syscall-times-ns", "strace--timestamps-time-ns",
    "strace--strings-in-hex-non-ascii-chars", "strace-n", "strace-x", "status-failed-long",
    "signal_receive", "getuid-creds", "ioctl_winsize",
    # data behind pointers, a cross-argument length, -ff's files
    "aio", "keyctl", "ipc_msgbuf", "net",
    # sockets' states (-yy), a struct's arrays' own pointers, a union's command, an
    # exec's unreadable strings, group stops, a copied descriptor
    "net-yy-unix", "ioctl_v4l2", "btrfs", "bpf", "io_uring_register", "execve",
    "orphaned_process_group", "pidfd_getfd-y",
)


# --- strace's place: the command line mapped onto ktrace and kdump --------------

STRACE_SHORT = "+a:Ab:cCdDe:E:fFhiI:kno:O:p:P:qrs:S:tTu:U:vVwxX:yYzZ"
# strace 6.1's long options: name -> takes an argument (True), may (None), never (False)
STRACE_LONG = {
    "columns": True, "output-append-mode": False, "detach-on": True, "summary-only": False,
    "summary": False, "debug": False, "daemonize": None, "daemonised": None,
    "daemonized": None, "env": True, "follow-forks": False, "output-separately": False,
    "help": False, "instruction-pointer": False, "interruptible": True,
    "stack-traces": False, "syscall-number": False, "output": True,
    "summary-syscall-overhead": True, "attach": True, "trace-path": True,
    "relative-timestamps": None, "string-limit": True, "summary-sort-by": True,
    "absolute-timestamps": None, "timestamps": None, "syscall-times": None, "user": True,
    "summary-columns": True, "no-abbrev": False, "version": False,
    "summary-wall-clock": False, "strings-in-hex": None, "const-print-style": True,
    "pidns-translation": False, "successful-only": False, "failed-only": False,
    "failing-only": False, "seccomp-bpf": False, "tips": None, "trace": True,
    "abbrev": True, "verbose": True, "raw": True, "signals": True, "status": True,
    "read": True, "write": True, "fault": True, "inject": True, "kvm": True, "quiet": None,
    "silent": None, "silence": None, "decode-fds": None, "decode-pids": True,
    "secontext": None,
}


def strace_options(argv: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """strace's getopt: (option, value) pairs, and the command after them."""
    pairs, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            takes = STRACE_LONG.get(name, False)
            if takes is True and not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            pairs.append((f"--{name}", value if eq or takes is True else None))
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                letter = arg[j]
                if STRACE_SHORT.find(letter + ":") > 0:
                    value = arg[j + 1:]
                    if not value:
                        i += 1
                        value = argv[i] if i < len(argv) else ""
                    pairs.append((f"-{letter}", value))
                    break
                pairs.append((f"-{letter}", None))
                j += 1
        else:                      # "+": options end at the command
            break
        i += 1
    return pairs, argv[i:]


# strace's options that the stand-in takes itself: -c/-C's summary, and those that
# change how strace runs its tracee but not what is printed
SUMMARY = {"-c": "only", "--summary-only": "only", "-C": "too", "--summary": "too"}
SUMMARY_ARGS = {"-S": "-S", "--summary-sort-by": "-S", "-U": "-U", "--summary-columns": "-U"}
# strace -c's columns (count.c's default; kdump --summary's adds "longest")
SUMMARY_COLUMNS = "time-percent,total-time,avg-time,calls,errors,name"
NO_EFFECT = {"-w", "--summary-wall-clock",     # a trace's times are wall-clock times
             "-I", "--interruptible"}          # strace's own signals while it runs
# the strace view's short flags a summary also takes (strace -c selects as strace)
SUMMARY_SELECTION = ("-e", "-P", "-z", "-Z", "-q", "-p")
SUMMARY_QUALIFIERS = ("trace", "t", "status", "quiet", "silent", "silence", "q", "signal",
                      "signals", "s")
# strace's name in its messages: what the suite calls it ($STRACE_EXE), as strace's argv[0]
PROGNAME = os.environ.get("STRACE_EXE") or "strace"
INTERRUPTIBLE = ("1", "2", "3", "4", "anywhere", "always", "waiting", "never", "never_tstp")


def as_strace(engine: str, argv: list[str]) -> int:
    """strace's command line, done by ktrace (recording) and kdump (printing).

    ``-f``/``--follow-forks`` and ``-ff``/``--output-separately`` record with
    ``ktrace -i``, ``-p PID`` attaches ``ktrace -p`` and waits for the process
    to end, ``-o`` is kdump's output, ``-E`` the program's environment, ``-V``
    strace's version (the harness asks it first), ``-h`` its usage once the
    options before it are checked, ``-c``/``-C`` (with ``-S``, ``-U``, ``-w``)
    ``kdump --summary`` after (``-C``) the lines; every other option is kdump's
    to take or refuse.
    """
    pairs, command = strace_options(argv)
    follow, outfile, env, passed = 0, None, dict(os.environ), []
    summary, summary_args, attach = None, [], []
    for flag, value in pairs:
        if flag in ("-V", "--version"):
            print(f"strace -- version {VERSION}")
            return 0
        if flag in ("-h", "--help"):
            return _usage(passed)
        if flag in ("-f", "--follow-forks"):
            follow += 1
        elif flag == "--output-separately":
            follow = 2
        elif flag in ("-o", "--output"):
            outfile = value
        elif flag in ("-E", "--env"):
            name, eq, val = value.partition("=")
            if eq:
                env[name] = val
            else:
                env.pop(name, None)
        elif flag in ("-p", "--attach"):
            attach += [p for p in re.split(r"[\s,]+", value) if p]
        elif flag in SUMMARY:
            summary = "too" if "too" in (summary, SUMMARY[flag]) else "only"
        elif flag in SUMMARY_ARGS:
            summary_args += [SUMMARY_ARGS[flag], value]
        elif flag in ("-d", "--debug"):
            # strace's debug line of what tests ask before they count on it: each
            # call's ABI and registers as the kernel gives them, which the ptrace
            # engine has from PTRACE_GET_SYSCALL_INFO and the bpf engine in the kernel
            print("strace: PTRACE_GET_SYSCALL_INFO works", file=sys.stderr)
        elif flag in NO_EFFECT:
            if flag in ("-I", "--interruptible") and value not in INTERRUPTIBLE:
                print(f"{PROGNAME}: invalid {flag} argument: '{value}'", file=sys.stderr)
                return 1
        elif value is None:
            passed.append(flag)
        elif flag.startswith("--"):
            passed.append(f"{flag}={value}")
        else:
            passed += [flag, value]
    refused = _refused(passed)
    if refused:                    # strace checks its options before it needs a program
        print(f"{PROGNAME}: {refused}", file=sys.stderr)
        return 1
    if not command and not attach:
        print(f"{PROGNAME}: must have PROG [ARGS] or -p PID", file=sys.stderr)
        return 1
    if command and attach:
        print("strace (ktrace's stand-in): -p with PROG is not done", file=sys.stderr)
        return 1
    _name_as_strace()
    with tempfile.TemporaryDirectory(prefix="strace-suite-", dir=os.environ.get(TRACES_IN)) as tmp:
        trace = os.path.join(tmp, "ktrace.out")
        ktrace = [sys.executable, "-m", "ktrace.cli", "--engine", engine, "-t", KTRACE_POINTS,
                  "--genio-size", str(GENIO_SIZE), *(["-i"] if follow else [])]
        if attach:
            status = _attach(ktrace, attach, trace)
        else:
            ktrace += ["-f", trace]
            # strace finds the program by its own PATH, not the one -E gives the program
            found = shutil.which(command[0]) if "/" not in command[0] else None
            # the program gets every descriptor strace's caller gave (tests pass 9>>/dev/full)
            recording = subprocess.Popen([*ktrace, "--", found or command[0], *command[1:]],
                                         env=env, close_fds=False)
            _let_go_of_stdio()
            import ktrace.kdump.cli    # noqa: F401  (imported while the program runs)
            status = recording.wait()
            if follow:         # ktrace returns with its command; the others may run on
                _await_ends(trace)
        killed_by = -status if status < 0 else 0
        if killed_by:
            status = 128 + killed_by
        if summary != "only":
            view = ["--strace", "-f", trace, *passed]
            if outfile is not None:
                # strace's print_pid_pfx: -f, or more than one process at the start (-p)
                view += ["--ff" if follow > 1 else "--follow"] if follow or len(attach) > 1 else []
                view += ["-o", outfile]
            printed = _kdump(view, written=outfile)
            if printed != 0:
                return 1
        if summary is not None:
            table = ["--summary", "-f", trace, "-U", SUMMARY_COLUMNS, *summary_args,
                     *_selection(passed)]
            if _kdump(table, outfile, append=summary == "too") != 0:
                return 1
    if killed_by:
        _die_of(killed_by)
    return status


def _name_as_strace() -> None:
    """This process's name (comm) as strace's: the traced program is its
    child, and the tests that print their parent's name (getppid() =
    PID<strace> with --decode-pids=comm) expect strace's.  The recording
    holds what the kernel says the parent's name is (STRU parent)."""
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write("strace")
    except OSError:
        pass


def _die_of(sig: int) -> None:
    """As strace ends when its tracee was killed: by the same signal, unblocked
    and at its default action (exit status 128 + sig where it cannot kill)."""
    signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
    os.kill(os.getpid(), sig)


def _let_go_of_stdio() -> None:
    """As strace does once its tracee runs: its standard input and output on
    /dev/null, so that a pipe ends when the program closes its end."""
    if sys.stdout is not None:           # None: descriptor 1 was closed
        sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        if fd != devnull:
            os.dup2(devnull, fd)
    if devnull > 1:
        os.close(devnull)
    if sys.stderr is None:               # descriptor 2 closed: strace's words go nowhere
        sys.stderr = open(os.devnull, "w")


def _kdump(argv: list[str], outfile: str | None = None, append: bool = False,
           written: str | None = None) -> int:
    """kdump with its standard output on strace's (stderr), or on ``outfile``.

    A file kdump writes (``outfile``, or ``written``: the view's -o) that takes
    no more is strace's ``strace: FILE: ERROR``, not a failure: strace exits as
    its tracee did."""
    from ktrace.kdump.cli import main as kdump
    written = outfile or written
    stdout, stderr = sys.stdout, sys.stderr
    try:
        sys.stdout = open(outfile, "a" if append else "w") if outfile else sys.stderr
    except OSError as e:
        print(f"{PROGNAME}: {outfile}: {e.strerror}", file=sys.stderr)
        return 1
    said = io.StringIO()
    if written is not None:
        sys.stderr = said
    try:
        code = kdump(argv)
        if sys.stdout is not stderr:
            sys.stdout.close()
    except OSError as e:
        print(f"kdump: {written}: {e.strerror}", file=sys.stderr)
        code = 1
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    for line in said.getvalue().splitlines():
        if line.startswith(f"kdump: {written}: "):
            print(f"{PROGNAME}: {line[len('kdump: '):]}", file=sys.stderr)
            code = 0
        else:
            print(line, file=sys.stderr)
    return code


def _selection(passed: list[str]) -> list[str]:
    """Of the strace view's arguments, those that select: what narrows -c's counts."""
    from ktrace.kdump.strace import _ff
    out, args = [], _ff(passed)
    for i, arg in enumerate(args):
        value = args[i + 1] if i + 1 < len(args) else ""
        if arg in SUMMARY_SELECTION[1:4] or arg == "-q":
            out.append(arg)
            if arg == "-P":
                out.append(value)
        elif arg == "-e" and value.partition("=")[0] in SUMMARY_QUALIFIERS + (value,):
            out += [arg, value]
    return out


def _refused(passed: list[str]) -> str:
    """What the strace view says of its options (strace's words), or nothing."""
    from ktrace.kdump.cli import UsageError
    from ktrace.kdump.select import SelectError
    from ktrace.kdump.strace import parse
    try:
        parse(passed)
    except (UsageError, SelectError) as e:
        return str(e) or "bad options"
    return ""


def _usage(passed: list[str]) -> int:
    """strace -h: its options before -h are checked (as strace's getopt loop does), then
    the usage, exit 0."""
    refused = _refused(passed)
    if refused:
        print(f"{PROGNAME}: {refused}", file=sys.stderr)
        return 1
    print(f"Usage: strace [OPTIONS...] PROG [ARGS] | -p PID  (ktrace + kdump --strace, as strace {VERSION})")
    return 0


def _attach(ktrace: list[str], pids: list[str], trace: str) -> int:
    """strace -p: ktrace -p each process, then wait until each has ended and its end
    is in the trace."""
    for n, pid in enumerate(pids):
        done = subprocess.run([*ktrace, *(["-a"] if n else []), "-f", trace, "-p", pid])
        if done.returncode:
            return done.returncode
    _await_ends(trace, {int(p) for p in pids})
    return 0


def _await_ends(trace: str, waiting: set[int] | None = None) -> None:
    """Wait until each process of ``waiting`` (None: each one the trace shows) has
    its end in the trace, as strace returns only when its last tracee has ended."""
    from ktrace import record as r
    deadline = time.monotonic() + TEST_TIMEOUT
    while time.monotonic() < deadline:
        seen, ended = set(), set()
        try:
            with open(trace, "rb") as f:
                for rec in r.RecordReader(f).wellformed():
                    seen.add(rec.header.pid)
                    if rec.header.type == r.PROCDTOR:
                        ended.add(rec.header.pid)
        except (OSError, r.TraceFileError, r.ForeignFormat):
            pass               # a record half written: read again
        if not (seen if waiting is None else waiting) - ended:
            return
        time.sleep(0.05)


# --- the suite: source, build, run -------------------------------------------------

def run(cmd: list[str], **kw) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, **kw)


def fetch_source() -> None:
    """strace's source from Debian's source package, unpacked in CACHE."""
    if (SOURCE / "configure").exists():
        return
    apt = CACHE / "apt"
    parts = apt / "sources.list.d"
    lists = apt / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    parts.mkdir(parents=True, exist_ok=True)
    (parts / "deb-src.sources").write_text(deb_src_entries())
    options = ["-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={parts}",
               "-o", f"Dir::State::Lists={lists}"]
    run(["apt-get", *options, "update"])
    download = CACHE / "download"
    download.mkdir(exist_ok=True)
    # bookworm has strace 6.1 alone; the orig tarball below is checked to be 6.1
    run(["apt-get", *options, "source", "--download-only", "strace"], cwd=download)
    orig = next(download.glob(f"strace_{VERSION}.orig.tar.[gx]z"))
    run(["tar", "-xf", str(orig), "-C", str(CACHE)])      # the tarball has configure


def deb_src_entries() -> str:
    """The machine's own Debian sources (deb822 .sources files), as deb-src."""
    entries = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(line.split(":", 1) for line in stanza.splitlines()
                          if ":" in line and not line.startswith("#"))
            fields = {k.strip(): v.strip() for k, v in fields.items()}
            if "deb" in fields.get("Types", "").split() and "debian" in fields.get("URIs", ""):
                fields["Types"] = "deb-src"
                entries.append("\n".join(f"{k}: {v}" for k, v in fields.items()))
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]:
        if path.exists():
            entries += [re.sub(r"^deb\s", "deb-src ", line) for line in path.read_text().splitlines()
                        if re.match(r"deb\s.*debian", line)]
    if not entries:
        raise SystemExit("strace_suite: no Debian apt source on this machine to take deb-src from")
    return "\n\n".join(entries) + "\n"


def build(jobs: int) -> None:
    """The test programs: ``make -k check TESTS=`` in tests/."""
    stamp = TESTS / ".ktrace-built"
    if stamp.exists():
        return
    if not (SOURCE / "config.status").exists():
        run(["./configure", "--enable-mpers=no"], cwd=SOURCE, stdout=subprocess.DEVNULL)
    # -k: a program that does not build against this machine's kernel headers
    # (a few netlink ones) is a test that fails under strace too, and is left out
    subprocess.run(["make", "-k", f"-j{jobs}", "check", "TESTS="], cwd=TESTS,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stamp.touch()


def real_strace() -> str:
    """Debian's strace 6.1 binary: the reference (6.1's own source does not build
    against newer kernel headers, Debian's package was built against its own)."""
    for attempt in range(2):
        found = shutil.which("strace")
        if found and f"version {VERSION}" in subprocess.run(
                [found, "-V"], capture_output=True, text=True).stdout:
            return found
        if attempt == 0:
            run(["apt-get", "install", "-y", "strace"], stdout=subprocess.DEVNULL)
    raise SystemExit(f"strace_suite: needs strace {VERSION} (Debian 12's) as the reference")


def suite_tests() -> list[str]:
    """The names of tests/Makefile's TESTS (x86_64's list, without .test)."""
    out = subprocess.run(["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-",
                          "ktrace-list-tests"], cwd=TESTS, input="ktrace-list-tests:\n\t@echo $(TESTS)\n",
                         text=True, capture_output=True, check=True).stdout
    return [re.sub(r"(\.gen)?\.test$", "", t) for t in out.split()]


def test_file(name: str) -> Path:
    gen = TESTS / f"{name}.gen.test"
    return gen if gen.exists() else TESTS / f"{name}.test"


def kind(name: str) -> str:
    """How the test checks strace's output; ``inject`` for fault injection."""
    text = test_file(name).read_text(errors="replace")
    # the helper scripts a test sources (not init.sh: every test's library)
    text += "".join((TESTS / s).read_text(errors="replace") for s in set(SOURCED.findall(text))
                    if s != "init.sh" and (TESTS / s).exists())
    if INJECTING.search(text):
        return "inject"
    for checker, label in (("run_strace_match_diff", "match_diff"), ("match_diff", "match_diff"),
                           ("match_grep", "match_grep"), ("match_awk", "match_awk")):
        if checker in text:
            return label
    return "other"


@dataclass
class Outcome:
    name: str
    kind: str
    status: str                     # pass, fail, skip, error (framework), timeout
    seconds: float = 0.0
    expected: int = 0               # lines strace must print
    found: int = 0                  # of them, lines printed
    cause: str = ""
    detail: str = ""

    @property
    def match(self) -> float:
        if self.status == "pass" or not self.expected:
            return float(self.status == "pass")
        return self.found / self.expected


def run_test(name: str, strace: str, workdir: Path, measure: bool) -> Outcome:
    """One test by the suite's own run.sh, with ``strace`` as $STRACE; ``measure``:
    the lines it found and why it failed."""
    traces = workdir / f"{name}.traces"
    traces.mkdir()
    env = {**os.environ, **TEST_ENV, "srcdir": str(TESTS), "STRACE": strace,
           TRACES_IN: str(traces)}
    env.pop("VERBOSE", None)
    test = test_file(name)
    started = time.monotonic()
    # its own session: what a timed-out test leaves running (a busy-looping
    # attach-f-p) is killed with it
    test_run = subprocess.Popen([str(TESTS / "run.sh"), str(test)], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        stdout, _ = test_run.communicate(timeout=TEST_TIMEOUT + 30)
        status = {0: "pass", 77: "skip", 99: "error"}.get(test_run.returncode, "fail")
        output = stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        status, output = "timeout", ""
    finally:
        try:
            os.killpg(test_run.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        test_run.communicate()
        shutil.rmtree(traces, ignore_errors=True)
    outcome = Outcome(name, kind(name), status, time.monotonic() - started)
    if measure:
        compare(outcome, workdir / f"{name}.dir", output)
    return outcome


def compare(o: Outcome, testdir: Path, output: str) -> None:
    """Lines expected (``exp``) against lines printed (``out``, else ``log``), and why not."""
    exp = testdir / "exp"
    got = testdir / "out" if (testdir / "out").exists() else testdir / "log"
    if exp.exists() and got.exists():
        want = exp.read_text(errors="replace").splitlines()
        have = got.read_text(errors="replace").splitlines()
        o.expected = len(want)
        if o.kind == "match_grep":
            text = "\n".join(have)
            o.found = sum(_grep(p, text) for p in want)
        else:
            left = Counter(have)
            for line in want:
                if left[line] > 0:
                    left[line] -= 1
                    o.found += 1
        printed = set(have)
        o.detail = next((line for line in want if line not in printed), "")
    if o.status in ("pass", "skip"):
        return
    refused = re.search(r"^kdump: (.*)$", output, re.M)
    if refused:
        o.cause = "kdump refuses: " + refused.group(1)
    elif o.status == "timeout":
        o.cause = "timeout"
    elif o.detail:
        o.cause = difference(o.detail, have)
    elif "failed with code" in output:
        o.cause = "the run failed: " + _last_line(output)
    else:
        o.cause = "other lines differ (extra, reordered, signals)"


def difference(line: str, printed: list[str]) -> str:
    """What kind of difference the first expected line not printed shows, against
    the printed line sharing the longest start with it."""
    call = re.match(r"(\d+ +|\[pid +\d+\] )?([a-z_0-9]+)\(", line)
    if call is None:
        return "a signal, exit or other line differs"
    same = [p for p in printed if p.startswith(call.group(0))]
    if not same:
        return "the call is not shown"
    closest = max(same, key=lambda p: len(os.path.commonprefix([p, line])))
    at = len(os.path.commonprefix([closest, line]))
    wanted, got = line[at:], closest[at:]
    if re.match(r"[\[{\"]", wanted) and re.match(r"0x|NULL", got):
        return "an argument not decoded (the address printed)"
    if re.match(r"0x|NULL", wanted) and re.match(r"[\[{\"]", got):
        return "decoded where strace prints the address"
    if wanted.startswith((" /* ", "/* ")) or re.match(r"0x\w+ /\*", wanted):
        return "a constant's comment missing"
    if wanted.startswith("<") or got.startswith("<"):
        return "a descriptor's or pid's <decoration>"
    if re.match(r"[A-Z_]{3}", wanted) and re.match(r"-?\d|0x", got):
        return "a constant printed as a number"
    return "a value spelled differently"


def _grep(pattern: str, text: str) -> bool:
    """Does a line of ``text`` match ``pattern`` whole (grep -E -x)?"""
    try:
        with warnings.catch_warnings():     # POSIX bracket expressions read as nested sets
            warnings.simplefilter("ignore", FutureWarning)
            return re.search(f"^(?:{pattern.removeprefix('!')})$", text, re.M) is not None
    except re.error:
        return pattern in text.splitlines()


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


def run_all(names: list[str], strace: str, label: str, jobs: int,
            measure: bool = True) -> list[Outcome]:
    """Run ``names`` with ``jobs`` at a time, each in a work directory of the label's."""
    (CACHE / "runs").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=CACHE / "runs"))
    # the tests run ../NAME from NAME.dir: the programs must be beside the work dirs
    for entry in TESTS.iterdir():
        if entry.is_file() and os.access(entry, os.X_OK):
            (work / entry.name).symlink_to(entry)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        outcomes = list(pool.map(lambda n: run_test(n, strace, work, measure), names))
    print(f"{label}: {len(names)} tests in {time.monotonic() - started:.0f} s", file=sys.stderr)
    shutil.rmtree(work)
    return outcomes


def reference(names: list[str], jobs: int) -> set[str]:
    """The tests that pass under the real strace 6.1 on this machine (cached)."""
    cache = CACHE / f"reference-{platform.release()}.json"
    known = json.loads(cache.read_text()) if cache.exists() else {}
    todo = [n for n in names if n not in known]
    if todo:
        for o in run_all(todo, real_strace(), "strace", jobs, measure=False):
            known[o.name] = o.status
        cache.write_text(json.dumps(known, indent=0, sort_keys=True))
    return {n for n in names if known[n] == "pass"}


def report(engine: str, outcomes: list[Outcome], failures: bool) -> None:
    by_kind = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    print(f"\nengine {engine}: tests that pass under strace {VERSION}, run with ktrace + kdump --strace")
    print(f"{'kind':12s} {'tests':>6s} {'pass':>6s} {'rate':>7s} {'line match':>11s}")
    counted = [o for o in outcomes if o.kind != "inject"]
    rows = [*sorted(by_kind.items(), key=lambda kv: kv[0] == "inject"), ("all but inject", counted)]
    for label, group in rows:
        if not group:
            continue
        passed = sum(o.status == "pass" for o in group)
        mean = sum(o.match for o in group) / len(group)
        print(f"{label:12s} {len(group):6d} {passed:6d} {passed / len(group):7.1%} {mean:11.1%}")
    causes = Counter(o.cause for o in counted if o.status != "pass")
    if causes:
        print("causes: " + "; ".join(f"{c} ({n})" for c, n in causes.most_common()))
    if failures:
        for o in sorted(counted, key=lambda o: (o.cause, o.name)):
            if o.status != "pass":
                print(f"  {o.name:32s} {o.kind:10s} {o.match:6.1%} {o.cause} | {o.detail[:100]}")


def stand_in(engine: str, where: str) -> str:
    """$STRACE for ``engine``: this script's ``strace`` behind the ktrace command's
    launcher (built in ``where``), which tells ktrace the signals the test left
    ignored (sigign.py; Python itself starts with some ignored); without a C
    compiler, the script as Python starts it."""
    from ktrace import sigign
    command = [sys.executable, str(THIS), "strace", engine]
    launcher = os.path.join(where, f"strace-{engine}")
    try:
        sigign.build_launcher(str(THIS.parents[1] / "launcher" / "ktrace.c"), launcher, command)
    except (OSError, subprocess.CalledProcessError):
        return " ".join(command)
    return launcher


def _waits_for_children() -> None:
    """The test's ignored signals reach the program by the launcher's mask
    (which passes on to ktrace in our environment): we need SIGCHLD to wait."""
    from ktrace import sigign
    if sigign.VARIABLE in os.environ:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def main(argv: list[str]) -> int:
    if argv[:1] == ["strace"]:          # $STRACE: --engine E, then strace's arguments
        _waits_for_children()
        return as_strace(argv[1], argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tests", nargs="*", help="test names (default: all that strace passes)")
    ap.add_argument("--engine", choices=("ptrace", "bpf", "both"), default="both")
    ap.add_argument("--quick", action="store_true", help="the CI subset; exit 1 if one fails")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--failures", action="store_true", help="list failing tests and causes")
    ap.add_argument("--save", metavar="PREFIX", help="each test's outcome in PREFIX-ENGINE.json")
    args = ap.parse_args(argv)
    fetch_source()
    build(args.jobs)
    names = list(QUICK) if args.quick else args.tests or suite_tests()
    unknown = sorted(set(names) - set(suite_tests()))
    if unknown:
        ap.error(f"not tests of strace {VERSION}'s suite: {' '.join(unknown)}")
    chosen = [n for n in names if n in reference(names, args.jobs)]
    print(f"{len(chosen)} of {len(names)} tests pass under strace {VERSION}", file=sys.stderr)
    engines = ("ptrace", "bpf") if args.engine == "both" else (args.engine,)
    failed = False
    (CACHE / "runs").mkdir(exist_ok=True)
    launchers = tempfile.mkdtemp(prefix="stand-in-", dir=CACHE / "runs")
    for engine in engines:
        outcomes = run_all(chosen, stand_in(engine, launchers), engine, args.jobs)
        if args.save:
            Path(f"{args.save}-{engine}.json").write_text(
                json.dumps([o.__dict__ for o in outcomes], indent=0))
        report(engine, outcomes, args.failures)
        failed |= any(o.status != "pass" for o in outcomes)
    shutil.rmtree(launchers)
    return 1 if args.quick and failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

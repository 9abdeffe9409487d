"""The strace differential: one corpus of real programs, run under strace(1)
and under ktrace, and ``kdump --strace`` compared with strace line by line.

Used by ``tests/test_strace_diff.py`` (assertions) and
``benchmarks/strace_match.py`` (the match rate).  Both runs happen in the
same working directory, reset to the same files before each run, with the
same environment, so what the programs do is the same; what still differs
between two runs of one program is normalised here:

* pids and tids: each trace's processes are paired through the clone/fork
  results of their (already paired) parents (``strace_harness.pair_processes``;
  by likeness where a filter hid the clones), then every pid is written
  ``P<n>``;
* addresses: both runs go without address randomisation (``setarch -R``), so
  they must agree, but for execve's envp, which points into the caller; where
  setarch cannot run, hex numbers of five digits or more become ``0x?``;
* time: the ``tv_*`` fields of clock reads, ``time()``'s result, a SIGCHLD's
  ``si_utime``/``si_stime``, sysinfo's counters;
* randomness: getrandom's bytes, ephemeral port numbers, gcc's temp names;
* scheduling: an ``<unfinished ...>`` line and its ``<... resumed>`` line
  are joined into the one line strace prints when nothing comes between
  (which of the two ways a call prints depends on what other threads did);
  the alignment padding before ``=`` is checked on its own and then dropped.

Lines of one process pair are aligned with difflib: a call one run made and
the other did not (a futex that was contended once) costs that line only.
``-ff -o PREFIX`` is compared the same way, a file being a process's lines;
a process with a file on one side only is ``Comparison.lone``.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from strace_harness import Line, children, likeness, name_of, pair_processes, parse_log
from strace_harness import run_strace as run_strace_argv

ROOT = Path(__file__).resolve().parents[1]
GCC = shutil.which("gcc")
STRSIZE = 32                 # strace's -s, given to both sides
FILE_TIME = 1_700_000_000    # mtime of the corpus files (ls -l prints it)
KTRACE_FACILITIES = "+ae"
# strace -q, not -qq: -qq hides the "+++ exited with N +++" lines the view prints.
STRACE_QUIET = "-q"
# getdents64 prints its entry count, which needs the whole buffer: more than the
# default genio cap (4096) records
GENIO_SIZE = 65536
# Both runs without address randomisation: then every address must agree too.
# Where setarch cannot run, addresses are normalised instead.
SETARCH = shutil.which("setarch")
ASLR_OFF = SETARCH is not None and subprocess.run(
    [SETARCH, "-R", "true"], capture_output=True).returncode == 0
NO_ASLR = (SETARCH, "-R") if ASLR_OFF else ()
ENGINE = os.environ.get("KTRACE_DIFF_ENGINE", "ptrace")

PROBE_C = Path(__file__).resolve().parent / "data" / "strace_probe.c"


@dataclass
class Program:
    name: str
    argv: list[str]
    yflag: bool = False      # also compare with -y
    tty: bool = False        # stdin, stdout and stderr on a terminal (24x80)


FILES = {
    "in.txt": b"pear\napple\nfig\nbanana\n",
    "notes.md": b"# notes\n" + b"line of text\n" * 40,
    "hello.c": b"int main(void) { return 0; }\n",
    "sub/a": b"a\n",
    "sub/b": b"bb\n",
}

PY_FILES = ("import os; os.listdir('.'); f = open('out.txt', 'w'); f.write('x' * 40); "
            "f.close(); os.stat('out.txt'); os.unlink('out.txt')")
PY_CHILD = "import subprocess; subprocess.run(['true'], check=True)"
PY_THREADS = ("import threading; t = threading.Thread(target=print, args=('hi',)); "
              "t.start(); t.join()")

CORPUS = [
    Program("ls", ["ls", "-l", "."]),
    Program("ls-tty", ["ls", "-l", "sub"], tty=True),
    Program("python-tty", ["python3", "-c", "import os; os.get_terminal_size()"], tty=True),
    Program("ls-y", ["ls", "sub"], yflag=True),
    Program("cat", ["cat", "in.txt", "notes.md"]),
    Program("cat-y", ["cat", "in.txt"], yflag=True),
    Program("wc", ["wc", "in.txt", "notes.md"]),
    Program("cp", ["cp", "in.txt", "copy.txt"]),
    Program("stat", ["stat", "-c", "%n %s %a %F", "in.txt", "sub"]),
    Program("head", ["head", "-n", "2", "notes.md"]),
    Program("sort", ["sort", "in.txt"]),
    Program("date", ["date", "-u", "-d", "@1700000000"]),
    Program("id", ["id"]),
    Program("sh-pipeline", ["sh", "-c", "cat in.txt | sort | head -n 2; echo done > out.txt; "
                            "wc -l < out.txt; ls nothing-here 2>/dev/null; exit 0"]),
    Program("python-files", ["python3", "-c", PY_FILES]),
    Program("python-child", ["python3", "-c", PY_CHILD]),
    Program("python-threads", ["python3", "-c", PY_THREADS]),
    Program("probe", ["{probe}"]),
    Program("probe-y", ["{probe}"], yflag=True),
    Program("sh-y", ["sh", "-c", "cat in.txt | wc -c > out.txt"], yflag=True),
    Program("gcc", ["gcc", "-c", "-o", "hello.o", "hello.c"]),
    Program("file-ops", ["sh", "-c", "touch t && ln -s t l && mv l m && chmod 600 t && "
                         "rm -f m t && mkdir -p a/b && rmdir a/b a"]),
    Program("find", ["find", ".", "-name", "*.txt"]),
    Program("grep", ["grep", "-rn", "fig", "."]),
    Program("tar", ["tar", "cf", "sub.tar", "sub"]),
    Program("sleep", ["sleep", "0.01"]),
    Program("env", ["env", "-i", "A=1", "true"]),
]


def environment() -> dict[str, str]:
    """The one environment both runs get (ktrace needs its own PYTHONPATH, and
    the trace service of the tree under test: KTRACE_RUNTIME_DIR, when set)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
           "TZ": "UTC", "PYTHONPATH": str(ROOT / "src")}
    if "KTRACE_RUNTIME_DIR" in os.environ:
        env["KTRACE_RUNTIME_DIR"] = os.environ["KTRACE_RUNTIME_DIR"]
    return env


def reset_workdir(work: Path) -> None:
    if work.exists():
        shutil.rmtree(work)
    for name, data in FILES.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (FILE_TIME, FILE_TIME))
    for d in (work / "sub", work):
        os.utime(d, (FILE_TIME, FILE_TIME))


def build_probe(outdir: Path) -> Path:
    """The C probe program (file I/O, failures, signals, threads, sockets, polling)."""
    exe = outdir / "probe"
    subprocess.run([GCC, "-O1", "-pthread", "-o", str(exe), str(PROBE_C)], check=True)
    return exe


@contextlib.contextmanager
def standard_files(tty: bool):
    """The programs' stdin, stdout and stderr: /dev/null, or a new 24x80 terminal."""
    if not tty:
        yield dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
        return
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        yield dict(stdin=slave, stdout=slave, stderr=slave)
    finally:
        os.close(slave)
        os.close(master)


@dataclass
class Run:
    strace: str               # strace's log
    kdump: str                # kdump --strace's output
    seconds: float            # ktrace's wall time


def run_program(prog: Program, base: Path, probe: Path | None) -> Run:
    """``prog`` under strace, then under ktrace; both logs in strace -f -o form."""
    y = ["-y"] if prog.yflag else []
    strace_log, kdump_log = base / f"{prog.name}.strace", base / f"{prog.name}.kdump"
    run_strace(prog, base, probe, y, strace_log)
    trace, seconds = record(prog, base, probe)
    run_kdump(trace, y, kdump_log)
    return Run(_text(strace_log), _text(kdump_log), seconds)


def _text(log: Path) -> str:
    return log.read_text(errors="replace")


def _argv(prog: Program, probe: Path | None) -> list[str]:
    return [str(probe) if a == "{probe}" else a for a in prog.argv]


def run_strace(prog: Program, base: Path, probe: Path | None, options: list[str],
               log: Path) -> None:
    """strace ``prog`` with ``options`` (besides -f -q -s) into ``log`` (with -ff,
    a file ``log.PID`` per process)."""
    work = base / "work"
    reset_workdir(work)
    with standard_files(prog.tty) as std:
        # strace takes no -q beside its own -qq or -e quiet=
        quiet = [] if any(o == "-qq" or "quiet=" in o for o in options) else [STRACE_QUIET]
        run_strace_argv(_argv(prog, probe), log, [*quiet, "-s", str(STRSIZE), *options],
                        prefix=NO_ASLR, cwd=work, env=environment(), timeout=300, **std)


def record(prog: Program, base: Path, probe: Path | None, engine: str = ENGINE
           ) -> tuple[Path, float]:
    """``prog`` under ktrace: the trace file and the wall time it took."""
    work, trace = base / "work", base / f"{prog.name}.kt"
    reset_workdir(work)
    trace.unlink(missing_ok=True)
    start = time.monotonic()
    with standard_files(prog.tty) as std:
        subprocess.run([*NO_ASLR, sys.executable, "-m", "ktrace.cli", "--engine", engine, "-i",
                        "--genio-size", str(GENIO_SIZE), "-t", KTRACE_FACILITIES,
                        "-f", str(trace), *_argv(prog, probe)], cwd=work, env=environment(),
                       **std, timeout=300, check=False)
    return trace, time.monotonic() - start


def run_kdump(trace: Path, options: list[str], log: Path, cwd: Path | None = None) -> None:
    """``kdump --strace --follow`` of ``trace`` with ``options`` into ``log``, as strace
    -f -o writes (with -ff, as strace -ff -o).  ``cwd``: where -P's relative paths
    resolve (strace resolves them where it runs)."""
    subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "--strace", "--follow",
                    "-s", str(STRSIZE), *options, "-o", str(log), "-f", str(trace)],
                   env=environment(), cwd=cwd, check=True, timeout=300)


# --- filters: one trace, filtered many ways, against strace run with each filter ----

# The options given to strace and to kdump --strace alike (each is its own label)
FILTERS = (
    "-e trace=%file", "-e trace=%desc", "-e trace=%memory", "-e trace=%process",
    "-e trace=%signal", "-e trace=%network", "-e trace=%ipc", "-e trace=%creds",
    "-e trace=%clock", "-e trace=%pure", "-e trace=%%stat", "-e trace=%stat,%lstat,%fstat",
    "-e trace=%%statfs", "-e trace=openat,close,read,write", "-e trace=!mmap,mprotect,brk,munmap",
    "-e trace=/^(open|new|stat)", "-e trace=?nosuchcall,getpid",
    "-z", "-Z", "-e status=failed,unfinished", "-e status=!successful",
    "-e signal=none", "-e signal=SIGCHLD", "-e quiet=exit", "-qq", "-P in.txt",
    "-e trace=read -e read=3", "-e trace=write -e write=1",
    "-e trace=readv,writev,sendmsg,recvmsg -e read=all -e write=all",
)
FILTER_PROGRAMS = ("cat", "ls", "sh-pipeline", "python-files", "probe", "file-ops")


# strace -ff -o PREFIX against kdump --strace -ff -o PREFIX: the label of its results
PER_PROCESS = "-ff -o PREFIX"


def run_filters(prog: Program, base: Path, probe: Path | None, filters=FILTERS,
                engine: str = ENGINE) -> tuple[Path, dict[str, tuple[str, str]]]:
    """``prog`` recorded once, and label -> (strace's log, kdump's) for each filter."""
    trace, _ = record(prog, base, probe, engine)
    out = {}
    for n, label in enumerate(filters):
        options = label.split()
        slog, klog = base / f"{prog.name}.f{n}.strace", base / f"{prog.name}.f{n}.kdump"
        run_strace(prog, base, probe, options, slog)
        run_kdump(trace, options, klog, cwd=base / "work")
        out[label] = (_text(slog), _text(klog))
    return trace, out


def run_per_process(prog: Program, base: Path, probe: Path | None, trace: Path
                    ) -> tuple[dict[int, str], dict[int, str]]:
    """The files of ``strace -ff -o PREFIX`` (a new run of ``prog``) and of ``kdump
    --strace -ff -o PREFIX`` (of ``trace``): pid -> text, each side."""
    files = []
    for side in ("strace", "kdump"):
        outdir = base / f"{prog.name}.ff" / side
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.mkdir(parents=True)
        if side == "strace":
            run_strace(prog, base, probe, ["-ff"], outdir / "log")
        else:
            run_kdump(trace, ["-ff"], outdir / "log")
        # every file must be PREFIX.PID: int() fails on any other
        files.append({int(f.name.removeprefix("log.")): _text(f) for f in outdir.iterdir()})
    return files[0], files[1]


def compare_filters(prog: Program, base: Path, probe: Path | None, filters=FILTERS,
                    engine: str = ENGINE) -> dict[str, "Comparison"]:
    """label -> kdump's lines against strace's for each filter, ``prog`` recorded
    once; under PER_PROCESS, -ff -o's files of that recording against strace's."""
    trace, logs = run_filters(prog, base, probe, filters, engine)
    unfiltered = base / f"{prog.name}.f.kdump"
    run_kdump(trace, [], unfiltered)
    tracer = before_exec(_text(unfiltered))
    cwd = str(base / "work")
    out = {label: compare(slog, klog, cwd, tracer) for label, (slog, klog) in logs.items()}
    out[PER_PROCESS] = compare_per_process(*run_per_process(prog, base, probe, trace), cwd)
    return out


def before_exec(kdump_log: str) -> list[str]:
    """The root's lines before its execve: ktrace(1)'s own calls (an unfiltered log)."""
    k = parse_log(kdump_log)
    if not k:
        return []
    root = k[next(iter(k))]
    kept = drop_before_exec(root)
    return [ln.text for ln in root[:len(root) - len(kept)]]


def drop_tracer_lines(lines: list[Line], tracer: list[str]) -> list[Line]:
    """A filtered log's root lines without ktrace(1)'s: those of ``tracer`` the
    filter let through come first, in order."""
    i, n = 0, 0
    for ln in lines:
        while i < len(tracer) and tracer[i] != ln.text:
            i += 1
        if i == len(tracer):
            break
        i, n = i + 1, n + 1
    return lines[n:]


# --- ktrace(1)'s own lines; pids where a filter hid the tree --------------------

def drop_before_exec(lines: list[Line]) -> list[Line]:
    """ktrace(1)'s own calls before it becomes the command (strace starts at execve)."""
    for i, ln in enumerate(lines):
        if ln.name == "execve" and ln.result == "0":
            return lines[i:]
    return lines


class AnyPid(dict):
    """Every pid is ``P``: where a filter hid the calls that tell them apart."""

    def get(self, key, default=None):
        return "P"

    def __bool__(self) -> bool:
        return True


# --- normalising ----------------------------------------------------------------

_HEX = re.compile(r"\b0x[0-9a-f]{5,}\b")
# execve's envp is an address in the memory of whoever called it: the first
# one is strace's or ktrace(1)'s
_ENVP = re.compile(r"^(execve\(.*, 0x)[0-9a-f]+( /\* \d+ vars? \*/\))")
_CLOCK_CALLS = {"clock_gettime", "gettimeofday", "time", "times", "futex", "getrusage", "wait4"}
_TV = re.compile(r"(tv_sec|tv_nsec|tv_usec|tms_\w+)=\d+( /\* [\d.]+ s \*/)?")
_SIGINFO_MORE = re.compile(r"(--- \w+ \{si_signo=\w+, si_code=\w+)(, .*)?(\} ---)$")
_SIGCHLD_TIMES = re.compile(r"(si_utime|si_stime)=\d+( /\* [\d.]+ s \*/)?")
_SYSINFO = re.compile(r"(uptime|loads|freeram|sharedram|bufferram|freeswap|procs)="
                      r"(\[[^]]*\]|\d+)")
_STATFS_FREE = re.compile(r"(f_bfree|f_bavail|f_ffree)=\d+")
_MAPS_ADDRESS = re.compile(r"\b[0-9a-f]{8,16}(?=-[0-9a-f]{8,16} |\b)")   # /proc/*/maps
_PORT = re.compile(r"htons\((\d+)\)")
# glibc trims a new thread arena's mapping to a 64 MiB boundary: how much depends
# on where ASLR put it, so whole-MiB munmap lengths are normalised
_ARENA_TRIM = re.compile(r"^munmap\(0x\?, (\d+)\)")
MIB = 1 << 20
_PTS = re.compile(r"makedev\(0x88, \w+\)")     # which /dev/pts/N a run got
_GCC_TEMP = re.compile(r"/tmp/cc[A-Za-z0-9]{6}")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"(\.\.\.)?')


def normalise(ln: Line, pids: dict[int, str], siginfo: bool = True) -> str:
    """``ln`` with what differs between two runs of one program made equal.

    ``siginfo`` False: a signal line keeps only si_signo and si_code (what a
    trace without the siginfo records can show).
    """
    text = ln.text
    if ln.name == "---" and not siginfo:
        text = _SIGINFO_MORE.sub(r"\1\3", text)
    text = _ENVP.sub(r"\1?\2", text) if ASLR_OFF else _HEX.sub("0x?", text)
    if pids:
        text = name_pids(ln, text, pids)
    if ln.name in _CLOCK_CALLS:
        text = _TV.sub(r"\1=?", text)
        if ln.name in ("time", "times"):
            text = re.sub(r"= \d+$", "= ?", text)
    elif ln.name == "getrandom":
        text = _QUOTED.sub('"?"', text, count=1)
    elif ln.name == "sysinfo":
        text = _SYSINFO.sub(r"\1=?", text)
    elif ln.name in ("statfs", "fstatfs"):
        text = _STATFS_FREE.sub(r"\1=?", text)
    elif ln.name == "read":
        text = _MAPS_ADDRESS.sub("?", text)
    elif ln.name == "---":
        text = _SIGCHLD_TIMES.sub(r"\1=?", text)
    elif ln.name == "munmap":
        text = _ARENA_TRIM.sub(lambda m: "munmap(0x?, ?)" if int(m.group(1)) % MIB == 0
                               else m.group(0), text)
    text = _PORT.sub(lambda m: "htons(?)" if int(m.group(1)) >= 32768 else m.group(0), text)
    text = _PTS.sub("makedev(0x88, ?)", text)
    return _GCC_TEMP.sub("/tmp/cc?", text)


# Where a pid or tid is printed (and only there: pids are small numbers that
# sizes and counts can equal).
PID_RESULTS = {"getpid", "gettid", "getppid", "set_tid_address", "clone", "clone3", "fork",
               "vfork", "wait4", "getpgrp", "getpgid", "getsid", "setsid",
               "rt_sigreturn"}     # the interrupted call's result: often wait4's pid
PID_FIELDS = [
    re.compile(r"(si_pid=|parent_tid=\[)(\d+)"),
    re.compile(r"^((?:kill|tkill|tgkill|wait4|prlimit64|getpgid|setpgid|pidfd_open|"
               r"sched_getaffinity)\()(\d+)"),
    re.compile(r"^(tgkill\(\w+, )(\d+)"),
    re.compile(r"^(futex\(0x[0-9a-f?]+, FUTEX_WAIT[\w|]*, )(\d+)"),   # a thread's tid (join)
]
PID_RESULT = re.compile(r"(= )(\d+)$")


def name_pids(ln: Line, text: str, pids: dict[int, str]) -> str:
    def swap(m: re.Match) -> str:
        return m.group(1) + pids.get(int(m.group(2)), m.group(2))
    for pattern in PID_FIELDS:
        text = pattern.sub(swap, text)
    return PID_RESULT.sub(swap, text) if ln.name in PID_RESULTS else text


def pid_names(pairs, side: int, extra: dict[int, str]) -> dict[int, str]:
    names = {p[side]: f"P{i}" for i, p in enumerate(pairs) if p[side] is not None}
    return {**extra, **names}


def _ppid(lines: list[Line]) -> dict[int, str]:
    """The root's getppid() is the tracer or the shell: both say PPID."""
    for ln in lines:
        if ln.name == "getppid" and ln.result and ln.result.isdigit():
            return {int(ln.result): "PPID"}
    return {}


# --- comparing -----------------------------------------------------------------

@dataclass
class Mismatch:
    pair: str                  # "P0"
    strace: str | None
    kdump: str | None


# Differences that are not the view's: what ktrace does not record, by design or
# not yet.  Each is (label, test of a mismatch); the comparison files the lines
# it explains under that label instead of counting them as the view's errors.
_FAILED_EXEC = re.compile(r"^execve(at)?\(.*\[.*= -1 ")
_EXEC_POINTERS = re.compile(r"^execve(at)?\(.*0x[0-9a-f?]+, 0x[0-9a-f?]+")
_FD_PATH = re.compile(r"(AT_FDCWD|\d+)<([^>]*)>")
_INODE = re.compile(r"^(pipe|socket):\[\d+\]$")


def _failed_exec(m: "Mismatch", cwd: str) -> bool:
    return m.kdump is not None and bool(_FAILED_EXEC.search(m.strace)
                                        and _EXEC_POINTERS.search(m.kdump))


def _fd_paths(text: str, cwd: str) -> str:
    """-y's paths as both sides can know them: no cwd, no inode, symlinks resolved,
    nothing of the descriptors the programs inherit (/dev/null, see run_program)."""
    def canonical(m: re.Match) -> str:
        fd, path = m.group(1), m.group(2)
        if fd == "AT_FDCWD" or path == os.devnull:
            return fd
        kind = _INODE.match(path)
        if kind is not None:
            return f"{fd}<{kind.group(1)}:>"
        if ":" in path.split("/", 1)[0]:
            return m.group(0)
        return f"{fd}<{os.path.realpath(os.path.join(cwd, path))}>"
    return _FD_PATH.sub(canonical, text)


def _unrecorded_fd_paths(m: "Mismatch", cwd: str) -> bool:
    return m.kdump is not None and _fd_paths(m.strace, cwd) == _fd_paths(m.kdump, cwd)


def _left_unfinished(m: "Mismatch", cwd: str) -> bool:
    """strace with status= prints a call that another process interrupted as
    ``name(args <unfinished ...>`` and never resumes it: which calls, the scheduler
    decided in strace's run."""
    head = m.strace.removesuffix(" <unfinished ...>")
    return m.kdump is not None and head != m.strace and m.kdump.startswith(head.rstrip())


KNOWN_GAPS = [
    ("execve's argv/envp are recorded only when it succeeds (ARGS/ENVS at exit)",
     _failed_exec),
    ("-y: the trace holds no initial cwd or descriptors, inodes, resolved symlinks",
     _unrecorded_fd_paths),
    ("strace's status= run left a call <unfinished ...> (another process came between)",
     _left_unfinished),
]


def known_gap(m: "Mismatch", cwd: str = "/") -> str | None:
    if m.strace is None:
        return None
    return next((label for label, explains in KNOWN_GAPS if explains(m, cwd)), None)


@dataclass
class Comparison:
    total: int = 0                                   # strace lines
    matched: int = 0
    by_name: Counter = field(default_factory=Counter)           # strace lines per name
    matched_by_name: Counter = field(default_factory=Counter)
    differ: list[Mismatch] = field(default_factory=list)    # paired, text differs
    missing: list[Mismatch] = field(default_factory=list)   # strace only
    extra: list[Mismatch] = field(default_factory=list)     # kdump only
    known: list[tuple[str, Mismatch]] = field(default_factory=list)   # KNOWN_GAPS
    bad_padding: list[str] = field(default_factory=list)    # kdump lines padded wrongly
    processes: int = 0                                # process pairs compared
    lone: list[str] = field(default_factory=list)    # processes with lines on one side only

    def add(self, other: "Comparison") -> None:
        for name, value in vars(other).items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    @property
    def rate(self) -> float:
        return self.matched / self.total if self.total else 1.0

    @property
    def rate_without_gaps(self) -> float:
        total = self.total - len(self.known)
        return self.matched / total if total else 1.0

    def differ_for(self, names) -> list[Mismatch]:
        return [d for d in self.differ + self.missing
                if d.strace is not None and name_of(d.strace) in names]


def compare(strace_log: str, kdump_log: str, cwd: str = "/",
            tracer: list[str] | None = None) -> Comparison:
    """Both logs' lines, process by process; ``cwd`` is where the programs ran.
    ``tracer``: for a filtered log (which may have no execve), the lines of
    ktrace(1) before it (``before_exec`` of the unfiltered log)."""
    return compare_processes(parse_log(strace_log), parse_log(kdump_log), cwd, tracer)


def compare_per_process(strace_files: dict[int, str], kdump_files: dict[int, str],
                        cwd: str = "/") -> Comparison:
    """The files of strace -ff -o and of kdump --strace -ff -o, process by process:
    a file one side wrote and the other did not is ``lone``."""
    s = {pid: parse_log(text, pid).get(pid, []) for pid, text in strace_files.items()}
    k = {pid: parse_log(text, pid).get(pid, []) for pid, text in kdump_files.items()}
    return compare_processes(s, k, cwd, roots=(_root(s), _root(k)))


def _root(procs: dict[int, list[Line]]) -> int | None:
    """The process no other one created (files come in no order)."""
    born = {pid for lines in procs.values() for pid in children(lines)}
    return next((pid for pid in sorted(procs) if pid not in born), None)


def compare_processes(s: dict[int, list[Line]], k: dict[int, list[Line]], cwd: str = "/",
                      tracer: list[str] | None = None, roots: tuple | None = None
                      ) -> Comparison:
    """``compare`` of parsed logs; ``roots``: the runs' first processes unless given."""
    s_root, k_root = roots or (next(iter(s), None), next(iter(k), None))
    if k_root in k:
        k[k_root] = drop_before_exec(k[k_root]) if tracer is None else \
            drop_tracer_lines(k[k_root], tracer)
    if tracer is None:
        pairs = pair_processes(s, k, roots=(s_root, k_root))
        s_pids = pid_names(pairs, 0, _ppid(s.get(s_root, [])))
        k_pids = pid_names(pairs, 1, _ppid(k.get(k_root, [])))
    else:       # a filter may hide the clones that pair processes: pair by their lines
        s_pids, k_pids = AnyPid(), AnyPid()
        pairs = pair_processes(
            {p: [normalise(ln, s_pids) for ln in lines] for p, lines in s.items()},
            {p: [normalise(ln, k_pids) for ln in lines] for p, lines in k.items()},
            roots=None, alike=likeness)
    siginfo = any(ln.name == "---" and "si_code=" in ln.text and ", si_" in
                  ln.text.split("si_code=", 1)[1] for lines in k.values() for ln in lines)
    out = Comparison()
    out.bad_padding = [f"{ln.pid} {ln.text}" for lines in k.values() for ln in lines
                       if ln.bad_padding]
    out.processes = len(pairs)
    out.lone = [f"strace {sp}" if sp in s else f"kdump {kp}" for sp, kp in pairs
                if (sp in s) != (kp in k)]
    for i, (sp, kp) in enumerate(pairs):
        a = [normalise(ln, s_pids, siginfo) for ln in s.get(sp, [])]
        b = [normalise(ln, k_pids, siginfo) for ln in k.get(kp, [])]
        out.add(_compare_lines(f"P{i}", a, b, cwd))
    return out


# Calls whose number, order and results follow the scheduler (who wakes whom,
# which child is reaped first): one of these that differs from its counterpart
# is two different calls, filed as one missing and one extra line.  A view bug
# in them still shows, as every such line unmatched (test_strace_diff bounds
# the unmatched lines).
SCHEDULED = {"futex", "wait4", "rt_sigreturn", "---"}


def _compare_lines(label: str, a: list[str], b: list[str], cwd: str) -> Comparison:
    out = Comparison(total=len(a))
    out.by_name.update(name_of(text) for text in a)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            out.matched += i2 - i1
            out.matched_by_name.update(name_of(text) for text in a[i1:i2])
            continue
        # pair lines of the same syscall in order; the rest are missing or extra
        unused = list(range(j1, j2))
        for x in a[i1:i2]:
            j = next((j for j in unused if name_of(b[j]) == name_of(x)
                      and name_of(x) not in SCHEDULED), None)
            if j is not None:
                unused.remove(j)
            _file(out, Mismatch(label, x, b[j] if j is not None else None), cwd)
        for j in unused:
            out.extra.append(Mismatch(label, None, b[j]))
    return out


def _file(out: Comparison, m: Mismatch, cwd: str) -> None:
    gap = known_gap(m, cwd)
    if gap is not None:
        out.known.append((gap, m))
    elif m.kdump is None:
        out.missing.append(m)
    else:
        out.differ.append(m)

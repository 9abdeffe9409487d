"""kdump's one front end and strace's selection options, in every view.

The selection's meaning is checked against strace itself in
test_strace_diff.py (``test_filters_match_strace``); here: parsing, the
generated class table, each view's narrowing on hand-built traces, the
summary's -S/-U/-C, the hex dumps, -ff, --help/--version and the one error path.
"""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.abi import LINUX_X86_64
from ktrace.decode.strace import syscall_classes
from ktrace.kdump import strace, summary
from ktrace.kdump.iodump import strace_dump
from ktrace.kdump.select import SelectError, Selection, syscall_set

ABI = LINUX_X86_64
PID = 4242
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def linux_tables(monkeypatch):
    monkeypatch.setattr(strace, "abi_for_svflags", lambda sv: ABI)
    monkeypatch.setattr(summary, "abi_for_svflags", lambda sv: ABI)


class Trace:
    """A little Linux trace: openat, read, write, close, a failed openat, a signal."""

    def __init__(self):
        self.recs = []
        self.t = 1_700_000_000 * 10**9
        self.add(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64))

    def add(self, rtype, payload, step=1000):
        self.t += step
        self.recs.append(r.pack_record(rtype, payload, PID, PID, b"prog", self.t, 0))

    def call(self, name, *args, value=0, error=0, nami=None, gio=None, step=1000):
        self.add(r.SYSCALL, r.syscall_payload(ABI.syscall_number(name), args))
        if nami is not None:
            self.add(r.NAMEI, nami)
        if gio is not None:
            self.add(r.GENIO, r.genio_payload(*gio))
        self.add(r.SYSRET, r.sysret_payload(ABI.syscall_number(name), error, value), step)
        return self

    def bytes(self) -> bytes:
        return b"".join(self.recs)


def sample() -> Trace:
    t = Trace()
    t.call("openat", 2**32 - 100, 0x1000, 0, value=3, nami=b"in.txt")
    t.call("read", 3, 0x2000, 64, value=3, gio=(3, 0, b"ab\n"), step=5000)
    t.call("write", 1, 0x2000, 3, value=3, gio=(1, 1, b"ab\n"))
    t.call("close", 3)
    t.call("openat", 2**32 - 100, 0x1000, 0, value=-2, error=2, nami=b"nope")
    t.add(r.PSIG, r.psig_payload(10, 0, 0, 0))
    t.add(r.SYSCALL, r.syscall_payload(ABI.syscall_number("exit_group"), (0,)))   # no RET
    t.add(r.PROCDTOR, b"")
    return t


def run_view(module, argv, data: bytes, tmp_path) -> tuple[str, str, int]:
    """(stdout, stderr, status) of ``module.main`` on ``data`` (a trace file)."""
    path = tmp_path / "t.out"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        status = module.main([*argv, "-f", str(path)])
    finally:
        sys.stdout, sys.stderr = saved
    return out.getvalue(), err.getvalue(), status


def strace_lines(argv, tmp_path, trace=None):
    out, err, status = run_view(strace, argv, (trace or sample()).bytes(), tmp_path)
    assert (err, status) == ("", 0)
    return out.splitlines()


def names(lines):
    return [ln.split("(")[0] for ln in lines if not ln.startswith(("---", "+++", " |"))]


# --- strace's classes: its own table -------------------------------------------

def test_the_class_table_is_straces_and_names_its_source():
    c = syscall_classes.CLASSES
    assert "openat" in c["%file"] and "read" not in c["%file"]
    assert {"read", "write", "close", "openat"} <= c["%desc"]
    assert c["%%stat"] >= {"stat", "lstat", "fstat", "newfstatat", "statx"}
    assert "getpid" in c["%pure"] and "clock_gettime" in c["%clock"]
    assert "setuid" in c["%creds"] and "rt_sigaction" in c["%signal"]
    text = Path(syscall_classes.__file__).read_text()
    assert "strace 6.1" in text and "tools/gen_strace_classes.py" in text


def test_trace_sets_as_strace_reads_them():
    def has(text, name):
        return (name, ABI.syscall_number(name)) in syscall_set(text)
    assert has("%file", "openat") and not has("%file", "read")
    assert has("!%file", "read") and not has("!%file", "openat")
    assert has("/^open", "openat") and not has("/^open", "close")
    assert has("?nosuch,read", "read")
    assert has("all", "read") and not has("none", "read") and has("!none", "read")
    assert has("file", "openat") and has("%net", "socket")
    assert has("0", "read")             # a number is the syscall's
    assert has(",read,", "read")         # strtok's: empty items are skipped
    for bad, message in [("nosuch", "invalid system call 'nosuch'"),
                         ("/(", "regcomp: (: "), ("", "invalid system call ''"),
                         (",", "invalid system call ','")]:
        with pytest.raises(SelectError, match=message.replace("(", r"\(")):
            syscall_set(bad)


def test_selection_words_and_errors():
    sel = Selection()
    sel.expression("status=!successful")
    assert sel.status == {"failed", "unfinished", "unavailable", "detached"}
    sel.expression("quiet=exits")
    assert sel.quiet == {"exit"}
    for bad in ("status=sometimes", "signal=SIGNOPE", "signal=256", "read=x", "abbrev=none"):
        with pytest.raises(SelectError):
            Selection().expression(bad)


# --- the strace view --------------------------------------------------------------

def test_trace_status_and_signal_selections(tmp_path):
    assert names(strace_lines(["-e", "trace=openat"], tmp_path)) == ["openat", "openat"]
    assert names(strace_lines(["-e", "trace=%desc"], tmp_path)) == \
        ["openat", "read", "write", "close", "openat"]
    assert names(strace_lines(["-z"], tmp_path)) == ["openat", "read", "write", "close"]
    assert names(strace_lines(["-Z"], tmp_path)) == ["openat"]
    assert names(strace_lines(["-e", "status=unfinished"], tmp_path)) == ["exit_group"]
    everything = strace_lines([], tmp_path)
    assert any(ln.startswith("--- SIGUSR1") for ln in everything)
    assert everything[-1] == "+++ exited with 0 +++"
    quiet = strace_lines(["-e", "signal=!SIGUSR1", "-qq"], tmp_path)
    assert not any(ln.startswith(("---", "+++")) for ln in quiet)
    assert len(quiet) == len(everything) - 2


def test_path_follows_the_descriptor_opened_on_it(tmp_path):
    lines = strace_lines(["-P", "in.txt"], tmp_path)
    assert names(lines) == ["openat", "read", "close"]


def test_read_and_write_dumps_in_straces_layout(tmp_path):
    lines = strace_lines(["-e", "trace=read,write", "-e", "read=3", "-e", "write=1"],
                         tmp_path)
    dump = " | 00000  61 62 0a" + " " * 42 + "ab.              |"
    assert names(lines) == ["read", "write"]
    assert lines[1] == lines[3] == dump
    assert strace_dump(bytes(range(17)))[1].startswith(" | 00010  10 ")
    assert strace_dump(b"x" * 3, length=(1 << 20) + 1)[0].startswith(" | 000000  78")


def test_a_file_per_thread(tmp_path):
    prefix = tmp_path / "log"
    assert strace_lines(["-ff", "-o", str(prefix)], tmp_path) == []
    text = Path(f"{prefix}.{PID}").read_text()
    assert text.startswith("openat(") and text.endswith("+++ exited with 0 +++\n")
    out, err, status = run_view(strace, ["-ff"], sample().bytes(), tmp_path)
    assert status == 1 and err.startswith("kdump: -ff needs -o PREFIX\n")


def test_a_file_per_thread_cuts_no_call_for_another_threads_lines(tmp_path):
    """strace -ff: a thread's call is not ended ``<unfinished ...>`` by another
    thread's lines, which go to another file (in one output, it is)."""
    t, other = Trace(), PID + 1
    accept, getpid = ABI.syscall_number("accept"), ABI.syscall_number("getpid")
    t.add(r.SYSCALL, r.syscall_payload(accept, (3, 0, 0)))
    for rtype, payload in ((r.SYSCALL, r.syscall_payload(getpid, ())),
                           (r.SYSRET, r.sysret_payload(getpid, 0, PID))):
        t.t += 100
        t.recs.append(r.pack_record(rtype, payload, PID, other, b"prog", t.t, 0))
    t.add(r.SYSRET, r.sysret_payload(accept, 0, 4))
    prefix = tmp_path / "log"
    assert strace_lines(["-ff", "-o", str(prefix)], tmp_path, t) == []
    first = Path(f"{prefix}.{PID}").read_text().splitlines()[0]
    assert re.sub(" +=", " =", first) == "accept(3, NULL, NULL) = 4"
    assert strace_lines(["--follow"], tmp_path, t)[0].endswith("accept(3,  <unfinished ...>")


# --- the FreeBSD view and --json narrowed alike --------------------------------------

def freebsd_view(argv, tmp_path):
    path = tmp_path / "t.out"
    path.write_bytes(sample().bytes())
    done = subprocess.run([sys.executable, "-c", "import sys; from ktrace.kdump.cli import "
                           "main; sys.exit(main(sys.argv[1:]))", "-f", str(path), *argv],
                          capture_output=True, text=True, timeout=60)
    assert (done.stderr, done.returncode) == ("", 0)
    return done.stdout.splitlines()


def kinds(lines):
    return [ln.split()[2] for ln in lines if ln.startswith(f"  {PID}")]


def test_the_freebsd_view_and_json_are_narrowed_too(tmp_path):
    text = freebsd_view(["-e", "trace=read"], tmp_path)
    assert kinds(text) == ["CALL", "GIO", "RET", "PSIG"]
    assert "read" in text[0]
    failed = freebsd_view(["-Z"], tmp_path)
    assert kinds(failed) == ["CALL", "NAMI", "RET", "PSIG"]
    assert '"nope"' in failed[1]
    json = freebsd_view(["--json", "-e", "trace=close"], tmp_path)
    assert [ln.split('"type":"')[1].split('"')[0] for ln in json] == \
        ["PROCCTOR", "SYSCALL", "SYSRET", "PSIG", "PROCDTOR"]
    assert not any("PSIG" in ln for ln in freebsd_view(["-e", "signal=none"], tmp_path))


# A program that names its file by a descriptor: dup'ed, closed, inherited by a child
DESCRIPTORS = """\
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
copy = os.dup(fd)
os.close(fd)
child = os.fork()
if child == 0:
    os.read(copy, 5)
    os._exit(0)
os.waitpid(child, 0)
os.fstat(copy)
os.close(copy)
with open(os.devnull, "rb") as other:
    other.read()
"""


def test_path_follows_descriptors_in_every_view(tmp_path):
    """-P in the FreeBSD view and --json selects what the strace view does: the
    calls on the path and on descriptors open on it, a child's too (a real trace)."""
    data, out = tmp_path / "data.txt", tmp_path / "t.out"
    data.write_text("hello world\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    traced = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", "ptrace", "-i",
                             "-f", str(out), sys.executable, "-c", DESCRIPTORS, str(data)],
                            capture_output=True, timeout=60, env=env)
    assert traced.returncode == 0, traced.stderr

    def kdump(*argv):
        done = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "-f", str(out),
                               "-P", str(data), *argv], capture_output=True, text=True,
                              timeout=60, env=env)
        assert (done.stderr, done.returncode) == ("", 0)
        return done.stdout.splitlines()
    straces = [re.sub(r"^\[pid +\d+\] ", "", ln).split("(")[0] for ln in kdump("--strace")
               if not ln.endswith(("+++", "---"))]
    assert straces[0] == "openat" and "read" in straces and straces.count("close") == 2
    calls = [ln.split() for ln in kdump() if ln.split()[2:3] == ["CALL"]]
    assert [call[3].split("(")[0] for call in calls] == straces
    assert len({call[0] for call in calls}) == 2     # the child's read: an inherited descriptor
    json = [ln for ln in kdump("--json") if '"type":"SYSCALL"' in ln]
    assert [ln.split('"name":"')[1].split('"')[0] for ln in json] == straces


# --- the summary ------------------------------------------------------------------------

def test_summary_sorts_and_columns_as_strace(tmp_path):
    out, err, status = run_view(summary, ["-S", "calls", "-U", "calls,name"],
                                sample().bytes(), tmp_path)
    assert (err, status) == ("", 0)
    assert out.splitlines() == [
        "    calls syscall", "--------- ----------------", "        2 openat",
        "        1 read", "        1 write", "        1 close",
        "--------- ----------------", "        5 total"]
    out = run_view(summary, ["-U", "name,min-time,errors", "-e", "trace=%desc"],
                   sample().bytes(), tmp_path)[0].splitlines()
    assert out[0] == "syscall          shortest    errors"
    assert out[-1].split() == ["total", "0.000001", "1"]


def test_summary_with_lines_and_selection(tmp_path):
    out = run_view(summary, ["-C", "-e", "trace=read"], sample().bytes(), tmp_path)[0]
    lines = out.splitlines()
    assert lines[0].startswith('read(3, "ab\\n", 64)')
    assert lines[-1].endswith(" total") and lines[-3].endswith(" read")
    # status= does not narrow strace -c's counts
    assert run_view(summary, ["-z"], sample().bytes(), tmp_path)[0].splitlines()[-1] \
        .split()[-3:] == ["5", "1", "total"]


@pytest.mark.parametrize("argv, message", [
    (["-S", "size"], "kdump: invalid sortby: 'size'\n"),
    (["-U", "calls,calls"], "kdump: call summary column has been provided more than once"),
    (["-U", "colour"], "kdump: unknown column name: 'colour'\n"),
])
def test_summary_refuses_as_strace(tmp_path, argv, message):
    out, err, status = run_view(summary, argv, sample().bytes(), tmp_path)
    assert status == 1 and err.startswith(message) and "usage" in err


# --- one front end ------------------------------------------------------------------------

VIEWS = [[], ["--json"], ["--strace"], ["--summary"], ["--strace", "-e", "trace=read"],
         ["--summary", "-C", "-S", "calls"], ["-e", "trace=%file", "-Z"]]


def kdump(*argv, stdin=None):
    done = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", *argv],
                          capture_output=True, input=stdin, timeout=60)
    return done.stdout, done.stderr.decode(), done.returncode


@pytest.mark.parametrize("view", VIEWS + [["--perfetto", "-o", "/dev/null"]], ids=" ".join)
def test_bad_input_is_one_line_in_every_view(tmp_path, view):
    openbsd = tmp_path / "openbsd.ktrace.out"
    openbsd.write_bytes(b"KTR\0" + bytes(60))
    for path, words in [(openbsd, "OpenBSD ktrace file"), (tmp_path / "nope", "No such file"),
                        (tmp_path, "Is a directory")]:
        out, err, status = kdump(*view, "-f", str(path))
        assert status == 1 and err.count("\n") == 1 and words in err, err
        assert "Traceback" not in err


@pytest.mark.parametrize("view", VIEWS, ids=" ".join)
def test_stdin_is_a_trace_too(view):
    out, err, status = kdump(*view, "-f", "-", stdin=sample().bytes())
    assert (err, status) == ("", 0)


@pytest.mark.parametrize("view", [[], ["--json"], ["--strace"], ["--summary"], ["--sql", "x"]],
                         ids=" ".join)
def test_help_and_version(view):
    out, err, status = kdump(*view, "--help")
    assert status == 0 and out.startswith(b"usage: kdump") and err == ""
    out, err, status = kdump(*view, "--version")
    assert status == 0 and out.startswith(b"kdump (ktrace) ")


def test_ktrace_help_and_version():
    for flag, first in [("--help", b"usage: ktrace"), ("--version", b"ktrace ")]:
        done = subprocess.run([sys.executable, "-m", "ktrace.cli", flag], capture_output=True,
                              timeout=60)
        assert done.returncode == 0 and done.stdout.startswith(first)


@pytest.mark.parametrize("argv, message", [
    (["--strace", "-e", "trace=nosuch"], "kdump: invalid system call 'nosuch'\n"),
    (["-e", "status=maybe"], "kdump: invalid status 'maybe'\n"),
    (["--strace", "-s", "x"], "kdump: -s needs a number of 0 or more, not 'x'\n"),
])
def test_bad_selections_are_one_line(argv, message):
    out, err, status = kdump(*argv, "-f", "-", stdin=sample().bytes())
    assert status == 1 and err.startswith(message) and "Traceback" not in err


def test_cli_uses_one_front_end():
    """Every view's main goes through cli.front: no view parses or opens on its own."""
    for path in ["kdump/strace.py", "kdump/summary.py", "analysis/cli.py"]:
        text = (ROOT / "src/ktrace" / path).read_text()
        assert "front(" in text and "import getopt" not in text


# --- fuzzing: the selections and the other views, for any records -------------------------

def test_any_records_in_every_view_and_selection():
    """tools/fuzz_reader.py's sets with selections and the strace and summary views, on
    random records (hypothesis): no exception, no hang."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    sys.path.insert(0, str(ROOT / "tools"))
    import fuzz_reader
    from test_record import records

    @hypothesis.given(st.lists(records(r.AMD64_V1), min_size=1, max_size=12))
    @hypothesis.settings(max_examples=100, deadline=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def run(recs):
        raw = b"".join(r.encode(rec) for rec in recs)
        for argv in (*fuzz_reader.SELECTION_SETS, *fuzz_reader.VIEW_SETS):
            fuzz_reader.dump(raw, argv, strict=True, layout=r.AMD64_V1)
    run()


def test_narrowing_holds_a_bounded_amount(monkeypatch):
    """status= holds a call's records until its RET: past the bounds, it goes undecided."""
    from ktrace.kdump import select
    t = Trace()
    t.add(r.SYSCALL, r.syscall_payload(ABI.syscall_number("read"), (3, 0, 64)))
    for _ in range(select.MAX_HELD_RECORDS + 1):
        t.add(r.GENIO, r.genio_payload(3, 0, b"x" * 100))
    recs = list(r.RecordReader(io.BytesIO(t.bytes())))
    sel = Selection()
    sel.status = frozenset({"failed"})
    assert len(list(select.narrow(recs, sel))) == len(recs)     # let through, undecided
    monkeypatch.setattr(select, "MAX_HELD_TOTAL", 250)
    out = list(select.narrow(recs[:5], sel))
    assert len(out) == 5 and out[1].header.type == r.SYSCALL   # released by the total bound


def test_the_strace_view_follows_a_growing_file(tmp_path):
    """-l, as the FreeBSD view's: each line as soon as its call ends."""
    path = tmp_path / "live.out"
    t = Trace()
    t.call("close", 3)
    path.write_bytes(t.bytes())
    proc = subprocess.Popen([sys.executable, "-m", "ktrace.kdump.cli", "--strace", "-l",
                             "-e", "trace=close", "-f", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().startswith(b"close(3)")
        more = Trace()
        more.recs = []
        more.call("getpid", value=PID)
        more.call("close", 4)
        with open(path, "ab") as f:
            f.write(more.bytes())
        assert proc.stdout.readline().startswith(b"close(4)")
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()

"""kdump on trace files made by someone hostile, in every view.

A trace holds bytes that strangers chose (a traced program names its paths,
arguments, thread names; anyone can write a file and hand it over).  In every
view (text, --json, --strace, --summary):

* no string from the trace reaches the terminal raw: no control byte but the
  layout's own newlines and tabs, no DEL, no C1 control;
* memory stays bounded (≤ 100 MiB) whatever the record sizes say;
* bad input is one line ``kdump: FILE: offset N: WHAT`` after every good
  record, exit status 1, never a traceback.
"""

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ktrace import record as r
from ktrace.abi import LINUX_X86_64 as ABI
from ktrace.kdump import cli
from test_record import records

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
T0 = 1_700_000_000 * 10**9
PID = 4242
EVIL = b"\x1b]0;PWNED\x07\x1b[2J\x1b[31m\x9b1m\xc2\x9b2m\xc2\x85\x7f\xff\xfe\r\n\t\x08\xe2\x80\xae"
VIEWS = ([], ["-n"], ["-H", "-A", "-c", "-r"], ["-s"], ["--json"], ["--strace"],
         ["--strace", "-y", "-s", "4096"], ["--summary"], ["--summary", "--per-process"])
LIMIT_KB = 100 * 1024


def rec(rtype, payload, comm=b"cat", pid=PID):
    return r.pack_record(rtype, payload, pid, pid, comm, T0, 0)


def call(name, *args, **kw):
    return rec(r.SYSCALL, r.syscall_payload(ABI.syscall_number(name), args), **kw)


def ret(name, value=0, **kw):
    return rec(r.SYSRET, r.sysret_payload(ABI.syscall_number(name), 0, value), **kw)


def sockaddr_un(path):
    return (1).to_bytes(2, "little") + path


def dirent(name):
    reclen = (19 + len(name) + 1 + 7) // 8 * 8
    return (1).to_bytes(8, "little") + (2).to_bytes(8, "little") + reclen.to_bytes(2, "little") \
        + b"\x08" + (name + b"\0").ljust(reclen - 19, b"\0")


def evil_trace(evil=EVIL, comm=EVIL[:19]):
    """A Linux process whose every string field holds ``evil``, in the records
    each syscall really leaves (so that --strace pairs and prints them)."""
    linux = r.procctor_payload(r.SV_LINUX_X86_64)
    utsname = b"".join((evil[:60] + b"\0").ljust(65, b"\0") for _ in range(6))
    return b"".join([
        rec(r.PROCCTOR, linux, comm=comm),
        call("execve", 0x1000, 0x2000, 0x3000, comm=comm),
        rec(r.NAMEI, b"/bin/" + evil, comm=comm),
        rec(r.ARGS, r.strings_payload([evil, b"-l", evil]), comm=comm),
        rec(r.ENVS, r.strings_payload([b"TERM=" + evil]), comm=comm),
        ret("execve", comm=comm),
        call("openat", (1 << 64) - 100, 0x1000, 0, comm=comm),
        rec(r.NAMEI, b"/tmp/" + evil, comm=comm),
        ret("openat", 3, comm=comm),
        call("read", 3, 0x1000, 64, comm=comm),
        rec(r.GENIO, r.genio_payload(3, 0, evil), comm=comm),
        ret("read", len(evil), comm=comm),
        call("connect", 3, 0x1000, 110, comm=comm),
        rec(r.STRUCT, r.struct_payload(b"sockaddr", sockaddr_un(evil + b"\0")), comm=comm),
        ret("connect", comm=comm),
        call("connect", 3, 0x1000, 110, comm=comm),
        rec(r.STRUCT, r.struct_payload(b"sockaddr", sockaddr_un(b"\0" + evil)), comm=comm),
        ret("connect", comm=comm),
        call("readlink", 0x1000, 0x2000, 64, comm=comm),
        rec(r.NAMEI, evil, comm=comm),
        rec(r.STRUCT, r.struct_payload(b"string", evil), comm=comm),
        ret("readlink", len(evil), comm=comm),
        call("getdents64", 3, 0x1000, 4096, comm=comm),
        rec(r.STRUCT, r.struct_payload(b"dirents", dirent(evil)), comm=comm),
        ret("getdents64", 64, comm=comm),
        call("uname", 0x1000, comm=comm),
        rec(r.STRUCT, r.struct_payload(b"utsname", utsname), comm=comm),
        ret("uname", comm=comm),
        call("close", 3, comm=comm),
        ret("close", comm=comm),
        rec(r.STRUCT, r.struct_payload(evil.replace(b"\0", b""), b"xy"), comm=comm),
        rec(r.STRUCT_ARRAY, r.struct_array_payload(evil.replace(b"\0", b""), 2, b"xyzw"),
            comm=comm),
        rec(r.SYSCTL, b"kern." + evil, comm=comm),
        rec(r.CSW, r.csw_payload(1, 0, evil[:8]), comm=comm),
        rec(r.USER, evil, comm=comm),
        rec(r.CAPFAIL, r.capfail_payload(r.CAPFAIL_NAMEI, 5, 0x203, evil), comm=comm),
        rec(r.CAPFAIL, r.capfail_payload(r.CAPFAIL_SOCKADDR, 98, 0x203,
                                         bytes([len(evil) + 2, 1]) + evil), comm=comm),
        rec(r.PROCDTOR, b"", comm=comm),
        # a FreeBSD process: its own sockaddr (sa_len first) and names
        rec(r.PROCCTOR, r.procctor_payload(r.SV_ABI_FREEBSD | r.SV_LP64), comm=comm, pid=7),
        rec(r.NAMEI, evil, comm=comm, pid=7),
        rec(r.STRUCT, r.struct_payload(b"sockaddr", bytes([len(evil) + 3, 1]) + evil + b"\0"),
            comm=comm, pid=7),
    ])


class _Stdin:
    def __init__(self, data):
        self.buffer = io.BufferedReader(io.BytesIO(data))


def kdump(data: bytes, argv) -> tuple[bytes, str, int]:
    """(stdout bytes, stderr, status) of kdump ARGV -f - on ``data``, in-process."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape")
    err = io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = _Stdin(data), out, err
    try:
        status = cli.main([*argv, "-f", "-"])
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    out.flush()
    return out.buffer.getvalue(), err.getvalue(), status


# Bytes a terminal acts on: C0 controls but the layout's newline and tab, DEL.
UNSAFE_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
# C1 controls, UTF-8 encoded or as lone bytes (surrogateescape'd)
UNSAFE_CHARS = re.compile("[\x80-\x9f\udc80-\udc9f\u202a-\u202e\u2066-\u2069]")


def assert_safe(out: bytes, where) -> None:
    bad = UNSAFE_BYTES.search(out)
    assert bad is None, \
        f"{where}: raw {bad.group()!r} at {bad.start()}: {out[bad.start() - 60:bad.end() + 20]!r}"
    text = out.decode("utf-8", "surrogateescape")
    bad = UNSAFE_CHARS.search(text)
    assert bad is None, f"{where}: raw {bad.group()!r}: {text[bad.start() - 60:bad.end() + 20]!r}"


@pytest.fixture(autouse=True)
def linux_tables(monkeypatch):
    """The strace and summary views find their tables (not loaded in every test run)."""
    from ktrace.kdump import strace, summary
    monkeypatch.setattr(strace, "abi_for_svflags", lambda sv: ABI if sv & 0xFF == r.SV_ABI_LINUX else None)
    monkeypatch.setattr(summary, "abi_for_svflags", strace.abi_for_svflags)


# ---------------------------------------------------------------------------
# Escapes


@pytest.mark.parametrize("argv", VIEWS, ids=" ".join)
def test_no_string_from_a_trace_reaches_the_terminal_raw(argv):
    out, err, status = kdump(evil_trace(), argv)
    assert (err, status) == ("", 0)
    assert out
    assert_safe(out, argv)


def test_the_text_view_escapes_as_vis_and_keeps_ordinary_names():
    out = kdump(evil_trace(), [])[0].decode("utf-8", "surrogateescape")
    assert '"/tmp/\\033]0;PWNED\\a\\033[2J\\033[31m\\2331m\\302\\2332m\\302\\205\\177' in out
    assert "ARGS  \"\\033]0;PWNED" in out and '"-l"' in out
    lines = out.splitlines()
    comm = "\\033]0;PWNED\\a\\033[2J\\033[31m "
    assert all(line.startswith((f"  {PID} {comm}", f"     7 {comm}", "       ", "\t"))
               for line in lines if line), lines[:3]     # (a hex dump ends with an empty line)
    # an ordinary trace prints as it always did: UTF-8 names, backslashes and quotes kept
    plain = evil_trace(evil='/tmp/café \\ "x"'.encode(), comm=b"cat")
    assert 'NAMI  "/tmp//tmp/café \\ "x""' in kdump(plain, [])[0].decode()


def test_a_newline_in_a_name_cannot_forge_a_record_line():
    out = kdump(evil_trace(evil=b"x\n  4242 cat      RET   read 0"), [])[0].decode()
    assert "\n  4242 cat      RET   read 0" not in out
    assert '"/tmp/x\\n  4242 cat      RET   read 0"' in out


# ---------------------------------------------------------------------------
# Malformed records and bogus counts


def _one_error_line(err: str, what: str) -> None:
    assert "Traceback" not in err
    assert re.fullmatch(rf"kdump: stdin: offset \d+: {what}\n", err), err


def _prefix():
    return rec(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64)) + call("getpid") + \
        ret("getpid", PID)


MALFORMED = {
    "SYSCALL": rec(r.SYSCALL, b"\1\2\3"),
    "SYSRET": rec(r.SYSRET, b"\1\2"),
    "STRUCT": rec(r.STRUCT, b"stat-without-its-nul"),
    "STRUCT_ARRAY": rec(r.STRUCT_ARRAY, b"\4\0\0\0"),
    "GENIO": rec(r.GENIO, b"\3\0\0"),
    "PSIG": rec(r.PSIG, b"\x09"),
    "PROCCTOR": rec(r.PROCCTOR, b"\3"),
}


@pytest.mark.parametrize("kind", MALFORMED)
@pytest.mark.parametrize("argv", VIEWS, ids=" ".join)
def test_a_malformed_record_is_one_line_after_every_good_one(kind, argv):
    """--strace and --summary need the fields: bad input, exit 1.  The text and
    JSON views show it as an invalid record and go on, as FreeBSD's kdump does."""
    good = _prefix()
    data = good + MALFORMED[kind] + call("getppid") + ret("getppid", 1)
    out, err, status = kdump(data, argv)
    if "--strace" in argv or "--summary" in argv:
        assert status == 1
        _one_error_line(err, rf"malformed {kind} record \(\d+-byte payload\)")
        assert f"offset {len(good)}:" in err
        if "--strace" in argv:
            assert b"getpid() " in out and b"getppid" not in out
    else:
        assert (err, status) == ("", 0)
        if kind != "PROCCTOR" or "--json" in argv:     # the text view never prints PROCCTOR
            assert (b'"invalid":true' if "--json" in argv else b"invalid record") in out
        assert b"getppid" in out


BOGUS = {
    "negative length": (b"\0\0\0\x80" + r.pack_header(r.GENIO, 0, PID, PID, b"x", T0, 0)[4:],
                        "bogus length 0x80000000"),
    "2 GiB length": (b"\xff\xff\xff\x7f" + r.pack_header(r.USER, 0, PID, PID, b"x", T0, 0)[4:],
                     "bogus length 0x7fffffff"),
    "length past the end": (r.pack_header(r.NAMEI, 1 << 25, PID, PID, b"x", T0, 0) + b"/tmp",
                            r"truncated record: NAMEI needs 33554496 bytes, \d+ left"),
}


@pytest.mark.parametrize("case", BOGUS)
@pytest.mark.parametrize("argv", VIEWS, ids=" ".join)
def test_a_bogus_length_is_one_line_after_every_good_record(case, argv):
    good = _prefix()
    data, what = BOGUS[case]
    out, err, status = kdump(good + data, argv)
    assert status == 1
    _one_error_line(err, what)
    assert f"offset {len(good)}:" in err
    if argv in ([], ["--json"]):
        assert b"getpid" in out


@pytest.mark.parametrize("argv", VIEWS, ids=" ".join)
def test_bogus_counts_neither_allocate_nor_loop(argv):
    """narg far past the payload, an array element of 2**63 bytes or of 1, a
    million NUL-separated strings, a struct name of a megabyte."""
    many = 1 << 20
    data = _prefix() + b"".join([
        rec(r.SYSCALL, (0).to_bytes(2, "little") + (0x7FFF).to_bytes(2, "little") + bytes(12)),
        rec(r.SYSCALL, (1).to_bytes(2, "little") + (0xFFFF).to_bytes(2, "little") + bytes(4)),
        rec(r.SYSCALL, (7).to_bytes(2, "little") + (6).to_bytes(2, "little") + bytes(4 + 8 * many)),
        rec(r.STRUCT_ARRAY, r.struct_array_payload(b"pollfd", 1 << 63, bytes(64))),
        rec(r.STRUCT_ARRAY, r.struct_array_payload(b"pollfd", 8, bytes(8 * many))),
        rec(r.STRUCT_ARRAY, r.struct_array_payload(b"dirents", 1, dirent(b"x") * (many // 24))),
        rec(r.STRUCT, r.struct_payload(b"dirents", dirent(b"y") * (many // 24))),
        rec(r.ARGS, bytes(many)),
        rec(r.ENVS, b"A\0" * many),
        rec(r.STRUCT, b"n" * many + b"\0"),
        call("getpid"), ret("getpid", PID),
    ])
    start = time.monotonic()
    out, err, status = kdump(data, argv)
    assert (err, status) == ("", 0)
    assert time.monotonic() - start < 60
    assert len(out) < 64 << 20


@pytest.mark.parametrize("sample", ["openbsd.ktrace.out", "netbsd-v0.ktrace.out",
                                    "darwin-bigendian.ktrace.out"])
@pytest.mark.parametrize("argv", VIEWS, ids=" ".join)
def test_a_foreign_trace_is_one_line_in_every_view(sample, argv):
    path = SAMPLES / "other" / sample
    if not path.exists():
        pytest.skip("no samples")
    out, err, status = kdump(path.read_bytes(), argv)
    assert (out, status) == (b"", 1)
    assert re.fullmatch(r"kdump: stdin: this (is|looks like) an? \S+ .*\n", err), err


# ---------------------------------------------------------------------------
# Memory


def _write_big_traces(tmp: Path) -> dict[str, Path]:
    linux = rec(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64))
    paths = {}
    with open(tmp / "gio.out", "wb") as f:        # 1 MiB GIO records
        f.write(linux)
        block = bytes(range(256)) * 4096
        for i in range(24):
            f.write(call("read", 3, 0x1000, 1 << 20) + rec(r.GENIO, r.genio_payload(3, 0, block))
                    + ret("read", 1 << 20))
        f.write(rec(r.NAMEI, b"/the-end"))
    paths["gio"] = tmp / "gio.out"
    with open(tmp / "user.out", "wb") as f:       # one 16 MiB utrace record, text data
        f.write(linux + rec(r.USER, b"u" * (16 << 20)) + rec(r.NAMEI, b"/the-end"))
    paths["user"] = tmp / "user.out"
    with open(tmp / "huge.out", "wb") as f:       # the longest record the reader takes
        f.write(linux + call("write", 1, 0x1000, 1 << 26))
        f.write(r.pack_header(r.GENIO, r.RecordReader.MAX_PAYLOAD, PID, PID, b"cat", T0, 0))
        f.write(r.genio_payload(1, 1, b""))
        chunk = (b"\x1b" * 63 + b"\n") * (1 << 14)
        for _ in range(r.RecordReader.MAX_PAYLOAD // len(chunk)):
            f.write(chunk)
        f.seek(-8, os.SEEK_END)                  # the genio header's 8 bytes counted
        f.truncate()
        f.write(ret("write", 1 << 26) + rec(r.NAMEI, b"/the-end"))
    paths["huge"] = tmp / "huge.out"
    with open(tmp / "fields.out", "wb") as f:     # every long field, at the size kept
        f.write(linux + _long_fields(2 << 20) + rec(r.NAMEI, b"/the-end"))
    paths["fields"] = tmp / "fields.out"
    return paths


def _long_fields(size: int) -> bytes:
    """Records whose fields each cost the most to show: control bytes (escaped
    four times longer), a million strings, arrays of the smallest elements."""
    return b"".join([
        call("execve", 1, 2, 3), rec(r.NAMEI, b"\x01" * size), rec(r.ARGS, bytes(size)),
        rec(r.ENVS, b"\x9b\0" * (size // 2)), ret("execve"),
        call("openat", (1 << 64) - 100, 1, 0), rec(r.NAMEI, b"\x01" * size), ret("openat", 3),
        call("poll", 1, size // 8, 0),
        rec(r.STRUCT_ARRAY, r.struct_array_payload(b"pollfd", 8, bytes(size - 16))),
        ret("poll", 0),
        call("getdents64", 3, 1, size),
        rec(r.STRUCT, r.struct_payload(b"dirents", dirent(b"\x01") * (size // 24 - 1))),
        ret("getdents64", size),
        call("connect", 3, 1, 110),
        rec(r.STRUCT, r.struct_payload(b"sockaddr", sockaddr_un(b"\x01" * (size - 16)))),
        ret("connect"),
        call("write", 1, 1, size),
        rec(r.GENIO, r.genio_payload(1, 1, b"\t\\\0" * (size // 3 - 8))), ret("write", size),
        call("readlink", 1, 2, size), rec(r.NAMEI, b"/x"),
        rec(r.STRUCT, r.struct_payload(b"string", b"\x03" * (size - 8))), ret("readlink", size),
        rec(r.USER, b"u" * size), rec(r.SYSCTL, b"\x02" * size),
    ])


@pytest.fixture(scope="module")
def big_traces(tmp_path_factory):
    return _write_big_traces(tmp_path_factory.mktemp("big"))


KDUMP = [sys.executable, "-c", "import sys; from ktrace.kdump.cli import main; sys.exit(main())"]
MEASURE = ("import resource, subprocess, sys; "
           "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
           "sys.stderr.buffer.write(p.stderr); "
           "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


@pytest.mark.parametrize("trace", ["gio", "user", "huge", "fields"])
@pytest.mark.parametrize("argv", [[], ["-d"], ["--json"], ["--strace"],
                                  ["--strace", "-y", "-s", "100000"], ["--summary"]],
                         ids=" ".join)
def test_peak_memory_stays_bounded_whatever_the_record_sizes(big_traces, trace, argv):
    measured = subprocess.run([sys.executable, "-c", MEASURE, *KDUMP, *argv,
                               "-f", str(big_traces[trace])],
                              capture_output=True, text=True, timeout=600)
    status, peak_kb = map(int, measured.stdout.split())
    assert (measured.stderr, status) == ("", 0)
    assert peak_kb < LIMIT_KB, f"kdump {' '.join(argv)} on {trace}: peak RSS {peak_kb} KiB"


def _vm_hwm(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1])


@pytest.mark.parametrize("trace", ["gio", "huge"])
def test_peak_memory_stays_bounded_when_following(big_traces, trace, tmp_path):
    out = tmp_path / "out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen([*KDUMP, "-l", "-s", "-f", str(big_traces[trace])], stdout=sink)
    try:
        deadline = time.monotonic() + 300
        while b"/the-end" not in out.read_bytes()[-200:]:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        peak_kb = _vm_hwm(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert peak_kb < LIMIT_KB, f"kdump -l on {trace}: peak RSS {peak_kb} KiB"


def test_a_record_longer_than_what_is_kept_says_so(big_traces):
    with open(big_traces["huge"], "rb") as f:
        recs = list(r.RecordReader(f))
    gio = next(x for x in recs if type(x) is r.Genio)
    assert len(gio.data) == r.RecordReader.MAX_KEPT - 8
    assert r.full_length(gio.data) == r.RecordReader.MAX_PAYLOAD - 8
    assert type(recs[-1]) is r.Namei and recs[-1].path == b"/the-end"
    out, err, status = kdump(big_traces["huge"].read_bytes(), ["-s"])
    text = out.decode()
    assert (f"GIO   fd 1 wrote {(1 << 26) - 8} bytes\n"
            f"       [{(1 << 26) - (2 << 20)} more bytes not kept]") in text


# ---------------------------------------------------------------------------
# Random record streams through every view


@given(st.lists(records(r.AMD64_V1), min_size=1, max_size=16), st.sampled_from(VIEWS))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_random_records_in_every_view(recs, argv):
    raw = b"".join(r.encode(x) for x in recs)
    out, err, status = kdump(raw, argv)
    assert "Traceback" not in err
    assert status in (0, 1)
    if status:
        assert re.fullmatch(r"kdump: stdin: .*\n", err), err
    assert_safe(out, argv)


@given(st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
def test_edited_hostile_traces_in_every_view(data):
    """Random damage to the hostile trace: output, or one line and exit 1."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import fuzz_reader
    edits = data.draw(st.lists(st.tuples(
        st.integers(0, fuzz_reader.EDIT_KINDS - 1), st.integers(0, 1 << 12),
        st.binary(min_size=1, max_size=8), st.integers(1, 256)), min_size=1, max_size=6))
    argv = data.draw(st.sampled_from(VIEWS))
    out, err, status = kdump(fuzz_reader.apply_edits(evil_trace(), edits), argv)
    assert "Traceback" not in err
    assert status in (0, 1) and (status == 0) == (err == ""), err
    if status:
        assert re.fullmatch(r"kdump: stdin: .*\n", err), err
    assert_safe(out, argv)

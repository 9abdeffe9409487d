"""kdump(1) as a command: options, messages, exit codes, pipes, following, samples."""

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.kdump import cli, strace, summary
from kdump_support import call, encode, kdump, kdump_bytes, linux, ret

SRC = Path(__file__).resolve().parents[1] / "src"
USAGE_LINE = "usage: kdump [-dEnlHRrSsTAc] [-f trfile] [-m maxdata] [-p pid] [-t trstr]\n"


def command(*argv, **kw):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", *argv], env=env,
                          capture_output=True, **kw)


def trace(n=3):
    recs = [linux()]
    for i in range(n):
        recs += [call(0, 3, 0x1000, 10), ret(0, i)]
    return recs


@pytest.mark.parametrize("argv, first", [
    (["-j"], "kdump: illegal option -- j\n"),
    (["-m"], "kdump: option requires an argument -- m\n"),
    (["--bogus"], "kdump: unrecognized option '--bogus'\n"),
    (["extra"], ""),
])
def test_usage_errors(argv, first):
    out, err, status = kdump(trace(), *argv)
    assert (out, status) == ("", 1)
    assert err.startswith(first + USAGE_LINE)


def test_unknown_trace_point():
    assert kdump(trace(), "-t", "cq") == ("", "kdump: unknown trace point in cq\n", 1)


def test_numbers_are_read_like_atoi():
    recs = trace(1)
    assert kdump(recs, "-p", "abc")[0] == kdump(recs)[0]      # 0: no filter
    assert kdump(recs, "-p", "100x")[0] == kdump(recs)[0]
    assert kdump(recs, "-p", " 7")[0] == ""


def test_missing_file(tmp_path):
    status = cli.main(["-f", str(tmp_path / "nope")])
    assert status == 1


def test_missing_file_message():
    done = command("-f", "/nonexistent/ktrace.out")
    assert (done.returncode, done.stdout) == (1, b"")
    assert done.stderr == b"kdump: /nonexistent/ktrace.out: No such file or directory\n"


def test_default_file_is_ktrace_out(tmp_path):
    (tmp_path / "ktrace.out").write_bytes(encode(trace(1)))
    done = command(cwd=tmp_path)
    assert done.stdout == b"   100 cat      CALL  read(0x3,0x1000,0xa)\n   100 cat      RET   read 0\n"


def test_stdin_with_dash():
    done = command("-f", "-", "-n", input=encode(trace(1)))
    assert done.returncode == 0 and done.stdout.count(b"\n") == 2


def test_truncated_file_prints_good_records_then_the_offset():
    data = encode(trace(2))
    out, err, status = kdump_bytes(data[:-10])
    assert status == 1
    assert out.count("\n") == 3
    assert err == f"kdump: stdin: offset {len(data) - 80}: truncated record: SYSRET needs 80 bytes, 70 left\n"


def test_corrupt_length_names_it(tmp_path):
    data = encode(trace(2))
    at = len(encode(trace(1)))
    path = tmp_path / "bad.out"
    path.write_bytes(data[:at] + b"\xff\xff\xff\xff" + data[at + 4:])
    done = command("-f", str(path))
    assert done.returncode == 1
    assert done.stdout.count(b"\n") == 2
    assert done.stderr == f"kdump: {path}: offset {at}: bogus length 0xffffffff\n".encode()


def test_empty_file_prints_nothing(tmp_path):
    assert kdump_bytes(b"") == ("", "", 0)


def test_other_systems_files_are_refused_in_one_line(samples_dir):
    for path in sorted((samples_dir / "other").iterdir()):
        done = command("-f", str(path))
        assert (done.returncode, done.stdout) == (1, b"")
        message = done.stderr.decode()
        assert message.count("\n") == 1 and message.startswith(f"kdump: {path}: ")
        assert re.search("OpenBSD|NetBSD|big-endian", message)


def test_freebsd_samples_dump_to_the_end_with_every_syscall_named(samples_dir):
    for path in sorted((samples_dir / "freebsd").iterdir()):
        for argv in ([], ["-HTAcSn"], ["-dEsRr"], ["--json"]):
            done = command("-f", str(path), *argv)
            assert (done.returncode, done.stderr) == (0, b""), (path, argv)
        text = command("-f", str(path)).stdout.decode("utf-8", "surrogateescape")
        calls = [line for line in text.splitlines() if line[16:20] in ("CALL", "RET ")
                 or re.match(r"^ *\d+ \S+ +(CALL|RET ) ", line)]
        assert calls
        unnamed = [line for line in calls if re.search(r"(CALL|RET )  \[\d+\]", line)]
        assert unnamed == [], unnamed[:3]


def test_broken_pipe_is_quiet(tmp_path):
    path = tmp_path / "big.out"
    path.write_bytes(encode(trace(20000)))
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen([sys.executable, "-m", "ktrace.kdump.cli", "-f", str(path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"   100 cat")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(30) in (-13, 1) and err == b""


class _ClosedPipe(io.RawIOBase):
    def writable(self):
        return True

    def write(self, data):
        raise BrokenPipeError


class _Stdout:
    buffer = _ClosedPipe()

    def fileno(self):
        raise io.UnsupportedOperation

    def flush(self):
        pass


class _Stdin:
    buffer = io.BufferedReader(io.BytesIO(encode(trace(3))))


def test_in_process_broken_pipe_is_quiet(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _Stdout())
    monkeypatch.setattr(sys, "stdin", _Stdin())
    assert cli.main(["-f", "-"]) == 1
    assert capsys.readouterr().err == ""


def test_follow_prints_records_as_they_are_written(tmp_path):
    path = tmp_path / "live.out"
    path.write_bytes(encode(trace(1)))
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen([sys.executable, "-m", "ktrace.kdump.cli", "-l", "-f", str(path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"   100 cat      CALL  read(0x3,0x1000,0xa)\n"
        assert proc.stdout.readline() == b"   100 cat      RET   read 0\n"
        time.sleep(0.3)
        with open(path, "ab") as f:
            f.write(r.encode(ret(0, 42)))
        assert proc.stdout.readline() == b"   100 cat      RET   read 42/0x2a\n"
        assert proc.poll() is None                   # still following
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("flag, module", [("--strace", strace), ("--summary", summary)])
def test_views_are_dispatched_with_the_other_arguments(monkeypatch, flag, module):
    seen = []
    monkeypatch.setattr(module, "main", lambda argv: seen.append(argv) or 3)
    assert cli.main([flag, "-f", "x.out", "-o", "y"]) == 3
    assert cli.main(["-f", "x.out", flag, "-c"]) == 3
    assert seen == [["-f", "x.out", "-o", "y"], ["-f", "x.out", "-c"]]

"""Compressed trace files: written as zstd frames, read like plain ones.

Real processes and files: the engines write through ktrace(1), zstd(1)
decompresses, kdump reads files, pipes and files still being written.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ktrace
from ktrace import record as r
from ktrace import tracefile
from ktrace.platform import zstd

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = dict(os.environ, PYTHONPATH=str(SRC))

pytestmark = pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd(1) is not installed")


def run(module: str, *argv, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *map(str, argv)], env=ENV,
                          capture_output=True, stdin=stdin, timeout=120)


def kdump(*argv, stdin=None) -> subprocess.CompletedProcess:
    return run("ktrace.kdump.cli", *argv, stdin=stdin)


def unzstd(path: Path) -> bytes:
    return subprocess.run(["zstd", "-d", "-c", str(path)], check=True,
                          capture_output=True).stdout


def frames(path: Path) -> int:
    listing = subprocess.run(["zstd", "-lv", str(path)], check=True, capture_output=True)
    line = next(ln for ln in listing.stdout.decode().splitlines() if "Zstandard Frames" in ln)
    return int(line.split(":")[1])


def records(n: int, pid: int = 100) -> list[bytes]:
    """``n`` utrace records, of different sizes and contents."""
    return [r.pack_record(r.USER, b"x%d" % i * (i % 7 + 1), pid, pid, b"w", 1_700_000_000 + i, 0)
            for i in range(n)]


def write(path: Path, batches: list[list[bytes]], compress: bool) -> None:
    """Each batch queued then flushed: through the writer the services use."""
    writer = tracefile.AppendWriter(tracefile.create(str(path), False, compress), None)
    for i, batch in enumerate(batches):
        for data in batch:
            writer.queue(100, data)
        assert writer.flush(wait=i % 2 == 0) == {}    # written behind, and not
    writer.close()


@pytest.fixture
def traced(tmp_path) -> Path:
    """A real trace, plain: a shell starting a few programs (ptrace engine)."""
    out = tmp_path / "plain.out"
    res = run("ktrace.cli", "--engine", "ptrace", "-i", "-f", out, "sh", "-c",
              "ls / >/dev/null; cat /etc/hostname /nonexistent 2>/dev/null; true")
    assert res.returncode == 0, res.stderr
    return out


def compressed_copy(plain: Path, dest: Path) -> Path:
    """``plain``'s records in a compressed file, some frames of several records."""
    recs = [r.encode(rec) for rec in r.read_records(str(plain))]
    write(dest, [recs[i:i + 50] for i in range(0, len(recs), 50)], compress=True)
    return dest


# -- the file -----------------------------------------------------------------


def test_one_frame_per_flush_and_zstd_gives_back_the_plain_file(tmp_path):
    batches = [records(300)[i:i + 40] for i in range(0, 300, 40)]
    write(tmp_path / "plain.out", batches, compress=False)
    write(tmp_path / "t.zst", batches, compress=True)            # by its name
    write(tmp_path / "z.out", batches, compress=True)            # as -z asks
    plain = (tmp_path / "plain.out").read_bytes()
    for name in ("t.zst", "z.out"):
        assert (tmp_path / name).read_bytes()[:4] == zstd.MAGIC
        assert unzstd(tmp_path / name) == plain
        assert frames(tmp_path / name) == 1 + len(batches)       # the empty first one too
    assert (tmp_path / "t.zst").stat().st_size < len(plain) / 4


def test_append_keeps_the_file_what_it_is(tmp_path):
    plain, packed = tmp_path / "plain.zst", tmp_path / "packed.out"
    plain.write_bytes(records(1)[0])           # named .zst, but plain records already
    write(packed, [records(2)], compress=True)
    for path in (plain, packed):
        writer = tracefile.AppendWriter(tracefile.create(str(path), True, True), None)
        writer.queue(100, records(3)[2])
        writer.flush()
        writer.close()
    assert plain.read_bytes() == records(1)[0] + records(3)[2]
    assert unzstd(packed) == b"".join(records(3))


# -- reading ------------------------------------------------------------------


VIEWS = [(), ("--json",), ("--strace",), ("--summary",)]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: " ".join(v) or "text")
def test_every_view_reads_a_compressed_file_as_the_plain_one(traced, tmp_path, view):
    packed = compressed_copy(traced, tmp_path / "t.zst")
    plain = kdump(*view, "-f", traced)
    assert plain.returncode == 0 and plain.stdout, plain.stderr
    assert kdump(*view, "-f", packed).stdout == plain.stdout
    assert kdump(*view, "-f", "-", stdin=packed.open("rb")).stdout == plain.stdout


def test_the_analysis_views_and_the_python_reader_read_it_too(traced, tmp_path):
    pytest.importorskip("duckdb")
    packed = compressed_copy(traced, tmp_path / "t.zst")
    assert list(ktrace.read_records(str(packed))) == list(ktrace.read_records(str(traced)))
    query = "select number, count(*) as n from syscalls group by number order by number"
    plain = kdump("--sql", query, "--csv", "-f", traced)
    assert plain.returncode == 0 and plain.stdout, plain.stderr
    assert kdump("--sql", query, "--csv", "-f", packed).stdout == plain.stdout
    for path in (traced, packed):
        assert kdump("--perfetto", "-o", tmp_path / f"{path.name}.pftrace", "-f",
                     path).returncode == 0
    assert (tmp_path / "t.zst.pftrace").read_bytes() == \
        (tmp_path / "plain.out.pftrace").read_bytes()
    for path in (traced, packed):
        assert kdump("--parquet", tmp_path / f"{path.name}.pq", "-f", path).returncode == 0
    pq = pytest.importorskip("pyarrow.parquet")
    for table in (tmp_path / "plain.out.pq").iterdir():
        assert pq.read_table(tmp_path / "t.zst.pq" / table.name) == pq.read_table(table)


def test_a_truncated_file_shows_every_whole_frame_then_one_line(tmp_path):
    batches = [records(90)[i:i + 30] for i in range(0, 90, 30)]
    path = tmp_path / "t.zst"
    write(path, batches, compress=True)
    whole = path.read_bytes()
    path.write_bytes(whole[:-5])            # the writer killed inside its last frame
    res = kdump("-f", path)
    assert res.returncode == 1
    shown = sum(1 for line in res.stdout.decode().splitlines() if " USER " in line)
    assert shown == 60
    two_frames = len(b"".join(records(60)))
    last_frame = len(whole) - len(zstd.FrameCompressor().frame(b"".join(batches[2])))
    assert res.stderr.decode() == (
        f"kdump: {path}: offset {two_frames} of the decompressed data: "
        f"truncated zstd frame at file offset {last_frame}\n")


@pytest.mark.parametrize("damage", ["flipped byte", "huge window", "garbage after"])
def test_a_corrupt_file_is_one_line_never_a_traceback(tmp_path, damage):
    path = tmp_path / "t.zst"
    write(path, [records(200)], compress=True)
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0x40
    elif damage == "huge window":
        # a frame whose window descriptor asks for 2^41 bytes (no content size)
        data += zstd.MAGIC + bytes([0x00, 0xF8]) + b"\x01\x00\x00"
    else:
        data += b"\x00" * 64
    path.write_bytes(bytes(data))
    res = kdump("-f", path)
    assert res.returncode == 1
    err = res.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"kdump: {path}: offset ")
    assert "of the decompressed data: corrupt zstd frame at file offset" in err


def test_follow_shows_frames_as_they_are_written(tmp_path):
    path = tmp_path / "live.zst"
    writer = tracefile.AppendWriter(tracefile.create(str(path), False), None)
    proc = subprocess.Popen([sys.executable, "-m", "ktrace.kdump.cli", "-l", "-f", str(path)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for data in records(3):
            time.sleep(0.3)
            writer.queue(100, data)
            writer.flush()
            assert b" USER " in proc.stdout.readline()
        assert proc.poll() is None                   # still following
    finally:
        proc.kill()
        proc.wait()
        writer.close()


# -- the engines --------------------------------------------------------------


@pytest.mark.parametrize("how", [".zst", "-z"])
def test_both_engines_write_compressed_files(engine, tmp_path, how):
    out = tmp_path / ("t.zst" if how == ".zst" else "t.out")
    res = run("ktrace.cli", "--engine", engine, "-i", *(["-z"] if how == "-z" else []),
              "-f", out, "sh", "-c", "echo compressed; /bin/true")
    assert res.returncode == 0 and res.stdout == b"compressed\n", res.stderr
    assert out.read_bytes()[:4] == zstd.MAGIC
    plain = tmp_path / "decompressed.out"
    plain.write_bytes(unzstd(out))
    recs = list(r.read_records(str(plain)))
    assert any(type(rec) is r.Genio and rec.data == b"compressed\n" for rec in recs)
    assert list(r.read_records(str(out))) == recs
    assert kdump("-f", out).stdout == kdump("-f", plain).stdout

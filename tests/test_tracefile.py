"""Trace files: ktrace(1)/ktrace(2) opening rules and whole-record appends."""

import errno
import os
import stat
import subprocess

import pytest

from ktrace import record as r
from ktrace import tracefile


def rec(pid, n):
    return r.pack_record(r.USER, bytes([pid & 0xFF]) * n, pid, pid, b"w", 0, 0)


def test_create_makes_a_private_file_and_replaces_a_symlink(tmp_path):
    target = tmp_path / "victim"
    target.write_text("precious")
    link = tmp_path / "ktrace.out"
    link.symlink_to(target)
    os.close(tracefile.create(str(link), append=False))
    assert target.read_text() == "precious"          # never followed
    st = os.lstat(link)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600


def test_append_refuses_what_is_not_a_regular_file_of_ours(tmp_path):
    with pytest.raises(tracefile.TraceFileRefused, match="not regular file"):
        tracefile.create("/dev/null", append=True)
    theirs = tmp_path / "theirs"
    theirs.write_text("")
    os.chown(theirs, 65534, 65534)
    if os.getuid() != 0:
        pytest.skip("needs root to make a file owned by someone else")
    with pytest.raises(tracefile.TraceFileRefused, match="not owned by you"):
        tracefile.create(str(theirs), append=True)


def test_append_follows_no_symlink_and_wants_a_regular_file(tmp_path):
    real = tmp_path / "real"
    real.write_text("")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(OSError) as e:
        tracefile.create(str(link), append=True)
    assert e.value.errno == errno.ELOOP
    link.unlink()
    link.symlink_to(tmp_path / "nothing")
    with pytest.raises(OSError) as e:
        tracefile.create(str(link), append=True)
    assert e.value.errno == errno.ELOOP
    assert not (tmp_path / "nothing").exists()       # nothing created through it
    with pytest.raises(tracefile.TraceFileRefused) as e:
        tracefile.create("/dev/null", append=True)
    assert e.value.errno == errno.EACCES


def test_append_refuses_a_file_with_other_links(tmp_path):
    (tmp_path / "mine").write_text("keep\n")
    os.link(tmp_path / "mine", tmp_path / "other")
    with pytest.raises(tracefile.TraceFileRefused, match="with other hard links"):
        tracefile.create(str(tmp_path / "other"), append=True)


def test_the_descriptor_is_the_file_checked(tmp_path):
    """Renaming another file over the name afterwards changes nothing."""
    path = tmp_path / "t.out"
    fd = tracefile.create(str(path), append=False)
    (tmp_path / "other").write_text("")
    os.rename(tmp_path / "other", path)
    os.write(fd, b"record")
    assert tracefile.is_trace_file(fd)
    os.close(fd)
    assert path.read_text() == ""
    ro = tracefile.open_for_clearing(str(path))      # names a file, cannot be one
    assert not tracefile.is_trace_file(ro)
    os.close(ro)


def test_many_writers_never_interleave_partial_records(tmp_path):
    path = tmp_path / "shared.out"
    path.write_bytes(b"")
    code = (
        "import os,sys\n"
        "from ktrace import tracefile, record as r\n"
        "pid=int(sys.argv[1]); fd=tracefile.create(sys.argv[2], True)\n"
        "w=tracefile.AppendWriter(fd, None)\n"
        "for i in range(300):\n"
        "    for n in (1, 700, 5000):\n"
        "        w.queue(pid, r.pack_record(r.USER, bytes([pid]) * n, pid, pid, b'w', 0, 0))\n"
        "    assert w.flush() == {}\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "src"))
    procs = [subprocess.Popen(["python3", "-c", code, str(p), str(path)], env=env)
             for p in range(1, 5)]
    assert all(p.wait() == 0 for p in procs)
    recs = list(r.read_records(str(path)))
    assert len(recs) == 4 * 300 * 3
    for x in recs:                                   # each record whole and its own
        assert x.data == bytes([x.header.pid]) * len(x.data)


def test_size_limit_fails_the_crossing_record_only(tmp_path):
    path = tmp_path / "t.out"
    path.write_bytes(b"")
    w = tracefile.AppendWriter(tracefile.create(str(path), True), limit=300)
    w.queue(1, rec(1, 100))       # 164 bytes
    w.queue(2, rec(2, 100))       # would make 328
    w.queue(3, rec(3, 10))        # 238: fits
    w.queue(2, rec(2, 1))         # pid 2 already failed: dropped
    assert w.flush() == {2: errno.EFBIG}
    assert [x.header.pid for x in r.read_records(str(path))] == [1, 3]


def test_full_disk_leaves_no_partial_record(tmp_path):
    if os.getuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], check=True)
    try:
        path = mnt / "t.out"
        path.write_bytes(b"")
        w = tracefile.AppendWriter(tracefile.create(str(path), True), None)
        failed = {}
        for i in range(40):
            w.queue(7, rec(7, 3000))
            failed.update(w.flush())
        assert failed == {7: errno.ENOSPC}
        recs = list(r.read_records(str(path)))       # reads to the end: no torn record
        assert 0 < len(recs) < 40
        os.close(w.fd)
    finally:
        subprocess.run(["umount", str(mnt)], check=True)

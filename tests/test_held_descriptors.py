"""What a process held when its tracing began: its cwd and descriptors.

The facility writes a STRU fdesc record for each (record.py's FDESC) after
the PROCCTOR of a process traced by request, so that the strace view's -y
(and -P) can name descriptors the trace never saw opened, as strace does
from /proc.  A command ktrace runs keeps only what its exec leaves open; a
process attached with -p keeps everything.  Both engines, through the service.
"""

import os
import shlex
import subprocess
import sys
from pathlib import Path

from ktrace import record as r
from ktrace.facility import AT_FDCWD

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = dict(os.environ, PYTHONPATH=str(SRC))


def ktrace(engine, *args, **kw):
    return subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine, *args],
                          env=ENV, capture_output=True, timeout=60, **kw)


def held(path, pid):
    """fd -> path of the STRU fdesc records of ``pid``, in their order."""
    return {d.fd: d.path for d in (r.parse_fdesc(x.data) for x in r.read_records(str(path))
                                   if type(x) is r.Struct and x.name == r.FDESC_NAME
                                   and x.header.pid == pid)}


def strace_lines(path, *options):
    out = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "--strace", *options,
                          "-f", str(path)], env=ENV, capture_output=True, timeout=60, check=True)
    return out.stdout.decode().splitlines()


def test_a_command_s_inherited_descriptors_are_named(engine, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("inherited\n")
    out = tmp_path / "t.out"
    with open(data, "rb") as f:
        done = ktrace(engine, "-f", str(out), "cat", stdin=f, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pid = next(x.header.pid for x in r.read_records(str(out)) if type(x) is r.ProcCtor)
    fds = held(out, pid)
    assert fds[0] == os.fsencode(data)
    assert fds[AT_FDCWD] == os.fsencode(tmp_path)
    # ktrace's own descriptors that close at the exec (its socket to the service,
    # the trace file) are not the command's
    assert os.fsencode(out) not in fds.values()
    assert all(not p.startswith(b"socket:") for p in fds.values())
    reads = [line for line in strace_lines(out, "-y", "-e", "trace=read") if "inherited" in line]
    assert reads and reads[0].startswith(f'read(0<{data}>, "inherited\\n", ')
    plain = [line for line in strace_lines(out, "-e", "trace=read") if "inherited" in line]
    assert plain[0].startswith('read(0, "inherited')


def test_an_attached_process_s_descriptors_are_all_named(engine, tmp_path, looper):
    log = tmp_path / "held.log"
    with open(log, "wb") as f:
        p = looper(stdout=f, cwd=tmp_path)
    out = tmp_path / "t.out"
    done = ktrace(engine, "-f", str(out), "-p", str(p.pid))
    assert done.returncode == 0, done.stderr
    ktrace(engine, "-c", "-p", str(p.pid))
    fds = held(out, p.pid)
    assert fds[1] == os.fsencode(log)
    assert fds[AT_FDCWD] == os.fsencode(tmp_path)
    assert fds == {fd: os.fsencode(os.readlink(f"/proc/{p.pid}/fd/{fd}"))
                   for fd in map(int, os.listdir(f"/proc/{p.pid}/fd"))} | \
        {AT_FDCWD: os.fsencode(tmp_path)}


def test_no_struct_facility_no_descriptors(engine, tmp_path):
    out = tmp_path / "t.out"
    assert ktrace(engine, "-t", "c", "-f", str(out), "true").returncode == 0
    assert not [x for x in r.read_records(str(out)) if type(x) is r.Struct]


def test_a_short_or_hostile_fdesc_is_shown_and_ignored():
    """A STRU fdesc too short for its layout: the text view says so, -y ignores it."""
    from ktrace.decode.strace.files import Files
    files = Files()
    files.held(b"\x05\x00")
    files.held(r.FDESC.pack(-7, 0, 0, 0, 0) + b"/x")
    files.held(r.FDESC.pack(3, 0, 0, 0, 0) + b"\xff/odd")
    assert files.fds == {3: os.fsdecode(b"\xff/odd")} and files.cwd is None
    assert r.parse_fdesc(b"short") is None


def test_a_held_device_s_numbers_with_yy(engine, tmp_path):
    """-yy (and --decode-fds=dev) add a device's numbers, as strace does, for a
    descriptor held as tracing began: the fdesc has its st_rdev."""
    out = tmp_path / "t.out"
    with open("/dev/null", "rb") as null:
        assert ktrace(engine, "-f", str(out), "cat", stdin=null).returncode == 0
    rdev = os.stat("/dev/null").st_rdev
    device = f"0</dev/null<char {os.major(rdev)}:{os.minor(rdev)}>>"
    reads = [line for line in strace_lines(out, "-yy", "-e", "trace=read") if "read(0" in line]
    assert reads and reads[-1].startswith(f'read({device}, "", ')
    reads = strace_lines(out, "--decode-fds=dev", "-e", "trace=read")
    assert any(line.startswith(f"read({device}, ") for line in reads)
    reads = strace_lines(out, "-y", "-e", "trace=read")
    assert any(line.startswith("read(0</dev/null>, ") for line in reads)


def test_minus_100_is_the_cwd_only_as_a_directory_descriptor(engine, tmp_path):
    """-y: AT_FDCWD names the cwd where a dirfd is expected; -100 given as a
    plain descriptor (close(-100)) is only a number, as strace prints it."""
    out = tmp_path / "t.out"
    code = "import os\ntry:\n    os.close(-100)\nexcept OSError:\n    pass\n"
    assert ktrace(engine, "-f", str(out), sys.executable, "-c", code, cwd=tmp_path).returncode == 0
    lines = strace_lines(out, "-y", "-e", "trace=close,openat")
    assert any(line.startswith("close(-100) ") for line in lines), lines
    assert any(line.startswith(f"openat(AT_FDCWD<{tmp_path}>, ") for line in lines), lines


def test_a_command_keeps_its_closed_standard_descriptors(engine, tmp_path):
    """ktrace run with descriptors 0-2 closed (strace's redirect-fds): the
    command still runs, and sees them closed as it would untraced."""
    listing = tmp_path / "fds"
    code = ("import os, sys\nfds = sorted(int(fd) for fd in os.listdir('/proc/self/fd'))\n"
            "open(sys.argv[1], 'w').write(' '.join(map(str, fds)))\n")
    command = [sys.executable, "-c", code, str(listing)]

    def run(argv):
        # the shell closes 0-2 for the command (a child of ours cannot start without them)
        shell = shlex.join(argv) + " 0<&- 1>&- 2>&-"
        done = subprocess.run(["sh", "-c", shell], env=ENV, timeout=60)
        return done.returncode, listing.read_text()

    plain = run(command)
    traced = run([sys.executable, "-m", "ktrace.cli", "--engine", engine,
                  "-f", str(tmp_path / "t.out"), *command])
    assert traced == plain and plain[0] == 0

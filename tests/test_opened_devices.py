"""A device opened during the trace: strace's -yy prints its numbers
(``3</dev/full<char 1:7>>``).

Both engines follow a successful open, openat, openat2, creat or open_tree
whose descriptor is a character or block device with a STRU fdesc
(linux_plan.NEW_DESCRIPTORS): its number, st_mode, st_rdev and inode, no
path; a regular file, or a failed call, gets none.  kdump --strace -yy must
print what strace -yy prints.  Real processes, under each engine (bpf: root
and BPF only), through the service.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine_support import ENGINES, SRC, commanded_once
from ktrace import record as r
from ktrace.decode.strace.files import Files
from ptrace_support import build, read_calls, syscall_name

ENV = dict(os.environ, PYTHONPATH=str(SRC))
OPENS = ("open", "openat", "openat2", "creat", "open_tree")
TRACED = "trace=" + ",".join((*OPENS, "fsync", "close"))
# devices opened O_PATH (no driver's open runs) when they exist: a minor above
# 255 (st_rdev's split encoding) and a block device
OPTIONAL = ("/dev/vga_arbiter", "/dev/loop0")

# Raw syscalls, so that each is the call named (glibc's open is an openat);
# fsync on each descriptor shows it decorated (it fails on a device).
DEVICES_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
static void use(long fd) {
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}
int main(int argc, char **argv) {
    struct open_how how = {.flags = O_RDONLY};
    use(syscall(SYS_open, "/dev/full", O_RDONLY));
    use(syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDONLY));
    use(syscall(SYS_creat, "/dev/null", 0600));
    use(syscall(SYS_openat2, AT_FDCWD, "/dev/zero", &how, sizeof how));
    use(syscall(SYS_open_tree, AT_FDCWD, "/dev/full", 0));
    for (int i = 1; i < argc; i++)
        use(syscall(SYS_openat, AT_FDCWD, argv[i], O_RDONLY | O_PATH));
    use(syscall(SYS_open, "regular.txt", O_WRONLY | O_CREAT, 0600));   /* no fdesc */
    use(syscall(SYS_open, "/dev/full", O_RDONLY | O_DIRECTORY));       /* fails: no fdesc */
    return 0;
}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """(the program, its directory, the devices it opens)."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    base = tmp_path_factory.mktemp("devices")
    return build(base, "devices", DEVICES_C), base, [d for d in OPTIONAL if os.path.exists(d)]


@pytest.fixture(scope="module")
def traced(program, tmp_path_factory):
    """The trace file of an engine, made once."""
    exe, base, optional = program
    return commanded_once(tmp_path_factory, [exe, *optional], "cnt", cwd=base)


def _opened(path: Path) -> list[tuple[str, int, str, list[r.Fdesc]]]:
    """(call name, result, path, its fdescs) of each open of the program's own."""
    found = []
    for calls in read_calls(path).values():
        for call in calls:
            name = syscall_name(call.nr)
            paths = [x.path.decode() for x in call.records if type(x) is r.Namei]
            if name in OPENS and paths and (paths[0].startswith("/dev/") or
                                            paths[0] == "regular.txt"):
                found.append((name, call.retval, paths[0],
                              [r.parse_fdesc(x.data) for x in call.records
                               if type(x) is r.Struct and x.name == r.FDESC_NAME]))
    return found


def test_an_opened_device_has_its_numbers_recorded(engine, traced, program):
    opened = _opened(traced(engine))
    assert [(name, path) for name, _, path, _ in opened] == [
        ("open", "/dev/full"), ("openat", "/dev/zero"), ("creat", "/dev/null"),
        ("openat2", "/dev/zero"), ("open_tree", "/dev/full"),
        *(("openat", d) for d in program[2]), ("open", "regular.txt"), ("open", "/dev/full")]
    *devices, regular, failed = opened
    for _, fd, path, fdescs in devices:
        found = os.stat(path)
        assert [(d.fd, d.mode, d.rdev, d.ino, d.path) for d in fdescs] == \
            [(fd, found.st_mode, found.st_rdev, found.st_ino, b"")], path
    assert regular[3] == [] and regular[1] >= 0
    assert failed[3] == [] and failed[1] < 0


def test_both_engines_record_the_same(traced):
    recorded = [_opened(traced(engine)) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_strace_yy_prints_an_opened_device_s_numbers(engine, traced, program):
    """What strace -yy prints of the calls on the devices, strace's own run the
    reference."""
    if not os.path.exists("/usr/bin/strace"):
        pytest.skip("needs /usr/bin/strace")
    exe, base, optional = program
    log = base / f"strace-{engine}.log"
    subprocess.run(["/usr/bin/strace", "-qq", "-yy", "-e", TRACED, "-o", str(log),
                    exe, *optional], cwd=base, check=True, timeout=60)
    out = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "--strace", "-yy",
                          "-e", TRACED, "-f", str(traced(engine))],
                         env=ENV, capture_output=True, timeout=60, check=True)
    assert _device_lines(out.stdout.decode()) == _device_lines(log.read_text())


def _device_lines(text: str) -> list[str]:
    """The lines that name a device or the regular file, their result's
    column padding cut."""
    return [re.sub(r"\s+= ", " = ", line) for line in text.splitlines()
            if "/dev/" in line or "regular.txt" in line]


def test_a_device_s_fdesc_outside_its_call_names_nothing():
    """An opened device's fdesc has no path: one with no call to pair it with
    (an exit whose entry was not seen) leaves the descriptor unnamed."""
    files = Files()
    files.held(r.FDESC.pack(3, 0, stat.S_IFCHR | 0o666, 0x107, 5))
    assert files.fds == {}

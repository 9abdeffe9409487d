"""A read's or write's data past linux_plan.GIO_PART bytes (a genio size above
it): both engines write it as GIO records of GIO_PART bytes back to back (the
bpf program's largest record), within the genio size; the strace view joins
them, so that -e read=/write= dump a big transfer whole, as strace does.  Real
processes, under each engine (bpf: root and BPF only)."""

from __future__ import annotations

import pytest

from engine_support import kdump_of, program_fixtures, real_strace
from ktrace.abi import linux_plan as lp
from ptrace_support import data_of_calls

SIZE = 100000
# SIZE bytes written to a file (descriptor 3), then read back
BIG_IO_C = r"""
#include <fcntl.h>
#include <unistd.h>
static char out[100000], in[100000];
int main(void) {
    int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (unsigned i = 0; i < sizeof out; i++)
        out[i] = i * 7 + i / 256;
    if (fd != 3 || write(fd, out, sizeof out) != sizeof out || lseek(fd, 0, SEEK_SET))
        return 1;
    return read(fd, in, sizeof in) == sizeof in ? 0 : 1;
}
"""
DATA = bytes((i * 7 + i // 256) & 0xFF for i in range(SIZE))
GENIO = 200000

exe, traced = program_fixtures("big_io", BIG_IO_C, genio_size=GENIO)
_, traced_64k = program_fixtures("big_io", BIG_IO_C, genio_size=65536)


def _parts(path) -> list[tuple[str, list[bytes]]]:
    return [(name, gio) for name, _, gio, _ in data_of_calls(path, {"read", "write"}, b"")
            if gio and len(b"".join(gio)) > lp.GIO_PART]


def _sizes(n: int) -> list[int]:
    return [min(lp.GIO_PART, n - at) for at in range(0, n, lp.GIO_PART)]


@pytest.mark.parametrize("which", ["all", "capped"])
def test_a_big_transfer_is_recorded_in_parts(engine, traced, traced_64k, which):
    path, cap = (traced, SIZE) if which == "all" else (traced_64k, 65536)
    parts = _parts(path(engine)[0])
    assert [name for name, _ in parts] == ["write", "read"]
    for _, gio in parts:
        assert [len(g) for g in gio] == _sizes(cap)
        assert b"".join(gio) == DATA[:cap]


def _dump_after(lines: list[str], call: str) -> list[str]:
    """The dump lines after the line of ``call`` (``write(3, ``)."""
    at = next(k for k, line in enumerate(lines) if line.startswith(call))
    end = next((k for k in range(at + 1, len(lines)) if not lines[k].startswith(" | ")),
               len(lines))
    return lines[at + 1:end]


def test_the_strace_view_dumps_it_whole(engine, traced, exe, tmp_path):
    options = ("-e", "trace=read,write", "-e", "write=3", "-e", "read=3")
    view = kdump_of(traced(engine)[0], "--strace", *options).splitlines()
    lines, _ = real_strace(exe, tmp_path, *options)
    for call in ("write(3, ", "read(3, \"\\0\\7"):
        ours = _dump_after(view, call)
        assert len(ours) == -(-SIZE // 16)
        assert ours == _dump_after(lines, call)

"""i386 syscalls of an x86-64 process (``int $0x80``): both engines record
them with their i386 numbers, each CALL and RET between a PROCCTOR of
``SV_LINUX_I386`` and one of ``SV_LINUX_X86_64`` (docs/design.md, "i386
syscalls"), and the views name them from the i386 table.

The numbers are chosen to mean something else on x86-64, where a plan keyed
by the number would read pointers that are not there: 200 is getgid32 on
i386 and tkill on x86-64, 20 getpid and writev, 6 close and lstat.  close's
descriptor has high bits set in rbx: the kernel takes ebx, and so do the
records.
"""

from __future__ import annotations

import re

from engine_support import ENGINES, kdump_of, program_fixtures, real_strace, strace_view
from ktrace import record as r

INT80_C = r"""
#include <stdio.h>
static long int80(long nr, long arg)
{
    long ret;
    /* int $0x80 from 64-bit code zeroes r8-r11 */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(arg)
                     : "r8", "r9", "r10", "r11", "memory");
    return ret;
}
int main(void)
{
    long gid = int80(200, 0);                          /* getgid32 */
    long pid = int80(20, 0);                           /* getpid */
    long closed = int80(6, 0x1234567800000000L | 0xffffffffL);   /* close(-1) */
    printf("%ld %ld %ld\n", gid, pid, closed);
    return 0;
}
"""
I386_CALLS = (200, 20, 6)
SELECTION = ("-e", "trace=getgid32,getpid,close")

exe, traced = program_fixtures("int80", INT80_C)


def _i386_records(path) -> list[tuple]:
    """(type, code, first argument or retval) of each record between the
    PROCCTORs that mark i386 calls, which must each hold one CALL or RET."""
    out, inside = [], []
    marked = False
    for rec in r.read_records(str(path)):
        if type(rec) is r.ProcCtor and rec.sv_flags == r.SV_LINUX_I386:
            assert not marked
            marked, inside = True, []
        elif type(rec) is r.ProcCtor and marked:
            assert rec.sv_flags == r.SV_LINUX_X86_64
            assert len(inside) == 1, inside
            marked = False
            out += inside
        elif marked:
            inside.append(rec)
    assert not marked
    return [(r.TYPE_NAMES[x.header.type], x.code,
             x.args[0] if type(x) is r.Syscall else x.retval) for x in out]


def test_i386_calls_are_marked(engine, traced):
    path, printed = traced(engine)
    gid, pid, closed = (int(n) for n in printed.split())
    assert _i386_records(path) == [
        ("SYSCALL", 200, 0), ("SYSRET", 200, gid),
        ("SYSCALL", 20, 0), ("SYSRET", 20, pid),
        ("SYSCALL", 6, 0xFFFFFFFF), ("SYSRET", 6, closed),
    ]
    calls = [rec for rec in r.read_records(str(path)) if type(rec) is r.Syscall
             and rec.code in I386_CALLS and rec.narg == 6]
    assert all(a <= 0xFFFFFFFF for rec in calls for a in rec.args)   # 32-bit registers


def test_both_engines_record_the_same(traced):
    shapes = [[(kind, code) for kind, code, _ in _i386_records(traced(engine)[0])]
              for engine in ENGINES]
    assert shapes[0] == shapes[1]


def test_freebsd_view_names_them_from_the_i386_table(engine, traced):
    text = kdump_of(traced(engine)[0], "-A")
    assert re.search(r"CALL  L32  getgid32\(0,", text)     # six registers; the first is 0
    assert re.search(r"RET   L32  close -1 errno 9 ", text)
    assert "tkill" not in text and "writev" not in text


def test_strace_view_is_straces(engine, traced, exe, tmp_path):
    """With the personality lines strace prints as a thread changes ABI."""
    want, _ = real_strace(exe, tmp_path, "-e", "quiet=none", *SELECTION)
    have = strace_view(traced(engine)[0], "-e", "quiet=none", *SELECTION)
    assert _pids_out(have) == _pids_out(re.sub(r" +=", " =", line) for line in want)


def _pids_out(lines) -> list[str]:
    """The lines but for the pid, which differs from run to run."""
    return [re.sub(r"PID=\d+|getpid\(\) = \d+", "PID", line) for line in lines]

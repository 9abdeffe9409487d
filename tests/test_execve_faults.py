"""What of a failed execve's argv and envp could not be read (linux_plan's
ARGV_FAULTS): a string pointer that cannot be read, an array that runs into
an unmapped page before its NULL, an array whose first pointer cannot be
read.  Both engines record them alike (``STRU argvfault`` after the
ARGS/ENVS), and the strace view prints what strace 6.1 prints: the program
prints the lines strace prints of its calls, without -v (``D:``) and with it
(``V:``), checked against /usr/bin/strace where there is one.  FreeBSD's view
(plain kdump) leaves the record out.  Real processes, under each engine (bpf:
root and BPF only)."""

from __future__ import annotations

import re

from engine_support import ENGINES, kdump_of, program_fixtures, real_strace, strace_view
from ktrace import record as r
from ktrace.abi import linux_plan as lp
from ktrace.abi import linux_structs as LS
from ptrace_support import read_calls

# Each call fails (ENOENT: no such program), after strace and the engines read
# its arrays at entry.  ``tail`` ends where an unmapped page begins.
EXECVE_C = r"""
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BAD1 ((char *) -1L)
#define BAD2 ((char *) -2L)
#define FAILED ") = -1 ENOENT (No such file or directory)\n"

static char prog[] = "/nonexistent/prog", one[] = "one", two[] = "two", x[] = "X=1";

static void both(const char *argv, const char *envp_short, const char *envp_verbose) {
    printf("D:execve(\"%s\", %s, %s" FAILED, prog, argv, envp_short);
    printf("V:execve(\"%s\", %s, %s" FAILED, prog, argv, envp_verbose);
}

int main(void) {
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char a[80], b[80], c[80], d[40 * 8];
    munmap(m + 4096, 4096);
    char **end = (char **) (m + 4096), **tail = end - 3;
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);

    /* a string not readable, then the array runs into the unmapped page */
    tail[0] = one; tail[1] = BAD1; tail[2] = two;
    execve(prog, tail, tail + 1);
    snprintf(a, sizeof a, "[\"one\", %p, \"two\", ... /* %p */]", BAD1, end);
    snprintf(b, sizeof b, "%p /* 2 vars, unterminated */", tail + 1);
    snprintf(c, sizeof c, "[%p, \"two\", ... /* %p */]", BAD1, end);
    both(a, b, c);

    /* the array's first pointer not readable; NULL */
    execve(prog, end, NULL);
    snprintf(a, sizeof a, "%p", end);
    both(a, "NULL", "NULL");

    /* an environment with a string not readable, NULL-terminated */
    char *argv[] = {one, NULL}, *envp[] = {x, BAD2, NULL};
    execve(prog, argv, envp);
    snprintf(b, sizeof b, "%p /* 2 vars */", envp);
    snprintf(c, sizeof c, "[\"X=1\", %p]", BAD2);
    both("[\"one\"]", b, c);

    /* -s 32 strings, then the unmapped page: strace tells where it stopped */
    char **many = end - 32;
    for (int i = 0; i < 32; i++)
        many[i] = one;
    execve(prog, many, NULL);
    d[0] = 0;
    for (int i = 0; i < 32; i++)
        snprintf(d + strlen(d), sizeof d - strlen(d), "%s\"one\"", i ? ", " : "[");
    snprintf(d + strlen(d), sizeof d - strlen(d), ", ... /* %p */]", end);
    both(d, "NULL", "NULL");
    return 0;
}
"""

TRACE = "trace=execve"
ARGV_FAULTS = lp.ARGV_FAULTS.encode()

exe, traced = program_fixtures("execve_faults", EXECVE_C)


def _faults(path) -> list[list[tuple]]:
    """Of each failed execve: (record type, its STRU argvfault's fields or its strings)."""
    out = []
    for calls in read_calls(path).values():
        for c in calls:
            if c.name != "execve" or not c.error:
                continue
            seen = []
            for rec in c.records:
                if isinstance(rec, (r.Args, r.Envs)):
                    seen.append((rec.header.type, r.split_strings(rec.strings)))
                elif isinstance(rec, r.Struct) and rec.name == ARGV_FAULTS:
                    (end,) = LS.ARGV_FAULT_END.unpack_from(rec.data)
                    pairs = list(LS.ARGV_FAULT.iter_unpack(rec.data[LS.ARGV_FAULT_END.size:]))
                    seen.append(("argvfault", end, pairs))
            out.append(seen)
    return out


def test_what_could_not_be_read_is_recorded(engine, traced):
    path, _ = traced(engine)
    bad1, bad2, all_read = (1 << 64) - 1, (1 << 64) - 2, lp.ARGV_READ_ALL
    assert _faults(path) == [
        [(r.ARGS, [b"one", b"", b"two"]), ("argvfault", 3, [(1, bad1)]),
         (r.ENVS, [b"", b"two"]), ("argvfault", 2, [(0, bad1)])],
        [(r.ARGS, []), ("argvfault", 0, [])],                       # envp NULL: nothing
        [(r.ARGS, [b"one"]), (r.ENVS, [b"X=1", b""]), ("argvfault", all_read, [(1, bad2)])],
        [(r.ARGS, [b"one"] * 32), ("argvfault", 32, [])],
    ]


def test_both_engines_record_the_same(traced):
    recorded = [_faults(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def _printed(printed: list[str], mode: str) -> list[str]:
    return [line[2:] for line in printed if line.startswith(mode)]


def _failed(lines: list[str]) -> list[str]:
    """The lines of the program's failed calls (not of its own exec)."""
    return [re.sub(r" +=", " =", line) for line in lines if "/nonexistent/" in line]


def test_the_strace_view_prints_what_strace_prints(engine, traced):
    path, printed = traced(engine)
    for options, mode in (((), "D:"), (("-v",), "V:")):
        assert _failed(strace_view(path, *options, "-e", TRACE)) == _printed(
            printed.splitlines(), mode)


def test_the_program_prints_what_strace_prints(exe, tmp_path):
    for options, mode in (((), "D:"), (("-v",), "V:")):
        lines, printed = real_strace(exe, tmp_path, *options, "-e", TRACE)
        assert _failed(lines) == _printed(printed, mode)


def test_the_freebsd_view_leaves_the_record_out(engine, traced):
    path, _ = traced(engine)
    assert "argvfault" not in kdump_of(path)
    assert "argvfault" in kdump_of(path, "--json")

"""bpf(2)'s OBJ_GET_INFO_BY_FD of a map and of a program: the info the kernel
writes (linux_plan's BPF_ATTRS: its bytes as given and as the call left
them), and what a program's points to, read at exit from the info the attr
points to (linux_plan.Pointee.via): its translated instructions, its map ids
(none here).  Both engines record them alike, and the strace view prints
what /usr/bin/strace (6.1) prints of the same program, but for what differs
from run to run (the objects' ids, the program's load time).  Real
processes, under each engine (bpf: root and BPF only); the program makes no
calls but the first two where bpf(2) is refused."""

from __future__ import annotations

import re

import pytest

from engine_support import program_fixtures, real_strace, strace_view
from ptrace_support import read_calls

INFO_C = r"""
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr, unsigned size) {
    return syscall(__NR_bpf, cmd, attr, size);
}

int main(void) {
    struct bpf_insn insns[2] = {{.code = BPF_ALU64 | BPF_MOV | BPF_K}, {.code = BPF_JMP | BPF_EXIT}};
    char license[] = "GPL", map_info[88], prog_info[232];
    struct bpf_insn xlated[4];
    unsigned int map_ids[2];
    union bpf_attr a;

    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 8;
    a.max_entries = 1;
    int map = bpf(BPF_MAP_CREATE, &a, 48);
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insn_cnt = 2;
    a.insns = (unsigned long) insns;
    a.license = (unsigned long) license;
    int prog = map < 0 ? -1 : bpf(BPF_PROG_LOAD, &a, 48);
    if (prog < 0) {
        puts("no BPF");
        return 0;
    }
    memset(map_info, 0, sizeof map_info);
    memset(&a, 0, sizeof a);
    a.info.bpf_fd = map;
    a.info.info_len = sizeof map_info;
    a.info.info = (unsigned long) map_info;
    bpf(BPF_OBJ_GET_INFO_BY_FD, &a, 16);
    for (int with_arrays = 0; with_arrays < 2; with_arrays++) {
        struct bpf_prog_info *info = (void *) prog_info;
        memset(prog_info, 0, sizeof prog_info);
        memset(xlated, 0, sizeof xlated);
        if (with_arrays) {
            info->xlated_prog_len = sizeof xlated;
            info->xlated_prog_insns = (unsigned long) xlated;
            info->nr_map_ids = 2;
            info->map_ids = (unsigned long) map_ids;
        }
        memset(&a, 0, sizeof a);
        a.info.bpf_fd = prog;
        a.info.info_len = sizeof prog_info;
        a.info.info = (unsigned long) prog_info;
        bpf(BPF_OBJ_GET_INFO_BY_FD, &a, 16);
    }
    return 0;
}
"""

exe, traced = program_fixtures("bpf_info", INFO_C, inherit=False)
OPTIONS = ("-v", "-e", "trace=bpf")
# what differs from run to run: the objects' ids, the program's load time
RUN_SPECIFIC = re.compile(r"\b(id=)\d+|\b(load_time=)\d+ /\* [^*]+ \*/")


def _runless(lines: list[str]) -> list[str]:
    return [RUN_SPECIFIC.sub(lambda m: (m.group(1) or m.group(2)) + "N", line) for line in lines]


def test_the_info_and_its_arrays_are_recorded(engine, traced):
    path, printed = traced(engine)
    if printed.strip() == "no BPF":
        pytest.skip("bpf(2) refused here")
    infos = [[(rec.name, len(rec.data)) for rec in c.records]
             for calls in read_calls(path).values() for c in calls
             if c.name == "bpf" and c.args[0] == 15]
    given, written = (b"bytes", 16), (b"bytes", 16)
    assert infos[0] == [given, (b"bpf_info", 88), written, (b"bpf_info", 88)]
    assert infos[1] == [given, (b"bpf_info", 232), written, (b"bpf_info", 232)]
    # the 2 instructions translated; no map ids
    assert infos[2] == [given, (b"bpf_info", 232), written, (b"bpf_info", 232),
                        (b"bpf_xlated", 16)]


def test_the_info_prints_as_strace_prints_it(engine, traced, exe, tmp_path):
    path, printed = traced(engine)
    if printed.strip() == "no BPF":
        pytest.skip("bpf(2) refused here")
    lines, _ = real_strace(exe, tmp_path, *OPTIONS)
    assert _runless(strace_view(path, *OPTIONS)) == _runless(lines)

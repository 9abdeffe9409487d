"""What bpf(2)'s union bpf_attr and io_uring_register(2)'s structs point to
(linux_plan.Pointee, by the command or opcode's selector case): a program's
instructions, license and log; a pinned path, a raw tracepoint's name, BTF
data, link_create's kprobe_multi syms (and their strings), addrs and
cookies, a task_fd_query's buf
(printed at exit); io_uring_files_update's fds (nr_args of them: the call's
argument, not a field), io_uring_rsrc_register's and io_uring_rsrc_update2's
data and tags.  Both engines record them alike, and the strace view prints
what /usr/bin/strace (6.1) prints of the same program.  Real processes, under
each engine (bpf: root and BPF only); every call fails (a bad descriptor, not
a ring), but strace prints the argument all the same."""

from __future__ import annotations

from engine_support import ENGINES, program_fixtures, real_strace, strace_view
from ktrace import record as r
from ptrace_support import read_calls

CALLS = ("bpf", "io_uring_register")
OPTIONS = ("-v", "-e", "trace=" + ",".join(CALLS))

POINTEES_C = r"""
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static long reg(int fd, unsigned op, void *arg, unsigned n) {
    return syscall(__NR_io_uring_register, fd, op, arg, n);
}

static long bpf(int cmd, union bpf_attr *attr, unsigned size) {
    return syscall(__NR_bpf, cmd, attr, size);
}

int main(void) {
    int null = dup2(open("/dev/null", O_RDONLY), 40), full = dup2(open("/dev/full", O_RDONLY), 41);
    /* all on the stack: the bpf program reads only memory in place */
    int fds[3] = {full, null, IORING_REGISTER_FILES_SKIP};
    unsigned long long tags[3] = {1, 0xdead, 0xfacefeed};
    struct iovec iov[2] = {{(void *) 0x1000, 4096}, {(void *) 0x2000, 8}};
    struct io_uring_files_update update = {.offset = 7, .fds = (unsigned long) fds};
    struct io_uring_rsrc_register files2 = {.nr = 3, .data = (unsigned long) fds,
                                            .tags = (unsigned long) tags};
    struct io_uring_rsrc_update2 buffers = {.offset = 1, .data = (unsigned long) iov,
                                            .tags = (unsigned long) tags, .nr = 2};
    reg(null, IORING_REGISTER_FILES_UPDATE, &update, 3);
    reg(null, IORING_REGISTER_FILES2, &files2, sizeof files2);
    reg(null, IORING_REGISTER_BUFFERS_UPDATE, &buffers, sizeof buffers);

    struct bpf_insn insns[2] = {{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1, .imm = 7},
                                {.code = BPF_JMP | BPF_EXIT}};
    char license[] = "GPL", log[4] = {'l', 'o', 'g', ' '}, path[] = "/sys/fs/bpf/ktrace-none";
    char tracepoint[] = "sys_enter", btf[] = "bPf\0daTum", buf[8] = "abc";
    char foo[] = "foo", oh[] = "OH";
    unsigned long long syms[3] = {(unsigned long) foo, 0, (unsigned long) oh};
    unsigned long long addrs[3] = {0xffffffff81000000ULL, 0x10, 0}, cookies[3] = {3, 0, 1};
    union bpf_attr a;

    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insn_cnt = 2;
    a.insns = (unsigned long) insns;
    a.license = (unsigned long) license;
    a.log_size = sizeof log;
    a.log_buf = (unsigned long) log;
    bpf(BPF_PROG_LOAD, &a, 48);

    memset(&a, 0, sizeof a);
    a.pathname = (unsigned long) path;
    a.bpf_fd = -1;
    bpf(BPF_OBJ_PIN, &a, 16);

    memset(&a, 0, sizeof a);
    a.raw_tracepoint.name = (unsigned long) tracepoint;
    a.raw_tracepoint.prog_fd = -1;
    bpf(BPF_RAW_TRACEPOINT_OPEN, &a, 16);

    memset(&a, 0, sizeof a);
    a.btf = (unsigned long) btf;
    a.btf_size = sizeof btf - 1;
    bpf(BPF_BTF_LOAD, &a, 28);

    memset(&a, 0, sizeof a);
    a.link_create.prog_fd = -1;
    a.link_create.attach_type = BPF_TRACE_KPROBE_MULTI;
    a.link_create.kprobe_multi.cnt = 3;
    a.link_create.kprobe_multi.syms = (unsigned long) syms;
    a.link_create.kprobe_multi.addrs = (unsigned long) addrs;
    a.link_create.kprobe_multi.cookies = (unsigned long) cookies;
    bpf(BPF_LINK_CREATE, &a, 48);

    memset(&a, 0, sizeof a);
    a.task_fd_query.fd = -1;
    a.task_fd_query.buf = (unsigned long) buf;
    a.task_fd_query.buf_len = sizeof buf;
    bpf(BPF_TASK_FD_QUERY, &a, 48);
    return 0;
}
"""

exe, traced = program_fixtures("bpf_uring_pointees", POINTEES_C, inherit=False)


def _shapes(path) -> list[tuple[str, list[tuple[int, bytes, int]]]]:
    """(call, [(record type, struct name, bytes)]) of the calls with pointees."""
    return [(c.name, [(rec.header.type, rec.name, len(rec.data))
                      for rec in c.records if isinstance(rec, (r.Struct, r.StructArray))])
            for calls in read_calls(path).values() for c in calls if c.name in CALLS]


def test_the_pointees_are_recorded(engine, traced):
    path, _ = traced(engine)
    stru, array = r.STRUCT, r.STRUCT_ARRAY
    assert _shapes(path) == [
        # nr_args fds
        ("io_uring_register", [(stru, b"io_uring_files_update", 16), (array, b"int", 12)]),
        # nr files and tags, nr iovecs and tags
        ("io_uring_register", [(stru, b"io_uring_rsrc_register", 32), (array, b"int", 12),
                               (array, b"long", 24)]),
        ("io_uring_register", [(stru, b"io_uring_rsrc_update2", 32), (array, b"iovec", 32),
                               (array, b"long", 16)]),
        # the instructions, the license, log_size bytes of the log
        ("bpf", [(stru, b"bytes", 48), (array, b"bpf_insn", 16), (stru, b"string", 3),
                 (stru, b"bpf_data", 4)]),
        ("bpf", [(stru, b"bytes", 16), (stru, b"string", 23)]),
        ("bpf", [(stru, b"bytes", 16), (stru, b"string", 9)]),
        ("bpf", [(stru, b"bytes", 28), (stru, b"bpf_data", 9)]),
        # iter_info's reading of the union finds nothing; the syms and the strings of
        # those not NULL, the addrs and cookies
        ("bpf", [(stru, b"bytes", 48), (array, b"bpf_syms", 24), (stru, b"string", 3),
                 (stru, b"string", 2), (array, b"long", 24), (array, b"bpf_cookie", 24)]),
        # the buf as given (the failed call leaves no exit records)
        ("bpf", [(stru, b"bytes", 48), (stru, b"bpf_data", 8)]),
    ]


def test_both_engines_record_the_same(traced):
    recorded = [_shapes(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_prints_what_strace_prints(engine, traced, exe, tmp_path):
    path, _ = traced(engine)
    lines, _ = real_strace(exe, tmp_path, *OPTIONS)
    assert strace_view(path, *OPTIONS) == lines


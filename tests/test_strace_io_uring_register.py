"""kdump --strace: io_uring_register(2) as strace's io_uring.c prints it.  The
argument's memory depends on the opcode: linux_plan's io_uring_register
selector records it (an array of nr_args items, a struct, a struct of nr_args
bytes, a probe read in and written back), and the arrays those structs point
to (linux_plan.Pointee: their data and tags).
A real program's calls, under each engine (bpf: root and BPF only)."""

from __future__ import annotations

import io
import re
import shutil

import pytest

from engine_support import trace_command
from ktrace.abi import LINUX_X86_64
from ktrace.abi import linux_plan as lp
from ktrace.kdump import strace as view
from ptrace_support import build

# Calls on /dev/null (fd 40; /dev/full is 41) fail with EOPNOTSUPP after the
# kernel read nothing: what they print is what the plan recorded at entry.  A
# ring's (fd 42) probe and worker counts come back from the kernel.
REGISTER_C = r"""
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
static long reg(int fd, unsigned op, void *arg, unsigned long n) {
    /* the kernel reads the low 32 bits of the opcode and of nr_args */
    return syscall(__NR_io_uring_register, fd, 0xdefaced00000000UL | op, arg,
                   0xdefaced00000000UL | n);
}
int main(void) {
    int null = dup2(open("/dev/null", O_RDONLY), 40), full = dup2(open("/dev/full", O_RDONLY), 41);
    int fds[] = {full, null, -1};
    struct iovec iov = {.iov_base = (void *) 0x1000, .iov_len = 4096};
    struct io_uring_restriction res[2];
    struct io_uring_buf_reg buf = {.ring_addr = 0, .ring_entries = 8, .bgid = 3, .pad = 1};
    struct io_uring_rsrc_update2 upd = {.offset = 7, .nr = 0, .resv2 = 0x55};
    struct io_uring_rsrc_update ring = {.offset = -1U, .data = 0xbadc0ded00000000UL | 40};
    unsigned long aff = 0x5;
    unsigned int workers[2] = {1, 2};
    unsigned long long tags[2] = {1, 0xdeadbeef};
    struct io_uring_probe *probe = calloc(1, sizeof *probe + 256 * sizeof probe->ops[0]);
    struct io_uring_params params;
    /* a struct io_uring_rsrc_register at the end of a page: its 32 bytes, not 40 */
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    struct io_uring_rsrc_register *rsrc = (void *) (page + 4096 - 32);
    memset(res, 0, sizeof res);
    res[0].opcode = IORING_RESTRICTION_SQE_OP;
    res[0].sqe_op = 1;
    res[1].opcode = 9;
    res[1].sqe_flags = 2;
    rsrc->nr = 2;
    rsrc->flags = 3;
    rsrc->tags = (unsigned long) tags;
    reg(null, 0xbadc0ded, NULL, 1);
    reg(null, 2, fds, 3);
    reg(null, 0, &iov, 1);
    reg(null, 11, res, 2);
    reg(null, 22, &buf, 1);
    reg(null, 14, &upd, sizeof upd);
    reg(null, 13, rsrc, 32);
    reg(null, 13, rsrc, 40);
    reg(null, 17, &aff, sizeof aff);
    reg(null, 19, workers, 2);
    reg(null, 20, &ring, 1);
    reg(null, 8, probe, 4);
    reg(null, 8, probe, 257);
    reg(null, 3, fds, 0);
    memset(&params, 0, sizeof params);
    int uring = syscall(__NR_io_uring_setup, 4, &params);
    if (uring >= 0) {
        uring = dup2(uring, 42);
        reg(uring, 8, probe, 256);
        workers[0] = workers[1] = 0;
        reg(uring, 19, workers, 2);
    }
    return 0;
}
"""

FAILED = " = -1 EOPNOTSUPP (Operation not supported)"
ADDR = r"0x[0-9a-f]+"


@pytest.fixture
def trace(engine, tmp_path) -> bytes:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "register", REGISTER_C)
    out = tmp_path / "r.out"
    trace_command(engine, [exe], out, "cinst")
    return out.read_bytes()


def _strace(data: bytes, *options: str) -> list[str]:
    out = io.StringIO()
    view.run(view.parse(["-e", "trace=io_uring_register", *options]), io.BytesIO(data), out)
    return [line for line in out.getvalue().splitlines() if line.startswith("io_uring_register")]


def _match(lines: list[str], patterns: list[str]) -> None:
    assert len(lines) >= len(patterns), lines
    for line, pattern in zip(lines, patterns):
        assert re.fullmatch(pattern, line), (pattern, line)


def test_each_opcode_s_argument_prints_as_strace_prints_it(trace):
    lines = _strace(trace)
    assert lines[0] == ("io_uring_register(40, 0xbadc0ded /* IORING_REGISTER_??? */, NULL, 1)"
                        " = -1 EINVAL (Invalid argument)")
    assert lines[1:6] == [line + FAILED for line in (
        "io_uring_register(40, IORING_REGISTER_FILES, [41, 40, -1], 3)",
        "io_uring_register(40, IORING_REGISTER_BUFFERS, [{iov_base=0x1000, iov_len=4096}], 1)",
        "io_uring_register(40, IORING_REGISTER_RESTRICTIONS, [{opcode=IORING_RESTRICTION_SQE_OP, "
        "sqe_op=IORING_OP_READV}, {opcode=0x9 /* IORING_RESTRICTION_??? */ /* op: 0x2 */}], 2)",
        "io_uring_register(40, IORING_REGISTER_PBUF_RING, {ring_addr=NULL, ring_entries=8, "
        "bgid=3, pad=0x1}, 1)",
        "io_uring_register(40, IORING_REGISTER_FILES_UPDATE2, {offset=7, data=NULL, tags=NULL, "
        "nr=0, resv2=0x55}, 32)")]
    _match(lines[6:14], [re.escape(line + FAILED).replace("ADDR", ADDR) for line in (
        # the tags the struct points to (its nr of them)
        "io_uring_register(40, IORING_REGISTER_FILES2, {nr=2, flags=IORING_RSRC_REGISTER_SPARSE"
        "|0x2, data=NULL, tags=[0x1, 0xdeadbeef]}, 32)",
        # nr_args bytes of which the last 8 cannot be read: ??? as strace shows them
        "io_uring_register(40, IORING_REGISTER_FILES2, {nr=2, flags=IORING_RSRC_REGISTER_SPARSE"
        "|0x2, data=NULL, tags=[0x1, 0xdeadbeef], ???}, 40)",
        "io_uring_register(40, IORING_REGISTER_IOWQ_AFF, [0 2], 8)",
        # given in full, then (the call failed) the address where the kernel's would be
        "io_uring_register(40, IORING_REGISTER_IOWQ_MAX_WORKERS, [[IO_WQ_BOUND]=1, "
        "[IO_WQ_UNBOUND]=2] => ADDR, 2)",
        "io_uring_register(40, IORING_REGISTER_RING_FDS, [{offset=-1, data=40}], 1)",
        # a zeroed probe shows at exit alone; more than 256 ops are not read
        "io_uring_register(40, IORING_REGISTER_PROBE, ADDR, 4)",
        "io_uring_register(40, IORING_REGISTER_PROBE, ADDR, 257)",
        "io_uring_register(40, IORING_UNREGISTER_FILES, ADDR, 0)")])


def test_the_constants_print_in_x_style(trace):
    raw, verbose = _strace(trace, "-Xraw"), _strace(trace, "-Xverbose")
    assert raw[1] == "io_uring_register(40, 0x2, [41, 40, -1], 3)" + FAILED
    assert raw[3] == ("io_uring_register(40, 0xb, [{opcode=0x1, sqe_op=0x1}, "
                      "{opcode=0x9 /* op: 0x2 */}], 2)" + FAILED)
    assert raw[9].startswith("io_uring_register(40, 0x13, [[0]=1, [1]=2] => 0x")
    assert verbose[9].startswith(
        "io_uring_register(40, 0x13 /* IORING_REGISTER_IOWQ_MAX_WORKERS */, "
        "[[0 /* IO_WQ_BOUND */]=1, [1 /* IO_WQ_UNBOUND */]=2] => 0x")
    # -y: the descriptors' paths, in the arrays too
    assert _strace(trace, "-y")[1] == ("io_uring_register(40</dev/null>, IORING_REGISTER_FILES, "
                                       "[41</dev/full>, 40</dev/null>, -1], 3)" + FAILED)
    # -e verbose=none: no struct or array read
    assert _strace(trace, "-e", "verbose=none")[4].startswith(
        "io_uring_register(40, IORING_REGISTER_PBUF_RING, 0x")


def test_a_ring_s_answers_print_after_what_was_given(trace):
    lines = [line for line in _strace(trace) if line.startswith("io_uring_register(42,")]
    if not lines:
        pytest.skip("io_uring_setup failed (io_uring disabled here)")
    # the zeroed probe given shows at exit alone: the kernel's, its 32 first ops
    assert lines[0].startswith("io_uring_register(42, IORING_REGISTER_PROBE, {last_op=")
    assert "ops=[{op=IORING_OP_NOP, flags=IO_URING_OP_SUPPORTED}, {op=IORING_OP_READV, " \
        "flags=IO_URING_OP_SUPPORTED}, " in lines[0]
    assert lines[0].endswith(", ...]}, 256) = 0")
    assert lines[0].count("{op=") == 32
    assert re.fullmatch(r"io_uring_register\(42, IORING_REGISTER_IOWQ_MAX_WORKERS, "
                        r"\[\[IO_WQ_BOUND\]=0, \[IO_WQ_UNBOUND\]=0\] => "
                        r"\[\[IO_WQ_BOUND\]=\d+, \[IO_WQ_UNBOUND\]=\d+\], 2\) = 0", lines[1])


def test_the_plan_reads_what_each_opcode_points_to():
    nr = LINUX_X86_64.syscall_number("io_uring_register")
    cases = lp.selectors()[nr].cases
    assert len(cases) <= 64          # tools/gen_bpf_plan.py's MAX_CASES
    files = lp.plan_for_call(nr, (3, 0xDEFACED00000002, 0x1000, 0xDEFACED00000005))[2]
    assert (files.role, files.name, files.size) == (lp.Role.IN_ARRAY, "int", 4)
    # nr_args is an unsigned int: its low 32 bits count
    assert files.length == lp.Length(lp.Len.ARG_U32, 3)
    probe = lp.plan_for_call(nr, (3, 8, 0x1000, 4))[2]
    # its nr_args ops after its 16 bytes
    assert probe.role == lp.Role.INOUT_STRUCT
    assert probe.length == lp.Length(lp.Len.ARG_U32, 3, scale=8, add=16)
    # FILES_UPDATE's fds: nr_args of them (the call's argument, not a field)
    update = lp.plan_for_call(nr, (3, 6, 0x1000, 5))[2]
    assert [(p.name, p.ptr, p.count_arg) for p in update.then] == [("int", 8, 3)]
    for opcode in (1, 3, 5, 9, 10, 12, 18, 24):      # no argument, or unknown
        assert lp.plan_for_call(nr, (3, opcode, 0x1000, 1))[2].role == lp.Role.VALUE

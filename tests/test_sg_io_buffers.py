"""SG_IO's buffers (linux_plan's SG_IO_BUFFERS): what a v3 (``'S'``) or v4
(``'Q'``) header points to, recorded by the rows of its kind (Pointee.first_int)
and printed as strace 6.1 prints them, at entry (the command, the data out)
and at exit (the sense data or response and the data in, which a failed
call's memory holds as given): bytes cut at -s or at an unmapped page, iovecs
and their data cut at the transfer's length, hostile lengths and iovec
counts.  A real process (fd -1: EBADF, no device needed) under each engine
(bpf: root and BPF only), its every buffer in a mapping at a fixed address,
so its lines are /usr/bin/strace's own; what a device writes, from
hand-built records."""

from __future__ import annotations

import re
import struct

from engine_support import ENGINES, program_fixtures, real_strace, strace_view
from ktrace import record as r
from ptrace_support import read_calls
from test_ioctl_view import Trace
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

SG_IO_C = r"""
#include <linux/bsg.h>
#include <scsi/sg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define PAGE 4096

int main(void) {
    unsigned char *m = mmap((void *)0x10000000, 2 * PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    unsigned char *end = m + PAGE;              /* the page after it unmapped */
    munmap(end, PAGE);
    for (int k = 0; k < PAGE; k++)
        m[k] = k * 7 + 1;
    struct sg_io_hdr *v3 = (void *)m;
    struct sg_io_v4 *v4 = (void *)(m + 128);
    struct iovec *iov = (void *)(m + 512);

    /* data out: the command, 16 bytes; the sense data the device would write */
    memset(v3, 0, sizeof(*v3));
    v3->interface_id = 'S';
    v3->dxfer_direction = SG_DXFER_TO_DEV;
    v3->cmd_len = 6;
    v3->cmdp = m + 1024;
    v3->dxfer_len = 16;
    v3->dxferp = m + 1100;
    v3->mx_sb_len = 8;
    v3->sb_len_wr = 8;
    v3->sbp = m + 1200;
    ioctl(-1, SG_IO, v3);

    /* three iovecs, 5 bytes in all: the second's 3 up to the unmapped page,
       the third's none */
    iov[0] = (struct iovec){m + 1300, 2};
    iov[1] = (struct iovec){end - 3, 4};
    iov[2] = (struct iovec){m + 1400, 10};
    v3->iovec_count = 3;
    v3->dxfer_len = 5;
    v3->dxferp = iov;
    ioctl(-1, SG_IO, v3);

    /* data in, less its residue: 4 bytes up to the unmapped page */
    v3->dxfer_direction = SG_DXFER_FROM_DEV;
    v3->iovec_count = 0;
    v3->dxfer_len = 5;
    v3->resid = 1;
    v3->dxferp = end - 4;
    ioctl(-1, SG_IO, v3);

    /* a hostile length both ways: strace reads -s of it */
    v3->dxfer_direction = SG_DXFER_TO_FROM_DEV;
    v3->dxfer_len = 0xffffffff;
    v3->resid = 0;
    v3->dxferp = end - 40;
    ioctl(-1, SG_IO, v3);

    /* a hostile iovec count: two iovecs up to the unmapped page */
    memcpy(end - 2 * sizeof(*iov), iov, 2 * sizeof(*iov));
    v3->dxfer_direction = SG_DXFER_TO_DEV;
    v3->iovec_count = 0xffff;
    v3->dxfer_len = 8;
    v3->dxferp = end - 2 * sizeof(*iov);
    ioctl(-1, SG_IO, v3);

    /* more iovecs than strace prints: -s of them, then "..." */
    struct iovec *many = (void *)(m + 2048);
    for (int k = 0; k < 40; k++)
        many[k] = (struct iovec){m + 1300 + k, 1};
    v3->iovec_count = 40;
    v3->dxfer_len = 100;
    v3->dxferp = many;
    ioctl(-1, SG_IO, v3);

    /* v4: a request, data out by iovecs, a response and data in */
    memset(v4, 0, sizeof(*v4));
    v4->guard = 'Q';
    v4->request_len = 4;
    v4->request = (uintptr_t)(m + 1500);
    v4->dout_iovec_count = 2;
    v4->dout_xfer_len = 5;
    v4->dout_xferp = (uintptr_t)iov;
    v4->din_xfer_len = 6;
    v4->din_resid = 2;
    v4->din_xferp = (uintptr_t)(m + 1600);
    v4->max_response_len = 3;
    v4->response_len = 3;
    v4->response = (uintptr_t)(m + 1700);
    ioctl(-1, SG_IO, v4);

    /* data in by iovecs, data out by bytes */
    v4->dout_iovec_count = 0;
    v4->dout_xferp = (uintptr_t)(m + 1800);
    v4->din_iovec_count = 2;
    v4->din_xfer_len = 3;
    v4->din_resid = 0;
    v4->din_xferp = (uintptr_t)iov;
    ioctl(-1, SG_IO, v4);

    /* hostile counts: the iovecs up to the unmapped page; a response's length,
       its -s bytes readable, not the one more strace reads (its address) */
    v4->din_iovec_count = 0xffffffff;
    v4->din_xfer_len = 0xffffffff;
    v4->din_xferp = (uintptr_t)(end - 2 * sizeof(*iov));
    v4->response_len = 0xffffffff;
    v4->response = (uintptr_t)(end - 32);
    ioctl(-1, SG_IO, v4);
    v4->response = (uintptr_t)(end - 33);
    ioctl(-1, SG_IO, v4);
    return 0;
}
"""

TRACE = ("-e", "trace=ioctl")
SG_IO = 0x2285

exe, traced = program_fixtures("sg_io_buffers", SG_IO_C, inherit=False)


def _calls(lines: list[str]) -> list[str]:
    """The program's SG_IO lines, the result's padding taken out."""
    return [re.sub(r" +=", " =", line) for line in lines if line.startswith("ioctl(-1, SG_IO")]


def _shapes(path) -> list[list[tuple[int, bytes, int]]]:
    """Each SG_IO's records past CALL: (record type, struct name, bytes)."""
    return [[(rec.header.type, rec.name, len(rec.data))
             for rec in c.records if isinstance(rec, (r.Struct, r.StructArray))]
            for calls in read_calls(path).values() for c in calls
            if c.name == "ioctl" and c.args[0] & 0xFFFFFFFF == 0xFFFFFFFF]


def test_the_buffers_are_recorded(engine, traced):
    path, _ = traced(engine)
    ioc, cmd, sense = (r.STRUCT, b"ioc", 160), (r.STRUCT_ARRAY, b"sg_cmd"), \
        (r.STRUCT_ARRAY, b"sg_sense")
    shapes = _shapes(path)
    assert len(shapes) == 10
    # the first: the command, the data (16 bytes), the sense data (8)
    assert shapes[0] == [ioc, (*cmd, 6), (r.STRUCT_ARRAY, b"sg_data", 16), (*sense, 8)]
    # the iovecs' data: each whole, or up to the unmapped page
    assert [rec for rec in shapes[1] if rec[1] == b"sg_iov_data"] == [
        (r.STRUCT, b"sg_iov_data", n) for n in (2, 3, 10)]
    # a hostile iovec count: the iovecs up to the unmapped page
    assert (r.STRUCT_ARRAY, b"sg_iovec", 32) in shapes[4]
    assert (r.STRUCT_ARRAY, b"sg_dout_iovec", 32) in shapes[6]
    # more than strace prints: those it reads, the data of those it prints
    assert (r.STRUCT_ARRAY, b"sg_iovec", 33 * 16) in shapes[5]
    assert [rec for rec in shapes[5] if rec[1] == b"sg_iov_data"] == \
        [(r.STRUCT, b"sg_iov_data", 1)] * 32


def test_both_engines_record_the_same(traced):
    recorded = [_shapes(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_prints_what_strace_prints(engine, traced, exe, tmp_path):
    path, _ = traced(engine)
    lines, _ = real_strace(exe, tmp_path, *TRACE)
    assert _calls(strace_view(path, *TRACE)) == _calls(lines)


def test_a_successful_call_prints_what_the_device_wrote():
    """The response and the data in as the call left them (the exit records),
    not as given; the data in less its residue."""
    t = Trace()
    head = bytearray(160)
    struct.pack_into("<iIII Q", head, 0, ord("Q"), 0, 0, 2, 0x5000)      # the request
    struct.pack_into("<Q", head, 48, 0x6000)                              # response
    struct.pack_into("<I", head, 68, 4)                   # din_xfer_len
    struct.pack_into("<Q", head, 80, 0x7000)              # din_xferp
    given = bytes(head)
    struct.pack_into("<I", head, 132, 3)                  # response_len
    struct.pack_into("<i", head, 136, 1)                  # din_resid
    t.call("ioctl", 3, SG_IO, 0x4000)
    t.stru(b"ioc", given)
    t.array(b"sg_cmd", 1, b"\x12\x00")
    t.array(b"sg_data", 1, bytes(4))
    t.stru(b"ioc", bytes(head))
    t.array(b"sg_sense", 1, b"\x70\x00\x05")
    t.array(b"sg_data", 1, b"abcd")
    t.ret("ioctl", 0)
    line, = t.lines()
    assert ('request="\\x12\\x00", ' in line and 'response_len=3, response="\\x70\\x00\\x05", '
            'din_xferp="\\x61\\x62\\x63", ' in line and line.endswith("}) = 0"))

"""kdump --strace: the IDE drive's requests (HDIO, strace's hdio.c), the block
device's (BLK*, block.c) and the loop device's (LOOP_*, loop.c): numbers from
before _IOC whose memory the plan's IOCTL_BLOCK cases read, under each engine
(fd -1: no device is needed), and the answers a driver writes, from hand-built
records (they need a device that answers)."""

from __future__ import annotations

import os
import struct

from ioctl_support import ioctl_lines, traced_program
from test_ioctl_view import ADDR, EBADF, Trace

BLOCK_C = r"""
#include <linux/blkpg.h>
#include <linux/blktrace_api.h>
#include <linux/fs.h>
#include <linux/hdreg.h>
#include <linux/loop.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    struct hd_drive_cmd_hdr cmd = {.command = 0xca, .sector_number = 1, .feature = 2};
    int hwif[3] = {1, 0x20, -1}, ro = 1, bsz = 4096;
    unsigned long long range[2] = {512, 1024};
    struct blkpg_partition part = {.start = 512, .length = 1024, .pno = 2, .devname = "sdb2"};
    struct blkpg_ioctl_arg pg = {.op = BLKPG_DEL_PARTITION, .datalen = sizeof part,
                                 .data = &part};
    struct blk_user_trace_setup buts;
    struct loop_info64 info;
    struct loop_config config;
    memset(&buts, 0, sizeof buts);
    buts.act_mask = 3;
    buts.buf_size = 4096;
    buts.buf_nr = 4;
    buts.pid = 77;
    memset(&info, 0, sizeof info);
    info.lo_offset = 0x200;
    info.lo_number = 7;
    info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    strcpy((char *) info.lo_file_name, "disk.img");
    memset(&config, 0, sizeof config);
    config.fd = 5;
    config.block_size = 512;
    config.info = info;
    config.__reserved[7] = 9;
    ioctl(-1, HDIO_DRIVE_CMD, &cmd);
    ioctl(-1, HDIO_DRIVE_RESET, hwif);
    ioctl(-1, HDIO_GETGEO, 0);
    ioctl(-1, HDIO_SET_NICE, 0x22UL);
    ioctl(-1, BLKROSET, &ro);
    ioctl(-1, BLKBSZSET, &bsz);
    ioctl(-1, BLKDISCARD, range);
    ioctl(-1, BLKPG, &pg);
    ioctl(-1, BLKTRACESETUP, &buts);
    ioctl(-1, BLKRRPART, 0);
    ioctl(-1, LOOP_SET_STATUS64, &info);
    ioctl(-1, LOOP_CONFIGURE, &config);
    ioctl(-1, LOOP_SET_FD, 3);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
INFO64 = 'lo_offset=0x200, lo_number=7, lo_flags=LO_FLAGS_READ_ONLY|LO_FLAGS_AUTOCLEAR, ' \
    'lo_file_name="disk.img"'


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    data = traced_program(engine, tmp_path, "block", BLOCK_C)
    lines = ioctl_lines(data)
    assert lines[:4] == [line + FAILED for line in (
        "ioctl(-1, HDIO_DRIVE_CMD, {command=ATA_CMD_WRITE, sector_number=1, feature=2, "
        "sector_count=0})",
        "ioctl(-1, HDIO_DRIVE_RESET, [0x1, 0x20, 0xffffffff])",
        "ioctl(-1, HDIO_GETGEO, NULL)",
        "ioctl(-1, HDIO_SET_NICE, 1 << IDE_NICE_ATAPI_OVERLAP|0x20)")]
    assert lines[4:7] == [line + FAILED for line in (
        "ioctl(-1, BLKROSET, [1])",
        "ioctl(-1, BLKBSZSET, [4096])",
        "ioctl(-1, BLKDISCARD, [512, 1024])")]
    assert lines[7:] == [line + FAILED for line in (
        "ioctl(-1, BLKPG, {op=BLKPG_DEL_PARTITION, flags=0, datalen=152, data={start=512, "
        'length=1024, pno=2, devname="sdb2", volname=""}})',
        "ioctl(-1, BLKTRACESETUP, {act_mask=3, buf_size=4096, buf_nr=4, start_lba=0, "
        "end_lba=0, pid=77})",
        "ioctl(-1, BLKRRPART)",
        f"ioctl(-1, LOOP_SET_STATUS64, {{{INFO64}, ...}})",
        f"ioctl(-1, LOOP_CONFIGURE, {{fd=5, block_size=512, info={{{INFO64}, ...}}, "
        "__reserved=[0, 0, 0, 0, 0, 0, 0, 0x9]})",
        "ioctl(-1, LOOP_SET_FD, 3)")]
    raw = ioctl_lines(data, "-Xraw")
    assert raw[0] == ("ioctl(-1, 0x31f, {command=0xca, sector_number=1, feature=2, "
                      "sector_count=0})" + FAILED)
    assert raw[3] == "ioctl(-1, 0x329, 0x22)" + FAILED
    # -e verbose=none: strace's loop.c reads no struct then, hdio.c does
    quiet = ioctl_lines(data, "-e", "verbose=none")
    assert quiet[10].startswith("ioctl(-1, LOOP_SET_STATUS64, 0x7")
    assert quiet[0] == lines[0]


HDIO_GETGEO, HDIO_DRIVE_CMD, HDIO_GET_NICE, HDIO_GET_BUSSTATE = 0x301, 0x31F, 0x30C, 0x31A
HDIO_SET_BUSSTATE, HDIO_GET_IDENTITY = 0x32D, 0x30D
BLKTRACESETUP, BLKBSZGET, BLKSSZGET = 0xC0481273, 0x80081270, 0x1268
LOOP_GET_STATUS, LOOP_SET_STATUS = 0x4C03, 0x4C02


def test_the_answers_of_an_ide_drive():
    t = Trace()
    t.ioctl(HDIO_GETGEO, exit_=struct.pack("<BBHQ", 16, 63, 1024, 2048))
    t.ioctl(HDIO_DRIVE_CMD, entry=bytes([0xEC, 0, 0, 1]), exit_=bytes([0x50, 0, 1, 1]))
    t.ioctl(HDIO_DRIVE_CMD, entry=bytes([0xE5, 0, 0, 0]), ret=-EBADF)
    t.ioctl(HDIO_GET_NICE, exit_=struct.pack("<Q", 0x3))
    t.ioctl(HDIO_GET_BUSSTATE, exit_=struct.pack("<Q", 1))
    t.ioctl(HDIO_GET_NICE)                                  # the answer not recorded
    t.ioctl(HDIO_SET_BUSSTATE, arg=2)
    t.ioctl(HDIO_GET_IDENTITY, exit_=b"WD" + bytes(510))
    assert t.lines()[:-1] == [
        "ioctl(3, HDIO_GETGEO, {heads=16, sectors=63, cylinders=1024, start=2048}) = 0",
        "ioctl(3, HDIO_DRIVE_CMD, {command=ATA_CMD_ID_ATA, sector_number=0, feature=0, "
        f"sector_count=1}} => {{status=0x50, error=0, nsector=1, buf={ADDR + 4:#x}}}) = 0",
        "ioctl(3, HDIO_DRIVE_CMD, {command=ATA_CMD_CHK_POWER, sector_number=0, feature=0, "
        "sector_count=0}) = -1 EBADF (Bad file descriptor)",
        "ioctl(3, HDIO_GET_NICE, [1 << IDE_NICE_DSC_OVERLAP|1 << IDE_NICE_ATAPI_OVERLAP]) = 0",
        "ioctl(3, HDIO_GET_BUSSTATE, [BUSSTATE_ON]) = 0",
        f"ioctl(3, HDIO_GET_NICE, {ADDR:#x}) = 0",
        "ioctl(3, HDIO_SET_BUSSTATE, BUSSTATE_TRISTATE) = 0",
    ]
    assert t.lines()[-1] == 'ioctl(3, HDIO_GET_IDENTITY, "WD' + "\\0" * 30 + '"...) = 0'
    assert t.lines("-Xverbose")[3] == (
        "ioctl(3, 0x30c /* HDIO_GET_NICE */, [0x3 /* 1 << IDE_NICE_DSC_OVERLAP|"
        "1 << IDE_NICE_ATAPI_OVERLAP */]) = 0")


def test_the_answers_of_a_block_device():
    t = Trace()
    setup = struct.pack("<32sH2xII4xQQI4x", b"", 1, 512, 2, 0, 100, os.getpid())
    t.ioctl(BLKTRACESETUP, entry=setup, exit_=struct.pack("<32s", b"loop0") + setup[32:])
    t.ioctl(BLKBSZGET, exit_=struct.pack("<Q", 4096))
    t.ioctl(BLKSSZGET)                          # an old-style getter: its answer unrecorded
    t.ioctl(BLKBSZGET, ret=-EBADF)
    assert t.lines() == [
        "ioctl(3, BLKTRACESETUP, {act_mask=1, buf_size=512, buf_nr=2, start_lba=0, "
        f'end_lba=100, pid={os.getpid()}, name="loop0"}}) = 0',
        "ioctl(3, BLKBSZGET, [4096]) = 0",
        f"ioctl(3, BLKSSZGET, {ADDR:#x}) = 0",
        f"ioctl(3, BLKBSZGET, {ADDR:#x}) = -1 EBADF (Bad file descriptor)",
    ]


def test_a_loop_device_s_status_abbreviated_and_whole():
    t = Trace()
    info = struct.pack("<i4xQQQIIII64s32s2Q4s4x", 0, (7 << 8) | 1, 12, 0x801, 0, 1, 2, 4,
                       b"/tmp/img", b"k", 5, 6, b"\0\1\0\0")
    t.ioctl(LOOP_GET_STATUS, exit_=info)
    t.ioctl(LOOP_SET_STATUS, entry=info, ret=-EBADF)
    assert t.lines() == [
        "ioctl(3, LOOP_GET_STATUS, {lo_number=0, lo_offset=0, lo_encrypt_type=LO_CRYPT_XOR, "
        'lo_encrypt_key_size=2, lo_flags=LO_FLAGS_AUTOCLEAR, lo_name="/tmp/img", '
        'lo_encrypt_key="k\\0", ...}) = 0',
        "ioctl(3, LOOP_SET_STATUS, {lo_number=0, lo_offset=0, lo_encrypt_type=LO_CRYPT_XOR, "
        'lo_encrypt_key_size=2, lo_flags=LO_FLAGS_AUTOCLEAR, lo_name="/tmp/img", '
        'lo_encrypt_key="k\\0", ...}) = -1 EBADF (Bad file descriptor)',
    ]
    assert t.lines("-v")[0] == (
        "ioctl(3, LOOP_GET_STATUS, {lo_number=0, lo_device=makedev(0x7, 0x1), lo_inode=12, "
        "lo_rdevice=makedev(0x8, 0x1), lo_offset=0, lo_encrypt_type=LO_CRYPT_XOR, "
        'lo_encrypt_key_size=2, lo_flags=LO_FLAGS_AUTOCLEAR, lo_name="/tmp/img", '
        'lo_encrypt_key="k\\0", lo_init=[0x5, 0x6], reserved=[0, 0x1, 0, 0]}) = 0')
    assert t.lines("-e", "verbose=none")[0] == f"ioctl(3, LOOP_GET_STATUS, {ADDR:#x}) = 0"

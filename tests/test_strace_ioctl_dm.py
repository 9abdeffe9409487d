"""kdump --strace: the block-device drivers' requests of strace's dm.c (device
mapper), mtd.c (flash, type 'M', a mixer's type too: ``MIXER_READ(17) or
ECCGETLAYOUT``), ubi.c and nbd_ioctl.c.  A real program (fd -1: no device
is needed) under each engine, and hand-built records for the answers of a
driver that succeeds."""

from __future__ import annotations

import struct

from ioctl_support import ioctl_lines, traced_program
from test_ioctl_view import ADDR, EBADF, Trace

DEVICES_C = r"""
#include <linux/dm-ioctl.h>
#include <linux/nbd.h>
#include <mtd/mtd-abi.h>
#include <mtd/ubi-user.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    static struct { struct dm_ioctl ioc; char data[64]; } dm;
    memset(&dm, 0, sizeof dm);
    dm.ioc.version[0] = 4; dm.ioc.version[1] = 1; dm.ioc.version[2] = 2;
    dm.ioc.data_size = sizeof dm;
    dm.ioc.data_start = offsetof(struct dm_ioctl, name) + 1;
    dm.ioc.dev = 0x1234;
    dm.ioc.flags = DM_SUSPEND_FLAG | DM_READONLY_FLAG | 0x80;
    strcpy(dm.ioc.name, "nnn");
    ioctl(-1, DM_DEV_SUSPEND, &dm);
    ioctl(-1, DM_DEV_RENAME, &dm);
    dm.ioc.version[0] = 5;
    ioctl(-1, DM_LIST_DEVICES, &dm);

    struct erase_info_user64 erase = {.start = 0x1000, .length = 0x2000};
    struct mtd_write_req wr = {.start = 1, .len = 2, .ooblen = 3, .usr_data = 0,
                               .usr_oob = 0xdead, .mode = MTD_OPS_RAW};
    ioctl(-1, MEMERASE64, &erase);
    ioctl(-1, MEMWRITE, &wr);
    ioctl(-1, MTDFILEMODE, MTD_FILE_MODE_RAW);
    ioctl(-1, ECCGETSTATS, 0);

    struct ubi_mkvol_req mk;
    memset(&mk, 0, sizeof mk);
    mk.vol_id = 7; mk.bytes = 4096; mk.vol_type = UBI_DYNAMIC_VOLUME; mk.name_len = 3;
    strcpy(mk.name, "volume");
    struct ubi_set_vol_prop_req prop = {.property = UBI_VOL_PROP_DIRECT_WRITE, .value = 1};
    long long up = -5;
    ioctl(-1, UBI_IOCMKVOL, &mk);
    ioctl(-1, UBI_IOCSETVOLPROP, &prop);
    ioctl(-1, UBI_IOCVOLUP, &up);

    ioctl(-1, NBD_SET_FLAGS, NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_TRIM | 0x10000);
    ioctl(-1, NBD_SET_SOCK, 0);
    ioctl(-1, NBD_DISCONNECT);
    return 0;
}
"""

# requests the plan reads in though their _IOC bits do not say so: mtd's _IOR
# the driver reads, UBI_IOCEBCH's struct larger than its bits, a dm header alone
PLAN_CASES_C = r"""
#include <linux/dm-ioctl.h>
#include <mtd/mtd-abi.h>
#include <mtd/ubi-user.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
int main(void) {
    int otp = MTD_OTP_USER, lnum = 9;
    struct otp_info oi = {.start = 0x10, .length = 0x20, .locked = 1};
    struct erase_info_user eiu = {.start = 0x30, .length = 0x40};
    struct ubi_leb_change_req leb = {.lnum = 5, .bytes = 6, .dtype = 1}  /* UBI_LONGTERM */;
    ioctl(-1, OTPSELECT, &otp);
    ioctl(-1, OTPLOCK, &oi);
    ioctl(-1, MEMISLOCKED, &eiu);
    ioctl(-1, UBI_IOCEBISMAP, &lnum);
    ioctl(-1, UBI_IOCEBCH, &leb);
    /* a header just before an unmapped page: no byte of data[] to read */
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    struct dm_ioctl *dm = (void *) (page + 4096 - offsetof(struct dm_ioctl, data));
    memset(dm, 0, offsetof(struct dm_ioctl, data));
    dm->version[0] = 4;
    dm->data_size = sizeof *dm;
    dm->data_start = sizeof *dm;
    strcpy(dm->name, "old");
    ioctl(-1, DM_DEV_RENAME, dm);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
DM_HEAD = "{version=[4, 1, 2], data_size=376"


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    data = traced_program(engine, tmp_path, "devices", DEVICES_C)
    device = 'dev=makedev(0x12, 0x34), name="nnn"'
    assert ioctl_lines(data) == [line + FAILED for line in (
        f"ioctl(-1, DM_DEV_SUSPEND, [{DM_HEAD}, {device}, "
        "flags=DM_READONLY_FLAG|DM_SUSPEND_FLAG|0x80}])",
        f"ioctl(-1, DM_DEV_RENAME, [{DM_HEAD}, data_start=49, {device}, event_nr=0, "
        "flags=DM_READONLY_FLAG|DM_SUSPEND_FLAG|0x80}, ...])",
        "ioctl(-1, DM_LIST_DEVICES, [{version=[5, 1, 2] "
        "/* unsupported device mapper ABI version */}])",
        "ioctl(-1, MIXER_WRITE(20) or MEMERASE64, {start=0x1000, length=0x2000})",
        "ioctl(-1, MEMWRITE, {start=0x1, len=0x2, ooblen=0x3, usr_data=NULL, "
        "usr_oob=0xdead, mode=MTD_OPS_RAW})",
        "ioctl(-1, MTDFILEMODE, MTD_FILE_MODE_RAW)",
        "ioctl(-1, MIXER_READ(18) or ECCGETSTATS, NULL)",
        "ioctl(-1, UBI_IOCMKVOL, {vol_id=7, alignment=0, bytes=4096, "
        'vol_type=UBI_DYNAMIC_VOLUME, flags=0, name_len=3, name="vol"...})',
        "ioctl(-1, UBI_IOCSETVOLPROP, {property=UBI_VOL_PROP_DIRECT_WRITE, value=0x1})",
        "ioctl(-1, UBI_IOCVOLUP, [-5])",
        "ioctl(-1, NBD_SET_FLAGS, NBD_FLAG_HAS_FLAGS|NBD_FLAG_SEND_TRIM|0x10000)",
        "ioctl(-1, NBD_SET_SOCK, 0)",
        "ioctl(-1, NBD_DISCONNECT)")]
    # -v: the payload inside the header (a string at data_start 49: the name's "nn")
    assert ioctl_lines(data, "-v")[1].endswith('flags=DM_READONLY_FLAG|DM_SUSPEND_FLAG|0x80}, '
                                           '{string="nn"}])' + FAILED)
    assert ioctl_lines(data, "-Xraw")[3] == "ioctl(-1, 0x40104d14, {start=0x1000, length=0x2000})" \
        + FAILED


def test_what_the_plan_reads_in_beyond_the_request_s_bits(engine, tmp_path):
    data = traced_program(engine, tmp_path, "plan_cases", PLAN_CASES_C)
    assert ioctl_lines(data) == [line + FAILED for line in (
        "ioctl(-1, MIXER_READ(13) or OTPSELECT, [MTD_OTP_USER])",
        "ioctl(-1, MIXER_READ(16) or OTPLOCK, {start=0x10, length=0x20, locked=1})",
        "ioctl(-1, MIXER_READ(23) or MEMISLOCKED, {start=0x30, length=0x40})",
        "ioctl(-1, UBI_IOCEBISMAP, [9])",
        "ioctl(-1, UBI_IOCEBCH, {lnum=5, bytes=6, dtype=UBI_LONGTERM})",
        "ioctl(-1, DM_DEV_RENAME, [{version=[4, 0, 0], data_size=312, data_start=312, "
        'name="old", event_nr=0, flags=0}, ...])')]


DM_VERSION, DM_TABLE_STATUS, DM_TARGET_MSG = 0xC138FD00, 0xC138FD0C, 0xC138FD0E
UBI_IOCATT, MEMGETREGIONINFO, MEMGETINFO = 0x40186F40, 0xC0104D08, 0x80204D01
_DM_HEADER = struct.Struct("<3IIIIiIIIQ128s129s7x")


def _dm(data_size=312, data_start=312, target_count=0, open_count=0, flags=0, event_nr=0,
        minor=0, payload=b"") -> bytes:
    return _DM_HEADER.pack(4, minor, 0, data_size, data_start, target_count, open_count, flags,
                           event_nr, 0, 0, b"", b"") + payload


def test_a_driver_s_answers():
    t = Trace()
    t.ioctl(DM_VERSION, entry=_dm(), exit_=_dm(minor=48, flags=1 << 2))
    spec = struct.pack("<QQiI16s", 0, 100, 0, 0, b"linear") + b"8:1 0\0\0"
    t.ioctl(DM_TABLE_STATUS, entry=_dm(data_size=400),
            exit_=_dm(data_size=400, target_count=1, open_count=2, event_nr=3,
                      flags=1 << 4, payload=spec))
    t.ioctl(DM_TARGET_MSG, entry=_dm(data_size=400, payload=struct.pack("<Q", 7) + b"hi\0"),
            ret=-EBADF)
    t.ioctl(UBI_IOCATT, entry=struct.pack("<iiih10x", -1, 3, 0, 20))
    t.ioctl(MEMGETREGIONINFO, entry=struct.pack("<4I", 0, 0, 0, 2),
            exit_=struct.pack("<4I", 0x40000, 0x20000, 8, 2))
    t.ioctl(MEMGETINFO, exit_=struct.pack("<B3xIIIIIQ", 4, 0x400, 1 << 20, 0x20000, 0x800,
                                          0x40, 0))
    t.ioctl(MEMGETINFO, ret=-EBADF)
    assert t.lines("-v") == [
        "ioctl(3, DM_VERSION, [{version=[4, 0, 0], data_size=312, flags=0}] => "
        "[{version=[4, 48, 0], data_size=312, flags=DM_EXISTS_FLAG}]) = 0",
        "ioctl(3, DM_TABLE_STATUS, [{version=[4, 0, 0], data_size=400, data_start=312, "
        "flags=0}] => [{version=[4, 0, 0], data_size=400, data_start=312, target_count=1, "
        "open_count=2, event_nr=3, flags=DM_STATUS_TABLE_FLAG}, {sector_start=0, length=100, "
        'status=0, target_type="linear", string="8:1 0"}]) = 0',
        "ioctl(3, DM_TARGET_MSG, [{version=[4, 0, 0], data_size=400, data_start=312, "
        'flags=0}, {sector=7, message="hi"}]) = -1 EBADF (Bad file descriptor)',
        # the number the driver gives: the entry's int, as no exit copy is recorded
        "ioctl(3, UBI_IOCATT, {ubi_num=-1, mtd_num=3, vid_hdr_offset=0, max_beb_per1024=20} "
        "=> [-1]) = 0",
        "ioctl(3, MEMGETREGIONINFO, {regionindex=0x2, offset=0x40000, erasesize=0x20000, "
        "numblocks=0x8}) = 0",
        "ioctl(3, MIXER_READ(1) or MEMGETINFO, {type=MTD_NANDFLASH, flags=MTD_WRITEABLE, "
        "size=0x100000, erasesize=0x20000, writesize=0x800, oobsize=0x40, padding=0}) = 0",
        f"ioctl(3, MIXER_READ(1) or MEMGETINFO, {ADDR:#x}) = -1 EBADF (Bad file descriptor)",
    ]


DM_LIST_DEVICES, DM_LIST_VERSIONS, DM_TABLE_DEPS = 0xC138FD02, 0xC138FD0D, 0xC138FD0B


def test_a_driver_s_lists():
    """The lists a successful call answers, past the header: recorded whole
    they print as strace prints them; as recorded now (the request's
    _IOC_SIZE bytes), their address, as strace prints memory it cannot read."""
    # a device's event_nr follows its name at the next 8 bytes' boundary
    # (ADDR + 312 + 12 + 5 -> 24 bytes into the record)
    first = struct.pack("<QI", 0xFD00, 32) + b"vg-a\0" + bytes(7) + struct.pack("<I", 5) + bytes(4)
    devices = first + struct.pack("<QI", 0xFD01, 0) + b"vg-b\0"
    versions = (struct.pack("<4I", 24, 1, 14, 0) + b"linear\0\0" + struct.pack("<4I", 0, 1, 2, 3)
                + b"zero\0")
    deps = struct.pack("<I4xQQ", 2, 0x801, 0x802)
    t = Trace()
    for request, payload in ((DM_LIST_DEVICES, devices), (DM_LIST_VERSIONS, versions),
                             (DM_TABLE_DEPS, deps), (DM_TABLE_DEPS, b"")):
        t.ioctl(request, entry=_dm(data_size=16384),
                exit_=_dm(data_size=16384, minor=48, payload=payload))
    answers = [line.split(" => ")[1] for line in t.lines("-v")]
    head = "[{version=[4, 48, 0], data_size=16384, data_start=312"
    status = "target_count=0, open_count=0, event_nr=0"
    assert answers == [
        f'{head}, flags=0}}, {{dev=makedev(0xfd, 0), name="vg-a", event_nr=5}}, '
        '{dev=makedev(0xfd, 0x1), name="vg-b"}]) = 0',
        f'{head}, flags=0}}, {{name="linear", version=[1, 14, 0]}}, '
        '{name="zero", version=[1, 2, 3]}]) = 0',
        f"{head}, {status}, flags=0}}, {{count=2, deps=[makedev(0x8, 0x1), "
        "makedev(0x8, 0x2)]}]) = 0",
        f"{head}, {status}, flags=0}}, {ADDR + 312:#x}]) = 0",
    ]
    assert t.lines()[0].endswith('flags=0}, ...]) = 0')

"""kdump --strace: btrfs's requests (type 0x94, strace's btrfs.c and
fs_0x94_ioctl.c): the structs a program gives, under each engine (fd -1: no
btrfs is needed), with what their pointers hold (a qgroup_inherit, the clone
sources) and a dedupe's infos; the answers a filesystem writes, from
hand-built records."""

from __future__ import annotations

import shutil
import struct

import pytest

from engine_support import trace_command
from ptrace_support import build
from test_ioctl_view import Trace, bad_fd_ioctls

BTRFS_C = r"""
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    struct btrfs_ioctl_vol_args vol = {.fd = 2};
    struct btrfs_ioctl_vol_args_v2 v2 = {
        .fd = 2, .flags = BTRFS_SUBVOL_RDONLY | BTRFS_SUBVOL_QGROUP_INHERIT};
    struct btrfs_qgroup_inherit *inherit = calloc(1, sizeof(*inherit) + 2 * sizeof(__u64));
    __u64 sources[2] = {BTRFS_FIRST_FREE_OBJECTID, 300};
    struct btrfs_ioctl_send_args send = {.send_fd = 1, .clone_sources_count = 2,
                                         .clone_sources = sources, .parent_root = 5};
    struct file_dedupe_range *dedupe = calloc(1, sizeof(*dedupe) + 3 * sizeof(dedupe->info[0]));
    struct btrfs_ioctl_defrag_range_args defrag = {
        .len = -1ULL, .flags = BTRFS_DEFRAG_RANGE_COMPRESS, .compress_type = 3};
    struct btrfs_ioctl_search_args search = {.key = {
        .tree_id = 5, .min_objectid = 256, .max_objectid = -256ULL, .max_type = -1U,
        .nr_items = 4}};
    __u64 flags = BTRFS_SUBVOL_RDONLY;
    strcpy(vol.name, "snap");
    strcpy(v2.name, "sub");
    inherit->num_qgroups = 2;
    inherit->lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
    inherit->lim.max_rfer = 4096;
    inherit->qgroups[0] = 7;
    inherit->qgroups[1] = 8;
    v2.size = sizeof(*inherit) + 2 * sizeof(__u64);
    v2.qgroup_inherit = inherit;
    dedupe->src_length = 4096;
    dedupe->dest_count = 3;
    for (int i = 0; i < 3; i++) {
        dedupe->info[i].dest_fd = 1;
        dedupe->info[i].dest_offset = 4096 * i;
    }
    ioctl(-1, BTRFS_IOC_SNAP_CREATE, &vol);
    ioctl(-1, BTRFS_IOC_DEVICES_READY, &vol);
    ioctl(-1, BTRFS_IOC_SUBVOL_CREATE_V2, &v2);
    ioctl(-1, BTRFS_IOC_SEND, &send);
    ioctl(-1, FIDEDUPERANGE, dedupe);
    ioctl(-1, BTRFS_IOC_DEFRAG_RANGE, &defrag);
    ioctl(-1, BTRFS_IOC_TREE_SEARCH, &search);
    ioctl(-1, BTRFS_IOC_SUBVOL_SETFLAGS, &flags);
    ioctl(-1, BTRFS_IOC_BALANCE_CTL, 1);
    ioctl(-1, BTRFS_IOC_SYNC, 0);
    ioctl(-1, BTRFS_IOC_FS_INFO, 0);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
LIMIT = "lim={flags=BTRFS_QGROUP_LIMIT_MAX_RFER, max_rfer=4096, max_excl=0, rsv_rfer=0, rsv_excl=0}"
KEY = ("min_offset=0, max_offset=0, min_transid=0, max_transid=0, min_type=0, "
       "max_type=UINT32_MAX, nr_items=4")
INFOS = "{dest_fd=1, dest_offset=0}, {dest_fd=1, dest_offset=4096}"


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "btrfs", BTRFS_C)
    out = tmp_path / "b.out"
    trace_command(engine, [exe], out, "cinst")
    assert bad_fd_ioctls(out.read_bytes(), "-v") == [line + FAILED for line in (
        'ioctl(-1, BTRFS_IOC_SNAP_CREATE, {fd=2, name="snap"})',
        'ioctl(-1, BTRFS_IOC_DEVICES_READY, {fd=2, name="snap"})',       # (an _IOR read in)
        "ioctl(-1, BTRFS_IOC_SUBVOL_CREATE_V2, {fd=2, flags=BTRFS_SUBVOL_RDONLY|"
        "BTRFS_SUBVOL_QGROUP_INHERIT, size=88, qgroup_inherit={flags=0, num_qgroups=2, "
        f'num_ref_copies=0, num_excl_copies=0, {LIMIT}, qgroups=[7, 8]}}, name="sub"}})',
        "ioctl(-1, BTRFS_IOC_SEND, {send_fd=1, clone_sources_count=2, "
        "clone_sources=[BTRFS_FIRST_FREE_OBJECTID, 300], parent_root=BTRFS_FS_TREE_OBJECTID, "
        "flags=0})",
        "ioctl(-1, BTRFS_IOC_FILE_EXTENT_SAME or FIDEDUPERANGE, {src_offset=0, "
        f"src_length=4096, dest_count=3, info=[{INFOS}, {{dest_fd=1, dest_offset=8192}}]}})",
        "ioctl(-1, BTRFS_IOC_DEFRAG_RANGE, {start=0, len=UINT64_MAX, "
        "flags=BTRFS_DEFRAG_RANGE_COMPRESS, extent_thresh=0, "
        "compress_type=BTRFS_COMPRESS_ZSTD})",
        "ioctl(-1, BTRFS_IOC_TREE_SEARCH, {key={tree_id=BTRFS_FS_TREE_OBJECTID, "
        "min_objectid=BTRFS_FIRST_FREE_OBJECTID, max_objectid=BTRFS_LAST_FREE_OBJECTID, "
        f"{KEY}}}}})",
        "ioctl(-1, BTRFS_IOC_SUBVOL_SETFLAGS, BTRFS_SUBVOL_RDONLY)",
        "ioctl(-1, BTRFS_IOC_BALANCE_CTL, BTRFS_BALANCE_CTL_PAUSE)",
        "ioctl(-1, BTRFS_IOC_SYNC)",
        "ioctl(-1, BTRFS_IOC_FS_INFO, NULL)")]
    abbrev = bad_fd_ioctls(out.read_bytes())
    assert abbrev[2].endswith(f"{LIMIT}, ...}}, name=\"sub\"}})" + FAILED)
    assert abbrev[3].startswith("ioctl(-1, BTRFS_IOC_SEND, {send_fd=1, clone_sources_count=2, "
                                "clone_sources=0x")
    assert f"info=[{INFOS}, ...]}}" in abbrev[4]
    assert abbrev[6] == ("ioctl(-1, BTRFS_IOC_TREE_SEARCH, {key={tree_id=BTRFS_FS_TREE_OBJECTID, "
                         f"{KEY}}}}})" + FAILED)
    # -e verbose=none: strace reads no struct (the address), values still print
    quiet = bad_fd_ioctls(out.read_bytes(), "-e", "verbose=none")
    assert quiet[0].startswith("ioctl(-1, BTRFS_IOC_SNAP_CREATE, 0x7")
    assert quiet[8] == "ioctl(-1, BTRFS_IOC_BALANCE_CTL, BTRFS_BALANCE_CTL_PAUSE)" + FAILED
    assert bad_fd_ioctls(out.read_bytes(), "-Xverbose")[8] == (
        "ioctl(-1, 0x40049421 /* BTRFS_IOC_BALANCE_CTL */, 0x1 /* BTRFS_BALANCE_CTL_PAUSE */)"
        + FAILED)


BTRFS_IOC_BALANCE_PROGRESS, BTRFS_IOC_FS_INFO = 0x84009422, 0x8400941F
BTRFS_IOC_SUBVOL_CREATE_V2, BTRFS_IOC_TREE_SEARCH = 0x50009418, 0xD0009411
FIDEDUPERANGE = 0xC0189436


def test_the_answers_of_a_filesystem():
    t = Trace()
    balance = bytearray(1024)
    struct.pack_into("<QQ", balance, 0, 1, 1)          # flags DATA, state RUNNING
    struct.pack_into("<9Q", balance, 16, 1, 50, 0, 0, 2**64 - 1, 0, 0, 0, 2)
    t.ioctl(BTRFS_IOC_BALANCE_PROGRESS, exit_=bytes(balance))
    info = bytearray(1024)
    struct.pack_into("<QQ16s3IHHQQ", info, 0, 1, 1, bytes(range(16)), 16384, 4096, 4096, 0, 4,
                     3, 9)                              # CSUM_INFO|GENERATION
    t.ioctl(BTRFS_IOC_FS_INFO, exit_=bytes(info))
    v2 = struct.pack("<q4Q", 3, 0, 2, 0, 0).ljust(56, b"\0") + b"sub".ljust(4040, b"\0")
    t.ioctl(BTRFS_IOC_SUBVOL_CREATE_V2, entry=v2,
            exit_=v2[:8] + struct.pack("<Q", 77) + v2[16:])
    key = struct.pack("<7Q3I", 5, 256, 2**64 - 256, 0, 0, 0, 0, 0, 0, 1).ljust(104, b"\0")
    item = struct.pack("<4QI", 9, 256, 0, 1, 160)
    t.ioctl(BTRFS_IOC_TREE_SEARCH, entry=key.ljust(4096, b"\0"),
            exit_=(key + item).ljust(4096, b"\0"))
    dedupe = struct.pack("<QQH6x", 0, 4096, 1) + struct.pack("<qQQi4x", 4, 0, 0, 0)
    t.ioctl(FIDEDUPERANGE, entry=dedupe, exit_=dedupe[:24] + struct.pack("<qQQi4x", 4, 0, 4096, 0))
    lines = t.lines("-v")
    assert lines == [
        "ioctl(3, BTRFS_IOC_BALANCE_PROGRESS, {flags=BTRFS_BALANCE_DATA, "
        "state=BTRFS_BALANCE_STATE_RUNNING, data={profiles=BTRFS_BLOCK_GROUP_DATA, usage=50, "
        "devid=makedev(0, 0), pstart=0, pend=UINT64_MAX, vstart=0, vend=0, target=0, "
        "flags=BTRFS_BALANCE_ARGS_USAGE}}) = 0",
        "ioctl(3, BTRFS_IOC_FS_INFO, {max_id=1, num_devices=1, "
        "fsid=00010203-0405-0607-0809-0a0b0c0d0e0f, nodesize=16384, sectorsize=4096, "
        "clone_alignment=4096, csum_type=BTRFS_CSUM_TYPE_CRC32, csum_size=4, "
        "flags=BTRFS_FS_INFO_FLAG_CSUM_INFO|BTRFS_FS_INFO_FLAG_GENERATION, generation=9}) = 0",
        'ioctl(3, BTRFS_IOC_SUBVOL_CREATE_V2, {fd=3, flags=BTRFS_SUBVOL_RDONLY, name="sub"} '
        "=> {transid=77}) = 0",
        "ioctl(3, BTRFS_IOC_TREE_SEARCH, {key={tree_id=BTRFS_FS_TREE_OBJECTID, "
        "min_objectid=BTRFS_FIRST_FREE_OBJECTID, max_objectid=BTRFS_LAST_FREE_OBJECTID, "
        "min_offset=0, max_offset=0, min_transid=0, max_transid=0, min_type=0, max_type=0, "
        "nr_items=1}} => {key={nr_items=1}, buf=[{transid=9, "
        "objectid=BTRFS_FIRST_FREE_OBJECTID, offset=0, type=BTRFS_INODE_ITEM_KEY, "
        "len=160}]}) = 0",
        "ioctl(3, BTRFS_IOC_FILE_EXTENT_SAME or FIDEDUPERANGE, {src_offset=0, "
        "src_length=4096, dest_count=1, info=[{dest_fd=4, dest_offset=0}]} => "
        "{info=[{bytes_deduped=4096, status=0}]}) = 0",
    ]
    assert t.lines()[3].endswith("=> {key={nr_items=1}, ...}) = 0")

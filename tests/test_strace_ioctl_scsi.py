"""kdump --strace: the SCSI generic requests (SG_*, strace's scsi.c, sg_io_v3.c,
sg_io_v4.c), the TEE's (tee.c), KVM's (kvm.c) and FS_IOC_FIEMAP (fs_f_ioctl.c).
A program's calls under each engine (fd -1: no device is needed; SG_IO and the
SG ints are numbers from before _IOC that the plan's IOCTL_SCSI cases read), and
the answers a driver writes, from hand-built records (they need a device)."""

from __future__ import annotations

import struct

from ioctl_support import ioctl_lines, traced_program
from test_ioctl_view import ADDR, EBADF, Trace

SCSI_C = r"""
#include <linux/bsg.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/tee.h>
#include <scsi/sg.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    struct sg_io_hdr v3;
    struct sg_io_v4 v4;
    int reset = 0x100 | SG_SCSI_RESET_BUS, timeout = 60;     /* 0x100: NO_ESCALATE */
    struct tee_ioctl_shm_alloc_data shm = {.size = 0x1000, .flags = 1};
    struct fiemap fm = {.fm_start = 0, .fm_length = ~0ULL, .fm_flags = FIEMAP_FLAG_SYNC,
                        .fm_extent_count = 4};
    struct kvm_regs regs;
    memset(&v3, 0, sizeof v3);
    v3.interface_id = 'S';
    v3.dxfer_direction = SG_DXFER_FROM_DEV;
    v3.cmd_len = 6;
    v3.cmdp = (unsigned char *) 0x1000;
    v3.timeout = 20;
    v3.flags = 0x10;                /* SG_FLAG_Q_AT_TAIL (not in glibc's sg.h) */
    memset(&v4, 0, sizeof v4);
    v4.guard = 'Q';
    v4.subprotocol = BSG_SUB_PROTOCOL_SCSI_CMD;
    v4.flags = BSG_FLAG_Q_AT_HEAD;
    memset(&regs, 0, sizeof regs);
    regs.rax = 2;
    regs.rip = 0x1000;
    ioctl(-1, SG_IO, &v3);
    ioctl(-1, SG_IO, &v4);
    ioctl(-1, SG_SCSI_RESET, &reset);
    ioctl(-1, SG_SET_TIMEOUT, &timeout);
    ioctl(-1, SG_SET_TRANSFORM, 0x2a);
    ioctl(-1, TEE_IOC_SHM_ALLOC, &shm);
    ioctl(-1, FS_IOC_FIEMAP, &fm);
    ioctl(-1, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
    ioctl(-1, KVM_SET_REGS, &regs);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
V3_RESPONSE = ("status=0, masked_status=0, msg_status=0, sb_len_wr=0, sbp=NULL, host_status=0, "
               "driver_status=0, resid=0, duration=0, info=0")


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    data = traced_program(engine, tmp_path, "scsi", SCSI_C)
    lines = ioctl_lines(data)
    assert lines == [line + FAILED for line in (
        "ioctl(-1, SG_IO, {interface_id='S', dxfer_direction=SG_DXFER_FROM_DEV, cmd_len=6, "
        "cmdp=0x1000, mx_sb_len=0, iovec_count=0, dxfer_len=0, timeout=20, "
        f'flags=SG_FLAG_Q_AT_TAIL, dxferp=NULL, {V3_RESPONSE}}})',
        "ioctl(-1, SG_IO, {guard='Q', protocol=BSG_PROTOCOL_SCSI, "
        "subprotocol=BSG_SUB_PROTOCOL_SCSI_CMD, request_len=0, request=NULL, request_tag=0, "
        "request_attr=0, request_priority=0, request_extra=0, max_response_len=0, "
        "dout_iovec_count=0, dout_xfer_len=0, din_iovec_count=0, din_xfer_len=0, "
        "dout_xferp=NULL, timeout=0, flags=BSG_FLAG_Q_AT_HEAD, usr_ptr=0, response_len=0, "
        "response=NULL, din_xferp=NULL, driver_status=0, transport_status=0, "
        "device_status=0, retry_delay=0, info=0, duration=0, response_len=0, din_resid=0, "
        "dout_resid=0, generated_tag=0})",
        "ioctl(-1, SG_SCSI_RESET, [SG_SCSI_RESET_NO_ESCALATE|SG_SCSI_RESET_BUS])",
        "ioctl(-1, SG_SET_TIMEOUT, [60])",
        "ioctl(-1, SG_SET_TRANSFORM, 0x2a)",
        "ioctl(-1, TEE_IOC_SHM_ALLOC, {size=0x1000, flags=TEE_IOCTL_SHM_MAPPED})",
        "ioctl(-1, FS_IOC_FIEMAP, {fm_start=0, fm_length=18446744073709551615, "
        "fm_flags=FIEMAP_FLAG_SYNC, fm_extent_count=4})",
        "ioctl(-1, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY)",
        "ioctl(-1, KVM_SET_REGS, {rax=0x2, ..., rsp=0, rbp=0, ..., rip=0x1000, rflags=0})")]
    raw = ioctl_lines(data, "-Xraw")
    assert raw[2] == "ioctl(-1, 0x2284, [0x100|0x2])" + FAILED      # strace's two parts


SG_IO, TEE_IOC_VERSION, TEE_IOC_INVOKE, TEE_IOC_SHM_REGISTER_FD = \
    0x2285, 0x800CA400, 0x8010A403, 0xC020A408
FS_IOC_FIEMAP, KVM_GET_SUPPORTED_CPUID, KVM_GET_SREGS = 0xC020660B, 0xC008AE05, 0x8138AE83
_V3 = struct.Struct("<iiBBHIQQQIIi4xQBBBBHHiII4x")


def _v3(direction: int, resid: int = 0, iid: int = ord("S")) -> bytes:
    return _V3.pack(iid, direction, 6, 0, 0, 8, 0x2000, 0x1000, 0, 5, 0, 0, 0, 2, 1, 0, 0, 0,
                    0, resid, 7, 1)


def test_an_sg_io_answer_and_headers_partly_read():
    t = Trace()
    t.ioctl(SG_IO, entry=_v3(-4), exit_=_v3(-4, resid=3))     # the device read 5 of 8 bytes
    t.ioctl(SG_IO, entry=_v3(-3), exit_=_v3(-3, iid=0))       # the driver changed the id
    t.ioctl(SG_IO, entry=b"Q\0\0\0" + bytes(84), ret=-EBADF)  # a v4 header's v3 part read
    t.ioctl(SG_IO, entry=b"\x01\0\0\0" + bytes(84), ret=-EBADF)
    t.ioctl(SG_IO, ret=-EBADF)
    request = ("cmd_len=6, cmdp=0x1000, mx_sb_len=0, iovec_count=0, dxfer_len=8, timeout=5, "
               "flags=0")
    assert t.lines() == [
        f"ioctl(3, SG_IO, {{interface_id='S', dxfer_direction=SG_DXFER_TO_FROM_DEV, {request}, "
        "dxferp=0x2000 => dxferp=0x2000, status=0x2, masked_status=0x1, msg_status=0, "
        "sb_len_wr=0, sbp=NULL, host_status=0, driver_status=0, resid=3, duration=7, "
        "info=SG_INFO_CHECK}) = 0",
        f"ioctl(3, SG_IO, {{interface_id='S', dxfer_direction=SG_DXFER_FROM_DEV, {request} "
        "=> interface_id=0}) = 0",
        f"ioctl(3, SG_IO, {{guard='Q', {ADDR + 4:#x}}}){FAILED}",
        f"ioctl(3, SG_IO, [1]){FAILED}",
        f"ioctl(3, SG_IO, {ADDR:#x}){FAILED}",
    ]


def test_the_answers_of_a_tee():
    t = Trace()
    t.ioctl(TEE_IOC_VERSION, exit_=struct.pack("<III", 1, 1, 5))
    t.ioctl(TEE_IOC_INVOKE, exit_=struct.pack("<QQ", 0x5000, 48))
    t.ioctl(TEE_IOC_INVOKE, ret=-EBADF)             # an _IOR read by the driver: unrecorded
    register_fd = struct.pack("<qQI4xi4x", 3, 0, 2, 0)
    t.ioctl(TEE_IOC_SHM_REGISTER_FD, entry=register_fd,
            exit_=struct.pack("<qQI4xi4x", 3, 0x2000, 2, 7))
    assert t.lines() == [
        "ioctl(3, TEE_IOC_VERSION, {impl_id=TEE_IMPL_ID_OPTEE, "
        "gen_caps=TEE_GEN_CAP_GP|TEE_GEN_CAP_REG_MEM, impl_caps=TEE_OPTEE_CAP_TZ}) = 0",
        "ioctl(3, TEE_IOC_INVOKE, {buf_len=48, buf_ptr=0x5000}) = 0",
        f"ioctl(3, TEE_IOC_INVOKE, {ADDR:#x}){FAILED}",
        "ioctl(3, _IOC(_IOC_READ|_IOC_WRITE, 0xa4, 0x8, 0x20), {fd=3, "
        "flags=TEE_IOCTL_SHM_DMA_BUF} => {size=0x2000, id=7}) = 0",
    ]


def test_fiemap_s_extents_and_kvm_s_answers():
    t = Trace()
    head = struct.pack("<QQIIII", 0, 4096, 0, 0, 2, 0)
    t.ioctl(FS_IOC_FIEMAP, entry=head, exit_=struct.pack("<QQIIII", 0, 4096, 0, 2, 2, 0))
    t.ioctl(FS_IOC_FIEMAP, entry=head, exit_=head)
    # the getter's kvm_cpuid2 is recorded at its exit only (its head, when the
    # entries the kernel wrote cannot be read)
    t.ioctl(KVM_GET_SUPPORTED_CPUID, exit_=struct.pack("<I4x", 61))
    t.ioctl(KVM_GET_SUPPORTED_CPUID, ret=-EBADF)
    segment = struct.pack("<QIH8B2x", 0xFFFF0000, 0xFFFF, 0xF000, 11, 1, 0, 0, 1, 0, 0, 0)
    t.ioctl(KVM_GET_SREGS, exit_=segment * 8 + bytes(312 - 8 * 24))
    head_text = "{fm_start=0, fm_length=4096, fm_flags=0, fm_extent_count=2}"
    cs = ("{base=0xffff0000, limit=65535, selector=61440, type=11, present=1, dpl=0, db=0, "
          "s=1, l=0, g=0, avl=0}")
    assert t.lines() == [
        f"ioctl(3, FS_IOC_FIEMAP, {head_text} => {{fm_flags=0, fm_mapped_extents=2, ...}}) = 0",
        f"ioctl(3, FS_IOC_FIEMAP, {head_text} => {{fm_flags=0, fm_mapped_extents=0, ...}}) = 0",
        "ioctl(3, KVM_GET_SUPPORTED_CPUID, {nent=61, entries=[...]}) = 0",
        f"ioctl(3, KVM_GET_SUPPORTED_CPUID, {ADDR:#x}){FAILED}",
        f"ioctl(3, KVM_GET_SREGS, {{cs={cs}, ...}}) = 0",
    ]
    verbose = t.lines("-v")
    assert verbose[:2] == [
        f"ioctl(3, FS_IOC_FIEMAP, {head_text} => {{fm_flags=0, fm_mapped_extents=2, "
        f"fm_extents={ADDR + 32:#x}}}) = 0",       # the extents after the head: unrecorded
        f"ioctl(3, FS_IOC_FIEMAP, {head_text} => {{fm_flags=0, fm_mapped_extents=0, "
        "fm_extents=[]}) = 0"]
    assert verbose[2] == \
        f"ioctl(3, KVM_GET_SUPPORTED_CPUID, {{nent=61, entries={ADDR + 8:#x}}}) = 0"
    assert verbose[4].endswith("gdt={base=0, limit=0}, idt={base=0, limit=0}, cr0=0, cr2=0, "
                               "cr3=0, cr4=0, cr8=0, efer=0, apic_base=0, "
                               "interrupt_bitmap=[0, 0, 0, 0]}) = 0")

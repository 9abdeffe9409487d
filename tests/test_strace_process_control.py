"""kdump --strace for process control: prctl, arch_prctl, personality, ptrace,
seccomp, the x86 descriptor-table calls and reboot, from hand-built records laid
out as the recording plan records them (strace 6.1's spelling)."""

import struct

import pytest

from ktrace.abi import linux_plan as lp
from ktrace.kdump import strace as view
from test_strace_view import ABI, Trace, _unpadded

EFAULT, EINVAL, ENOSYS, ESRCH = 14, 22, 38, 3


@pytest.fixture(autouse=True)
def linux_tables(monkeypatch):
    monkeypatch.setattr(view, "abi_for_svflags", lambda sv: ABI)


def i32(value):
    return struct.pack("<i", value)


def i64(value):
    return struct.pack("<Q", value)


def test_prctl_values_stored_through_arg2():
    t = Trace()
    t.start()
    t.call("prctl", 2, 0x7000, 0, 0, 0); t.stru(b"int", i32(2)); t.ret("prctl", 0)
    t.call("prctl", 2, 0x7000, 0, 0, 0); t.ret("prctl", -EFAULT, error=EFAULT)
    t.call("prctl", 40, 0x7008, 0, 0, 0); t.stru(b"long", i64(0x7F00DEAD0A10)); t.ret("prctl", 0)
    t.call("prctl", 40, 0x7008, 0, 0, 0); t.stru(b"long", i64(0)); t.ret("prctl", 0)
    t.call("prctl", 25, 0x7000, 0, 0, 0); t.stru(b"int", i32(2)); t.ret("prctl", 0)
    t.call("prctl", 5, 0x7000, 0, 0, 0); t.stru(b"int", i32(3)); t.ret("prctl", 0)
    t.call("prctl", 37, 0x7000, 0, 0, 0); t.stru(b"int", i32(0)); t.ret("prctl", 0)
    # a record too short for an int: the address, as for an unreadable one
    t.call("prctl", 37, 0x7000, 0, 0, 0); t.stru(b"int", b"\1"); t.ret("prctl", 0)
    assert _unpadded(t.lines()) == [
        "prctl(PR_GET_PDEATHSIG, [SIGINT]) = 0",
        "prctl(PR_GET_PDEATHSIG, 0x7000) = -1 EFAULT (Bad address)",
        "prctl(PR_GET_TID_ADDRESS, [0x7f00dead0a10]) = 0",
        "prctl(PR_GET_TID_ADDRESS, [NULL]) = 0",
        "prctl(PR_GET_TSC, [PR_TSC_SIGSEGV]) = 0",
        "prctl(PR_GET_UNALIGN, [PR_UNALIGN_NOPRINT|PR_UNALIGN_SIGBUS]) = 0",
        "prctl(PR_GET_CHILD_SUBREAPER, [0]) = 0",
        "prctl(PR_GET_CHILD_SUBREAPER, 0x7000) = 0",
    ]


def test_prctl_name_seccomp_and_tagged_addresses():
    t = Trace()
    t.start()
    t.call("prctl", 15, 0x100, 0, 0, 0); t.stru(b"string", b"123456789abcdef")
    t.ret("prctl", 0)
    t.call("prctl", 22, 1, 1, 2, 3); t.ret("prctl", 0)                     # STRICT
    t.call("prctl", 22, 2, 0x5000, 0, 0)
    t.stru(b"sock_fprog", struct.pack("<H6xQ", 12, 0x5600)); t.ret("prctl", 0)
    t.call("prctl", 22, (1 << 64) - 1, 1, 2, 3); t.ret("prctl", -EINVAL, error=EINVAL)
    t.call("prctl", 55, 0x57AE57F4, 1, 2, 3); t.ret("prctl", -EINVAL, error=EINVAL)
    t.call("prctl", 56, 0, 0, 0, 0); t.ret("prctl", 5)
    assert _unpadded(t.lines()) == [
        'prctl(PR_SET_NAME, "123456789abcdef"...) = 0',
        "prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) = 0",
        "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=12, filter=0x5600}) = 0",
        "prctl(PR_SET_SECCOMP, 0xffffffffffffffff /* SECCOMP_MODE_??? */, 0x1, 0x2, 0x3)"
        " = -1 EINVAL (Invalid argument)",
        "prctl(PR_SET_TAGGED_ADDR_CTRL, !PR_TAGGED_ADDR_ENABLE|PR_MTE_TCF_ASYNC"
        "|0xcafe<<PR_MTE_TAG_SHIFT|0x57a80000, 0x1, 0x2, 0x3) = -1 EINVAL (Invalid argument)",
        "prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0) = 0x5"
        " (PR_TAGGED_ADDR_ENABLE|PR_MTE_TCF_ASYNC)",
    ]
    assert _unpadded(t.lines("-X", "verbose"))[4] == (
        "prctl(0x37 /* PR_SET_TAGGED_ADDR_CTRL */, 0x57ae57f4 /* !PR_TAGGED_ADDR_ENABLE"
        "|PR_MTE_TCF_ASYNC|0xcafe<<PR_MTE_TAG_SHIFT|0x57a80000 */, 0x1, 0x2, 0x3)"
        " = -1 EINVAL (Invalid argument)")


def test_arch_prctl_and_personality():
    t = Trace()
    t.start()
    t.call("arch_prctl", 0x1004, 0x7008); t.stru(b"long", i64(0)); t.ret("arch_prctl", 0)
    t.call("arch_prctl", 0x1021, 0x7008); t.stru(b"long", i64(0x207)); t.ret("arch_prctl", 0)
    t.call("arch_prctl", 0x1023, 0xB); t.ret("arch_prctl", -EINVAL, error=EINVAL)
    t.call("arch_prctl", 0x1011, 0); t.ret("arch_prctl", 1)
    t.call("arch_prctl", 0x1030, 0); t.ret("arch_prctl", -EINVAL, error=EINVAL)
    t.call("personality", 0x7010006); t.ret("personality", 0x10000)
    t.call("personality", 0xFFFFFFFF); t.ret("personality", 0)
    t.call("personality", 0x1F); t.ret("personality", 0x7000006)
    assert _unpadded(t.lines()) == [
        "arch_prctl(ARCH_GET_GS, [NULL]) = 0",
        "arch_prctl(ARCH_GET_XCOMP_SUPP, [0x207 /* XFEATURE_MASK_FPSSE|XFEATURE_MASK_YMM"
        "|XFEATURE_MASK_PKRU */]) = 0",
        "arch_prctl(ARCH_REQ_XCOMP_PERM, 0xb /* XFEATURE_??? */)"
        " = -1 EINVAL (Invalid argument)",
        "arch_prctl(ARCH_GET_CPUID) = 1",
        "arch_prctl(0x1030 /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)",
        "personality(PER_BSD|SHORT_INODE|WHOLE_SECONDS|STICKY_TIMEOUTS|0x10000)"
        " = 0x10000 (PER_LINUX|0x10000)",
        "personality(0xffffffff) = 0 (PER_LINUX)",
        "personality(0x1f /* PER_??? */) = 0x7000006"
        " (PER_BSD|SHORT_INODE|WHOLE_SECONDS|STICKY_TIMEOUTS)",
    ]
    assert _unpadded(t.lines("-X", "raw"))[5:7] == [
        "personality(0x6|0x7010000) = 0x10000 (0|0x10000)", "personality(0xffffffff) = 0 (0)"]


def syscall_info(op, arch, ip, sp, *union):
    return struct.pack("<B3xIQQ", op, arch, ip, sp) + struct.pack(f"<{len(union)}Q", *union)


AUDIT_ARCH_X86_64 = 0xC000003E


def test_ptrace_requests_and_syscall_info():
    chdir = ABI.syscall_number("chdir")
    entry = syscall_info(1, AUDIT_ARCH_X86_64, 0x7F00, 0x7FF0, chdir, 0x5500, 1, 2, 3, 4, 5)
    exit_ = syscall_info(2, AUDIT_ARCH_X86_64, 0x7F00, 0x7FF0, (1 << 64) - 2) + b"\1"
    t = Trace()
    t.start()
    t.call("ptrace", 0x4200, 77, 0, 1); t.ret("ptrace", 0)
    t.call("ptrace", 24, 77, 0, 10); t.ret("ptrace", 0)
    t.call("ptrace", 0x420E, 77, 48, 0x9000); t.stru(b"bytes", entry[:48]); t.ret("ptrace", 80)
    t.call("ptrace", 0x420E, 77, 33, 0x9000); t.stru(b"bytes", exit_); t.ret("ptrace", 33)
    t.call("ptrace", 0x420E, 77, 20, 0x9000); t.stru(b"bytes", exit_[:20]); t.ret("ptrace", 33)
    t.call("ptrace", 0x420E, 77, 80, 0x9000); t.ret("ptrace", -ESRCH, error=ESRCH)
    t.call("ptrace", 0xDEADBEEFFFFFFEED, 77, 0, 0); t.ret("ptrace", -ESRCH, error=ESRCH)
    t.call("ptrace", 0x10, 77, 0, 0); t.ret("ptrace", 0)
    t.call("ptrace", 0x4201, 77, 0, 0x9000); t.stru(b"long", i64(1234)); t.ret("ptrace", 0)
    assert _unpadded(t.lines()) == [
        "ptrace(PTRACE_SETOPTIONS, 77, NULL, PTRACE_O_TRACESYSGOOD) = 0",
        "ptrace(PTRACE_SYSCALL, 77, NULL, SIGUSR1) = 0",
        "ptrace(PTRACE_GET_SYSCALL_INFO, 77, 48, {op=PTRACE_SYSCALL_INFO_ENTRY,"
        " arch=AUDIT_ARCH_X86_64, instruction_pointer=0x7f00, stack_pointer=0x7ff0,"
        " entry={nr=__NR_chdir, args=[0x5500, 0x1]}}) = 80",
        "ptrace(PTRACE_GET_SYSCALL_INFO, 77, 33, {op=PTRACE_SYSCALL_INFO_EXIT,"
        " arch=AUDIT_ARCH_X86_64, instruction_pointer=0x7f00, stack_pointer=0x7ff0,"
        " exit={rval=-ENOENT, is_error=1}}) = 33",
        "ptrace(PTRACE_GET_SYSCALL_INFO, 77, 20, {op=PTRACE_SYSCALL_INFO_EXIT,"
        " arch=AUDIT_ARCH_X86_64, instruction_pointer=0x7f00}) = 33",
        "ptrace(PTRACE_GET_SYSCALL_INFO, 77, 80, 0x9000) = -1 ESRCH (No such process)",
        "ptrace(0xdeadbeeffffffeed /* PTRACE_??? */, 77, NULL, NULL)"
        " = -1 ESRCH (No such process)",
        "ptrace(PTRACE_ATTACH, 77) = 0",
        "ptrace(PTRACE_GETEVENTMSG, 77, NULL, [1234]) = 0",
    ]
    verbose = _unpadded(t.lines("-X", "verbose"))
    assert verbose[2] == (
        "ptrace(0x420e /* PTRACE_GET_SYSCALL_INFO */, 77, 48, {op=0x1 /* PTRACE_SYSCALL_INFO_ENTRY"
        " */, arch=0xc000003e /* AUDIT_ARCH_X86_64 */, instruction_pointer=0x7f00,"
        f" stack_pointer=0x7ff0, entry={{nr={chdir} /* __NR_chdir */, args=[0x5500, 0x1]}}}})"
        " = 80")
    assert verbose[3].endswith("exit={rval=-2 /* -ENOENT */, is_error=1}}) = 33")


def test_seccomp_operations():
    t = Trace()
    t.start()
    t.call("seccomp", 2, 0, 0x9000); t.stru(b"int", i32(0x7FFF0000)); t.ret("seccomp", 0)
    t.call("seccomp", 2, 0, 0x9000); t.stru(b"int", i32(-1))
    t.ret("seccomp", -95, error=45)
    t.call("seccomp", 3, 0, 0x9000); t.stru(b"seccomp_notif_sizes", struct.pack("<HHH", 80, 24, 64))
    t.ret("seccomp", 0)
    t.call("seccomp", 1, 0xFFFFFFFF, 0x9000); t.stru(b"sock_fprog", struct.pack("<H6xQ", 7, 0x5000))
    t.ret("seccomp", -EINVAL, error=EINVAL)
    t.call("seccomp", 0xFFFFFFFF, 0xFFFFFFFF, 0xFACEFEEDDEADBEEF)
    t.ret("seccomp", -EINVAL, error=EINVAL)
    lines = _unpadded(t.lines())
    assert lines[0] == "seccomp(SECCOMP_GET_ACTION_AVAIL, 0, [SECCOMP_RET_ALLOW]) = 0"
    assert lines[1].startswith("seccomp(SECCOMP_GET_ACTION_AVAIL, 0,"
                               " [0xffffffff /* SECCOMP_RET_??? */]) = -1 EOPNOTSUPP")
    assert lines[2:] == [
        "seccomp(SECCOMP_GET_NOTIF_SIZES, 0, {seccomp_notif=80, seccomp_notif_resp=24,"
        " seccomp_data=64}) = 0",
        "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC|SECCOMP_FILTER_FLAG_LOG"
        "|SECCOMP_FILTER_FLAG_SPEC_ALLOW|SECCOMP_FILTER_FLAG_NEW_LISTENER"
        "|SECCOMP_FILTER_FLAG_TSYNC_ESRCH|SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV|0xffffffc0,"
        " {len=7, filter=0x5000}) = -1 EINVAL (Invalid argument)",
        "seccomp(0xffffffff /* SECCOMP_SET_MODE_??? */, 0xffffffff, 0xfacefeeddeadbeef)"
        " = -1 EINVAL (Invalid argument)",
    ]


def user_desc(entry, base, limit, bits):
    return struct.pack("<IIII", entry, base, limit, bits)


def test_descriptor_tables_ioperm_and_reboot():
    t = Trace()
    t.start()
    t.call("set_thread_area", 0x9000)
    t.stru(b"user_desc", user_desc(0xFFFFFFFF, 0, 0, 0x8B)); t.ret("set_thread_area", -ENOSYS,
                                                                  error=78)
    t.call("get_thread_area", 0x9000); t.stru(b"int", i32(12))
    t.ret("get_thread_area", -ENOSYS, error=78)
    t.call("get_thread_area", 0x9ffe); t.ret("get_thread_area", -ENOSYS, error=78)
    t.call("modify_ldt", 1, 0x9000, 16)
    t.stru(b"user_desc", user_desc(0x83828180, 0x87868584, 0x8B8A8988, 0x8C))
    t.ret("modify_ldt", 0xFFFFFFDA)
    t.call("ioperm", 0xDEAFBEEFFFFFFFFF, 1, 0); t.ret("ioperm", -ENOSYS, error=78)
    t.call("reboot", 0xFEE1DEAD, 0x28121969, 0xA1B2C3D4, 0x9000); t.stru(b"string", b"x" * 300)
    t.ret("reboot", -EINVAL, error=EINVAL)
    lines = _unpadded(t.lines("-s", "300"))
    assert lines[:5] == [
        "set_thread_area({entry_number=-1, base_addr=00000000, limit=00000000, seg_32bit=1,"
        " contents=1, read_exec_only=1, limit_in_pages=0, seg_not_present=0, useable=0, lm=1})"
        " = -1 ENOSYS (Function not implemented)",
        "get_thread_area({entry_number=12, ...}) = -1 ENOSYS (Function not implemented)",
        "get_thread_area(0x9ffe) = -1 ENOSYS (Function not implemented)",
        "modify_ldt(1, {entry_number=2206368128, base_addr=0x87868584, limit=0x8b8a8988,"
        " seg_32bit=0, contents=2, read_exec_only=1, limit_in_pages=0, seg_not_present=0,"
        " useable=0, lm=1}, 16) = 4294967258 ENOSYS (Function not implemented)",
        "ioperm(0xdeafbeefffffffff, 0x1, 0) = -1 ENOSYS (Function not implemented)",
    ]
    # the kernel copies at most 255 bytes of the command
    assert lines[5] == ("reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,"
                        f' LINUX_REBOOT_CMD_RESTART2, "{"x" * 255}"...)'
                        " = -1 EINVAL (Invalid argument)")


def test_plan_records_what_the_printers_read():
    nr = ABI.syscall_number
    assert lp.plan_for_call(nr("prctl"), (2, 0x7000, 0, 0, 0))[1] == lp.out("int")
    assert lp.plan_for_call(nr("prctl"), (40, 0x7000, 0, 0, 0))[1] == lp.out("long")
    assert lp.plan_for_call(nr("arch_prctl"), (0x1004, 0x7000))[1] == lp.out("long")
    assert lp.plan_for_call(nr("ptrace"), (0x420E, 1, 80, 0x9000))[3] == \
        lp.out("bytes", lp.arg(2))
    assert lp.plan_for_call(nr("seccomp"), (3, 0, 0x9000))[2] == lp.out("seccomp_notif_sizes")
    assert lp.plan_for_call(nr("reboot"), (0, 0, 0xA1B2C3D4, 0x9000))[3] == lp.S
    assert lp.plan_for_call(nr("reboot"), (0, 0, 0x1234567, 0x9000))[3] == lp.V


@pytest.mark.parametrize("data", [b"", b"\1", b"\xff" * 7, b"\xff" * 100])
def test_short_or_odd_records_never_raise(data):
    t = Trace()
    t.start()
    for name in (b"int", b"long", b"bytes", b"user_desc", b"sock_fprog", b"seccomp_notif_sizes",
                 b"siginfo", b"iovec", b"peeksiginfo_args", b"string"):
        for call, args in (("prctl", (2, 1, 0, 0, 0)), ("prctl", (40, 1, 0, 0, 0)),
                           ("prctl", (22, 2, 1, 0, 0)), ("arch_prctl", (0x1021, 1)),
                           ("ptrace", (0x420E, 1, 88, 1)), ("ptrace", (0x4209, 1, 1, 1)),
                           ("ptrace", (0x4204, 1, 1, 1)), ("ptrace", (0x420D, 1, 16, 1)),
                           ("seccomp", (3, 0, 1)), ("seccomp", (2, 0, 1)),
                           ("seccomp", (1, 0, 1)), ("get_thread_area", (1,)),
                           ("set_thread_area", (1,)), ("modify_ldt", (0, 1, 16))):
            t.call(call, *args); t.stru(name, data); t.ret(call, 0)
            t.call(call, *args); t.array(name, 128, data); t.ret(call, 1)
    assert len(t.lines()) == 14 * 10 * 2


def test_ptrace_registers_read_and_written():
    regs = struct.pack("<27Q", *range(27))
    t = Trace()
    t.start()
    t.call("ptrace", 12, 77, 0, 0x9000); t.stru(b"user_regs", regs); t.ret("ptrace", 0)
    t.call("ptrace", 12, 77, 0, 0x9000); t.ret("ptrace", -EFAULT, error=EFAULT)
    t.call("ptrace", 13, 77, 0, 0x9000); t.stru(b"user_regs", regs[:100]); t.ret("ptrace", 0)
    t.call("ptrace", 15, 77, 0, 0x9000); t.ret("ptrace", 0)
    lines = _unpadded(t.lines())
    assert lines[0].startswith("ptrace(PTRACE_GETREGS, 77, {r15=0, r14=0x1, r13=0x2,")
    assert lines[0].endswith(", es=0x18, fs=0x19, gs=0x1a}) = 0")
    assert lines[1:] == ["ptrace(PTRACE_GETREGS, 77, 0x9000) = -1 EFAULT (Bad address)",
                         "ptrace(PTRACE_SETREGS, 77, 0x9000) = 0",
                         "ptrace(PTRACE_SETFPREGS, 77, 0x9000) = 0"]


def test_bpf_prog_load_attributes():
    attr = struct.pack("<IIQQIIQII16sIIIIQIIQIIIIQ", 0x20, 7, 0, 0, 24, 100, 0, 0xCAFEF00D, 0,
                       b"prog\0", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    t = Trace()
    t.start()
    t.call("bpf", 5, 0x9000, 128); t.stru(b"bytes", attr); t.ret("bpf", -7, error=7)
    t.call("bpf", 5, 0x9000, 48); t.stru(b"bytes", attr[:48]); t.ret("bpf", -7, error=7)
    t.call("bpf", 0, 0x9000, 72); t.stru(b"bytes", bytes(72)); t.ret("bpf", -7, error=7)
    lines = _unpadded(t.lines())
    assert lines[0] == (
        "bpf(BPF_PROG_LOAD, {prog_type=0x20 /* BPF_PROG_TYPE_??? */, insn_cnt=7, insns=NULL,"
        " license=NULL, log_level=24, log_size=100, log_buf=NULL,"
        " kern_version=KERNEL_VERSION(51966, 240, 13), prog_flags=0, prog_name=\"prog\","
        " prog_ifindex=0, expected_attach_type=BPF_CGROUP_INET_INGRESS, prog_btf_fd=0,"
        " func_info_rec_size=0, func_info=NULL, func_info_cnt=0, line_info_rec_size=0,"
        " line_info=NULL, line_info_cnt=0, attach_btf_id=0, attach_prog_fd=0, fd_array=NULL},"
        " 128) = -1 E2BIG (Argument list too long)")
    assert lines[1].endswith("kern_version=KERNEL_VERSION(51966, 240, 13), prog_flags=0}, 48)"
                             " = -1 E2BIG (Argument list too long)")
    assert lines[2].startswith("bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_UNSPEC, key_size=0,")
    assert lines[2].endswith(", map_extra=0}, 72) = -1 E2BIG (Argument list too long)")
    assert _unpadded(t.lines("-X", "raw"))[0].startswith("bpf(0x5, {prog_type=0x20, ")

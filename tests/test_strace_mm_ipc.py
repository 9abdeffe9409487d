"""kdump --strace: memory policies, SysV IPC, keys and kernel-module calls,
from hand-built records laid out as the recording plan says, must print as
strace 6.1 prints the same calls."""

import struct

import pytest

from test_strace_view import Trace as ViewTrace, linux_tables  # noqa: F401  (the fixture)

EINVAL, EFAULT = 22, 14


class Trace(ViewTrace):
    """A trace of one Linux process, its PROCCTOR first."""

    def __init__(self):
        super().__init__()
        self.start()

    def lines(self, *argv):
        return super().lines("-a0", *argv)


def perm(mode=0o600, key=0, uid=0, gid=0):
    return struct.pack("<IIIIII24x", key, uid, gid, uid, gid, mode)


def test_ipc_gets_keys_flags_and_modes():
    t = Trace()
    t.call("msgget", 0xECA86420FDB9F531, 0xFACE1E55 & ~0o1000); t.ret("msgget", -2, error=2)
    t.call("semget", 0xFFFFFFFF00000000, 1, 0o600); t.ret("semget", 7)
    t.call("shmget", 0xFDB97531, 1, 0x54000000); t.ret("shmget", 9)
    t.call("shmget", 0, 1, 0o1000 | 0o600); t.ret("shmget", 9)
    assert t.lines() == [
        "msgget(0xfdb9f531, IPC_EXCL|IPC_NOWAIT|0xface1000|0125) = -1 ENOENT"
        " (No such file or directory)",
        "semget(IPC_PRIVATE, 1, 0600) = 7",
        "shmget(0xfdb97531, 1, 21<<SHM_HUGE_SHIFT|000) = 9",
        "shmget(IPC_PRIVATE, 1, IPC_CREAT|0600) = 9",
    ]
    assert t.lines("-Xraw")[2:] == ["shmget(0xfdb97531, 1, 21<<26|000) = 9",
                                    "shmget(0, 1, 0x200|0600) = 9"]


def test_ipc_ctl_structs_by_command():
    msqid = perm() + struct.pack("<qqqQQQii16x", 1, 2, 3, 0, 0, 16384, 5, 6)
    t = Trace()
    t.call("msgctl", 5, 2, 0x1000); t.stru(b"msqid_ds", msqid); t.ret("msgctl", 0)
    t.call("msgctl", 5, 1, 0x1000); t.stru(b"msqid_ds", msqid); t.ret("msgctl", 0)
    t.call("msgctl", 5, 0x102, 0x1000); t.ret("msgctl", -22, error=EINVAL)
    t.call("semctl", 5, 0, 3, 0x1000); t.stru(b"seminfo", struct.pack("<10i", *range(10)))
    t.ret("semctl", 3)
    t.call("shmctl", 5, 14, 0x1000); t.stru(b"shm_info", b"\1\0")     # short: the address
    t.ret("shmctl", 3)
    t.call("shmctl", 5, 0, 0); t.ret("shmctl", 0)
    assert t.lines() == [
        "msgctl(5, IPC_STAT, {msg_perm={uid=0, gid=0, mode=0600, key=0, cuid=0, cgid=0}, "
        "msg_stime=1, msg_rtime=2, msg_ctime=3, msg_qnum=0, msg_qbytes=16384, "
        "msg_lspid=5, msg_lrpid=6}) = 0",
        "msgctl(5, IPC_SET, {msg_perm={uid=0, gid=0, mode=0600}, msg_qbytes=16384}) = 0",
        "msgctl(5, IPC_64|IPC_STAT, 0x1000) = -1 EINVAL (Invalid argument)",
        "semctl(5, 0, IPC_INFO, {semmap=0, semmni=1, semmns=2, semmnu=3, semmsl=4, semopm=5,"
        " semume=6, semusz=7, semvmx=8, semaem=9}) = 3",
        "shmctl(5, SHM_INFO, 0x1000) = 3",
        "shmctl(5, IPC_RMID, NULL) = 0",
    ]


def test_semop_operations():
    t = Trace()
    t.call("semop", 5, 0x1000, 1); t.array(b"sembuf", 6, struct.pack("<HhH", 0, -1, 0x1000))
    t.ret("semop", 0)
    t.call("semtimedop", 5, 0x1000, 0, 0); t.ret("semtimedop", 0)
    t.call("semop", 5, 0x1000, 2); t.ret("semop", -14, error=EFAULT)
    assert t.lines() == ["semop(5, [{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}], 1) = 0",
                         "semtimedop(5, [], 0, NULL) = 0",
                         "semop(5, 0x1000, 2) = -1 EFAULT (Bad address)"]


def test_memory_policy_modes_and_nodemasks():
    t = Trace()
    t.call("mbind", 0x1000, 4096, 0x8002, 0, 0, 0xFFFFFFFF); t.ret("mbind", -22, error=EINVAL)
    t.call("set_mempolicy", 0xFFFF1FFF, 0, 0); t.ret("set_mempolicy", -22, error=EINVAL)
    t.call("set_mempolicy", 0, 0x2000, 130); t.array(b"long", 8, struct.pack("<3Q", 0, 5, 0))
    t.ret("set_mempolicy", 0)
    t.call("set_mempolicy", 0, 0x2000, 1); t.ret("set_mempolicy", 0)
    t.call("get_mempolicy", 0x3000, 0x2000, 64, 0, 0)
    t.stru(b"int", struct.pack("<i", 1)); t.array(b"long", 8, struct.pack("<Q", 0))
    t.ret("get_mempolicy", 0)
    assert t.lines("-s2") == [
        "mbind(0x1000, 4096, MPOL_BIND|MPOL_F_STATIC_NODES, NULL, 0, MPOL_MF_STRICT"
        "|MPOL_MF_MOVE|MPOL_MF_MOVE_ALL|0xfffffff8) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(0xffff1fff /* MPOL_??? */, NULL, 0) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(MPOL_DEFAULT, [0000000000000000, 0x00000000000005, ...], 130) = 0",
        "set_mempolicy(MPOL_DEFAULT, 0x2000, 1) = 0",
        "get_mempolicy([MPOL_PREFERRED], [0000000000000000], 64, NULL, 0) = 0",
    ]
    assert t.lines("-Xverbose")[0].startswith(
        "mbind(0x1000, 4096, 0x8002 /* MPOL_BIND|MPOL_F_STATIC_NODES */, NULL")
    assert t.lines("-Xraw")[0].startswith("mbind(0x1000, 4096, 0x8002, NULL, 0, 0xffffffff)")


def test_move_pages_arrays_and_statuses():
    t = Trace()
    t.call("move_pages", 0, 2, 0x1000, 0, 0x3000, 2)
    t.array(b"long", 8, struct.pack("<2Q", 0x7000, 0x8000))
    t.array(b"int", 4, struct.pack("<2i", -14, 0))
    t.ret("move_pages", 0)
    t.call("move_pages", 0, 0, 0x1000, 0x2000, 0x3000, 4); t.ret("move_pages", 0)
    t.call("process_vm_readv", 7, 0x1000, 0, 0, 2, 0); t.ret("process_vm_readv", 0)
    assert t.lines() == [
        "move_pages(0, 2, [0x7000, 0x8000], NULL, [-EFAULT, 0], MPOL_MF_MOVE) = 0",
        "move_pages(0, 0, [], [], [], MPOL_MF_MOVE_ALL) = 0",
        "process_vm_readv(7, [], 0, NULL, 2, 0) = 0",
    ]


def test_keys_and_modules():
    t = Trace()
    t.call("add_key", 0x1000, 0x2000, 0x3000, 5, (1 << 32) - 1)
    t.stru(b"string", b"user"); t.stru(b"string", b"desc"); t.stru(b"bytes", b"\16\17\20\21\22")
    t.ret("add_key", -14, error=EFAULT)
    t.call("keyctl", 0xFACEFEED, 1, 2, 3, 4); t.ret("keyctl", -95, error=95)
    t.call("keyctl", 5, 0xFFFFFFFE, 0x3F010000); t.ret("keyctl", 0)
    t.call("keyctl", 11, 0xFFFFFFFF, 0x1000, 256); t.stru(b"bytes", b"ab"); t.ret("keyctl", 2)
    t.call("keyctl", 18); t.ret("keyctl", 0)
    t.call("keyctl", 31, 0x1000, 4); t.stru(b"bytes", b"\xeb\x03"); t.ret("keyctl", 2)
    t.call("finit_module", 3, 0x1000, 2); t.stru(b"string", b"x=1"); t.ret("finit_module", -38,
                                                                            error=78)
    t.call("delete_module", 0x1000, 0xFACEF157); t.stru(b"string", b"m")
    t.ret("delete_module", -38, error=78)
    t.call("kexec_file_load", 3, 4, 7, 0x1000, 0)
    t.stru(b"bytes", b"abcdef\0"); t.ret("kexec_file_load", -38, error=78)
    assert t.lines("-s4") == [
        'add_key("user", "desc", "\\16\\17\\20\\21"..., 5, KEY_SPEC_THREAD_KEYRING)'
        " = -1 EFAULT (Bad address)",
        "keyctl(0xfacefeed /* KEYCTL_??? */, 0x1, 0x2, 0x3, 0x4) = -1 EOPNOTSUPP"
        " (Operation not supported)",
        "keyctl(KEYCTL_SETPERM, KEY_SPEC_PROCESS_KEYRING, KEY_POS_VIEW|KEY_POS_READ"
        "|KEY_POS_WRITE|KEY_POS_SEARCH|KEY_POS_LINK|KEY_POS_SETATTR|KEY_USR_VIEW) = 0",
        'keyctl(KEYCTL_READ, KEY_SPEC_THREAD_KEYRING, "ab", 256) = 2',
        "keyctl(KEYCTL_SESSION_TO_PARENT) = 0",
        "keyctl(KEYCTL_CAPABILITIES, [KEYCTL_CAPS0_CAPABILITIES|KEYCTL_CAPS0_PERSISTENT_KEYRINGS"
        "|KEYCTL_CAPS0_PUBLIC_KEY|KEYCTL_CAPS0_INVALIDATE|KEYCTL_CAPS0_RESTRICT_KEYRING"
        "|KEYCTL_CAPS0_MOVE, KEYCTL_CAPS1_NS_KEYRING_NAME|KEYCTL_CAPS1_NS_KEY_TAG], 4) = 2",
        'finit_module(3, "x=1", MODULE_INIT_IGNORE_VERMAGIC) = -1 ENOSYS'
        " (Function not implemented)",
        'delete_module("m", 0xfacef157 /* O_??? */) = -1 ENOSYS (Function not implemented)',
        'kexec_file_load(3, 4, 7, "abcd"..., 0) = -1 ENOSYS (Function not implemented)',
    ]


@pytest.mark.parametrize("name,args,struct_name", [
    ("msgctl", (1, 2, 0x1000), b"msqid_ds"), ("semctl", (1, 0, 2, 0x1000), b"semid_ds"),
    ("shmctl", (1, 2, 0x1000), b"shmid_ds"), ("semop", (1, 0x1000, 3), b"sembuf"),
    ("set_mempolicy", (0, 0x1000, 200), b"long"),
    ("move_pages", (0, 5, 0x1000, 0x2000, 0x3000, 0), b"long"),
    ("kexec_load", (0, 3, 0x1000, 0), b"kexec_segment"),
    ("perf_event_open", (0x1000, 0, 0, 0, 0), b"perf_event_attr"),
    ("keyctl", (31, 0x1000, 9), b"bytes"), ("get_mempolicy", (0x1000, 0, 0, 0, 0), b"int"),
])
@pytest.mark.parametrize("data", [b"", b"\1", b"\xff" * 7, b"\x80" * 33])
def test_short_or_odd_records_never_raise(name, args, struct_name, data):
    t = Trace()
    t.call(name, *args)
    if struct_name in (b"sembuf", b"long", b"kexec_segment"):
        t.array(struct_name, {b"sembuf": 6, b"long": 8, b"kexec_segment": 32}[struct_name], data)
    else:
        t.stru(struct_name, data)
    t.ret(name, 0)
    assert len(t.lines()) == 1


def test_perf_event_attr_abbreviated_and_whole():
    bits = 1 | 1 << 3 | 1 << 15               # disabled, exclusive, precise_ip=1
    attr = struct.pack("<IIQQQQQ", 1, 0, 0xC, 5, 0x800, 1, bits)
    attr += struct.pack("<IIQQQQIiQIHHIIQ", 7, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    t = Trace()
    t.call("perf_event_open", 0x1000, 0, -1 & (1 << 64) - 1, -1 & (1 << 64) - 1, 8)
    t.stru(b"perf_event_attr", attr)
    t.ret("perf_event_open", 3)
    t.call("perf_event_open", 0x1000, 0, 0, 0, 0); t.stru(b"perf_event_attr", attr[:16])
    t.ret("perf_event_open", -22, error=EINVAL)
    head = ("perf_event_open({type=PERF_TYPE_SOFTWARE, size=0 /* PERF_ATTR_SIZE_??? */, "
            "config=0xc /* PERF_COUNT_SW_??? */, sample_period=5, "
            "sample_type=PERF_SAMPLE_BRANCH_STACK, read_format=PERF_FORMAT_TOTAL_TIME_ENABLED, ")
    lines = t.lines()
    assert lines[0] == (head + "disabled=1, exclusive=1, precise_ip=1 /* constant skid */, ...}"
                        ", 0, -1, -1, PERF_FLAG_FD_CLOEXEC) = 3")
    assert lines[1] == "perf_event_open(0x1000, 0, 0, 0, 0) = -1 EINVAL (Invalid argument)"
    whole = t.lines("-v")[0]
    assert whole.startswith(head + "disabled=1, inherit=0, pinned=0, exclusive=1, ")
    # size 0 is PERF_ATTR_SIZE_VER0: the fields up to config1
    assert whole.endswith("sigtrap=0, wakeup_events=7, config1=0x10}, 0, -1, -1, "
                          "PERF_FLAG_FD_CLOEXEC) = 3")


def test_bpf_map_commands_attr():
    def attr(cmd, data, size, *opts):
        t = Trace()
        t.call("bpf", cmd, 0x1000, size)
        if data is not None:
            t.stru(b"bytes", data)
        t.ret("bpf", -22, error=EINVAL)
        line = t.lines(*opts)[0]
        return line[line.index(", ") + 2:line.rindex(", ")]

    create = struct.pack("<7I16s5IQ", 2, 4, 8, 1, 0, 0, 0, b"test_map", 0, 0, 0, 0, 0, 0)
    assert attr(0, create, 72) == (
        '{map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=8, max_entries=1, map_flags=0, '
        'inner_map_fd=0, map_name="test_map", map_ifindex=0, btf_fd=0, btf_key_type_id=0, '
        'btf_value_type_id=0, btf_vmlinux_value_type_id=0, map_extra=0}')
    assert attr(0, create[:36], 36) == (
        '{map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=8, max_entries=1, map_flags=0, '
        'inner_map_fd=0, map_name="test_ma"...}')
    assert attr(0, create + b"\1", 73) .endswith("map_extra=0, ...}")
    assert attr(2, struct.pack("<I4xQQQ", 3, 0x10, 0x20, 2), 32) == (
        "{map_fd=3, key=0x10, value=0x20, flags=BPF_EXIST}")
    assert attr(1, struct.pack("<I4xQQ", 3, 0, 0x20), 24) == "{map_fd=3, key=NULL, value=0x20}"
    assert attr(22, b"\xff\xff\xff\xff", 4) == "{map_fd=-1}"
    assert attr(0, create[:10], 72) == "0x1000"          # recorded short: the address
    assert attr(0, None, 0) == "0x1000"

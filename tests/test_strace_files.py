"""kdump --strace, files and I/O family: hand-built records (as the recording
plan lays them out) print as strace 6.1 prints the same calls."""

import struct

import pytest

from test_strace_view import ABI, AT_FDCWD, Trace, linux_tables  # noqa: F401

EINVAL, EBADF, ENOENT = 22, 9, 2


def lines(t, *argv):
    return [line.split(" = ")[0].rstrip() + " = " + line.split(" = ", 1)[1]
            if " = " in line else line for line in t.lines(*argv)]


def one(build, *argv):
    t = Trace()
    t.start()
    build(t)
    return lines(t, *argv)[0]


def test_utimensat_times_and_utime_omit():
    def build(t):
        t.call("utimensat", AT_FDCWD, 0x5000, 0x6000, 0x100)
        t.nami(b"f")
        t.array(b"timespec", 16, struct.pack("<qqqq", 1492358706, 123456789,
                                             -1, (1 << 30) - 2))
        t.ret("utimensat", -ENOENT, error=ENOENT)
    assert one(build) == ('utimensat(AT_FDCWD, "f", [{tv_sec=1492358706, tv_nsec=123456789}'
                          ' /* 2017-04-16T16:05:06.123456789+0000 */, UTIME_OMIT], '
                          'AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)')


def test_utimes_unreadable_is_the_address():
    def build(t):
        t.call("utimes", 0x5000, 0x6000)
        t.nami(b"f")
        t.ret("utimes", -EINVAL, error=EINVAL)
    assert one(build) == 'utimes("f", 0x6000) = -1 EINVAL (Invalid argument)'


def test_setxattr_value_omits_trailing_nul():
    def build(t):
        t.call("fsetxattr", 2**64 - 1, 0x5000, 0x6000, 8, 2)
        t.stru(b"string", b"user.x")
        t.stru(b"bytes", b"foo\0bar\0")
        t.ret("fsetxattr", -EBADF, error=EBADF)
    assert one(build) == ('fsetxattr(-1, "user.x", "foo\\0bar", 8, XATTR_REPLACE)'
                          ' = -1 EBADF (Bad file descriptor)')


def dirent64(ino, off, dtype, name):
    reclen = (19 + len(name) + 1 + 7) // 8 * 8
    return struct.pack("<QqHB", ino, off, reclen, dtype) + name + b"\0" * (reclen - 19 - len(name))


def test_getdents64_abbreviated_and_verbose():
    data = dirent64(1, 10, 4, b".") + dirent64(2, 20, 8, b"a")

    def build(t):
        t.call("getdents64", 3, 0x5000, 0xdead00002000)
        t.stru(b"dirents", data)
        t.ret("getdents64", len(data))
    assert one(build) == f"getdents64(3, 0x5000 /* 2 entries */, 8192) = {len(data)}"
    assert one(build, "-v") == (
        "getdents64(3, [{d_ino=1, d_off=10, d_reclen=24, d_type=DT_DIR, d_name=\".\"}, "
        "{d_ino=2, d_off=20, d_reclen=24, d_type=DT_REG, d_name=\"a\"}], 8192) = 48")


def test_getdents64_hostile_reclen_does_not_loop():
    data = struct.pack("<QqHB", 1, 2, 0, 4) + b"x" * 13

    def build(t):
        t.call("getdents64", 3, 0x5000, 64)
        t.stru(b"dirents", data)
        t.ret("getdents64", len(data))
    assert "underflow" in one(build, "-v")
    assert one(build) == "getdents64(3, 0x5000 /* d_reclen 19 bytes underflow */ /* 1+ entries */, 64) = 32"


def test_fcntl_flock_and_high_bits_of_cmd():
    def build(t):
        t.call("fcntl", 0, 0xffffffff00000006, 0x6000)
        t.stru(b"flock", struct.pack("<hh4xqqi4x", 0, 0, 0, 4096, 0))
        t.ret("fcntl", 0)
    assert one(build) == ("fcntl(0, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, "
                          "l_len=4096}) = 0")


def test_poll_negative_fd_and_timeout():
    def build(t):
        t.call("poll", 0x5000, 2, 42)
        t.array(b"pollfd", 8, struct.pack("<ihhihh", -1, 1, 0, 1, 4, 0))
        t.array(b"pollfd", 8, struct.pack("<ihhihh", -1, 1, 0, 1, 4, 0))
        t.ret("poll", 0)
    assert one(build) == "poll([{fd=-1}, {fd=1, events=POLLOUT}], 2, 42) = 0 (Timeout)"


def test_mount_magic_and_ignored_data():
    def build(t):
        t.call("mount", 0x5000, 0x5100, 0x5200, 0xc0ed1000, 0x5300)
        t.stru(b"string", b"src")
        t.nami(b"/mnt")
        t.stru(b"string", b"ext4")
        t.stru(b"string", b"opts")
        t.ret("mount", -ENOENT, error=ENOENT)
    assert one(build) == ('mount("src", "/mnt", 0x5200, MS_MGC_VAL|MS_BIND, 0x5300)'
                          ' = -1 ENOENT (No such file or directory)')
    assert one(build, "-X", "verbose").startswith(
        'mount("src", "/mnt", 0x5200, 0xc0ed0000 /* MS_MGC_VAL */|0x1000 /* MS_BIND */')


def test_syslog_prints_its_action_verbose():
    def build(t):
        t.call("syslog", 8, 0x5000, 7)
        t.ret("syslog", 0)
    assert one(build) == "syslog(8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, 0x5000, 7 /* LOGLEVEL_DEBUG */) = 0"


@pytest.mark.parametrize("flags_value, text", [
    (0x6000, "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC"),
    (0x100, "AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW"),
])
def test_statx_flags(flags_value, text):
    def build(t):
        t.call("statx", AT_FDCWD, 0x5000, flags_value, 0xfff, 0x6000)
        t.nami(b"f")
        t.ret("statx", -EINVAL, error=EINVAL)
    assert one(build) == f'statx(AT_FDCWD, "f", {text}, STATX_ALL, 0x6000) = -1 EINVAL (Invalid argument)'


def test_quotactl_setquota_abbreviated():
    dqblk = struct.pack("<8QI4x", 1, 2, 3, 4, 5, 6, 7, 8, 0x3)

    def build(t):
        t.call("quotactl", (0x800008 << 8) | 2, 0x5000, 1000, 0x6000)
        t.nami(b"/dev/sda1")
        t.stru(b"if_dqblk", dqblk)
        t.ret("quotactl", -ENOENT, error=ENOENT)
    assert one(build) == (
        'quotactl(QCMD(Q_SETQUOTA, PRJQUOTA), "/dev/sda1", 1000, {dqb_bhardlimit=1, '
        'dqb_bsoftlimit=2, dqb_curspace=3, dqb_ihardlimit=4, dqb_isoftlimit=5, '
        'dqb_curinodes=6, ...}) = -1 ENOENT (No such file or directory)')
    assert one(build, "-X", "raw").startswith(f'quotactl({(0x800008 << 8) | 2}, "/dev/sda1"')


def test_quotactl_getfmt_at_exit_and_unknown_command():
    def build(t):
        t.call("quotactl", (0x800004 << 8) | 1, 0x5000, 0, 0x6000)
        t.nami(b"/dev/sda1")
        t.stru(b"int", struct.pack("<I", 2))
        t.ret("quotactl", 0)
        t.call("quotactl", 0xbadc0ded, 0, 5, 0x6000)
        t.ret("quotactl", -EINVAL, error=EINVAL)
    t = Trace()
    t.start()
    build(t)
    assert lines(t)[:2] == [
        'quotactl(QCMD(Q_GETFMT, GRPQUOTA), "/dev/sda1", [QFMT_VFS_V0]) = 0',
        "quotactl(QCMD(0xbadc0d /* Q_??? */, 0xed /* ???QUOTA */), NULL, 5, 0x6000)"
        " = -1 EINVAL (Invalid argument)"]


def test_sysctl_args_and_short_record():
    def build(t):
        t.call("_sysctl", 0x5000)
        t.stru(b"sysctl_args", struct.pack("<Qi4xQQQQ32x", 0, 0, 0, 0, 0, 0))
        t.ret("_sysctl", -38, error=78)
    assert one(build).startswith(
        "_sysctl({name=NULL, nlen=0, oldval=NULL, oldlenp=NULL, newval=NULL, newlen=0})")

    def short(t):
        t.call("_sysctl", 0x5000)
        t.stru(b"sysctl_args", b"\1\2")
        t.ret("_sysctl", -38, error=78)
    assert one(short).startswith("_sysctl(0x5000)")


def test_fd_path_escapes_angle_brackets():
    from ktrace.decode.strace.fmt import fd_path
    assert fd_path("/a/<<0::0>>1") == "/a/\\74\\0740::0\\76\\0761"


def test_memfd_create_huge_page_shift():
    def build(t):
        t.call("memfd_create", 0x5000, 0xffffffff)
        t.stru(b"string", b"x")
        t.ret("memfd_create", -EINVAL, error=EINVAL)
    assert one(build).startswith(
        'memfd_create("x", MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_HUGETLB|0x3fffff8|63<<MFD_HUGE_SHIFT)')
    assert one(build, "-X", "raw").startswith('memfd_create("x", 0xffffffff)')


def test_mount_setattr_struct_and_short_size():
    attr = struct.pack("<QQQQ", 2, 4, 0x80000, 9) + b"\x80" * 8

    def build(t):
        t.call("mount_setattr", 2**64 - 1, 0x5000, 0, 0x6000, 40)
        t.nami(b"/dev/full")
        t.stru(b"mount_attr", attr)
        t.ret("mount_setattr", -EINVAL, error=EINVAL)
    assert one(build).startswith(
        'mount_setattr(-1, "/dev/full", 0, {attr_set=MOUNT_ATTR_NOSUID, attr_clr=MOUNT_ATTR_NODEV,'
        ' propagation=MS_SLAVE, userns_fd=9, /* bytes 32..39 */ "\\x80\\x80\\x80\\x80\\x80\\x80'
        '\\x80\\x80"}, 40)')

    def short(t):
        t.call("mount_setattr", 2**64 - 1, 0x5000, 0, 0x6000, 16)
        t.nami(b"/dev/full")
        t.ret("mount_setattr", -EINVAL, error=EINVAL)
    assert one(short).startswith('mount_setattr(-1, "/dev/full", 0, 0x6000, 16)')


def test_landlock_rule_and_ruleset_version_result():
    def build(t):
        t.call("landlock_add_rule", 3, 1, 0x5000, 0)
        t.stru(b"landlock_path_beneath_attr", struct.pack("<Qi", 1, -1))
        t.ret("landlock_add_rule", -EBADF, error=EBADF)
        t.call("landlock_create_ruleset", 0, 0, 1)
        t.ret("landlock_create_ruleset", 3)
    t = Trace()
    t.start()
    build(t)
    assert lines(t)[:2] == [
        "landlock_add_rule(3, LANDLOCK_RULE_PATH_BENEATH, {allowed_access="
        "LANDLOCK_ACCESS_FS_EXECUTE, parent_fd=-1}, 0) = -1 EBADF (Bad file descriptor)",
        "landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) = 3"]

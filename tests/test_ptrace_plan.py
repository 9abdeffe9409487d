"""The recording plan (ktrace.abi.linux_plan): roles, sizes, derivation, selection."""

from __future__ import annotations

import pytest

from ktrace import record as r
from ktrace.abi import LINUX_X86_64
from ktrace.abi import linux_plan as lp
from ktrace.abi.linux_plan import Len, Role

nr = LINUX_X86_64.syscall_number


def roles(name: str) -> list:
    return [spec.role for spec in lp.plan_for(nr(name))]


def test_every_plan_has_one_spec_per_argument():
    for number, plan in lp.plans().items():
        info = LINUX_X86_64.syscall(number)
        want = 2 if number == lp.UTRACE_NR else (info.nargs if info.nargs is not None else 6)
        assert len(plan) == want, info.name if info else number


def test_explicit_plans_name_real_syscalls():
    missing = [name for name in lp.PLANS if nr(name) is None]
    assert missing in ([], ["fchmodat2"])      # newer than some ABI tables


@pytest.mark.parametrize("name, expected", [
    ("openat", [Role.VALUE, Role.PATH, Role.VALUE, Role.VALUE]),
    ("read", [Role.VALUE, Role.OUT_BUF, Role.VALUE]),
    ("writev", [Role.VALUE, Role.IN_IOVEC, Role.VALUE]),
    ("execve", [Role.PATH, Role.ARGV, Role.ENVP]),
    ("rename", [Role.PATH, Role.PATH]),
    ("symlink", [Role.IN_STRING, Role.PATH]),
    ("poll", [Role.INOUT_ARRAY, Role.VALUE, Role.VALUE]),
    ("recvmsg", [Role.VALUE, Role.OUT_MSGHDR, Role.VALUE]),
    ("readlink", [Role.PATH, Role.OUT_STRING, Role.VALUE]),
])
def test_roles(name, expected):
    assert roles(name) == expected


def test_struct_sizes_and_lengths():
    stat = lp.plan_for(nr("newfstatat"))[2]
    assert (stat.role, stat.name, stat.size) == (Role.OUT_STRUCT, "stat", 144)
    sa = lp.plan_for(nr("connect"))[1]
    assert (sa.name, sa.length) == ("sockaddr", lp.Length(Len.ARG_U32, 2))   # int addrlen
    iov = lp.plan_for(nr("readv"))[1]
    assert iov.length == lp.Length(Len.ARG, 2)                  # unsigned long vlen: whole
    waiters = lp.plan_for(nr("futex_waitv"))[0]
    assert waiters.length == lp.Length(Len.ARG_U32, 1)          # unsigned int nr_futexes
    fsconfig = lp.plan_for_call(nr("fsconfig"), (3, 2, 0, 0x1000, (7 << 32) | 16))[3]
    assert fsconfig.length == lp.Length(Len.ARG_U32, 4)         # a selector's case too
    acc = lp.plan_for(nr("accept4"))[1]
    assert acc.length == lp.Length(Len.ARG_PTR, 2)
    ev = lp.plan_for(nr("epoll_wait"))[1]
    assert (ev.role, ev.size, ev.length) == (Role.OUT_ARRAY, 12, lp.Length(Len.RET))
    buf = lp.plan_for(nr("pwrite64"))[1]
    assert (buf.fd, buf.length) == (0, lp.Length(Len.RET))


def test_derivation_from_c_types():
    assert lp.derive("const char *", "filename").role == Role.PATH
    assert lp.derive("const char *", "name").role == Role.VALUE          # not a path
    assert lp.derive("const struct __kernel_timespec *", "ts") == lp.in_("timespec")
    assert lp.derive("struct stat *", "statbuf") == lp.out("stat")
    assert lp.derive("struct __kernel_timespec *", "timeout").role == Role.VALUE  # in, out?
    # a syscall without an explicit plan gets the derived one
    assert roles("mq_timedsend")[4] == Role.IN_STRUCT


def test_selected_plans_follow_the_argument():
    ioctl = nr("ioctl")
    tcgets = lp.plan_for_call(ioctl, (0, lp.TCGETS, 0x1000, 0, 0, 0))
    assert (tcgets[2].role, tcgets[2].name, tcgets[2].size) == (Role.OUT_STRUCT, "termios", 36)
    assert lp.plan_for_call(ioctl, (0, 0x1234, 0, 0, 0, 0)) == lp.plan_for(ioctl)
    name = lp.plan_for_call(nr("prctl"), (lp.PR_SET_NAME, 0x1000, 0, 0, 0, 0))
    assert name[1].role == Role.IN_STRING
    futex = lp.plan_for_call(nr("futex"), (0x1000, 0x80 | lp.FUTEX_WAIT, 0, 0x2000, 0, 0))
    assert futex[3] == lp.in_("timespec")              # FUTEX_PRIVATE_FLAG masked off


def test_syscalls_for_facilities():
    assert lp.syscalls_for(r.facility(r.SYSCALL)) is None      # every syscall
    namei = lp.syscalls_for(r.facility(r.NAMEI))
    assert {nr("openat"), nr("execve"), nr("newfstatat")} <= namei
    assert nr("read") not in namei and nr("mmap") not in namei
    gio = lp.syscalls_for(r.facility(r.GENIO))
    assert {nr("read"), nr("writev"), nr("recvmsg")} <= gio
    assert lp.UTRACE_NR in lp.syscalls_for(r.facility(r.USER))


def test_unknown_numbers_have_six_values():
    assert lp.plan_for(0x7fff) == (lp.V,) * 6

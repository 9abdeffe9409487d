"""kdump --strace on records no engine writes (a corrupt or hostile trace):
every good line printed, no traceback, and no work without bound."""

from __future__ import annotations

import struct

from ktrace import record as r
from ktrace.abi import linux_plan as lp
from ktrace.decode.strace import call as strace_call, pairing
from ktrace.decode.strace.fmt import StraceOptions
from test_strace_mm_ipc import Trace
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

SG_IO = 0x2285
EFAULT = 14


def test_a_group_stop_inside_a_call_is_left_out():
    t = Trace()
    t.call("write", 1, 0x1000, 3)
    t.stru(r.GROUPSTOP_NAME, struct.pack("<i", 19))
    t.ret("write", 3)
    assert t.lines() == ['write(1, 0x1000, 3) = 3']


def test_gio_parts_are_joined_only_as_the_engines_write_them():
    """Parts follow whole parts, GIO_PARTS_MAX at most: a hostile trace's run
    of GIOs is not joined without end (each join copies what came before)."""
    call = strace_call.Call("read", 0, (3, 0x1000, 1 << 30), StraceOptions())
    header = r.Header._make([r.GENIO] + [0] * (len(r.Header._fields) - 1))
    part = r.Genio(header, 3, 0, bytes(lp.GIO_PART))
    records = [part] * (lp.GIO_PARTS_MAX + 5)
    pairing.pair(call, records)
    gios = call.records[1]
    assert len(gios[0].data) == lp.GIO_PART * lp.GIO_PARTS_MAX
    assert len(gios) == 1 or all(len(g.data) == lp.GIO_PART for g in gios[1:])
    short = part._replace(data=b"x")
    call = strace_call.Call("read", 0, (3, 0x1000, 1 << 30), StraceOptions())
    pairing.pair(call, [short, part])
    assert len(call.records[1][0].data) == 1        # a short part ends the data


def test_a_short_sg_io_header_prints_its_address():
    t = Trace()
    t.call("ioctl", 3, SG_IO, 0x7000)
    t.stru(b"ioc", b"S\0")
    t.ret("ioctl", -EFAULT, error=EFAULT)
    assert t.lines() == ["ioctl(3, SG_IO, 0x7000) = -1 EFAULT (Bad address)"]


def test_a_failed_send_of_an_absurd_length():
    t = Trace()
    t.call("sendto", 3, 0x7000, (1 << 64) - 1, 0, 0, 0)
    t.stru(b"buf", b"abc")
    t.ret("sendto", -EFAULT, error=EFAULT)
    [line] = t.lines()
    assert line.startswith("sendto(3, ") and line.endswith("= -1 EFAULT (Bad address)")


def test_a_short_or_unknown_kvm_exit_reason():
    """A STRU kvmexit too short for its reason prints none; a reason kvm.h
    does not name prints as strace's xlookup miss."""
    t = Trace()
    for stru in (b"\5\0", struct.pack("<I", 0xFFFF0000), struct.pack("<I", 5)):
        t.call("ioctl", 5, lp.KVM_RUN, 0)
        t.stru(r.KVMEXIT_NAME, stru)
        t.ret("ioctl", 0)
    assert t.lines("-e", "kvm=vcpu") == ["ioctl(5, KVM_RUN, 0) = 0",
                                         "ioctl(5, KVM_RUN, 0) = 0 (KVM_EXIT_???)",
                                         "ioctl(5, KVM_RUN, 0) = 0 (KVM_EXIT_HLT)"]

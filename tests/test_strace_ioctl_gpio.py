"""kdump --strace: the GPIO character device's requests (type 0xB4, strace's
gpio_ioctl.c) and the PTP clock's (type '=', ptp.c): the structs a program
gives, under each engine (fd -1: no device is needed), and the answers a
driver writes, from hand-built records (they need a device that answers)."""

from __future__ import annotations

import struct
import time

import pytest

from ioctl_support import ioctl_lines, traced_program
from test_ioctl_view import ADDR, EBADF, Trace

GPIO_C = r"""
#include <linux/gpio.h>
#include <linux/ptp_clock.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    struct gpioline_info info = {.line_offset = 50};
    struct gpiohandle_request hr;
    struct gpio_v2_line_config lc;
    struct gpio_v2_line_values vals = {.bits = 0xcafe, .mask = 0xf00d};
    struct ptp_perout_request perout;
    struct ptp_pin_desc pin;
    memset(&hr, 0, sizeof hr);
    hr.lines = 40;
    for (int i = 0; i < GPIOHANDLES_MAX; i++)
        hr.lineoffsets[i] = i;
    hr.flags = GPIOHANDLE_REQUEST_ACTIVE_LOW | 0x8000;
    strcpy(hr.consumer_label, "me");
    memset(&lc, 0, sizeof lc);
    lc.flags = GPIO_V2_LINE_FLAG_ACTIVE_LOW;
    lc.num_attrs = 2;
    lc.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
    lc.attrs[0].attr.debounce_period_us = 10;
    lc.attrs[0].mask = 1;
    lc.attrs[1].attr.id = 9;
    lc.attrs[1].attr.values = 0xabc;
    lc.attrs[1].mask = 2;
    lc.padding[4] = 7;
    memset(&perout, 0, sizeof perout);
    perout.phase.nsec = 5;
    perout.period.sec = 1;
    perout.index = 2;
    perout.flags = PTP_PEROUT_PHASE;
    perout.rsv[3] = 0xfe;
    memset(&pin, 0, sizeof pin);
    pin.index = 3;
    pin.func = PTP_PF_PEROUT;
    pin.chan = 1;
    ioctl(-1, GPIO_GET_CHIPINFO_IOCTL, 0);
    ioctl(-1, GPIO_GET_LINEINFO_IOCTL, &info);
    ioctl(-1, GPIO_GET_LINEHANDLE_IOCTL, &hr);
    ioctl(-1, GPIO_V2_LINE_SET_CONFIG_IOCTL, &lc);
    ioctl(-1, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals);
    ioctl(-1, PTP_PEROUT_REQUEST2, &perout);
    ioctl(-1, PTP_PIN_SETFUNC, &pin);
    ioctl(-1, PTP_PIN_GETFUNC, &pin);
    ioctl(-1, PTP_CLOCK_GETCAPS, &pin);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
HANDLE = "lines=40, lineoffsets=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17"
V2_CONFIG = ("flags=GPIO_V2_LINE_FLAG_ACTIVE_LOW, num_attrs=2, padding=[0, 0, 0, 0, 0x7], "
             "attrs=[{debounce_period_us=10, mask=0x1}, {attr={id=9, data=0xabc}, mask=0x2}]")


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    data = traced_program(engine, tmp_path, "gpio", GPIO_C)
    lines = ioctl_lines(data)
    assert lines[:5] == [line + FAILED for line in (
        "ioctl(-1, GPIO_GET_CHIPINFO_IOCTL, NULL)",
        "ioctl(-1, GPIO_GET_LINEINFO_IOCTL, {line_offset=50})",
        f"ioctl(-1, GPIO_GET_LINEHANDLE_IOCTL, {{{HANDLE}, 18, 19, 20, 21, 22, 23, 24, 25, 26, "
        "27, 28, 29, 30, 31, ...], flags=GPIOHANDLE_REQUEST_ACTIVE_LOW|0x8000, default_values="
        "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
        '0, 0, 0, ...], consumer_label="me"})',
        f"ioctl(-1, GPIO_V2_LINE_SET_CONFIG_IOCTL, {{{V2_CONFIG}}})",
        "ioctl(-1, GPIO_V2_LINE_GET_VALUES_IOCTL, {mask=0xf00d})")]
    assert lines[5:] == [line + FAILED for line in (
        "ioctl(-1, PTP_PEROUT_REQUEST2, {phase={sec=0, nsec=5}, period={sec=1, nsec=0}, "
        "index=2, flags=PTP_PEROUT_PHASE, rsv=[0, 0, 0, 0xfe]})",
        "ioctl(-1, PTP_PIN_SETFUNC, {index=3, func=PTP_PF_PEROUT, chan=1})",
        "ioctl(-1, PTP_PIN_GETFUNC, {index=3})",
        f"ioctl(-1, PTP_CLOCK_GETCAPS, {_address(lines[8])})")]
    verbose = ioctl_lines(data, "-v", "-Xraw")
    assert verbose[2].startswith(f"ioctl(-1, 0xc16cb403, {{{HANDLE}, 18, ")
    assert ", 38, 39], flags=0x8004, default_values=[0, " in verbose[2]
    assert verbose[6] == "ioctl(-1, 0x40603d07, {index=3, func=0x2, chan=1})" + FAILED
    # -e verbose=none: strace decodes no PTP struct, but a GPIO one
    quiet = ioctl_lines(data, "-e", "verbose=none")
    assert quiet[6].startswith("ioctl(-1, PTP_PIN_SETFUNC, 0x7")
    assert quiet[1] == lines[1]


def _address(line: str) -> str:
    return line.split(", ")[2].split(")")[0]


GPIO_GET_LINEINFO, GPIO_GET_LINEHANDLE = 0xC048B402, 0xC16CB403
GPIOHANDLE_GET_LINE_VALUES, GPIO_V2_GET_LINEINFO = 0xC040B408, 0xC100B405
GPIO_V2_LINE_GET_VALUES, GPIO_GET_CHIPINFO = 0xC010B40E, 0x8044B401
NAMES = b"line\0".ljust(32, b"\0") + b"user\0".ljust(32, b"\0")


def test_the_answers_of_a_gpio_chip():
    t = Trace()
    t.ioctl(GPIO_GET_CHIPINFO, exit_=b"gpiochip0".ljust(32, b"\0") + b"x" * 32
            + struct.pack("<I", 8))
    given = struct.pack("<II", 5, 0) + bytes(64)
    t.ioctl(GPIO_GET_LINEINFO, entry=given, exit_=struct.pack("<II", 5, 0x4 | 0x100) + NAMES)
    t.ioctl(GPIO_GET_LINEINFO, entry=given)                 # the answer not recorded
    request = bytearray(0x16C)
    struct.pack_into("<I", request, 0x164, 1)               # lines
    answer = bytearray(request)
    struct.pack_into("<i", answer, 0x168, 7)                # fd
    t.ioctl(GPIO_GET_LINEHANDLE, entry=bytes(request), exit_=bytes(answer))
    t.ioctl(GPIOHANDLE_GET_LINE_VALUES, entry=bytes(64), exit_=bytes([1, 0]) + bytes(62))
    v2 = bytearray(256)
    struct.pack_into("<IIQ", v2, 64, 9, 0, 2)               # offset
    v2_answer = NAMES + struct.pack("<IIQ", 9, 2, 2) + struct.pack("<IIQ", 2, 0, 0xff) \
        + struct.pack("<IIQ", 1, 0, 0x8000)
    t.ioctl(GPIO_V2_GET_LINEINFO, entry=bytes(v2), exit_=v2_answer.ljust(256, b"\0"))
    t.ioctl(GPIO_V2_LINE_GET_VALUES, entry=struct.pack("<QQ", 0, 3),
            exit_=struct.pack("<QQ", 1, 3))
    t.ioctl(GPIO_GET_LINEINFO, entry=given, ret=-EBADF)
    assert t.lines() == [
        'ioctl(3, GPIO_GET_CHIPINFO_IOCTL, {name="gpiochip0", label="'
        + "x" * 31 + '"..., lines=8}) = 0',
        "ioctl(3, GPIO_GET_LINEINFO_IOCTL, {line_offset=5} => {flags=GPIOLINE_FLAG_ACTIVE_LOW"
        '|0x100, name="line", consumer="user"}) = 0',
        f"ioctl(3, GPIO_GET_LINEINFO_IOCTL, {{line_offset=5}} => {ADDR:#x}) = 0",
        "ioctl(3, GPIO_GET_LINEHANDLE_IOCTL, {lines=1, lineoffsets=[0], flags=0, "
        'default_values=[0], consumer_label=""} => {fd=7}) = 0',
        "ioctl(3, GPIOHANDLE_GET_LINE_VALUES_IOCTL, {values=[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
        "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...]}) = 0",
        "ioctl(3, GPIO_V2_GET_LINEINFO_IOCTL, {offset=9} => {name=\"line\", consumer=\"user\", "
        "flags=GPIO_V2_LINE_FLAG_ACTIVE_LOW, num_attrs=2, attrs=[{values=0xff}, "
        "{flags=0x8000 /* GPIO_V2_LINE_FLAG_??? */}]}) = 0",
        "ioctl(3, GPIO_V2_LINE_GET_VALUES_IOCTL, {mask=0x3} => {bits=0x1}) = 0",
        "ioctl(3, GPIO_GET_LINEINFO_IOCTL, {line_offset=5}) = -1 EBADF (Bad file descriptor)",
    ]
    assert t.lines("-Xverbose")[1] == (
        "ioctl(3, 0xc048b402 /* GPIO_GET_LINEINFO_IOCTL */, {line_offset=5} => {flags=0x104 "
        '/* GPIOLINE_FLAG_ACTIVE_LOW|0x100 */, name="line", consumer="user"}) = 0')


PTP_CLOCK_GETCAPS, PTP_PIN_GETFUNC2 = 0x80503D01, 0xC0603D0F
PTP_SYS_OFFSET_PRECISE, PTP_SYS_OFFSET_EXTENDED = 0xC0403D08, 0xC4C03D09
PTP_SYS_OFFSET = 0x43403D05


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_answers_of_a_ptp_clock(utc):
    t = Trace()
    t.ioctl(PTP_CLOCK_GETCAPS, exit_=struct.pack("<8i12I", 1, 2, 3, 4, 5, 6, 7, -8, *[0] * 11, 9))
    pin = struct.pack("<64sIII5I", b"", 2, 0, 0, 0, 0, 0, 0, 1)
    t.ioctl(PTP_PIN_GETFUNC2, entry=pin,
            exit_=struct.pack("<64sIII5I", b"SMA1", 2, 7, 1, 0, 0, 0, 0, 1))
    stamp = struct.pack("<qII", 1700000000, 5, 0)
    t.ioctl(PTP_SYS_OFFSET_PRECISE, exit_=stamp + stamp + struct.pack("<qII", 3, 0, 1)
            + bytes(16))
    head = struct.pack("<I3I", 1, 0, 0, 0)
    samples = struct.pack("<qII", 1, 0, 0) * 3
    t.ioctl(PTP_SYS_OFFSET_EXTENDED, entry=head.ljust(0x4C0, b"\0"),
            exit_=(head + samples).ljust(0x4C0, b"\0"))
    t.ioctl(PTP_SYS_OFFSET, entry=head.ljust(0x340, b"\0"))     # _IOW: the answer unrecorded
    date = " /* 2023-11-14T22:13:20.000000005+0000 */"
    first = " /* 1970-01-01T00:00:01+0000 */"
    assert t.lines() == [
        "ioctl(3, PTP_CLOCK_GETCAPS, {max_adj=1, n_alarm=2, n_ext_ts=3, n_per_out=4, pps=5, "
        "n_pins=6, cross_timestamping=7, adjust_phase=-8, rsv=[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
        "0, 0x9]}) = 0",
        'ioctl(3, PTP_PIN_GETFUNC2, {index=2, rsv=[0, 0, 0, 0, 0x1], name="SMA1", '
        "func=0x7 /* PTP_PF_??? */, chan=1}) = 0",
        f"ioctl(3, PTP_SYS_OFFSET_PRECISE, {{device={{sec=1700000000, nsec=5}}{date}, "
        f"sys_realtime={{sec=1700000000, nsec=5}}{date}, "
        "sys_monoraw={sec=3, nsec=0, reserved=0x1}}) = 0",
        f"ioctl(3, PTP_SYS_OFFSET_EXTENDED, {{n_samples=1, ts=[[{{sec=1, nsec=0}}{first}, "
        f"{{sec=1, nsec=0}}{first}, {{sec=1, nsec=0}}{first}]]}}) = 0",
        "ioctl(3, PTP_SYS_OFFSET, {n_samples=1, ???}) = 0",
    ]
    assert t.lines("-Xraw")[2] == (
        "ioctl(3, 0xc0403d08, {device={sec=1700000000, nsec=5}, sys_realtime={sec=1700000000, "
        "nsec=5}, sys_monoraw={sec=3, nsec=0, reserved=0x1}}) = 0")

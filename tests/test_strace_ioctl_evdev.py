"""kdump --strace: the input event device requests (type 'E', strace's evdev.c):
their names made of their number's parts (``EVIOCGBIT(EV_KEY, 96)``), the
structs the program gives, and the answers a driver writes.  A real program
(fd -1: no input device is needed) under each engine, and hand-built records
for the answers, which need a device that answers."""

from __future__ import annotations

import struct

from ioctl_support import ioctl_lines, traced_program
from test_ioctl_view import EBADF, Trace

EVDEV_C = r"""
#include <linux/input.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    unsigned int pair[2] = {30, 1};
    struct input_absinfo abs = {.value = 1, .minimum = -2, .maximum = 3, .fuzz = 4,
                                .flat = 5, .resolution = 6};
    struct ff_effect ffe;
    memset(&ffe, 0, sizeof ffe);
    ffe.type = FF_RUMBLE;
    ffe.id = -1;
    ffe.direction = 0x4000;
    ffe.replay.length = 500;
    ffe.u.rumble.strong_magnitude = 0x8000;
    ffe.u.rumble.weak_magnitude = 7;
    ioctl(-1, EVIOCGBIT(EV_KEY, 96), 0);
    ioctl(-1, EVIOCGBIT(0x6, 12), 0);
    ioctl(-1, EVIOCGNAME(256), 0);
    ioctl(-1, EVIOCSKEYCODE, pair);
    ioctl(-1, EVIOCSABS(ABS_MT_SLOT), &abs);
    ioctl(-1, EVIOCSFF, &ffe);
    ioctl(-1, EVIOCGRAB, 1);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
RUMBLE = "{type=FF_RUMBLE, id=-1, direction=16384"


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    data = traced_program(engine, tmp_path, "evdev", EVDEV_C)
    assert ioctl_lines(data) == [line + FAILED for line in (
        "ioctl(-1, EVIOCGBIT(EV_KEY, 96), NULL)",
        "ioctl(-1, EVIOCGBIT(0x6 /* EV_??? */, 12), NULL)",
        "ioctl(-1, EVIOCGNAME(256), NULL)",
        "ioctl(-1, EVIOCSKEYCODE, [30, KEY_ESC])",
        "ioctl(-1, EVIOCSABS(ABS_MT_SLOT), {value=1, minimum=4294967294, ...})",
        f"ioctl(-1, EVIOCSFF, {RUMBLE}, ...}})",
        "ioctl(-1, EVIOCGRAB, 1)")]
    verbose = ioctl_lines(data, "-v", "-Xverbose")
    assert verbose[1] == "ioctl(-1, 0x800c4526 /* EVIOCGBIT(0x6, 12) */, NULL)" + FAILED
    assert verbose[4] == ("ioctl(-1, 0x401845ef /* EVIOCSABS(ABS_MT_SLOT) */, {value=1, "
                          "minimum=4294967294, maximum=3, fuzz=4, flat=5, resolution=6})" + FAILED)
    assert verbose[5] == (
        "ioctl(-1, 0x40304580 /* EVIOCSFF */, {type=0x50 /* FF_RUMBLE */, id=-1, "
        "direction=16384, trigger={button=0, interval=0}, replay={length=500, delay=0}, "
        "rumble={strong_magnitude=32768, weak_magnitude=7}})" + FAILED)
    assert ioctl_lines(data, "-Xraw")[0] == "ioctl(-1, 0x80604521, NULL)" + FAILED


EVIOCGBIT_KEY_16, EVIOCGBIT_EV_8, EVIOCGBIT_PWR_4 = 0x80104521, 0x80084520, 0x80044536
EVIOCGNAME_16, EVIOCGID, EVIOCGABS_X_24, EVIOCGMTSLOTS_12 = (0x80104506, 0x80084502,
                                                             0x80184540, 0x800C450A)


def test_the_answers_of_a_device():
    t = Trace()
    keys = (1 << 1 | 1 << 2 | 1 << 30 | 1 << 57 | 1 << 100).to_bytes(16, "little")
    t.ioctl(EVIOCGBIT_KEY_16, exit_=keys, ret=16)
    t.ioctl(EVIOCGBIT_EV_8, exit_=(0b10).to_bytes(8, "little"), ret=1)
    t.ioctl(EVIOCGBIT_EV_8, exit_=bytes(8), ret=0)          # no bytes: the address
    t.ioctl(EVIOCGBIT_PWR_4, exit_=struct.pack("<i", -3), ret=4)
    t.ioctl(EVIOCGNAME_16, exit_=b"Power Button\0\0\0\0", ret=13)
    t.ioctl(EVIOCGID, exit_=struct.pack("<4H", 0x19, 0, 1, 0))
    t.ioctl(EVIOCGABS_X_24, exit_=struct.pack("<6i", 5, 0, 100, 1, 2, 3))
    t.ioctl(EVIOCGMTSLOTS_12, exit_=struct.pack("<I2i", 0x2F, 7, -1))
    t.ioctl(EVIOCGID, ret=-EBADF)
    assert t.lines() == [
        "ioctl(3, EVIOCGBIT(EV_KEY, 16), [KEY_ESC KEY_1 KEY_A KEY_SPACE ...]) = 16",
        "ioctl(3, EVIOCGBIT(0, 8), [EV_KEY]) = 1",
        "ioctl(3, EVIOCGBIT(0, 8), 0x7ffd0000) = 0",
        "ioctl(3, EVIOCGBIT(EV_PWR, 4), [-3]) = 4",
        'ioctl(3, EVIOCGNAME(16), "Power Button\\0") = 13',
        "ioctl(3, EVIOCGID, {bustype=25, vendor=0, product=1, version=0}) = 0",
        "ioctl(3, EVIOCGABS(ABS_X), {value=5, minimum=0, ...}) = 0",
        "ioctl(3, EVIOCGMTSLOTS(12), {code=ABS_MT_SLOT, values=[7, -1]}) = 0",
        "ioctl(3, EVIOCGID, 0x7ffd0000) = -1 EBADF (Bad file descriptor)",
    ]
    verbose = t.lines("-v", "-Xverbose")
    assert verbose[0] == ("ioctl(3, 0x80104521 /* EVIOCGBIT(EV_KEY, 16) */, [0x1 /* KEY_ESC */ "
                          "0x2 /* KEY_1 */ 0x1e /* KEY_A */ 0x39 /* KEY_SPACE */ "
                          "0x64 /* KEY_RIGHTALT */] /* [0x200000040000006, 0x1000000000] */)"
                          " = 16")
    assert verbose[6].endswith("{value=5, minimum=0, maximum=100, fuzz=1, flat=2, "
                               "resolution=3}) = 0")
    assert t.lines("-Xraw")[1] == "ioctl(3, 0x80084520, [0x2]) = 1"

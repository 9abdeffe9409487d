"""kdump --strace: the names strace gives requests it does not decode (its
generic ioctl test): HID's, mmtimer's and OpenZFS's fixed names, the names made
of a request's type, number and size (``HIDIOCGPHYS(8)``, ``UI_GET_SYSNAME(64)``,
strace's ioctl_decode_command_number), each with every other name the number
has; under each engine, and as -X raw and -X verbose print them."""

from __future__ import annotations



from ktrace.decode.strace.ioctl import ioctl_name
from ktrace.decode.strace.fmt import STYLE
from ioctl_support import ioctl_lines, traced_program
from test_ioctl_view import ADDR, Trace
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

NAMED_C = r"""
#include <linux/hiddev.h>
#include <linux/hidraw.h>
#include <linux/joystick.h>
#include <linux/mmtimer.h>
#include <linux/spi/spidev.h>
#include <linux/uinput.h>
#include <stdint.h>
#include <sys/ioctl.h>
int main(void) {
    uint64_t data = 0;
    ioctl(-1, MMTIMER_GETRES, &data);
    ioctl(-1, HIDIOCGVERSION, &data);
    ioctl(-1, HIDIOCGPHYS(8), &data);
    ioctl(-1, HIDIOCGRAWNAME(256), &data);
    ioctl(-1, UI_GET_SYSNAME(64), &data);
    ioctl(-1, JSIOCGNAME(128), &data);
    ioctl(-1, SPI_IOC_MESSAGE(1), &data);
    ioctl(-1, 'Z' << 8 | 'A', &data);
    ioctl(-1, _IOR(0x12, 125, char[256]), &data);
    ioctl(-1, ('K' << 8) + 1, &data);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"


def _requests(data: bytes, *options: str) -> list[str]:
    """The request of each ioctl line: what is between the fd and the argument (an address)."""
    return [line.removeprefix("ioctl(-1, ").rsplit(", 0x", 1)[0]
            for line in ioctl_lines(data, *options, start="ioctl(")]


def test_a_program_s_requests_are_named_as_strace_names_them(engine, tmp_path):
    data = traced_program(engine, tmp_path, "named", NAMED_C)
    assert _requests(data) == [
        "MMTIMER_GETRES", "HIDIOCGRDESCSIZE or HIDIOCGVERSION", "HIDIOCGPHYS(8)",
        "HIDIOCGRAWNAME(256)", "UI_GET_SYSNAME(64)", "JSIOCGNAME(128)", "SPI_IOC_MESSAGE(32)",
        "ZFS_IOC_SEND_SPACE", "BLKZNAME", "KSTAT_IOC_CHAIN_ID"]
    assert _requests(data, "-Xraw")[2] == "0x80084812"
    assert _requests(data, "-Xverbose")[2] == "0x80084812 /* HIDIOCGPHYS(8) */"


def _name(req: int, style: str = "abbrev") -> str:
    token = STYLE.set(style)
    try:
        return ioctl_name(req)
    finally:
        STYLE.reset(token)


def test_sized_names_by_direction_and_the_names_they_share():
    assert _name(0x80044806) == "HIDIOCSFEATURE(4)"        # strace 6.1's name for HIDIOCGNAME
    assert _name(0xC0084807) == "HIDIOCGFEATURE(8)"
    assert _name(0x400C4807) == "HIDIOCGREPORT"             # written: no sized name
    assert _name(0x81044804) == "HIDIOCGRAWNAME(260) or HIDIOCGSTRING"
    assert _name(0x40404D0D) == "MIXER_WRITE(13)"
    assert _name(0x5A88) == "ZFS_IOC_GET_BOOTENV"
    assert _name(0x6D06) == "MMTIMER_MMAPAVAIL"
    assert _name(0x80084812, "verbose") == "0x80084812 /* HIDIOCGPHYS(8) */"
    assert _name(0x80084812, "raw") == "0x80084812"


def test_named_requests_print_their_argument_in_hex():
    t = Trace()
    t.ioctl(0x80086D01)
    t.ioctl(0x80406A13, arg=0)
    assert t.lines() == [f"ioctl(3, MMTIMER_GETRES, {ADDR:#x}) = 0",
                         "ioctl(3, JSIOCGNAME(64), 0) = 0"]

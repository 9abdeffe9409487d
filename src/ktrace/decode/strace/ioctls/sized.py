"""The requests strace names by their number's parts with their size as a
length (ioctl.c's ioctl_decode_command_number): HID's ``HIDIOCGPHYS(8)``,
uinput's ``UI_GET_SYSNAME(64)``, the joystick's ``JSIOCGNAME(128)``, spidev's
``SPI_IOC_MESSAGE(32)``; it decodes none of them (their argument prints in hex).
(evdev's and the mixer's are in ``evdev`` and ``mtd``.)"""

from __future__ import annotations

from ....abi import linux_plan as lp
from . import Request

_RW = lp.IOC_READ | lp.IOC_WRITE
# (_IOC_TYPE, _IOC_DIR, _IOC_NR) -> the name; strace 6.1 names hiddev's read
# 0x06 (HIDIOCGNAME) HIDIOCSFEATURE, kept as it prints
SIZED = {
    (ord("H"), lp.IOC_READ, 0x04): "HIDIOCGRAWNAME",
    (ord("H"), lp.IOC_READ, 0x05): "HIDIOCGRAWPHYS",
    (ord("H"), lp.IOC_READ, 0x06): "HIDIOCSFEATURE",
    (ord("H"), lp.IOC_READ, 0x08): "HIDIOCGRAWUNIQ",
    (ord("H"), lp.IOC_READ, 0x12): "HIDIOCGPHYS",
    (ord("H"), _RW, 0x06): "HIDIOCSFEATURE",
    (ord("H"), _RW, 0x07): "HIDIOCGFEATURE",
    (ord("U"), lp.IOC_READ, 0x2C): "UI_GET_SYSNAME",
    (ord("j"), lp.IOC_READ, 0x13): "JSIOCGNAME",
    (ord("k"), lp.IOC_WRITE, 0x00): "SPI_IOC_MESSAGE",
}

NAMES: dict[str, int] = {}
REQUESTS: dict[str, Request] = {}


def number_name(req: int, verbose: bool) -> str | None:
    name = SIZED.get((req >> 8 & 0xFF, lp.ioc_dir(req), req & 0xFF))
    return None if name is None else f"{name}({lp.ioc_size(req)})"


def number_request(req: int) -> Request | None:
    return None

"""ioctl requests of the HID drivers (linux/hiddev.h, linux/hidraw.h), which
strace names but does not decode (their argument prints in hex); the ones
whose size is a length (``HIDIOCGPHYS(8)``) are named in ``sized``."""

from __future__ import annotations

from . import Request, io, ior, iow, iowr


_DEVINFO, _STRING, _REPORT_INFO, _FIELD_INFO = 0x1C, 0x104, 0x0C, 0x38
_USAGE_REF, _COLLECTION_INFO, _USAGE_REF_MULTI = 0x18, 0x10, 0x101C
_RAW_INFO, _RAW_DESC = 0x08, 0x1004

NAMES = {
    "HIDIOCGVERSION": ior("H", 0x01, 4), "HIDIOCAPPLICATION": io("H", 0x02),
    "HIDIOCGDEVINFO": ior("H", 0x03, _DEVINFO), "HIDIOCGSTRING": ior("H", 0x04, _STRING),
    "HIDIOCINITREPORT": io("H", 0x05), "HIDIOCGREPORT": iow("H", 0x07, _REPORT_INFO),
    "HIDIOCSREPORT": iow("H", 0x08, _REPORT_INFO),
    "HIDIOCGREPORTINFO": iowr("H", 0x09, _REPORT_INFO),
    "HIDIOCGFIELDINFO": iowr("H", 0x0A, _FIELD_INFO), "HIDIOCGUSAGE": iowr("H", 0x0B, _USAGE_REF),
    "HIDIOCSUSAGE": iow("H", 0x0C, _USAGE_REF), "HIDIOCGUCODE": iowr("H", 0x0D, _USAGE_REF),
    "HIDIOCGFLAG": ior("H", 0x0E, 4), "HIDIOCSFLAG": iow("H", 0x0F, 4),
    "HIDIOCGCOLLECTIONINDEX": iow("H", 0x10, _USAGE_REF),
    "HIDIOCGCOLLECTIONINFO": iowr("H", 0x11, _COLLECTION_INFO),
    "HIDIOCGUSAGES": iowr("H", 0x13, _USAGE_REF_MULTI),
    "HIDIOCSUSAGES": iow("H", 0x14, _USAGE_REF_MULTI),
    "HIDIOCGRDESCSIZE": ior("H", 0x01, 4), "HIDIOCGRDESC": ior("H", 0x02, _RAW_DESC),
    "HIDIOCGRAWINFO": ior("H", 0x03, _RAW_INFO),
}

REQUESTS: dict[str, Request] = {}

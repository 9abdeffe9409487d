"""ioctl requests of SGI's mmtimer (linux/mmtimer.h), which strace names but
does not decode (their argument prints in hex)."""

from __future__ import annotations

from . import Request, io, ior

_ULONG = 8

NAMES = {
    "MMTIMER_GETOFFSET": io("m", 0), "MMTIMER_GETRES": ior("m", 1, _ULONG),
    "MMTIMER_GETFREQ": ior("m", 2, _ULONG), "MMTIMER_GETBITS": io("m", 4),
    "MMTIMER_MMAPAVAIL": io("m", 6), "MMTIMER_GETCOUNTER": ior("m", 9, _ULONG),
}

REQUESTS: dict[str, Request] = {}

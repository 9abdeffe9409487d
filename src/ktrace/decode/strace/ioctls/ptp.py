"""ioctl requests of strace's ptp.c (linux/ptp_clock.h, the PTP hardware clock's device)."""

from __future__ import annotations

import struct
from functools import partial
from typing import Callable

from ...xlat import Xlat
from ..call import Call
from ..fmt import STYLE, flags, hexval, xval
from ..sockaddr import cstring
from ..structs import time_comment
from . import (Request, fields, flag_bits, given_and_answer, hex_array, ior, iow, iowr,
               local_array, memory)

MAX_SAMPLES = 25

PTP_EXTTS_FLAGS = flag_bits("PTP_", ("ENABLE_FEATURE", "RISING_EDGE", "FALLING_EDGE",
                                     "STRICT_FLAGS"))
PTP_PEROUT_ONE_SHOT, PTP_PEROUT_DUTY_CYCLE, PTP_PEROUT_PHASE = 1, 2, 4
PTP_PEROUT_FLAGS = flag_bits("PTP_PEROUT_", ("ONE_SHOT", "DUTY_CYCLE", "PHASE"))
PTP_PIN_FUNCS = Xlat(enumerate(("PTP_PF_NONE", "PTP_PF_EXTTS", "PTP_PF_PEROUT", "PTP_PF_PHYSYNC")))

CLOCK_TIME = struct.Struct("<qII")              # sec, nsec, reserved
CAPS = struct.Struct("<8i12I")                  # ..., adjust_phase, rsv[12]
CAPS_FIELDS = ("max_adj", "n_alarm", "n_ext_ts", "n_per_out", "pps", "n_pins",
               "cross_timestamping", "adjust_phase")
EXTTS = struct.Struct("<II2I")                  # index, flags, rsv[2]
PEROUT = struct.Struct("<16s16sII16s")          # start/phase, period, index, flags, on/rsv[4]
SYS_OFFSET_HEAD = struct.Struct("<I3I")         # n_samples, rsv[3]; then the time stamps
SYS_OFFSET = SYS_OFFSET_HEAD.size + (2 * MAX_SAMPLES + 1) * CLOCK_TIME.size
SYS_OFFSET_EXTENDED = SYS_OFFSET_HEAD.size + 3 * MAX_SAMPLES * CLOCK_TIME.size
SYS_OFFSET_PRECISE = struct.Struct("<16s16s16s4I")  # device, sys_realtime, sys_monoraw, rsv
PIN_DESC = struct.Struct("<64sIII5I")           # name, index, func, chan, rsv[5]


def clock_time_text(data: bytes, rtc: bool = False) -> str:
    """ptp_clock_time; ``rtc``: a calendar time, its date in a comment (not -X raw)."""
    sec, nsec, reserved = CLOCK_TIME.unpack_from(data)
    text = f"{{sec={sec}, nsec={nsec}" + (f", reserved={hexval(reserved)}}}" if reserved else "}")
    return text + time_comment(sec, nsec) if rtc and STYLE.get() != "raw" else text


def _clock_times(data: bytes, count: int) -> list[bytes]:
    size = CLOCK_TIME.size
    return [data[i * size:(i + 1) * size] for i in range(count)]


def _rsv(values) -> list[str]:
    """A reserved array, shown only when it is not all zero."""
    return [f"rsv={hex_array(values)}"] if any(values) else []


def caps_text(data: bytes, c: Call) -> str:
    values = CAPS.unpack_from(data)
    return "{" + ", ".join([fields(CAPS_FIELDS, values[:8])] + _rsv(values[8:])) + "}"


def _extts(second: bool) -> Callable[[bytes, Call], str]:
    def text(data: bytes, c: Call) -> str:
        index, flag_value, *rsv = EXTTS.unpack_from(data)
        parts = [f"index={index}",
                 f"flags={flags(PTP_EXTTS_FLAGS, flag_value, unknown='PTP_???')}"]
        return "{" + ", ".join(parts + (_rsv(rsv) if second else [])) + "}"
    return text


def _perout(second: bool) -> Callable[[bytes, Call], str]:
    """ptp_perout_request: ``phase`` or (a calendar time) ``start`` by the
    flags, and ``on`` with a duty cycle, else (the 2 request) the reserved words."""
    def text(data: bytes, c: Call) -> str:
        start, period, index, flag_value, tail = PEROUT.unpack_from(data)
        phase = flag_value & PTP_PEROUT_PHASE
        parts = [f"phase={clock_time_text(start)}" if phase
                 else f"start={clock_time_text(start, rtc=True)}",
                 f"period={clock_time_text(period)}", f"index={index}",
                 f"flags={flags(PTP_PEROUT_FLAGS, flag_value, unknown='PTP_PEROUT_???')}"]
        if flag_value & PTP_PEROUT_DUTY_CYCLE:
            parts.append(f"on={clock_time_text(tail)}")
        elif second:
            parts += _rsv(struct.unpack("<4I", tail))
        return "{" + ", ".join(parts) + "}"
    return text


def _sample_sets(data: bytes, c: Call, count: int, per_sample: int) -> str:
    """The time stamps the driver wrote after the head, ``count`` of them (in
    sets of three for the extended request)."""
    stamps = [clock_time_text(t, rtc=True)
              for t in _clock_times(data[SYS_OFFSET_HEAD.size:], count * per_sample)]
    if per_sample > 1:
        stamps = ["[" + ", ".join(stamps[i:i + per_sample]) + "]"
                  for i in range(0, len(stamps), per_sample)]
    return local_array(stamps, c)


def _sys_offset(size: int, extended: bool) -> Request:
    """PTP_SYS_OFFSET(_EXTENDED): the samples asked for (and reserved words) as
    given; at a successful exit, the time stamps written (``???`` when not recorded)."""
    def render(c: Call, given: bytes, done: bytes | None) -> str:
        count, *rsv = SYS_OFFSET_HEAD.unpack_from(given)
        parts = [f"n_samples={count}"] + _rsv(rsv)
        samples = min(count, MAX_SAMPLES)
        if c.ok and done is None:
            parts.append("???")
        elif c.ok and extended:
            parts.append(f"ts={_sample_sets(done, c, samples, 3)}")
        elif c.ok:
            parts.append(f"ts={_sample_sets(done, c, 2 * samples + 1, 1)}")
        return "{" + ", ".join(parts) + "}"
    return Request(lambda c: given_and_answer(partial(render, c), size).render(c))


def _pin_function(pin: tuple, second: bool = False) -> list[str]:
    _, _, func, chan, *rsv = pin
    return ([f"func={xval(PTP_PIN_FUNCS, func, 'PTP_PF_???')}", f"chan={chan}"]
            + (_rsv(rsv) if second else []))


def _pin_getfunc(second: bool) -> Request:
    """PTP_PIN_GETFUNC: the pin asked for; at a successful exit the driver's
    name, function and channel for it (``???`` when not recorded)."""
    def render(c: Call, given: bytes, done: bytes | None) -> str:
        pin = PIN_DESC.unpack_from(given)
        parts = [f"index={pin[1]}"] + (_rsv(pin[4:]) if second else [])
        if c.ok and done is None:
            parts.append("???")
        elif c.ok:
            answer = PIN_DESC.unpack_from(done)
            parts += [f"name={cstring(answer[0])}"] + _pin_function(answer)
        return "{" + ", ".join(parts) + "}"
    return Request(lambda c: given_and_answer(partial(render, c), PIN_DESC.size).render(c))


def _pin_setfunc(second: bool) -> Callable[[bytes, Call], str]:
    def text(data: bytes, c: Call) -> str:
        pin = PIN_DESC.unpack_from(data)
        return "{" + ", ".join([f"index={pin[1]}"] + _pin_function(pin, second)) + "}"
    return text


def precise_text(data: bytes, c: Call) -> str:
    device, realtime, monoraw, *rsv = SYS_OFFSET_PRECISE.unpack_from(data)
    parts = [f"device={clock_time_text(device, rtc=True)}",
             f"sys_realtime={clock_time_text(realtime, rtc=True)}",
             f"sys_monoraw={clock_time_text(monoraw)}"] + _rsv(rsv)
    return "{" + ", ".join(parts) + "}"


def _verbose(request: Request) -> Request:
    """strace decodes no PTP struct for a call -e verbose= leaves out: the address."""
    def text(c: Call) -> str | None:
        return request.render(c) if c.verbose else hexval(c.arg(2))
    return Request(text, request.late)


_PPS = Request(lambda c: hexval(c.arg(2)))

NAMES = {
    "PTP_CLOCK_GETCAPS": ior("=", 1, CAPS.size), "PTP_CLOCK_GETCAPS2": ior("=", 10, CAPS.size),
    "PTP_EXTTS_REQUEST": iow("=", 2, EXTTS.size), "PTP_EXTTS_REQUEST2": iow("=", 11, EXTTS.size),
    "PTP_PEROUT_REQUEST": iow("=", 3, PEROUT.size),
    "PTP_PEROUT_REQUEST2": iow("=", 12, PEROUT.size),
    "PTP_ENABLE_PPS": iow("=", 4, 4), "PTP_ENABLE_PPS2": iow("=", 13, 4),
    "PTP_SYS_OFFSET": iow("=", 5, SYS_OFFSET), "PTP_SYS_OFFSET2": iow("=", 14, SYS_OFFSET),
    "PTP_PIN_GETFUNC": iowr("=", 6, PIN_DESC.size),
    "PTP_PIN_GETFUNC2": iowr("=", 15, PIN_DESC.size),
    "PTP_PIN_SETFUNC": iow("=", 7, PIN_DESC.size), "PTP_PIN_SETFUNC2": iow("=", 16, PIN_DESC.size),
    "PTP_SYS_OFFSET_PRECISE": iowr("=", 8, SYS_OFFSET_PRECISE.size),
    "PTP_SYS_OFFSET_PRECISE2": iowr("=", 17, SYS_OFFSET_PRECISE.size),
    "PTP_SYS_OFFSET_EXTENDED": iowr("=", 9, SYS_OFFSET_EXTENDED),
    "PTP_SYS_OFFSET_EXTENDED2": iowr("=", 18, SYS_OFFSET_EXTENDED),
}

REQUESTS: dict[str, Request] = {name: _verbose(request) for name, request in {
    "PTP_CLOCK_GETCAPS": memory("ioc", True, caps_text, CAPS.size),
    "PTP_CLOCK_GETCAPS2": memory("ioc", True, caps_text, CAPS.size),
    "PTP_EXTTS_REQUEST": memory("ioc", False, _extts(False), EXTTS.size),
    "PTP_EXTTS_REQUEST2": memory("ioc", False, _extts(True), EXTTS.size),
    "PTP_PEROUT_REQUEST": memory("ioc", False, _perout(False), PEROUT.size),
    "PTP_PEROUT_REQUEST2": memory("ioc", False, _perout(True), PEROUT.size),
    "PTP_ENABLE_PPS": _PPS, "PTP_ENABLE_PPS2": _PPS,
    "PTP_SYS_OFFSET": _sys_offset(SYS_OFFSET, False),
    "PTP_SYS_OFFSET2": _sys_offset(SYS_OFFSET, False),
    "PTP_PIN_GETFUNC": _pin_getfunc(False), "PTP_PIN_GETFUNC2": _pin_getfunc(True),
    "PTP_PIN_SETFUNC": memory("ioc", False, _pin_setfunc(False), PIN_DESC.size),
    "PTP_PIN_SETFUNC2": memory("ioc", False, _pin_setfunc(True), PIN_DESC.size),
    "PTP_SYS_OFFSET_PRECISE": memory("ioc", True, precise_text, SYS_OFFSET_PRECISE.size),
    "PTP_SYS_OFFSET_PRECISE2": memory("ioc", True, precise_text, SYS_OFFSET_PRECISE.size),
    "PTP_SYS_OFFSET_EXTENDED": _sys_offset(SYS_OFFSET_EXTENDED, True),
    "PTP_SYS_OFFSET_EXTENDED2": _sys_offset(SYS_OFFSET_EXTENDED, True),
}.items()}

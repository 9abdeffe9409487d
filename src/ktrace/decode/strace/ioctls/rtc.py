"""ioctl requests of strace's rtc.c (with nvram.h's and phantom.h's names for its numbers)."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from ..call import Call
from ..fmt import flags, hexval, ptr, xval
from . import NO_ARG, UINT, ULONG, ULONG_VALUE, Request, fields, io, ior, iow, memory, ulong_text

RTC_TIME, RTC_WKALRM, RTC_PLL_INFO, RTC_PARAM = 36, 40, 32, 24     # struct sizes

_RTC_TIME = struct.Struct("<9i")
_RTC_TIME_FIELDS = ("tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year", "tm_wday",
                    "tm_yday", "tm_isdst")
_RTC_PLL = struct.Struct("<6iq")
_RTC_PLL_FIELDS = ("pll_ctrl", "pll_value", "pll_max", "pll_min", "pll_posmult", "pll_negmult",
                   "pll_clock")
_RTC_PARAM = struct.Struct("<QQII")     # param, value (uvalue/svalue), index, __pad
RTC_VL_FLAGS = Xlat([(1, "RTC_VL_DATA_INVALID"), (2, "RTC_VL_BACKUP_LOW"),
                     (4, "RTC_VL_BACKUP_EMPTY"), (8, "RTC_VL_ACCURACY_LOW"),
                     (16, "RTC_VL_BACKUP_SWITCH")])
RTC_FEATURES, RTC_PARAM_CORRECTION, RTC_PARAM_BACKUP_SWITCH_MODE = 0, 1, 2
RTC_PARAMS = Xlat([(RTC_FEATURES, "RTC_PARAM_FEATURES"),
                   (RTC_PARAM_CORRECTION, "RTC_PARAM_CORRECTION"),
                   (RTC_PARAM_BACKUP_SWITCH_MODE, "RTC_PARAM_BACKUP_SWITCH_MODE")])
RTC_FEATURE_BITS = Xlat([(1 << bit, f"1<<RTC_FEATURE_{name}") for bit, name in enumerate((
    "ALARM", "ALARM_RES_MINUTE", "NEED_WEEK_DAY", "ALARM_RES_2S", "UPDATE_INTERRUPT",
    "CORRECTION", "BACKUP_SWITCH_MODE", "ALARM_WAKEUP_ONLY"))])
RTC_BSM = Xlat([(0, "RTC_BSM_DISABLED"), (1, "RTC_BSM_DIRECT"), (2, "RTC_BSM_LEVEL"),
                (3, "RTC_BSM_STANDBY")])


def rtc_time_text(data: bytes, c: Call) -> str:
    """``{tm_sec=.., .., tm_year=.., ...}`` (all nine with -v)."""
    values = _RTC_TIME.unpack_from(data)
    if c.abbrev:
        return f"{{{fields(_RTC_TIME_FIELDS[:6], values)}, ...}}"
    return f"{{{fields(_RTC_TIME_FIELDS, values)}}}"


def rtc_wkalrm_text(data: bytes, c: Call) -> str:
    return f"{{enabled={data[0]}, pending={data[1]}, time={rtc_time_text(data[4:], c)}}}"


def rtc_pll_text(data: bytes, c: Call) -> str:
    return f"{{{fields(_RTC_PLL_FIELDS, _RTC_PLL.unpack_from(data))}}}"


def rtc_vl_text(data: bytes, c: Call) -> str:
    return f"[{flags(RTC_VL_FLAGS, UINT.unpack_from(data)[0], unknown='RTC_VL_???')}]"


def _rtc_param_value(param: int, value: int) -> str:
    if param == RTC_FEATURES:
        return f"uvalue={flags(RTC_FEATURE_BITS, value, unknown='1<<RTC_FEATURE_???')}"
    if param == RTC_PARAM_CORRECTION:
        return f"svalue={value - (1 << 64) if value >> 63 else value}"
    if param == RTC_PARAM_BACKUP_SWITCH_MODE:
        return f"uvalue={xval(RTC_BSM, value, 'RTC_BSM_???')}"
    return f"uvalue={hexval(value)}"


def _rtc_param(get: bool) -> Request:
    """RTC_PARAM_GET/SET's struct as given: the parameter and its index (and for
    SET its value); GET's value is the driver's, shown at exit (`` => ``)."""
    def text(data: bytes, c: Call) -> str:
        param, value, index, pad = _RTC_PARAM.unpack_from(data)
        parts = [f"param={xval(RTC_PARAMS, param, 'RTC_PARAM_???')}"]
        if not get:
            parts.append(_rtc_param_value(param, value))
        parts.append(f"index={index}")
        if pad:
            parts.append(f"__pad={hexval(pad)}")
        given = "{" + ", ".join(parts) + "}"
        # the driver's answer is not recorded (the request is _IOW): its address
        return f"{given} => {ptr(c.arg(2))}" if get and c.returned else given
    return memory("ioc", False, text, _RTC_PARAM.size)


NAMES = {
    "RTC_AIE_ON": io("p", 1), "RTC_AIE_OFF": io("p", 2), "RTC_UIE_ON": io("p", 3),
    "RTC_UIE_OFF": io("p", 4), "RTC_PIE_ON": io("p", 5), "RTC_PIE_OFF": io("p", 6),
    "RTC_WIE_ON": io("p", 15), "RTC_WIE_OFF": io("p", 16), "RTC_VL_CLR": io("p", 20),
    "PHN_NOT_OH": io("p", 4),
    "RTC_ALM_SET": iow("p", 7, RTC_TIME), "RTC_ALM_READ": ior("p", 8, RTC_TIME),
    "RTC_RD_TIME": ior("p", 9, RTC_TIME), "RTC_SET_TIME": iow("p", 10, RTC_TIME),
    "RTC_IRQP_READ": ior("p", 11, 8), "RTC_IRQP_SET": iow("p", 12, 8),
    "RTC_EPOCH_READ": ior("p", 13, 8), "RTC_EPOCH_SET": iow("p", 14, 8),
    "RTC_WKALM_SET": iow("p", 15, RTC_WKALRM), "RTC_WKALM_RD": ior("p", 16, RTC_WKALRM),
    "RTC_PLL_GET": ior("p", 17, RTC_PLL_INFO), "RTC_PLL_SET": iow("p", 18, RTC_PLL_INFO),
    "RTC_VL_READ": ior("p", 19, 4),
    "RTC_PARAM_GET": iow("p", 19, RTC_PARAM), "RTC_PARAM_SET": iow("p", 20, RTC_PARAM),
}

REQUESTS: dict[str, Request] = {
    # rtc.c
    **{req: NO_ARG for req in ("RTC_AIE_ON", "RTC_AIE_OFF", "RTC_UIE_ON", "RTC_UIE_OFF",
                               "RTC_PIE_ON", "RTC_PIE_OFF", "RTC_WIE_ON", "RTC_WIE_OFF",
                               "RTC_VL_CLR")},
    "RTC_ALM_READ": memory("ioc", True, rtc_time_text, RTC_TIME),
    "RTC_RD_TIME": memory("ioc", True, rtc_time_text, RTC_TIME),
    "RTC_ALM_SET": memory("ioc", False, rtc_time_text, RTC_TIME),
    "RTC_SET_TIME": memory("ioc", False, rtc_time_text, RTC_TIME),
    "RTC_IRQP_SET": ULONG_VALUE, "RTC_EPOCH_SET": ULONG_VALUE,
    "RTC_IRQP_READ": memory("ioc", True, ulong_text, ULONG.size),
    "RTC_EPOCH_READ": memory("ioc", True, ulong_text, ULONG.size),
    "RTC_WKALM_RD": memory("ioc", True, rtc_wkalrm_text, RTC_WKALRM),
    "RTC_WKALM_SET": memory("ioc", False, rtc_wkalrm_text, RTC_WKALRM),
    "RTC_PLL_GET": memory("ioc", True, rtc_pll_text, RTC_PLL_INFO),
    "RTC_PLL_SET": memory("ioc", False, rtc_pll_text, RTC_PLL_INFO),
    "RTC_VL_READ": memory("ioc", True, rtc_vl_text, UINT.size),
    "RTC_PARAM_GET": _rtc_param(True), "RTC_PARAM_SET": _rtc_param(False),
}

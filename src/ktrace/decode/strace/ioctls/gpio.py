"""ioctl requests of strace's gpio_ioctl.c (linux/gpio.h, the v1 and v2 character device ABI)."""

from __future__ import annotations

import struct
from functools import partial
from typing import Callable

from ...xlat import Xlat
from ..call import Call
from ..fmt import flags, hexval, ptr
from ..sockaddr import cstring
from . import (Request, fields, flag_bits, given_and_answer, hex_array, ior, iowr, local_array,
               memory)

LINES_MAX, NAME_SIZE, NUM_ATTRS_MAX = 64, 32, 10

GPIO_LINE_FLAGS = flag_bits("GPIOLINE_FLAG_", (
    "KERNEL", "IS_OUT", "ACTIVE_LOW", "OPEN_DRAIN", "OPEN_SOURCE", "BIAS_PULL_UP",
    "BIAS_PULL_DOWN", "BIAS_DISABLE"))
GPIO_HANDLE_FLAGS = flag_bits("GPIOHANDLE_REQUEST_", (
    "INPUT", "OUTPUT", "ACTIVE_LOW", "OPEN_DRAIN", "OPEN_SOURCE", "BIAS_PULL_UP",
    "BIAS_PULL_DOWN", "BIAS_DISABLE"))
# both edges first: strace names 3 BOTH_EDGES, not RISING_EDGE|FALLING_EDGE
GPIO_EVENT_FLAGS = Xlat([(3, "GPIOEVENT_REQUEST_BOTH_EDGES"), (1, "GPIOEVENT_REQUEST_RISING_EDGE"),
                         (2, "GPIOEVENT_REQUEST_FALLING_EDGE")])
GPIO_V2_LINE_FLAGS = flag_bits("GPIO_V2_LINE_FLAG_", (
    "USED", "ACTIVE_LOW", "INPUT", "OUTPUT", "EDGE_RISING", "EDGE_FALLING", "OPEN_DRAIN",
    "OPEN_SOURCE", "BIAS_PULL_UP", "BIAS_PULL_DOWN", "BIAS_DISABLED", "EVENT_CLOCK_REALTIME",
    "EVENT_CLOCK_HTE"))
ATTR_ID_FLAGS, ATTR_ID_OUTPUT_VALUES, ATTR_ID_DEBOUNCE = 1, 2, 3


def _line_flags(value: int) -> str:
    return flags(GPIO_LINE_FLAGS, value, unknown="GPIOLINE_FLAG_???")


def _handle_flags(value: int) -> str:
    return flags(GPIO_HANDLE_FLAGS, value, unknown="GPIOHANDLE_REQUEST_???")


def _event_flags(value: int) -> str:
    return flags(GPIO_EVENT_FLAGS, value, unknown="GPIOEVENT_REQUEST_???")


def _v2_flags(value: int) -> str:
    return flags(GPIO_V2_LINE_FLAGS, value, unknown="GPIO_V2_LINE_FLAG_???")


# struct sizes and layouts (x86-64)
CHIPINFO = struct.Struct(f"<{NAME_SIZE}s{NAME_SIZE}sI")
LINEINFO = struct.Struct(f"<II{NAME_SIZE}s{NAME_SIZE}s")
HANDLE_REQUEST = struct.Struct(f"<{LINES_MAX}II{LINES_MAX}B{NAME_SIZE}sIi")
EVENT_REQUEST = struct.Struct(f"<III{NAME_SIZE}si")
HANDLE_DATA = struct.Struct(f"<{LINES_MAX}B")
HANDLE_CONFIG = struct.Struct(f"<I{LINES_MAX}B4I")
ATTR = struct.Struct("<IIQ")            # id, padding, flags/values/debounce_period_us
CONFIG_ATTR = struct.Struct("<16sQ")    # attr, mask
V2_CONFIG = struct.Struct(f"<QI5I{NUM_ATTRS_MAX * CONFIG_ATTR.size}s")
V2_REQUEST = struct.Struct(f"<{LINES_MAX}I{NAME_SIZE}s{V2_CONFIG.size}sII5Ii")
V2_LINEINFO = struct.Struct(f"<{NAME_SIZE}s{NAME_SIZE}sIIQ{NUM_ATTRS_MAX * ATTR.size}s4I")
V2_VALUES = struct.Struct("<QQ")        # bits, mask
U32 = struct.Struct("<I")


def _attrs(data: bytes, size: int, count: int) -> list[bytes]:
    return [data[i * size:(i + 1) * size] for i in range(min(count, NUM_ATTRS_MAX))]


def _attr_raw(ident: int, pad: int, value: int) -> str:
    parts = [f"id={ident}"] + ([f"padding={hexval(pad)}"] if pad else [])
    return ", ".join(parts + [f"data={hexval(value)}"])


def _attr_text(data: bytes, as_field: bool) -> str:
    """gpio_v2_line_attribute: by its id; raw (id, padding, data) when the id is
    unknown or the padding in use (``attr={...}`` inside a config attribute)."""
    ident, pad, value = ATTR.unpack_from(data)
    if pad == 0 and ident == ATTR_ID_FLAGS:
        return f"flags={_v2_flags(value)}"
    if pad == 0 and ident == ATTR_ID_OUTPUT_VALUES:
        return f"values={hexval(value)}"
    if pad == 0 and ident == ATTR_ID_DEBOUNCE:
        return f"debounce_period_us={value & 0xFFFFFFFF}"
    raw = _attr_raw(ident, pad, value)
    return f"attr={{{raw}}}" if as_field else raw


def _config_attr_text(data: bytes) -> str:
    attr, mask = CONFIG_ATTR.unpack_from(data)
    return f"{{{_attr_text(attr, True)}, mask={hexval(mask)}}}"


def v2_config_text(data: bytes, c: Call) -> str:
    flag_value, count, *rest = V2_CONFIG.unpack_from(data)
    padding, attrs = rest[:5], rest[5]
    parts = [f"flags={_v2_flags(flag_value)}", f"num_attrs={count}"]
    if any(padding):
        parts.append(f"padding={hex_array(padding)}")
    if count:
        items = map(_config_attr_text, _attrs(attrs, CONFIG_ATTR.size, count))
        parts.append(f"attrs={local_array(items, c, count)}")
    return "{" + ", ".join(parts) + "}"


def _given_then_answer(given: Callable[[bytes, Call], str],
                       answer: Callable[[bytes, Call], str], size: int) -> Request:
    """A struct the driver reads in and fills (_IOWR): what was given, and when
    the call succeeded `` => `` what it answered (the address if not recorded)."""
    def render(c: Call, entry: bytes, done: bytes | None) -> str:
        if not c.ok:
            return given(entry, c)
        return f"{given(entry, c)} => {ptr(c.arg(2)) if done is None else answer(done, c)}"
    return Request(lambda c: given_and_answer(partial(render, c), size).render(c))


def chipinfo_text(data: bytes, c: Call) -> str:
    name, label, lines = CHIPINFO.unpack_from(data)
    return f"{{name={cstring(name)}, label={cstring(label)}, lines={lines}}}"


def lineinfo_given(data: bytes, c: Call) -> str:
    return f"{{line_offset={U32.unpack_from(data)[0]}}}"


def lineinfo_answer(data: bytes, c: Call) -> str:
    _, flag_value, name, consumer = LINEINFO.unpack_from(data)
    return (f"{{flags={_line_flags(flag_value)}, name={cstring(name)}, "
            f"consumer={cstring(consumer)}}}")


def unwatch_text(data: bytes, c: Call) -> str:
    return f"{{offset={U32.unpack_from(data)[0]}}}"


def _fd_answer(offset: int) -> Callable[[bytes, Call], str]:
    """The line fd a request struct returns, at ``offset``."""
    def text(data: bytes, c: Call) -> str:
        return f"{{fd={c.fd_text(struct.unpack_from('<i', data, offset)[0])}}}"
    return text


def handle_request_given(data: bytes, c: Call) -> str:
    values = HANDLE_REQUEST.unpack_from(data)
    offsets, flag_value = values[:LINES_MAX], values[LINES_MAX]
    defaults = values[LINES_MAX + 1:2 * LINES_MAX + 1]
    label, lines = values[2 * LINES_MAX + 1:2 * LINES_MAX + 3]
    return (f"{{lines={lines}, lineoffsets={local_array(map(str, offsets), c, lines)}, "
            f"flags={_handle_flags(flag_value)}, "
            f"default_values={local_array(map(str, defaults), c, lines)}, "
            f"consumer_label={cstring(label)}}}")


def event_request_given(data: bytes, c: Call) -> str:
    offset, handle_flags, event_flags, label, _ = EVENT_REQUEST.unpack_from(data)
    return (f"{{lineoffset={offset}, handleflags={_handle_flags(handle_flags)}, "
            f"eventflags={_event_flags(event_flags)}, consumer_label={cstring(label)}}}")


def handle_data_text(data: bytes, c: Call) -> str:
    return f"{{values={local_array(map(str, HANDLE_DATA.unpack_from(data)), c)}}}"


def handle_config_text(data: bytes, c: Call) -> str:
    flag_value, *defaults = HANDLE_CONFIG.unpack_from(data)[:LINES_MAX + 1]
    return (f"{{flags={_handle_flags(flag_value)}, "
            f"default_values={local_array(map(str, defaults), c)}}}")


def v2_lineinfo_given(data: bytes, c: Call) -> str:
    return f"{{offset={U32.unpack_from(data, 2 * NAME_SIZE)[0]}}}"


def v2_lineinfo_answer(data: bytes, c: Call) -> str:
    name, consumer, _, count, flag_value, attrs, *padding = V2_LINEINFO.unpack_from(data)
    parts = [f"name={cstring(name)}", f"consumer={cstring(consumer)}",
             f"flags={_v2_flags(flag_value)}", f"num_attrs={count}"]
    if count:
        items = (f"{{{_attr_text(attr, False)}}}" for attr in _attrs(attrs, ATTR.size, count))
        parts.append(f"attrs={local_array(items, c, count)}")
    if any(padding):
        parts.append(f"padding={hex_array(padding)}")
    return "{" + ", ".join(parts) + "}"


def v2_request_given(data: bytes, c: Call) -> str:
    values = V2_REQUEST.unpack_from(data)
    offsets = values[:LINES_MAX]
    consumer, config, count, buffer_size = values[LINES_MAX:LINES_MAX + 4]
    padding = values[LINES_MAX + 4:LINES_MAX + 9]
    parts = [f"num_lines={count}", f"offsets={local_array(map(str, offsets), c, count)}",
             f"consumer={cstring(consumer)}", f"config={v2_config_text(config, c)}"]
    if buffer_size:
        parts.append(f"event_buffer_size={buffer_size}")
    if any(padding):
        parts.append(f"padding={hex_array(padding)}")
    return "{" + ", ".join(parts) + "}"


def v2_values_mask(data: bytes, c: Call) -> str:
    return f"{{mask={hexval(V2_VALUES.unpack_from(data)[1])}}}"


def v2_values_bits(data: bytes, c: Call) -> str:
    return f"{{bits={hexval(V2_VALUES.unpack_from(data)[0])}}}"


def v2_values_text(data: bytes, c: Call) -> str:
    return "{" + fields(("bits", "mask"), map(hexval, V2_VALUES.unpack_from(data))) + "}"


NAMES = {
    "GPIO_GET_CHIPINFO_IOCTL": ior("\xb4", 0x01, CHIPINFO.size),
    "GPIO_GET_LINEINFO_IOCTL": iowr("\xb4", 0x02, LINEINFO.size),
    "GPIO_GET_LINEHANDLE_IOCTL": iowr("\xb4", 0x03, HANDLE_REQUEST.size),
    "GPIO_GET_LINEEVENT_IOCTL": iowr("\xb4", 0x04, EVENT_REQUEST.size),
    "GPIO_V2_GET_LINEINFO_IOCTL": iowr("\xb4", 0x05, V2_LINEINFO.size),
    "GPIO_V2_GET_LINEINFO_WATCH_IOCTL": iowr("\xb4", 0x06, V2_LINEINFO.size),
    "GPIO_V2_GET_LINE_IOCTL": iowr("\xb4", 0x07, V2_REQUEST.size),
    "GPIOHANDLE_GET_LINE_VALUES_IOCTL": iowr("\xb4", 0x08, HANDLE_DATA.size),
    "GPIOHANDLE_SET_LINE_VALUES_IOCTL": iowr("\xb4", 0x09, HANDLE_DATA.size),
    "GPIOHANDLE_SET_CONFIG_IOCTL": iowr("\xb4", 0x0A, HANDLE_CONFIG.size),
    "GPIO_GET_LINEINFO_WATCH_IOCTL": iowr("\xb4", 0x0B, LINEINFO.size),
    "GPIO_GET_LINEINFO_UNWATCH_IOCTL": iowr("\xb4", 0x0C, U32.size),
    "GPIO_V2_LINE_SET_CONFIG_IOCTL": iowr("\xb4", 0x0D, V2_CONFIG.size),
    "GPIO_V2_LINE_GET_VALUES_IOCTL": iowr("\xb4", 0x0E, V2_VALUES.size),
    "GPIO_V2_LINE_SET_VALUES_IOCTL": iowr("\xb4", 0x0F, V2_VALUES.size),
}

_LINEINFO = _given_then_answer(lineinfo_given, lineinfo_answer, LINEINFO.size)
_V2_LINEINFO = _given_then_answer(v2_lineinfo_given, v2_lineinfo_answer, V2_LINEINFO.size)

REQUESTS: dict[str, Request] = {
    "GPIO_GET_CHIPINFO_IOCTL": memory("ioc", True, chipinfo_text, CHIPINFO.size),
    "GPIO_GET_LINEINFO_IOCTL": _LINEINFO, "GPIO_GET_LINEINFO_WATCH_IOCTL": _LINEINFO,
    "GPIO_GET_LINEINFO_UNWATCH_IOCTL": memory("ioc", False, unwatch_text, U32.size),
    "GPIO_GET_LINEHANDLE_IOCTL": _given_then_answer(
        handle_request_given, _fd_answer(HANDLE_REQUEST.size - 4), HANDLE_REQUEST.size),
    "GPIO_GET_LINEEVENT_IOCTL": _given_then_answer(
        event_request_given, _fd_answer(EVENT_REQUEST.size - 4), EVENT_REQUEST.size),
    "GPIOHANDLE_GET_LINE_VALUES_IOCTL": memory("ioc", True, handle_data_text, HANDLE_DATA.size),
    "GPIOHANDLE_SET_LINE_VALUES_IOCTL": memory("ioc", False, handle_data_text, HANDLE_DATA.size),
    "GPIOHANDLE_SET_CONFIG_IOCTL": memory("ioc", False, handle_config_text, HANDLE_CONFIG.size),
    "GPIO_V2_GET_LINEINFO_IOCTL": _V2_LINEINFO, "GPIO_V2_GET_LINEINFO_WATCH_IOCTL": _V2_LINEINFO,
    "GPIO_V2_GET_LINE_IOCTL": _given_then_answer(
        v2_request_given, _fd_answer(V2_REQUEST.size - 4), V2_REQUEST.size),
    "GPIO_V2_LINE_SET_CONFIG_IOCTL": memory("ioc", False, v2_config_text, V2_CONFIG.size),
    "GPIO_V2_LINE_GET_VALUES_IOCTL": _given_then_answer(v2_values_mask, v2_values_bits,
                                                        V2_VALUES.size),
    "GPIO_V2_LINE_SET_VALUES_IOCTL": memory("ioc", False, v2_values_text, V2_VALUES.size),
}

"""ioctl requests of the input event devices, type ``'E'`` (strace's evdev.c,
evdev_mpers.c, and its ioctl.c's evdev_decode_number).

Many of these requests carry a number in their ``_IOC_NR`` (an event type, an
axis) or a length in their ``_IOC_SIZE``; strace names them by those parts,
``EVIOCGBIT(EV_KEY, 96)``, ``EVIOCGABS(ABS_X)``, ``EVIOCGNAME(256)``
(:func:`number_name`), and decodes every request of type ``'E'`` by its parts
(:func:`number_request`); the fixed ones are in ``NAMES`` and ``REQUESTS``.
"""

from __future__ import annotations

import struct

from ....abi import linux_plan as lp
from ...xlat import LINUX as L
from ...xlat import Xlat
from ..call import Call
from ..fmt import STYLE, hexval, printstr, ptr, xval
from . import INT, INT_VALUE, UINT, ULONG_VALUE, Request, fields, ior, iow, memory

EV_TYPE = ord("E")
INPUT_ID, INPUT_KEYMAP_ENTRY, FF_EFFECT, INPUT_MASK = 8, 40, 48, 16    # struct sizes
EV_MAX, ABS_MAX = 0x1F, 0x3F

NAMES = {
    "EVIOCGVERSION": ior("E", 0x01, 4), "EVIOCGID": ior("E", 0x02, INPUT_ID),
    "EVIOCGREP": ior("E", 0x03, 8), "EVIOCSREP": iow("E", 0x03, 8),
    "EVIOCGKEYCODE": ior("E", 0x04, 8), "EVIOCSKEYCODE": iow("E", 0x04, 8),
    "EVIOCGKEYCODE_V2": ior("E", 0x04, INPUT_KEYMAP_ENTRY),
    "EVIOCSKEYCODE_V2": iow("E", 0x04, INPUT_KEYMAP_ENTRY),
    "EVIOCSFF": iow("E", 0x80, FF_EFFECT), "EVIOCRMFF": iow("E", 0x81, 4),
    "EVIOCGEFFECTS": ior("E", 0x84, 4), "EVIOCGRAB": iow("E", 0x90, 4),
    "EVIOCREVOKE": iow("E", 0x91, 4), "EVIOCGMASK": ior("E", 0x92, INPUT_MASK),
    "EVIOCSMASK": iow("E", 0x93, INPUT_MASK), "EVIOCSCLOCKID": iow("E", 0xA0, 4),
}

# The requests named by a length: _IOC_NR -> name (ioctl.c's evdev_decode_number)
SIZED = {0x06: "EVIOCGNAME", 0x07: "EVIOCGPHYS", 0x08: "EVIOCGUNIQ", 0x09: "EVIOCGPROP",
         0x0A: "EVIOCGMTSLOTS", 0x18: "EVIOCGKEY", 0x19: "EVIOCGLED", 0x1A: "EVIOCGSND",
         0x1B: "EVIOCGSW"}
GBIT, GABS, SABS = 0x20, 0x40, 0xC0         # the first _IOC_NR of each numbered series
MTSLOTS = 0x0A                              # EVIOCGMTSLOTS: a code and size/4 - 1 values


def _parts(req: int) -> tuple[int, int, int]:
    """(direction, number, size) of a request."""
    return req >> lp.IOC_DIR_SHIFT & 3, req & 0xFF, req >> lp.IOC_SIZE_SHIFT & 0x3FFF


def _number(table: Xlat, value: int, unknown: str, verbose: bool) -> str:
    """An event type or axis inside a request's name: in -X verbose's comment
    the name alone, or the bare number when the table has none."""
    if verbose:
        return table.name(value) or hexval(value)
    return xval(table, value, unknown)


def number_name(req: int, verbose: bool) -> str | None:
    """The name of a request of type 'E' made from its number or size."""
    if req >> 8 & 0xFF != EV_TYPE:
        return None
    direction, nr, size = _parts(req)
    if direction == lp.IOC_WRITE and SABS <= nr <= SABS + ABS_MAX:
        return f"EVIOCSABS({_number(L.EVDEV_ABS, nr - SABS, 'ABS_???', verbose)})"
    if direction != lp.IOC_READ:
        return None
    if GBIT <= nr <= GBIT + EV_MAX:
        ev = "0" if nr == GBIT else _number(L.EVDEV_EV, nr - GBIT, "EV_???", verbose)
        return f"EVIOCGBIT({ev}, {size})"
    if GABS <= nr <= GABS + ABS_MAX:
        return f"EVIOCGABS({_number(L.EVDEV_ABS, nr - GABS, 'ABS_???', verbose)})"
    return f"{SIZED[nr]}({size})" if nr in SIZED else None


# --- the arguments ----------------------------------------------------------

ADDRESS = Request(lambda c: ptr(c.arg(2)))
ADDRESS_AT_EXIT = Request(ADDRESS.render, late=True)

_PAIR = struct.Struct("<II")
_INPUT_ID = struct.Struct("<4H")
_KEYMAP_ENTRY = struct.Struct("<BBHI32s")
_ABSINFO = struct.Struct("<6I")
ABSINFO_FLAT_END, ABSINFO_RESOLUTION_END = 20, 24


def keycode_text(data: bytes, c: Call) -> str:
    scancode, keycode = _PAIR.unpack_from(data)
    return f"[{scancode}, {xval(L.EVDEV_KEYCODE, keycode, 'KEY_???')}]"


def keymap_entry_text(data: bytes, c: Call) -> str:
    """struct input_keymap_entry: flags and len; -v: all of it."""
    flags_, length, index, keycode, scancode = _KEYMAP_ENTRY.unpack_from(data)
    if c.abbrev:
        return f"{{flags={flags_}, len={length}, ...}}"
    return (f"{{flags={flags_}, len={length}, index={index}, "
            f"keycode={xval(L.EVDEV_KEYCODE, keycode, 'KEY_???')}, "
            f"scancode=[{', '.join(hexval(b) for b in scancode)}]}}")


def input_id_text(data: bytes, c: Call) -> str:
    return "{" + fields(("bustype", "vendor", "product", "version"),
                        _INPUT_ID.unpack_from(data)) + "}"


def pair_text(data: bytes, c: Call) -> str:
    return "[{}, {}]".format(*_PAIR.unpack_from(data))


def uint_text(data: bytes, c: Call) -> str:
    return f"[{UINT.unpack_from(data)[0]}]"


def version_text(data: bytes, c: Call) -> str:
    return f"[{hexval(UINT.unpack_from(data)[0])}]"


def absinfo(req: int) -> Request:
    """struct input_absinfo, of the request's size: value and minimum; -v: up
    to flat, resolution when the size holds it, ``...`` for more."""
    direction, _, size = _parts(req)
    written = direction == lp.IOC_READ          # by the driver: EVIOCGABS
    if size < ABSINFO_FLAT_END:
        return ADDRESS_AT_EXIT if written else ADDRESS

    def text(data: bytes, c: Call) -> str:
        data = data.ljust(_ABSINFO.size, b"\0")
        values = _ABSINFO.unpack_from(data)
        if c.abbrev:
            return f"{{{fields(('value', 'minimum'), values)}, ...}}"
        shown = 6 if size >= ABSINFO_RESOLUTION_END else 5
        more = ", ..." if size not in (ABSINFO_FLAT_END, ABSINFO_RESOLUTION_END) else ""
        names = ("value", "minimum", "maximum", "fuzz", "flat", "resolution")[:shown]
        return f"{{{fields(names, values)}{more}}}"
    return memory("ioc", written, text, ABSINFO_FLAT_END)


# struct ff_effect (x86-64): the common head, then the union at offset 16
_FF_HEAD = struct.Struct("<HhH4H")
_FF_ENVELOPE = ("attack_length", "attack_level", "fade_length", "fade_level")
FF_CONSTANT, FF_RAMP, FF_PERIODIC, FF_RUMBLE = 0x52, 0x57, 0x51, 0x50
FF_UNION = 16


def _envelope(data: bytes, at: int) -> str:
    a_len, a_level, f_len, f_level = struct.unpack_from("<4H", data, at)
    return (f"envelope={{attack_length={a_len}, attack_level={a_level}, "
            f"fade_length={f_len}, fade_level={hexval(f_level)}}}")


def _ff_union(kind: int, data: bytes) -> str | None:
    """The union member of this effect type, or None for a type without one."""
    u = FF_UNION
    if kind == FF_CONSTANT:
        return f"constant={{level={struct.unpack_from('<h', data, u)[0]}, {_envelope(data, u + 2)}}}"
    if kind == FF_RAMP:
        start, end = struct.unpack_from("<hh", data, u)
        return f"ramp={{start_level={start}, end_level={end}, {_envelope(data, u + 4)}}}"
    if kind == FF_PERIODIC:
        waveform, period, magnitude, offset, phase = struct.unpack_from("<HHhhH", data, u)
        custom_len, custom_data = struct.unpack_from("<IQ", data, u + 20)
        return (f"periodic={{waveform={waveform}, period={period}, magnitude={magnitude}, "
                f"offset={offset}, phase={phase}, {_envelope(data, u + 10)}, "
                f"custom_len={custom_len}, custom_data={ptr(custom_data)}}}")
    if kind == FF_RUMBLE:
        strong, weak = struct.unpack_from("<HH", data, u)
        return f"rumble={{strong_magnitude={strong}, weak_magnitude={weak}}}"
    return None


def ff_effect_text(data: bytes, c: Call) -> str:
    """struct ff_effect: type, id, direction; -v: trigger, replay and the
    union member of its type (custom_data's samples are not read)."""
    kind, ident, direction, button, interval, length, delay = _FF_HEAD.unpack_from(data)
    head = (f"type={xval(L.EVDEV_FF_TYPES, kind, 'FF_???')}, id={ident}, "
            f"direction={direction}")
    if c.abbrev:
        return f"{{{head}, ...}}"
    parts = [head, f"trigger={{button={button}, interval={interval}}}",
             f"replay={{length={length}, delay={delay}}}"]
    member = _ff_union(kind, data)
    if member is not None:
        parts.append(member)
    return "{" + ", ".join(parts) + "}"


# --- bitsets (decode_bitset), the answers of EVIOCGBIT and EVIOCGKEY & co ----

WORD = 8
SHOWN_BITS = 4      # without -v: the first four set bits, then "..."


def _bits_text(data: bytes, table: Xlat, nbits: int, unknown: str, c: Call) -> str:
    value = int.from_bytes(data, "little")
    names = []
    for bit in range(nbits):
        if value >> bit & 1:
            if c.abbrev and len(names) == SHOWN_BITS:
                names.append("...")
                break
            names.append(xval(table, bit, unknown))
    words = "[" + ", ".join(hexval(int.from_bytes(data[i:i + WORD], "little"))
                            for i in range(0, len(data), WORD)) + "]"
    style = STYLE.get()
    if style == "raw":
        return words
    named_bits = "[" + " ".join(names) + "]"
    return f"{named_bits} /* {words} */" if style == "verbose" else named_bits


def bitset(table: Xlat, max_bit: int, unknown: str) -> Request:
    """A bitset the driver wrote: as many bits as the call returned bytes (at
    most ``max_bit``), read in whole words."""
    def text(c: Call) -> str:
        nbits = min(max_bit, max(c.retval, 0) * 8) if c.ok else 0
        size = -(-nbits // 8)
        size = -(-size // WORD) * WORD
        data = c.struct(2, "ioc")
        if not size or data is None or len(data) < size:
            return ptr(c.arg(2))
        return _bits_text(data[:size], table, nbits, unknown, c)
    return Request(text, late=True)


def _power_text(data: bytes, c: Call) -> str:
    return f"[{INT.unpack_from(data)[0]}]"


def _string(c: Call) -> str:
    """EVIOCGNAME & co: the call's answer, as long as it returned."""
    data = c.struct(2, "ioc")
    if not c.ok or data is None:
        return ptr(c.arg(2))
    return printstr(data[:c.retval], c.opts)


def _mtslots_text(data: bytes, c: Call) -> str:
    code, *values = struct.unpack_from(f"<I{len(data) // 4 - 1}i", data)
    shown = ", ".join(str(v) for v in values[:c.opts.strsize])
    if len(values) > c.opts.strsize:
        shown += ", ..."
    return f"{{code={xval(L.EVDEV_MTSLOTS, code, 'ABS_MT_???')}, values=[{shown}]}}"


def mtslots(size: int) -> Request:
    count = size // INT.size
    if not count:
        return ADDRESS_AT_EXIT
    return memory("ioc", True, lambda data, c: _mtslots_text(data[:count * INT.size], c),
                  count * INT.size)


KEYS = bitset(L.EVDEV_KEYCODE, 0x2FF, "KEY_???")
LEDS = bitset(L.EVDEV_LEDS, 0x0F, "LED_???")
SOUNDS = bitset(L.EVDEV_SND, 0x07, "SND_???")
SWITCHES = bitset(L.EVDEV_SWITCH, 0x10, "SW_???")
STRING = Request(_string, late=True)
# the requests named by a length (but EVIOCGMTSLOTS): _IOC_NR -> how they print
SIZED_REQUESTS = {0x06: STRING, 0x07: STRING, 0x08: STRING,
                  0x09: bitset(L.EVDEV_PROP, 0x1F, "PROP_???"), 0x18: KEYS, 0x19: LEDS,
                  0x1A: SOUNDS, 0x1B: SWITCHES}
# EVIOCGBIT's event type -> how its answer prints (0: the event types themselves)
GBIT_REQUESTS = {
    0x00: bitset(L.EVDEV_EV, EV_MAX, "EV_???"), 0x01: KEYS,
    0x02: bitset(L.EVDEV_RELATIVE_AXES, 0x0F, "REL_???"),
    0x03: bitset(L.EVDEV_ABS, ABS_MAX, "ABS_???"), 0x04: bitset(L.EVDEV_MISC, 0x07, "MSC_???"),
    0x05: SWITCHES, 0x11: LEDS, 0x12: SOUNDS,
    0x14: bitset(L.EVDEV_AUTOREPEAT, 0x01, "REP_???"),
    0x15: bitset(L.EVDEV_FF_TYPES, 0x7F, "FF_???"),
    0x16: memory("ioc", True, _power_text, INT.size),
    0x17: bitset(L.EVDEV_FF_STATUS, 0x01, "FF_STATUS_???"),
}


def number_request(req: int) -> Request | None:
    """How an argument of type 'E' prints that ``REQUESTS`` does not name: by
    its request's number and size; the address for the rest that have a
    direction, as strace's evdev_ioctl."""
    if req >> 8 & 0xFF != EV_TYPE:
        return None
    direction, nr, size = _parts(req)
    if direction == lp.IOC_WRITE:
        return absinfo(req) if SABS <= nr <= SABS + ABS_MAX else ADDRESS
    if direction != lp.IOC_READ:
        return None
    if nr == MTSLOTS:
        return mtslots(size)
    if nr in SIZED_REQUESTS:
        return SIZED_REQUESTS[nr]
    if GABS <= nr <= GABS + ABS_MAX:
        return absinfo(req)
    if GBIT <= nr <= GBIT + EV_MAX:
        return GBIT_REQUESTS.get(nr - GBIT, ADDRESS_AT_EXIT)
    return ADDRESS_AT_EXIT


REQUESTS: dict[str, Request] = {
    "EVIOCGVERSION": memory("ioc", True, version_text, UINT.size),
    "EVIOCGEFFECTS": memory("ioc", True, uint_text, UINT.size),
    "EVIOCGID": memory("ioc", True, input_id_text, INPUT_ID),
    "EVIOCGREP": memory("ioc", True, pair_text, _PAIR.size),
    "EVIOCSREP": memory("ioc", False, pair_text, _PAIR.size),
    "EVIOCGKEYCODE": memory("ioc", True, keycode_text, _PAIR.size),
    "EVIOCSKEYCODE": memory("ioc", False, keycode_text, _PAIR.size),
    "EVIOCGKEYCODE_V2": memory("ioc", True, keymap_entry_text, INPUT_KEYMAP_ENTRY),
    "EVIOCSKEYCODE_V2": memory("ioc", False, keymap_entry_text, INPUT_KEYMAP_ENTRY),
    "EVIOCSFF": memory("ioc", False, ff_effect_text, FF_EFFECT),
    "EVIOCRMFF": INT_VALUE, "EVIOCGRAB": ULONG_VALUE, "EVIOCREVOKE": ULONG_VALUE,
    "EVIOCSCLOCKID": memory("ioc", False, uint_text, UINT.size),
}

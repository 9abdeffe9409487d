"""The protobuf wire format, just what a Perfetto trace needs, by hand.

Writing the few messages of a trace directly keeps the runtime free of a
protobuf dependency and lets each packet go out as soon as it is made.
Messages are built inside out as bytes: a field is its key (number and wire
type) then its value; a nested message is a length-delimited field.  Keys
are made once (:func:`key`) and reused, as the writer's hot path is these
few concatenations.
"""

from __future__ import annotations

import struct

VARINT, FIXED64, LEN = 0, 1, 2
_MASK64 = (1 << 64) - 1
_GROUP = [bytes([n | 0x80]) for n in range(128)]                    # a group, more follow
_LOW14 = [bytes((n & 0x7F | 0x80, n >> 7 | 0x80)) for n in range(1 << 14)]   # two of them
# varint(n) of every n below 2**14: field keys, lengths, small values
_SHORT = [bytes([n]) for n in range(128)] + [_GROUP[n & 0x7F] + bytes([n >> 7])
                                              for n in range(128, 1 << 14)]
_FIXED64 = struct.Struct("<Q").pack
_HIGH: dict[int, bytes] = {}     # varint(n >> 21) for the high bits timestamps share


def _varint_slow(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint(n: int) -> bytes:
    """Base-128, least significant group first; negatives as their 64-bit two's complement.

    Nanosecond timestamps are nine groups of which the top six change every
    couple of milliseconds: those are cached, the low three come from tables.
    """
    if 0 <= n < 1 << 14:
        return _SHORT[n]
    if n < 0:
        n &= _MASK64
    if n < 1 << 21:
        return _varint_slow(n)
    high = n >> 21
    tail = _HIGH.get(high)
    if tail is None:
        if len(_HIGH) >= 4096:
            _HIGH.clear()
        tail = _HIGH[high] = _varint_slow(high)
    return _LOW14[n & 0x3FFF] + _GROUP[n >> 14 & 0x7F] + tail


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at ``at`` of ``data`` (bytes a writer here made: whole), and
    where it ends."""
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def uint(field: int, n: int) -> bytes:
    """An int32/int64/uint32/uint64/bool/enum field (int64 negatives take ten bytes)."""
    return key(field, VARINT) + varint(n)


def fixed64(field: int, n: int) -> bytes:
    return key(field, FIXED64) + _FIXED64(n & _MASK64)


def length(n: int) -> bytes:
    """varint(n) for a length, most often short."""
    return _SHORT[n] if n < 1 << 14 else varint(n)


def delimited(prefix: bytes, body: bytes) -> bytes:
    """``prefix`` (a LEN key made by :func:`key`), the length, then ``body``."""
    return prefix + length(len(body)) + body


def message(field: int, body: bytes) -> bytes:
    """A nested message, a string or bytes: length-delimited."""
    return delimited(key(field, LEN), body)


def string(field: int, value: str) -> bytes:
    return message(field, value.encode("utf-8", "replace"))

"""Constant tables (xlat) and the two ways flags are spelled.

An :class:`Xlat` is an ordered table of (value, name) pairs.  Two flag
printers walk it: :meth:`Xlat.mask` follows FreeBSD libsysdecode (a zero entry
prints only when the whole value is zero) and :meth:`Xlat.flags` follows
strace (zero entries never match a non-zero value; a zero value prints the
zero entry or ``0``).  Both take names in table order, each name consuming its
bits, and return what was left over.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Iterable

from . import linux_xlat


class Xlat:
    """One table of constants."""

    __slots__ = ("entries", "_by_value")

    def __init__(self, entries: Iterable[tuple[int, str]]):
        self.entries = tuple(entries)
        self._by_value: dict[int, str] = {}
        for value, name in self.entries:
            self._by_value.setdefault(value, name)   # first spelling wins

    def __add__(self, other: "Xlat") -> "Xlat":
        return Xlat(self.entries + other.entries)

    def name(self, value: int) -> str | None:
        return self._by_value.get(value)

    def value(self, name: str) -> int:
        for v, n in self.entries:
            if n == name:
                return v
        raise KeyError(name)

    def mask(self, value: int) -> tuple[list[str], int]:
        """libsysdecode's print_mask_part: (names, bits not named)."""
        names, rem = [], value
        for v, n in self.entries:
            if v & rem == v and (v or not value):
                names.append(n)
                rem &= ~v
        return names, rem

    def flags(self, value: int) -> tuple[list[str], int]:
        """strace's printflags: (names, bits not named)."""
        if value == 0:
            zero = self._by_value.get(0)
            return ([zero] if zero else []), 0
        names, rem = [], value
        for v, n in self.entries:
            if v and v & rem == v:
                names.append(n)
                rem &= ~v
        return names, rem


# Every generated table as an Xlat: ``LINUX.OPEN_FLAGS`` and so on.
LINUX = SimpleNamespace(**{name: Xlat(entries) for name, entries in vars(linux_xlat).items()
                           if name.isupper()})

"""Trace points: the -t letters of ktrace(1) and kdump(1) and their facility bits."""

from __future__ import annotations

from . import record as r

# letter -> record types it selects (c selects both halves of a syscall)
LETTERS: dict[str, tuple[int, ...]] = {
    "c": (r.SYSCALL, r.SYSRET),
    "n": (r.NAMEI,),
    "i": (r.GENIO,),
    "s": (r.PSIG,),
    "u": (r.USER,),
    "w": (r.CSW,),
    "t": (r.STRUCT, r.STRUCT_ARRAY),
    "y": (r.SYSCTL,),
    "p": (r.CAPFAIL,),
    "f": (r.FAULT, r.FAULTEND),
    "a": (r.ARGS,),
    "e": (r.ENVS,),
}
# what each letter records, in words (for notices about what cannot be recorded)
WORDS: dict[str, str] = {
    "c": "system calls", "n": "path lookups", "i": "I/O data", "s": "signals",
    "u": "user records", "w": "context switches", "t": "structs", "y": "sysctls",
    "p": "capability failures", "f": "page faults", "a": "exec arguments",
    "e": "exec environments",
}
# What "+" and no -t mean: FreeBSD's DEF_POINTS (cinpstuy) and, on Linux, exec's
# arguments and environment too, because strace shows every execve with its argv
# and its count of variables, and kdump --strace shows only what was recorded.
DEFAULT_LETTERS = "cinpstuyae"

# PROCCTOR/PROCDTOR are always on when anything is traced (ABI tracking).
LIFECYCLE = r.facility(r.PROCCTOR) | r.facility(r.PROCDTOR)


class UnknownTracePoint(ValueError):
    pass


def parse(trstr: str) -> int:
    """Facility bits for a trace string such as ``"cn"`` or ``"+w"``."""
    bits = 0
    for ch in trstr:
        if ch == "+":
            bits |= parse(DEFAULT_LETTERS)
        elif ch in LETTERS:
            for t in LETTERS[ch]:
                bits |= r.facility(t)
        else:
            raise UnknownTracePoint(trstr)
    return bits


DEFAULT = parse(DEFAULT_LETTERS)
ALL = parse("".join(LETTERS))


def letters(bits: int) -> str:
    """The trace string for facility bits (inverse of parse, canonical order)."""
    return "".join(ch for ch, types in LETTERS.items()
                   if any(bits & r.facility(t) for t in types))

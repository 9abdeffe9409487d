"""Memory: mmap, mprotect, brk, madvise, mremap, msync."""

from __future__ import annotations

from ..xlat import LINUX as L
from .call import FD, HEX, PTR, ULONG, Arg, Call, p_flags, p_xval
from .fmt import flags, ptr

PROT = Arg(p_flags(L.PROT_FLAGS))


def _map_flags(c: Call, i: int) -> str:
    """MAP_PRIVATE|MAP_ANONYMOUS: the mapping type first, then the flags."""
    value = c.arg(i) & 0xFFFFFFFF
    kind = L.MAP_TYPES.name(value & 3) or f"{value & 3:#x} /* MAP_??? */"
    rest = value & ~3
    return kind if not rest else f"{kind}|{flags(L.MAP_FLAGS, rest)}"


_MOVE_FIXED = L.MREMAP_FLAGS.value("MREMAP_MAYMOVE") | L.MREMAP_FLAGS.value("MREMAP_FIXED")


def _new_address(c: Call, i: int) -> str | None:
    """mremap's fifth argument exists only with MREMAP_MAYMOVE|MREMAP_FIXED."""
    return ptr(c.arg(i)) if c.arg(3) & _MOVE_FIXED == _MOVE_FIXED else None


SYSCALLS = {
    "mmap": (PTR, ULONG, PROT, Arg(_map_flags), FD, HEX),
    "munmap": (PTR, ULONG),
    "mprotect": (PTR, ULONG, PROT),
    "brk": (PTR,),
    "madvise": (PTR, ULONG, Arg(p_xval(L.MADVISE, "MADV_???"))),
    "mremap": (PTR, ULONG, ULONG, Arg(p_flags(L.MREMAP_FLAGS)), Arg(_new_address)),
    "msync": (PTR, ULONG, Arg(p_flags(L.MSYNC_FLAGS))),
    "mlock": (PTR, ULONG), "munlock": (PTR, ULONG),
    "mlockall": (Arg(p_flags(L.MLOCKALL_FLAGS)),),
}

# Calls whose result is an address.
HEX_RESULTS = {"mmap", "brk", "mremap", "shmat"}

"""Memory: mmap, mprotect, brk, madvise, mremap, msync."""

from __future__ import annotations

from ..xlat import LINUX as L
from .call import FD, HEX, INT, PTR, ULONG, Arg, Call, p_flags, p_xval
from .fmt import flags, named, ptr

MAP_TYPE = L.MAP_MASKS.value("MAP_TYPE")
MAP_HUGE_SHIFT = L.MAP_MASKS.value("MAP_HUGE_SHIFT")
MAP_HUGE_BITS = L.MAP_MASKS.value("MAP_HUGE_MASK") << MAP_HUGE_SHIFT
PROT = Arg(lambda c, i: flags(L.PROT_FLAGS, c.arg(i), unknown="PROT_???"))     # printflags64


def _map_flags(c: Call, i: int) -> str:
    """MAP_PRIVATE|MAP_ANONYMOUS: the mapping type first, then the flags (one
    constant to -X)."""
    value = c.arg(i) & 0xFFFFFFFF
    kind = L.MAP_TYPES.name(value & MAP_TYPE) or f"{value & MAP_TYPE:#x} /* MAP_??? */"
    names, rem = L.MAP_FLAGS.flags(value & ~MAP_TYPE & ~MAP_HUGE_BITS)
    huge = (value & MAP_HUGE_BITS) >> MAP_HUGE_SHIFT      # a huge page size's log2
    return named("|".join([kind, *names, *([f"{rem:#x}"] if rem else []),
                           *([f"{huge}<<MAP_HUGE_SHIFT"] if huge else [])]), value)


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
    "mremap": (PTR, ULONG, ULONG, Arg(p_flags(L.MREMAP_FLAGS, "MREMAP_???")), Arg(_new_address)),
    "msync": (PTR, ULONG, Arg(p_flags(L.MSYNC_FLAGS))),
    "mlock": (PTR, ULONG), "munlock": (PTR, ULONG),
    "mlock2": (PTR, ULONG, Arg(p_flags(L.MLOCK_FLAGS, "MLOCK_???"))),
    "remap_file_pages": (PTR, ULONG, PROT, ULONG, Arg(_map_flags)),
    "mlockall": (Arg(p_flags(L.MLOCKALL_FLAGS, "MCL_???")),),
    "pkey_mprotect": (PTR, ULONG, PROT, INT),
    "pkey_alloc": (HEX, Arg(lambda c, i: flags(L.PKEY_ACCESS, c.arg(i), unknown="PKEY_???"))),
    "pkey_free": (INT,),
    "shmat": (INT, PTR, Arg(p_flags(L.SHMAT_FLAGS, "SHM_???"))),
}

# Calls whose result is an address.
HEX_RESULTS = {"mmap", "brk", "mremap", "shmat"}

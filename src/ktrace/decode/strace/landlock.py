"""Landlock: rulesets, rules, restricting a thread."""

from __future__ import annotations

from .. import structs as S
from ..xlat import LINUX as L
from .call import FD, ULONG, Arg, Call, p_flags
from .fmt import flags, hexval, ptr, xval

HANDLED_ACCESS_FS_END = 8       # offsetofend(struct landlock_ruleset_attr, handled_access_fs)
LANDLOCK_RULE_PATH_BENEATH = L.LANDLOCK_RULE_TYPES.value("LANDLOCK_RULE_PATH_BENEATH")


def _access(value: int) -> str:
    return flags(L.LANDLOCK_ACCESS_FS, value, unknown="LANDLOCK_ACCESS_FS_???")


def _ruleset_attr(c: Call, i: int) -> str:
    """``{handled_access_fs=...}``, with ``, ...`` when the size says more follows."""
    size = c.arg(1)
    f = S.fixed("landlock_ruleset_attr", c.struct(i, "landlock_ruleset_attr", exit=False) or b"")
    if size < HANDLED_ACCESS_FS_END or f is None or not c.verbose:
        return ptr(c.arg(i))
    more = ", ..." if size > HANDLED_ACCESS_FS_END else ""
    return f"{{handled_access_fs={_access(f['handled_access_fs'])}{more}}}"


def _rule_attr(c: Call, i: int) -> str:
    """LANDLOCK_RULE_PATH_BENEATH's ``{allowed_access=..., parent_fd=N}``, else the address."""
    f = S.fixed("landlock_path_beneath_attr",
                c.struct(i, "landlock_path_beneath_attr", exit=False) or b"")
    if c.arg(1) & 0xFFFFFFFF != LANDLOCK_RULE_PATH_BENEATH or f is None or not c.verbose:
        return ptr(c.arg(i))
    return (f"{{allowed_access={_access(f['allowed_access'])}, "
            f"parent_fd={c.fd_text(f['parent_fd'])}}}")


HEX32 = Arg(lambda c, i: hexval(c.arg(i) & 0xFFFFFFFF))

SYSCALLS = {
    "landlock_create_ruleset": (Arg(_ruleset_attr), ULONG,
                                Arg(p_flags(L.LANDLOCK_CREATE_RULESET_FLAGS,
                                            "LANDLOCK_CREATE_RULESET_???"))),
    "landlock_add_rule": (FD, Arg(lambda c, i: xval(L.LANDLOCK_RULE_TYPES, c.arg(i) & 0xFFFFFFFF,
                                                    "LANDLOCK_RULE_???")),
                          Arg(_rule_attr), HEX32),
    "landlock_restrict_self": (FD, HEX32),
}

"""Scheduling: policies, parameters, attributes, CPU affinity."""

from __future__ import annotations

from ...abi.linux_plan import E2BIG
from .. import structs as S
from ..xlat import LINUX as L
from . import structs as T
from .call import INT, UINT, Arg, Call, at_exit, p_xval, resized
from .call import TGID  # printpid: --decode-pids=
from .fmt import c_int, flags, ptr, xval

SCHED_POLICY = Arg(p_xval(L.SCHED_POLICIES, "SCHED_???"))
CPUSET_MAX = 128              # strace's probed cpuset size: the bytes it reads at most
WORD = 8
SCHED_ATTR_MIN_SIZE, SCHED_ATTR_SIZE_VER1 = 48, 56
_AF = L.SCHED_ATTR_FLAGS.value
SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS = (_AF("SCHED_FLAG_KEEP_POLICY"),
                                                  _AF("SCHED_FLAG_KEEP_PARAMS"))


def _param(exit: bool):
    """printnum_int of a sched_param: ``[0]``, the address when not read."""
    def render(c: Call, i: int) -> str:
        data = c.struct(i, "sched_param", exit=exit)
        if data is None or len(data) < 4 or (exit and not c.ok) or not c.verbose:
            return ptr(c.arg(i))
        return f"[{int.from_bytes(data[:4], 'little', signed=True)}]"
    return render


def affinity_list(c: Call, i: int, length: int, exit: bool) -> str:
    """print_affinitylist: the CPUs set in the first ``length`` bytes (at most 128,
    in whole words), ``...`` when the mask is longer."""
    addr = c.arg(i)
    if not c.verbose or (exit and not c.ok) or not addr:
        return ptr(addr)
    if not length:
        return "[]"
    wanted = min(length, CPUSET_MAX)
    data = c.struct(i, "cpuset", exit=exit)
    if data is None or len(data) < wanted:
        return ptr(addr)
    value = int.from_bytes(data[:wanted], "little")
    items = [str(n) for n in range(wanted * 8) if value >> n & 1]
    if -(-wanted // WORD) * WORD < length:
        items.append("...")
    return "[" + " ".join(items) + "]"


def _setaffinity(c: Call, i: int) -> str:
    return affinity_list(c, i, c.arg(1) & 0xFFFFFFFF, exit=False)


def _getaffinity(c: Call, i: int) -> str:
    return affinity_list(c, i, c.retval if c.ok else 0, exit=True)


def sched_attr_text(data: bytes, usize: int, is_set: bool) -> str:
    """print_sched_attr: ``{size=48, sched_policy=SCHED_OTHER, ...}``."""
    f = S.fixed("sched_attr", data.ljust(SCHED_ATTR_SIZE_VER1, b"\0")[:SCHED_ATTR_SIZE_VER1])
    if is_set:
        usize = f["size"] or SCHED_ATTR_MIN_SIZE
        size = min(usize, SCHED_ATTR_SIZE_VER1)
    else:
        size = f["size"]
    parts = [f"size={f['size']}"]
    if size >= SCHED_ATTR_MIN_SIZE:
        fl = f["sched_flags"]
        if not is_set or c_int(f["sched_policy"]) < 0 or not fl & (
                SCHED_FLAG_KEEP_POLICY | SCHED_FLAG_KEEP_PARAMS):
            parts.append(f"sched_policy={xval(L.SCHED_POLICIES, f['sched_policy'], 'SCHED_???')}")
        parts.append(f"sched_flags={flags(L.SCHED_ATTR_FLAGS, fl, unknown='SCHED_FLAG_???')}")
        if not is_set or not fl & SCHED_FLAG_KEEP_PARAMS:
            parts += [f"sched_nice={f['sched_nice']}", f"sched_priority={f['sched_priority']}",
                      f"sched_runtime={f['sched_runtime']}",
                      f"sched_deadline={f['sched_deadline']}",
                      f"sched_period={f['sched_period']}"]
        if size >= SCHED_ATTR_SIZE_VER1:
            parts += [f"sched_util_min={f['sched_util_min']}",
                      f"sched_util_max={f['sched_util_max']}"]
    if (usize if is_set else f["size"]) > size:
        parts.append("...")
    return "{" + ", ".join(parts) + "}"


def _setattr(c: Call, i: int) -> str:
    data = c.struct(i, "sched_attr", exit=False)
    if data is None or len(data) < 4 or not c.verbose:
        return ptr(c.arg(i))
    size = int.from_bytes(data[:4], "little") or SCHED_ATTR_MIN_SIZE
    if min(size, SCHED_ATTR_SIZE_VER1) >= SCHED_ATTR_MIN_SIZE and len(data) < min(
            size, SCHED_ATTR_SIZE_VER1):
        return ptr(c.arg(i))
    text = sched_attr_text(data, 0, True)
    size = resized(c, i, "sched_attr", 0)
    if size is False:
        return text
    return f"{text} => {{size={size}}}" if size is not None else text


def _getattr(c: Call, i: int) -> str:
    usize = c.arg(2) & 0xFFFFFFFF
    data = c.struct(i, "sched_attr")
    wanted = min(usize, SCHED_ATTR_SIZE_VER1)
    if not usize or not c.ok or not c.verbose or data is None or len(data) < wanted:
        return ptr(c.arg(i))
    return sched_attr_text(data[:wanted], usize, False)


def scheduler_result(c: Call, text: str) -> str:
    """sched_getscheduler's policy named after the number: ``0 (SCHED_OTHER)``."""
    name = L.SCHED_POLICIES.name(c.retval) if c.ok else None
    return f"{text} ({name})" if name else text


RESULTS = {"sched_getscheduler": scheduler_result}

SYSCALLS = {
    "sched_getscheduler": (TGID,),
    "sched_setscheduler": (TGID, SCHED_POLICY, Arg(_param(False))),
    "sched_getparam": (TGID, at_exit(_param(True))),
    "sched_setparam": (TGID, Arg(_param(False))),
    "sched_get_priority_min": (SCHED_POLICY,), "sched_get_priority_max": (SCHED_POLICY,),
    "sched_rr_get_interval": (INT, at_exit(lambda c, i: T.timespec_text(c.struct(i, "timespec"))
                                           if c.ok and c.verbose and c.struct(i, "timespec")
                                           is not None else ptr(c.arg(i)))),
    "sched_setaffinity": (TGID, UINT, Arg(_setaffinity)),
    "sched_getaffinity": (TGID, UINT, at_exit(_getaffinity)),
    "sched_setattr": (TGID, Arg(_setattr, exit=lambda c: c.linux_errno() == E2BIG), UINT),
    "sched_getattr": (TGID, at_exit(_getattr), at_exit(lambda c, i: str(c.arg(i) & 0xFFFFFFFF)),
                      UINT),
}

"""ioctl, as strace 6.1's ioctl.c prints it; the requests' families are in ``ioctls``.

The request: its names (strace prints every name a number has, ``A or B``),
else its ``_IOC`` parts.  The names are the generated tables' (IOCTLS,
IOCTL_ALIASES) and the families' ``NAMES``: the requests decoded there (term.c's
tty requests aside, which the tables hold), with the names of other drivers'
requests that share their numbers.  The argument: the first of the request's
names that a family's ``REQUESTS`` holds prints it; a request no family decodes
prints its argument in hex, as strace does.
"""

from __future__ import annotations

from ..xlat import LINUX as L
from .call import FD, Arg, Call
from .fmt import STYLE, flags, hexval, named
from .ioctls import (Request, block, dm, evdev, file, fs, gpio, hdio, kd, kvm, loop, misc, mtd, nbd,
                     perf, ptp, rtc, scsi, seccomp, sock, tee, term, ubi, uffd)
from .ioctls import hid, mmtimer, sized, zfs
from .ioctls import btrfs, v4l2

FAMILIES = (block, dm, evdev, file, fs, gpio, hdio, kd, kvm, loop, misc, mtd, nbd, perf, ptp, rtc,
            scsi, seccomp, sock, tee, term, ubi, uffd, hid, mmtimer, sized, zfs, v4l2, btrfs)
REQUESTS: dict[str, Request] = {}
_NAMES_BY_REQUEST: dict[int, list[str]] = {}
for _family in FAMILIES:
    REQUESTS.update(_family.REQUESTS)
    for _name, _req in _family.NAMES.items():
        _NAMES_BY_REQUEST.setdefault(_req, []).append(_name)
# families that also name and decode requests by their number's parts (strace's
# ioctl_decode_command_number): number_name(req, verbose), number_request(req)
_BY_NUMBER = tuple(f for f in FAMILIES if hasattr(f, "number_name"))


def _ioc_text(req: int) -> str:
    """A request no table names, as its parts: _IOC(_IOC_READ, 0x54, 0x99, 0x4)."""
    dirs = flags(L.IOC_DIRS, req >> 30)
    return (f"_IOC({dirs}, {hexval(req >> 8 & 0xFF)}, {hexval(req & 0xFF)}, "
            f"{hexval(req >> 16 & 0x3FFF)})")


def request_names(req: int) -> list[str]:
    names = {L.IOCTLS.name(req), L.IOCTL_ALIASES.name(req), *_NAMES_BY_REQUEST.get(req, ())}
    return sorted(filter(None, names))


def ioctl_name(req: int) -> str:
    """The request as strace spells it: ``BTRFS_IOC_CLONE or FICLONE`` when two
    share it; -X raw: the number, -X verbose: the number and its names."""
    style = STYLE.get()
    if style == "raw":
        return hexval(req)
    abbrev = STYLE.set("abbrev")        # the parts of a nameless one, in the comment too
    try:
        numbered = [f.number_name(req, style == "verbose") for f in _BY_NUMBER]
        names = " or ".join(filter(None, numbered + request_names(req))) or _ioc_text(req)
    finally:
        STYLE.reset(abbrev)
    return f"{hexval(req)} /* {names} */" if style == "verbose" else names


def _request(c: Call) -> Request | None:
    """The decoder of the call's request: the first of its names that has one."""
    for name in request_names(c.arg(1) & 0xFFFFFFFF):
        found = REQUESTS.get(name)
        if found is not None:
            return found
    for family in _BY_NUMBER:
        found = family.number_request(c.arg(1) & 0xFFFFFFFF)
        if found is not None:
            return found
    return None


def _ioctl(c: Call, i: int) -> str:
    name = ioctl_name(c.arg(1) & 0xFFFFFFFF)
    req = _request(c)
    arg = req.render(c) if req is not None else hexval(c.arg(2))
    return name if arg is None else f"{name}, {arg}"


def _late(c: Call) -> bool:
    req = _request(c)
    return req is not None and req.late


def ioctl_result(c: Call, text: str) -> str:
    """NS_GET_NSTYPE's namespace type: ``268435456 (CLONE_NEWUSER)``; the
    descriptor a kvm request made (strace's RVAL_FD): ``4<anon_inode:kvm-vm>``;
    a KVM_RUN's exit reason (-e kvm=vcpu): ``0 (KVM_EXIT_HLT)``."""
    if c.ok and kvm.made_descriptor(c) is not None:
        return c.fd_text(c.retval)
    reason = kvm.exit_reason(c) if c.ok else None
    if reason is not None:
        return f"{text} ({reason})"
    if c.ok and request_names(c.arg(1) & 0xFFFFFFFF) == ["NS_GET_NSTYPE"]:
        kind = L.SETNS_TYPES.name(c.retval)
        if kind is not None:
            return f"{text} ({named(kind, c.retval, str(c.retval))})"
    return text


RESULTS = {"ioctl": ioctl_result}

SYSCALLS = {
    "ioctl": (FD, Arg(_ioctl, exit=_late)),
}


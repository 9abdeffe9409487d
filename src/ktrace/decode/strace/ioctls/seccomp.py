"""ioctl requests of strace's seccomp_ioctl.c."""

from __future__ import annotations

import struct

from ...xlat import LINUX as L
from ...xlat import Xlat
from ..call import Call, pid_text
from ..fmt import c_int, flags, hexval, ptr, xval
from ..ptrace import _err_d as err_text
from ..structs import syscall_nr_text
from . import ULONG, Request, hex_u64_text, ior, iow, iowr, memory

_NOTIF = struct.Struct("<QIIiIQ6Q")     # seccomp_notif: id, pid, flags, data (nr, arch, ip, args)
_NOTIF_RESP = struct.Struct("<QqiI")    # id, val, error, flags
_NOTIF_ADDFD = struct.Struct("<QIiiI")  # id, flags, srcfd, newfd, newfd_flags
SECCOMP_RESP_FLAGS = Xlat([(1, "SECCOMP_USER_NOTIF_FLAG_CONTINUE")])
SECCOMP_ADDFD_FLAGS = Xlat([(1, "SECCOMP_ADDFD_FLAG_SETFD"), (2, "SECCOMP_ADDFD_FLAG_SEND")])


def _notif_text(data: bytes, c: Call) -> str:
    ident, pid, notif_flags, nr, arch, ip, *args = _NOTIF.unpack_from(data)
    data_text = (f"{{nr={syscall_nr_text(nr & 0xFFFFFFFF, arch)}, "
                 f"arch={xval(L.AUDIT_ARCHES, arch, 'AUDIT_ARCH_???')}, "
                 f"instruction_pointer={ptr(ip)}, "
                 f"args=[{', '.join(hexval(a) for a in args)}]}}")
    return (f"{{id={hexval(ident)}, pid={pid_text(c, c_int(pid))}, flags={hexval(notif_flags)}, "
            f"data={data_text}}}")


def _notif_recv(c: Call) -> str:
    """SECCOMP_IOCTL_NOTIF_RECV: the notification as given when not all zeros
    (then `` => `` the kernel's), else the kernel's alone."""
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < _NOTIF.size:
        return ptr(c.arg(2))
    answer = c.struct(2, "ioc")
    after = _notif_text(answer, c) if c.ok and answer is not given else ptr(c.arg(2))
    if not any(given) or not c.returned:
        return after if c.returned else ""
    return f"{_notif_text(given, c)} => {after}"


def _notif_resp_text(data: bytes, c: Call) -> str:
    ident, val, error, resp_flags = _NOTIF_RESP.unpack_from(data)
    resp = flags(SECCOMP_RESP_FLAGS, resp_flags, unknown="SECCOMP_USER_NOTIF_FLAG_???")
    return f"{{id={hexval(ident)}, val={val}, error={err_text(error)}, flags={resp}}}"


def _notif_addfd_text(data: bytes, c: Call) -> str:
    ident, addfd_flags, srcfd, newfd, newfd_flags = _NOTIF_ADDFD.unpack_from(data)
    return (f"{{id={hexval(ident)}, "
            f"flags={flags(SECCOMP_ADDFD_FLAGS, addfd_flags, unknown='SECCOMP_ADDFD_FLAG_???')}, "
            f"srcfd={c.fd_text(srcfd)}, newfd={newfd}, "
            f"newfd_flags={flags(L.OPEN_FLAGS, newfd_flags, unknown='O_???')}}}")


NAMES = {
    "SECCOMP_IOCTL_NOTIF_RECV": iowr("!", 0, 80), "SECCOMP_IOCTL_NOTIF_SEND": iowr("!", 1, 24),
    "SECCOMP_IOCTL_NOTIF_ID_VALID": iow("!", 2, 8),
    "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR": ior("!", 2, 8),
    "SECCOMP_IOCTL_NOTIF_ADDFD": iow("!", 3, 24),
}

REQUESTS: dict[str, Request] = {
    # seccomp_ioctl.c (ID_VALID_WRONG_DIR, an _IOR the kernel reads: the selector's STRU long)
    "SECCOMP_IOCTL_NOTIF_RECV": Request(_notif_recv),
    "SECCOMP_IOCTL_NOTIF_SEND": memory("ioc", False, _notif_resp_text, _NOTIF_RESP.size),
    "SECCOMP_IOCTL_NOTIF_ID_VALID": memory("ioc", False, hex_u64_text, ULONG.size),
    "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR": memory("long", False, hex_u64_text, ULONG.size),
    "SECCOMP_IOCTL_NOTIF_ADDFD": memory("ioc", False, _notif_addfd_text, _NOTIF_ADDFD.size),
}

"""ioctl requests of strace's nbd_ioctl.c (the network block device)."""

from __future__ import annotations

from ..fmt import flags
from . import FD_VALUE, NO_ARG, ULONG_VALUE, Request, flag_bits, io

# the export's flags, as nbd-server sends them (strace's nbd_ioctl_flags; the
# kernel's nbd.h lacks some)
NBD_FLAGS = flag_bits("NBD_FLAG_", (
    "HAS_FLAGS", "READ_ONLY", "SEND_FLUSH", "SEND_FUA", "ROTATIONAL", "SEND_TRIM",
    "SEND_WRITE_ZEROES", "SEND_DF", "CAN_MULTI_CONN", "SEND_RESIZE", "SEND_CACHE"))

NAMES = {f"NBD_{name}": io("\xab", nr) for nr, name in enumerate((
    "SET_SOCK", "SET_BLKSIZE", "SET_SIZE", "DO_IT", "CLEAR_SOCK", "CLEAR_QUE", "PRINT_DEBUG",
    "SET_SIZE_BLOCKS", "DISCONNECT", "SET_TIMEOUT", "SET_FLAGS"))}

REQUESTS: dict[str, Request] = {
    **{req: NO_ARG for req in ("NBD_DISCONNECT", "NBD_CLEAR_SOCK", "NBD_DO_IT", "NBD_CLEAR_QUE",
                               "NBD_PRINT_DEBUG")},
    "NBD_SET_SOCK": FD_VALUE,
    **{req: ULONG_VALUE for req in ("NBD_SET_BLKSIZE", "NBD_SET_SIZE", "NBD_SET_SIZE_BLOCKS",
                                    "NBD_SET_TIMEOUT")},
    "NBD_SET_FLAGS": Request(lambda c: flags(NBD_FLAGS, c.arg(2),
                                             unknown="NBD_IOC_FLAG_???")),
}

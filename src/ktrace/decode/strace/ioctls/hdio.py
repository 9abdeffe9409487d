"""ioctl requests of strace's hdio.c (and the generated decoders of its hdio.def).

HDIO's numbers are from before _IOC: the plan records what the few that read
memory read (linux_plan's IOCTL_BLOCK); a getter's answer is not recorded,
so it prints as the address, as strace prints a failed one.
"""

from __future__ import annotations

import struct

from ...xlat import LINUX as L
from ...xlat import Xlat
from ..call import Call
from ..fmt import array, flags, hexval, printstr, ptr, xval
from . import ULONG, ULONG_VALUE, Request, fields, memory

_DRIVE_CMD = struct.Struct("<4B")       # command, sector_number, feature, sector_count
_GEOMETRY = struct.Struct("<BBHQ")      # heads, sectors, cylinders, start
_HWIF_ARGS = struct.Struct("<3I")       # HDIO_DRIVE_RESET's, HDIO_SCAN_HWIF's int[3]
# strace's hdio_ide_nice.in, in its order (names with the shift in them)
IDE_NICE = Xlat([(1 << 0, "1 << IDE_NICE_DSC_OVERLAP"), (1 << 1, "1 << IDE_NICE_ATAPI_OVERLAP"),
                 (1 << 3, "1 << IDE_NICE_1"), (1 << 2, "1 << IDE_NICE_0"),
                 (1 << 4, "1 << IDE_NICE_2")])


def geometry_text(data: bytes, c: Call) -> str:
    names = ("heads", "sectors", "cylinders", "start")
    return f"{{{fields(names, _GEOMETRY.unpack_from(data))}}}"


def _drive_cmd(c: Call) -> str:
    """The command as given, and (``=>``) the status the drive wrote over it
    when the call succeeded (strace prints it after EIO too, but a failed
    call's status is not recorded)."""
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < _DRIVE_CMD.size:
        return ptr(c.arg(2))
    command, sector, feature, count = _DRIVE_CMD.unpack_from(given)
    text = (f"{{command={xval(L.ATA_CMDS, command, 'ATA_CMD_???')}, sector_number={sector}, "
            f"feature={feature}, sector_count={count}}}")
    answer = c.struct(2, "ioc")
    if not c.ok or answer is None or answer is given or len(answer) < _DRIVE_CMD.size:
        return text
    status, error, nsector, sectors = _DRIVE_CMD.unpack_from(answer)
    parts = [f"status={hexval(status)}", f"error={error}", f"nsector={nsector}"]
    if sectors:     # the sectors read follow the header: not recorded, their address
        parts.append(f"buf={ptr(c.arg(2) + _DRIVE_CMD.size)}")
    return f"{text} => {{{', '.join(parts)}}}"


def hwif_args_text(data: bytes, c: Call) -> str:
    return array((hexval(v) for v in _HWIF_ARGS.unpack_from(data)), c.opts)


def _nice_text(value: int) -> str:
    return flags(IDE_NICE, value, unknown="IDE_NICE_???")


def _busstate_text(value: int) -> str:
    return xval(L.HDIO_BUSSTATES, value, "BUSSTATE_???")


def _got(render) -> Request:
    """A getter's kernel_ulong_t, written at a successful exit."""
    return memory("ioc", True, lambda data, c: f"[{render(ULONG.unpack_from(data)[0])}]",
                  ULONG.size)


def _identity(size: int) -> Request:
    """The drive's identification, ``size`` bytes written at a successful exit."""
    return memory("ioc", True, lambda data, c: printstr(data[:size], c.opts), size)


NAMES = {name: value for value, name in L.HDIO_IOCTLS.entries}

REQUESTS: dict[str, Request] = {
    "HDIO_GETGEO": memory("ioc", True, geometry_text, _GEOMETRY.size),
    "HDIO_DRIVE_CMD": Request(_drive_cmd),
    **{req: memory("ioc", False, hwif_args_text, _HWIF_ARGS.size)
       for req in ("HDIO_DRIVE_RESET", "HDIO_SCAN_HWIF")},
    **{req: _got(str)
       for req in ("HDIO_GET_32BIT", "HDIO_GET_ACOUSTIC", "HDIO_GET_ADDRESS", "HDIO_GET_DMA",
                   "HDIO_GET_KEEPSETTINGS", "HDIO_GET_MULTCOUNT", "HDIO_GET_NOWERR",
                   "HDIO_GET_UNMASKINTR", "HDIO_GET_WCACHE")},
    "HDIO_GET_IDENTITY": _identity(512), "HDIO_OBSOLETE_IDENTITY": _identity(142),
    "HDIO_GET_NICE": _got(_nice_text),
    "HDIO_GET_BUSSTATE": _got(_busstate_text),
    **{req: ULONG_VALUE
       for req in ("HDIO_SET_32BIT", "HDIO_SET_ACOUSTIC", "HDIO_SET_ADDRESS", "HDIO_SET_DMA",
                   "HDIO_SET_KEEPSETTINGS", "HDIO_SET_MULTCOUNT", "HDIO_SET_NOWERR",
                   "HDIO_SET_PIO_MODE", "HDIO_SET_UNMASKINTR", "HDIO_SET_WCACHE",
                   "HDIO_UNREGISTER_HWIF")},
    "HDIO_SET_NICE": Request(lambda c: _nice_text(c.arg(2))),
    "HDIO_SET_BUSSTATE": Request(lambda c: _busstate_text(c.arg(2))),
}

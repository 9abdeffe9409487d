"""ioctl requests of strace's scsi.c, sg_io_v3.c and sg_io_v4.c (scsi/sg.h, linux/bsg.h).

SG_IO's argument is a v3 (``'S'``) or v4 (``'Q'``) header, told apart by its
first int; the plan records it at entry and at the exit of a successful call
(linux_plan's IOCTL_SCSI), each record followed by what its buffers hold
(linux_plan's SG_IO_BUFFERS).  strace prints the request at entry and the
response at exit, read again then: a failed call's memory is the entry copy.
"""

from __future__ import annotations

import struct
from collections import namedtuple
from typing import NamedTuple

from .... import record as r
from ....abi import linux_plan as lp
from ...xlat import Xlat
from ..call import Call
from ..fdio import print_array
from ..fmt import flags, hexval, ptr, quote, xval
from . import INT, NO_ARG, UINT, Request, flag_bits, int_text, memory
from .v4l2 import held

SG_SCSI_RESET_NO_ESCALATE = 0x100
SG_SCSI_RESETS = Xlat([(0, "SG_SCSI_RESET_NOTHING"), (1, "SG_SCSI_RESET_DEVICE"),
                       (2, "SG_SCSI_RESET_BUS"), (3, "SG_SCSI_RESET_HOST"),
                       (4, "SG_SCSI_RESET_TARGET"),
                       (SG_SCSI_RESET_NO_ESCALATE, "SG_SCSI_RESET_NO_ESCALATE")])
SG_DXFER_TO_DEV, SG_DXFER_FROM_DEV, SG_DXFER_TO_FROM_DEV = -2, -3, -4
SG_DXFER_DIRECTIONS = Xlat([(-1, "SG_DXFER_NONE"), (SG_DXFER_TO_DEV, "SG_DXFER_TO_DEV"),
                            (SG_DXFER_FROM_DEV, "SG_DXFER_FROM_DEV"),
                            (SG_DXFER_TO_FROM_DEV, "SG_DXFER_TO_FROM_DEV")])
SG_FLAGS = Xlat([(1, "SG_FLAG_DIRECT_IO"), (2, "SG_FLAG_UNUSED_LUN_INHIBIT"),
                 (4, "SG_FLAG_MMAP_IO"), (0x10000, "SG_FLAG_NO_DXFER"),
                 (0x10, "SG_FLAG_Q_AT_TAIL"), (0x20, "SG_FLAG_Q_AT_HEAD")])
SG_INFO = flag_bits("SG_INFO_", ("CHECK", "DIRECT_IO", "MIXED_IO"))
BSG_PROTOCOLS = Xlat([(0, "BSG_PROTOCOL_SCSI")])
BSG_SUB_PROTOCOLS = Xlat([(0, "BSG_SUB_PROTOCOL_SCSI_CMD"), (1, "BSG_SUB_PROTOCOL_SCSI_TMF"),
                          (2, "BSG_SUB_PROTOCOL_SCSI_TRANSPORT")])
BSG_FLAGS = Xlat([(0x10, "BSG_FLAG_Q_AT_TAIL"), (0x20, "BSG_FLAG_Q_AT_HEAD")])

# sg_io_hdr (scsi/sg.h) and sg_io_v4 (linux/bsg.h): their fields, their layouts
SgIoHdr = namedtuple("SgIoHdr", (
    "interface_id dxfer_direction cmd_len mx_sb_len iovec_count dxfer_len dxferp cmdp sbp "
    "timeout flags pack_id usr_ptr status masked_status msg_status sb_len_wr host_status "
    "driver_status resid duration info"))
_SG_IO_V3 = struct.Struct("<iiBBHIQQQIIi4xQBBBBHHiII4x")
SgIoV4 = namedtuple("SgIoV4", (
    "guard protocol subprotocol request_len request request_tag request_attr "
    "request_priority request_extra max_response_len response dout_iovec_count "
    "dout_xfer_len din_iovec_count din_xfer_len dout_xferp din_xferp timeout flags usr_ptr "
    "spare_in driver_status transport_status device_status retry_delay info duration "
    "response_len din_resid dout_resid generated_tag spare_out padding"))
_SG_IO_V4 = struct.Struct("<iIIIQQIIIIQIIIIQQIIQIIIIIIIIiiQII")
assert (_SG_IO_V3.size, _SG_IO_V4.size) == (lp.SG_IO_V3_SIZE, lp.SG_IO_V4_SIZE)


class Held(NamedTuple):
    """What a header's buffers held, as recorded after it (v4l2's held)."""

    c: Call
    records: list

    def bytes_of(self, rtype: int, name: str) -> list[bytes]:
        return [rec.data for rec in self.records
                if rec.header.type == rtype and rec.name == name.encode()]

    def string(self, addr: int, size: int, data: bytes | None, force_hex: bool) -> str:
        """printstr_ex: -s of the min(size, -s + 1) bytes strace reads (when
        ``data`` holds them), ``...`` past -s; the address when they were not."""
        shown, read = min(size, self.c.opts.strsize), min(size, self.c.opts.strsize + 1)
        if not addr or read and (data is None or len(data) < read):
            return ptr(addr)
        text = quote((data or b"")[:shown], self.c.opts.xflag, force_hex)
        return text + "..." if size > shown else text

    def buffer(self, name: str, addr: int, size: int) -> str:
        """``size`` bytes at ``addr`` (STRUCT_ARRAY ``name``), in hex."""
        data = self.bytes_of(r.STRUCT_ARRAY, name)
        return self.string(addr, size, data[0] if data else None, force_hex=True)

    def transfer(self, name: str, addr: int, size: int, iovec_count: int) -> str:
        """print_sg_io_buffer: ``size`` bytes at ``addr`` (``name``data), or the
        ``iovec_count`` iovecs there (``name``iovec) and their data, each cut
        at what is left of ``size`` (STRU ``name``iov_data: one per iovec of
        the first ITEMS_FOLLOWED whose base and length are not 0)."""
        if not iovec_count:
            return self.buffer(f"{name}data", addr, size)
        vecs = (self.bytes_of(r.STRUCT_ARRAY, f"{name}iovec") or [b""])[0]
        data = iter(self.bytes_of(r.STRUCT, f"{name}iov_data"))
        items = []
        for k, (base, length) in enumerate(_IOVEC.iter_unpack(
                vecs[:len(vecs) // _IOVEC.size * _IOVEC.size])):
            recorded = next(data, None) if base and length and k < lp.ITEMS_FOLLOWED else None
            cut = min(length, size)
            size -= cut
            items.append(f"{{iov_base={self.string(base, cut, recorded, False)}, "
                         f"iov_len={length}}}")
        return print_array(self.c, addr, iovec_count, items, _IOVEC.size)


_IOVEC = struct.Struct("<QQ")      # iov_base, iov_len


def _in_len(xfer_len: int, resid: int) -> int:
    """The bytes a device wrote: the transfer's less the residue strace trusts."""
    return xfer_len - resid if 0 < resid <= xfer_len else xfer_len


def _named_fields(header, names: str, spell=str) -> str:
    return ", ".join(f"{n}={spell(getattr(header, n))}" for n in names.split())


def _sg_io_v3(g: SgIoHdr, a: SgIoHdr, given: Held, left: Held) -> str:
    """The request as given (``g``, its buffers ``given``), the response
    (``a``, its buffers ``left``) as the call left it."""
    text = (f"interface_id='S', dxfer_direction="
            f"{xval(SG_DXFER_DIRECTIONS, g.dxfer_direction, 'SG_DXFER_???')}, "
            f"cmd_len={g.cmd_len}, cmdp={given.buffer('sg_cmd', g.cmdp, g.cmd_len)}, "
            f"{_named_fields(g, 'mx_sb_len iovec_count dxfer_len timeout')}, "
            f"flags={flags(SG_FLAGS, g.flags, unknown='SG_FLAG_???')}")
    if g.dxfer_direction in (SG_DXFER_TO_DEV, SG_DXFER_TO_FROM_DEV):
        text += f", dxferp={given.transfer('sg_', g.dxferp, g.dxfer_len, g.iovec_count)}"
    if a.interface_id != g.interface_id:
        return f"{text} => interface_id={a.interface_id & 0xFFFFFFFF}"
    if a.dxfer_direction in (SG_DXFER_FROM_DEV, SG_DXFER_TO_FROM_DEV):
        din_len = _in_len(a.dxfer_len, a.resid)
        dxferp = f"dxferp={left.transfer('sg_', a.dxferp, din_len, a.iovec_count)}"
        if a.dxfer_direction == SG_DXFER_FROM_DEV:
            text += f", {dxferp}"
        elif din_len:
            text += f" => {dxferp}"
    return (f"{text}, {_named_fields(a, 'status masked_status msg_status', hexval)}, "
            f"sb_len_wr={a.sb_len_wr}, sbp={left.buffer('sg_sense', a.sbp, a.sb_len_wr)}, "
            f"{_named_fields(a, 'host_status driver_status', hexval)}, "
            f"resid={a.resid}, duration={a.duration}, "
            f"info={flags(SG_INFO, a.info, unknown='SG_INFO_???')}")


def _sg_io_v4(g: SgIoV4, a: SgIoV4, given: Held, left: Held) -> str:
    dout = given.transfer("sg_dout_", g.dout_xferp, g.dout_xfer_len, g.dout_iovec_count)
    text = (f"guard='Q', protocol={xval(BSG_PROTOCOLS, g.protocol, 'BSG_PROTOCOL_???')}, "
            f"subprotocol={xval(BSG_SUB_PROTOCOLS, g.subprotocol, 'BSG_SUB_PROTOCOL_???')}, "
            f"request_len={g.request_len}, "
            f"request={given.buffer('sg_cmd', g.request, g.request_len)}, "
            f"request_tag={hexval(g.request_tag)}, "
            + _named_fields(g, "request_attr request_priority request_extra max_response_len "
                            "dout_iovec_count dout_xfer_len din_iovec_count din_xfer_len")
            + f", dout_xferp={dout}, "
            f"timeout={g.timeout}, flags={flags(BSG_FLAGS, g.flags, unknown='BSG_FLAG_???')}, "
            f"usr_ptr={hexval(g.usr_ptr)}")
    if a.guard != g.guard:
        return f"{text} => guard={a.guard & 0xFFFFFFFF}"
    din_len = _in_len(a.din_xfer_len, a.din_resid)
    return (f"{text}, response_len={a.response_len}, "
            f"response={left.buffer('sg_sense', a.response, a.response_len)}, "
            f"din_xferp={left.transfer('sg_', a.din_xferp, din_len, a.din_iovec_count)}, "
            f"{_named_fields(a, 'driver_status transport_status device_status', hexval)}, "
            f"retry_delay={a.retry_delay}, "
            f"info={flags(SG_INFO, a.info, unknown='SG_INFO_???')}, "
            f"{_named_fields(a, 'duration response_len din_resid dout_resid')}, "
            f"generated_tag={hexval(a.generated_tag)}")


# the header's interface id -> its name, layout, fields and printer
_SG_IO_KINDS = {ord("S"): ("interface_id", _SG_IO_V3, SgIoHdr, _sg_io_v3),
                ord("Q"): ("guard", _SG_IO_V4, SgIoV4, _sg_io_v4)}


def _sg_io(c: Call) -> str:
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < UINT.size:
        return ptr(c.arg(2))
    iid = UINT.unpack_from(given)[0]
    kind = _SG_IO_KINDS.get(iid)
    if kind is None:
        return f"[{iid}]"
    name, layout, header, render = kind
    if len(given) < layout.size:
        # the id alone could be read (the v3 part of a v4 header): the rest's address
        return f"{{{name}={chr(iid)!r}, {ptr(c.arg(2) + INT.size)}}}"
    answer = c.struct(2, "ioc") if c.ok else given
    if answer is None or len(answer) < layout.size:
        answer = given
    entry = Held(c, held(c, exit=False))
    left = entry if answer is given else Held(c, held(c, exit=True))
    return "{" + render(header._make(layout.unpack_from(given)),
                        header._make(layout.unpack_from(answer)), entry, left) + "}"


def _scsi_reset_text(data: bytes, c: Call) -> str:
    value = UINT.unpack_from(data)[0]
    escalate = ""
    if value & SG_SCSI_RESET_NO_ESCALATE:
        escalate = xval(SG_SCSI_RESETS, SG_SCSI_RESET_NO_ESCALATE, "") + "|"
    rest = value & ~SG_SCSI_RESET_NO_ESCALATE
    return f"[{escalate}{xval(SG_SCSI_RESETS, rest, 'SG_SCSI_RESET_???')}]"


# requests whose answer the plan does not record (no selector case): their address
ADDRESS_AT_EXIT = Request(lambda c: ptr(c.arg(2)), late=True)

NAMES = dict((
    ("SG_SET_TIMEOUT", 0x2201), ("SG_GET_TIMEOUT", 0x2202), ("SG_EMULATED_HOST", 0x2203),
    ("SG_SET_TRANSFORM", 0x2204), ("SG_GET_TRANSFORM", 0x2205),
    ("SG_GET_COMMAND_Q", 0x2270), ("SG_SET_COMMAND_Q", 0x2271),
    ("SG_GET_RESERVED_SIZE", 0x2272), ("SG_SET_RESERVED_SIZE", 0x2275),
    ("SG_GET_SCSI_ID", 0x2276), ("SG_SET_FORCE_LOW_DMA", 0x2279), ("SG_GET_LOW_DMA", 0x227A),
    ("SG_SET_FORCE_PACK_ID", 0x227B), ("SG_GET_PACK_ID", 0x227C),
    ("SG_GET_NUM_WAITING", 0x227D), ("SG_SET_DEBUG", 0x227E),
    ("SG_GET_SG_TABLESIZE", 0x227F), ("SG_GET_VERSION_NUM", 0x2282),
    ("SG_NEXT_CMD_LEN", 0x2283), ("SG_SCSI_RESET", 0x2284), ("SG_IO", 0x2285),
    ("SG_GET_REQUEST_TABLE", 0x2286), ("SG_SET_KEEP_ORPHAN", 0x2287),
    ("SG_GET_KEEP_ORPHAN", 0x2288), ("SG_GET_ACCESS_COUNT", 0x2289)))

REQUESTS: dict[str, Request] = {
    "SG_IO": Request(_sg_io),
    "SG_GET_TIMEOUT": NO_ARG,
    "SG_SET_TRANSFORM": Request(lambda c: hexval(c.arg(2) & 0xFFFFFFFF)),
    "SG_SCSI_RESET": memory("int", False, _scsi_reset_text, UINT.size),
    # a signed int read (SG_SET_DEBUG's and SG_SET_FORCE_LOW_DMA's unrecorded)
    **{req: memory("int", False, int_text, INT.size) for req in (
        "SG_NEXT_CMD_LEN", "SG_SET_COMMAND_Q", "SG_SET_DEBUG", "SG_SET_FORCE_LOW_DMA",
        "SG_SET_FORCE_PACK_ID", "SG_SET_KEEP_ORPHAN", "SG_SET_RESERVED_SIZE",
        "SG_SET_TIMEOUT")},
    # an int or struct the driver writes
    **{req: ADDRESS_AT_EXIT for req in (
        "SG_EMULATED_HOST", "SG_GET_ACCESS_COUNT", "SG_GET_COMMAND_Q", "SG_GET_KEEP_ORPHAN",
        "SG_GET_LOW_DMA", "SG_GET_NUM_WAITING", "SG_GET_PACK_ID", "SG_GET_RESERVED_SIZE",
        "SG_GET_SG_TABLESIZE", "SG_GET_TRANSFORM", "SG_GET_VERSION_NUM", "SG_GET_SCSI_ID",
        "SG_GET_REQUEST_TABLE")},
}

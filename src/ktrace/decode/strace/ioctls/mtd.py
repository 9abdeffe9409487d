"""ioctl requests of strace's mtd.c (memory technology devices: flash)."""

from __future__ import annotations

import struct

from ....abi import linux_plan as lp
from ...xlat import Xlat
from ..call import Call
from ..fmt import array, flags, hexval, ptr, xval
from . import INT, UINT, ULONG, Request, int_text, io, ior, iow, iowr, memory

MTD_FILE_MODES = Xlat(enumerate(("MTD_FILE_MODE_NORMAL", "MTD_FILE_MODE_OTP_FACTORY",
                                 "MTD_FILE_MODE_OTP_USER", "MTD_FILE_MODE_RAW")))
MTD_TYPES = Xlat([(0, "MTD_ABSENT"), (1, "MTD_RAM"), (2, "MTD_ROM"), (3, "MTD_NORFLASH"),
                  (4, "MTD_NANDFLASH"), (6, "MTD_DATAFLASH"), (7, "MTD_UBIVOLUME"),
                  (8, "MTD_MLCNANDFLASH")])
MTD_FLAGS = Xlat([(0x400, "MTD_WRITEABLE"), (0x800, "MTD_BIT_WRITEABLE"),
                  (0x1000, "MTD_NO_ERASE"), (0x2000, "MTD_POWERUP_LOCK"),
                  (0x4000, "MTD_SLC_ON_MLC_EMULATION")])
MTD_OPS_MODES = Xlat(enumerate(("MTD_OPS_PLACE_OOB", "MTD_OPS_AUTO_OOB", "MTD_OPS_RAW")))
MTD_NANDECC = Xlat(enumerate(("MTD_NANDECC_OFF", "MTD_NANDECC_PLACE", "MTD_NANDECC_AUTOPLACE",
                              "MTD_NANDECC_PLACEONLY", "MTD_NANDECC_AUTOPL_USR")))
MTD_OTP = Xlat(enumerate(("MTD_OTP_OFF", "MTD_OTP_FACTORY", "MTD_OTP_USER")))

_ERASE = struct.Struct("<II")                   # erase_info_user: start, length
_ERASE64 = struct.Struct("<QQ")
_OOB = struct.Struct("<IIQ")                    # mtd_oob_buf: start, length, ptr
_OOB64 = struct.Struct("<Q4xIQ")                # mtd_oob_buf64: start, length, usr_ptr
_OTP_INFO = struct.Struct("<III")               # start, length, locked
_WRITE_REQ = struct.Struct("<QQQQQB7x")         # start, len, ooblen, usr_data, usr_oob, mode
_INFO = struct.Struct("<B3xIIIIIQ")             # mtd_info_user
_OOBINFO = struct.Struct("<II16I32I")           # nand_oobinfo: useecc, eccbytes, oobfree, eccpos
_ECCLAYOUT = struct.Struct("<I64II16I")         # eccbytes, eccpos, oobavail, oobfree
_ECC_STATS = struct.Struct("<IIII")
_REGION = struct.Struct("<IIII")                # offset, erasesize, numblocks, regionindex


def _hex_list(names, values) -> str:
    return ", ".join(f"{n}={hexval(v)}" for n, v in zip(names, values))


def _hex_fields(names, values) -> str:
    return "{" + _hex_list(names, values) + "}"


def _erase_text(data: bytes, c: Call) -> str:
    return _hex_fields(("start", "length"), _ERASE.unpack_from(data))


def _erase64_text(data: bytes, c: Call) -> str:
    return _hex_fields(("start", "length"), _ERASE64.unpack_from(data))


def _oob_text(data: bytes, c: Call) -> str:
    start, length, addr = _OOB.unpack_from(data)
    return f"{{start={hexval(start)}, length={hexval(length)}, ptr={ptr(addr)}}}"


def _oob64_text(data: bytes, c: Call) -> str:
    start, length, addr = _OOB64.unpack_from(data)
    return f"{{start={hexval(start)}, length={hexval(length)}, usr_ptr={ptr(addr)}}}"


def _otp_info_text(data: bytes, c: Call) -> str:
    start, length, locked = _OTP_INFO.unpack_from(data)
    return f"{{start={hexval(start)}, length={hexval(length)}, locked={locked}}}"


def _otp_select_text(data: bytes, c: Call) -> str:
    return f"[{xval(MTD_OTP, UINT.unpack_from(data)[0], 'MTD_OTP_???')}]"


def _write_req_text(data: bytes, c: Call) -> str:
    *values, mode = _WRITE_REQ.unpack_from(data)
    start, length, ooblen, usr_data, usr_oob = values
    return (f"{{start={hexval(start)}, len={hexval(length)}, ooblen={hexval(ooblen)}, "
            f"usr_data={ptr(usr_data)}, usr_oob={ptr(usr_oob)}, "
            f"mode={xval(MTD_OPS_MODES, mode, 'MTD_OPS_???')}}}")


def _info_text(data: bytes, c: Call) -> str:
    kind, mtd_flags, *sizes = _INFO.unpack_from(data)
    return (f"{{type={xval(MTD_TYPES, kind, 'MTD_???')}, "
            f"flags={flags(MTD_FLAGS, mtd_flags, unknown='MTD_???')}, "
            f"{_hex_list(('size', 'erasesize', 'writesize', 'oobsize', 'padding'), sizes)}}}")


def _hex_array(values, c: Call) -> str:
    return array((hexval(v) for v in values), c.opts)


def _oobinfo_text(data: bytes, c: Call) -> str:
    useecc, eccbytes, *rest = _OOBINFO.unpack_from(data)
    oobfree = (_hex_array(rest[i:i + 2], c) for i in range(0, 16, 2))
    return (f"{{useecc={xval(MTD_NANDECC, useecc, 'MTD_NANDECC_???')}, "
            f"eccbytes={hexval(eccbytes)}, oobfree={array(oobfree, c.opts)}, "
            f"eccpos={_hex_array(rest[16:], c)}}}")


def _ecclayout_text(data: bytes, c: Call) -> str:
    values = _ECCLAYOUT.unpack_from(data)
    oobfree = values[66:]
    free = (f"{{offset={hexval(oobfree[i])}, length={hexval(oobfree[i + 1])}}}"
            for i in range(0, 16, 2))
    return (f"{{eccbytes={hexval(values[0])}, eccpos={_hex_array(values[1:65], c)}, "
            f"oobavail={hexval(values[65])}, oobfree={array(free, c.opts)}}}")


def _ecc_stats_text(data: bytes, c: Call) -> str:
    return _hex_fields(("corrected", "failed", "badblocks", "bbtblocks"),
                       _ECC_STATS.unpack_from(data))


def _u64_text(data: bytes, c: Call) -> str:
    return f"[{ULONG.unpack_from(data)[0]}]"


def _uint_text(data: bytes, c: Call) -> str:
    return f"[{UINT.unpack_from(data)[0]}]"


def _region_info(c: Call) -> str:
    """MEMGETREGIONINFO: the index given, then what a successful call answers."""
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < _REGION.size:
        return ptr(c.arg(2))
    text = f"{{regionindex={hexval(_REGION.unpack_from(given)[3])}"
    answer = c.struct(2, "ioc")
    if c.ok and answer is not given and answer is not None and len(answer) >= _REGION.size:
        offset, erasesize, numblocks, _ = _REGION.unpack_from(answer)
        text += (f", offset={hexval(offset)}, erasesize={hexval(erasesize)}, "
                 f"numblocks={hexval(numblocks)}")
    return text + "}"


MIXER_TYPE = ord("M")    # soundcard.h's mixer requests share mtd's type


def number_name(req: int, verbose: bool) -> str | None:
    """A one-way request of type 'M' is also a mixer's: ``MIXER_READ(17)``."""
    if req >> 8 & 0xFF != MIXER_TYPE:
        return None
    direction = lp.ioc_dir(req)
    if direction == lp.IOC_WRITE:
        return f"MIXER_WRITE({req & 0xFF})"
    if direction == lp.IOC_READ:
        return f"MIXER_READ({req & 0xFF})"
    return None


def number_request(req: int) -> Request | None:
    """The mixer's requests are not decoded (their argument prints in hex)."""
    return None


NAMES = {
    "MEMGETINFO": ior("M", 1, _INFO.size), "MEMERASE": iow("M", 2, _ERASE.size),
    "MEMWRITEOOB": iowr("M", 3, _OOB.size), "MEMREADOOB": iowr("M", 4, _OOB.size),
    "MEMLOCK": iow("M", 5, _ERASE.size), "MEMUNLOCK": iow("M", 6, _ERASE.size),
    "MEMGETREGIONCOUNT": ior("M", 7, 4), "MEMGETREGIONINFO": iowr("M", 8, _REGION.size),
    "MEMGETOOBSEL": ior("M", 10, _OOBINFO.size), "MEMGETBADBLOCK": iow("M", 11, 8),
    "MEMSETBADBLOCK": iow("M", 12, 8), "OTPSELECT": ior("M", 13, 4),
    "OTPGETREGIONCOUNT": iow("M", 14, 4), "OTPGETREGIONINFO": iow("M", 15, _OTP_INFO.size),
    "OTPLOCK": ior("M", 16, _OTP_INFO.size), "ECCGETLAYOUT": ior("M", 17, _ECCLAYOUT.size),
    "ECCGETSTATS": ior("M", 18, _ECC_STATS.size), "MTDFILEMODE": io("M", 19),
    "MEMERASE64": iow("M", 20, _ERASE64.size), "MEMWRITEOOB64": iowr("M", 21, _OOB64.size),
    "MEMREADOOB64": iowr("M", 22, _OOB64.size), "MEMISLOCKED": ior("M", 23, _ERASE.size),
    "MEMWRITE": iowr("M", 24, _WRITE_REQ.size),
}

REQUESTS: dict[str, Request] = {
    # MEMISLOCKED's, OTPLOCK's and OTPSELECT's are _IOR the driver reads (the plan reads them in)
    **{req: memory("ioc", False, _erase_text, _ERASE.size)
       for req in ("MEMERASE", "MEMLOCK", "MEMUNLOCK", "MEMISLOCKED")},
    "MEMERASE64": memory("ioc", False, _erase64_text, _ERASE64.size),
    **{req: memory("ioc", False, _oob_text, _OOB.size) for req in ("MEMWRITEOOB", "MEMREADOOB")},
    **{req: memory("ioc", False, _oob64_text, _OOB64.size)
       for req in ("MEMWRITEOOB64", "MEMREADOOB64")},
    "MEMWRITE": memory("ioc", False, _write_req_text, _WRITE_REQ.size),
    "OTPLOCK": memory("ioc", False, _otp_info_text, _OTP_INFO.size),
    "OTPGETREGIONINFO": memory("ioc", True, _otp_info_text, _OTP_INFO.size),
    "OTPSELECT": memory("ioc", False, _otp_select_text, UINT.size),
    "MTDFILEMODE": Request(lambda c: xval(MTD_FILE_MODES, c.arg(2), "MTD_FILE_MODE_???")),
    **{req: memory("ioc", False, _u64_text, ULONG.size)
       for req in ("MEMGETBADBLOCK", "MEMSETBADBLOCK")},
    "MEMGETINFO": memory("ioc", True, _info_text, _INFO.size),
    "MEMGETOOBSEL": memory("ioc", True, _oobinfo_text, _OOBINFO.size),
    "ECCGETLAYOUT": memory("ioc", True, _ecclayout_text, _ECCLAYOUT.size),
    "ECCGETSTATS": memory("ioc", True, _ecc_stats_text, _ECC_STATS.size),
    "OTPGETREGIONCOUNT": memory("ioc", True, _uint_text, UINT.size),
    "MEMGETREGIONCOUNT": memory("ioc", True, int_text, INT.size),
    "MEMGETREGIONINFO": Request(_region_info, late=True),
}

"""ioctl requests of strace's ubi.c (UBI, the volumes over an MTD device)."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from ..call import Call
from ..fmt import array, flags, hexval, ptr, xval
from ..sockaddr import cstring
from . import INT, NO_ARG, Request, fields, int_text, io, iow, ior, memory

UBI_MAX_VOLUME_NAME, UBI_MAX_RNVOL = 127, 32
UBI_DATA_TYPES = Xlat([(1, "UBI_LONGTERM"), (2, "UBI_SHORTTERM"), (3, "UBI_UNKNOWN")])
UBI_VOLUME_TYPES = Xlat([(3, "UBI_DYNAMIC_VOLUME"), (4, "UBI_STATIC_VOLUME")])
UBI_VOLUME_FLAGS = Xlat([(1, "UBI_VOL_SKIP_CRC_CHECK_FLG")])
UBI_VOLUME_PROPS = Xlat([(1, "UBI_VOL_PROP_DIRECT_WRITE")])

_ATTACH = struct.Struct("<iiih10x")             # ubi_attach_req
_MKVOL = struct.Struct("<iiqbBh4x128s")         # ubi_mkvol_req
_RSVOL = struct.Struct("<qi")                   # ubi_rsvol_req (packed)
_RNVOL_COUNT = struct.Struct("<i12x")           # ubi_rnvol_req: count, then its ents
_RNVOL_ENT = struct.Struct("<ih2x128s")
RNVOL = _RNVOL_COUNT.size + UBI_MAX_RNVOL * _RNVOL_ENT.size
_LEB_CHANGE = struct.Struct("<iib7x")           # ubi_leb_change_req
_MAP = struct.Struct("<ib3x")                   # ubi_map_req
_VOL_PROP = struct.Struct("<B7xQ")              # ubi_set_vol_prop_req
_I64 = struct.Struct("<q")


def _volume_name(name: bytes, name_len: int) -> str:
    """The name as far as its name_len says (and its NUL)."""
    return cstring(name[:1 + min(max(name_len, 0), UBI_MAX_VOLUME_NAME)])


def _attach_text(data: bytes, c: Call) -> str:
    return "{" + fields(("ubi_num", "mtd_num", "vid_hdr_offset", "max_beb_per1024"),
                        _ATTACH.unpack_from(data)) + "}"


def _mkvol_text(data: bytes, c: Call) -> str:
    vol_id, alignment, size, vol_type, vol_flags, name_len, name = _MKVOL.unpack_from(data)
    return (f"{{vol_id={vol_id}, alignment={alignment}, bytes={size}, "
            f"vol_type={xval(UBI_VOLUME_TYPES, vol_type & 0xFF, 'UBI_???_VOLUME')}, "
            f"flags={flags(UBI_VOLUME_FLAGS, vol_flags, unknown='UBI_VOL_???')}, "
            f"name_len={name_len}, name={_volume_name(name, name_len)}}}")


def _with_new_id(render, size: int) -> Request:
    """ATT's and MKVOL's struct as given, and the number the driver gives it
    (the int the struct starts with: `` => [N]``) when the call succeeded."""
    def text(c: Call) -> str:
        given = c.struct(2, "ioc", exit=False)
        if given is None or len(given) < size:
            return ptr(c.arg(2))
        shown = render(given, c)
        answer = c.struct(2, "ioc")
        if c.ok and answer is not None and len(answer) >= INT.size:
            shown += f" => {int_text(answer, c)}"
        return shown
    return Request(text, late=True)


def _rsvol_text(data: bytes, c: Call) -> str:
    return "{" + fields(("bytes", "vol_id"), _RSVOL.unpack_from(data)) + "}"


def _rnvol_text(data: bytes, c: Call) -> str:
    count = _RNVOL_COUNT.unpack_from(data)[0]
    shown = min(max(count, 0), UBI_MAX_RNVOL)

    def ents():
        for i in range(shown):
            vol_id, name_len, name = _RNVOL_ENT.unpack_from(data, _RNVOL_COUNT.size
                                                             + i * _RNVOL_ENT.size)
            yield f"{{vol_id={vol_id}, name_len={name_len}, name={_volume_name(name, name_len)}}}"
    return f"{{count={count}, ents={array(ents(), c.opts)}}}"


def _data_type(dtype: int) -> str:
    return xval(UBI_DATA_TYPES, dtype & 0xFF, "UBI_???")


def _leb_change_text(data: bytes, c: Call) -> str:
    lnum, size, dtype = _LEB_CHANGE.unpack_from(data)
    return f"{{lnum={lnum}, bytes={size}, dtype={_data_type(dtype)}}}"


def _map_text(data: bytes, c: Call) -> str:
    lnum, dtype = _MAP.unpack_from(data)
    return f"{{lnum={lnum}, dtype={_data_type(dtype)}}}"


def _vol_prop_text(data: bytes, c: Call) -> str:
    prop, value = _VOL_PROP.unpack_from(data)
    return (f"{{property={xval(UBI_VOLUME_PROPS, prop, 'UBI_VOL_PROP_???')}, "
            f"value={hexval(value)}}}")


def _i64_text(data: bytes, c: Call) -> str:
    return f"[{_I64.unpack_from(data)[0]}]"


NAMES = {
    "UBI_IOCMKVOL": iow("o", 0, _MKVOL.size), "UBI_IOCRMVOL": iow("o", 1, 4),
    "UBI_IOCRSVOL": iow("o", 2, _RSVOL.size),
    "UBI_IOCRNVOL": iow("o", 3, RNVOL),
    "UBI_IOCRPEB": iow("o", 4, 4), "UBI_IOCSPEB": iow("o", 5, 4),
    "UBI_IOCATT": iow("o", 64, _ATTACH.size), "UBI_IOCDET": iow("o", 65, 4),
    "UBI_IOCVOLUP": iow("O", 0, 8), "UBI_IOCEBER": iow("O", 1, 4),
    "UBI_IOCEBCH": iow("O", 2, 4), "UBI_IOCEBMAP": iow("O", 3, _MAP.size),
    "UBI_IOCEBUNMAP": iow("O", 4, 4), "UBI_IOCEBISMAP": ior("O", 5, 4),
    "UBI_IOCSETVOLPROP": iow("O", 6, _VOL_PROP.size),
    "UBI_IOCVOLCRBLK": iow("O", 7, 128), "UBI_IOCVOLRMBLK": io("O", 8),
    "NET_REMOVE_IF": io("o", 0x35),     # dvb/net.h's, sharing UBI's type
}

REQUESTS: dict[str, Request] = {
    "UBI_IOCATT": _with_new_id(_attach_text, _ATTACH.size),
    "UBI_IOCMKVOL": _with_new_id(_mkvol_text, _MKVOL.size),
    "UBI_IOCRSVOL": memory("ioc", False, _rsvol_text, _RSVOL.size),
    "UBI_IOCRNVOL": memory("ioc", False, _rnvol_text, RNVOL),
    # EBCH's struct is larger than its _IOC_SIZE says (the plan records it whole)
    "UBI_IOCEBCH": memory("ioc", False, _leb_change_text, _LEB_CHANGE.size),
    "UBI_IOCEBMAP": memory("ioc", False, _map_text, _MAP.size),
    "UBI_IOCSETVOLPROP": memory("ioc", False, _vol_prop_text, _VOL_PROP.size),
    "UBI_IOCVOLUP": memory("ioc", False, _i64_text, _I64.size),
    # EBISMAP's int is read by the driver though its bits say _IOR (the plan reads it in)
    **{req: memory("ioc", False, int_text, INT.size)
       for req in ("UBI_IOCDET", "UBI_IOCEBER", "UBI_IOCEBISMAP", "UBI_IOCEBUNMAP",
                   "UBI_IOCRMVOL", "UBI_IOCRPEB", "UBI_IOCSPEB")},
    **{req: NO_ARG for req in ("UBI_IOCVOLCRBLK", "UBI_IOCVOLRMBLK")},
}

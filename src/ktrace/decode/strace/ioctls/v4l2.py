"""ioctl requests of Video4Linux2, type ``'V'`` (strace's v4l2.c).

strace prints what a request gives at its entry and, when the call succeeded,
what the driver answered (``{type=...} => {...}`` where it rewrites what was
given).  The answer is the exit copy of ``STRU ioc``; a request the driver
does not write (``_IOW``) answers with what was given.  The arrays a struct
points to (a window's clips, the extended controls and their strings) follow
its entry and its exit record (linux_plan.IOCTL_V4L2); where they were not
recorded, the address prints, as strace prints an array it cannot read.  With
``-e verbose=`` leaving the call out, strace decodes no V4L2 struct: the
address.
"""

from __future__ import annotations

import operator
import struct
from functools import reduce
from typing import Callable

from .... import record as r
from ....abi.linux_plan import ITEMS_FOLLOWED
from ...xlat import LINUX as L
from ..bpf import kernel_version
from ..call import Call
from ..fdio import print_array
from ..fmt import STYLE, flags, hexval, named, printstr, ptr, xval
from ..sockaddr import cstring
from . import INT, UINT, ULONG, Request, exchanged, hex_array, local_array, memory

NAMES = {name: value for value, name in L.V4L2_IOCTLS.entries}

Render = Callable[[bytes, "bytes | None", Call], str]


def exchange(size: int, render: Render) -> Request:
    """A struct given at entry (``size`` bytes, else its address) and
    ``render(given, answer, call)``, as :func:`exchanged` gives them."""
    def text(c: Call) -> str:
        copies = exchanged(c, size, answer_or_given=True)
        return ptr(c.arg(2)) if copies is None else render(*copies, c)
    return Request(text)


def _u32(data: bytes, at: int) -> int:
    return UINT.unpack_from(data, at)[0]


def _s32(data: bytes, at: int) -> int:
    return INT.unpack_from(data, at)[0]


def _ptr(data: bytes, at: int) -> int:
    return ULONG.unpack_from(data, at)[0]


def _cstr(data: bytes, at: int, size: int) -> str:
    return cstring(data[at:at + size])


def _buf_type(value: int) -> str:
    return xval(L.V4L2_BUF_TYPES, value, "V4L2_BUF_TYPE_???")


def fourcc(value: int, table) -> str:
    """print_pixelformat: ``v4l2_fourcc('Y', 'U', 'Y', 'V') /* V4L2_PIX_FMT_YUYV */``."""
    if STYLE.get() == "raw":
        return hexval(value)
    chars = ", ".join(_char(value >> shift & 0xFF) for shift in (0, 8, 16, 24))
    name = table.name(value)
    return f"v4l2_fourcc({chars})" + (f" /* {name} */" if name else "")


def _char(b: int) -> str:
    """print_char with quotes: ``'a'``, ``'\\''``, ``'\\xef'``."""
    if 0x20 <= b < 0x7F:
        return "'\\" + chr(b) + "'" if chr(b) in "'\\" else f"'{chr(b)}'"
    return f"'\\x{b:02x}'"


def held(c: Call, exit: bool) -> list:
    """The records of what the struct's pointers hold, after its entry record,
    or (``exit``) after its exit record: none when the call failed (no exit
    record) or those pointers are not followed."""
    recs = c.records.get(2, [])
    iocs = [k for k, rec in enumerate(recs) if rec.header.type == r.STRUCT and rec.name == b"ioc"]
    if len(iocs) < 1 + exit:
        return []
    return recs[iocs[exit] + 1:iocs[1] if not exit and len(iocs) > 1 else len(recs)]


def _items(records: list, name: bytes, size: int) -> list[bytes]:
    """The items of the STRUCT_ARRAY ``name`` among ``records``."""
    arr = next((rec for rec in records
                if rec.header.type == r.STRUCT_ARRAY and rec.name == name), None)
    data = arr.data if arr is not None else b""
    return [data[k:k + size] for k in range(0, len(data) // size * size, size)]


def array_done(c: Call, addr: int, count: int, have: int) -> bool:
    """print_array's result: all ``count`` items printed (or cut at -s), not
    NULL, empty or stopped at an item unreadable (``have`` items read)."""
    if not addr or not count:
        return False
    cut = c.opts.strsize if c.abbrev and c.opts.strsize < count else count
    return have > cut or have >= count


def rect(data: bytes, at: int) -> str:
    left, top, width, height = struct.unpack_from("<iiII", data, at)
    return f"{{left={left}, top={top}, width={width}, height={height}}}"


def fract(data: bytes, at: int) -> str:
    return "{}/{}".format(*struct.unpack_from("<II", data, at))


# --- struct v4l2_format's union, by buffer type ------------------------------

PLANES = 8              # VIDEO_MAX_PLANES
PLANE_FORMAT = 20       # struct v4l2_plane_pix_format


def _pix(d: bytes, at: int, c: Call, records: list) -> str:
    width, height, pixfmt, field, bpl, size, colorspace = struct.unpack_from("<7I", d, at)
    return (f"{{width={width}, height={height}, "
            f"pixelformat={fourcc(pixfmt, L.V4L2_PIX_FMTS)}, "
            f"field={xval(L.V4L2_FIELDS, field, 'V4L2_FIELD_???')}, bytesperline={bpl}, "
            f"sizeimage={size}, "
            f"colorspace={xval(L.V4L2_COLORSPACES, colorspace, 'V4L2_COLORSPACE_???')}}}")


def _pix_mp(d: bytes, at: int, c: Call, records: list) -> str:
    width, height, pixfmt, field, colorspace = struct.unpack_from("<5I", d, at)
    planes = d[at + 20 + PLANES * PLANE_FORMAT]
    shown = (_plane(d, at + 20 + i * PLANE_FORMAT) for i in range(min(planes, PLANES)))
    return (f"{{width={width}, height={height}, "
            f"pixelformat={fourcc(pixfmt, L.V4L2_PIX_FMTS)}, "
            f"field={xval(L.V4L2_FIELDS, field, 'V4L2_FIELD_???')}, "
            f"colorspace={xval(L.V4L2_COLORSPACES, colorspace, 'V4L2_COLORSPACE_???')}, "
            f"plane_fmt={local_array(shown, c)}, num_planes={planes}}}")


def _plane(d: bytes, at: int) -> str:
    return "{{sizeimage={}, bytesperline={}}}".format(*struct.unpack_from("<II", d, at))


CLIP = 24              # struct v4l2_clip: a rect, the next clip's address


def _win(d: bytes, at: int, c: Call, records: list) -> str:
    """The window with its clips (STRUCT_ARRAY v4l2_clip among ``records``)."""
    field, chromakey, clips, count = struct.unpack_from("<IIQI", d, at + 16)
    bitmap, alpha = _ptr(d, at + 40), d[at + 48]
    items = [f"{{c={rect(clip, 0)}}}" for clip in _items(records, b"v4l2_clip", CLIP)]
    return (f"{{w={rect(d, at)}, field={xval(L.V4L2_FIELDS, field, 'V4L2_FIELD_???')}, "
            f"chromakey={hexval(chromakey)}, "
            f"clips={print_array(c, clips, count, items, CLIP)}, clipcount={count}, "
            f"bitmap={ptr(bitmap)}" + (f", global_alpha={hexval(alpha)}" if alpha else "") + "}")


def _clips_done(d: bytes, at: int, c: Call, records: list) -> bool:
    """Whether strace goes on past a window: its clips all printed."""
    clips, count = struct.unpack_from("<QI", d, at + 24)
    return array_done(c, clips, count, len(_items(records, b"v4l2_clip", CLIP)))


def _vbi(d: bytes, at: int, c: Call, records: list) -> str:
    rate, offset, samples, fmt, start0, start1, count0, count1, flags_ = \
        struct.unpack_from("<4I2i3I", d, at)
    return (f"{{sampling_rate={rate}, offset={offset}, samples_per_line={samples}, "
            f"sample_format={fourcc(fmt, L.V4L2_PIX_FMTS)}, start=[{start0}, {start1}], "
            f"count=[{count0}, {count1}], "
            f"flags={flags(L.V4L2_VBI_FLAGS, flags_, unknown='V4L2_VBI_???')}}}")


def _sliced(d: bytes, at: int, c: Call, records: list) -> str:
    service_set, *lines = struct.unpack_from("<49H", d, at)
    io_size = _u32(d, at + 100)
    rows = ", ".join(hex_array(lines[i:i + 24]) for i in (0, 24))
    return (f"{{service_set={flags(L.V4L2_SLICED_FLAGS, service_set, unknown='V4L2_SLICED_???')}"
            f", service_lines=[{rows}], io_size={io_size}}}")


def _sdr(d: bytes, at: int, c: Call, records: list) -> str:
    pixfmt, size = struct.unpack_from("<II", d, at)
    return (f"{{pixelformat={fourcc(pixfmt, L.V4L2_SDR_FMTS)}"
            + (f", buffersize={size}" if size else "") + "}")


def _meta(d: bytes, at: int, c: Call, records: list) -> str:
    fmt, size = struct.unpack_from("<II", d, at)
    return f"{{dataformat={fourcc(fmt, L.V4L2_META_FMTS)}, buffersize={size}}}"


# buffer type -> (the union member's name, its printer)
FORMATS = {1: ("pix", _pix), 2: ("pix", _pix), 9: ("pix_mp", _pix_mp), 10: ("pix_mp", _pix_mp),
           3: ("win", _win), 8: ("win", _win), 4: ("vbi", _vbi), 5: ("vbi", _vbi),
           6: ("sliced", _sliced), 7: ("sliced", _sliced), 11: ("sdr", _sdr), 12: ("sdr", _sdr),
           13: ("meta", _meta), 14: ("meta", _meta)}
FORMAT = 0xD0           # struct v4l2_format: the type, the union at 8


def format_union(d: bytes, at: int, c: Call, records: list) -> tuple[str, bool] | None:
    """print_v4l2_format_fmt of the union at ``at`` (the type 8 bytes before),
    ``records`` what its pointers hold: ``fmt.pix={...}`` and whether strace
    goes on decoding; None for a type without one."""
    member = FORMATS.get(_u32(d, at - 8))
    if member is None:
        return None
    name, render = member
    done = render is not _win or _clips_done(d, at, c, records)
    return f"fmt.{name}={render(d, at, c, records)}", done


def _format(is_get: bool) -> Request:
    """VIDIOC_G_FMT: the type, the format answered; S_FMT, TRY_FMT: the format
    given, ``=> {fmt...}`` the one answered."""
    def render(given: bytes, answer: bytes | None, c: Call) -> str:
        text = f"{{type={_buf_type(_u32(given, 0))}"
        if not is_get:
            union = format_union(given, 8, c, held(c, exit=False))
            if union is None or not union[1]:
                return text + (f", {union[0]}" if union else "") + "}"
            text += f", {union[0]}"
        union = format_union(answer, 8, c, held(c, exit=True)) if answer is not None else None
        if union is not None:
            text += f", {union[0]}" if is_get else f"}} => {{{union[0]}"
        return text + "}"
    return exchange(FORMAT, render)


# --- the other structs ---------------------------------------------------------

def _capability(d: bytes, c: Call) -> str:
    version, caps, device_caps = struct.unpack_from("<3I", d, 80)
    text = (f"{{driver={_cstr(d, 0, 16)}, card={_cstr(d, 16, 32)}, "
            f"bus_info={_cstr(d, 48, 32)}, version={kernel_version(version)}, "
            f"capabilities={_cap_flags(caps)}")
    return text + (f", device_caps={_cap_flags(device_caps)}}}" if device_caps else "}")


def _cap_flags(value: int) -> str:
    return flags(L.V4L2_DEVICE_CAPABILITIES_FLAGS, value, unknown="V4L2_CAP_???")


def _fmtdesc(given: bytes, answer: bytes | None, c: Call) -> str:
    text = f"{{index={_u32(given, 0)}, type={_buf_type(_u32(given, 4))}"
    if answer is not None:
        described = flags(L.V4L2_FORMAT_DESCRIPTION_FLAGS, _u32(answer, 8),
                          unknown="V4L2_FMT_FLAG_???")
        text += (f", flags={described}, description={_cstr(answer, 12, 32)}, "
                 f"pixelformat={fourcc(_u32(answer, 44), L.V4L2_PIX_FMTS)}")
    return text + "}"


def _memory(value: int) -> str:
    return xval(L.V4L2_MEMORIES, value, "V4L2_MEMORY_???")


def _reqbufs(given: bytes, answer: bytes | None, c: Call) -> str:
    count, kind, memory_ = struct.unpack_from("<3I", given)
    text = f"{{type={_buf_type(kind)}, memory={_memory(memory_)}, count={count}"
    return text + (f" => {_u32(answer, 0)}}}" if answer is not None else "}")


MEMORY_MMAP, MEMORY_USERPTR = 1, 2
TIMESTAMP_MASK, TSTAMP_SRC_MASK = 0xE000, 0x70000


def buffer_flags(value: int) -> str:
    """print_v4l2_buffer_flags: the flags, the timestamp type and source."""
    if STYLE.get() == "raw":
        return hexval(value)
    rest = value & ~TIMESTAMP_MASK & ~TSTAMP_SRC_MASK
    text = flags(L.V4L2_BUF_FLAGS, rest, unknown="V4L2_BUF_FLAG_???") + "|" if rest else ""
    return (text + xval(L.V4L2_BUF_FLAGS_TS_TYPE, value & TIMESTAMP_MASK,
                        "V4L2_BUF_FLAG_TIMESTAMP_???")
            + "|" + xval(L.V4L2_BUF_FLAGS_TS_SRC, value & TSTAMP_SRC_MASK,
                         "V4L2_BUF_FLAG_TSTAMP_SRC_???"))


def _buffer(dequeue: bool) -> Request:
    """struct v4l2_buffer: QUERYBUF and QBUF give the type and index, DQBUF the
    type; what the driver answered follows."""
    def render(given: bytes, answer: bytes | None, c: Call) -> str:
        text = f"{{type={_buf_type(_u32(given, 4))}"
        if not dequeue:
            text += f", index={_u32(given, 0)}"
        if answer is None:
            return text + "}"
        index, _, used, flags_ = struct.unpack_from("<4I", answer)
        memory_, length = _u32(answer, 60), _u32(answer, 72)
        if dequeue:
            text += f", index={index}"
        text += f", memory={_memory(memory_)}"
        if memory_ == MEMORY_MMAP:
            text += f", m.offset={hexval(_u32(answer, 64))}"
        elif memory_ == MEMORY_USERPTR:
            text += f", m.userptr={ptr(_ptr(answer, 64))}"
        text += f", length={length}, bytesused={used}, flags={buffer_flags(flags_)}"
        if dequeue:
            sec, usec = struct.unpack_from("<qQ", answer, 24)
            text += f", timestamp={{tv_sec={sec}, tv_usec={usec}}}"
        return text + ", ...}"
    return exchange(0x58, render)


def _framebuffer(d: bytes, c: Call) -> str:
    capability, flags_ = struct.unpack_from("<II", d)
    return f"{{capability={hexval(capability)}, flags={hexval(flags_)}, base={ptr(_ptr(d, 8))}}}"


def _buf_type_text(d: bytes, c: Call) -> str:
    return f"[{_buf_type(_u32(d, 0))}]"


VIDEO_CAPTURE, VIDEO_OUTPUT = 1, 2


def _streamparm_body(d: bytes) -> str:
    """parm.capture (a capture type) or parm.output."""
    capability, mode, num, den, extended, buffers = struct.unpack_from("<6I", d, 4)
    capture = _u32(d, 0) == VIDEO_CAPTURE
    return (f"parm.{'capture' if capture else 'output'}={{capability="
            f"{flags(L.V4L2_STREAMING_CAPABILITIES, capability, unknown='V4L2_CAP_???')}, "
            f"{'capturemode' if capture else 'outputmode'}="
            f"{flags(L.V4L2_CAPTURE_MODES, mode, unknown='V4L2_MODE_???')}, "
            f"timeperframe={num}/{den}, extendedmode={hexval(extended)}, "
            f"{'readbuffers' if capture else 'writebuffers'}={buffers}}}")


def _streamparm(is_get: bool) -> Request:
    def render(given: bytes, answer: bytes | None, c: Call) -> str:
        kind = _u32(given, 0)
        text = f"{{type={_buf_type(kind)}"
        if kind not in (VIDEO_CAPTURE, VIDEO_OUTPUT):
            return text + "}"
        if not is_get:
            text += f", {_streamparm_body(given)}"
        if answer is not None:
            text += f", {_streamparm_body(answer)}" if is_get else \
                f"}} => {{{_streamparm_body(answer)}"
        return text + "}"
    return exchange(0xCC, render)


def _std_text(d: bytes, c: Call) -> str:
    return f"[{hexval(ULONG.unpack_from(d)[0])}]"


def _uint_text(d: bytes, c: Call) -> str:
    return f"[{_u32(d, 0)}]"


def _standard(given: bytes, answer: bytes | None, c: Call) -> str:
    text = f"{{index={_u32(given, 0)}"
    if answer is not None:
        text += (f", name={_cstr(answer, 16, 24)}, frameperiod={fract(answer, 40)}, "
                 f"framelines={_u32(answer, 48)}")
    return text + "}"


def _input(given: bytes, answer: bytes | None, c: Call) -> str:
    text = f"{{index={_u32(given, 0)}"
    if answer is not None:
        kind = xval(L.V4L2_INPUT_TYPES, _u32(answer, 36), "V4L2_INPUT_TYPE_???")
        text += f", name={_cstr(answer, 4, 32)}, type={kind}"
    return text + "}"


CLASS_RANGE = 0x10000
NEXT_FLAGS = reduce(operator.or_, (v for v, _ in L.V4L2_CONTROL_QUERY_FLAGS.entries))


def cid(value: int, next_flags: bool = False) -> str:
    """print_v4l2_cid: a control's name, else its class and offset
    (``V4L2_CTRL_CLASS_USER+0x1``); VIDIOC_QUERYCTRL's NEXT flags first."""
    if STYLE.get() == "raw":
        return hexval(value)
    text = ""
    if next_flags and value & NEXT_FLAGS:
        text = flags(L.V4L2_CONTROL_QUERY_FLAGS, value & NEXT_FLAGS,
                     unknown="V4L2_CTRL_FLAG_NEXT_???") + "|"
        value &= ~NEXT_FLAGS
    name = L.V4L2_CONTROL_IDS.name(value)
    if name is not None:
        return text + named(name, value)
    below = [v for v, _ in L.V4L2_CONTROL_CLASSES.entries if v <= value]
    if not below or value - max(below) >= CLASS_RANGE:
        return text + f"{hexval(value)} /* V4L2_CID_??? */"
    base = max(below)
    return text + named(f"{L.V4L2_CONTROL_CLASSES.name(base)}+{hexval(value - base)}", value)


def _control(is_get: bool) -> Request:
    def render(given: bytes, answer: bytes | None, c: Call) -> str:
        text = f"{{id={cid(_u32(given, 0))}"
        if not is_get:
            text += f", value={_s32(given, 4)}"
        if answer is not None:
            text += f", value={_s32(answer, 4)}" if is_get else f" => {_s32(answer, 4)}"
        return text + "}"
    return exchange(8, render)


def _tuner_body(d: bytes) -> str:
    kind, capability, low, high, rxsubchans, audmode, signal, afc = \
        struct.unpack_from("<6I2i", d, 36)
    return (f"name={_cstr(d, 4, 32)}, type={xval(L.V4L2_TUNER_TYPES, kind, 'V4L2_TUNER_???')}, "
            f"capability="
            f"{flags(L.V4L2_TUNER_CAPABILITIES, capability, unknown='V4L2_TUNER_CAP_???')}, "
            f"rangelow={low}, rangehigh={high}, rxsubchans="
            f"{flags(L.V4L2_TUNER_RXSUBCHANSES, rxsubchans, unknown='V4L2_TUNER_SUB_???')}, "
            f"audmode={xval(L.V4L2_TUNER_AUDMODES, audmode, 'V4L2_TUNER_MODE_???')}, "
            f"signal={signal}, afc={afc}")


def _tuner(is_get: bool) -> Request:
    def render(given: bytes, answer: bytes | None, c: Call) -> str:
        text = f"{{index={_u32(given, 0)}"
        if not is_get:
            text += f", {_tuner_body(given)}"
        if answer is not None:
            text += f", {_tuner_body(answer)}" if is_get else f"}} => {{{_tuner_body(answer)}"
        return text + "}"
    return exchange(0x54, render)


def _control_head(given: bytes, answer: bytes) -> str:
    """A queried control's id (when the driver moved to the next one), type
    and name."""
    text = f" => {cid(_u32(answer, 0))}" if _u32(answer, 0) != _u32(given, 0) else ""
    kind = xval(L.V4L2_CONTROL_TYPES, _u32(answer, 4), "V4L2_CTRL_TYPE_???")
    return text + f", type={kind}, name={_cstr(answer, 8, 32)}"


def _control_flags(value: int) -> str:
    return flags(L.V4L2_CONTROL_FLAGS, value, unknown="V4L2_CTRL_FLAG_???")


def _reserved(words: tuple[int, ...]) -> str:
    return f", reserved={hex_array(words)}" if any(words) else ""


def _queryctrl(given: bytes, answer: bytes | None, c: Call) -> str:
    text = f"{{id={cid(_u32(given, 0), next_flags=True)}"
    if answer is None:
        return text + "}"
    text += _control_head(given, answer)
    if c.abbrev:
        return text + ", ...}"
    minimum, maximum, step, default, flags_ = struct.unpack_from("<4iI", answer, 40)
    return (text + f", minimum={minimum}, maximum={maximum}, step={step}, "
            f"default_value={default}, flags={_control_flags(flags_)}"
            + _reserved(struct.unpack_from("<2I", answer, 60)) + "}")


def _query_ext_ctrl(given: bytes, answer: bytes | None, c: Call) -> str:
    text = f"{{id={cid(_u32(given, 0), next_flags=True)}"
    if answer is None:
        return text + "}"
    text += _control_head(given, answer)
    if c.abbrev:
        return text + ", ...}"
    minimum, maximum, step, default, flags_, elem_size, elems, dims = \
        struct.unpack_from("<qqQqIIII", answer, 40)
    shown = (str(v) for v in struct.unpack_from("<4I", answer, 88)[:min(dims, 4)])
    return (text + f", minimum={minimum}, maximum={maximum}, step={step}, "
            f"default_value={default}, flags={_control_flags(flags_)}, "
            f"elem_size={elem_size}, elems={elems}, nr_of_dims={dims}, "
            f"dims={local_array(shown, c)}"
            + _reserved(struct.unpack_from("<32I", answer, 104)) + "}")


def _cropcap(given: bytes, answer: bytes | None, c: Call) -> str:
    text = f"{{type={_buf_type(_u32(given, 0))}"
    if answer is not None:
        text += (f", bounds={rect(answer, 4)}, defrect={rect(answer, 20)}, "
                 f"pixelaspect={fract(answer, 36)}")
    return text + "}"


def _crop(is_get: bool) -> Request:
    def render(given: bytes, answer: bytes | None, c: Call) -> str:
        text = f"{{type={_buf_type(_u32(given, 0))}"
        if not is_get:
            return text + f", c={rect(given, 4)}}}"
        return text + (f", c={rect(answer, 4)}}}" if answer is not None else "}")
    return exchange(0x14, render)


EXT_CONTROLS = 0x20
EXT_CONTROL = 20        # struct v4l2_ext_control (packed): id, size, reserved, the value


def _ext_control(item: bytes, string: str | None) -> str:
    """A control: a string one (size not 0: ``string``, what its pointer
    holds, or its address) or its value."""
    ident, size = struct.unpack_from("<II", item)
    text = f"{{id={xval(L.V4L2_CONTROL_IDS, ident, 'V4L2_CID_???')}, size={size}"
    if size:
        return text + f", string={string}}}"
    value64, = struct.unpack_from("<q", item, 12)       # (a union with value)
    return text + f", value={_s32(item, 12)}, value64={value64}}}"


def _controls(c: Call, records: list) -> list[str]:
    """The controls recorded among ``records``, each string one with its
    STRU bytes (linux_plan.V4L2_CONTROL_STRING: one for each of the first
    ITEMS_FOLLOWED whose pointer and size are not 0, empty when unreadable)."""
    strings = iter([rec.data for rec in records
                    if rec.header.type == r.STRUCT and rec.name == b"bytes"])
    shown = []
    for k, item in enumerate(_items(records, b"v4l2_ext_control", EXT_CONTROL)):
        size, addr = _u32(item, 4), _ptr(item, 12)
        string = ptr(addr)
        if size and addr and k < ITEMS_FOLLOWED:
            data = next(strings, b"")
            string = printstr(data, c.opts) if data else ptr(addr)
        shown.append(_ext_control(item, string))
    return shown


def _ext_controls(is_get: bool) -> Request:
    """The controls: S_EXT_CTRLS and TRY_EXT_CTRLS print them given, then, as
    strace reads them again at exit (the entry copy after a failed call,
    which records no exit), ``=> {controls=...}``; G_EXT_CTRLS at exit alone.
    error_idx follows when the call failed."""
    def text(c: Call) -> str:
        given = c.struct(2, "ioc", exit=False)
        if given is None or len(given) < EXT_CONTROLS:
            return ptr(c.arg(2))
        klass, count = struct.unpack_from("<II", given)
        text = (f"{{ctrl_class={xval(L.V4L2_CONTROL_CLASSES, klass, 'V4L2_CTRL_CLASS_???')}"
                f", count={count}")
        if not count:
            return text + "}"
        if not is_get:
            records = held(c, exit=False)
            shown = _controls(c, records)
            text += f", controls={print_array(c, _ptr(given, 24), count, shown, EXT_CONTROL)}"
            if not array_done(c, _ptr(given, 24), count, len(shown)):
                return text + "}"
        after = c.struct(2, "ioc")
        if after is None or len(after) < EXT_CONTROLS:
            return text + "}"
        records = held(c, exit=c.ok)
        count, addr = _u32(after, 4), _ptr(after, 24)
        shown = print_array(c, addr, count, _controls(c, records), EXT_CONTROL)
        text += f", controls={shown}" if is_get else f"}} => {{controls={shown}"
        return text + ("" if c.ok else f", error_idx={_u32(after, 8)}") + "}"
    return Request(text)


FRMSIZE_DISCRETE, FRMSIZE_STEPWISE = 1, 3
FRMIVAL_DISCRETE = 1


def _frmsizeenum(given: bytes, answer: bytes | None, c: Call) -> str:
    text = f"{{index={_u32(given, 0)}, pixel_format={fourcc(_u32(given, 4), L.V4L2_PIX_FMTS)}"
    if answer is None:
        return text + "}"
    kind = _u32(answer, 8)
    text += f", type={xval(L.V4L2_FRAMESIZE_TYPES, kind, 'V4L2_FRMSIZE_TYPE_???')}"
    if kind == FRMSIZE_DISCRETE:
        text += ", discrete={{width={}, height={}}}".format(*struct.unpack_from("<II", answer, 12))
    elif kind == FRMSIZE_STEPWISE:
        names = ("min_width", "max_width", "step_width", "min_height", "max_height",
                 "step_height")
        values = struct.unpack_from("<6I", answer, 12)
        text += ", stepwise={" + ", ".join(f"{n}={v}" for n, v in zip(names, values)) + "}"
    return text + "}"


def _frmivalenum(given: bytes, answer: bytes | None, c: Call) -> str:
    index, pixfmt, width, height = struct.unpack_from("<4I", given)
    text = (f"{{index={index}, pixel_format={fourcc(pixfmt, L.V4L2_PIX_FMTS)}, "
            f"width={width}, height={height}")
    if answer is None:
        return text + "}"
    kind = _u32(answer, 16)
    text += f", type={xval(L.V4L2_FRAMEINTERVAL_TYPES, kind, 'V4L2_FRMIVAL_TYPE_???')}"
    if kind == FRMIVAL_DISCRETE:
        text += f", discrete={fract(answer, 20)}"
    elif kind in (2, 3):        # CONTINUOUS, STEPWISE
        text += (f", stepwise={{min={fract(answer, 20)}, max={fract(answer, 28)}, "
                 f"step={fract(answer, 36)}}}")
    return text + "}"


def _create_bufs(given: bytes, answer: bytes | None, c: Call) -> str:
    """count, memory and the format given (the index and count the driver
    answers, strace's return value comment, are left out)."""
    count, memory_, kind = _u32(given, 4), _u32(given, 8), _u32(given, 16)
    union = format_union(given, 24, c, [])
    fmt = f", {union[0]}" if union else ""
    return (f"{{count={count}, memory={_memory(memory_)}, "
            f"format={{type={_buf_type(kind)}{fmt}}}}}")


def _verbose(request: Request) -> Request:
    """strace decodes no V4L2 struct for a call -e verbose= leaves out."""
    return Request(lambda c: request.render(c) if c.verbose else hexval(c.arg(2)),
                   late=request.late)


REQUESTS: dict[str, Request] = {name: _verbose(request) for name, request in {
    "VIDIOC_QUERYCAP": memory("ioc", True, _capability, 0x68),
    "VIDIOC_ENUM_FMT": exchange(0x40, _fmtdesc),
    "VIDIOC_G_FMT": _format(True),
    "VIDIOC_S_FMT": _format(False),
    "VIDIOC_TRY_FMT": _format(False),
    "VIDIOC_REQBUFS": exchange(0x14, _reqbufs),
    "VIDIOC_QUERYBUF": _buffer(False),
    "VIDIOC_QBUF": _buffer(False),
    "VIDIOC_DQBUF": _buffer(True),
    "VIDIOC_G_FBUF": memory("ioc", True, _framebuffer, 0x30),
    "VIDIOC_S_FBUF": memory("ioc", False, _framebuffer, 0x30),
    "VIDIOC_STREAMON": memory("ioc", False, _buf_type_text, 4),
    "VIDIOC_STREAMOFF": memory("ioc", False, _buf_type_text, 4),
    "VIDIOC_G_PARM": _streamparm(True),
    "VIDIOC_S_PARM": _streamparm(False),
    "VIDIOC_G_STD": memory("ioc", True, _std_text, 8),
    "VIDIOC_S_STD": memory("ioc", False, _std_text, 8),
    "VIDIOC_ENUMSTD": exchange(0x48, _standard),
    "VIDIOC_ENUMINPUT": exchange(0x50, _input),
    "VIDIOC_G_CTRL": _control(True),
    "VIDIOC_S_CTRL": _control(False),
    "VIDIOC_G_TUNER": _tuner(True),
    "VIDIOC_S_TUNER": _tuner(False),
    "VIDIOC_QUERYCTRL": exchange(0x44, _queryctrl),
    "VIDIOC_QUERY_EXT_CTRL": exchange(0xE8, _query_ext_ctrl),
    "VIDIOC_G_INPUT": memory("ioc", True, _uint_text, 4),
    "VIDIOC_S_INPUT": memory("ioc", False, _uint_text, 4),
    "VIDIOC_CROPCAP": exchange(0x2C, _cropcap),
    "VIDIOC_G_CROP": _crop(True),
    "VIDIOC_S_CROP": _crop(False),
    "VIDIOC_S_EXT_CTRLS": _ext_controls(False),
    "VIDIOC_TRY_EXT_CTRLS": _ext_controls(False),
    "VIDIOC_G_EXT_CTRLS": _ext_controls(True),
    "VIDIOC_ENUM_FRAMESIZES": exchange(0x2C, _frmsizeenum),
    "VIDIOC_ENUM_FRAMEINTERVALS": exchange(0x34, _frmivalenum),
    "VIDIOC_CREATE_BUFS": exchange(0x100, _create_bufs),
}.items()}

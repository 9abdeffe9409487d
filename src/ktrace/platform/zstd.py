"""The system's libzstd (libzstd.so.1) through ctypes: frames out, frames in.

Only what compressed trace files need, so no Python package is needed:

* :class:`FrameCompressor` makes one whole zstd frame of a buffer, which
  decodes alone (a file of such frames is a valid ``.zst``):
  ``ZSTD_compress2``, one shot like ``ZSTD_compressCCtx`` but with a
  content checksum, so that a damaged frame is found.
* :class:`FrameReader` is a binary stream of the decompressed bytes of a
  stream of concatenated frames (``ZSTD_decompressStream``), in bounded
  memory whatever the frames say: the window a frame may ask for is capped
  (``ZSTD_d_windowLogMax``) and output comes in pieces.

libzstd's calls go through ``CDLL``, which releases the GIL: a service's
other threads run while a frame is compressed.
"""

from __future__ import annotations

import ctypes
from typing import BinaryIO

MAGIC = b"\x28\xb5\x2f\xfd"       # 0xFD2FB528, little-endian: every zstd frame starts so

# zstd -1: on W1 as small as -3 (7.5 bytes/syscall) and 40% faster; 5% larger
# than -3 on varied traces (benchmarks/RESULTS.md, "compressed trace files")
LEVEL = 1
WINDOW_LOG_MAX = 24        # 16 MiB: every standard level (1-19) fits, no frame may ask more

# zstd.h's parameter numbers (stable API)
_C_COMPRESSION_LEVEL = 100
_C_CHECKSUM_FLAG = 201
_D_WINDOW_LOG_MAX = 100


class ZstdError(ValueError):
    """libzstd refused (``str``: its words), or a stream of frames ended mid-frame."""


class _Buffer(ctypes.Structure):
    """ZSTD_inBuffer and ZSTD_outBuffer (same shape): where, how big, how far."""
    _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t)]


def _load() -> ctypes.CDLL:
    lib = ctypes.CDLL("libzstd.so.1")
    size, pointer = ctypes.c_size_t, ctypes.c_void_p
    for name, restype, argtypes in (
            ("ZSTD_isError", ctypes.c_uint, [size]),
            ("ZSTD_getErrorName", ctypes.c_char_p, [size]),
            ("ZSTD_compressBound", size, [size]),
            ("ZSTD_createCCtx", pointer, []),
            ("ZSTD_freeCCtx", size, [pointer]),
            ("ZSTD_CCtx_setParameter", size, [pointer, ctypes.c_int, ctypes.c_int]),
            ("ZSTD_compress2", size, [pointer, pointer, size, ctypes.c_char_p, size]),
            ("ZSTD_createDCtx", pointer, []),
            ("ZSTD_freeDCtx", size, [pointer]),
            ("ZSTD_DCtx_setParameter", size, [pointer, ctypes.c_int, ctypes.c_int]),
            ("ZSTD_decompressStream", size, [pointer, ctypes.POINTER(_Buffer),
                                             ctypes.POINTER(_Buffer)])):
        fn = getattr(lib, name)      # (lib[name] would be a new, uncached object)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


_lib: ctypes.CDLL | None = None


def _zstd() -> ctypes.CDLL:
    """libzstd, loaded on first use (plain traces never need it)."""
    global _lib
    if _lib is None:
        try:
            _lib = _load()
        except OSError as e:
            raise ZstdError(f"compressed trace files need libzstd.so.1 ({e})") from None
    return _lib


def _checked(result: int) -> int:
    """``result`` of a libzstd call, or ZstdError with libzstd's name for the error."""
    lib = _zstd()
    if lib.ZSTD_isError(result):
        raise ZstdError(lib.ZSTD_getErrorName(result).decode())
    return result


class FrameCompressor:
    """Makes one self-contained zstd frame (content size and checksum in it) per call."""

    def __init__(self, level: int = LEVEL):
        lib = _zstd()
        self._cctx = lib.ZSTD_createCCtx()
        if not self._cctx:
            raise MemoryError("ZSTD_createCCtx")
        _checked(lib.ZSTD_CCtx_setParameter(self._cctx, _C_COMPRESSION_LEVEL, level))
        _checked(lib.ZSTD_CCtx_setParameter(self._cctx, _C_CHECKSUM_FLAG, 1))
        self._out = ctypes.create_string_buffer(0)

    def frame(self, data: bytes) -> bytes:
        lib = _zstd()
        bound = lib.ZSTD_compressBound(len(data))
        if len(self._out) < bound:
            self._out = ctypes.create_string_buffer(bound)
        size = _checked(lib.ZSTD_compress2(self._cctx, self._out, bound, data, len(data)))
        return ctypes.string_at(self._out, size)

    def __del__(self):
        if getattr(self, "_cctx", None):
            _zstd().ZSTD_freeCCtx(self._cctx)


class FrameReader:
    """The decompressed bytes of ``stream``, a sequence of zstd frames.

    ``read1``/``read`` return what is decoded so far (never more than
    ``CHUNK`` bytes at a time) and ``b""`` at the end.  A stream that ends between
    frames ends cleanly; one that ends inside a frame raises ZstdError
    ("truncated"), unless ``follow``: then the frame may still be being
    written, and ``b""`` means "nothing yet".  ``head`` is the start of the
    stream, already read from it by whoever recognised the frames.
    ``frame_offset`` is the stream offset of the frame being decoded.
    """

    CHUNK = 1 << 20

    def __init__(self, stream: BinaryIO, head: bytes = b"", follow: bool = False):
        lib = self._lib = _zstd()
        self._read_stream = getattr(stream, "read1", stream.read)
        self.follow = follow
        self._dctx = lib.ZSTD_createDCtx()
        if not self._dctx:
            raise MemoryError("ZSTD_createDCtx")
        _checked(lib.ZSTD_DCtx_setParameter(self._dctx, _D_WINDOW_LOG_MAX, WINDOW_LOG_MAX))
        self._input = head                 # kept alive: _in points into it
        self._in = _Buffer(ctypes.cast(ctypes.c_char_p(head), ctypes.c_void_p), len(head), 0)
        # a big output buffer: fewer calls, fewer pieces for the reader to join
        self._out_data = ctypes.create_string_buffer(self.CHUNK)
        self._out = _Buffer(ctypes.cast(self._out_data, ctypes.c_void_p), len(self._out_data), 0)
        self._consumed = 0                 # stream bytes before self._input
        self.frame_offset = 0
        self._in_frame = False             # the last call left a frame unfinished
        self._drained = True               # ... and kept no decoded bytes back

    def read1(self, size: int = -1) -> bytes:
        lib = self._lib
        in_ref, out_ref = ctypes.byref(self._in), ctypes.byref(self._out)
        self._out.pos = 0
        while self._out.pos < self._out.size:   # across frames: big pieces read faster
            if self._in.pos == self._in.size and self._drained:
                # what is decoded goes first: the end (or a truncation) is for the next call
                if self._out.pos or not self._refill():
                    break
            if not self._in_frame:
                self.frame_offset = self._consumed + self._in.pos
            hint = lib.ZSTD_decompressStream(self._dctx, out_ref, in_ref)
            if lib.ZSTD_isError(hint):
                raise ZstdError(f"corrupt zstd frame at file offset {self.frame_offset}: "
                                f"{lib.ZSTD_getErrorName(hint).decode()}")
            self._in_frame = hint != 0
            self._drained = self._out.pos < self._out.size
        return ctypes.string_at(self._out_data, self._out.pos)

    read = read1

    def _refill(self) -> bool:
        """More input; False at the end of the stream (for now, if following)."""
        chunk = self._read_stream(self.CHUNK)
        if not chunk:
            if self._in_frame and not self.follow:
                raise ZstdError(f"truncated zstd frame at file offset {self.frame_offset}")
            return False
        self._consumed += len(self._input)
        self._input = chunk
        self._in.data = ctypes.cast(ctypes.c_char_p(chunk), ctypes.c_void_p)
        self._in.size, self._in.pos = len(chunk), 0
        return True

    def __del__(self):
        if getattr(self, "_dctx", None):
            self._lib.ZSTD_freeDCtx(self._dctx)

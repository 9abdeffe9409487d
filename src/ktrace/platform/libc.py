"""The C library through ctypes, set up once for every platform wrapper.

Two handles on the same library:

* :data:`libc` (``CDLL``) releases the GIL around each call: for calls that
  may block.
* :data:`pylibc` (``PyDLL``) keeps the GIL: for the short, never-blocking
  calls engines make per event (ptrace requests, process_vm_readv), where
  releasing and retaking the GIL costs more than the call.

Hot functions get no ``argtypes`` (checking them costs about a microsecond a
call): callers pass Python ints that fit a C int, or ctypes objects
(``c_void_p``/``c_ulong``/``byref``) for pointers and 64-bit values.
"""

from __future__ import annotations

import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
pylibc = ctypes.PyDLL(None, use_errno=True)


def raise_errno(what: str, filename=None) -> None:
    """Raise OSError for the errno the last foreign call left."""
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}", filename)



def function(name: str, restype=ctypes.c_int, blocking: bool = False):
    """A private function object for ``name`` (its restype set apart from
    every other user's), from :data:`libc` if it may block, else :data:`pylibc`."""
    fn = (libc if blocking else pylibc)[name]
    fn.restype = restype
    return fn

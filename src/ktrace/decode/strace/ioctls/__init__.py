"""The request model ioctl's decoders share (strace's ioctl.c): a request built
from its ``_IOC`` parts, and how its argument prints (:class:`Request`).

Each module of this package is a family of requests, as strace has a file per
driver: ``NAMES`` (a request's name -> its number; the names the generated
tables lack) and ``REQUESTS`` (a request's name -> :class:`Request`).  The
argument is printed from the records the plan gives it: the STRU of ioctl's
selector cases (termios, winsize, int...), else ``STRU ioc``, the request's
``_IOC_SIZE`` bytes, read at entry when the request has ``_IOC_WRITE`` and at
the exit of a successful call when it has ``_IOC_READ`` (linux_plan's doc).
"""

from __future__ import annotations

import struct
from typing import Callable, Iterable, NamedTuple

from ....abi import linux_plan as lp
from ...xlat import Xlat
from ..call import Call
from ..fmt import c_int, hexval, ptr


def ioc(direction: int, kind: str, nr: int, size: int) -> int:
    return direction << lp.IOC_DIR_SHIFT | size << lp.IOC_SIZE_SHIFT | ord(kind) << 8 | nr


def io(kind: str, nr: int) -> int:
    return ioc(0, kind, nr, 0)


def ior(kind: str, nr: int, size: int) -> int:
    return ioc(lp.IOC_READ, kind, nr, size)


def iow(kind: str, nr: int, size: int) -> int:
    return ioc(lp.IOC_WRITE, kind, nr, size)


def iowr(kind: str, nr: int, size: int) -> int:
    return ioc(lp.IOC_READ | lp.IOC_WRITE, kind, nr, size)


class Request(NamedTuple):
    """How a request's argument prints: ``render(call)``, None for no argument;
    ``late``: strace prints it when the call returns (the driver writes it)."""

    render: Callable[[Call], str | None]
    late: bool = False


def memory(name: str, written: bool, render: Callable[[bytes, Call], str],
            size: int = 0) -> Request:
    """The memory the argument points to, from STRU ``name``: the entry copy, or
    (``written``) the exit copy of a call that succeeded; the address when
    there is none, or fewer than ``size`` bytes of it."""
    def text(c: Call) -> str:
        data = c.struct(2, name, exit=written)
        if data is None or len(data) < size or (written and not c.ok):
            return ptr(c.arg(2))
        return render(data, c)
    return Request(text, late=written)


def read_verbosely(request: Request) -> Request:
    """A request whose struct strace reads by umove_or_printaddr: its address
    when -e verbose= leaves the call out."""
    return Request(lambda c: request.render(c) if c.verbose else ptr(c.arg(2)),
                   late=request.late)


INT = struct.Struct("<i")
UINT = struct.Struct("<I")
ULONG = struct.Struct("<Q")


def int_text(data: bytes, c: Call) -> str:
    return f"[{INT.unpack_from(data)[0]}]"


def ulong_text(data: bytes, c: Call) -> str:
    return f"[{ULONG.unpack_from(data)[0]}]"


def hex_u64_text(data: bytes, c: Call) -> str:
    return f"[{hexval(ULONG.unpack_from(data)[0])}]"


def ioc_int(written: bool) -> Request:
    return memory("ioc", written, int_text, INT.size)


NO_ARG = Request(lambda c: None)
INT_VALUE = Request(lambda c: str(c_int(c.arg(2))))
ULONG_VALUE = Request(lambda c: str(c.arg(2)))
FD_VALUE = Request(lambda c: c.fd_text(c_int(c.arg(2))))


def fields(names, values) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, values))


def flag_bits(prefix: str, names) -> Xlat:
    return Xlat([(1 << bit, f"{prefix}{name}") for bit, name in enumerate(names) if name])


def exchanged(c: Call, size: int, answer_or_given: bool = False
              ) -> tuple[bytes, bytes | None] | None:
    """An _IOWR struct's two copies: (as given, as the kernel wrote it back),
    the answer None after a failed call; None when fewer than ``size`` bytes
    were given (strace prints the address).  Where the exit copy was not
    recorded the answer is None too, unless ``answer_or_given``: then it is
    the given copy (v4l2 requests whose plan records them once)."""
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < size:
        return None
    answer = c.struct(2, "ioc") if c.ok else None
    if answer is None or len(answer) < size or (answer is given and not answer_or_given):
        answer = None
    return given, answer


def given_and_answer(render: Callable[[bytes, bytes | None], str], size: int) -> Request:
    """A struct read in and written back (_IOWR): as given, with what the
    kernel's copy adds when the call succeeded."""
    def text(c: Call) -> str:
        copies = exchanged(c, size)
        return ptr(c.arg(2)) if copies is None else render(*copies)
    return Request(text)


def local_array(items: Iterable[str], c: Call, count: int | None = None) -> str:
    """print_local_array(_upto): the first ``count`` items of a struct's array
    (all of them by default), cut after -s of them (``...``) unless -v."""
    shown = list(items)[:count]
    if c.abbrev and len(shown) > c.opts.strsize:
        shown = shown[:c.opts.strsize] + ["..."]
    return "[" + ", ".join(shown) + "]"


def hex_array(values: Iterable[int]) -> str:
    """PRINT_FIELD_X_ARRAY (a reserved field's words): ``[0, 0xfeedface]``."""
    return "[" + ", ".join(map(hexval, values)) + "]"

"""Typed ctypes wrapper over the system libbpf (libbpf.so.1).

Only what the bpf engine needs: open and load an object file, size its maps
before loading, attach its programs, reach its maps (by fd and, for global
data, through libbpf's live mapping), run a program on a given CPU, and mmap
a BPF ring buffer so that the consumer can walk it without a call per record.

libbpf 1.x returns NULL and sets errno on failure; every failure here becomes
an OSError carrying that errno.  libbpf's log is captured only for a load
that asks for it (``BpfObject.load(log=True)``): opening and loading ktrace's
object logs ~1,500 lines, mostly debug, each a call back into Python (~13 ms
of a cold start), and only a refused load needs them.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
from typing import Iterator

_PAGE = os.sysconf("SC_PAGE_SIZE")
_LOG_LINES = 40

_lib: ctypes.CDLL | None = None
_libc = ctypes.CDLL(None, use_errno=True)
_log: list[str] = []


class LibbpfMissing(OSError):
    """libbpf.so.1 is not installed."""


class LoadError(OSError):
    """The kernel refused the object: ``program`` names the program libbpf
    was loading (None when it failed before any), ``reason`` is one line."""

    def __init__(self, err: int, program: str | None, reason: str, log: str):
        super().__init__(err, f"loading the BPF program: {os.strerror(err)}\n{log}")
        self.program = program
        self.reason = reason


_PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _print(level: int, fmt: bytes, args: int) -> int:
    # libbpf hands a va_list: let the C library format it
    _libc.vsnprintf(_print_buf, ctypes.c_size_t(len(_print_buf)), fmt, ctypes.c_void_p(args))
    _log.extend(_print_buf.value.decode("utf-8", "replace").rstrip("\n").split("\n"))
    del _log[:-_LOG_LINES]
    return 0


_print_cb = _PRINT_FN(_print)
_no_print = _PRINT_FN()     # NULL: libbpf prints nothing
_print_buf = ctypes.create_string_buffer(1 << 20)   # a verifier log is one message


def _declare(lib: ctypes.CDLL) -> None:
    vp, cp, i, u32, sz = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                          ctypes.c_uint32, ctypes.c_size_t)
    sigs = {
        "libbpf_set_print": (vp, [_PRINT_FN]),
        "bpf_object__open_file": (vp, [cp, vp]),
        "bpf_object__load": (i, [vp]),
        "bpf_object__close": (None, [vp]),
        "bpf_object__find_map_by_name": (vp, [vp, cp]),
        "bpf_object__find_program_by_name": (vp, [vp, cp]),
        "bpf_object__next_program": (vp, [vp, vp]),
        "bpf_program__name": (cp, [vp]),
        "bpf_program__section_name": (cp, [vp]),
        "bpf_program__set_autoload": (i, [vp, ctypes.c_bool]),
        "bpf_program__set_log_level": (i, [vp, u32]),
        "bpf_program__set_log_buf": (i, [vp, cp, sz]),
        "bpf_program__fd": (i, [vp]),
        "bpf_program__attach": (vp, [vp]),
        "bpf_link__destroy": (i, [vp]),
        "bpf_map__fd": (i, [vp]),
        "bpf_map__name": (cp, [vp]),
        "bpf_map__type": (i, [vp]),
        "bpf_map__max_entries": (u32, [vp]),
        "bpf_map__map_flags": (u32, [vp]),
        "bpf_map__reuse_fd": (i, [vp, i]),
        "bpf_map_create": (i, [i, cp, u32, u32, u32, vp]),
        "bpf_map__set_max_entries": (i, [vp, u32]),
        "bpf_map__key_size": (u32, [vp]),
        "bpf_map__value_size": (u32, [vp]),
        "bpf_map__initial_value": (vp, [vp, ctypes.POINTER(sz)]),
        "bpf_map_update_elem": (i, [i, vp, vp, ctypes.c_uint64]),
        "bpf_map_lookup_elem": (i, [i, vp, vp]),
        "bpf_map_delete_elem": (i, [i, vp]),
        "bpf_map_get_next_key": (i, [i, vp, vp]),
        "bpf_prog_test_run_opts": (i, [i, vp]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes


def lib() -> ctypes.CDLL:
    """The loaded libbpf, declared and quiet (once)."""
    global _lib
    if _lib is None:
        try:
            handle = ctypes.CDLL("libbpf.so.1", use_errno=True)
        except OSError:
            # find_library runs ldconfig (a fork and exec): only when the soname is not
            # found (and ctypes.util, which imports subprocess, is imported only then)
            from ctypes.util import find_library
            path = find_library("bpf") or "libbpf.so.1"
            try:
                handle = ctypes.CDLL(path, use_errno=True)
            except OSError as e:
                raise LibbpfMissing(0, "libbpf.so.1 is not installed") from e
        _declare(handle)
        handle.libbpf_set_print(_no_print)   # its default prints warnings on our stderr
        _lib = handle
    return _lib


_PROG_FAILED = re.compile(r"prog '(\w+)': failed")
_NO_ATTACH_TARGET = re.compile(r"failed to find kernel BTF type ID of '(\w+)'")


def _load_error(err: int) -> LoadError:
    """What libbpf's log says of a failed load: which program, and why in one line."""
    lines = list(_log)
    failed = [m.group(1) for line in lines if (m := _PROG_FAILED.search(line))]
    program = failed[-1] if failed else None
    reason = os.strerror(err)
    for i, line in enumerate(lines):
        if m := _NO_ATTACH_TARGET.search(line):
            reason = f"this kernel has no {m.group(1)} tracepoint"
            break
        # the verifier's verdict is the line before its statistics
        if line.startswith("processed ") and " insns " in line and i > 0:
            reason = f"the verifier says: {lines[i - 1].strip()}"
            break
    return LoadError(err, program, reason, "\n".join(lines))


def _check(ok: bool, what: str) -> None:
    if not ok:
        err = ctypes.get_errno() or 1
        raise OSError(err, f"{what}: {os.strerror(err)}")


class _TestRunOpts(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("data_in", ctypes.c_void_p),
                ("data_out", ctypes.c_void_p), ("data_size_in", ctypes.c_uint32),
                ("data_size_out", ctypes.c_uint32), ("ctx_in", ctypes.c_void_p),
                ("ctx_out", ctypes.c_void_p), ("ctx_size_in", ctypes.c_uint32),
                ("ctx_size_out", ctypes.c_uint32), ("retval", ctypes.c_uint32),
                ("repeat", ctypes.c_int), ("duration", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("cpu", ctypes.c_uint32),
                ("batch_size", ctypes.c_uint32)]


class _MapCreateOpts(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("btf_fd", ctypes.c_uint32),
                ("btf_key_type_id", ctypes.c_uint32), ("btf_value_type_id", ctypes.c_uint32),
                ("btf_vmlinux_value_type_id", ctypes.c_uint32),
                ("inner_map_fd", ctypes.c_uint32), ("map_flags", ctypes.c_uint32),
                ("map_extra", ctypes.c_uint64), ("numa_node", ctypes.c_uint32),
                ("map_ifindex", ctypes.c_uint32)]


BPF_F_TEST_RUN_ON_CPU = 1 << 0
BPF_ANY = 0
VERIFIER_STATS = 4     # a program's log level: the verifier's statistics only


class Program:
    def __init__(self, ptr: int):
        self._ptr = ptr

    @property
    def name(self) -> str:
        return lib().bpf_program__name(self._ptr).decode()

    @property
    def fd(self) -> int:
        return lib().bpf_program__fd(self._ptr)

    @property
    def section(self) -> str:
        return lib().bpf_program__section_name(self._ptr).decode()

    def set_autoload(self, on: bool) -> None:
        """Before the object's load: leave this program out of it (or back in)."""
        _check(lib().bpf_program__set_autoload(self._ptr, on) == 0,
               f"setting {self.name}'s autoload")

    def attach(self) -> "Link":
        link = lib().bpf_program__attach(self._ptr)
        _check(bool(link), f"attaching {self.name}")
        return Link(link)

    def run_on_cpu(self, cpu: int) -> int:
        """BPF_PROG_TEST_RUN on ``cpu`` (raw_tp programs); the program's return."""
        opts = _TestRunOpts(sz=ctypes.sizeof(_TestRunOpts), flags=BPF_F_TEST_RUN_ON_CPU,
                            cpu=cpu)
        _check(lib().bpf_prog_test_run_opts(self.fd, ctypes.byref(opts)) == 0,
               f"running {self.name} on cpu {cpu}")
        return opts.retval


class Link:
    def __init__(self, ptr: int):
        self._ptr = ptr

    def destroy(self) -> None:
        if self._ptr:
            lib().bpf_link__destroy(self._ptr)
            self._ptr = None


class Map:
    """A map of a loaded object: element operations on fixed-size ctypes keys/values."""

    def __init__(self, ptr: int, name: str):
        self._ptr = ptr
        self.name = name
        # fixed by the object's BTF at open: the sizes every element operation checks
        self._sizes = (lib().bpf_map__key_size(ptr), lib().bpf_map__value_size(ptr))

    @property
    def fd(self) -> int:
        return lib().bpf_map__fd(self._ptr)

    def set_max_entries(self, n: int) -> None:
        _check(lib().bpf_map__set_max_entries(self._ptr, n) == 0,
               f"sizing map {self.name}")

    def create_zeroed(self) -> None:
        """Before load: create this .bss map here, as libbpf would, but
        without the copy of its initial image libbpf makes into it: that
        image is zeros, as a new map is, and for megabytes of .bss the copy
        (and the faults of reading the image) is a good part of a load.

        Raises LoadError, as the load would have for the map.
        """
        lb, ptr = lib(), self._ptr
        opts = _MapCreateOpts(sz=ctypes.sizeof(_MapCreateOpts),
                              map_flags=lb.bpf_map__map_flags(ptr))
        fd = lb.bpf_map_create(lb.bpf_map__type(ptr), lb.bpf_map__name(ptr), *self._sizes,
                               lb.bpf_map__max_entries(ptr), ctypes.byref(opts))
        if fd < 0:
            err = ctypes.get_errno() or 1
            raise LoadError(err, None, os.strerror(err), f"creating map {self.name}")
        try:
            _check(lb.bpf_map__reuse_fd(ptr, fd) == 0, f"handing map {self.name} to libbpf")
        finally:
            os.close(fd)

    def data(self, ctype):
        """A ctypes view of a global-data map (.data/.bss/.rodata).

        Before load it is libbpf's initial image (edit it to configure the
        program); after load it is the live kernel mapping (.data and .bss).
        """
        size = ctypes.c_size_t()
        ptr = lib().bpf_map__initial_value(self._ptr, ctypes.byref(size))
        _check(bool(ptr), f"global data of {self.name}")
        if size.value < ctypes.sizeof(ctype):
            raise OSError(0, f"map {self.name} holds {size.value} bytes, "
                             f"{ctypes.sizeof(ctype)} expected")
        return ctype.from_address(ptr)

    def mmap_value(self, ctype) -> "MappedValue":
        """The live value of a one-element mmapable array (a loaded global-data map).

        libbpf 1.1 remaps global data only for skeletons, so map it here.
        """
        length = (ctypes.sizeof(ctype) + _PAGE - 1) // _PAGE * _PAGE
        addr = _libc.mmap(None, length, _PROT_READ | _PROT_WRITE, _MAP_SHARED, self.fd, 0)
        _check(addr != _MAP_FAILED, f"mapping {self.name}")
        return MappedValue(ctype.from_address(addr), addr, length)

    def _fits(self, key, value=None) -> None:
        """The kernel copies the map's sizes from and to our buffers: they must be those."""
        sizes = (ctypes.sizeof(key), None if value is None else ctypes.sizeof(value))
        want = self._sizes if value is not None else (self._sizes[0], None)
        if sizes != want:
            raise ValueError(f"map {self.name}: (key, value) of {sizes} bytes, {want} expected")

    def update(self, key, value, flags: int = BPF_ANY) -> None:
        self._fits(key, value)
        _check(lib().bpf_map_update_elem(self.fd, ctypes.byref(key), ctypes.byref(value),
                                         flags) == 0, f"updating {self.name}")

    def lookup(self, key, value) -> bool:
        """Fill ``value``; False when the key is absent."""
        self._fits(key, value)
        if lib().bpf_map_lookup_elem(self.fd, ctypes.byref(key), ctypes.byref(value)) == 0:
            return True
        _check(ctypes.get_errno() == errno.ENOENT, f"looking up in {self.name}")
        return False

    def delete(self, key) -> bool:
        """False when the key was absent."""
        self._fits(key)
        if lib().bpf_map_delete_elem(self.fd, ctypes.byref(key)) == 0:
            return True
        _check(ctypes.get_errno() == errno.ENOENT, f"deleting from {self.name}")
        return False

    def keys(self, ktype) -> Iterator:
        """Every key (a fresh ctypes object each), as the kernel lists them."""
        fd, nxt = self.fd, lib().bpf_map_get_next_key
        self._fits(ktype())
        key = None
        while True:
            out = ktype()
            if nxt(fd, None if key is None else ctypes.byref(key), ctypes.byref(out)) != 0:
                return
            yield out
            key = out


class MappedValue:
    """A map's value mapped into this process: ``value`` is the ctypes view."""

    def __init__(self, value, addr: int, length: int):
        self.value = value
        self._mapping = (addr, length)

    def close(self) -> None:
        if self._mapping:
            self.value = None
            _libc.munmap(*self._mapping)
            self._mapping = None


class BpfObject:
    """An opened (then loaded) BPF object file; closing it detaches everything."""

    def __init__(self, path: str):
        self._obj = lib().bpf_object__open_file(os.fsencode(path), None)
        _check(bool(self._obj), f"opening {path}")
        self._links: list[Link] = []

    def map(self, name: str) -> Map:
        ptr = lib().bpf_object__find_map_by_name(self._obj, name.encode())
        if not ptr:
            raise KeyError(f"no map {name!r} in the BPF object")
        return Map(ptr, name)

    def program(self, name: str) -> Program:
        ptr = lib().bpf_object__find_program_by_name(self._obj, name.encode())
        if not ptr:
            raise KeyError(f"no program {name!r} in the BPF object")
        return Program(ptr)

    def programs(self) -> Iterator[Program]:
        ptr = None
        while True:
            ptr = lib().bpf_object__next_program(self._obj, ptr)
            if not ptr:
                return
            yield Program(ptr)

    def load(self, log: bool = False) -> None:
        """Raises LoadError; with ``log``, naming the program the kernel
        refused and why (from libbpf's log), else with only the errno."""
        _log.clear()
        lib().libbpf_set_print(_print_cb if log else _no_print)
        try:
            failed = lib().bpf_object__load(self._obj) != 0
            err = ctypes.get_errno() or 1
        finally:
            lib().libbpf_set_print(_no_print)
        if failed:
            raise _load_error(err)

    def load_measured(self) -> dict[str, str]:
        """:meth:`load`, asking the verifier for its statistics (log level 4):
        each program's "verification time N usec ... processed N insns" text."""
        logs = {}
        for prog in self.programs():
            # (16 KiB made the kernel refuse the load, ENOSPC, once the programs grew)
            logs[prog.name] = buf = ctypes.create_string_buffer(1 << 20)
            _check(lib().bpf_program__set_log_buf(prog._ptr, buf, len(buf)) == 0 and
                   lib().bpf_program__set_log_level(prog._ptr, VERIFIER_STATS) == 0,
                   f"asking for {prog.name}'s verifier statistics")
        self.load()
        return {name: " ".join(buf.value.decode(errors="replace").split())
                for name, buf in logs.items()}

    def attach(self, program: Program) -> None:
        self._links.append(program.attach())

    def close(self) -> None:
        for link in self._links:
            link.destroy()
        self._links.clear()
        if self._obj:
            lib().bpf_object__close(self._obj)
            self._obj = None


# ---------------------------------------------------------------------------
# The ring buffer, mapped by hand

_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_PROT_READ, _PROT_WRITE, _MAP_SHARED = 1, 2, 1
_MAP_FAILED = ctypes.c_void_p(-1).value

RINGBUF_BUSY = 1 << 31
RINGBUF_DISCARD = 1 << 30
RINGBUF_HDR = 8


class RingMapping:
    """A BPF_MAP_TYPE_RINGBUF mapped into this process.

    ``data`` is a memoryview over the data area mapped twice back to back
    (as the kernel lays it out), so a sample that wraps is still contiguous.
    ``producer`` and ``consumer`` are c_uint64 views: the consumer position
    is stored with one aligned 8-byte write, never byte by byte.
    """

    def __init__(self, fd: int, size: int):
        self.size = size
        self.mask = size - 1
        cons = _libc.mmap(None, _PAGE, _PROT_READ | _PROT_WRITE, _MAP_SHARED, fd, 0)
        _check(cons != _MAP_FAILED, "mapping the ring's consumer page")
        prod_len = _PAGE + 2 * size
        prod = _libc.mmap(None, prod_len, _PROT_READ, _MAP_SHARED, fd, _PAGE)
        if prod == _MAP_FAILED:
            _libc.munmap(cons, _PAGE)
            _check(False, "mapping the ring's data")
        self._maps = [(cons, _PAGE), (prod, prod_len)]
        self.consumer = ctypes.c_uint64.from_address(cons)
        self.producer = ctypes.c_uint64.from_address(prod)
        raw = (ctypes.c_ubyte * (2 * size)).from_address(prod + _PAGE)
        self.data = memoryview(raw).cast("B")
        self.words = self.data.cast("I")

    def close(self) -> None:
        if self._maps:
            self.data.release()
            self.words.release()
            for addr, length in self._maps:
                _libc.munmap(addr, length)
            self._maps = []

"""Loading ktrace.bpf.o and talking to its maps (their layouts: interface.py)."""

from __future__ import annotations

import ctypes
import os
import re
import threading
import time
from pathlib import Path

from ...platform import libbpf, procfs
from .interface import MAX_PIDS, KtrConfig, KtrLive, KtrProc

OBJECT = Path(__file__).with_name("ktrace.bpf.o")
# the same program built without kfuncs, for kernels before 6.2 (see file_of())
COMPAT_OBJECT = Path(__file__).with_name("ktrace.compat.bpf.o")
KFUNC_SINCE = (6, 2)   # bpf_rdonly_cast, the one kfunc of OBJECT
TRACEFS = "/sys/kernel/tracing"
FLUSH_PROGRAM = "ktr_flush"
# Programs that record one facility each, beyond the syscall and lifecycle
# programs every trace needs: a kernel that refuses one loses only that facility.
OPTIONAL_PROGRAMS = {"ktr_switch": "w", "ktr_signal": "s", "ktr_signal_ignored": "s",
                     "ktr_fault": "f", "ktr_capable": "p"}
WAKE_FRACTION = 16     # the program wakes the loader when 1/16 of the ring waits
CLOCK_READINGS = 5     # sync_clock keeps the closest of them
PID_ARRAYS = (".bss.pids", ".bss.threads")     # a byte per pid each: 4 MiB of zeros


def possible_cpus() -> int:
    """How many CPU ids the kernel may hand out (the stages map has one each)."""
    try:
        text = Path("/sys/devices/system/cpu/possible").read_text().strip()
        return int(text.split(",")[-1].split("-")[-1]) + 1
    except (OSError, ValueError):
        return os.cpu_count() or 1


PROC_PID_INIT_INO = 0xEFFFFFFC   # the initial pid namespace's inode number


def pid_namespace() -> KtrConfig:
    """ktrace's own pid namespace: records carry pids as ktrace sees them.

    (/proc may be mounted for an outer namespace, so NSpid cannot tell the
    depth: the program finds the namespace by its inode number instead.)
    """
    st = os.stat("/proc/self/ns/pid")
    return KtrConfig(pidns_dev=st.st_dev, pidns_ino=st.st_ino,
                     pidns_level=int(st.st_ino != PROC_PID_INIT_INO))


def ensure_tracefs() -> None:
    """Mount tracefs where the kernel expects it, if nobody has."""
    if os.path.isdir(f"{TRACEFS}/events"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount(b"nodev", TRACEFS.encode(), b"tracefs", 0, None)


# The kernel's BTF would answer the two questions below exactly, but reading
# it (5 MB, a page per read from sysfs) is a good part of a cold start, and
# libbpf reads it again to load: the answers come cheaper, and a wrong one
# costs only a fallback (a build or a program the kernel refuses is left out).

def objects() -> list[Path]:
    """The builds to try, best first: with the kfunc where the kernel is new
    enough to have it (libbpf refuses the build at once where it has not)."""
    release = tuple(int(n) for n in re.findall(r"\d+", os.uname().release)[:2])
    return [OBJECT, COMPAT_OBJECT] if release >= KFUNC_SINCE else [COMPAT_OBJECT]


def _missing_tracepoint(events: Path, prog: libbpf.Program) -> str | None:
    """Why ``prog`` cannot attach here, found before the verifier's costly work:
    a tp_btf program's tracepoint has an event in tracefs (``events``)."""
    kind, _, tracepoint = prog.section.partition("/")
    if kind == "tp_btf" and events.is_dir() and not any(events.glob(f"*/{tracepoint}")):
        return f"this kernel has no {tracepoint} tracepoint"
    return None


def _configure(obj: libbpf.BpfObject, ring_size: int, throttle_bytes: int,
               unavailable: dict[str, str]) -> None:
    """Size and set up ``obj`` before its load, leaving out the optional
    programs in ``unavailable`` and those whose tracepoint is missing (added to it)."""
    obj.map("ring").set_max_entries(ring_size)
    obj.map("stages").set_max_entries(possible_cpus())
    for name in PID_ARRAYS:
        obj.map(name).create_zeroed()
    cfg = obj.map(".rodata.cfg").data(KtrConfig)
    ns = pid_namespace()
    ctypes.memmove(ctypes.addressof(cfg), ctypes.addressof(ns), ctypes.sizeof(ns))
    cfg.wake_bytes = ring_size // WAKE_FRACTION
    cfg.throttle_bytes = throttle_bytes
    cfg.optmem_max = min(procfs.optmem_max(), 0xFFFFFFFF)
    for prog in obj.programs():
        letter = OPTIONAL_PROGRAMS.get(prog.name)
        if letter is None:
            continue
        if letter not in unavailable:
            reason = _missing_tracepoint(Path(TRACEFS, "events"), prog)
            if reason is not None:
                unavailable[letter] = reason
        if letter in unavailable:
            prog.set_autoload(False)


class Loading:
    """``path`` opened and configured here, and loading on a thread: the
    load's calls into libbpf and the kernel's verifier leave the GIL to the
    caller, which goes on meanwhile (a service starting: see begin)."""

    def __init__(self, path: Path, ring_size: int, throttle_bytes: int,
                 unavailable: dict[str, str], log: bool = False):
        self.sizes, self.unavailable = (ring_size, throttle_bytes), unavailable
        self.obj = libbpf.BpfObject(str(path))
        try:
            _configure(self.obj, ring_size, throttle_bytes, unavailable)
        except BaseException:
            self.obj.close()
            raise
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._load, args=(log,), name="ktrace-bpf-load",
                                        daemon=True)
        self._thread.start()

    def _load(self, log: bool) -> None:
        try:
            self.obj.load(log)
        except BaseException as e:
            self._failure = e

    def result(self) -> libbpf.BpfObject:
        """The loaded object; else the load's exception (the object closed)."""
        self._thread.join()
        if self._failure is not None:
            self.obj.close()
            raise self._failure
        return self.obj


def begin(ring_size: int, throttle_bytes: int = 0) -> Loading:
    """Begin the load Program(ring_size, throttle_bytes) makes first, for it
    to take over (``begun``)."""
    ensure_tracefs()
    return Loading(objects()[0], ring_size, throttle_bytes, {})


class Program:
    """The loaded and attached BPF program with typed access to its maps.

    ``unavailable`` maps the trace point letters whose program the kernel
    refused (or lacks the tracepoint of) to the reason, one line each.
    ``begun``: the load :func:`begin` started with these sizes (of the
    first of ``paths``).
    """

    def __init__(self, ring_size: int, throttle_bytes: int = 0,
                 paths: list[Path] | None = None, begun: Loading | None = None):
        ensure_tracefs()
        self.unavailable: dict[str, str] = {}
        self.obj = self._load_best(paths or objects(), ring_size, throttle_bytes, begun)
        try:
            self._attach()
            self.procs = self.obj.map("procs")
            self._mapped = [self.obj.map(".data.live").mmap_value(KtrLive),
                            *(self.obj.map(name).mmap_value(ctypes.c_uint8 * MAX_PIDS)
                              for name in PID_ARRAYS)]
            self.live, self.maybe_traced, self.thread_state = (m.value for m in self._mapped)
            self.flusher = self.obj.program(FLUSH_PROGRAM)
            self.ring = libbpf.RingMapping(self.obj.map("ring").fd, ring_size)
        except BaseException:
            self.obj.close()
            raise
        self.cpus = [int(c) for c in _online_cpus()]
        self.sync_clock()

    def _load_best(self, paths: list[Path], ring_size: int, throttle_bytes: int,
                   begun: Loading | None) -> libbpf.BpfObject:
        """The first build the kernel takes; else why it refused the last one (one line)."""
        for path in paths:
            try:
                return self._load(path, ring_size, throttle_bytes, begun)
            except libbpf.LoadError as e:
                failure = e
            begun = None
        what = f"the BPF program {failure.program}" if failure.program else "the BPF object"
        raise OSError(failure.errno, f"{what} was refused: {failure.reason}") from failure

    def _load(self, path: Path, ring_size: int, throttle_bytes: int,
              begun: Loading | None) -> libbpf.BpfObject:
        """Open, configure and load ``path`` (or take over ``begun``), leaving
        out the optional programs this kernel refuses, one load at a time
        (each refusal names its program).

        A refused load is done again with libbpf's log, which alone names the
        program and says why (see libbpf.BpfObject.load).
        """
        self.unavailable = begun.unavailable if begun is not None else {}
        log = False
        while True:
            try:
                loading = begun or Loading(path, ring_size, throttle_bytes, self.unavailable, log)
                return loading.result()
            except libbpf.LoadError as e:
                begun = None
                if not log:
                    log = True
                    continue
                letter = OPTIONAL_PROGRAMS.get(e.program or "")
                if letter is None or letter in self.unavailable:
                    raise
                self.unavailable[letter] = e.reason

    def _attach(self) -> None:
        for prog in self.obj.programs():
            letter = OPTIONAL_PROGRAMS.get(prog.name)
            if prog.name == FLUSH_PROGRAM or letter in self.unavailable:
                continue
            try:
                self.obj.attach(prog)
            except OSError as e:
                if letter is None:
                    raise
                self.unavailable[letter] = f"attaching it failed: {e.strerror}"

    def sync_clock(self) -> None:
        """Records carry CLOCK_REALTIME; the program reads CLOCK_MONOTONIC.
        The offset is read between two readings of the monotonic clock, the
        closest of a few: where we are preempted between two readings (a
        busy machine), every record's time would be off by as long, and the
        program's records would come before what we wrote after them."""
        window, offset = None, 0
        for _ in range(CLOCK_READINGS):
            before = time.monotonic_ns()
            realtime = time.time_ns()
            after = time.monotonic_ns()
            if window is None or after - before < window:
                window, offset = after - before, realtime - (before + after) // 2
        self.live.realtime_offset = offset

    def proc(self, pid: int) -> KtrProc | None:
        value = KtrProc()
        return value if self.procs.lookup(ctypes.c_uint32(pid), value) else None

    def set_proc(self, pid: int, value: KtrProc) -> None:
        self.procs.update(ctypes.c_uint32(pid), value)
        self.maybe_traced[pid] = 1
        self._procs_changed()

    def drop_proc(self, pid: int) -> None:
        self.procs.delete(ctypes.c_uint32(pid))
        self.maybe_traced[pid] = 0
        self._procs_changed()

    def _procs_changed(self) -> None:
        """The program's per-CPU copies of procs entries are stale now."""
        self.live.loader_gen += 1

    def forget_threads(self, pid: int) -> None:
        """What the program knows of ``pid``'s threads dates from before tracing."""
        for tid in procfs.threads(pid) or [pid]:
            if 0 < tid < MAX_PIDS:
                self.thread_state[tid] = 0

    def traced_pids(self) -> list[int]:
        return [k.value for k in self.procs.keys(ctypes.c_uint32)]

    def flush_stages(self) -> bool:
        """Send every CPU's staged batch to the ring; False if one was busy."""
        done = True
        for cpu in self.cpus:
            try:
                done &= self.flusher.run_on_cpu(cpu) == 0
            except OSError:
                pass        # that CPU went offline
        return done

    def close(self) -> None:
        for mapped in self._mapped:
            mapped.close()
        self.ring.close()
        self.obj.close()


def _online_cpus() -> list[int]:
    try:
        text = Path("/sys/devices/system/cpu/online").read_text().strip()
    except OSError:
        return list(range(os.cpu_count() or 1))
    cpus: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus

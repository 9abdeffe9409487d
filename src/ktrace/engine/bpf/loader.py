"""Loading ktrace.bpf.o and talking to its maps.

The ctypes structures here mirror the control structures of ktrace.h (the
facility state and tunables, not records: record bytes are only ever moved).
"""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

from ...platform import libbpf, procfs

OBJECT = Path(__file__).with_name("ktrace.bpf.o")
FLUSH_PROGRAM = "ktr_flush"
MAX_PIDS = 1 << 22      # ktrace.bpf.c's maybe_traced[] and thread_state[]
WAKE_FRACTION = 16     # the program wakes the loader when 1/16 of the ring waits


class KtrProc(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint32), ("genio_size", ctypes.c_uint32),
                ("parent", ctypes.c_uint32), ("opts", ctypes.c_uint32),
                ("dropped", ctypes.c_uint64)]


class KtrConfig(ctypes.Structure):
    _fields_ = [("pidns_dev", ctypes.c_uint64), ("pidns_ino", ctypes.c_uint64),
                ("pidns_level", ctypes.c_uint32), ("wake_bytes", ctypes.c_uint32),
                ("throttle_bytes", ctypes.c_uint32), ("pad", ctypes.c_uint32)]


class KtrLive(ctypes.Structure):
    _fields_ = [("realtime_offset", ctypes.c_int64), ("dropped", ctypes.c_uint64),
                ("csw_inherited", ctypes.c_int64), ("csw_attached", ctypes.c_int64),
                ("proc_gen", ctypes.c_uint64), ("loader_gen", ctypes.c_uint64),
                ("comm_gen", ctypes.c_uint64)]


# struct ktr_batch flags (the batch header itself is read by consumer.py)
BATCH_EXIT = 1
BATCH_DROPPED = 2
BATCH_EXEC_PRIV = 4
BATCH_FORK = 8
OPT_OWNER_ROOT = 1
OPT_THROTTLE = 2
OPT_EXITED = 4


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
    if os.path.isdir("/sys/kernel/tracing/events"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount(b"nodev", b"/sys/kernel/tracing", b"tracefs", 0, None)


class Program:
    """The loaded and attached BPF program with typed access to its maps."""

    def __init__(self, ring_size: int, throttle_bytes: int = 0, path: Path = OBJECT):
        ensure_tracefs()
        self.obj = libbpf.BpfObject(str(path))
        try:
            self.obj.map("ring").set_max_entries(ring_size)
            self.obj.map("stages").set_max_entries(possible_cpus())
            cfg = self.obj.map(".rodata.cfg").data(KtrConfig)
            ns = pid_namespace()
            ctypes.memmove(ctypes.addressof(cfg), ctypes.addressof(ns), ctypes.sizeof(ns))
            cfg.wake_bytes = ring_size // WAKE_FRACTION
            cfg.throttle_bytes = throttle_bytes
            self.obj.load()
            for prog in self.obj.programs():
                if prog.name != FLUSH_PROGRAM:
                    self.obj.attach(prog)
            self.procs = self.obj.map("procs")
            self._mapped = [self.obj.map(".data.live").mmap_value(KtrLive),
                            self.obj.map(".bss.pids").mmap_value(ctypes.c_uint8 * MAX_PIDS),
                            self.obj.map(".bss.threads").mmap_value(ctypes.c_uint8 * MAX_PIDS)]
            self.live, self.maybe_traced, self.thread_state = (m.value for m in self._mapped)
            self.flusher = self.obj.program(FLUSH_PROGRAM)
            self.ring = libbpf.RingMapping(self.obj.map("ring").fd, ring_size)
        except BaseException:
            self.obj.close()
            raise
        self.cpus = [int(c) for c in _online_cpus()]
        self.sync_clock()

    def sync_clock(self) -> None:
        """Records carry CLOCK_REALTIME; the program reads CLOCK_MONOTONIC."""
        self.live.realtime_offset = time.time_ns() - time.monotonic_ns()

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

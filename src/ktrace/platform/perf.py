"""perf_event_open(2) for one thread, and reading its ring buffer.

Only what the ptrace engine uses: a software event on one thread (page
faults sampled at every fault with their address, or the dummy event) with
``context_switch`` records, user space only (``exclude_kernel``: what an
unprivileged user may open), timestamps on CLOCK_REALTIME.  Records are
returned as :class:`PerfRecord` tuples.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
from typing import NamedTuple

from .libc import function

PERF_TYPE_SOFTWARE = 1
PERF_COUNT_SW_PAGE_FAULTS = 2
PERF_COUNT_SW_DUMMY = 9

PERF_SAMPLE_IP = 1 << 0
PERF_SAMPLE_TID = 1 << 1
PERF_SAMPLE_TIME = 1 << 2
PERF_SAMPLE_ADDR = 1 << 3
PERF_SAMPLE_CPU = 1 << 7

# perf_event_attr flag bits
_DISABLED, _EXCLUDE_KERNEL, _EXCLUDE_HV = 1 << 0, 1 << 5, 1 << 6
_SAMPLE_ID_ALL, _USE_CLOCKID, _CONTEXT_SWITCH = 1 << 18, 1 << 25, 1 << 26

PERF_RECORD_LOST = 2
PERF_RECORD_SAMPLE = 9
PERF_RECORD_SWITCH = 14
PERF_RECORD_MISC_SWITCH_OUT = 1 << 13
PERF_RECORD_MISC_SWITCH_OUT_PREEMPT = 1 << 14

PERF_EVENT_IOC_ENABLE = 0x2400
CLOCK_REALTIME = 0
NR_PERF_EVENT_OPEN = 298
ATTR_SIZE = 128                      # PERF_ATTR_SIZE_VER7
DATA_HEAD_OFFSET = 1024              # in struct perf_event_mmap_page: data_head
DATA_TAIL_OFFSET = 1032              # and data_tail

# type, size, config, sample_period, sample_type, read_format, flags,
# wakeup_events, bp_type, config1, config2, branch_sample_type, sample_regs_user,
# sample_stack_user, clockid, sample_regs_intr, aux_watermark, sample_max_stack
_ATTR = struct.Struct("<IIQQQQQIIQQQQIiQIH2x4x")
_HEADER = struct.Struct("<IHH")
_SAMPLE = struct.Struct("<QIIQQI4x")     # ip, pid, tid, time, addr, cpu
_SWITCH_ID = struct.Struct("<IIQI4x")    # sample_id: pid, tid, time, cpu
_LOST = struct.Struct("<QQ")             # id, lost
_syscall = function("syscall", ctypes.c_long, blocking=True)
_ioctl = function("ioctl", ctypes.c_int, blocking=True)


class PerfRecord(NamedTuple):
    kind: int          # PERF_RECORD_SAMPLE, PERF_RECORD_SWITCH or PERF_RECORD_LOST
    tid: int
    time_ns: int       # CLOCK_REALTIME
    cpu: int
    addr: int = 0      # samples: the faulting address
    ip: int = 0        # samples: the instruction
    out: bool = False  # switches: switched out (else in)
    preempt: bool = False   # switches out: preempted (else it slept)
    lost: int = 0      # LOST: how many records the kernel dropped


class ThreadEvents:
    """One perf event on one thread, with its ring buffer mapped."""

    def __init__(self, tid: int, faults: bool, switches: bool, pages: int = 16):
        sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU
        flags = _EXCLUDE_KERNEL | _EXCLUDE_HV | _SAMPLE_ID_ALL | _USE_CLOCKID
        if faults:
            config, period = PERF_COUNT_SW_PAGE_FAULTS, 1
            sample_type |= PERF_SAMPLE_IP | PERF_SAMPLE_ADDR
        else:
            config, period = PERF_COUNT_SW_DUMMY, 0
        if switches:
            flags |= _CONTEXT_SWITCH
        attr = ctypes.create_string_buffer(_ATTR.pack(
            PERF_TYPE_SOFTWARE, ATTR_SIZE, config, period, sample_type, 0, flags,
            0, 0, 0, 0, 0, 0, 0, CLOCK_REALTIME, 0, 0, 0).ljust(ATTR_SIZE, b"\0"))
        fd = _syscall(ctypes.c_long(NR_PERF_EVENT_OPEN), attr, ctypes.c_int(tid),
                      ctypes.c_int(-1), ctypes.c_int(-1), ctypes.c_ulong(0))
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"perf_event_open: {os.strerror(err)}")
        self.fd = fd
        self.faults = faults
        self.sample_type = sample_type
        page = mmap.PAGESIZE
        self.size = pages * page
        try:
            self.ring = mmap.mmap(fd, (pages + 1) * page, mmap.MAP_SHARED,
                                  mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError:
            os.close(fd)
            raise
        self._page = page
        self._head = ctypes.c_uint64.from_buffer(self.ring, DATA_HEAD_OFFSET)
        self._tail = ctypes.c_uint64.from_buffer(self.ring, DATA_TAIL_OFFSET)

    def read(self) -> list[PerfRecord]:
        """Every record in the ring since the last read."""
        head = self._head.value
        tail = self._tail.value
        out = []
        base, size, ring = self._page, self.size, self.ring
        while tail < head:
            off = tail % size
            hdr = bytes(ring[base + off:base + off + 8]) if off + 8 <= size else \
                bytes(ring[base + off:base + size]) + bytes(ring[base:base + off + 8 - size])
            rtype, misc, rsize = _HEADER.unpack(hdr)
            if off + rsize <= size:
                body = bytes(ring[base + off + 8:base + off + rsize])
            else:
                body = (bytes(ring[base + off:base + size]) +
                        bytes(ring[base:base + off + rsize - size]))[8:]
            rec = self._decode(rtype, misc, body)
            if rec is not None:
                out.append(rec)
            tail += rsize
        self._tail.value = tail        # one aligned 8-byte store (the kernel reads it)
        return out

    def _decode(self, rtype: int, misc: int, body: bytes) -> PerfRecord | None:
        if rtype == PERF_RECORD_SAMPLE and self.faults:
            ip, _, tid, time_ns, addr, cpu = _SAMPLE.unpack_from(body)
            return PerfRecord(PERF_RECORD_SAMPLE, tid, time_ns, cpu, addr=addr, ip=ip)
        if rtype == PERF_RECORD_SWITCH:
            _, tid, time_ns, cpu = _SWITCH_ID.unpack_from(body)
            out = bool(misc & PERF_RECORD_MISC_SWITCH_OUT)
            return PerfRecord(PERF_RECORD_SWITCH, tid, time_ns, cpu, out=out,
                              preempt=bool(misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT))
        if rtype == PERF_RECORD_LOST:
            _, lost = _LOST.unpack_from(body)
            return PerfRecord(PERF_RECORD_LOST, 0, 0, -1, lost=lost)
        return None

    def close(self) -> None:
        del self._head, self._tail       # release the exported buffer before unmapping
        self.ring.close()
        os.close(self.fd)

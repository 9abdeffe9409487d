"""The bpf recording engine: the ktrace facility as a BPF program (root only).

The kernel side (ktrace.bpf.c) keeps the p_traceflag table in a map, applies
inheritance at fork, privilege loss at exec and the end of tracing at exit,
and writes whole records, batched per process, into a ring buffer.  This side
keeps the user-space Facility in step, moves batches to the trace files
(consumer.py), and uses ptrace only to hold exits and, with --lossless, to
throttle (holder.py).

Engine options (service-wide): ``ring_size`` (bytes, default 64 MiB, rounded
up to a power of two) and ``lossless``.
"""

from __future__ import annotations

import errno
import json
import os
import select
import time
from pathlib import Path
from typing import Callable

from ... import record as r
from ... import trpoints
from ...platform import libbpf, procfs
from .. import BPF_NEEDS_PRIVILEGE, DEFAULT_GENIO_SIZE, Engine, ProcSettings
from . import consumer
from .interface import (KTR_BATCH_DROPPED, KTR_BATCH_EXEC_PRIV, KTR_BATCH_EXIT, KTR_BATCH_FORK,
                        KTR_OPT_EXITED, KTR_OPT_OWNER_ROOT, KTR_OPT_THROTTLE, KtrProc)
from .loader import OBJECT, Loading, Program, begin

DEFAULT_RING_SIZE = 64 << 20
MIN_RING_SIZE = 1 << 16
POLL = 0.01               # seconds between looks at the ring when it is quiet
BUSY_BYTES = 1 << 18      # moved at least this much: look again at once
IDLE_FLUSH = 0.04         # seconds: send CPUs' staged batches when idle this long
RECONCILE = 1.0           # seconds between checks of the kernel's table against ours
HOLD_POLL = 0.002         # seconds between ptrace polls while holding
THROTTLE_AT, RESUME_AT = 1 / 4, 1 / 16   # --lossless: ring fill that stops / restarts
LOSSLESS_MIN_RING = 1 << 20   # room for every CPU's batch above the throttle mark
CAP_PERFMON, CAP_BPF = 38, 39
DROP_MESSAGE = "Out of ktrace request objects."
CSW = r.facility(r.CSW)


def _capable() -> bool:
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    caps = int(line.split()[1], 16)
                    return bool(caps >> CAP_BPF & 1 and caps >> CAP_PERFMON & 1)
    except OSError:
        pass
    return False


def unavailable_reason() -> str | None:
    """Why the bpf engine cannot run here (one line), or None when it can."""
    if not _capable():
        return BPF_NEEDS_PRIVILEGE
    if not OBJECT.exists():
        return ("the bpf engine's BPF program is not built (install clang, bpftool and "
                "libbpf-dev, then reinstall ktrace)")
    try:
        libbpf.lib()
    except libbpf.LibbpfMissing as e:
        return str(e.strerror)
    if not Path("/sys/kernel/btf/vmlinux").exists():
        return "this kernel has no BTF (/sys/kernel/btf/vmlinux): the bpf engine needs it"
    return None


def ring_size(requested: int) -> int:
    """The ring buffer size the kernel accepts: a power of two, at least 64 KiB."""
    size = max(int(requested), MIN_RING_SIZE)
    return 1 << (size - 1).bit_length()


def _sizes(options: dict) -> tuple[int, int]:
    """The ring's size and the throttle mark (0: none) the engine options ask for."""
    lossless = bool(options.get("lossless"))
    size = ring_size(max(options.get("ring_size") or DEFAULT_RING_SIZE,
                         LOSSLESS_MIN_RING if lossless else 0))
    return size, int(size * THROTTLE_AT) if lossless else 0


_begun: Loading | None = None     # begin_loading's, until BpfEngine takes it


def begin_loading(options: str) -> None:
    """First thing in a bpf service (see service._launch): begin loading the
    program for BpfEngine(``options``, as JSON) on a thread, so that the
    service's own imports overlap the verifier's work.  Whatever goes wrong
    is left for BpfEngine to meet again, and to say."""
    global _begun
    try:
        if unavailable_reason() is None:
            _begun = begin(*_sizes(json.loads(options)))
    except Exception:
        _begun = None


def _take_begun(sizes: tuple[int, int]) -> Loading | None:
    global _begun
    begun, _begun = _begun, None
    return begun if begun is not None and begun.sizes == sizes else None


class BpfEngine(Engine):
    name = "bpf"

    def __init__(self, options: dict | None = None):
        # here, with ptrace's modules: imported while begin_loading's load runs
        from .holder import Holder
        options = options or {}
        reason = unavailable_reason()
        if reason:
            raise OSError(errno.EPERM, reason)
        self.lossless = bool(options.get("lossless"))
        sizes = _sizes(options)
        self.ring_size = sizes[0]
        self.prog = Program(*sizes, begun=_take_begun(sizes))
        self.holder = Holder(lambda pid: self.prog.proc(pid) is not None)
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._csw_attached: set[int] = set()
        self.dropped = 0                         # events lost (the kernel's count, at the end)

    # -- the Engine interface --------------------------------------------

    def attach(self, pid: int, options: dict) -> None:
        if not procfs.is_process(pid):
            raise OSError(errno.ESRCH, os.strerror(errno.ESRCH))
        opts = 0
        if self.lossless:
            self.holder.hold(pid, follow=True)
            if pid in self.holder.tids:
                opts = KTR_OPT_THROTTLE
        self.prog.forget_threads(pid)
        self.prog.set_proc(pid, KtrProc(flags=0, genio_size=DEFAULT_GENIO_SIZE, opts=opts))

    def detach(self, pid: int) -> None:
        self.prog.drop_proc(pid)
        self._set_csw(pid, False)
        self.holder.release(pid)

    def flags_changed(self, pid: int, settings: ProcSettings) -> None:
        flags = settings.flags
        old = self.prog.proc(pid) or KtrProc()
        value = KtrProc(flags=flags | (old.flags & r.KTRFAC_DROP),
                        genio_size=settings.genio_size,
                        parent=old.parent,
                        opts=old.opts & KTR_OPT_THROTTLE | (KTR_OPT_OWNER_ROOT
                                                            if settings.owner_root else 0),
                        dropped=old.dropped)
        self.prog.set_proc(pid, value)
        if not old.parent:
            self._set_csw(pid, bool(flags & CSW))
        self._notice_unavailable(pid, flags)

    def _notice_unavailable(self, pid: int, flags: int) -> None:
        """One line per file for each facility asked for that this kernel refused."""
        for letter, reason in self.prog.unavailable.items():
            if flags & trpoints.parse(letter):
                self.facility.log(pid, f"ktrace: the bpf engine cannot record "
                                       f"{trpoints.WORDS[letter]} ({letter}) on this kernel: "
                                       f"{reason}", once=True)

    def hold_exit(self, pid: int) -> None:
        try:
            self.holder.hold(pid, follow=self.lossless)
        except OSError:
            pass        # cannot be held (traced by another tracer): records may trail

    def wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except BlockingIOError:
            pass

    def run(self, service: Callable[[], bool]) -> None:
        poller = select.epoll()
        poller.register(self.prog.obj.map("ring").fd, select.EPOLLIN)
        poller.register(self._wake_r, select.EPOLLIN)
        last_data = last_check = time.monotonic()
        flushed = True
        try:
            while True:
                moved = self._drain()
                if not service():
                    break
                now = time.monotonic()
                if moved:
                    last_data, flushed = now, False
                elif not flushed and now - last_data >= IDLE_FLUSH:
                    flushed = self.prog.flush_stages()
                    continue
                if self.holder:
                    self._hold_step()
                if now - last_check >= RECONCILE:
                    last_check = now
                    self.prog.sync_clock()
                    self._reconcile()
                self.facility.flush()
                if moved < BUSY_BYTES:
                    # the program wakes us only past a fill level: poll for the rest
                    for fd, _ in poller.poll(HOLD_POLL if self.holder else POLL):
                        if fd == self._wake_r:
                            _empty(self._wake_r)
        finally:
            poller.close()
            self._finish()

    # -- moving records ----------------------------------------------------

    def _drain(self) -> int:
        moved = consumer.drain(self.prog.ring, self._batch)
        if self.holder.parked and consumer.fill(self.prog.ring) <= self.ring_size * RESUME_AT:
            self.holder.resume_parked()
        return moved

    def _batch(self, pid: int, flags: int, aux: int, records: bytes) -> None:
        fac = self.facility
        if flags & KTR_BATCH_EXEC_PRIV:
            fac.exec_gains_privilege(pid)
            return
        if flags & KTR_BATCH_FORK:
            self._forked(aux, pid)
        if not fac.flags(pid) and not self._adopt(pid):
            return
        if flags & KTR_BATCH_DROPPED:
            fac.log(pid, DROP_MESSAGE, once=True)
        fac.emit(pid, records)
        if flags & KTR_BATCH_EXIT:
            self._gone(pid, aux)

    def _gone(self, pid: int, dropped: int) -> None:
        """Process ``pid`` exited: say what it lost, and forget it."""
        if dropped:
            self.facility.log(pid, f"ktrace: {dropped} records of pid {pid} were lost "
                                   f"(ring buffer full; see --ring-size, --lossless)")
        self._set_csw(pid, False)
        self.facility.exit(pid)

    def _forked(self, parent: int, pid: int) -> bool:
        """The kernel made ``pid`` inherit tracing from ``parent``: so does the facility."""
        if self.facility.flags(pid):
            return True
        if not self.facility.fork(parent, pid):
            self.prog.drop_proc(pid)
            return False
        return True

    def _adopt(self, pid: int, depth: int = 0) -> bool:
        """A traced process whose fork batch was lost: ask the kernel's table."""
        proc = self.prog.proc(pid)
        if proc is None or not proc.parent or depth > 64:
            return False
        if not self.facility.flags(proc.parent) and not self._adopt(proc.parent, depth + 1):
            return False
        return self._forked(proc.parent, pid)

    def _set_csw(self, pid: int, on: bool) -> None:
        (self._csw_attached.add if on else self._csw_attached.discard)(pid)
        self.prog.live.csw_attached = len(self._csw_attached)

    # -- upkeep --------------------------------------------------------------

    def _hold_step(self) -> None:
        for pid in self.holder.poll():
            self.prog.flush_stages()
            self._drain()
            if self.facility.flags(pid):       # its exit batch was lost
                self._lost_exit(pid)
            self.holder.reap(pid)

    def _lost_exit(self, pid: int) -> None:
        proc = self.prog.proc(pid)
        self.prog.drop_proc(pid)
        self._gone(pid, proc.dropped if proc else 0)

    def _reconcile(self) -> None:
        """Mend what lost batches broke: the kernel's table is the truth.

        The kernel forgets a process only after its last batch is in the
        ring, so once the ring is drained past the listing, a process the
        kernel no longer traces is done (its exit batch may have been lost).
        """
        kernel = {pid: self.prog.proc(pid) for pid in self.prog.traced_pids()}
        self._drain()
        for pid in self.facility.traced_pids():
            proc = kernel.get(pid)
            if proc is None or proc.opts & KTR_OPT_EXITED:
                self._lost_exit(pid)
        for pid in kernel.keys() - self.facility.traced_pids():
            if not self._adopt(pid):
                self.prog.drop_proc(pid)

    def _finish(self) -> None:
        self.prog.flush_stages()
        self._drain()
        self.facility.flush()
        self.dropped = self.prog.live.dropped
        self.holder.close()
        self.prog.close()
        os.close(self._wake_r)
        os.close(self._wake_w)


def _empty(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass

"""CSW and PFLT/PRET records for ptrace-traced threads, through perf events.

ptrace sees neither context switches nor page faults; perf does, even for an
unprivileged user tracing their own processes: one software event per
thread (page-fault samples with the address, and/or context-switch records),
user space only, timestamps on CLOCK_REALTIME.  The rings are drained when
the engine flushes (at least every 50 ms while tracing) and at exit, so these
records come in batches after the syscall records around them; their
headers carry the event's own time and CPU.

What perf cannot say, and what is written instead:
* a switch's reason: ``user`` is 1 when the thread was preempted, 0 when it
  slept; a ptrace stop is a sleep too, so every traced syscall shows as
  sleeps (that is the tracer's cost, made visible); ``wmesg`` is empty.
* a fault's access type: FAULT.type is VM_PROT_EXECUTE for an instruction
  fetch (address on the instruction's page), else 0 (not known).
* a fault's result: FAULTEND says KERN_SUCCESS unless the thread got
  SIGSEGV/SIGBUS for that page (then KERN_INVALID_ADDRESS or
  KERN_PROTECTION_FAILURE, from si_code).
"""

from __future__ import annotations

import signal

from ... import record as r
from ...platform import perf
from .tracee import Process, Thread

F_CSW = r.facility(r.CSW)
F_FAULT = r.facility(r.FAULT) | r.facility(r.FAULTEND)
VM_PROT_EXECUTE = 4
KERN_SUCCESS, KERN_INVALID_ADDRESS, KERN_PROTECTION_FAILURE = 0, 1, 2
SEGV_ACCERR = 2
PAGE = 4096


class PerfRecorder:
    def __init__(self, engine):
        self.engine = engine
        self.events: dict[int, tuple[Thread, perf.ThreadEvents]] = {}
        self.failed: dict[int, dict[int, int]] = {}   # tid -> {fault page: KERN_* result}
        self._last_out_user: dict[int, int] = {}

    @staticmethod
    def wants(proc: Process) -> tuple[bool, bool]:
        return bool(proc.flags & F_FAULT), bool(proc.flags & F_CSW)

    def add_thread(self, th: Thread) -> None:
        faults, switches = self.wants(th.proc)
        if not (faults or switches):
            return
        try:
            self.events[th.tid] = (th, perf.ThreadEvents(th.tid, faults, switches))
        except OSError as e:
            self.engine.notice(th.proc, f"ktrace: context switches and page faults (w, f) "
                                        f"cannot be recorded here: {e.strerror}")

    def flags_changed(self, proc: Process) -> None:
        for th in proc.threads.values():
            self.forget_thread(th)
            self.add_thread(th)

    def forget_thread(self, th: Thread) -> None:
        entry = self.events.pop(th.tid, None)
        if entry is not None:
            self._drain_one(*entry)
            entry[1].close()
        self.failed.pop(th.tid, None)

    def forget(self, proc: Process) -> None:
        for th in list(proc.threads.values()):
            self.forget_thread(th)

    def fault_failed(self, tid: int, sig: int, addr: int, code: int) -> None:
        """A SIGSEGV/SIGBUS for ``addr``: the fault there did not succeed."""
        if tid in self.events:
            result = KERN_PROTECTION_FAILURE if sig == signal.SIGSEGV and code == SEGV_ACCERR \
                else KERN_INVALID_ADDRESS
            self.failed.setdefault(tid, {})[addr // PAGE] = result

    def drain(self) -> None:
        for th, events in list(self.events.values()):
            self._drain_one(th, events)

    def _drain_one(self, th: Thread, events: perf.ThreadEvents) -> None:
        proc = th.proc
        out = []
        for rec in events.read():
            out.extend(self._records(th, rec))
        if out:
            self.engine.facility.emit(proc.pid, b"".join(out))

    def _records(self, th: Thread, rec: perf.PerfRecord) -> list[bytes]:
        proc = th.proc
        head = (proc.pid, th.tid, th.comm, rec.time_ns, rec.cpu)
        if rec.kind == perf.PERF_RECORD_SWITCH and proc.flags & F_CSW:
            if rec.out:
                user = self._last_out_user[th.tid] = int(rec.preempt)
            else:
                user = self._last_out_user.get(th.tid, 0)
            return [r.pack_record(r.CSW, r.csw_payload(int(rec.out), user, b""), *head)]
        if rec.kind == perf.PERF_RECORD_SAMPLE and proc.flags & F_FAULT:
            ftype = VM_PROT_EXECUTE if rec.addr // PAGE == rec.ip // PAGE else 0
            result = self.failed.get(th.tid, {}).get(rec.addr // PAGE, KERN_SUCCESS)
            return [r.pack_record(r.FAULT, r.fault_payload(rec.addr, ftype), *head),
                    r.pack_record(r.FAULTEND, r.faultend_payload(result), *head)]
        if rec.kind == perf.PERF_RECORD_LOST:
            self.engine.facility.log(proc.pid,
                                     f"ktrace: {rec.lost} perf events lost for pid {proc.pid}")
        return []

    def close(self) -> None:
        for th, events in list(self.events.values()):
            events.close()
        self.events.clear()

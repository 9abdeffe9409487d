"""A trace as the analysis views see it: calls, waits, faults and marks per thread.

One pass over the records turns them into *items*, each handed on once
complete: a syscall (CALL to RET, with its decoded arguments, result, paths
and I/O byte count), an off-CPU wait (CSW out to CSW in), a page fault (PFLT
to PRET) and marks (signal, utrace record, drop, exec, exit); plus every I/O
transfer and each process when it ends.  The Perfetto writer and the Arrow
tables consume the same items through a :class:`Sink`.

Items of one thread reach the sink in time order, a call's nested items
(a wait inside a read, a signal inside a pause) with the call, so that a
per-thread timeline can be written in one go, its name and category known
at its start.  A call that gathers more than MAX_NESTED nested items (a
long wait under the ptrace engine, which switches at every stop) is handed
on *open* instead (``Sink.opened``), its nested items then one by one, and
the call itself once it returns.  So memory is bounded by what is in flight:
per live thread one open call (at most MAX_KEPT records, their data cut, and
MAX_NESTED nested items), one wait and one fault.
"""

from __future__ import annotations

from itertools import islice

from ktrace import record as r
from ktrace.decode.strace.process import FORKS as LINUX_FORKS
from ktrace.kdump.abis import AbiTracker, ProcessAbi
from ktrace.kdump.faults import faultend_text
from ktrace.kdump.signals import SIG_DFL, acted_on

from .calltext import CallText, Outcome

NS = 1_000_000_000
MAX_NS = (1 << 63) - 1  # times are int64 nanoseconds (to 2262), as Arrow's and Perfetto's
MAX_KEPT = 32          # records kept for decoding one call (the plan pairs fewer than 20)
KEPT_DATA = 4096       # bytes kept of one record's data: more than any decoder shows
MAX_ARGV = 4096       # exec arguments kept
MAX_NESTED = 256       # items held inside one call; beyond, the call is handed on open
FORKS = LINUX_FORKS | {"rfork", "pdfork", "thr_new"}     # FreeBSD's ways too
EXITS = {"exit", "exit_group", "thr_exit"}
EXECS = {"execve", "execveat", "fexecve"}
ACCESS = ((0x1, "read"), (0x2, "write"), (0x4, "execute"))   # FAULT's VM_PROT_* bits


def text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def comm_of(h: r.Header) -> str:
    return text(h.comm.split(b"\0", 1)[0])


class Process:
    __slots__ = ("pid", "serial", "ppid", "comm", "first_ns", "last_ns", "image", "argv",
                 "exit_status", "signal", "flow_in", "threads")

    def __init__(self, pid: int, serial: int, comm: str, ns: int):
        self.pid, self.serial, self.comm = pid, serial, comm
        self.first_ns = self.last_ns = ns
        self.ppid: int | None = None
        self.image: str | None = None
        self.argv: list[str] | None = None
        self.exit_status: int | None = None
        self.signal: str | None = None
        self.flow_in: int | None = None        # the flow from the fork that made it
        self.threads: dict[int, Thread] = {}


class Thread:
    __slots__ = ("pid", "tid", "serial", "comm", "process", "call", "wait", "fault",
                 "flow_in", "last_ns")

    def __init__(self, process: Process, tid: int, serial: int, comm: str):
        self.pid, self.tid, self.serial, self.comm = process.pid, tid, serial, comm
        self.process = process
        self.call: Syscall | None = None
        self.wait: Wait | None = None
        self.fault: Fault | None = None
        self.flow_in: int | None = None        # for the thread's first item
        self.last_ns = 0


class Syscall:
    __slots__ = ("thread", "name", "number", "abi", "raw_args", "outcome", "start", "end",
                 "paths", "nbytes", "unfinished", "dropped", "nested", "opened", "flow_out",
                 "flow_in", "records", "argv")

    def __init__(self, thread: Thread, rec: r.Syscall, name: str, abi: ProcessAbi, ns: int):
        self.thread, self.name, self.number, self.abi = thread, name, rec.code, abi
        self.raw_args = rec.args[:rec.narg] if rec.narg > 0 else ()
        self.start = self.end = ns
        self.dropped = rec.header.dropped
        self.records: list = [rec]             # CALL, the records paired with it, RET
        self.outcome: Outcome | None = None    # its text and result, once it is done
        self.nbytes: int | None = None
        self.flow_out: int | None = None       # set on a fork whose child was seen
        self.flow_in: int | None = None
        self.argv: list[str] | None = None     # an exec's ARGS record
        self.paths: tuple[str, ...] = ()       # path, path2 (most calls have none)
        self.nested: tuple = ()                # held until the call is handed on
        self.unfinished = False
        self.opened = False                    # handed on before its end (Sink.opened)


class Wait:
    """Off CPU: from CSW out to CSW in."""
    __slots__ = ("thread", "start", "end", "wmesg", "preempted", "unfinished", "flow_in")

    def __init__(self, thread: Thread, ns: int, rec: r.Csw):
        self.thread, self.start, self.end = thread, ns, ns
        self.wmesg = text(rec.wmesg.split(b"\0", 1)[0]) if rec.wmesg else ""
        self.preempted = bool(rec.user)
        self.unfinished = True
        self.flow_in: int | None = None

    @property
    def name(self) -> str:
        if self.preempted:
            return "preempted"
        return f"slept in {self.wmesg}" if self.wmesg else "slept"


class Fault:
    """A page fault: from PFLT to PRET."""
    __slots__ = ("thread", "start", "end", "vaddr", "access", "result", "unfinished",
                 "flow_in")
    name = "page fault"

    def __init__(self, thread: Thread, ns: int, rec: r.Fault):
        self.thread, self.start, self.end = thread, ns, ns
        self.vaddr, self.access = rec.vaddr, rec.type
        self.result: str | None = None
        self.unfinished = True
        self.flow_in: int | None = None

    @property
    def access_text(self) -> str:
        """"read", "write", "read|execute": the VM_PROT bits by name."""
        return "|".join(name for bit, name in ACCESS if bit & self.access) or "none"


class Mark:
    """A moment: ``kind`` is signal, user, drop, exec or exit; ``fields`` its values."""
    __slots__ = ("thread", "start", "end", "kind", "name", "fields", "flow_in")

    def __init__(self, thread: Thread, ns: int, kind: str, name: str, **fields):
        self.thread, self.start, self.end, self.kind, self.name = thread, ns, ns, kind, name
        self.fields = fields
        self.flow_in: int | None = None


class Io:
    __slots__ = ("thread", "ns", "fd", "direction", "length", "data", "syscall")

    def __init__(self, thread: Thread, ns: int, rec: r.Genio, syscall: str | None):
        self.thread, self.ns, self.fd = thread, ns, rec.fd
        self.direction = "read" if rec.rw == 0 else "write"
        self.length = r.full_length(rec.data)
        self.data = bytes(rec.data)
        self.syscall = syscall


class Sink:
    """What consumes the items; every method does nothing here."""

    def thread(self, thread: Thread) -> None:
        """A thread is seen for the first time (its process may be new too)."""

    def renamed(self, thread: Thread) -> None:
        """A thread's command changed (exec)."""

    def item(self, item, within: Syscall | None = None) -> None:
        """A complete Syscall, Wait, Fault or Mark of ``item.thread``.

        ``within`` is the opened call a nested item happened in; a call's
        nested items that were held come in its ``nested`` list instead.
        """

    def opened(self, call: Syscall) -> None:
        """A call with many nested items, before its end: its ``nested`` so far
        come with it, the later ones through ``item(..., within=call)``."""

    def io(self, io: Io) -> None:
        """A GIO record."""

    def thread_ended(self, thread: Thread) -> None:
        """A thread is gone (exited, or the trace ended): nothing more of it comes."""

    def process(self, process: Process) -> None:
        """A process ended (or the trace did)."""

    # Replaying repeated units (ktrace.analysis.units): a sink that can sets
    # ``replays`` and keeps, between capture() and template(), what it makes.
    replays = False

    def capture(self, thread: Thread) -> None:
        """Keep what the next items of ``thread`` make, until :meth:`template`."""

    def template(self, times: tuple[int, ...]):
        """What was kept since :meth:`capture`, as something :meth:`replay` can
        make again at other times, or None if it cannot.  ``times`` are the
        unit's records' times (ns), all different; hits give them in this order
        from their index 2 on."""

    def replay(self, template, hit: tuple, buf: bytes) -> None:
        """Make again what ``template`` was made of, at the times of ``hit``
        (template, the unit's offset in ``buf``, its records' times)."""


def ns_of(h: r.Header) -> int:
    ns = h.sec * NS + h.nsec
    return ns if 0 <= ns <= MAX_NS else clamped(ns)


def clamped(ns: int) -> int:
    """A time from a corrupt or hostile header, brought into the views' range."""
    return min(max(ns, 0), MAX_NS)


class Model:
    """Feed it records (:meth:`feed`), then :meth:`close`; items go to ``sink``."""

    def __init__(self, layout: r.Layout, sink: Sink, pid: int = 0):
        self.sink = sink
        self.pid = pid                        # -p: only this pid or tid
        self.abis = AbiTracker(layout)
        self.text = CallText(layout, self.abis)
        self.procs: dict[int, Process] = {}
        self.serial = 0                       # numbers process and thread incarnations
        self.flows = 0
        self.epoch = 0                        # counts threads and processes made and ended
        self.child_flows: dict[int, tuple[int, int]] = {}   # child pid -> (ppid, flow)
        self.last_ns = 0
        self.takes_io = type(sink).io is not Sink.io     # else no Io need be made
        self._by_type = {
            r.SYSCALL: self._call, r.SYSRET: self._ret, r.CSW: self._csw,
            r.FAULT: self._fault, r.FAULTEND: self._faultend, r.PSIG: self._psig,
            r.USER: self._user, r.NAMEI: self._namei, r.GENIO: self._genio,
            r.STRUCT: self._kept, r.STRUCT_ARRAY: self._kept, r.ARGS: self._args,
        }

    # --- threads and processes ------------------------------------------------

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _thread(self, h: r.Header, ns: int) -> Thread:
        proc = self.procs.get(h.pid)
        if proc is None:
            proc = self._new_process(h, ns)
        tid = h.tid if h.tid > 0 else h.pid
        thread = proc.threads.get(tid)
        if thread is None:
            self.epoch += 1
            thread = proc.threads[tid] = Thread(proc, tid, self._next(), comm_of(h))
            if tid == proc.pid:
                thread.flow_in = proc.flow_in
            else:
                thread.flow_in = self._fork_flow(proc.pid)
            self.sink.thread(thread)
        proc.last_ns = ns
        return thread

    def known_thread(self, h: r.Header) -> Thread | None:
        """The thread of a record's header, if the model has it."""
        proc = self.procs.get(h.pid)
        return proc.threads.get(h.tid if h.tid > 0 else h.pid) if proc is not None else None

    def _new_process(self, h: r.Header, ns: int) -> Process:
        proc = self.procs[h.pid] = Process(h.pid, self._next(), comm_of(h), ns)
        known = self.child_flows.pop(h.pid, None)
        if known is not None:             # the fork returned before the child's first record
            proc.ppid, proc.flow_in = known
        else:
            forking = self._forking(None)
            if forking is not None:
                proc.ppid = forking.thread.pid
                proc.flow_in = self._flow(forking)
        return proc

    def _forking(self, pid: int | None) -> Syscall | None:
        """The latest fork in progress (in process ``pid``, or any): a new process
        or thread is its child, as nothing in the trace names a parent."""
        best = None
        for proc in self.procs.values() if pid is None else (self.procs[pid],):
            for thread in proc.threads.values():
                call = thread.call
                if call is not None and call.name in FORKS and (
                        best is None or call.start > best.start):
                    best = call
        return best

    def _fork_flow(self, pid: int) -> int | None:
        forking = self._forking(pid)
        return self._flow(forking) if forking is not None else None

    def _flow(self, call: Syscall) -> int:
        if call.flow_out is None:
            self.flows += 1
            call.flow_out = self.flows
        return call.flow_out

    def _end_process(self, proc: Process, ns: int) -> None:
        for thread in list(proc.threads.values()):
            self._end_thread(thread, ns)
        del self.procs[proc.pid]
        self.sink.process(proc)

    def _end_thread(self, thread: Thread, ns: int) -> None:
        """Close what the thread left open, mark its end and forget it."""
        if thread.call is not None:
            self._finish(thread, thread.call, ns, unfinished=True)
        self._close_spans(thread, ns)
        proc = thread.process
        status = {"exit_status": proc.exit_status} if proc.exit_status is not None else {}
        if proc.signal is not None:
            status["signal"] = proc.signal
        self._emit(thread, Mark(thread, max(ns, thread.last_ns), "exit", "exit", **status))
        del proc.threads[thread.tid]
        self.epoch += 1
        self.sink.thread_ended(thread)

    # --- items ----------------------------------------------------------------

    def _emit(self, thread: Thread, item) -> None:
        """Hand ``item`` on, or nest it in the thread's open call."""
        call = thread.call
        if call is not None and item is not call:
            if call.opened:
                self.sink.item(item, call)
                return
            call.nested += (item,)
            if len(call.nested) >= MAX_NESTED:
                self._open(thread, call)
            return
        if thread.flow_in is not None:
            item.flow_in, thread.flow_in = thread.flow_in, None
        if item.end > thread.last_ns:
            thread.last_ns = item.end
        self.sink.item(item)

    def _open(self, thread: Thread, call: Syscall) -> None:
        if thread.flow_in is not None:
            call.flow_in, thread.flow_in = thread.flow_in, None
        call.opened = True
        self.sink.opened(call)
        call.nested = ()

    def _finish(self, thread: Thread, call: Syscall, ns: int, unfinished: bool = False,
                ret: r.Sysret | None = None) -> None:
        self._close_spans(thread, ns)
        call.end = max(ns, call.start)
        call.unfinished = unfinished
        call.outcome = self.text.describe(call, ret)
        if ret is not None and call.name in FORKS and ret.error == 0 and ret.retval > 0:
            self._forked(call, ret.retval)
        thread.call = None
        self._emit(thread, call)

    def _forked(self, call: Syscall, child: int) -> None:
        proc = self.procs.get(child)
        if proc is None:                    # its first record is still to come
            if len(self.child_flows) > 4096:
                self.child_flows.clear()
            self.child_flows[child] = (call.thread.pid, self._flow(call))
        elif proc.ppid is None:
            proc.ppid = call.thread.pid

    def _close(self, thread: Thread, slot: str, ns: int) -> None:
        """Hand on the thread's open wait or fault (``slot``), ending at ``ns``."""
        item = getattr(thread, slot)
        if item is not None:
            setattr(thread, slot, None)
            item.end = max(ns, item.start)
            self._emit(thread, item)

    def _close_spans(self, thread: Thread, ns: int) -> None:
        if thread.wait is not None:
            self._close(thread, "wait", ns)
        if thread.fault is not None:
            self._close(thread, "fault", ns)

    # --- records --------------------------------------------------------------

    def feed(self, records) -> None:
        by_type, pid, lifecycle = self._by_type, self.pid, (r.PROCCTOR, r.PROCDTOR)
        for rec in records:
            h = rec.header
            t = h.type
            if t in lifecycle:
                self._lifecycle(rec, h)
                continue
            if pid and pid != h.pid and pid != h.tid:
                continue
            ns = h.sec * NS + h.nsec                   # ns_of(h), on the per-record path
            if not 0 <= ns <= MAX_NS:
                ns = clamped(ns)
            self.last_ns = ns
            thread = self._thread(h, ns)
            if h.dropped:
                self._emit(thread, Mark(thread, ns, "drop", "events dropped",
                                        before=r.TYPE_NAMES.get(t, "UNKNOWN")))
            handler = by_type.get(t)
            if handler is not None:
                handler(thread, rec, ns)

    def _lifecycle(self, rec, h: r.Header) -> None:
        self.epoch += 1                   # an ABI may change, a process end
        if h.type == r.PROCCTOR:
            self.abis.feed(rec)
            if not self.pid or self.pid == h.pid:
                self._thread(h, ns_of(h))
            return
        proc = self.procs.get(h.pid)
        if proc is not None:
            self._end_process(proc, ns_of(h))
        self.abis.feed(rec)

    def close(self) -> None:
        """The trace ended: what is still open ends with it."""
        for proc in list(self.procs.values()):
            self._end_process_open(proc)

    def _end_process_open(self, proc: Process) -> None:
        """End a process the trace saw no end of: calls still open are unfinished,
        but the threads get no exit mark (they did not exit)."""
        for thread in list(proc.threads.values()):
            if thread.call is not None:
                self._finish(thread, thread.call, self.last_ns, unfinished=True)
            self._close_spans(thread, self.last_ns)
            self.sink.thread_ended(thread)
        del self.procs[proc.pid]
        self.epoch += 1
        self.sink.process(proc)

    def _call(self, thread: Thread, rec: r.Syscall, ns: int) -> None:
        if thread.call is not None:       # no RET before the next CALL: a drop
            self._finish(thread, thread.call, ns, unfinished=True)
        self._close_spans(thread, ns)
        proc_abi = self.abis.get(thread.pid)
        name = self.text.name(proc_abi, rec.code)
        call = Syscall(thread, rec, name, proc_abi, ns)
        if thread.flow_in is not None:
            call.flow_in, thread.flow_in = thread.flow_in, None
        thread.call = call
        if name in EXITS:                 # it never returns: done as it starts
            if name != "thr_exit" and (name == "exit_group" or thread.tid == thread.pid):
                status = (call.raw_args[0] & 0xFF) if call.raw_args else 0
                thread.process.exit_status = status    # not a thread's own exit
            self._finish(thread, call, ns)
            if name != "exit_group" and thread.tid != thread.pid:
                self._end_thread(thread, ns)

    def _ret(self, thread: Thread, rec: r.Sysret, ns: int) -> None:
        call = thread.call
        if call is None:
            return
        call.records.append(rec)
        self._finish(thread, call, ns, ret=rec)
        if call.name in EXECS and not call.outcome.failed:
            self._exec(thread, call, ns, comm_of(rec.header))

    def _exec(self, thread: Thread, call: Syscall, ns: int, comm: str) -> None:
        proc = thread.process
        proc.image = call.paths[0] if call.paths else None
        proc.argv = call.argv
        fields = {"image": proc.image} if proc.image else {}
        if call.argv is not None:
            fields["argv"] = " ".join(call.argv)
        self._emit(thread, Mark(thread, ns, "exec", "exec", **fields))
        if comm != thread.comm:
            thread.comm = proc.comm = comm
            self.sink.renamed(thread)

    def _kept(self, thread: Thread, rec, ns: int) -> None:
        """A record paired with the open call's arguments (STRU, GIO, ...)."""
        call = thread.call
        if call is None or len(call.records) >= MAX_KEPT:
            return
        tail = rec[-1]
        if isinstance(tail, bytes) and len(tail) > KEPT_DATA:
            rec = rec._replace(**{rec._fields[-1]: tail[:KEPT_DATA]})
        call.records.append(rec)

    def _namei(self, thread: Thread, rec: r.Namei, ns: int) -> None:
        call = thread.call
        if call is not None and len(call.paths) < 2:       # path, path2
            call.paths += (text(rec.path),)
        self._kept(thread, rec, ns)

    def _args(self, thread: Thread, rec: r.Args, ns: int) -> None:
        call = thread.call
        if call is not None:
            call.argv = [text(s) for s in islice(r.iter_strings(rec.strings), MAX_ARGV)]
        self._kept(thread, rec, ns)

    def _genio(self, thread: Thread, rec: r.Genio, ns: int) -> None:
        call = thread.call
        if call is not None:
            call.nbytes = (call.nbytes or 0) + r.full_length(rec.data)
        if self.takes_io:
            self.sink.io(Io(thread, ns, rec, call.name if call is not None else None))
        self._kept(thread, rec, ns)

    def _csw(self, thread: Thread, rec: r.Csw, ns: int) -> None:
        if rec.out:
            self._close(thread, "wait", ns)
            thread.wait = Wait(thread, ns, rec)
        elif thread.wait is not None:
            thread.wait.unfinished = False
            self._close(thread, "wait", ns)

    def _fault(self, thread: Thread, rec: r.Fault, ns: int) -> None:
        self._close(thread, "fault", ns)
        thread.fault = Fault(thread, ns, rec)

    def _faultend(self, thread: Thread, rec: r.FaultEnd, ns: int) -> None:
        fault = thread.fault
        if fault is not None:
            fault.result = faultend_text(rec.result)
            fault.unfinished = False
            self._close(thread, "fault", ns)

    def _psig(self, thread: Thread, rec: r.Psig, ns: int) -> None:
        proc_abi = self.abis.get(thread.pid)
        name = (proc_abi.abi.signal_name(rec.signo) if proc_abi.abi else None) \
            or f"signal {rec.signo}"
        if rec.action == SIG_DFL and acted_on(rec.signo, rec.action) and proc_abi.linux:
            thread.process.signal = name
        self._emit(thread, Mark(thread, ns, "signal", name, signo=rec.signo,
                                action=rec.action, code=rec.code))

    def _user(self, thread: Thread, rec: r.User, ns: int) -> None:
        self._emit(thread, Mark(thread, ns, "user", "utrace", length=r.full_length(rec.data),
                                data=bytes(rec.data), text=text(rec.data)))
        self._kept(thread, rec, ns)

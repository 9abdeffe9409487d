"""kdump --perfetto: the trace as a Perfetto timeline (native protobuf), streamed.

The file is a ``perfetto.protos.Trace``: TracePackets written one by one as
the model (ktrace.analysis.model) completes its items, so memory does not
grow with the trace.  Each thread is its own packet sequence
(``trusted_packet_sequence_id`` = the thread's serial), which keeps
timestamps monotonic per sequence although items of one thread complete out
of order with the others': a thread's first packets describe its process's
track and its own (TrackDescriptor with ProcessDescriptor/ThreadDescriptor),
then come its TrackEvents:

* a syscall is a slice (SLICE_BEGIN at CALL, SLICE_END at RET) named by the
  call, category ``syscall`` plus ``failed`` or ``unfinished`` where so, its
  decoded arguments, result, errno, paths and bytes as debug annotations
  (on its END, and without the extra category, for a call written open
  because of its many nested items: see ktrace.analysis.model);
* off-CPU waits (category ``sched``) and page faults (``fault``) are slices,
  nested in the call they happened in;
* signals, utrace records, drops, execs and exits are instants;
* a fork's slice starts a flow that ends at the child's first slice.

Field numbers are those of perfetto/protos/perfetto/trace/ (TracePacket,
TrackEvent, TrackDescriptor, DebugAnnotation); tests decode the output with
the perfetto package's generated classes.
"""

from __future__ import annotations

from typing import BinaryIO

from .model import Fault, Mark, Process, Sink, Syscall, Thread, Wait
from .protowire import LEN, VARINT, delimited, fixed64, key, message, string, uint, varint

# TracePacket
P_TIMESTAMP, P_SEQUENCE, P_TRACK_EVENT, P_FLAGS, P_TRACK_DESCRIPTOR = 8, 10, 11, 13, 60
P_FIRST_ON_SEQUENCE = 87
SEQ_INCREMENTAL_STATE_CLEARED = 1
# TrackEvent and its Type
E_ANNOTATION, E_TYPE, E_TRACK, E_CATEGORY, E_NAME, E_FLOW, E_FLOW_END = 4, 9, 11, 22, 23, 47, 48
SLICE_BEGIN, SLICE_END, INSTANT = 1, 2, 3
# DebugAnnotation
A_BOOL, A_INT, A_STRING, A_NAME = 2, 4, 6, 10
# TrackDescriptor, ProcessDescriptor, ThreadDescriptor
T_UUID, T_NAME, T_PROCESS, T_THREAD, T_PARENT = 1, 2, 3, 4, 5
PD_PID, PD_CMDLINE, PD_NAME = 1, 2, 6
TD_PID, TD_TID, TD_NAME = 1, 2, 5

FLUSH = 1 << 16
MAX_TEXT = 4096        # characters of one annotation's text
CACHE_LIMIT = 4096

# keys made once: the hot path only concatenates
K_PACKET, K_EVENT = key(1, LEN), key(P_TRACK_EVENT, LEN)
K_TS, K_SEQ, K_TRACK = key(P_TIMESTAMP, VARINT), key(P_SEQUENCE, VARINT), key(E_TRACK, VARINT)
K_TYPE = {kind: uint(E_TYPE, kind) for kind in (SLICE_BEGIN, SLICE_END, INSTANT)}
K_ANNOTATION, K_TEXT = key(E_ANNOTATION, LEN), key(A_STRING, LEN)
K_INT, K_BOOL = key(A_INT, VARINT), key(A_BOOL, VARINT)
_names: dict[tuple[int, str], bytes] = {}      # (field, text) -> the field's bytes


def named(field: int, text: str) -> bytes:
    """A string field of a name that repeats (event, category, annotation names)."""
    found = _names.get((field, text))
    if found is None:
        if len(_names) >= CACHE_LIMIT:
            _names.clear()
        found = _names[(field, text)] = string(field, text)
    return found


def annotation(name: str, value) -> bytes:
    if value is True or value is False:
        body = K_BOOL + varint(int(value))
    elif type(value) is int:
        body = K_INT + varint(value)
    else:
        body = delimited(K_TEXT, str(value)[:MAX_TEXT].encode("utf-8", "replace"))
    return delimited(K_ANNOTATION, named(A_NAME, name) + body)


def annotations(pairs) -> bytes:
    """The debug annotations of the (name, value) pairs whose value is not None."""
    return b"".join([annotation(name, value) for name, value in pairs if value is not None])


def syscall_annotations(call: Syscall) -> bytes:
    paths = call.paths
    return annotations((
        ("args", call.args), ("result", call.result), ("retval", call.retval),
        ("errno", call.errno), ("error", call.error),
        ("path", paths[0] if paths else None),
        ("path2", paths[1] if len(paths) > 1 else None),
        ("bytes", call.nbytes), ("number", call.number),
        ("unfinished", True if call.unfinished else None),
        ("dropped_before", True if call.dropped else None)))


def syscall_categories(call: Syscall) -> tuple[str, ...]:
    if call.unfinished:
        return ("syscall", "unfinished")
    return ("syscall", "failed") if call.failed else ("syscall",)


class PerfettoWriter(Sink):
    """The model's sink that writes Perfetto TracePackets on a binary stream."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.buffer: list[bytes] = []
        self.held = 0
        self.described: set[int] = set()       # serials of the processes described
        self.last: dict[int, int] = {}         # sequence -> its last timestamp

    # --- packets ----------------------------------------------------------------

    def _packet(self, body: bytes) -> None:
        piece = delimited(K_PACKET, body)      # Trace.packet
        self.buffer.append(piece)
        self.held += len(piece)
        if self.held >= FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.out.write(b"".join(self.buffer))
            self.buffer.clear()
            self.held = 0

    def _event(self, thread: Thread, ts: int, kind: int, name: str | None = None,
               categories=(), extra: bytes = b"") -> None:
        seq = thread.serial
        last = self.last.get(seq, 0)
        if ts < last:
            ts = last                          # a sequence's time never goes back
        self.last[seq] = ts
        serial = varint(seq)
        event = K_TYPE[kind] + K_TRACK + serial
        for category in categories:
            event += named(E_CATEGORY, category)
        if name is not None:
            event += named(E_NAME, name)
        self._packet(K_TS + varint(ts) + K_SEQ + serial + delimited(K_EVENT, event + extra))

    # --- tracks -----------------------------------------------------------------

    def thread(self, thread: Thread) -> None:
        seq = uint(P_SEQUENCE, thread.serial)
        first = uint(P_FIRST_ON_SEQUENCE, 1) + uint(P_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED)
        proc = thread.process
        if proc.serial not in self.described:
            self.described.add(proc.serial)
            self._packet(seq + first + self._process_track(proc))
            first = b""
        self._packet(seq + first + self._thread_track(thread))

    def renamed(self, thread: Thread) -> None:
        seq = uint(P_SEQUENCE, thread.serial)
        if thread.tid == thread.pid:
            self._packet(seq + self._process_track(thread.process))
        self._packet(seq + self._thread_track(thread))

    @staticmethod
    def _process_track(proc: Process) -> bytes:
        desc = uint(PD_PID, proc.pid) + string(PD_NAME, proc.comm)
        for arg in proc.argv or ():
            desc += string(PD_CMDLINE, arg)
        return message(P_TRACK_DESCRIPTOR, uint(T_UUID, proc.serial)
                       + message(T_PROCESS, desc))

    @staticmethod
    def _thread_track(thread: Thread) -> bytes:
        desc = uint(TD_PID, thread.pid) + uint(TD_TID, thread.tid) + string(TD_NAME, thread.comm)
        return message(P_TRACK_DESCRIPTOR, uint(T_UUID, thread.serial)
                       + uint(T_PARENT, thread.process.serial) + message(T_THREAD, desc))

    def process(self, process: Process) -> None:
        self.described.discard(process.serial)

    def thread_ended(self, thread: Thread) -> None:
        self.last.pop(thread.serial, None)    # its sequence is never written again

    # --- items ------------------------------------------------------------------

    def item(self, item, within: Syscall | None = None) -> None:
        if within is None:
            self._item(item)
        else:                  # inside an opened call: its end is still to come
            self._item(item, within.start)

    def opened(self, call: Syscall) -> None:
        """BEGIN with what the call's start knows; the rest goes on its END."""
        flow = b"" if call.flow_in is None else fixed64(E_FLOW_END, call.flow_in)
        self._event(call.thread, call.start, SLICE_BEGIN, call.name, ("syscall",),
                    annotation("number", call.number) + flow)
        for nested in call.nested:
            self._item(nested, call.start)

    def _item(self, item, lo: int = 0, hi: int | None = None) -> None:
        """Write an item; ``lo`` and ``hi`` bound a nested one to its call's span."""
        start = max(item.start, lo)
        flow = b"" if item.flow_in is None else fixed64(E_FLOW_END, item.flow_in)
        if isinstance(item, Mark):
            if hi is not None:
                start = min(start, hi)
            self._event(item.thread, start, INSTANT, item.name, (item.kind,),
                        annotations(item.fields.items()) + flow)
            return
        end = max(item.end, start) if hi is None else min(max(item.end, start), hi)
        if isinstance(item, Syscall):
            self._syscall(item, start, end, flow)
        elif isinstance(item, Wait):
            self._span(item, start, end, "sched", annotations((
                ("wmesg", item.wmesg or None), ("preempted", item.preempted),
                ("unfinished", True if item.unfinished else None))) + flow)
        elif isinstance(item, Fault):
            self._span(item, start, end, "fault", annotations((
                ("vaddr", f"{item.vaddr:#x}"), ("access", item.access_text),
                ("result", item.result), ("unfinished", True if item.unfinished else None)))
                + flow)

    def _span(self, item, start: int, end: int, category: str, extra: bytes) -> None:
        self._event(item.thread, start, SLICE_BEGIN, item.name, (category,), extra)
        self._event(item.thread, end, SLICE_END)

    def _syscall(self, call: Syscall, start: int, end: int, flow: bytes) -> None:
        out = b"" if call.flow_out is None else fixed64(E_FLOW, call.flow_out)
        if call.opened:                      # its BEGIN is written: all it knew goes on END
            at_end = syscall_annotations(call) + out
        else:
            self._event(call.thread, start, SLICE_BEGIN, call.name, syscall_categories(call),
                        syscall_annotations(call) + flow + out)
            at_end = b""
        for nested in call.nested:
            self._item(nested, start, end)
        self._event(call.thread, end, SLICE_END, extra=at_end)

    def close(self) -> None:
        self.flush()

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

from ktrace.kdump.lines import fast_path

from .model import Fault, Mark, Process, Sink, Syscall, Thread, Wait
from .protowire import (LEN, VARINT, delimited, fixed64, key, length, message, read_varint,
                        string, uint, varint)

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
K_END = K_TYPE[SLICE_END]
K_ANNOTATION, K_TEXT = key(E_ANNOTATION, LEN), key(A_STRING, LEN)
K_INT, K_BOOL = key(A_INT, VARINT), key(A_BOOL, VARINT)
_names: dict[tuple[int, str], bytes] = {}      # (field, text) -> the field's bytes
# a syscall's annotations from its outcome, in this order
OUTCOME = ("args", "result", "retval", "errno", "error", "number")


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


A_UNFINISHED, A_DROPPED = annotation("unfinished", True), annotation("dropped_before", True)


def syscall_categories(call: Syscall) -> tuple[str, ...]:
    if call.unfinished:
        return ("syscall", "unfinished")
    return ("syscall", "failed") if call.outcome.failed else ("syscall",)


class Sequence:
    """A thread's packet sequence: the fields that name it, made once, and its clock."""
    __slots__ = ("id", "track", "end", "last")

    def __init__(self, serial: int):
        number = varint(serial)
        self.id = K_SEQ + number               # TracePacket.trusted_packet_sequence_id
        self.track = K_TRACK + number          # TrackEvent.track_uuid
        self.end = self.id + delimited(K_EVENT, K_END + self.track)   # a SLICE_END after its time
        self.last = 0                          # the latest timestamp written

    def at(self, ts: int) -> int:
        """``ts``, or the latest timestamp written if later: time never goes back here."""
        if ts < self.last:
            return self.last
        self.last = ts
        return ts


class PerfettoWriter(Sink):
    """The model's sink that writes Perfetto TracePackets on a binary stream."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.buffer = bytearray()
        self.described: set[int] = set()       # serials of the processes described
        self.sequences: dict[int, Sequence] = {}   # by thread serial
        self.heads: dict[tuple, bytes] = {}    # (type, name, categories) -> their fields
        # (Outcome, unfinished) -> a syscall BEGIN's head (_head) and the outcome's
        # annotations: outcomes are shared by the calls that decode alike
        self.begins: dict[tuple, tuple[bytes, bytes]] = {}
        self.values: dict[tuple, bytes] = {}   # (name, value) -> its annotation, for paths
        # while a unit is learnt (Sink.capture): where its packets start in the
        # buffer (held there till then), its thread's sequence and latest time
        self.kept: tuple[int, Sequence, int] | None = None
        self.replay_packets = fast_path("replay_packets")

    # --- packets ----------------------------------------------------------------

    def _packet(self, body: bytes) -> None:
        self._write(delimited(K_PACKET, body))    # Trace.packet

    def _write(self, packets: bytes) -> None:
        buffer = self.buffer
        buffer += packets
        if len(buffer) >= FLUSH and self.kept is None:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.out.write(self.buffer)
            self.buffer.clear()

    def _sequence(self, thread: Thread) -> Sequence:
        seq = self.sequences.get(thread.serial)
        if seq is None:
            seq = self.sequences[thread.serial] = Sequence(thread.serial)
        return seq

    def _head(self, kind: int, name: str | None, categories: tuple) -> bytes:
        """The fields of an event's type, categories and name, made once."""
        found = self.heads.get((kind, name, categories))
        if found is None:
            if len(self.heads) >= CACHE_LIMIT:
                self.heads.clear()
            found = K_TYPE[kind] + b"".join(named(E_CATEGORY, c) for c in categories)
            if name is not None:
                found += named(E_NAME, name)
            self.heads[(kind, name, categories)] = found
        return found

    def _event(self, seq: Sequence, ts: int, head: bytes, extra: bytes = b"") -> None:
        """A TrackEvent packet on the sequence ``seq``."""
        self._packet(K_TS + varint(seq.at(ts)) + seq.id
                     + delimited(K_EVENT, head + seq.track + extra))

    def _end(self, seq: Sequence, ts: int) -> None:
        """A SLICE_END with nothing more to say: all but its time is made once."""
        self._packet(K_TS + varint(seq.at(ts)) + seq.end)

    def _slice(self, seq: Sequence, start: int, end: int, head: bytes, extra: bytes) -> None:
        """A slice with nothing nested in it (most are so): _event then _end, in one go."""
        event = head + seq.track + extra
        begin = b"".join((K_TS, varint(seq.at(start)), seq.id, K_EVENT, length(len(event)), event))
        closing = K_TS + varint(seq.at(end)) + seq.end
        self._write(b"".join((K_PACKET, length(len(begin)), begin,
                              K_PACKET, length(len(closing)), closing)))

    def _begin(self, call: Syscall) -> tuple[bytes, bytes]:
        """A syscall BEGIN's head and its outcome's annotations."""
        key = (call.outcome, call.unfinished)
        found = self.begins.get(key)
        if found is None:
            if len(self.begins) >= CACHE_LIMIT:
                self.begins.clear()
            o = call.outcome
            found = self.begins[key] = (
                self._head(SLICE_BEGIN, call.name, syscall_categories(call)),
                annotations(zip(OUTCOME, (o.args, o.result, o.retval, o.errno, o.error,
                                          o.number))))
        return found

    def _value(self, name: str, value) -> bytes:
        """``annotation(name, value)``, made once for a value that repeats."""
        found = self.values.get((name, value))
        if found is None:
            if len(self.values) >= CACHE_LIMIT:
                self.values.clear()
            found = self.values[(name, value)] = annotation(name, value)
        return found

    def _call_annotations(self, call: Syscall) -> bytes:
        """A syscall's annotations beyond its outcome's."""
        found = b""
        paths = call.paths
        if paths:
            found = self._value("path", paths[0])
            if len(paths) > 1:
                found += self._value("path2", paths[1])
        if call.nbytes is not None:
            found += self._value("bytes", call.nbytes)
        if call.unfinished:
            found += A_UNFINISHED
        if call.dropped:
            found += A_DROPPED
        return found

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
        self.sequences.pop(thread.serial, None)    # its sequence is never written again

    # --- items ------------------------------------------------------------------

    def item(self, item, within: Syscall | None = None) -> None:
        if within is None:
            self._item(item, item.start, item.end)
        else:                  # inside an opened call: its end is still to come
            self._nested(item, within.start)

    def opened(self, call: Syscall) -> None:
        """BEGIN with what the call's start knows; the rest goes on its END."""
        flow = b"" if call.flow_in is None else fixed64(E_FLOW_END, call.flow_in)
        self._event(self._sequence(call.thread), call.start,
                    self._head(SLICE_BEGIN, call.name, ("syscall",)),
                    annotation("number", call.number) + flow)
        for nested in call.nested:
            self._nested(nested, call.start)

    def _nested(self, item, lo: int, hi: int | None = None) -> None:
        """Write an item nested in a call: within the call's span, ``lo`` to ``hi``."""
        start = max(item.start, lo)
        end = max(item.end, start)
        self._item(item, start, end if hi is None else min(end, hi))

    def _item(self, item, start: int, end: int) -> None:
        """Write an item, from ``start`` to ``end``."""
        seq = self._sequence(item.thread)
        flow = b"" if item.flow_in is None else fixed64(E_FLOW_END, item.flow_in)
        if type(item) is Syscall:
            self._syscall(seq, item, start, end, flow)
        elif isinstance(item, Mark):          # a moment: its end is its start
            self._event(seq, end, self._head(INSTANT, item.name, (item.kind,)),
                        annotations(item.fields.items()) + flow)
        elif isinstance(item, Wait):
            self._span(seq, item, start, end, "sched", annotations((
                ("wmesg", item.wmesg or None), ("preempted", item.preempted),
                ("unfinished", True if item.unfinished else None))) + flow)
        elif isinstance(item, Fault):
            self._span(seq, item, start, end, "fault", annotations((
                ("vaddr", f"{item.vaddr:#x}"), ("access", item.access_text),
                ("result", item.result), ("unfinished", True if item.unfinished else None)))
                + flow)

    def _span(self, seq: Sequence, item, start: int, end: int, category: str,
              extra: bytes) -> None:
        self._slice(seq, start, end, self._head(SLICE_BEGIN, item.name, (category,)), extra)

    def _syscall(self, seq: Sequence, call: Syscall, start: int, end: int,
                 flow: bytes) -> None:
        out = b"" if call.flow_out is None else fixed64(E_FLOW, call.flow_out)
        head, outcome = self._begin(call)
        said = outcome + self._call_annotations(call)
        if call.opened:        # its BEGIN and nested items are written: all it knew goes on END
            self._event(seq, end, K_END, said + out)
            return
        if not call.nested:
            self._slice(seq, start, end, head, said + flow + out)
            return
        self._event(seq, start, head, said + flow + out)
        for nested in call.nested:
            self._nested(nested, start, end)
        self._end(seq, end)

    # --- units replayed (ktrace.analysis.units) -------------------------------------

    replays = True

    def capture(self, thread: Thread) -> None:
        seq = self._sequence(thread)
        self.kept = (len(self.buffer), seq, seq.last)

    def template(self, times: tuple[int, ...]):
        """((time's index in a hit, the packet after its timestamp), ...) and the
        sequence: each packet was a TrackEvent on the thread's sequence at one
        of the unit's times, none moved by Sequence.at."""
        start, seq, last = self.kept
        self.kept = None
        written = bytes(self.buffer[start:])
        if len(self.buffer) >= FLUSH:
            self.flush()
        if any(t < last for t in times) or list(times) != sorted(times):
            return None
        index = {t: 2 + i for i, t in enumerate(times)}
        packets, at = [], 0
        while at < len(written):
            size, body = unpacked(written, at)
            if size is None or not body.startswith(K_TS):
                return None
            ts, after = read_varint(body, len(K_TS))
            rest = body[after:]
            if ts not in index or not rest.startswith(seq.id):
                return None
            packets.append((index[ts], rest))
            at += size
        return seq, tuple(packets)

    def replay(self, template, hit: tuple, buf: bytes) -> None:
        """Each packet again at its new time (Sequence.at's rule), by
        _fastwalk.c's replay_packets: times are int64 (the model clamps them)."""
        seq, packets = template
        seq.last = self.replay_packets(self.buffer, K_PACKET, K_TS, packets, hit, seq.last)
        if len(self.buffer) >= FLUSH:
            self.flush()

    def close(self) -> None:
        self.flush()


def unpacked(written: bytes, at: int) -> tuple[int | None, bytes]:
    """(the size, the body) of the Trace.packet field at ``at`` of bytes this
    writer made; None where it is not one."""
    if not written.startswith(K_PACKET, at):
        return None, b""
    size, body_at = read_varint(written, at + len(K_PACKET))
    return body_at - at + size, written[body_at:body_at + size]

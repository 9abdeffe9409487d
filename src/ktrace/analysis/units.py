"""The analysis views' fast path: a trace's repeated units, replayed.

Traces repeat themselves: the same read of the same descriptor, the same
fstat, the same switch out and back in.  The model takes every record
through Python objects, which alone costs what kdump's whole text view
costs.  So where the compiled walk is built (kdump/_fastwalk.c's ``units``),
the records of the reader's buffer are taken a *unit* at a time: a thread's
call from CALL to RET, a switch out and its switch in, a fault and its end,
or a lone record, with nothing of another thread between (the shapes are the
C walk's).  A unit seen before, its records the same but for their times,
is *replayed*: the sink writes again what it wrote for it then (its
template), at the new times.

A unit is learnt the general way: its records go through the model while the
sink keeps what it makes (Sink.capture), and that becomes a template when
the unit began and ended with its thread idle (no open call, wait or fault,
no flow waiting) and did nothing but hand on that thread's items and I/O:
no thread or process made or ended, no fork, exec or exit, no drop.  A
replay finds the thread idle still (else the unit goes the general way),
and sets the times the model keeps as the general way would.

The key leaves out the addresses the views never show (a path's, a
buffer's: CallText.unseen_mask, as ``masks``), so the same read into another
buffer replays too; a syscalls row's raw arguments come from the record.
"""

from __future__ import annotations

from itertools import islice

from ktrace import record as r
from ktrace.kdump.lines import fast_path

from .model import EXECS, EXITS, FORKS, Mark, Model, Sink, Syscall, Thread, ns_of

HITS = 1024                # units replayed a batch
KNOWN_LIMIT = 1 << 15      # templates kept (about 0.7 KiB each)
UNIT_PAYLOAD = 1024        # bytes of one record's payload a unit may have
NOT_REPLAYED = FORKS | EXECS | EXITS
NOT_REPLAYED_MARKS = {"exec", "exit", "drop"}
NO_MASKS: dict = {}
# Learning a unit costs about what taking it the general way costs again; a
# replay saves about that.  So each LEARN_WINDOW units learnt, if fewer were
# replayed (a trace whose units do not repeat), the next GENERAL_STRETCH
# records go the general way with no learning.
LEARN_WINDOW = 1024
GENERAL_STRETCH = 1 << 16


def feed(model: Model, reader: r.RecordReader) -> None:
    """Run the records of ``reader`` through ``model``: by units where the
    compiled walk is built and the sink replays, else record by record."""
    units = fast_path("units")
    if (units is None or not model.sink.replays or reader.follow
            or reader.layout is not r.AMD64_V1):
        model.feed(reader.wellformed())
        return
    Walk(model, reader, units).run()


def idle(thread: Thread) -> bool:
    return (thread.call is None and thread.wait is None and thread.fault is None
            and thread.flow_in is None)


class Recorder(Sink):
    """The sink while a unit is learnt: passes all on, and says whether the
    unit did only what a replay does (``ok``) and the latest end of the items
    it handed on (``last_end``)."""

    def __init__(self, sink: Sink, thread: Thread):
        self.sink, self.thread = sink, thread
        self.ok = True
        self.last_end: int | None = None
        self.calls: list[Syscall] = []

    def item(self, item, within=None) -> None:
        self.sink.item(item, within)
        if within is not None or not self._replayable(item):
            self.ok = False
        elif self.last_end is None or item.end > self.last_end:
            self.last_end = item.end
        if type(item) is Syscall:
            self.calls.append(item)

    def _replayable(self, item) -> bool:
        if item.thread is not self.thread or item.flow_in is not None:
            return False
        if type(item) is Syscall:
            return (item.name not in NOT_REPLAYED and item.flow_out is None
                    and not (item.unfinished or item.dropped or item.opened)
                    and all(self._replayable(nested) for nested in item.nested))
        return not (type(item) is Mark and item.kind in NOT_REPLAYED_MARKS)

    def io(self, io) -> None:
        self.sink.io(io)
        self.ok = self.ok and io.thread is self.thread


def _not_replayed(name: str):
    """The Recorder's Sink method ``name``: passed on, and the unit is not kept
    (a thread or process made, renamed or ended, a call handed on open)."""
    def passed_on(self: Recorder, *args) -> None:
        getattr(self.sink, name)(*args)
        self.ok = False
    passed_on.__name__ = name
    return passed_on


for _name in ("thread", "renamed", "opened", "thread_ended", "process"):
    setattr(Recorder, _name, _not_replayed(_name))


class Walk:
    """One pass over a reader's records by units (see the module's docstring)."""

    def __init__(self, model: Model, reader: r.RecordReader, units):
        self.model, self.reader, self.units = model, reader, units
        self.unit_key = fast_path("unit_key")
        self.known: dict[bytes, tuple] = {}    # unit key -> (thread, last end, template)
        self.masks: dict[int, tuple] = {}      # call number -> CallText.unseen_mask
        self.epoch = model.epoch
        self.learnt = self.replayed = 0        # units, since the walk last judged

    def run(self) -> None:
        reader, model, known, masks = self.reader, self.model, self.known, self.masks
        hits: list[tuple] = []
        buf, pos = reader.buffered()
        while True:
            pos, unknown = self.units(buf, pos, known, masks, hits, HITS, UNIT_PAYLOAD)
            if hits:
                full = len(hits) >= HITS
                self._replay(hits, buf)
                hits.clear()
                self._settle()
                if full:
                    continue
            reader.skip_to(pos)
            if unknown:
                self._learn(buf, pos, unknown)
                self.learnt += 1
                if self.learnt >= LEARN_WINDOW:
                    if self.replayed < self.learnt:    # learning does not pay here
                        model.feed(islice(reader.wellformed(), GENERAL_STRETCH))
                    self.learnt = self.replayed = 0
            else:
                rec = reader.next_wellformed()
                if rec is None:
                    return
                model.feed((rec,))
            self._settle()
            buf, pos = reader.buffered()

    def _settle(self) -> None:
        """Forget the templates once a thread or process is made or ended, or an
        ABI changes: a template holds its thread, and its text its ABI's."""
        if self.model.epoch != self.epoch:
            self.epoch = self.model.epoch
            self.known.clear()

    def _replay(self, hits: list[tuple], buf: bytes) -> None:
        model = self.model
        replay = model.sink.replay
        self.replayed += len(hits)
        for hit in hits:
            thread, last_end, template = hit[0]
            # idle(thread), inline: this runs once per replayed unit
            if not (thread.call is None and thread.wait is None and thread.fault is None
                    and thread.flow_in is None) or model.epoch != self.epoch:
                self._general(hit, buf)
                continue
            replay(template, hit, buf)
            if last_end:
                end = hit[last_end]
                if end > thread.last_ns:
                    thread.last_ns = end
            thread.process.last_ns = model.last_ns = hit[-1]

    def _general(self, hit: tuple, buf: bytes) -> None:
        """A known unit whose thread is not idle: its records the general way."""
        self.reader.skip_to(hit[1])
        self.model.feed(self._records(len(hit) - 2))

    def _records(self, n: int) -> list[r.Record]:
        """The ``n`` records of a unit from the reader's position: whole in its
        buffer (the walk said so), so reading them does not refill it."""
        records = self.reader.wellformed()
        return [next(records) for _ in range(n)]

    def _learn(self, buf: bytes, pos: int, n: int) -> None:
        """Take the unit of ``n`` records at ``pos`` the general way, and keep
        its template if a replay can make the same of it."""
        model = self.model
        records = self._records(n)
        thread = model.known_thread(records[0].header)
        if thread is None or not idle(thread):
            model.feed(records)
            return
        sink = model.sink
        before = (model.serial, model.flows, model.epoch, thread.process.signal)
        model.sink = recorder = Recorder(sink, thread)
        sink.capture(thread)
        try:
            model.feed(records)
        finally:
            model.sink = sink
        times = tuple(ns_of(rec.header) for rec in records)
        template = sink.template(times)
        last_end = recorder.last_end
        if (template is None or not recorder.ok or not idle(thread)
                or before != (model.serial, model.flows, model.epoch, thread.process.signal)
                or len(set(times)) != n or last_end is not None and last_end not in times):
            return
        key = self._key(buf, pos, records[0], recorder.calls)
        if key is None:
            return
        known = self.known
        if len(known) >= KNOWN_LIMIT:          # forget the older half (dicts keep order)
            for old in list(islice(known, KNOWN_LIMIT // 2)):
                del known[old]
        known[key] = (thread, 0 if last_end is None else 2 + times.index(last_end),
                           template)

    def _key(self, buf: bytes, pos: int, first: r.Record, calls: list) -> bytes | None:
        """The key of the unit at ``pos``, its call's arguments blanked where
        ``masks`` says and this call agrees; None where it does not."""
        masks = self.masks
        key = self.unit_key(buf, pos, masks, UNIT_PAYLOAD)[0]
        if type(first) is not r.Syscall:
            return key
        code = first.code
        justified = self.model.text.unseen_mask(calls[0]) if calls else None
        if justified and code not in masks:
            masks[code] = justified
            key = self.unit_key(buf, pos, masks, UNIT_PAYLOAD)[0]
        if key == self.unit_key(buf, pos, NO_MASKS, UNIT_PAYLOAD)[0] or masks[code] == justified:
            return key                      # nothing blanked, or rightly
        if justified is not None:           # numbers of two ABIs: blank none
            masks[code] = ()
        return None

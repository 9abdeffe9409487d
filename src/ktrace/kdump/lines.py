"""The one loop of kdump's record views (the text and --json): a line a record.

A view is a :class:`LineView`.  It says which record types it shows, makes the
head of a line (what a thread's records share; the loop caches it), the
columns each record adds after it (``stamp``), a body per record class, how a
line ends and how a cut record is noted.
The loop reads these once, before the first record, and keeps its per-record
work inline: it is kdump's hot path (benchmarks/bench_kdump.py).  It has two
paths: records straight from a reader of an amd64-v1 file are walked in the
reader's buffer, and a record seen before (same header key, same payload)
gets its line from a cache without being built; every other record is built
and shown by the general path.  Both make bodies with the view's functions.
Output is gathered and written in large chunks; a body too long to hold
(pieces, or FLUSH_BYTES of text) is written as it is made.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Callable, Iterable, NamedTuple

from ktrace import record as r

from .abis import AbiTracker, ProcessAbi
from .options import DumpOptions

CACHE_LIMIT = 16384      # entries per cache: memory stays flat however long the trace
FLUSH_BYTES = 1 << 20    # output held before it is written, however few the lines
# The fast path caches the lines and bodies of payloads up to CACHEABLE bytes
# (their bodies are short strs), FAST_CACHE_LIMIT of each: some MiB at worst.
CACHEABLE = 256
FAST_CACHE_LIMIT = 4096

Body = Callable[[tuple, ProcessAbi], object]     # a str, or pieces of one


class TimeLabels(NamedTuple):
    """A record's sec, nsec and cpu as columns, each after its label."""
    sec: str
    nsec: str
    cpu: str
    no_cpu: str      # what stands for the cpu of a header without one (v0)


class LineView(ABC):
    """What a view gives the loop; :meth:`dump` is the loop."""

    end = ""                 # what closes every line
    # A view that gives a record after dropped events a line of its own: the
    # function of the header that makes that line.
    dropped: Callable[[r.Header], str] | None = None

    def __init__(self, opts: DumpOptions, abis: AbiTracker):
        self.opts = opts
        self.abis = abis
        self._heads: dict[tuple, str] = {}
        self._bodies: dict[tuple, str] = {}    # (type, payload, process ABI) -> body
        self.bodies: dict[type, Body] = {}     # record class -> its line's body
        # The columns each record adds after the head (its time, cpu...): None;
        # where they are only the header's sec, nsec and cpu, a TimeLabels (the
        # loop writes them inline: no call per record); else a function of
        # (header, process ABI).
        self.stamp: TimeLabels | Callable[[r.Header, ProcessAbi], str] | None = None
        self.drop_noted = False

    @abstractmethod
    def shown_types(self) -> list[bool]:
        """Does this view print records of the type (the index, up to
        KTR_TYPE_MASK)?  The others only feed the ABIs."""

    def screened_types(self) -> list[bool]:
        """Does this view leave out some records of the type (the index) by a
        rule of more than the record's own bytes (:meth:`left_out`)?"""
        return [False] * (r.KTR_TYPE_MASK + 1)

    def screens(self, t: int, payload: bytes) -> bool:
        """Is a record of a screened type ``t`` with ``payload`` one that
        :meth:`left_out` decides on?  Those take the general path, always."""
        return False

    def left_out(self, rec: r.Record) -> bool:
        """Is the screened record ``rec`` left out?  Asked of every one of
        them in the order of the trace, whatever -t and -p show."""
        return False

    @abstractmethod
    def make_head(self, h: r.Header, proc: ProcessAbi) -> str:
        """The start of a line that records of this header key share."""

    @abstractmethod
    def cut_note(self, field: r.Cut) -> str:
        """What follows the body of a record the reader kept only the start of."""

    def head(self, h: r.Header, proc: ProcessAbi) -> str:
        """``make_head``, cached under the key the loop looks up first."""
        text = self.make_head(h, proc)
        if len(self._heads) >= CACHE_LIMIT:
            self._heads.clear()
        self._heads[(h.type, h.dropped, h.version, h.pid, h.tid, h.comm, proc)] = text
        return text

    def dump(self, records: Iterable[r.Record], write: Callable[[bytes], object],
             every: int = 2048) -> None:
        """Format ``records`` and ``write`` the bytes, ``every`` lines at a time.

        The records of a RecordReader given itself (that :meth:`walks`) are
        taken from the reader's buffer by ``walk``, which leaves the records it
        cannot take to ``show``; other ``records`` all go to ``show``.
        """
        shown = self.shown_types()
        screened, left_out = self.screened_types(), self.left_out
        pid_wanted = self.opts.pid
        abis = self.abis
        feed, proc_of, default_proc = abis.feed, abis.by_pid.get, abis.default
        heads, head, stamp, bodies, end = self._heads, self.head, self.stamp, self.bodies, self.end
        labelled = type(stamp) is TimeLabels
        sec_label, nsec_label, cpu_label, no_cpu = stamp if labelled else ("", "", "", "")
        note_drop = self.dropped
        cut, cut_note = r.Cut, self.cut_note
        procctor, procdtor, flush_bytes = r.PROCCTOR, r.PROCDTOR, FLUSH_BYTES
        lines: list[str] = []
        add = lines.append
        held = 0                 # characters in lines
        drop_noted = self.drop_noted
        # the fast path's lines by header key and payload (see walk)
        known: dict[tuple, str | tuple[str, str]] = {}

        def show(rec: r.Record) -> None:
            """The general path: any record, as read."""
            nonlocal held, drop_noted
            h = rec[0]
            t, dropped, version, pid, tid, comm, sec, nsec, cpu = h
            if dropped and note_drop is not None and not drop_noted:
                add(note_drop(h))
                drop_noted = True
            if screened[t] and left_out(rec):
                return
            if not shown[t] or pid_wanted and pid != pid_wanted and tid != pid_wanted:
                if t == procctor or t == procdtor:
                    feed(rec)
                return
            drop_noted = False
            if t == procctor:            # shown with the ABI it gives its process
                feed(rec)
            proc = proc_of(pid, default_proc)
            columns = heads.get((t, dropped, version, pid, tid, comm, proc)) or head(h, proc)
            if stamp is not None:
                if labelled:
                    columns += (f"{sec_label}{sec}{nsec_label}{nsec}{cpu_label}"
                                f"{no_cpu if cpu is None else cpu}")
                else:
                    columns += stamp(h, proc)
            body = bodies[type(rec)](rec, proc)
            if type(body) is not str or len(body) >= flush_bytes:   # long: written as made
                write_long(write, lines, columns, body)
                columns = body = ""          # the line ends the record's text
                held = 0
            if type(rec[-1]) is cut:
                body += cut_note(rec[-1])
            line = f"{columns}{body}{end}"
            add(line)
            held += len(line)
            if t == procdtor:            # shown with the ABI its process had
                feed(rec)
            if len(lines) >= every or held >= flush_bytes:
                flush()

        def flush() -> None:
            nonlocal held
            write(encode_lines(lines))
            lines.clear()
            held = 0

        def walk(reader: r.RecordReader) -> None:
            """The fast path: the whole records of the reader's buffer, taken
            without making a Record where their line is known; every other
            record goes to ``show``.

            A record's line but for its stamp is a function of its header key
            (type, pid, tid, comm: the head, and through the pid the process
            ABI) and its payload (the body): ``known`` keeps it by those, until
            a PROCCTOR or PROCDTOR may change an ABI.  Bodies are made by the
            view's body functions, as in ``show``, and cached by (type,
            payload, ABI) (:meth:`body_of`): traces repeat themselves.

            Where the compiled walk is built (_fastwalk.c), it takes the known
            records and this loop one record each time it stops; ``known`` is
            then keyed as it keys it (:func:`record_key`).
            """
            nonlocal held, drop_noted
            unpack, hsize = r.AMD64_V1.header.unpack_from, r.AMD64_V1.header_size
            flags, versioned = r.KTR_TYPE_FLAGS, r.KTR_VERSIONED
            compiled = fast_path()
            labels = (sec_label, nsec_label, cpu_label) if labelled else None
            buf, pos = reader.buffered()
            size = len(buf)
            while True:
                if compiled is not None:
                    pos, held, full, shown_some = compiled(
                        buf, pos, known, labels, lines, every, flush_bytes, held, CACHEABLE,
                        flags, versioned)
                    if shown_some:
                        drop_noted = False
                    if full:
                        flush()
                        continue
                if pos + hsize <= size:
                    length, rtype, version, pid, comm, sec, nsec, tid, cpu = unpack(buf, pos)
                    start = pos + hsize
                    stop = start + length
                    # a whole v1 record, not dropped, short enough to be known
                    if (rtype & flags == versioned and version == 1 and 0 <= length <= CACHEABLE
                            and stop <= size):
                        payload = buf[start:stop]
                        key = (record_key(buf, pos, payload) if compiled is not None
                               else (rtype, pid, tid, comm, payload))
                        line = known.get(key)
                        if line is None:
                            line = learn(key, rtype, pid, tid, comm, payload, buf[pos:stop])
                        if line:
                            if labelled:
                                line = (f"{line[0]}{sec_label}{sec}{nsec_label}{nsec}"
                                        f"{cpu_label}{cpu}{line[1]}")
                            add(line)
                            held += len(line)
                            drop_noted = False
                            pos = stop
                            if len(lines) >= every or held >= flush_bytes:
                                flush()
                            continue
                        if line is not None:     # "": not shown
                            pos = stop
                            continue
                reader.skip_to(pos)
                rec = reader.next_record()
                if rec is None:
                    return
                if rec[0].type == procctor or rec[0].type == procdtor:
                    known.clear()
                show(rec)
                buf, pos = reader.buffered()
                size = len(buf)

        def learn(key, rtype: int, pid: int, tid: int, comm: bytes, payload: bytes,
                  record: bytes):
            """The line of the whole v1 ``record`` (type, pid, tid, comm,
            payload) but for its stamp (with a stamp, the parts before and
            after it), now known by ``key``; "" for a record not shown; None
            for one to leave to ``show`` (a PROCCTOR or PROCDTOR, one the view
            screens, a head not made yet)."""
            t = rtype - r.KTR_VERSIONED
            if t == procctor or t == procdtor or screened[t] and self.screens(t, payload):
                return None
            if not shown[t] or pid_wanted and pid != pid_wanted and tid != pid_wanted:
                line = ""
            else:
                proc = proc_of(pid, default_proc)
                columns = heads.get((t, False, 1, pid, tid, comm, proc))
                if columns is None:
                    return None
                body = self.body_of((t, payload, proc), record)
                line = (columns, body + end) if labelled else columns + body + end
            if len(known) >= FAST_CACHE_LIMIT:
                known.clear()
            known[key] = line
            return line

        try:
            if isinstance(records, r.RecordReader) and self.walks(records):
                walk(records)
            else:
                for rec in records:
                    show(rec)
        finally:
            self.drop_noted = drop_noted
            if lines:
                flush()

    def walks(self, reader: r.RecordReader) -> bool:
        """Can the fast path take the records of ``reader``?  Not when it
        follows a file (each record is written as it comes), nor when the
        columns after the head are a function of the header (-T, -E, -R, -c)."""
        return (not reader.follow and reader.layout is r.AMD64_V1
                and (self.stamp is None or type(self.stamp) is TimeLabels))

    def body_of(self, key: tuple, record: bytes) -> str:
        """The body of the whole v1 ``record`` of ``key`` (type, payload,
        process ABI), cached by its key."""
        body = self._bodies.get(key)
        if body is None:
            rec = r.decode(record)
            body = self.bodies[type(rec)](rec, key[2])
            if len(self._bodies) >= FAST_CACHE_LIMIT:
                self._bodies.clear()
            self._bodies[key] = body
        return body


# The compiled walks (_fastwalk.c, built at install where a C compiler is), and
# whether to use them: KTRACE_PURE_PYTHON=1 keeps kdump to the Python loops.
try:
    from . import _fastwalk
except ImportError:
    _fastwalk = None


def fast_path(name: str = "walk"):
    """The compiled fast path's function ``name`` (walk; units, unit_key,
    replay_packets and replay_rows for the analysis views), or None: not
    built, or not wanted."""
    if _fastwalk is None or os.environ.get("KTRACE_PURE_PYTHON", "") not in ("", "0"):
        return None
    return getattr(_fastwalk, name)


def record_key(buf: bytes, pos: int, payload: bytes) -> bytes:
    """The compiled walk's key of the v1 record at ``pos``: its header's type,
    version, pid and comm, its tid, its payload (as _fastwalk.c's record_key)."""
    return buf[pos + 4:pos + 32] + buf[pos + 48:pos + 56] + payload


def write_long(write: Callable[[bytes], object], lines: list[str], start: str,
               pieces) -> None:
    """One record's text (a long string, or pieces of it as they are made)
    written without copies into a line, after the ``lines`` held before it
    (which are emptied)."""
    if type(pieces) is str:
        pieces = (pieces,)
    if lines:
        write(encode_lines(lines))
        lines.clear()
    write(start.encode("utf-8", "surrogateescape"))
    for piece in pieces:
        write(piece.encode("utf-8", "surrogateescape"))


def encode_lines(lines: list[str]) -> bytes:
    """The lines as output bytes, each ended by a newline (bytes kept as read)."""
    lines.append("")
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    lines.pop()
    return data

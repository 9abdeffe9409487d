"""The trace as Arrow tables: syscalls, processes, io, signals, switches, faults,
user, drops (schema: docs/analysis.md).

A :class:`TableSink` turns the model's items into rows and hands a
pyarrow.Table to its consumer each ROWS rows of a table, so memory stays
bounded when the consumer streams (``kdump --parquet`` writes each as a
Parquet row group); :func:`collect` keeps them all.
"""

from __future__ import annotations

import os
import struct
from typing import Callable

from ktrace import record as r
from ktrace.kdump.lines import fast_path

from . import feed, require
from .model import Fault, Io, Mark, Process, Sink, Syscall, Wait

ROWS = 65536            # rows per table handed on, and per Parquet row group
CHUNK = 8192            # rows held as Python tuples before they become Arrow columns
DATA_PREFIX = 256       # bytes of I/O data kept per row of io

# name -> ((column, Arrow type name), ...); types are made when pyarrow is loaded
COLUMNS = {
    "syscalls": (("pid", "int32"), ("tid", "int64"), ("comm", "string"),
                 ("syscall", "string"), ("number", "int32"), ("abi", "string"),
                 ("args", "string"), ("raw_args", "list<uint64>"), ("result", "string"),
                 ("retval", "int64"), ("errno", "int32"), ("error", "string"),
                 ("failed", "bool"), ("unfinished", "bool"), ("start_ns", "int64"),
                 ("duration_ns", "int64"), ("path", "string"), ("path2", "string"),
                 ("bytes", "int64")),
    "processes": (("pid", "int32"), ("ppid", "int32"), ("comm", "string"),
                  ("first_ns", "int64"), ("last_ns", "int64"), ("image", "string"),
                  ("argv", "list<string>"), ("exit_status", "int32"), ("signal", "string")),
    "io": (("pid", "int32"), ("tid", "int64"), ("ts_ns", "int64"), ("syscall", "string"),
           ("fd", "int32"), ("direction", "string"), ("length", "int64"), ("data", "binary")),
    "signals": (("pid", "int32"), ("tid", "int64"), ("ts_ns", "int64"), ("signo", "int32"),
                ("signal", "string"), ("action", "uint64"), ("code", "int32"),
                ("syscall", "string")),
    "switches": (("pid", "int32"), ("tid", "int64"), ("start_ns", "int64"),
                 ("duration_ns", "int64"), ("reason", "string"), ("wmesg", "string"),
                 ("syscall", "string"), ("unfinished", "bool")),
    "faults": (("pid", "int32"), ("tid", "int64"), ("start_ns", "int64"),
               ("duration_ns", "int64"), ("vaddr", "uint64"), ("access", "string"),
               ("result", "string"), ("syscall", "string"), ("unfinished", "bool")),
    "user": (("pid", "int32"), ("tid", "int64"), ("ts_ns", "int64"), ("length", "int64"),
             ("data", "binary"), ("text", "string")),
    "drops": (("pid", "int32"), ("tid", "int64"), ("ts_ns", "int64"), ("before", "string")),
}
TABLES = tuple(COLUMNS)
# a row's time columns, by table: (its start or moment, its duration or None)
# (processes have none: their rows are never replayed)
TIMES = {name: (names.index("start_ns"), names.index("duration_ns"))
         if "start_ns" in names else (names.index("ts_ns"), None)
         for name, names in ((name, [c for c, _ in spec]) for name, spec in COLUMNS.items())
         if name != "processes"}
RAW_ARGS = [c for c, _ in COLUMNS["syscalls"]].index("raw_args")
INT32, INT64 = struct.Struct("=i").pack, struct.Struct("=q").pack    # as Arrow's buffers hold them


def schema(name: str):
    pa = require("pyarrow", "tables")
    types = {"int32": pa.int32(), "int64": pa.int64(), "uint64": pa.uint64(),
             "string": pa.string(), "bool": pa.bool_(), "binary": pa.binary(),
             "list<uint64>": pa.list_(pa.uint64()), "list<string>": pa.list_(pa.string())}
    return pa.schema([(column, types[kind]) for column, kind in COLUMNS[name]])


def shape(row: tuple) -> list:
    """A replayed unit's row as its table's batches keep it once, however many
    rows share it: [the row, the generation of the batch it is in, its index
    there] (a list: the compiled replay keeps it up to date)."""
    return [row, -1, 0]


class Rows:
    """One table's rows gathered for its next RecordBatch.

    Rows repeat but for their times: each is kept as the index of its shape
    (a row whose times and raw arguments are left aside) and its own times
    and raw arguments, as numbers in bytearrays.  A row of the general way is
    its own shape; a replayed unit's rows share theirs (shape()), and are
    added by the compiled replay (_fastwalk.c's replay_rows).  A batch's Arrow
    columns are its shapes' columns taken by index, and the numbers' arrays
    as they are.
    """

    def __init__(self, name: str):
        self.name = name
        self.start, self.duration = TIMES.get(name, (None, None))
        self.shapes: list[tuple] = []
        self.state = [0, self.shapes]          # [the batch's generation, its shapes]
        self.ids, self.starts = bytearray(), bytearray()
        self.durations = None if self.duration is None else bytearray()
        self.raw = name == "syscalls"
        self.raw_values = bytearray() if self.raw else None
        self.raw_offsets = bytearray(INT32(0)) if self.raw else None

    def __len__(self) -> int:
        return len(self.ids) // 4

    def add(self, row: tuple) -> None:
        self.ids += INT32(len(self.shapes))
        self.shapes.append(row)
        if self.start is not None:
            self.starts += INT64(row[self.start])
        if self.durations is not None:
            self.durations += INT64(row[self.duration])
        if self.raw:
            raw = row[RAW_ARGS]
            self.raw_values += struct.pack(f"={len(raw)}Q", *raw)
            self.raw_offsets += INT32(len(self.raw_values) // 8)

    def entry(self, row: tuple, start: int, end: int | None, raw: int) -> tuple:
        """A template's entry for replay_rows: a row of this table, its time and
        end at indexes of a hit, ``raw`` raw arguments."""
        return (self.state, shape(row), self.ids, self.starts, self.durations,
                self.raw_values, self.raw_offsets, start, end or 0, raw)

    def batch(self, pa, sch):
        """The rows as a RecordBatch of schema ``sch``; then none are kept."""
        n = len(self)

        def numbers(kind, data: bytearray, count: int):
            values = pa.py_buffer(bytes(data))
            del data[:]
            return pa.Array.from_buffers(kind, count, [None, values])
        ids = None if len(self.shapes) == n else numbers(pa.int32(), self.ids, n)
        columns = zip(*self.shapes) if self.shapes else [()] * len(sch)
        arrays = []
        for i, (column, field) in enumerate(zip(columns, sch)):
            if i == self.start:
                arrays.append(numbers(pa.int64(), self.starts, n))
            elif i == self.duration:
                arrays.append(numbers(pa.int64(), self.durations, n))
            elif self.raw and i == RAW_ARGS:
                offsets = numbers(pa.int32(), self.raw_offsets, n + 1)
                self.raw_offsets += INT32(0)
                arrays.append(pa.ListArray.from_arrays(offsets, numbers(
                    pa.uint64(), self.raw_values, len(self.raw_values) // 8)))
            else:
                values = pa.array(list(column), type=field.type)
                arrays.append(values if ids is None else values.take(ids))
        del self.ids[:]
        self.shapes.clear()
        self.state[0] += 1
        return pa.RecordBatch.from_arrays(arrays, schema=sch)


class TableSink(Sink):
    """Rows of the ``wanted`` tables; ``emit(name, table)`` gets each ROWS of a table.

    Rows wait as Rows only CHUNK at a time, then as Arrow columns, which take
    a fraction of the memory, until ROWS are in.
    """

    def __init__(self, emit: Callable[[str, object], None], wanted=TABLES):
        self.pa = require("pyarrow", "tables")
        self.emit = emit
        self.schemas = {name: schema(name) for name in wanted}
        self.rows: dict[str, Rows] = {name: Rows(name) for name in wanted}
        self.chunks: dict[str, list] = {name: [] for name in wanted}   # RecordBatches
        self.chunked = dict.fromkeys(wanted, 0)                         # rows in them
        self.chunk_rows = min(CHUNK, ROWS)
        self.kept: list[tuple[str, tuple]] | None = None     # rows of a unit learnt
        self.replay_rows = fast_path("replay_rows")

    def _add(self, name: str, row: tuple) -> None:
        rows = self.rows.get(name)
        if rows is None:
            return
        rows.add(row)
        if self.kept is not None:
            self.kept.append((name, row))
        if len(rows) >= self.chunk_rows:
            self._chunk(name)

    def _chunk(self, name: str) -> None:
        rows = self.rows[name]
        self.chunked[name] += len(rows)
        self.chunks[name].append(rows.batch(self.pa, self.schemas[name]))
        if self.chunked[name] >= ROWS:
            self._emit(name)

    def _emit(self, name: str) -> None:
        table = self.pa.Table.from_batches(self.chunks[name], schema=self.schemas[name])
        self.chunks[name], self.chunked[name] = [], 0
        self.emit(name, table)

    def close(self) -> None:
        for name, rows in self.rows.items():
            if len(rows):
                self._chunk(name)
            if self.chunked[name]:
                self._emit(name)

    # --- the model's items -------------------------------------------------------

    def opened(self, call: Syscall) -> None:
        for nested in call.nested:
            self.item(nested, call)

    def item(self, item, call: Syscall | None = None) -> None:
        t = item.thread
        within = call.name if call is not None else None
        if isinstance(item, Syscall):
            self._syscall(item)
            if item.nested:
                self.opened(item)
        elif isinstance(item, Wait):
            self._add("switches", (t.pid, t.tid, item.start, item.end - item.start,
                                   "preempt" if item.preempted else "sleep",
                                   item.wmesg or None, within, item.unfinished))
        elif isinstance(item, Fault):
            self._add("faults", (t.pid, t.tid, item.start, item.end - item.start, item.vaddr,
                                 item.access_text, item.result, within, item.unfinished))
        elif isinstance(item, Mark):
            self._mark(item, within)

    def _syscall(self, c: Syscall) -> None:
        t, o, paths = c.thread, c.outcome, c.paths
        self._add("syscalls", (
            t.pid, t.tid, t.comm, c.name, c.number, c.abi.label, o.args, c.raw_args,
            o.result, o.retval, o.errno, o.error, o.failed, c.unfinished, c.start,
            c.end - c.start, paths[0] if paths else None, paths[1] if len(paths) > 1 else None,
            c.nbytes))

    def _mark(self, m: Mark, within: str | None) -> None:
        t, f = m.thread, m.fields
        if m.kind == "signal":
            self._add("signals", (t.pid, t.tid, m.start, f["signo"], m.name, f["action"],
                                  f["code"], within))
        elif m.kind == "user":
            self._add("user", (t.pid, t.tid, m.start, f["length"], f["data"], f["text"]))
        elif m.kind == "drop":
            self._add("drops", (t.pid, t.tid, m.start, f["before"]))

    def io(self, io: Io) -> None:
        t = io.thread
        self._add("io", (t.pid, t.tid, io.ns, io.syscall, io.fd, io.direction, io.length,
                         io.data[:DATA_PREFIX]))

    def process(self, p: Process) -> None:
        self._add("processes", (p.pid, p.ppid, p.comm, p.first_ns, p.last_ns, p.image,
                                p.argv, p.exit_status, p.signal))


    # --- units replayed (ktrace.analysis.units) -------------------------------------

    replays = True

    def capture(self, thread) -> None:
        self.kept = []

    def template(self, times: tuple[int, ...]):
        """(Rows.entry, ...) of the rows kept: each row's time (and end: its
        start plus duration) one of the unit's times."""
        kept, self.kept = self.kept, None
        index = {t: 2 + i for i, t in enumerate(times)}
        entries = []
        for name, row in kept:
            if name not in TIMES:
                return None
            start_column, duration_column = TIMES[name]
            start = index.get(row[start_column])
            end = None if duration_column is None else \
                index.get(row[start_column] + row[duration_column])
            if start is None or duration_column is not None and end is None:
                return None
            raw = len(row[RAW_ARGS]) if name == "syscalls" else 0
            entries.append(self.rows[name].entry(row, start, end, raw))
        return tuple(entries)

    def replay(self, template, hit: tuple, buf: bytes) -> None:
        if self.replay_rows(template, hit, buf, r.V1_SYSCALL_ARGS_AT, self.chunk_rows * 4):
            for name, rows in self.rows.items():
                if len(rows) >= self.chunk_rows:
                    self._chunk(name)


def _tables(wanted) -> tuple[str, ...]:
    if wanted is None:
        return TABLES
    unknown = [name for name in wanted if name not in COLUMNS]
    if unknown:
        raise ValueError(f"no table {unknown[0]!r}: the tables are {', '.join(TABLES)}")
    return tuple(wanted)


def stream(source, emit: Callable[[str, object], None], wanted=None, pid: int = 0):
    """Feed a trace (a file name, a binary stream or a RecordReader) into a TableSink.

    Returns the reader's TraceFileError instead of raising it, once every
    good record's rows are emitted; a file of another system (ForeignFormat)
    has no good records and raises at once.
    """
    sink = TableSink(emit, _tables(wanted))
    opened = isinstance(source, (str, os.PathLike))
    stream_ = open(source, "rb") if opened else source
    try:
        reader = stream_ if isinstance(stream_, r.RecordReader) else r.RecordReader(stream_)
        feed(reader, sink, pid)
        return None
    except r.TraceFileError as e:
        return e
    finally:
        sink.close()
        if opened:
            stream_.close()


def collect(source, wanted=None, pid: int = 0) -> tuple[dict, Exception | None]:
    """({name: pyarrow.Table}, the reader's error or None) for a trace."""
    pa = require("pyarrow", "tables")
    names = _tables(wanted)
    parts: dict[str, list] = {name: [] for name in names}
    error = stream(source, lambda name, table: parts[name].append(table), names, pid)
    return {name: pa.concat_tables(parts[name]) if parts[name] else schema(name).empty_table()
            for name in names}, error


def write_parquet(source, directory: str, wanted=None, pid: int = 0,
                  compression: str = "zstd") -> tuple[dict[str, int], Exception | None]:
    """Write each table as ``directory/<name>.parquet``, a row group per ROWS rows.

    Returns (rows per table, the reader's error or None): the files hold
    every good record's rows and are closed either way.
    """
    pq = require("pyarrow.parquet", "Parquet")
    names = _tables(wanted)
    os.makedirs(directory, exist_ok=True)
    writers = {name: pq.ParquetWriter(os.path.join(directory, f"{name}.parquet"),
                                      schema(name), compression=compression)
               for name in names}
    counts = dict.fromkeys(names, 0)

    def emit(name: str, table) -> None:
        writers[name].write_table(table, row_group_size=ROWS)
        counts[name] += table.num_rows
    try:
        return counts, stream(source, emit, names, pid)
    finally:
        for w in writers.values():
            w.close()

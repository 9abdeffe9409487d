"""kdump --perfetto, --parquet, --sql: the analysis views on kdump's command line.

    kdump --perfetto -o OUT [-f trfile] [-p pid]
    kdump --parquet DIR [-f trfile] [-p pid]
    kdump --sql QUERY [--csv] [-f trfile] [-p pid]

The trace is read through kdump's one error path (``read_trace``): bad
bytes end the output with every good record's slices or rows in it, then
``kdump: FILE: offset N: WHAT`` and exit 1.
"""

from __future__ import annotations

import sys

from ktrace.kdump.cli import Fatal, Front, UsageError, atoi, front, read_trace

from . import MissingExtra, feed, require

USAGE = """\
usage: kdump --perfetto -o outfile [-f trfile] [-p pid]
       kdump --parquet directory [-f trfile] [-p pid]
       kdump --sql query [--csv] [-f trfile] [-p pid]
"""


class Options:
    def __init__(self):
        self.mode = ""            # perfetto, parquet or sql
        self.target = ""          # the --parquet directory, the --sql query
        self.outfile = ""         # -o
        self.tracefile = "ktrace.out"
        self.pid = 0
        self.csv = False


# option -> (the Options attribute it sets, how its value is read)
SETTERS = {"-f": ("tracefile", str), "-o": ("outfile", str), "-p": ("pid", atoi),
           "--csv": ("csv", lambda _: True)}


def configure(pairs) -> Options:
    o = Options()
    for flag, value in pairs:
        if flag in SETTERS:
            attr, read = SETTERS[flag]
            setattr(o, attr, read(value))
        elif o.mode:
            raise UsageError("one of --perfetto, --parquet, --sql")
        else:
            o.mode, o.target = flag[2:], value
    if o.mode == "perfetto" and not o.outfile:
        raise UsageError("--perfetto needs -o outfile")
    return o


def perfetto(o: Options) -> None:
    from .perfetto import PerfettoWriter
    try:
        out = sys.stdout.buffer if o.outfile == "-" else open(o.outfile, "wb")
    except OSError as e:
        raise Fatal(f"{o.outfile}: {e.strerror}") from None
    writer = PerfettoWriter(out)

    def use(reader) -> None:
        try:
            feed(reader, writer, o.pid)
        finally:
            writer.close()
    try:
        read_trace(o.tracefile, use, out)
    finally:
        if out is not sys.stdout.buffer:
            out.close()


def _raise(error: Exception | None) -> None:
    """Bad bytes: now that every good record's output is out, kdump's error path."""
    if error is not None:
        raise error


def parquet(o: Options) -> None:
    from .tables import write_parquet

    def use(reader) -> None:
        try:
            _raise(write_parquet(reader, o.target, pid=o.pid)[1])
        except OSError as e:      # the directory, or a file in it
            raise Fatal(f"{e.filename or o.target}: {e.strerror or e}") from None
    read_trace(o.tracefile, use, sys.stdout)


def sql(o: Options) -> None:
    from . import query as q

    def use(reader) -> None:
        with q.connect(reader, o.target, o.pid) as (con, error):
            try:
                result = q.execute(con, o.target)
            except q.QueryError as e:
                raise Fatal(f"sql: {e}") from None
            (q.write_csv if o.csv else q.write_table)(result, sys.stdout)
        _raise(error)
    read_trace(o.tracefile, use, sys.stdout)


MODES = {"perfetto": perfetto, "parquet": parquet, "sql": sql}
NEEDS = {"perfetto": (), "parquet": ("pyarrow",), "sql": ("pyarrow", "duckdb")}


def _run(o: Options) -> None:
    try:
        for module in NEEDS[o.mode]:        # before reading anything
            require(module, f"--{o.mode}")
    except MissingExtra as e:
        raise Fatal(str(e)) from None
    if NEEDS[o.mode]:
        # pyarrow's default allocator (mimalloc) keeps what it frees: with the C
        # library's, kdump's memory stays flat over a long trace
        pa = require("pyarrow", f"--{o.mode}")
        pa.set_memory_pool(pa.system_memory_pool())
    MODES[o.mode](o)


# kdump's one front end (ktrace.kdump.cli.front): its parser, --help, error path
FRONT = Front("f:o:p:", ("perfetto", "parquet=", "sql=", "csv"), USAGE, configure, _run)


def main(argv: list[str]) -> int:
    return front(FRONT, argv)

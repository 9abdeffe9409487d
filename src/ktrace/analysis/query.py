"""kdump --sql, ktrace.sql: DuckDB over a trace file's tables, with no export step.

The tables a query names (syscalls, processes, io, ...) are made from the
trace in one pass and written, a row group at a time, as Parquet files in a
private temporary directory; DuckDB reads them there under the tables'
names, in bounded memory (its own limit is MEMORY_LIMIT, beyond which it
spills).  So memory does not grow with the trace, as it would with the
tables held as Arrow tables (``ktrace.to_arrow`` does that, for those who
want them in memory).  A bad query fails with DuckDB's message on one line.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import os
import re
import tempfile
from typing import TextIO

from . import require
from .tables import TABLES, write_parquet

MEMORY_LIMIT = "128MB"


class QueryError(Exception):
    """DuckDB refused or failed the query: its message, on one line."""


def referenced(query: str) -> list[str]:
    """The tables the query names (all of them when it names none: SHOW TABLES)."""
    named = [name for name in TABLES if re.search(rf"\b{name}\b", query, re.I)]
    return named or list(TABLES)


@contextlib.contextmanager
def connect(source, query: str, pid: int = 0):
    """(DuckDB connection with the query's tables as views, the reader's error or None).

    ``source`` is a trace file name, a binary stream or a RecordReader.
    """
    duckdb = require("duckdb", "SQL")
    with tempfile.TemporaryDirectory(prefix="ktrace-sql-") as work:
        # lz4: these files live for one query, so writing fast beats writing small
        _, error = write_parquet(source, work, referenced(query), pid, compression="lz4")
        # what the pass kept (the model's threads hold cycles, Arrow's pool its
        # freed blocks) goes back before DuckDB takes its share
        gc.collect()
        require("pyarrow", "tables").default_memory_pool().release_unused()
        con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT,
                                     "temp_directory": os.path.join(work, "spill")})
        try:
            for name in referenced(query):
                where = os.path.join(work, f"{name}.parquet").replace("'", "''")
                con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet(\'{where}\')')
            yield con, error
        finally:
            con.close()


def _checked(action):
    """``action()``, with DuckDB's errors as a QueryError with a one-line message."""
    duckdb = require("duckdb", "SQL")
    try:
        return action()
    except duckdb.Error as e:
        raise QueryError(" ".join(str(e).split())) from None


def execute(con, query: str):
    """Run ``query`` for its rows (``fetchmany``, ``description``)."""
    return _checked(lambda: con.execute(query))


def run(source, query: str, pid: int = 0):
    """(the result as a pyarrow.Table, the reader's error or None)."""
    with connect(source, query, pid) as (con, error):
        relation = _checked(lambda: con.sql(query))
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow   # duckdb < 1.4
        return _checked(fetch), error


def _cell(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def write_table(result, out: TextIO) -> None:
    """The rows under their column names, aligned: numbers right, the rest left."""
    names = [d[0] for d in result.description]
    rows = result.fetchall()
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows)
               for i in range(len(names))]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]

    def line(values) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()
    out.write(line(names) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for c in cells:
        out.write(line(c) + "\n")


def write_csv(result, out: TextIO, batch: int = 4096) -> None:
    """RFC 4180 CSV with a header row, NULL as an empty field; streamed in batches."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([d[0] for d in result.description])
    while rows := result.fetchmany(batch):
        writer.writerows([["" if v is None else _cell(v) for v in row] for row in rows])

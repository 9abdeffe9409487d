"""See and query a trace: a Perfetto timeline, Arrow/Parquet tables, SQL.

``kdump --perfetto`` (ktrace.analysis.perfetto) needs nothing beyond
ktrace; the tables (ktrace.analysis.tables: ``kdump --parquet``,
``ktrace.to_arrow``) need pyarrow and SQL (ktrace.analysis.sql: ``kdump
--sql``, ``ktrace.sql``) DuckDB, from the ``analysis`` extra.  All of them
read the trace through one model (ktrace.analysis.model) in one pass.
"""

from __future__ import annotations

import importlib

from ktrace import record as r

EXTRA = "pip install 'ktrace[analysis]'"


class MissingExtra(ImportError):
    """A module of the analysis extra is not installed."""


def require(module: str, what: str):
    """Import ``module`` (pyarrow, duckdb) or say, in one line, which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{what} needs {module}, from the analysis extra: {EXTRA}") \
            from None


def feed(reader: r.RecordReader, sink, pid: int = 0) -> None:
    """Run the records of ``reader`` through the model into ``sink``.

    What is still open when the records end (or bad bytes stop them) is
    handed on before the reader's error goes on: every good record counts.
    """
    from .model import Model
    from .units import feed as feed_units
    layout = reader.detect()
    if layout is None:
        return
    model = Model(layout, sink, pid)
    try:
        feed_units(model, reader)
    finally:
        model.close()


def to_arrow(path, tables=None, pid: int = 0) -> dict:
    """The tables of the trace file ``path`` as ``{name: pyarrow.Table}``.

    ``tables`` (names) limits which are made; ``pid`` keeps one process or
    thread.  Raises ``ktrace.record.TraceFileError`` for bad bytes.
    """
    from .tables import collect
    found, error = collect(path, tables, pid)
    if error is not None:
        raise error
    return found


def sql(path, query: str, pid: int = 0):
    """Run the DuckDB ``query`` over the tables of the trace file ``path``: a pyarrow.Table."""
    from .query import run
    result, error = run(path, query, pid)
    if error is not None:
        raise error
    return result

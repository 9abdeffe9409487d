"""ktrace for Linux: the BSD kernel trace facility, in Python.

Record what programs do at their boundary with the kernel into a FreeBSD
ktrace(2) file, and read such files back::

    import ktrace

    ktrace.trace(["ls", "-l"], file="ls.out", trpoints="cn", inherit=True)
    for rec in ktrace.read_records("ls.out"):
        if isinstance(rec, ktrace.record.Namei):
            print(rec.header.pid, rec.path.decode())

``trace`` runs a command traced and waits for it; ``attach`` starts tracing
running processes and returns at once; ``clear`` stops tracing; ``utrace``
adds a record of the program's own to the trace of the calling process.
"""

from __future__ import annotations

import subprocess
import sys

from . import control, record, tracefile
from . import trpoints as _points
from .record import RecordReader, read_records
from .usertrace import utrace

__all__ = ["trace", "attach", "clear", "utrace", "read_records", "RecordReader",
           "record"]


def _facilities(points: str | None, engine: str, inherit: bool) -> int:
    facs = control.default_facilities(engine) if points is None else _points.parse(points)
    return facs | (record.KTRFAC_INHERIT if inherit else 0)


def _cli_options(engine: str, genio_size: int | None, seccomp: bool) -> list[str]:
    argv = ["--engine", engine]
    if genio_size:
        argv += ["--genio-size", str(genio_size)]
    if seccomp:
        argv.append("--seccomp")
    return argv


def trace(argv: list[str], file: str = "ktrace.out", *, trpoints: str | None = None,
          inherit: bool = False, append: bool = False, engine: str = "auto",
          genio_size: int | None = None, seccomp: bool = False,
          **run_kwargs) -> subprocess.CompletedProcess:
    """Run ``argv`` traced, as ``ktrace [-a] [-i] -f file -t trpoints argv``.

    Returns what :func:`subprocess.run` returns (``run_kwargs`` go to it);
    every record is in ``file`` when it returns.  As with ktrace(1), the
    command's children are traced only with ``inherit``.
    """
    cli = [sys.executable, "-m", "ktrace.cli", "-f", str(file)]
    cli += ["-t", trpoints] if trpoints is not None else []
    cli += ["-a"] * append + ["-i"] * inherit
    cli += _cli_options(engine, genio_size, seccomp) + ["--"] + list(argv)
    return subprocess.run(cli, **run_kwargs)


def attach(pid: int, file: str = "ktrace.out", *, trpoints: str | None = None,
           inherit: bool = False, descend: bool = False, append: bool = False,
           group: bool = False, engine: str = "auto", genio_size: int | None = None,
           seccomp: bool = False) -> str:
    """Trace a running process (or process group), like ``ktrace -p``/``-g``.

    Returns once tracing is in place, with the name of the engine used;
    tracing goes on until :func:`clear` or the process's exit.  Raises
    OSError as ktrace(2) would (ESRCH, EPERM, ...).
    """
    engine = control.choose_engine(engine)
    tracefile.create(str(file), append)
    options = {"genio_size": genio_size, "seccomp": seccomp}
    return control.set_tracing(str(file), _facilities(trpoints, engine, inherit),
                               -pid if group else pid, descend=descend, engine=engine,
                               options={k: v for k, v in options.items() if v})


def clear(pid: int | None = None, file: str | None = None, *, trpoints: str | None = None,
          descend: bool = False, group: bool = False) -> None:
    """Stop tracing: of ``pid`` (``ktrace -c -p``), or into ``file`` (``ktrace -c -f``)."""
    if pid is None:
        control.clear_file(str(file or "ktrace.out"))
        return
    facs = control.ALL_FACILITIES if trpoints is None else _points.parse(trpoints)
    control.clear_tracing(facs | record.KTRFAC_INHERIT, -pid if group else pid,
                          descend=descend)


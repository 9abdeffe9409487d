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
``to_arrow`` and ``sql`` give a trace's tables as Arrow tables and run
DuckDB queries over them (the ``analysis`` extra: docs/analysis.md).
"""

from __future__ import annotations

import importlib
import os
import sys
TYPE_CHECKING = False     # typing.TYPE_CHECKING, without importing typing (~7 ms a start)
if TYPE_CHECKING:
    import subprocess

__all__ = ["trace", "attach", "clear", "utrace", "read_records", "RecordReader",
           "record", "to_arrow", "sql"]

# Importing ktrace.cli or ktrace.service imports this package first, and a
# cold start pays for every module twice (the command's interpreter and the
# service's): so the API's names and the submodules are imported on first use
# (PEP 562), and trace, attach and clear import what they call.
_DEFINED_IN = {"RecordReader": "record", "read_records": "record", "utrace": "usertrace",
               "to_arrow": "analysis", "sql": "analysis"}


def __getattr__(name: str):
    module = _DEFINED_IN.get(name, name)     # else a submodule, as when imported here
    try:
        value = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{module}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    if name in _DEFINED_IN:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _cli_options(engine: str, genio_size: int | None, seccomp: bool) -> list[str]:
    argv = ["--engine", engine]
    if genio_size:
        argv += ["--genio-size", str(genio_size)]
    if seccomp:
        argv.append("--seccomp")
    return argv


def trace(argv: list[str], file: str = "ktrace.out", *, trpoints: str | None = None,
          inherit: bool = False, append: bool = False, compress: bool = False,
          engine: str = "auto", genio_size: int | None = None, seccomp: bool = False,
          **run_kwargs) -> subprocess.CompletedProcess:
    """Run ``argv`` traced, as ``ktrace [-a] [-i] [-z] -f file -t trpoints argv``.

    Returns what :func:`subprocess.run` returns (``run_kwargs`` go to it);
    every record is in ``file`` when it returns.  As with ktrace(1), the
    command's children are traced only with ``inherit``.
    """
    import subprocess
    cli = [sys.executable, "-m", "ktrace.cli", "-f", str(file)]
    cli += ["-t", trpoints] if trpoints is not None else []
    cli += ["-a"] * append + ["-i"] * inherit + ["-z"] * compress
    cli += _cli_options(engine, genio_size, seccomp) + ["--"] + list(argv)
    return subprocess.run(cli, **run_kwargs)


def attach(pid: int, file: str = "ktrace.out", *, trpoints: str | None = None,
           inherit: bool = False, descend: bool = False, append: bool = False,
           compress: bool = False, group: bool = False, engine: str = "auto",
           genio_size: int | None = None, seccomp: bool = False) -> str:
    """Trace a running process (or process group), like ``ktrace -p``/``-g``.

    ``compress`` (or a ``file`` ending in ``.zst``) writes zstd frames
    (``ktrace -z``); :func:`read_records` reads either kind of file.

    Returns once tracing is in place, with the name of the engine used;
    tracing goes on until :func:`clear` or the process's exit.  Raises
    OSError as ktrace(2) would (ESRCH, EPERM, ...).
    """
    from . import control, tracefile
    from .trpoints import parse
    control.check_engine(engine)       # refuse before touching the file
    fd = tracefile.create(str(file), append, compress)
    options = {"genio_size": genio_size, "seccomp": seccomp}
    facs = None if trpoints is None else parse(trpoints)
    try:
        return control.set_tracing(str(file), facs, -pid if group else pid, fd=fd,
                                   inherit=inherit, descend=descend, engine=engine,
                                   options={k: v for k, v in options.items() if v})
    finally:
        os.close(fd)


def clear(pid: int | None = None, file: str | None = None, *, trpoints: str | None = None,
          descend: bool = False, group: bool = False) -> None:
    """Stop tracing: of ``pid`` (``ktrace -c -p``), or into ``file`` (``ktrace -c -f``)."""
    from . import control
    from .record import KTRFAC_INHERIT
    from .trpoints import parse
    if pid is None:
        control.clear_file(str(file or "ktrace.out"))
        return
    facs = control.ALL_FACILITIES if trpoints is None else parse(trpoints)
    control.clear_tracing(facs | KTRFAC_INHERIT, -pid if group else pid,
                          descend=descend)


"""kdump(1): display kernel trace data.

    kdump [-dEnlHRrSsTAc] [--json] [-f trfile] [-m maxdata] [-p pid] [-t trstr]
    kdump --strace ...      (the strace-like view: ktrace.kdump.strace)
    kdump --summary ...     (per-syscall counts: ktrace.kdump.summary)
    kdump --perfetto | --parquet | --sql ...   (ktrace.analysis.cli)

Options, messages and exit codes follow FreeBSD's kdump: numbers given to
-m and -p are read like atoi(3), a bad -t letter is ``unknown trace point
in %s``, anything else wrong prints the usage and exits 1.  A trace that
cannot be read to its end prints every good record, then one line naming
the file, the offset and the problem, and exits 1.

Every view is a ``Front`` (its letters, usage, configure and run) and goes
through ``front``: one parser, ``--help``/``--version``, one error path;
its trace is opened by ``read_trace`` (a file, ``-`` for stdin, ``-l``).
strace's selection letters (``select.py``) are shared by the views that select.
"""

from __future__ import annotations

import ctypes
import getopt
import os
import re
import signal
import sys
from typing import Callable, NamedTuple

from ktrace import record, trpoints

from .jsonl import JsonFormatter
from .options import DumpOptions
from .select import SelectError, Selection, narrow
from .text import TextFormatter

USAGE = """\
usage: kdump [-dEnlHRrSsTAc] [-f trfile] [-m maxdata] [-p pid] [-t trstr]
       kdump --json [-dEnlHRrSsTAc] [-f trfile] [-m maxdata] [-p pid] [-t trstr]
       kdump --strace [options] | --summary [options]   (--strace --help, --summary --help)
       kdump --perfetto -o outfile | --parquet dir | --sql query [--csv] [options]
       kdump --help | --version
both take strace's selection too (an extension): [-zZq] [-e trace=SET]
       [-e status=SET] [-e signal=SET] [-P path]
"""
# strace's selection letters, shared by every view that selects (see select.py):
# FreeBSD's kdump has none of them, so they mean the same in its view
SELECTION_SHORT = "e:zZP:q"
SHORT = "f:dElm:np:AHRrSsTt:c" + SELECTION_SHORT


class UsageError(Exception):
    """Bad command line: the message (if any), then the usage."""


class Fatal(Exception):
    """errx(1, ...): one line on stderr, exit 1."""


def atoi(text: str) -> int:
    """C's atoi: leading blanks, a sign and digits; 0 when there are none."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


class Front(NamedTuple):
    """A view's command line: its letters, its usage, how its pairs become
    options and how those are run.  ``front`` does the rest, for every view."""
    short: str                                   # getopt letters
    long: tuple[str, ...]                        # getopt long options
    usage: str
    configure: Callable[[list[tuple[str, str]]], object]
    run: Callable[[object], None]


def front(view: Front, argv: list[str]) -> int:
    """kdump's one front end: parse, --help and --version, run, one error path.

    Bad options print a line and the usage; bad input (a file that cannot be
    opened, is no trace, has bad bytes; a selection strace would refuse) prints
    one line; either is exit 1, never a traceback.
    """
    try:
        pairs = options(view, argv)
        flags = {flag for flag, _ in pairs}
        if "--help" in flags:
            sys.stdout.write(view.usage)
            return 0
        if "--version" in flags:
            print(f"kdump (ktrace) {version()}")
            return 0
        view.run(view.configure(pairs))
        sys.stdout.flush()
        return 0
    except UsageError as e:
        if str(e):
            print(f"kdump: {e}", file=sys.stderr)
        sys.stderr.write(view.usage)
        return 1
    except (Fatal, SelectError) as e:
        print(f"kdump: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _quiet_after_broken_pipe()
    except OSError as e:          # an output file (-o, -ff) that cannot be written
        where = f"{e.filename}: " if e.filename else ""
        print(f"kdump: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def options(view: Front, argv: list[str]) -> list[tuple[str, str]]:
    """The (flag, value) pairs of ``argv`` for ``view``; UsageError in getopt's words."""
    try:
        pairs, rest = getopt.getopt(argv, view.short, [*view.long, "help", "version"])
    except getopt.GetoptError as e:
        raise UsageError(_getopt_message(e)) from None
    if rest:
        raise UsageError()        # FreeBSD's kdump: the usage alone
    return pairs


def _getopt_message(e: getopt.GetoptError) -> str:
    """getopt(3)'s words, as FreeBSD's kdump prints them."""
    if e.opt and len(e.opt) == 1:
        what = "option requires an argument" if "requires" in e.msg else "illegal option"
        return f"{what} -- {e.opt}"
    if "requires" in e.msg:
        return f"option '--{e.opt}' requires an argument"
    return f"unrecognized option '--{e.opt}'"


def version() -> str:
    try:
        from importlib.metadata import version as installed
        return installed("ktrace")
    except Exception:        # not installed (a source tree): still answer
        return "unknown"


def select_option(sel: Selection, flag: str, value: str) -> bool:
    """Apply one of strace's selection options; False if ``flag`` is not one."""
    if flag == "-e":
        sel.expression(value)
    elif flag in ("-z", "-Z"):
        sel.status = frozenset({"successful" if flag == "-z" else "failed"})
    elif flag == "-P":
        sel.path(value)
    elif flag == "-q":
        sel.quieter()
    else:
        return False
    return True


def parse(argv: list[str]) -> DumpOptions:
    """The FreeBSD view's options (for programs; ``main`` goes through ``front``)."""
    return configure(options(FREEBSD, argv))


def _trace_points(text: str) -> int:
    try:
        return trpoints.parse(text)
    except trpoints.UnknownTracePoint:
        raise Fatal(f"unknown trace point in {text}") from None


# the FreeBSD view's options: flag -> (DumpOptions field, its value from the argument)
FIELDS = {"-A": ("abi_column", None), "-c": ("cpu_column", None), "-d": ("decimal", None),
          "-E": ("elapsed", None), "-H": ("threads", None), "-l": ("follow", None),
          "-R": ("relative", None), "-r": ("symbolic", None), "-S": ("syscall_numbers", None),
          "-s": ("suppress_data", None), "-T": ("absolute", None), "--json": ("json", None),
          "-n": ("fancy", lambda _: False), "-f": ("tracefile", str), "-m": ("maxdata", atoi),
          "-p": ("pid", atoi), "-t": ("trpoints", _trace_points)}


def configure(pairs: list[tuple[str, str]]) -> DumpOptions:
    opts = DumpOptions()
    for flag, value in pairs:
        if flag in FIELDS:
            name, read = FIELDS[flag]
            setattr(opts, name, True if read is None else read(value))
        else:
            select_option(opts.selection, flag, value)
    return opts


def _open(path: str):
    if path == "-":
        if sys.stdin is None:
            raise Fatal("stdin: Bad file descriptor")
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as e:
        raise Fatal(f"{path}: {e.strerror}") from None


def dump(reader: record.RecordReader, opts: DumpOptions, out) -> None:
    """Write the records of ``reader`` as text (or JSON Lines) on binary ``out``."""
    layout = reader.detect()
    if layout is None:
        return
    formatter = (JsonFormatter if opts.json else TextFormatter)(opts, layout)
    records = narrow(reader, opts.selection)
    if not opts.follow:
        formatter.dump(records, out.write)
        return

    def write(data: bytes) -> None:    # a follower shows each record at once
        out.write(data)
        out.flush()
    formatter.dump(records, write, every=1)


def read_trace(path: str, use: Callable[[record.RecordReader], object], out,
               follow: bool = False) -> None:
    """Open the trace file ``path`` (``-``: stdin) and hand its reader to ``use``.

    The one error path of every view: a file that cannot be opened, is not a
    trace this reader knows, or has bad bytes raises Fatal with one line
    ``FILE: offset N: WHAT``, after ``out`` (what ``use`` writes on) is
    flushed with every good record.
    """
    name = "stdin" if path == "-" else path
    stream = _open(path)
    try:
        use(record.RecordReader(stream, follow=follow))
    except (record.TraceFileError, record.ForeignFormat) as e:
        out.flush()
        raise Fatal(f"{name}: {e}") from None
    except OSError as e:
        if isinstance(e, BrokenPipeError):
            raise
        raise Fatal(f"{name}: {e.strerror or e}") from None
    finally:
        if path != "-":          # (sys.stdin is None when descriptor 0 was closed)
            stream.close()


def run(opts: DumpOptions, out) -> None:
    """Dump the trace file of ``opts`` on the binary stream ``out``."""
    read_trace(opts.tracefile, lambda reader: dump(reader, opts, out), out, opts.follow)


def _view(argv: list[str]):
    """The module of ``--strace``/``--summary`` and the other arguments, or None."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.split("=", 1)[0] in ("--perfetto", "--parquet", "--sql"):
            from ktrace.analysis import cli as analysis     # it parses its option itself
            return analysis, argv
        if arg == "--strace":
            from . import strace as view
        elif arg == "--summary":
            from . import summary as view
        else:
            continue
        return view, argv[:i] + argv[i + 1:]
    return None


M_MMAP_THRESHOLD = -3        # mallopt(3)


def _give_back_big_buffers() -> None:
    """Have glibc return each freed big buffer to the system at once.

    glibc raises its mmap threshold whenever a big buffer is freed, so that
    later ones come from the heap, which does not shrink: a trace of many
    megabyte records then costs several times the memory of one.  A fixed
    threshold keeps peak memory what one record needs.
    """
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, 256 << 10)
    except (OSError, AttributeError):    # not glibc: nothing to tune
        pass


FREEBSD = Front(SHORT, ("json",), USAGE, configure, lambda opts: run(opts, sys.stdout.buffer))


def main(argv: list[str] | None = None) -> int:
    if argv is None:             # the command itself: die quietly like a C tool
        argv = sys.argv[1:]
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        _give_back_big_buffers()
    view = _view(argv)
    if view is not None:
        module, rest = view
        return module.main(rest) or 0
    return front(FREEBSD, argv)


def _quiet_after_broken_pipe() -> int:
    """The reader of our output went away: stop without a word.

    stdout is pointed at /dev/null so that Python's final flush of its
    buffer cannot complain about the pipe again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 1


if __name__ == "__main__":
    sys.exit(main())

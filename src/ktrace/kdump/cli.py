"""kdump(1): display kernel trace data.

    kdump [-dEnlHRrSsTAc] [--json] [-f trfile] [-m maxdata] [-p pid] [-t trstr]
    kdump --strace ...      (the strace-like view: ktrace.kdump.strace)
    kdump --summary ...     (per-syscall counts: ktrace.kdump.summary)

Options, messages and exit codes follow FreeBSD's kdump: numbers given to
-m and -p are read like atoi(3), a bad -t letter is ``unknown trace point
in %s``, anything else wrong prints the usage and exits 1.  A trace that
cannot be read to its end prints every good record, then one line naming
the file, the offset and the problem, and exits 1.
"""

from __future__ import annotations

import getopt
import os
import re
import signal
import sys

from ktrace import record, trpoints

from .jsonl import JsonFormatter
from .options import DumpOptions
from .text import TextFormatter

USAGE = """\
usage: kdump [-dEnlHRrSsTAc] [-f trfile] [-m maxdata] [-p pid] [-t trstr]
       kdump --json [-dEnlHRrSsTAc] [-f trfile] [-m maxdata] [-p pid] [-t trstr]
       kdump --strace [options] | --summary [options]
"""
SHORT = "f:dElm:np:AHRrSsTt:c"


class UsageError(Exception):
    """Bad command line: the message (if any), then the usage."""


class Fatal(Exception):
    """errx(1, ...): one line on stderr, exit 1."""


def atoi(text: str) -> int:
    """C's atoi: leading blanks, a sign and digits; 0 when there are none."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def parse(argv: list[str]) -> DumpOptions:
    try:
        pairs, rest = getopt.getopt(argv, SHORT, ["json"])
    except getopt.GetoptError as e:
        if e.opt and len(e.opt) == 1:
            what = "option requires an argument" if "requires" in e.msg else "illegal option"
            raise UsageError(f"{what} -- {e.opt}") from None
        raise UsageError(f"unrecognized option '--{e.opt}'") from None
    if rest:
        raise UsageError()
    opts = DumpOptions()
    flags = {"-A": "abi_column", "-c": "cpu_column", "-d": "decimal", "-E": "elapsed",
             "-H": "threads", "-l": "follow", "-R": "relative", "-r": "symbolic",
             "-S": "syscall_numbers", "-s": "suppress_data", "-T": "absolute",
             "--json": "json"}
    for flag, value in pairs:
        if flag in flags:
            setattr(opts, flags[flag], True)
        elif flag == "-n":
            opts.fancy = False
        elif flag == "-f":
            opts.tracefile = value
        elif flag == "-m":
            opts.maxdata = atoi(value)
        elif flag == "-p":
            opts.pid = atoi(value)
        elif flag == "-t":
            try:
                opts.trpoints = trpoints.parse(value)
            except trpoints.UnknownTracePoint:
                raise Fatal(f"unknown trace point in {value}") from None
    return opts


def _open(path: str):
    if path == "-":
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
    if not opts.follow:
        formatter.dump(reader, out.write)
        return

    def write(data: bytes) -> None:    # a follower shows each record at once
        out.write(data)
        out.flush()
    formatter.dump(reader, write, every=1)


def run(opts: DumpOptions, out) -> None:
    """Dump the trace file of ``opts`` on the binary stream ``out``."""
    name = "stdin" if opts.tracefile == "-" else opts.tracefile
    stream = _open(opts.tracefile)
    try:
        dump(record.RecordReader(stream, follow=opts.follow), opts, out)
    except (record.TraceFileError, record.ForeignFormat) as e:
        out.flush()
        raise Fatal(f"{name}: {e}") from None
    except OSError as e:
        if isinstance(e, BrokenPipeError):
            raise
        raise Fatal(f"{name}: {e.strerror or e}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _view(argv: list[str]):
    """The module of ``--strace``/``--summary`` and the other arguments, or None."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--strace":
            from . import strace as view
        elif arg == "--summary":
            from . import summary as view
        else:
            continue
        return view, argv[:i] + argv[i + 1:]
    return None


def main(argv: list[str] | None = None) -> int:
    if argv is None:             # the command itself: die quietly like a C tool
        argv = sys.argv[1:]
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    out = sys.stdout.buffer
    try:
        view = _view(argv)
        if view is not None:
            module, rest = view
            return module.main(rest) or 0
        run(parse(argv), out)
        out.flush()
        return 0
    except UsageError as e:
        if str(e):
            print(f"kdump: {e}", file=sys.stderr)
        sys.stderr.write(USAGE)
        return 1
    except Fatal as e:
        print(f"kdump: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _quiet_after_broken_pipe()
    except KeyboardInterrupt:
        return 130


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

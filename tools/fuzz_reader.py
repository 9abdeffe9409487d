"""Fuzz the trace reader and kdump's formatters for a while.

Every input is read with RecordReader and printed by the text and JSON
formatters under a few option sets.  Allowed outcomes: output, or the
reader's own TraceFileError/ForeignFormat.  A crash is any other exception,
JSON that does not parse, or (with --strict) a decoder of ktrace.decode
that raised (kdump then prints "invalid record" instead of failing).

    python3 tools/fuzz_reader.py --seconds 600 [--strict] [--engine atheris|hypothesis]

atheris (coverage-guided, optional: ``pip install atheris``) is used when it
imports; otherwise hypothesis edits real and generated traces.  Seeds:
../shared/samples/freebsd (when present) and a generated mixed trace.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ktrace import record  # noqa: E402
from ktrace.kdump import cli, strace, summary  # noqa: E402
from ktrace.kdump.select import narrow  # noqa: E402
from ktrace.kdump.jsonl import JsonFormatter  # noqa: E402
from ktrace.kdump.text import TextFormatter  # noqa: E402

OPTION_SETS = (
    [], ["-n"], ["-d", "-H", "-T", "-E", "-R", "-A", "-c", "-S"], ["-s", "-r"],
    ["-m", "7"], ["-p", "100"], ["-t", "cnis"], ["--json"], ["--json", "-n", "-d", "-m", "3"],
)
# strace's selection narrowing the FreeBSD view and --json (kdump.select.narrow)
SELECTION_SETS = (
    ["-e", "trace=%file", "-Z"], ["--json", "-P", "/etc/passwd", "-e", "signal=none"],
    ["-e", "trace=!read,/^open", "-e", "status=unfinished,failed", "-qq"],
)
# the strace view and the summary, with and without the selection
VIEW_SETS = (
    ["--strace"],
    ["--strace", "-y", "-xx", "-T", "-e", "trace=%desc", "-Z", "-e", "read=0,1,2,3",
     "-e", "write=all"],
    ["--strace", "-P", "/etc/passwd", "-e", "status=!failed", "-e", "signal=!SIGCHLD"],
    ["--summary", "-C", "-S", "calls", "-U", "min-time,name", "-e", "trace=%file"],
)


class Crash(Exception):
    pass


def dump(data: bytes, argv: list[str], strict: bool = False,
         layout: record.Layout | None = None) -> bytes:
    """kdump's work on ``data`` with options ``argv``; raises Crash on a bug.

    ``layout`` skips detection (which refuses implausible headers), so that
    random records reach the formatters.
    """
    if argv and argv[0] in ("--strace", "--summary"):
        return view_dump(data, argv, layout)
    opts = cli.parse(argv)
    reader = record.RecordReader(io.BytesIO(data), layout)
    out = io.BytesIO()
    try:
        layout = reader.detect()
    except (record.TraceFileError, record.ForeignFormat):
        return b""
    if layout is None:
        return b""
    formatter = (JsonFormatter if opts.json else TextFormatter)(opts, layout)
    try:
        formatter.dump(narrow(reader, opts.selection), out.write, every=64)
    except (record.TraceFileError, record.ForeignFormat):
        pass
    except Exception as e:
        raise Crash(f"{argv}: {type(e).__name__}: {e}") from e
    text = formatter.text if opts.json else formatter
    if strict and text.decode_errors:
        rec, e = text.decode_errors[0]
        raise Crash(f"{argv}: decoder raised {type(e).__name__}: {e} on {rec!r}") from e
    if opts.json:
        for line in out.getvalue().splitlines():
            try:
                json.loads(line)
            except ValueError as e:
                raise Crash(f"{argv}: bad JSON {line[:200]!r}") from e
    return out.getvalue()


def view_dump(data: bytes, argv: list[str], layout: record.Layout | None = None) -> bytes:
    """The strace view's or the summary's work on ``data``; raises Crash on a bug."""
    reader = record.RecordReader(io.BytesIO(data), layout)
    out = io.StringIO()
    try:
        if argv[0] == "--strace":
            strace.run(strace.parse(argv[1:]), reader, out)
        else:
            opts = summary.parse(argv[1:])
            summary.write_tables(opts, summary.count(opts, reader, out), out)
    except (record.TraceFileError, record.ForeignFormat):
        pass
    except Exception as e:
        raise Crash(f"{argv}: {type(e).__name__}: {e}") from e
    return out.getvalue().encode("utf-8", "surrogateescape")


def check(data: bytes, strict: bool = False, layout: record.Layout | None = None) -> None:
    for argv in (*OPTION_SETS, *SELECTION_SETS, *VIEW_SETS):
        dump(data, argv, strict, layout)


def seeds() -> list[bytes]:
    from gen_mixed_trace import generate
    out = io.BytesIO()
    generate(out, 400)
    found = [out.getvalue()]
    samples = ROOT.parent / "shared" / "samples"
    for path in sorted(samples.glob("*/*.ktrace.out")):
        found.append(path.read_bytes()[:20000])
    return found


EDIT_KINDS = 5
BOUNDARY_WORDS = (0, 1, 0x7F, 0x80, 0xFF, 0x4000, 0x8000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def apply_edits(data: bytes, edits) -> bytes:
    """Edits of the kinds that break traces: (kind, where, bytes, size)."""
    buf = bytearray(data)
    for kind, where, junk, size in edits:
        at = where % (len(buf) + 1)
        if kind == 0:                            # overwrite
            buf[at:at + len(junk)] = junk
        elif kind == 1:                          # a boundary value in a word
            buf[at:at + 4] = BOUNDARY_WORDS[size % len(BOUNDARY_WORDS)].to_bytes(4, "little")
        elif kind == 2:                          # cut the end off
            del buf[at:]
        elif kind == 3:                          # splice a piece of itself elsewhere
            start = (where // 7) % (len(buf) + 1)
            buf[at:at] = buf[start:start + size]
        else:                                    # delete a piece
            del buf[at:at + size]
    return bytes(buf)


def run_hypothesis(seconds: float, strict: bool) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    corpus = seeds()
    edit = st.tuples(st.integers(0, EDIT_KINDS - 1), st.integers(0, 1 << 20),
                     st.binary(min_size=1, max_size=8), st.integers(1, 256))

    @settings(max_examples=400, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(corpus) - 1), st.lists(edit, max_size=8))
    def target(seed, edits):
        check(apply_edits(corpus[seed], edits), strict)

    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        try:
            target()
        except Crash:
            traceback.print_exc()
            return 1
        rounds += 1
    print(f"fuzz_reader: {rounds * 400} inputs, no crash", file=sys.stderr)
    return 0


def run_atheris(seconds: float, strict: bool) -> int:
    import atheris

    def target(data: bytes) -> None:
        try:
            check(data, strict)
        except Crash:
            _report(data)
            raise
    corpus = Path("/tmp/ktrace-fuzz-corpus")
    corpus.mkdir(exist_ok=True)
    for i, data in enumerate(seeds()):
        (corpus / f"seed{i}").write_bytes(data)
    atheris.instrument_all()      # coverage of the Python code already imported
    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", "-timeout=20",
                   "-max_len=65536", str(corpus)], target)
    atheris.Fuzz()
    return 0


def _report(data: bytes) -> None:
    path = Path(f"/tmp/ktrace-fuzz-crash-{int(time.time())}.out")
    path.write_bytes(data)
    traceback.print_exc()
    print(f"fuzz_reader: crash input saved to {path}", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--strict", action="store_true", help="decoder exceptions are crashes")
    ap.add_argument("--engine", choices=("atheris", "hypothesis", "auto"), default="auto",
                    help="atheris when it imports (auto), else hypothesis")
    a = ap.parse_args(argv)
    engine = a.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    if engine == "atheris":
        return run_atheris(a.seconds, a.strict)
    return run_hypothesis(a.seconds, a.strict)


if __name__ == "__main__":
    sys.exit(main())

"""kdump's fast path (kdump/lines.py's walk) against its general path.

The text and JSON views walk the reader's buffer and reuse the lines of
records they have seen; a record they cannot take so goes the general way.
Both must write the same bytes: each trace here is dumped from the reader's
own iterator (the fast path) and from a generator over it (the general
path), with small read chunks so that records straddle the buffer's ends.
The fast path runs twice: with its compiled walk (_fastwalk.c) and with the
Python loop alone (KTRACE_PURE_PYTHON=1).
"""

import io
import shutil
import sysconfig
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.kdump import cli
from ktrace.kdump.jsonl import JsonFormatter
from ktrace.kdump.iodump import PIECE
from ktrace.kdump import lines
from ktrace.kdump.lines import CACHEABLE
from ktrace.kdump.text import TextFormatter
from kdump_support import call, encode, freebsd, header, linux, mutated, ret


@pytest.fixture(autouse=True, params=["compiled", "python"])
def walk_kind(request, monkeypatch):
    """Each test with the compiled walk and with the Python loop alone."""
    if request.param == "compiled":
        if lines._fastwalk is None:
            pytest.skip("the compiled walk is not built (see test_the_compiled_walk_is_built)")
        monkeypatch.delenv("KTRACE_PURE_PYTHON", raising=False)
    else:
        monkeypatch.setenv("KTRACE_PURE_PYTHON", "1")
    return request.param


def genio(fd, data, **kw):
    return r.Genio(header(r.GENIO, **kw), fd, 0, data)


def repetitive():
    """A dd-like loop of two threads, twice per ABI, with what the fast path leaves to
    the general one in between: ABI changes, drops, long and invalid payloads."""
    recs = [linux(), linux(pid=200, comm=b"sh")]
    for i in range(40):
        for pid in (100, 200):
            recs += [call(0, 0, 0x7FFC0000, 1, pid=pid, nsec=i),
                     genio(0, b"\0", pid=pid, nsec=i),
                     ret(0, 1, pid=pid, nsec=i)]
        if i == 10:
            recs.append(freebsd())                    # pid 100 changes ABI
        if i == 15:
            recs.append(call(0, 0, dropped=True))
            recs.append(r.Namei(header(r.NAMEI, dropped=True), b"/etc/passwd"))
        if i == 20:
            recs.append(genio(1, bytes(range(256)) * 3))     # too long to be cached
            recs.append(r.Unknown(header(r.SYSRET), b"\1"))    # invalid payload
            recs.append(r.Unknown(header(99), b"junk"))        # unknown type
        if i == 30:
            recs.append(r.ProcDtor(header(r.PROCDTOR, pid=200)))
        recs.append(genio(1, b"hello\n" * (i % 3), tid=101 + i % 2))
    return recs


def records_of(reader, general):
    """The reader itself for the fast path, or its records for the general one only."""
    return (rec for rec in reader) if general else reader


def dumped(view, data, argv, general, chunk=97):
    opts = cli.parse(["-f", "-", *argv])
    reader = r.RecordReader(io.BytesIO(data))
    reader.CHUNK = chunk
    formatter = view(opts, reader.detect())
    out = io.BytesIO()
    formatter.dump(records_of(reader, general), out.write, every=7)
    return out.getvalue()


OPTIONS = [(), ("-H", "-A"), ("-n", "-d", "-S"), ("-s",), ("-m", "3"), ("-t", "ci"),
           ("-p", "200"), ("-p", "101"), ("-T", "-E", "-R", "-c")]


@pytest.mark.parametrize("view", [TextFormatter, JsonFormatter])
@pytest.mark.parametrize("argv", OPTIONS)
def test_fast_and_general_paths_write_the_same(view, argv):
    data = encode(repetitive())
    fast = dumped(view, data, argv, general=False)
    assert fast == dumped(view, data, argv, general=True)
    assert fast == dumped(view, data, argv, general=False, chunk=1 << 20)


def test_cut_records_and_v0_records_between_v1_ones():
    recs = repetitive()
    data = (encode(recs[:30]) + encode(recs[30:60], r.AMD64_V0) + encode(recs[60:]))
    for view in (TextFormatter, JsonFormatter):
        fast = dumped(view, data, (), general=False)
        assert fast == dumped(view, data, (), general=True)
    big = encode([linux(), genio(1, b"x" * 5000), call(0, 0, 0, 1), genio(1, b"x" * 5000)])
    reader_cut = r.RecordReader.MAX_KEPT
    try:
        r.RecordReader.MAX_KEPT = 1000
        fast = dumped(TextFormatter, big, (), general=False)
        assert fast == dumped(TextFormatter, big, (), general=True)
        assert fast.count(b"more bytes not kept") == 2
    finally:
        r.RecordReader.MAX_KEPT = reader_cut


def test_a_bad_record_stops_both_paths_at_the_same_line():
    data = encode(repetitive()[:50]) + b"\xff" * 70
    outs = []
    for general in (False, True):
        opts = cli.parse(["-f", "-"])
        reader = r.RecordReader(io.BytesIO(data))
        formatter = TextFormatter(opts, reader.detect())
        out = io.BytesIO()
        with pytest.raises(r.TraceFileError) as e:
            formatter.dump(records_of(reader, general), out.write)
        outs.append((out.getvalue(), str(e.value)))
    assert outs[0] == outs[1]


def test_kdump_gives_the_text_view_its_reader_when_nothing_narrows(tmp_path, monkeypatch):
    """The fast path is taken from the command line (select.narrow passes the
    reader on), and the output is the general path's."""
    path = tmp_path / "t.out"
    path.write_bytes(encode(repetitive()))
    given = []
    dump = TextFormatter.dump
    monkeypatch.setattr(TextFormatter, "dump",
                        lambda self, records, *a, **k: given.append(records) or
                        dump(self, records, *a, **k))
    assert cli.main(["-f", str(path)]) == 0
    assert isinstance(given[0], r.RecordReader)


def test_cached_payloads_have_str_bodies():
    assert CACHEABLE <= PIECE     # longer data may make a body of pieces


def test_the_compiled_walk_is_built(walk_kind):
    """Where the install could build it (a C compiler, Python's headers), it did."""
    if walk_kind == "python":
        pytest.skip("a test of the compiled walk")
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    if shutil.which("cc") is None or not headers.exists():
        pytest.skip("no C compiler or no Python headers here")
    assert lines._fastwalk is not None
    assert lines.fast_path() is lines._fastwalk.walk
    assert lines._fastwalk.HEADER_SIZE == r.AMD64_V1.header_size


def test_hostile_bytes_give_both_paths_the_same_lines_and_error():
    """Mutated traces (lengths, types, versions, truncation): the fast path,
    compiled or not, writes what the general path writes and stops with the
    same error."""
    for bad in mutated(encode(repetitive()), seed=15, count=60):
        for view in (TextFormatter, JsonFormatter):
            outs = []
            for general in (False, True):
                try:
                    outs.append((dumped(view, bad, (), general), None))
                except r.TraceFileError as e:
                    outs.append((None, str(e)))
            assert outs[0] == outs[1]

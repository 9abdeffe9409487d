"""The analysis views' fast path (analysis/units.py) against the model alone.

--perfetto, --parquet and --sql take a trace's repeated units (a call from
CALL to RET, a switch out and in, a fault, a lone record) from the reader's
buffer and replay what the sink made of them before.  They must make what
the model makes record by record (KTRACE_PURE_PYTHON=1): the same Perfetto
bytes, the same tables, the same error, on made-up traces built to trip the
replay (threads left mid-call, ABIs changed, times that go back or repeat,
addresses that change, hostile bytes) and on real ones.
"""

import io

import pytest

from ktrace import record as r
from ktrace.analysis import feed, units
from ktrace.analysis.perfetto import PerfettoWriter
from kdump_support import T0, call, encode, freebsd, header, linux, mutated, ret
from analysis_support import engines, freebsd_samples, make_trace

pa = pytest.importorskip("pyarrow")
from ktrace.analysis import tables  # noqa: E402  (needs pyarrow)

READ, OPENAT, FSTAT, GETPID, CLONE = 0, 257, 5, 39, 56


def at(ns: int, **kw) -> dict:
    """header() arguments for a time of ``ns`` nanoseconds after T0."""
    return dict(sec=T0 + ns // 1_000_000_000, nsec=ns % 1_000_000_000, **kw)


def views(data: bytes, monkeypatch, pure: bool):
    """(Perfetto bytes, {table: rows}, the error or None) of the trace ``data``."""
    if pure:
        monkeypatch.setenv("KTRACE_PURE_PYTHON", "1")
    else:
        monkeypatch.delenv("KTRACE_PURE_PYTHON", raising=False)
    out = io.BytesIO()
    writer = PerfettoWriter(out)
    error = None
    try:
        feed(r.RecordReader(io.BytesIO(data)), writer)
    except r.TraceFileError as e:
        error = str(e)
    writer.close()
    found, table_error = tables.collect(io.BytesIO(data))
    assert str(table_error or "") == str(error or "")
    return out.getvalue(), {name: t.to_pylist() for name, t in found.items()}, error


def same_both_ways(data: bytes, monkeypatch):
    fast = views(data, monkeypatch, pure=False)
    assert fast == views(data, monkeypatch, pure=True)
    return fast


class Trace:
    """Records in time order: ``add`` each at the next time (or one given)."""

    def __init__(self):
        self.records: list = []
        self.ns = 1000

    def add(self, make, *args, step: int = 1000, ns: int | None = None, **kw):
        self.ns = self.ns + step if ns is None else ns
        self.records.append(make(*args, **at(self.ns, **kw)))

    def read(self, fd: int, data: bytes, buffer: int, **kw):
        self.add(call, READ, fd, buffer, 4096, **kw)
        self.add(lambda **h: r.Genio(header(r.GENIO, **h), fd, 0, data), **kw)
        self.add(ret, READ, len(data), **kw)

    def openat(self, path: bytes, address: int, fd: int, **kw):
        self.add(call, OPENAT, 0xFFFFFF9C, address, 0, 0, **kw)
        self.add(lambda **h: r.Namei(header(r.NAMEI, **h), path), **kw)
        self.add(ret, OPENAT, fd, **kw)

    def getpid(self, result: int, **kw):
        self.add(call, GETPID, **kw)
        self.add(ret, GETPID, result, **kw)

    def switch(self, **kw):
        self.add(lambda **h: r.Csw(header(r.CSW, **h), 1, 0, b"pipe"), **kw)
        self.add(lambda **h: r.Csw(header(r.CSW, **h), 0, 0, b"pipe"), **kw)

    def data(self) -> bytes:
        return encode(self.records)


def repetitive() -> Trace:
    t = Trace()
    t.add(linux, pid=100)
    t.add(linux, pid=200)
    for i in range(40):
        t.read(3, b"hello\n", 0x7FFC0000 + 64 * i)             # another buffer each time
        t.openat(b"/etc/passwd", 0x5555000 + i, 4 if i % 3 else -2)
        t.getpid(100, tid=101 if i % 2 else 100)
        t.switch(pid=200)
        t.add(lambda **h: r.Psig(header(r.PSIG, **h), 17, 1, 0, (0, 0, 0, 0)), pid=200)
        t.add(lambda **h: r.Fault(header(r.FAULT, **h), 0x1000, 1))
        t.add(lambda **h: r.FaultEnd(header(r.FAULTEND, **h), 0))
        t.add(lambda **h: r.User(header(r.USER, **h), b"mark"), pid=200)
    return t


def test_the_units_walk_is_taken_and_replays(monkeypatch):
    """Where built, the compiled walk replays the repeated units (this test
    fails if the fast path quietly stops being taken)."""
    if units.fast_path("units") is None:
        pytest.skip("the compiled walk is not built here")
    replayed = []
    original = PerfettoWriter.replay
    monkeypatch.setattr(PerfettoWriter, "replay",
                        lambda self, *a: replayed.append(1) or original(self, *a))
    same_both_ways(repetitive().data(), monkeypatch)
    assert len(replayed) > 200


def test_repeated_units_make_what_the_model_makes(monkeypatch):
    perfetto, rows, error = same_both_ways(repetitive().data(), monkeypatch)
    assert error is None
    assert len(rows["syscalls"]) == 120
    assert {row["raw_args"][1] for row in rows["syscalls"] if row["syscall"] == "read"} == {
        0x7FFC0000 + 64 * i for i in range(40)}
    assert {row["duration_ns"] for row in rows["switches"]} == {1000}


def test_a_thread_left_mid_call_or_mid_wait_is_not_replayed(monkeypatch):
    t = repetitive()
    for _ in range(3):
        t.add(call, READ, 3, 0x7FFC0000, 4096)                   # its RET comes later
        t.getpid(200, pid=200)
        t.read(3, b"hello\n", 0x7FFC0000)                        # a known unit, thread busy
        t.add(lambda **h: r.Csw(header(r.CSW, **h), 1, 0, b"pipe"), pid=200)
        t.getpid(100)
        t.switch(pid=200)                                        # known, thread switched out
        t.add(ret, READ, 6)
    same_both_ways(t.data(), monkeypatch)


def test_a_new_abi_or_process_forgets_the_units(monkeypatch):
    t = repetitive()
    t.add(freebsd, pid=100)          # pid 100 now a FreeBSD process: numbers mean other calls
    for i in range(5):
        t.read(3, b"hello\n", 0x7FFC0000 + i)
        t.openat(b"/etc/passwd", 0x5555000 + i, 4)
    t.add(lambda **h: r.ProcDtor(header(r.PROCDTOR, **h)), pid=200)
    t.add(linux, pid=200)
    for _ in range(5):
        t.switch(pid=200)
        t.getpid(200, pid=200)
    same_both_ways(t.data(), monkeypatch)


def test_forks_execs_exits_and_drops_go_the_model_s_way(monkeypatch):
    t = repetitive()
    for child in (300, 301, 302):
        t.add(call, CLONE, 0x11, 0)
        t.add(ret, CLONE, child)
        t.getpid(child, pid=child)
        t.add(call, 59, 0x1000, 0x2000, 0x3000, pid=child)
        t.add(lambda **h: r.Namei(header(r.NAMEI, **h), b"/bin/true"), pid=child)
        t.add(ret, 59, 0, pid=child, comm=b"true")
        t.add(call, 231, 0, pid=child, comm=b"true")
        t.add(lambda **h: r.ProcDtor(header(r.PROCDTOR, **h)), pid=child, comm=b"true")
    for _ in range(3):
        t.getpid(100)
        t.add(call, GETPID, dropped=True)
        t.add(ret, GETPID, 100)
    same_both_ways(t.data(), monkeypatch)


def test_times_that_repeat_go_back_or_overflow(monkeypatch):
    t = repetitive()
    for step in (0, 0, -5000, 1000, -1, 0):
        t.getpid(100, step=step)
        t.switch(pid=200, step=step)
    t.getpid(100, ns=(1 << 63) + 5)                          # past int64 nanoseconds
    t.records.append(call(GETPID, pid=200, sec=-(1 << 40)))     # before 1970
    t.getpid(100)
    _, rows, _ = same_both_ways(t.data(), monkeypatch)
    assert all(0 <= row["start_ns"] < 1 << 63 for row in rows["syscalls"])


def test_hostile_bytes_give_both_ways_the_same_views_and_error(monkeypatch):
    for bad in mutated(repetitive().data(), seed=13, count=40, most=5):
        same_both_ways(bad, monkeypatch)


@pytest.fixture(scope="module", params=engines())
def real_trace(request, tmp_path_factory):
    return make_trace(tmp_path_factory.mktemp(request.param), request.param)


def test_real_traces_make_the_same_views_both_ways(real_trace, monkeypatch):
    perfetto, rows, error = same_both_ways(real_trace.read_bytes(), monkeypatch)
    assert error is None and rows["syscalls"] and perfetto


def test_freebsd_files_make_the_same_views_both_ways(samples_dir, monkeypatch):
    for sample in freebsd_samples(samples_dir):
        same_both_ways(sample.read_bytes(), monkeypatch)


def test_a_trace_that_does_not_repeat_is_not_learnt_unit_by_unit(monkeypatch):
    """Learning costs what the general way costs again: where units do not
    repeat, most go the general way unlearnt, and replays resume after."""
    if units.fast_path("units") is None:
        pytest.skip("the compiled walk is not built here")
    monkeypatch.setattr(units, "LEARN_WINDOW", 8)
    monkeypatch.setattr(units, "GENERAL_STRETCH", 50)
    t = Trace()
    t.add(linux, pid=100)
    for i in range(300):
        t.getpid(i)                      # every result differs
    for _ in range(100):
        t.getpid(7)
    learnt, replayed = [], []
    learn, replay = units.Walk._learn, PerfettoWriter.replay
    monkeypatch.setattr(units.Walk, "_learn",
                        lambda self, *a: learnt.append(1) or learn(self, *a))
    monkeypatch.setattr(PerfettoWriter, "replay",
                        lambda self, *a: replayed.append(1) or replay(self, *a))
    same_both_ways(t.data(), monkeypatch)          # the timeline and the tables, each
    assert len(learnt) < 2 * 150 and len(replayed) > 50     # not 2 * 301 learnt

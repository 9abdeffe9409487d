"""kdump --perfetto: checked against Perfetto's own schema.

The output is parsed with the perfetto package's generated classes
(perfetto_trace_pb2): every packet decodes, tracks are unique and parented,
slices balance and nest per thread, time never goes back on a sequence, and
the slices and instants match the records.  (Perfetto's trace_processor is
not used: the perfetto package downloads its binary at run time.)
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from analysis_support import (MISSING, counts, engines, freebsd_samples, kdump, make_trace,
                              truncated, without_extra)
from ktrace import record as r

pb = pytest.importorskip("perfetto.protos.perfetto.trace.perfetto_trace_pb2")
BEGIN, END, INSTANT = 1, 2, 3


class Checked:
    """A decoded trace, checked as it is read."""

    def __init__(self, data: bytes):
        trace = pb.Trace()
        trace.ParseFromString(data)
        self.packets = list(trace.packet)
        self.tracks: dict[int, object] = {}
        self.slices: list[tuple] = []   # (begin event, begin ts, end ts, depth, end event)
        self.instants: list = []
        self.flows_out: set[int] = set()
        self.flows_in: set[int] = set()
        self._read()

    def _read(self) -> None:
        stacks = defaultdict(list)
        last = {}
        for p in self.packets:
            seq = p.trusted_packet_sequence_id
            assert seq > 0
            if p.HasField("track_descriptor"):
                self._track(p.track_descriptor)
                continue
            assert p.HasField("track_event"), p
            e = p.track_event
            assert p.timestamp >= last.get(seq, 0), "time went back on a sequence"
            last[seq] = p.timestamp
            assert e.track_uuid in self.tracks, "an event on an undescribed track"
            assert self.tracks[e.track_uuid].HasField("thread")
            stack = stacks[e.track_uuid]
            self.flows_out.update(e.flow_ids)
            self.flows_in.update(e.terminating_flow_ids)
            if e.type == BEGIN:
                assert e.name
                stack.append((e, p.timestamp))
            elif e.type == END:
                assert stack, "a slice ends that never began"
                begin, ts = stack.pop()
                assert p.timestamp >= ts
                self.slices.append((begin, ts, p.timestamp, len(stack), e))
            else:
                assert e.type == INSTANT and e.name
                self.instants.append(e)
        assert not any(stacks.values()), "slices left open"

    def _track(self, t) -> None:
        old = self.tracks.get(t.uuid)
        if old is not None:          # described again (a new name after exec): same entity
            assert old.HasField("thread") == t.HasField("thread")
            who = (lambda d: (d.thread.pid, d.thread.tid)) if t.HasField("thread") else \
                (lambda d: d.process.pid)
            assert who(old) == who(t)
        if t.HasField("thread"):
            parent = self.tracks[t.parent_uuid]
            assert parent.HasField("process") and parent.process.pid == t.thread.pid
        else:
            assert t.HasField("process")
        self.tracks[t.uuid] = t

    def by_category(self, category: str) -> list:
        return [s for s in self.slices if category in s[0].categories]

    def failed(self) -> list:
        """Failed calls: by category, or by the error on the END of a call written open."""
        return [s for s in self.by_category("syscall")
                if "failed" in s[0].categories or "error" in slice_args(s)]

    def instants_of(self, category: str) -> list:
        return [e for e in self.instants if category in e.categories]


def args(event) -> dict:
    out = {}
    for a in event.debug_annotations:
        out[a.name] = getattr(a, a.WhichOneof("value"))
    return out


def slice_args(s) -> dict:
    """A slice's annotations, from its BEGIN and its END."""
    return {**args(s[0]), **args(s[4])}


def perfetto(trace, tmp_path, *extra) -> tuple[Checked, object]:
    out = tmp_path / "trace.pftrace"
    res = kdump("--perfetto", "-o", out, "-f", trace, *extra)
    return Checked(out.read_bytes()), res


@pytest.fixture(scope="module", params=engines())
def traced(request, tmp_path_factory):
    return make_trace(tmp_path_factory.mktemp(request.param), request.param)


def test_a_real_trace_decodes_balances_and_matches_its_records(traced, tmp_path):
    checked, res = perfetto(traced, tmp_path)
    assert (res.returncode, res.stderr) == (0, b"")
    c = counts(traced)
    calls = checked.by_category("syscall")
    assert len(calls) == c["SYSCALL"]
    assert len(checked.failed()) == c["failed"]
    assert len(checked.by_category("sched")) == c["CSW out"]
    assert len(checked.by_category("fault")) == c["FAULT"] > 0
    assert len(checked.instants_of("signal")) == c["PSIG"] > 0
    assert len(checked.instants_of("user")) == c["USER"] == 1
    assert {p.track_descriptor.process.pid for p in checked.packets
            if p.track_descriptor.HasField("process")} == \
        {rec.header.pid for rec in r.read_records(str(traced))}
    # nested slices only inside calls: waits and faults in the kernel's work
    assert all(depth == 0 or "syscall" not in begin.categories
               for begin, _, _, depth, _ in checked.slices)


def test_a_call_carries_its_decoded_arguments_result_and_errno(traced, tmp_path):
    checked, _ = perfetto(traced, tmp_path)
    failed = [slice_args(s) for s in checked.failed() if slice_args(s).get("path") == MISSING]
    assert failed, "the failed lstat/statx/open of the missing path"
    assert {a["error"] for a in failed} == {"ENOENT"}
    assert all(a["errno"] == 2 and MISSING in a["args"] and "ENOENT" in a["result"]
               for a in failed)
    writes = [slice_args(s) for s in checked.by_category("syscall") if s[0].name == "write"]
    assert any(a.get("bytes", 0) > 0 and a["retval"] == a["bytes"] for a in writes)
    user = args(checked.instants_of("user")[0])
    assert user["text"] == "checkpoint one"
    exits = [args(e) for e in checked.instants_of("exit")]
    assert {"exit_status": 3} in exits


def test_forks_are_flows_from_the_fork_to_the_child(traced, tmp_path):
    checked, _ = perfetto(traced, tmp_path)
    forks = [s[0] for s in checked.by_category("syscall") if s[0].flow_ids]
    assert forks and {f.name for f in forks} <= {"clone", "clone3", "fork", "vfork"}
    assert checked.flows_out == checked.flows_in
    assert len(checked.flows_out) >= 3          # ls, cat, wc, sleep, python


def test_exec_renames_the_tracks(traced, tmp_path):
    checked, _ = perfetto(traced, tmp_path)
    names = {p.track_descriptor.thread.thread_name for p in checked.packets
             if p.track_descriptor.HasField("thread")}
    assert {"sh", "ls", "cat", "wc", "sleep"} <= names
    execs = [args(e) for e in checked.instants_of("exec")]
    assert any(a.get("image", "").endswith("/ls") for a in execs)


def test_p_keeps_one_process(traced, tmp_path):
    pid = next(rec.header.pid for rec in r.read_records(str(traced)))
    checked, res = perfetto(traced, tmp_path, "-p", pid)
    assert res.returncode == 0
    assert {p.track_descriptor.process.pid for p in checked.packets
            if p.track_descriptor.HasField("process")} == {pid}


def test_a_truncated_trace_keeps_every_good_record_and_marks_the_open_calls(traced, tmp_path):
    cut = truncated(traced, tmp_path)
    checked, res = perfetto(cut, tmp_path)
    text = kdump("-f", cut)
    assert res.returncode == 1 == text.returncode
    assert res.stderr == text.stderr and res.stderr.count(b"\n") == 1
    assert b": offset " in res.stderr
    assert len(checked.by_category("syscall")) == counts(cut)["SYSCALL"]
    assert checked.by_category("unfinished")


def test_freebsd_files_make_timelines_too(samples_dir, tmp_path):
    for path in freebsd_samples(samples_dir):
        checked, res = perfetto(path, tmp_path)
        assert res.returncode == 0, (path, res.stderr)
        c = counts(path)
        assert len(checked.by_category("syscall")) == c["SYSCALL"], path
        assert len(checked.instants_of("signal")) == c["PSIG"], path


def test_no_extra_is_needed_for_the_timeline(traced, tmp_path):
    out = tmp_path / "t.pftrace"
    res = without_extra("--perfetto", "-o", out, "-f", traced)
    assert (res.returncode, res.stderr) == (0, b"")
    Checked(out.read_bytes())


def test_usage_errors_are_one_line_and_the_usage(tmp_path):
    res = kdump("--perfetto", "-f", tmp_path / "none.out")
    assert res.returncode == 1
    assert res.stderr.decode().startswith("kdump: --perfetto needs -o outfile\nusage:")
    res = kdump("--perfetto", "-o", tmp_path / "x", "-f", tmp_path / "none.out")
    assert res.returncode == 1
    assert res.stderr.decode() == f"kdump: {tmp_path / 'none.out'}: No such file or directory\n"

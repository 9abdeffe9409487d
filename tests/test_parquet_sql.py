"""kdump --parquet, kdump --sql, ktrace.to_arrow, ktrace.sql on real traces."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from analysis_support import (MISSING, counts, engines, freebsd_samples, kdump, make_trace,
                              truncated, without_extra)
import ktrace
from ktrace import record as r

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")
from ktrace.analysis import tables  # noqa: E402  (needs pyarrow)
from ktrace.analysis.query import QueryError  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "analysis.md"


@pytest.fixture(scope="module", params=engines())
def traced(request, tmp_path_factory):
    return make_trace(tmp_path_factory.mktemp(request.param), request.param)


@pytest.fixture(scope="module")
def arrow(traced):
    return ktrace.to_arrow(traced)


def test_the_tables_match_the_records(traced, arrow):
    c = counts(traced)
    assert set(arrow) == set(tables.TABLES)
    assert arrow["syscalls"].num_rows == c["SYSCALL"]
    assert arrow["io"].num_rows == c["GENIO"]
    assert arrow["signals"].num_rows == c["PSIG"] > 0
    assert arrow["switches"].num_rows == c["CSW out"]
    assert arrow["faults"].num_rows == c["FAULT"] > 0
    assert arrow["user"].num_rows == c["USER"] == 1
    assert arrow["processes"].num_rows == c["PROCDTOR"]
    failed = arrow["syscalls"].filter(arrow["syscalls"]["failed"])
    assert failed.num_rows == c["failed"]
    # the GIO bytes of a call are its bytes column
    assert pa.compute.sum(arrow["syscalls"]["bytes"]).as_py() == \
        pa.compute.sum(arrow["io"]["length"]).as_py()


def test_a_failed_open_has_its_path_errno_and_text(arrow):
    rows = [row for row in arrow["syscalls"].to_pylist() if row["path"] == MISSING]
    assert rows and all(row["errno"] == 2 and row["error"] == "ENOENT" and row["failed"]
                        and MISSING in row["args"] and row["comm"] == "ls" for row in rows)


def test_processes_know_their_parent_image_and_status(arrow):
    procs = arrow["processes"].to_pylist()
    by_comm = {p["comm"]: p for p in procs}
    shell = by_comm["sh"]
    assert shell["exit_status"] == 3
    for child in ("ls", "cat", "wc", "sleep"):
        assert by_comm[child]["ppid"] == shell["pid"]
        assert by_comm[child]["image"].endswith("/" + child)
    assert by_comm["ls"]["exit_status"] == 2
    assert all(p["first_ns"] <= p["last_ns"] for p in procs)


def test_user_and_signals_rows(arrow):
    assert arrow["user"].to_pylist()[0]["text"] == "checkpoint one"
    sig = arrow["signals"].to_pylist()[0]
    assert (sig["signal"], sig["signo"]) == ("SIGUSR1", 10)


def test_the_schema_is_the_documented_one(arrow):
    """docs/analysis.md has a table per Arrow table listing each column in order."""
    text = DOCS.read_text()
    for name, table in arrow.items():
        section = re.search(rf"^### `{name}`\n(.*?)(?=^### |\Z)", text, re.S | re.M)
        assert section, f"docs/analysis.md has no section for {name}"
        documented = re.findall(r"^\| `(\w+)` \|", section.group(1), re.M)
        assert documented == table.schema.names, name


def test_parquet_is_written_in_row_groups(traced, tmp_path, monkeypatch, arrow):
    monkeypatch.setattr(tables, "ROWS", 100)
    counts_, error = tables.write_parquet(traced, tmp_path / "pq")
    assert error is None
    meta = pq.ParquetFile(tmp_path / "pq" / "syscalls.parquet").metadata
    assert meta.num_row_groups > 1
    assert all(meta.row_group(i).num_rows <= 100 for i in range(meta.num_row_groups))
    assert counts_["syscalls"] == arrow["syscalls"].num_rows


def test_kdump_parquet_writes_every_table(traced, tmp_path, arrow):
    res = kdump("--parquet", tmp_path / "pq", "-f", traced)
    assert (res.returncode, res.stderr) == (0, b"")
    for name, table in arrow.items():
        written = pq.read_table(tmp_path / "pq" / f"{name}.parquet")
        assert written.schema == table.schema
        assert written.num_rows == table.num_rows


def test_kdump_sql_prints_a_table_or_csv(traced, arrow):
    query = ("select comm, count(*) as calls, count(errno) as errors from syscalls "
             "group by comm order by comm")
    table = kdump("--sql", query, "-f", traced)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.decode().splitlines()
    assert lines[0].split() == ["comm", "calls", "errors"]
    assert set(lines[1]) == {"-", " "}
    as_csv = kdump("--sql", query, "--csv", "-f", traced)
    rows = list(csv.reader(io.StringIO(as_csv.stdout.decode())))
    expected = ktrace.sql(traced, query).to_pylist()
    assert rows[0] == ["comm", "calls", "errors"]
    assert rows[1:] == [[row["comm"], str(row["calls"]), str(row["errors"])]
                        for row in expected]
    assert len(lines) == 2 + len(expected)
    total = sum(row["calls"] for row in expected)
    assert total == arrow["syscalls"].num_rows


def test_a_bad_query_is_duckdbs_message_on_one_line(traced):
    res = kdump("--sql", "select nothing from nowhere", "-f", traced)
    assert res.returncode == 1 and res.stdout == b""
    message = res.stderr.decode()
    assert message.startswith("kdump: sql: Catalog Error: ") and message.count("\n") == 1
    with pytest.raises(QueryError, match="Parser Error"):
        ktrace.sql(traced, "select from where")


def test_a_truncated_trace_gives_the_good_rows_then_the_error(traced, tmp_path):
    cut = truncated(traced, tmp_path)
    text = kdump("-f", cut)
    assert text.returncode == 1
    res = kdump("--sql", "select count(*) from syscalls", "--csv", "-f", cut)
    assert res.returncode == 1 and res.stderr == text.stderr
    assert res.stdout.decode().splitlines()[1] == str(counts(cut)["SYSCALL"])
    res = kdump("--parquet", tmp_path / "pq", "-f", cut)
    assert res.returncode == 1 and res.stderr == text.stderr
    assert pq.read_table(tmp_path / "pq" / "syscalls.parquet").num_rows == \
        counts(cut)["SYSCALL"]
    with pytest.raises(r.TraceFileError):
        ktrace.to_arrow(cut)


def test_several_runs_at_once_with_hive_partitioning(traced, tmp_path):
    """The README's query over several runs' Parquet directories."""
    for host, run in (("a", 1), ("a", 2), ("b", 1)):
        res = kdump("--parquet", tmp_path / f"host={host}" / f"run={run}", "-f", traced)
        assert res.returncode == 0
    con = duckdb.connect()
    rows = con.execute(
        "select host, run, count(*) from read_parquet(?, hive_partitioning = true) "
        "group by all order by all", [str(tmp_path / "*" / "*" / "syscalls.parquet")]).fetchall()
    n = counts(traced)["SYSCALL"]
    assert rows == [("a", 1, n), ("a", 2, n), ("b", 1, n)]


def test_without_the_extra_the_options_say_which_in_one_line(traced, tmp_path):
    for args in (["--parquet", tmp_path / "pq"], ["--sql", "select 1"]):
        res = without_extra(*args, "-f", traced)
        assert res.returncode == 1 and res.stdout == b""
        message = res.stderr.decode()
        assert message.count("\n") == 1
        assert "ktrace[analysis]" in message and message.startswith(f"kdump: {args[0]} needs ")
    assert not (tmp_path / "pq").exists()


def test_freebsd_files_make_tables_too(samples_dir):
    for path in freebsd_samples(samples_dir):
        found = ktrace.to_arrow(path)
        c = counts(path)
        calls = found["syscalls"]
        assert calls.num_rows == c["SYSCALL"], path
        assert set(calls["abi"].to_pylist()) <= {"F64", "F32", "U00"}
        named = [n for n in calls["syscall"].to_pylist() if not n.startswith("syscall_")]
        assert len(named) == calls.num_rows, path
        assert found["signals"].num_rows == c["PSIG"], path


def _opens(tmp_path: Path, calls) -> list[str]:
    """The args text of openat calls, each (path string address, NAMI path or None)."""
    pid, t = 4242, 1_700_000_000_000_000_000
    records = [r.pack_record(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64),
                             pid, pid, b"sh", t, 0)]
    for address, path in calls:
        payloads = [(r.SYSCALL, r.syscall_payload(257, (0xFFFFFF9C, address, 0x80000, 0)))]
        if path is not None:
            payloads.append((r.NAMEI, path))
        payloads.append((r.SYSRET, r.sysret_payload(257, 0, 3)))
        for rtype, payload in payloads:
            t += 1000
            records.append(r.pack_record(rtype, payload, pid, pid, b"sh", t, 0))
    trace = tmp_path / "opens.out"
    trace.write_bytes(b"".join(records))
    return ktrace.to_arrow(trace, ["syscalls"])["syscalls"].column("args").to_pylist()


def test_a_path_decodes_alike_from_any_address_and_an_unrecorded_one_shows_its_address(
        tmp_path):
    # decoded texts are cached without the addresses a path's record stands for
    args = _opens(tmp_path, [(0x5555_0000, b"/etc/passwd"), (0x5555_1000, b"/etc/passwd"),
                             (0x5555_2000, None)])
    assert args == ['AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC'] * 2 + \
        ["AT_FDCWD, 0x55552000, O_RDONLY|O_CLOEXEC"]


def test_a_printer_that_shows_the_address_keeps_it_in_the_cache_key(tmp_path, monkeypatch):
    from ktrace.analysis import calltext
    from ktrace.decode.strace import SYSCALLS
    from ktrace.decode.strace.call import Arg, p_path

    def path_and_address(c, i) -> str:
        return f"{p_path(c, i)} /* {c.arg(i):#x} */"
    spec = SYSCALLS["openat"]
    monkeypatch.setitem(SYSCALLS, "openat", (spec[0], Arg(path_and_address)) + spec[2:])
    monkeypatch.setattr(calltext, "SHOWN_BY_RECORD",
                        {**calltext.SHOWN_BY_RECORD, path_and_address: r.NAMEI})
    args = _opens(tmp_path, [(0x5555_0000, b"/etc/passwd"), (0x5555_1000, b"/etc/passwd")])
    assert [a.split("/* ")[1] for a in args] == ["0x55550000 */, O_RDONLY|O_CLOEXEC",
                                                 "0x55551000 */, O_RDONLY|O_CLOEXEC"]

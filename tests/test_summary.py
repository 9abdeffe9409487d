"""kdump --summary: strace -c's table from CALL/RET pairs."""

import io

from ktrace import record as r
from ktrace.kdump import summary
from ktrace.kdump import strace as view
from ktrace.abi import LINUX_X86_64

ABI = LINUX_X86_64


def trace(tmp_path, calls):
    """calls: (pid, name, nanoseconds, error) in order."""
    t, out = 1_700_000_000 * 10**9, []
    for pid in sorted({c[0] for c in calls}):
        out.append(r.pack_record(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64), pid, pid,
                                 b"p", t, 0))
    for pid, name, ns, error in calls:
        nr = ABI.syscall_number(name)
        out.append(r.pack_record(r.SYSCALL, r.syscall_payload(nr, (0,)), pid, pid, b"p", t, 0))
        t += ns
        out.append(r.pack_record(r.SYSRET, r.sysret_payload(nr, error, -error), pid, pid,
                                 b"p", t, 0))
        t += 10
    path = tmp_path / "ktrace.out"
    path.write_bytes(b"".join(out))
    return path


def test_table_sorted_by_time_with_errors_and_max(tmp_path, monkeypatch):
    monkeypatch.setattr(view, "abi_for_svflags", lambda sv: ABI)
    monkeypatch.setattr(summary, "abi_for_svflags", lambda sv: ABI)
    path = trace(tmp_path, [(7, "read", 3000, 0), (7, "read", 1000, 0),
                            (7, "openat", 6000, 2), (7, "close", 0, 0)])
    out = io.StringIO()
    assert summary.main(["-f", str(path)], out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == summary.HEADER and lines[1] == summary.RULE
    assert lines[2] == " 60.00    0.000006           6 0.000006         1         1 openat"
    assert lines[3] == " 40.00    0.000004           2 0.000003         2           read"
    assert lines[4] == "  0.00    0.000000           0 0.000000         1           close"
    assert lines[6] == "100.00    0.000010           2 0.000006         4         1 total"


def test_per_process_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(summary, "abi_for_svflags", lambda sv: ABI)
    path = trace(tmp_path, [(7, "read", 1000, 0), (8, "write", 1000, 0)])
    out = io.StringIO()
    assert summary.main(["--per-process", "-f", str(path)], out) == 0
    text = out.getvalue()
    assert text.startswith("pid 7\n") and "\npid 8\n" in text
    assert text.count(" total") == 2


def test_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02garbage")
    assert summary.main(["-f", str(bad)]) == 1
    assert summary.main(["-j"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err

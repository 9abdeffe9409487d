"""No input, however mangled, makes kdump fail but with its own one-line errors.

A short run of tools/fuzz_reader.py's checks: random records of every type
through every formatter and option set, and random edits of real traces.
"""

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ktrace import record as r
from ktrace.kdump.text import TAGS
from test_record import records

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import fuzz_reader  # noqa: E402

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def corpus():
    return fuzz_reader.seeds()


@given(st.lists(records(r.AMD64_V1), min_size=1, max_size=12))
@FAST
def test_any_records_format_in_every_option_set(recs):
    raw = b"".join(r.encode(rec) for rec in recs)
    for argv in fuzz_reader.OPTION_SETS:
        out = fuzz_reader.dump(raw, argv, strict=True, layout=r.AMD64_V1)
        if "-p" not in argv and "-t" not in argv:     # something printable is printed
            assert out or not any(rec.header.type in TAGS for rec in recs)


@given(st.lists(records(r.I386_V0), min_size=1, max_size=8))
@FAST
def test_any_i386_records_format(recs):
    raw = b"".join(r.encode(rec, r.I386_V0) for rec in recs)
    fuzz_reader.check(raw, strict=True, layout=r.I386_V0)


@given(st.data())
@FAST
def test_edited_traces_read_or_fail_cleanly(corpus, data):
    seed = data.draw(st.sampled_from(corpus))
    edits = data.draw(st.lists(st.tuples(
        st.integers(0, fuzz_reader.EDIT_KINDS - 1), st.integers(0, 1 << 20),
        st.binary(min_size=1, max_size=8), st.integers(1, 256)), max_size=6))
    fuzz_reader.check(fuzz_reader.apply_edits(seed, edits), strict=True)


@given(st.binary(max_size=400))
@FAST
def test_random_bytes(data):
    fuzz_reader.check(data, strict=True)


def test_a_call_with_fewer_arguments_than_its_selector_reads():
    """Hypothesis found it: an ioctl CALL recorded with no arguments, held by
    -P to its end, asked the plan for its request (argument 1)."""
    header = r.Header(r.SYSCALL, False, 0, 0, 0, bytes(20), 0, 0, None)
    raw = b"".join(r.encode(rec, r.I386_V0) for rec in (
        r.Syscall(header, 0, 0, ()), r.Syscall(header, 16, 0, ())))
    fuzz_reader.check(raw, strict=True, layout=r.I386_V0)

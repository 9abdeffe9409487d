"""ktrace.record: layouts, encode/decode as exact inverses, the streaming reader."""

import io
import os
import struct
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ktrace import record as r

LAYOUTS = [r.AMD64_V1, r.AMD64_V0, r.I386_V0]


def ints(bits, signed=True):
    if signed:
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


def headers(layout, rtype):
    word = layout.word * 8
    if layout.version:
        frac, cpu = ints(64), ints(32)
    else:
        frac = ints(word).map(lambda usec: usec * 1000)
        cpu = st.none()
    return st.builds(r.Header, st.just(rtype), st.booleans(), st.just(layout.version),
                     ints(32), ints(word), st.binary(min_size=20, max_size=20),
                     ints(word), frac, cpu)


def no_nul(max_size=40):
    return st.binary(max_size=max_size).map(lambda b: b.replace(b"\0", b"x"))


def records(layout):
    """Every record type, with fields in the ranges its layout can hold."""
    w = layout.word * 8
    h = lambda t: headers(layout, t)   # noqa: E731
    old_cap = r._payloads(layout).capfail_old.size - r._payloads(layout).capfail.size
    return st.one_of(
        st.builds(r.Syscall, h(r.SYSCALL), ints(16), ints(16),
                  st.lists(ints(w, False), max_size=10).map(tuple)),
        st.builds(r.Sysret, h(r.SYSRET), ints(16), ints(16), ints(32), ints(w)),
        st.builds(r.Namei, h(r.NAMEI), st.binary(max_size=64)),
        st.builds(r.Genio, h(r.GENIO), ints(32), ints(32), st.binary(max_size=64)),
        st.builds(r.Psig, h(r.PSIG), ints(32), ints(w, False), ints(32),
                  st.tuples(*[ints(32, False)] * 4)),
        st.builds(r.Csw, h(r.CSW), ints(32), ints(32),
                  st.one_of(st.none(), st.binary(min_size=8, max_size=8))),
        st.builds(r.User, h(r.USER), st.binary(max_size=64)),
        st.builds(r.Struct, h(r.STRUCT), no_nul(), st.binary(max_size=64)),
        st.builds(r.Sysctl, h(r.SYSCTL), st.binary(max_size=64)),
        st.builds(r.ProcCtor, h(r.PROCCTOR), ints(32, False)),
        st.builds(r.ProcDtor, h(r.PROCDTOR)),
        st.builds(r.CapFail, h(r.CAPFAIL), ints(32), ints(16), ints(32, False),
                  st.binary(max_size=64).filter(lambda d: len(d) != old_cap)),
        st.builds(r.CapFail, h(r.CAPFAIL), ints(32), st.none(), st.none(),
                  st.binary(min_size=32, max_size=32)),
        st.builds(r.Fault, h(r.FAULT), ints(w, False), ints(32)),
        st.builds(r.FaultEnd, h(r.FAULTEND), ints(32)),
        st.builds(r.StructArray, h(r.STRUCT_ARRAY), ints(w, False), no_nul(),
                  st.binary(max_size=64)),
        st.builds(r.Args, h(r.ARGS), st.binary(max_size=64)),
        st.builds(r.Envs, h(r.ENVS), st.binary(max_size=64)),
        st.builds(r.Unknown, st.sampled_from([0, 18, 99, 0x3FFF]).flatmap(h),
                  st.binary(max_size=64)),
    )


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.name)
@given(data=st.data())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_decode_inverts_encode_for_every_record(layout, data):
    rec = data.draw(records(layout))
    raw = r.encode(rec, layout)
    assert r.decode(raw, layout) == rec
    assert r.encode(r.decode(raw, layout), layout) == raw


@given(rtype=st.integers(1, r.MAX_TYPE), payload=st.binary(max_size=80))
def test_any_payload_decodes_to_a_record_that_reencodes_or_is_kept_raw(rtype, payload):
    """No payload makes decode fail: what does not fit its type stays raw."""
    raw = r.pack_record(rtype, payload, 1, 1, b"x", 5, 0)
    rec = r.decode(raw)
    assert rec.header.type == rtype
    assert r.decode(r.encode(rec)) == rec            # decoding is idempotent
    if type(rec) is r.Unknown:
        assert r.encode(rec) == raw


@given(code=ints(16), args=st.lists(ints(64, False), max_size=8), error=ints(32),
       retval=ints(64), path=st.binary(max_size=40), fd=ints(32), data=st.binary(max_size=40),
       signo=st.integers(1, 64), mask=ints(64, False), time_ns=st.integers(0, 1 << 62),
       cpu=st.integers(0, 255), dropped=st.booleans())
def test_fast_encoders_write_canonical_bytes(code, args, error, retval, path, fd, data,
                                             signo, mask, time_ns, cpu, dropped):
    """The engines' pack_* helpers agree with encode/decode byte for byte."""
    payloads = [
        (r.SYSCALL, r.syscall_payload(code, args)),
        (r.SYSRET, r.sysret_payload(code, error, retval)),
        (r.NAMEI, path),
        (r.GENIO, r.genio_payload(fd, 1, data)),
        (r.PSIG, r.psig_payload(signo, 0x401000, 0, mask)),
        (r.CSW, r.csw_payload(1, 0, b"futex\0\0\0")),
        (r.STRUCT, r.struct_payload(b"stat", data)),
        (r.STRUCT_ARRAY, r.struct_array_payload(b"pollfd", 8, data)),
        (r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64)),
        (r.CAPFAIL, r.capfail_payload(r.CAPFAIL_LINUX_CAPABILITY, code, 0x203, b"\x15\0\0\0")),
        (r.FAULT, r.fault_payload(0x7F0000001000, 2)),
        (r.FAULTEND, r.faultend_payload(0)),
        (r.ARGS, r.strings_payload([b"ls", path.replace(b"\0", b"")])),
    ]
    for rtype, payload in payloads:
        raw = r.pack_record(rtype, payload, 77, 78, b"comm", time_ns, cpu, dropped)
        rec = r.decode(raw)
        assert type(rec) is not r.Unknown
        assert rec.header[:2] == (rtype, dropped)
        assert (rec.header.sec, rec.header.nsec) == divmod(time_ns, 10**9)
        assert r.encode(rec) == raw
    mask_words = r.decode(r.pack_record(r.PSIG, r.psig_payload(signo, 1, 0, mask),
                                        1, 1, b"", 0, 0)).mask
    assert sum(w << (32 * i) for i, w in enumerate(mask_words)) == mask


def sample_records(n=30, pid=100):
    """A plausible little trace, as records."""
    out = [r.ProcCtor(r.Header(r.PROCCTOR, False, 1, pid, pid, b"cat".ljust(20, b"\0"),
                               1_700_000_000, 0, 0), r.SV_LINUX_X86_64)]
    for i in range(n):
        h = r.Header(r.SYSCALL, False, 1, pid, pid, b"cat".ljust(20, b"\0"),
                     1_700_000_000 + i, i * 1000, i % 2)
        out.append(r.Syscall(h, 0, 3, (3, 0x1000 + i, 4096)))
        out.append(r.Genio(h._replace(type=r.GENIO), 3, 0, b"line %d\n" % i))
        out.append(r.Sysret(h._replace(type=r.SYSRET), 0, 0, 0, 7))
    return out


def blob(recs, layout=r.AMD64_V1):
    return b"".join(r.encode(rec, layout) for rec in recs)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.name)
def test_reader_detects_each_layout_and_reads_everything(layout):
    recs = [rec._replace(header=rec.header._replace(
        version=layout.version, cpu=rec.header.cpu if layout.version else None))
        for rec in sample_records()]
    reader = r.RecordReader(io.BytesIO(blob(recs, layout)))
    assert list(reader) == recs
    assert reader.layout is layout
    assert reader.offset == len(blob(recs, layout))


def test_reader_reads_a_pipe_fed_in_dribbles():
    data = blob(sample_records(200))
    rfd, wfd = os.pipe()

    def feed():
        with os.fdopen(wfd, "wb", buffering=0) as w:
            for i in range(0, len(data), 77):
                w.write(data[i:i + 77])
    writer = threading.Thread(target=feed)
    writer.start()
    with os.fdopen(rfd, "rb") as stream:
        got = list(r.RecordReader(stream))
    writer.join()
    assert got == sample_records(200)


def test_truncated_file_yields_every_whole_record_then_names_the_offset():
    data = blob(sample_records(5))
    sizes = [len(r.encode(rec)) for rec in sample_records(5)]
    cut = sum(sizes[:7]) + 70               # inside the 8th record's payload
    reader = r.RecordReader(io.BytesIO(data[:cut]))
    got = []
    with pytest.raises(r.TraceFileError) as e:
        for rec in reader:
            got.append(rec)
    assert got == sample_records(5)[:7]
    assert e.value.offset == sum(sizes[:7])
    assert "truncated record: SYSCALL needs 96 bytes, 70 left" in str(e.value)


def records_before_error(reader) -> tuple[list, r.TraceFileError]:
    """The records a reader yields before it raises, and what it raises."""
    got = []
    with pytest.raises(r.TraceFileError) as e:
        for rec in reader:
            got.append(rec)
    return got, e.value


def test_truncated_header_and_bogus_length():
    recs = sample_records(2)
    data = blob(recs)
    got, e = records_before_error(r.RecordReader(io.BytesIO(data + data[:10])))
    assert got == recs
    assert str(e) == f"offset {len(data)}: truncated record header (10 bytes)"
    bogus = bytearray(data)
    first = len(r.encode(recs[0]))
    struct.pack_into("<i", bogus, first, -5)
    got, e = records_before_error(r.RecordReader(io.BytesIO(bytes(bogus))))
    assert got == recs[:1]
    assert str(e) == f"offset {first}: bogus length 0xfffffffb"


def test_a_record_whose_payload_does_not_fit_its_type_is_kept_raw_and_reading_goes_on():
    h = sample_records(1)[1].header
    bad = r.pack_record(r.SYSRET, b"\1\2", h.pid, h.tid, b"cat", 5, 0)
    nameless = r.pack_record(r.STRUCT, b"stat", h.pid, h.tid, b"cat", 5, 0)
    data = blob(sample_records(1)) + bad + nameless + blob(sample_records(1)[1:])
    got = list(r.RecordReader(io.BytesIO(data)))
    assert [type(x) for x in got[3:7]] == [r.Sysret, r.Unknown, r.Unknown, r.Syscall]
    assert got[4] == r.Unknown(got[4].header, b"\1\2") and got[4].header.type == r.SYSRET
    assert got[5] == r.Unknown(got[5].header, b"stat") and got[5].header.type == r.STRUCT
    assert len(got) == 4 + 2 + 3


def test_amd64_file_may_mix_v0_and_v1_records():
    v0 = sample_records(2)
    v0 = [x._replace(header=x.header._replace(version=0, cpu=None)) for x in v0]
    v1 = sample_records(2, pid=200)
    exit_v0 = r.ProcDtor(v0[0].header._replace(type=r.PROCDTOR))    # 56 bytes in all
    data = blob(v0, r.AMD64_V0) + blob(v1, r.AMD64_V1) + blob([v0[1], exit_v0], r.AMD64_V0)
    reader = r.RecordReader(io.BytesIO(data))
    assert list(reader) == v0 + v1 + [v0[1], exit_v0]
    assert reader.layout is r.AMD64_V0
    tail = blob(v1, r.AMD64_V1) + blob([exit_v0], r.AMD64_V0)
    assert list(r.RecordReader(io.BytesIO(tail))) == v1 + [exit_v0]


def test_unsupported_header_version_is_an_error():
    recs = sample_records(1)
    raw = bytearray(blob(recs))
    second = len(r.encode(recs[0]))
    struct.pack_into("<h", raw, second + 6, 2)
    got, e = records_before_error(r.RecordReader(io.BytesIO(bytes(raw)), layout=r.AMD64_V1))
    assert got == recs[:1]
    assert str(e) == f"offset {second}: unsupported ktrace header version 2"


def test_empty_stream_has_no_records_and_no_layout():
    reader = r.RecordReader(io.BytesIO(b""))
    assert reader.detect() is None and list(reader) == []


def test_garbage_is_not_a_trace():
    with pytest.raises(r.TraceFileError, match="offset 0: not a ktrace file"):
        list(r.RecordReader(io.BytesIO(b"\xff" * 100)))


def test_other_systems_files_are_named_not_read(samples_dir):
    expect = {"openbsd": "OpenBSD", "netbsd": "NetBSD", "darwin-bigendian": "big-endian"}
    for path in sorted((samples_dir / "other").iterdir()):
        with pytest.raises(r.ForeignFormat) as e:
            list(r.read_records(path))
        assert any(word in str(e.value) for word in expect.values())
        assert "\n" not in str(e.value)


def test_freebsd_samples_read_to_their_end(samples_dir):
    for path in sorted((samples_dir / "freebsd").iterdir()):
        reader = r.RecordReader(open(path, "rb"))
        recs = list(reader)
        assert reader.offset == path.stat().st_size
        assert any(type(x) is r.Syscall for x in recs)
        assert not any(type(x) is r.Unknown for x in recs)
        expected = {"amd64-v1": r.AMD64_V1, "amd64-v0": r.AMD64_V0, "i386-v0": r.I386_V0}
        assert reader.layout is expected["-".join(path.name.split("-")[:2])]


def test_follow_waits_for_the_file_to_grow(tmp_path, monkeypatch):
    monkeypatch.setattr(r.RecordReader, "POLL", 0.02)
    path = tmp_path / "t.out"
    recs = sample_records(3)
    path.write_bytes(blob(recs[:4]) + r.encode(recs[4])[:30])   # a record half written
    got = []

    def read():
        with open(path, "rb") as f:
            for rec in r.RecordReader(f, follow=True):
                got.append(rec)
                if len(got) == len(recs):
                    return
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.2)
    assert got == recs[:4]
    with open(path, "ab") as f:
        f.write(r.encode(recs[4])[30:] + blob(recs[5:]))
    reader.join(5)
    assert got == recs


def test_header_conveniences():
    h = sample_records(1)[1].header
    assert h.command == "cat" and h.type_name == "SYSCALL"
    assert h.time_ns == 1_700_000_000_000_000_000 and h.time == 1_700_000_000.0
    assert r.split_strings(b"a\0bc\0") == [b"a", b"bc"] and r.split_strings(b"") == []


@given(st.binary(max_size=600))
@settings(max_examples=300)
def test_reader_never_fails_but_with_its_own_errors(data):
    try:
        for rec in r.RecordReader(io.BytesIO(data)):
            assert isinstance(rec, tuple)
    except (r.TraceFileError, r.ForeignFormat):
        pass


@given(st.lists(st.tuples(st.integers(0, 2000), st.binary(min_size=1, max_size=8)), max_size=6))
@settings(max_examples=200)
def test_reader_survives_corruption_of_a_real_trace(edits):
    recs = sample_records(10)
    data = bytearray(blob(recs))
    for at, junk in edits:
        data[at:at + len(junk)] = junk
    # the records wholly before the first changed byte come out unchanged
    first_edit = min((at for at, _ in edits), default=len(data))
    intact = end = 0
    for rec in recs:
        end += len(r.encode(rec))
        if end > first_edit:
            break
        intact += 1
    got = []
    try:
        for rec in r.RecordReader(io.BytesIO(bytes(data))):
            got.append(rec)
    except r.TraceFileError as e:
        assert e.offset >= sum(len(r.encode(rec)) for rec in recs[:intact])
    except r.ForeignFormat:
        assert intact == 0
    assert got[:intact] == recs[:intact]

"""kdump --json: one object per record with header, raw and decoded fields."""

import base64
import json

from ktrace import record as r
from kdump_support import T0, call, header, kdump, linux, ret

HEAD = {"dropped": False, "version": 1, "pid": 100, "tid": 100, "comm": "cat",
        "abi": "L64", "sec": T0, "nsec": 123456789, "cpu": 1}


def objects(recs, *argv, **kw):
    out, err, status = kdump(recs, "--json", *argv, **kw)
    assert (err, status) == ("", 0)
    return [json.loads(line) for line in out.splitlines()]


def test_every_record_has_the_header_fields():
    got = objects([linux(), call(39), r.ProcDtor(header(r.PROCDTOR))])
    assert got[0] == {"type": "PROCCTOR", "type_code": 10, **HEAD, "sv_flags": 0x203}
    assert got[1] == {"type": "SYSCALL", "type_code": 1, **HEAD, "code": 39, "name": "getpid",
                      "narg": 0, "args": [], "args_text": []}
    assert got[2] == {"type": "PROCDTOR", "type_code": 11, **HEAD}


def test_syscall_and_sysret_fields():
    got = objects([linux(), call(0, 3, 2**64 - 1, 10), ret(0, 4096), ret(257, -2, error=2),
                   ret(0, 0, error=-1)], "-n")
    assert {k: got[1][k] for k in ("name", "narg", "args", "args_text")} == {
        "name": "read", "narg": 3, "args": [3, 2**64 - 1, 10],
        "args_text": ["0x3", "0xffffffffffffffff", "0xa"]}
    assert {k: got[2][k] for k in ("code", "name", "eosys", "error", "retval", "errno")} == {
        "code": 0, "name": "read", "eosys": 0, "error": 0, "retval": 4096, "errno": None}
    assert {k: got[3][k] for k in ("error", "retval", "errno", "errno_name", "errno_text")} == {
        "error": 2, "retval": -2, "errno": 2, "errno_name": "ENOENT",
        "errno_text": "No such file or directory"}
    assert (got[4]["error"], got[4]["errno"]) == (-1, None)


def test_data_is_base64_and_text_that_is_not_utf8_comes_twice():
    recs = [linux(), r.Genio(header(r.GENIO), 1, 1, b"\x00\xffhi"),
            r.Namei(header(r.NAMEI), b"/tmp/\xe9t\xe9"), r.Namei(header(r.NAMEI), b"/caf\xc3\xa9"),
            r.User(header(r.USER), b"abc")]
    gio, bad, good, user = objects(recs)[1:]
    assert (gio["fd"], gio["rw"], gio["direction"], gio["len"]) == (1, 1, "write", 4)
    assert base64.b64decode(gio["data"]) == b"\x00\xffhi"
    assert bad["path"] == "/tmp/\ufffdt\ufffd"
    assert base64.b64decode(bad["path_b64"]) == b"/tmp/\xe9t\xe9"
    assert good["path"] == "/café" and "path_b64" not in good
    assert (user["len"], base64.b64decode(user["data"])) == (3, b"abc")


def test_s_and_m_apply_to_the_data():
    recs = [r.Genio(header(r.GENIO), 0, 0, b"0123456789")]
    assert "data" not in objects(recs, "-s")[0]
    assert base64.b64decode(objects(recs, "-m", "3")[0]["data"]) == b"012"
    assert objects(recs, "-m", "3")[0]["len"] == 10


def test_decoded_text_fields():
    sin = bytes([2, 0, 0, 80, 127, 0, 0, 1]) + bytes(8)
    recs = [linux(), r.Struct(header(r.STRUCT), b"sockaddr", sin),
            r.Psig(header(r.PSIG), 2, 0, 0, (0, 0, 0, 0)),
            r.Fault(header(r.FAULT), 0x1000, 1), r.FaultEnd(header(r.FAULTEND), 1),
            r.Csw(header(r.CSW), 1, 0, b"wait\0\0\0\0"), r.Args(header(r.ARGS), b"ls\0-l\0"),
            r.Sysctl(header(r.SYSCTL), b"kern.ostype")]
    stru, psig, pflt, pret, csw, args, sctl = objects(recs)[1:]
    assert stru["name"] == "sockaddr" and stru["text"] == "struct sockaddr { AF_INET, 127.0.0.1:80 }"
    assert base64.b64decode(stru["data"]) == sin
    assert (psig["signo"], psig["signal"], psig["action"], psig["mask"]) == (2, "SIGINT", 0, [0] * 4)
    assert psig["text"] == "SIGINT SIG_DFL code=SI_USER"
    assert (pflt["vaddr"], pflt["access"], pflt["text"]) == (0x1000, 1, "0x1000 0x1<VM_PROT_READ>")
    assert (pret["result"], pret["text"]) == (1, "KERN_INVALID_ADDRESS")
    assert (csw["out"], csw["user"], csw["wmesg"]) == (1, 0, "wait")
    assert args["strings"] == ["ls", "-l"]
    assert sctl["name"] == "kern.ostype"


def test_struct_array_and_capfail():
    pollfd = (3).to_bytes(4, "little") + (1).to_bytes(2, "little") + bytes(2)
    cap = (21).to_bytes(4, "little").ljust(1024, b"\0")
    recs = [linux(), r.StructArray(header(r.STRUCT_ARRAY), 8, b"pollfd", pollfd),
            r.CapFail(header(r.CAPFAIL), r.CAPFAIL_LINUX_CAPABILITY, 161, 0x203, cap)]
    array, capfail = objects(recs)[1:]
    assert (array["name"], array["struct_size"]) == ("pollfd", 8)
    assert array["text"].startswith("struct pollfd[] = {")
    assert (capfail["cap_type"], capfail["code"], capfail["svflags"]) == (0x100, 161, 0x203)
    assert isinstance(capfail["text"], str) and capfail["text"]


def test_v0_records_have_no_cpu_and_invalid_payloads_are_flagged():
    v0 = r.Syscall(header(r.SYSCALL, version=0, nsec=5000), 20, 0, ())
    assert objects([v0], layout=r.AMD64_V0)[0]["cpu"] is None
    raw = r.pack_record(r.SYSRET, b"\1\2", 100, 100, b"cat", 0, 0)
    raw += r.pack_record(99, b"new", 100, 100, b"cat", 0, 0)
    bad, unknown = objects([], raw=raw)
    assert (bad["type"], bad["invalid"], base64.b64decode(bad["payload"])) == ("SYSRET", True, b"\1\2")
    assert (unknown["type"], unknown["type_code"], unknown["invalid"]) == ("UNKNOWN", 99, True)


def test_p_and_t_filter_and_dropped_is_a_field():
    recs = [linux(), call(39, dropped=True), call(39, pid=5), r.Namei(header(r.NAMEI), b"/")]
    got = objects(recs, "-p", "100")
    assert [o["type"] for o in got] == ["PROCCTOR", "SYSCALL", "NAMEI"]
    assert got[1]["dropped"] is True
    assert [o["type"] for o in objects(recs, "-t", "n")] == ["PROCCTOR", "NAMEI"]

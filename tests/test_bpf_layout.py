"""ktrace.h, the one definition of the BPF interface, agrees with its users:
the records with ktrace.record, the control structures and constants with
the loader's ctypes mirror (engine/bpf/interface.py).

The header is compiled with the host C compiler and asked for its offsets and
sizes; the expected ones come from ktrace.record's struct formats and the
ctypes structures, so a change on either side that the other does not follow
fails here.
"""

from __future__ import annotations

import ctypes
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from ktrace import record as r
from ktrace.engine.bpf import consumer, interface

HEADER = Path(__file__).resolve().parents[1] / "src" / "ktrace" / "engine" / "bpf" / "ktrace.h"

# C struct -> (its fields in order, ktrace.record's format for them)
LAYOUTS = {
    "ktr_header": (["ktr_len", "ktr_type", "ktr_version", "ktr_pid", "ktr_comm", "ktr_sec",
                    "ktr_nsec", "ktr_tid", "ktr_cpu"], r.AMD64_V1.header.format),
    "ktr_syscall": (["ktr_code", "ktr_narg", "ktr_args"], r._P64.syscall.format + "Q"),
    "ktr_sysret": (["ktr_code", "ktr_eosys", "ktr_error", "ktr_retval"], r._P64.sysret.format),
    "ktr_genio": (["ktr_fd", "ktr_rw"], r._P64.genio.format),
    "ktr_psig": (["signo", "action", "code", "mask"], r._P64.psig.format),
    "ktr_csw": (["out", "user", "wmesg"], r._P64.csw.format),
    "ktr_proc_ctor": (["sv_flags"], r._P64.procctor.format),
    "ktr_cap_fail": (["cap_type", "cap_code", "cap_svflags", "cap_int"],
                     r._P64.capfail.format + "i"),
    "ktr_fault": (["vaddr", "type"], r._P64.fault.format),
    "ktr_faultend": (["result"], r._P64.faultend.format),
    "ktr_struct_array": (["struct_size"], r._P64.struct_array.format),
}
# structs whose C size is the record's fixed part (the others carry more after it)
WHOLE = {"ktr_header", "ktr_sysret", "ktr_genio", "ktr_psig", "ktr_csw", "ktr_proc_ctor",
         "ktr_fault", "ktr_faultend", "ktr_struct_array"}

CONSTANTS = {
    "KTR_DROP": r.KTR_DROP, "KTR_VERSIONED": r.KTR_VERSIONED,
    "KTRFAC_MASK": r.KTRFAC_MASK, "KTRFAC_ROOT": r.KTRFAC_ROOT,
    "KTRFAC_INHERIT": r.KTRFAC_INHERIT, "KTRFAC_DROP": r.KTRFAC_DROP,
    "SV_LINUX_X86_64": r.SV_LINUX_X86_64,
    "CAPFAIL_LINUX_CAPABILITY": r.CAPFAIL_LINUX_CAPABILITY,
    "KTR_USER_MAXLEN": r.KTR_USER_MAXLEN, "CAP_PATH_MAX": r.CAP_PATH_MAX,
    "KTR_COMM_SIZE": r.COMM_SIZE,
    **{"KTR_" + name: number for number, name in r.TYPE_NAMES.items()},
}


def offsets(fmt: str) -> tuple[list[int], int]:
    """Offsets of the non-padding items of a struct format, and its size."""
    items = re.findall(r"(\d*)([a-zA-Z])", fmt.lstrip("<>=!@"))
    result, pos = [], 0
    for count, code in items:
        n = int(count or 1)
        if code == "x":
            pos += n
            continue
        result.append(pos)       # an array ("20s", "4I") is one member
        pos += struct.calcsize(f"<{n}{code}")
    return result, struct.calcsize(fmt)


def c_layout(tmp_path, structs: dict[str, list[str]]) -> dict:
    """{"struct.member": offset, "struct": size} as the C compiler lays ktrace.h out."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    fields = []
    for name, members in structs.items():
        for m in members:
            fields.append(f'printf("\\"{name}.{m}\\": %zu,", offsetof(struct {name}, {m}));')
        fields.append(f'printf("\\"{name}\\": %zu,", sizeof(struct {name}));')
    src = tmp_path / "layout.c"
    src.write_text(
        "#include <stddef.h>\n#include <stdio.h>\n#include <stdint.h>\n"
        "typedef uint8_t __u8; typedef uint16_t __u16; typedef uint32_t __u32;"
        " typedef uint64_t __u64; typedef int8_t __s8; typedef int16_t __s16;"
        " typedef int32_t __s32; typedef int64_t __s64;\n"
        f'#include "{HEADER}"\n'
        "int main(void) { printf(\"{\"); " + " ".join(fields) + ' printf("\\"end\\": 0}"); }\n')
    exe = tmp_path / "layout"
    subprocess.run(["gcc", "-o", str(exe), str(src)], check=True)
    return json.loads(subprocess.run([str(exe)], check=True, capture_output=True).stdout)

def assert_stru_layout(tmp_path, cstruct: str, fields: list[str], fmt: str, name: bytes) -> None:
    """ktrace.h's ``cstruct`` (and its KTR_<NAME>_NAME) lays ``fields`` out as
    record.py's ``fmt`` does: a STRU ``name`` both engines write."""
    got = c_layout(tmp_path, {cstruct: fields})
    want, size = offsets(fmt)
    assert [got[f"{cstruct}.{m}"] for m in fields] == want
    assert got[cstruct] == size
    text = name.decode()
    assert re.search(rf'#define\s+KTR_{text.upper()}_NAME\s+"{text}"', HEADER.read_text())



def header_defines() -> dict[str, int]:
    text = HEADER.read_text()
    defines = {}
    for m in re.finditer(r"^#define\s+(\w+)\s+\(?(0x[0-9a-fA-F]+|\d+)(?:\s*<<\s*(\d+))?\)?",
                         text, re.M):
        defines[m.group(1)] = int(m.group(2), 0) << int(m.group(3) or 0)
    return defines


def test_struct_offsets_and_sizes_agree(tmp_path):
    got = c_layout(tmp_path, {name: members for name, (members, _) in LAYOUTS.items()})
    for name, (members, fmt) in LAYOUTS.items():
        want, size = offsets(fmt)
        assert [got[f"{name}.{m}"] for m in members] == want, name
        if name in WHOLE:
            assert got[name] == size, name


def test_constants_agree():
    defines = header_defines()
    for name, value in CONSTANTS.items():
        assert defines.get(name) == value, name


def test_the_loaders_structs_agree(tmp_path):
    got = c_layout(tmp_path, {cname: [f for f, _ in ctype._fields_]
                              for ctype, cname in interface.STRUCTS.items()})
    for ctype, cname in interface.STRUCTS.items():
        for field, _ in ctype._fields_:
            assert got[f"{cname}.{field}"] == getattr(ctype, field).offset, f"{cname}.{field}"
        assert got[cname] == ctypes.sizeof(ctype), cname
    # the consumer unpacks a batch's head in one call: the same four words
    assert consumer.BATCH.format == "<IIII"
    assert [f for f, _ in interface.KtrBatch._fields_] == ["pid", "flags", "nrec", "aux"]


def test_the_loaders_constants_agree():
    defines = header_defines()
    mirrored = {n: v for n, v in vars(interface).items() if n.isupper() and isinstance(v, int)}
    assert mirrored
    for name, value in mirrored.items():
        assert defines.get(name) == value, name


def test_offsets_helper_reads_formats():
    assert offsets("<iHhi20sqqqi4x") == ([0, 4, 6, 8, 12, 32, 40, 48, 56], 64)
    assert offsets("<i4xQi4I4x") == ([0, 8, 16, 20], 40)

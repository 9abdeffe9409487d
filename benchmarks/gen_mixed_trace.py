"""Write a synthetic amd64-v1 trace of N records of mixed types (for bench_kdump).

The mix imitates a busy Linux process tree: mostly CALL/RET pairs, with the
NAMI, GIO, STRU, STRUCT_ARRAY, PSIG, CSW, USER, SCTL, PFLT/PRET, CAP,
ARGS/ENVS records that real traces interleave, across a few pids and
threads, each announced by a PROCCTOR.  Deterministic for a given N.

    python3 benchmarks/gen_mixed_trace.py --records 1000000 OUT
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ktrace import record as r  # noqa: E402

PIDS = (4242, 4243, 4250, 5001)
COMM = {4242: b"make", 4243: b"sh", 4250: b"cc1", 5001: b"python3"}
TEXT = b"hello, world: the quick brown fox jumps over the lazy dog\n"
BINARY = bytes(range(0, 256, 3))
STAT = bytes(144)


def event(rng: random.Random, pid: int, t: int):
    """The payloads (type, payload) of one traced event of pid."""
    roll = rng.random()
    fd = rng.randrange(0, 20)
    if roll < 0.25:      # read/write with data
        data = TEXT if rng.random() < 0.7 else BINARY
        code, rw = (0, 0) if rng.random() < 0.5 else (1, 1)
        return [(r.SYSCALL, r.syscall_payload(code, (fd, 0x7FFC12340000 + t % 4096, 4096))),
                (r.GENIO, r.genio_payload(fd, rw, data)),
                (r.SYSRET, r.sysret_payload(code, 0, len(data)))]
    if roll < 0.40:      # openat
        path = b"/usr/lib/x86_64-linux-gnu/lib%d.so.6" % (t % 97)
        ok = rng.random() < 0.7
        return [(r.SYSCALL, r.syscall_payload(257, (0xFFFFFF9C, 0x55550000 + t % 999, 0x80000, 0))),
                (r.NAMEI, path),
                (r.SYSRET, r.sysret_payload(257, 0, fd) if ok else r.sysret_payload(257, 2, -2))]
    if roll < 0.50:      # fstat
        return [(r.SYSCALL, r.syscall_payload(5, (fd, 0x7FFC00001000))),
                (r.STRUCT, r.struct_payload(b"stat", STAT)),
                (r.SYSRET, r.sysret_payload(5, 0, 0))]
    if roll < 0.55:      # poll
        fds = b"".join(i.to_bytes(4, "little") + b"\x01\x00\x00\x00" for i in range(3))
        return [(r.SYSCALL, r.syscall_payload(7, (0x7FFC00002000, 3, 1000))),
                (r.STRUCT_ARRAY, r.struct_array_payload(b"pollfd", 8, fds)),
                (r.SYSRET, r.sysret_payload(7, 0, 1))]
    if roll < 0.57:
        return [(r.PSIG, r.psig_payload(17, 0x401000, 1, 0))]
    if roll < 0.60:
        return [(r.CSW, r.csw_payload(1, 0, b"read")), (r.CSW, r.csw_payload(0, 0, b"read"))]
    if roll < 0.61:
        return [(r.USER, b"ktrace says hi %d" % t)]
    if roll < 0.62:
        return [(r.SYSCTL, b"kern.ostype")]
    if roll < 0.64:
        return [(r.FAULT, r.fault_payload(0x7F0000001000 + t, 2)), (r.FAULTEND, r.faultend_payload(0))]
    if roll < 0.645:
        return [(r.CAPFAIL, r.capfail_payload(r.CAPFAIL_LINUX_CAPABILITY, 161, r.SV_LINUX_X86_64,
                                              (21).to_bytes(4, "little")))]
    if roll < 0.65:
        return [(r.SYSCALL, r.syscall_payload(59, (0x1000, 0x2000, 0x3000))),
                (r.NAMEI, b"/bin/true"),
                (r.ARGS, r.strings_payload([b"true", b"--version"])),
                (r.ENVS, r.strings_payload([b"PATH=/bin:/usr/bin", b"HOME=/root"])),
                (r.SYSRET, r.sysret_payload(59, 0, 0))]
    code = rng.choice((39, 96, 228, 13, 14, 202, 0x6B74))   # value-only calls
    return [(r.SYSCALL, r.syscall_payload(code, (0, 0x10, 0xFFFFFFFFFFFFFFFF)[: code % 4])),
            (r.SYSRET, r.sysret_payload(code, 0, rng.choice((0, 1, 4242, -1))))]


def generate(out, records: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    t = 1_700_000_000_000_000_000
    chunk: list[bytes] = []
    written = 0
    for pid in PIDS:
        chunk.append(r.pack_record(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64),
                                   pid, pid, COMM[pid], t, 0))
        written += 1
    while written < records:
        pid = rng.choice(PIDS)
        tid = pid if rng.random() < 0.8 else pid + 100_000
        for rtype, payload in event(rng, pid, written):
            if written >= records:
                break
            t += rng.randrange(200, 20_000)
            chunk.append(r.pack_record(rtype, payload, pid, tid, COMM[pid], t, written & 1))
            written += 1
        if len(chunk) >= 10_000:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out")
    a = ap.parse_args(argv)
    with open(a.out, "wb") as f:
        n = generate(f, a.records, a.seed)
    print(f"{a.out}: {n} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

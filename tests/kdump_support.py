"""Building little traces by hand and running kdump on them, in-process."""

import io
import random

from ktrace import record as r
from ktrace.kdump import cli

T0 = 1_700_000_000


def header(rtype, pid=100, tid=None, comm=b"cat", sec=T0, nsec=123456789, cpu=1,
           dropped=False, version=1):
    return r.Header(rtype, dropped, version, pid, pid if tid is None else tid,
                    comm.ljust(20, b"\0"), sec, nsec, cpu if version else None)


def linux(pid=100, **kw):
    return r.ProcCtor(header(r.PROCCTOR, pid, **kw), r.SV_LINUX_X86_64)


def freebsd(pid=100, **kw):
    return r.ProcCtor(header(r.PROCCTOR, pid, **kw), r.SV_ABI_FREEBSD | r.SV_LP64)


def call(code, *args, narg=None, **kw):
    return r.Syscall(header(r.SYSCALL, **kw), code, len(args) if narg is None else narg,
                     tuple(args))


def ret(code, retval=0, error=0, **kw):
    return r.Sysret(header(r.SYSRET, **kw), code, 0, error, retval)


def encode(recs, layout=r.AMD64_V1):
    return b"".join(r.encode(x, layout) for x in recs)


def kdump(recs, *argv, layout=r.AMD64_V1, raw=None):
    """(stdout text, stderr text, exit status) of kdump on these records."""
    data = encode(recs, layout) if raw is None else raw
    return kdump_bytes(data, *argv)


def kdump_bytes(data, *argv):
    out, err = io.BytesIO(), io.StringIO()
    stdin = _Stdin(data)
    import sys
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, _Stdout(out), err
    try:
        status = cli.main(["-f", "-", *argv])
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return out.getvalue().decode("utf-8", "surrogateescape"), err.getvalue(), status


def lines(recs, *argv, **kw):
    out, err, status = kdump(recs, *argv, **kw)
    assert (err, status) == ("", 0)
    return out.splitlines()


class _Stdin:
    def __init__(self, data):
        self.buffer = io.BufferedReader(io.BytesIO(data))


class _Stdout:
    def __init__(self, buffer):
        self.buffer = buffer

    def flush(self):
        pass


def mutated(data: bytes, seed: int, count: int, most: int = 6):
    """``count`` copies of a trace's bytes, each with up to ``most`` 4-byte
    spans overwritten (lengths, types and versions gone wrong) and its end cut
    somewhere in its second half: hostile input, the same for a given seed."""
    rand = random.Random(seed)
    for _ in range(count):
        bad = bytearray(data)
        for _ in range(rand.randint(1, most)):
            at = rand.randrange(len(bad))
            bad[at:at + 4] = rand.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x80",
                                          rand.randbytes(4), b"\x01\x00"])
        yield bytes(bad[:rand.randrange(len(bad) // 2, len(bad) + 1)])

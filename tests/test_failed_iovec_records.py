"""The data of iovecs that no descriptor moved (linux_plan's IOV_DATA): a
failed writev's, pwritev's, sendmsg's and sendmmsg's data given (strace reads
it at entry whatever the result), and process_vm_writev's and
process_vm_readv's local data (no descriptor at all).  Both engines record it
at exit as ``STRU iovdata``: each iovec's bytes whole, up to the genio size,
ending with the first page's part of an iovec that cannot all be read; a
successful writev is its GIO alone.  The strace view prints it as strace does; FreeBSD's view (plain
kdump) leaves it out, as FreeBSD's kernel writes no record of such data.
Real processes, under each engine (bpf: root and BPF only)."""

from __future__ import annotations

import re

from engine_support import ENGINES, kdump_of, program_fixtures
from ktrace import record as r
from ktrace.abi import linux_plan as lp
from ktrace.engine import DEFAULT_GENIO_SIZE
from ptrace_support import data_of_calls

# In order: on a full non-blocking pipe, writev of "he" "llo" and of two
# 3000-byte iovecs (EAGAIN), pwritev (ESPIPE), sendmsg and sendmmsg
# (ENOTSOCK); on an empty pipe, writev of "he" and of 100 bytes running into
# an unmapped page 10 bytes after their start (EFAULT), of "ok" (2);
# process_vm_writev of "mm" and process_vm_readv of "ok" into the process
# itself (2), then both to a pid that is none (ESRCH).  The strings are on
# the stack: the bpf program reads only memory in place.
IOVECS_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
int main(void) {
    static char fill[65536];
    char he[] = "he", llo[] = "llo", seek[] = "seek", sock[] = "sock", mm[] = "mm", ok[] = "ok";
    char got[2] = "";
    int full[2], empty[2];
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + 4096, 4096);
    memset(m, 'z', 4096);
    memset(fill, 'f', sizeof fill);
    if (pipe2(full, O_NONBLOCK) || pipe(empty))
        return 1;
    while (write(full[1], fill, sizeof fill) > 0)
        ;
    struct iovec hello[] = {{he, 2}, {llo, 3}}, big[] = {{fill, 3000}, {fill, 3000}};
    struct iovec part[] = {{he, 2}, {m + 4096 - 10, 100}};
    struct iovec seekv[] = {{seek, 4}}, sockv[] = {{sock, 4}}, mmv[] = {{mm, 2}};
    struct iovec gotv[] = {{got, 2}}, okv[] = {{ok, 2}};
    struct msghdr msg = {.msg_iov = sockv, .msg_iovlen = 1};
    struct mmsghdr mmsg[] = {{.msg_hdr = {.msg_iov = sockv, .msg_iovlen = 1}},
                             {.msg_hdr = {.msg_iov = mmv, .msg_iovlen = 1}}};
    writev(full[1], hello, 2);
    writev(full[1], big, 2);
    pwritev(full[1], seekv, 1, 0);
    sendmsg(full[1], &msg, 0);
    sendmmsg(full[1], mmsg, 2, 0);
    writev(empty[1], part, 2);
    writev(empty[1], okv, 1);
    process_vm_writev(getpid(), mmv, 1, gotv, 1, 0);
    process_vm_readv(getpid(), gotv, 1, okv, 1, 0);
    process_vm_writev(0x7fffffff, hello, 2, gotv, 1, 0);
    process_vm_readv(0x7fffffff, gotv, 1, okv, 1, 0);
    return 0;
}
"""

EAGAIN, ESPIPE, ENOTSOCK, EFAULT, ESRCH = 35, 29, 38, 14, 3   # FreeBSD numbering (SYSRET)
CALLS = {"writev", "pwritev", "sendmsg", "sendmmsg", "process_vm_writev", "process_vm_readv"}
IOV_DATA = lp.IOV_DATA.encode()


exe, traced = program_fixtures("iovecs", IOVECS_C)


def _calls(path):
    """(name, error, GIO data, STRU iovdata data) of each call of CALLS."""
    return data_of_calls(path, CALLS, IOV_DATA)


def test_the_data_no_descriptor_moved_is_recorded(engine, traced):
    assert _calls(traced(engine)[0]) == [
        ("writev", EAGAIN, [], [b"hello"]),
        ("writev", EAGAIN, [], [b"f" * DEFAULT_GENIO_SIZE]),     # capped at the genio size
        ("pwritev", ESPIPE, [], [b"seek"]),
        ("sendmsg", ENOTSOCK, [], [b"sock"]),
        ("sendmmsg", ENOTSOCK, [], [b"sock", b"mm"]),             # one a message
        # up to the iovec not all readable, then its first page's part
        ("writev", EFAULT, [], [b"he" + b"z" * 10]),
        ("writev", 0, [b"ok"], []),                # a successful writev: its GIO only
        ("process_vm_writev", 0, [], [b"mm"]),
        ("process_vm_readv", 0, [], [b"ok"]),
        ("process_vm_writev", ESRCH, [], [b"hello"]),
        ("process_vm_readv", ESRCH, [], []),       # nothing read
    ]


def test_both_engines_record_the_same_data(traced):
    recorded = [_calls(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_shows_the_data_strace_read(engine, traced):
    text = kdump_of(traced(engine)[0], "--strace")

    def msg(data: str, length: int) -> str:
        return (rf'\{{msg_name=NULL, msg_namelen=0, msg_iov=\[\{{iov_base="{data}", '
                rf'iov_len={length}\}}\], msg_iovlen=1, msg_controllen=0, msg_flags=0\}}')
    addr = "0x[0-9a-f]+"
    for line in (
            r'writev\(\d+, \[\{iov_base="he", iov_len=2\}, \{iov_base="llo", iov_len=3\}\], 2\)'
            r' += -1 EAGAIN',
            r'writev\(\d+, \[\{iov_base="f{32}"\.\.\., iov_len=3000\}, '
            r'\{iov_base="f{32}"\.\.\., iov_len=3000\}\], 2\) += -1 EAGAIN',
            r'pwritev\(\d+, \[\{iov_base="seek", iov_len=4\}\], 1, 0\) += -1 ESPIPE',
            r"sendmsg\(\d+, " + msg("sock", 4) + r", 0\) += -1 ENOTSOCK",
            r"sendmmsg\(\d+, \[\{msg_hdr=" + msg("sock", 4) + r"\}, \{msg_hdr="
            + msg("mm", 2) + r"\}\], 2, 0\) += -1 ENOTSOCK",
            # strace reads min(iov_len, -s + 1) bytes of an iovec, all or none
            rf'writev\(\d+, \[\{{iov_base="he", iov_len=2\}}, \{{iov_base={addr}, iov_len=100\}}\],'
            r' 2\) += -1 EFAULT',
            r'writev\(\d+, \[\{iov_base="ok", iov_len=2\}\], 1\) += 2',
            rf'process_vm_writev\(\d+, \[\{{iov_base="mm", iov_len=2\}}\], 1, '
            rf'\[\{{iov_base={addr}, iov_len=2\}}\], 1, 0\) += 2',
            rf'process_vm_readv\(\d+, \[\{{iov_base="ok", iov_len=2\}}\], 1, '
            rf'\[\{{iov_base={addr}, iov_len=2\}}\], 1, 0\) += 2',
            rf'process_vm_writev\(2147483647, \[\{{iov_base="he", iov_len=2\}}, '
            rf'\{{iov_base="llo", iov_len=3\}}\], 2, \[\{{iov_base={addr}, iov_len=2\}}\], 1, 0\)'
            r' += -1 ESRCH',
            rf'process_vm_readv\(2147483647, \[\{{iov_base={addr}, iov_len=2\}}\], 1, '
            rf'\[\{{iov_base={addr}, iov_len=2\}}\], 1, 0\) += -1 ESRCH'):
        assert re.search(line, text), (line, text)


def test_the_freebsd_view_leaves_the_data_out(engine, traced, tmp_path):
    """Plain kdump prints the trace as it prints it without its STRU iovdata
    (the records its fast path walks and those it screens alike)."""
    path, _ = traced(engine)
    kept = [rec for rec in r.read_records(str(path))
            if not (type(rec) is r.Struct and rec.name == IOV_DATA)]
    without = tmp_path / "without.out"
    without.write_bytes(b"".join(r.encode(rec) for rec in kept))
    for options in ((), ("-H", "-T"), ("-t", "s")):
        text = kdump_of(path, *options)
        assert "iovdata" not in text
        assert text == kdump_of(without, *options)
    assert "iovdata" in kdump_of(path, "--json")

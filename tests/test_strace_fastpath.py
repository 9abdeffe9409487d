"""kdump --strace's fast path (View.walk) against its general path (View.show).

The strace view walks the reader's buffer and shows a call it has seen
before (same records, thread, process) by the lines it had then, without
decoding it again.  Both paths must write the same text: each trace here,
generated with what makes lines stateful (threads interleaving, a line held
for data recorded at exit, signals and their siginfo, descriptors reused,
netlink sockets, forks, processes ending, ABI changes, drops, v0 and bad
records) and recorded from real programs, is shown by both, with small read
chunks so that calls straddle the buffer's ends, under the options that keep
the fast path and those that turn it off.
"""

import io
import struct

import pytest

from ktrace import record as r
from ktrace.kdump import strace
from ktrace.abi import LINUX_X86_64 as ABI

from ptrace_support import run_traced

PID, THREAD, CHILD = 4242, 4244, 4250
T0 = 1_700_000_000 * 10**9

# options under which calls are walked, and those under which they are not
WALKED = [(), ("-n",), ("-v", "-x"), ("-xx", "-s", "4"), ("-a", "12"),
          ("-e", "trace=read,close,sendto"), ("-e", "trace=!write"), ("-z",), ("-Z",),
          ("-e", "status=failed,unfinished"), ("-e", "read=0", "-e", "write=1"),
          ("--follow", "-o", "unused"), ("-e", "signal=none", "-q"), ("-X", "raw"),
          ("-e", "raw=read"), ("-e", "abbrev=none")]
NOT_WALKED = [("-y",), ("-T",), ("-t",), ("-ttt",), ("-r",), ("-p", str(THREAD)),
              ("-P", "/etc/passwd"), ("-Y",), ("--decode-pids=pidns",)]


class Trace:
    """A record stream of several threads and processes, as amd64-v1 bytes."""

    def __init__(self):
        self.data = []
        self.t = T0

    def add(self, rtype, payload, tid=PID, pid=None, dropped=False):
        self.t += 1000
        pid = tid if pid is None and tid != THREAD else pid or PID
        self.data.append(r.pack_record(rtype, payload, pid, tid, b"prog", self.t, 0, dropped))

    def start(self, pid):
        self.add(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64), pid, pid)

    def call(self, name, *args, tid=PID, **kw):
        self.add(r.SYSCALL, r.syscall_payload(ABI.syscall_number(name), args), tid, **kw)

    def ret(self, name, value, error=0, tid=PID):
        self.add(r.SYSRET, r.sysret_payload(ABI.syscall_number(name), error, value), tid)

    def syscall(self, name, *args, value=0, error=0, records=(), tid=PID):
        """A whole call: CALL, its records (type, payload), RET."""
        self.call(name, *args, tid=tid)
        for rtype, payload in records:
            self.add(rtype, payload, tid)
        self.ret(name, value, error, tid)

    def bytes(self):
        return b"".join(self.data)


def gio(fd, rw, data):
    return r.GENIO, r.genio_payload(fd, rw, data)


def nami(path):
    return r.NAMEI, path


def nlmsg(msg_type, flags):
    return struct.pack("<IHHIi", 16, msg_type, flags, 0, 0)


def io_loop(t, tid=PID, rounds=3):
    for _ in range(rounds):
        t.syscall("read", 0, 0x7FFC0000, 1, value=1, records=[gio(0, 0, b"\0")], tid=tid)
        t.syscall("write", 1, 0x7FFC0000, 1, value=1, records=[gio(1, 1, b"\n")], tid=tid)


def generated():
    """What the fast path must get right, each several times over."""
    t = Trace()
    t.start(PID)
    for rounds in range(3):
        io_loop(t)
        # a descriptor reused: open, read, close, open another file on it
        for path in (b"/etc/passwd", b"/etc/group", b"/etc/passwd"):
            t.syscall("openat", 0xFFFFFF9C, 0x1000, 0, value=3, records=[nami(path)])
            t.syscall("read", 3, 0x2000, 4, value=4, records=[gio(3, 0, b"root")])
            t.syscall("close", 3)
        t.syscall("openat", 0xFFFFFF9C, 0x1000, 0, value=-2, error=2,
                  records=[nami(b"/nonexistent")])
        # a netlink socket on 5, closed, then a plain descriptor on 5: sendto's
        # line depends on which (a walked socket or close must still change it)
        for _ in range(2):
            t.syscall("socket", 16, 3, 0, value=5)
            t.syscall("sendto", 5, 0x1000, 16, 0x40, 0, 0, value=16,
                      records=[gio(5, 1, nlmsg(18, 0x301))])
            t.syscall("close", 5)
            t.syscall("dup2", 1, 5, value=5)
            t.syscall("sendto", 5, 0x1000, 16, 0x40, 0, 0, value=16,
                      records=[gio(5, 1, nlmsg(18, 0x301))])
            t.syscall("close", 5)
        # a second thread: the pid prefix appears, calls interleave
        if rounds == 1:
            t.call("clone", 0x3D0F00, 0, 0, 0, 0)
            t.ret("clone", THREAD)
        if rounds >= 1:
            io_loop(t, THREAD)
            t.call("read", 0, 0x7FFC0000, 1)                  # unfinished ...
            io_loop(t, THREAD, 1)
            t.add(r.GENIO, r.genio_payload(0, 0, b"\0"))     # ... resumed
            t.ret("read", 1)
            t.call("write", 1, 0x7FFC0000, 1)                 # held for its data
            io_loop(t, THREAD, 2)
            t.add(r.GENIO, r.genio_payload(1, 1, b"\n"))
            t.ret("write", 1)
            t.call("wait4", 0xFFFFFFFF, 0, 0, 0, tid=THREAD)  # pending while others run
        # signals, their siginfo, the handler's return (which prints the mask
        # saved at the last delivery)
        for mask in (1, 2, 1):
            t.add(r.PSIG, r.psig_payload(17, 0x401000, 0, mask))
            t.add(r.STRUCT, r.struct_payload(b"siginfo", struct.pack("<iii", 17, 0, 1)
                                             + bytes(116)))
            t.syscall("rt_sigreturn", value=0)
        # a CALL with no RET before the thread's next: given up as unfinished
        t.call("read", 0, 0x7FFC0000, 1)
        io_loop(t, rounds=1)
        # a signal whose siginfo does not follow it: the next record ends its line
        t.add(r.PSIG, r.psig_payload(17, 0x401000, 0, 0))
        io_loop(t, rounds=1)
        t.add(r.STRUCT, r.struct_payload(b"siginfo", struct.pack("<iii", 17, 0, 1)
                                         + bytes(116)))
        # the process's ABI changes (an exec announced anew): the same records
        # are other calls
        t.add(r.PROCCTOR, r.procctor_payload(r.SV_ABI_FREEBSD | r.SV_LP64), PID, PID)
        io_loop(t)
        t.start(PID)
        t.syscall("rt_sigprocmask", 0, 0, 0x1000, 8, records=[
            (r.STRUCT, r.struct_payload(b"sigset", bytes(8)))])
        io_loop(t)
        if rounds >= 1:
            t.ret("wait4", -10, error=10, tid=THREAD)
        # a child process: made, its calls, its end
        t.call("fork")
        t.start(CHILD)
        io_loop(t, CHILD)
        t.ret("fork", CHILD)
        t.call("exit_group", 0, tid=CHILD)
        t.add(r.PROCDTOR, b"", CHILD, CHILD)
        io_loop(t)
        # what only the general path takes: a dropped CALL, a long payload,
        # a record of a type not known, a call with too many records
        t.add(r.SYSCALL, r.syscall_payload(0, (0, 0x7FFC0000, 1)), dropped=True)
        t.add(r.GENIO, r.genio_payload(0, 0, b"\0"))
        t.ret("read", 1)
        t.syscall("write", 1, 0x1000, 600, value=600, records=[gio(1, 1, b"x" * 600)])
        t.add(99, b"junk")
        t.syscall("getpid", value=PID, records=[gio(9, 0, b"?")] * 20)
    return t.bytes()


def with_v0_records(data):
    """``data`` with some records in the v0 layout (a file written across a kernel upgrade)."""
    trace = Trace()
    io_loop(trace)
    v0 = b"".join(r.encode(rec, r.AMD64_V0) for rec in r.RecordReader(io.BytesIO(trace.bytes())))
    return data + v0 + data


def shown(data, argv, walked, chunk=97):
    """(text, error) of the strace view of ``data``, by the fast path or not."""
    opts = strace.parse(["-f", "-", *argv])
    reader = r.RecordReader(io.BytesIO(data))
    reader.CHUNK = chunk
    out = io.StringIO()
    view = strace.View
    walks = view.walks
    try:
        view.walks = walks if walked else (lambda self, reader: False)
        strace.run(opts, reader, out)
        error = None
    except r.TraceFileError as e:
        error = str(e)
    finally:
        view.walks = walks
    return out.getvalue(), error


@pytest.fixture
def learned(monkeypatch):
    """How many calls the fast path learned (its lines made as read)."""
    count = []
    learn = strace.View.learn

    def counting(self, reader, key):
        count.append(key)
        return learn(self, reader, key)
    monkeypatch.setattr(strace.View, "learn", counting)
    return count


@pytest.mark.parametrize("argv", WALKED)
def test_walked_calls_print_as_the_general_path_prints_them(argv, learned):
    data = generated()
    general = shown(data, argv, walked=False)
    assert general[0].count("\n") > 5
    calls = data.count(struct.pack("<H", r.SYSCALL | r.KTR_VERSIONED))
    for chunk in (97, 1 << 20):
        learned.clear()
        assert shown(data, argv, walked=True, chunk=chunk) == general
        assert 0 < len(learned) < calls / 2        # most calls walked, not learned
    assert shown(with_v0_records(data), argv, walked=True) == \
        shown(with_v0_records(data), argv, walked=False)


@pytest.mark.parametrize("argv", NOT_WALKED)
def test_options_that_make_lines_stateful_turn_the_fast_path_off(argv, learned):
    data = generated()
    assert shown(data, argv, walked=True) == shown(data, argv, walked=False)
    assert not learned


def test_netlink_and_reused_descriptors_print_what_they_were_then():
    text = shown(generated(), (), walked=True)[0]
    sends = [line for line in text.splitlines() if "sendto(5" in line]
    assert len(sends) == 12
    assert all("nlmsg_type=RTM_GETLINK" in line for line in sends[::2])
    assert not any("nlmsg_type" in line for line in sends[1::2])


def test_a_bad_record_in_a_walked_call_stops_both_paths_alike():
    t = Trace()
    t.start(PID)
    io_loop(t, rounds=50)
    t.call("read", 0, 0x7FFC0000, 1)
    t.add(r.GENIO, r.genio_payload(0, 0, b"\0"))
    t.add(r.SYSRET, b"\1")                        # too short to be a SYSRET
    io_loop(t)
    data = t.bytes()
    for chunk in (97, 1 << 20):
        fast = shown(data, (), walked=True, chunk=chunk)
        assert fast == shown(data, (), walked=False, chunk=chunk)
        assert fast[0].count("\n") == 101 and "malformed SYSRET" in fast[1]


@pytest.fixture(scope="module")
def real_traces(tmp_path_factory):
    """Traces of real programs: a dd loop, a shell pipeline (forks, pipes,
    dup2), Python threads opening files."""
    tmp = tmp_path_factory.mktemp("strace-fast")
    programs = {
        "dd": ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=300"],
        "sh": ["sh", "-c", "for i in 1 2 3; do echo $i; done | cat >/dev/null; "
                     "ls / >/dev/null; cat /etc/passwd | wc -l >/dev/null"],
        "threads": ["python3", "-c", "import threading\n"
                    "def work():\n    for _ in range(100): open('/etc/passwd').close()\n"
                    "ts = [threading.Thread(target=work) for _ in range(3)]\n"
                    "[t.start() for t in ts]; [t.join() for t in ts]"],
    }
    traces = {}
    for name, argv in programs.items():
        out = tmp / f"{name}.out"
        done = run_traced(argv, out)
        assert done.returncode == 0, done.stderr
        traces[name] = out.read_bytes()
    return traces


@pytest.mark.parametrize("name", ["dd", "sh", "threads"])
@pytest.mark.parametrize("argv", [(), ("--follow", "-o", "unused", "-n"),
                                  ("-e", "trace=%file,read", "-Z"), ("-y",)])
def test_real_traces_print_alike_by_both_paths(real_traces, name, argv):
    data = real_traces[name]
    general = shown(data, argv, walked=False)
    assert general[1] is None and general[0].count("\n") > 20
    for chunk in (97, 1 << 20):
        assert shown(data, argv, walked=True, chunk=chunk) == general

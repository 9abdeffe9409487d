"""kdump --strace: Linux records shown the way strace(1) shows them.

One line per syscall joining its CALL, the NAMI/GIO/STRU records the
recording plan pairs with its arguments, and its RET; ``<unfinished ...>`` and
``<... resumed>`` when another thread's line comes between; ``--- SIG ---``
and ``+++ exited with N +++`` lines; strace's output options (-a, -n, -s, -v,
-x, -X, -y, -T, -r/-t/-tt/-ttt and their long forms with precisions; -e abbrev=,
verbose=, raw=, decode-fds=), and its selection (``ktrace.kdump.select``): -e trace/status/signal/quiet,
-z, -Z, -P, -q, -e read=/write= hex dumps, -ff -o PREFIX (a file per thread).
"""

from __future__ import annotations

import errno
import sys
import time
from collections import deque
from typing import TextIO

from ktrace import record as r
from ktrace.abi import LINUX_I386, abi_for_svflags
from ktrace.abi.linux_plan import (ERESTART_RESTARTBLOCK, FAILED_BUF, GIO_PART, MMSG_MAX,
                                   MSG_CONTROL_MAX, MSG_CONTROL_PART, UNMOVED)
from ktrace.decode.names import sigcode_name
from ktrace.decode.strace import Call, StraceOptions, result_text, split_args
from ktrace.decode.strace.fmt import _ESCAPES, FD_DEVICES, FD_PATHS, FD_PIDFDS, FD_SOCKETS, HEX_ALL, \
    HEX_NON_ASCII, HEX_NON_ASCII_CHARS, HEX_NONE, c_int, constant_style, fd_path, signame
from ktrace.decode.strace.files import (MADE_IN_ARGUMENTS, Deleted, Device, Files, Passing,
                                        Pidfd, Socket, too_long)
from ktrace.decode.strace.net import mmsg_messages
from ktrace.decode.strace.pairing import PARENT, SOCKET_STATES, entry_waits_for_exit, pair
from ktrace.decode.strace.sockets import Sockets
from ktrace.decode.strace.call import PT_TGID, PT_TID
from ktrace.decode.strace.process import EXECS, FORKS, WAITS, reaped, shares_files
from ktrace.decode.strace.structs import siginfo_text
from ktrace.decode.structs import iter_array
from ktrace.kdump.cli import SELECTION_SHORT, Fatal, Front, UsageError, front, options, \
    read_trace, select_option
from ktrace.kdump.select import Selection, named_paths, syscall_set

from .iodump import strace_cut_dump, strace_dump, strace_iov_dump
from .lines import CACHEABLE, FAST_CACHE_LIMIT
from .signals import SIG_DFL, acted_on

USAGE = """\
usage: kdump --strace [--follow | -ff] [-lnTvy] [-x|-xx] [-r|-t|-tt|-ttt] [-s strsize]
                      [-a column] [-X raw|abbrev|verbose] [-p pid] [-o outfile]
                      [-f trfile] [-zZq] [-P path] [-e expr]...
expr: trace=SET  status=SET  signal=SET  read=FDS  write=FDS  quiet=SET
      abbrev=SET  verbose=SET  raw=SET  decode-fds=SET  kvm=vcpu  (strace's)
      and strace's long options: --timestamps=[format:]none|time|unix[,precision:]s|ms|us|ns,
      --relative-timestamps=, --syscall-times=PRECISION, --strings-in-hex=, --trace= ...
      -f names the trace file; strace's -f is --follow, its -ff is -ff (with -o PREFIX)
"""
COLUMN = 40            # strace's -a default: where " = " goes
UNFINISHED = "<unfinished ...>"
MAX_HELD = 10_000      # output lines held back behind one <unfinished ...> line
MAX_HELD_CHARS = 16 << 20   # and their characters
# What a call waiting for its RET keeps, so that memory has a bound whatever
# the file holds: records (the plan pairs fewer than 20 with one call, but for
# each of sendmmsg's and recvmmsg's MMSG_MAX messages: its sockaddr, iovecs,
# control data parts and data), bytes of one record's data, bytes of all
# pending calls' data (once spent, a record keeps MIN_KEPT: enough for -s), and
# calls in flight (beyond, the oldest is given up as <unfinished ...>).
MAX_RECORDS = 32 + (3 + MSG_CONTROL_MAX // MSG_CONTROL_PART) * MMSG_MAX
KEPT_PER_RECORD = 1 << 20
KEPT_PENDING = 16 << 20
MIN_KEPT = 512
MAX_PENDING = 4096
MAX_ENDED = 65536      # ended pids remembered (a pid may be used again)
MAX_OPEN_FILES = 64    # -ff: files kept open at once
OUT_LINES = 1024       # lines held before run writes them together
# walk: the records of a call it takes (CALL, RET and those between: its key
# has pid, tid, whether others are alive, the CALL's payload, then a type and a
# payload a record), and the payload bytes of each (within MIN_KEPT: _keep
# cuts none of them)
MAX_WALKED = 16
MAX_KEY = 4 + 2 * (MAX_WALKED - 1)
WALKED_BYTES = min(CACHEABLE, MIN_KEPT)
HEADER = r.AMD64_V1.header
DECODED_IN_PLACE = 1 << 16     # payload bytes (the reader keeps such a record whole)
# the records a walked call may have after its CALL (not a signal, not a
# process made or ended, not another CALL)
WALKED_TYPES = {t | r.KTR_VERSIONED for t in r.TYPE_NAMES
                if t not in (r.SYSCALL, r.PSIG, r.PROCCTOR, r.PROCDTOR)}
# calls whose line or effects are not a function of their records alone:
# a fork makes a process, rt_sigreturn prints the mask of the last signal,
# restart_syscall the call it resumes (and a call interrupted to be resumed
# leaves its name for that: see INTERRUPTED)
UNWALKED = FORKS | {"rt_sigreturn", "restart_syscall"}
# -e read=/write=: the calls strace dumps (syscall.c's dumpio), and which way
DUMPS = {"read": False, "pread64": False, "recvfrom": False, "mq_timedreceive": False,
         "write": True, "pwrite64": True, "sendto": True, "mq_timedsend": True}
# and those whose data is in buffers, dumped buffer by buffer (util.c's dumpiov_upto):
# the buffers' lengths are the call's recorded iovec array
VECTORED_DUMPS = {"readv": False, "preadv": False, "preadv2": False, "recvmsg": False,
                  "writev": True, "pwritev": True, "pwritev2": True, "sendmsg": True,
                  "vmsplice": True}
# and those of many messages, dumped message by message (util.c's dumpiov_in_mmsghdr)
MMSG_DUMPS = {"recvmmsg": False, "sendmmsg": True}
# signals not acted on (ignored, stopping, continuing) that came during one call,
# held for after its line (beyond, each is shown as it comes)
MAX_SIGNALS_AFTER = 64


class ViewOptions:
    def __init__(self):
        self.trfile = "ktrace.out"
        self.outfile: str | None = None
        self.pid = 0
        self.column = COLUMN       # -a
        self.timing: int | None = None       # -T: the digits of its fraction
        self.relative: int | None = None     # -r: the digits of its fraction
        self.clock = ""            # -t, --timestamps: strftime's format of the time of day
        self.clock_digits = 0      # and the digits of its fraction
        self.syscall_number = False  # -n
        self.style = "abbrev"      # -X
        self.follow = False        # -f: pid prefix on every line of an -o file
        self.per_thread = False    # -ff: a file PREFIX.TID per thread (strace -ff -o)
        self.live = False          # -l: follow a growing trace file, as kdump -l
        self.decode_pids: set[str] = set()   # --decode-pids=: comm, pidns (-Y: comm)
        self.strace = StraceOptions()
        self.selection = Selection()


SHORT = "f:o:p:s:a:xyTrtlnvX:" + SELECTION_SHORT
LONG = ("follow", "ff", "timestamps=", "relative-timestamps=", "syscall-times=",
        "strings-in-hex=")
# strace's long spellings and their short ones (or the -e qualifier they set)
LONG_SPELLINGS = {"--columns": "-a", "--string-limit": "-s", "--const-print-style": "-X",
                  "--trace-path": "-P", "--output": "-o", "--attach": "-p",
                  "--no-abbrev": "-v", "--syscall-number": "-n", "--successful-only": "-z",
                  "--failed-only": "-Z", "--failing-only": "-Z", "--follow-forks": "--follow",
                  "--output-separately": "--ff", "--absolute-timestamps": "--timestamps"}
# strace's options that stand for a qualifier (-Y: --decode-pids=comm)
QUALIFIER_SPELLINGS = {"-Y": "decode-pids=comm", "--pidns-translation": "decode-pids=pidns"}
LONG_QUALIFIERS = ("trace", "signal", "signals", "status", "read", "write", "quiet",
                   "silent", "silence", "abbrev", "verbose", "raw", "decode-fds",
                   "decode-pids", "kvm")
# the value of a long qualifier given without one (strace.c's qflag_qual, yflag_qual)
QUALIFIER_DEFAULTS = {"quiet": "attach,personality", "silent": "attach,personality",
                      "silence": "attach,personality", "decode-fds": "path"}
# long options whose value may be left out (strace's optional_argument)
VALUE_OPTIONAL = ("--timestamps", "--relative-timestamps", "--syscall-times",
                  "--strings-in-hex")
# strace's -e qualifiers that choose how calls print (the rest select)
PRINTING_QUALIFIERS = ("abbrev", "verbose", "raw", "decode-fd", "decode-fds", "decode-pids",
                       "kvm")
# --strings-in-hex=
HEX_STYLES = {"none": HEX_NONE, "non-ascii-chars": HEX_NON_ASCII_CHARS,
              "non-ascii": HEX_NON_ASCII, "all": HEX_ALL}
# a precision's digits: s, ms, us, ns (str2timescale)
PRECISIONS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
# what -t, -tt, -ttt stand for (strace.c's tflag_str ...)
T_FLAGS = ("format:time", "precision:us,format:time", "format:unix,precision:us")
CLOCK_FORMATS = {"none": "", "time": "%T", "unix": "%s"}


def parse(argv: list[str]) -> ViewOptions:
    """strace's options (for programs; the command goes through ``front``)."""
    return configure(options(FRONT, _ff(argv)))


def _ff(argv: list[str]) -> list[str]:
    """strace's spellings in kdump's: ``-ff`` (which getopt would read as ``-f f``,
    a trace file ``f``: spell that ``-f f``), the long options."""
    out = []
    for a in argv:
        name, eq, value = a.partition("=")
        if a == "-ff":
            out.append("--ff")
        elif a in QUALIFIER_SPELLINGS:
            out += ["-e", QUALIFIER_SPELLINGS[a]]
        elif LONG_SPELLINGS.get(name) in VALUE_OPTIONAL:     # --absolute-timestamps[=...]
            out.append(f"{LONG_SPELLINGS[name]}={value}")
        elif name in LONG_SPELLINGS:
            out += [LONG_SPELLINGS[name], *([value] if eq else [])]
        elif name[2:] in LONG_QUALIFIERS and name.startswith("--"):
            qualifier = name[2:]
            out += ["-e", f"{qualifier}={value if eq else QUALIFIER_DEFAULTS.get(qualifier, '')}"]
        elif name in VALUE_OPTIONAL and not eq:
            out.append(name + "=")
        else:
            out.append(a)
    return out


def configure(pairs) -> ViewOptions:
    """strace's options, but -f names the trace file as in kdump: strace's -f
    (a pid on every line, as ``strace -f -o`` prints) is spelled --follow."""
    o = ViewOptions()
    strsize, xflag, yflag, hex_style, t_flags = 32, 0, 0, None, 0
    style, sets, vcpu_exits = "abbrev", {}, False
    for flag, value in pairs:
        qualifier, _, chosen = value.partition("=")
        if flag == "-e" and qualifier in PRINTING_QUALIFIERS:
            if qualifier.startswith("decode-fd"):
                yflag = _decode_fds(chosen)
            elif qualifier == "decode-pids":
                o.decode_pids = _decode_pids(chosen)
            elif qualifier == "kvm":
                vcpu_exits = _kvm(chosen)
            else:
                sets[qualifier] = syscall_set(chosen)
            continue
        if select_option(o.selection, flag, value):
            continue
        if flag == "-f":
            o.trfile = value
        elif flag == "--follow":
            o.follow = True
        elif flag == "--ff":
            o.per_thread = True
        elif flag == "-l":
            o.live = True
        elif flag == "-o":
            o.outfile = value
        elif flag == "-p":
            o.pid = _number(value, "-p")
        elif flag == "-s":
            strsize = _number(value, "-s")
        elif flag == "-x":
            xflag += 1
        elif flag == "--strings-in-hex":
            hex_style = _word(value or "all", HEX_STYLES, flag)
        elif flag == "-y":          # -y paths, -yy devices too
            yflag |= FD_DEVICES | FD_PIDFDS | FD_SOCKETS if yflag else FD_PATHS
        elif flag == "-a":
            o.column = _number(value, "-a")
        elif flag == "-n":
            o.syscall_number = True
        elif flag == "-v":
            sets["abbrev"] = syscall_set("none")
        elif flag == "-X":
            style = _word(value, {s: s for s in ("raw", "abbrev", "verbose")}, flag)
        elif flag in ("-T", "--syscall-times"):
            o.timing = _precision(value or "us", flag)
        elif flag in ("-r", "--relative-timestamps"):
            o.relative = _precision(value or "us", flag)
        elif flag == "-t":
            t_flags += 1
        elif flag == "--timestamps":
            _timestamps(o, value or T_FLAGS[0], flag)
    if o.per_thread and not o.outfile:
        raise UsageError("-ff needs -o PREFIX")
    if o.outfile and not o.selection.quiet_chosen:
        o.selection.quieter()    # strace.c: -o with a command is an implicit -q
    if t_flags:
        if any(flag == "--timestamps" for flag, _ in pairs):
            raise UsageError("-t and --absolute-timestamps cannot be provided simultaneously")
        _timestamps(o, T_FLAGS[min(t_flags, 3) - 1], "-t")
    if hex_style is not None and xflag:
        raise UsageError("-x and --strings-in-hex cannot be provided simultaneously")
    o.strace = StraceOptions(strsize, min(xflag, HEX_ALL) if hex_style is None else hex_style,
                             yflag, **sets, vcpu_exits=vcpu_exits)
    o.style = style
    return o


def _word(value: str, words: dict, flag: str):
    if value not in words:
        raise UsageError(f"invalid {flag} argument: '{value}'")
    return words[value]


def _precision(value: str, flag: str) -> int:
    """The digits of a precision: s, ms, us, ns."""
    return _word(value, PRECISIONS, flag)


def _timestamps(o: ViewOptions, value: str, flag: str) -> None:
    """--timestamps=[format:]none|time|unix,[precision:]s|ms|us|ns (parse_ts_arg)."""
    clock = None
    for token in value.split(","):
        kind, _, word = token.rpartition(":")
        if kind not in ("", "format", "precision"):
            raise UsageError(f"invalid {flag} argument: '{value}'")
        if kind != "precision" and word in CLOCK_FORMATS:
            clock = CLOCK_FORMATS[word]
        elif kind != "format" and word in PRECISIONS:
            o.clock_digits = PRECISIONS[word]
        else:
            raise UsageError(f"invalid {flag} argument: '{value}'")
    o.clock = (o.clock or "%T") if clock is None else clock


def _decode_fds(value: str) -> int:
    """--decode-fds=SET as yflag's bits: ``path`` FD_PATHS (-y), ``dev``
    FD_DEVICES (a device's path and numbers, where the trace holds them:
    descriptors held as tracing began), ``pidfd`` FD_PIDFDS (a pidfd's
    process, known from the call that made it), ``socket`` FD_SOCKETS (a
    socket's protocol and addresses, from the STRU sockinfo of the calls
    that made or changed it)."""
    words = ("path", "socket", "dev", "pidfd")
    items, inverted = _decode_set(value, words, "decode-fds")
    if inverted:
        items = set(words) - items
    return (("path" in items and FD_PATHS) | ("dev" in items and FD_DEVICES)
            | ("pidfd" in items and FD_PIDFDS) | ("socket" in items and FD_SOCKETS))


def _decode_pids(value: str) -> set[str]:
    """--decode-pids=SET: ``comm``, a process's name after its pid (the records'
    own), ``pidns``, its pid as the tracer saw it (what the records tell of it)."""
    words = ("comm", "pidns")
    items, inverted = _decode_set(value, words, "decode-pids")
    return set(words) - items if inverted else items


def _kvm(value: str) -> bool:
    """-e kvm=vcpu, the one value strace takes: a KVM_RUN's exit reason after its result."""
    if value != "vcpu":
        raise UsageError(f"invalid -e kvm= argument: '{value}'")
    return True


def _decode_set(value: str, words: tuple[str, ...], what: str) -> tuple[set[str], bool]:
    inverted = value.startswith("!")
    items = set(value.lstrip("!").split(","))
    if "all" in items:
        items = set(words)
    items.discard("none")
    unknown = items - set(words)
    if unknown:
        raise UsageError(f"invalid {what} '{unknown.pop()}'")
    return items, inverted


def _number(text: str, flag: str) -> int:
    if not text.isdigit():
        raise UsageError(f"{flag} needs a number of 0 or more, not '{text}'")
    return int(text)


CLONE_NEWPID, CLONE_THREAD = 0x20000000, 0x00010000
MAX_KNOWN_PIDS = 65536     # pids remembered per namespace (then forgotten, as pids are reused)


class PidNamespaces:
    """--decode-pids=pidns: what the records tell of a pid seen in a traced
    process's own namespace, as strace's ``/* N in strace's PID NS */``.

    A record's header has the tracer's pid and tid (the ptrace engine's own
    namespace: strace's), a syscall's numbers the process's own.  So a
    getpid, gettid or setsid result is that process's pid in its namespace, a
    fork's result its child's in the parent's; unshare(CLONE_NEWPID) and
    clone(CLONE_NEWPID) say which processes are in a new namespace.  The first
    process is taken to be in the tracer's (nothing to translate) until one of
    its results says otherwise.  A task a fork or clone made in a namespace
    not the tracer's has its id there in a STRU nspid (its process placed by
    its PROCCTOR before), which strace reads in /proc.  A pid none of these
    has shown prints bare: strace reads /proc while the program runs, which a
    recording cannot.
    """

    TRACERS = 0

    def __init__(self):
        self.of: dict[int, int] = {}             # pid -> its namespace
        self.children: dict[int, int] = {}       # pid -> its children's namespace
        self.known: dict[int, dict[int, int]] = {}   # namespace -> {own pid: tracer's pid}
        self.foreign: set[int] = set()           # namespaces known not to be the tracer's
        self.made: dict[int, int] = {}           # forking tid -> its child (tracer's pid)
        self.last = 0

    def _new(self) -> int:
        self.last += 1
        self.foreign.add(self.last)
        return self.last

    def born(self, pid: int, parent_tid: int, parent: int, call: Call) -> None:
        """``pid`` made by ``call`` of ``parent`` (its ``parent_tid``), the
        fork still in progress."""
        self._place(pid, parent, call)
        self.made[parent_tid] = pid
        if len(self.made) > MAX_PENDING:
            self.made.clear()

    def _place(self, pid: int, parent: int, call: Call) -> None:
        flags = call.arg(0) if call.name == "clone" else 0
        if flags & CLONE_NEWPID:
            self.of[pid] = self._new()
        else:
            self.of[pid] = self.children.get(parent, self.of.get(parent, self.TRACERS))

    def learn(self, h: r.Header, call: Call) -> None:
        """What a finished call of the process of ``h`` tells."""
        pid, tid = h.pid, (h.tid if h.tid > 0 else h.pid)
        child = self.made.pop(tid, None) if call.name in FORKS else None
        if not call.ok:
            return
        ns = self.of.get(pid, self.TRACERS)
        own = c_int(call.retval)
        if call.name in ("getpid", "setsid"):
            self._map(ns, own, pid)
        elif call.name == "gettid":
            self._map(ns, own, tid)
        elif call.name in FORKS and own > 0 and not (call.name == "clone"
                                                     and call.arg(0) & CLONE_THREAD):
            if child is None and ns not in self.foreign:   # its records not come yet:
                child = own                                # in the tracer's, it is the same
                self._place(child, pid, call)
            if child is not None:
                self._map(ns, own, child)
        elif call.name == "unshare" and call.arg(0) & CLONE_NEWPID:
            self.children[pid] = self._new()
        elif call.name == "setns" and c_int(call.arg(1)) in (0, CLONE_NEWPID):
            self.children[pid] = self._new()     # which namespace: the records do not say

    def own_id(self, pid: int, tid: int, own: int) -> None:
        """A STRU nspid: thread ``tid`` of process ``pid`` is ``own`` in its
        namespace, which is not the tracer's (whatever the calls before said:
        the process goes to a new one)."""
        ns = self.of.get(pid, self.TRACERS)
        if ns not in self.foreign:
            ns = self.of[pid] = self._new()
        self._map(ns, own, tid)

    def _map(self, ns: int, own: int, tracers: int) -> None:
        if own != tracers:
            self.foreign.add(ns)
        known = self.known.setdefault(ns, {})
        if len(known) >= MAX_KNOWN_PIDS:
            known.clear()
        known[own] = tracers

    def ended(self, pid: int) -> None:
        self.children.pop(pid, None)
        self.of.pop(pid, None)

    def tracers(self, pid: int, own: int) -> int | None:
        """The tracer's pid for ``own`` seen by process ``pid``, if known."""
        ns = self.of.get(pid, self.TRACERS)
        if ns not in self.foreign:
            return own
        return self.known.get(ns, {}).get(own)


class Process:
    """What the view knows of one process: ABI, files (for -y), how it ended."""

    def __init__(self, abi=None, files: Files | None = None):
        self.abi = abi
        self.files = files if files is not None else Files()
        self.exit_code: int | None = None
        self.fatal: int | None = None
        # strace's TCB_HIDE_LOG: a process traced by request (its held
        # descriptors recorded) whose first call is an exec is ktrace's command
        # being started (ktrace(1) execs it); strace hides its calls after a
        # failed first exec, until it execs again
        self.requested = False
        self.called = False
        self.hiding = False


class Pending:
    def __init__(self, call: Call, rec: r.Syscall, info):
        self.call = call
        self.start = rec.header
        self.info = info
        self.records: list = []
        self.kept = 0                           # data bytes in records
        self.unfinished = False
        self.note = UNFINISHED                  # what ends its unfinished line
        self.held: HeldLine | None = None     # its <unfinished ...> line, not yet written
        self.shown = True                       # -e trace= selects it
        self.launch = False                     # an exec that starts ktrace's command
        self.deferred = False                   # status= or -P decide at its end: one line
        self.signals_after: list[HeldLine] = []   # its thread's signals shown after its line

    @property
    def printing(self) -> bool:
        """Is its line printed as it goes (entry half, then resumed)?"""
        return self.shown and not self.deferred


class WatchedFiles:
    """A process's descriptors, noting whether anything looked at them: a
    call's decoder (a line that depends on them is not a function of the
    call's records), or the call's tracking (see ``tracks``)."""

    def __init__(self, files: Files):
        self._files = files
        self.touched = False

    def __getattr__(self, name: str):
        self.touched = True
        return getattr(self._files, name)


def _failed_write_dump(call: Call) -> list[str]:
    """A failed write's data, dumped as strace dumps a write whatever its
    result: what it was given (STRU FAILED_BUF), unless a fault cut it short
    (strace reads the whole buffer or dumps nothing)."""
    given = call.struct(1, FAILED_BUF)
    if not given or len(given) < call.arg(2) and call.linux_errno() == errno.EFAULT:
        return []
    return strace_dump(given)


def _write_dump(call: Call, data: bytes, tid: int) -> list[str]:
    """A write's data, dumped as strace dumps it: its whole count.  A short
    write's is its GIO and then its STRU unmoved (linux_plan's doc): when that
    holds fewer bytes than were read for it, strace could not read them."""
    moved, count = call.retval, call.arg(2)
    tail = call.struct(1, UNMOVED)
    if tail is None or len(data) != moved or not 0 <= moved < count:
        return strace_dump(data)
    if len(tail) == min(count - moved, GIO_PART):
        return strace_dump(data + tail, count)
    return strace_cut_dump(data + tail, count, tid, call.arg(1))


def _mmsg_dumps(call: Call) -> list[str]:
    """-e read=/write= of sendmmsg or recvmmsg: each message moved, `` = N
    buffers in vector K`` and its buffers up to its msg_len."""
    _, moved, messages = mmsg_messages(call, 1)
    lines = []
    for k, ((f, msg_len), recs) in enumerate(zip(moved, messages)):
        lines.append(f" = {f['msg_iovlen']} buffers in vector {k}")
        iovecs = next((rec for rec in recs if rec.header.type == r.STRUCT_ARRAY), None)
        gio = next((rec for rec in recs if rec.header.type == r.GENIO), None)
        if iovecs is not None and gio is not None:
            lengths = (vec["iov_len"] for vec in iter_array("iovec", iovecs.data,
                                                              iovecs.struct_size))
            lines += strace_iov_dump(gio.data, lengths, msg_len)
    return lines


def tracks(call: Call) -> bool:
    """Does following descriptors (Files.track) do anything for ``call``,
    whatever a process's descriptors are?  It is tried on throwaway ones."""
    files = WatchedFiles(Files())
    Files.track(files, call)
    return files.touched


def next_record(reader: r.RecordReader, buf: bytes, pos: int):
    """The record at ``pos`` in ``buf`` (the reader's ``buffered()``), the
    reader moved past it; None at the end.  A whole amd64-v1 record there is
    decoded in place (not by a generator made for one record); anything else,
    and a record that is not what its type says, the reader reads (and names
    as bad input)."""
    if len(buf) - pos >= HEADER.size:
        length, rtype, version = HEADER.unpack_from(buf, pos)[:3]
        end = pos + HEADER.size + length
        if rtype & r.KTR_VERSIONED and version == 1 and 0 <= length <= DECODED_IN_PLACE \
                and end <= len(buf):
            rec = r.decode(buf[pos:end])
            if type(rec) is not r.Unknown or rec.header.type not in r.TYPE_NAMES:
                reader.skip_to(end)
                return rec
    reader.skip_to(pos)
    return next(reader.wellformed(), None)


class HeldOutput:
    """A text stream written in large pieces: lines are held until OUT_LINES
    of them are, or until :meth:`flush` (a write per line is a system call
    where Python's output is unbuffered)."""

    def __init__(self, out: TextIO):
        self.out = out
        self.held: list[str] = []

    def write(self, text: str) -> None:
        self.held.append(text)
        if len(self.held) >= OUT_LINES:
            self.write_held()

    def write_held(self) -> None:
        if self.held:
            self.out.write("".join(self.held))
            self.held.clear()

    def flush(self) -> None:
        self.write_held()
        self.out.flush()


class HeldLine:
    """A line written once a later record completes it: an ``<unfinished ...>``
    line whose call's exit records are not in yet, a signal whose siginfo may
    follow.  ``fallback`` is the line when nothing completes it."""

    def __init__(self, head: str, fallback: str):
        self.head = head
        self.fallback = fallback
        self.text: str | None = None


def comm_text(comm: bytes) -> str:
    """A process's name as strace shows it after a pid (print_comm_str): escaped
    as a string, ``<`` and ``>`` too, without quotes; empty for none."""
    name = comm.split(b"\0", 1)[0]
    out = []
    for i, b in enumerate(name):
        if b in _ESCAPES:
            out.append(_ESCAPES[b])
        elif 0x20 <= b < 0x7F and b not in b"<>":
            out.append(chr(b))
        elif i + 1 < len(name) and 0x30 <= name[i + 1] <= 0x37:
            out.append(f"\\{b:03o}")
        else:
            out.append(f"\\{b:o}")
    return "".join(out)


def _fraction(nsec: int, digits: int) -> str:
    """``.NNN``: nanoseconds cut to ``digits`` (none for 0), as strace's ``%0*ld``."""
    return f".{nsec // 10 ** (9 - digits):0{digits}d}" if digits else ""


class View:
    """Turns the record stream into strace lines."""

    def __init__(self, opts: ViewOptions, out: TextIO):
        self.o = opts
        self.out = out
        self.procs: dict[int, Process] = {}
        self.alive: dict[int, int] = {}        # tid -> its process (pid), as last seen
        self.pending: dict[int, Pending] = {}
        self.current: int | None = None        # tid whose line is begun, not ended
        self.last_stamp: int | None = None     # -r: the last line's time, in ns
        self.last_mask: dict[int, int] = {}
        self.interrupted: dict[int, str] = {}  # tid -> its shown call restart_syscall resumes
        self.queue: deque = deque()            # (tid, str or HeldLine), in order
        self.sel = opts.selection
        # -y and -P follow descriptors through every call, printed or not
        self.files_matter = opts.strace.yflag or bool(opts.selection.paths)
        self.sockets = Sockets(opts.strace)    # -yy: what the trace says of each socket
        self.passing = Passing(self.sockets.peer)     # descriptors sent by SCM_RIGHTS
        self.files: dict[int, TextIO] = {}     # -ff: tid -> its open file
        self.made: set[int] = set()            # -ff: tids whose file was created
        self.queued = 0                        # characters of the str lines in queue
        self.kept = 0                          # data bytes kept by pending calls
        # tid -> (its signal line, its pid): the siginfo may come next
        self.signals: dict[int, tuple[HeldLine, int]] = {}
        # pids whose process ended: a fork's result may name a child that has
        # already come and gone (its records came first), not one to wait for
        self.ended: set[int] = set()
        self.pidns = PidNamespaces() if "pidns" in opts.decode_pids else None
        self.comms: dict[int, bytes] = {}      # --decode-pids=comm: tid -> its last name
        self.i386_threads: set[int] = set()    # tids whose last call was i386's (personality)
        # walk: a call's lines (and the call, for what it does to the process's
        # descriptors) by its records
        self.known: dict[tuple, tuple[str, tuple[str, ...], Call | None, bool]] = {}
        self.learning: list | None = None      # walk: the lines emitted while learning a call

    # --- output -----------------------------------------------------------

    def _leader(self, tid: int, h: r.Header, call: Call | None = None) -> str:
        """printleader: the pid, the times, and a call's number (-n)."""
        number = f"[{call.nr:4d}] " if call is not None and self.o.syscall_number else ""
        comm = comm_text(h.comm) if "comm" in self.o.decode_pids else ""
        if self.o.per_thread:
            prefix = ""
        elif self.o.outfile and (self.o.follow or len(self.alive) > 1):
            prefix = f"{tid}<{comm}> " if comm else f"{tid:<5d} "
        elif len(self.alive) > 1:
            prefix = f"[pid {tid:5d}{f'<{comm}>' if comm else ''}] "
        else:
            prefix = ""
        return prefix + self._stamp(h) + number

    def _stamp(self, h: r.Header) -> str:
        """printleader's times: the time of day (-t), then the time since the
        last line (-r: in ``(+...)`` after a time of day)."""
        o, text = self.o, ""
        if o.clock:
            text = time.strftime(o.clock, time.localtime(h.sec)) + _fraction(h.nsec, o.clock_digits) + " "
        if o.relative is not None:
            now = h.sec * 1_000_000_000 + h.nsec
            delta = 0 if self.last_stamp is None else max(0, now - self.last_stamp)
            self.last_stamp = now
            sec, nsec = divmod(delta, 1_000_000_000)
            relative = f"{sec:6d}{_fraction(nsec, o.relative)}"
            text += f"(+{relative}) " if o.clock else relative + " "
        return text

    def _emit(self, tid: int, line) -> None:
        if self.learning is not None:
            self.learning.append(line)
        self.queue.append((tid, line))
        if isinstance(line, str):
            self.queued += len(line)
        self._flush()

    def _flush(self) -> None:
        q = self.queue
        while q and (isinstance(q[0][1], str) or q[0][1].text is not None or len(q) > MAX_HELD
                     or self.queued > MAX_HELD_CHARS):
            tid, item = q.popleft()
            if isinstance(item, str):
                self.queued -= len(item)
            else:
                item = item.text if item.text is not None else item.fallback
            self._write(tid, item + "\n")

    def _write(self, tid: int, text: str) -> None:
        if not self.o.per_thread:
            self.out.write(text)
            return
        f = self.files.get(tid)
        if f is None:
            if len(self.files) >= MAX_OPEN_FILES:       # the oldest reopens when needed
                self.files.pop(next(iter(self.files))).close()
            try:
                f = open(f"{self.o.outfile}.{tid}", "a" if tid in self.made else "w")
            except OSError as e:
                raise Fatal(f"{e.filename}: {e.strerror}") from None
            self.made.add(tid)
            self.files[tid] = f
        f.write(text)

    def _unfinished(self, tid: int, p: Pending, note: str = UNFINISHED) -> None:
        """End the line begun for ``tid``: ``name(entry args <unfinished ...>``
        (or another ``note``)."""
        if not p.printing:          # nothing of it is printed before its end
            return
        p.unfinished = True
        p.note = note
        leader = f"{self._leader(tid, p.start, p.call)}{p.call.name}("
        if p.call.returned or not entry_waits_for_exit(p.call):
            self._emit(tid, self._unfinished_text(leader, p))
        else:
            p.held = HeldLine(leader, f"{leader} {note}")
            self._emit(tid, p.held)

    def _unfinished_text(self, leader: str, p: Pending) -> str:
        entry, _, _ = self._args(p)
        return f"{leader}{entry} {p.note}"

    def _release(self, p: Pending) -> None:
        if p.held is not None:
            p.held.text = self._unfinished_text(p.held.head, p)
            p.held = None
            self._flush()

    def _interrupt(self, tid: int) -> None:
        """Another thread prints: end the line begun for the current one (with
        -ff not: each thread has a file of its own, as strace's printleader)."""
        cur = self.current
        if cur is not None and cur != tid and cur in self.pending and not self.o.per_thread:
            self._unfinished(cur, self.pending[cur])
        self.current = None

    def _args(self, p: Pending) -> tuple[str, str, bool]:
        pair(p.call, p.records)
        return split_args(p.call, p.info)

    def _finish(self, tid: int, p: Pending, end: r.Header) -> None:
        self._finish_call(tid, p, end)
        if p.signals_after:
            self._signals_after(tid, p, end)

    def _signals_after(self, tid: int, p: Pending, h: r.Header) -> None:
        """The signals not acted on that came during ``p``, after its line:
        strace sees one as the thread returns to user space (the bpf engine
        records a signal the kernel discards when it is sent, which is in the
        sender's time)."""
        for line in p.signals_after:
            self._emit(tid, self._leader(tid, h) + (line.text or line.fallback))
        p.signals_after.clear()

    def _finish_call(self, tid: int, p: Pending, end: r.Header) -> None:
        if not p.shown:         # not printed: only what it changed (-y, -P, children)
            if self.files_matter:
                pair(p.call, p.records)
            self._track(p.start, p.call)
            if self.current == tid:
                self.current = None
            return
        proc = self._proc(p.start.pid)
        self._release(p)
        early = p.call.name in MADE_IN_ARGUMENTS
        if early:
            pair(p.call, p.records)
            self._track(p.start, p.call)
        entry, exit_text, _ = self._args(p)
        if exit_text and not p.call.returned:
            exit_text = f" {UNFINISHED}"   # what it would print at its exit: never (strace's too)
        shown = self._selected(p)        # before tracking: -P knows close(3)'s file
        if p.unfinished:
            self._interrupt(tid)
            head = f"{self._leader(tid, end, p.call)}<... {p.call.name} resumed>{exit_text})"
        else:
            head = f"{self._leader(tid, p.start, p.call)}{p.call.name}({entry}{exit_text})"
        head += " "
        if not early:
            self._track(p.start, p.call)     # after the arguments: close(3</path>)
        head = head.ljust(self.o.column)
        line = head + "= " + result_text(p.call, proc.abi, self._fd_text(proc))
        if self.o.timing is not None and p.call.returned:
            took = max(0, (end.sec - p.start.sec) * 1_000_000_000 + end.nsec - p.start.nsec)
            sec, nsec = divmod(took, 1_000_000_000)
            line += f" <{sec}{_fraction(nsec, self.o.timing)}>"
        if shown:
            self._emit(tid, line)
            for dump in self._dumps(p):
                self._emit(tid, dump)
        # strace names its thread's last traced call (s_prev_ent), in practice
        # this one: no other call comes before the restart
        if p.call.linux_errno() == ERESTART_RESTARTBLOCK:
            self.interrupted[tid] = p.call.name
        self.current = None

    def _selected(self, p: Pending) -> bool:
        """Is the line of ``p`` printed: trace=, then (once it ended) status= and -P?"""
        if not p.shown:
            return False
        if self.sel.paths and not self.sel.names_path(
                named_paths(p.call, p.info, self._proc(p.start.pid).files)):
            return False
        return self.sel.finished(p.call.returned, p.call.error != 0)

    def _dumps(self, p: Pending) -> list[str]:
        """-e read=/write=: the data of a read or write on a chosen descriptor."""
        name = p.call.name
        vectored = name in VECTORED_DUMPS
        writing = next((table[name] for table in (DUMPS, VECTORED_DUMPS, MMSG_DUMPS)
                        if name in table), None)
        if writing is None or not p.call.args:
            return []
        fd = c_int(p.call.args[0])
        if fd < 0 or not self.sel.dumps(fd, writing) or (not writing and not p.call.ok):
            return []
        if name in MMSG_DUMPS:
            return _mmsg_dumps(p.call)
        if name == "mq_timedsend":            # its message is read at entry, not a GIO
            message = p.call.struct(1, "bytes", exit=False)
            return strace_dump(message) if message else []
        gio = p.call.gio(1)
        if gio is None and writing and not vectored:
            return _failed_write_dump(p.call)
        if gio is None or not gio.data:
            return []
        if not vectored:
            h = p.start
            return _write_dump(p.call, gio.data, h.tid if h.tid > 0 else h.pid) if writing \
                else strace_dump(gio.data)
        iovecs = p.call.array(1, "iovec")     # recvmsg's: the one recorded at its exit
        if iovecs is None:
            return []
        lengths = (vec["iov_len"] for vec in iter_array("iovec", iovecs.data,
                                                          iovecs.struct_size))
        # a write's buffers are shown whole, a read's up to what it read
        return strace_iov_dump(gio.data, lengths, None if writing else p.call.retval)

    def _personality(self, tid: int, h: r.Header, abi) -> None:
        """strace's update_personality: the line of a thread whose calls change
        ABI (an x86-64 process's ``int $0x80`` call, then its next call), at
        the call's entry, shown or not."""
        i386 = abi is LINUX_I386
        if i386 == (tid in self.i386_threads):
            return
        if i386:
            self.i386_threads.add(tid)
        else:
            self.i386_threads.discard(tid)
        if "personality" not in self.sel.quiet:
            self._interrupt(tid)
            self._emit(tid, f"{self._leader(tid, h)}[ Process PID={tid} runs in "
                            f"{32 if i386 else 64} bit mode. ]")

    def _exit_line(self, tid: int, h: r.Header, end: str) -> None:
        if "exit" not in self.sel.quiet:
            self._emit(tid, f"{self._leader(tid, h)}+++ {end} +++")

    def _files_of(self, pid: int) -> Files | None:
        """Process ``pid``'s descriptors, as far as the view follows them."""
        proc = self.procs.get(pid)
        return proc.files if proc is not None else None

    def _fd_text_of(self, pid: int):
        """How -y prints a descriptor of process ``pid`` (a call's of another
        process's: strace's printfd_pid): the number alone when the view knows
        nothing of it.  A socket's -yy details strace looks up by the caller's
        own descriptor of that number (get_sockaddr_by_inode), which is
        another file or none: its ``socket:[INODE]`` alone."""
        proc = self.procs.get(pid)
        return self._fd_text(proc, socket_details=False) if proc is not None else str

    def _fd_text(self, proc: Process, socket_details: bool = True):
        if not self.o.strace.yflag:
            return str

        yflag = self.o.strace.yflag
        paths, devices, pidfds = yflag & FD_PATHS, yflag & FD_DEVICES, yflag & FD_PIDFDS
        sockets = yflag & FD_SOCKETS and socket_details

        def text(fd: int) -> str:
            path = proc.files.name(fd)
            if devices and type(path) is Device:
                return f"{fd}<{fd_path(path)}<{path.details}>>"
            if pidfds and type(path) is Pidfd:
                return f"{fd}<pid:{path.pid}>"
            if sockets and type(path) is Socket:
                return f"{fd}<{self.sockets.text(path)}>"
            if not paths or not path or too_long(path):
                return str(fd)
            return f"{fd}<{fd_path(path)}>" + ("(deleted)" if type(path) is Deleted else "")
        return text

    # --- records ----------------------------------------------------------

    def record(self, rec) -> None:
        h = rec.header
        tid = h.tid if h.tid > 0 else h.pid
        t = h.type
        if tid in self.signals and self._siginfo(tid, rec):
            return
        if t == r.PROCCTOR:
            self._created(h.pid, rec.sv_flags, h)
            return
        if t == r.PROCDTOR:
            self._destroyed(h.pid, h)
            return
        if type(rec) is r.Struct and rec.name == r.NSPID_NAME:
            own = r.parse_int32(rec.data)
            if self.pidns is not None and own is not None and own > 0:
                self.pidns.own_id(h.pid, tid, own)
            return
        if self.o.pid and self.o.pid not in (h.pid, h.tid):
            return
        self.alive[tid] = h.pid
        if "comm" in self.o.decode_pids:
            self._note_comm(tid, h.comm)
        if t == r.SYSCALL:
            self._call(tid, rec)
        elif t == r.SYSRET:
            self._ret(tid, rec)
        elif t == r.PSIG:
            self._signal(tid, rec)
        elif type(rec) is r.Struct and rec.name == r.GROUPSTOP_NAME:
            self._stopped(tid, rec)
        elif tid not in self.pending:
            if type(rec) is r.Struct and rec.name == r.FDESC_NAME:     # held as tracing began
                proc = self._proc(h.pid)
                proc.files.held(rec.data)
                proc.requested = True
        else:
            p = self.pending[tid]
            if p.shown or self.files_matter:      # else nothing reads its records
                self._keep(p, rec)

    def _keep(self, p: Pending, rec) -> None:
        """Add ``rec`` to its pending call, its data cut to what the bounds allow."""
        if len(p.records) >= MAX_RECORDS:
            return
        tail = rec[-1]
        if isinstance(tail, bytes):
            room = max(MIN_KEPT, min(KEPT_PER_RECORD, KEPT_PENDING - self.kept))
            if len(tail) > room:
                tail = tail[:room]
                rec = rec._replace(**{rec._fields[-1]: tail})
            p.kept += len(tail)
            self.kept += len(tail)
        p.records.append(rec)

    def _pop(self, tid: int) -> Pending | None:
        """Take ``tid``'s pending call out (its kept bytes go back)."""
        p = self.pending.pop(tid, None)
        if p is not None:
            self.kept -= p.kept
        return p

    def _give_up(self, tid: int) -> None:
        """Write ``tid``'s pending call as unfinished: its RET will not be waited for."""
        p = self._pop(tid)
        if self.current == tid:
            self.current = None
        if p.held is not None:
            self._release(p)
        elif not p.unfinished and self._selected(p):
            self._emit(tid, self._unfinished_text(
                f"{self._leader(tid, p.start, p.call)}{p.call.name}(", p))
        if p.signals_after:
            self._signals_after(tid, p, p.start)

    def _proc(self, pid: int) -> Process:
        proc = self.procs.get(pid)
        if proc is None:
            proc = self.procs[pid] = Process()
        return proc

    def _created(self, pid: int, sv_flags: int, h: r.Header) -> None:
        if pid in self.procs:
            self._exec(pid, h)
        else:
            forking = self._forking()
            if forking is not None:
                self.procs[pid] = self._child_of(forking)
                if self.pidns is not None:
                    tid = next(t for t, p in self.pending.items() if p is forking)
                    self.pidns.born(pid, tid, forking.start.pid, forking.call)
        proc = self._proc(pid)
        proc.abi = abi_for_svflags(sv_flags)
        self.alive[pid] = pid
        self.ended.discard(pid)

    def _exec(self, pid: int, h: r.Header) -> None:
        """The exec of process ``pid``, whose PROCCTOR has the id its thread
        called exec with (docs/design.md): the kernel ends every other thread
        (their calls do not return; each but the leader exits with 0), and a
        thread that was not the leader takes the leader's id, as strace's
        maybe_switch_tcbs tells it: ``+++ superseded by execve in pid N +++``."""
        execer = h.tid if h.tid > 0 else pid
        p = self.pending.get(execer)
        if p is None or p.call.name not in EXECS or self.alive.get(execer) != pid:
            return                       # not an exec's (ktrace -p's, a child's first)
        others = [t for t, owner in self.alive.items() if owner == pid and t != execer]
        others.sort(key=lambda t: t != pid)     # the leader's line first, as strace's often is
        for tid in others:
            ended = self._pop(tid)
            if ended is not None:
                self._finish(tid, ended, h)
            if tid != pid:
                self._interrupt(tid)
                self._exit_line(tid, h, "exited with 0")
                self.alive.pop(tid)
        if execer == pid:
            return
        self._pop(execer)
        if self.current == execer:       # its line is not ended yet
            self._unfinished(execer, p, f"<pid changed to {pid} ...>")
        self._interrupt(pid)
        del self.alive[execer]
        self.alive[pid] = pid
        if "thread-execve" not in self.sel.quiet:
            self._emit(pid, f"{self._leader(pid, h)}+++ superseded by execve in pid {execer} +++")
        self.pending[pid] = p
        self.kept += p.kept

    def _forking(self) -> Pending | None:
        """The fork or clone in progress, latest first: a new process is its child.

        The child's records can come before its parent's call returns, and
        nothing in the trace names a parent; a fork in progress is the only
        one that can have made it.
        """
        forks = [p for p in self.pending.values() if p.call.name in FORKS]
        return max(forks, key=lambda p: (p.start.sec, p.start.nsec), default=None)

    def _child_of(self, p: Pending) -> Process:
        parent = self._proc(p.start.pid)
        return Process(parent.abi, parent.files.copy(shares_files(p.call)))

    def _call(self, tid: int, rec: r.Syscall) -> None:
        proc = self._proc(rec.header.pid)
        self._personality(tid, rec.header, proc.abi)
        info = proc.abi.syscall(rec.code) if proc.abi is not None else None
        name = info.name if info is not None else f"syscall_{rec.code:#x}"
        # an i386 call's CALL holds all six registers (docs/design.md): strace shows its count
        args = rec.args if info is None or info.nargs is None else rec.args[:info.nargs]
        call = Call(name, rec.code, args, self.o.strace, self._fd_text(proc))
        if self.o.decode_pids:
            call.pid_note = self._pid_note(rec.header.pid)
        call.files = proc.files          # what a decoder asks of a descriptor (a socket's protocol)
        call.files_of, call.fd_text_of = self._files_of, self._fd_text_of
        if name == "rt_sigreturn":       # the mask saved at the last delivery comes back
            call.restored_mask = self.last_mask.get(tid)
        elif name == "restart_syscall":
            call.resumes = self.interrupted.get(tid)
        if tid in self.pending:          # a CALL with no RET before it: give up on it
            self._finish(tid, self._pop(tid), rec.header)
        launch = name in EXECS and (proc.hiding or proc.requested and not proc.called)
        proc.called = True
        proc.hiding = proc.hiding and name not in EXECS
        shown = self.sel.call(name, rec.code) and not proc.hiding
        if shown:                        # one -e trace= leaves out ends no other thread's line
            self._interrupt(tid)
            self.current = tid
        if len(self.pending) >= MAX_PENDING:
            self._give_up(next(iter(self.pending)))
        p = self.pending[tid] = Pending(call, rec, info)
        p.shown = shown
        p.launch = launch
        p.deferred = self.sel.by_status or bool(self.sel.paths)
        if name in ("exit", "exit_group"):
            proc.exit_code = c_int(rec.args[0]) & 0xFF if rec.args else 0
            self._finish(tid, self._pop(tid), rec.header)
            if name == "exit" and tid != rec.header.pid:
                self._exit_line(tid, rec.header, f"exited with {proc.exit_code}")
                self.alive.pop(tid, None)

    def _ret(self, tid: int, rec: r.Sysret) -> None:
        p = self._pop(tid)
        if p is None:
            return
        p.call.retval = rec.retval
        p.call.error = rec.error
        if p.launch and rec.error:
            self._proc(rec.header.pid).hiding = True
        if self.pidns is not None:
            self.pidns.learn(p.start, p.call)
        self._finish(tid, p, rec.header)

    def _pid_note(self, pid: int):
        """printpid's decoration of a pid seen by process ``pid`` (--decode-pids=)."""
        def note(own: int, kind: str) -> str:
            tracers = self.pidns.tracers(pid, own) if self.pidns is not None else own
            if not tracers or own <= 0:
                return ""
            text = ""
            if "comm" in self.o.decode_pids and kind in (PT_TID, PT_TGID) \
                    and tracers in self.comms:
                text = f"<{comm_text(self.comms[tracers])}>"
            if self.pidns is not None and tracers != own:
                text += f" /* {tracers} in strace's PID NS */"
            return text
        return note

    def _signal(self, tid: int, rec: r.Psig) -> None:
        """``--- SIGNAME {siginfo} ---``.  A signal acted on ends the line of
        its thread's call (the handler runs inside it); one not acted on
        during a call is shown after the call's line (see _signals_after)."""
        name = signame(rec.signo)
        code = sigcode_name(rec.signo, rec.code) or str(rec.code)
        acted = acted_on(rec.signo, rec.action)
        during = None if acted else self.pending.get(tid)
        if during is not None and len(during.signals_after) >= MAX_SIGNALS_AFTER:
            during = None                 # too many held: shown as it comes
        if during is None:
            if tid in self.pending and self.current == tid:
                self._unfinished(tid, self.pending[tid])
                self.current = None
            self._interrupt(tid)
        if acted:                         # what its handler's rt_sigreturn restores
            self.last_mask[tid] = rec.mask[0] | rec.mask[1] << 32
        head = f"{'' if during is not None else self._leader(tid, rec.header)}--- {name} "
        line = HeldLine(head, f"{head}{{si_signo={name}, si_code={code}}} ---")
        self.signals[tid] = (line, rec.header.pid)     # its siginfo is taken in anyway
        if self.sel.signal(name):
            if during is not None:
                during.signals_after.append(line)
            else:
                self._emit(tid, line)
        if acted and rec.action == SIG_DFL:
            self._proc(rec.header.pid).fatal = rec.signo

    def _stopped(self, tid: int, rec: r.Struct) -> None:
        """``--- stopped by SIGSTOP ---``: the thread entered a group-stop."""
        signo = r.parse_int32(rec.data)
        # (a thread stops between calls: the engines write none inside one)
        if signo is None or tid in self.pending or not self.sel.signal(signame(signo)):
            return
        self._interrupt(tid)
        self._emit(tid, f"{self._leader(tid, rec.header)}--- stopped by {signame(signo)} ---")

    def _siginfo(self, tid: int, rec) -> bool:
        """The record after ``tid``'s signal: its siginfo (True) or anything else."""
        used = rec.header.type == r.STRUCT and getattr(rec, "name", None) == b"siginfo"
        self._end_signal(tid, rec.data if used else None)
        return used

    def _end_signal(self, tid: int, siginfo: bytes | None = None) -> None:
        """Complete ``tid``'s signal line, with the siginfo or as PSIG alone tells it."""
        line, pid = self.signals.pop(tid)
        if siginfo is not None:
            fd_text = self._fd_text(self._proc(pid))
            note = self._pid_note(pid) if self.o.decode_pids else None
            line.text = f"{line.head}{siginfo_text(siginfo, fd_text, note)} ---"
        else:
            line.text = line.fallback
        self._flush()

    def _destroyed(self, pid: int, h: r.Header) -> None:
        if self.pidns is not None:
            self.pidns.ended(pid)
        for tid in [t for t, (_, owner) in self.signals.items() if owner == pid]:
            self._end_signal(tid)           # no siginfo will follow
        proc = self.procs.pop(pid, None) or Process()
        if len(self.ended) >= MAX_ENDED:
            self.ended.clear()
        self.ended.add(pid)
        # the process's threads end with it (exit_group, a fatal signal), each
        # with its own line as strace prints them: the other threads, then the leader
        threads = sorted((t for t, owner in self.alive.items() if owner == pid and t != pid),
                         reverse=True)
        for tid in threads + [pid]:
            self.comms.pop(tid, None)      # a pid the process had names nothing now
        for tid in threads + [pid]:
            p = self._pop(tid)
            if p is not None:
                self._finish(tid, p, h)
        if proc.exit_code is not None:
            end = f"exited with {proc.exit_code}"
        elif proc.fatal is not None:
            end = f"killed by {signame(proc.fatal)}"
        else:
            end = "exited"
        for tid in threads + [pid]:
            if not self.o.pid or self.o.pid in (pid, tid):
                self._interrupt(tid)
                self._exit_line(tid, h, end)
            self.alive.pop(tid, None)

    # --- what -y knows ------------------------------------------------------

    def _track(self, h: r.Header, call: Call) -> None:
        """Follow descriptors, the cwd and children from successful calls
        (``h``: the call's CALL record's header)."""
        pid = h.pid
        proc = self._proc(pid)
        for rec in call.records.get(SOCKET_STATES, ()):
            self.sockets.note(rec.data, call)
        self.passing.track(call, proc.files)
        proc.files.track(call)
        child = call.retval
        # a child whose records came first (a thread, a process) is known already
        if call.name in FORKS and call.ok and child > 0 and child not in self.procs \
                and child not in self.ended and child not in self.alive:
            self.procs[child] = Process(proc.abi, proc.files.copy(shares_files(call)))
            if self.o.follow:        # as strace -f attaches it: [pid N] from now on
                self.alive[child] = child
            self._inherit_comm(h.tid if h.tid > 0 else pid, child)
        gone = reaped(call) if call.name in WAITS else None
        if gone is not None:
            self.comms.pop(gone, None)
        for rec in call.records.get(PARENT, ()):
            self._parent_comm(pid, call.retval, rec.data)

    def _parent_comm(self, pid: int, ppid: int, data: bytes) -> None:
        """--decode-pids=comm of the parent getppid named (``ppid``, as process
        ``pid`` sees it): its name, from the call's STRU parent."""
        comm = r.parse_parent(data)
        own = self.pidns.tracers(pid, ppid) if self.pidns is not None else ppid
        if "comm" in self.o.decode_pids and comm is not None and own:
            self._note_comm(own, comm)

    def _inherit_comm(self, tid: int, child: int) -> None:
        """--decode-pids=comm of a child not traced: its thread's name as fork
        copied it (the records of a traced one carry its own).  What the child
        does untraced (an exec, a PR_SET_NAME) the trace does not tell, as it
        does not tell the descriptors it opens or closes."""
        if "comm" in self.o.decode_pids and tid in self.comms and child not in self.comms:
            self._note_comm(child, self.comms[tid])

    def _note_comm(self, pid: int, comm: bytes) -> None:
        """--decode-pids=comm's name of ``pid`` (a bounded table: forgotten
        all at once when full, as pids may be many)."""
        if len(self.comms) >= MAX_ENDED:
            self.comms.clear()
        self.comms[pid] = comm

    def close(self) -> None:
        for tid in list(self.pending):
            self._interrupt(tid)
            self._give_up(tid)
        self.signals.clear()
        for _, item in self.queue:
            if not isinstance(item, str) and item.text is None:
                item.text = item.fallback
        self._flush()
        for f in self.files.values():
            f.close()
        self.files.clear()

    # --- the fast path -------------------------------------------------------

    def show(self, records) -> None:
        """The general path: each record as it comes."""
        live = self.o.live
        for rec in records:
            self.record(rec)
            if live:                    # -l: each line as soon as it is complete
                self.out.flush()

    def walks(self, reader: r.RecordReader) -> bool:
        """Can :meth:`walk` take the records of ``reader``: an amd64-v1 file
        read to its end, with options under which a call's line is a function
        of its records (and its thread, its process's ABI): no times (-t, -r,
        -T), no descriptor paths (-y, -P), no pid names (--decode-pids=), nor
        -p, -l, -ff."""
        o = self.o
        return (not reader.follow and reader.detect() is r.AMD64_V1 and not o.live
                and not o.per_thread and not o.pid and not o.clock and o.relative is None
                and o.timing is None and not o.decode_pids and not self.files_matter)

    def walk(self, reader: r.RecordReader) -> None:
        """The fast path: calls taken whole from the reader's buffer, shown by
        the lines of an earlier call with the same records.

        A call whose CALL, RET and records between are whole in the buffer,
        one after the other, of one thread, at most WALKED_BYTES each, none
        that would end its line (another CALL, a signal, a process made or
        ended), in a view :meth:`ready` for it, has lines that are a function
        of its key: its records, pid and tid (the ABI, the pid prefix) and
        whether other threads are alive (a prefix at all).  The first time,
        :meth:`learn` shows it as read and keeps its lines (and the call, if
        it changes the process's descriptors) when nothing else went into
        them; ``known`` is cleared when a PROCCTOR or PROCDTOR may change an
        ABI.  Every other record goes to :meth:`record` as read.  The loop is
        kdump --strace's hot path: its per-record work is inline.
        """
        versioned = r.KTR_VERSIONED
        call_type, ret_type, walked_types = r.SYSCALL | versioned, r.SYSRET | versioned, WALKED_TYPES
        ends = (r.PROCCTOR, r.PROCDTOR)
        unpack, hsize, cacheable = HEADER.unpack_from, HEADER.size, WALKED_BYTES
        known, alive, procs, ready, emit = self.known, self.alive, self.procs, self.ready, self._emit
        write = self.out.write
        buf, pos = reader.buffered()
        size = len(buf)
        while True:
            if size - pos >= hsize:
                length, rtype, version, pid, _, _, _, tid, _ = unpack(buf, pos)
                if (rtype == call_type and version == 1 and length <= cacheable
                        and ready(pid, tid)):
                    at = pos + hsize + length
                    key = [pid, tid, len(alive) > 1, buf[pos + hsize:at]]
                    while at + hsize <= size and len(key) < MAX_KEY:
                        length, rtype, version, rpid, _, _, _, rtid, _ = unpack(buf, at)
                        start = at + hsize
                        at = start + length
                        if (rpid != pid or rtid != tid or rtype not in walked_types
                                or version != 1 or length > cacheable or at > size):
                            break
                        key += (rtype, buf[start:at])
                        if rtype != ret_type:
                            continue
                        key = tuple(key)
                        seen = known.get(key)
                        if seen is None:
                            reader.skip_to(pos)
                            self.learn(reader, key)
                            buf, pos = reader.buffered()
                            size = len(buf)
                            break
                        text, lines, tracked, shown = seen
                        if shown and self.current is not None:
                            self._interrupt(tid)    # the line of another thread ends here
                        if self.queue:              # behind a line not yet complete
                            for line in lines:
                                emit(tid, line)
                        elif text:
                            write(text)
                        if tracked is not None:
                            procs[pid].files.track(tracked)
                        pos = at
                        break
                    if type(key) is tuple:          # taken
                        continue
            rec = next_record(reader, buf, pos)
            if rec is None:
                return
            if rec.header.type in ends:
                known.clear()
            self.record(rec)
            buf, pos = reader.buffered()
            size = len(buf)

    def ready(self, pid: int, tid: int) -> bool:
        """Is the view where a CALL of thread ``tid`` (as in the header) of
        ``pid`` starts a line of its own, nothing pending or held for the
        thread, which is known (its prefix set)?"""
        if tid <= 0:
            tid = pid
        return not (tid in self.signals or tid in self.pending or self.alive.get(tid) != pid
                    or pid not in self.procs or len(self.pending) >= MAX_PENDING)

    def learn(self, reader: r.RecordReader, key: tuple) -> None:
        """Show the records of the call of ``key`` (see walk) as read, and
        keep its lines when they are a function of the key alone: not when
        its decoder looked at the process's descriptors, nor for UNWALKED
        calls.  (Its records, one thread's from CALL to RET with no signal
        between, leave nothing pending or held: its lines are whole.)"""
        buf, pos = reader.buffered()
        rec = next_record(reader, buf, pos)
        self.record(rec)                      # its CALL, which may end another thread's line
        tid = rec.header.tid if rec.header.tid > 0 else rec.header.pid
        p = self.pending.get(tid)
        if p is None:                         # exit, exit_group: nothing to keep
            return
        p.call.files = files = WatchedFiles(p.call.files)
        self.learning = lines = []
        try:
            for _ in range(5, len(key), 2):       # its other records (key: see walk)
                buf, pos = reader.buffered()
                self.record(next_record(reader, buf, pos))
        finally:
            self.learning = None
        if files.touched or p.call.name in UNWALKED or \
                p.call.linux_errno() == ERESTART_RESTARTBLOCK or \
                p.launch or self._proc(p.start.pid).hiding:     # lines not of its records alone
            return
        if len(self.known) >= FAST_CACHE_LIMIT:
            self.known.clear()
        text = "".join(line + "\n" for line in lines)
        self.known[key] = (text, tuple(lines), p.call if tracks(p.call) else None, p.shown)


def run(opts: ViewOptions, source, out: TextIO) -> None:
    """The strace lines of ``source`` (a RecordReader or a binary stream) on ``out``."""
    reader = source if isinstance(source, r.RecordReader) else r.RecordReader(source)
    held = HeldOutput(out)
    view = View(opts, held)
    with constant_style(opts.style):
        try:
            if view.walks(reader):
                view.walk(reader)
            else:
                view.show(reader.wellformed())
        finally:
            try:
                view.close()
            finally:
                held.write_held()


def _run(opts: ViewOptions) -> None:
    try:
        out = open(opts.outfile, "w") if opts.outfile and not opts.per_thread else sys.stdout
    except OSError as e:
        raise Fatal(f"{e.filename}: {e.strerror}") from None
    try:
        read_trace(opts.trfile, lambda reader: run(opts, reader, out), out, opts.live)
    finally:
        if out is not sys.stdout:
            try:
                out.close()
            except OSError as e:        # its last lines could not be written: say where
                raise Fatal(f"{opts.outfile}: {e.strerror}") from None


FRONT = Front(SHORT, LONG, USAGE, configure, _run)


def main(argv: list[str]) -> int:
    return front(FRONT, _ff(argv))

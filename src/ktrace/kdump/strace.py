"""kdump --strace: Linux records shown the way strace(1) shows them.

One line per syscall joining its CALL, the NAMI/GIO/STRU records the
recording plan pairs with its arguments, and its RET; ``<unfinished ...>`` and
``<... resumed>`` when another thread's line comes between; ``--- SIG ---``
and ``+++ exited with N +++`` lines; strace's -s, -x, -T, -r/-t/-tt/-ttt, -y.
"""

from __future__ import annotations

import getopt
import os
import sys
import time
from typing import TextIO

from ktrace import record as r
from ktrace.abi import linux_plan as plan
from ktrace.decode.names import sigcode_name
from ktrace.decode.strace import Call, StraceOptions, result_text, split_args
from ktrace.decode.strace.fmt import c_int, signame
from ktrace.decode.strace.fdio import is_dup
from ktrace.decode.strace.process import clone_flags

USAGE = ("usage: kdump --strace [-fTy] [-x|-xx] [-r|-t|-tt|-ttt] [-s strsize] "
         "[-p pid] [-o outfile] [-f trfile]")
COLUMN = 40            # strace's -a default: where " = " goes
FATAL_BY_DEFAULT = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 24, 25, 26, 27,
                    29, 30, 31}


class ViewOptions:
    def __init__(self):
        self.trfile = "ktrace.out"
        self.outfile: str | None = None
        self.pid = 0
        self.timing = False        # -T
        self.stamp = ""            # "", "r", "t", "tt", "ttt"
        self.follow = False        # -f: pid prefix on every line of an -o file
        self.strace = StraceOptions()


def parse(argv: list[str]) -> ViewOptions:
    """Options: -f takes a file only when an argument follows that is not an option."""
    o = ViewOptions()
    strsize, xflag, yflag = 32, 0, False
    opts, rest = getopt.getopt(argv, "f:o:p:s:xyTrt", ["follow"])
    for flag, value in opts:
        if flag == "-f":
            o.trfile = value
        elif flag == "--follow":
            o.follow = True
        elif flag == "-o":
            o.outfile = value
        elif flag == "-p":
            o.pid = int(value)
        elif flag == "-s":
            strsize = int(value)
            if strsize < 0:
                raise ValueError("-s needs a size of 0 or more")
        elif flag == "-x":
            xflag += 1
        elif flag == "-y":
            yflag = True
        elif flag == "-T":
            o.timing = True
        elif flag == "-r":
            o.stamp = "r"
        elif flag == "-t":
            o.stamp = "t" if o.stamp in ("", "r") else (o.stamp + "t")[:3]
    if rest:
        raise ValueError(f"unexpected argument {rest[0]!r}")
    o.strace = StraceOptions(strsize, min(xflag, 2), yflag)
    return o


def plan_of(name: str, args: tuple[int, ...]):
    """The recording plan of one call, from the plan's tables by name."""
    spec = plan.PLANS.get(name)
    if spec is None:
        return ()
    spec = tuple(spec) + (plan.V,) * (len(args) - len(spec))
    sel = plan.SELECTORS.get(name)
    if sel is not None and sel.arg < len(args):
        case = sel.cases.get(args[sel.arg] & sel.mask, {})
        spec = tuple(case.get(i, s) for i, s in enumerate(spec))
    return spec


R = plan.Role
# role -> the records it leaves at entry and at exit: (record type, struct name or None)
_ENTRY = {
    R.PATH: [(r.NAMEI, None)], R.IN_STRUCT: [(r.STRUCT, "")], R.INOUT_STRUCT: [(r.STRUCT, "")],
    R.IN_ARRAY: [(r.STRUCT_ARRAY, "")], R.INOUT_ARRAY: [(r.STRUCT_ARRAY, "")],
    R.IN_IOVEC: [(r.STRUCT_ARRAY, "iovec")], R.OUT_IOVEC: [(r.STRUCT_ARRAY, "iovec")],
    R.IN_MSGHDR: [(r.STRUCT, "msghdr"), (r.STRUCT, "sockaddr"), (r.STRUCT_ARRAY, "iovec")],
    R.IN_STRING: [(r.STRUCT, "string")], R.USER: [(r.USER, None)],
}
_EXIT = {
    R.OUT_STRUCT: [(r.STRUCT, "")], R.INOUT_STRUCT: [(r.STRUCT, "")],
    R.OUT_ARRAY: [(r.STRUCT_ARRAY, "")], R.INOUT_ARRAY: [(r.STRUCT_ARRAY, "")],
    R.IN_BUF: [(r.GENIO, None)], R.OUT_BUF: [(r.GENIO, None)],
    R.IN_IOVEC: [(r.GENIO, None)], R.OUT_IOVEC: [(r.GENIO, None)],
    R.IN_MSGHDR: [(r.GENIO, None)],
    R.OUT_MSGHDR: [(r.STRUCT, "msghdr"), (r.STRUCT, "sockaddr"), (r.STRUCT_ARRAY, "iovec"),
                   (r.GENIO, None)],
    R.OUT_STRING: [(r.STRUCT, "string")], R.ARGV: [(r.ARGS, None)], R.ENVP: [(r.ENVS, None)],
}


def slots(spec, args) -> list[tuple[int, int, bytes | None]]:
    """(argument, record type, struct name) in the order the records come."""
    out = []
    for table in (_ENTRY, _EXIT):
        for i, arg in enumerate(spec):
            if i < len(args) and args[i] == 0:
                continue                      # a NULL pointer records nothing
            for rtype, name in table.get(arg.role, ()):
                if name == "":
                    name = arg.name
                out.append((i, rtype, name.encode() if name is not None else None))
    return out


def pair(call: Call, records: list) -> None:
    """Give each record of the call to the argument the plan says it belongs to."""
    wanted = slots(plan_of(call.name, call.args), call.args)
    at = 0
    for rec in records:
        for k in range(at, len(wanted)):
            i, rtype, name = wanted[k]
            if rec.header.type == rtype and (name is None or getattr(rec, "name", None) == name):
                call.records.setdefault(i, []).append(rec)
                at = k + 1
                break


class Process:
    """What the view knows of one process: ABI, descriptors, cwd, exit."""

    def __init__(self, abi=None, fds: dict | None = None, cwd: str | None = None):
        self.abi = abi
        self.fds: dict[int, str] = fds if fds is not None else {}
        self.cwd = cwd
        self.exit_code: int | None = None
        self.fatal: int | None = None


class Pending:
    def __init__(self, call: Call, rec: r.Syscall, info):
        self.call = call
        self.start = rec.header
        self.info = info
        self.records: list = []
        self.unfinished = False


def _time(h: r.Header) -> float:
    return h.sec + h.nsec / 1e9


class View:
    """Turns the record stream into strace lines."""

    def __init__(self, opts: ViewOptions, out: TextIO):
        self.o = opts
        self.out = out
        self.procs: dict[int, Process] = {}
        self.alive: set[int] = set()
        self.pending: dict[int, Pending] = {}
        self.current: int | None = None        # tid whose line is begun, not ended
        self.last_stamp: float | None = None
        self.last_mask: dict[int, int] = {}

    # --- output -----------------------------------------------------------

    def _leader(self, tid: int, h: r.Header) -> str:
        if self.o.outfile and self.o.follow:
            prefix = f"{tid:<5d} "
        elif len(self.alive) > 1:
            prefix = f"[pid {tid:5d}] "
        else:
            prefix = ""
        return prefix + self._stamp(h)

    def _stamp(self, h: r.Header) -> str:
        s = self.o.stamp
        if not s:
            return ""
        now = _time(h)
        if s == "r":
            delta = 0.0 if self.last_stamp is None else now - self.last_stamp
            self.last_stamp = now
            sec, usec = divmod(round(delta * 1e6), 1_000_000)
            return f"{sec:6d}.{usec:06d} "
        if s == "ttt":
            return f"{h.sec}.{h.nsec // 1000:06d} "
        clock = time.strftime("%H:%M:%S", time.localtime(h.sec))
        return clock + (f".{h.nsec // 1000:06d} " if s == "tt" else " ")

    def _emit(self, line: str) -> None:
        self.out.write(line + "\n")

    def _interrupt(self, tid: int) -> None:
        """Another thread prints: end the line begun for the current one."""
        cur = self.current
        if cur is not None and cur != tid and cur in self.pending:
            p = self.pending[cur]
            entry, _, _ = self._args(p)
            self._emit(f"{self._leader(cur, p.start)}{p.call.name}({entry} <unfinished ...>")
            p.unfinished = True
        self.current = None

    def _args(self, p: Pending) -> tuple[str, str, bool]:
        pair(p.call, p.records)
        return split_args(p.call, p.info)

    def _finish(self, tid: int, p: Pending, end: r.Header) -> None:
        proc = self._proc(p.start.pid)
        entry, exit_text, _ = self._args(p)
        if p.unfinished:
            self._interrupt(tid)
            head = f"{self._leader(tid, end)}<... {p.call.name} resumed>{exit_text})"
        else:
            head = f"{self._leader(tid, p.start)}{p.call.name}({entry}{exit_text})"
        head += " "
        self._track(p.start.pid, p.call)     # after the arguments: close(3</path>)
        if len(head) < COLUMN:
            head = head.ljust(COLUMN)
        line = head + "= " + result_text(p.call, proc.abi, self._fd_text(proc))
        if self.o.timing and p.call.returned:
            line += f" <{max(0.0, _time(end) - _time(p.start)):.6f}>"
        self._emit(line)
        self.current = None

    def _fd_text(self, proc: Process):
        if not self.o.strace.yflag:
            return str

        def text(fd: int) -> str:
            path = proc.cwd if fd == -100 else proc.fds.get(fd)
            return f"{fd}<{path}>" if path else str(fd)
        return text

    # --- records ----------------------------------------------------------

    def record(self, rec) -> None:
        h = rec.header
        tid = h.tid if h.tid > 0 else h.pid
        t = h.type
        if t == r.PROCCTOR:
            self._created(h.pid, rec.sv_flags)
            return
        if t == r.PROCDTOR:
            self._destroyed(h.pid, h)
            return
        if self.o.pid and self.o.pid not in (h.pid, h.tid):
            return
        self.alive.add(tid)
        if t == r.SYSCALL:
            self._call(tid, rec)
        elif t == r.SYSRET:
            self._ret(tid, rec)
        elif t == r.PSIG:
            self._signal(tid, rec)
        elif tid in self.pending:
            self.pending[tid].records.append(rec)

    def _proc(self, pid: int) -> Process:
        proc = self.procs.get(pid)
        if proc is None:
            proc = self.procs[pid] = Process()
        return proc

    def _created(self, pid: int, sv_flags: int) -> None:
        proc = self._proc(pid)
        proc.abi = abi_for(sv_flags)
        self.alive.add(pid)

    def _call(self, tid: int, rec: r.Syscall) -> None:
        proc = self._proc(rec.header.pid)
        info = proc.abi.syscall(rec.code) if proc.abi is not None else None
        name = info.name if info is not None else f"syscall_{rec.code:#x}"
        call = Call(name, rec.code, rec.args, self.o.strace, self._fd_text(proc))
        if tid in self.pending:          # a CALL with no RET before it: give up on it
            self._finish(tid, self.pending.pop(tid), rec.header)
        self._interrupt(tid)
        self.pending[tid] = Pending(call, rec, info)
        self.current = tid
        if name in ("exit", "exit_group"):
            proc.exit_code = c_int(rec.args[0]) & 0xFF if rec.args else 0
            self._finish(tid, self.pending.pop(tid), rec.header)
            if name == "exit" and tid != rec.header.pid:
                self._emit(f"{self._leader(tid, rec.header)}+++ exited with {proc.exit_code} +++")
                self.alive.discard(tid)

    def _ret(self, tid: int, rec: r.Sysret) -> None:
        p = self.pending.pop(tid, None)
        if p is None:
            return
        p.call.retval = rec.retval
        p.call.error = rec.error
        if p.call.name == "rt_sigreturn":
            p.call.restored_mask = self.last_mask.get(tid)
        self._finish(tid, p, rec.header)

    def _signal(self, tid: int, rec: r.Psig) -> None:
        if tid in self.pending and self.current == tid:
            p = self.pending[tid]
            entry, _, _ = self._args(p)
            self._emit(f"{self._leader(tid, p.start)}{p.call.name}({entry} <unfinished ...>")
            p.unfinished = True
            self.current = None
        self._interrupt(tid)
        self.last_mask[tid] = rec.mask[0] | rec.mask[1] << 32
        name = signame(rec.signo)
        code = sigcode_name(rec.signo, rec.code) or str(rec.code)
        self._emit(f"{self._leader(tid, rec.header)}--- {name} {{si_signo={name}, "
                   f"si_code={code}}} ---")
        if rec.action == 0 and rec.signo in FATAL_BY_DEFAULT:
            self._proc(rec.header.pid).fatal = rec.signo

    def _destroyed(self, pid: int, h: r.Header) -> None:
        proc = self.procs.pop(pid, None) or Process()
        tids = sorted(t for t in self.alive if t == pid or self._owner(t) == pid)
        for tid in tids:
            p = self.pending.pop(tid, None)
            if p is not None:
                self._finish(tid, p, h)
        if not self.o.pid or self.o.pid == pid:
            self._interrupt(pid)
            if proc.exit_code is not None:
                end = f"exited with {proc.exit_code}"
            elif proc.fatal is not None:
                end = f"killed by {signame(proc.fatal)}"
            else:
                end = "exited"
            self._emit(f"{self._leader(pid, h)}+++ {end} +++")
        for tid in tids:
            self.alive.discard(tid)
        self.alive.discard(pid)

    def _owner(self, tid: int) -> int | None:
        p = self.pending.get(tid)
        return p.start.pid if p is not None else None

    # --- what -y knows ------------------------------------------------------

    def _track(self, pid: int, call: Call) -> None:
        """Follow descriptors, the cwd and children from successful calls."""
        if not call.ok:
            return
        proc = self._proc(pid)
        name, ret = call.name, call.retval
        if name in ("open", "openat", "openat2", "creat"):
            path = call.find(1 if name.endswith("at") or name == "openat2" else 0, r.NAMEI)
            if path is not None:
                proc.fds[ret] = self._abspath(proc, path.path)
        elif name in ("socket", "accept", "accept4"):
            proc.fds[ret] = "socket:"
        elif name in ("dup", "dup2", "dup3") or (name == "fcntl" and is_dup(call)):
            src = proc.fds.get(c_int(call.arg(0)))
            if src is not None:
                proc.fds[ret] = src
            else:
                proc.fds.pop(ret, None)
        elif name == "close":
            proc.fds.pop(c_int(call.arg(0)), None)
        elif name == "chdir":
            rec = call.find(0, r.NAMEI)
            if rec is not None:
                proc.cwd = self._abspath(proc, rec.path)
        elif name == "getcwd":
            data = call.struct(0, "string")
            if data:
                proc.cwd = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif name in ("clone", "fork", "vfork", "clone3") and ret > 0:
            shares = name == "clone" and "CLONE_FILES" in clone_flags(call.arg(0))
            self.procs.setdefault(ret, Process(proc.abi, proc.fds if shares else dict(proc.fds),
                                               proc.cwd))
            self.alive.add(ret)

    @staticmethod
    def _abspath(proc: Process, raw: bytes) -> str:
        path = raw.decode("utf-8", "surrogateescape")
        if path.startswith("/") or proc.cwd is None:
            return path
        return os.path.normpath(os.path.join(proc.cwd, path))

    def close(self) -> None:
        for tid, p in list(self.pending.items()):
            self._interrupt(tid)
            entry, _, _ = self._args(p)
            self._emit(f"{self._leader(tid, p.start)}{p.call.name}({entry} <unfinished ...>")
        self.pending.clear()


def abi_for(sv_flags: int):
    """The ABI tables for a PROCCTOR's flags (None when unknown or not loaded)."""
    try:
        from ktrace import abi
        return abi.abi_for_svflags(sv_flags)
    except (ImportError, AttributeError):
        return None


def run(opts: ViewOptions, stream, out: TextIO) -> None:
    view = View(opts, out)
    try:
        for rec in r.RecordReader(stream):
            view.record(rec)
    finally:
        view.close()


def main(argv: list[str]) -> int:
    try:
        opts = parse(argv)
    except (getopt.GetoptError, ValueError) as e:
        print(f"kdump --strace: {e}\n{USAGE}", file=sys.stderr)
        return 1
    try:
        stream = sys.stdin.buffer if opts.trfile == "-" else open(opts.trfile, "rb")
        out = open(opts.outfile, "w") if opts.outfile else sys.stdout
    except OSError as e:
        print(f"kdump: {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        run(opts, stream, out)
    except r.TraceFileError as e:
        out.flush()
        print(f"kdump: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    finally:
        if out is not sys.stdout:
            out.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0

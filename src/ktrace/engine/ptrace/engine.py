"""The ptrace recording engine: any user, the processes they may debug.

One thread (the engine's) seizes every thread of a traced process and runs
the loop: ``waitpid`` → handle the stop → resume.  Syscall stops become
records by the recording plan (``syscalls``); fork, exec and exit events
drive the facility's lifecycle rules; signal-delivery stops become PSIG;
group-stops are held with ``PTRACE_LISTEN`` so job control keeps working.

The traced program is never harmed: no ``PTRACE_O_EXITKILL`` (a dead tracer
leaves its tracees running), every signal is re-injected, and detaching
interrupts each thread and lets it go from a ptrace-stop.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
import traceback

from ... import record as r
from ...abi import LINUX_X86_64, linux_to_freebsd_errno
from ...abi import linux_plan as lp
from ...platform import procfs
from ...platform import ptrace as pt
from ...platform.seccomp import AUDIT_ARCH_X86_64
from .. import FACILITIES, Engine, ProcSettings
from . import hooks, signals
from .syscalls import (F_GENIO, F_STRUCT, Call, CallPlan, Plans, Stop, gio_parts, record_code,
                       run_entry, run_exit, unmoved)
from .tracee import Process, Thread
from .waker import Waker
from .inject import SeccompInstaller, wanted
from .perfsw import F_CSW, F_FAULT, PerfRecorder

F_CALL = r.facility(r.SYSCALL)
F_RET = r.facility(r.SYSRET)
F_PROCCTOR = r.facility(r.PROCCTOR)
F_PROCDTOR = r.facility(r.PROCDTOR)
F_CAPFAIL = r.facility(r.CAPFAIL)

BASE_OPTIONS = (pt.PTRACE_O_TRACESYSGOOD | pt.PTRACE_O_TRACECLONE | pt.PTRACE_O_TRACEFORK |
                pt.PTRACE_O_TRACEVFORK | pt.PTRACE_O_TRACEEXEC | pt.PTRACE_O_TRACEEXIT)
CLONE_THREAD = 0x10000
ERRNO_MAX = 4095
DETACH_GRACE = 2.0        # seconds to wait for threads to stop when ending
TICK = 0.05               # most seconds a record waits in memory
WAIT_FLAGS = pt.WALL | os.WUNTRACED     # WUNTRACED: the waker child's stops
SYSCALL_STOP_STATUS = (pt.SYSCALL_STOP_SIG << 8) | 0x7F

_ENTRY = pt.SyscallInfoBuffer.ENTRY.unpack_from
_EXIT = pt.SyscallInfoBuffer.EXIT.unpack_from
_INFO_OFFSET = pt.SyscallInfoBuffer.OFFSET
_ARCH = pt.SyscallInfoBuffer.ARCH.unpack_from
_ARCH_OFFSET = pt.SyscallInfoBuffer.ARCH_OFFSET
_PLACE = struct.Struct("=QQ").unpack_from     # ptrace_syscall_info's ip, sp (offset 8)
_ptrace = pt.ptrace
_time_ns = time.time_ns
_SYSCALL_STOP = pt.SYSCALL_STOP_SIG
SYSRET_SIZE = len(r.sysret_payload(0, 0, 0))
INT_MASK = 0xFFFFFFFF     # an int argument: the low 32 bits of its register
CPU_ID_LIMIT = 0x80000000  # rseq cpu_id from here on is negative: no CPU (not registered)
# what a call interrupted by a stop returns when the kernel restarts it as
# itself (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND), or as restart_syscall
# (ERESTART_RESTARTBLOCK)
RESTART_RVALS = frozenset(-e & 0xFFFFFFFFFFFFFFFF for e in (512, 513, 514))
ERESTART_RESTARTBLOCK_RVAL = -516 & 0xFFFFFFFFFFFFFFFF
RESTART_SYSCALL_NR = LINUX_X86_64.syscall_number("restart_syscall")


def _nargs(nr: int) -> int:
    if nr == lp.UTRACE_NR:
        return 2
    info = LINUX_X86_64.syscall(nr)
    return info.nargs if info is not None and info.nargs is not None else lp.MAX_ARGS


class PtraceEngine(Engine):
    name = "ptrace"
    facilities = FACILITIES["ptrace"]

    def __init__(self, options: dict | None = None):
        self.options = dict(options or {})
        self.procs: dict[int, Process] = {}
        self.threads: dict[int, Thread] = {}
        self.info = pt.SyscallInfoBuffer()
        self.mem = pt.ProcMemReader()
        self.stop = Stop(self.mem)
        self.plans = Plans(_nargs)
        self.hooks = hooks.Hooks(self)
        self._entry_hooks = self.hooks.entry
        self._exit_hooks = self.hooks.exit
        self._plan_cache: dict[int, CallPlan] = {}
        self._syscall_stop = None            # built by run(): it binds the facility
        self._unknown: dict[int, int] = {}   # stops of tasks no fork event announced yet
        self._adopted: set[int] = set()      # tasks taken in before their fork event
        self._errno: dict[int, int] = {}
        self._current: Thread | None = None
        self._event = threading.Event()
        self._closing = threading.Event()
        self._wake_pending = False
        self._dirty = False
        self._waker: Waker | None = None
        self.perf = None                     # CSW/PFLT recorder, when wanted
        self.seccomp = None                  # filter installer (seccomp option)
        self.reaped: dict[int, int] = {}     # wait status of processes we reaped
        self._later: list[tuple[int, int]] = []   # statuses taken by a nested wait
        self._contained: dict[tuple, int] = {}   # failed stops by where they failed

    # -- Engine interface ----------------------------------------------------

    def attach(self, pid: int, options: dict) -> None:
        proc = self.procs.get(pid)
        if proc is not None:          # still attached (shadowed after a clear)
            proc.shadow = proc.detaching = False
            return
        opts = BASE_OPTIONS | (pt.PTRACE_O_TRACESECCOMP if options.get("seccomp") else 0)
        pt.seize(pid, opts)           # EPERM/ESRCH go to the facility
        proc = Process(pid, 0)
        if options.get("seccomp"):
            proc.want_seccomp = True
            if self.seccomp is None:
                self.seccomp = SeccompInstaller(self)
        proc.load_actions()
        proc.load_cwd()
        self.procs[pid] = proc
        self._add_thread(proc, pid, procfs.comm(pid, pid))
        seen = {pid}
        while True:                   # threads may be created while we seize
            new = [t for t in procfs.threads(pid) if t not in seen]
            if not new:
                break
            for tid in new:
                seen.add(tid)
                try:
                    pt.seize(tid, opts)
                except OSError:
                    continue          # gone already
                self._add_thread(proc, tid, procfs.comm(pid, tid))
        for tid in list(proc.threads):
            try:
                pt.interrupt(tid)
            except OSError:
                pass

    def detach(self, pid: int) -> None:
        proc = self.procs.get(pid)
        if proc is None:
            return
        proc.flags = 0
        if proc.seccomp:
            # its filter needs a tracer for life: keep it, record nothing
            proc.shadow = True
            return
        if proc.detaching:
            return
        proc.detaching = True
        for th in list(proc.threads.values()):
            if th is self._current or th.exiting:
                continue              # detached when its stop is resumed / reaped
            # (a thread in a syscall stop being handled gets an interrupt it never sees:
            # detaching it from that stop clears it)
            try:
                pt.interrupt(th.tid)
            except OSError:
                pass

    def flags_changed(self, pid: int, settings: ProcSettings) -> None:
        proc = self.procs.get(pid)
        if proc is not None:
            flags = proc.flags = settings.flags
            proc.genio = settings.genio_size
            if proc.seccomp and not wanted(flags, True) <= proc.seccomp_set:
                proc.want_seccomp = True     # more syscalls to stop at: another filter
            if flags & (F_CSW | F_FAULT) and self.perf is None:
                self.perf = PerfRecorder(self)
            if self.perf is not None:
                self.perf.flags_changed(proc)
            if flags & F_CAPFAIL:
                self.notice(proc, "ktrace: the ptrace engine cannot record capability "
                                  "failures (p); the bpf engine can")

    def notice(self, proc: Process, line: str) -> None:
        """One line to the trace file's log, once per file: what cannot be recorded."""
        self.facility.log(proc.pid, line, once=True)

    def wake(self) -> None:
        if not self._wake_pending:
            self._wake_pending = True
            self._event.set()
            waker = self._waker
            if waker is not None:
                waker.poke()

    # -- the loop --------------------------------------------------------------

    def run(self, service) -> None:
        self._waker = Waker()
        ticker = threading.Thread(target=self._tick, name="ktrace-ptrace-ticker", daemon=True)
        ticker.start()
        try:
            self._loop(service)
            self._end()
        finally:
            self._closing.set()
            self._waker.close()
            if self.perf is not None:
                self.perf.close()

    def _loop(self, service) -> None:
        waitpid = os.waitpid
        threads = self.threads
        syscall_stop = self._syscall_stop = self._make_syscall_stop()
        waker_pid = self._waker.pid
        while True:
            if self._wake_pending:
                self._wake_pending = False
                self._event.clear()
                self.flush()
                if not service():
                    return
            if not self.procs:           # nothing attached: wait for requests
                self.flush()
                self._event.wait(0.5)
                if not self._wake_pending and not service():
                    return
                continue
            try:
                tid, status = self._later.pop(0) if self._later else waitpid(-1, WAIT_FLAGS)
            except ChildProcessError:    # every tracee went without a word
                self._lost_all()
                continue
            th = threads.get(tid)
            try:
                if th is not None and status == SYSCALL_STOP_STATUS:
                    syscall_stop(th)
                elif tid == waker_pid:
                    self._waker.rearm()
                else:
                    self._handle(tid, status)
            except Exception as e:       # one tracee's stop never ends the service
                self._contain(tid, status, e)

    def handle_later(self, tid: int, status: int) -> None:
        """A wait status a nested waitpid took: the loop handles it next."""
        self._later.append((tid, status))

    def _tick(self) -> None:
        """Records must not wait long in memory, nor perf rings fill up: wake the loop."""
        while not self._closing.wait(TICK):
            if self._dirty or self.perf is not None:
                self.wake()

    def flush(self) -> None:
        if self.perf is not None:
            self.perf.drain()
        self._dirty = False
        self.facility.flush()

    def _lost_all(self) -> None:
        for proc in list(self.procs.values()):
            for th in list(proc.threads.values()):
                self._forget(th)

    def _end(self) -> None:
        """Let every process go; shadowed seccomp tracees stay with us to their end."""
        for pid in list(self.procs):
            self.detach(pid)
        deadline = time.monotonic() + DETACH_GRACE
        while any(not p.shadow for p in self.procs.values()) and time.monotonic() < deadline:
            try:
                tid, status = os.waitpid(-1, pt.WALL | os.WNOHANG)
            except ChildProcessError:
                break
            if tid == 0:
                time.sleep(0.001)
            elif tid != self._waker.pid:
                self._handle_contained(tid, status)
        self.flush()
        self._closing.set()
        self._waker.close()              # from here waitpid ends when the tracees do
        while self.procs:
            try:
                tid, status = os.waitpid(-1, pt.WALL)
            except ChildProcessError:
                break
            self._handle_contained(tid, status)

    # -- dispatch ---------------------------------------------------------------

    def _handle(self, tid: int, status: int) -> None:
        th = self.threads.get(tid)
        if th is None:
            if os.WIFSTOPPED(status):
                self._new_task(tid, status)
            return
        self._current = th
        try:
            if os.WIFSTOPPED(status):
                sig = status >> 8 & 0xFF
                if sig == _SYSCALL_STOP and status >> 16 == 0:
                    self._syscall_stop(th)
                elif status >> 16:
                    self._event_stop(th, status >> 16, sig)
                else:
                    signals.delivery_stop(self, th, sig)
            else:
                self._gone(th, status)
        finally:
            self._current = None

    def _handle_contained(self, tid: int, status: int) -> None:
        try:
            self._handle(tid, status)
        except Exception as e:
            self._contain(tid, status, e)

    def _contain(self, tid: int, status: int, error: Exception) -> None:
        """A stop whose handling failed: one line to the service's log, and the
        thread goes on as it would have (its records of this stop are lost).

        Nothing a tracee does may end the service, which traces others too:
        this is the last line of defence behind reads that never raise.
        """
        self._current = None
        self.stop.out.clear()
        where = traceback.extract_tb(error.__traceback__)[-1]
        key = (type(error), where.filename, where.lineno)
        seen = self._contained[key] = self._contained.get(key, 0) + 1
        if seen & (seen - 1) == 0:       # 1, 2, 4, 8...: a tracee cannot flood the log
            print(f"ktrace service: ptrace engine: tid {tid}, status {status:#x}: "
                  f"{type(error).__name__}: {error} "
                  f"({os.path.basename(where.filename)}:{where.lineno}, {seen} so far); "
                  f"going on", file=sys.stderr, flush=True)
        th = self.threads.get(tid)
        if not os.WIFSTOPPED(status):
            if th is not None:
                self._forget(th)
            return
        try:
            # resumed already and stopped again (or gone)? then the loop takes
            # that status next; else it is still in the stop that failed
            again, later = os.waitpid(tid, pt.WALL | os.WNOHANG)
            if again:
                self.handle_later(again, later)
                return
            sig = os.WSTOPSIG(status)
            if th is None:               # not taken in: let it go, untraced
                pt.detach(tid, 0 if sig == _SYSCALL_STOP or status >> 16 else sig)
            elif status >> 16 == pt.PTRACE_EVENT_STOP and sig in pt.STOP_SIGNALS:
                self._group_stop(th)
            elif sig == _SYSCALL_STOP or status >> 16:
                self.resume(th)
            else:                        # a signal's delivery: the signal goes on too
                self.resume(th, sig)
        except OSError:
            pass                         # gone meanwhile: its exit status comes next

    def resume(self, th: Thread, sig: int = 0) -> None:
        """Let a stopped thread go on (or go, when its process is being detached)."""
        proc = th.proc
        if proc.detaching:
            self._detach_thread(th, sig)
            return
        req = pt.PTRACE_CONT if proc.seccomp and th.call is None else pt.PTRACE_SYSCALL
        _ptrace(req, th.tid, None, sig)

    def _detach_thread(self, th: Thread, sig: int = 0) -> None:
        try:
            pt.detach(th.tid, sig)
        except OSError:
            pass
        self._forget(th)

    def _forget(self, th: Thread) -> None:
        th.close_stat()
        if self.perf is not None:
            self.perf.forget_thread(th)
        self.threads.pop(th.tid, None)
        proc = th.proc
        proc.threads.pop(th.tid, None)
        if not proc.threads and self.procs.get(proc.pid) is proc:
            del self.procs[proc.pid]
            self.mem.forget(proc.pid)

    def _add_thread(self, proc: Process, tid: int, comm: bytes, cpu_addr: int = 0) -> Thread:
        th = Thread(tid, proc, comm, cpu_addr)
        proc.threads[tid] = th
        self.threads[tid] = th
        if self.perf is not None:
            self.perf.add_thread(th)
        return th

    # -- record headers ------------------------------------------------------------

    def begin(self, th: Thread, cpu: int | None = None) -> Stop:
        """Fill the shared Stop with this thread's header fields; no records yet."""
        st = self.stop
        proc = th.proc
        st.pid = proc.pid
        st.tid = th.tid
        st.comm = th.comm
        st.time = _time_ns()
        st.cpu = self.cpu(th) if cpu is None else cpu
        st.flags = proc.flags
        st.proc = proc
        st.genio = proc.genio if proc.genio is not None else self.genio(proc)
        return st

    def genio(self, proc: Process) -> int:
        """The genio size of the process's trace file, for a process no flags_changed
        told (a child that inherited): asked of the facility once."""
        settings = self.facility.settings(proc.pid)
        proc.genio = settings.genio_size if settings is not None else 0
        return proc.genio

    def emit(self, st: Stop) -> None:
        if st.out:
            self._dirty = True
            self.facility.emit(st.pid, b"".join(st.out))
            st.out.clear()

    def cpu(self, th: Thread) -> int:
        """The CPU the thread last ran user code on: its rseq area's cpu_id.

        glibc registers rseq for every thread, and the kernel updates cpu_id
        each time the thread returns to user space after running elsewhere;
        reading it is one process_vm_readv.  Inside a syscall it keeps the
        CPU of the entry, so a syscall's exit records reuse the entry's
        value.  Threads without rseq (static programs, the dynamic loader's
        first calls) fall back to /proc/PID/task/TID/stat.
        """
        if th.cpu_addr:
            cpu = self.mem.read_u32(th.proc.pid, th.cpu_addr)
            if 0 <= cpu < CPU_ID_LIMIT:
                return cpu
        return th.proc_cpu()

    def refresh_rseq(self, th: Thread) -> None:
        try:
            cfg = pt.get_rseq_configuration(th.tid)
        except OSError:
            th.cpu_addr = 0
            return
        th.cpu_addr = cfg.abi_pointer + pt.RSEQ_CPU_ID_OFFSET if cfg.abi_pointer else 0
        if th.cpu_addr:
            th.close_stat()

    # -- syscall stops -------------------------------------------------------------

    def _make_syscall_stop(self, shortcuts: bool = True):
        """The handler of syscall stops: the hot path, its names bound locally.

        Entry: CALL and the plan's entry records; exit: the plan's exit
        records and RET.  The general path is ``_entry_records`` /
        ``_exit_records`` (records built on the shared Stop, by the plan);
        the common cases take shortcuts that build the same bytes directly:
        a call that records nothing beyond CALL/RET, and a read/write's GIO
        (``_io_exit``).  ``shortcuts=False`` sends every stop the general
        way (tests/test_ptrace_engine.py checks both write the same records).
        """
        ptrace, info_buf, raw = _ptrace, self.info.buf, self.info.raw
        get_info, info_size = pt.PTRACE_GET_SYSCALL_INFO, pt.SYSCALL_INFO_SIZE
        op_entry, op_exit, op_seccomp = \
            pt.SYSCALL_INFO_ENTRY, pt.SYSCALL_INFO_EXIT, pt.SYSCALL_INFO_SECCOMP
        req_syscall, req_cont = pt.PTRACE_SYSCALL, pt.PTRACE_CONT
        plan_cache, entry_hooks, exit_hooks = self._plan_cache, self._entry_hooks, self._exit_hooks
        cpu_of = self.cpu
        pack_record, pack_header, syscall_payload, sysret_payload = \
            r.pack_record, r.pack_header, r.syscall_payload, r.sysret_payload
        rt_syscall, rt_sysret = r.SYSCALL, r.SYSRET
        emit, time_ns, error_of = self.facility.emit, _time_ns, self._error
        engine = self

        def entry(th: Thread, proc: Process) -> bool:
            """False: no resume here (the stop comes again)."""
            nr, a0, a1, a2, a3, a4, a5 = _ENTRY(raw, _INFO_OFFSET)
            args = (a0, a1, a2, a3, a4, a5)
            if proc.want_seccomp and engine._seccomp_now(th, nr, args):
                return False             # the entry stop comes again after the filter
            if th.restarting is not None and engine._restarts(th, nr):
                return True
            if _ARCH(raw, _ARCH_OFFSET)[0] != AUDIT_ARCH_X86_64:
                engine._i386_entry(th, Call(nr, tuple(a & INT_MASK for a in args), None))
                return True
            cp = plan_cache.get(nr)
            if cp is None:
                cp = engine._plan(nr, args)
            call = th.call = Call(nr, args, cp)
            flags = proc.flags
            hook = entry_hooks.get(nr)
            if hook is not None or flags & cp.entry_bits or not shortcuts:
                engine._entry_records(th, call, flags, hook)
            elif flags & F_CALL:         # shortcut: CALL alone
                pid = proc.pid
                cpu = call.cpu = cpu_of(th)
                engine._dirty = True
                payload = syscall_payload(cp.code, args[:cp.narg])
                emit(pid, pack_header(rt_syscall, len(payload), pid, th.tid, th.comm,
                                      time_ns(), cpu) + payload)
            return True

        def exit_(th: Thread, proc: Process) -> bool:
            """False: resumed already (or gone)."""
            rval, is_error = _EXIT(raw, _INFO_OFFSET)
            call = th.call
            th.call = None
            if call is None or call.result is not None:
                engine._exit_special(th, call, rval, is_error)
                return False
            cp = call.plan
            if cp is None:
                engine._i386_exit(th, call, rval, is_error)
                return True
            flags = proc.flags
            hook = exit_hooks.get(call.nr)
            if hook is not None and not is_error:
                hook(th, call, rval)
            if shortcuts and cp.buf is not None and flags & F_GENIO and not proc.fds \
                    and not (is_error and cp.failed):
                engine._io_exit(th, call, flags, rval, is_error)
            elif flags & cp.exit_bits or not shortcuts:
                engine._exit_records(th, call, flags, rval, is_error)
            elif flags & F_RET:          # shortcut: RET alone
                pid = proc.pid
                engine._dirty = True
                err = error_of(rval) if is_error else 0
                emit(pid, pack_record(
                    rt_sysret, sysret_payload(cp.code, err, rval),
                    pid, th.tid, th.comm, time_ns(),
                    call.cpu if call.cpu is not None else cpu_of(th)))
            return True

        def syscall_stop(th: Thread) -> None:
            tid = th.tid
            if ptrace(get_info, tid, info_size, info_buf) < 0:
                return                   # killed under us: its exit comes next
            op = raw[0]
            proc = th.proc
            if op == op_entry or op == op_seccomp:   # a seccomp stop comes instead of the entry
                if not entry(th, proc):
                    return
            elif op == op_exit:
                if not exit_(th, proc):
                    return
            else:
                ptrace(req_syscall, tid, None, 0)
                return
            if proc.detaching:
                engine._detach_thread(th)
            else:
                ptrace(req_cont if proc.seccomp and th.call is None else req_syscall,
                       tid, None, 0)

        return syscall_stop

    def _io_exit(self, th: Thread, call: Call, flags: int, rval: int, is_error: bool) -> None:
        """Shortcut for a read/write and kin without other exit records: its GIOs,
        a short write's STRU unmoved, RET."""
        proc = th.proc
        pid, tid, comm = proc.pid, th.tid, th.comm
        cpu = call.cpu if call.cpu is not None else self.cpu(th)
        now = _time_ns()
        cp = call.plan
        out = []
        if not is_error:
            genio = proc.genio if proc.genio is not None else self.genio(proc)
            n = rval if rval < genio else genio
            i, fd, rw = cp.buf
            if n <= lp.GIO_PART:
                parts = [self.mem.read(pid, call.args[i], n) if n > 0 else b""]
            else:
                parts = gio_parts(self.mem, pid, call.args[i], n)
            for data in parts:
                out.append(r.pack_record(r.GENIO, r.genio_payload(call.args[fd] & INT_MASK, rw,
                                                                  data), pid, tid, comm, now, cpu))
            tail = unmoved(self.mem, pid, call.args[i], call.args[i + lp.BUF_COUNT], rval,
                           genio) if rw and flags & F_STRUCT else None
            if tail is not None:
                out.append(r.pack_record(r.STRUCT, r.struct_payload(lp.UNMOVED.encode(), tail),
                                         pid, tid, comm, now, cpu))
        if flags & F_RET:
            out.append(r.pack_header(r.SYSRET, SYSRET_SIZE, pid, tid, comm, now, cpu))
            out.append(r.sysret_payload(cp.code, self._error(rval) if is_error else 0, rval))
        self._dirty = True
        self.facility.emit(pid, b"".join(out))

    def _plan(self, nr: int, args: tuple) -> CallPlan:
        cp = self.plans.get(nr, args)
        if nr in self.plans.fixed:
            self._plan_cache[nr] = cp
        return cp

    def _seccomp_now(self, th: Thread, nr: int, args: tuple) -> bool:
        """Install the filter asked for at attach, at this first syscall entry."""
        proc = th.proc
        proc.want_seccomp = False
        return not proc.detaching and self.seccomp is not None and \
            self.seccomp.install(th, nr, args)

    def _entry_records(self, th: Thread, call: Call, flags: int, hook) -> None:
        st = self.begin(th)
        call.cpu = st.cpu
        if flags & F_CALL:
            st.add(r.SYSCALL, r.syscall_payload(call.plan.code, call.args[:call.plan.narg]))
        if flags & call.plan.bits:
            run_entry(st, call)
        if hook is not None:
            hook(th, call, st)
        self.emit(st)

    def _exit_records(self, th: Thread, call: Call, flags: int, rval: int,
                      is_error: bool) -> None:
        st = self.begin(th, call.cpu)
        if flags & call.plan.exit_bits:
            run_exit(st, call, rval, is_error)
        if flags & F_RET:
            err = self._error(rval) if is_error else 0
            st.add(r.SYSRET, r.sysret_payload(call.plan.code, err, rval))
        self.emit(st)

    def _i386_entry(self, th: Thread, call: Call) -> None:
        """An i386 syscall (``int $0x80``): the x86-64 plans are keyed by other
        numbers, so its CALL alone, with the six argument registers (32 bits
        each, as the kernel takes them), between PROCCTORs that say so
        (docs/design.md, "i386 syscalls")."""
        th.call = call
        st = self.begin(th)
        call.cpu = st.cpu
        if st.flags & F_CALL:
            self._as_i386(st, r.SYSCALL, r.syscall_payload(record_code(call.nr), call.args))
        self.emit(st)

    def _i386_exit(self, th: Thread, call: Call, rval: int, is_error: bool) -> None:
        st = self.begin(th, call.cpu)
        if st.flags & F_RET:
            err = self._error(rval) if is_error else 0
            self._as_i386(st, r.SYSRET, r.sysret_payload(record_code(call.nr), err, rval))
        self.emit(st)

    @staticmethod
    def _as_i386(st: Stop, rtype: int, payload: bytes) -> None:
        st.add(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_I386))
        st.add(rtype, payload)
        st.add(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64))

    def _exit_special(self, th: Thread, call: Call | None, rval: int, is_error: bool) -> None:
        """An exit without its entry, or one whose return value we impose (utrace)."""
        if call is None:                 # attached inside the call, or a new task's return
            call = self._call_without_entry(th)
            if call is None:
                self.resume(th)
                return
            if _ARCH(self.info.raw, _ARCH_OFFSET)[0] != AUDIT_ARCH_X86_64:
                self._i386_exit(th, call, rval, is_error)    # as the bpf engine sees it
                self.resume(th)
                return
        else:
            try:
                pt.set_syscall_return(th.tid, call.result)
            except OSError:
                return                   # killed under us: its exit comes next
            rval = call.result
            is_error = -ERRNO_MAX <= rval < 0
        flags = th.proc.flags
        hook = self._exit_hooks.get(call.nr)
        if hook is not None and not is_error:
            hook(th, call, rval)
        if flags & (F_RET | call.plan.bits):
            self._exit_records(th, call, flags, rval, is_error)
        self.resume(th)

    def _call_without_entry(self, th: Thread, regs: pt.UserRegs | None = None) -> Call | None:
        if regs is None:
            try:
                regs = pt.getregs(th.tid)
            except OSError:
                return None
        nr = regs.orig_rax
        if nr >= 1 << 63:
            return None
        args = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
        # its entry records are missing, so none of its exit records either
        return Call(nr, args, CallPlan(nr, _nargs(nr), ()))

    def _note_interrupted_call(self, th: Thread) -> None:
        """At the first stop: remember the call our attach interrupted, if any.

        The kernel restarts it with a new entry stop; the call began before
        tracing did, so (as ktrace(2) and the bpf engine show it) only its
        return is recorded.  Without this, ``ktrace cmd`` would record the
        request that starts tracing as ktrace's first call.
        """
        try:
            regs = pt.getregs(th.tid)
        except OSError:
            return
        if regs.rax in RESTART_RVALS:
            nr = regs.orig_rax
        elif regs.rax == ERESTART_RESTARTBLOCK_RVAL:
            nr = RESTART_SYSCALL_NR
        else:
            return
        call = self._call_without_entry(th, regs)
        if call is not None:
            th.restarting = (call, nr, regs.rip, regs.rsp)

    def _restarts(self, th: Thread, nr: int) -> bool:
        """Is this first entry since the attach the kernel's restart of the call
        the attach interrupted (same number, ip and sp)?  Then that call goes
        on (True).  After a handler run first, or a call not restarted, it is
        an entry as any other."""
        call, restart_nr, ip, sp = th.restarting
        th.restarting = None
        if (nr, *_PLACE(self.info.raw, 8)) != (restart_nr, ip, sp):
            return False
        th.call = call
        return True

    def _error(self, rval: int) -> int:
        err = self._errno.get(rval)
        if err is None:
            err = self._errno[rval] = linux_to_freebsd_errno(-rval)
        return err

    # -- events ----------------------------------------------------------------------

    def _event_stop(self, th: Thread, event: int, sig: int) -> None:
        if event == pt.PTRACE_EVENT_STOP:
            if not th.started:
                self._first_stop(th, sig)
            elif sig in pt.STOP_SIGNALS:
                signals.group_stop(self, th, sig)
                self._group_stop(th)
            else:
                self.resume(th)          # PTRACE_INTERRUPT, or the end of a LISTEN
        elif event in (pt.PTRACE_EVENT_FORK, pt.PTRACE_EVENT_VFORK, pt.PTRACE_EVENT_CLONE):
            self._fork(th, event)
        elif event == pt.PTRACE_EVENT_EXEC:
            self._exec(th)
        elif event == pt.PTRACE_EVENT_EXIT:
            self._exit_event(th)
        elif event == pt.PTRACE_EVENT_SECCOMP:
            self._syscall_stop(th)       # the filter's stop: this syscall's entry
        else:
            self.resume(th)

    def _first_stop(self, th: Thread, sig: int) -> None:
        th.started = True
        self.refresh_rseq(th)
        self._note_interrupted_call(th)
        proc = th.proc
        if proc.pending_ctor and th.tid == proc.pid:
            proc.pending_ctor = False
            self.procctor(th)
            self.nspid(th)
        if th.born:
            self._child_return(th)
        if sig in pt.STOP_SIGNALS:       # attached while stopped (Ctrl-Z): it stays so
            self._group_stop(th)
        else:
            self.resume(th)

    def _child_return(self, th: Thread) -> None:
        """A new task's return from the fork or clone that made it (0), which
        no syscall-exit stop shows: FreeBSD's fork_return records it, and the
        bpf engine sees it (the task's first records after PROCCTOR and nspid)."""
        if th.proc.flags & F_RET:
            call = self._call_without_entry(th)     # the registers are its parent's call's
            if call is not None:
                self._exit_records(th, call, th.proc.flags, 0, False)

    def _group_stop(self, th: Thread) -> None:
        if th.proc.detaching:
            self._detach_thread(th)      # it stays stopped, as job control wants
            return
        try:
            pt.listen(th.tid)
        except OSError:
            pass

    def procctor(self, th: Thread, tid: int | None = None) -> None:
        """PROCCTOR; ``tid``: the id an exec's is written under, the one the
        thread called exec with (docs/design.md: a thread not the leader
        takes the leader's id)."""
        if th.proc.flags & F_PROCCTOR:
            st = self.begin(th)
            if tid is not None:
                st.tid = tid
            st.add(r.PROCCTOR, r.procctor_payload(r.SV_LINUX_X86_64))
            self.emit(st)

    def nspid(self, th: Thread) -> None:
        """STRU nspid of a task a traced one made, when its own pid namespace
        numbers it otherwise than ours (record.py's NSPID_NAME)."""
        if not th.proc.flags & F_CALL:
            return
        own = procfs.own_id(th.proc.pid, th.tid)
        if own and own != th.tid:
            st = self.begin(th)
            st.add(r.STRUCT, r.int32_payload(r.NSPID_NAME, own))
            self.emit(st)

    def _new_thread(self, proc: Process, tid: int, comm: bytes) -> None:
        """A thread a traced thread's clone made."""
        th = self._add_thread(proc, tid, comm)
        th.born = True
        self.nspid(th)

    def _fork(self, th: Thread, event: int) -> None:
        try:
            new = pt.geteventmsg(th.tid)
        except OSError:
            self.resume(th)
            return
        if new in self._adopted:         # its first stop came first and adopted it
            self._adopted.discard(new)
        elif new not in self.threads:
            if event == pt.PTRACE_EVENT_CLONE and self._is_thread(th, new):
                self._new_thread(th.proc, new, th.comm)
            else:
                self._new_process(th.proc, new, th.comm)
            if new in self._unknown:
                self._handle(new, self._unknown.pop(new))
                self._current = th
        self.resume(th)

    def _new_process(self, parent: Process, pid: int, comm: bytes) -> None:
        """A child of a traced process: traced if the facility says it inherits."""
        traced = not parent.shadow and not parent.detaching and \
            self.facility.fork(parent.pid, pid)
        child = parent.fork_copy(pid, self.facility.flags(pid) if traced else 0)
        child.pending_ctor = traced
        if not traced:
            # a seccomp filter came along with the fork: the child needs a tracer
            child.shadow = parent.seccomp
            child.detaching = not parent.seccomp
        self.procs[pid] = child
        self._add_thread(child, pid, comm).born = True

    def _new_task(self, tid: int, status: int) -> None:
        """The first stop of a task whose parent's fork event has not come yet.

        The order of the two is not fixed, and the parent's may never come
        (it can be killed inside clone): /proc says who the task belongs to.
        When it cannot say, the stop waits for the fork event: dropped, it
        would leave the task stopped for good.
        """
        ids = procfs.task_ids(tid)
        tgid, ppid = ids if ids is not None else (0, 0)
        if tgid != tid and tgid in self.procs:
            self._new_thread(self.procs[tgid], tid, procfs.comm(tgid, tid))
        elif tgid == tid and ppid in self.procs:
            self._new_process(self.procs[ppid], tid, procfs.comm(tid))
        else:
            self._unknown[tid] = status
            return
        self._adopted.add(tid)
        self._handle(tid, status)

    def _is_thread(self, th: Thread, new: int) -> bool:
        flags = self.hooks.clone_flags(th)
        if flags is None:
            return not procfs.is_process(new)
        return bool(flags & CLONE_THREAD)

    def _exec(self, th: Thread) -> None:
        proc = th.proc
        try:
            former = pt.geteventmsg(th.tid)
        except OSError:
            former = th.tid
        if former != th.tid and former in self.threads:
            # a non-leader thread exec'd: it now has the leader's tid
            execer = self.threads.pop(former)
            proc.threads.pop(former, None)
            execer.tid = th.tid
            th = execer
            self._current = th
        for other in list(proc.threads.values()):
            if other is not th:
                self.threads.pop(other.tid, None)
                proc.threads.pop(other.tid, None)
        proc.threads[th.tid] = th
        self.threads[th.tid] = th
        th.comm = procfs.comm(proc.pid, th.tid)
        self.mem.forget(proc.pid)        # a new address space
        th.cpu_addr = 0                  # the new image registers its own rseq
        th.close_stat()
        proc.exec_reset()
        self.procctor(th, former)
        self.resume(th)

    def _exit_event(self, th: Thread) -> None:
        th.exiting = True
        proc = th.proc
        if proc.live_threads() == 0:
            self._procdtor(th)
        try:
            pt.cont(th.tid)
        except OSError:
            pass

    def _procdtor(self, th: Thread) -> None:
        proc = th.proc
        if proc.dtor_done:
            return
        proc.dtor_done = True
        if self.perf is not None:
            self.perf.drain()
        if proc.flags & F_PROCDTOR:
            st = self.begin(th)
            st.add(r.PROCDTOR, b"")
            self.emit(st)
        proc.flags = 0
        self.facility.exit(proc.pid)     # flushes: the parent sees the exit after this

    def _gone(self, th: Thread, status: int) -> None:
        proc = th.proc
        if th.tid == proc.pid:
            self.reaped[proc.pid] = status
        if len(proc.threads) == 1 and not proc.dtor_done:
            self._procdtor(th)           # killed without an exit stop (SIGKILL)
        self._forget(th)

"""Recording engines and the one interface the facility drives them through.

An engine observes processes and turns what they do into records (bytes
built with ``ktrace.record``'s encoders), which it hands to its host, the
:class:`~ktrace.facility.Facility`, with ``emit``.  The facility decides who
is traced for what; the engine only observes.  The dependency is one way:
the facility imports this module, never the reverse.  What an engine may
call on its host is :class:`Host`; what it learns of a process's tracing
comes as a :class:`ProcSettings` value in ``flags_changed`` (or from
``Host.settings`` for a child that inherited).  ``Facility(engine)`` is the
one place an engine is wired to its host (it calls ``engine.bind``).

Threading: every method here except ``wake``, and every Facility method
except ``tracing`` (one read of the table's size, which the service's
control thread makes to decide whether it is idle), runs on the engine's
own thread (ptrace requests must come from the thread that attached).  The
control thread otherwise only queues requests and calls ``wake``.
"""

from __future__ import annotations

import abc
from typing import Callable, NamedTuple, Protocol

from .. import record as r
from .. import trpoints

DEFAULT_GENIO_SIZE = 4096  # kern.ktrace.genio_size: one page


class ProcSettings(NamedTuple):     # not a dataclass: importing dataclasses costs ~15 ms
    """How one traced process is traced: what an engine needs, as values."""

    flags: int                  # facility bits (KTRFAC_*)
    genio_size: int = DEFAULT_GENIO_SIZE   # most data bytes per GIO record
    owner_root: bool = False    # the tracer is root (tracing survives a set-id exec)


class Host(Protocol):
    """What an engine may call on the facility it records for."""

    def emit(self, pid: int, data: bytes) -> bool:
        """Queue whole records of ``pid``; False when ``pid`` is not traced."""

    def flush(self) -> None:
        """Write every queued record (before the engine blocks)."""

    def log(self, pid: int, line: str, once: bool = False) -> None:
        """A notice or warning for whoever traces ``pid`` (once per file)."""

    def flags(self, pid: int) -> int:
        """The facility bits of ``pid`` (0: not traced)."""

    def settings(self, pid: int) -> ProcSettings | None:
        """How ``pid`` is traced, or None."""

    def traced_pids(self) -> set[int]:
        """Every traced process."""

    def fork(self, parent: int, child: int) -> bool:
        """A traced process forked: True when the child inherits tracing."""

    def exec_gains_privilege(self, pid: int) -> bool:
        """A set-id exec: True when tracing of ``pid`` stopped."""

    def exit(self, pid: int) -> None:
        """``pid`` is gone (its PROCDTOR emitted): flush and forget it."""


class Engine(abc.ABC):
    """What the facility and the service need from a recording engine."""

    name: str
    facility: Host                   # set by bind(), from Facility(engine)
    facilities: int = trpoints.ALL   # the record types this engine can produce

    def bind(self, host: Host) -> None:
        """Record for ``host`` (called once, by the Facility that drives us)."""
        self.facility = host

    @abc.abstractmethod
    def attach(self, pid: int, options: dict) -> None:
        """Start observing process ``pid`` (every thread of it).

        Raises OSError: EPERM when the caller may not debug it, ESRCH when
        it is gone.  Called by the facility on the first SET of a process;
        ``options`` are the request's engine options.
        """

    @abc.abstractmethod
    def detach(self, pid: int) -> None:
        """Stop observing ``pid``; it runs on untouched.  Idempotent."""

    @abc.abstractmethod
    def flags_changed(self, pid: int, settings: ProcSettings) -> None:
        """How ``pid`` is traced changed: its facility bits (narrow what is
        recorded) or its trace file (genio size, owner)."""

    @abc.abstractmethod
    def run(self, service: Callable[[], bool]) -> None:
        """The engine loop: observe, emit, and call ``service()`` when woken.

        ``service`` handles queued control requests and returns False when
        the service should end (nothing traced, nobody connected); the loop
        then detaches everything and returns.

        No record waits long in memory: the engine calls
        ``facility.flush()`` within 50 ms of queuing a record (the bpf engine
        before each wait for its ring; the ptrace engine, which blocks in
        ``waitpid`` between stops, when its ticker thread wakes it) and
        before it waits for requests with nothing to observe.  The facility
        itself writes a file's queue when a process exits (before its parent
        can see the exit) and whenever the queue holds 256 KiB.
        """

    @abc.abstractmethod
    def wake(self) -> None:
        """Thread-safe: make ``run`` call ``service()`` soon."""

    def hold_exit(self, pid: int) -> None:
        """Keep ``pid``'s exit from its parent until its records are written.

        ktrace(1) asks this for the command it runs, so that `ktrace cmd;
        kdump` sees every record.  Engines that already hold every traced
        exit (ptrace) need not do anything.
        """


NAMES = ("ptrace", "bpf")
# the record types each engine can produce, known without importing it (ktrace(1)
# asks for its default set; ptrace cannot see capability checks)
FACILITIES = {"ptrace": trpoints.ALL & ~r.facility(r.CAPFAIL),
              "bpf": trpoints.ALL}
# why the bpf engine is not for this user: not worth a notice when auto picks ptrace
BPF_NEEDS_PRIVILEGE = "the bpf engine needs root (or CAP_BPF and CAP_PERFMON)"


def engine_class(name: str) -> type[Engine]:
    """The class of the engine called ``name`` (imported on demand)."""
    if name == "ptrace":
        from .ptrace import PtraceEngine
        return PtraceEngine
    if name == "bpf":
        from .bpf import BpfEngine
        return BpfEngine
    raise ValueError(f"unknown engine {name!r}")


def load(name: str, options: dict) -> Engine:
    """The engine called ``name``, built with service-wide ``options``."""
    return engine_class(name)(options)

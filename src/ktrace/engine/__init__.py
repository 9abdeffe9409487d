"""Recording engines and the one interface the facility drives them through.

An engine observes processes and turns what they do into records (bytes
built with ``ktrace.record``'s encoders), which it hands to the
:class:`~ktrace.facility.Facility` with ``emit``.  The facility decides who
is traced for what; the engine only observes.

Threading: every method here, and every Facility method, runs on the
engine's own thread (ptrace requests must come from the thread that
attached).  The service's control thread only queues requests and calls
``wake``.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Callable

from .. import trpoints

if TYPE_CHECKING:
    from ..facility import Facility


class Engine(abc.ABC):
    """What the facility and the service need from a recording engine."""

    name: str
    facility: "Facility"   # set by the service before run()
    facilities: int = trpoints.ALL   # the record types this engine can produce

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
    def flags_changed(self, pid: int, flags: int) -> None:
        """The facility bits of ``pid`` changed (narrow what is recorded)."""

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

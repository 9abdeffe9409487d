"""ktrace(1): start and stop tracing.

    ktrace [-aCcdi] [-f trfile] [-g pgrp | -p pid] [-t trstr]
    ktrace [-adi] [-f trfile] [-t trstr] command ...

Options, defaults, usage and messages are FreeBSD's; what FreeBSD does not
have (in --help only) is -z (compress the trace file, as a name ending in
.zst does) and a long option (--engine, --genio-size, --seccomp, --ring-size,
--lossless).
"""

from __future__ import annotations

import getopt
import os
import sys

from . import service, sigign

USAGE = ("usage: ktrace [-aCcdi] [-f trfile] [-g pgrp | -p pid] [-t trstr]\n"
         "       ktrace [-adi] [-f trfile] [-t trstr] command")
LONG_OPTIONS = ["engine=", "genio-size=", "seccomp", "ring-size=", "lossless", "help",
                "version"]
HELP = USAGE + """
       ktrace --help | --version
  -a append   -C clear all   -c clear   -d descendants   -i inherit
  -f trfile   -g pgrp   -p pid   -t trstr (facilities: FreeBSD's letters)
  -z compress the trace file (zstd frames; also when trfile ends in .zst)
  --engine ptrace|bpf|auto   --genio-size N   --ring-size N   --seccomp   --lossless
The trace is read with kdump(1): kdump --help."""


class Answer(Exception):
    """--help or --version: the text, on stdout, and exit 0."""


class UsageError(Exception):
    """A warning line (may be empty) to print before the usage text."""


def _getopt_message(e: getopt.GetoptError) -> str:
    """getopt(3)'s words for a bad option, as BSD programs print them."""
    opt = e.opt if len(e.opt) == 1 else "-" + e.opt
    if "requires argument" in e.msg:
        return f"option requires an argument -- {opt}"
    if "must not have an argument" in e.msg:
        return f"option does not take an argument -- {opt}"
    return f"illegal option -- {opt}"


def _size(text: str, what: str) -> int:
    try:
        n = int(text, 0)
    except ValueError:
        n = -1
    if n <= 0:
        raise UsageError(f"invalid {what}: {text}")
    return n


class Invocation:
    """What the command line asks for."""

    def __init__(self, argv: list[str]):
        self.append = self.inherit = self.descend = self.compress = False
        self.clear: str | None = None          # None, "clear" or "clearall"
        self.pid = 0                           # > 0 pid, < 0 process group
        self.file = "ktrace.out"
        self.facs: int | None = None           # None: the default set
        self.engine = "auto"                   # control.AUTO
        self.options: dict = {}
        try:
            opts, self.command = getopt.getopt(argv, "aCcdf:g:ip:t:z", LONG_OPTIONS)
        except getopt.GetoptError as e:
            raise UsageError(_getopt_message(e)) from None
        for opt, val in opts:
            self._option(opt, val)
        if self.clear is None and self.pid == 0 and not self.command:
            raise UsageError("")
        if self.pid != 0 and self.command:
            raise UsageError("")

    def _option(self, opt: str, val: str) -> None:
        if opt == "-a":
            self.append = True
        elif opt == "-C":
            self._pid_clear(None, "clearall")
        elif opt == "-c":
            self._pid_clear(None, "clear")
        elif opt == "-d":
            self.descend = True
        elif opt == "-f":
            self.file = val
        elif opt == "-g":
            self._pid_clear(val, None)
            self.pid = -self.pid
        elif opt == "-i":
            self.inherit = True
        elif opt == "-p":
            self._pid_clear(val, None)
        elif opt == "-t":
            from . import trpoints      # (this, before the service's start: see start_service)
            try:
                self.facs = trpoints.parse(val)
            except trpoints.UnknownTracePoint:
                raise UsageError(f"unknown facility in {val}") from None
        elif opt == "-z":
            self.compress = True
        elif opt == "--engine":
            self.engine = val
        elif opt == "--genio-size":
            self.options["genio_size"] = _size(val, "genio size")
        elif opt == "--ring-size":
            self.options["ring_size"] = _size(val, "ring size")
        elif opt == "--seccomp":
            self.options["seccomp"] = True
        elif opt == "--lossless":
            self.options["lossless"] = True
        elif opt == "--help":
            raise Answer(HELP)
        elif opt == "--version":
            from ktrace.kdump.cli import version
            raise Answer(f"ktrace {version()}")

    def _pid_clear(self, text: str | None, clear: str | None) -> None:
        # the checks and messages of FreeBSD's set_pid_clear()
        if self.clear is not None and clear is not None:
            raise UsageError("only one -c or -C flag is permitted")
        if (self.clear == "clearall" and text is not None) or \
                (clear == "clearall" and self.pid != 0):
            raise UsageError("the -C flag may not be combined with -g or -p")
        if text is not None and self.pid != 0:
            raise UsageError("only one -g or -p flag is permitted")
        if text is not None:
            try:
                n = int(text, 10)
            except ValueError:
                n = 0
            if not 1 <= n <= 2**31 - 1:
                raise UsageError("invalid process or group id")
            self.pid = n
        if clear is not None:
            self.clear = clear
            if clear == "clearall":
                self.pid = 1


def start_service(inv: Invocation) -> None:
    """Start the trace service ``inv`` will talk to, if none is up, before
    importing what talks to it: its start (an interpreter, imports, a BPF
    program's verification) then overlaps ours.

    auto is taken to mean bpf for root: a wrong guess costs a service that
    ends once it is ready, unheard (service.start).
    """
    if inv.clear is not None:
        return                      # clearing talks only to services already up
    engine = inv.engine
    if engine == "auto":
        engine = "bpf" if os.geteuid() == 0 else "ptrace"
    if engine in ("bpf", "ptrace"):
        service.start(engine, service.service_options(inv.options))


def run(inv: Invocation, ignored: int | None = None) -> int:
    """``ignored``: the signals our caller left ignored (sigign.take)."""
    # imported once the service is starting (main): most of ktrace(1)'s own start
    from . import control, tracefile, trpoints
    from . import record as r
    if inv.clear == "clearall":
        control.clear_tracing(trpoints.ALL | trpoints.LIFECYCLE | r.KTRFAC_INHERIT, 1,
                              descend=True)
        return 0
    if inv.clear == "clear":
        if inv.pid:
            # without -t, clear everything (FreeBSD would leave PROCCTOR/DTOR on)
            cfacs = trpoints.ALL if inv.facs is None else inv.facs
            control.clear_tracing(cfacs | r.KTRFAC_INHERIT, inv.pid, descend=inv.descend)
        else:
            control.clear_file(inv.file)
        return 0
    control.check_engine(inv.engine)   # refuse before touching the file
    old = os.umask(0o077)
    try:
        fd = tracefile.create(inv.file, inv.append, inv.compress)
    finally:
        os.umask(old)
    if tracefile.wants_compression(inv.file, inv.compress) and not tracefile.is_compressed(fd):
        control.notice(f"{inv.file} is not compressed: appending to it uncompressed")
    try:
        if inv.command:
            try:
                control.exec_traced(inv.command, inv.file, inv.facs, fd=fd, inherit=inv.inherit,
                                    engine=inv.engine, options=inv.options, ignored=ignored)
            except OSError as e:
                if e.filename == inv.file:
                    raise
                control.notice(f"exec of '{inv.command[0]}' failed: {e.strerror}")
                return 1
        control.set_tracing(inv.file, inv.facs, inv.pid, fd=fd, inherit=inv.inherit,
                            descend=inv.descend, engine=inv.engine, options=inv.options)
    finally:
        os.close(fd)
    return 0


def _launched() -> int | None:
    """What the launcher (launcher/ktrace.c) says of our caller's ignored
    signals, taken out of the environment before anything runs with it.  We
    are then the ktrace command: named so, as the kernel would have named a
    script of that name (the records before the exec show it)."""
    ignored = sigign.take()
    if ignored is not None:
        try:
            with open("/proc/self/comm", "w") as comm:
                comm.write("ktrace")
        except OSError:
            pass
    return ignored


def main(argv: list[str] | None = None) -> int:
    ignored = _launched()
    argv = sys.argv[1:] if argv is None else argv
    try:
        inv = Invocation(argv)
    except Answer as e:
        print(e)
        return 0
    except UsageError as e:
        from .control import notice
        if str(e):
            notice(str(e))
        print(USAGE, file=sys.stderr)
        return 1
    start_service(inv)
    from . import control, tracefile      # (after the service's start, as in run)
    try:
        return run(inv, ignored)
    except tracefile.TraceFileRefused as e:
        control.notice(e.strerror)
    except OSError as e:
        control.notice(f"{e.filename or inv.file}: {e.strerror}")
    except (ValueError, control.EngineUnavailable, service.ServiceError) as e:
        control.notice(str(e))
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""Run one command under the ptrace engine in this process, without the service.

    python3 -m ktrace.engine.ptrace [-t trstr] [--seccomp] [-f file] command ...

For tests and benchmarks of the engine alone: the command is forked and
traced with INHERIT, the engine runs here until everything exits, and the
exit status is the command's.  ktrace(1) is the real front end.
"""

from __future__ import annotations

import getopt
import os
import sys

from ... import record as r
from ... import sigign, trpoints
from ...facility import KTROP_SET, Cred, Facility, Request, TraceFile
from .engine import PtraceEngine

USAGE = "usage: python3 -m ktrace.engine.ptrace [-t trstr] [--seccomp] [-f file] command ..."


def trace_command(argv: list[str], path: str, facs: int, options: dict | None = None,
                  ignored: int | None = None) -> int:
    """Trace ``argv`` into ``path``; returns its wait status.  ``ignored``: the
    signals the command gets ignored (sigign.restore)."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_w)
        sigign.restore(ignored)
        os.read(ready_r, 1)            # traced from here on: run the command
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            print(f"exec of '{argv[0]}' failed: {e.strerror}", file=sys.stderr)
        os._exit(127)
    os.close(ready_r)
    engine = PtraceEngine({})
    facility = Facility(engine)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC, 0o600)
    cred = Cred(os.getpid(), os.getuid(), os.getgid())
    err = facility.ktrace(Request(KTROP_SET, facs | trpoints.LIFECYCLE | r.KTRFAC_INHERIT, pid,
                                  TraceFile(fd, None, cred), dict(options or {})), cred)
    os.write(ready_w, b"x")
    os.close(ready_w)
    if err:
        os.waitpid(pid, 0)
        raise OSError(err, os.strerror(err))
    engine.run(facility.tracing)
    return engine.reaped.get(pid, 0)


def main(argv: list[str]) -> int:
    ignored = sigign.take()
    try:
        opts, command = getopt.getopt(argv, "f:t:", ["seccomp"])
    except getopt.GetoptError as e:
        print(f"{e}\n{USAGE}", file=sys.stderr)
        return 2
    path, facs, options = "ktrace.out", trpoints.DEFAULT, {}
    for opt, val in opts:
        if opt == "-f":
            path = val
        elif opt == "-t":
            try:
                facs = trpoints.parse(val)
            except trpoints.UnknownTracePoint:
                print(f"unknown facility in {val}", file=sys.stderr)
                return 2
        else:
            options["seccomp"] = True
    if not command:
        print(USAGE, file=sys.stderr)
        return 2
    status = trace_command(command, path, facs, options, ignored)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

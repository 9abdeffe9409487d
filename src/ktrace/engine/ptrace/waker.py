"""Waking an engine that sleeps in waitpid(-1), from any thread.

ptrace requests may only come from the tracing thread, and waitpid cannot
wait for a file descriptor.  So the engine keeps one small child process:
``wake()`` writes a byte to its pipe, the child stops itself, and the
engine's ``waitpid(-1, __WALL|WUNTRACED)`` returns its stop; the engine
continues it.  The child exits when the pipe closes (the engine is gone).
"""

from __future__ import annotations

import fcntl
import os
import signal


class Waker:
    def __init__(self):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:                        # the child: only os calls from here
            try:
                os.close(wfd)
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP):
                    signal.signal(sig, signal.SIG_IGN)
                while os.read(rfd, 1):
                    os.kill(os.getpid(), signal.SIGSTOP)
            finally:
                os._exit(0)
        os.close(rfd)
        fcntl.fcntl(wfd, fcntl.F_SETFL, os.O_NONBLOCK)
        os.set_inheritable(wfd, False)
        self.pid = pid
        self._wfd = wfd

    def poke(self) -> None:
        """Thread-safe: make the engine's waitpid return."""
        try:
            os.write(self._wfd, b"w")
        except OSError:
            pass                            # full (a wake is pending anyway), or closed

    def rearm(self) -> None:
        """The child's stop was seen: let it wait for the next poke."""
        try:
            os.kill(self.pid, signal.SIGCONT)
        except OSError:
            pass

    def close(self) -> None:
        """End the child (idempotent)."""
        fd, self._wfd = self._wfd, -1      # a late poke must not write to a reused number
        if fd < 0:
            return
        os.close(fd)
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass

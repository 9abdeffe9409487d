"""ioctl requests of strace's term.c: the tty requests (their names are the generated tables')."""

from __future__ import annotations

from .. import structs as T
from . import FD_VALUE, INT_VALUE, NO_ARG, Request, memory


NAMES: dict[str, int] = {}

REQUESTS: dict[str, Request] = {
    # term.c (the tty requests' own STRU records: linux_plan's ioctl selector)
    **{req: memory("termios", req == "TCGETS", T.termios_text)
       for req in ("TCGETS", "TCSETS", "TCSETSW", "TCSETSF")},
    "TIOCGWINSZ": memory("winsize", True, T.winsize_text),
    "TIOCSWINSZ": memory("winsize", False, T.winsize_text),
    **{req: memory("int", True, T.int_text) for req in ("FIONREAD", "TIOCGPGRP", "TIOCOUTQ")},
    **{req: memory("int", False, T.int_text) for req in ("TIOCSPGRP", "FIONBIO")},
    **{req: NO_ARG for req in ("FIOCLEX", "FIONCLEX", "TIOCNOTTY", "TIOCSBRK", "TIOCCBRK",
                               "TIOCCONS", "TIOCEXCL", "TIOCNXCL", "TIOCVHANGUP")},
    **{req: INT_VALUE for req in ("TCSBRK", "TCSBRKP", "TIOCSCTTY")},
    "FICLONE": FD_VALUE,        # the source descriptor
}

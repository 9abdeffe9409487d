"""Clocks and sleeping."""

from __future__ import annotations

from ..xlat import LINUX as L
from . import structs as T
from .call import INT, PTR, Arg, Call, at_exit, p_flags, p_ptr, p_struct, p_xval
from .fmt import c_int


def _clock(c: Call, i: int) -> str:
    cid = c_int(c.arg(i))
    return L.CLOCK_IDS.name(cid) or str(cid)


CLOCK = Arg(_clock)
ITIMER = Arg(p_xval(L.ITIMER_WHICH, "ITIMER_???"))
TS_IN = Arg(p_struct("timespec", T.timespec_text, exit=False))
TS_OUT = at_exit(p_struct("timespec", T.timespec_text))
# The time left prints only when a sleep was interrupted, which records no struct.
REM = at_exit(p_ptr)

SYSCALLS = {
    "clock_gettime": (CLOCK, TS_OUT), "clock_getres": (CLOCK, TS_OUT),
    "clock_settime": (CLOCK, TS_IN),
    "clock_nanosleep": (CLOCK, Arg(p_flags(L.TIMER_FLAGS, "TIMER_???")), TS_IN, REM),
    "nanosleep": (TS_IN, REM),
    "gettimeofday": (at_exit(p_struct("timeval", T.timeval_text)), PTR),
    "time": (PTR,),
    "timer_create": (CLOCK, PTR, at_exit(p_ptr)),
    "clock_adjtime": (CLOCK, PTR),
    "timerfd_create": (CLOCK, Arg(p_flags(L.TIMERFD_FLAGS, "TFD_???"))),
    "alarm": (INT,),
    "setitimer": (ITIMER, Arg(p_struct("itimerval", T.itimerval_text, exit=False)),
                  at_exit(p_struct("itimerval", T.itimerval_text))),
    "getitimer": (ITIMER, at_exit(p_struct("itimerval", T.itimerval_text))),
    "times": (at_exit(p_struct("tms", T.tms_text)),),
}

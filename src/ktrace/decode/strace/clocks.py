"""Clocks, timers and sleeping."""

from __future__ import annotations

import struct

from ...abi.linux_plan import ERESTART_FIRST, ERESTART_LAST
from .. import structs as S
from ..xlat import LINUX as L, Xlat
from . import structs as T
from .call import FD, INT, Arg, Call, at_exit, p_flags, p_struct, p_xval
from .fmt import STYLE, c_int, flags, hexval, ptr, xval
from .signals import printsignal

CLOCKFD, CLOCKFD_MASK, CPUCLOCK_PERTHREAD = 3, 7, 4
CPUCLOCK_NAMES = Xlat([(0, "CPUCLOCK_PROF"), (1, "CPUCLOCK_VIRT"), (2, "CPUCLOCK_SCHED")])


def clock_name(cid: int) -> str:
    """printclockname: CLOCK_MONOTONIC; a negative id is a CPU clock or a
    descriptor's (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), FD_TO_CLOCKID(fd))."""
    if cid >= 0:
        return xval(L.CLOCK_IDS, cid, "CLOCK_???")
    style = STYLE.get()
    if style == "raw":
        return str(cid)
    if cid & CLOCKFD_MASK == CLOCKFD:
        text = f"FD_TO_CLOCKID({~(cid >> 3)})"
    else:
        kind = "MAKE_THREAD_CPUCLOCK" if cid & CPUCLOCK_PERTHREAD else "MAKE_PROCESS_CPUCLOCK"
        text = f"{kind}({~(cid >> 3)}, {xval(CPUCLOCK_NAMES, cid & CLOCKFD_MASK, 'CPUCLOCK_???')})"
    return f"{cid} /* {text} */" if style == "verbose" else text


def _clock(c: Call, i: int) -> str:
    return clock_name(c_int(c.arg(i)))


def _struct_at(name: str, render, exit: bool):
    """A struct from its record; the address when NULL, unread, a failed call at exit."""
    def printer(c: Call, i: int) -> str:
        data = c.struct(i, name, exit=exit)
        if data is None or (exit and not c.ok) or not c.verbose:
            return ptr(c.arg(i))
        return render(data)
    return printer


@T.struct_printer("itimerspec")
def itimerspec_text(f: dict) -> str:
    return (f"{{it_interval={{tv_sec={f['interval_sec']}, "
            f"tv_nsec={f['interval_nsec'] & ULONG_MAX}}}, "
            f"it_value={{tv_sec={f['value_sec']}, tv_nsec={f['value_nsec'] & ULONG_MAX}}}}}")


ULONG_MAX = (1 << 64) - 1


TIMEZONE = struct.Struct("<ii")


def _timezone(exit: bool):
    def render(data: bytes) -> str:
        if len(data) < TIMEZONE.size:
            return "{...}"
        west, dst = TIMEZONE.unpack_from(data)
        return f"{{tz_minuteswest={west}, tz_dsttime={dst}}}"
    return _struct_at("timezone", render, exit)


def _time(c: Call, i: int) -> str:
    """time(): the time stored, ``[1700000000 /* 2023-11-14T22:13:20+0000 */]``."""
    data = c.struct(i, "long")
    f = S.fixed("long", data) if data is not None else None
    if f is None or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return f"[{f['value']}{T.time_comment(f['value'])}]"


def time_result(c: Call, text: str) -> str:
    """time's result as a date after the number: ``1700000000 (2023-11-14T22:13:20+0000)``."""
    comment = T.time_comment(c.retval) if c.ok else ""
    return f"{text} ({comment[4:-3]})" if comment else text


# struct sigevent: sigev_value, sigev_signo, sigev_notify, then the union
# (sigev_notify_thread_id; sigev_notify_function, sigev_notify_attributes)
SIGEVENT = struct.Struct("<QiiQQ")
SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID = (L.SIGEV_NOTIFY.value(n) for n in (
    "SIGEV_SIGNAL", "SIGEV_THREAD", "SIGEV_THREAD_ID"))


def sigevent_text(data: bytes) -> str:
    """print_sigevent: ``{sigev_value={...}, sigev_signo=SIGALRM, sigev_notify=SIGEV_SIGNAL}``."""
    if len(data) < SIGEVENT.size:
        return "{...}"
    value, signo, notify, un1, un2 = SIGEVENT.unpack_from(data)
    parts = []
    if value:
        sival_int = c_int(value)
        parts.append(f"sigev_value={{sival_int={sival_int}, sival_ptr={hexval(value)}}}")
    signalled = notify in (SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID)
    parts.append(f"sigev_signo={printsignal(signo) if signalled else signo & 0xFFFFFFFF}")
    parts.append(f"sigev_notify={xval(L.SIGEV_NOTIFY, notify & 0xFFFFFFFF, 'SIGEV_???')}")
    if notify == SIGEV_THREAD_ID:
        parts.append(f"sigev_notify_thread_id={c_int(un1)}")
    elif notify == SIGEV_THREAD:
        parts.append(f"sigev_notify_function={ptr(un1)}, sigev_notify_attributes={ptr(un2)}")
    return "{" + ", ".join(parts) + "}"


def _timer_id(c: Call, i: int) -> str:
    data = c.struct(i, "int")
    f = S.fixed("int", data) if data is not None else None
    if f is None or not c.ok or not c.verbose:
        return ptr(c.arg(i))
    return f"[{f['value']}]"


# struct timex (x86-64, 208 bytes): modes, offset, freq, maxerror, esterror,
# status, constant, precision, tolerance, time (sec, usec), tick, ppsfreq,
# jitter, shift, stabil, jitcnt, calcnt, errcnt, stbcnt, tai
TIMEX = struct.Struct("<I4xqqqqi4xqqqqQqqqi4xqqqqqi44x")
TIMEX_FIELDS = ("offset", "freq", "maxerror", "esterror")
TIMEX_TAIL = ("tick", "ppsfreq", "jitter", "shift", "stabil", "jitcnt", "calcnt", "errcnt",
              "stbcnt", "tai")


def timex_text(data: bytes) -> str:
    """print_timex: every field, modes and status as flags."""
    if len(data) < TIMEX.size:
        return "{...}"
    v = TIMEX.unpack_from(data)
    return ("{" + f"modes={flags(L.ADJTIMEX_MODES, v[0], unknown='ADJ_???')}, "
            + "".join(f"{k}={n}, " for k, n in zip(TIMEX_FIELDS, v[1:5]))
            + f"status={flags(L.ADJTIMEX_STATUS, v[5] & 0xFFFFFFFF, unknown='STA_???')}, "
            + f"constant={v[6]}, precision={v[7]}, tolerance={v[8]}, "
            + f"time={{tv_sec={v[9]}, tv_usec={v[10]}}}, "
            + ", ".join(f"{k}={n}" for k, n in zip(TIMEX_TAIL, v[11:])) + "}")


def _timex(c: Call, i: int) -> str:
    data = c.struct(i, "timex")
    if data is None or not c.ok or not c.verbose or len(data) < TIMEX.size:
        return ptr(c.arg(i))
    return timex_text(data)


def adjtimex_result(c: Call, text: str) -> str:
    """The clock state after the number, when the timex was printed: ``5 (TIME_ERROR)``."""
    i = 1 if c.name == "clock_adjtime" else 0
    data = c.struct(i, "timex")
    if not c.ok or data is None or len(data) < TIMEX.size or not c.verbose:
        return text
    name = L.ADJTIMEX_STATE.name(c.retval)
    return f"{text} ({name})" if name else text


CLOCK = Arg(_clock)
ITIMER = Arg(p_xval(L.ITIMER_WHICH, "ITIMER_???"))
TS_IN = Arg(p_struct("timespec", T.timespec_text, exit=False))
TS_OUT = at_exit(p_struct("timespec", T.timespec_text))
ITS_IN = Arg(_struct_at("itimerspec", itimerspec_text, exit=False))
ITS_OUT = at_exit(_struct_at("itimerspec", itimerspec_text, exit=True))
# The time left prints only when a sleep was interrupted, which records no struct.
def _remaining(flags_arg: int | None):
    """nanosleep's and clock_nanosleep's remaining time: written (and shown)
    only when a signal interrupted a relative sleep; else the address."""
    def render(c: Call, i: int) -> str:
        data = c.struct(i, "timespec")
        interrupted = ERESTART_FIRST <= c.linux_errno() <= ERESTART_LAST
        if data is None or not interrupted or not c.verbose or \
                (flags_arg is not None and c.arg(flags_arg)):
            return ptr(c.arg(i))
        return T.timespec_text(data, c)
    return at_exit(render)


RESULTS = {"time": time_result, "adjtimex": adjtimex_result, "clock_adjtime": adjtimex_result}

SYSCALLS = {
    "clock_gettime": (CLOCK, TS_OUT), "clock_getres": (CLOCK, TS_OUT),
    "clock_settime": (CLOCK, TS_IN),
    "clock_nanosleep": (CLOCK, Arg(p_flags(L.TIMER_FLAGS, "TIMER_???")), TS_IN, _remaining(1)),
    "nanosleep": (TS_IN, _remaining(None)),
    "gettimeofday": (at_exit(p_struct("timeval", T.timeval_text)), at_exit(_timezone(True))),
    "settimeofday": (Arg(p_struct("timeval", T.timeval_text, exit=False)),
                     Arg(_timezone(False))),
    "time": (at_exit(_time),),
    "timer_create": (CLOCK, Arg(_struct_at("sigevent", sigevent_text, exit=False)),
                     at_exit(_timer_id)),
    "timer_settime": (INT, Arg(p_flags(L.TIMER_FLAGS, "TIMER_???")), ITS_IN, ITS_OUT),
    "timer_gettime": (INT, ITS_OUT),
    "timerfd_settime": (FD, Arg(p_flags(L.TIMERFD_FLAGS, "TFD_TIMER_???")), ITS_IN, ITS_OUT),
    "timerfd_gettime": (FD, ITS_OUT),
    "adjtimex": (at_exit(_timex),),
    "clock_adjtime": (CLOCK, at_exit(_timex)),
    "timerfd_create": (CLOCK, Arg(p_flags(L.TIMERFD_FLAGS, "TFD_???"))),
    "alarm": (Arg(lambda c, i: str(c.arg(i) & 0xFFFFFFFF)),),
    "setitimer": (ITIMER, Arg(p_struct("itimerval", T.itimerval_text, exit=False)),
                  at_exit(p_struct("itimerval", T.itimerval_text))),
    "getitimer": (ITIMER, at_exit(p_struct("itimerval", T.itimerval_text))),
    "times": (at_exit(p_struct("tms", T.tms_text)),),
}

"""Linux names that need more than a table lookup: signals, si_codes, futex ops."""

from __future__ import annotations

from .xlat import LINUX

SIGRTMIN = 32
SIGRTMAX = 64


def signal_name(signo: int) -> str | None:
    """strace's spelling: SIGINT, SIGRTMIN, SIGRT_1 ... SIGRT_32."""
    if signo == SIGRTMIN:
        return "SIGRTMIN"
    if SIGRTMIN < signo <= SIGRTMAX:
        return f"SIGRT_{signo - SIGRTMIN}"
    return LINUX.SIGNALS.name(signo)


SI_KERNEL = 0x80

# si_code values above zero mean something per signal.
_SIGCODE_TABLES = {
    LINUX.SIGNALS.value("SIGILL"): LINUX.ILL_CODES,
    LINUX.SIGNALS.value("SIGFPE"): LINUX.FPE_CODES,
    LINUX.SIGNALS.value("SIGSEGV"): LINUX.SEGV_CODES,
    LINUX.SIGNALS.value("SIGBUS"): LINUX.BUS_CODES,
    LINUX.SIGNALS.value("SIGTRAP"): LINUX.TRAP_CODES,
    LINUX.SIGNALS.value("SIGCHLD"): LINUX.CLD_CODES,
    LINUX.SIGNALS.value("SIGIO"): LINUX.POLL_CODES,
    LINUX.SIGNALS.value("SIGSYS"): LINUX.SYS_CODES,
}


def sigcode_name(signo: int, code: int) -> str | None:
    """SI_USER, SEGV_MAPERR, CLD_EXITED, ...; None for an unknown code."""
    if code > 0 and code != SI_KERNEL:
        table = _SIGCODE_TABLES.get(signo)
        return table.name(code) if table else None
    return LINUX.SI_CODES.name(code)


FUTEX_PRIVATE_FLAG = LINUX.FUTEX_OP_FLAGS.value("FUTEX_PRIVATE_FLAG")
FUTEX_CLOCK_REALTIME = LINUX.FUTEX_OP_FLAGS.value("FUTEX_CLOCK_REALTIME")


def futex_op_name(op: int) -> str:
    """FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, ..."""
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    name = LINUX.FUTEX_OPS.name(cmd)
    text = (name or f"{cmd:#x}") + ("_PRIVATE" if op & FUTEX_PRIVATE_FLAG else "")
    if op & FUTEX_CLOCK_REALTIME:
        text += "|FUTEX_CLOCK_REALTIME"
    return text

"""prctl: each option's arguments as strace's prctl.c prints them.

An option maps to a printer of the arguments after it (``arg2`` is
``c.arg(1)``); options not listed print every argument in hex, as strace's
``print_prctl_args`` does.  Options that read what the kernel wrote print at exit.
"""

from __future__ import annotations

from ..xlat import LINUX as L
from .call import Arg, Call
from .fmt import STYLE, c_int, c_long, flags, hexval, named, printstr, ptr, xval
from .process import signal_or_zero

PR = L.PRCTL_OPTIONS
TASK_COMM_LEN = 16
NSIG = 128      # PR_SET_PDEATHSIG: a larger number is no signal, printed as a number


def rest(first: int):
    """print_prctl_args(tcp, first): the arguments from index ``first`` on, in hex."""
    return lambda c: [hexval(c.arg(k)) for k in range(first, 5)]


def _none(c: Call) -> list[str]:
    return []


def _unsigned(c: Call) -> list[str]:
    return [str(c.arg(1))]


def _one(render):
    """arg2 alone, spelled by ``render`` from its value."""
    return lambda c: [render(c.arg(1))]


def _set_name(c: Call) -> list[str]:
    data = c.struct(1, "string", exit=False)
    # a task's name is cut at TASK_COMM_LEN - 1 bytes, ``...`` marking a longer one
    return [printstr(data, c.opts, TASK_COMM_LEN - 1) if data is not None else ptr(c.arg(1))]


def _get_name(c: Call) -> list[str]:
    data = c.struct(1, "string")
    return [printstr(data, c.opts) if c.ok and data is not None else ptr(c.arg(1))]


def _written_back(c: Call) -> list[str]:
    """An int the kernel writes to arg2: the recording holds no copy, so its address."""
    return [ptr(c.arg(1))]


def _pdeathsig(value: int) -> str:
    return str(value) if value > NSIG else signal_or_zero(value)


def _ptracer(value: int) -> str:
    pid = c_int(value)
    return named("PR_SET_PTRACER_ANY", pid, str(pid)) if pid == -1 else str(pid)


AMBIENT_CAP_OPS = {L.PR_CAP_AMBIENT_OPS.value(n) for n in (
    "PR_CAP_AMBIENT_RAISE", "PR_CAP_AMBIENT_LOWER", "PR_CAP_AMBIENT_IS_SET")}
PR_MCE_KILL_SET = L.PR_MCE_KILL_OPS.value("PR_MCE_KILL_SET")


def _cap_ambient(c: Call) -> list[str]:
    op = xval(L.PR_CAP_AMBIENT_OPS, c.arg(1), "PR_CAP_AMBIENT_???")
    if c.arg(1) in AMBIENT_CAP_OPS:
        return [op, xval(L.CAPABILITIES, c.arg(2), "CAP_???")] + rest(3)(c)
    return [op] + rest(2)(c)


def _mce_kill(c: Call) -> list[str]:
    policy = (xval(L.PR_MCE_KILL_POLICIES, c.arg(2), "PR_MCE_KILL_???")
              if c.arg(1) == PR_MCE_KILL_SET else hexval(c.arg(2)))
    return [xval(L.PR_MCE_KILL_OPS, c.arg(1), "PR_MCE_KILL_???"), policy] + rest(3)(c)


def _vector_length(flag_table, mask: int):
    """sprint_sve_val / sprint_sme_val: the flags above ``mask``, then the length."""
    def render(value: int) -> str:
        if STYLE.get() == "raw":
            return hexval(value)
        text = _flags_and_length(flag_table, mask, value)
        return f"{hexval(value)} /* {text} */" if value & ~mask and STYLE.get() == "verbose" \
            else text
    return render


def _flags_and_length(flag_table, mask: int, value: int) -> str:
    rest = value & ~mask
    if not rest:
        return hexval(value & mask)
    names, left = flag_table.flags(rest)
    return "|".join(names + ([hexval(left)] if left else []) + [hexval(value & mask)])


SVE_LENGTH = _vector_length(L.PR_SVE_VL_FLAGS, L.PR_VL_LEN_MASKS.value("PR_SVE_VL_LEN_MASK"))
SME_LENGTH = _vector_length(L.PR_SME_VL_FLAGS, L.PR_VL_LEN_MASKS.value("PR_SME_VL_LEN_MASK"))
PR_SCHED_CORE_GET = L.PR_SCHED_CORE_CMDS.value("PR_SCHED_CORE_GET")
PR_SET_VMA_ANON_NAME = L.PR_SET_VMA_OPS.value("PR_SET_VMA_ANON_NAME")


def _pac_enabled_keys(c: Call) -> list[str]:
    return [flags(L.PR_PAC_ENABLED_KEYS, c.arg(k), unknown="PR_PAC_???") for k in (1, 2)] \
        + rest(3)(c)


def _pidtype(value: int) -> str:
    """PR_SCHED_CORE's pid type: always with its number, unless -X raw."""
    if STYLE.get() == "raw":
        return hexval(value)
    return f"{hexval(value)} /* {L.PIDTYPES.name(value) or 'PIDTYPE_???'} */"


def _sched_core(c: Call) -> list[str]:
    cmd = c.arg(1) & 0xFFFFFFFF
    # PR_SCHED_CORE_GET's cookie is written at arg5: the recording holds no copy
    return [xval(L.PR_SCHED_CORE_CMDS, cmd, "PR_SCHED_CORE_???"), str(c_int(c.arg(2))),
            _pidtype(c.arg(3) & 0xFFFFFFFF), ptr(c.arg(4))]


def _set_vma(c: Call) -> list[str]:
    op = xval(L.PR_SET_VMA_OPS, c.arg(1), "PR_SET_VMA_???")
    if c.arg(1) != PR_SET_VMA_ANON_NAME:
        return [op] + rest(2)(c)
    name = c.struct(4, "string", exit=False)
    return [op, ptr(c.arg(2)), str(c.arg(3)),
            printstr(name, c.opts) if name is not None else ptr(c.arg(4))]


def _options(names: str, printer) -> dict:
    return {PR.value(name): printer for name in names.split()}


ARGUMENTS = {
    **_options("PR_GET_KEEPCAPS PR_GET_SECCOMP PR_GET_TIMERSLACK PR_GET_TIMING "
               "PR_TASK_PERF_EVENTS_DISABLE PR_TASK_PERF_EVENTS_ENABLE PR_GET_DUMPABLE "
               "PR_GET_SECUREBITS PR_GET_FP_MODE PR_SVE_GET_VL PR_SME_GET_VL", _none),
    **_options("PR_GET_CHILD_SUBREAPER PR_GET_ENDIAN PR_GET_FPEMU PR_GET_FPEXC "
               "PR_GET_PDEATHSIG PR_GET_TID_ADDRESS PR_GET_TSC PR_GET_UNALIGN", _written_back),
    **_options("PR_SET_CHILD_SUBREAPER PR_SET_ENDIAN PR_SET_FPEMU PR_SET_FPEXC "
               "PR_SET_KEEPCAPS PR_SET_TIMING", _unsigned),
    **_options("PR_SET_NO_NEW_PRIVS PR_SET_THP_DISABLE PR_SET_IO_FLUSHER",
               lambda c: _unsigned(c) + rest(2)(c)),
    **_options("PR_CAPBSET_READ PR_CAPBSET_DROP",
               _one(lambda v: xval(L.CAPABILITIES, v, "CAP_???"))),
    PR.value("PR_SET_NAME"): _set_name,
    PR.value("PR_GET_NAME"): _get_name,
    PR.value("PR_SET_DUMPABLE"): _one(lambda v: xval(L.SUID_DUMP_MODES, v, "SUID_DUMP_???")),
    PR.value("PR_CAP_AMBIENT"): _cap_ambient,
    PR.value("PR_MCE_KILL"): _mce_kill,
    PR.value("PR_SET_PDEATHSIG"): _one(_pdeathsig),
    PR.value("PR_SET_PTRACER"): _one(_ptracer),
    PR.value("PR_SET_SECUREBITS"): _one(lambda v: flags(L.SECBITS, v, unknown="SECBIT_???")),
    PR.value("PR_SET_TIMERSLACK"): _one(lambda v: str(c_long(v))),
    PR.value("PR_SET_TSC"): _one(lambda v: xval(L.PR_TSC_MODES, v & 0xFFFFFFFF, "PR_TSC_???")),
    PR.value("PR_SET_UNALIGN"): _one(
        lambda v: flags(L.PR_UNALIGN_FLAGS, v & 0xFFFFFFFF, unknown="PR_UNALIGN_???")),
    PR.value("PR_SVE_SET_VL"): _one(SVE_LENGTH),
    PR.value("PR_SME_SET_VL"): _one(SME_LENGTH),
    PR.value("PR_PAC_RESET_KEYS"): lambda c: [
        flags(L.PR_PAC_KEYS, c.arg(1), unknown="PR_PAC_???")] + rest(2)(c),
    PR.value("PR_PAC_SET_ENABLED_KEYS"): _pac_enabled_keys,
    PR.value("PR_SET_SYSCALL_USER_DISPATCH"): lambda c: [
        xval(L.PR_SUD_CMDS, c.arg(1), "PR_SYS_DISPATCH_???"), hexval(c.arg(2)),
        hexval(c.arg(3)), ptr(c.arg(4))],
    PR.value("PR_SCHED_CORE"): _sched_core,
    PR.value("PR_SET_VMA"): _set_vma,
    PR.value("PR_SET_FP_MODE"): _one(
        lambda v: flags(L.PR_FP_MODES, v & 0xFFFFFFFF, unknown="PR_FP_MODE_???")),
}
AT_EXIT = {option for option, printer in ARGUMENTS.items()
           if printer in (_written_back, _get_name)}


def _prctl(c: Call, i: int) -> str:
    option = c.arg(0) & 0xFFFFFFFF
    printer = ARGUMENTS.get(option, rest(1))
    return ", ".join([xval(PR, option, "PR_???")] + printer(c))


SYSCALLS = {"prctl": (Arg(_prctl, exit=lambda c: c.arg(0) & 0xFFFFFFFF in AT_EXIT),)}


def _named_result(table):
    """RVAL_STR: the value, then its name in parentheses when it has one."""
    def decorate(value: int, text: str) -> str:
        name = table.name(value)
        return f"{text} ({name})" if name else text
    return decorate


def _flags_result(table):
    """RVAL_HEX | RVAL_STR: a non-zero value in hex, then its flags."""
    def decorate(value: int, text: str) -> str:
        if not value:
            return text
        names, left = table.flags(value)
        return f"{hexval(value)} ({'|'.join(names + ([hexval(left)] if left else []))})"
    return decorate


def _length_result(flag_table, mask: int):
    """RVAL_HEX | RVAL_STR: a length with flags in hex, the flags spelled after it."""
    def decorate(value: int, text: str) -> str:
        if not value:
            return text
        if STYLE.get() == "raw" or not value & ~mask:
            return hexval(value)
        return f"{hexval(value)} ({_flags_and_length(flag_table, mask, value)})"
    return decorate


SVE_RESULT = _length_result(L.PR_SVE_VL_FLAGS, L.PR_VL_LEN_MASKS.value("PR_SVE_VL_LEN_MASK"))
SME_RESULT = _length_result(L.PR_SME_VL_FLAGS, L.PR_VL_LEN_MASKS.value("PR_SME_VL_LEN_MASK"))

RESULT_WORDS = {
    **_options("PR_SVE_SET_VL PR_SVE_GET_VL", SVE_RESULT),
    **_options("PR_SME_SET_VL PR_SME_GET_VL", SME_RESULT),
    PR.value("PR_GET_DUMPABLE"): _named_result(L.SUID_DUMP_MODES),
    PR.value("PR_MCE_KILL_GET"): _named_result(L.PR_MCE_KILL_POLICIES),
    PR.value("PR_GET_SECUREBITS"): _flags_result(L.SECBITS),
    PR.value("PR_GET_FP_MODE"): _flags_result(L.PR_FP_MODES),
}


def prctl_result(c: Call, text: str) -> str:
    decorate = RESULT_WORDS.get(c.arg(0) & 0xFFFFFFFF)
    return decorate(c.retval, text) if decorate else text


RESULTS = {"prctl": prctl_result}

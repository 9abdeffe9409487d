"""prctl: each option's arguments as strace's prctl.c prints them; with it the
family's other process-control calls: arch_prctl, personality, reboot, ioperm,
modify_ldt, set_thread_area and get_thread_area (strace's prctl.c,
personality.c, reboot.c, ioperm.c, ldt.c).

An option maps to a printer of the arguments after it (``arg2`` is
``c.arg(1)``); options not listed print every argument in hex, as strace's
``print_prctl_args`` does.  Options that read what the kernel wrote print at exit:
the int (or word) the recording plan's selector records through arg2.
"""

from __future__ import annotations

from ... import abi as _abi
from .. import structs as S
from ..xlat import LINUX as L, Xlat
from .call import (HEX, INT, PT_PGID, PT_SID, PT_TGID, PT_TID, ULONG, Arg, Call, pid_text,
                   string_read)
from .fmt import (STYLE, c_int, c_long, constant_style, flags, hexval, named, printstr, ptr,
                  quote, signame, xval)
from .process import signal_or_zero
from .ptrace import seccomp_fprog

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


def bounded_string(c: Call, i: int, limit: int) -> str:
    """printstr_ex(arg, limit, QUOTE_0_TERMINATED): a string the kernel copies at most
    ``limit`` bytes of: that many (or -s), ``...`` when no NUL came within them."""
    size = min(c.opts.strsize, limit)
    data = string_read(c, i, size)
    if data is None:
        return ptr(c.arg(i))
    return quote(data[:size], c.opts.xflag) + ("..." if len(data) >= size else "")


def _set_name(c: Call) -> list[str]:
    return [bounded_string(c, 1, TASK_COMM_LEN - 1)]


def _get_name(c: Call) -> list[str]:
    data = c.struct(1, "string")
    return [printstr(data, c.opts) if c.ok and data is not None else ptr(c.arg(1))]


def _stored(name: str, render):
    """``[value]``: the int (or pointer) the kernel stored through arg2, spelled by
    ``render``; its address when it was not stored or not recorded."""
    def printer(c: Call) -> list[str]:
        data = c.struct(1, name)
        f = S.fixed(name, data) if data is not None else None
        if f is None or not c.ok or not c.verbose:
            return [ptr(c.arg(1))]
        return [f"[{render(f['value'])}]"]
    return printer


def _pdeathsig(value: int) -> str:
    return str(value) if value > NSIG else signal_or_zero(value)


def _ptracer(c: Call) -> list[str]:
    pid = c_int(c.arg(1))
    return [named("PR_SET_PTRACER_ANY", pid, str(pid)) if pid == -1 else pid_text(c, pid)]


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


# PR_SCHED_CORE's pid type -> what printpid decorates the pid as (none for another)
PID_KINDS = {L.PIDTYPES.value("PIDTYPE_PID"): PT_TID, L.PIDTYPES.value("PIDTYPE_TGID"): PT_TGID,
             L.PIDTYPES.value("PIDTYPE_PGID"): PT_PGID, L.PIDTYPES.value("PIDTYPE_SID"): PT_SID}


def _sched_core(c: Call) -> list[str]:
    cmd = c.arg(1) & 0xFFFFFFFF
    pid, kind = c_int(c.arg(2)), PID_KINDS.get(c.arg(3) & 0xFFFFFFFF)
    # PR_SCHED_CORE_GET's cookie is written at arg5: the recording holds no copy
    return [xval(L.PR_SCHED_CORE_CMDS, cmd, "PR_SCHED_CORE_???"),
            pid_text(c, pid, kind) if kind else str(pid),
            _pidtype(c.arg(3) & 0xFFFFFFFF), ptr(c.arg(4))]


def _set_vma(c: Call) -> list[str]:
    op = xval(L.PR_SET_VMA_OPS, c.arg(1), "PR_SET_VMA_???")
    if c.arg(1) != PR_SET_VMA_ANON_NAME:
        return [op] + rest(2)(c)
    name = c.struct(4, "string", exit=False)
    return [op, ptr(c.arg(2)), str(c.arg(3)),
            printstr(name, c.opts) if name is not None else ptr(c.arg(4))]


SECCOMP_MODE_STRICT = L.SECCOMP_MODES.value("SECCOMP_MODE_STRICT")
SECCOMP_MODE_FILTER = L.SECCOMP_MODES.value("SECCOMP_MODE_FILTER")


def _set_seccomp(c: Call) -> list[str]:
    mode = xval(L.SECCOMP_MODES, c.arg(1), "SECCOMP_MODE_???")
    if c.arg(1) == SECCOMP_MODE_STRICT:
        return [mode]
    if c.arg(1) == SECCOMP_MODE_FILTER:
        return [mode, seccomp_fprog(c, 2)]
    return [mode] + rest(2)(c)


PR_TAGGED_ADDR_ENABLE = 1
PR_MTE_TCF_MASK = L.PR_MTE_TCF.value("PR_MTE_TCF_MASK")
PR_MTE_TAG_SHIFT = 3
PR_MTE_TAG_MASK = 0xFFFF << PR_MTE_TAG_SHIFT


def _tagged_addr_words(value: int) -> str:
    """sprint_tagged_addr_val's words: the enable bit, the MTE fault mode, the tag mask."""
    tcf = value & PR_MTE_TCF_MASK
    tag = value & PR_MTE_TAG_MASK
    left = value & ~(PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_MASK | PR_MTE_TAG_MASK)
    words = ["PR_TAGGED_ADDR_ENABLE" if value & PR_TAGGED_ADDR_ENABLE
             else "!PR_TAGGED_ADDR_ENABLE", L.PR_MTE_TCF.name(tcf) or hexval(tcf)]
    if tag:
        words.append(f"{tag >> PR_MTE_TAG_SHIFT:#x}<<PR_MTE_TAG_SHIFT")
    if left:
        words.append(f"{left:#x}")
    return "|".join(words)


def _tagged_addr(value: int) -> str:
    style = STYLE.get()
    if style == "raw":
        return hexval(value)
    words = _tagged_addr_words(value)
    return f"{hexval(value)} /* {words} */" if style == "verbose" else words


def _options(names: str, printer) -> dict:
    return {PR.value(name): printer for name in names.split()}


ARGUMENTS = {
    **_options("PR_GET_KEEPCAPS PR_GET_SECCOMP PR_GET_TIMERSLACK PR_GET_TIMING "
               "PR_TASK_PERF_EVENTS_DISABLE PR_TASK_PERF_EVENTS_ENABLE PR_GET_DUMPABLE "
               "PR_GET_SECUREBITS PR_GET_FP_MODE PR_SVE_GET_VL PR_SME_GET_VL", _none),
    **_options("PR_GET_CHILD_SUBREAPER PR_GET_ENDIAN PR_GET_FPEMU PR_GET_FPEXC",
               _stored("int", lambda v: str(v & 0xFFFFFFFF))),
    PR.value("PR_GET_PDEATHSIG"): _stored("int", lambda v: signame(v) if v else "0"),
    PR.value("PR_GET_TID_ADDRESS"): _stored("long", lambda v: ptr(v & (1 << 64) - 1)),
    PR.value("PR_GET_TSC"): _stored(
        "int", lambda v: xval(L.PR_TSC_MODES, v & 0xFFFFFFFF, "PR_TSC_???")),
    PR.value("PR_GET_UNALIGN"): _stored(
        "int", lambda v: flags(L.PR_UNALIGN_FLAGS, v & 0xFFFFFFFF, unknown="PR_UNALIGN_???")),
    **_options("PR_SET_CHILD_SUBREAPER PR_SET_ENDIAN PR_SET_FPEMU PR_SET_FPEXC "
               "PR_SET_KEEPCAPS PR_SET_TIMING", _unsigned),
    **_options("PR_SET_NO_NEW_PRIVS PR_SET_THP_DISABLE PR_SET_IO_FLUSHER",
               lambda c: _unsigned(c) + rest(2)(c)),
    **_options("PR_CAPBSET_READ PR_CAPBSET_DROP",
               _one(lambda v: xval(L.CAPABILITIES, v, "CAP_???"))),
    PR.value("PR_SET_SECCOMP"): _set_seccomp,
    PR.value("PR_SET_TAGGED_ADDR_CTRL"): lambda c: [_tagged_addr(c.arg(1))] + rest(2)(c),
    PR.value("PR_SET_NAME"): _set_name,
    PR.value("PR_GET_NAME"): _get_name,
    PR.value("PR_SET_DUMPABLE"): _one(lambda v: xval(L.SUID_DUMP_MODES, v, "SUID_DUMP_???")),
    PR.value("PR_CAP_AMBIENT"): _cap_ambient,
    PR.value("PR_MCE_KILL"): _mce_kill,
    PR.value("PR_SET_PDEATHSIG"): _one(_pdeathsig),
    PR.value("PR_SET_PTRACER"): _ptracer,
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
AT_EXIT = {PR.value(name) for name in (
    "PR_GET_NAME PR_GET_CHILD_SUBREAPER PR_GET_ENDIAN PR_GET_FPEMU PR_GET_FPEXC "
    "PR_GET_PDEATHSIG PR_GET_TID_ADDRESS PR_GET_TSC PR_GET_UNALIGN").split()}


# --- arch_prctl -------------------------------------------------------------

# strace's archvals: the options it names (not the newer ARCH_SHSTK_*)
ARCHVALS = Xlat([(v, n) for v, n in L.ARCH_PRCTL_CODES.entries if not n.startswith("ARCH_SHSTK")])
ARCH = {name: value for value, name in ARCHVALS.entries}
ARCH_GET_BASE = {ARCH["ARCH_GET_FS"], ARCH["ARCH_GET_GS"]}
ARCH_GET_XCOMP = {ARCH[n] for n in ("ARCH_GET_XCOMP_SUPP", "ARCH_GET_XCOMP_PERM",
                                    "ARCH_GET_XCOMP_GUEST_PERM")}
ARCH_REQ_XCOMP = {ARCH["ARCH_REQ_XCOMP_PERM"], ARCH["ARCH_REQ_XCOMP_GUEST_PERM"]}


def _verbose_unless_raw():
    """strace's XLAT_STYLE_VERBOSE unless -X raw: XFEATURE_* are no public names."""
    return constant_style("raw" if STYLE.get() == "raw" else "verbose")


def _xfeatures(value: int) -> str:
    with _verbose_unless_raw():
        return flags(L.X86_XFEATURES, value, unknown="XFEATURE_MASK_???")


def _arch_prctl_entry(c: Call, i: int) -> str:
    option = c.arg(0) & 0xFFFFFFFF
    text = xval(ARCHVALS, option, "ARCH_???")
    if option == ARCH["ARCH_GET_CPUID"] or option in ARCH_GET_BASE | ARCH_GET_XCOMP:
        return text
    if option in ARCH_REQ_XCOMP:
        with _verbose_unless_raw():
            return f"{text}, {xval(L.X86_XFEATURE_BITS, c.arg(1), 'XFEATURE_???')}"
    return f"{text}, {hexval(c.arg(1))}"


def _arch_prctl_exit(c: Call, i: int) -> str | None:
    """What the kernel stored through arg2: a base address, an xfeature mask."""
    option = c.arg(0) & 0xFFFFFFFF
    if option in ARCH_GET_BASE:
        return _stored("long", lambda v: ptr(v & (1 << 64) - 1))(c)[0]
    if option in ARCH_GET_XCOMP:
        return _stored("long", lambda v: _xfeatures(v & (1 << 64) - 1))(c)[0]
    return None


def arch_prctl_result(c: Call, text: str) -> str:
    """ARCH_REQ_XCOMP_PERM's positive result: in hex, the features named."""
    if c.arg(0) & 0xFFFFFFFF not in ARCH_REQ_XCOMP or c.retval <= 0:
        return text
    value = c.retval
    names, left = L.X86_XFEATURES.flags(value)
    words = "|".join(names + ([hexval(left)] if left else []))
    return hexval(value) if STYLE.get() == "raw" or not names else f"{hexval(value)} ({words})"


# --- personality ------------------------------------------------------------

PER_MASK = L.PERSONALITY_TYPES.value("PER_MASK")


def _persona(value: int) -> str:
    """The execution domain (the low byte), then the flags above it."""
    text = xval(L.PERSONALITY_TYPES, value & PER_MASK, "PER_???")
    if value & ~PER_MASK:
        text += "|" + flags(L.PERSONALITY_FLAGS, value & ~PER_MASK)
    return text


def _personality(c: Call, i: int) -> str:
    value = c.arg(0) & 0xFFFFFFFF
    return hexval(value) if value == 0xFFFFFFFF else _persona(value)


def personality_result(c: Call, text: str) -> str:
    """RVAL_HEX | RVAL_STR: the previous persona in hex, then spelled."""
    value = c.retval & 0xFFFFFFFF
    return f"{hexval(value)} ({_persona(value)})"


# --- reboot, modify_ldt, set_thread_area, get_thread_area ---------------------

LINUX_REBOOT_CMD_RESTART2 = L.REBOOT_CMDS.value("LINUX_REBOOT_CMD_RESTART2")
REBOOT_ARG_MAX = 255     # the kernel's 256-byte buffer, its last byte NUL


def _reboot_arg(c: Call, i: int) -> str | None:
    if c.arg(2) & 0xFFFFFFFF != LINUX_REBOOT_CMD_RESTART2:
        return None
    return bounded_string(c, i, REBOOT_ARG_MAX)


def _reboot_xval(table, unknown: str):
    return lambda c, i: xval(table, c.arg(i) & 0xFFFFFFFF, unknown)


USER_DESC_SIZE = 16


def _hex08(value: int) -> str:
    """C's %#08x: 0x87868584, 0x001234, and 00000000 for zero."""
    return f"{value:#08x}" if value else "00000000"


def _desc_id(value: int) -> str:
    return "-1" if value == 0xFFFFFFFF else str(value)


def _desc_rest(f: dict) -> str:
    """struct user_desc after entry_number: the addresses, then each bit field."""
    bits = f["flags"]
    fields = [("seg_32bit", bits & 1), ("contents", bits >> 1 & 3),
              ("read_exec_only", bits >> 3 & 1), ("limit_in_pages", bits >> 4 & 1),
              ("seg_not_present", bits >> 5 & 1), ("useable", bits >> 6 & 1), ("lm", bits >> 7 & 1)]
    return (f", base_addr={_hex08(f['base_addr'])}, limit={_hex08(f['limit'])}, "
            + ", ".join(f"{k}={v}" for k, v in fields) + "}")


def _user_desc(c: Call, i: int) -> str:
    """print_user_desc(USER_DESC_BOTH): the whole struct read in."""
    data = c.struct(i, "user_desc", exit=False)
    f = S.fixed("user_desc", data) if data is not None and c.verbose else None
    if f is None:
        return ptr(c.arg(i))
    return f"{{entry_number={_desc_id(f['entry_number'])}" + _desc_rest(f)


def _get_thread_area_entry(c: Call, i: int) -> str:
    """USER_DESC_ENTERING: the entry_number asked for (the one word the kernel reads)."""
    data = c.struct(0, "int", exit=False)
    f = S.fixed("int", data) if data is not None and c.verbose else None
    return ptr(c.arg(0)) if f is None else f"{{entry_number={_desc_id(f['value'] & 0xFFFFFFFF)}"


def _get_thread_area_exit(c: Call, i: int) -> str | None:
    """USER_DESC_EXITING: what the kernel filled in is not recorded: ``, ...}``."""
    data = c.struct(0, "int", exit=False)
    if not c.arg(0) or not c.verbose or data is None or S.fixed("int", data) is None:
        return None
    return ", ...}"


def set_thread_area_result(c: Call, text: str) -> str:
    """The entry_number the kernel chose, read back at exit."""
    data = c.struct(0, "user_desc")
    f = S.fixed("user_desc", data) if data is not None and c.verbose else None
    return text if f is None else f"{text} (entry_number={f['entry_number']})"


def _modify_ldt_ptr(c: Call, i: int) -> str:
    return _user_desc(c, i) if c.arg(2) == USER_DESC_SIZE else ptr(c.arg(i))


def modify_ldt_result(c: Call, text: str) -> str:
    """The kernel clips modify_ldt's result to an int: -errno comes back as 0xfffff...."""
    value = c.retval & (1 << 64) - 1
    if value < 0xFFFFF000:
        return text
    n = -value & 0xFFFFFFFF
    return f"{text} {_abi.LINUX_X86_64.errno_name(n) or n} ({_abi.LINUX_X86_64.errno_text(n)})"


def _prctl(c: Call, i: int) -> str:
    option = c.arg(0) & 0xFFFFFFFF
    printer = ARGUMENTS.get(option, rest(1))
    return ", ".join([xval(PR, option, "PR_???")] + printer(c))


SYSCALLS = {
    "prctl": (Arg(_prctl, exit=lambda c: c.arg(0) & 0xFFFFFFFF in AT_EXIT),),
    # arch_prctl is this family's (process.py's older entry is overridden here)
    "arch_prctl": (Arg(_arch_prctl_entry), Arg(_arch_prctl_exit, exit=True)),
    "personality": (Arg(_personality),),      # also overrides process.py's
    "reboot": (Arg(_reboot_xval(L.REBOOT_MAGIC1, "LINUX_REBOOT_MAGIC_???")),
               Arg(_reboot_xval(L.REBOOT_MAGIC2, "LINUX_REBOOT_MAGIC_???")),
               Arg(_reboot_xval(L.REBOOT_CMDS, "LINUX_REBOOT_CMD_???")), Arg(_reboot_arg)),
    "modify_ldt": (INT, Arg(_modify_ldt_ptr), ULONG),
    "ioperm": (HEX, HEX, INT),
    "set_thread_area": (Arg(_user_desc),),
    "get_thread_area": (Arg(_get_thread_area_entry),
                        Arg(_get_thread_area_exit, exit=True, lead=True)),
}


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
    PR.value("PR_GET_TAGGED_ADDR_CTRL"): lambda value, text: text if STYLE.get() == "raw" else
    f"{hexval(value)} ({_tagged_addr_words(value)})",
    PR.value("PR_GET_DUMPABLE"): _named_result(L.SUID_DUMP_MODES),
    PR.value("PR_MCE_KILL_GET"): _named_result(L.PR_MCE_KILL_POLICIES),
    PR.value("PR_GET_SECUREBITS"): _flags_result(L.SECBITS),
    PR.value("PR_GET_FP_MODE"): _flags_result(L.PR_FP_MODES),
}


def prctl_result(c: Call, text: str) -> str:
    decorate = RESULT_WORDS.get(c.arg(0) & 0xFFFFFFFF)
    return decorate(c.retval, text) if decorate else text


RESULTS = {"prctl": prctl_result, "arch_prctl": arch_prctl_result,
           "personality": personality_result, "modify_ldt": modify_ldt_result,
           "set_thread_area": set_thread_area_result}

"""Structs as strace 6.1 prints them: abbreviated, as without -v, but for
those whose whole form -v (-e abbrev=) asks for and is written here."""

from __future__ import annotations

import errno as _errno
import struct as _struct
import time

from ... import abi as _abi
from ...abi import linux_structs as LS
from .. import structs as S
from ..names import sigcode_name
from ..xlat import LINUX as L
from .call import octal
from .fmt import (STYLE, StraceOptions, array, c_int, flags, hexval, named, printsignal, printstr,
                  ptr, quote, sigset, signame, xval)

RLIM_INFINITY = (1 << 64) - 1
NUL = b"\0"


def struct_printer(name: str, short: str = "{...}"):
    """A printer of fixed-layout struct ``name`` from its fields (a dict).

    The printer takes the STRU bytes (and the call, unused); bytes too short
    for the struct print as ``short``.
    """
    def wrap(fields_text):
        def render(data: bytes, call=None) -> str:
            f = S.fixed(name, data)
            return fields_text(f) if f is not None else short
        render.__doc__ = fields_text.__doc__
        return render
    return wrap


def mode_text(mode: int) -> str:
    """S_IFREG|0644, S_IFDIR|S_ISVTX|0777 (one constant to -X: 0100644)."""
    ftype = L.FILE_TYPES.name(mode & 0o170000) if mode & 0o170000 else ""
    if ftype is None:       # print_symbolic_mode_t: an unknown type, the whole mode in octal
        return octal(mode)
    parts = [ftype] if ftype else []
    parts += [n for v, n in L.MODE_BITS.entries if mode & v]
    parts.append(octal(mode & 0o777))
    return named("|".join(parts), mode, octal(mode))


def dev_numbers(dev: int) -> tuple[int, int]:
    """A dev_t's major and minor, as glibc's major() and minor() split it (each 32 bits)."""
    return (dev >> 8 & 0xFFF) | (dev >> 32 & 0xFFFFF000), (dev & 0xFF) | (dev >> 12 & 0xFFFFFF00)


def makedev(dev: int) -> str:
    major, minor = dev_numbers(dev)
    return named(f"makedev({hexval(major)}, {hexval(minor)})", dev)


def is_dev(mode: int) -> bool:
    return mode & 0o170000 in (0o020000, 0o060000)


def time_comment(sec: int, nsec: int = 0) -> str:
    """sprinttime_nsec: `` /* 2023-11-14T22:13:20.123456789+0000 */``, none for 0."""
    if (sec, nsec) == (0, 0) or not 0 <= nsec <= 999_999_999:
        return ""
    try:
        when = time.localtime(sec)
    except (OverflowError, OSError, ValueError):
        return ""
    fraction = f".{nsec:09d}" if nsec else ""
    return f" /* {time.strftime('%Y-%m-%dT%H:%M:%S', when)}{fraction}{time.strftime('%z', when)} */"


def stat_text(data: bytes, call=None) -> str:
    """print_struct_stat: the mode and size, all fields when not abbreviated (-v)."""
    st = S.linux_stat(data)
    if st is None:
        return "{...}"
    size = f"st_rdev={makedev(st.rdev)}" if is_dev(st.mode) else f"st_size={st.size}"
    if call is None or call.abbrev:
        return f"{{st_mode={mode_text(st.mode)}, {size}, ...}}"
    times = [f"st_{name}time={ts.sec}{time_comment(ts.sec, ts.nsec)}, st_{name}time_nsec={ts.nsec}"
             for name, ts in (("a", st.atime), ("m", st.mtime), ("c", st.ctime))]
    return (f"{{st_dev={makedev(st.dev)}, st_ino={st.ino}, st_mode={mode_text(st.mode)}, "
            f"st_nlink={st.nlink}, st_uid={st.uid}, st_gid={st.gid}, st_blksize={st.blksize}, "
            f"st_blocks={st.blocks}, {size}, {', '.join(times)}}}")


def statx_text(data: bytes, call=None) -> str:
    sx = S.linux_statx(data)
    if sx is None:
        return "{...}"
    attrs = flags(L.STATX_ATTRS, sx.attributes)
    size = (f"stx_rdev_major={sx.rdev_major}, stx_rdev_minor={sx.rdev_minor}"
            if is_dev(sx.mode) else f"stx_size={sx.size}")
    return (f"{{stx_mask={flags(L.STATX_MASK, sx.mask)}, stx_attributes={attrs}, "
            f"stx_mode={mode_text(sx.mode)}, {size}, ...}}")


ST_VALID = L.STATFS_FLAGS.value("ST_VALID")


@struct_printer("statfs")
def statfs_text(f: dict) -> str:
    """``{f_type=EXT2_SUPER_MAGIC, f_bsize=4096, ..., f_flags=ST_VALID|ST_RELATIME}``."""
    ftype = L.FS_MAGICS.name(f["f_type"]) or hexval(f["f_type"] & (1 << 64) - 1)
    counts = ", ".join(f"{k}={f[k]}" for k in ("f_bsize", "f_blocks", "f_bfree", "f_bavail",
                                                  "f_files", "f_ffree"))
    fsid = ", ".join(hexval(f[k] & 0xFFFFFFFF) for k in ("fsid0", "fsid1"))
    text = (f"{{f_type={ftype}, {counts}, f_fsid={{val=[{fsid}]}}, "
            f"f_namelen={f['f_namelen']}, f_frsize={f['f_frsize']}")
    if f["f_flags"] & ST_VALID:
        text += f", f_flags={flags(L.STATFS_FLAGS, f['f_flags'])}"
    return text + "}"


@struct_printer("timespec")
def timespec_text(f: dict) -> str:
    # strace prints the fraction of a second unsigned (%llu), here and in timeval
    return f"{{tv_sec={f['tv_sec']}, tv_nsec={f['tv_nsec'] & (1 << 64) - 1}}}"


@struct_printer("timeval")
def timeval_text(f: dict) -> str:
    return _timeval(f["tv_sec"], f["tv_usec"])


def _timeval(sec: int, usec: int) -> str:
    return f"{{tv_sec={sec}, tv_usec={usec & (1 << 64) - 1}}}"


def _rlim(value: int, infinity: str) -> str:
    if value == RLIM_INFINITY:
        return infinity
    if value and value % 1024 == 0:
        return f"{value // 1024}*1024"
    return str(value)


@struct_printer("itimerval")
def itimerval_text(f: dict) -> str:
    return (f"{{it_interval={_timeval(f['interval_sec'], f['interval_usec'])}, "
            f"it_value={_timeval(f['value_sec'], f['value_usec'])}}}")


def fields_text(name: str, value=str):
    """A struct printed as all its fields: ``{ws_row=24, ...}``."""
    @struct_printer(name)
    def render(f: dict) -> str:
        return "{" + ", ".join(f"{k}={value(v)}" for k, v in f.items()) + "}"
    return render


USER_HZ = 100      # the unit of clock_t in times()


def clock_t(ticks: int) -> str:
    """``2 /* 0.02 s */``: ticks, and seconds when not zero (-X raw: the ticks)."""
    if not ticks or STYLE.get() == "raw":
        return str(ticks)
    return f"{ticks} /* {ticks // USER_HZ}.{ticks % USER_HZ:02d} s */"


tms_text = fields_text("tms", clock_t)


winsize_text = fields_text("winsize")


_TERM_MASK = {n: v for v, n in L.TERM_FIELD_MASKS.entries}
# c_oflag's multi-bit fields, printed before its flags: (mask, values, unknown)
_OFLAG_FIELDS = [(_TERM_MASK["NLDLY"], L.TERM_NLDLY, "NL?"),
                 (_TERM_MASK["CRDLY"], L.TERM_CRDLY, "CR?"),
                 (_TERM_MASK["TABDLY"], L.TERM_TABDLY, "TAB?"),
                 (_TERM_MASK["BSDLY"], L.TERM_BSDLY, "BS?"),
                 (_TERM_MASK["VTDLY"], L.TERM_VTDLY, "VT?"),
                 (_TERM_MASK["FFDLY"], L.TERM_FFDLY, "FF?")]
IBSHIFT = 16


def _oflag(value: int) -> str:
    parts = []
    for mask, table, unknown in _OFLAG_FIELDS:
        parts.append(xval(table, value & mask, unknown))
        value &= ~mask
    return "|".join(parts + [flags(L.TERM_OFLAGS, value)])


def _cflag(value: int) -> str:
    """The baud rate, the input baud rate when set apart, the char size, the flags."""
    cbaud, cibaud, csize = _TERM_MASK["CBAUD"], _TERM_MASK["CIBAUD"], _TERM_MASK["CSIZE"]
    parts = [xval(L.TERM_BAUDS, value & cbaud, "B???")]
    if value & cibaud:
        parts.append(f"{xval(L.TERM_BAUDS, (value & cibaud) >> IBSHIFT, 'B???')}"
                     f"<<{named('IBSHIFT', IBSHIFT)}")
    parts.append(xval(L.TERM_CSIZE, value & csize, "CS?"))
    return "|".join(parts + [flags(L.TERM_CFLAGS, value & ~(cbaud | cibaud | csize))])


def term_flags_text(iflag: int, oflag: int, cflag: int, lflag: int) -> str:
    """termios' and termio's flags: ``c_iflag=ICRNL|IXON, c_oflag=NL0|...|OPOST,
    c_cflag=B38400|CS8|CREAD, c_lflag=...``."""
    return (f"c_iflag={flags(L.TERM_IFLAGS, iflag)}, c_oflag={_oflag(oflag)}, "
            f"c_cflag={_cflag(cflag)}, c_lflag={flags(L.TERM_LFLAGS, lflag)}")


@struct_printer("stack")
def stack_text(f: dict) -> str:
    return (f"{{ss_sp={ptr(f['ss_sp'])}, ss_flags={flags(L.SS_FLAGS, f['ss_flags'])}, "
            f"ss_size={f['ss_size']}}}")


def fd_set_text(data: bytes, nfds: int, fd_text=str) -> str:
    """``[0 3]``: the descriptors below ``nfds`` whose bits are set."""
    return "[" + " ".join(map(fd_text, fd_set_members(data, nfds))) + "]"


def fd_set_members(data: bytes, nfds: int) -> list[int]:
    value = int.from_bytes(data, "little")
    return [fd for fd in range(min(nfds, len(data) * 8)) if value >> fd & 1]


@struct_printer("rusage")
def rusage_text(f: dict) -> str:
    return (f"{{ru_utime={{tv_sec={f['utime_sec']}, tv_usec={f['utime_usec']}}}, "
            f"ru_stime={{tv_sec={f['stime_sec']}, tv_usec={f['stime_usec']}}}, ...}}")


def rlimit_text(infinity: str):
    @struct_printer("rlimit")
    def render(f: dict) -> str:
        return (f"{{rlim_cur={_rlim(f['rlim_cur'], infinity)}, "
                f"rlim_max={_rlim(f['rlim_max'], infinity)}}}")
    return render


SA_RESTORER = L.SA_FLAGS.value("SA_RESTORER")


@struct_printer("sigaction")
def sigaction_text(f: dict) -> str:
    handler = {0: "SIG_DFL", 1: "SIG_IGN"}.get(f["handler"], f"{f['handler']:#x}")
    text = (f"{{sa_handler={handler}, sa_mask={sigset(f['mask'])}, "
            f"sa_flags={flags(L.SA_FLAGS, f['flags'])}")
    if f["flags"] & SA_RESTORER:
        text += f", sa_restorer={f['restorer']:#x}"
    return text + "}"


@struct_printer("sigset", "[]")
def sigset_text(f: dict) -> str:
    return sigset(f["mask"])


def utsname_text(data: bytes, call=None) -> str:
    u = S.utsname(data)
    if u is None:
        return "{...}"
    if call is not None and not call.abbrev:        # -v: every field
        return "{" + ", ".join(f"{k}={quote(v)}" for k, v in u.items()) + "}"
    return f"{{sysname={quote(u['sysname'])}, nodename={quote(u['nodename'])}, ...}}"


@struct_printer("sysinfo")
def sysinfo_text(f: dict) -> str:
    keys = ("totalram", "freeram", "sharedram", "bufferram", "totalswap", "freeswap",
            "procs", "totalhigh", "freehigh", "mem_unit")
    return (f"{{uptime={f['uptime']}, loads=[{f['load1']}, {f['load5']}, {f['load15']}], "
            + ", ".join(f"{k}={f[k]}" for k in keys) + "}")




@struct_printer("int", "[?]")
def int_text(f: dict) -> str:
    return f"[{f['value']}]"


def wait_status(status: int) -> str:
    """wait4's status: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}]."""
    status &= 0xFFFFFFFF
    sig = status & 0x7F
    if sig == 0:
        text = f"WIFEXITED(s) && WEXITSTATUS(s) == {(status >> 8) & 0xFF}"
    elif sig == 0x7F:
        text = f"WIFSTOPPED(s) && WSTOPSIG(s) == {signame((status >> 8) & 0xFF)}"
    else:
        text = f"WIFSIGNALED(s) && WTERMSIG(s) == {signame(sig)}"
        if status & 0x80:
            text += " && WCOREDUMP(s)"
    return f"[{{{text}}}]"


@struct_printer("int", "[?]")
def wait_status_text(f: dict) -> str:
    return wait_status(f["value"])


def epoll_events(data: bytes, size: int, opts: StraceOptions = StraceOptions()) -> str:
    return array((f"{{events={flags(L.EPOLL_EVENTS, f['events'])}, "
                  f"data={{u32={f['data'] & 0xFFFFFFFF}, u64={f['data']}}}}}"
                  for f in S.iter_array("epoll_event", data, size)), opts)


PAGE_SIZE = 4096


def nonzero_tail(data: bytes, known: int, size: int, opts: StraceOptions) -> str | None:
    """print_nonzero_bytes: what an extensible struct of ``size`` bytes holds past
    the ``known`` ones strace reads (up to a page): ``/* bytes 24..31 */ "\\x01..."``,
    ``???`` when unreadable (recorded short), None when all zero."""
    end = min(size, PAGE_SIZE)
    if end <= known:
        return None
    if len(data) < end:
        return "???"
    tail = data[known:end]
    if not any(tail):
        return None
    return f"/* bytes {known}..{end - 1} */ {printstr(tail, opts, force_hex=True)}"


def ints(data: bytes, kind: str = "i") -> str:
    """``[3, 4]``: C ints (``kind`` "I" for unsigned ones such as gids)."""
    n = len(data) // 4
    return "[" + ", ".join(str(v) for v in _struct.unpack_from(f"<{n}{kind}", data)) + "]"


AUDIT_ARCH_X86_64 = L.AUDIT_ARCHES.value("AUDIT_ARCH_X86_64")
AUDIT_ARCH_I386 = L.AUDIT_ARCHES.value("AUDIT_ARCH_I386")


def syscall_nr_text(nr: int, arch: int) -> str:
    """PRINT_FIELD_SYSCALL_NAME: ``__NR_chdir`` for this personality's calls, the
    number with the name in a comment for another's."""
    style = STYLE.get()
    table = {AUDIT_ARCH_X86_64: _abi.LINUX_X86_64, AUDIT_ARCH_I386: _abi.LINUX_I386}.get(arch)
    name = table.syscall_name(nr) if table is not None and nr < 1 << 31 else None
    if name is None or style == "raw":
        return str(nr)
    if arch == AUDIT_ARCH_X86_64:
        return f"{nr} /* __NR_{name} */" if style == "verbose" else f"__NR_{name}"
    return f"{nr} /* {name} */"


# struct siginfo (x86-64): its layouts are ktrace.abi.linux_structs' SIGINFO_HEAD, SI_*
_SI = {n: v for v, n in L.SI_CODES.entries}
_SIG = {n: L.SIGNALS.value(n) for n in ("SIGCHLD", "SIGIO", "SIGBUS", "SIGSEGV", "SIGSYS")}
_FAULTS = {L.SIGNALS.value(n) for n in ("SIGILL", "SIGFPE", "SIGSEGV", "SIGBUS", "SIGTRAP")}
_CLD_EXITED = L.CLD_CODES.value("CLD_EXITED")
_POLL_BAND = {L.POLL_CODES.value(n)
              for n in ("POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP")}
_MCEERR = {L.BUS_CODES.value(n) for n in ("BUS_MCEERR_AR", "BUS_MCEERR_AO")}
_SEGV_BNDERR, _SEGV_PKUERR = L.SEGV_CODES.value("SEGV_BNDERR"), L.SEGV_CODES.value("SEGV_PKUERR")
SIGINFO_SIZE = LS.SI_CHLD.size        # the bytes the fields printed here need (48)


def siginfo_text(data: bytes, fd_text=str, pid_note=None) -> str:
    """strace's printsiginfo: ``{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=.., ...}``;
    ``pid_note``: a Call's, what --decode-pids= adds after si_pid."""
    if len(data) < SIGINFO_SIZE:
        return "{...}"
    signo, err, code = LS.SIGINFO_HEAD.unpack_from(data)
    if not signo:
        return "{}"
    name = sigcode_name(signo, code)
    code_text = named(name, code & 0xFFFFFFFF) if name else hexval(code & 0xFFFFFFFF)
    parts = [f"si_signo={printsignal(signo)}", f"si_code={code_text}"]
    if err:
        name = _errno.errorcode.get(err)       # PRINT_FIELD_ERR_U
        parts.append(f"si_errno={named(name, err, str(err)) if name else err & 0xFFFFFFFF}")
    return "{" + ", ".join(parts + _si_fields(signo, code, data, fd_text, pid_note)) + "}"


def _si_fields(signo: int, code: int, data: bytes, fd_text, pid_note=None) -> list[str]:
    """The union's fields strace prints for this signal and code."""
    pid, uid = LS.SI_SENDER.unpack_from(data)
    note = pid_note(pid, "tgid") if pid_note is not None and pid > 0 else ""
    source = [f"si_pid={pid}{note}", f"si_uid={-1 if uid == 0xFFFFFFFF else uid}"]
    (si_int,), (si_ptr,) = LS.SI_INT.unpack_from(data), LS.SI_PTR.unpack_from(data)
    value = [f"si_int={si_int}", f"si_ptr={ptr(si_ptr)}"]
    band, fd = LS.SI_POLL.unpack_from(data)
    if code <= 0:
        if code == _SI["SI_TIMER"]:
            return [f"si_timerid={pid & 0xFFFFFFFF:#x}", f"si_overrun={c_int(uid)}"] + value
        if code == _SI["SI_SIGIO"]:
            return [f"si_band={band}", f"si_fd={fd_text(fd)}"]
        return source + (value if code not in (_SI["SI_USER"], _SI["SI_TKILL"]) and si_ptr
                         else [])
    if signo == _SIG["SIGCHLD"]:
        status, utime, stime = LS.SI_CHLD.unpack_from(data)
        return source + [f"si_status={status if code == _CLD_EXITED else printsignal(status)}",
                         f"si_utime={clock_t(utime)}", f"si_stime={clock_t(stime)}"]
    if signo in _FAULTS:
        return [f"si_addr={ptr(LS.SI_ADDR.unpack_from(data)[0])}", *_fault_details(signo, code, data)]
    if signo == _SIG["SIGIO"]:
        return [f"si_band={band}", f"si_fd={fd_text(fd)}"] if code in _POLL_BAND else []
    if signo == _SIG["SIGSYS"]:
        call_addr, nr, arch = LS.SI_SYS.unpack_from(data)
        return [f"si_call_addr={ptr(call_addr)}",
                f"si_syscall={syscall_nr_text(nr & 0xFFFFFFFF, arch)}",
                f"si_arch={xval(L.AUDIT_ARCHES, arch, 'AUDIT_ARCH_???')}"]
    return (source if pid or uid else []) + (value if si_ptr else [])


def _fault_details(signo: int, code: int, data: bytes) -> list[str]:
    """What follows si_addr for a hardware fault's code."""
    if signo == _SIG["SIGBUS"] and code in _MCEERR:
        return [f"si_addr_lsb={hexval(LS.SI_ADDR_LSB.unpack_from(data)[0])}"]
    if signo == _SIG["SIGSEGV"] and code == _SEGV_BNDERR:
        lower, upper = LS.SI_BOUNDS.unpack_from(data)
        return [f"si_lower={ptr(lower)}", f"si_upper={ptr(upper)}"]
    if signo == _SIG["SIGSEGV"] and code == _SEGV_PKUERR:
        return [f"si_pkey={LS.SI_PKEY.unpack_from(data)[0]}"]
    return []

"""Structs as strace 6.1 prints them (abbreviated, as without -v)."""

from __future__ import annotations

import struct as _struct

from .. import structs as S
from ..xlat import LINUX as L
from .fmt import flags, quote, sigset, signame

RLIM_INFINITY = (1 << 64) - 1
NUL = b"\0"


def mode_text(mode: int) -> str:
    """S_IFREG|0644, S_IFDIR|S_ISVTX|0777."""
    ftype = L.FILE_TYPES.name(mode & 0o170000)
    parts = [ftype] if ftype else ([f"{mode & 0o170000:#o}"] if mode & 0o170000 else [])
    parts += [n for v, n in L.MODE_BITS.entries if mode & v]
    parts.append(f"0{mode & 0o777:03o}")
    return "|".join(parts)


def _makedev(dev: int) -> str:
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
    return f"makedev({major:#x}, {minor:#x})"


def _is_dev(mode: int) -> bool:
    return mode & 0o170000 in (0o020000, 0o060000)


def stat_text(data: bytes, call=None) -> str:
    st = S.linux_stat(data)
    if st is None:
        return "{...}"
    size = f"st_rdev={_makedev(st.rdev)}" if _is_dev(st.mode) else f"st_size={st.size}"
    return f"{{st_mode={mode_text(st.mode)}, {size}, ...}}"


def statx_text(data: bytes, call=None) -> str:
    sx = S.linux_statx(data)
    if sx is None:
        return "{...}"
    basic = L.STATX_BASIC_STATS.value("STATX_BASIC_STATS")
    mask = sx.mask
    names = []
    if mask & basic == basic:
        names.append("STATX_BASIC_STATS")
        mask &= ~basic
    if mask:
        names.append(flags(L.STATX_MASK, mask))
    attrs = flags(L.STATX_ATTRS, sx.attributes)
    size = (f"stx_rdev_major={sx.rdev_major}, stx_rdev_minor={sx.rdev_minor}"
            if _is_dev(sx.mode) else f"stx_size={sx.size}")
    return (f"{{stx_mask={'|'.join(names) or '0'}, stx_attributes={attrs}, "
            f"stx_mode={mode_text(sx.mode)}, {size}, ...}}")


def sockaddr_text(data: bytes, call=None) -> str:
    sa = S.linux_sockaddr(data)
    if sa is None:
        return "{...}"
    family = L.ADDRESS_FAMILIES.name(sa.family) or str(sa.family)
    head = f"{{sa_family={family}"
    if sa.family == S.AF_INET and sa.address is not None:
        return f'{head}, sin_port=htons({sa.port}), sin_addr=inet_addr("{sa.address}")}}'
    if sa.family == S.LINUX_AF_INET6 and sa.address is not None:
        return (f"{head}, sin6_port=htons({sa.port}), sin6_flowinfo=htonl("
                f"{sa.extra['flowinfo']}), inet_pton(AF_INET6, \"{sa.address}\", "
                f"&sin6_addr), sin6_scope_id={sa.extra['scope_id']}}}")
    if sa.family == S.AF_UNIX:
        if len(data) <= 2:
            return head + "}"
        path = data[2:]
        if sa.extra.get("abstract"):
            return f"{head}, sun_path=@{quote(path[1:])}}}"
        return f"{head}, sun_path={quote(path.split(NUL, 1)[0])}}}"
    if "pid" in sa.extra:
        return f"{head}, nl_pid={sa.extra['pid']}, nl_groups={sa.extra['groups']:08x}}}"
    return f"{head}, sa_data={quote(sa.extra.get('raw', b''))}}}"


def timespec_text(data: bytes, call=None) -> str:
    f = S.fixed("timespec", data)
    return f"{{tv_sec={f['tv_sec']}, tv_nsec={f['tv_nsec']}}}" if f else "{...}"


def timeval_text(data: bytes, call=None) -> str:
    f = S.fixed("timeval", data)
    return f"{{tv_sec={f['tv_sec']}, tv_usec={f['tv_usec']}}}" if f else "{...}"


def _rlim(value: int, infinity: str) -> str:
    if value == RLIM_INFINITY:
        return infinity
    if value and value % 1024 == 0:
        return f"{value // 1024}*1024"
    return str(value)


def rlimit_text(infinity: str):
    def render(data: bytes, call=None) -> str:
        f = S.fixed("rlimit", data)
        if f is None:
            return "{...}"
        return (f"{{rlim_cur={_rlim(f['rlim_cur'], infinity)}, "
                f"rlim_max={_rlim(f['rlim_max'], infinity)}}}")
    return render


SA_RESTORER = L.SA_FLAGS.value("SA_RESTORER")


def sigaction_text(data: bytes, call=None) -> str:
    f = S.fixed("sigaction", data)
    if f is None:
        return "{...}"
    handler = {0: "SIG_DFL", 1: "SIG_IGN"}.get(f["handler"], f"{f['handler']:#x}")
    text = (f"{{sa_handler={handler}, sa_mask={sigset(f['mask'])}, "
            f"sa_flags={flags(L.SA_FLAGS, f['flags'])}")
    if f["flags"] & SA_RESTORER:
        text += f", sa_restorer={f['restorer']:#x}"
    return text + "}"


def sigset_text(data: bytes, call=None) -> str:
    f = S.fixed("sigset", data)
    return sigset(f["mask"]) if f else "[]"


def utsname_text(data: bytes, call=None) -> str:
    u = S.utsname(data)
    if u is None:
        return "{...}"
    return f"{{sysname={quote(u['sysname'])}, nodename={quote(u['nodename'])}, ...}}"


def sysinfo_text(data: bytes, call=None) -> str:
    f = S.fixed("sysinfo", data)
    if f is None:
        return "{...}"
    keys = ("totalram", "freeram", "sharedram", "bufferram", "totalswap", "freeswap",
            "procs", "totalhigh", "freehigh", "mem_unit")
    return (f"{{uptime={f['uptime']}, loads=[{f['load1']}, {f['load5']}, {f['load15']}], "
            + ", ".join(f"{k}={f[k]}" for k in keys) + "}")


def winsize_text(data: bytes, call=None) -> str:
    f = S.fixed("winsize", data)
    return ("{" + ", ".join(f"{k}={v}" for k, v in f.items()) + "}") if f else "{...}"


def int_text(data: bytes, call=None) -> str:
    f = S.fixed("int", data)
    return f"[{f['value']}]" if f else "[?]"


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


def wait_status_text(data: bytes, call=None) -> str:
    f = S.fixed("int", data)
    return wait_status(f["value"]) if f else "[?]"


def pollfds(data: bytes, size: int, revents: bool) -> list[str]:
    items = []
    for f in S.array("pollfd", data, size):
        if revents and not f["revents"]:
            continue
        key = "revents" if revents else "events"
        items.append(f"{{fd={f['fd']}, {key}={flags(L.POLL_EVENTS, f[key] & 0xFFFF)}}}")
    return items


def epoll_events(data: bytes, size: int) -> str:
    items = []
    for f in S.array("epoll_event", data, size):
        d = f["data"]
        items.append(f"{{events={flags(L.EPOLL_EVENTS, f['events'])}, "
                     f"data={{u32={d & 0xFFFFFFFF}, u64={d}}}}}")
    return "[" + ", ".join(items) + "]"


def ints(data: bytes) -> str:
    n = len(data) // 4
    return "[" + ", ".join(str(v) for v in _struct.unpack_from(f"<{n}i", data)) + "]"

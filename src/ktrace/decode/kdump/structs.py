"""STRU bodies in FreeBSD kdump's layout.

``struct stat {dev=.., ino=.., mode=0100644, ..., blocks=8 }`` and
``struct sockaddr { AF_INET, 1.2.3.4:80 }`` are kdump's own forms; the Linux
structs kdump has no printer for use the same ``struct NAME {k=v, ... }``
punctuation.  With -r (``symbolic``) uids and gids print as names, modes as
``ls -l`` does and times as dates, like kdump -r.
"""

from __future__ import annotations

import grp
import pwd
import stat as _stat
import time
from itertools import islice
from typing import Callable

from ... import record as r
from ...abi.linux_plan import PARTIAL_STRING
from .. import structs as S
from .fmt import Options, c_hex, mask_arg, vis, xlat_mask
from ..names import signal_name
from ..strace.structs import siginfo_text
from ..xlat import LINUX as L, Xlat

TIME_FORMAT = "%b %e %T %Y"


def _user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return None


def _group(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except (KeyError, OverflowError):
        return None


def _id(value: int, lookup: Callable[[int], str | None], opts: Options) -> str:
    name = lookup(value) if opts.symbolic else None
    return f'"{name}"' if name is not None else str(value)


def _time(ts: S.Timespec, opts: Options) -> str:
    if opts.symbolic:
        try:
            text = f'"{time.strftime(TIME_FORMAT, time.localtime(ts.sec))}"'
        except (OverflowError, OSError, ValueError):
            text = str(ts.sec)
    else:
        text = str(ts.sec)
    return f"{text}.{ts.nsec:09d}" if ts.nsec else text


def _mode(mode: int, opts: Options) -> str:
    # strmode(3) leaves an 11th column for an ACL mark: kdump prints it blank.
    return _stat.filemode(mode) + " " if opts.symbolic else f"0{mode:o}"


def stat_text(st: S.Stat, opts: Options) -> str:
    """kdump's ktrstat (Linux stat has no birthtime or flags)."""
    parts = [f"dev={st.dev}", f"ino={st.ino}", f"mode={_mode(st.mode, opts)}",
             f"nlink={st.nlink}", f"uid={_id(st.uid, _user, opts)}",
             f"gid={_id(st.gid, _group, opts)}", f"rdev={st.rdev}",
             f"atime={_time(st.atime, opts)}", f"mtime={_time(st.mtime, opts)}",
             f"ctime={_time(st.ctime, opts)}"]
    if st.birthtime is not None:
        parts.append(f"birthtime={_time(st.birthtime, opts)}")
    parts += [f"size={st.size}", f"blksize={st.blksize}", f"blocks={st.blocks}"]
    if st.flags is not None:
        parts.append(f"flags={st.flags:#x}" if st.flags else "flags=0x0")
    return "struct stat {" + ", ".join(parts) + " }"


def statx_text(sx: S.Statx, opts: Options) -> str:
    parts = [f"mask={mask_arg(xlat_mask(L.STATX_MASK), sx.mask)}", f"blksize={sx.blksize}",
             f"attributes={c_hex(sx.attributes)}", f"nlink={sx.nlink}",
             f"uid={_id(sx.uid, _user, opts)}", f"gid={_id(sx.gid, _group, opts)}",
             f"mode={_mode(sx.mode, opts)}", f"ino={sx.ino}", f"size={sx.size}",
             f"blocks={sx.blocks}", f"atime={_time(sx.atime, opts)}",
             f"btime={_time(sx.btime, opts)}", f"ctime={_time(sx.ctime, opts)}",
             f"mtime={_time(sx.mtime, opts)}", f"rdev={sx.rdev_major},{sx.rdev_minor}",
             f"dev={sx.dev_major},{sx.dev_minor}"]
    return "struct statx {" + ", ".join(parts) + " }"


def sockaddr_text(sa: S.Sockaddr, families: Xlat, inet6: int) -> str:
    """kdump's ktrsockaddr."""
    family = families.name(sa.family) or f"<invalid={sa.family}>"
    if sa.family == S.AF_INET and sa.address is not None:
        where = f"{sa.address}:{sa.port}"
    elif sa.family == inet6 and sa.address is not None:
        where = f"[{sa.address}]:{sa.port}"
    elif sa.family == S.AF_UNIX:
        path = sa.address.encode("utf-8", "surrogateescape")
        where = ("@" + vis(path[1:])) if sa.extra.get("abstract") else vis(path)
    elif "pid" in sa.extra:
        where = f"pid={sa.extra['pid']}, groups={sa.extra['groups']:08x}"
    else:
        where = "unknown address family"
    return f"struct sockaddr {{ {family}, {where} }}"


def sigset_text(name: str, mask: int) -> str:
    """linux.c's ktrsigset: ``name [ SIGINT, SIGTERM ]``."""
    sigs = [signal_name(i + 1) or str(i + 1) for i in range(64) if mask >> i & 1]
    return f"{name} [ {', '.join(sigs) if sigs else 'empty'} ]"


def _fields(name: str, fields: dict, shown: dict[str, Callable[[int], str]]) -> str:
    parts = [f"{k}={shown.get(k, str)(v)}" for k, v in fields.items() if k != "pad"]
    return f"struct {name} {{" + ", ".join(parts) + " }"


def _quoted(raw: bytes) -> str:
    return '"' + vis(raw).replace('"', '\\"') + '"'


_HEX = c_hex
# Fields that are addresses or bit sets print in hex or symbolically.
_SHOWN: dict[str, dict[str, Callable[[int], str]]] = {
    "sigaction": {"handler": _HEX, "restorer": _HEX,
                  "flags": lambda v: mask_arg(xlat_mask(L.SA_FLAGS), v),
                  "mask": lambda v: sigset_text("", v).strip()},
    "pollfd": {"events": lambda v: mask_arg(xlat_mask(L.POLL_EVENTS), v),
               "revents": lambda v: mask_arg(xlat_mask(L.POLL_EVENTS), v) if v else "0"},
    "epoll_event": {"events": lambda v: mask_arg(xlat_mask(L.EPOLL_EVENTS), v),
                    "data": _HEX},
    "iovec": {"iov_base": _HEX},
    "clone_args": {"flags": lambda v: mask_arg(xlat_mask(L.CLONE_FLAGS), v),
                   "pidfd": _HEX, "child_tid": _HEX, "parent_tid": _HEX, "stack": _HEX,
                   "tls": _HEX, "set_tid": _HEX},
    "msghdr": {"msg_name": _HEX, "msg_iov": _HEX, "msg_control": _HEX},
    "termios": {"c_iflag": _HEX, "c_oflag": _HEX, "c_cflag": _HEX, "c_lflag": _HEX,
                "c_cc": lambda v: v.hex()},
    "statfs": {"f_type": _HEX, "f_flags": _HEX},
    "sock_filter": {"code": _HEX, "k": _HEX},
    "sigset_argpack": {"sigmask": _HEX},
}


# opaque buffers and bitmaps: printed as their bytes
# ioc: an ioctl argument; buf: a failed call's written buffer; cmsghdr: a msghdr's control
# data; iovdata: data of iovecs no descriptor moved, unmoved: a short write's data past
# what it moved (--json's text: plain kdump leaves them out, as argvfault: what of a
# failed execve's argv or envp could not be read); regset: ptrace's register set, a
# user_regs or user_fpregs part
BIT_AND_BYTE_STRUCTS = {"bytes", "fd_set", "cpuset", "ioc", "buf", "cmsghdr", "iovdata",
                        "unmoved", "argvfault", "regset",
                        # what a struct's pointers hold, bytes to this view
                        "teebuf", "ifreqs", "bpf_data", "bpf_info", "bpf_jited", "bpf_xlated",
                        "btrfs_qgroup_inherit", "sg_iov_data", "sg_dout_iov_data"}


def linux_struct_text(name: str, data: bytes, opts: Options) -> str:
    if name == "stat":
        st = S.linux_stat(data)
        return stat_text(st, opts) if st else "invalid record"
    if name == "statx":
        sx = S.linux_statx(data)
        return statx_text(sx, opts) if sx else "invalid record"
    if name == "sockaddr":
        sa = S.linux_sockaddr(data)
        return sockaddr_text(sa, L.ADDRESS_FAMILIES, S.LINUX_AF_INET6) if sa else "invalid record"
    if name == "sigset":
        f = S.fixed(name, data)
        return sigset_text("sigset", f["mask"]) if f else "invalid record"
    if name == "utsname":
        u = S.utsname(data)
        return ("struct utsname {" + ", ".join(f"{k}={_quoted(v)}" for k, v in u.items())
                + " }") if u else "invalid record"
    if name in ("string", PARTIAL_STRING):    # a string, or its readable part
        return f"{name} {_quoted(data)}"
    if name == "siginfo":       # kdump has no Linux form: strace's fields, kdump's punctuation
        return "struct siginfo " + siginfo_text(data)
    if name in BIT_AND_BYTE_STRUCTS:
        return f"{name} {len(data)} " + data.hex()
    if name == "int":
        f = S.fixed(name, data)
        return f"int {f['value']}" if f else "invalid record"
    if name == "dirents":
        return struct_array_text_linux("dirent64", 0, data, opts)
    if name == "fdesc":
        d = r.parse_fdesc(data)
        if d is None:
            return "invalid record"
        return _fields(name, {**d._asdict(), "path": _quoted(d.path)},
                       {"flags": _HEX, "mode": lambda v: f"0{v:o}", "rdev": _HEX})
    if name == "sockinfo":
        return _sockinfo_text(data)
    if name == "parent":
        comm = r.parse_parent(data)
        return "invalid record" if comm is None else _fields(name, {"comm": _quoted(comm)}, {})
    if name == "groupstop":
        signo = r.parse_int32(data)
        if signo is None:
            return "invalid record"
        return f"struct groupstop {{signo={signal_name(signo) or signo}}}"
    if name == "nspid":
        tid = r.parse_int32(data)
        return "invalid record" if tid is None else _fields(name, {"tid": tid}, {})
    if name == "kvmexit":
        reason = r.parse_int32(data)
        if reason is None:
            return "invalid record"
        return _fields(name, {"reason": L.KVM_EXIT_REASONS.name(reason & 0xFFFFFFFF) or reason},
                       {})
    f = S.fixed(name, data)
    if f is None:
        return "unknown structure" if name not in S.FIXED else "invalid record"
    return _fields(name, f, _SHOWN.get(name, {}))


def _sockinfo_text(data: bytes) -> str:
    """A socket's state (record.py's SOCKINFO), its addresses as kdump's sockaddrs."""
    s = r.parse_sockinfo(data)
    if s is None:
        return "invalid record"

    def address(raw: bytes) -> str:
        sa = S.linux_sockaddr(raw) if raw else None
        return sockaddr_text(sa, L.ADDRESS_FAMILIES, S.LINUX_AF_INET6) if sa else "none"
    return _fields("sockinfo", {"fd": s.fd, "ino": s.ino, "peer_ino": s.peer_ino,
                                "protocol": _quoted(s.protocol), "local": address(s.local),
                                "remote": address(s.remote)}, {})


def _dirent_text(d: S.Dirent) -> str:
    dtype = L.DIRENT_TYPES.name(d.type) or str(d.type)
    return f"{{ino={d.ino}, off={d.off}, reclen={d.reclen}, type={dtype}, name={_quoted(d.name)} }}"


ARRAY_SEPARATOR = "\n             "


# Elements shown of one array: a normal one holds a genio size of them at
# most (4096 bytes), a hostile one could hold a million.
MAX_ITEMS = 16384


def struct_array_text_linux(name: str, size: int, data: bytes, opts: Options) -> str:
    """kdump's ktrstructarray: ``struct NAME[] = { {..}\n             {..} }``."""
    if name in ("dirent64", "dirents"):
        items = (_dirent_text(d) for d in S.iter_dirents(data))
    elif name in S.FIXED:
        spec_size = S.FIXED[name][0].size
        if size != spec_size:
            return f"struct {name}[] = {{ <bad size> }}"
        shown = _SHOWN.get(name, {})
        items = (_fields(name, f, shown)[len(f"struct {name} "):]
                 for f in S.iter_array(name, data, size))
    else:
        return f"struct {name}[] = {{ <unknown structure> }}"
    shown_items = list(islice(items, MAX_ITEMS))
    if next(items, None) is not None:
        shown_items.append("...")
    return f"struct {name}[] = {{ " + ARRAY_SEPARATOR.join(shown_items) + " }"


def freebsd_struct_text(name: str, data: bytes, opts: Options, families: Xlat) -> str:
    """The structs FreeBSD's kdump prints: stat and sockaddr."""
    if name == "stat":
        st = S.freebsd_stat(data)
        return stat_text(st, opts) if st else "invalid record"
    if name == "sockaddr":
        sa = S.freebsd_sockaddr(data)
        return sockaddr_text(sa, families, S.FREEBSD_AF_INET6) if sa else "invalid record"
    return "unknown structure"

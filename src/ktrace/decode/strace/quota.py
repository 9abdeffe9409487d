"""Disk quotas: quotactl and quotactl_fd."""

from __future__ import annotations

import struct

from ..xlat import LINUX as L
from .call import FD, PATH, Arg, Call, uid_text
from .fmt import STYLE, flags, hexval, ptr, xval

_Q = L.QUOTA_CMDS.value
Q_SYNC, Q_QUOTAON, Q_QUOTAOFF, Q_GETFMT = _Q("Q_SYNC"), _Q("Q_QUOTAON"), _Q("Q_QUOTAOFF"), \
    _Q("Q_GETFMT")
Q_GETINFO, Q_SETINFO, Q_GETQUOTA, Q_SETQUOTA = _Q("Q_GETINFO"), _Q("Q_SETINFO"), \
    _Q("Q_GETQUOTA"), _Q("Q_SETQUOTA")
Q_GETNEXTQUOTA = _Q("Q_GETNEXTQUOTA")
Q_XQUOTAON, Q_XQUOTAOFF, Q_XGETQUOTA, Q_XSETQLIM = _Q("Q_XQUOTAON"), _Q("Q_XQUOTAOFF"), \
    _Q("Q_XGETQUOTA"), _Q("Q_XSETQLIM")
Q_XGETQSTAT, Q_XQUOTARM, Q_XQUOTASYNC = _Q("Q_XGETQSTAT"), _Q("Q_XQUOTARM"), _Q("Q_XQUOTASYNC")
Q_XGETQSTATV, Q_XGETNEXTQUOTA = _Q("Q_XGETQSTATV"), _Q("Q_XGETNEXTQUOTA")

# commands whose data the kernel writes: printed when the call returns
WRITTEN = {Q_GETQUOTA, Q_GETNEXTQUOTA, Q_XGETQUOTA, Q_XGETNEXTQUOTA, Q_GETFMT, Q_GETINFO,
           Q_XGETQSTAT, Q_XGETQSTATV}
NO_DATA = {Q_QUOTAOFF, Q_SYNC, Q_XQUOTASYNC}
NO_ID = NO_DATA | {Q_QUOTAON, Q_GETFMT, Q_GETINFO, Q_SETINFO, Q_XGETQSTAT, Q_XGETQSTATV,
                   Q_XQUOTAON, Q_XQUOTAOFF, Q_XQUOTARM}

DQBLK = struct.Struct("<8QI4x")             # struct if_dqblk
NEXTDQBLK = struct.Struct("<8QII")          # struct if_nextdqblk
DQINFO = struct.Struct("<QQII")             # struct if_dqinfo
DISK_QUOTA = struct.Struct("<bBHI6QiiHH4x3QiHh8x")   # struct fs_disk_quota
U32 = struct.Struct("<I")
DQBLK_FIELDS = ("dqb_bhardlimit", "dqb_bsoftlimit", "dqb_curspace", "dqb_ihardlimit",
                "dqb_isoftlimit", "dqb_curinodes")


def qcmd_text(qcmd: int) -> str:
    """print_qcmd: ``QCMD(Q_SYNC, USRQUOTA)`` (-X raw: the number; verbose: both)."""
    style = STYLE.get()
    if style == "raw":
        return str(qcmd)
    cmd, qtype = qcmd >> 8, qcmd & 0xFF
    cmd_text = L.QUOTA_CMDS.name(cmd) or f"{hexval(cmd)} /* Q_??? */"
    type_text = L.QUOTA_TYPES.name(qtype) or f"{hexval(qtype)} /* ???QUOTA */"
    text = f"QCMD({cmd_text}, {type_text})"
    return f"{qcmd} /* {text} */" if style == "verbose" else text


def _dqblk(data: bytes, c: Call, nxt: bool) -> str | None:
    layout = NEXTDQBLK if nxt else DQBLK
    if len(data) < layout.size:
        return None
    v = layout.unpack_from(data)
    fields = [f"{n}={x}" for n, x in zip(DQBLK_FIELDS, v)]
    if not c.abbrev:
        fields += [f"dqb_btime={v[6]}", f"dqb_itime={v[7]}",
                   f"dqb_valid={flags(L.QUOTA_DQBLK_VALID, v[8], unknown='QIF_???')}"]
        if nxt:
            fields.append(f"dqb_id={v[9]}")
    else:
        if nxt:
            fields.append(f"dqb_id={v[9]}")
        fields.append("...")
    return "{" + ", ".join(fields) + "}"


def _disk_quota(data: bytes, c: Call) -> str | None:
    if len(data) < DISK_QUOTA.size:
        return None
    v = DISK_QUOTA.unpack_from(data)
    fields = [f"d_version={v[0]}",
              f"d_flags={flags(L.XFS_DQBLK_FLAGS, v[1], unknown='FS_???_QUOTA')}",
              f"d_fieldmask={hexval(v[2])}", f"d_id={v[3]}"]
    fields += [f"{n}={x}" for n, x in zip(
        ("d_blk_hardlimit", "d_blk_softlimit", "d_ino_hardlimit", "d_ino_softlimit",
         "d_bcount", "d_icount"), v[4:10])]
    if not c.abbrev:
        fields += [f"d_itimer={v[10]}", f"d_btimer={v[11]}", f"d_iwarns={v[12]}",
                   f"d_bwarns={v[13]}", f"d_rtb_hardlimit={v[14]}",
                   f"d_rtb_softlimit={v[15]}", f"d_rtbcount={v[16]}",
                   f"d_rtbtimer={v[17]}", f"d_rtbwarns={v[18]}"]
    else:
        fields.append("...")
    return "{" + ", ".join(fields) + "}"


def _dqinfo(data: bytes, c: Call) -> str | None:
    if len(data) < DQINFO.size:
        return None
    bgrace, igrace, dflags, valid = DQINFO.unpack_from(data)
    return (f"{{dqi_bgrace={bgrace}, dqi_igrace={igrace}, "
            f"dqi_flags={flags(L.QUOTA_DQINFO_FLAGS, dflags, unknown='DQF_???')}, "
            f"dqi_valid={flags(L.QUOTA_DQINFO_VALID, valid, unknown='IIF_???')}}}")


def _u32(table, unknown: str, as_flags: bool):
    """A u32 the data points to: ``[QFMT_VFS_V0]``, ``[FS_QUOTA_UDQ_ACCT|...]``."""
    def render(data: bytes, c: Call) -> str | None:
        if len(data) < 4:
            return None
        value = U32.unpack_from(data)[0]
        return "[" + (flags(table, value, unknown=unknown) if as_flags
                      else xval(table, value, unknown)) + "]"
    return render


# command -> (STRU name, printer of its bytes)
DATA = {
    Q_GETQUOTA: ("if_dqblk", lambda d, c: _dqblk(d, c, False)),
    Q_SETQUOTA: ("if_dqblk", lambda d, c: _dqblk(d, c, False)),
    Q_GETNEXTQUOTA: ("if_nextdqblk", lambda d, c: _dqblk(d, c, True)),
    Q_XGETQUOTA: ("fs_disk_quota", _disk_quota),
    Q_XGETNEXTQUOTA: ("fs_disk_quota", _disk_quota),
    Q_XSETQLIM: ("fs_disk_quota", _disk_quota),
    Q_GETINFO: ("if_dqinfo", _dqinfo),
    Q_SETINFO: ("if_dqinfo", _dqinfo),
    Q_GETFMT: ("int", _u32(L.QUOTA_FORMATS, "QFMT_VFS_???", False)),
    Q_XQUOTAON: ("int", _u32(L.XFS_QUOTA_FLAGS, "FS_QUOTA_???", True)),
    Q_XQUOTAOFF: ("int", _u32(L.XFS_QUOTA_FLAGS, "FS_QUOTA_???", True)),
    Q_XQUOTARM: ("int", _u32(L.XFS_DQBLK_FLAGS, "FS_???_QUOTA", True)),
}


def _quota(cmd_arg: int):
    """The id and data of a quotactl (its command in argument ``cmd_arg``)."""
    def cmd_of(c: Call) -> int:
        return (c.arg(cmd_arg) & 0xFFFFFFFF) >> 8

    def ident(c: Call, i: int) -> str | None:
        cmd = cmd_of(c)
        if cmd == Q_QUOTAON:
            return xval(L.QUOTA_FORMATS, c.arg(i) & 0xFFFFFFFF, "QFMT_VFS_???")
        if cmd in NO_ID:
            return None
        return uid_text(c.arg(i))

    def data(c: Call, i: int) -> str | None:
        cmd = cmd_of(c)
        if cmd in NO_DATA:
            return None
        if cmd == Q_QUOTAON:
            return PATH.render(c, i)
        spec = DATA.get(cmd)
        written = cmd in WRITTEN
        if spec is None or not c.verbose or (written and not c.ok):
            return ptr(c.arg(i))
        raw = c.struct(i, spec[0], exit=written)
        text = spec[1](raw, c) if raw is not None else None
        return text if text is not None else ptr(c.arg(i))

    return Arg(ident), Arg(data, exit=lambda c: cmd_of(c) in WRITTEN)


_ID, _DATA = _quota(0)
_FD_ID, _FD_DATA = _quota(1)

SYSCALLS = {
    "quotactl": (Arg(lambda c, i: qcmd_text(c.arg(i) & 0xFFFFFFFF)), PATH, _ID, _DATA),
    "quotactl_fd": (FD, Arg(lambda c, i: qcmd_text(c.arg(i) & 0xFFFFFFFF)), _FD_ID, _FD_DATA),
}

"""System V IPC: msgget, msgsnd, msgrcv, msgctl, semget, semop, semtimedop,
semctl, shmget, shmat, shmdt, shmctl (strace's ipc_*.c)."""

from __future__ import annotations

import struct

from .. import structs as S
from ...abi import linux_plan
from ...abi.linux_plan import Role
from ..xlat import LINUX as L
from . import structs as T
from .call import INT, PTR, UINT, ULONG, Arg, Call, counted_text, octal, uid_text
from .fdio import print_array
from .fmt import c_long, flags, hexval, named, ptr, xval

IPC_64 = L.IPC_64.value("IPC_64")
IPC_PRIVATE = L.IPC_PRIVATE.value("IPC_PRIVATE")
IPC_SET = L.MSGCTL_CMDS.value("IPC_SET")
SHM_HUGE_SHIFT = L.SHM_HUGE.value("SHM_HUGE_SHIFT")
SHM_HUGE_BITS = L.SHM_HUGE.value("SHM_HUGE_MASK") << SHM_HUGE_SHIFT


def _key(c: Call, i: int) -> str:
    """printxval(ipc_private, key, NULL): IPC_PRIVATE, else the key in hex."""
    key = c.arg(i) & 0xFFFFFFFF
    return named("IPC_PRIVATE", key) if key == IPC_PRIVATE else hexval(key)


def _with_mode(names: str, value: int) -> str:
    """``IPC_CREAT|0600``: the flags printed (if any), then the permission bits."""
    return f"{names}|{octal(value & 0o777)}" if names else octal(value & 0o777)


def _some_flags(table, value: int) -> str:
    """printflags(table, value, NULL): nothing at all for none (-X raw too)."""
    return flags(table, value) if value else ""


def _resource_flags(c: Call, i: int) -> str:
    value = c.arg(i)
    return _with_mode(_some_flags(L.IPC_RESOURCE_FLAGS, value & ~0o777 & (1 << 64) - 1), value)


def _shm_flags(c: Call, i: int) -> str:
    """shmget's flags: the flags, a huge page size's log2 <<SHM_HUGE_SHIFT, the mode."""
    value = c.arg(i) & 0xFFFFFFFF
    rest = value & ~0o777
    huge = rest & SHM_HUGE_BITS
    rest &= ~SHM_HUGE_BITS
    parts = []
    if rest:
        parts.append(flags(L.SHM_RESOURCE_FLAGS, rest))
    if huge:
        shift = named("SHM_HUGE_SHIFT", SHM_HUGE_SHIFT, str(SHM_HUGE_SHIFT))
        parts.append(f"{huge >> SHM_HUGE_SHIFT}<<{shift}")
    return _with_mode("|".join(parts), value)


def _ctl_cmd(table, unknown: str):
    """PRINTCTL: IPC_64| (when set), then the command."""
    def render(c: Call, i: int) -> str:
        cmd = c.arg(i)
        head = named("IPC_64", IPC_64) + "|" if cmd & IPC_64 else ""
        return head + xval(table, cmd & ~IPC_64 & 0xFFFFFFFF, unknown)
    return render


def _command(c: Call, i: int) -> int:
    return c.arg(i) & ~IPC_64 & 0xFFFFFFFF


def _perm(f: dict, short: bool) -> str:
    text = f"uid={uid_text(f['uid'])}, gid={uid_text(f['gid'])}, mode={octal(f['mode'])}"
    if not short:
        text += f", key={f['key']}, cuid={uid_text(f['cuid'])}, cgid={uid_text(f['cgid'])}"
    return "{" + text + "}"


def _msqid_ds(f: dict, short: bool) -> str:
    perm = _perm(f, short)
    if short:
        return f"{{msg_perm={perm}, msg_qbytes={f['msg_qbytes']}}}"
    return (f"{{msg_perm={perm}, msg_stime={f['msg_stime']}, msg_rtime={f['msg_rtime']}, "
            f"msg_ctime={f['msg_ctime']}, msg_qnum={f['msg_qnum']}, "
            f"msg_qbytes={f['msg_qbytes']}, msg_lspid={f['msg_lspid']}, "
            f"msg_lrpid={f['msg_lrpid']}}}")


def _semid_ds(f: dict, short: bool) -> str:
    perm = _perm(f, short)
    if short:
        return f"{{sem_perm={perm}}}"
    return (f"{{sem_perm={perm}, sem_otime={f['sem_otime']}, sem_ctime={f['sem_ctime']}, "
            f"sem_nsems={f['sem_nsems']}}}")


def _shmid_ds(f: dict, short: bool) -> str:
    perm = _perm(f, short)
    if short:
        return f"{{shm_perm={perm}}}"
    return (f"{{shm_perm={perm}, shm_segsz={f['shm_segsz']}, shm_cpid={f['shm_cpid']}, "
            f"shm_lpid={f['shm_lpid']}, shm_nattch={f['shm_nattch']}, "
            f"shm_atime={f['shm_atime']}, shm_dtime={f['shm_dtime']}, "
            f"shm_ctime={f['shm_ctime']}}}")


def _fields(f: dict, short: bool) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in f.items()) + "}"


# command -> (STRU name, printer of its fields), per call
_MSG = {"msqid_ds": _msqid_ds, "msginfo": _fields}
_SEM = {"semid_ds": _semid_ds, "seminfo": _fields}
_SHM = {"shmid_ds": _shmid_ds, "shminfo": _fields, "shm_info": _fields}


def _ctl_buf(buf_arg: int, cmd_arg: int, printers: dict):
    """The buffer of msgctl/semctl/shmctl: the struct its command reads
    (IPC_SET, at entry) or writes (the STAT and INFO commands, at exit), else
    the address."""
    def spec(c: Call):
        roles = linux_plan.plan_for_call(c.nr, c.args)
        s = roles[buf_arg] if buf_arg < len(roles) else None
        return s if s is not None and s.name in printers else None

    def late(c: Call) -> bool:
        s = spec(c)
        return s is not None and s.role == Role.OUT_STRUCT

    def render(c: Call, i: int) -> str:
        s = spec(c)
        if s is None:
            return ptr(c.arg(i))
        out = s.role == Role.OUT_STRUCT
        data = c.struct(i, s.name, exit=out)
        if data is None or (out and not c.ok) or not c.verbose:
            return ptr(c.arg(i))
        f = S.fixed(s.name, data)
        if f is None:
            return ptr(c.arg(i))
        return printers[s.name](f, _command(c, cmd_arg) == IPC_SET)
    return Arg(render, exit=late)


def _sembufs(c: Call, i: int) -> str:
    """semop's operations: ``[{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}]``."""
    count = c.arg(i + 1) & 0xFFFFFFFF
    addr = c.arg(i)
    if not addr:
        return "NULL"
    if not count:
        return "[]"
    rec = c.array(i, "sembuf", exit=False)
    if rec is None or not c.verbose:
        return ptr(addr)
    items = [f"{{sem_num={f['sem_num']}, sem_op={f['sem_op']}, "
             f"sem_flg={flags(L.SEMOP_FLAGS, f['sem_flg'], unknown='SEM_???')}}}"
             for f in S.iter_array("sembuf", rec.data, rec.struct_size)]
    return print_array(c, addr, count, items, rec.struct_size)


def _timeout(c: Call, i: int) -> str:
    data = c.struct(i, "timespec", exit=False)
    return T.timespec_text(data) if data is not None and c.verbose else ptr(c.arg(i))


MSG_FLAGS = Arg(lambda c, i: flags(L.IPC_MSG_FLAGS, c.arg(i) & 0xFFFFFFFF, unknown="MSG_???"))
MTYPE = struct.Struct("<q")


def _msgbuf(c: Call, i: int) -> str:
    """tprint_msgbuf: the mtype and msgsz (argument 2) bytes of mtext as
    printstrn shows them; the address where not recorded (a failed msgrcv's:
    strace's umove_or_printaddr prints the address at a failed exit)."""
    data = c.struct(i, "msgbuf")
    if data is None or len(data) < MTYPE.size:
        return ptr(c.arg(i))
    mtext = counted_text(c, c.arg(i) + MTYPE.size, data[MTYPE.size:], c.arg(2))
    return f"{{mtype={MTYPE.unpack_from(data)[0]}, mtext={mtext}}}"


def _late(render):
    return Arg(render, exit=True)


SYSCALLS = {
    "msgget": (Arg(_key), Arg(_resource_flags)),
    "semget": (Arg(_key), INT, Arg(_resource_flags)),
    "shmget": (Arg(_key), ULONG, Arg(_shm_flags)),
    "msgsnd": (INT, Arg(_msgbuf), ULONG, MSG_FLAGS),
    "msgrcv": (INT, _late(_msgbuf), _late(lambda c, i: str(c.arg(i))),
               _late(lambda c, i: str(c_long(c.arg(i)))), Arg(MSG_FLAGS.render, exit=True)),
    "msgctl": (INT, Arg(_ctl_cmd(L.MSGCTL_CMDS, "MSG_???")), _ctl_buf(2, 1, _MSG)),
    "semctl": (INT, INT, Arg(_ctl_cmd(L.SEMCTL_CMDS, "SEM_???")),
               _ctl_buf(3, 2, _SEM)),
    "shmctl": (INT, Arg(_ctl_cmd(L.SHMCTL_CMDS, "SHM_???")), _ctl_buf(2, 1, _SHM)),
    "semop": (INT, Arg(_sembufs), UINT),
    "semtimedop": (INT, Arg(_sembufs), UINT, Arg(_timeout)),
    "shmdt": (PTR,),
}

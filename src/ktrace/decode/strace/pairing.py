"""Which records of a call belong to which argument: the recording plan read back.

The engines record each argument by its role in :mod:`ktrace.abi.linux_plan`
(entry records in argument order, then exit records in argument order); this
walks the same plan to give each record to its argument.
"""

from __future__ import annotations

from ... import record as r
from ...abi import linux_plan as plan
from .call import Call

R = plan.Role


class Repeated(tuple):
    """Records of these (type, name) kinds, any number of them in any order:
    the parts of each message of an mmsghdr array (linux_plan's doc)."""


_MESSAGES = Repeated(((r.STRUCT, "sockaddr"), (r.STRUCT_ARRAY, "iovec"), (r.STRUCT, "cmsghdr"),
                      (r.GENIO, None), (r.STRUCT, plan.IOV_DATA)))
# each iocb of io_submit's and what its aio_buf holds (linux_plan's doc)
_IOCBS = Repeated(((r.STRUCT, "iocb"), (r.STRUCT, plan.FAILED_BUF), (r.STRUCT_ARRAY, "iovec"),
                   (r.STRUCT, plan.IOV_DATA)))
# the strings a Pointee's pointers point to (linux_plan's Pointee.strings)
_STRINGS = Repeated(((r.STRUCT, "string"), (r.STRUCT, plan.PARTIAL_STRING)))
# the data of iovecs: what a descriptor moved, else what the call was given
_IOV_DATA = [(r.GENIO, None), (r.STRUCT, plan.IOV_DATA)]
# role -> the records it leaves at entry and at exit: (record type, struct name or
# None; a tuple: one record of any of those names), or Repeated kinds
_ENTRY = {
    R.PATH: [(r.NAMEI, None)], R.IN_STRUCT: [(r.STRUCT, "")], R.INOUT_STRUCT: [(r.STRUCT, "")],
    R.IN_SIZED_STRUCT: [(r.STRUCT, "")],
    R.IN_ARRAY: [(r.STRUCT_ARRAY, "")], R.INOUT_ARRAY: [(r.STRUCT_ARRAY, "")],
    R.IN_IOVEC: [(r.STRUCT_ARRAY, "iovec")], R.OUT_IOVEC: [(r.STRUCT_ARRAY, "iovec")],
    R.IN_MSGHDR: [(r.STRUCT, "msghdr"), (r.STRUCT, "sockaddr"), (r.STRUCT_ARRAY, "iovec"),
                  (r.STRUCT, "cmsghdr")],
    R.OUT_MSGHDR: [(r.STRUCT, "msghdr")],
    R.IN_STRING: [(r.STRUCT, ("string", plan.PARTIAL_STRING))], R.USER: [(r.USER, None)],
    R.CLONE_ARGS: [(r.STRUCT, ""), (r.STRUCT_ARRAY, "int")], R.IOC: [(r.STRUCT, "")],
    R.IN_MMSGHDR: [(r.STRUCT_ARRAY, "")], R.OUT_MMSGHDR: [(r.STRUCT_ARRAY, "")],
    R.IN_IOCBS: [(r.STRUCT_ARRAY, ""), _IOCBS],
}
_EXIT = {
    R.OUT_STRUCT: [(r.STRUCT, "")], R.INOUT_STRUCT: [(r.STRUCT, "")],
    R.OUT_INTERRUPTED: [(r.STRUCT, "")], R.IN_SIZED_STRUCT: [(r.STRUCT, "")],
    R.OUT_ARRAY: [(r.STRUCT_ARRAY, "")], R.INOUT_ARRAY: [(r.STRUCT_ARRAY, "")],
    R.IN_BUF: [(r.GENIO, None), (r.STRUCT, plan.FAILED_BUF), (r.STRUCT, plan.UNMOVED)],
    R.OUT_BUF: [(r.GENIO, None)],
    R.IN_IOVEC: _IOV_DATA, R.OUT_IOVEC: _IOV_DATA, R.IN_MSGHDR: _IOV_DATA,
    R.OUT_MSGHDR: [(r.STRUCT, "msghdr"), (r.STRUCT, "sockaddr"), (r.STRUCT_ARRAY, "iovec"),
                   (r.STRUCT, "cmsghdr"), (r.GENIO, None)],
    R.OUT_STRING: [(r.STRUCT, "string")], R.ARGV: [(r.ARGS, None), (r.STRUCT, plan.ARGV_FAULTS)],
    R.ENVP: [(r.ENVS, None), (r.STRUCT, plan.ARGV_FAULTS)],
    R.CLONE_ARGS: [(r.STRUCT, "int")], R.IOC: [(r.STRUCT, "")],
    R.IN_MMSGHDR: [(r.STRUCT_ARRAY, ""), _MESSAGES],
    R.OUT_MMSGHDR: [(r.STRUCT_ARRAY, ""), _MESSAGES],
}

# roles whose record a struct's Pointee follows, at entry or at exit (linux_plan's doc)
_POINTEE_ROLES = {R.IN_STRUCT, R.OUT_STRUCT, R.INOUT_STRUCT}


# Arguments strace prints at syscall entry (it reads the memory then) whose records
# come at exit: an <unfinished ...> line of such a call waits for its RET.
_LATE = {R.IN_BUF, R.IN_IOVEC, R.IN_MSGHDR, R.ARGV, R.ENVP}


def entry_waits_for_exit(call: Call) -> bool:
    spec = plan.plan_for_call(call.nr, call.args)
    return any(arg.role in _LATE and i < len(call.args) and call.args[i]
               for i, arg in enumerate(spec))


def _kind(rtype: int, name, arg) -> tuple[int, tuple[bytes, ...] | None]:
    """(record type, the struct names one record may have: None, any)."""
    if name == "":
        name = arg.name
    names = name if isinstance(name, tuple) else (name,) if name is not None else None
    return rtype, tuple(n.encode() for n in names) if names else None


def slots(spec, args) -> list[tuple[int, tuple, bool]]:
    """(argument, the kinds one record may be, whether any number of records
    take the slot) in the order the records come."""
    out = []
    for table in (_ENTRY, _EXIT):
        for i, arg in enumerate(spec):
            if i < len(args) and args[i] == 0:
                continue                      # a NULL pointer records nothing
            for entry in table.get(arg.role, ()):
                if isinstance(entry, Repeated):
                    out.append((i, tuple(_kind(t, n, arg) for t, n in entry), True))
                else:
                    out.append((i, (_kind(*entry, arg),), False))
            for pointee in arg.then if arg.role in _POINTEE_ROLES else ():
                if pointee.at_exit == (table is _EXIT):
                    rtype = r.STRUCT_ARRAY if pointee.elem else r.STRUCT
                    # (an in_items row's: one record per item followed)
                    out.append((i, (_kind(rtype, pointee.name, arg),), pointee.in_items))
                    if pointee.strings:
                        out.append((i, tuple(_kind(*kind, arg) for kind in _STRINGS), True))
    return out


def _is(rec, kinds) -> bool:
    """Whether ``rec`` is a record of one of ``kinds`` (slots' (type, names))."""
    rtype = rec.header.type
    for kind, names in kinds:
        if rtype == kind and (names is None or getattr(rec, "name", None) in names):
            return True
    return False


# Call.records' keys of the STRU fdesc records of the descriptors a call made
# (linux_plan.NEW_DESCRIPTORS), of the STRU sockinfo records of the sockets
# it made or changed (linux_plan.SOCKET_STATES), of the STRU parent of a
# getppid (linux_plan.PARENT_NAMED) and of the STRU kvmexit of a KVM_RUN
# (linux_plan.VCPU_EXITS): no argument's
NEW_FDS = plan.RESULT
SOCKET_STATES = plan.FD_ARGUMENT
PARENT = -4
VCPU_EXIT = -5


_CALL_STATES = {r.FDESC_NAME: NEW_FDS, r.SOCKINFO_NAME: SOCKET_STATES, r.PARENT_NAME: PARENT,
                r.KVMEXIT_NAME: VCPU_EXIT}


def pair(call: Call, records: list) -> None:
    """Give each record of the call to the argument the plan says it belongs to."""
    wanted = slots(plan.plan_for_call(call.nr, call.args), call.args)
    call.records = {}
    at = 0
    parted = None         # the argument whose record came last, if more may be its parts
    for rec in records:
        if type(rec) is r.Struct and rec.name in _CALL_STATES:
            call.records.setdefault(_CALL_STATES[rec.name], []).append(rec)
            continue
        if parted is not None and _joined(call, call.records[parted], rec):
            continue
        parted = None
        for k in range(at, len(wanted)):
            i, kinds, repeated = wanted[k]
            if _is(rec, kinds):
                call.records.setdefault(i, []).append(rec)
                at = k if repeated else k + 1
                # (a message's GIO ends it: the next one is the next message's)
                if type(rec) is r.Genio and not repeated or _is(rec, _PARTED):
                    parted = i
                break


# records that more of their kind may continue (linux_plan's doc), but GIOs
_CONTROL = ((r.STRUCT, (b"cmsghdr",)),)
_MMSGHDRS = ((r.STRUCT_ARRAY, (b"mmsghdr",)),)
_PARTED = _CONTROL + _MMSGHDRS
_MMSGHDR_SIZE = plan.STRUCT_SIZES["mmsghdr"]
MMSG_COUNT = 2          # sendmmsg's and recvmmsg's argument that counts the messages


def _joined(call: Call, recs: list, rec) -> bool:
    """A read's or write's data past linux_plan.GIO_PART bytes comes as more
    GIO records, msg_control's past MSG_CONTROL_PART as more STRU cmsghdr, an
    mmsghdr array's past MMSGHDR_PART as more STRUCT_ARRAY mmsghdr (while it
    holds fewer than the call's count: the exit's array follows the entry's):
    is ``rec`` one, joined to the record before (the last of ``recs``)?"""
    first = recs[-1]
    if type(rec) is r.Genio and type(first) is r.Genio:
        if (first.fd, first.rw) != (rec.fd, rec.rw):
            return False
        part, most = plan.GIO_PART, plan.GIO_PART * plan.GIO_PARTS_MAX
    elif _is(rec, _CONTROL) and _is(first, _CONTROL):
        part, most = plan.MSG_CONTROL_PART, plan.MSG_CONTROL_MAX
    elif _is(rec, _MMSGHDRS) and _is(first, _MMSGHDRS) and \
            rec.struct_size == first.struct_size == _MMSGHDR_SIZE:
        part = plan.MMSGHDR_PART
        most = min(call.arg(MMSG_COUNT) & 0xFFFFFFFF, plan.MMSG_MAX) * _MMSGHDR_SIZE
    else:
        return False
    # every part but the last is whole, and there are so many at most
    # (bounded: a hostile trace's records are not joined without end)
    held = len(first.data)
    if not held or held % part or held >= most:
        return False
    recs[-1] = first._replace(data=first.data + rec.data)
    return True

#!/usr/bin/env python3
"""Write ktrace_plan.h: the recording plan and ABI tables as C, for the BPF program.

The BPF program (src/ktrace/engine/bpf/ktrace.bpf.c) records by the same
plan as the ptrace engine.  This turns ``ktrace.abi.linux_plan`` (roles,
struct names and sizes, length sources, per-value selectors) and
``ktrace.abi`` (syscall names and argument counts, the Linux -> FreeBSD errno
table) into constant tables.  setup.py runs it at build time; by hand:

    PYTHONPATH=src python3 tools/gen_bpf_plan.py build/ktrace_plan.h
"""

from __future__ import annotations

import sys
from pathlib import Path

NR_SYSCALLS = 512          # numbers 0 .. NR_SYSCALLS-1 are tabled
MAX_CASES = 128            # selector cases the program looks at per call (ktrace.bpf.c's)
NAME_SIZE = 32             # STRU names in the table, NUL included (the program allows < 56)
NO_LENGTH = 0xFF           # ArgSpec.length is None
NO_ARG = 0xFF              # no such argument
ERRNO_MAX = 133            # Linux errnos 1 .. ERRNO_MAX are tabled
ERRNO_TABLE = 256          # the table's length: a power of two (indexed under a mask)


def _c_string(s: bytes) -> str:
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03o}"
                         for b in s) + '"'


class _Tables:
    def __init__(self, plan_mod, abi):
        self.plan = plan_mod
        self.abi = abi
        self.types: list[str] = [""]      # index 0: no struct
        self.pointees: list = [None]      # index 0: none; (Pointee, another follows)
        self.pointee_runs: dict = {}      # an ArgSpec's then -> the index of its first row
        R = plan_mod.Role
        # the roles that record something at entry, and at exit (linux_plan.Role);
        # execve's ARGV/ENVP are the program's own business (plan_syscall.argv_arg)
        self.entry_roles = {R.PATH, R.IN_STRUCT, R.INOUT_STRUCT, R.IN_SIZED_STRUCT,
                            R.IN_ARRAY, R.INOUT_ARRAY,
                            R.IN_IOVEC, R.OUT_IOVEC, R.IN_MSGHDR, R.OUT_MSGHDR, R.IN_STRING,
                            R.CLONE_ARGS, R.IOC, R.IN_MMSGHDR, R.OUT_MMSGHDR, R.IN_IOCBS}
        self.exit_roles = {R.OUT_STRUCT, R.INOUT_STRUCT, R.OUT_ARRAY, R.INOUT_ARRAY, R.IN_BUF,
                           R.OUT_BUF, R.IN_IOVEC, R.OUT_IOVEC, R.IN_MSGHDR, R.OUT_MSGHDR,
                           R.OUT_STRING, R.CLONE_ARGS, R.IOC, R.IN_MMSGHDR, R.OUT_MMSGHDR,
                           R.OUT_INTERRUPTED, R.IN_SIZED_STRUCT}

    def type_id(self, name: str) -> int:
        if name not in self.types:
            self.types.append(name)
        return self.types.index(name)

    def pointee_id(self, then) -> int:
        """The first of the consecutive rows of a struct's Pointees (0: none)."""
        if not then:
            return 0
        if then not in self.pointee_runs:
            self.pointee_runs[then] = len(self.pointees)
            self.pointees.extend((p, k + 1 < len(then)) for k, p in enumerate(then))
        return self.pointee_runs[then]

    def pointee_row(self, row) -> str:
        if row is None:
            return "{0}"
        pointee, more = row
        return (f"{{{self.type_id(pointee.name)}, {pointee.ptr}, {pointee.count_at}, "
                f"{pointee.width}, {pointee.elem}, {int(pointee.at_exit)}, "
                f"{pointee.record_end()}, {int(more)}, {pointee.most}, "
                f"{NO_ARG if pointee.count_arg < 0 else pointee.count_arg}, "
                f"{int(pointee.strings)}, {NO_ARG if pointee.via < 0 else pointee.via}, "
                f"{int(pointee.in_items)}, {int(pointee.part)}, {pointee.first_int}}}")

    def name_of(self, spec) -> str:
        """The STRU name: a string argument is a "string" whatever the table says."""
        if spec.role in (self.plan.Role.IN_STRING, self.plan.Role.OUT_STRING):
            return "string"
        return spec.name

    def arg(self, spec) -> str:
        p = self.plan
        kind, n, scale, at, add = (NO_LENGTH, 0, 1, 0, 0) if spec.length is None else (
            int(spec.length.kind), spec.length.n, spec.length.scale, spec.length.at,
            spec.length.add)
        name = self.name_of(spec)
        return (f"{{{int(spec.role)}, {self.type_id(name) if name else 0}, "
                f"{kind}, {spec.fd}, {n}, {spec.size}, {self.pointee_id(spec.then)}, "
                f"{scale}, {at}, {add}}}") \
            if spec.role != p.Role.VALUE else "{0}"

    def records(self, specs) -> int:
        bits = 0
        for spec in specs:
            bits |= self.plan.spec_records(spec)
        return bits

    def masks(self, specs, case_specs) -> tuple[int, int, int]:
        """(arguments with entry work, with exit work, the fast GIO: -1, 0 read, 1 write).

        ``case_specs`` are (argument, spec) a selector may put in place.  The
        fast GIO is an exit whose only work is argument 1, a buffer of the
        descriptor in argument 0 whose length is the result: the program
        records it inline (read, write, pread64, pwrite64, sendto).
        """
        entry = exit_ = 0
        for i, spec in [*enumerate(specs), *case_specs]:
            if spec.role in self.entry_roles:
                entry |= 1 << i
            if spec.role in self.exit_roles:
                exit_ |= 1 << i
        R, L = self.plan.Role, self.plan.Len
        fast = -1
        if not case_specs and exit_ == 1 << 1:
            spec = specs[1]
            if (spec.role in (R.IN_BUF, R.OUT_BUF) and spec.fd == 0 and spec.length is not None
                    and spec.length.kind == L.RET):
                fast, exit_ = int(spec.role == R.IN_BUF), 0
        return entry, exit_, fast


def generate(plan_mod, abi) -> str:
    t = _Tables(plan_mod, abi)
    plans = plan_mod.plans()
    cases_by_nr: dict[int, list[str]] = {}
    case_records: dict[int, int] = {}
    case_specs: dict[int, list] = {}
    for nr, sel in sorted(plan_mod.selectors().items()):
        for value, targets in sorted(sel.cases.items()):
            for target, spec in sorted(targets.items()):
                cases_by_nr.setdefault(nr, []).append(
                    f"{{{sel.arg}, {target}, 0, 0x{sel.mask:x}, 0x{value:x}, {t.arg(spec)}}}")
                case_records[nr] = case_records.get(nr, 0) | t.records([spec])
                case_specs.setdefault(nr, []).append((target, spec))

    crowded = [abi.syscall(nr).name for nr, mine in cases_by_nr.items() if len(mine) > MAX_CASES]
    if crowded:             # the program would not see the cases past MAX_CASES
        raise SystemExit(f"more than {MAX_CASES} selector cases: {', '.join(crowded)}")
    rows, cases = [], []
    for nr in range(NR_SYSCALLS):
        info = abi.syscall(nr)
        if info is None:
            rows.append(f"\t[{nr}] = {{-1}},")
            continue
        specs = plans.get(nr, ())
        mine = cases_by_nr.get(nr, [])
        first = len(cases)
        cases.extend(mine)
        args = ", ".join(t.arg(s) for s in specs) or "{0}"
        records = t.records(specs) | case_records.get(nr, 0)
        name = info.name.encode()[:8]
        nargs = 6 if info.nargs is None else info.nargs    # unknown: all registers
        entry, exit_, fast = t.masks(specs, case_specs.get(nr, []))
        argv, envp = (next((i for i, s in enumerate(specs) if s.role == role), NO_ARG)
                      for role in (plan_mod.Role.ARGV, plan_mod.Role.ENVP))
        rows.append(f"\t[{nr}] = {{{nargs}, {len(mine)}, {first}, 0x{records:x}, "
                    f"{_c_string(name)}, 0x{entry:x}, 0x{exit_:x}, {fast}, {argv}, {envp}, "
                    f"{{{args}}}}},")

    errnos = []
    for e in range(ERRNO_TABLE):
        errnos.append(str(abi.linux_to_freebsd_errno(e) if 0 < e <= ERRNO_MAX else 0))
    utrace = abi.syscall(plan_mod.UTRACE_NR)
    utrace_nargs = 6 if utrace is None or utrace.nargs is None else utrace.nargs
    fixed_types = {name: t.type_id(name)
                   for name in ("msghdr", "mmsghdr", "sockaddr", "iovec", "cmsghdr", "int",
                                "siginfo", "iocb", plan_mod.FAILED_BUF, plan_mod.PARTIAL_STRING,
                                "string", plan_mod.UNMOVED)}
    pointees = ",\n\t".join(t.pointee_row(pt) for pt in t.pointees)
    whole = ", ".join(str(int(n in plan_mod.WHOLE_STRUCTS)) for n in t.types)
    page_part = ", ".join(str(int(n in plan_mod.PAGE_PART_STRUCTS)) for n in t.types)
    place_kept = ", ".join(str(int(n in plan_mod.PLACE_KEPT_STRUCTS)) for n in t.types)
    exec_on_failure = int({plan_mod.Role.ARGV, plan_mod.Role.ENVP} <= plan_mod.ON_FAILURE)
    buf_on_failure = int(plan_mod.Role.IN_BUF in plan_mod.ON_FAILURE)
    R = plan_mod.Role
    iov_data_on_failure = int({R.IN_IOVEC, R.IN_MSGHDR, R.IN_MMSGHDR} <= plan_mod.ON_FAILURE)

    roles = "\n".join(f"#define ROLE_{r.name}\t{int(r)}" for r in plan_mod.Role)
    lens = "\n".join(f"#define LEN_{k.name}\t{int(k)}" for k in plan_mod.Len)
    too_long = [n for n in t.types if len(n.encode()) >= NAME_SIZE]
    if too_long:            # C would cut them without their NUL: a garbled STRU name
        raise SystemExit(f"struct names of {NAME_SIZE} bytes or more: {', '.join(too_long)}")
    names = ",\n".join(f"\t{_c_string(n.encode())}" for n in t.types)
    out = f"""\
/* Generated by tools/gen_bpf_plan.py from ktrace.abi.linux_plan: do not edit. */
#ifndef KTRACE_PLAN_H
#define KTRACE_PLAN_H

{roles}

{lens}
#define LEN_NONE\t{NO_LENGTH}

#define PLAN_NR_SYSCALLS\t{NR_SYSCALLS}
#define PLAN_NAME_SIZE\t{NAME_SIZE}
#define PLAN_NTYPES\t{len(t.types)}
#define PLAN_NCASES\t{max(len(cases), 1)}
#define PLAN_NPOINTEES\t{len(t.pointees)}
#define PLAN_POINTEES_MAX\t{max(map(len, t.pointee_runs), default=1)}	/* of one struct */
#define PLAN_ITEMS_FOLLOWED\t{plan_mod.ITEMS_FOLLOWED}
#define ERRNO_MAX\t{ERRNO_MAX}
#define ERRNO_TABLE\t{ERRNO_TABLE}
#define ERESTART_FIRST\t{plan_mod.ERESTART_FIRST}
#define ERESTART_LAST\t{plan_mod.ERESTART_LAST}
#define PLAN_E2BIG\t{plan_mod.E2BIG}
#define UTRACE_NARGS\t{utrace_nargs}
#define PLAN_CLONE_PIDFD\t0x{plan_mod.CLONE_PIDFD:x}
#define PLAN_CLONE_ARGS_SET_TID\t{plan_mod.CLONE_ARGS_SET_TID}
#define PLAN_MAX_SET_TID\t{plan_mod.MAX_SET_TID}
#define PLAN_MSG_CONTROL_PART\t{plan_mod.MSG_CONTROL_PART}
#define PLAN_MSG_CONTROL_MAX\t{plan_mod.MSG_CONTROL_MAX}
#define PLAN_MMSG_MAX\t{plan_mod.MMSG_MAX}
#define PLAN_MMSGHDR_PART\t{plan_mod.MMSGHDR_PART}
/* io_submit's iocbs recorded, the offsets of the fields read, the opcodes followed */
#define PLAN_IOCBS_MAX\t{plan_mod.IOCBS_MAX}
#define PLAN_POINTER_STRINGS_MAX\t{plan_mod.POINTER_STRINGS_MAX}
#define PLAN_IOCB_SIZE\t{plan_mod.STRUCT_SIZES["iocb"]}
#define PLAN_IOCB_OPCODE\t{plan_mod.IOCB_OPCODE}
#define PLAN_IOCB_BUF\t{plan_mod.IOCB_BUF}
#define PLAN_IOCB_NBYTES\t{plan_mod.IOCB_NBYTES}
#define PLAN_IOCB_CMD_PWRITE\t{plan_mod.IOCB_CMD_PWRITE}
#define PLAN_IOCB_CMD_PREADV\t{plan_mod.IOCB_CMD_PREADV}
#define PLAN_IOCB_CMD_PWRITEV\t{plan_mod.IOCB_CMD_PWRITEV}
#define PLAN_EXEC_ON_FAILURE\t{exec_on_failure}	/* ARGS/ENVS of a failed execve too */
/* what of a failed execve's argv or envp could not be read: STRU argvfault */
#define PLAN_ARGV_FAULTS_NAME\t{_c_string(plan_mod.ARGV_FAULTS.encode())}
#define PLAN_ARGV_FAULTS_MAX\t{plan_mod.ARGV_FAULTS_MAX}
#define PLAN_ARGV_READ_ALL\t0x{plan_mod.ARGV_READ_ALL:x}ull
/* a failed call's IN_BUF: STRU buf, the bytes of the argument BUF_COUNT after it */
#define PLAN_BUF_ON_FAILURE\t{buf_on_failure}
#define PLAN_BUF_COUNT\t{plan_mod.BUF_COUNT}
/* the data of iovecs no GIO holds: a failed IN_IOVEC's, IN_MSGHDR's, IN_MMSGHDR's too */
#define PLAN_IOV_DATA_NAME\t{_c_string(plan_mod.IOV_DATA.encode())}
#define PLAN_IOV_DATA_ON_FAILURE\t{iov_data_on_failure}
#define PLAN_IOVECS_MAX\t{plan_mod.IOVECS_MAX}
#define PLAN_GIO_PART\t{plan_mod.GIO_PART}
#define PLAN_GIO_PARTS_MAX\t{plan_mod.GIO_PARTS_MAX}
#define PLAN_PAGE_SIZE\t{plan_mod.PAGE_SIZE}
/* an ioctl request's _IOC direction and size (ROLE_IOC, LEN_IOC_SIZE) */
#define PLAN_IOC_DIR_SHIFT\t{plan_mod.IOC_DIR_SHIFT}
#define PLAN_IOC_SIZE_SHIFT\t{plan_mod.IOC_SIZE_SHIFT}
#define PLAN_IOC_SIZE_MASK\t0x{plan_mod.IOC_SIZE_MASK:x}
#define PLAN_IOC_WRITE\t{plan_mod.IOC_WRITE}
#define PLAN_IOC_READ\t{plan_mod.IOC_READ}
#define NO_ARG\t{NO_ARG}
{chr(10).join(f"#define PLAN_TYPE_{n.upper()}{chr(9)}{i}" for n, i in fixed_types.items())}

struct plan_arg {{
	__u8	role;		/* ROLE_* */
	__u8	type;		/* index in plan_types: the STRU name */
	__u8	len_kind;	/* LEN_* or LEN_NONE */
	__s8	fd;		/* argument holding the descriptor, -1 none */
	__u16	len_n;		/* the count, or the argument index */
	__u16	size;		/* struct size, or element size of an array */
	__u8	then;		/* a struct's Pointee: index in plan_pointees, 0 none */
	__u8	len_scale;	/* the bytes of one unit the length counts */
	__u8	len_at;		/* LEN_ARG_PTR: the offset of the u32 in what argument len_n points to */
	__u8	len_add;	/* bytes before what the length counts (a msgbuf's mtype) */
}};

struct plan_pointee {{		/* linux_plan.Pointee: what a struct's pointer field points to */
	__u8	type;		/* the STRU/STRUCT_ARRAY name */
	__u8	ptr;		/* offset of the pointer in the struct */
	__u8	count_at;	/* offset of the count ... */
	__u8	width;		/* ... and its bytes (0: no count: a string, or ``most`` items) */
	__u8	elem;		/* item size of a STRUCT_ARRAY, 0: a STRU of count bytes */
	__u8	at_exit;	/* after the struct's exit record, else its entry record */
	__u8	record_end;	/* the struct bytes a record must hold for the fields */
	__u8	more;		/* the next row is the same struct's next pointer's */
	__u16	most;		/* the most items (bytes) read */
	__u8	count_arg;	/* the argument whose low 32 bits count, NO_ARG: count_at's */
	__u8	strings;	/* the items are pointers to strings, recorded after them */
	__u8	via;		/* the fields are the struct's the pointer at via points to, NO_ARG */
	__u8	in_items;	/* the fields are each item's of the array the row before recorded */
	__u8	part;		/* in_items: an item's first page's part when not all can be read */
	__s16	first_int;	/* only for a struct whose first u32 is this, -1: any */
}};

struct plan_syscall {{
	__s8	nargs;		/* -1: not a syscall */
	__u8	ncases;		/* selector cases in plan_cases from first_case */
	__u16	first_case;
	__u32	records;	/* facility bits its arguments can produce */
	char	name[8];	/* for CSW's wmesg */
	__u8	entry_args;	/* bit i: argument i may record at entry */
	__u8	exit_args;	/* bit i: argument i may record at exit (buf_arg aside) */
	__s8	fast_gio;	/* GIOs 0 read/1 write of (arg 0, arg 1), the exit's only records
				   (with a short write's STRU unmoved); -1 none */
	__u8	argv_arg;	/* execve's argv and envp arguments (ARGS/ENVS at exit), NO_ARG */
	__u8	envp_arg;
	struct plan_arg args[6];
}};

struct plan_case {{		/* args[sel_arg] & mask == value: args[target] = spec */
	__u8	sel_arg;
	__u8	target;
	__u16	pad;
	__u32	mask;
	__u32	value;
	struct plan_arg spec;
}};

static const struct plan_syscall plan_syscalls[PLAN_NR_SYSCALLS] = {{
{chr(10).join(rows)}
}};

static const struct plan_case plan_cases[PLAN_NCASES] = {{
\t{(","+chr(10)+chr(9)).join(cases) or "{0}"}
}};

static const struct plan_pointee plan_pointees[PLAN_NPOINTEES] = {{
	{pointees}
}};

static const char plan_types[PLAN_NTYPES][PLAN_NAME_SIZE] = {{
{names}
}};

/* Struct types recorded whole, not capped at the genio size (linux_plan.WHOLE_STRUCTS) */
static const __u8 plan_whole[PLAN_NTYPES] = {{{whole}}};

/* Struct types of which a part is recorded when not all can be read (linux_plan.PAGE_PART_STRUCTS) */
static const __u8 plan_page_part[PLAN_NTYPES] = {{{page_part}}};

/* Struct types recorded empty when unreadable, keeping their place (linux_plan.PLACE_KEPT_STRUCTS) */
static const __u8 plan_place_kept[PLAN_NTYPES] = {{{place_kept}}};

/* FreeBSD errno for each Linux errno (docs/design.md, "Errno numbering") */
static const __s32 plan_freebsd_errno[ERRNO_TABLE] = {{
\t{", ".join(errnos)}
}};

#endif /* KTRACE_PLAN_H */
"""
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: gen_bpf_plan.py OUTPUT.h", file=sys.stderr)
        return 2
    from ktrace import abi
    from ktrace.abi import linux_plan
    text = generate(linux_plan, _AbiView(abi))
    Path(argv[1]).write_text(text)
    return 0


class _AbiView:
    """The three questions the generator asks of ``ktrace.abi``."""

    def __init__(self, abi):
        self._abi = abi

    def syscall(self, nr):
        return self._abi.LINUX_X86_64.syscall(nr)

    def syscall_number(self, name):
        return self._abi.LINUX_X86_64.syscall_number(name)

    def linux_to_freebsd_errno(self, e):
        return self._abi.linux_to_freebsd_errno(e)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

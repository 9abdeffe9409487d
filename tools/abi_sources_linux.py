"""Linux x86-64 ABI facts, read from this machine for tools/gen_abi_tables.py.

Sources (all local, read at generation time):

* syscall numbers and names: the kernel UAPI headers ``asm/unistd_64.h``
  (and ``asm/unistd_32.h`` for the i386 compat numbering, names only);
* argument types and names: the tracefs syscall event formats
  (``events/syscalls/sys_enter_<name>/format``), which the kernel builds
  from its ``SYSCALL_DEFINEn`` declarations;
* errno names: ``asm-generic/errno-base.h`` and ``asm-generic/errno.h``;
  errno texts: the C library's ``strerror`` (``os.strerror``);
* signal names: ``asm/signal.h``.

Facts the headers do not carry are small tables here, each naming its source.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

INCLUDE = Path("/usr/include")
UNISTD_64 = INCLUDE / "x86_64-linux-gnu/asm/unistd_64.h"
UNISTD_32 = INCLUDE / "x86_64-linux-gnu/asm/unistd_32.h"
SIGNAL_H = INCLUDE / "x86_64-linux-gnu/asm/signal.h"
ERRNO_HEADERS = (INCLUDE / "asm-generic/errno-base.h", INCLUDE / "asm-generic/errno.h")
TRACEFS_MOUNTS = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))

# unistd name -> tracefs event name, where the kernel's entry point is not
# sys_<name>: the "entry point" column of arch/x86/entry/syscalls/syscall_64.tbl
# (torvalds/linux), e.g. "4 common stat sys_newstat".
ENTRY_POINT_ALIASES = {
    "stat": "newstat",
    "fstat": "newfstat",
    "lstat": "newlstat",
    "uname": "newuname",
    "sendfile": "sendfile64",
    "umount2": "umount",
}

# Syscalls newer than this machine's UAPI headers (Debian 12's stop at 450),
# numbered as in arch/x86/entry/syscalls/syscall_64.tbl (torvalds/linux);
# each is used only when the headers lack it.  Their arguments come from
# tracefs like the others'.
NEWER_THAN_HEADERS = {
    "cachestat": 451, "fchmodat2": 452, "map_shadow_stack": 453, "futex_wake": 454,
    "futex_wait": 455, "futex_requeue": 456, "statmount": 457, "listmount": 458,
    "lsm_get_self_attr": 459, "lsm_set_self_attr": 460, "lsm_list_modules": 461,
    "mseal": 462, "setxattrat": 463, "getxattrat": 464, "listxattrat": 465,
    "removexattrat": 466, "open_tree_attr": 467, "file_getattr": 468, "file_setattr": 469,
}

# Prototypes for syscalls whose tracefs event is missing when the kernel is
# built without the feature (CONFIG_MODULES, CONFIG_KEXEC*, CONFIG_X86_USER_SHADOW_STACK),
# as declared in
# include/linux/syscalls.h (torvalds/linux), written the way tracefs prints
# types (no __user).  Used only when the event is absent.
PROTOTYPES_WITHOUT_EVENT = {
    "init_module": (("void *", "umod"), ("unsigned long", "len"),
                    ("const char *", "uargs")),
    "delete_module": (("const char *", "name_user"), ("unsigned int", "flags")),
    "finit_module": (("int", "fd"), ("const char *", "uargs"), ("int", "flags")),
    "kexec_load": (("unsigned long", "entry"), ("unsigned long", "nr_segments"),
                   ("struct kexec_segment *", "segments"), ("unsigned long", "flags")),
    "map_shadow_stack": (("unsigned long", "addr"), ("unsigned long", "size"),
                         ("unsigned int", "flags")),
    "kexec_file_load": (("int", "kernel_fd"), ("int", "initrd_fd"),
                        ("unsigned long", "cmdline_len"),
                        ("const char *", "cmdline_ptr"), ("unsigned long", "flags")),
}

# Kernel-internal errnos (include/linux/errno.h, torvalds/linux) that leak to
# tracers: a syscall interrupted by a signal shows ERESTART* in its return
# register at the exit stop.  The texts of the four restart codes are the
# ones strace 6.1 prints after the name (checked against the installed
# strace binary); the others have no text beyond strerror's.
KERNEL_INTERNAL_ERRNOS = {
    512: "ERESTARTSYS",
    513: "ERESTARTNOINTR",
    514: "ERESTARTNOHAND",
    515: "ENOIOCTLCMD",
    516: "ERESTART_RESTARTBLOCK",
    517: "EPROBE_DEFER",
    518: "EOPENSTALE",
    519: "ENOPARAM",
    521: "EBADHANDLE",
    522: "ENOTSYNC",
    523: "EBADCOOKIE",
    524: "ENOTSUPP",
    525: "ETOOSMALL",
    526: "ESERVERFAULT",
    527: "EBADTYPE",
    528: "EJUKEBOX",
    529: "EIOCBQUEUED",
    530: "ERECALLCONFLICT",
    531: "ENOGRACE",
}
STRACE_RESTART_TEXTS = {
    512: "To be restarted if SA_RESTART is set",
    513: "To be restarted",
    514: "To be restarted if no handler",
    516: "Interrupted by signal",
}

# Realtime signals: the kernel's range is SIGRTMIN (32) .. _NSIG (64) on x86
# (arch/x86/include/asm/signal.h); strace names them SIGRTMIN, SIGRT_1 ..
# SIGRT_32 (observed: strace 6.1 -e signal=all on tgkill(2) of each signal).
SIGRTMIN = 32
SIGRTMAX = 64

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(\d+)\b")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


class LinuxSyscall(NamedTuple):
    number: int
    name: str
    args: tuple[tuple[str, str], ...] | None   # None: no source for the arguments


def numeric_defines(path: Path, prefix: str = "") -> list[tuple[str, int]]:
    """``#define NAME <decimal>`` lines of a header, comments removed, in order."""
    text = _COMMENT.sub("", path.read_text())
    found = []
    for line in text.splitlines():
        m = _DEFINE.match(line)
        if m and m[1].startswith(prefix):
            found.append((m[1][len(prefix):], int(m[2])))
    return found


def tracefs_root() -> Path | None:
    """The mounted tracefs with syscall events, or None."""
    for root in TRACEFS_MOUNTS:
        if (root / "events/syscalls").is_dir():
            return root
    return None


def event_args(fmt: str) -> tuple[tuple[str, str], ...]:
    """(C type, name) of each syscall argument in a sys_enter_* format file."""
    args = []
    for line in fmt.splitlines():
        line = line.strip()
        if not line.startswith("field:"):
            continue
        decl = line[len("field:"):].split(";", 1)[0].strip()
        m = re.match(r"(.*?)\s*\b(\w+)$", decl)
        ctype, name = m[1].strip(), m[2]
        if name.startswith("common_") or name == "__syscall_nr":
            continue
        args.append((ctype, name))
    return tuple(args)


def syscalls(tracefs: Path) -> list[LinuxSyscall]:
    events = tracefs / "events/syscalls"
    table = []
    numbers = dict(numeric_defines(UNISTD_64, "__NR_"))
    numbers.update((n, nr) for n, nr in NEWER_THAN_HEADERS.items() if n not in numbers)
    for name, number in numbers.items():
        fmt = events / f"sys_enter_{ENTRY_POINT_ALIASES.get(name, name)}" / "format"
        if fmt.exists():
            args = event_args(fmt.read_text())
        else:
            args = PROTOTYPES_WITHOUT_EVENT.get(name)
        table.append(LinuxSyscall(number, name, args))
    return table


def i386_syscall_names() -> dict[int, str]:
    return {number: name for name, number in numeric_defines(UNISTD_32, "__NR_")}


def errno_names() -> dict[int, str]:
    """Number -> name; the first name of a number wins (EAGAIN, not EWOULDBLOCK)."""
    names: dict[int, str] = {}
    for header in ERRNO_HEADERS:
        for name, number in numeric_defines(header, "E"):
            names.setdefault(number, "E" + name)
    for number, name in KERNEL_INTERNAL_ERRNOS.items():
        names.setdefault(number, name)
    return names


def unknown_errno() -> str:
    """strerror's text for an unknown number, as a %-format."""
    probe = 987654
    return os.strerror(probe).replace(str(probe), "%d")


def errno_text(number: int) -> str:
    return STRACE_RESTART_TEXTS.get(number) or os.strerror(number)


def signal_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for name, number in numeric_defines(SIGNAL_H, "SIG"):
        if 1 <= number < SIGRTMIN:
            names.setdefault(number, "SIG" + name)
    names[SIGRTMIN] = "SIGRTMIN"
    for number in range(SIGRTMIN + 1, SIGRTMAX + 1):
        names[number] = f"SIGRT_{number - SIGRTMIN}"
    return names


def provenance() -> dict[str, str]:
    """What the tables depend on besides the header files."""
    return {
        "SOURCE_KERNEL": os.uname().release,
        "SOURCE_LIBC": os.confstr("CS_GNU_LIBC_VERSION") or "unknown libc",
    }

"""The recording plan: what to record for each Linux x86-64 system call.

For every syscall this module says, argument by argument, what the argument
*is* (docs/design.md, "What a Linux syscall's records look like"): a plain
value, a path the kernel looks up, a struct read in or written out, an I/O
buffer, an iovec array, a string, execve's argv/envp.  Both engines record by
it (the bpf build turns it into a C header), and the decoders and the strace
view use it to pair records with arguments.

The plan is data.  It comes from two sources:

* ``PLANS``: explicit entries, by syscall name, for the calls whose records
  matter (the common calls of real programs, the way strace shows them);
* for every other syscall, a derivation from the C types of the ABI table
  (the tracefs types: ``const char *filename`` is a path, ``const struct
  __kernel_timespec *`` a timespec read in, ``struct stat *`` a stat written
  out, ...).  A derived role is only given where the type says it for sure.

Some calls mean different things for different values of one argument
(ioctl's request, prctl's option, fcntl's command, futex's op): ``SELECTORS``
holds those, and :func:`plan_for_call` applies them to the actual arguments.

An ioctl request the selector does not know says itself what its argument
is: Linux's ``_IOC`` encoding puts a direction (``_IOC_WRITE``: the driver
reads the argument, ``_IOC_READ``: it writes it) and a size in the request.
ioctl's own plan gives its argument the role ``IOC`` and the length
``IOC_SIZE`` of the request: ``STRU ioc``, the argument's ``_IOC_SIZE``
bytes (capped at the genio size), at entry when the request has
``_IOC_WRITE``, at exit of a successful call when it has ``_IOC_READ``, both
for both; nothing for ``_IOC_NONE`` (the old tty requests: TCGETS, ...).

Sizes are counted as :class:`Length` sources: a fixed count, an argument's
value, the return value, a socklen/int the kernel writes back through a
pointer argument or a u32 field of the struct one points to (keyctl's
KEYCTL_PKEY_* data lengths), the size of an ``fd_set`` for ``nfds`` descriptors, the
longs of a nodemask of ``maxnode - 1`` bits, the pages of a range, or an
ioctl request's ``_IOC_SIZE``.

Struct and string data are capped at the trace file's genio size, but for
the structs in ``WHOLE_STRUCTS``: a getdents64 buffer (``dirents``) is
recorded whole, as its entry count only makes sense whole; its size is
bounded by the call's own count argument and its return value.

A struct with a known size that a call gives a length of its own (clone3's
clone_args, openat2's open_how: the kernel's extensible structs, read with
copy_struct_from_user) is recorded at that length; when the bytes past the
known size cannot be read, its known part alone is (what strace reads and
shows, with ``???`` for the rest).  A sockaddr read in (its first 128 bytes,
all strace reads) and setsockopt's optval (the int, or the struct of the
option) are given a known size the same way.  A shorter record than the length says
so.  clone_args' ``set_tid`` array (``set_tid_size`` pids, at most
``MAX_SET_TID``) follows it as a STRUCT_ARRAY of ints.

A struct of ``PAGE_PART_STRUCTS`` (a sockaddr; the untyped ``bytes``:
setsockopt's and getsockopt's optval, fsconfig's binary value; a
perf_event_attr, of its own size field's length; an ioctl's argument,
``ioc``, whose table strace reads up to an unreadable entry), of which
strace reads a part, is recorded, when the bytes of its length cannot all be
read, as the longer of its known part and the part up to the end of its
first page (a page the engines read in one go).  accept's, getsockname's,
recvfrom's sockaddr is of the length the kernel writes back, the address's
own, which may pass the end of the buffer given (strace reads no more than
was given), as a msghdr's below; setsockopt's optval is of optlen bytes,
which may pass the struct of the option (strace reads the struct or the int
of the option's level and number, and the selector sees the number alone).
getsockopt's SO_GET_FILTER optval is of the instructions its optlen written
back counts (a :class:`Length`'s ``scale``: 8 bytes each).

A msghdr (sendmsg's at entry, recvmsg's at its successful exit) is ``STRU
msghdr``, then what its pointers hold: ``STRU sockaddr`` (msg_namelen bytes,
128 at most; when not all can be read, its first page's part: recvmsg's
msg_namelen is the address's length, which may pass the end of the buffer
given, and strace reads no more than was given), ``STRUCT_ARRAY iovec`` and
``STRU cmsghdr``: the raw bytes of msg_control, msg_controllen of them
(recvmsg's: the length the kernel wrote back), at most the tracer's
``optmem_max`` (``procfs.optmem_max``: the kernel takes no more ancillary
data, and strace reads no more), ``MSG_CONTROL_MAX`` and the genio size, in
records of ``MSG_CONTROL_PART`` bytes back to back, the last shorter (the
view joins them, as a GIO's parts).  The iovecs and the control data are
whole or none: an unreadable one leaves no record, and strace prints its
address.

A small struct that holds a pointer and the count of what it points to
(an ArgSpec's ``then``, a :class:`Pointee`: a sock_fprog's filter, the
register set behind ptrace's GETREGSET/SETREGSET iovec, pselect6's sigmask)
is followed, after its record at entry (when the kernel reads what it
points to: SETREGSET's registers, a filter) or at exit (when the kernel
writes it: GETREGSET's), by what the pointer holds: a STRUCT_ARRAY of the
count's items (its first page's whole items when not all can be read, as an
``IN_ARRAY``'s), or a STRU of the count's bytes (whole or none), at most
``Pointee.most`` and the genio size; none when the struct's record does not
hold both fields (a short optlen), or the pointer or count is 0.  A pointer
with no count (keyctl_kdf_params' hashname) is to a NUL-terminated STRU
string (none when no NUL comes before unreadable memory), or, given an item
size, to a fixed number of items (a blkpg_ioctl_arg's one partition, the
first bytes of a console font strace may print): a STRUCT_ARRAY of them, as
one with a count.  A count may be an argument of the call rather than a
field (io_uring_files_update's fds: nr_args).  An array of pointers to
strings (bpf's kprobe_multi syms) is followed by the strings of its first
``POINTER_STRINGS_MAX`` pointers that are not NULL, each ``STRU string``, or
an empty ``STRU strpart`` when it cannot be read.  A struct with several
pointers (keyctl_kdf_params' otherinfo too) is followed by what each holds,
in the order of the ArgSpec's ``then``.  A Pointee ``in_items`` reads its
pointer and count in each item of the STRUCT_ARRAY the row before it
recorded (a v4l2_ext_control's string), its first ``ITEMS_FOLLOWED``: one
STRU per item whose pointer and count are not 0, its bytes whole, or empty
when they cannot be read (the record keeps the item's place), or with
``part`` their first page's part (an SG_IO iovec's data: strace reads no more
of it than is left of the transfer's length).  A row may be for one kind of
struct alone, by its first u32 (``first_int``): an SG_IO header is a v3 one
(``'S'``) or a v4 one (``'Q'``), whose pointers lie at other offsets.  A union's
(bpf's union bpf_attr) pointers are its command's, by the selector; where a
command's member is itself a union (link_create's, by its attach type, which
no selector sees) what each variant's pointers hold is read, each as hostile
as any address.

sendmmsg's and recvmmsg's mmsghdr array is ``STRUCT_ARRAY mmsghdr`` at entry
(the first ``MMSG_MAX`` of its count's items, read as an ``IN_ARRAY``'s:
recvmmsg's msg_namelen given), and at a successful exit the messages moved:
``STRUCT_ARRAY mmsghdr`` of the result's count (msg_len set); each array in
records of ``MMSGHDR_PART`` bytes back to back, the next only after a whole
one (the view joins them while they hold fewer items than the call's count).
Then for each of its first ``MMSG_MAX`` messages what a msghdr's pointers
hold (sockaddr, iovec, cmsghdr: none where the pointer or length is 0) and a
GIO of its msg_len bytes, which ends the message's records; a sendmmsg's
messages given but not sent follow, of the first ``MMSG_MAX`` in all, each as
a failed sendmmsg's (below: strace prints their data too).

Failed calls record no exit data, but for the roles in ``ON_FAILURE``:
execve's argv and envp (read at entry) are written at its exit whether or
not it succeeded, as strace shows them for a failed exec.  A string that
cannot be read is an empty one in the ARGS/ENVS record; when one could not,
or the array itself ran into unreadable memory before its NULL, the record
is followed by ``STRU argvfault`` (``ARGV_FAULTS``; linux_structs'
ARGV_FAULT_END and ARGV_FAULT): the index of the array's unreadable pointer
(the strings recorded before it; ``ARGV_READ_ALL``: none), then the index
and pointer of each string that could not be read, of the first
``ARGV_FAULTS_MAX`` (strace prints such a pointer, and the array's address
when its first pointer cannot be read).  FreeBSD's kernel writes no such
record, and FreeBSD's view leaves it out.  A failed call's
``IN_BUF`` (write, pwrite64, sendto: the data handed to the kernel, that
strace shows whatever the result) is ``STRU buf`` at its exit, not a GIO: a
GIO is the data moved, as FreeBSD's.  Its bytes are those of the count
argument (the one ``BUF_COUNT`` after the buffer), capped at the genio size;
when they cannot all be read, those up to the end of the buffer's first page
(a page the engines read in one go); when those cannot be read either, there
is no record.  The view tells the short record from the whole by the count.
(The bpf program reads only memory in place: a page the process never
touched is unreadable to it, and the kernel faults in none for a write that
fails before copying.)

A short write's ``IN_BUF`` (one that moved fewer bytes than its count, all
of them in its GIO) leaves ``STRU unmoved`` (``UNMOVED``) after the GIO: the
bytes given past those moved that are in memory, of the first
``min(count - moved, GIO_PART)`` (none: an empty record).  strace dumps a
write's whole count (-e write=), ``<Cannot fetch ...>`` where it cannot read
it; FreeBSD's kernel writes no such record, and FreeBSD's view leaves it out.

A failed call's ``IN_IOVEC`` and ``IN_MSGHDR`` (writev, pwritev, pwritev2,
vmsplice, sendmsg) leave ``STRU iovdata`` (``IOV_DATA``) at its exit in
place of the GIO: the data of the iovecs, which strace shows whatever the
result, back to back.  Each iovec's bytes are whole, up to the genio size in
all (the last cut there), of its first ``IOVECS_MAX`` iovecs; they end
before the first iovec whose bytes cannot all be read (the view prints that
one's address, and those of the iovecs after it).  A failed sendmmsg leaves,
for each of the first ``MMSG_MAX`` messages given (those whose mmsghdr can be
read), what its msghdr's pointers hold and a ``STRU iovdata`` of its data,
which ends the message's records.  An iovec array with no descriptor (``fd``
-1: process_vm_readv's and process_vm_writev's local iovecs) moves no file's
data: its data is ``STRU iovdata`` at the exit, never a GIO, whatever the
result for an ``IN_IOVEC`` and of the result's count at a successful exit for
an ``OUT_IOVEC``.  FreeBSD's kernel writes no record of such data (a GIO is
data a descriptor moved), and FreeBSD's view (plain kdump) leaves STRU iovdata
out.

Memory only partly readable (a string or an array running into an unmapped
page: the call fails with EFAULT, and strace prints the part it could read)
is recorded by the same first-page rule.  An array (``IN_ARRAY``,
``INOUT_ARRAY``, ``IN_IOVEC``/``OUT_IOVEC``'s iovecs; a msghdr's stay whole
or none) whose items cannot all be read is the STRUCT_ARRAY of the whole
items up to the end of its first page: fewer items than the call's count
(and than the genio size allows) say the rest was unreadable.  An
``IN_STRING`` with no NUL before unreadable memory is ``STRU
PARTIAL_STRING`` (``strpart``), the bytes up to the end of its first page,
in place of ``STRU string``: none when those cannot be read either (the
record keeps its argument's place: a call's other strings pair with
theirs).  Paths (NAMI) are not: strace prints a path only when PATH_MAX
bytes of it can be read, else its address.  The bpf program reads such a
part at the last try of the entry record (at entry for roles read once, at
exit for those it puts off: a page not yet resident at entry may be by
then).  A struct of ``PLACE_KEPT_STRUCTS`` (select's and pselect6's
fd_sets: a call takes three) that cannot be read at entry is an empty STRU
(at that last try), which keeps its argument's place: the sets after it
pair with theirs, and the view prints its address.

A call that makes a socket (``NEW_DESCRIPTORS``: socket, accept, accept4,
socketpair) is followed, at its successful exit, by one ``STRU fdesc``
(record.py's FDESC) per new descriptor: its number, the file's st_mode,
st_rdev and inode number, flags 0 and no path.  strace's -y prints a socket
as ``socket:[INODE]`` (what readlink of /proc/PID/fd/N gives); the
descriptor's memory holds no such thing, so the engines ask the kernel at the
exit.  A call that opens a path (open, openat, openat2, creat, open_tree) is
followed by one too, for the device numbers -yy prints
(``3</dev/full<char 1:7>>``), but only when its descriptor is a character
or block device: regular files are most of what a program opens, and need
none (their path is the call's NAMI).  pidfd_getfd's new descriptor has one
too, whatever it is: a copy of another process's, whose path the view
knows from that process's table (as strace reads /proc/PID/fd), the
fdesc tells a device's numbers or a socket's inode.

getppid (``PARENT_NAMED``) is followed, at its exit, by one ``STRU parent``
(record.py's PARENT): the name (comm) of the parent process, what strace's
--decode-pids=comm prints after the result; the parent is seldom a process
of the trace (strace's tests: strace itself).

A successful ioctl KVM_RUN on a kvm vcpu's descriptor (``VCPU_EXITS``: an
anonymous inode ``kvm-vcpu:ID``) is followed, at its exit, by one ``STRU
kvmexit`` (record.py's INT32, KVMEXIT_NAME): the exit reason the vcpu's
kvm_run holds, what strace's -e kvm=vcpu prints after the result.  The
ptrace engine reads it where the process maps the descriptor (as strace
does: no mapping, no record); the bpf program in the kernel's kvm_run of the
vcpu, the same page.

A call that makes a socket or may change its addresses (``SOCKET_STATES``:
those of NEW_DESCRIPTORS, and bind, listen and connect, whatever their
result: a non-blocking connect's EINPROGRESS has set both ends) is followed
by one ``STRU sockinfo`` (record.py's SOCKINFO) per socket: its inode, its
protocol's name, its own address, its peer's (an inet socket's), and a Unix
socket's peer's inode, what strace's -yy asks the kernel for as it prints
(``UNIX-STREAM:[INODE->PEER,"path"]``).  Those change only by such calls (or
by the peer's, which the view follows: a Unix connection's two ends name
each other), so the view knows them at every call between.

io_submit's array of pointers to iocbs is ``STRUCT_ARRAY long`` at entry (its
count's pointers, read as an ``IN_ARRAY``'s), then for each of the first
``IOCBS_MAX`` pointers recorded that is not NULL, ``STRU iocb``: its 64 bytes,
empty when they cannot all be read (the record keeps the pointer's place: the
view prints its address).  A readable iocb whose aio_nbytes is not
negative (as a ssize_t: what strace decodes) is followed by what its aio_buf
holds: an ``IOCB_CMD_PWRITE``'s ``STRU buf`` of aio_nbytes bytes (a failed
write's rule: its first page's part when not all can be read, none when that
cannot either), an ``IOCB_CMD_PREADV``'s or ``IOCB_CMD_PWRITEV``'s ``STRUCT_ARRAY
iovec`` (as an ``IN_ARRAY``'s), and a PWRITEV's ``STRU iovdata`` (the data of
its iovecs, as a failed writev's).  All at entry: the kernel overwrites each
iocb's aio_key before the call returns.  io_cancel's iocb is a ``STRU iocb``
at entry.

One record comes outside any syscall: a signal is a PSIG (``s``)
followed by ``STRU siginfo``, the 128 raw bytes of its siginfo_t (the
strace view prints si_pid, si_uid, si_status, si_addr, ... from it).  Like
every STRU it is a ``t`` record: it is written when the process is traced
for both ``s`` and ``t``, and capped at the genio size.
"""

from __future__ import annotations

import enum
import re
from functools import lru_cache
from typing import Iterable, NamedTuple

from .. import record as r
from . import UTRACE_NR

MAX_ARGS = 6
MAX_STRING = 4096          # PATH_MAX: longest path or string read


class Role(enum.IntEnum):
    """What one syscall argument is, for recording."""

    VALUE = 0          # nothing beyond the CALL record
    PATH = 1           # NAMI at entry: a path the kernel looks up
    IN_STRUCT = 2      # STRU at entry
    OUT_STRUCT = 3     # STRU at exit, on success and non-NULL
    INOUT_STRUCT = 4   # STRU at entry and at exit
    IN_ARRAY = 5       # STRUCT_ARRAY at entry
    OUT_ARRAY = 6      # STRUCT_ARRAY at exit, on success
    INOUT_ARRAY = 7    # STRUCT_ARRAY at entry and at exit (poll's pollfds)
    IN_BUF = 8         # GIO rw=1 at exit: the bytes written (retval); a failed call's:
    #                    STRU buf, the count's bytes (ON_FAILURE, the module doc)
    OUT_BUF = 9        # GIO rw=0 at exit: the bytes read (retval)
    IN_IOVEC = 10      # STRUCT_ARRAY iovec at entry, one GIO rw=1 at exit; a failed call's
    #                    (or with no descriptor, any call's): STRU iovdata (the module doc)
    OUT_IOVEC = 11     # STRUCT_ARRAY iovec at entry, one GIO rw=0 at exit (with no
    #                    descriptor: STRU iovdata)
    IN_MSGHDR = 12     # STRU msghdr (+ sockaddr, iovec, cmsghdr) at entry, GIO rw=1 at exit
    #                    (a failed call's: STRU iovdata)
    OUT_MSGHDR = 13    # STRU msghdr at entry (the msg_namelen given); STRU msghdr
    #                    (+ sockaddr, iovec, cmsghdr) and GIO rw=0 at exit
    IN_STRING = 14     # STRU string at entry: a string not looked up
    OUT_STRING = 15    # STRU string at exit, on success
    ARGV = 16          # ARGS at the exit of execve (failed ones too), read at entry
    ENVP = 17          # ENVS at the exit of execve (failed ones too), read at entry
    USER = 18          # utrace data: USER record at entry
    CLONE_ARGS = 19    # clone3's struct: STRU clone_args at entry (STRUCT_ARRAY int of its
    #                    set_tid after it); at exit, on success with CLONE_PIDFD, STRU int:
    #                    the pidfd stored through .pidfd
    IOC = 20           # an ioctl argument by its request's _IOC bits (the request is the
    #                    argument its Len.IOC_SIZE length names): STRU at entry if
    #                    _IOC_WRITE, at exit on success if _IOC_READ
    IN_MMSGHDR = 21    # STRUCT_ARRAY mmsghdr at entry (as IN_ARRAY); at a successful exit
    #                    the messages sent: STRUCT_ARRAY mmsghdr (msg_len set), then each
    #                    one's sockaddr, iovec, cmsghdr and GIO rw=1, then those not sent
    #                    as a failed call's (the module doc); at a failed one, each given
    #                    message's parts and STRU iovdata
    OUT_MMSGHDR = 22   # the same for recvmmsg, the GIOs rw=0
    OUT_INTERRUPTED = 23   # STRU at exit of a call a signal interrupted (an ERESTART*
    #                    result; ON_FAILURE): what the kernel writes back for a restart
    #                    (nanosleep's remaining time)
    IN_SIZED_STRUCT = 24   # STRU at entry; again at the exit of a call that failed with
    #                    E2BIG (ON_FAILURE), which wrote the kernel's size of the struct
    #                    into it (sched_attr, perf_event_attr)
    IN_IOCBS = 25      # io_submit's iocb pointers: STRUCT_ARRAY long at entry (as IN_ARRAY),
    #                    then each iocb's STRU iocb and what it points to (the module doc)


class Len(enum.IntEnum):
    """Where a length or count comes from."""

    FIXED = 0      # Length.n itself
    ARG = 1        # the value of argument n
    RET = 2        # the syscall's return value
    ARG_PTR = 3    # the u32 at byte ``at`` of what pointer argument n points to: the int
    #                the kernel wrote back through it (a socklen), or a field of a struct
    #                argument (keyctl_pkey_params' in_len: another argument's length)
    FDSET = 4      # bytes of an fd_set holding descriptors 0 .. argument n - 1 (its low 32 bits)
    ARG_U32 = 5    # the low 32 bits of argument n: a count the C type makes an int (see below)
    IOC_SIZE = 6   # the _IOC_SIZE bits of argument n, an ioctl request
    NODEMASK = 7   # longs of a nodemask of argument n - 1 bits (the kernel's get_nodes)
    PAGES = 8      # pages of a range of argument n bytes (mincore's vector: a byte each)


class Length(NamedTuple):
    """A length by its source; ``scale``: the bytes of one unit it counts
    (getsockopt's SO_GET_FILTER writes back a count of instructions); ``at``:
    an ARG_PTR's offset in what the pointer points to; ``add``: bytes before
    what it counts (a msgbuf's mtype before its mtext)."""

    kind: Len
    n: int = 0
    scale: int = 1
    at: int = 0
    add: int = 0


class Pointee(NamedTuple):
    """What a pointer field of a struct argument points to (the module's doc):
    ``count`` items of ``elem`` bytes (a STRUCT_ARRAY ``name``), or with
    ``elem`` 0 a STRU ``name`` of ``count`` bytes, or with ``width`` 0 too a
    NUL-terminated STRU string (no count); the pointer is the 8 bytes at
    offset ``ptr`` of the struct, ``count`` the unsigned ``width`` bytes at
    offset ``count_at``, or with a ``count_arg`` (not -1) the low 32
    bits of that syscall argument (io_uring_files_update's fds: nr_args), of
    which ``most`` at most are read (with ``width`` 0 and an ``elem``: no
    count field, ``most`` items); after the struct's entry record, or
    ``at_exit`` after its exit record.  With ``strings``, the items are
    pointers, each of the first POINTER_STRINGS_MAX recorded that is not NULL
    followed by the NUL-terminated STRU string it points to (an empty STRU
    strpart when none can be read: the record keeps the pointer's place).
    With a ``via`` (not -1), the fields are those of the struct the pointer
    at that offset of the argument's struct points to (a bpf_prog_info behind
    an OBJ_GET_INFO_BY_FD attr's info), read from memory.  ``in_items``: the
    fields are those of each item of the array the row before recorded, not
    the struct's (the module's doc); with ``part``, an item's bytes that
    cannot all be read are their first page's part (an SG_IO iovec's data, of
    which strace reads only the transfer's length).  With a ``first_int`` (not
    -1), the row is only for a struct whose first u32 is that (SG_IO's header:
    ``'S'`` a v3 one, ``'Q'`` a v4 one)."""

    name: str
    ptr: int
    count_at: int
    width: int
    elem: int
    most: int
    at_exit: bool = False
    in_items: bool = False
    count_arg: int = -1
    strings: bool = False
    via: int = -1
    part: bool = False
    first_int: int = -1

    def fields_end(self) -> int:
        """The bytes the struct holding the pointer and its count must have."""
        if self.count_arg >= 0:
            return self.ptr + 8
        return max(self.ptr + 8, self.count_at + self.width)

    def record_end(self) -> int:
        """The bytes the argument's struct record must hold for the fields to
        be read: theirs, or the pointer ``via`` to the struct holding them."""
        return self.via + 8 if self.via >= 0 else self.fields_end()


class ArgSpec(NamedTuple):
    """The recording role of one argument.

    ``name`` is the STRU/STRUCT_ARRAY name.  For struct roles ``size`` is the
    struct's fixed size and ``length`` (when given) the actual byte count of a
    variable-sized one (sockaddr, clone_args, dirents), and ``then`` what
    pointers in it point to (Pointees, in the order of their records), recorded
    after its entry or exit record.  For array roles
    ``size`` is the element size and ``length`` the element count.  For
    buffers ``length`` is the byte count and ``fd`` the index of the argument
    holding the descriptor; for iovecs ``length`` is the iovec count (``fd``
    -1: no descriptor, process_vm_readv's and process_vm_writev's).
    """

    role: Role = Role.VALUE
    name: str = ""
    size: int = 0
    length: Length | None = None
    fd: int = -1
    then: tuple[Pointee, ...] = ()


Plan = tuple  # tuple[ArgSpec, ...], one per argument


# ---------------------------------------------------------------------------
# Struct names and sizes (raw x86-64 kernel layouts)

STRUCT_SIZES: dict[str, int] = {
    "stat": 144, "statx": 256, "statfs": 120, "timespec": 16, "timeval": 16,
    "timezone": 8, "itimerspec": 32, "itimerval": 32, "rlimit": 16,
    "rusage": 144, "tms": 32, "sigaction": 32, "sigset": 8, "siginfo": 128,
    "stack": 24, "utsname": 390, "sysinfo": 112, "pollfd": 8,
    "epoll_event": 12, "iovec": 16, "int": 4, "long": 8, "termios": 36,
    "winsize": 8, "clone_args": 88, "msghdr": 56, "mmsghdr": 64,
    "open_how": 24, "flock": 32, "sched_param": 4, "cap_header": 8,
    "cap_data": 24, "timex": 208, "utimbuf": 16, "sembuf": 6, "f_owner_ex": 8,
    "landlock_ruleset_attr": 8, "landlock_path_beneath_attr": 12,
    "mq_attr": 64, "io_uring_params": 120,
    "if_dqblk": 72, "if_nextdqblk": 72, "if_dqinfo": 24, "fs_disk_quota": 112,
    "sysctl_args": 80, "mount_attr": 32, "io_event": 32,
    "sockaddr": 0, "dirents": 0, "string": 0, "bytes": 0, "fd_set": 0, "ioc": 0, "buf": 0,
    "iovdata": 0, "argvfault": 0, "unmoved": 0,
    # sigevent: the 32 bytes of the kernel's 64 strace reads (value, signo, notify,
    # the thread's function and attributes)
    "cpuset": 0, "sched_attr": 56, "sigevent": 32, "kcmp_epoll_slot": 12,
    "futex_waitv": 24,
    "msqid_ds": 120, "semid_ds": 104, "shmid_ds": 112, "msginfo": 32, "seminfo": 40,
    "shminfo": 72, "shm_info": 48, "kexec_segment": 32,
    "perf_event_attr": 64,
    "sock_fprog": 16, "seccomp_notif_sizes": 6, "peeksiginfo_args": 16, "user_desc": 16,
    "user_regs": 216, "user_fpregs": 512, "cmsghdr": 0,
    "sock_filter": 8, "regset": 0, "sigset_argpack": 16, "unipair": 4, "iocb": 64,
    "keyctl_dh_params": 12, "keyctl_kdf_params": 56, "keyctl_pkey_query": 56,
    "keyctl_pkey_params": 40, "msgbuf": 0,
    "fontdata": 1, "blkpg_partition": 152, "ifreqs": 0, "teebuf": 0,
    "bpf_insn": 8, "bpf_data": 0, "bpf_info": 0, "bpf_cookie": 8, "bpf_syms": 8,
    "bpf_jited": 0, "bpf_xlated": 0, "bpf_map_ids": 4,
    "sg_cmd": 1, "sg_sense": 1, "sg_data": 1, "sg_iovec": 16, "sg_iov_data": 0,
    "sg_dout_data": 1, "sg_dout_iovec": 16, "sg_dout_iov_data": 0,
}

# C types of the ABI table (tracefs spelling) -> struct name.
C_STRUCTS: dict[str, str] = {
    "struct stat": "stat", "struct statx": "statx", "struct statfs": "statfs",
    "struct __kernel_timespec": "timespec", "struct __kernel_old_timeval": "timeval",
    "struct timezone": "timezone", "struct __kernel_itimerspec": "itimerspec",
    "struct __kernel_old_itimerval": "itimerval", "struct rlimit": "rlimit",
    "struct rusage": "rusage", "struct tms": "tms", "struct sigaction": "sigaction",
    "sigset_t": "sigset", "siginfo_t": "siginfo", "struct siginfo": "siginfo",
    "stack_t": "stack", "struct new_utsname": "utsname", "struct sysinfo": "sysinfo",
    "struct epoll_event": "epoll_event", "struct sched_param": "sched_param",
    "struct __kernel_timex": "timex", "struct utimbuf": "utimbuf",
    "struct open_how": "open_how",
}

# Structs recorded whole, not capped at the genio size (see the module's doc).
WHOLE_STRUCTS = frozenset({"dirents"})
# Structs of which strace reads a part: when not all can be read, their first
# page's part (see the module's doc).
PAGE_PART_STRUCTS = frozenset({"sockaddr", "bytes", "perf_event_attr", "ioc"})
# Structs recorded empty when they cannot be read at entry (see the module's doc)
PLACE_KEPT_STRUCTS = frozenset({"fd_set"})

# Roles whose exit records are written for a failed call too (an IN_BUF's
# are then STRU FAILED_BUF, not a GIO; the data of an IN_IOVEC, IN_MSGHDR and
# IN_MMSGHDR is STRU IOV_DATA: the module's doc).
ON_FAILURE = frozenset({Role.ARGV, Role.ENVP, Role.IN_BUF, Role.IN_IOVEC, Role.IN_MSGHDR,
                        Role.IN_MMSGHDR, Role.OUT_INTERRUPTED, Role.IN_SIZED_STRUCT})
E2BIG = 7
# The results of a call a signal interrupted, to be restarted (or not: EINTR
# for userspace): -ERESTARTSYS .. -ERESTART_RESTARTBLOCK
ERESTART_RESTARTBLOCK = 516       # a call the kernel resumes by restart_syscall
ERESTART_FIRST, ERESTART_LAST = 512, ERESTART_RESTARTBLOCK
FAILED_BUF = "buf"
# The data of iovecs that no GIO holds (the module's doc).  Not a GIO: FreeBSD's
# kernel writes one only of data a descriptor moved, and a view reads a GIO
# before the RET that says the call failed.  Not STRU FAILED_BUF either, which
# FreeBSD's view shows (failed writes have left it before): a STRU of a name of
# its own, which that view leaves out by its name alone (kdump/text.py), as it
# leaves out a PSIG of a signal not acted on.  Its name and NUL take the 8
# bytes of a GIO's fd and rw: the bpf program writes either record in one place.
IOV_DATA = "iovdata"
UNMOVED = "unmoved"        # a short write's bytes past those it moved (the module's doc)
IOVECS_MAX = 64            # iovecs whose data one GIO or STRU iovdata gathers (bpf's walk)
# A read's or write's data past GIO_PART bytes (a genio size above it) comes as
# GIO records of GIO_PART bytes back to back, the last shorter, GIO_PARTS_MAX at
# most: the bpf program's largest record (FreeBSD's kernel writes one GIO of up
# to the genio size; the strace view joins the parts).
GIO_PART = 32768
GIO_PARTS_MAX = 64
BUF_COUNT = 1              # an IN_BUF's byte count is the argument this far after it
PAGE_SIZE = 4096           # memory partly unreadable: its first page's part (the module doc)
# what of a failed execve's argv or envp could not be read (the module's doc)
ARGV_FAULTS = "argvfault"
ARGV_FAULTS_MAX = 32       # strings that could not be read, noted (strace's -s elements)
ARGV_READ_ALL = (1 << 64) - 1     # the array's pointers were read up to its NULL (or a cap)
# the STRU of an IN_STRING that runs into unreadable memory before its NUL:
# its first page's part, empty when none is readable (a "string" always ended
# at a NUL or the cap)
PARTIAL_STRING = "strpart"

# Structs the kernel only ever writes through a non-const pointer; other
# non-const pointers (a timespec timeout, a sigset) may be read, written or both.
OUT_ONLY_STRUCTS = frozenset({"stat", "statx", "statfs", "rusage", "tms", "utsname",
                              "sysinfo"})

PATH_ARG_NAMES = frozenset({"filename", "pathname", "path", "oldname", "newname",
                            "specialfile"})


# ---------------------------------------------------------------------------
# Building blocks for the table

V = ArgSpec()
P = ArgSpec(Role.PATH)
S = ArgSpec(Role.IN_STRING)
RET = Length(Len.RET)


def arg(n: int) -> Length:
    return Length(Len.ARG, n)


def argptr(n: int) -> Length:
    return Length(Len.ARG_PTR, n)


def fixed(n: int) -> Length:
    return Length(Len.FIXED, n)


def in_(name: str, length: Length | None = None) -> ArgSpec:
    return ArgSpec(Role.IN_STRUCT, name, STRUCT_SIZES[name], length)


def out(name: str, length: Length | None = None) -> ArgSpec:
    return ArgSpec(Role.OUT_STRUCT, name, STRUCT_SIZES[name], length)


def sized(name: str, length: Length | None = None) -> ArgSpec:
    return ArgSpec(Role.IN_SIZED_STRUCT, name, STRUCT_SIZES[name], length)


def inout(name: str, length: Length | None = None) -> ArgSpec:
    return ArgSpec(Role.INOUT_STRUCT, name, STRUCT_SIZES[name], length)


def array(role: Role, name: str, count: Length) -> ArgSpec:
    return ArgSpec(role, name, STRUCT_SIZES[name], count)


def buf(role: Role, fd: int = 0) -> ArgSpec:
    """An I/O buffer of the descriptor in argument ``fd``: the bytes moved are the return value."""
    return ArgSpec(role, length=RET, fd=fd)


def iov(role: Role, count: int, fd: int = 0) -> ArgSpec:
    return ArgSpec(role, "iovec", STRUCT_SIZES["iovec"], arg(count), fd)


def msg(role: Role, fd: int = 0) -> ArgSpec:
    return ArgSpec(role, "msghdr", STRUCT_SIZES["msghdr"], fd=fd)


def mmsg(role: Role, fd: int = 0) -> ArgSpec:
    """sendmmsg's or recvmmsg's mmsghdr array, its count in argument 2."""
    return ArgSpec(role, "mmsghdr", STRUCT_SIZES["mmsghdr"], arg(2), fd)


def out_string(length: Length) -> ArgSpec:
    return ArgSpec(Role.OUT_STRING, "string", 0, length)


# What the pointer fields of small structs point to (Pointee): a sock_fprog's
# instructions (len, an unsigned short, at 0; filter at 8; BPF_MAXINSNS at
# most); the register set behind ptrace's iovec (iov_base at 0, iov_len at 8;
# at most a user_fpregs_struct, the largest strace prints: GETREGSET's at exit,
# SETREGSET's at entry, its iovec read at exit too for the iov_len the kernel
# sets); pselect6's and io_pgetevents' sigmask (their struct sigset_argpack:
# ss at 0, ss_len at 8; strace prints one of 8 bytes).
SOCK_FILTER = Pointee("sock_filter", ptr=8, count_at=0, width=2, elem=8, most=4096)
REGSET = Pointee("regset", ptr=0, count_at=8, width=8, elem=0, most=512)
SIGMASK = Pointee("sigset", ptr=0, count_at=8, width=8, elem=0, most=8)
SOCK_FPROG = ArgSpec(Role.IN_STRUCT, "sock_fprog", 16, then=(SOCK_FILTER,))
SIGSET_ARGPACK = ArgSpec(Role.IN_STRUCT, "sigset_argpack", 16, then=(SIGMASK,))
# PIO_UNIMAP's struct unimapdesc: entry_ct (a short) at 0, entries at 8
UNIPAIRS = Pointee("unipair", ptr=8, count_at=0, width=2, elem=4, most=1024)
# the items of an array a Pointee recorded whose own pointers are followed (in_items)
ITEMS_FOLLOWED = 32
# io_uring_register's arrays behind its structs (strace prints them item by item: at
# most URING_ITEMS_MAX of them are recorded): io_uring_files_update's fds (at 8, of
# nr_args, the call's argument 3); io_uring_rsrc_register's and io_uring_rsrc_update2's
# data (files or iovecs) and tags (u64s) after it, of their u32 nr
URING_ITEMS_MAX = 2048     # 16-byte iovecs: 32 KiB, a bpf record's most
URING_FDS = Pointee("int", ptr=8, count_at=0, width=4, elem=4, most=URING_ITEMS_MAX,
                    count_arg=3)


def rsrc_arrays(ptr: int, nr_at: int, elem: str) -> tuple[Pointee, ...]:
    """The data array (of ``elem``) at ``ptr`` and the tags after it, nr_at's count each."""
    return tuple(Pointee(name, ptr=at, count_at=nr_at, width=4, elem=STRUCT_SIZES[name],
                         most=URING_ITEMS_MAX) for name, at in ((elem, ptr), ("long", ptr + 8)))


def _at_exit(*then: Pointee) -> tuple[Pointee, ...]:
    return tuple(p._replace(at_exit=True) for p in then)


RBUF = buf(Role.OUT_BUF)
WBUF = buf(Role.IN_BUF)
FDSET = ArgSpec(Role.INOUT_STRUCT, "fd_set", 0, Length(Len.FDSET, 0))


INTERRUPTED_TIMESPEC = ArgSpec(Role.OUT_INTERRUPTED, "timespec", STRUCT_SIZES["timespec"])


def nodemask(role: Role, maxnode_arg: int) -> ArgSpec:
    return array(role, "long", Length(Len.NODEMASK, maxnode_arg))


SOCKADDR_STORAGE = 128    # the most of a sockaddr strace reads


def sockaddr_in(len_arg: int) -> ArgSpec:
    """A sockaddr read in, its length in argument ``len_arg`` (its first
    SOCKADDR_STORAGE bytes when the rest cannot be read, as strace reads it)."""
    return ArgSpec(Role.IN_STRUCT, "sockaddr", SOCKADDR_STORAGE, arg(len_arg))


def sockaddr_out(len_ptr_arg: int) -> ArgSpec:
    """A sockaddr written out, its length written back through ``len_ptr_arg``
    (the address's own, which may pass the end of the buffer: PAGE_PART_STRUCTS)."""
    return out("sockaddr", argptr(len_ptr_arg))


# ---------------------------------------------------------------------------
# The explicit plans, by syscall name (arguments the table leaves out are VALUE)

PLANS: dict[str, Plan] = {
    # files and paths
    "open": (P, V, V), "creat": (P, V), "openat": (V, P, V, V),
    "openat2": (V, P, in_("open_how", arg(3)), V),
    "stat": (P, out("stat")), "lstat": (P, out("stat")), "fstat": (V, out("stat")),
    "newfstatat": (V, P, out("stat"), V),
    "statx": (V, P, V, V, out("statx")),
    "statfs": (P, out("statfs")), "fstatfs": (V, out("statfs")),
    "access": (P, V), "faccessat": (V, P, V), "faccessat2": (V, P, V, V),
    "readlink": (P, out_string(RET), V), "readlinkat": (V, P, out_string(RET), V),
    "getcwd": (out_string(RET), V),
    "chdir": (P,), "chroot": (P,), "mkdir": (P, V), "mkdirat": (V, P, V),
    "rmdir": (P,), "unlink": (P,), "unlinkat": (V, P, V),
    "rename": (P, P), "renameat": (V, P, V, P), "renameat2": (V, P, V, P, V),
    "link": (P, P), "linkat": (V, P, V, P, V),
    "symlink": (S, P), "symlinkat": (S, V, P),
    "chmod": (P, V), "fchmodat": (V, P, V), "fchmodat2": (V, P, V, V),
    "chown": (P, V, V), "lchown": (P, V, V), "fchownat": (V, P, V, V, V),
    "truncate": (P, V), "mknod": (P, V, V), "mknodat": (V, P, V, V),
    "utime": (P, in_("utimbuf")), "utimes": (P, array(Role.IN_ARRAY, "timeval", fixed(2))),
    "futimesat": (V, P, array(Role.IN_ARRAY, "timeval", fixed(2))),
    "utimensat": (V, P, array(Role.IN_ARRAY, "timespec", fixed(2)), V),
    "getdents": (V, out("dirents", RET), V), "getdents64": (V, out("dirents", RET), V),
    "inotify_add_watch": (V, P, V),
    "mount": (S, P, S, V, S), "umount2": (P, V),
    "fsopen": (S, V),
    "mount_setattr": (V, P, V, in_("mount_attr", arg(4)), V),
    "move_mount": (V, P, V, P, V),
    "swapon": (P, V), "swapoff": (P,), "acct": (P,), "pivot_root": (P, P),
    "memfd_create": (S, V),
    "landlock_create_ruleset": (in_("landlock_ruleset_attr", arg(1)), V, V),
    "mq_open": (S, V, V, in_("mq_attr")), "mq_unlink": (S,),
    "mq_getsetattr": (V, in_("mq_attr"), out("mq_attr")),
    "mq_timedsend": (V, in_("bytes", arg(2)), V, V, in_("timespec")),
    "mq_timedreceive": (V, RBUF, V, out("int"), in_("timespec")),
    "mq_notify": (V, in_("sigevent")),
    "io_uring_setup": (V, inout("io_uring_params")),
    "quotactl": (V, P, V, V),
    "_sysctl": (in_("sysctl_args"),),
    "io_setup": (V, out("long")),
    "io_submit": (V, V, ArgSpec(Role.IN_IOCBS, "long", STRUCT_SIZES["long"], arg(1))),
    "io_cancel": (V, in_("iocb"), V),
    "io_getevents": (V, V, V, array(Role.OUT_ARRAY, "io_event", RET), in_("timespec")),
    "io_pgetevents": (V, V, V, array(Role.OUT_ARRAY, "io_event", RET), in_("timespec"),
                      SIGSET_ARGPACK),
    "io_uring_enter": (V, V, V, V, in_("sigset", arg(5)), V),
    "setxattr": (P, S, in_("bytes", arg(3)), V, V),
    "lsetxattr": (P, S, in_("bytes", arg(3)), V, V),
    "fsetxattr": (V, S, in_("bytes", arg(3)), V, V),
    "getxattr": (P, S, out("bytes", RET), V), "lgetxattr": (P, S, out("bytes", RET), V),
    "fgetxattr": (V, S, out("bytes", RET), V),
    "listxattr": (P, out("bytes", RET), V), "llistxattr": (P, out("bytes", RET), V),
    "flistxattr": (V, out("bytes", RET), V),
    "removexattr": (P, S), "lremovexattr": (P, S), "fremovexattr": (V, S),
    # I/O
    "read": (V, RBUF, V), "write": (V, WBUF, V),
    "pread64": (V, RBUF, V, V), "pwrite64": (V, WBUF, V, V),
    "readv": (V, iov(Role.OUT_IOVEC, 2), V), "writev": (V, iov(Role.IN_IOVEC, 2), V),
    "preadv": (V, iov(Role.OUT_IOVEC, 2), V, V, V),
    "pwritev": (V, iov(Role.IN_IOVEC, 2), V, V, V),
    "preadv2": (V, iov(Role.OUT_IOVEC, 2), V, V, V, V),
    "pwritev2": (V, iov(Role.IN_IOVEC, 2), V, V, V, V),
    "sendfile": (V, V, inout("long"), V),
    "copy_file_range": (V, in_("long"), V, in_("long"), V, V),
    "splice": (V, in_("long"), V, in_("long"), V, V),
    "vmsplice": (V, iov(Role.IN_IOVEC, 2), V, V),
    # the local iovecs (no descriptor: STRU iovdata), the remote ones (addresses)
    "process_vm_readv": (V, iov(Role.OUT_IOVEC, 2, fd=-1), V,
                         array(Role.IN_ARRAY, "iovec", arg(4)), V, V),
    "process_vm_writev": (V, iov(Role.IN_IOVEC, 2, fd=-1), V,
                          array(Role.IN_ARRAY, "iovec", arg(4)), V, V),
    "pipe": (array(Role.OUT_ARRAY, "int", fixed(2)),),
    "pipe2": (array(Role.OUT_ARRAY, "int", fixed(2)), V),
    "ioctl": (V, V, ArgSpec(Role.IOC, "ioc", 0, Length(Len.IOC_SIZE, 1))),
    # sockets
    "connect": (V, sockaddr_in(2), V), "bind": (V, sockaddr_in(2), V),
    "accept": (V, sockaddr_out(2), inout("int")),
    "accept4": (V, sockaddr_out(2), inout("int"), V),
    "getsockname": (V, sockaddr_out(2), inout("int")),
    "getpeername": (V, sockaddr_out(2), inout("int")),
    "sendto": (V, WBUF, V, V, sockaddr_in(5), V),
    "recvfrom": (V, RBUF, V, V, sockaddr_out(5), inout("int")),
    "sendmsg": (V, msg(Role.IN_MSGHDR), V), "recvmsg": (V, msg(Role.OUT_MSGHDR), V),
    "sendmmsg": (V, mmsg(Role.IN_MMSGHDR), V, V),
    "recvmmsg": (V, mmsg(Role.OUT_MMSGHDR), V, V, inout("timespec")),
    "socketpair": (V, V, V, array(Role.OUT_ARRAY, "int", fixed(2))),
    # optval: optlen bytes, or the int most options are when the rest cannot be read
    "setsockopt": (V, V, V, ArgSpec(Role.IN_STRUCT, "bytes", 4, arg(4)), V),
    "getsockopt": (V, V, V, out("bytes", argptr(4)), inout("int")),
    # waiting
    "poll": (array(Role.INOUT_ARRAY, "pollfd", arg(1)), V, V),
    "ppoll": (array(Role.INOUT_ARRAY, "pollfd", arg(1)), V, inout("timespec"),
              in_("sigset", arg(4)), V),
    "select": (V, FDSET, FDSET, FDSET, inout("timeval")),
    "pselect6": (V, FDSET, FDSET, FDSET, inout("timespec"), SIGSET_ARGPACK),
    "epoll_wait": (V, array(Role.OUT_ARRAY, "epoll_event", RET), V, V),
    "epoll_pwait": (V, array(Role.OUT_ARRAY, "epoll_event", RET), V, V, in_("sigset"), V),
    "epoll_pwait2": (V, array(Role.OUT_ARRAY, "epoll_event", RET), V, in_("timespec"),
                     in_("sigset"), V),
    "epoll_ctl": (V, V, V, in_("epoll_event")),
    "nanosleep": (in_("timespec"), INTERRUPTED_TIMESPEC),
    "clock_nanosleep": (V, V, in_("timespec"), INTERRUPTED_TIMESPEC),
    "wait4": (V, out("int"), V, out("rusage")),
    "waitid": (V, V, out("siginfo"), V, out("rusage")),
    # time
    "clock_gettime": (V, out("timespec")), "clock_getres": (V, out("timespec")),
    "clock_settime": (V, in_("timespec")),
    "gettimeofday": (out("timeval"), out("timezone")),
    "settimeofday": (in_("timeval"), in_("timezone")),
    "getitimer": (V, out("itimerval")), "setitimer": (V, in_("itimerval"), out("itimerval")),
    "timer_settime": (V, V, in_("itimerspec"), out("itimerspec")),
    "timer_gettime": (V, out("itimerspec")),
    "timerfd_settime": (V, V, in_("itimerspec"), out("itimerspec")),
    "timerfd_gettime": (V, out("itimerspec")),
    "time": (out("long"),),
    "times": (out("tms"),),
    # signals
    "rt_sigaction": (V, in_("sigaction"), out("sigaction"), V),
    "rt_sigprocmask": (V, in_("sigset", arg(3)), out("sigset", arg(3)), V),
    "rt_sigpending": (out("sigset", arg(1)), V),
    "rt_sigsuspend": (in_("sigset", arg(1)), V),
    "rt_sigtimedwait": (in_("sigset", arg(3)), out("siginfo"), in_("timespec"), V),
    "rt_sigqueueinfo": (V, V, in_("siginfo")),
    "rt_tgsigqueueinfo": (V, V, V, in_("siginfo")),
    "pidfd_send_signal": (V, V, in_("siginfo"), V),
    "sigaltstack": (in_("stack"), out("stack")),
    "signalfd4": (V, in_("sigset", arg(2)), V, V), "signalfd": (V, in_("sigset", arg(2)), V),
    # processes and resources
    "execve": (P, ArgSpec(Role.ARGV), ArgSpec(Role.ENVP)),
    "execveat": (V, P, ArgSpec(Role.ARGV), ArgSpec(Role.ENVP), V),
    "clone3": (ArgSpec(Role.CLONE_ARGS, "clone_args", STRUCT_SIZES["clone_args"], arg(1)), V),
    "getrlimit": (V, out("rlimit")), "setrlimit": (V, in_("rlimit")),
    "prlimit64": (V, V, in_("rlimit"), out("rlimit")),
    "getrusage": (V, out("rusage")),
    "uname": (out("utsname"),), "sysinfo": (out("sysinfo"),),
    "getrandom": (out("bytes", RET), V, V),
    "sched_getaffinity": (V, V, out("cpuset", RET)),
    "sched_setaffinity": (V, V, in_("cpuset", arg(1))),
    "sched_getparam": (V, out("sched_param")),
    "sched_setparam": (V, in_("sched_param")),
    "sched_setscheduler": (V, V, in_("sched_param")),
    "sched_rr_get_interval": (V, out("timespec")),
    "get_robust_list": (V, out("long"), out("long")),
    "timer_create": (V, in_("sigevent"), out("int")),
    "clock_adjtime": (V, inout("timex")),
    "futex_waitv": (array(Role.IN_ARRAY, "futex_waitv", arg(1)), V, V, in_("timespec"), V),
    "getcpu": (out("int"), out("int"), V),
    "sched_getattr": (V, out("sched_attr"), V, V),
    "sched_setattr": (V, sized("sched_attr"), V),
    "getgroups": (V, ArgSpec(Role.OUT_ARRAY, "int", 4, RET)),
    "setgroups": (V, ArgSpec(Role.IN_ARRAY, "int", 4, arg(0))),
    "getresuid": (out("int"), out("int"), out("int")),
    "getresgid": (out("int"), out("int"), out("int")),
    "capget": (inout("cap_header"), out("cap_data")),
    "capset": (in_("cap_header"), in_("cap_data")),
    "sethostname": (in_("string", arg(1)), V),
    "lookup_dcookie": (V, out("bytes", RET), V),
    "setdomainname": (in_("string", arg(1)), V),
    "adjtimex": (inout("timex"),),
    "prctl": (V, V, V, V, V),
    "modify_ldt": (V, in_("user_desc"), V),
    "bpf": (V, in_("bytes", arg(2)), V),
    # get_thread_area reads only the entry_number (x86-64 has no 64-bit one: ENOSYS)
    "set_thread_area": (inout("user_desc"),), "get_thread_area": (in_("int"),),
    "fcntl": (V, V, V),
    "futex": (V, V, V, V, V, V),
    # SysV IPC (msgctl, semctl, shmctl: by their command, in SELECTORS)
    # struct msgbuf: mtype, then msgsz bytes of mtext (strace prints msgsz of them
    # at msgrcv's exit too, whatever it received)
    "msgsnd": (V, in_("msgbuf", Length(Len.ARG, 2, add=8)), V, V),
    "msgrcv": (V, out("msgbuf", Length(Len.ARG, 2, add=8)), V, V, V),
    "semop": (V, array(Role.IN_ARRAY, "sembuf", arg(2)), V),
    "semtimedop": (V, array(Role.IN_ARRAY, "sembuf", arg(2)), V, in_("timespec")),
    # keys (keyctl: by its command, in SELECTORS)
    "add_key": (S, S, in_("bytes", arg(3)), V, V),
    "request_key": (S, S, S, V),
    # modules, kexec
    "init_module": (V, V, S), "finit_module": (V, S, V), "delete_module": (S, V),
    "kexec_load": (V, V, array(Role.IN_ARRAY, "kexec_segment", arg(1)), V),
    "kexec_file_load": (V, V, V, in_("bytes", arg(2)), V),
    "process_madvise": (V, array(Role.IN_ARRAY, "iovec", arg(2)), V, V, V),
    # perf_event_attr: extensible (its size field); PERF_ATTR_SIZE_VER0 known
    "perf_event_open": (sized("perf_event_attr", fixed(128)), V, V, V, V),
    # NUMA: a nodemask of maxnode - 1 bits, an array of longs (strace reads
    # them one by one: those before an unreadable page are shown)
    "mbind": (V, V, V, nodemask(Role.IN_ARRAY, 4), V, V),
    "set_mempolicy": (V, nodemask(Role.IN_ARRAY, 2), V),
    "get_mempolicy": (out("int"), nodemask(Role.OUT_ARRAY, 2), V, V, V),
    "migrate_pages": (V, V, nodemask(Role.IN_ARRAY, 1), nodemask(Role.IN_ARRAY, 1)),
    "mincore": (V, V, out("bytes", Length(Len.PAGES, 1))),
    "move_pages": (V, V, array(Role.IN_ARRAY, "long", arg(1)),
                   array(Role.IN_ARRAY, "int", arg(1)), array(Role.OUT_ARRAY, "int", arg(1)), V),
}



class Selector(NamedTuple):
    """Arguments whose role depends on the value of another argument.

    ``cases`` maps ``args[arg] & mask`` to {argument index: ArgSpec}.
    """

    arg: int
    mask: int
    cases: dict


# An ioctl request's _IOC fields (asm-generic/ioctl.h): direction and argument size
IOC_DIR_SHIFT, IOC_SIZE_SHIFT, IOC_SIZE_MASK = 30, 16, 0x3FFF
IOC_WRITE, IOC_READ = 1, 2      # _IOC_DIR bits: the driver reads, writes the argument


def ioc_dir(request: int) -> int:
    return request >> IOC_DIR_SHIFT & (IOC_WRITE | IOC_READ)


def ioc_size(request: int) -> int:
    return request >> IOC_SIZE_SHIFT & IOC_SIZE_MASK


TCGETS, TCSETS, TCSETSW, TCSETSF = 0x5401, 0x5402, 0x5403, 0x5404
TIOCGPGRP, TIOCSPGRP, TIOCGWINSZ, TIOCSWINSZ = 0x540F, 0x5410, 0x5413, 0x5414
FIONREAD, FIONBIO = 0x541B, 0x5421
TCGETA, TCSETA, TCSETAW, TCSETAF, TERMIO_SIZE = 0x5405, 0x5406, 0x5407, 0x5408, 18
TIOCMBIS, TIOCMBIC, TIOCMSET = 0x5416, 0x5417, 0x5418
TIOCGLCKTRMIOS, TIOCSLCKTRMIOS = 0x5456, 0x5457
NS_GET_OWNER_UID = 0xB704   # _IO(0xb7, 4), yet it stores a uid through its argument
# perf's requests whose argument is a pointer's size, not its struct's or string's
PERF_EVENT_IOC_SET_FILTER, PERF_EVENT_IOC_MODIFY_ATTRIBUTES = 0x40082406, 0x4008240B
SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR = 0x80082102  # an _IOR whose id the kernel reads
FS_IOC_GETFLAGS, FS_IOC_SETFLAGS = 0x80086601, 0x40086602  # a long by _IOC, an int in use
UFFDIO_UNREGISTER, UFFDIO_WAKE = 0x8010AA01, 0x8010AA02    # _IORs whose range the kernel reads
# ioctl requests whose _IOC bits do not say what the argument is (numbers from
# before _IOC, bits that mislead), by family: request -> {2: its spec}.  A
# struct whose size the bits do not give is "ioc" with a fixed length, as the
# bits' is (the decoders read STRU ioc either way).
IOCTL_TTY = {
    TCGETS: {2: out("termios")},
    TCSETS: {2: in_("termios")}, TCSETSW: {2: in_("termios")}, TCSETSF: {2: in_("termios")},
    TIOCGWINSZ: {2: out("winsize")}, TIOCSWINSZ: {2: in_("winsize")},
    TIOCGPGRP: {2: out("int")}, TIOCSPGRP: {2: in_("int")},
    FIONREAD: {2: out("int")}, FIONBIO: {2: in_("int")},
    TCGETA: {2: out("ioc", fixed(TERMIO_SIZE))},
    TCSETA: {2: in_("ioc", fixed(TERMIO_SIZE))}, TCSETAW: {2: in_("ioc", fixed(TERMIO_SIZE))},
    TCSETAF: {2: in_("ioc", fixed(TERMIO_SIZE))},
    TIOCGLCKTRMIOS: {2: out("termios")}, TIOCSLCKTRMIOS: {2: in_("termios")},
    TIOCMBIS: {2: in_("int")}, TIOCMBIC: {2: in_("int")}, TIOCMSET: {2: in_("int")},
}


def ioc_part(role: Role, known: int, whole: int) -> ArgSpec:
    """An old-style request's struct of ``whole`` bytes, of which strace prints
    the first ``known`` alone when the rest cannot be read."""
    return ArgSpec(role, "ioc", known, fixed(whole))


KDGKBENT, KDSKBENT, KDGKBSENT, KDSKBSENT, KDSKBDIACR = 0x4B46, 0x4B47, 0x4B48, 0x4B49, 0x4B4B
KDKBDREP = 0x4B52
GIO_UNIMAP, GIO_FONTX, KDFONTOP, KDSKBDIACRUC = 0x4B66, 0x4B6B, 0x4B72, 0x4BFB
PIO_SCRNMAP, PIO_FONT, PIO_CMAP, PIO_UNISCRNMAP = 0x4B41, 0x4B61, 0x4B71, 0x4B6A
PIO_UNIMAP, PIO_UNIMAPCLR, KDGETKEYCODE, KDSETKEYCODE = 0x4B67, 0x4B68, 0x4B4C, 0x4B4D
# strace reads a table it prints as a string or an array no further than it
# prints: -s (32) chars or elements, and one more to know there is more
SHOWN = 32 + 1
# KDFONTOP's console_font_op: the first bytes of its font (data at 24), as
# many as strace prints of it (a SET's, a GET's answer; a SET_DEFAULT's name)
FONT_DATA = Pointee("fontdata", ptr=24, count_at=0, width=0, elem=1, most=SHOWN)
IOCTL_KD = {
    # kbentry: table, index, value; kbsentry: func, string[512]
    KDGKBENT: {2: ioc_part(Role.INOUT_STRUCT, 2, 4)}, KDSKBENT: {2: ioc_part(Role.IN_STRUCT, 2, 4)},
    KDGKBSENT: {2: ioc_part(Role.INOUT_STRUCT, 1, 513)},
    KDSKBSENT: {2: ioc_part(Role.IN_STRUCT, 1, 513)},
    KDKBDREP: {2: inout("ioc", fixed(8))},          # kbd_repeat: delay, period
    # kbdiacrs, kbdiacrsuc: kb_cnt, 256 entries of 3 chars, of 3 ints
    KDSKBDIACR: {2: ioc_part(Role.IN_STRUCT, 4, 4 + 256 * 3)},
    KDSKBDIACRUC: {2: ioc_part(Role.IN_STRUCT, 4, 4 + 256 * 12)},
    # unimapdesc, consolefontdesc, console_font_op
    GIO_UNIMAP: {2: inout("ioc", fixed(16))}, GIO_FONTX: {2: inout("ioc", fixed(16))},
    KDFONTOP: {2: inout("ioc", fixed(32))._replace(
        then=(FONT_DATA, FONT_DATA._replace(at_exit=True)))},
    # the tables: screen map (256 chars), font (8192), colour map (48), and 256
    # unicode shorts; unimapdesc, unimapinit; kbkeycode: scancode, keycode
    PIO_SCRNMAP: {2: ioc_part(Role.IN_STRUCT, SHOWN, 256)},
    PIO_FONT: {2: ioc_part(Role.IN_STRUCT, SHOWN, 8192)},
    PIO_CMAP: {2: ioc_part(Role.IN_STRUCT, SHOWN, 48)},
    PIO_UNISCRNMAP: {2: in_("ioc", fixed(512))},     # (print_array: to its first page's end)
    PIO_UNIMAP: {2: in_("ioc", fixed(16))._replace(then=(UNIPAIRS,))},
    PIO_UNIMAPCLR: {2: in_("ioc", fixed(6))},
    KDGETKEYCODE: {2: inout("ioc", fixed(8))}, KDSETKEYCODE: {2: in_("ioc", fixed(8))},
}
SIOCGIFCONF = 0x8912
# sockios.h's requests whose argument is an int: got (the owner, the pgrp, at
# the mark) and given; a bridge's name (char[IFNAMSIZ]); a struct ifreq given
# (SIOCS*, the bridge's port), and read in and written back (SIOCGIFINDEX's
# name, SIOCGIFNAME's index)
FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP, SIOCATMARK = 0x8901, 0x8902, 0x8903, 0x8904, 0x8905
SIOCSIFENCAP, SIOCBRADDBR, SIOCBRDELBR, SIOCBRADDIF, SIOCBRDELIF = 0x8926, 0x89A0, 0x89A1, \
    0x89A2, 0x89A3
SIOCGIFNAME, SIOCGIFINDEX, IFNAMSIZ, IFREQ_SIZE = 0x8910, 0x8933, 16, 40
SIOCS_IFREQ = (
    0x8914, 0x8916, 0x8918, 0x891A, 0x891C, 0x891E, 0x8922, 0x8923, 0x8924, 0x8930,  # SIOCSIF*
    0x8931, 0x8932,                 # SIOCADDMULTI, SIOCDELMULTI
    0x8937, 0x8943, 0x8971)         # SIOCSIFHWBROADCAST, SIOCSIFTXQLEN, SIOCSIFMAP
# SIOCGIFCONF's answer: the ifreqs in ifc_buf (at 8), of the ifc_len (at 0)
# the kernel set, as many as strace prints
IFREQS = Pointee("ifreqs", ptr=8, count_at=0, width=4, elem=0, most=SHOWN * IFREQ_SIZE,
                 at_exit=True)
IOCTL_SOCK = {
    SIOCGIFCONF: {2: inout("ioc", fixed(16))._replace(then=(IFREQS,))},  # ifconf
    **{req: {2: out("ioc", fixed(4))} for req in (FIOGETOWN, SIOCGPGRP, SIOCATMARK)},
    **{req: {2: in_("ioc", fixed(4))} for req in (FIOSETOWN, SIOCSPGRP, SIOCSIFENCAP)},
    **{req: {2: in_("ioc", fixed(IFNAMSIZ))} for req in (SIOCBRADDBR, SIOCBRDELBR)},
    **{req: {2: in_("ioc", fixed(IFREQ_SIZE))}
       for req in (*SIOCS_IFREQ, SIOCBRADDIF, SIOCBRDELIF)},
    **{req: {2: inout("ioc", fixed(IFREQ_SIZE))} for req in (SIOCGIFNAME, SIOCGIFINDEX)},
}
# RNDADDENTROPY's rand_pool_info: entropy_count, buf_size (at 4), then buf_size bytes
RNDADDENTROPY, RAND_POOL_HEAD = 0x40085203, 8
IOCTL_MISC = {
    RNDADDENTROPY: {2: ArgSpec(Role.IN_STRUCT, "ioc", RAND_POOL_HEAD,
                               Length(Len.ARG_PTR, 2, at=4, add=RAND_POOL_HEAD))},
    NS_GET_OWNER_UID: {2: out("int")},
    PERF_EVENT_IOC_SET_FILTER: {2: S},
    PERF_EVENT_IOC_MODIFY_ATTRIBUTES: {2: in_("perf_event_attr", fixed(128))},
    SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR: {2: in_("long")},
    FS_IOC_GETFLAGS: {2: out("int")}, FS_IOC_SETFLAGS: {2: in_("int")},
    UFFDIO_UNREGISTER: {2: in_("ioc", fixed(16))}, UFFDIO_WAKE: {2: in_("ioc", fixed(16))},
}
# scsi/sg.h's requests (numbers from before _IOC): SG_IO's header, a v4 (bsg.h) or,
# when that much cannot be read, a v3 one (the first int tells them apart), or that
# int alone, what strace reads first; the ints SG_SCSI_RESET and the SG_SET_*s most
# in use read
SG_IO, SG_SCSI_RESET, SG_IO_V3_SIZE, SG_IO_V4_SIZE = 0x2285, 0x2284, 88, 160
SG_SET_TIMEOUT, SG_SET_COMMAND_Q, SG_SET_RESERVED_SIZE = 0x2201, 0x2271, 0x2275
SG_SET_FORCE_PACK_ID, SG_NEXT_CMD_LEN, SG_SET_KEEP_ORPHAN = 0x227B, 0x2283, 0x2287
SG_SET_FORCE_LOW_DMA, SG_SET_DEBUG = 0x2279, 0x227E


def sg_bytes(kind: str, name: str, ptr: int, count_at: int, width: int) -> Pointee:
    """A buffer of a ``kind`` header: bytes, their first page's part when not
    all can be read (strace reads no more than -s of them)."""
    return Pointee(name, ptr=ptr, count_at=count_at, width=width, elem=1, most=MAX_STRING,
                   first_int=ord(kind))


def sg_transfer(kind: str, name: str, ptr: int, len_at: int, count_at: int,
                count_width: int) -> tuple[Pointee, ...]:
    """A transfer's buffer (``len_at``'s u32 bytes), or with an iovec count not
    0 its iovecs (the -s strace prints, and the one after it reads: print_array)
    and their data, each cut by strace at what is left of the transfer's
    length (their first page's part, then)."""
    return (sg_bytes(kind, f"{name}data", ptr, len_at, 4),
            Pointee(f"{name}iovec", ptr=ptr, count_at=count_at, width=count_width,
                    elem=STRUCT_SIZES["iovec"], most=ITEMS_FOLLOWED + 1, first_int=ord(kind)),
            Pointee(f"{name}iov_data", ptr=0, count_at=8, width=8, elem=0, most=MAX_STRING,
                    in_items=True, part=True, first_int=ord(kind)))


# What SG_IO's header points to, by its kind: v3's (scsi/sg.h's sg_io_hdr) cmdp
# (cmd_len, a u8, at 8), dxferp (dxfer_len at 12; iovec_count, a u16, at 10),
# sbp (sb_len_wr, a u8, at 67); v4's (bsg.h) request (request_len at 12),
# dout_xferp (dout_xfer_len at 60, dout_iovec_count at 56), response
# (response_len at 132), din_xferp (din_xfer_len at 68, din_iovec_count at 64).
# The driver reads the command and the data out, writes the sense data (the
# response) and the data in; strace prints those it writes at exit whatever
# the result: as given (a failed call's memory, recorded at entry) and as a
# successful call left them (a v3 dxferp's bytes are either, by its direction).
SG_V3_DATA = sg_transfer("S", "sg_", ptr=16, len_at=12, count_at=10, count_width=2)
SG_V3_SENSE = sg_bytes("S", "sg_sense", ptr=32, count_at=67, width=1)
SG_V4_RESPONSE = sg_bytes("Q", "sg_sense", ptr=48, count_at=132, width=4)
SG_V4_DIN = sg_transfer("Q", "sg_", ptr=80, len_at=68, count_at=64, count_width=4)
SG_IO_BUFFERS = (
    sg_bytes("S", "sg_cmd", ptr=24, count_at=8, width=1), *SG_V3_DATA, SG_V3_SENSE,
    *_at_exit(*SG_V3_DATA, SG_V3_SENSE),
    sg_bytes("Q", "sg_cmd", ptr=16, count_at=12, width=4),
    *sg_transfer("Q", "sg_dout_", ptr=72, len_at=60, count_at=56, count_width=4),
    SG_V4_RESPONSE, *SG_V4_DIN, *_at_exit(SG_V4_RESPONSE, *SG_V4_DIN))
IOCTL_SCSI = {
    SG_IO: {2: ArgSpec(Role.INOUT_STRUCT, "ioc", STRUCT_SIZES["int"], fixed(SG_IO_V4_SIZE),
                       then=SG_IO_BUFFERS)},
    **{req: {2: in_("int")} for req in (
        SG_SCSI_RESET, SG_SET_TIMEOUT, SG_SET_COMMAND_Q, SG_SET_RESERVED_SIZE,
        SG_SET_FORCE_PACK_ID, SG_NEXT_CMD_LEN, SG_SET_KEEP_ORPHAN, SG_SET_FORCE_LOW_DMA,
        SG_SET_DEBUG)},
}
# tee.h's requests the driver reads though their bits say _IOR: a buf_data
# (buf_ptr at 0, buf_len at 8: the request's struct and params, read in, the
# answer written back there; at most TEE_MAX_ARG_SIZE), CANCEL's and
# CLOSE_SESSION's structs
TEE_IOC_OPEN_SESSION, TEE_IOC_INVOKE, TEE_IOC_CANCEL = 0x8010A402, 0x8010A403, 0x8008A404
TEE_IOC_CLOSE_SESSION, TEE_IOC_SUPPL_RECV, TEE_IOC_SUPPL_SEND = 0x8004A405, 0x8010A406, 0x8010A407
TEE_BUF = Pointee("teebuf", ptr=0, count_at=8, width=8, elem=0, most=4096)
IOCTL_TEE = {
    **{req: {2: inout("ioc", fixed(16))._replace(then=(TEE_BUF, TEE_BUF._replace(at_exit=True)))}
       for req in (
        TEE_IOC_OPEN_SESSION, TEE_IOC_INVOKE, TEE_IOC_SUPPL_RECV, TEE_IOC_SUPPL_SEND)},
    TEE_IOC_CANCEL: {2: in_("ioc", fixed(8))}, TEE_IOC_CLOSE_SESSION: {2: in_("ioc", fixed(4))},
}
# mtd's and ubi's requests whose struct the driver reads though the bits say
# _IOR (OTPSELECT, OTPLOCK, MEMISLOCKED, UBI_IOCEBISMAP), or whose struct is
# larger than the bits say (UBI_IOCEBCH: an __s32 by _IOC, a ubi_leb_change_req
# in use); device-mapper's below
OTPSELECT, OTPLOCK, MEMISLOCKED = 0x80044D0D, 0x800C4D10, 0x80084D17
UBI_IOCEBISMAP, UBI_IOCEBCH = 0x80044F05, 0x40044F02
DM_DEV_RENAME, DM_IOCTL_HEADER = 0xC138FD05, 305
DM_TABLE_LOAD, DM_TARGET_MSG, DM_DEV_SET_GEOMETRY = 0xC138FD09, 0xC138FD0E, 0xC138FD0F
# a dm_ioctl with its payload: data_size bytes (the u32 at 12), its header alone
# when those cannot be read
DM_WITH_DATA = inout("ioc", Length(Len.ARG_PTR, 2, at=12))._replace(size=DM_IOCTL_HEADER)
IOCTL_DM_MTD_UBI = {
    OTPSELECT: {2: in_("ioc", fixed(4))}, OTPLOCK: {2: in_("ioc", fixed(12))},
    MEMISLOCKED: {2: in_("ioc", fixed(8))},
    UBI_IOCEBISMAP: {2: in_("ioc", fixed(4))}, UBI_IOCEBCH: {2: in_("ioc", fixed(16))},
    # a dm_ioctl's header (up to its data) is what the driver reads first: a
    # caller may pass no more than that and its payload
    **{req: {2: DM_WITH_DATA}
       for req in (DM_DEV_RENAME, DM_TABLE_LOAD, DM_TARGET_MSG, DM_DEV_SET_GEOMETRY)},
}
# hdreg.h's, fs.h's and loop.h's requests from before _IOC (and BLKBSZSET) that
# read memory the caller gives: what each reads (HDIO_DRIVE_CMD's header the
# drive's status overwrites); the getters of this kind are left to their address
HDIO_DRIVE_RESET, HDIO_DRIVE_CMD, HDIO_SCAN_HWIF = 0x031C, 0x031F, 0x0328
BLKROSET, BLKPG, BLKDISCARD, BLKSECDISCARD, BLKZEROOUT = 0x125D, 0x1269, 0x1277, 0x127D, 0x127F
BLKBSZSET = 0x40081271      # _IOW(0x12, 113, size_t), yet the kernel reads an int
LOOP_SET_STATUS, LOOP_SET_STATUS64, LOOP_CONFIGURE = 0x4C02, 0x4C04, 0x4C0A
# the one blkpg_partition behind a blkpg_ioctl_arg's data (at 16)
BLKPG_PARTITION = Pointee("blkpg_partition", ptr=16, count_at=0, width=0, elem=152, most=1)
IOCTL_BLOCK = {
    HDIO_DRIVE_CMD: {2: inout("ioc", fixed(4))},                # hd_drive_cmd_hdr
    HDIO_DRIVE_RESET: {2: in_("ioc", fixed(12))},               # int[3]
    HDIO_SCAN_HWIF: {2: in_("ioc", fixed(12))},
    BLKROSET: {2: in_("ioc", fixed(4))}, BLKBSZSET: {2: in_("ioc", fixed(4))},   # int
    BLKPG: {2: in_("ioc", fixed(24))._replace(then=(BLKPG_PARTITION,))},  # blkpg_ioctl_arg
    **{req: {2: in_("ioc", fixed(16))} for req in (BLKDISCARD, BLKSECDISCARD, BLKZEROOUT)},
    LOOP_SET_STATUS: {2: in_("ioc", fixed(168))},               # loop_info
    LOOP_SET_STATUS64: {2: in_("ioc", fixed(232))},             # loop_info64
    LOOP_CONFIGURE: {2: in_("ioc", fixed(304))},                # loop_config
}
# videodev2.h's requests whose struct points to arrays strace prints: a
# v4l2_format's overlay window (fmt.win at 8: clips at 32, clipcount at 40; a
# v4l2_clip is a rect and a next pointer), the given one's at entry, the
# driver's at exit; a v4l2_ext_controls' controls (count at 4, controls at 24;
# a packed v4l2_ext_control of 20 bytes: a string control's size at 4, its
# string pointer at 12), read again at exit, as strace does
VIDIOC_G_FMT, VIDIOC_S_FMT, VIDIOC_TRY_FMT, V4L2_FORMAT_SIZE = 0xC0D05604, 0xC0D05605, \
    0xC0D05640, 0xD0
VIDIOC_G_EXT_CTRLS, VIDIOC_S_EXT_CTRLS, VIDIOC_TRY_EXT_CTRLS, V4L2_EXT_CONTROLS_SIZE = \
    0xC0205647, 0xC0205648, 0xC0205649, 0x20
V4L2_CLIPS = Pointee("v4l2_clip", ptr=32, count_at=40, width=4, elem=24, most=1024)
V4L2_CONTROLS = Pointee("v4l2_ext_control", ptr=24, count_at=4, width=4, elem=20, most=1024)
V4L2_CONTROL_STRING = Pointee("bytes", ptr=12, count_at=4, width=4, elem=0, most=MAX_STRING,
                              in_items=True)


def _v4l2(size: int, *then: Pointee) -> dict:
    return {2: inout("ioc", fixed(size))._replace(then=then)}


_CONTROLS = (V4L2_CONTROLS, V4L2_CONTROL_STRING)
IOCTL_V4L2 = {
    VIDIOC_G_FMT: _v4l2(V4L2_FORMAT_SIZE, *_at_exit(V4L2_CLIPS)),
    **{req: _v4l2(V4L2_FORMAT_SIZE, V4L2_CLIPS, *_at_exit(V4L2_CLIPS))
       for req in (VIDIOC_S_FMT, VIDIOC_TRY_FMT)},
    **{req: _v4l2(V4L2_EXT_CONTROLS_SIZE, *_CONTROLS, *_at_exit(*_CONTROLS))
       for req in (VIDIOC_G_EXT_CTRLS, VIDIOC_S_EXT_CTRLS, VIDIOC_TRY_EXT_CTRLS)},
}
# btrfs.h's and fs.h's type 0x94 requests whose bits do not say all:
# DEVICES_READY's vol_args (_IOR, yet read in); a subvolume's vol_args_v2
# (_IOW, yet the transid is written back; with its
# qgroup_inherit, of the size field's bytes: size at 24, the pointer at 32); a
# send's clone sources (count at 8, the u64 objectids at 16); FIDEDUPERANGE's
# file_dedupe_range, whose infos follow its head (dest_count, a u16 the
# kernel's zero reserved1 follows, at 16; 32 bytes each)
BTRFS_IOC_SNAP_CREATE_V2, BTRFS_IOC_SUBVOL_CREATE_V2, BTRFS_VOL_ARGS_SIZE = 0x50009417, \
    0x50009418, 4096
BTRFS_IOC_DEVICES_READY = 0x90009427
BTRFS_IOC_SEND, BTRFS_SEND_ARGS_SIZE = 0x40489426, 0x48
FIDEDUPERANGE, FILE_DEDUPE_RANGE_SIZE, FILE_DEDUPE_RANGE_INFO_SIZE = 0xC0189436, 24, 32
BTRFS_QGROUP_INHERIT = Pointee("btrfs_qgroup_inherit", ptr=32, count_at=24, width=8, elem=0,
                               most=MAX_STRING)
BTRFS_CLONE_SOURCES = Pointee("btrfs_clone_source", ptr=16, count_at=8, width=8, elem=8,
                              most=1024)
IOCTL_BTRFS = {
    BTRFS_IOC_DEVICES_READY: {2: in_("ioc", fixed(BTRFS_VOL_ARGS_SIZE))},
    **{req: {2: inout("ioc", fixed(BTRFS_VOL_ARGS_SIZE))._replace(then=(BTRFS_QGROUP_INHERIT,))}
       for req in (BTRFS_IOC_SNAP_CREATE_V2, BTRFS_IOC_SUBVOL_CREATE_V2)},
    BTRFS_IOC_SEND: {2: in_("ioc", fixed(BTRFS_SEND_ARGS_SIZE))._replace(
        then=(BTRFS_CLONE_SOURCES,))},
    FIDEDUPERANGE: {2: ArgSpec(Role.INOUT_STRUCT, "ioc", FILE_DEDUPE_RANGE_SIZE, Length(
        Len.ARG_PTR, 2, scale=FILE_DEDUPE_RANGE_INFO_SIZE, at=16, add=FILE_DEDUPE_RANGE_SIZE))},
}
# kvm's requests whose kvm_cpuid2 is larger than the bits say: its nent (the
# u32 at 0) entries of 40 bytes follow its 8-byte head (the head alone when
# those cannot be read); the getters' only at the exit, when the kernel has
# written them and their count
KVM_GET_SUPPORTED_CPUID, KVM_GET_EMULATED_CPUID = 0xC008AE05, 0xC008AE09
KVM_SET_CPUID2 = 0x4008AE90
KVM_RUN = 0xAE80
KVM_CPUID2 = Length(Len.ARG_PTR, 2, scale=40, add=8)
IOCTL_KVM = {
    KVM_GET_SUPPORTED_CPUID: {2: out("ioc", KVM_CPUID2)._replace(size=8)},
    KVM_GET_EMULATED_CPUID: {2: out("ioc", KVM_CPUID2)._replace(size=8)},
    KVM_SET_CPUID2: {2: in_("ioc", KVM_CPUID2)._replace(size=8)},
    # a case of its own (the default's arguments): the ptrace engine's plan of
    # it alone reads the exit reason (VCPU_EXITS), not every ioctl's
    KVM_RUN: {},
}
# (the bpf program looks at 128 cases of a call: tools/gen_bpf_plan.py's MAX_CASES)
IOCTL_ARGS = {**IOCTL_TTY, **IOCTL_KD, **IOCTL_SOCK, **IOCTL_MISC, **IOCTL_SCSI, **IOCTL_TEE,
              **IOCTL_BLOCK, **IOCTL_DM_MTD_UBI, **IOCTL_V4L2, **IOCTL_BTRFS, **IOCTL_KVM}

PR_SET_NAME, PR_GET_NAME = 15, 16
# prctl options that write an int (a pointer: PR_GET_TID_ADDRESS) through arg2
PR_GET_PDEATHSIG, PR_GET_UNALIGN, PR_GET_FPEMU, PR_GET_FPEXC, PR_GET_ENDIAN = 2, 5, 9, 11, 19
PR_GET_TSC, PR_GET_CHILD_SUBREAPER, PR_GET_TID_ADDRESS = 25, 37, 40
PR_SET_VMA = 0x53564D41  # PR_SET_VMA_ANON_NAME's name in arg5
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2      # its sock_fprog in arg3
PTRACE_PEEKTEXT, PTRACE_PEEKDATA, PTRACE_PEEKUSR, PTRACE_GETEVENTMSG = 1, 2, 3, 0x4201
PTRACE_GETSIGINFO, PTRACE_SETSIGINFO, PTRACE_GETREGSET, PTRACE_SETREGSET = 0x4202, 0x4203, \
    0x4204, 0x4205
PTRACE_PEEKSIGINFO, PTRACE_GETSIGMASK, PTRACE_SETSIGMASK = 0x4209, 0x420A, 0x420B
PTRACE_SECCOMP_GET_METADATA, PTRACE_GET_SYSCALL_INFO = 0x420D, 0x420E
PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_GETFPREGS, PTRACE_SETFPREGS = 12, 13, 14, 15
SECCOMP_SET_MODE_FILTER, SECCOMP_GET_ACTION_AVAIL, SECCOMP_GET_NOTIF_SIZES = 1, 2, 3
F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 5, 6, 7, 36, 37, 38
F_SETOWN_EX, F_GETOWN_EX = 15, 16
FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI, FUTEX_WAIT_REQUEUE_PI = 0, 9, 6, 11
FUTEX_LOCK_PI2 = 13
KCMP_EPOLL_TFD = 7      # kcmp's type whose idx2 points to a struct kcmp_epoll_slot
FUTEX_CMD_MASK = 0x7F   # op without FUTEX_PRIVATE_FLAG / FUTEX_CLOCK_REALTIME
CLONE_PIDFD = 0x1000    # clone() stores the pidfd through its parent_tid pointer
CLONE_ARGS_SET_TID = 64  # offset of clone_args' set_tid, set_tid_size follows
MAX_SET_TID = 32        # most set_tid entries (the kernel's and strace's limit)
# most bytes of a msghdr's msg_control recorded (STRU cmsghdr, the module's doc):
# strace reads up to optmem_max, the kernel's own limit of a socket's ancillary data
# (20 KiB on older kernels, 128 KiB on newer ones), which may be set higher; in
# records of MSG_CONTROL_PART bytes (the bpf program's largest record holds 32 KiB)
MSG_CONTROL_PART = 32768
MSG_CONTROL_MAX = 4 * MSG_CONTROL_PART
# most messages of a sendmmsg or recvmmsg recorded, with their parts: the kernel
# takes no more (UIO_MAXIOV), and strace prints no more with -v.  (The bpf program
# walks them 32 at a call of a function the verifier checks once: a bounded loop of
# 1024 steps took ktr_sys_exit's verification from 70,000 instructions to 240,000.)
MMSG_MAX = 1024
# bytes of one STRUCT_ARRAY mmsghdr record (the module's doc): the bpf program's
# largest record, 512 mmsghdrs
MMSGHDR_PART = 32768
# most iocbs of an io_submit recorded (each with what it points to): strace
# prints that many (its -s) unless -v; the struct iocb fields the engines read
# (aio_lio_opcode, aio_buf, aio_nbytes: linux/aio_abi.h) and the opcodes whose
# aio_buf they follow
IOCBS_MAX = 32
POINTER_STRINGS_MAX = 32   # the strings of a Pointee's pointers read (strace's -s default)
IOCB_OPCODE, IOCB_BUF, IOCB_NBYTES = 16, 24, 32
IOCB_CMD_PWRITE, IOCB_CMD_PREADV, IOCB_CMD_PWRITEV = 1, 7, 8
# setsockopt options whose struct is read whole when optlen is longer, even one
# running past its first page; the selector sees the option number alone, so
# numbers that are also an int option of SOL_SOCKET (IP_ADD_MEMBERSHIP 35 is
# SO_MARK's, MCAST_JOIN_GROUP 42 SO_PEEK_OFF's, IPV6_JOIN_ANYCAST 27
# SO_DETACH_FILTER's) keep the int, and their struct is its first page's part
# (PAGE_PART_STRUCTS)
SOCKOPT_LINGER = (13,)                 # SO_LINGER: struct linger
SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF = 26, 51
SOCKOPT_FPROG = (SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF)   # a struct sock_fprog
SOCKOPT_MREQ6 = (20, 21, 28)           # IPV6_ADD/DROP_MEMBERSHIP, IPV6_LEAVE_ANYCAST
IPC_CMD_MASK = 0xFF     # msgctl/semctl/shmctl's command without IPC_64
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_UPDATE, KEYCTL_DESCRIBE = 1, 2, 6
KEYCTL_SEARCH, KEYCTL_READ, KEYCTL_INSTANTIATE = 10, 11, 12
KEYCTL_GET_SECURITY, KEYCTL_INSTANTIATE_IOV = 17, 20
KEYCTL_RESTRICT_KEYRING, KEYCTL_CAPABILITIES = 29, 31
KEYCTL_DH_COMPUTE, KEYCTL_PKEY_QUERY, KEYCTL_PKEY_ENCRYPT = 23, 24, 25
KEYCTL_PKEY_DECRYPT, KEYCTL_PKEY_SIGN, KEYCTL_PKEY_VERIFY = 26, 27, 28
# KEYCTL_DH_COMPUTE's struct keyctl_kdf_params: its hashname string (at 0)
# and its otherinfo, otherinfolen bytes (pointer at 8, the u32 at 16: the
# kernel takes at most 64 KiB, strace shows -s of them)
KDF_PARAMS = in_("keyctl_kdf_params")._replace(then=(
    Pointee("string", ptr=0, count_at=0, width=0, elem=0, most=MAX_STRING),
    Pointee("bytes", ptr=8, count_at=16, width=4, elem=0, most=MAX_STRING)))
# KEYCTL_PKEY_*'s struct keyctl_pkey_params (argument 1): the lengths of
# the data arguments, in_len (at 4) and out_len or VERIFY's in2_len (at 8)
PKEY_PARAMS = in_("keyctl_pkey_params")
PKEY_IN_LEN, PKEY_OUT_LEN = Length(Len.ARG_PTR, 1, at=4), Length(Len.ARG_PTR, 1, at=8)
IPC_SET, IPC_STAT, IPC_INFO = 1, 2, 3
MSG_STAT, MSG_INFO, MSG_STAT_ANY = 11, 12, 13
SEM_STAT, SEM_INFO, SEM_STAT_ANY = 18, 19, 20
SHM_STAT, SHM_INFO, SHM_STAT_ANY = 13, 14, 15

# quotactl's commands (linux/quota.h, linux/dqblk_xfs.h) -> its data argument
Q_QUOTAON, Q_GETFMT, Q_GETINFO, Q_SETINFO = 0x800002, 0x800004, 0x800005, 0x800006
Q_GETQUOTA, Q_SETQUOTA, Q_GETNEXTQUOTA = 0x800007, 0x800008, 0x800009
Q_XQUOTAON, Q_XQUOTAOFF, Q_XGETQUOTA, Q_XSETQLIM = 0x5801, 0x5802, 0x5803, 0x5804
Q_XQUOTARM, Q_XGETNEXTQUOTA = 0x5806, 0x5809
QUOTA_DATA = {cmd << 8: {3: spec} for cmd, spec in (
    (Q_QUOTAON, P), (Q_GETQUOTA, out("if_dqblk")), (Q_SETQUOTA, in_("if_dqblk")),
    (Q_GETNEXTQUOTA, out("if_nextdqblk")), (Q_XGETQUOTA, out("fs_disk_quota")),
    (Q_XGETNEXTQUOTA, out("fs_disk_quota")), (Q_XSETQLIM, in_("fs_disk_quota")),
    (Q_GETINFO, out("if_dqinfo")), (Q_SETINFO, in_("if_dqinfo")), (Q_GETFMT, out("int")),
    (Q_XQUOTAON, in_("int")), (Q_XQUOTAOFF, in_("int")), (Q_XQUOTARM, in_("int")))}

# bpf(2)'s commands (linux/bpf.h enum bpf_cmd) whose union bpf_attr member
# holds pointers strace follows, or that strace prints again at exit
BPF_PROG_LOAD, BPF_OBJ_PIN, BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD = 5, 6, 7, 15
BPF_PROG_QUERY, BPF_RAW_TRACEPOINT_OPEN, BPF_BTF_LOAD, BPF_TASK_FD_QUERY = 16, 17, 18, 20
BPF_GET_NEXT_IDS = (11, 12, 23, 31)          # PROG_, MAP_, BTF_, LINK_GET_NEXT_ID
BPF_BATCHES = (24, 25, 26, 27)               # MAP_(LOOKUP_(AND_DELETE_)|UPDATE_|DELETE_)BATCH
BPF_LINK_CREATE = 28
BPF_MAXINSNS = 4096
# the attr, size bytes of it (the first page's part when not all can be read)
BPF_ATTR = in_("bytes", arg(2))
BPF_ATTR_INOUT = inout("bytes", arg(2))
# what strace prints of the memory a pointer holds: a string (the most of a
# raw tracepoint's name strace reads: 128), the bytes of a count field (a
# verifier log, BTF data, a task_fd_query's buf at exit), an array of u32s or
# u64s; each by the member's offsets
BPF_INSNS = Pointee("bpf_insn", ptr=8, count_at=4, width=4, elem=8, most=BPF_MAXINSNS)
BPF_ITEMS_MAX = 4096


def bpf_string(ptr: int, most: int = MAX_STRING) -> Pointee:
    return Pointee("string", ptr=ptr, count_at=0, width=0, elem=0, most=most)


def bpf_bytes(ptr: int, count_at: int, at_exit: bool = False) -> Pointee:
    return Pointee("bpf_data", ptr=ptr, count_at=count_at, width=4, elem=0, most=MAX_STRING,
                   at_exit=at_exit)


def bpf_items(name: str, ptr: int, count_at: int, at_exit: bool = False) -> Pointee:
    return Pointee(name, ptr=ptr, count_at=count_at, width=4, elem=STRUCT_SIZES[name],
                   most=BPF_ITEMS_MAX, at_exit=at_exit)


BPF_ATTRS = {
    # insns, license, log_buf (log_size bytes)
    BPF_PROG_LOAD: {1: BPF_ATTR._replace(then=(BPF_INSNS, bpf_string(16), bpf_bytes(32, 28)))},
    **{cmd: {1: BPF_ATTR._replace(then=(bpf_string(0),))} for cmd in (BPF_OBJ_PIN, BPF_OBJ_GET)},
    BPF_RAW_TRACEPOINT_OPEN: {1: BPF_ATTR._replace(then=(bpf_string(0, 128),))},
    BPF_BTF_LOAD: {1: BPF_ATTR._replace(then=(bpf_bytes(0, 16),))},           # btf, btf_size
    # what info (info_len bytes) and buf (buf_len bytes) hold, which strace prints
    # at exit whatever the result: as given, and as a successful call left them;
    # prog_ids (prog_cnt of them), which it prints after a successful call only.
    # The info's own arrays, as a bpf_prog_info's (the plan cannot tell a map's
    # info, whose fields there are no pointers: what they would point to, mostly
    # nothing readable, the view leaves): jited_prog_insns and xlated_prog_insns
    # (their bytes), map_ids (u32s)
    BPF_OBJ_GET_INFO_BY_FD: {1: BPF_ATTR_INOUT._replace(then=(
        *(bpf_bytes(8, 4, at_exit=at_exit)._replace(name="bpf_info") for at_exit in (False, True)),
        bpf_bytes(24, 16, at_exit=True)._replace(name="bpf_jited", via=8),
        bpf_bytes(32, 20, at_exit=True)._replace(name="bpf_xlated", via=8,
                                                 most=BPF_MAXINSNS * 8),
        bpf_items("bpf_map_ids", 56, 52, at_exit=True)._replace(via=8)))},
    BPF_TASK_FD_QUERY: {1: BPF_ATTR_INOUT._replace(then=tuple(
        bpf_bytes(16, 12, at_exit=at_exit) for at_exit in (False, True)))},
    BPF_PROG_QUERY: {1: BPF_ATTR_INOUT._replace(then=(bpf_items("int", 16, 24, at_exit=True),))},
    **{cmd: {1: BPF_ATTR_INOUT} for cmd in (*BPF_GET_NEXT_IDS, *BPF_BATCHES)},
    # the union after link_create's attach_type, by what it holds (strace tells by the
    # attach type): BPF_TRACE_ITER's iter_info (u32 map fds), BPF_TRACE_KPROBE_MULTI's
    # syms (pointers to strings), addrs and cookies (u64s)
    BPF_LINK_CREATE: {1: BPF_ATTR._replace(then=(
        bpf_items("int", 16, 24), bpf_items("bpf_syms", 24, 20)._replace(strings=True),
        bpf_items("long", 32, 20), bpf_items("bpf_cookie", 40, 20)))},
}

SELECTORS: dict[str, Selector] = {
    "ioctl": Selector(1, 0xFFFFFFFF, IOCTL_ARGS),
    "prctl": Selector(0, 0xFFFFFFFF, {
        PR_SET_NAME: {1: S},
        PR_GET_NAME: {1: out_string(fixed(16))},
        **{option: {1: out("int")} for option in (
            PR_GET_PDEATHSIG, PR_GET_UNALIGN, PR_GET_FPEMU, PR_GET_FPEXC, PR_GET_ENDIAN,
            PR_GET_TSC, PR_GET_CHILD_SUBREAPER)},
        PR_GET_TID_ADDRESS: {1: out("long")},
        PR_SET_VMA: {4: S},
        PR_SET_SECCOMP: {2: SOCK_FPROG},
    }),
    "fcntl": Selector(1, 0xFFFFFFFF, {
        F_GETLK: {2: inout("flock")}, F_OFD_GETLK: {2: inout("flock")},
        F_SETLK: {2: in_("flock")}, F_SETLKW: {2: in_("flock")},
        F_OFD_SETLK: {2: in_("flock")}, F_OFD_SETLKW: {2: in_("flock")},
        F_SETOWN_EX: {2: in_("f_owner_ex")}, F_GETOWN_EX: {2: out("f_owner_ex")},
    }),
    "futex": Selector(1, FUTEX_CMD_MASK, {
        FUTEX_WAIT: {3: in_("timespec")}, FUTEX_WAIT_BITSET: {3: in_("timespec")},
        FUTEX_LOCK_PI: {3: in_("timespec")}, FUTEX_WAIT_REQUEUE_PI: {3: in_("timespec")},
        FUTEX_LOCK_PI2: {3: in_("timespec")},
    }),
    "clone": Selector(0, CLONE_PIDFD, {CLONE_PIDFD: {2: out("int")}}),
    # fsconfig's key and value, by its command (FSCONFIG_SET_*)
    "fsconfig": Selector(1, 0xFFFFFFFF, {
        0: {2: S}, 1: {2: S, 3: S}, 2: {2: S, 3: in_("bytes", arg(4))},
        3: {2: S, 3: S}, 4: {2: S, 3: S}, 5: {2: S}}),
    # landlock_add_rule's LANDLOCK_RULE_PATH_BENEATH
    "landlock_add_rule": Selector(1, 0xFFFFFFFF, {1: {2: in_("landlock_path_beneath_attr")}}),
    # quotactl's and quotactl_fd's data, by the command QCMD holds (cmd << 8)
    "quotactl": Selector(0, 0xFFFFFF00, QUOTA_DATA),
    "quotactl_fd": Selector(1, 0xFFFFFF00, QUOTA_DATA),
    # syslog's SYSLOG_ACTION_READ, _READ_ALL, _READ_CLEAR fill the buffer
    "syslog": Selector(0, 0xFFFFFFFF, {n: {1: out("bytes", RET)} for n in (2, 3, 4)}),
    # setsockopt's optval: the struct strace reads for the option when the optlen
    # bytes cannot all be read (option numbers of every level alike: a wrong
    # guess only records bytes a decoder finds too short)
    "setsockopt": Selector(2, 0xFFFFFFFF, {
        **{name: {3: ArgSpec(Role.IN_STRUCT, "bytes", size, arg(4))}
           for names, size in ((SOCKOPT_LINGER, 8), (SOCKOPT_MREQ6, 20))
           for name in names},
        # a sock_fprog and its instructions (an int option of the same number
        # at another level records no struct holding its fields: no Pointee)
        **{name: {3: ArgSpec(Role.IN_STRUCT, "bytes", 16, arg(4), then=(SOCK_FILTER,))}
           for name in SOCKOPT_FPROG}}),
    # getsockopt's SO_GET_FILTER (SO_ATTACH_FILTER's number): the optlen written back
    # counts the filter's instructions (an int option of that number at another
    # level records its bytes and more: their first page's part at most)
    "getsockopt": Selector(2, 0xFFFFFFFF, {
        SO_ATTACH_FILTER: {3: out("bytes", Length(Len.ARG_PTR, 4, SOCK_FILTER.elem))}}),
    # io_uring_register's argument by its opcode (IORING_REGISTER_*, linux/io_uring.h):
    # arrays of nr_args items; the *2 structs of nr_args bytes (their known 32 when
    # more cannot be read: strace shows ??? for the rest), and their data and tags
    # arrays; a probe of nr_args ops, else of the 32 strace shows.
    "io_uring_register": Selector(1, 0xFFFFFFFF, {
        0: {2: array(Role.IN_ARRAY, "iovec", arg(3))},                        # BUFFERS
        **{op: {2: array(Role.IN_ARRAY, "int", arg(3))} for op in (2, 4, 7)},  # FILES, EVENTFD*
        6: {2: ArgSpec(Role.IN_STRUCT, "io_uring_files_update", 16,           # FILES_UPDATE
                       then=(URING_FDS,))},
        8: {2: ArgSpec(Role.INOUT_STRUCT, "io_uring_probe", 16 + 8 * 32,       # PROBE
                       Length(Len.ARG, 3, scale=8, add=16))},
        11: {2: ArgSpec(Role.IN_ARRAY, "io_uring_restriction", 16, arg(3))},  # RESTRICTIONS
        **{op: {2: ArgSpec(Role.IN_STRUCT, "io_uring_rsrc_register", 32, arg(3),
                           then=rsrc_arrays(ptr=16, nr_at=0, elem=elem))}
           for op, elem in ((13, "int"), (15, "iovec"))},                     # FILES2, BUFFERS2
        **{op: {2: ArgSpec(Role.IN_STRUCT, "io_uring_rsrc_update2", 32, arg(3),
                           then=rsrc_arrays(ptr=8, nr_at=24, elem=elem))}
           for op, elem in ((14, "int"), (16, "iovec"))},        # FILES_UPDATE2, BUFFERS_UPDATE
        17: {2: in_("cpuset", arg(3))},                                       # IOWQ_AFF
        19: {2: array(Role.INOUT_ARRAY, "int", arg(3))},                      # IOWQ_MAX_WORKERS
        **{op: {2: ArgSpec(Role.IN_ARRAY, "io_uring_rsrc_update", 16, arg(3))}
           for op in (20, 21)},                                    # (UN)REGISTER_RING_FDS
        **{op: {2: ArgSpec(Role.IN_STRUCT, "io_uring_buf_reg", 40)}
           for op in (22, 23)},                                    # (UN)REGISTER_PBUF_RING
    }),
    # bpf's union bpf_attr by its command: what the member's pointers point to,
    # and the attr again at the exit of the commands that print it then
    "bpf": Selector(0, 0xFFFFFFFF, BPF_ATTRS),
    "kcmp": Selector(2, 0xFFFFFFFF, {KCMP_EPOLL_TFD: {4: in_("kcmp_epoll_slot")}}),
    "ptrace": Selector(0, 0xFFFFFFFF, {
        **{request: {3: out("long")} for request in (
            PTRACE_PEEKTEXT, PTRACE_PEEKDATA, PTRACE_PEEKUSR, PTRACE_GETEVENTMSG)},
        PTRACE_GETSIGINFO: {3: out("siginfo")}, PTRACE_SETSIGINFO: {3: in_("siginfo")},
        PTRACE_GETREGSET: {3: inout("iovec")._replace(then=(REGSET._replace(at_exit=True),))},
        PTRACE_SETREGSET: {3: inout("iovec")._replace(then=(REGSET,))},
        PTRACE_PEEKSIGINFO: {2: in_("peeksiginfo_args"),
                             3: array(Role.OUT_ARRAY, "siginfo", RET)},
        PTRACE_GETSIGMASK: {3: out("sigset")}, PTRACE_SETSIGMASK: {3: in_("sigset")},
        PTRACE_SECCOMP_GET_METADATA: {3: in_("long")},
        PTRACE_GET_SYSCALL_INFO: {3: out("bytes", arg(2))},
        PTRACE_GETREGS: {3: out("user_regs")}, PTRACE_SETREGS: {3: in_("user_regs")},
        PTRACE_GETFPREGS: {3: out("user_fpregs")}, PTRACE_SETFPREGS: {3: in_("user_fpregs")},
    }),
    # reboot's LINUX_REBOOT_CMD_RESTART2: the command string in arg4
    "reboot": Selector(2, 0xFFFFFFFF, {0xA1B2C3D4: {3: S}}),
    # arch_prctl's ARCH_GET_FS, ARCH_GET_GS and ARCH_GET_XCOMP_*: a word stored through arg2
    "arch_prctl": Selector(0, 0xFFFFFFFF, {
        option: {1: out("long")} for option in (0x1003, 0x1004, 0x1021, 0x1022, 0x1024)}),
    "seccomp": Selector(0, 0xFFFFFFFF, {
        SECCOMP_SET_MODE_FILTER: {2: SOCK_FPROG},
        SECCOMP_GET_ACTION_AVAIL: {2: in_("int")},
        SECCOMP_GET_NOTIF_SIZES: {2: out("seccomp_notif_sizes")},
    }),
    "keyctl": Selector(0, 0xFFFFFFFF, {
        KEYCTL_JOIN_SESSION_KEYRING: {1: S},
        KEYCTL_UPDATE: {2: in_("bytes", arg(3))}, KEYCTL_INSTANTIATE: {2: in_("bytes", arg(3))},
        KEYCTL_INSTANTIATE_IOV: {2: iov(Role.IN_IOVEC, 3, fd=-1)},    # (no descriptor)
        KEYCTL_DESCRIBE: {2: out("bytes", RET)}, KEYCTL_READ: {2: out("bytes", RET)},
        KEYCTL_GET_SECURITY: {2: out("bytes", RET)},
        KEYCTL_SEARCH: {2: S, 3: S}, KEYCTL_RESTRICT_KEYRING: {2: S, 3: S},
        KEYCTL_CAPABILITIES: {1: out("bytes", RET)},
        KEYCTL_DH_COMPUTE: {1: in_("keyctl_dh_params"), 2: out("bytes", RET), 4: KDF_PARAMS},
        KEYCTL_PKEY_QUERY: {3: S, 4: out("keyctl_pkey_query")},
        **{op: {1: PKEY_PARAMS, 2: S, 3: in_("bytes", PKEY_IN_LEN),
                4: out("bytes", PKEY_OUT_LEN)}
           for op in (KEYCTL_PKEY_ENCRYPT, KEYCTL_PKEY_DECRYPT, KEYCTL_PKEY_SIGN)},
        KEYCTL_PKEY_VERIFY: {1: PKEY_PARAMS, 2: S, 3: in_("bytes", PKEY_IN_LEN),
                             4: in_("bytes", PKEY_OUT_LEN)},
    }),
    # the IPC_64 bit (0x100) aside; the decoder checks the whole command
    "msgctl": Selector(1, IPC_CMD_MASK, {
        IPC_SET: {2: in_("msqid_ds")}, IPC_STAT: {2: out("msqid_ds")},
        MSG_STAT: {2: out("msqid_ds")}, MSG_STAT_ANY: {2: out("msqid_ds")},
        IPC_INFO: {2: out("msginfo")}, MSG_INFO: {2: out("msginfo")},
    }),
    "semctl": Selector(2, IPC_CMD_MASK, {
        IPC_SET: {3: in_("semid_ds")}, IPC_STAT: {3: out("semid_ds")},
        SEM_STAT: {3: out("semid_ds")}, SEM_STAT_ANY: {3: out("semid_ds")},
        IPC_INFO: {3: out("seminfo")}, SEM_INFO: {3: out("seminfo")},
    }),
    "shmctl": Selector(1, IPC_CMD_MASK, {
        IPC_SET: {2: in_("shmid_ds")}, IPC_STAT: {2: out("shmid_ds")},
        SHM_STAT: {2: out("shmid_ds")}, SHM_STAT_ANY: {2: out("shmid_ds")},
        IPC_INFO: {2: out("shminfo")}, SHM_INFO: {2: out("shm_info")},
    }),
}


# ---------------------------------------------------------------------------
# Derivation from C types


def _norm_ctype(ctype: str) -> str:
    return re.sub(r"\s+", " ", ctype.replace("__user", "")).strip()


def derive(ctype: str, argname: str) -> ArgSpec:
    """The role a tracefs C type gives an argument, where it is unambiguous."""
    t = _norm_ctype(ctype)
    if t.replace(" ", "") == "constchar*" and argname in PATH_ARG_NAMES:
        return P
    if t.replace(" ", "") == "constchar*const*":
        return ArgSpec(Role.ENVP if argname == "envp" else Role.ARGV)
    m = re.fullmatch(r"(const )?(.+?) ?\*", t)
    if m and m.group(2) in C_STRUCTS:
        name = C_STRUCTS[m.group(2)]
        if m.group(1):
            return in_(name)
        if name in OUT_ONLY_STRUCTS:
            return out(name)
    return V


# ---------------------------------------------------------------------------
# The table by number


def _abi():
    from . import LINUX_X86_64   # the generated ABI table (another module's)
    return LINUX_X86_64


def _pad(plan: Iterable[ArgSpec], nargs: int) -> Plan:
    plan = tuple(plan)[:nargs]
    return plan + (V,) * (nargs - len(plan))


@lru_cache(maxsize=None)
def _table() -> dict[int, Plan]:
    table: dict[int, Plan] = {}
    for nr, info in _abi().syscalls.items():
        nargs = MAX_ARGS if info.nargs is None else info.nargs
        if info.name in PLANS:
            table[nr] = tuple(_typed_count(s, info) for s in _pad(PLANS[info.name], nargs))
        elif info.args:
            table[nr] = tuple(derive(c, n) for c, n in info.args)
        else:
            table[nr] = (V,) * nargs
    table[UTRACE_NR] = (ArgSpec(Role.USER, "", 0, arg(1)), V)
    return table


# C types of 32 bits: a count of such a type is what the kernel's syscall
# wrapper makes of the register's low half, whatever the upper half holds
INT32_TYPES = frozenset({"int", "unsigned int", "unsigned", "u32", "__u32", "s32", "__s32"})


def _typed_count(spec: ArgSpec, info) -> ArgSpec:
    """``spec`` with a count from an int argument read as Len.ARG_U32."""
    ln = spec.length
    if ln is None or ln.kind != Len.ARG or not info.args or ln.n >= len(info.args):
        return spec
    if _norm_ctype(info.args[ln.n][0]) not in INT32_TYPES:
        return spec
    return spec._replace(length=ln._replace(kind=Len.ARG_U32))


@lru_cache(maxsize=None)
def selectors() -> dict[int, Selector]:
    """SELECTORS by syscall number, their counts typed as the table's are."""
    found = {}
    for name, sel in SELECTORS.items():
        nr = _abi().syscall_number(name)
        if nr is None:
            continue
        info = _abi().syscall(nr)
        cases = {value: {i: _typed_count(spec, info) for i, spec in targets.items()}
                 for value, targets in sel.cases.items()}
        found[nr] = sel._replace(cases=cases)
    return found


_UNKNOWN: Plan = (V,) * MAX_ARGS


def plan_for(nr: int) -> Plan:
    """The plan of syscall ``nr``: one ArgSpec per argument (6 VALUEs if unknown).

    For the calls in ``SELECTORS`` this is the plan without the selected
    argument: use :func:`plan_for_call` when the arguments are known.
    """
    return _table().get(nr, _UNKNOWN)


def plan_for_call(nr: int, args) -> Plan:
    """The plan of one call with its actual argument values (a record may
    hold fewer than the selector looks at: then none of its cases)."""
    plan = _table().get(nr, _UNKNOWN)
    sel = selectors().get(nr)
    if sel is None or sel.arg >= len(args):
        return plan
    case = sel.cases.get(args[sel.arg] & sel.mask)
    if not case:
        return plan
    return tuple(case.get(i, spec) for i, spec in enumerate(plan))


def plans() -> dict[int, Plan]:
    """Every known plan by number (for generators such as the bpf header)."""
    return dict(_table())


# ---------------------------------------------------------------------------
# Which records a role produces, and which syscalls a facility set needs

_STRU = r.facility(r.STRUCT)
_ARRAY = r.facility(r.STRUCT_ARRAY)
_GIO = r.facility(r.GENIO)

ROLE_RECORDS: dict[Role, int] = {
    Role.VALUE: 0,
    Role.PATH: r.facility(r.NAMEI),
    Role.IN_STRUCT: _STRU, Role.OUT_STRUCT: _STRU, Role.INOUT_STRUCT: _STRU,
    Role.OUT_INTERRUPTED: _STRU, Role.IN_SIZED_STRUCT: _STRU,
    Role.IN_ARRAY: _ARRAY, Role.OUT_ARRAY: _ARRAY, Role.INOUT_ARRAY: _ARRAY,
    Role.IN_BUF: _GIO | _STRU, Role.OUT_BUF: _GIO,
    Role.IN_IOVEC: _ARRAY | _GIO | _STRU, Role.OUT_IOVEC: _ARRAY | _GIO | _STRU,
    Role.IN_MSGHDR: _STRU | _ARRAY | _GIO, Role.OUT_MSGHDR: _STRU | _ARRAY | _GIO,
    Role.IN_MMSGHDR: _STRU | _ARRAY | _GIO, Role.OUT_MMSGHDR: _STRU | _ARRAY | _GIO,
    Role.IN_STRING: _STRU, Role.OUT_STRING: _STRU,
    Role.ARGV: r.facility(r.ARGS), Role.ENVP: r.facility(r.ENVS),
    Role.USER: r.facility(r.USER),
    Role.CLONE_ARGS: _STRU | _ARRAY,
    Role.IOC: _STRU,
    Role.IN_IOCBS: _ARRAY | _STRU,
}

# Record types that any syscall can produce
_ANY_SYSCALL = r.facility(r.SYSCALL) | r.facility(r.SYSRET)

# Calls whose new descriptors get a STRU fdesc at a successful exit (see the
# module's doc): where the descriptors are, RESULT (the return value),
# DEVICE_RESULT (the return value when it is a character or block device) or
# the argument pointing to the int[2] the kernel filled.  (ktrace.bpf.c has
# the same calls by number: NR_SOCKET, NR_OPEN, ...)
RESULT = -1
DEVICE_RESULT = -2
NEW_DESCRIPTORS = {"socket": RESULT, "accept": RESULT, "accept4": RESULT, "socketpair": 3,
                   "open": DEVICE_RESULT, "openat": DEVICE_RESULT, "openat2": DEVICE_RESULT,
                   "creat": DEVICE_RESULT, "open_tree": DEVICE_RESULT,
                   "pidfd_getfd": RESULT}
# Calls followed at their exit by STRU parent (record.py's PARENT): the name of
# the process getppid names, which --decode-pids=comm prints after its result
# (ktrace.bpf.c has it by number: NR_GETPPID)
PARENT_NAMED = {"getppid"}
# Calls followed at a successful exit by STRU kvmexit (the module's doc) when
# their request (argument 1, an unsigned int) is this one and their descriptor
# a kvm vcpu's (ktrace.bpf.c has them by number: NR_IOCTL, KVM_RUN)
VCPU_EXITS = {"ioctl": KVM_RUN}
FD_ARGUMENT = -3           # the descriptor argument 0 holds, whatever the result
SOCKET_STATES = {"socket": RESULT, "accept": RESULT, "accept4": RESULT, "socketpair": 3,
                 "bind": FD_ARGUMENT, "listen": FD_ARGUMENT, "connect": FD_ARGUMENT}


def _by_number(table: dict[str, int]) -> dict[int, int]:
    found = {}
    for name, where in table.items():
        nr = _abi().syscall_number(name)
        if nr is not None:
            found[nr] = where
    return found


@lru_cache(maxsize=None)
def new_descriptors() -> dict[int, int]:
    """NEW_DESCRIPTORS by syscall number."""
    return _by_number(NEW_DESCRIPTORS)


@lru_cache(maxsize=None)
def parent_named() -> frozenset[int]:
    """PARENT_NAMED by syscall number."""
    return frozenset(_by_number(dict.fromkeys(PARENT_NAMED, RESULT)))


@lru_cache(maxsize=None)
def vcpu_exits() -> dict[int, int]:
    """VCPU_EXITS by syscall number."""
    return _by_number(VCPU_EXITS)


@lru_cache(maxsize=None)
def socket_states() -> dict[int, int]:
    """SOCKET_STATES by syscall number."""
    return _by_number(SOCKET_STATES)


def spec_records(spec: ArgSpec) -> int:
    """Facility bits of the records one argument's spec can produce."""
    bits = ROLE_RECORDS[spec.role]
    for pointee in spec.then:
        bits |= _ARRAY if pointee.elem else _STRU
    return bits


def records_of(nr: int) -> int:
    """Facility bits of every record type syscall ``nr`` can produce (CALL/RET aside)."""
    bits = _STRU if nr in new_descriptors() or nr in socket_states() or nr in parent_named() \
        or nr in vcpu_exits() else 0
    for spec in plan_for(nr):
        bits |= spec_records(spec)
    sel = selectors().get(nr)
    if sel is not None:
        for case in sel.cases.values():
            for spec in case.values():
                bits |= spec_records(spec)
    return bits


def syscalls_for(facs: int) -> frozenset[int] | None:
    """The syscalls that can produce a record for facility bits ``facs``.

    None means all of them (CALL/RET are wanted).  Engines that filter
    syscall stops (seccomp) add what they need themselves (exec, sigaction,
    sysctl file reads and writes, ...).
    """
    if facs & _ANY_SYSCALL:
        return None
    return frozenset(nr for nr in _table() if records_of(nr) & facs)

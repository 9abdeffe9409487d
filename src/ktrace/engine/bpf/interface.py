"""The user side of ktrace.h: its control structures and constants, in ctypes.

ktrace.h is the one definition of what the BPF program and its loader share;
this module mirrors it name for name (tests/test_bpf_layout.py compiles the
header and holds every struct's offsets and size, and every constant here,
to it).  Records are not here: they are ktrace.record's, and only ever moved.
"""

from __future__ import annotations

import ctypes

MAX_PIDS = 1 << 22          # maybe_traced[] and thread_state[]: a byte per pid / tid


class KtrBatch(ctypes.Structure):
    """One ring-buffer sample's head; whole records of one process follow."""
    _fields_ = [("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("nrec", ctypes.c_uint32), ("aux", ctypes.c_uint32)]


KTR_BATCH_EXIT = 1          # the process exited: its PROCDTOR is in here
KTR_BATCH_DROPPED = 2       # a record in here carries KTR_DROP
KTR_BATCH_EXEC_PRIV = 4     # exec gained privilege: tracing stopped
KTR_BATCH_FORK = 8          # a child inherited tracing (aux: its parent)


class KtrProc(ctypes.Structure):
    """A "procs" entry: the kernel's p_traceflag and what the rules need."""
    _fields_ = [("flags", ctypes.c_uint32), ("genio_size", ctypes.c_uint32),
                ("parent", ctypes.c_uint32), ("opts", ctypes.c_uint32),
                ("dropped", ctypes.c_uint64)]


KTR_OPT_OWNER_ROOT = 1      # the trace file's owner is root
KTR_OPT_THROTTLE = 2        # seized by ktrace: may be stopped (--lossless)
KTR_OPT_EXITED = 4          # exited, its exit batch lost: the loader forgets it


class KtrConfig(ctypes.Structure):
    """Tunables written before load (".rodata.cfg")."""
    _fields_ = [("pidns_dev", ctypes.c_uint64), ("pidns_ino", ctypes.c_uint64),
                ("pidns_level", ctypes.c_uint32), ("wake_bytes", ctypes.c_uint32),
                ("throttle_bytes", ctypes.c_uint32), ("optmem_max", ctypes.c_uint32)]


class KtrLive(ctypes.Structure):
    """What the loader updates while the program runs (".data.live")."""
    _fields_ = [("realtime_offset", ctypes.c_int64), ("dropped", ctypes.c_uint64),
                ("csw_inherited", ctypes.c_int64), ("csw_attached", ctypes.c_int64),
                ("proc_gen", ctypes.c_uint64), ("loader_gen", ctypes.c_uint64),
                ("comm_gen", ctypes.c_uint64)]


# ctypes struct -> the C struct it mirrors
STRUCTS = {KtrBatch: "ktr_batch", KtrProc: "ktr_proc", KtrConfig: "ktr_config",
           KtrLive: "ktr_live"}

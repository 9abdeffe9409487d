"""Moving batches from the BPF ring buffer to the facility, in bulk.

The ring is mapped by hand (platform.libbpf.RingMapping).  Each sample is
one batch: a struct ktr_batch and whole records of one process, which go to
that process's trace file as one piece.  Python does a few operations per
batch, never per record.
"""

from __future__ import annotations

import struct
from typing import Callable

from ...platform.libbpf import RINGBUF_BUSY, RINGBUF_DISCARD, RINGBUF_HDR, RingMapping

# interface.KtrBatch (pid, flags, nrec, aux) as one unpack (tests/test_bpf_layout.py)
BATCH = struct.Struct("<IIII")
_LEN_MASK = ~(RINGBUF_BUSY | RINGBUF_DISCARD) & 0xFFFFFFFF

# handler(pid, flags, aux, records): records is the batch's record bytes
Handler = Callable[[int, int, int, bytes], None]


def drain(ring: RingMapping, handle: Handler, budget: int = 1 << 30) -> int:
    """Hand every committed batch to ``handle``; the bytes consumed.

    Stops at the first sample still being written, or after about
    ``budget`` bytes so that the caller can look at other things.
    """
    cons = ring.consumer.value
    prod = ring.producer.value
    start = cons
    data, words, mask = ring.data, ring.words, ring.mask
    unpack = BATCH.unpack_from
    while cons < prod and cons - start < budget:
        off = cons & mask
        head = words[off >> 2]
        if head & RINGBUF_BUSY:
            break
        length = head & _LEN_MASK
        if not head & RINGBUF_DISCARD and length >= BATCH.size:
            body = off + RINGBUF_HDR
            pid, flags, _nrec, aux = unpack(data, body)
            handle(pid, flags, aux, bytes(data[body + BATCH.size:body + length]))
        cons += (length + RINGBUF_HDR + 7) & ~7
        ring.consumer.value = cons     # one aligned 8-byte store
    return cons - start


def fill(ring: RingMapping) -> int:
    """Bytes in the ring not yet consumed."""
    return ring.producer.value - ring.consumer.value

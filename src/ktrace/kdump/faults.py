"""Page fault records: the access type of PFLT and the result of PRET.

The tables are FreeBSD's (``VM_PROT``, ``KERN_RESULTS`` in
:mod:`ktrace.decode.freebsd_xlat`); the access prints as kdump's
print_mask_arg does.
"""

from __future__ import annotations

from ktrace.decode import freebsd_xlat as F
from ktrace.decode.kdump.fmt import mask_arg, xlat_mask

_VM_PROT = xlat_mask(F.VM_PROT)


def vm_prot(value: int) -> str:
    """``%#x<NAME|NAME>`` as kdump's print_mask_arg; ``<invalid>N`` when no name fits."""
    return mask_arg(_VM_PROT, value)


def fault_text(vaddr: int, access: int) -> str:
    """The body of a PFLT record."""
    return f"0x{vaddr:x} {vm_prot(access)}"


def faultend_text(result: int) -> str:
    """The body of a PRET record."""
    return F.KERN_RESULTS.name(result) or f"<invalid={result}>"

"""Page fault records: the access type of PFLT and the result of PRET."""

from __future__ import annotations

# sys/vm/vm.h, in header order (a mask table: NONE shows only for zero)
VM_PROT = (
    (0x00, "VM_PROT_NONE"),
    (0x01, "VM_PROT_READ"),
    (0x02, "VM_PROT_WRITE"),
    (0x04, "VM_PROT_EXECUTE"),
    (0x08, "VM_PROT_COPY"),
    (0x10, "VM_PROT_PRIV_FLAG"),
)

# sys/vm/vm_param.h: the KERN_* results of vm_fault
KERN_RESULTS = {
    0: "KERN_SUCCESS",
    1: "KERN_INVALID_ADDRESS",
    2: "KERN_PROTECTION_FAILURE",
    3: "KERN_NO_SPACE",
    4: "KERN_INVALID_ARGUMENT",
    5: "KERN_FAILURE",
    6: "KERN_RESOURCE_SHORTAGE",
    7: "KERN_NOT_RECEIVER",
    8: "KERN_NO_ACCESS",
    9: "KERN_OUT_OF_BOUNDS",
    10: "KERN_RESTART",
}


def vm_prot(value: int) -> str:
    """``%#x<NAME|NAME>`` as kdump's print_mask_arg; ``<invalid>N`` when no name fits."""
    rest = value & 0xFFFFFFFF
    names = []
    for bit, name in VM_PROT:
        if bit & rest == bit and (bit or not value):
            names.append(name)
            rest &= ~bit
    shown = f"{value & 0xFFFFFFFF:#x}" if value else "0"
    text = f"{shown}<{'|'.join(names)}>"
    return text if names else f"{text}<invalid>{rest}"


def fault_text(vaddr: int, access: int) -> str:
    """The body of a PFLT record."""
    return f"0x{vaddr:x} {vm_prot(access)}"


def faultend_text(result: int) -> str:
    """The body of a PRET record."""
    return KERN_RESULTS.get(result) or f"<invalid={result}>"

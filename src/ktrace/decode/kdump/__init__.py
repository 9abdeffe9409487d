"""Decoders for FreeBSD kdump's text layout (the default and --json views).

``fmt`` prints one argument (kdump.c's print_number, print_mask_arg, ...);
``args`` turns a syscall's arguments into printers; ``linux`` and
``freebsd`` are the per-ABI printer tables; ``structs`` prints STRU bodies.
:mod:`ktrace.decode` is the entry point the kdump views call; the strace
view's decoders are the sibling package :mod:`ktrace.decode.strace`.
"""

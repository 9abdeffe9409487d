"""Typed wrappers for the Linux mechanics the engines use (ptrace, perf, bpf, procfs)."""

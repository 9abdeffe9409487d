"""The ptrace recording engine (any user; see engine.py)."""

from .engine import PtraceEngine

__all__ = ["PtraceEngine"]

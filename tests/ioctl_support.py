"""What the ioctl family tests share: a C program's requests traced by an
engine, and the strace view's ioctl lines of a trace."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from engine_support import trace_command
from ktrace.kdump import strace as view
from ptrace_support import build


def traced_program(engine: str, tmp_path: Path, name: str, source: str) -> bytes:
    """The trace (cinst) of C ``source`` built and run under ``engine``."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, name, source)
    out = tmp_path / f"{name}.out"
    trace_command(engine, [exe], out, "cinst")
    return out.read_bytes()


def ioctl_lines(data: bytes, *options: str, start: str = "ioctl(-1") -> list[str]:
    """kdump --strace's ioctl lines of the trace ``data`` that begin with ``start``."""
    out = io.StringIO()
    view.run(view.parse(["-a0", "-e", "trace=ioctl", *options]), io.BytesIO(data), out)
    return [line for line in out.getvalue().splitlines() if line.startswith(start)]

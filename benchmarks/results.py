"""benchmarks/RESULTS.md: each benchmark owns one "## title" section of it."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(title: str, text: str) -> None:
    """Replace (or add) the section headed ``## title``, leaving the others alone.

    ``text`` is the whole section, heading included.
    """
    body = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    section = text.rstrip("\n") + "\n\n"      # a blank line before the next section
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    body = pattern.sub(lambda _: section, body) if pattern.search(body) else \
        body.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(body.rstrip("\n") + "\n")

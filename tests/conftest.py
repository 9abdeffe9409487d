import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared"

# This session's trace services are its own: never those of a user's ktrace
# or of another test run on the machine.
if "KTRACE_RUNTIME_DIR" not in os.environ:
    import tempfile
    os.environ["KTRACE_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="ktrace-test-services-")


def require_bpf() -> bool:
    """True where BPF tests must run (CI): they fail instead of skipping."""
    return os.environ.get("KTRACE_REQUIRE_BPF") == "1"


@pytest.fixture
def samples_dir() -> Path:
    d = SHARED / "samples"
    if not d.is_dir():
        pytest.skip("../shared/samples is absent")
    return d

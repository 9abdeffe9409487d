import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check what is decoded, never how fast: on a 2-core machine
# shared with traced programs one example may take a second.
settings.register_profile("ktrace", deadline=None)
settings.load_profile("ktrace")

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


@pytest.fixture(params=["ptrace", "bpf"])
def engine(request) -> str:
    """Each engine in turn: bpf skips where it cannot run (fails with KTRACE_REQUIRE_BPF=1)."""
    from engine_support import need_engine
    need_engine(request.param)
    return request.param


# a process that keeps making syscalls (stat, then a short sleep) until killed
LOOP = "import os,time\nwhile True:\n    os.stat('/')\n    time.sleep(0.02)\n"


@pytest.fixture
def looper():
    """start(**popen_kw) -> a running LOOP process, killed after the test."""
    procs = []

    def start(**kw) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-c", LOOP], **kw)
        procs.append(p)
        time.sleep(0.2)
        return p
    yield start
    for p in procs:
        p.kill()
        p.wait()

"""kvm's ioctls as strace prints them: the anonymous inodes KVM_CREATE_VM
and KVM_CREATE_VCPU make (``4<anon_inode:kvm-vm>``,
``5<anon_inode:kvm-vcpu:3>``: -y's names, printed after the calls as
strace's RVAL_FD), and (-v) a kvm_cpuid2's entries, which follow its head
past the size the request's bits give (linux_plan.IOCTL_KVM: both engines
record them).

A program traced by each engine (through the ktrace command, as strace runs
it: no descriptor but 0, 1 and 2 inherited) and by /usr/bin/strace: the
ioctl lines must be the same.  Skipped where /dev/kvm does not open.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine_support import compiled_once, need_engine, real_strace, strace_view

SRC = Path(__file__).resolve().parents[1] / "src"
TRACED = ("-e", "trace=ioctl")

# On one CPU: the entries KVM_GET_SUPPORTED_CPUID gives hold the APIC id of
# the CPU that asks, and strace's run must see the same.
KVM_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
int main(void) {
    int kvm = open("/dev/kvm", O_RDWR);
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + 100 * sizeof cpuid->entries[0]);
    struct kvm_cpuid2 none = {.nent = 0};
    cpu_set_t first;
    CPU_ZERO(&first);
    CPU_SET(0, &first);
    if (kvm < 0 || !cpuid || sched_setaffinity(0, sizeof first, &first))
        return 77;
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 3);
    ioctl(kvm, KVM_CREATE_VM, 99);                        /* fails: no descriptor */
    ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid);           /* nent 0: E2BIG */
    cpuid->nent = 100;
    ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid);
    ioctl(vcpu, KVM_SET_CPUID2, &none);
    ioctl(vcpu, KVM_SET_CPUID2, cpuid);
    return 0;
}
"""


@pytest.fixture(scope="module")
def exe(tmp_path_factory) -> str:
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("needs /dev/kvm")
    return compiled_once(tmp_path_factory, "kvm", KVM_C)


@pytest.fixture(scope="module")
def traced(exe, tmp_path_factory):
    """The trace file of an engine, made once by the ktrace command."""
    runs = {}

    def trace(engine: str) -> Path:
        if engine not in runs:
            need_engine(engine)
            out = tmp_path_factory.mktemp(engine) / "t.out"
            done = subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine,
                                   "-t", "cinst", "-f", str(out), exe],
                                  env=dict(os.environ, PYTHONPATH=str(SRC)),
                                  capture_output=True, timeout=60)
            if done.returncode == 77:
                pytest.skip("/dev/kvm does not open")
            assert done.returncode == 0, done.stderr
            runs[engine] = out
        return runs[engine]
    return trace


def _ioctls(lines: list[str]) -> list[str]:
    """The ioctl lines, the result's padding and heap addresses (which differ
    from run to run) left out."""
    return [re.sub(r"0x5[0-9a-f]{11}\b", "ADDR", re.sub(r" +=", " =", line))
            for line in lines if line.startswith("ioctl(")]


@pytest.mark.parametrize("options", [("-y",), ("-yy",), ("-y", "-v"), ()])
def test_kvm_ioctls_as_strace(engine, traced, exe, tmp_path, options):
    want, _ = real_strace(exe, tmp_path, "-qq", *options, *TRACED)
    have = strace_view(traced(engine), *options, *TRACED)
    assert _ioctls(have) == _ioctls(want)
    if "-y" in options:
        assert have[1].endswith("= 5<anon_inode:kvm-vcpu:3>")
    if "-v" in options:
        assert "entries=[{function=0, index=0, " in have[4]

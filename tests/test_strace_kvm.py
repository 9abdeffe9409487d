"""kvm's ioctls as strace prints them: the anonymous inodes KVM_CREATE_VM
and KVM_CREATE_VCPU make (``4<anon_inode:kvm-vm>``,
``5<anon_inode:kvm-vcpu:3>``: -y's names, printed after the calls as
strace's RVAL_FD), (-v) a kvm_cpuid2's entries, which follow its head
past the size the request's bits give (linux_plan.IOCTL_KVM: both engines
record them), and (-e kvm=vcpu) a KVM_RUN's exit reason, ``= 0
(KVM_EXIT_HLT)``, from the vcpu's kvm_run (linux_plan.VCPU_EXITS: both
engines write STRU kvmexit, which FreeBSD's view leaves out).

A program traced by each engine (through the ktrace command, as strace runs
it: no descriptor but 0, 1 and 2 inherited) and by /usr/bin/strace: the
ioctl lines must be the same.  Skipped where /dev/kvm does not open.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from engine_support import SRC, commanded_once, compiled_once, kdump_of, real_strace, strace_view
from test_socket_inode import BPF_C
from ktrace import record as r
from ktrace.abi import linux_plan as lp

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


# A guest of one page run to its hlt (strace's ioctl_kvm_run_common.c): the
# vcpu's kvm_run mapped from its descriptor, a KVM_RUN that fails first
# (immediate_exit: EINTR, no exit reason), then KVM_RUNs until the hlt (an
# out to the serial port first: KVM_EXIT_IO), each reason printed; a KVM_RUN
# on the vm's descriptor (no vcpu's: ENOTTY).
KVM_RUN_C = r"""
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
static const unsigned char code[] = {
    0xba, 0xf8, 0x03,   /* mov $0x3f8, %dx */
    0xb0, 0x0a,         /* mov $'\n', %al */
    0xee,               /* out %al, (%dx) */
    0xf4,               /* hlt */
};
int main(void) {
    int kvm = open("/dev/kvm", O_RDWR);
    if (kvm < 0)
        return 77;
    long page = sysconf(_SC_PAGESIZE);
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    void *mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct kvm_userspace_memory_region region = {
        .guest_phys_addr = page, .memory_size = page, .userspace_addr = (unsigned long) mem};
    if (vm < 0 || mem == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
        return 77;
    memcpy(mem, code, sizeof code);
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    struct kvm_sregs sregs;
    struct kvm_regs regs = {.rip = page, .rflags = 2};
    if (vcpu < 0 || run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs))
        return 77;
    sregs.cs.base = sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
        return 77;
    ioctl(vm, KVM_RUN, 0);
    run->immediate_exit = 1;
    ioctl(vcpu, KVM_RUN, 0);
    run->immediate_exit = 0;
    for (int i = 0; i < 8 && ioctl(vcpu, KVM_RUN, 0) == 0; i++) {
        printf("%u\n", run->exit_reason);
        if (run->exit_reason == KVM_EXIT_HLT)
            return 0;
    }
    return 1;
}
"""
RUNS = ("-e", "trace=ioctl", "-y", "-e", "kvm=vcpu")


def _compiled(factory, name: str, source: str) -> str:
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("needs /dev/kvm")
    return compiled_once(factory, name, source)


@pytest.fixture(scope="module")
def exe(tmp_path_factory) -> str:
    return _compiled(tmp_path_factory, "kvm", KVM_C)


@pytest.fixture(scope="module")
def traced(exe, tmp_path_factory):
    return commanded_once(tmp_path_factory, [exe], "cinst", skip_status=77)


@pytest.fixture(scope="module")
def run_exe(tmp_path_factory) -> str:
    return _compiled(tmp_path_factory, "kvm_run", KVM_RUN_C)


@pytest.fixture(scope="module")
def run_traced(run_exe, tmp_path_factory):
    return commanded_once(tmp_path_factory, [run_exe], "cinst", skip_status=77)


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


def _runs(lines: list[str]) -> list[str]:
    return [line for line in _ioctls(lines) if ", KVM_RUN, " in line]


def test_kvm_run_s_exit_reason_as_strace(engine, run_traced, run_exe, tmp_path):
    want, printed = real_strace(run_exe, tmp_path, "-qq", *RUNS)
    have = strace_view(run_traced(engine), *RUNS)
    assert _runs(have) == _runs(want)
    assert printed == ["2", "5"]                    # KVM_EXIT_IO, then KVM_EXIT_HLT
    assert [line.rsplit(" = ", 1)[1] for line in _runs(have)] == [
        "-1 ENOTTY (Inappropriate ioctl for device)", "-1 EINTR (Interrupted system call)",
        "0 (KVM_EXIT_IO)", "0 (KVM_EXIT_HLT)"]


def test_kvm_run_s_exit_reason_only_with_the_option(engine, run_traced):
    have = strace_view(run_traced(engine), "-e", "trace=ioctl")
    assert [line.rsplit(" = ", 1)[1] for line in _runs(have)][2:] == ["0", "0"]


def test_both_engines_record_the_exit_reasons_freebsd_s_view_leaves_out(engine, run_traced):
    path = run_traced(engine)
    exits = [r.parse_int32(rec.data) for rec in r.read_records(str(path))
             if type(rec) is r.Struct and rec.name == r.KVMEXIT_NAME]
    assert exits == [2, 5]
    assert "kvmexit" not in kdump_of(path)
    assert "struct kvmexit {reason=KVM_EXIT_HLT }" in kdump_of(path, "--json")


def test_other_kvm_values_are_refused_as_strace_does(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "--strace", "-e", "kvm=all",
                           "-f", str(tmp_path / "none")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(SRC)), timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "kdump: invalid -e kvm= argument: 'all'"


def test_the_bpf_program_knows_the_same_request():
    """ktrace.bpf.c's NR_IOCTL and KVM_RUN are linux_plan's VCPU_EXITS."""
    defines = dict(re.findall(r"^#define\s+(NR_IOCTL|KVM_RUN)\s+(\w+)", BPF_C.read_text(), re.M))
    assert lp.VCPU_EXITS == {"ioctl": int(defines["KVM_RUN"], 0)}
    assert lp.vcpu_exits() == {int(defines["NR_IOCTL"]): lp.KVM_RUN}
    assert lp.records_of(int(defines["NR_IOCTL"])) & r.facility(r.STRUCT)

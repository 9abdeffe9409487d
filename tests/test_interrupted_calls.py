"""What a call writes back when a signal interrupts it, the call that resumes
it, and arrays whose length is not a count (a nodemask's bits, a range's
pages): recorded by both engines, printed as strace prints them.

- nanosleep's remaining time is written only when a signal interrupts the
  sleep (the call's result is ERESTART_RESTARTBLOCK at its exit);
- a signal that is ignored still interrupts a ptraced sleep, which the kernel
  then resumes by restart_syscall: strace names the call it resumes (one with
  a handler returns EINTR after it);
- set_mempolicy's nodemask is maxnode - 1 bits, read as longs one by one (the
  last long of a page before an unmapped one is shown);
- mincore's vector is a byte per page of the range;
- sched_setattr's struct too small: the kernel writes its own size into it
  (E2BIG).

The same program runs under strace first: the expected lines are strace's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from engine_support import ENGINES, need_engine
from ptrace_support import build
from strace_harness import STRACE

pytestmark = pytest.mark.skipif(STRACE is None or shutil.which("gcc") is None,
                                reason="needs strace and gcc")

PROGRAM_C = r"""
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
static void on_alarm(int sig) { (void)sig; }
static void sleep_interrupted(void (*handler)(int)) {
    struct timespec req = {0, 400000000}, rem = {0xdefaced, 0xdefaced};
    struct itimerval itv = {{0, 0}, {0, 50000}};
    struct sigaction act = {.sa_handler = handler};
    sigaction(SIGALRM, &act, NULL);
    setitimer(ITIMER_REAL, &itv, NULL);
    syscall(SYS_nanosleep, &req, &rem);
}
int main(void) {
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char vec[2];
    sleep_interrupted(SIG_IGN);
    sleep_interrupted(on_alarm);
    munmap(p + 2 * 4096, 4096);
    p[0] = 1;
    mincore(p, 4097, vec);
    /* 65 bits, one long: the last of the page before the unmapped one */
    syscall(SYS_set_mempolicy, 0, p + 2 * 4096 - 8, 65);
    /* 129 bits, two longs: the second unreadable */
    syscall(SYS_set_mempolicy, 0, p + 2 * 4096 - 8, 129);
    *(unsigned int *)p = 1;         /* sched_attr.size */
    syscall(SYS_sched_setattr, 0, p, 0);
    return 0;
}
"""

TRACE = "trace=nanosleep,restart_syscall,mincore,set_mempolicy,sched_setattr"
TS = r"\{tv_sec=0, tv_nsec=\d+\}"
EXPECTED = [
    rf"nanosleep\({TS}, {TS}\) += \? ERESTART_RESTARTBLOCK \(Interrupted by signal\)",
    r"restart_syscall\(<\.\.\. resuming interrupted nanosleep \.\.\.>\) += 0",
    rf"nanosleep\({TS}, {TS}\) += \? ERESTART_RESTARTBLOCK \(Interrupted by signal\)",
    r"mincore\(0x[0-9a-f]+, 4097, \[1, 0\]\) += 0",
    r"set_mempolicy\(MPOL_DEFAULT, \[0000000000000000\], 65\) += 0",
    r"set_mempolicy\(MPOL_DEFAULT, \[0000000000000000, \.\.\. /\* 0x[0-9a-f]+ \*/\], 129\)"
    r" += -1 EFAULT \(Bad address\)",
    r"sched_setattr\(0, \{size=1\} => \{size=\d+\}, 0\) += -1 E2BIG \(Argument list too long\)",
]


def calls(text: str) -> list[str]:
    """The lines of the traced calls (not signals, not the exit)."""
    return [ln for ln in text.splitlines() if not ln.startswith(("---", "+++"))]


def check(lines: list[str]) -> None:
    assert len(lines) == len(EXPECTED), lines
    for line, pattern in zip(lines, EXPECTED):
        assert re.fullmatch(pattern, line), (line, pattern)


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> str:
    return build(tmp_path_factory.mktemp("interrupted"), "interrupted", PROGRAM_C)


def test_strace_prints_them(program, tmp_path):
    """The program does what the test needs: strace prints the expected lines."""
    log = tmp_path / "strace.log"
    subprocess.run([STRACE, "-qq", "-e", TRACE, "-o", str(log), program], check=True,
                   timeout=60)
    check(calls(log.read_text()))


@pytest.mark.parametrize("engine", ENGINES)
def test_recorded_and_printed_as_strace_does(engine, program, tmp_path):
    need_engine(engine)
    trace = tmp_path / "trace.kt"
    subprocess.run([sys.executable, "-m", "ktrace.cli", "--engine", engine, "-f", str(trace),
                    program], check=True, timeout=60)
    out = subprocess.run([sys.executable, "-m", "ktrace.kdump.cli", "--strace", "-e", TRACE,
                          "-f", str(trace)], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    check(calls(out))

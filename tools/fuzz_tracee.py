"""Fuzz the engines with a hostile tracee: random syscalls with random arguments.

    flock /tmp/ktrace-bench.lock python3 tools/fuzz_tracee.py [--engine ptrace|bpf|both]
        [--seconds 60] [--seed N] [--calls 3000] [--runs N] [--keep DIR]

For each engine, a private trace service (its own KTRACE_RUNTIME_DIR) traces
a witness process (``ktrace -p``) and then, run after run until the time is
up, ``ktrace -t <everything the engine records> -f out CHILD``, where CHILD is
a C program (built here with gcc) that makes ``--calls`` syscalls with random
numbers and arguments: NULL, kernel-half and wrapping addresses, unmapped and
half-mapped pages, random bytes, strings, iovec arrays, msghdrs and argv
arrays full of such pointers, huge and negative lengths, numbers beyond any
table, utrace.  One or three threads, so stops race.

A finding is any of: a line in the service's log (an error the engine
contained, or one that ended it); ktrace saying anything on stderr but the
facility's notices; the witness no longer traced (the service died); kdump
-f, --strace -f or --json -f exiting non-zero or with a traceback on the
file; a run that hangs.  Exit status 1 when anything was found; each
finding names its seeds, and ``--seed S --runs 1`` replays one run.

The child cannot harm the machine: when started as root it drops to nobody
(setgroups, setresgid, setresuid) in a scratch directory it owns, with small
rlimits (file size, descriptors, processes, CPU, no core), and a seccomp
filter refuses (EPERM) what could reach outside it or end the run early:
reboot, kexec, (u)mount and the new mount API, swap, modules, ptrace,
process_vm_*, signals to any process, fork/clone/exec, exit other than its
own final one, memory-map changes (it would unmap itself), its own signal
set-up (its SIGALRM timer interrupts blocking calls), namespaces, chroot,
bpf, perf, userfaultfd, io_uring (its operations bypass seccomp), keys,
seccomp itself, and INET/packet sockets (no traffic to random addresses).
It never picks rt_sigreturn, uretprobe or uprobe, which kill it.
The engines see every refused call's entry (ptrace stops before seccomp).
It loads the machine: the benchmarks' lock keeps it and them apart.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

from ktrace import record as r  # noqa: E402
from ktrace.abi import LINUX_X86_64  # noqa: E402
from ktrace.abi.linux_plan import UTRACE_NR  # noqa: E402

NOBODY = 65534
MAX_NR = max(nr for nr in LINUX_X86_64.syscalls if nr < UTRACE_NR)   # the table's last
EXIT_MAGIC = 0x4B740000          # exit_group's status word the filter lets through (status 0)
RUN_TIMEOUT = 60                 # seconds a run may take before it counts as a hang
WITNESS = "import os,time\nwhile True:\n    os.stat('/')\n    time.sleep(0.02)\n"
# ktrace's stderr lines that are the facility's notices, not findings
NOTICES = re.compile(r"ktrace: \d+ perf events lost for pid \d+$")   # w/f: a full perf ring

DENY = """
    reboot kexec_load kexec_file_load mount umount2 pivot_root chroot swapon swapoff
    init_module finit_module delete_module ptrace process_vm_readv process_vm_writev
    kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo pidfd_send_signal pidfd_getfd
    fork vfork clone clone3 execve execveat
    mmap munmap mremap mprotect pkey_mprotect brk madvise remap_file_pages shmat
    process_madvise process_mrelease arch_prctl set_tid_address
    rt_sigprocmask sigaltstack setitimer alarm
    unshare setns bpf perf_event_open userfaultfd io_uring_setup io_uring_enter
    io_uring_register add_key request_key keyctl seccomp
    open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr quotactl quotactl_fd
    acct settimeofday clock_settime adjtimex clock_adjtime sethostname setdomainname
    iopl ioperm syslog vhangup
""".split()

CHILD_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ARENA (64 * 1024)
#define UTRACE_NR 0x6b74

static char *arena;                     /* random bytes and structures, then a hole */
static long page;
static long max_nr, calls;
static volatile int go;
static double deadline;

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13; x ^= x >> 7; x ^= x << 17;
	return *s = x;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);    /* vDSO: no syscall */
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t hostile(uint64_t *s);

/* a pointer into the arena at a random place (near its end now and then) */
static uint64_t in_arena(uint64_t *s)
{
	uint64_t off = next(s) % ARENA;
	if (next(s) % 4 == 0)
		off = ARENA - 1 - next(s) % 32;
	return (uint64_t)arena + off;
}

/* rewrite part of the arena: bytes, strings, or structs made of hostile values */
static void scribble(uint64_t *s)
{
	uint64_t *w = (uint64_t *)(arena + (next(s) % (ARENA / 8 - 64)) * 8);
	switch (next(s) % 4) {
	case 0:                                 /* random bytes */
		for (int i = 0; i < 64; i++)
			w[i] = next(s);
		break;
	case 1: {                               /* a string */
		char *c = (char *)w;
		int n = next(s) % 300;
		for (int i = 0; i < n; i++)
			c[i] = "/proc/self/ab.cd\033%n"[next(s) % 18];
		c[n] = 0;
		break;
	}
	default:                                /* pointers and lengths: iovec, msghdr, argv */
		for (int i = 0; i < 64; i++)
			w[i] = hostile(s);
		break;
	}
}

static uint64_t hostile(uint64_t *s)
{
	static const uint64_t fixed[] = {
		0, 1, 2, 16, 4096, 0x7fffffff, 0x80000000, 0xffffffff,
		0xffffffff81000000UL, 0xfffffffffffffff0UL, 0x8000000000000000UL,
		0x7ffffffffffffff8UL, 0x0000800000000000UL, 0x100000UL,
		(uint64_t)-1, (uint64_t)-2, (uint64_t)-4096, (uint64_t)1 << 32,
	};
	switch (next(s) % 8) {
	case 0: case 1:
		return fixed[next(s) % (sizeof fixed / sizeof fixed[0])];
	case 2: case 3: case 4:
		return in_arena(s);
	case 5:
		return (uint64_t)arena + ARENA + next(s) % page;   /* the hole after it */
	case 6:
		return next(s) % 1024;
	default:
		return next(s);
	}
}

static long pick_nr(uint64_t *s)
{
	static const int favourite[] = {
		SYS_open, SYS_openat, SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64,
		SYS_sendmsg, SYS_recvmsg, SYS_sendto, SYS_recvfrom, SYS_rt_sigaction, SYS_stat,
		SYS_newfstatat, SYS_statx, SYS_execve, SYS_execveat, SYS_poll, SYS_ppoll,
		SYS_select, SYS_pselect6, SYS_ioctl, SYS_fcntl, SYS_futex, SYS_prctl, SYS_clone3,
		SYS_getdents64, SYS_readlink, SYS_getcwd, SYS_bind, SYS_connect, SYS_setsockopt,
		SYS_nanosleep, SYS_wait4, SYS_epoll_ctl, SYS_prlimit64, SYS_openat2, SYS_chdir,
		SYS_socketpair, SYS_pipe2, SYS_dup2, SYS_close, SYS_rseq, SYS_epoll_pwait,
		SYS_rt_sigsuspend, SYS_sendmmsg, SYS_recvmmsg, SYS_getrandom, SYS_uname,
	};
	switch (next(s) % 10) {
	case 0:
		return UTRACE_NR;
	case 1: case 2: case 3:
		return favourite[next(s) % (sizeof favourite / sizeof favourite[0])];
	case 4:
		return (long)hostile(s);            /* beyond any table, negative */
	default:
		return next(s) % (max_nr + 1);
	}
}

/* calls whose only effect is to kill the caller, which seccomp lets through:
 * rt_sigreturn (with a random frame), uretprobe and uprobe (SIGILL unless
 * called from the kernel's trampoline) */
static long harmless(long nr)
{
	return nr == SYS_rt_sigreturn || nr == 335 || nr == 336 ? SYS_getpid : nr;
}

static void *fuzz(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg | 1;     /* xorshift: never 0 */
	while (!go)
		;
	for (long i = 0; i < calls && now() < deadline; i++) {
		if (next(&s) % 4 == 0)
			scribble(&s);
		long nr = harmless(pick_nr(&s));
		uint64_t a[6];
		for (int j = 0; j < 6; j++)
			a[j] = hostile(&s);
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	syscall(SYS_exit_group, EXIT_MAGIC);
	return NULL;
}

static void on_alarm(int sig) { (void)sig; }   /* only to interrupt blocking calls */

static int load_filter(const char *path)
{
	static char prog[65536];
	int fd = open(path, O_RDONLY), n = fd < 0 ? -1 : read(fd, prog, sizeof prog);
	struct sock_fprog fp = {.len = n / 8, .filter = (struct sock_filter *)prog};
	if (n <= 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	close(fd);
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fp);
}

int main(int argc, char **argv)
{
	/* seed calls max_nr threads seconds filter-file [uid] */
	if (argc < 7)
		return 2;
	uint64_t seed = strtoull(argv[1], NULL, 0);
	calls = atol(argv[2]);
	max_nr = atol(argv[3]);
	int threads = atoi(argv[4]);
	deadline = now() + atof(argv[5]);
	page = sysconf(_SC_PAGESIZE);
	arena = mmap(NULL, ARENA + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(arena + ARENA, page);
	uint64_t s = seed << 1 | 1;
	for (int i = 0; i < ARENA / 8; i++)
		((uint64_t *)arena)[i] = next(&s);

	struct rlimit fsize = {1 << 20, 1 << 20}, nofile = {64, 64}, nproc = {0, 0},
		      cpu = {60, 60}, core = {0, 0};
	setrlimit(RLIMIT_FSIZE, &fsize);
	setrlimit(RLIMIT_NOFILE, &nofile);
	setrlimit(RLIMIT_CPU, &cpu);
	setrlimit(RLIMIT_CORE, &core);
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0); dup2(null, 1); dup2(null, 2);
	if (argc > 7) {
		uid_t uid = atoi(argv[7]);
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			return 3;
	}
	pthread_t t[8];
	for (int i = 1; i < threads && i < 8; i++)
		pthread_create(&t[i], NULL, fuzz, (void *)(uintptr_t)(seed << 8 | i << 1));
	setrlimit(RLIMIT_NPROC, &nproc);
	struct sigaction sa = {.sa_handler = on_alarm};   /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 20000}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	if (load_filter(argv[6]) != 0)
		return 4;
	go = 1;
	fuzz((void *)(uintptr_t)(seed << 8));
	return 0;
}
""".replace("EXIT_MAGIC", hex(EXIT_MAGIC))

# ---------------------------------------------------------------------------
# The seccomp filter (classic BPF), built here where names are at hand

_INSN = struct.Struct("<HBBI")
LD_ABS, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
RET_ALLOW, RET_EPERM = 0x7FFF0000, 0x00050000 | 1
AUDIT_ARCH_X86_64 = 0xC000003E
NR, ARCH, ARG0 = 0, 4, 16            # offsets in struct seccomp_data (args: low words)
SIGALRM, PR_SET_SECCOMP = 14, 22
AF_INET, AF_INET6, AF_PACKET = 2, 10, 17


def _nr(name: str) -> int:
    nr = LINUX_X86_64.syscall_number(name)
    if nr is None:
        raise KeyError(name)
    return nr


def seccomp_filter() -> bytes:
    """Refuse (EPERM) the DENY list and the argument cases of the docstring."""
    prog: list[tuple[int, int, int, int]] = []

    def insn(code: int, k: int, jt: int = 0, jf: int = 0) -> None:
        prog.append((code, jt, jf, k))

    def deny_if(nr: int, arg_values: tuple[int, ...], allow_if_equal: bool = False) -> None:
        """nr with arg0 in arg_values: refused (or, allow_if_equal: only those pass)."""
        n = len(arg_values)
        insn(JEQ, nr, 0, n + 3)              # another nr: past this block, NR still loaded
        insn(LD_ABS, ARG0)
        for i, v in enumerate(arg_values):
            insn(JEQ, v, n - i, 0)           # equal: to the second return
        insn(RET, RET_EPERM if allow_if_equal else RET_ALLOW)
        insn(RET, RET_ALLOW if allow_if_equal else RET_EPERM)

    insn(LD_ABS, ARCH)
    insn(JEQ, AUDIT_ARCH_X86_64, 1, 0)
    insn(RET, RET_EPERM)
    insn(LD_ABS, NR)
    insn(JGE, 0x40000000, 0, 1)              # x32 numbers
    insn(RET, RET_EPERM)
    deny_if(_nr("exit_group"), (EXIT_MAGIC,), allow_if_equal=True)
    deny_if(_nr("exit"), (EXIT_MAGIC,), allow_if_equal=True)
    deny_if(_nr("rt_sigaction"), (SIGALRM,))
    deny_if(_nr("prctl"), (PR_SET_SECCOMP,))
    deny_if(_nr("socket"), (AF_INET, AF_INET6, AF_PACKET))
    for name in DENY:
        nr = LINUX_X86_64.syscall_number(name)
        if nr is not None:
            insn(JEQ, nr, 0, 1)
            insn(RET, RET_EPERM)
    insn(RET, RET_ALLOW)
    return b"".join(_INSN.pack(code, jt, jf, k) for code, jt, jf, k in prog)


# ---------------------------------------------------------------------------
# Runs


@dataclass
class Stats:
    runs: int = 0
    calls: int = 0
    records: int = 0
    bytes: int = 0
    statuses: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)    # what -> the seeds that found it

    def found(self, seed: int | None, what: str) -> None:
        self.findings.setdefault(what, []).append(seed)


def facilities(engine: str) -> str:
    """Every letter the engine records (ptrace cannot record capability failures)."""
    return "acefinstuwy" if engine == "ptrace" else "acefinpstuwy"


def build_child(workdir: Path) -> Path:
    src = workdir / "fuzz_child.c"
    src.write_text(CHILD_C)
    exe = workdir / "fuzz_child"
    subprocess.run(["gcc", "-O1", "-pthread", "-o", str(exe), str(src)], check=True)
    exe.chmod(0o755)
    return exe


def call_count(path: Path, pid: int) -> int:
    try:
        return sum(1 for x in r.read_records(str(path))
                   if isinstance(x, r.Syscall) and x.header.pid == pid)
    except (OSError, r.TraceFileError):
        return -1


def service_log(rundir: Path) -> list[str]:
    """What the services logged: their own lines (with what varies per stop
    left out, so that one cause is one finding), and how a traceback ended."""
    found = []
    for log in sorted(rundir.glob("*.log")):
        text = log.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("ktrace"):
                found.append(re.sub(r"tid \d+, status 0x[0-9a-f]+|\d+ so far", "…", line))
        if "Traceback" in text:
            found.append(f"{log.name}: {last_error(text)}")
    return found


def kdump_checks(env: dict, out: Path) -> list[str]:
    found = []
    for view in ([], ["--strace"], ["--json"]):
        argv = [sys.executable, "-m", "ktrace.kdump.cli", *view, "-f", str(out)]
        try:
            res = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, timeout=600)
        except subprocess.TimeoutExpired:
            found.append(f"kdump {' '.join(view)} hung on {out}")
            continue
        if res.returncode != 0 or b"Traceback" in res.stderr:
            found.append(f"kdump {' '.join(view)}: exit {res.returncode}: "
                         f"{last_error(res.stderr.decode(errors='replace'))}")
    return found


def last_error(stderr: str) -> str:
    """A traceback's innermost frame and its exception, else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    frames = [line for line in lines if line.startswith("File ")]
    if frames:
        return f"{lines[-1]} at {frames[-1]}"
    return lines[-1] if lines else ""


def ktrace_cmd(engine: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "ktrace.cli", "--engine", engine, *args]


def one_run(engine: str, env: dict, child: Path, filt: Path, scratch: Path, seed: int,
            calls: int, uid: int | None, stats: Stats, keep: Path | None) -> None:
    rng = random.Random(seed)
    threads = rng.choice((1, 1, 3))
    out = scratch.parent / f"{engine}-{seed}.out"
    argv = [str(child), str(seed), str(calls), str(MAX_NR + 8),
            str(threads), "20", str(filt)]
    if uid is not None:
        argv.append(str(uid))
    cmd = ktrace_cmd(engine, "-t", facilities(engine), "-f", str(out), *argv)
    proc = subprocess.Popen(cmd, env=env, cwd=scratch, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()                           # ktrace's pid is the child's
        _, err = proc.communicate(timeout=RUN_TIMEOUT)
        stats.found(seed, f"the run hung (killed after {RUN_TIMEOUT} s)")
    status = proc.returncode
    stats.runs += 1
    stats.calls += calls * threads
    stats.statuses[status] = stats.statuses.get(status, 0) + 1
    odd = [line for line in err.decode(errors="replace").splitlines()
           if line and not NOTICES.match(line)]
    if odd or status in (1, 2, 3, 4, 127):   # ktrace's error; the child's set-up; no exec
        stats.found(seed, f"ktrace exit {status}, stderr: {' | '.join(odd)[-800:]}")
    if out.exists():
        stats.bytes += out.stat().st_size
        try:
            stats.records += sum(1 for _ in r.read_records(str(out)))
        except r.TraceFileError as e:
            stats.found(seed, f"the trace does not read: {e}")
        for what in kdump_checks(env, out):
            stats.found(seed, what)
        if keep is not None:
            shutil.copy(out, keep / out.name)
        out.unlink()


def fuzz_engine(engine: str, seconds: float, seed: int, calls: int, runs: int | None,
                keep: Path | None) -> Stats:
    stats = Stats()
    work = Path(tempfile.mkdtemp(prefix=f"ktrace-fuzz-{engine}-"))
    rundir = work / "run"
    rundir.mkdir(mode=0o700)
    scratch = work / "scratch"
    scratch.mkdir()
    uid = NOBODY if os.getuid() == 0 else None
    if uid is not None:
        os.chown(scratch, uid, uid)
        work.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(SRC), KTRACE_RUNTIME_DIR=str(rundir))
    child = build_child(work)
    filt = work / "filter.bpf"
    filt.write_bytes(seccomp_filter())
    witness = subprocess.Popen([sys.executable, "-c", WITNESS])
    witness_out = work / "witness.out"
    try:
        res = subprocess.run(ktrace_cmd(engine, "-p", str(witness.pid), "-t", "c", "-f",
                                        str(witness_out)),
                             env=env, capture_output=True, timeout=120)
        if res.returncode != 0:
            raise SystemExit(f"{engine}: cannot trace the witness: {res.stderr.decode()}")
        end = time.monotonic() + seconds
        run_seed = seed
        while time.monotonic() < end and (runs is None or stats.runs < runs):
            before = call_count(witness_out, witness.pid)
            one_run(engine, env, child, filt, scratch, run_seed, calls, uid, stats, keep)
            time.sleep(0.3)
            after = call_count(witness_out, witness.pid)
            if after <= before:
                stats.found(run_seed, f"the witness is no longer traced (calls {before} -> "
                                      f"{after}): the service died")
                break
            print(f"{engine}: run {stats.runs} seed {run_seed} done", file=sys.stderr,
                  flush=True)
            run_seed += 1
        res = subprocess.run(ktrace_cmd(engine, "-c", "-p", str(witness.pid)), env=env,
                             capture_output=True, timeout=120)
        if res.returncode != 0:
            stats.found(None, f"clearing the witness failed: {res.stderr.decode()}")
        for line in service_log(rundir):
            stats.found(None, f"service log: {line}")
    finally:
        witness.kill()
        witness.wait()
        shutil.rmtree(work, ignore_errors=True)
    return stats


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=("ptrace", "bpf", "both"), default="both")
    ap.add_argument("--seconds", type=float, default=60.0, help="per engine")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--calls", type=int, default=3000, help="syscalls per thread per run")
    ap.add_argument("--runs", type=int, help="stop after this many runs per engine")
    ap.add_argument("--keep", type=Path, help="copy every trace file here")
    args = ap.parse_args(argv)
    if shutil.which("gcc") is None:
        print("fuzz_tracee: needs gcc", file=sys.stderr)
        return 2
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    engines = ("ptrace", "bpf") if args.engine == "both" else (args.engine,)
    found = False
    for engine in engines:
        started = time.monotonic()
        stats = fuzz_engine(engine, args.seconds, args.seed, args.calls, args.runs, args.keep)
        took = time.monotonic() - started
        print(f"{engine}: {stats.runs} runs in {took:.0f} s from seed {args.seed}, "
              f"{stats.calls} syscalls asked, {stats.records} records "
              f"({stats.bytes / 1e6:.1f} MB), ktrace exit statuses {stats.statuses}")
        for what, seeds in stats.findings.items():
            shown = ", ".join(str(x) for x in seeds[:5]) + (", ..." if len(seeds) > 5 else "")
            print(f"  FOUND ({len(seeds)}x, seeds {shown}): {what}")
        found |= bool(stats.findings)
    return 1 if found else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # clean up the witness too
    sys.exit(main(sys.argv[1:]))

"""Data behind a pointer inside a struct argument (linux_plan.Pointee): a
sock_fprog's instructions (setsockopt's SO_ATTACH_FILTER, seccomp's filter,
one of them torn by an unmapped page; and getsockopt's SO_GET_FILTER, whose
optlen counts instructions), the registers behind ptrace's
GETREGSET/SETREGSET iovec, pselect6's sigmask.  Both engines record them
alike, and the strace view prints what strace 6.1 prints (-v): the program
prints the lines strace prints of its calls (checked against /usr/bin/strace
where there is one).  Real processes, under each engine (bpf: root and BPF
only); the ptrace engine traces no child here (the program's child is its
own tracee)."""

from __future__ import annotations

from engine_support import ENGINES, program_fixtures, real_strace, strace_view
from ktrace import record as r
from ptrace_support import read_calls

CALLS = ("setsockopt", "getsockopt", "seccomp", "pselect6", "ptrace")
TRACE = "trace=" + ",".join(CALLS)

POINTEES_C = r"""
#include <elf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const regs[] = {
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
    "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
    "gs_base", "ds", "es", "fs", "gs"};

/* strace's {iov_base={r15=..., ...}, iov_len=N}: the registers N bytes hold */
static void print_regset(const unsigned long long *words, size_t given, size_t got) {
    printf("{iov_base={");
    for (size_t k = 0; k < got / 8; k++)
        printf("%s%s=%#llx", k ? ", " : "", regs[k], words[k]);
    if (got > sizeof(struct user_regs_struct))
        printf(", ...");
    printf("}, iov_len=%zu", given);
    if (got != given)
        printf(" => %zu", got);
    printf("})");
}

int main(void) {
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *end = m + 4096;
    munmap(end, 4096);
    memset(m, 0, 4096);

    struct sock_filter sock_insns[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
        BPF_JUMP(BPF_JMP | BPF_K | BPF_JEQ, IPPROTO_UDP, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog sock_prog = {4, sock_insns};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &sock_prog, sizeof(sock_prog));
    printf("setsockopt(%d, SOL_SOCKET, SO_ATTACH_FILTER, {len=4, filter=["
           "BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_AD_OFF+SKF_AD_PROTOCOL), "
           "BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0x11, 0, 0x1), BPF_STMT(BPF_RET|BPF_K, 0xffff), "
           "BPF_STMT(BPF_RET|BPF_K, 0)]}, %zu) = %d\n", fd, sizeof(sock_prog), rc);

    /* SO_GET_FILTER: optlen counts the instructions */
    struct sock_filter got[4];
    socklen_t got_len = 4;
    rc = getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &got_len);
    printf("getsockopt(%d, SOL_SOCKET, SO_GET_FILTER, ["
           "BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_AD_OFF+SKF_AD_PROTOCOL), "
           "BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0x11, 0, 0x1), BPF_STMT(BPF_RET|BPF_K, 0xffff), "
           "BPF_STMT(BPF_RET|BPF_K, 0)], [%u]) = %d\n", fd, got_len, rc);

    struct sock_filter seccomp_insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_K | BPF_JEQ, 0xffff, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog seccomp_prog = {4, seccomp_insns};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    rc = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &seccomp_prog);
    printf("seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=4, filter=["
           "BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0), BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0xffff, 0, 0x1), "
           "BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|0x1), "
           "BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW)]}) = %d\n", rc);
    /* an instruction before the unmapped page, the rest past it: EFAULT */
    struct sock_filter *last = (struct sock_filter *)end - 1;
    *last = seccomp_insns[3];
    struct sock_fprog torn = {3, last};
    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &torn);
    printf("seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=3, filter=["
           "BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW), ... /* %p */]}) = "
           "-1 EFAULT (Bad address)\n", (void *)end);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    struct { const sigset_t *ss; size_t ss_len; } pack = {&mask, 8};
    struct timespec zero = {0, 0};
    rc = syscall(__NR_pselect6, 0, NULL, NULL, NULL, &zero, &pack);
    printf("pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=0}, "
           "{sigmask=[HUP CHLD], sigsetsize=8}) = %d (Timeout)\n", rc);

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    unsigned long long words[32];
    struct iovec iov = {words, 24};
    ptrace(PTRACE_GETREGSET, child, NT_PRSTATUS, &iov);
    printf("ptrace(PTRACE_GETREGSET, %d, NT_PRSTATUS, ", child);
    print_regset(words, 24, iov.iov_len);
    printf(" = 0\n");
    ptrace(PTRACE_SETREGSET, child, NT_PRSTATUS, &iov);
    printf("ptrace(PTRACE_SETREGSET, %d, NT_PRSTATUS, ", child);
    print_regset(words, 24, iov.iov_len);
    printf(" = 0\n");
    iov.iov_len = sizeof(struct user_regs_struct) + 8;
    ptrace(PTRACE_GETREGSET, child, NT_PRSTATUS, &iov);
    printf("ptrace(PTRACE_GETREGSET, %d, NT_PRSTATUS, ", child);
    print_regset(words, sizeof(struct user_regs_struct) + 8, iov.iov_len);
    printf(" = 0\n");
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return 0;
}
"""


exe, traced = program_fixtures("pointees", POINTEES_C, inherit=False)


def _shapes(path) -> list[tuple[str, list[tuple[int, bytes, int]]]]:
    """(call, [(record type, struct name, bytes)]) of the calls with pointees:
    the shape of what was recorded (the registers' values are the run's)."""
    return [(c.name, [(rec.header.type, rec.name, len(rec.data))
                      for rec in c.records if isinstance(rec, (r.Struct, r.StructArray))])
            for calls in read_calls(path).values() for c in calls if c.name in CALLS]


def test_the_pointees_are_recorded(engine, traced):
    path, _ = traced(engine)
    fprog, sock_filter = (r.STRUCT, b"sock_fprog", 16), b"sock_filter"
    iovec, timespec = (r.STRUCT, b"iovec", 16), (r.STRUCT, b"timespec", 16)
    assert _shapes(path) == [
        ("setsockopt", [(r.STRUCT, b"bytes", 16), (r.STRUCT_ARRAY, sock_filter, 32)]),
        # optlen's 4 instructions
        ("getsockopt", [(r.STRUCT, b"int", 4), (r.STRUCT, b"bytes", 32), (r.STRUCT, b"int", 4)]),
        ("seccomp", [fprog, (r.STRUCT_ARRAY, sock_filter, 32)]),
        # the instruction before the unmapped page
        ("seccomp", [fprog, (r.STRUCT_ARRAY, sock_filter, 8)]),
        ("pselect6", [timespec, (r.STRUCT, b"sigset_argpack", 16), (r.STRUCT, b"sigset", 8),
                      timespec]),
        # GETREGSET's registers after its iovec at exit, SETREGSET's at entry
        ("ptrace", [iovec, iovec, (r.STRUCT, b"regset", 24)]),
        ("ptrace", [iovec, (r.STRUCT, b"regset", 24), iovec]),
        ("ptrace", [iovec, iovec, (r.STRUCT, b"regset", 216)]),
    ]


def test_both_engines_record_the_same(traced):
    recorded = [_shapes(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_prints_what_strace_prints(engine, traced):
    path, printed = traced(engine)
    assert strace_view(path, "-v", "-e", TRACE) == printed.splitlines()


def test_the_program_prints_what_strace_prints(exe, tmp_path):
    lines, printed = real_strace(exe, tmp_path, "-v", "-e", TRACE, "-e", "signal=none")
    assert lines == printed

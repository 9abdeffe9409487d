"""keyctl's struct arguments and what they point to: KEYCTL_DH_COMPUTE's
keyctl_dh_params and keyctl_kdf_params (its hashname string and otherinfo
bytes, linux_plan.Pointee), KEYCTL_PKEY_QUERY's result, and KEYCTL_PKEY_*'s
data arguments, whose lengths are fields of the keyctl_pkey_params argument
(one buffer torn by an unmapped page: the bpf program puts its record off to
the exit, and the argument after it follows).  Both engines record them
alike, and the strace view prints what strace 6.1 prints (-s 4): the program
prints the lines strace prints of its calls (checked against /usr/bin/strace
where there is one).  Real processes, under each engine (bpf: root and BPF
only)."""

from __future__ import annotations

from engine_support import program_fixtures, real_strace, strace_view
from ktrace import record as r
from ptrace_support import read_calls

STRSIZE = "4"

KEYCTL_C = r"""
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* strace's "= -1 ENAME (message)" of a failed call; its result else */
static const char *result(long rc) {
    static char text[128];
    static const struct { int e; const char *name; } names[] = {
        {EOPNOTSUPP, "EOPNOTSUPP"}, {EINVAL, "EINVAL"}, {ENOKEY, "ENOKEY"},
        {EFAULT, "EFAULT"}, {ENOENT, "ENOENT"}, {EACCES, "EACCES"}, {ENOSYS, "ENOSYS"}};
    const char *name = "E???";
    if (rc >= 0) {
        snprintf(text, sizeof(text), "%ld", rc);
        return text;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (names[k].e == errno)
            name = names[k].name;
    snprintf(text, sizeof(text), "-1 %s (%s)", name, strerror(errno));
    return text;
}

int main(void) {
    char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *end = m + 4096;
    munmap(end, 4096);

    struct keyctl_dh_params dh = {.private = KEY_SPEC_USER_KEYRING, .prime = 12345,
                                  .base = KEY_SPEC_THREAD_KEYRING};
    /* on the stack: the bpf program reads only memory in place, and no
       pointee is read again at exit (a literal's page may be untouched yet) */
    char hashname[] = "sha256", info[] = "\1\2 OH HAI", in[] = "abc", in2[] = "wxyz";
    struct keyctl_kdf_params kdf = {.hashname = hashname, .otherinfo = info,
                                    .otherinfolen = sizeof(info) - 1, .__spare = {0, 0, 0xbeef}};
    char out[64];
    long rc = syscall(__NR_keyctl, KEYCTL_DH_COMPUTE, &dh, out, sizeof(out), &kdf);
    printf("keyctl(KEYCTL_DH_COMPUTE, {private=KEY_SPEC_USER_KEYRING, prime=12345, "
           "base=KEY_SPEC_THREAD_KEYRING}, %p, 64, {hashname=\"sha2\"..., "
           "otherinfo=\"\\1\\2 O\"..., otherinfolen=9, __spare=[0, 0, 0xbeef, 0, ...]}) = %s\n",
           (void *)out, result(rc));

    struct keyctl_pkey_query query;
    rc = syscall(__NR_keyctl, KEYCTL_PKEY_QUERY, KEY_SPEC_PROCESS_KEYRING, 0, "", &query);
    printf("keyctl(KEYCTL_PKEY_QUERY, KEY_SPEC_PROCESS_KEYRING, 0, \"\", %p) = %s\n",
           (void *)&query, result(rc));

    struct keyctl_pkey_params params = {.key_id = KEY_SPEC_SESSION_KEYRING, .in_len = 3,
                                        .out_len = 16};
    rc = syscall(__NR_keyctl, KEYCTL_PKEY_ENCRYPT, &params, "", in, out);
    printf("keyctl(KEYCTL_PKEY_ENCRYPT, {key_id=KEY_SPEC_SESSION_KEYRING, in_len=3, "
           "out_len=16}, \"\", \"abc\", %p) = %s\n", (void *)out, result(rc));

    /* in_len's 8 bytes run into the unmapped page: strace reads 5 of them */
    char *torn = end - 7;
    memcpy(torn, "abcdefg", 7);
    params.in_len = 8;
    params.in2_len = 4;
    rc = syscall(__NR_keyctl, KEYCTL_PKEY_VERIFY, &params, "", torn, in2);
    printf("keyctl(KEYCTL_PKEY_VERIFY, {key_id=KEY_SPEC_SESSION_KEYRING, in_len=8, "
           "in2_len=4}, \"\", \"abcd\"..., \"wxyz\") = %s\n", result(rc));
    return 0;
}
"""


exe, traced = program_fixtures("keyctl", KEYCTL_C, inherit=False)


def _records(path) -> list[list[tuple[int, bytes, bytes]]]:
    """Each keyctl call's STRU records: (type, struct name, bytes), the
    addresses in the structs left out (the run's)."""
    return [[(rec.header.type, rec.name, rec.data if rec.name in (b"string", b"bytes") else
              len(rec.data)) for rec in c.records if isinstance(rec, r.Struct)]
            for calls in read_calls(path).values() for c in calls if c.name == "keyctl"]


def test_the_structs_and_their_data_are_recorded(engine, traced):
    path, _ = traced(engine)
    S = r.STRUCT
    assert _records(path) == [
        # DH_COMPUTE: params; the kdf params, their hashname and otherinfo (failed: no result)
        [(S, b"keyctl_dh_params", 12), (S, b"keyctl_kdf_params", 56), (S, b"string", b"sha256"),
         (S, b"bytes", b"\1\2 OH HAI")],
        [(S, b"string", b"")],                          # PKEY_QUERY's info (failed: no result)
        # PKEY_ENCRYPT: params, info, in_len bytes (failed: no out_len bytes)
        [(S, b"keyctl_pkey_params", 40), (S, b"string", b""), (S, b"bytes", b"abc")],
        # PKEY_VERIFY: in_len's first page's part, then in2_len's bytes
        [(S, b"keyctl_pkey_params", 40), (S, b"string", b""), (S, b"bytes", b"abcdefg"),
         (S, b"bytes", b"wxyz")],
    ]


def test_the_strace_view_prints_what_strace_prints(engine, traced):
    path, printed = traced(engine)
    assert strace_view(path, "-s", STRSIZE, "-e", "trace=keyctl") == printed.splitlines()


def test_the_program_prints_what_strace_prints(exe, tmp_path):
    lines, printed = real_strace(exe, tmp_path, "-s", STRSIZE, "-e", "trace=keyctl",
                                 "-e", "signal=none")
    assert lines == printed

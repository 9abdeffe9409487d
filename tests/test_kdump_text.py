"""kdump's text layout, pinned line by line against hand-built records."""

import pytest

from ktrace import record as r
from kdump_support import T0, call, freebsd, header, linux, lines, ret

# Linux x86-64 numbers: read 0, write 1, openat 257, getpid 39, execve 59.
# FreeBSD amd64 numbers: read 3, write 4, getpid 20.


def body(line, width=len("   100 cat      CALL  ")):
    return line[width:]


def test_header_columns_pid_command_and_tag():
    assert lines([linux(), call(39)]) == ["   100 cat      CALL  getpid"]
    long_comm = header(r.SYSCALL, pid=7, comm=b"a-very-long-thread-name")
    assert lines([r.Syscall(long_comm, 39, 0, ())]) == [
        "     7 a-very-long-thread- CALL  getppid"]   # 19 chars; no PROCCTOR: FreeBSD's


def test_thread_column_with_H_and_no_negative_tids():
    recs = [linux(), call(39, tid=100234), call(39, tid=-5)]
    assert lines(recs, "-H") == ["   100 100234 cat      CALL  getpid",
                                 "   100      0 cat      CALL  getpid"]


def test_call_arguments_raw_with_n_and_d():
    recs = [linux(), call(0, 3, 0x7FFC0000, 4096)]
    assert lines(recs, "-n") == ["   100 cat      CALL  read(0x3,0x7ffc0000,0x1000)"]
    assert lines(recs + [call(0, 0, 2**64 - 1, 1)], "-n", "-d")[1:] == [
        "   100 cat      CALL  read(0,-1,1)"]
    assert lines([linux(), call(0, 0, 0, 0)], "-n") == ["   100 cat      CALL  read(0,0,0)"]


def test_call_without_arguments_has_no_parentheses_and_narg_limits_the_args():
    assert body(lines([linux(), call(39)])[0]) == "getpid"
    assert body(lines([linux(), call(0, 1, 2, 3, narg=2)], "-n")[0]) == "read(0x1,0x2)"


def test_unknown_syscall_and_S():
    recs = [linux(), call(999, 1), call(0, 3, 0, 1)]
    assert [body(x) for x in lines(recs, "-n")] == ["[999](0x1)", "read(0x3,0,0x1)"]
    assert [body(x) for x in lines(recs, "-n", "-S")] == ["[999](0x1)", "read[0](0x3,0,0x1)"]
    assert body(lines([linux(), ret(0, 5)], "-S")[0]) == "read[0] 5"


@pytest.mark.parametrize("value, fancy, n, nd", [
    (0, "0", "0", "0"),
    (9, "9", "0x9", "9"),
    (10, "10/0xa", "0xa", "10"),
    (0x800A00000, "34370224128/0x800a00000", "0x800a00000", "34370224128"),
    (-1, "-1/0xffffffffffffffff", "0xffffffffffffffff", "-1"),
])
def test_ret_value_decimal_then_hex_rule(value, fancy, n, nd):
    recs = [linux(), ret(0, value)]
    assert body(lines(recs)[0]) == f"read {fancy}"
    assert body(lines(recs, "-n")[0]) == f"read {n}"
    assert body(lines(recs, "-n", "-d")[0]) == f"read {nd}"


def test_ret_of_an_i386_file_is_32_bits_wide():
    rec = r.Sysret(header(r.SYSRET, version=0, nsec=5000), 3, 0, 0, -1)
    assert body(lines([rec], layout=r.I386_V0)[0]) == "read -1/0xffffffff"


def test_ret_errors_linux_numbering_from_the_register_or_translated():
    recs = [linux(),
            ret(257, -2, error=2),          # ENOENT both ways
            ret(0, -11, error=35),          # EAGAIN: FreeBSD 35, Linux 11
            ret(0, 0, error=35),            # no -errno in the register: translate
            ret(0, 0, error=-1),            # ERESTART
            ret(0, 0, error=-2)]            # EJUSTRETURN
    assert [body(x) for x in lines(recs)] == [
        "openat -1 errno 2 No such file or directory",
        "read -1 errno 11 Resource temporarily unavailable",
        "read -1 errno 11 Resource temporarily unavailable",
        "read RESTART",
        "read JUSTRETURN"]
    assert body(lines(recs, "-n")[1]) == "read -1 errno 11"


def test_ret_errors_freebsd_numbering_and_no_procctor():
    recs = [freebsd(), ret(3, 0, error=35)]
    assert body(lines(recs)[0]) == "read -1 errno 35 Resource temporarily unavailable"
    assert body(lines([ret(3, 0, error=2)])[0]) == "read -1 errno 2 No such file or directory"


def test_namei_and_sysctl_print_up_to_the_nul_and_keep_bytes():
    recs = [linux(), r.Namei(header(r.NAMEI), b"/etc/pass\xffwd\0junk"),
            r.Sysctl(header(r.SYSCTL), b"kern.ostype")]
    out = lines(recs)
    assert out[0].encode("utf-8", "surrogateescape") == b'   100 cat      NAMI  "/etc/pass\xffwd"'
    assert out[1] == '   100 cat      SCTL  "kern.ostype"'


def genio(data, fd=1, rw=1):
    return r.Genio(header(r.GENIO), fd, rw, data)


def test_genio_text_as_a_quoted_string():
    assert lines([genio(b"hello\n")]) == [
        "   100 cat      GIO   fd 1 wrote 6 bytes",
        '       "hello',
        '       "']
    assert lines([genio(b"a\tb\\c\r\0" + b"7\n", fd=0, rw=0)]) == [
        "   100 cat      GIO   fd 0 read 9 bytes",
        '       "a\tb\\\\c\\r\\0007',
        '       "']
    assert lines([genio(b"x\n\ny")])[1:] == ['       "x', "\t", '\ty"']
    assert lines([genio(b"1")]) == ["   100 cat      GIO   fd 1 wrote 1 byte", '       "1"']
    assert lines([genio(b"")]) == ["   100 cat      GIO   fd 1 wrote 0 bytes", '       ""']


def test_genio_long_lines_fold_at_80_columns():
    out = lines([genio(b"x" * 100)])
    assert out[1:] == ['       "' + "x" * 70 + "\\", "\t" + "x" * 30 + '"']
    tabs = lines([genio(b"\t" * 10 + b"y")])
    assert tabs[1:] == ['       "' + "\t" * 8 + "\\", "\t" + "\t" * 2 + 'y"']


def test_genio_binary_as_a_hex_dump_with_kdumps_extra_line():
    out = lines([genio(bytes(range(20)) + b"AB~\x7f\xff")])
    assert out == [
        "   100 cat      GIO   fd 1 wrote 25 bytes",
        "       0x0000 0001 0203 0405 0607 0809 0a0b 0c0d 0e0f  |................|",
        "       0x0010 1011 1213 4142 7e7f ff                   |....AB~..|",
        ""]
    exact = lines([genio(bytes(range(100, 132)))])
    assert exact[1:] == [
        "       0x0000 6465 6667 6869 6a6b 6c6d 6e6f 7071 7273  |defghijklmnopqrs|",
        "       0x0010 7475 7677 7879 7a7b 7c7d 7e7f 8081 8283  |tuvwxyz{|}~.....|"]


def test_genio_m_limits_and_s_suppresses_the_data():
    recs = [genio(b"0123456789\n")]
    assert lines(recs, "-m", "4") == ["   100 cat      GIO   fd 1 wrote 11 bytes",
                                      '       "0123"']
    assert lines(recs, "-s") == ["   100 cat      GIO   fd 1 wrote 11 bytes"]
    assert lines(recs, "-m", "0")[1] == '       "0123456789'


def test_psig_default_and_caught():
    recs = [linux(), r.Psig(header(r.PSIG), 2, 0, 0, (0, 0, 0, 0)),
            r.Psig(header(r.PSIG), 17, 0x401000, 1, (0x10000, 0, 0, 0))]
    assert [body(x) for x in lines(recs)] == [
        "SIGINT SIG_DFL code=SI_USER",
        "SIGCHLD caught handler=0x401000 mask=0x10000 code=CLD_EXITED"]
    ignored = r.Psig(header(r.PSIG), 13, 1, 0x10001, (0, 0, 0, 0))     # FreeBSD's SI_USER
    assert [body(x) for x in lines([freebsd(), ignored])] == [
        "SIGPIPE caught handler=0x1 mask=0x0 code=SI_USER"]   # kdump's literal 0x%x


def test_psig_not_acted_on_left_out_with_its_siginfo():
    """A Linux process's PSIG of a signal ignored (SIG_IGN, or a default that
    ignores, stops or continues) is not one FreeBSD's kernel writes: left out,
    and the STRU siginfo of its event; a siginfo of another event stays."""
    siginfo = bytes(128)
    later = header(r.STRUCT, nsec=123456790)
    recs = [linux(),
            r.Psig(header(r.PSIG), 17, 0, 1, (0, 0, 0, 0)),       # SIGCHLD, SIG_DFL
            r.Struct(header(r.STRUCT), b"siginfo", siginfo),
            r.Psig(header(r.PSIG), 10, 1, 0, (0, 0, 0, 0)),       # SIGUSR1, SIG_IGN
            r.Struct(later, b"siginfo", siginfo),                  # waitid's, say
            r.Psig(header(r.PSIG), 19, 0, 0, (0, 0, 0, 0)),       # SIGSTOP, SIG_DFL
            r.Psig(header(r.PSIG), 15, 0, 0, (0, 0, 0, 0)),       # SIGTERM, SIG_DFL: kills
            r.Struct(header(r.STRUCT), b"siginfo", siginfo)]
    out = [body(x) for x in lines(recs)]
    assert [x.split()[0] for x in out] == ["struct", "SIGTERM", "struct"], out
    assert [x.split()[0] for x in map(body, lines(recs, "-t", "t"))] == ["struct", "struct"]
    stamped = lines(recs, "-T")       # the general path (no cache): the same rule
    assert [x.split()[3] for x in stamped] == ["STRU", "PSIG", "STRU"], stamped


def test_csw_new_and_old_forms():
    recs = [r.Csw(header(r.CSW), 1, 0, b"futex\0\0\0"), r.Csw(header(r.CSW), 0, 1, b"12345678"),
            r.Csw(header(r.CSW), 1, 1, None)]
    assert [body(x) for x in lines(recs)] == [
        'stop kernel "futex"', 'resume user "12345678"', "stop user"]


def test_user_bytes_hex_or_decimal():
    rec = [r.User(header(r.USER), b"hello")]
    assert body(lines(rec)[0]) == "5  68 65 6c 6c 6f"
    assert body(lines(rec, "-d")[0]) == "5  104 101 108 108 111"
    assert body(lines([r.User(header(r.USER), b"")])[0]) == "0 "


def test_struct_sockaddr_of_a_linux_process():
    sin = bytes([2, 0, 0, 80, 127, 0, 0, 1]) + bytes(8)
    recs = [linux(), r.Struct(header(r.STRUCT), b"sockaddr", sin)]
    assert body(lines(recs)[0]) == "struct sockaddr { AF_INET, 127.0.0.1:80 }"


def test_struct_siginfo_after_a_psig():
    import struct
    si = struct.pack("<iii4xiIi4xqq", 17, 0, 1, 42, 1000, 3, 5, 7).ljust(128, b"\0")
    recs = [linux(), r.Struct(header(r.STRUCT), b"siginfo", si)]
    assert body(lines(recs)[0]) == ("struct siginfo {si_signo=SIGCHLD, si_code=CLD_EXITED, "
                                    "si_pid=42, si_uid=1000, si_status=3, si_utime=5 /* 0.05 s */, "
                                    "si_stime=7 /* 0.07 s */}")


def test_fault_and_faultend():
    recs = [r.Fault(header(r.FAULT), 0x7F0000001000, 2), r.Fault(header(r.FAULT), 0, 0),
            r.Fault(header(r.FAULT), 0x1000, 5), r.Fault(header(r.FAULT), 0x1000, 0x40),
            r.FaultEnd(header(r.FAULTEND), 0), r.FaultEnd(header(r.FAULTEND), 77)]
    assert [body(x) for x in lines(recs)] == [
        "0x7f0000001000 0x2<VM_PROT_WRITE>", "0x0 0<VM_PROT_NONE>",
        "0x1000 0x5<VM_PROT_READ|VM_PROT_EXECUTE>", "0x1000 0x40<><invalid>64",
        "KERN_SUCCESS", "<invalid=77>"]


def test_args_and_envs():
    recs = [r.Args(header(r.ARGS), b"ls\0-l\0"), r.Envs(header(r.ENVS), b"HOME=/root\0")]
    assert lines(recs) == ['   100 cat      ARGS  "ls", "-l"',
                           '   100 cat      ENVS  "HOME=/root"']


def test_capfail_tag():
    data = (21).to_bytes(4, "little").ljust(1024, b"\0")
    recs = [linux(), r.CapFail(header(r.CAPFAIL), r.CAPFAIL_LINUX_CAPABILITY, 161, 0x203, data)]
    assert lines(recs)[0].startswith("   100 cat      CAP   ")


def test_a_payload_that_does_not_fit_its_type_is_an_invalid_record():
    raw = r.pack_record(r.SYSRET, b"\1\2", 100, 100, b"cat", T0 * 10**9, 0)
    raw += r.pack_record(r.STRUCT, b"no-nul", 100, 100, b"cat", T0 * 10**9, 0)
    assert [body(x) for x in lines([], raw=raw)] == ["invalid record", "invalid record"]


def test_procctor_and_procdtor_are_not_printed_but_set_the_abi():
    recs = [linux(), call(39), r.ProcDtor(header(r.PROCDTOR)), call(39), freebsd(), call(20)]
    assert [body(x) for x in lines(recs)] == ["getpid", "getppid", "getpid"]
    assert [x[16:25] for x in lines(recs, "-A")] == ["CALL  L64", "CALL  U00", "CALL  F64"]
    i386 = r.ProcCtor(header(r.PROCCTOR), r.SV_ABI_FREEBSD | r.SV_ILP32)
    assert lines([i386, call(20)], "-A") == ["   100 cat      CALL  F32  getpid"]


def test_events_dropped_before_the_record_once_until_one_is_shown():
    recs = [linux(), call(39, dropped=True), call(39, dropped=True, pid=5), call(39)]
    assert lines(recs) == ["   100 cat      Events dropped.",
                           "   100 cat      CALL  getpid",
                           "     5 cat      Events dropped.",
                           "     5 cat      CALL  getppid",
                           "   100 cat      CALL  getpid"]
    # -p and -t filter the record but not its "Events dropped." line
    assert lines(recs, "-p", "100", "-H") == [
        "   100    100 cat      Events dropped.", "   100    100 cat      CALL  getpid",
        "     5      5 cat      Events dropped.", "   100    100 cat      CALL  getpid"]
    assert lines(recs[:3], "-t", "n") == ["   100 cat      Events dropped."]


def test_p_matches_pid_or_tid_and_t_selects_types():
    recs = [linux(), call(39, tid=300), call(39, pid=200, tid=201),
            r.Namei(header(r.NAMEI), b"/x"), ret(39, 100)]
    assert len(lines(recs, "-p", "100")) == 3
    assert len(lines(recs, "-p", "300")) == 1
    assert len(lines(recs, "-p", "201")) == 1
    assert [body(x) for x in lines(recs, "-t", "n")] == ['"/x"']
    assert len(lines(recs, "-t", "c")) == 3


def test_timestamps_absolute_elapsed_relative_in_that_order():
    recs = [linux(), call(39, sec=T0, nsec=900_000_000), call(39, sec=T0 + 1, nsec=100_000_000),
            call(39, sec=T0, nsec=950_000_000)]
    assert [x[16:-12] for x in lines(recs, "-T")] == [
        "1700000000.900000000 ", "1700000001.100000000 ", "1700000000.950000000 "]
    assert [x[16:-12] for x in lines(recs, "-E")] == [
        "0.000000000 ", "0.200000000 ", "0.050000000 "]
    assert [x[16:-12] for x in lines(recs, "-R")] == [
        "0.000000000 ", "0.200000000 ", "-0.150000000 "]
    assert lines(recs, "-R", "-T", "-E")[1] == (
        "   100 cat      1700000001.100000000 0.200000000 0.200000000 CALL  getpid")


def test_v0_timestamps_have_six_digits_and_no_cpu():
    rec = r.Syscall(header(r.SYSCALL, version=0, nsec=123456000), 20, 0, ())
    assert lines([rec], "-T", "-c", layout=r.AMD64_V0) == [
        "   100 cat      1700000000.123456 CALL  getpid"]
    assert lines([call(39, cpu=3)], "-c")[0] == "   100 cat        3 CALL  getppid"


def test_everything_at_once():
    recs = [linux(), call(0, 3, 0x1000, 16, tid=101, cpu=12)]
    assert lines(recs, "-HTAcSn") == [
        "   100    101 cat      1700000000.123456789  12 CALL  L64  read[0](0x3,0x1000,0x10)"]

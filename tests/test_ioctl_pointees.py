"""Data behind (or after) an ioctl's struct argument, recorded by the plan's
IOCTL_* cases (linux_plan.Pointee, Length.at): KDFONTOP's font (one glyph,
two of which strace shows 32 bytes, two torn by an unmapped page, a font
name: a Pointee with no count field), BLKPG's partition, RNDADDENTROPY's
buffer after its rand_pool_info, DM_TABLE_LOAD's target spec after its
dm_ioctl (data_size bytes), TEE_IOC_INVOKE's arguments and params behind
buf_ptr, and SIOCGIFCONF's ifreqs the kernel wrote.  Both engines record them
alike, and the strace view prints what strace 6.1 prints (-v): the program
prints the lines strace prints of its calls (checked against /usr/bin/strace
where there is one).  Real processes, under each engine (bpf: root and BPF
only); fd -1 but for the socket's request, so no device is needed.  The
answers a driver writes there (a font got, a TEE call's results) from
hand-built records."""

from __future__ import annotations

import struct

from engine_support import ENGINES, program_fixtures, real_strace, strace_view
from ktrace import record as r
from ptrace_support import read_calls
from test_ioctl_view import Trace
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

TRACE = "trace=ioctl"

IOCTLS_C = r"""
#include <arpa/inet.h>
#include <linux/blkpg.h>
#include <linux/dm-ioctl.h>
#include <linux/kd.h>
#include <linux/random.h>
#include <linux/tee.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define EBADF_TEXT " = -1 EBADF (Bad file descriptor)\n"

static void print_hex(const unsigned char *data, size_t n) {
    for (size_t k = 0; k < n; k++)
        printf("\\x%02x", data[k]);
}

int main(void) {
    unsigned char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *end = m + 4096;
    munmap(end, 4096);
    memset(m, 0, 4096);

    /* a console font: one glyph (32 bytes), two (64: strace shows 32 and "..."),
       two torn by the unmapped page (strace reads 33 bytes: its address);
       a font name */
    unsigned char glyphs[64];
    for (size_t k = 0; k < sizeof(glyphs); k++)
        glyphs[k] = 0xa0 + k;
    struct console_font_op font = {.op = KD_FONT_OP_SET, .width = 8, .height = 16,
                                   .charcount = 1, .data = glyphs};
    ioctl(-1, KDFONTOP, &font);
    printf("ioctl(-1, KDFONTOP, {op=KD_FONT_OP_SET, flags=0, width=8, height=16, "
           "charcount=1, data=\"");
    print_hex(glyphs, 32);
    printf("\"})" EBADF_TEXT);
    font.charcount = 2;
    ioctl(-1, KDFONTOP, &font);
    printf("ioctl(-1, KDFONTOP, {op=KD_FONT_OP_SET, flags=0, width=8, height=16, "
           "charcount=2, data=\"");
    print_hex(glyphs, 32);
    printf("\"...})" EBADF_TEXT);
    font.data = end - 32;
    memcpy(font.data, glyphs, 32);
    ioctl(-1, KDFONTOP, &font);
    printf("ioctl(-1, KDFONTOP, {op=KD_FONT_OP_SET, flags=0, width=8, height=16, "
           "charcount=2, data=%p})" EBADF_TEXT, (void *)font.data);
    char name[] = "default8x16";
    struct console_font_op set_default = {.op = KD_FONT_OP_SET_DEFAULT, .data = (void *)name};
    ioctl(-1, KDFONTOP, &set_default);
    printf("ioctl(-1, KDFONTOP, {op=KD_FONT_OP_SET_DEFAULT, width=0, height=0, "
           "data=\"default8x16\"})" EBADF_TEXT);

    struct blkpg_partition part = {.start = 1024, .length = 4096, .pno = 3,
                                   .devname = "sda3", .volname = "vol"};
    struct blkpg_ioctl_arg pg = {.op = BLKPG_ADD_PARTITION, .datalen = sizeof(part),
                                 .data = &part};
    ioctl(-1, BLKPG, &pg);
    printf("ioctl(-1, BLKPG, {op=BLKPG_ADD_PARTITION, flags=0, datalen=%zu, data={start=1024, "
           "length=4096, pno=3, devname=\"sda3\", volname=\"vol\"}})" EBADF_TEXT, sizeof(part));

    struct { int entropy_count, buf_size; char buf[8]; } pool = {3, 8, "12345678"};
    ioctl(-1, RNDADDENTROPY, &pool);
    printf("ioctl(-1, RNDADDENTROPY, {entropy_count=3, buf_size=8, buf=\"12345678\"})"
           EBADF_TEXT);

    /* a table of one target: the dm_ioctl, its target spec and parameters */
    struct {
        struct dm_ioctl dm;
        struct dm_target_spec spec;
        char params[16];
    } table = {
        .dm = {.version = {4, 1, 2}, .data_size = sizeof(table),
               .data_start = sizeof(struct dm_ioctl), .target_count = 1,
               .name = "vg0", .uuid = "u0"},
        .spec = {.sector_start = 16, .length = 32, .target_type = "linear",
                 .next = sizeof(struct dm_target_spec) + 16},
        .params = "8:1 0"};
    ioctl(-1, DM_TABLE_LOAD, &table);
    printf("ioctl(-1, DM_TABLE_LOAD, [{version=[4, 1, 2], data_size=%zu, data_start=%zu, "
           "name=\"vg0\", uuid=\"u0\", target_count=1, flags=0}, {sector_start=16, "
           "length=32, target_type=\"linear\", string=\"8:1 0\"}])" EBADF_TEXT,
           sizeof(table), sizeof(struct dm_ioctl));

    struct {
        struct tee_ioctl_invoke_arg invoke;
        struct tee_ioctl_param params[2];
    } invoke = {
        .invoke = {.func = 1, .session = 2, .cancel_id = 3, .num_params = 2},
        .params = {{.attr = TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT, .a = 1, .b = 2, .c = 3},
                   {.attr = TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INOUT, .a = 16, .b = 32,
                    .c = 5}}};
    struct tee_ioctl_buf_data buf = {.buf_ptr = (unsigned long)&invoke,
                                     .buf_len = sizeof(invoke)};
    ioctl(-1, TEE_IOC_INVOKE, &buf);
    printf("ioctl(-1, TEE_IOC_INVOKE, {buf_len=%zu, buf_ptr={func=1, session=0x2, "
           "cancel_id=3, num_params=2, params=[{attr=TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT, "
           "a=0x1, b=0x2, c=0x3}, {attr=TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INOUT, "
           "shm_offs=0x10, size=0x20, shm_id=5}]}})" EBADF_TEXT, sizeof(invoke));

    /* the kernel's first interface (lo), and none asked for */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr[1];
    memset(ifr, 0, sizeof(ifr));
    struct ifconf ifc = {.ifc_len = sizeof(ifr), .ifc_buf = (char *)ifr};
    int rc = ioctl(s, SIOCGIFCONF, &ifc);
    struct sockaddr_in *in = (struct sockaddr_in *)&ifr[0].ifr_addr;
    printf("ioctl(%d, SIOCGIFCONF, {ifc_len=%d /* 1 * sizeof(struct ifreq) */, "
           "ifc_buf=[{ifr_name=\"%s\", ifr_addr={sa_family=AF_INET, sin_port=htons(%d), "
           "sin_addr=inet_addr(\"%s\")}}]}) = %d\n", s, ifc.ifc_len, ifr[0].ifr_name,
           ntohs(in->sin_port), inet_ntoa(in->sin_addr), rc);
    return 0;
}
"""


exe, traced = program_fixtures("ioctl_pointees", IOCTLS_C, inherit=False)


def _shapes(path) -> list[list[tuple[int, bytes, int]]]:
    """Each ioctl's records past CALL: (record type, struct name, bytes)."""
    return [[(rec.header.type, rec.name, len(rec.data))
             for rec in c.records if isinstance(rec, (r.Struct, r.StructArray))]
            for calls in read_calls(path).values() for c in calls
            if c.name == "ioctl" and c.args[0] != 1]        # (stdout's TCGETS left out)


def _mine(lines: list[str]) -> list[str]:
    return [line for line in lines if "TCGETS" not in line]


def test_the_pointees_are_recorded(engine, traced):
    path, _ = traced(engine)
    ioc, font = (r.STRUCT, b"ioc"), (r.STRUCT_ARRAY, b"fontdata")
    assert _shapes(path) == [
        # the font's first 33 bytes (one glyph: its 32, and the next on the stack)
        [(*ioc, 32), (*font, 33)],
        [(*ioc, 32), (*font, 33)],
        [(*ioc, 32), (*font, 32)],      # up to the unmapped page
        [(*ioc, 32), (*font, 33)],      # the name, its NUL and what follows on the stack
        [(*ioc, 24), (r.STRUCT_ARRAY, b"blkpg_partition", 152)],
        [(*ioc, 16)],                   # rand_pool_info and its 8 bytes
        [(*ioc, 368)],                  # dm_ioctl, its target spec and parameters
        [(*ioc, 16), (r.STRUCT, b"teebuf", 88)],
        [(*ioc, 16), (*ioc, 16), (r.STRUCT, b"ifreqs", 40)],
    ]


def test_both_engines_record_the_same(traced):
    recorded = [_shapes(traced(engine)[0]) for engine in ENGINES]
    assert recorded[0] == recorded[1]


def test_the_strace_view_prints_what_strace_prints(engine, traced):
    path, printed = traced(engine)
    assert _mine(strace_view(path, "-v", "-e", TRACE)) == printed.splitlines()


def test_the_program_prints_what_strace_prints(exe, tmp_path):
    lines, printed = real_strace(exe, tmp_path, "-v", "-e", TRACE)
    assert _mine(lines) == printed


KDFONTOP, TEE_IOC_INVOKE = 0x4B72, 0x8010A403


def test_a_font_got_prints_at_the_exit():
    t = Trace()
    t.call("ioctl", 3, KDFONTOP, 0x4000)
    op = struct.pack("<5I4xQ", 1, 0, 8, 16, 1, 0x5000)        # KD_FONT_OP_GET, one glyph
    t.stru(b"ioc", op)
    t.array(b"fontdata", 1, bytes(33))
    t.stru(b"ioc", op)
    t.array(b"fontdata", 1, bytes(range(0x40, 0x61)))
    t.ret("ioctl", 0)
    assert t.lines() == [
        "ioctl(3, KDFONTOP, {op=KD_FONT_OP_GET, flags=0, width=8, height=16, charcount=1, "
        "data=0x5000} => {width=8, height=16, charcount=1, data=\""
        + "".join(f"\\x{b:02x}" for b in range(0x40, 0x60)) + "\"}) = 0"]


def test_a_tee_call_s_results_print_after_its_arguments():
    t = Trace()
    buf_data = struct.pack("<QQ", 0x6000, 24 + 32)
    t.call("ioctl", 3, TEE_IOC_INVOKE, 0x4000)
    t.stru(b"ioc", buf_data)
    # func, session, cancel_id, ret, ret_origin, num_params; one VALUE_OUTPUT param
    t.stru(b"teebuf", struct.pack("<6I4Q", 1, 2, 3, 0, 0, 1, 2, 0, 0, 0))
    t.stru(b"ioc", buf_data)
    t.stru(b"teebuf", struct.pack("<6I4Q", 1, 2, 3, 0, 3, 1, 2, 7, 0, 0))
    t.ret("ioctl", 0)
    param = "{attr=TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_OUTPUT, a=%s, b=0, c=0}"
    assert t.lines() == [
        "ioctl(3, TEE_IOC_INVOKE, {buf_len=56, buf_ptr={func=1, session=0x2, cancel_id=3, "
        f"num_params=1, params=[{param % 0}]}} => {{ret=0, ret_origin=TEEC_ORIGIN_TEE, "
        f"params=[{param % '0x7'}]}}}}) = 0"]

"""kdump --strace: the virtual console's requests (KD*, strace's kd_ioctl.c),
the tty's (term.c: termio, termios, modem bits) and the socket's (sock.c:
SIOCGIFCONF): numbers from before _IOC whose memory the plan's IOCTL_KD,
IOCTL_TTY and IOCTL_SOCK cases read, under each engine (fd -1: no console is
needed), and the answers a driver writes, from hand-built records."""

from __future__ import annotations

import re
import struct


from ioctl_support import ioctl_lines, traced_program
from test_ioctl_view import ADDR, EBADF, Trace
from test_strace_view import linux_tables  # noqa: F401  (the fixture)

TTY_C = r"""
#include <asm/termbits.h>
#include <linux/kd.h>
#include <linux/keyboard.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
int main(void) {
    struct kbentry set = {K_SHIFTTAB, 69, K_F1}, get = {1 << KG_CTRL, 7, 0};
    struct kbsentry str = {0};
    struct consolefontdesc fontx = {256, 16, NULL};
    struct console_font_op copy = {.op = KD_FONT_OP_COPY, .height = 3};
    struct kbd_repeat rep = {250, 33};
    int bits = TIOCM_DTR | TIOCM_RTS;
    struct termio tio = {.c_iflag = ICRNL, .c_oflag = OPOST, .c_cflag = B38400 | CS8 | CREAD,
                         .c_lflag = ISIG};
    struct termios tios = {.c_iflag = ICRNL, .c_cflag = B9600 | CS7};
    struct ifconf ifc = {.ifc_len = 0, .ifc_buf = NULL};
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    strcpy((char *) str.kb_string, "hi");
    ioctl(-1, KIOCSOUND, 440);
    ioctl(-1, KDMKTONE, 1 << 16 | 65535);
    ioctl(-1, KDSETMODE, KD_GRAPHICS);
    ioctl(-1, KDSKBENT, &set);
    ioctl(-1, KDGKBENT, &get);
    ioctl(-1, KDSKBSENT, &str);
    ioctl(-1, GIO_FONTX, &fontx);
    ioctl(-1, KDFONTOP, &copy);
    ioctl(-1, KDKBDREP, &rep);
    ioctl(-1, TIOCMBIS, &bits);
    ioctl(-1, TCSETA, &tio);
    ioctl(-1, TIOCSLCKTRMIOS, &tios);
    ioctl(s, SIOCGIFCONF, &ifc);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
KDGKBENT, KDSKBENT, GIO_UNIMAP, KDGETKEYCODE = 0x4B46, 0x4B47, 0x4B66, 0x4B4C
KDSKBDIACR, SIOCGIFCONF, TCGETA = 0x4B4B, 0x8912, 0x5405


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    data = traced_program(engine, tmp_path, "tty", TTY_C)
    lines = ioctl_lines(data, start="ioctl(")
    assert lines[:-1] == [line + FAILED for line in (
        "ioctl(-1, KIOCSOUND, 440 /* 2711 Hz */)",
        "ioctl(-1, KDMKTONE, 1<<16|65535 /* 18 Hz, 1 ms */)",
        "ioctl(-1, KDSETMODE, KD_GRAPHICS)",
        "ioctl(-1, KDSKBENT, {kb_table=K_SHIFTTAB, kb_index=69, kb_value=0x100 /* K_F1 */})",
        "ioctl(-1, KDGKBENT, {kb_table=1<<KG_CTRL, kb_index=7})",
        'ioctl(-1, KDSKBSENT, {kb_func=KVAL(K_F1), kb_string="hi"})',
        "ioctl(-1, GIO_FONTX, {charcount=256, charheight=16, chardata=NULL})",
        "ioctl(-1, KDFONTOP, {op=KD_FONT_OP_COPY, height=3})",
        "ioctl(-1, KDKBDREP, {delay=250, period=33})",
        "ioctl(-1, TIOCMBIS, [TIOCM_DTR|TIOCM_RTS])",
        "ioctl(-1, TCSETA, {c_iflag=ICRNL, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST, "
        "c_cflag=B38400|CS8|CREAD, c_lflag=ISIG, ...})",
        "ioctl(-1, TIOCSLCKTRMIOS, {c_iflag=ICRNL, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|0, "
        "c_cflag=B9600|CS7|0, c_lflag=0, ...})")]
    # the kernel's answer: the buffer size its interfaces need
    assert re.fullmatch(r"ioctl\(3, SIOCGIFCONF, \{ifc_len=\d+"
                        r"( /\* \d+ \* sizeof\(struct ifreq\) \*/)?, ifc_buf=NULL\}\) = 0",
                        lines[-1])
    raw = ioctl_lines(data, "-Xraw", start="ioctl(")
    assert raw[1] == "ioctl(-1, 0x4b30, 1<<16|65535)" + FAILED
    assert raw[3] == "ioctl(-1, 0x4b47, {kb_table=0x1, kb_index=69, kb_value=0x100})" + FAILED
    verbose = ioctl_lines(data, "-Xverbose", start="ioctl(")
    assert verbose[4] == ("ioctl(-1, 0x4b46 /* KDGKBENT */, {kb_table=0x4 /* 1<<KG_CTRL */, "
                          "kb_index=7})" + FAILED)


TABLES_C = r"""
#include <linux/kd.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *end = map + page;                 /* the page after it is unmapped */
    unsigned short uni[E_TABSZ];
    struct unimapinit clr = {1, 2, 3};
    struct unimapdesc desc = {0, NULL};
    struct kbkeycode key = {0x1e, 30};
    struct ifreq ifr;
    char bridge[IFNAMSIZ] = "br0";
    int s = socket(AF_INET, SOCK_DGRAM, 0), owner = -1;
    munmap(end, page);
    memset(map, 'a', page);
    for (int i = 0; i < E_TABSZ; i++)
        uni[i] = i;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_mtu = 1500;
    ioctl(-1, PIO_SCRNMAP, end - 33);       /* what strace reads of it: 32 chars and one */
    ioctl(-1, PIO_SCRNMAP, end - 32);
    ioctl(-1, PIO_CMAP, end - 48);
    ioctl(-1, PIO_UNISCRNMAP, uni);
    ioctl(-1, PIO_UNIMAPCLR, &clr);
    ioctl(-1, PIO_UNIMAP, &desc);
    ioctl(-1, KDSETKEYCODE, &key);
    ioctl(-1, SIOCSIFMTU, &ifr);
    ioctl(-1, SIOCBRADDBR, bridge);
    ioctl(s, SIOCGIFINDEX, &ifr);
    ioctl(s, SIOCGPGRP, &owner);
    return 0;
}
"""


HEX_A = "\\x61"          # the console's tables print in hex


def test_tables_ifreqs_and_ints_print_as_strace_prints_them(engine, tmp_path):
    """(the bpf engine: once its program has the plan's new cases)"""
    data = traced_program(engine, tmp_path, "tables", TABLES_C)
    lines = ioctl_lines(data, start="ioctl(")
    assert re.fullmatch(r"ioctl\(-1, PIO_SCRNMAP, 0x[0-9a-f]+\)" + re.escape(FAILED), lines[1])
    del lines[1]
    assert lines == [line + FAILED for line in (
        f'ioctl(-1, PIO_SCRNMAP, "{HEX_A * 32}"...)',
        f'ioctl(-1, PIO_CMAP, "{HEX_A * 32}"...)',
        "ioctl(-1, PIO_UNISCRNMAP, [0, " + ", ".join(f"{i:#x}" for i in range(1, 32)) + ", ...])",
        "ioctl(-1, PIO_UNIMAPCLR, {advised_hashsize=1, advised_hashstep=2, "
        "advised_hashlevel=3})",
        "ioctl(-1, PIO_UNIMAP, {entry_ct=0, entries=NULL})",
        "ioctl(-1, KDSETKEYCODE, {scancode=0x1e, keycode=0x1e})",
        'ioctl(-1, SIOCSIFMTU, {ifr_name="lo", ifr_mtu=1500})',
        'ioctl(-1, SIOCBRADDBR, "br0")')] + [
        'ioctl(3, SIOCGIFINDEX, {ifr_name="lo", ifr_ifindex=1}) = 0',
        "ioctl(3, SIOCGPGRP, [0]) = 0"]


def test_key_entries_given_and_answered():
    t = Trace()
    t.ioctl(KDGKBENT, entry=bytes([0, 65, 0, 0]), exit_=bytes([0, 65]) + struct.pack("<H", 0xB41))
    t.ioctl(KDGKBENT, entry=bytes([0, 65, 0, 0]), ret=-EBADF)
    t.ioctl(KDSKBENT, entry=bytes([0xA8, 168]))         # the value past a page's end
    t.ioctl(KDSKBENT, entry=bytes([2, 3]) + struct.pack("<H", 0xF00D))
    assert t.lines() == [
        "ioctl(3, KDGKBENT, {kb_table=K_NORMTAB, kb_index=65, "
        "kb_value=0xb41 /* K(KT_LETTER, 'A') */}) = 0",
        "ioctl(3, KDGKBENT, {kb_table=K_NORMTAB, kb_index=65})" + FAILED,
        "ioctl(3, KDSKBENT, {kb_table=1<<KG_ALT|1<<KG_SHIFTR|1<<KG_CTRLR, kb_index=168, "
        "kb_value=???}) = 0",
        "ioctl(3, KDSKBENT, {kb_table=K_ALTTAB, kb_index=3, "
        "kb_value=0xf00d /* K(0xf0, 0xd) */}) = 0",
    ]


def test_console_structs_before_and_after():
    t = Trace()
    desc = struct.pack("<H6xQ", 57005, 0)
    t.ioctl(GIO_UNIMAP, entry=desc, ret=-EBADF)        # read again by strace: as given
    t.ioctl(GIO_UNIMAP, entry=desc, exit_=struct.pack("<H6xQ", 3, 0x1000))
    t.ioctl(KDSKBDIACR, entry=struct.pack("<I", 2) + b"()*+,-" + bytes(762))
    t.ioctl(KDSKBDIACR, entry=struct.pack("<I", 1))    # the entries not readable
    t.ioctl(KDGETKEYCODE, entry=struct.pack("<II", 0x1E, 0), exit_=struct.pack("<II", 0x1E, 30))
    assert t.lines() == [
        "ioctl(3, GIO_UNIMAP, {entry_ct=57005 => 57005, entries=NULL})" + FAILED,
        "ioctl(3, GIO_UNIMAP, {entry_ct=57005 => 3, entries=0x1000}) = 0",
        "ioctl(3, KDSKBDIACR, {kb_cnt=2, kbdiacr=[{diacr='(', base=')', result='*'}, "
        "{diacr='+', base=',', result='-'}]}) = 0",
        f"ioctl(3, KDSKBDIACR, {{kb_cnt=1, kbdiacr={ADDR + 4:#x}}}) = 0",
        "ioctl(3, KDGETKEYCODE, {scancode=0x1e, keycode=0 => 0x1e}) = 0",
    ]


def test_ifconf_lengths_and_termio_in_full():
    t = Trace()
    t.ioctl(SIOCGIFCONF, entry=struct.pack("<i4xQ", 82, 0x5000),
            exit_=struct.pack("<i4xQ", 80, 0x5000))
    t.ioctl(SIOCGIFCONF, entry=struct.pack("<i4xQ", 0, 0x5000),
            exit_=struct.pack("<i4xQ", 0, 0x5000))
    t.ioctl(SIOCGIFCONF, entry=struct.pack("<i4xQ", 80, 0x5000), ret=-EBADF)
    t.ioctl(TCGETA, exit_=struct.pack("<4HB8s", 0, 0, 0o15, 0, 0, bytes(range(3, 11))))
    assert t.lines("-v") == [
        "ioctl(3, SIOCGIFCONF, {ifc_len=82 => 80 /* 2 * sizeof(struct ifreq) */, "
        "ifc_buf=0x5000}) = 0",
        "ioctl(3, SIOCGIFCONF, {ifc_len=0, ifc_buf=[]}) = 0",
        "ioctl(3, SIOCGIFCONF, {ifc_len=80 /* 2 * sizeof(struct ifreq) */, ifc_buf=0x5000})"
        + FAILED,
        "ioctl(3, TCGETA, {c_iflag=0, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|0, c_cflag=B9600|CS5|0, "
        "c_lflag=0, c_line=N_TTY, c_cc=[[VINTR]=0x3, [VQUIT]=0x4, [VERASE]=0x5, [VKILL]=0x6, "
        "[VEOF]=0x7, [VTIME]=0x8, [VMIN]=0x9, [VSWTC]=0xa]}) = 0",
    ]


SIOCSIFADDR, SIOCSIFHWADDR, SIOCSIFFLAGS, SIOCSIFMAP = 0x8916, 0x8924, 0x8914, 0x8971
SIOCGIFNAME, SIOCBRADDIF, SIOCBRADDBR, KDFONTOP = 0x8910, 0x89A2, 0x89A0, 0x4B72
NAME = b"0123456789abcdef"          # no NUL: strace prints 15 chars and "..."


def test_ifreq_members_bridge_names_and_empty_fonts():
    t = Trace()
    inet = struct.pack("<H", 2) + struct.pack(">H4s8x", 7085, bytes([127, 0, 0, 1]))
    t.ioctl(SIOCSIFADDR, entry=NAME + inet + bytes(8))
    t.ioctl(SIOCSIFHWADDR, entry=b"lo".ljust(16, b"\0") + struct.pack("<H", 1)
            + bytes(range(0x92, 0x98)) + bytes(16))
    t.ioctl(SIOCSIFFLAGS, entry=b"lo".ljust(16, b"\0") + struct.pack("<H", 0x1003) + bytes(22))
    t.ioctl(SIOCSIFMAP, entry=b"lo".ljust(16, b"\0") + struct.pack("<QQHBBB3x", 1, 2, 3, 4, 5, 6))
    t.ioctl(SIOCGIFNAME, entry=bytes(16) + struct.pack("<i", 1) + bytes(20), ret=-EBADF)
    t.ioctl(SIOCBRADDIF, entry=bytes(16) + struct.pack("<i", 0) + bytes(20))
    t.ioctl(SIOCBRADDBR, entry=NAME)
    t.ioctl(KDFONTOP, entry=struct.pack("<5I4xQ", 0, 0, 0, 0, 1, 0x5000))   # 0 bytes of glyphs
    assert t.lines() == [
        'ioctl(3, SIOCSIFADDR, {ifr_name="0123456789abcde"..., ifr_addr={sa_family=AF_INET, '
        'sin_port=htons(7085), sin_addr=inet_addr("127.0.0.1")}}) = 0',
        'ioctl(3, SIOCSIFHWADDR, {ifr_name="lo", ifr_hwaddr={sa_family=ARPHRD_ETHER, '
        'sa_data=92:93:94:95:96:97}}) = 0',
        'ioctl(3, SIOCSIFFLAGS, {ifr_name="lo", ifr_flags=IFF_UP|IFF_BROADCAST|IFF_MULTICAST})'
        ' = 0',
        'ioctl(3, SIOCSIFMAP, {ifr_name="lo", ifr_map={mem_start=0x1, mem_end=0x2, '
        'base_addr=0x3, irq=0x4, dma=0x5, port=0x6}}) = 0',
        "ioctl(3, SIOCGIFNAME, {ifr_ifindex=1})" + FAILED,
        "ioctl(3, SIOCBRADDIF, {ifr_ifindex=0}) = 0",
        'ioctl(3, SIOCBRADDBR, "0123456789abcdef"...) = 0',
        "ioctl(3, KDFONTOP, {op=KD_FONT_OP_SET, flags=0, width=0, height=0, charcount=1, "
        'data=""}) = 0',
    ]

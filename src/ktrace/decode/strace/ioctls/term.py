"""ioctl requests of strace's term.c: the tty requests (their names are the generated tables')."""

from __future__ import annotations

import struct

from ...xlat import Xlat
from .. import structs as T
from ..call import Call
from ..fmt import flags, hexval, xval
from . import FD_VALUE, INT_VALUE, NO_ARG, Request, memory

# OSS's timer requests share the numbers of TCSETS, TCSETSW, TCSETSF
NAMES = {"SNDCTL_TMR_START": 0x5402, "SNDCTL_TMR_STOP": 0x5403, "SNDCTL_TMR_CONTINUE": 0x5404}

# the three layouts: the four flags, c_line, c_cc (, c_ispeed, c_ospeed)
_TERMIOS = struct.Struct("<4IB19s")
_TERMIOS2 = struct.Struct("<4IB19sII")
_TERMIO = struct.Struct("<4HB8s")
# c_cc's indexes (x86's, termio's the first eight of termios')
TERMIOS_CC = Xlat(enumerate(("VINTR", "VQUIT", "VERASE", "VKILL", "VEOF", "VTIME", "VMIN",
                             "VSWTC", "VSTART", "VSTOP", "VSUSP", "VEOL", "VREPRINT",
                             "VDISCARD", "VWERASE", "VLNEXT", "VEOL2")))
LINE_DISCS = Xlat(enumerate((
    "N_TTY", "N_SLIP", "N_MOUSE", "N_PPP", "N_STRIP", "N_AX25", "N_X25", "N_6PACK", "N_MASC",
    "N_R3964", "N_PROFIBUS_FDL", "N_IRDA", "N_SMSBLOCK", "N_HDLC", "N_SYNC_PPP", "N_HCI",
    "N_GIGASET_M101", "N_SLCAN", "N_PPS", "N_V253", "N_CAIF", "N_GSM0710", "N_TI_WL",
    "N_TRACESINK", "N_TRACEROUTER", "N_NCI", "N_SPEAKUP", "N_NULL")))
MODEM_FLAGS = Xlat([(0x001, "TIOCM_LE"), (0x002, "TIOCM_DTR"), (0x004, "TIOCM_RTS"),
                    (0x008, "TIOCM_ST"), (0x010, "TIOCM_SR"), (0x020, "TIOCM_CTS"),
                    (0x040, "TIOCM_CAR"), (0x080, "TIOCM_RNG"), (0x100, "TIOCM_DSR"),
                    (0x2000, "TIOCM_OUT1"), (0x4000, "TIOCM_OUT2"), (0x8000, "TIOCM_LOOP")])


def _cc_text(cc: bytes) -> str:
    return "[" + ", ".join(f"[{TERMIOS_CC.name(i) or i}]={hexval(b)}"
                           for i, b in enumerate(cc)) + "]"


def _term_text(layout: struct.Struct):
    """termios, termios2, termio: the flags, then ``...``; with -v c_line, c_cc
    (and termios2's speeds)."""
    def render(data: bytes, c: Call) -> str:
        iflag, oflag, cflag, lflag, line, cc, *speeds = layout.unpack_from(data)
        text = "{" + T.term_flags_text(iflag, oflag, cflag, lflag)
        if c.abbrev:
            return text + ", ...}"
        text += f", c_line={xval(LINE_DISCS, line, 'N_???')}, c_cc={_cc_text(cc)}"
        return text + "".join(f", {name}={value}"
                              for name, value in zip(("c_ispeed", "c_ospeed"), speeds)) + "}"
    return render


def _terms(name: str, layout: struct.Struct, get: str, sets) -> dict[str, Request]:
    render = _term_text(layout)
    return {get: memory(name, True, render, layout.size),
            **{req: memory(name, False, render, layout.size) for req in sets}}


def _modem_text(data: bytes, c: Call) -> str:
    return f"[{flags(MODEM_FLAGS, int.from_bytes(data[:4], 'little'), unknown='TIOCM_???')}]"


REQUESTS: dict[str, Request] = {
    # term.c (the tty requests' own STRU records: linux_plan's ioctl selector)
    **_terms("termios", _TERMIOS, "TCGETS", ("TCSETS", "TCSETSW", "TCSETSF")),
    **_terms("termios", _TERMIOS, "TIOCGLCKTRMIOS", ("TIOCSLCKTRMIOS",)),
    **_terms("ioc", _TERMIOS2, "TCGETS2", ("TCSETS2", "TCSETSW2", "TCSETSF2")),
    **_terms("ioc", _TERMIO, "TCGETA", ("TCSETA", "TCSETAW", "TCSETAF")),
    "TIOCGWINSZ": memory("winsize", True, T.winsize_text),
    "TIOCSWINSZ": memory("winsize", False, T.winsize_text),
    "TIOCMGET": memory("int", True, _modem_text, 4),
    **{req: memory("int", False, _modem_text, 4) for req in ("TIOCMBIS", "TIOCMBIC", "TIOCMSET")},
    **{req: memory("int", True, T.int_text) for req in ("FIONREAD", "TIOCGPGRP", "TIOCOUTQ")},
    **{req: memory("int", False, T.int_text) for req in ("TIOCSPGRP", "FIONBIO")},
    **{req: NO_ARG for req in ("FIOCLEX", "FIONCLEX", "TIOCNOTTY", "TIOCSBRK", "TIOCCBRK",
                               "TIOCCONS", "TIOCEXCL", "TIOCNXCL", "TIOCVHANGUP")},
    **{req: INT_VALUE for req in ("TCSBRK", "TCSBRKP", "TIOCSCTTY")},
    "FICLONE": FD_VALUE,        # the source descriptor
}

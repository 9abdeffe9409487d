"""ioctl requests of strace's kd_ioctl.c and kd_mpers_ioctl.c: the virtual
console's (linux/kd.h).  Their numbers are from before _IOC: the argument's
memory is what linux_plan's IOCTL_KD cases record (STRU ioc), the address
where none is recorded."""

from __future__ import annotations

import struct

from ...names import signal_name
from ...xlat import LINUX as L
from ...xlat import Xlat
from ..call import Call, counted_text
from ..fdio import print_array
from ..fmt import STYLE, array, c_int, flags, hexval, named, printstr, ptr, quote, xval
from . import NO_ARG, UINT, Request, fields, flag_bits, memory

# (OpenZFS's kstat requests share the console's 'K' numbers: in ``zfs``)
NAMES = {name: value for value, name in L.KD_IOCTLS.entries}

PIT_TICK_RATE = 1193182         # the kernel's, for KIOCSOUND's and KDMKTONE's comments
E_TABSZ, MAX_DIACR, FONT_BYTES, CMAP_BYTES = 256, 256, 8192, 48
GPFIRST, GPLAST = 0x3B4, 0x3DF  # the I/O ports KDADDIO's comment counts from
UNI_DIRECT_BASE, UNI_DIRECT_MASK = 0xF000, 0x01FF

LED_FLAGS = flag_bits("LED_", ("SCR", "NUM", "CAP"))
DEFAULT_LED_FLAGS = LED_FLAGS + flag_bits("", ("", "", "", "", "LED_SCR<<4", "LED_NUM<<4",
                                                "LED_CAP<<4"))
KBD_TYPES = Xlat([(1, "KB_84"), (2, "KB_101"), (3, "KB_OTHER")])
MODES = Xlat(enumerate(("KD_TEXT", "KD_GRAPHICS", "KD_TEXT0", "KD_TEXT1")))
KBD_MODES = Xlat(enumerate(("K_RAW", "K_XLATE", "K_MEDIUMRAW", "K_UNICODE", "K_OFF")))
META_VALS = Xlat([(3, "K_METABIT"), (4, "K_ESCPREFIX")])
KEY_TABLES = Xlat(enumerate(("K_NORMTAB", "K_SHIFTTAB", "K_ALTTAB", "K_ALTSHIFTTAB")))
KEYMAP_FLAGS = flag_bits("1<<KG_", ("SHIFT", "ALTGR", "CTRL", "ALT", "SHIFTL", "SHIFTR",
                                    "CTRLL", "CTRLR"))
KEY_TYPES = Xlat(enumerate(("KT_LATIN", "KT_FN", "KT_SPEC", "KT_PAD", "KT_DEAD", "KT_CONS",
                            "KT_CUR", "KT_SHIFT", "KT_META", "KT_ASCII", "KT_LOCK",
                            "KT_LETTER", "KT_SLOCK", "KT_DEAD2", "KT_BRL")))
KT_FN = 1
CHAR_KEY_TYPES = frozenset({0, 8, 11, 13})     # KT_LATIN, KT_META, KT_LETTER, KT_DEAD2
FN_KEY_VALS = Xlat([(v & 0xFF, f"KVAL({n})") for v, n in L.KD_KEYS.entries if v >> 8 == KT_FN])
FONT_OPS = Xlat(enumerate(("KD_FONT_OP_SET", "KD_FONT_OP_GET", "KD_FONT_OP_SET_DEFAULT",
                           "KD_FONT_OP_COPY")))
FONT_OP_SET, FONT_OP_GET, FONT_OP_SET_DEFAULT, FONT_OP_COPY = 0, 1, 2, 3
FONT_NAME_MAX = 32                       # the kernel's longest font name
FONT_FLAGS = Xlat([(1, "KD_FONT_FLAG_DONT_RECALC"), (0x80000000, "KD_FONT_FLAG_OLD")])

_KEYCODE = struct.Struct("<II")          # kbkeycode: scancode, keycode
_KBD_REPEAT = struct.Struct("<ii")       # kbd_repeat: delay, period
_UNIMAPINIT = struct.Struct("<HHH")      # unimapinit: advised_hash{size,step,level}
_UNIMAPDESC = struct.Struct("<H6xQ")     # unimapdesc: entry_ct, entries
_UNIPAIR = struct.Struct("<HH")           # unipair: unicode, fontpos
_FONTDESC = struct.Struct("<HH4xQ")      # consolefontdesc: charcount, charheight, chardata
_FONT_OP = struct.Struct("<5I4xQ")       # console_font_op: op, flags, width, height,
#                                          charcount, data
_DIACR = struct.Struct("<3B")            # kbdiacr: diacr, base, result
_DIACRUC = struct.Struct("<3I")          # kbdiacruc: the same, as unicode
_USHORT = struct.Struct("<H")


def _raw() -> bool:
    return STYLE.get() == "raw"


def _comment(text: str) -> str:
    """A comment strace prints but for -X raw."""
    return "" if _raw() else f" /* {text} */"


def char_text(b: int) -> str:
    """strace's print_char with quotes and \\t..\\r: 'a', '\\'', '\\n', '\\x7f'."""
    if 0x20 <= b < 0x7F:
        return "'\\" + chr(b) + "'" if chr(b) in "'\\" else f"'{chr(b)}'"
    if 9 <= b <= 13:
        return "'\\" + "tnvfr"[b - 9] + "'"
    return f"'\\x{b:02x}'"


def xval_d(table: Xlat, value: int, unknown: str) -> str:
    """printxval_d: the value in decimal, named as printxval names it."""
    name = table.name(value)
    if name is not None:
        return named(name, value, str(value))
    return str(value) if _raw() else f"{value} /* {unknown} */"


def given(c: Call, size: int) -> bytes | None:
    """The argument's memory as the call got it: the entry copy, at least ``size`` bytes."""
    data = c.struct(2, "ioc", exit=False)
    return data if data is not None and len(data) >= size else None


def answer(c: Call, entry: bytes, size: int) -> bytes | None:
    """The exit copy of a call that succeeded, at least ``size`` bytes."""
    data = c.struct(2, "ioc") if c.ok else None
    return data if data is not None and data is not entry and len(data) >= size else None


# --- values in the argument itself


def _kiocsound(c: Call) -> str:
    arg = c.arg(2)
    freq = PIT_TICK_RATE // arg if arg else 0
    return f"{arg}{_comment(f'{freq} Hz' if freq else 'off')}"


def _mktone(c: Call) -> str:
    arg = c.arg(2) & 0xFFFFFFFF
    ticks, count = arg >> 16, arg & 0xFFFF
    freq = PIT_TICK_RATE // count if ticks and count else 0
    text = f"{ticks}<<16|{count}" if ticks else str(count)
    return text + _comment(f"{freq} Hz, {ticks} ms" if freq else "off")


def _io_port(c: Call) -> str:
    arg = c.arg(2)
    note = _comment(f"GPFIRST + {arg - GPFIRST}") if GPFIRST <= arg <= GPLAST else ""
    return hexval(arg) + note


def _sigaccept(c: Call) -> str:
    arg = c.arg(2)
    name = signal_name(arg) if arg < 0x7FFFFFFF else None
    return named(name, arg, str(arg)) if name else str(arg)


# --- memory the argument points to


def _indirect(text):
    return lambda data, c: f"[{text(data)}]"


def _string(size: int):
    def render(data: bytes, c: Call) -> str:
        return printstr(data[:size], c.opts, force_hex=True)
    return render


def _put_string(size: int) -> Request:
    """PIO_SCRNMAP, PIO_FONT, PIO_CMAP: the table as a string, of which strace
    reads what it prints (-s bytes and one more): the plan records that much
    when the whole table cannot be read."""
    def text(c: Call) -> str:
        data = given(c, min(size, c.opts.strsize + 1))
        return ptr(c.arg(2)) if data is None else _string(size)(data, c)
    return Request(text)


def _uni_scrnmap_item(value: int) -> str:
    if value & ~UNI_DIRECT_MASK != UNI_DIRECT_BASE:
        return hexval(value)
    direct = f"UNI_DIRECT_BASE+{hexval(value & UNI_DIRECT_MASK)}"
    style = STYLE.get()
    return (hexval(value) if style == "raw" else direct if style == "abbrev"
            else f"{hexval(value)} /* {direct} */")


def _uni_scrnmap(data: bytes, c: Call) -> str:
    values = (v for (v,) in _USHORT.iter_unpack(data[:2 * E_TABSZ]))
    return array(map(_uni_scrnmap_item, values), c.opts)


def _put_uni_scrnmap(c: Call) -> str:
    """PIO_UNISCRNMAP: the elements strace reads one by one, up to -s and one
    more, or to the first unreadable one (the record cut at its page's end)."""
    data = given(c, 2)
    if data is None:
        return ptr(c.arg(2))
    items = [_uni_scrnmap_item(v) for (v,) in _USHORT.iter_unpack(data[:len(data) // 2 * 2])]
    return print_array(c, c.arg(2), E_TABSZ, items[:E_TABSZ], _USHORT.size)


def _kb_table(table: int) -> str:
    name = KEY_TABLES.name(table)
    return named(name, table) if name else flags(KEYMAP_FLAGS, table, unknown="K_???")


def _kb_value(value: int) -> str:
    """The key K(type, value): its name, else its type and value, in a comment."""
    if _raw():
        return hexval(value)
    name = L.KD_KEYS.name(value)
    if name is None:
        ktyp, kval = value >> 8, value & 0xFF
        kind = KEY_TYPES.name(ktyp) or hexval(ktyp)
        name = f"K({kind}, {char_text(kval) if ktyp in CHAR_KEY_TYPES else hexval(kval)})"
    return f"{hexval(value)} /* {name} */"


def _kbentry(get: bool):
    """KDGKBENT, KDSKBENT: table and index as given, the value given (set) or
    answered (get); ``???`` for a value that could not be read."""
    def text(c: Call) -> str:
        entry = given(c, 2)
        if entry is None:
            return ptr(c.arg(2))
        head = f"{{kb_table={_kb_table(entry[0])}, kb_index={entry[1]}"
        if get and not c.ok:
            return head + "}"
        data = answer(c, entry, 4) if get else entry
        value = _kb_value(_USHORT.unpack_from(data, 2)[0]) if data and len(data) >= 4 else "???"
        return f"{head}, kb_value={value}}}"
    return Request(text, late=get)


def _kb_string(data: bytes, c: Call) -> str:
    """kbsentry's string: to its NUL (kept while within -s), ``...`` past -s."""
    nul = data.find(b"\0")
    size = min(c.opts.strsize, nul + 1 if nul >= 0 else len(data))
    shown = data[:size]
    if shown.endswith(b"\0"):
        return quote(shown[:-1], c.opts.xflag)
    return quote(shown, c.opts.xflag) + "..."


def _kbsentry(get: bool):
    """KDGKBSENT, KDSKBSENT: the function key, its string (set; get: answered)."""
    whole = 1 + 512

    def text(c: Call) -> str:
        entry = given(c, 1)
        if entry is None:
            return ptr(c.arg(2))
        head = f"{{kb_func={xval(FN_KEY_VALS, entry[0], 'KVAL(K_???)')}"
        if get and not c.ok:
            return head + "}"
        data = answer(c, entry, whole) if get else entry
        # umovestr: the string to its NUL, read up to unreadable memory (a
        # struct cut at its page's end: linux_plan.PAGE_PART_STRUCTS)
        readable = data is not None and (len(data) >= whole or b"\0" in data[1:])
        string = _kb_string(data[1:whole], c) if readable else "???"
        return f"{head}, kb_string={string}}}"
    return Request(text, late=get)


def _diacrs(name: str, item: struct.Struct, item_text, get: bool):
    """KDGKBDIACR[UC], KDSKBDIACR[UC]: kb_cnt and its entries (the address of
    the entries when they were not recorded)."""
    def text(c: Call) -> str:
        data = (c.struct(2, "ioc") if c.ok else None) if get else given(c, 4)
        if data is None or len(data) < 4:
            return ptr(c.arg(2))
        count = UINT.unpack_from(data)[0]
        shown = min(count, MAX_DIACR)
        end = 4 + shown * item.size
        if not shown:
            entries = "[]"
        elif len(data) < end:            # cut at a page's end: the entries before it
            readable = data[4:4 + (len(data) - 4) // item.size * item.size]
            entries = print_array(c, c.arg(2) + 4, shown,
                                  [item_text(v) for v in item.iter_unpack(readable)], item.size)
        else:
            entries = array(map(item_text, item.iter_unpack(data[4:end])), c.opts)
            if count > MAX_DIACR and shown <= c.opts.strsize:
                entries = entries[:-1] + ", ...]"
        return f"{{kb_cnt={count}, {name}={entries}}}"
    return Request(text, late=get)


def _diacr_text(values) -> str:
    return "{" + fields(("diacr", "base", "result"), map(char_text, values)) + "}"


def _diacruc_text(values) -> str:
    return "{" + fields(("diacr", "base", "result"), map(hexval, values)) + "}"


def _keycode(get: bool):
    def text(c: Call) -> str:
        entry = given(c, _KEYCODE.size)
        if entry is None:
            return ptr(c.arg(2))
        scancode, keycode = _KEYCODE.unpack_from(entry)
        out = f"{{scancode={hexval(scancode)}, keycode={hexval(keycode)}"
        after = answer(c, entry, _KEYCODE.size) if get else None
        return out + (f" => {hexval(_KEYCODE.unpack_from(after)[1])}}}" if after else "}")
    return Request(text, late=get)


def _kbd_repeat_text(data: bytes) -> str:
    return "{" + fields(("delay", "period"), _KBD_REPEAT.unpack_from(data)) + "}"


def _kbdrep(c: Call) -> str:
    entry = given(c, _KBD_REPEAT.size)
    if entry is None:
        return ptr(c.arg(2))
    after = answer(c, entry, _KBD_REPEAT.size)
    return _kbd_repeat_text(entry) + (f" => {_kbd_repeat_text(after)}" if after else "")


def _unimapclr(data: bytes, c: Call) -> str:
    return "{" + fields(("advised_hashsize", "advised_hashstep", "advised_hashlevel"),
                        _UNIMAPINIT.unpack_from(data)) + "}"


def _unimap_entries(count: int, entries: int) -> str:
    """The unipair array, whose memory is not recorded: NULL, [], or its address."""
    return "[]" if entries and not count else ptr(entries)


def _unipairs(c: Call, count: int, entries: int) -> str:
    """PIO_UNIMAP's unipair array, recorded after its struct (linux_plan.UNIPAIRS)."""
    arr = c.array(2, "unipair", exit=False)
    items = [f"{{unicode={hexval(u)}, fontpos={hexval(f)}}}"
             for u, f in _UNIPAIR.iter_unpack(arr.data[:len(arr.data) // 4 * 4])] if arr else []
    return print_array(c, entries, count, items, _UNIPAIR.size)


def _unimap(get: bool):
    """GIO_UNIMAP, PIO_UNIMAP: entry_ct (get: ``=>`` the count after the call,
    which strace reads again even of a failed call) and the entries."""
    def text(c: Call) -> str:
        entry = given(c, _UNIMAPDESC.size)
        if entry is None:
            return ptr(c.arg(2))
        count, entries = _UNIMAPDESC.unpack_from(entry)
        if not get:
            return f"{{entry_ct={count}, entries={_unipairs(c, count, entries)}}}"
        after = answer(c, entry, _UNIMAPDESC.size) or entry
        now, now_entries = _UNIMAPDESC.unpack_from(after)
        shown = ptr(entries) if not c.ok else _unimap_entries(count, now_entries)
        return f"{{entry_ct={count} => {now}, entries={shown}}}"
    return Request(text, late=get)


def _fontdesc_text(data: bytes) -> str:
    count, height, chardata = _FONTDESC.unpack_from(data)
    return f"{{charcount={count}, charheight={height}, chardata={ptr(chardata)}}}"


def _fontx(get: bool):
    """GIO_FONTX, PIO_FONTX (the font data behind chardata is not recorded)."""
    def text(c: Call) -> str:
        entry = given(c, _FONTDESC.size)
        if entry is None:
            return ptr(c.arg(2))
        after = answer(c, entry, _FONTDESC.size) if get else None
        return _fontdesc_text(entry) + (f" => {_fontdesc_text(after)}" if after else "")
    return Request(text, late=get)


def _font_name(c: Call, addr: int, data: bytes | None) -> str:
    """A SET_DEFAULT's font name: printstr_ex(data, KERNEL_MAX_FONT_NAME,
    QUOTE_0_TERMINATED | QUOTE_EXPECT_TRAILING_0), up to its NUL."""
    if not addr:
        return "NULL"
    read = min(c.opts.strsize + 1, FONT_NAME_MAX)
    wanted = (data or b"")[:read]
    if b"\0" not in wanted and len(wanted) < read:
        return ptr(addr)
    # the last byte read is the expected NUL, not shown (but for -s bytes and one more)
    shown = c.opts.strsize if read > c.opts.strsize else read - 1
    nul = wanted.find(b"\0", 0, shown)
    if nul >= 0:
        return quote(wanted[:nul], c.opts.xflag)
    ended = shown < len(wanted) and wanted[shown] == 0
    return quote(wanted[:shown], c.opts.xflag) + ("" if ended else "...")


def _font_data(c: Call, op: int, width: int, charcount: int, data: int, exiting: bool) -> str:
    """The font behind data (linux_plan.FONT_DATA: its first bytes): a SET's, a
    GET's answer of its glyphs' size (in hex), a SET_DEFAULT's name, else its address."""
    recorded = c.array(2, "fontdata", exit=exiting)
    held = recorded.data if recorded is not None else None
    if op == FONT_OP_SET_DEFAULT:
        return _font_name(c, data, held)
    if op != FONT_OP_SET and not (op == FONT_OP_GET and exiting):
        return ptr(data)
    glyphs = (min(width, 32) + 7) // 8 * 32 * min(charcount, 512)
    # (of no glyphs strace reads nothing, and prints "")
    return counted_text(c, data, held if glyphs else b"", glyphs, force_hex=True)


def _font_op_fields(c: Call, op: int, width: int, height: int, charcount: int, data: int,
                    exiting: bool = False) -> list[str]:
    """console_font_op's fields past op and flags, as the op uses them."""
    out = [f"height={height}"] if op == FONT_OP_COPY else [f"width={width}", f"height={height}"]
    if op not in (FONT_OP_SET_DEFAULT, FONT_OP_COPY):
        out.append(f"charcount={charcount}")
    if op != FONT_OP_COPY and not (op == FONT_OP_SET_DEFAULT and exiting):
        out.append(f"data={_font_data(c, op, width, charcount, data, exiting)}")
    return out


def _font_op(c: Call) -> str:
    entry = given(c, _FONT_OP.size)
    if entry is None:
        return ptr(c.arg(2))
    op, op_flags, *rest = _FONT_OP.unpack_from(entry)
    out = [f"op={xval(FONT_OPS, op, 'KD_FONT_OP_???')}"]
    if op not in (FONT_OP_SET_DEFAULT, FONT_OP_COPY):
        out.append(f"flags={flags(FONT_FLAGS, op_flags, unknown='KD_FONT_FLAG_???')}")
    text = "{" + ", ".join(out + _font_op_fields(c, op, *rest)) + "}"
    after = answer(c, entry, _FONT_OP.size) if op not in (FONT_OP_SET, FONT_OP_COPY) else None
    if after is None:
        return text
    op, _, *rest = _FONT_OP.unpack_from(after)
    return f"{text} => {{{', '.join(_font_op_fields(c, op, *rest, exiting=True))}}}"


def _leds(table: Xlat, get: bool) -> Request:
    if get:
        return memory("ioc", True, _indirect(lambda d: flags(table, d[0], unknown="LED_???")), 1)
    return Request(lambda c: flags(table, c.arg(2) & 0xFF, unknown="LED_???"))


def _get_uint(text) -> Request:
    return memory("ioc", True, _indirect(lambda d: text(UINT.unpack_from(d)[0])), UINT.size)


REQUESTS: dict[str, Request] = {
    "KIOCSOUND": Request(_kiocsound),
    "KDMKTONE": Request(_mktone),
    "KDGETLED": _leds(LED_FLAGS, True), "KDSETLED": _leds(LED_FLAGS, False),
    "KDGKBLED": _leds(DEFAULT_LED_FLAGS, True), "KDSKBLED": _leds(DEFAULT_LED_FLAGS, False),
    "KDGKBTYPE": memory("ioc", True, _indirect(lambda d: xval(KBD_TYPES, d[0], "KB_???")), 1),
    "KDADDIO": Request(_io_port), "KDDELIO": Request(_io_port),
    "KDSETMODE": Request(lambda c: xval(MODES, c.arg(2) & 0xFFFFFFFF, "KD_???")),
    "KDGETMODE": _get_uint(lambda v: xval(MODES, v, "KD_???")),
    "GIO_SCRNMAP": memory("ioc", True, _string(E_TABSZ), E_TABSZ),
    "PIO_SCRNMAP": _put_string(E_TABSZ),
    "GIO_UNISCRNMAP": memory("ioc", True, _uni_scrnmap, 2 * E_TABSZ),
    "PIO_UNISCRNMAP": Request(_put_uni_scrnmap),
    "KDSKBMODE": Request(lambda c: xval_d(KBD_MODES, c_int(c.arg(2)), "K_???")),
    "KDGKBMODE": _get_uint(lambda v: xval_d(KBD_MODES, c_int(v), "K_???")),
    "KDGKBENT": _kbentry(True), "KDSKBENT": _kbentry(False),
    "KDGKBSENT": _kbsentry(True), "KDSKBSENT": _kbsentry(False),
    "KDGKBDIACR": _diacrs("kbdiacr", _DIACR, _diacr_text, True),
    "KDSKBDIACR": _diacrs("kbdiacr", _DIACR, _diacr_text, False),
    "KDGKBDIACRUC": _diacrs("kbdiacruc", _DIACRUC, _diacruc_text, True),
    "KDSKBDIACRUC": _diacrs("kbdiacruc", _DIACRUC, _diacruc_text, False),
    "KDGETKEYCODE": _keycode(True), "KDSETKEYCODE": _keycode(False),
    "KDSIGACCEPT": Request(_sigaccept),
    "KDKBDREP": Request(_kbdrep, late=True),
    "GIO_FONT": memory("ioc", True, _string(FONT_BYTES), FONT_BYTES),
    "PIO_FONT": _put_string(FONT_BYTES),
    "KDGKBMETA": _get_uint(lambda v: xval(META_VALS, v, "K_???")),
    "KDSKBMETA": Request(lambda c: xval(META_VALS, c.arg(2) & 0xFFFFFFFF, "K_???")),
    "GIO_UNIMAP": _unimap(True), "PIO_UNIMAP": _unimap(False),
    "PIO_UNIMAPCLR": memory("ioc", False, _unimapclr, _UNIMAPINIT.size),
    "GIO_FONTX": _fontx(True), "PIO_FONTX": _fontx(False),
    "GIO_CMAP": memory("ioc", True, _string(CMAP_BYTES), CMAP_BYTES),
    "PIO_CMAP": _put_string(CMAP_BYTES),
    "KDFONTOP": Request(_font_op, late=True),
    **{req: NO_ARG for req in ("KDENABIO", "KDDISABIO", "KDMAPDISP", "KDUNMAPDISP",
                               "PIO_FONTRESET")},
}

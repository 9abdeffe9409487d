"""Netlink attributes as strace 6.1 prints them (nlattr.c): the item loop that
messages and attributes share, the attribute list, and the decoders of one
attribute's value that the protocols' tables use.
"""

from __future__ import annotations

import socket as _socket
import struct as _struct
from contextvars import ContextVar
from itertools import chain
from typing import Callable

from ..xlat import LINUX as L
from ..xlat import Xlat
from .fmt import STYLE, StraceOptions, array, flags, hexval, named, printstr, ptr, xval
from .call import uid_text
from .sockaddr import flags_verbose, hex_bytes, ifindex_text, mac_text, styled
from .structs import clock_t

NLMSG_HDRLEN = 16
NLMSG_DONE = L.NLMSG_TYPES.value("NLMSG_DONE")
NLA_HDRLEN = 4
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 1 << 15, 1 << 14
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF


class ShortRead(bytes):
    """A buffer of which only a prefix could be read (a sendto that failed with
    EFAULT): the bytes read, the address of the first and the length the call
    gave, which ``len`` is.  A slice that ends within what was read is plain
    bytes; one that reaches past it is a ShortRead at its own address, so the
    decoders print the address of what they could not read as strace does."""

    def __new__(cls, data: bytes, addr: int, length: int):
        buf = super().__new__(cls, data)
        buf.addr, buf.length = addr, length
        return buf

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return bytes.__getitem__(self, key)
        start, stop, _ = key.indices(self.length)
        stop = max(start, stop)
        part = bytes.__getitem__(self, slice(start, stop))
        if stop <= bytes.__len__(self):
            return Located(part, self.addr + start)
        return ShortRead(part, self.addr + start, stop - start)


class Located(bytes):
    """A buffer read whole, with its address; so are its slices: what an
    attribute decoder prints where strace prints only where a value is
    (print_sock_fprog's address, its structs abbreviated)."""

    def __new__(cls, data: bytes, addr: int):
        buf = super().__new__(cls, data)
        buf.addr = addr
        return buf

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return bytes.__getitem__(self, key)
        start = key.indices(bytes.__len__(self))[0]
        return Located(bytes.__getitem__(self, key), self.addr + start)


INT_MAX = (1 << 31) - 1     # the most a send moves (and len() can hold): a longer length is cut


def short_read(data: bytes, addr: int, length: int) -> bytes:
    """``data`` read of ``length`` bytes at ``addr``: a ShortRead when it is
    shorter, else Located."""
    length = min(length, INT_MAX)
    return ShortRead(data, addr, length) if len(data) < length else Located(data[:length], addr)


def readable(data: bytes, end: int) -> bool:
    """Whether ``data``'s first ``end`` bytes were read."""
    return not isinstance(data, ShortRead) or end <= bytes.__len__(data)


def address(data: ShortRead | Located, at: int = 0) -> str:
    """printaddr of ``data``'s byte ``at``."""
    return ptr(data.addr + at)


def reads_partial(decode):
    """Marks an attribute decoder that prints a ShortRead itself (a list of items
    read one by one); any other is given none: strace's read of its value fails."""
    decode.reads_partial = True
    return decode


def partial_array(body: bytes, size: int, one, opts: StraceOptions) -> str | None:
    """print_array of the whole ``size``-byte elements in ``body``, each ``one(raw, i)``;
    None when there is none.  An element not read: its address alone when it is
    the first, else ``... /* address */`` after those read."""
    count = len(body) // size
    if not count:
        return None
    whole = count if readable(body, count * size) else bytes.__len__(body) // size
    if not whole:
        return address(body)
    texts = (one(body[i * size:(i + 1) * size], i) for i in range(whole))
    if whole < count:
        texts = chain(texts, [f"... /* {address(body, whole * size)} */"])
    return array(texts, opts)


def u16(data: bytes, at: int) -> int:
    return _struct.unpack_from("<H", data, at)[0]


def u32(data: bytes, at: int) -> int:
    return _struct.unpack_from("<I", data, at)[0]


def align4(n: int) -> int:
    return (n + 3) & ~3


def readable_str(data: bytes, opts: StraceOptions, force_hex: bool = False) -> str:
    """printstr: the address when what it shows was not read."""
    if not readable(data, min(len(data), opts.strsize)):
        return address(data)
    return printstr(data, opts, force_hex=force_hex)


def hexstr(data: bytes, opts: StraceOptions) -> str:
    return readable_str(data, opts, force_hex=True)


def family_then_address(field: str, body: ShortRead) -> str:
    """A message's struct of which only the family was read: ``{field=AF_..., address}``."""
    return f"{{{field}={family_text(body[0])}, {address(body, 1)}}}"


def family_text(value: int) -> str:
    return xval(L.ADDRESS_FAMILIES, value, "AF_???")


def items(opts: StraceOptions, data: bytes, min_len: int, align, one):
    """The loop of decode_netlink and decode_nlattr: items of ``data`` each
    ``one(item_data, rest)`` printed; a list when more than one follows."""
    parts: list[str] = []
    is_array = False
    elt = 0
    while True:
        if len(data) < min_len:
            parts.append(hexstr(data, opts))
            break
        if not readable(data, min_len):
            # fetch_nlmsghdr/fetch_nlattr: the header was not read
            parts.append(f"... /* {address(data)} */" if is_array else address(data))
            break
        if elt == opts.strsize:
            parts.append("...")
            break
        length = u32(data, 0) if min_len == NLMSG_HDRLEN else u16(data, 0)
        step = align(length)
        rest = data[step:] if length >= min_len and len(data) > step else b""
        if rest and not is_array:
            is_array = True
        parts.append(one(data))
        if not rest:
            break
        data = rest
        elt += 1
    return "[" + ", ".join(parts) + "]" if is_array else ", ".join(parts)


def nlattr_text(data: bytes, opts: StraceOptions, table: Xlat, unknown: str,
                decoders: dict | None = None) -> str:
    """decode_nlattr: ``[{nla_len=8, nla_type=IFAL_ADDRESS}, "\\x61..."]``, a list of them;
    ``unknown`` empty: a type the table lacks is its number alone."""
    decoders = decoders or {}

    def one(item: bytes) -> str:
        nla_len, nla_type = _struct.unpack_from("<HH", item)
        size = min(nla_len, len(item))
        kind = ""
        if nla_type & NLA_F_NESTED:
            kind += named("NLA_F_NESTED", NLA_F_NESTED) + "|"
        if nla_type & NLA_F_NET_BYTEORDER:
            kind += named("NLA_F_NET_BYTEORDER", NLA_F_NET_BYTEORDER) + "|"
        value = nla_type & NLA_TYPE_MASK
        # no word for an unknown type (a table-less attribute set): its number alone
        kind += xval(table, value, unknown) if unknown else xval_or_hex(table, value)
        head = f"{{nla_len={nla_len}, nla_type={kind}}}"
        if size <= NLA_HDRLEN:
            return head
        body = item[NLA_HDRLEN:size]
        decoder = decoders.get(nla_type & NLA_TYPE_MASK)
        if decoder is not None and not readable(body, len(body)) \
                and not getattr(decoder, "reads_partial", False):
            return f"[{head}, {address(body)}]"
        text = decoder(body, opts) if decoder is not None else None
        return f"[{head}, {text if text is not None else hexstr(body, opts)}]"

    return items(opts, data, NLA_HDRLEN, align4, one)


def nla_int(code: str, spell=str):
    """decode_nla_u8/u16/u32/u64/s32/x32...: a number of ``struct`` format
    ``code`` (little-endian unless it says), its first bytes when there are more."""
    code = code if code[0] in "<>" else "<" + code
    size = _struct.calcsize(code)

    def decode(body: bytes, opts: StraceOptions) -> str | None:
        if len(body) < size:
            return None
        return spell(_struct.unpack_from(code, body)[0])
    return decode


nla_u8, nla_u16, nla_u32, nla_u64 = nla_int("B"), nla_int("H"), nla_int("I"), nla_int("Q")
nla_s32, nla_x16, nla_x32 = nla_int("i"), nla_int("H", hexval), nla_int("I", hexval)
nla_ifindex = nla_int("I", ifindex_text)
nla_uid = nla_int("I", uid_text)
# decode_nla_fd's printfd: how -y prints a descriptor of the process that
# sends the messages.  The attribute decoders are given bytes and options
# alone: netlink_text sets it for the messages it decodes.
FD_TEXT: ContextVar[Callable[[int], str]] = ContextVar("nla_fd_text", default=str)
# abbrev(tcp) of the call whose messages are decoded (no -v): its structs
# print abbreviated; set by netlink_text as FD_TEXT
ABBREV: ContextVar[bool] = ContextVar("nla_abbrev", default=True)
nla_fd = nla_int("i", lambda fd: FD_TEXT.get()(fd))
nla_be16 = nla_int(">H", lambda value: f"htons({value})")
nla_be64 = nla_int(">Q", lambda value: f"htobe64({value})")


NLA_XINT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def nla_xint(body: bytes, opts: StraceOptions) -> str | None:
    """decode_nla_xint: a number of 1, 2, 4 or 8 bytes in hex."""
    code = NLA_XINT_CODES.get(len(body))
    return hexval(_struct.unpack_from("<" + code, body)[0]) if code else None


def xval_or_hex(table: Xlat, value: int) -> str:
    """printxval with no default: an unknown value is its number alone."""
    name = table.name(value)
    return named(name, value) if name is not None else hexval(value)


def nla_xval(table: Xlat, unknown: str | None, size: int = 0, host_order: bool = False):
    """decode_nla_xval: a value of ``size`` bytes (up to 8 when 0) named by
    ``table``; ``host_order``: a big-endian u16 shown as ``htons(NAME)``."""
    def decode(body: bytes, opts: StraceOptions) -> str | None:
        if len(body) > 8 or len(body) < size:
            return None
        value = int.from_bytes(body[:size or len(body)], "big" if host_order else "little")
        text = xval(table, value, unknown) if unknown else xval_or_hex(table, value)
        return f"htons({text})" if host_order else text
    return decode


nla_ip_proto = nla_xval(L.IPPROTOS, "IPPROTO_???")

ADDRESS_SIZES = {_socket.AF_INET: 4, _socket.AF_INET6: 16}


def inet_addr_text(family: int, raw: bytes, var_name: str | None = None) -> str:
    """print_inet_addr: ``inet_addr("1.2.3.4")``, ``inet_pton(AF_INET6, "::1")``
    (-X raw: ``raw`` in hex), else ``raw`` in hex."""
    head = f"{var_name}=" if var_name else ""
    size = ADDRESS_SIZES.get(family)
    if size is None or len(raw) < size:
        return head + hex_bytes(raw)
    address = _socket.inet_ntop(family, raw[:size])
    if family == _socket.AF_INET:
        return head + styled(hex_bytes(raw), f'inet_addr("{address}")')
    if STYLE.get() == "abbrev":
        tail = f", &{var_name}" if var_name else ""
        return f'inet_pton(AF_INET6, "{address}"{tail})'
    return head + styled(hex_bytes(raw), f'inet_pton(AF_INET6, "{address}")')


def nla_inet_addr(family: int, var_name: str | None = None):
    """decode_inet_addr: the address of the message's family, else its bytes."""
    def decode(body: bytes, opts: StraceOptions) -> str:
        size = ADDRESS_SIZES.get(family)
        if size is None or len(body) < size:
            return (f"{var_name}=" if var_name else "") + hexstr(body, opts)
        return inet_addr_text(family, body[:size], var_name)
    return decode


nla_in_addr = nla_inet_addr(_socket.AF_INET)
nla_in6_addr = nla_inet_addr(_socket.AF_INET6)
MAX_ADDR_LEN = 32


def nla_clock_t(body: bytes, opts: StraceOptions) -> str | None:
    return clock_t(int.from_bytes(body, "little")) if len(body) <= 8 else None


def nla_hwaddr(body: bytes, opts: StraceOptions) -> str | None:
    """decode_nla_hwaddr of no device type: ``aa:bb:..``."""
    return mac_text(body) if len(body) <= MAX_ADDR_LEN else None


def nla_nested(table: Xlat, unknown: str, decoders: dict | None = None):
    """An attribute that is a list of attributes of its own table."""
    @reads_partial
    def decode(body: bytes, opts: StraceOptions) -> str:
        return nlattr_text(body, opts, table, unknown, decoders)
    return decode


def index_text(table: Xlat, i: int, unknown: str | None = None) -> str:
    """An array index named by ``table`` (XLAT_STYLE_FMT_U: its number in decimal)."""
    name = table.name(i)
    if name is not None:
        return named(name, i, str(i))
    return str(i) if STYLE.get() == "raw" or not unknown else f"{i} /* {unknown} */"


def nla_array(code: str, indices: tuple[Xlat, str] | None = None):
    """print_array of numbers of ``struct`` format ``code``: ``[1, 2, ...]``;
    given ``indices`` (a table, its word for an unknown index), PAF_PRINT_INDICES:
    ``[NAME]=1, ...``."""
    size = _struct.calcsize("<" + code)

    def element(i: int, value: int) -> str:
        return f"[{index_text(indices[0], i, indices[1])}]={value}" if indices else str(value)

    @reads_partial
    def decode(body: bytes, opts: StraceOptions) -> str | None:
        return partial_array(body, size, lambda raw, i: element(i, _struct.unpack("<" + code, raw)[0]),
                             opts)
    return decode


def nla_indexed_array(code: str, table: Xlat, unknown: str):
    """print_array_ex with PAF_PRINT_INDICES: ``[NAME]=value, ...``."""
    return nla_array(code, (table, unknown))


nla_meminfo = nla_indexed_array("I", L.NETLINK_SK_MEMINFO_INDICES, "SK_MEMINFO_???")


def _unterminated(data: bytes, opts: StraceOptions) -> str:
    """A string strace found no NUL in: ``...`` after it."""
    text = printstr(data, opts)
    return text if text.endswith("...") else text + "..."


def nla_cstr(body: bytes, opts: StraceOptions) -> str:
    """printstr_ex(QUOTE_0_TERMINATED): up to the first NUL, ``...`` when none
    is within -s."""
    end = body.find(b"\0", 0, opts.strsize)
    return printstr(body[:end], opts) if end >= 0 else _unterminated(body, opts)


def struct_text(fields, values) -> str:
    """``{name=value, ...}`` of (name, spell) fields."""
    return "{" + ", ".join(f"{name}={spell(v)}" for (name, spell), v in zip(fields, values)) + "}"


def nla_struct(code: str, fields, min_size: int | None = None):
    """A C struct of ``struct`` format ``code``: its (name, spell) fields in order,
    or strace's hex when fewer than its size (``min_size``) bytes."""
    size = _struct.calcsize("<" + code)

    def decode(body: bytes, opts: StraceOptions) -> str | None:
        if len(body) < (size if min_size is None else min_size):
            return None
        values = _struct.unpack_from("<" + code, body.ljust(size, b"\0"))
        return struct_text(fields, values)
    return decode


def nla_str(body: bytes, opts: StraceOptions) -> str:
    """decode_nla_str (QUOTE_OMIT_TRAILING_0 | QUOTE_EXPECT_TRAILING_0): the bytes
    but a trailing NUL, ``...`` after them when there is none."""
    return printstr(body[:-1], opts) if body.endswith(b"\0") else _unterminated(body, opts)


def nla_flags(table: Xlat, unknown: str, size: int = 4):
    def decode(body: bytes, opts: StraceOptions) -> str | None:
        if len(body) > 8 or len(body) < size:
            return None
        value = int.from_bytes(body[:size], "little")
        return flags(table, value, "0", unknown)
    return decode


def nla_flags_verbose(table: Xlat, unknown: str, size: int):
    """decode_nla_flags in XLAT_STYLE_VERBOSE: the number, its names in a comment."""
    def decode(body: bytes, opts: StraceOptions) -> str | None:
        if len(body) > 8 or len(body) < size:
            return None
        return flags_verbose(table, int.from_bytes(body[:size], "little"), unknown)
    return decode


def nla_cookie(body: bytes, opts: StraceOptions) -> str:
    shown = [str(b) for b in body[:opts.strsize]]
    if len(body) > opts.strsize:
        shown.append("...")
    return "[" + ", ".join(shown) + "]"


def with_attrs(struct_text: str, body: bytes, size: int, opts: StraceOptions,
                table: Xlat, unknown: str, decoders=None, decode: bool = True) -> str:
    """A message's fixed part and, past its aligned size, its attributes."""
    offset = align4(size)
    if decode and len(body) > offset:
        return f"{struct_text}, {nlattr_text(body[offset:], opts, table, unknown, decoders)}"
    return struct_text

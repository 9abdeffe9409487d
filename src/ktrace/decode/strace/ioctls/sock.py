"""ioctl requests of strace's sock.c: the socket requests (linux/sockios.h).

Their numbers are from before _IOC: their argument is what linux_plan's
IOCTL_SOCK cases record (SIOCGIFCONF's struct ifconf and ifreqs, the ints, the bridge
names, the struct ifreqs set and SIOCGIFINDEX's and SIOCGIFNAME's); the
others print as strace prints one it cannot read, their address."""

from __future__ import annotations

import struct

from ....abi import linux_plan as lp
from ...xlat import LINUX as L
from ..call import Call
from ..fdio import print_array
from ..fmt import flags, hexval, printstr, ptr, xval
from ..rtnetlink import hwaddr_printer
from ..sockaddr import cstring, ifindex_text, sockaddr_text
from . import INT, Request, int_text, memory

NAMES = {name: value for value, name in L.SOCK_IOCTLS.entries}

IFREQ_SIZE, IFNAMSIZ = lp.IFREQ_SIZE, lp.IFNAMSIZ
_IFCONF = struct.Struct("<i4xQ")        # ifconf: ifc_len, ifc_buf
_IFMAP = struct.Struct("<QQHBBB")       # ifmap: mem_start, mem_end, base_addr, irq, dma, port
_USHORT = struct.Struct("<H")

ADDRESS = Request(lambda c: ptr(c.arg(2)))


def ifc_len_text(length: int) -> str:
    """``80 /* 2 * sizeof(struct ifreq) */`` for a whole number of ifreqs."""
    count = (length & 0xFFFFFFFF) // IFREQ_SIZE
    if length > 0 and count * IFREQ_SIZE == length:
        return f"{length} /* {count} * sizeof(struct ifreq) */"
    return str(length)


def _ifconf(c: Call) -> str:
    """SIOCGIFCONF: the length given (when there is a buffer), ``=>`` the
    length the kernel set, and the buffer: the ifreqs the kernel wrote.  A
    failed call's struct is the one given: the kernel wrote none."""
    given = c.struct(2, "ioc", exit=False)
    if given is None or len(given) < _IFCONF.size:
        return ptr(c.arg(2))
    length, buf = _IFCONF.unpack_from(given)
    after = c.struct(2, "ioc") if c.ok else given
    if after is None or len(after) < _IFCONF.size:
        after = given
    new_length, new_buf = _IFCONF.unpack_from(after)
    text = "{ifc_len=" + (ifc_len_text(length) if buf else "")
    if buf and new_length != length:
        text += " => "
    if not buf or new_length != length:
        text += ifc_len_text(new_length)
    if not buf or not c.ok:
        moved = f" => {ptr(new_buf)}" if new_buf != buf else ""
        return f"{text}, ifc_buf={ptr(buf)}{moved}}}"
    count = (new_length & 0xFFFFFFFF) // IFREQ_SIZE
    return f"{text}, ifc_buf={print_array(c, new_buf, count, _ifreqs(c), IFREQ_SIZE)}}}"


def _ifreqs(c: Call) -> list[str]:
    """The ifreqs SIOCGIFCONF wrote (linux_plan.IFREQS): name and address each."""
    data = c.struct(2, "ifreqs") or b""
    return [f"{{ifr_name={_name(ifr, c)}, ifr_addr={_sockaddr(ifr[IFNAMSIZ:], c)}}}"
            for ifr in (data[at:at + IFREQ_SIZE]
                        for at in range(0, len(data) - IFREQ_SIZE + 1, IFREQ_SIZE))]


def _bridge_name(data: bytes, c: Call) -> str:
    """SIOCBRADDBR's char[IFNAMSIZ]: to its NUL, ``...`` when it has none."""
    nul = data.find(b"\0")
    if nul >= 0:
        return printstr(data[:nul], c.opts)
    cut = len(data) > c.opts.strsize            # printstr's own "..."
    return printstr(data, c.opts) + ("" if cut else "...")


def _name(ifr: bytes, c: Call) -> str:
    return cstring(ifr[:IFNAMSIZ])


def _hwaddr(data: bytes, c: Call) -> str:
    family = _USHORT.unpack_from(data)[0]
    return (f"{{sa_family={xval(L.ARPHRD_TYPES, family, 'ARPHRD_???')}, "
            f"sa_data={hwaddr_printer(family)(data[2:16], c.opts)}}}")


def _ifmap(data: bytes, c: Call) -> str:
    names = ("mem_start", "mem_end", "base_addr", "irq", "dma", "port")
    values = _IFMAP.unpack_from(data)
    return "{" + ", ".join(f"{n}={hexval(v)}" for n, v in zip(names, values)) + "}"


def _int(data: bytes, c: Call) -> str:
    return str(INT.unpack_from(data)[0])


def _flags(data: bytes, c: Call) -> str:
    return flags(L.IFFFLAGS, _USHORT.unpack_from(data)[0], unknown="IFF_???")


def _sockaddr(data: bytes, c: Call) -> str:
    return sockaddr_text(data, 16)


def _member(name: str, text) -> tuple:
    """A member of the ifreq's union (after its name): how it prints."""
    return name, lambda ifr, c: text(ifr[IFNAMSIZ:], c)


# the ifreq's member each request sets or gets (print_ifreq): its name, how it prints
IFREQ_FIELDS = {
    **{req: _member("ifr_addr", _sockaddr) for req in ("SIOCSIFADDR", "SIOCGIFADDR")},
    **{req: _member("ifr_dstaddr", _sockaddr) for req in ("SIOCSIFDSTADDR", "SIOCGIFDSTADDR")},
    **{req: _member("ifr_broadaddr", _sockaddr)
       for req in ("SIOCSIFBRDADDR", "SIOCGIFBRDADDR")},
    **{req: _member("ifr_netmask", _sockaddr) for req in ("SIOCSIFNETMASK", "SIOCGIFNETMASK")},
    **{req: _member("ifr_hwaddr", _hwaddr) for req in (
        "SIOCADDMULTI", "SIOCDELMULTI", "SIOCGIFHWADDR", "SIOCSIFHWADDR", "SIOCSIFHWBROADCAST")},
    **{req: _member("ifr_flags", _flags) for req in ("SIOCSIFFLAGS", "SIOCGIFFLAGS")},
    "SIOCGIFINDEX": _member("ifr_ifindex", _int),
    **{req: _member("ifr_metric", _int) for req in ("SIOCSIFMETRIC", "SIOCGIFMETRIC")},
    **{req: _member("ifr_mtu", _int) for req in ("SIOCSIFMTU", "SIOCGIFMTU")},
    **{req: _member("ifr_slave", _name) for req in ("SIOCSIFSLAVE", "SIOCGIFSLAVE")},
    "SIOCSIFNAME": _member("ifr_newname", _name),
    "SIOCGIFNAME": ("ifr_name", _name),
    **{req: _member("ifr_qlen", _int) for req in ("SIOCSIFTXQLEN", "SIOCGIFTXQLEN")},
    **{req: _member("ifr_map", _ifmap) for req in ("SIOCSIFMAP", "SIOCGIFMAP")},
}
SET_IFREQS = ("SIOCADDMULTI", "SIOCDELMULTI", "SIOCSIFADDR", "SIOCSIFBRDADDR", "SIOCSIFDSTADDR",
              "SIOCSIFFLAGS", "SIOCSIFHWADDR", "SIOCSIFHWBROADCAST", "SIOCSIFMAP",
              "SIOCSIFMETRIC", "SIOCSIFMTU", "SIOCSIFNAME", "SIOCSIFNETMASK", "SIOCSIFSLAVE",
              "SIOCSIFTXQLEN")
GET_IFREQS = ("SIOCGIFADDR", "SIOCGIFBRDADDR", "SIOCGIFDSTADDR", "SIOCGIFFLAGS",
              "SIOCGIFHWADDR", "SIOCGIFINDEX", "SIOCGIFMAP", "SIOCGIFMETRIC", "SIOCGIFMTU",
              "SIOCGIFNAME", "SIOCGIFNETMASK", "SIOCGIFSLAVE", "SIOCGIFTXQLEN")


def _field(req: str, ifr: bytes, c: Call) -> str:
    name, text = IFREQ_FIELDS[req]
    return f"{name}={text(ifr, c)}"


def _set_ifreq(req: str) -> Request:
    """A SIOCS* request's ifreq: its name and the member it sets."""
    def render(ifr: bytes, c: Call) -> str:
        return f"{{ifr_name={_name(ifr, c)}, {_field(req, ifr, c)}}}"
    return memory("ioc", False, render, IFREQ_SIZE)


def _get_ifreq(req: str) -> Request:
    """A SIOCG* request's ifreq: what it names (the interface's name, or
    SIOCGIFNAME's index), and what a successful call answers."""
    def text(c: Call) -> str:
        ifr = c.struct(2, "ioc", exit=False)
        if ifr is None or len(ifr) < IFREQ_SIZE:
            return ptr(c.arg(2))
        head = (f"ifr_ifindex={_int(ifr[IFNAMSIZ:], c)}" if req == "SIOCGIFNAME"
                else f"ifr_name={_name(ifr, c)}")
        answer = c.struct(2, "ioc") if c.ok else None
        if answer is None or answer is ifr or len(answer) < IFREQ_SIZE:
            return f"{{{head}}}"
        return f"{{{head}, {_field(req, answer, c)}}}"
    return Request(text, late=True)


def _bridge_port(ifr: bytes, c: Call) -> str:
    return f"{{ifr_ifindex={ifindex_text(INT.unpack_from(ifr, IFNAMSIZ)[0])}}}"


REQUESTS: dict[str, Request] = {
    "SIOCGIFCONF": Request(_ifconf, late=True),
    **{req: memory("ioc", True, int_text, INT.size)
       for req in ("FIOGETOWN", "SIOCATMARK", "SIOCGIFENCAP", "SIOCGPGRP", "SIOCOUTQNSD")},
    **{req: memory("ioc", False, int_text, INT.size)
       for req in ("FIOSETOWN", "SIOCSIFENCAP", "SIOCSPGRP")},
    **{req: _set_ifreq(req) for req in SET_IFREQS},
    **{req: _get_ifreq(req) for req in GET_IFREQS},
    **{req: memory("ioc", False, _bridge_name, IFNAMSIZ)
       for req in ("SIOCBRADDBR", "SIOCBRDELBR")},
    **{req: memory("ioc", False, _bridge_port, IFREQ_SIZE)
       for req in ("SIOCBRADDIF", "SIOCBRDELIF")},
    # the requests strace prints as an address
    **{req: ADDRESS for req in (
        "SIOCADDDLCI", "SIOCADDRT", "SIOCBONDCHANGEACTIVE", "SIOCBONDENSLAVE",
        "SIOCBONDINFOQUERY", "SIOCBONDRELEASE", "SIOCBONDSETHWADDR", "SIOCBONDSLAVEINFOQUERY",
        "SIOCDARP", "SIOCDELDLCI", "SIOCDELRT", "SIOCDIFADDR", "SIOCDRARP", "SIOCETHTOOL",
        "SIOCGARP", "SIOCGHWTSTAMP", "SIOCGIFBR", "SIOCGIFCOUNT", "SIOCGIFMEM",
        "SIOCGIFPFLAGS", "SIOCGIFVLAN", "SIOCGMIIPHY", "SIOCGMIIREG", "SIOCGRARP", "SIOCGSKNS",
        "SIOCGSTAMP_OLD", "SIOCGSTAMP_NEW", "SIOCGSTAMPNS_OLD", "SIOCGSTAMPNS_NEW",
        "SIOCRTMSG", "SIOCSARP", "SIOCSHWTSTAMP", "SIOCSIFBR", "SIOCSIFLINK", "SIOCSIFMEM",
        "SIOCSIFPFLAGS", "SIOCSIFVLAN", "SIOCSMIIREG", "SIOCSRARP", "SIOCWANDEV")},
}

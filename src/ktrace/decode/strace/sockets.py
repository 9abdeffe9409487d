"""What strace's -yy shows of a socket: ``UNIX-STREAM:[INODE->PEER,"path"]``,
``TCP:[SRC:PORT->DST:PORT]``, ``NETLINK:[ROUTE:PORTID]``.

strace asks the kernel (sock_diag) as it prints; the trace holds what the
engines asked at each call that makes a socket or may change its addresses
(STRU sockinfo, linux_plan.SOCKET_STATES), which is the state at every call
between.  A Unix connection's two ends name each other: the end accept(2)
made names its peer, which the peer's own connect could not yet (the kernel
makes the accepting end's socket at the accept).  A non-blocking connect's
peer is the address it was given.

strace keeps what it found of a socket (its details, once it has some) in a
cache of 1,024 entries indexed by the inode's low bits, and prints that from
then on; so does this.
"""

from __future__ import annotations

import socket
import struct

from ... import record as r
from ..xlat import LINUX as L
from .call import Call
from .files import Socket
from .fmt import StraceOptions, quote

CACHE_SIZE = 1024
EINPROGRESS = 115
SOCKADDR_IN = struct.Struct("<H2s4s")        # family, port (big-endian), address
SOCKADDR_IN6 = struct.Struct("<H2s4x16s")    # family, port, flowinfo, address
SOCKADDR_NL = struct.Struct("<H2xI")         # family, port id

# the protocols strace's -yy knows by the kernel's name (socketutils.c's
# protocols[]), and which of them sock_diag describes how
UNIX_NAMES = frozenset({"UNIX", "UNIX-STREAM"})
INET_NAMES = frozenset({"TCP", "UDP", "UDPLITE", "DCCP", "SCTP", "L2TP/IP", "PING", "RAW",
                        "TCPv6", "UDPv6", "UDPLITEv6", "DCCPv6", "SCTPv6", "L2TP/IPv6",
                        "PINGv6", "RAWv6"})
NETLINK_NAME = "NETLINK"
AF_NETLINK = L.ADDRESS_FAMILIES.value("AF_NETLINK")


def _unix_details(name: str, info: r.Sockinfo, opts: StraceOptions) -> str | None:
    """unix_diag's: the peer's inode and the socket's name, if it has either."""
    path = info.local[2:]
    if not info.peer_ino and not path:
        return None
    peer = f"->{info.peer_ino}" if info.peer_ino else ""
    if not path:
        where = ""
    elif path[0] == 0:                              # an abstract name
        where = ",@" + quote(path[1:].split(b"\0", 1)[0], opts.xflag)
    else:
        where = "," + quote(path.split(b"\0", 1)[0], opts.xflag)
    return f"{name}:[{info.ino}{peer}{where}]"


def _inet_end(data: bytes) -> tuple[str, int] | None:
    """An inet address's text (an IPv6 one in brackets) and port."""
    if len(data) >= SOCKADDR_IN6.size and data[:2] == socket.AF_INET6.to_bytes(2, "little"):
        _, port, addr = SOCKADDR_IN6.unpack_from(data)
        return f"[{socket.inet_ntop(socket.AF_INET6, addr)}]", int.from_bytes(port, "big")
    if len(data) >= SOCKADDR_IN.size and data[:2] == socket.AF_INET.to_bytes(2, "little"):
        _, port, addr = SOCKADDR_IN.unpack_from(data)
        return socket.inet_ntop(socket.AF_INET, addr), int.from_bytes(port, "big")
    return None


def _inet_details(name: str, info: r.Sockinfo) -> str | None:
    """inet_diag's: the addresses of a socket it lists (one with a port)."""
    local = _inet_end(info.local)
    if local is None or not local[1]:
        return None
    remote = _inet_end(info.remote)
    there = f"->{remote[0]}:{remote[1]}" if remote is not None else ""
    return f"{name}:[{local[0]}:{local[1]}{there}]"


def _netlink_details(name: str, info: r.Sockinfo, protocol: int | None) -> str | None:
    """netlink_diag's: the protocol and port id of a bound socket."""
    if len(info.local) < SOCKADDR_NL.size:
        return None
    portid = SOCKADDR_NL.unpack_from(info.local)[1]
    if not portid:
        return None
    known = L.NETLINK_PROTOCOLS.name(protocol) if protocol is not None else None
    if known is None:
        return f"{name}:[{protocol}]" if protocol is not None else None
    return f"{name}:[{known.removeprefix('NETLINK_')}:{portid}]"


class Sockets:
    """The sockets of a trace, by inode: the last sockinfo of each, and strace's cache."""

    def __init__(self, opts: StraceOptions):
        self.opts = opts
        self.latest: dict[int, r.Sockinfo] = {}
        self.cache: dict[int, tuple[int, str]] = {}     # inode's low bits -> (inode, text)

    def note(self, data: bytes, call: Call | None = None) -> None:
        """A STRU sockinfo's bytes, of ``call``.  A connect still under way
        (EINPROGRESS) has its peer, which sock_diag shows, but getpeername
        does not give it yet, nor the engines: it is the call's address."""
        info = r.parse_sockinfo(data)
        if info is None:
            return
        if call is not None and call.name == "connect" and not info.remote \
                and call.linux_errno() == EINPROGRESS:
            info = info._replace(remote=call.struct(1, "sockaddr", exit=False) or b"")
        if len(self.latest) >= 4 * CACHE_SIZE and info.ino not in self.latest:
            self.latest.clear()            # bounded: a hostile trace may name any inode
        self.latest[info.ino] = info
        peer = self.latest.get(info.peer_ino) if info.peer_ino else None
        if peer is not None and not peer.peer_ino and peer.protocol == info.protocol:
            self.latest[info.peer_ino] = peer._replace(peer_ino=info.ino)

    def peer(self, ino: int) -> int | None:
        """The inode of the socket ``ino`` is connected to, where the trace says."""
        info = self.latest.get(ino)
        return info.peer_ino if info is not None else None

    def text(self, sock: Socket) -> str:
        """-yy's text of the socket."""
        ino = sock.ino
        if ino is None:
            return sock
        slot = ino & (CACHE_SIZE - 1)
        cached = self.cache.get(slot)
        if cached is not None and cached[0] == ino:
            return cached[1]
        info = self.latest.get(ino)
        name = info.protocol.decode("ascii", "replace") if info is not None else ""
        if name in UNIX_NAMES:
            details = _unix_details(name, info, self.opts)
        elif name in INET_NAMES:
            details = _inet_details(name, info)
        elif name == NETLINK_NAME:
            details = _netlink_details(name, info, sock.protocol if sock.domain == AF_NETLINK
                                       else None)
        else:
            return f"socket:[{ino}]"
        if details is None:
            return f"{name}:[{ino}]"
        self.cache[slot] = (ino, details)
        return details

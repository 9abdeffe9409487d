"""NETLINK_NETFILTER messages as strace 6.1 prints them (netlink_netfilter.c,
and netlink.c's netfilter message types and flags): a type is a subsystem and
its message (``NFNL_SUBSYS_ACCT<<8|NFNL_MSG_ACCT_NEW``), a payload an nfgenmsg
and attributes strace has no table for.
"""

from __future__ import annotations

from ..xlat import LINUX as L
from ..xlat import Xlat
from .fmt import StraceOptions, hexval, named, xval
from .nlattr import NLMSG_DONE, address, family_text, hexstr, nlattr_text, readable


NFNL_MIN_TYPE = 0x10      # NLMSG_MIN_TYPE: below it, the control messages
BATCH = {n: v for v, n in L.NL_NETFILTER_MSG_TYPES.entries}
SUBSYS = {n: v for v, n in L.NL_NETFILTER_SUBSYS_IDS.entries}
NFT_SUBSYS = SUBSYS["NFNL_SUBSYS_NFTABLES"]

# a subsystem's message types and strace's word for an unknown one
SUBSYS_TYPES = {
    SUBSYS["NFNL_SUBSYS_CTNETLINK"]: (L.NF_CTNETLINK_MSG_TYPES, "IPCTNL_MSG_CT_???"),
    SUBSYS["NFNL_SUBSYS_CTNETLINK_EXP"]: (L.NF_CTNETLINK_EXP_MSG_TYPES, "IPCTNL_MSG_EXP_???"),
    SUBSYS["NFNL_SUBSYS_QUEUE"]: (L.NF_QUEUE_MSG_TYPES, "NFQNL_MSG_???"),
    SUBSYS["NFNL_SUBSYS_ULOG"]: (L.NF_ULOG_MSG_TYPES, "NFULNL_MSG_???"),
    SUBSYS["NFNL_SUBSYS_OSF"]: (L.NF_OSF_MSG_TYPES, "OSF_MSG_???"),
    SUBSYS["NFNL_SUBSYS_IPSET"]: (L.NF_IPSET_MSG_TYPES, "IPSET_CMD_???"),
    SUBSYS["NFNL_SUBSYS_ACCT"]: (L.NF_ACCT_MSG_TYPES, "NFNL_MSG_ACCT_???"),
    SUBSYS["NFNL_SUBSYS_CTNETLINK_TIMEOUT"]: (L.NF_CTTIMEOUT_MSG_TYPES, "IPCTNL_MSG_TIMEOUT_???"),
    SUBSYS["NFNL_SUBSYS_CTHELPER"]: (L.NF_CTHELPER_MSG_TYPES, "NFNL_MSG_CTHELPER_???"),
    NFT_SUBSYS: (L.NF_NFTABLES_MSG_TYPES, "NFT_MSG_???"),
    SUBSYS["NFNL_SUBSYS_NFT_COMPAT"]: (L.NF_NFT_COMPAT_MSG_TYPES, "NFNL_MSG_COMPAT_???"),
    SUBSYS["NFNL_SUBSYS_HOOK"]: (L.NF_HOOK_MSG_TYPES, "NFT_MSG_HOOK_???"),
}
# strace's array of them runs to the last subsystem: NFNL_SUBSYS_NONE's
# messages print in hex, those of a subsystem past the last in hex alone
SUBSYS_COUNT = max(SUBSYS_TYPES) + 1


def _flags_by_type(**tables: str) -> dict:
    """(subsystem, message) -> the flag table of its kind (new, get, delete)."""
    kinds = {"new": L.NLM_NEW_FLAGS, "get": L.NLM_GET_FLAGS, "delete": L.NLM_DELETE_FLAGS}
    out = {}
    for key, names in tables.items():
        subsys, kind = key.rsplit("_", 1)
        subsys_id = SUBSYS["NFNL_SUBSYS_" + subsys]
        messages = SUBSYS_TYPES[subsys_id][0]
        for name in names.split():
            out[subsys_id << 8 | messages.value(name)] = kinds[kind]
    return out


# decode_nlmsg_flags_netfilter
MESSAGE_FLAGS = _flags_by_type(
    CTNETLINK_new="IPCTNL_MSG_CT_NEW",
    CTNETLINK_get="IPCTNL_MSG_CT_GET IPCTNL_MSG_CT_GET_CTRZERO IPCTNL_MSG_CT_GET_STATS_CPU "
                  "IPCTNL_MSG_CT_GET_STATS IPCTNL_MSG_CT_GET_DYING IPCTNL_MSG_CT_GET_UNCONFIRMED",
    CTNETLINK_delete="IPCTNL_MSG_CT_DELETE",
    CTNETLINK_EXP_new="IPCTNL_MSG_EXP_NEW",
    CTNETLINK_EXP_get="IPCTNL_MSG_EXP_GET IPCTNL_MSG_EXP_GET_STATS_CPU",
    CTNETLINK_EXP_delete="IPCTNL_MSG_EXP_DELETE",
    ACCT_new="NFNL_MSG_ACCT_NEW", ACCT_get="NFNL_MSG_ACCT_GET NFNL_MSG_ACCT_GET_CTRZERO",
    ACCT_delete="NFNL_MSG_ACCT_DEL",
    CTNETLINK_TIMEOUT_new="IPCTNL_MSG_TIMEOUT_NEW", CTNETLINK_TIMEOUT_get="IPCTNL_MSG_TIMEOUT_GET",
    CTNETLINK_TIMEOUT_delete="IPCTNL_MSG_TIMEOUT_DELETE",
    CTHELPER_new="NFNL_MSG_CTHELPER_NEW", CTHELPER_get="NFNL_MSG_CTHELPER_GET",
    CTHELPER_delete="NFNL_MSG_CTHELPER_DEL",
    NFTABLES_new="NFT_MSG_NEWTABLE NFT_MSG_NEWCHAIN NFT_MSG_NEWRULE NFT_MSG_NEWSET "
                 "NFT_MSG_NEWSETELEM NFT_MSG_NEWGEN NFT_MSG_NEWOBJ NFT_MSG_NEWFLOWTABLE",
    NFTABLES_get="NFT_MSG_GETTABLE NFT_MSG_GETCHAIN NFT_MSG_GETRULE NFT_MSG_GETSET "
                 "NFT_MSG_GETSETELEM NFT_MSG_GETGEN NFT_MSG_GETOBJ NFT_MSG_GETOBJ_RESET "
                 "NFT_MSG_GETFLOWTABLE",
    NFTABLES_delete="NFT_MSG_DELTABLE NFT_MSG_DELCHAIN NFT_MSG_DELRULE NFT_MSG_DELSET "
                    "NFT_MSG_DELSETELEM NFT_MSG_DELOBJ NFT_MSG_DELFLOWTABLE",
    NFT_COMPAT_get="NFNL_MSG_COMPAT_GET", HOOK_get="NFNL_MSG_HOOK_GET")


def message_type_text(msg_type: int) -> str:
    """decode_nlmsg_type_netfilter: a batch message, else ``SUBSYS<<8|MESSAGE``."""
    batch = L.NL_NETFILTER_MSG_TYPES.name(msg_type)
    if batch is not None:
        return named(batch, msg_type)
    subsys, message = msg_type >> 8, msg_type & 0xFF
    text = xval(L.NL_NETFILTER_SUBSYS_IDS, subsys, "NFNL_SUBSYS_???") + "<<8|"
    if subsys not in SUBSYS_TYPES:
        return text + hexval(message)
    table, unknown = SUBSYS_TYPES[subsys]
    return text + xval(table, message, unknown)


def flag_table(msg_type: int) -> Xlat | None:
    """decode_nlmsg_flags_netfilter: the type's own flags beside the common ones."""
    return MESSAGE_FLAGS.get(msg_type)


def _res_id(msg_type: int, raw: bytes) -> str:
    """res_id is big-endian, but nftables' were once sent in host order
    (linux v4.3-rc1~28^2~47^2~1): strace names NFNL_SUBSYS_NFTABLES either way."""
    value = int.from_bytes(raw, "big")
    if msg_type >> 8 == NFT_SUBSYS:
        if value == NFT_SUBSYS:
            return named("htons(NFNL_SUBSYS_NFTABLES)", int.from_bytes(raw, "little"))
        if int.from_bytes(raw, "little") == NFT_SUBSYS:
            return named("NFNL_SUBSYS_NFTABLES", NFT_SUBSYS)
    return f"htons({value})"


NFGENMSG_SIZE = 4


def netfilter(msg_type: int, msg_flags: int, body: bytes, opts: StraceOptions) -> str | None:
    """decode_netlink_netfilter: the nfgenmsg, then attributes (batch and
    control messages: their bytes)."""
    if msg_type == NLMSG_DONE:
        return None
    if len(body) < NFGENMSG_SIZE:
        return hexstr(body, opts)
    if not readable(body, NFGENMSG_SIZE):
        return address(body)
    text = (f"{{nfgen_family={family_text(body[0])}, "
            f"version={xval(L.NETFILTER_VERSIONS, body[1], 'NFNETLINK_???')}, "
            f"res_id={_res_id(msg_type, body[2:4])}}}")
    rest = body[NFGENMSG_SIZE:]
    if not rest:
        return text
    if msg_type in BATCH.values() or msg_type < NFNL_MIN_TYPE:
        return f"{text}, {hexstr(rest, opts)}"
    return f"{text}, {nlattr_text(rest, opts, Xlat([]), '')}"

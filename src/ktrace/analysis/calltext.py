"""A syscall's decoded text for the analysis views, from the existing decoders.

Linux calls read as ``kdump --strace`` shows them (the strace decoders, with
the records the recording plan pairs with each argument); calls of other
ABIs (FreeBSD-made files) as kdump's text view shows their arguments.  The
errno comes from kdump's rule (a Linux process's exact errno is in its
return register).
"""

from __future__ import annotations

from ktrace import record as r
from ktrace.decode.strace import Call, StraceOptions, result_text, split_args
from ktrace.decode.strace.pairing import pair
from ktrace.kdump.abis import AbiTracker, ProcessAbi
from ktrace.kdump.options import DumpOptions
from ktrace.kdump.text import CACHE_LIMIT, TextFormatter

# SYSRET.error values that are not errnos: FreeBSD's ERESTART and EJUSTRETURN
NOT_ERRNOS = {-1: "ERESTART", -2: "EJUSTRETURN"}


class CallText:
    """Names, arguments, results and errnos of calls, cached where they repeat."""

    def __init__(self, layout: r.Layout, abis: AbiTracker):
        self.kdump = TextFormatter(DumpOptions(), layout)
        self.default_abi = abis.default.abi
        self.strace = StraceOptions()
        self._names: dict[tuple[ProcessAbi, int], str] = {}
        self._plain: dict[tuple, tuple[str, str]] = {}   # calls with no paired records

    def name(self, proc: ProcessAbi, code: int) -> str:
        key = (proc, code)
        name = self._names.get(key)
        if name is None:
            known = proc.abi.syscall_name(code) if proc.abi is not None else None
            name = self._names[key] = known or f"syscall_{code:#x}"
        return name

    def describe(self, call, ret: r.Sysret | None) -> None:
        """Fill in ``call``'s args, result, retval, errno and error (a model Syscall)."""
        if ret is not None:
            self._outcome(call, ret)
        plain = len(call.records) <= 2        # CALL and RET alone: text repeats
        key = (call.abi, call.number, call.raw_args, call.retval, ret is not None and ret.error)
        found = self._plain.get(key) if plain else None
        if found is None:
            try:
                found = self._strace(call, ret) if call.abi.linux else self._kdump(call)
            except Exception:              # a decoder bug must not lose the trace
                found = (",".join(f"{a:#x}" for a in call.raw_args), self._number(call))
            if plain:
                if len(self._plain) >= CACHE_LIMIT:
                    self._plain.clear()
                self._plain[key] = found
        call.args, call.result = found

    def _outcome(self, call, ret: r.Sysret) -> None:
        call.retval = ret.retval
        if ret.error == 0:
            return
        call.failed = ret.error != -2           # EJUSTRETURN: a sigreturn's way of succeeding
        if ret.error in NOT_ERRNOS:
            call.error = NOT_ERRNOS[ret.error]
            return
        number, _ = self.kdump.errno(call.abi, ret.error, ret.retval)
        call.errno = number
        tables = call.abi.abi or self.default_abi
        call.error = tables.errno_name(number) or f"errno {number}"

    def _strace(self, call, ret: r.Sysret | None) -> tuple[str, str]:
        """As ``kdump --strace`` prints the call: the arguments and what follows ``=``."""
        abi = call.abi.abi
        scall = Call(call.name, call.number, call.raw_args, self.strace)
        if ret is not None:
            scall.retval, scall.error = ret.retval, ret.error
        pair(scall, call.records[1:])
        info = abi.syscall(call.number) if abi is not None else None
        entry, exit_text, _ = split_args(scall, info)
        return entry + exit_text, result_text(scall, abi)

    def _kdump(self, call) -> tuple[str, str]:
        """As kdump's text view prints the CALL line's arguments."""
        rec = call.records[0]
        return ",".join(self.kdump.call_args(rec, call.abi)), self._number(call)

    @staticmethod
    def _number(call) -> str:
        if call.retval is None:
            return "?"
        return f"-1 {call.error}" if call.error else str(call.retval)

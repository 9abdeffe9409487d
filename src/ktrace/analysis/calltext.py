"""A syscall's decoded text for the analysis views, from the existing decoders.

Linux calls read as ``kdump --strace`` shows them (the strace decoders, with
the records the recording plan pairs with each argument); calls of other
ABIs (FreeBSD-made files) as kdump's text view shows their arguments.  The
errno comes from kdump's rule (a Linux process's exact errno is in its
return register).

Decoding is most of the analysis views' time, and calls repeat (the same
fstat of the same descriptor, the same poll set), so a call's Outcome is
cached by everything the decoders read: the ABI, number, argument registers,
result and the contents of the paired records, when those are small.  A path or
buffer argument prints its record, not its address (the strace printers
p_path and p_buf), so such an address stays out of the key: the same path
opened from another string, the same bytes read into another buffer, decode
once.  That the address is unseen is checked once per call number, by
decoding the call again with the address moved.
"""

from __future__ import annotations

from ktrace import record as r
from ktrace.decode.strace import SYSCALLS, Call, StraceOptions, result_text, split_args
from ktrace.decode.strace.call import p_buf, p_path
from ktrace.decode.strace.pairing import pair
from ktrace.kdump.abis import AbiTracker, ProcessAbi
from ktrace.kdump.options import DumpOptions
from ktrace.kdump.text import TextFormatter

# SYSRET.error values that are not errnos: FreeBSD's ERESTART and EJUSTRETURN
NOT_ERRNOS = {-1: "ERESTART", -2: "EJUSTRETURN"}
CACHE_LIMIT = 8192     # calls' texts kept
KEY_DATA = 512         # bytes of paired records a cached call may have: the cache stays small
# strace printers that show an argument's record (of this type) in place of its address
SHOWN_BY_RECORD = {p_path: r.NAMEI, p_buf: r.GENIO}
MOVED = 0x5A5A_5A5A_5A5A_5A5A   # xor'ed into an address to see whether the text shows it


class Outcome:
    """A call's decoded text and what its RET says, as the views show them.

    The calls of one ABI and number that decode alike share one (CallText
    caches them), so a view may keep what it makes of an outcome (and of the
    call's name) by the object's identity.
    """
    __slots__ = ("number", "args", "result", "retval", "errno", "error", "failed")

    def __init__(self, number: int):
        self.number = number
        self.args = self.result = ""
        self.retval: int | None = None
        self.errno: int | None = None
        self.error: str | None = None
        self.failed = False

    def number_text(self) -> str:
        """The result as kdump's text view prints it."""
        if self.retval is None:
            return "?"
        return f"-1 {self.error}" if self.error else str(self.retval)


class CallText:
    """Names, arguments, results and errnos of calls, cached where they repeat."""

    def __init__(self, layout: r.Layout, abis: AbiTracker):
        self.kdump = TextFormatter(DumpOptions(), layout)
        self.default_abi = abis.default.abi
        self.strace = StraceOptions()
        self._names: dict[tuple[ProcessAbi, int], str] = {}
        self._outcomes: dict[tuple, Outcome] = {}   # by _key
        # call name -> ((argument, record type), ...) of its arguments SHOWN_BY_RECORD
        self._shown: dict[str, tuple] = {}
        self._address_free: dict[tuple[ProcessAbi, int], bool] = {}   # the check's verdicts

    def name(self, proc: ProcessAbi, code: int) -> str:
        key = (proc, code)
        name = self._names.get(key)
        if name is None:
            known = proc.abi.syscall_name(code) if proc.abi is not None else None
            name = self._names[key] = known or f"syscall_{code:#x}"
        return name

    def describe(self, call, ret: r.Sysret | None) -> Outcome:
        """The Outcome of ``call`` (a model Syscall), RET ``ret`` if it returned."""
        shown = self._shown_of(call.name) if call.abi.linux else ()
        # the key as if each argument SHOWN_BY_RECORD had its record, when one of
        # that type is there: an outcome found under it was stored by a call paired so
        key = self._key(call, ret, self._likely_unseen(call, shown) if shown else ())
        found = self._outcomes.get(key) if key is not None else None
        if found is None:
            found = self._decode(call, ret, shown, key)
        return found

    def _decode(self, call, ret: r.Sysret | None, shown: tuple, key: tuple | None) -> Outcome:
        """Decode a call that ``key`` found no Outcome for, and cache it."""
        outcome = self._errors(call, ret)
        try:
            if not call.abi.linux:
                outcome.args = self._kdump(call)
                outcome.result = outcome.number_text()
            else:
                scall = self._strace_call(call, ret, call.raw_args)
                if shown:
                    key = self._key(call, ret, self._unseen(call, ret, scall, shown))
                    found = self._outcomes.get(key) if key is not None else None
                    if found is not None:
                        return found
                outcome.args, outcome.result = self._strace(call, scall)
        except Exception:              # a decoder bug must not lose the trace
            outcome.args = ",".join(f"{a:#x}" for a in call.raw_args)
            outcome.result = outcome.number_text()
        if key is not None:
            if len(self._outcomes) >= CACHE_LIMIT:
                self._outcomes.clear()
            self._outcomes[key] = outcome
        return outcome

    @staticmethod
    def _key(call, ret: r.Sysret | None, unseen: tuple[int, ...]) -> tuple | None:
        """All the decoders read of ``call`` (its records are CALL, the paired ones,
        then RET if it returned) but the ``unseen`` arguments; None when its
        records hold too much to keep."""
        args = call.raw_args
        if unseen:
            args = list(args)
            for i in unseen:
                args[i] = None
            args = tuple(args)
        if ret is None:
            key, paired = (call.abi, call.number, args, None, False), call.records[1:]
        else:
            key, paired = (call.abi, call.number, args, ret.retval, ret.error), call.records[1:-1]
        size = 0
        for rec in paired:
            size += len(rec[-1])          # a paired record's data (path, bytes, strings)
            key += (rec.header.type, rec[1:])
        return key if size <= KEY_DATA else None

    def unseen_mask(self, call) -> tuple | None:
        """(argument, record type) of each argument whose address the text of
        calls of ``call``'s ABI and number never shows (SHOWN_BY_RECORD, the
        check done): where not NULL and with a record of that type, a key may
        leave it out.  None where the check is still to be done."""
        if not call.abi.linux:
            return ()
        shown = self._shown_of(call.name)
        if not shown:
            return ()
        verdict = self._address_free.get((call.abi, call.number))
        return None if verdict is None else shown if verdict else ()

    def _shown_of(self, name: str) -> tuple:
        shown = self._shown.get(name)
        if shown is None:
            shown = self._shown[name] = tuple(
                (i, SHOWN_BY_RECORD[arg.render]) for i, arg in enumerate(SYSCALLS.get(name, ()))
                if arg is not None and arg.render in SHOWN_BY_RECORD)
        return shown

    @staticmethod
    def _likely_unseen(call, shown: tuple) -> tuple[int, ...]:
        """The arguments SHOWN_BY_RECORD that are not NULL and have a record of
        their type among the call's (it is theirs unless pairing says otherwise)."""
        args, unseen = call.raw_args, ()
        for i, rtype in shown:
            if i < len(args) and args[i]:
                for rec in call.records:
                    if rec.header.type == rtype:
                        unseen += (i,)
                        break
        return unseen

    def _unseen(self, call, ret: r.Sysret | None, scall: Call, shown: tuple) -> tuple[int, ...]:
        """The arguments of ``call`` whose address its text does not show: those
        SHOWN_BY_RECORD that have their record, once the check says so."""
        unseen = tuple(i for i, rtype in shown
                       if any(rec.header.type == rtype for rec in scall.records.get(i, ())))
        if not unseen:
            return ()
        verdict = self._address_free.get((call.abi, call.number))
        if verdict is None:
            moved = tuple(a ^ MOVED or 1 if i in unseen else a
                          for i, a in enumerate(call.raw_args))
            verdict = self._address_free[(call.abi, call.number)] = (
                self._strace(call, self._strace_call(call, ret, call.raw_args))
                == self._strace(call, self._strace_call(call, ret, moved)))
        return unseen if verdict else ()

    def _errors(self, call, ret: r.Sysret | None) -> Outcome:
        """An Outcome with the call's retval, errno and error; no text yet."""
        outcome = Outcome(call.number)
        if ret is None:
            return outcome
        outcome.retval = ret.retval
        if ret.error == 0:
            return outcome
        outcome.failed = ret.error != -2        # EJUSTRETURN: a sigreturn's way of succeeding
        if ret.error in NOT_ERRNOS:
            outcome.error = NOT_ERRNOS[ret.error]
            return outcome
        number, _ = self.kdump.errno(call.abi, ret.error, ret.retval)
        outcome.errno = number
        tables = call.abi.abi or self.default_abi
        outcome.error = tables.errno_name(number) or f"errno {number}"
        return outcome

    def _strace_call(self, call, ret: r.Sysret | None, args: tuple[int, ...]) -> Call:
        """The strace decoders' Call of ``call`` (with ``args``), its records paired."""
        scall = Call(call.name, call.number, args, self.strace)
        if ret is not None:
            scall.retval, scall.error = ret.retval, ret.error
        pair(scall, call.records[1:])
        return scall

    @staticmethod
    def _strace(call, scall: Call) -> tuple[str, str]:
        """As ``kdump --strace`` prints the call: the arguments and what follows ``=``."""
        abi = call.abi.abi
        info = abi.syscall(call.number) if abi is not None else None
        entry, exit_text, _ = split_args(scall, info)
        return entry + exit_text, result_text(scall, abi)

    def _kdump(self, call) -> str:
        """As kdump's text view prints the CALL line's arguments."""
        return ",".join(self.kdump.call_args(call.records[0], call.abi))

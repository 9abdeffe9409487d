"""kdump's options, once parsed: what every output format reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from ktrace import trpoints

from .select import Selection


@dataclass
class DumpOptions:
    tracefile: str = "ktrace.out"   # -f ("-" is standard input)
    abi_column: bool = False        # -A
    cpu_column: bool = False        # -c
    decimal: bool = False           # -d
    elapsed: bool = False           # -E: time since the first record
    threads: bool = False           # -H: thread id column
    follow: bool = False            # -l
    maxdata: int = 0                # -m: bytes of I/O shown, 0 for all
    fancy: bool = True              # cleared by -n: no ad hoc translations
    pid: int = 0                    # -p: only this pid or tid (0: all)
    relative: bool = False          # -R: time since the previous record
    symbolic: bool = False          # -r: symbolic struct members
    syscall_numbers: bool = False   # -S: read[0]
    suppress_data: bool = False     # -s: no I/O data
    absolute: bool = False          # -T: absolute time
    trpoints: int = trpoints.ALL    # -t: facility bits of the record types shown
    json: bool = False              # --json: JSON Lines instead of text
    selection: Selection = field(default_factory=Selection)   # -e, -z, -Z, -P, -q

    def shown(self, record_type: int) -> bool:
        """Does -t select records of this type?"""
        return 0 <= record_type < 32 and bool(self.trpoints >> record_type & 1)

#!/usr/bin/env python3
"""How much of ``kdump --strace`` is strace 6.1's output, line for line.

Runs the differential corpus of tests/strace_diff.py (coreutils, sh pipelines,
python3 -c, gcc, a C probe program; each under strace and under ktrace) and
prints the match rate over all strace lines, overall and per syscall (worst
first), then the lines ktrace cannot show (known recording gaps) and the ones
that differ.

    flock /tmp/ktrace-bench.lock python3 benchmarks/strace_match.py [--show N] [program ...]
    ... strace_match.py --filters [program ...]

--filters: each program of strace_diff.FILTER_PROGRAMS is recorded once and shown
through each filter of strace_diff.FILTERS (-e trace=%file, -z, -P ...); strace
runs the program again with the same filter.  The rate per filter is over the
lines strace printed.  Last, ``-ff -o PREFIX``: the files kdump --strace writes
from that recording against those strace writes, paired by process (a file on
one side only is counted apart).

KTRACE_DIFF_ENGINE=bpf measures the bpf engine instead of ptrace.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import strace_diff as D  # noqa: E402
from strace_harness import STRACE  # noqa: E402


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("programs", nargs="*", help="corpus names (default: all)")
    ap.add_argument("--show", type=int, default=10, help="differing lines to print")
    ap.add_argument("--filters", action="store_true", help="the filters' match rates")
    args = ap.parse_args(argv)
    if STRACE is None or D.GCC is None:
        print("strace_match: needs strace and gcc", file=sys.stderr)
        return 1
    unknown = set(args.programs) - {p.name for p in D.CORPUS}
    if unknown:
        print(f"strace_match: no such program: {' '.join(sorted(unknown))}", file=sys.stderr)
        return 1
    if args.filters:
        return filters(args.programs or list(D.FILTER_PROGRAMS), args.show)
    total = D.Comparison()
    print(f"engine {D.ENGINE}, strace -f -q -s {D.STRSIZE}; ktrace -i -t {D.KTRACE_FACILITIES}"
          f" --genio-size {D.GENIO_SIZE}")
    print(f"{'program':16s} {'lines':>6s} {'match':>6s} {'rate':>7s} {'w/o gaps':>8s}")
    with tempfile.TemporaryDirectory(prefix="strace-match-") as tmp:
        base = Path(tmp)
        probe = D.build_probe(base)
        for prog in D.CORPUS:
            if args.programs and prog.name not in args.programs:
                continue
            run = D.run_program(prog, base, probe)
            c = D.compare(run.strace, run.kdump, str(base / "work"))
            print(f"{prog.name:16s} {c.total:6d} {c.matched:6d} {c.rate:7.2%} "
                  f"{c.rate_without_gaps:8.2%}")
            total.add(c)
    print(f"{'all':16s} {total.total:6d} {total.matched:6d} {total.rate:7.2%} "
          f"{total.rate_without_gaps:8.2%}")
    report(total, args.show)
    return 0


def filters(programs: list[str], show: int) -> int:
    """Per filter: strace's lines matched over the programs, one recording each;
    then -ff -o PREFIX: the per-process files of both, paired, and their lines."""
    per = {label: D.Comparison() for label in (*D.FILTERS, D.PER_PROCESS)}
    print(f"engine {D.ENGINE}; programs: {' '.join(programs)}")
    with tempfile.TemporaryDirectory(prefix="strace-filters-") as tmp:
        base = Path(tmp)
        probe = D.build_probe(base)
        for prog in D.CORPUS:
            if prog.name in programs:
                for label, c in D.compare_filters(prog, base, probe).items():
                    per[label].add(c)
    files = per.pop(D.PER_PROCESS)
    width = max(map(len, per))
    total = D.Comparison()

    def row(label: str, c: D.Comparison) -> None:
        print(f"{label:{width}s} {c.total:6d} {c.matched:6d} {c.rate:7.2%} "
              f"{c.rate_without_gaps:8.2%} {len(c.differ):6d}")
    print(f"\n{'filter':{width}s} {'lines':>6s} {'match':>6s} {'rate':>7s} {'w/o gaps':>8s} "
          f"{'differ':>6s}")
    for label, c in per.items():
        row(label, c)
        total.add(c)
    row("all filters", total)
    row(D.PER_PROCESS, files)
    print(f"\n{D.PER_PROCESS}: {files.processes} processes paired, {len(files.lone)} with "
          f"a file on one side only {' '.join(files.lone)}")
    total.add(files)
    print(f"unpaired lines: {len(total.missing)} strace only, {len(total.extra)} kdump only "
          "(scheduling: futex, wait4, signals)")
    for m in total.differ[:show]:
        print(f"  {m.pair} strace: {m.strace}\n  {m.pair} kdump:  {m.kdump}")
    return 0


def report(total: D.Comparison, show: int) -> None:
    gaps = Counter(D.name_of(m.strace) for _, m in total.known)

    def rates(name: str) -> tuple[float, float]:
        matched, lines = total.matched_by_name[name], total.by_name[name]
        return matched / lines, matched / max(1, lines - gaps[name])

    print("\nper syscall, worst first: strace lines matched / strace lines, rate, "
          "rate without the known gaps")
    for name in sorted(total.by_name, key=lambda n: (rates(n)[1], rates(n)[0], -total.by_name[n])):
        rate, without = rates(name)
        print(f"  {name:20s} {total.matched_by_name[name]:5d}/{total.by_name[name]:<5d} "
              f"{rate:7.2%} {without:7.2%}")
    print("\nknown recording gaps (lines):")
    for label, n in Counter(label for label, _ in total.known).most_common():
        print(f"  {n:5d}  {label}")
    print(f"\nother differences: {len(total.differ)} differing, {len(total.missing)} strace "
          f"only, {len(total.extra)} kdump only (scheduling: futex, wait4, signals)")
    for m in total.differ[:show]:
        print(f"  {m.pair} strace: {m.strace}\n  {m.pair} kdump:  {m.kdump}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

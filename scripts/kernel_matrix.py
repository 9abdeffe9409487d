#!/usr/bin/env python3
"""Which ktrace facilities the bpf engine records on the running kernel.

For each -t letter this runs a small real program under
``ktrace --engine bpf -t <letter>c`` and looks in the trace file for records
of that letter's type.  A letter is

* ``recorded``: its records are in the file;
* ``unavailable (why)``: no records, and ktrace said why on stderr
  (``ktrace: ... cannot record ...: <reason>``);
* ``MISSING``: no records and no reason -- a failure.

When the engine cannot start, the service's one line says which BPF program
the kernel refused and the verifier's verdict; the service's log (kept with
--logs DIR) has the verifier's whole story.

    kernel_matrix.py [--json FILE] [--label NAME] [--logs DIR]
                                                    run here, print this kernel's column
    kernel_matrix.py --table FILE...                one table from several --json results

Exit status 1 when the engine cannot start at all or a letter is MISSING.
Standard library only (besides ktrace itself); run it with the project's
virtualenv python, as root.  scripts/kernels.sh runs it on several kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ktrace.trpoints import WORDS

LETTERS = "cnisutywfpae"
RUN_TIMEOUT = 180          # seconds for one traced run (TCG guests are slow)
NOTICE = re.compile(r"^ktrace:.*cannot record.*$", re.M)

# ---------------------------------------------------------------------------
# The workloads: argv and extra environment for each letter


def workloads(work: Path) -> dict[str, tuple[list[str], dict]]:
    data = work / "data.txt"
    data.write_text("kernel matrix\n")
    cat = shutil.which("cat") or "/bin/cat"
    return {
        "c": ([cat, str(data)], {}),
        "n": ([cat, str(data)], {}),
        "i": ([cat, str(data)], {}),
        "s": (["sh", "-c", "trap : USR1; kill -USR1 $$"], {}),
        # (perl: Essential in Debian, and starts in far fewer syscalls than python)
        "u": (["perl", "-e", 'my $s = "kernel-matrix"; syscall(0x6b74, $s, length $s)'], {}),
        "t": (["stat", str(data)], {}),
        "y": ([cat, "/proc/sys/kernel/hostname"], {}),
        "w": (["sleep", "0.01"], {}),
        "f": (["true"], {}),
        # as nobody, chroot is refused: a denied CAP_SYS_CHROOT check
        "p": (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "chroot", "/", "/bin/true"], {}),
        "a": (["/bin/echo", "kernel-matrix-arg"], {}),
        "e": (["/bin/echo", "env"], {"KERNEL_MATRIX": "1"}),
    }


def check(letter: str, recs: list) -> bool:
    """Are this letter's records (the right ones) in the trace?"""
    from ktrace import record as r
    from ktrace import trpoints
    types = trpoints.LETTERS[letter]
    found = [x for x in recs if x.header.type in types]
    if letter == "u":
        return any(x.data == b"kernel-matrix" for x in found)
    if letter == "a":
        return any(b"kernel-matrix-arg" in x.strings for x in found)
    if letter == "e":
        return any(b"KERNEL_MATRIX=1" in x.strings for x in found)
    if letter == "s":
        return any(x.signo == 10 for x in found if isinstance(x, r.Psig))
    return bool(found)


# ---------------------------------------------------------------------------
# Running the workloads under ktrace


def service_log(rt: Path) -> list[str]:
    lines = []
    for f in sorted(rt.glob("*.log")):
        lines += f.read_text(errors="replace").splitlines()
    return lines


def traced_run(name: str, trstr: str, argv: list[str], env_extra: dict, work: Path,
               bindir: Path, inherit: bool = False) -> tuple[dict, list]:
    """One ``ktrace --engine bpf`` run: (what happened, its records)."""
    from ktrace import record as r
    out = work / f"{name}.out"
    err = work / f"{name}.stderr"
    cmd = ([str(bindir / "ktrace"), "--engine", "bpf"] + (["-i"] if inherit else [])
           + ["-t", trstr, "-f", str(out)] + argv)
    env = dict(os.environ, **env_extra)
    t0 = time.monotonic()
    with open(err, "wb") as ef:
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=ef, env=env, timeout=RUN_TIMEOUT)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    secs = round(time.monotonic() - t0, 1)
    stderr = err.read_text(errors="replace")
    recs, bad = [], None
    if out.exists():
        try:
            recs = list(r.read_records(str(out)))
        except Exception as e:              # a corrupt file is a finding too
            bad = f"{type(e).__name__}: {e}"
    res = {"trstr": trstr, "argv": argv, "rc": rc, "seconds": secs, "records": len(recs),
           "stderr": stderr.strip().splitlines()[-6:], "notices": NOTICE.findall(stderr),
           "started": any(isinstance(x, r.ProcCtor) for x in recs)}
    if bad:
        res["corrupt"] = bad
    return res, recs


def judge(letter: str, res: dict, recs: list) -> dict:
    """This letter's verdict from a run's records and notices."""
    from ktrace import trpoints
    res = dict(res, letter=letter,
               of_letter=sum(1 for x in recs if x.header.type in trpoints.LETTERS[letter]))
    if check(letter, recs):
        res["status"] = "recorded"
    else:
        reason = notice_for(letter, res["notices"])
        if reason:
            res["status"] = "unavailable"
            res["reason"] = reason
        else:
            res["status"] = "MISSING"
    return res


def run_letter(letter: str, argv: list[str], env_extra: dict, work: Path, bindir: Path) -> dict:
    """-t <letter>c (c alone for c) over the letter's own workload."""
    res, recs = traced_run(letter, letter if letter == "c" else letter + "c", argv, env_extra,
                           work, bindir)
    return judge(letter, res, recs)


def run_combined(loads: dict, work: Path, bindir: Path) -> dict:
    """One run of every letter at once (-i) over a shell that runs every workload."""
    script = []
    for letter, (argv, env) in loads.items():
        if letter == "s":
            script.append("trap : USR1; kill -USR1 $$")
            continue
        script.append(" ".join([f"{k}={shlex.quote(v)}" for k, v in env.items()]
                               + [shlex.quote(a) for a in argv]) + " >/dev/null")
    res, recs = traced_run("all", LETTERS, ["sh", "-c", "; ".join(script)], {}, work, bindir,
                           inherit=True)
    res["seconds_total"] = res["seconds"]
    return {letter: judge(letter, dict(res, seconds=0), recs) for letter in loads}


def notice_for(letter: str, notices: list[str]) -> str | None:
    """The reason the engine's notice gives for this letter, if it gave one."""
    for line in notices:
        m = re.search(rf"cannot record .* \({letter}\) on this kernel: (.*)$", line)
        if m:
            return m.group(1).strip()
    return None


def start_keeper(work: Path, bindir: Path) -> tuple[subprocess.Popen | None, str | None]:
    """A traced sleep that keeps one trace service (one load of the program)
    up for all the runs: (the process, None), or (None, why the engine did not start)."""
    out, err = work / "keeper.out", work / "keeper.stderr"
    with open(err, "wb") as ef:
        proc = subprocess.Popen([str(bindir / "ktrace"), "--engine", "bpf", "-t", "c", "-f",
                                 str(out), "sleep", "3600"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=ef, start_new_session=True)
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if out.exists() and out.stat().st_size > 0:
            return proc, None
        if proc.poll() is not None:
            text = err.read_text(errors="replace").strip().splitlines()
            return None, (text[-1] if text else f"ktrace exited with {proc.returncode}")
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    return None, f"nothing recorded after {RUN_TIMEOUT} s"


def run_all(label: str | None, logdir: Path | None = None, combined: bool = False) -> dict:
    bindir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="kernel-matrix-"))
    rt = work / "runtime"
    rt.mkdir(mode=0o700)
    os.environ["KTRACE_RUNTIME_DIR"] = str(rt)      # our own service, and its log
    result = {"label": label or platform.release(), "kernel": platform.release(),
              "version": platform.version(), "letters": {},
              "mode": "combined" if combined else "per letter"}
    try:
        from ktrace.engine import bpf
        result["unavailable_reason"] = bpf.unavailable_reason()
    except Exception as e:
        result["unavailable_reason"] = f"the bpf engine does not import: {e}"
    t0 = time.monotonic()
    keeper, why = start_keeper(work, bindir)
    result["service_start_seconds"] = round(time.monotonic() - t0, 1)
    try:
        loads = workloads(work)
        if keeper is None:
            for letter in loads:
                result["letters"][letter] = {"letter": letter, "status": "engine failed",
                                             "records": 0, "seconds": 0, "started": False,
                                             "rc": None, "stderr": [why]}
        elif combined:
            result["letters"] = run_combined(loads, work, bindir)
        else:
            for letter, (argv, env) in loads.items():
                result["letters"][letter] = run_letter(letter, argv, env, work, bindir)
    finally:
        if keeper is not None:
            keeper.terminate()          # ktrace has become the traced sleep
            try:
                keeper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                keeper.kill()
                keeper.wait()
    result["seconds"] = round(time.monotonic() - t0, 1)
    log = service_log(rt)
    if logdir is not None and log:
        logdir.mkdir(parents=True, exist_ok=True)
        (logdir / "service.log").write_text("\n".join(log) + "\n")
    result["service_log"] = [x for x in log if "failed" in x or "refused" in x
                             or "cannot" in x or x.startswith("ktrace")][-20:]
    if keeper is None or not any(v["started"] for v in result["letters"].values()):
        result["engine"] = "did not start"
        result["engine_why"] = result["unavailable_reason"] or why or "no trace written"
    else:
        result["engine"] = "started"
    shutil.rmtree(work, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------
# Reporting


def cell(res: dict) -> str:
    if res["status"] == "engine failed":
        return "engine failed"
    if res["status"] == "unavailable":
        return f"unavailable ({res['reason']})"
    return res["status"]


def verdict(result: dict) -> list[str]:
    """What makes this kernel fail the matrix (empty: it passes)."""
    bad = []
    if result.get("engine") != "started":
        bad.append(f"{result['label']}: the bpf engine cannot start: {result.get('engine_why')}")
    for letter, res in result["letters"].items():
        if res["status"] == "MISSING":
            bad.append(f"{result['label']}: -t {letter} ({WORDS[letter]}) recorded nothing and "
                       f"no reason was given (rc {res['rc']}; stderr: "
                       f"{' | '.join(res['stderr'][-2:]) or 'empty'})")
    return bad


def print_column(result: dict) -> None:
    print(f"== {result['label']} (Linux {result['kernel']})")
    if result.get("unavailable_reason"):
        print(f"   bpf unavailable: {result['unavailable_reason']}")
    print(f"   trace service up in {result.get('service_start_seconds')} s")
    for letter, res in result["letters"].items():
        print(f"   {letter} {WORDS[letter]:<20} {cell(res):<12} "
              f"[{res.get('of_letter', 0)} of {res['records']} records, {res['seconds']} s]")
    print(f"   engine {result.get('engine')}; {result['seconds']} s for the workloads "
          f"({result.get('mode')})")
    for line in result.get("service_log", [])[-8:]:
        print(f"   log: {line}")


def print_table(results: list[dict]) -> None:
    heads = [r["label"] for r in results]
    cells = [[cell(r["letters"][l]) if l in r["letters"] else "-" for r in results]
             for l in LETTERS]
    w0 = max(len(f"{l} {WORDS[l]}") for l in LETTERS)
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(heads)]
    releases = [r["kernel"] for r in results]
    widths = [max(w, len(k)) for w, k in zip(widths, releases)]
    print(" | ".join([" " * w0] + [h.ljust(w) for h, w in zip(heads, widths)]))
    print(" | ".join(["kernel".ljust(w0)] + [k.ljust(w) for k, w in zip(releases, widths)]))
    print("-+-".join(["-" * w0] + ["-" * w for w in widths]))
    for l, row in zip(LETTERS, cells):
        print(" | ".join([f"{l} {WORDS[l]}".ljust(w0)] + [c.ljust(w) for c, w in zip(row, widths)]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="also write the result here")
    ap.add_argument("--label", help="the column's name (default: the kernel release)")
    ap.add_argument("--logs", help="a directory for the service log (the verifier's whole story)")
    ap.add_argument("--combined", action="store_true",
                    help="one run with every letter (-i -t cnisutywfpae) over all the workloads "
                         "instead of one run per letter (for slow machines: TCG guests)")
    ap.add_argument("--table", nargs="+", metavar="FILE",
                    help="print one table from these --json results and check them")
    args = ap.parse_args(argv)
    if args.table:
        results = []
        for f in args.table:
            try:
                results.append(json.loads(Path(f).read_text()))
            except (OSError, ValueError) as e:
                print(f"kernel_matrix: {f}: no result ({e})", file=sys.stderr)
                results.append(None)
        bad = [f"{f}: no result (the run did not finish)"
               for f, r in zip(args.table, results) if r is None]
        results = [r for r in results if r is not None]
        if results:
            print_table(results)
        for r in results:
            bad += verdict(r)
        for line in bad:
            print(f"FAIL {line}")
        return 1 if bad else 0
    result = run_all(args.label, Path(args.logs) if args.logs else None, args.combined)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print_column(result)
    bad = verdict(result)
    for line in bad:
        print(f"FAIL {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

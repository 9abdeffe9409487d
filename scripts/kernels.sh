#!/bin/sh
# The kernel matrix: the bpf engine on the kernels Debian 12 users run.
#
#   sh scripts/kernels.sh            # each kernel of KERNELS in a VM (side by side), and the host
#   KERNELS=6.1 sh scripts/kernels.sh
#
# Boots Debian's own kernels (the newest linux-image-6.1.0-N-amd64-unsigned and
# linux-image-6.12.N+deb12-amd64-unsigned that apt offers bookworm) under QEMU
# with software emulation (TCG) through virtme-ng: the guest sees this
# machine's filesystem read-only, so it runs this checkout's .venv.  In each
# guest, and directly on the host, it runs scripts/kernel_matrix.py (every -t
# letter under `ktrace --engine bpf`: recorded, or unavailable and why; in the
# guests as one combined run) and, in the guests, a bpf engine test with
# KTRACE_REQUIRE_BPF=1.  Prints one table; exits 1 if the engine cannot start
# on a kernel, a letter is neither recorded nor reported unavailable with a
# reason, or a guest's tests fail or do not finish in time.
#
# ~5-7 minutes on this project's 2-core machines (two guests at once, ~5-6
# minutes each; the first run adds ~20 s of downloads); a guest's files are
# in $KTRACE_KERNELS_OUT: LABEL.matrix.txt, .json, .logs/ (verifier logs when
# the engine fails), .pytest.txt, .console.
#
# Nothing is installed as a kernel: the packages are fetched with
# `apt-get download` and unpacked into the cache (nothing touches /boot, no
# initramfs hook runs).  The cache ($KTRACE_KERNELS_CACHE, default
# ~/.cache/ktrace-kernels) keeps the unpacked kernels and virtme-ng's venv, so
# a rerun downloads nothing.  Results and guest consoles: $KTRACE_KERNELS_OUT
# (default /tmp/ktrace-kernels).
#
# Needs root (the bpf engine, apt).  Debian packages: qemu-system-x86,
# busybox-static, kmod (depmod), file; PyPI: virtme-ng (pinned below).
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
VNG_VERSION=1.42
KERNELS=${KERNELS:-"6.1 6.12"}
CACHE=${KTRACE_KERNELS_CACHE:-${HOME:-/root}/.cache/ktrace-kernels}
OUT=${KTRACE_KERNELS_OUT:-/tmp/ktrace-kernels}
BOOT_TIMEOUT=${KTRACE_KERNELS_TIMEOUT:-600}     # seconds for one guest, all included
# the tests run in each guest (each loads the program again: 40-80 s under TCG);
# the matrix has covered every letter already
GUEST_TESTS=${GUEST_TESTS:-tests/test_bpf_engine.py}
GUEST_TESTS_K=${GUEST_TESTS_K:-syscalls_paths_io_structs}
GUEST_MATRIX_ARGS=${GUEST_MATRIX_ARGS---combined}
PARALLEL=${KTRACE_KERNELS_PARALLEL:-1}

# ---------------------------------------------------------------------------
# Inside a guest: `kernels.sh --guest DIR LABEL` (also used for the host)
if [ "${1:-}" = --guest ]; then
    dir=$2 label=$3
    export PYTHONDONTWRITEBYTECODE=1
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086
    .venv/bin/python scripts/kernel_matrix.py $GUEST_MATRIX_ARGS --label "$label" --json "$dir/$label.json" \
        --logs "$dir/$label.logs" >"$dir/$label.matrix.txt" 2>&1 || rc=$?
    echo "$rc" >"$dir/$label.matrix.rc"
    echo "$(( $(date +%s) - start ))" >"$dir/$label.matrix.seconds"
    if [ "${4:-}" = --tests ]; then
        start=$(date +%s)
        rc=0
        # the checkout is read-only in the guest: no cache, no bytecode
        # shellcheck disable=SC2086
        KTRACE_REQUIRE_BPF=1 .venv/bin/python -m pytest -q -p no:cacheprovider \
            $GUEST_TESTS -k "$GUEST_TESTS_K" >"$dir/$label.pytest.txt" 2>&1 || rc=$?
        echo "$rc" >"$dir/$label.pytest.rc"
        echo "$(( $(date +%s) - start ))" >"$dir/$label.pytest.seconds"
    fi
    exit 0
fi

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
log() { echo "kernels: $*"; }
now() { date +%s; }
begin=$(now)

# ---------------------------------------------------------------------------
# What it needs
[ -x .venv/bin/python ] && [ -f src/ktrace/engine/bpf/ktrace.bpf.o ] || sh scripts/setup.sh
PACKAGES="qemu-system-x86 busybox-static kmod file python3-venv"
if ! dpkg -s $PACKAGES >/dev/null 2>&1; then
    log "installing $PACKAGES"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $PACKAGES >/dev/null
fi
mkdir -p "$CACHE" "$OUT"
VENV=$CACHE/virtme-ng-$VNG_VERSION
if [ ! -x "$VENV/bin/vng" ]; then
    log "installing virtme-ng $VNG_VERSION into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "virtme-ng==$VNG_VERSION"
fi
PATH=$VENV/bin:$PATH:/usr/sbin:/sbin       # vng runs virtme-run; virtme runs depmod
export PATH

# The newest package of a series: 6.1 -> linux-image-6.1.0-N-amd64-unsigned,
# 6.12 -> linux-image-6.12.N+deb12-amd64-unsigned (not -cloud: it has no 9p).
package_for() {
    case $1 in
        6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
        *) pattern="^linux-image-$(echo "$1" | sed 's/\./\\./g')\.[0-9]+\+deb12-amd64-unsigned\$" ;;
    esac
    apt-cache search --names-only "$pattern" 2>/dev/null | cut -d' ' -f1 | sort -V | tail -1
}

# Fetch and unpack one series' kernel into the cache; prints its vmlinuz.
kernel_for() {
    series=$1
    pkg=$(package_for "$series")
    if [ -z "$pkg" ] && [ -z "${UPDATED:-}" ]; then
        $SUDO apt-get update -qq >&2
        UPDATED=1
        pkg=$(package_for "$series")
    fi
    if [ -z "$pkg" ]; then            # offline: the newest one unpacked before
        dir=$(ls -d "$CACHE/kernels/linux-image-$series"[.-]*amd64-unsigned 2>/dev/null | sort -V | tail -1)
        [ -n "$dir" ] || { echo "kernels: no package for Linux $series" >&2; return 1; }
    else
        dir=$CACHE/kernels/$pkg
        if [ ! -f "$dir/.unpacked" ]; then
            t=$(now)
            tmp=$CACHE/download.$$
            rm -rf "$tmp" "$dir"
            mkdir -p "$tmp" "$dir"
            # apt's sandbox user cannot write to root's cache: download as root there
            # (set -e does not hold in here: the caller tests us)
            if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
               ! dpkg-deb -x "$tmp"/*.deb "$dir"; then
                echo "kernels: could not fetch $pkg" >&2
                rm -rf "$tmp" "$dir"
                return 1
            fi
            rm -rf "$tmp"
            touch "$dir/.unpacked"
            echo "kernels: $pkg downloaded and unpacked in $(( $(now) - t )) s" >&2
            # older kernels of the series go
            for old in "$CACHE/kernels/linux-image-$series"[.-]*amd64-unsigned; do
                [ "$old" = "$dir" ] || rm -rf "$old"
            done
        fi
    fi
    ls "$dir"/boot/vmlinuz-* | head -1
}

# ---------------------------------------------------------------------------
# The runs
status=0
results=""
rm -rf "${OUT:?}"/*

# Each guest: the matrix (one combined run: a run per letter costs ~10 s each
# under TCG), then the tests.  The guests run side by side: each is mostly one
# busy thread (the verifier, python).
run_guest() {
    label=$1 kimg=$2
    t=$(now)
    # --verbose: the guest has no udev, so virtme-ng-init finds no virtio ports for the
    # script's output and falls back to the console; the results come back as files.
    timeout -k 10 "$BOOT_TIMEOUT" vng -r "$kimg" --disable-kvm --force-9p --user root \
        --cpus 2 --memory 2G --rwdir "$OUT" --verbose \
        --exec "cd '$REPO' && GUEST_MATRIX_ARGS='$GUEST_MATRIX_ARGS' sh scripts/kernels.sh --guest '$OUT' '$label' --tests" \
        </dev/null >"$OUT/$label.console" 2>&1 || true
    echo "$(( $(now) - t ))" >"$OUT/$label.guest.seconds"
}

labels=""
for series in $KERNELS; do
    if kimg=$(kernel_for "$series"); then
        labels="$labels $series"
        log "$series: $(basename "$kimg") under TCG"
        if [ "$PARALLEL" = 1 ]; then
            run_guest "$series" "$kimg" &
        else
            run_guest "$series" "$kimg"
        fi
    else
        status=1
    fi
done

t=$(now)
log "host: Linux $(uname -r)"
GUEST_MATRIX_ARGS= sh scripts/kernels.sh --guest "$OUT" host
log "host: $(( $(now) - t )) s"
results="$OUT/host.json"
wait

for label in $labels; do
    results="$results $OUT/$label.json"
    log "$label: guest done in $(cat "$OUT/$label.guest.seconds") s (matrix $(cat "$OUT/$label.matrix.seconds" 2>/dev/null || echo ?) s, tests $(cat "$OUT/$label.pytest.seconds" 2>/dev/null || echo ?) s)"
    if [ ! -f "$OUT/$label.pytest.rc" ]; then
        log "$label: the guest did not finish (the limit is $BOOT_TIMEOUT s); the last lines of"
        for f in "$OUT/$label.pytest.txt" "$OUT/$label.matrix.txt" "$OUT/$label.console"; do
            [ -s "$f" ] && { echo "--- $f"; tail -8 "$f"; }
        done
        status=1
    elif [ "$(cat "$OUT/$label.pytest.rc")" != 0 ]; then
        log "$label: tests failed ($GUEST_TESTS -k '$GUEST_TESTS_K'):"
        tail -30 "$OUT/$label.pytest.txt"
        status=1
    else
        log "$label: tests: $(tail -1 "$OUT/$label.pytest.txt")"
    fi
done

for f in "$OUT"/*.matrix.txt; do
    echo
    cat "$f"
done
echo
# shellcheck disable=SC2086
.venv/bin/python scripts/kernel_matrix.py --table $results || status=1
log "$(( $(now) - begin )) s in all"
exit $status

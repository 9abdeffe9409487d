#!/bin/sh
# Prepare this checkout on Debian 12: system packages, a virtualenv in .venv,
# and ktrace installed into it (the BPF program is compiled by the install).
set -eu
cd "$(dirname "$0")/.."
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
PACKAGES="python3 python3-venv python3-dev gcc make clang llvm libbpf-dev bpftool strace libzstd1 zstd"
if ! dpkg -s $PACKAGES >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,analysis]'

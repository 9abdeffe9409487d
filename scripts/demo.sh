#!/bin/sh
# Set up, then trace a real command (a shell pipeline, children included) and dump it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
out=${TMPDIR:-/tmp}/ktrace-demo.out
.venv/bin/ktrace -i -f "$out" sh -c 'ls /etc | head -3'
echo "--- kdump (FreeBSD layout), first 40 lines:"
.venv/bin/kdump -f "$out" | head -40
echo "--- kdump --strace, first 20 lines:"
.venv/bin/kdump --strace -f "$out" | head -20

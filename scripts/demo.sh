#!/bin/sh
# Set up, then trace a real command (a shell pipeline, children included) and dump it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
out=${TMPDIR:-/tmp}/ktrace-demo.out
.venv/bin/ktrace -i -f "$out" sh -c 'ls /etc | head -3'
echo "--- kdump (FreeBSD's layout), from the shell's exec on:"
.venv/bin/kdump -f "$out" | sed -n '/RET   execve 0/,$p' | head -40
echo "--- kdump --strace (strace's layout), the last 25 lines:"
.venv/bin/kdump --strace -f "$out" | tail -25
echo "--- kdump --summary:"
.venv/bin/kdump --summary -f "$out" | head -12

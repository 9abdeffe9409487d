#!/bin/sh
# strace 6.1's own test suite with ktrace + kdump --strace in strace's place
# (tools/strace_suite.py --help).  CI: sh scripts/strace-suite.sh --quick
set -eu
cd "$(dirname "$0")/.."
exec .venv/bin/python tools/strace_suite.py "$@"

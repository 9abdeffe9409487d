#!/bin/sh
# Set up, then run the whole test suite (tests needing root or BPF skip with a
# reason, unless KTRACE_REQUIRE_BPF=1 makes them fail instead).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"

#!/bin/sh
# The demo, inside the test guest (see tools/demo.sh): the scenario itself
# is tools/demo/demo.py; its arguments pass through (--tty COLSxROWS for
# the full-screen display, --short for the test's short run).
set -eu
cd "$(dirname "$0")/.."
exec python3 tools/demo/demo.py "$@"

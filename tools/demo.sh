#!/bin/sh
# make demo: boots Debian's kernel in a VM and runs the demo there
# (tools/demo/demo.py): three gateways with klb.ko and klbd each (a Raft
# cluster), four backends, clients sending through all three; a backend
# dies and comes back, the leader is killed, a backend is drained. On a
# terminal the display is full-screen; otherwise it prints plain lines.
set -eu
cd "$(dirname "$0")/.."
set --
if [ -t 1 ]; then
	size=$(stty size 2>/dev/null || echo "24 80")
	set -- --tty "${size#* }x${size% *}"
fi
exec tools/vm/run --timeout 600 -- tools/demo-guest.sh "$@"

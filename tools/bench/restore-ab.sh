#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two klbctl builds, or two klb.ko builds, side by side, run as root
# inside the test guest:
#
#   tools/vm/run --timeout 1800 -- tools/bench/restore-ab.sh OLD NEW \
#       [SERVICES [BACKENDS [RUNS]]]
#
# OLD and NEW are klbctl binaries or klb.ko modules (e.g. one built from an
# earlier commit in another worktree); modules are swapped under this
# checkout's klbctl. Both restore the same input, what 'klbctl save'
# printed for SERVICES (default 1000) Maglev services of BACKENDS (default
# 100) backends each, tables included, alternating, RUNS times (default 3):
# first the whole restore into an empty configuration, then, with klb.ko
# unloaded, the parsing alone for klbctl builds (klbctl reads and checks
# all of its input before it asks the kernel anything, then fails for want
# of the module).
# The emulated guest's speed changes from boot to boot, so versions are
# compared within one boot, never across runs of restore.sh.
set -eu
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { echo "usage: $0 OLD NEW [SERVICES [BACKENDS [RUNS]]]" >&2; exit 2; }
old=$1
new=$2
services=${3:-1000}
backends=${4:-100}
runs=${5:-3}
# prep_X readies an empty configuration for X (swapping modules), run_X
# runs X's klbctl.
case $old in
*.ko)
	klbctl=build/userspace/klbctl/klbctl
	for k in "$old" "$new"; do
		[ -f "$k" ] || { echo "restore-ab: no module $k" >&2; exit 2; }
	done
	use() {
		if grep -q '^klb ' /proc/modules; then rmmod klb; fi
		tools/vm/load-klb.sh "$1"
	}
	prep_old() { use "$old" && "$klbctl" flush; }
	prep_new() { use "$new" && "$klbctl" flush; }
	run_old() { "$klbctl" "$@"; }
	run_new() { "$klbctl" "$@"; }
	;;
*)
	for k in "$old" "$new"; do
		[ -x "$k" ] || { echo "restore-ab: $k is not an executable" >&2; exit 2; }
	done
	klbctl=$new
	use() { tools/vm/load-klb.sh; }
	# Parsing alone runs with the module unloaded: nothing to flush.
	prep_old() { ! grep -q '^klb ' /proc/modules || "$klbctl" flush; }
	prep_new() { prep_old; }
	run_old() { "$old" "$@"; }
	run_new() { "$new" "$@"; }
	;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-restore-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT
use "$new" || exit 1
awk -v s="$services" -v b="$backends" 'BEGIN {
	for (i = 0; i < s; i++) {
		printf "service tcp 203.0.113.%d:%d table-size 16381\n", 1 + int(i / 250), 1000 + i
		for (j = 0; j < b; j++)
			printf "backend 198.51.100.%d:8080\n", 1 + j
	}
}' >"$work/in"
"$klbctl" flush
"$klbctl" restore <"$work/in"
"$klbctl" save >"$work/save"
"$klbctl" flush
# ms X: X's restore of the save, wall time in ms, whatever its exit status.
ms() {
	local t0
	"prep_$1" >/dev/null || exit 1
	t0=$(date +%s%N)
	"run_$1" restore <"$work/save" >/dev/null 2>&1 || true
	echo $((($(date +%s%N) - t0) / 1000000))
}
for r in $(seq 1 "$runs"); do
	a=$(ms old)
	"$klbctl" save | cmp -s - "$work/save" || { echo "restore-ab: OLD restored something else" >&2; exit 1; }
	b=$(ms new)
	"$klbctl" save | cmp -s - "$work/save" || { echo "restore-ab: NEW restored something else" >&2; exit 1; }
	echo "restore-ab: whole restore, run $r: old $a ms, new $b ms"
done
"$klbctl" flush
case $old in *.ko) exit 0 ;; esac
rmmod klb
for r in $(seq 1 "$runs"); do
	echo "restore-ab: parsing alone, run $r: old $(ms old) ms, new $(ms new) ms"
done

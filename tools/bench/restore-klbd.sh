#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Restore through klbd, run as root inside the test guest:
#
#   tools/vm/run --timeout 3000 -- tools/bench/restore-klbd.sh [SERVICES [BACKENDS]]
#
# Three gateways (selftests/klbd/lib.sh). The input is what 'klbctl save'
# printed for SERVICES (default 1000) services of BACKENDS (default 100)
# backends, table size 16381, tables and seeds included. Times a restore
# of it straight into gateway 1's empty kernel (no klbd: the direct
# figure), then 'klbctl restore' of it through a follower into the empty
# cluster (it returns once every service is committed and applied there),
# then until all three kernels hold every backend, then a second restore
# of the same input (nothing to send).
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
services=${1:-1000}
backends=${2:-100}

tools/vm/load-klb.sh || exit 1
setup 1 2 3 || { echo "restore-klbd: setup failed" >&2; exit 1; }
# Snapshots of the whole state every few entries would dominate the run.
sed -i 's/^snapshot-entries = .*/snapshot-entries = 100000/' "$T"/n[123].conf

awk -v s="$services" -v b="$backends" 'BEGIN {
	for (i = 0; i < s; i++) {
		printf "service tcp 203.0.113.%d:%d table-size 16381\n", 1 + int(i / 250), 1000 + i
		for (j = 0; j < b; j++)
			printf "backend 10.%d.%d.%d:8080\n", int(j / 250), 1 + j % 250, 1 + i % 250
	}
}' >"$T/in"
# Through gateway 1's kernel before any klbd runs: the save is the input.
# Restoring the save straight into the emptied kernel is the direct figure.
kern 1 restore <"$T/in" && kern 1 save >"$T/save" && kern 1 flush ||
	{ echo "restore-klbd: direct restore failed" >&2; exit 1; }
d0=$(date +%s%N)
kern 1 restore <"$T/save" || { echo "restore-klbd: direct restore failed" >&2; exit 1; }
d1=$(date +%s%N)
kern 1 flush || exit 1

for i in 1 2 3; do
	start "$i"
done
wait_for 60 has_leader 1 2 3 || { echo "restore-klbd: no leader" >&2; exit 1; }
L=$(leader_among 1 2 3)
F=$(((L % 3) + 1))
total=$((services * backends))
all_hold() {
	[ "$(backend_count 1)" = "$total" ] && [ "$(backend_count 2)" = "$total" ] &&
		[ "$(backend_count 3)" = "$total" ]
}

t0=$(date +%s%N)
ctl "$F" restore <"$T/save" || { echo "restore-klbd: restore failed" >&2; exit 1; }
t1=$(date +%s%N)
wait_for 600 all_hold || { echo "restore-klbd: kernels incomplete" >&2; exit 1; }
t2=$(date +%s%N)
a1=$(field "$F" applied)
ctl "$F" restore <"$T/save" || { echo "restore-klbd: second restore failed" >&2; exit 1; }
t3=$(date +%s%N)
a2=$(field "$F" applied)
# Each service byte for byte (the kernels list them in creation order).
blocks() {
	awk '/^service/ { if (b != "") print b; b = $0; next }
		/^#/ { next } { b = b "|" $0 } END { if (b != "") print b }' | sort
}
blocks <"$T/save" >"$T/want"
for i in 1 2 3; do
	kern "$i" save | blocks | cmp -s - "$T/want" ||
		{ echo "restore-klbd: kernel $i differs from the input" >&2; exit 1; }
done

echo "restore-klbd: $services services x $backends backends, table size 16381, 3 gateways"
printf 'restore-klbd: klbctl restore --direct, one kernel %8.3f s\n' \
	"$(echo "($d1 - $d0) / 1000000000" | bc -l)"
printf 'restore-klbd: klbctl restore through a follower  %8.3f s (applied %s)\n' \
	"$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$a1"
printf 'restore-klbd: until all three kernels hold it    %8.3f s\n' \
	"$(echo "($t2 - $t0) / 1000000000" | bc -l)"
printf 'restore-klbd: the same input again               %8.3f s (new entries: %d)\n' \
	"$(echo "($t3 - $t2) / 1000000000" | bc -l)" "$((a2 - a1))"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Restore benchmark, run as root inside the test guest:
#
#   tools/vm/run --timeout 1800 -- tools/bench/restore.sh [SERVICES [BACKENDS [RUNS]]]
#
# Restores SERVICES (default 1000) services with BACKENDS (default 100)
# backends each, Maglev table size 16381, with 'klbctl restore' (from the
# output of 'klbctl save', tables included) and the same services and real
# servers with 'ipvsadm -R' (scheduler mh, NAT), each from an empty
# configuration, RUNS times (default 3). Prints the median of each and
# their ratio.
set -eu
cd "$(dirname "$0")/../.."
K=${KLBCTL:-$PWD/build/userspace/klbctl/klbctl}
services=${1:-1000}
backends=${2:-100}
runs=${3:-3}
# In the guest /tmp is a tmpfs: inputs are read from memory, not over 9p.
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-restore.XXXXXX")
trap 'rm -rf "$work"; ipvsadm -C 2>/dev/null; "$K" flush 2>/dev/null' EXIT

tools/vm/load-klb.sh || exit 1
modprobe ip_vs
modprobe ip_vs_mh

# Service i: 203.0.113.(1 + i / 250), port 1000 + i; backend j of every
# service: 198.51.100.(1 + j):8080.
awk -v s="$services" -v b="$backends" 'BEGIN {
	for (i = 0; i < s; i++) {
		vip = sprintf("203.0.113.%d:%d", 1 + int(i / 250), 1000 + i)
		printf "service tcp %s table-size 16381\n", vip > "'"$work"'/klb.in"
		printf "-A -t %s -s mh\n", vip > "'"$work"'/ipvs.in"
		for (j = 0; j < b; j++) {
			rs = sprintf("198.51.100.%d:8080", 1 + j)
			printf "backend %s\n", rs > "'"$work"'/klb.in"
			printf "-a -t %s -r %s -m -w 1\n", vip, rs > "'"$work"'/ipvs.in"
		}
	}
}'
# The input an operator restores: what save prints, tables and seeds included.
"$K" flush
"$K" restore <"$work/klb.in"
"$K" save >"$work/klb.save"
"$K" flush

now_ns() {
	date +%s%N
}
median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

for _ in $(seq 1 "$runs"); do
	"$K" flush
	t0=$(now_ns)
	"$K" restore <"$work/klb.save"
	t1=$(now_ns)
	echo $(((t1 - t0) / 1000)) >>"$work/klb.us"
done
"$K" save | cmp -s - "$work/klb.save" || { echo "restore: saved config differs after restore" >&2; exit 1; }
"$K" flush

for _ in $(seq 1 "$runs"); do
	ipvsadm -C
	t0=$(now_ns)
	ipvsadm -R <"$work/ipvs.in"
	t1=$(now_ns)
	echo $(((t1 - t0) / 1000)) >>"$work/ipvs.us"
done
[ "$(ipvsadm -Ln | grep -c -- '->.*Masq')" -eq $((services * backends)) ] ||
	{ echo "restore: ipvsadm -R did not create every real server" >&2; exit 1; }
ipvsadm -C

klb_us=$(median <"$work/klb.us")
ipvs_us=$(median <"$work/ipvs.us")
echo "restore: $services services x $backends backends, table size 16381, median of $runs runs"
printf 'restore: klbctl restore  %8.3f s  (runs: %s)\n' "$(echo "$klb_us / 1000000" | bc -l)" \
	"$(tr '\n' ' ' <"$work/klb.us")"
printf 'restore: ipvsadm -R (mh) %8.3f s  (runs: %s)\n' "$(echo "$ipvs_us / 1000000" | bc -l)" \
	"$(tr '\n' ' ' <"$work/ipvs.us")"
printf 'restore: ipvsadm / klbctl = %.1fx\n' "$(echo "$ipvs_us / $klb_us" | bc -l)"

#!/bin/sh
# What klb-loadgen can drive against one klb-echo on loopback: TCP
# connections/s (short-lived) and UDP requests/s, the median of RUNS runs
# of SECONDS each. Both programs share the machine's cores, so this is the
# ceiling of the tools, not a figure for klb.
#
#   tools/loadgen/loadgen_bench.sh [RUNS [SECONDS [CONCURRENCY]]]
set -eu
cd "$(dirname "$0")/../.."
bin=${O:-build}/tools/loadgen
runs=${1:-5}
seconds=${2:-5}
concurrency=${3:-64}

tmp=$(mktemp -d)
echo_pid=
cleanup() {
	[ -n "$echo_pid" ] && kill "$echo_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/klb-echo" --id bench -t 127.0.0.1:0 -u 127.0.0.1:0 >"$tmp/echo" 2>&1 &
echo_pid=$!
end=$(($(date +%s) + 5))
while [ "$(grep -c '^listening' "$tmp/echo" 2>/dev/null || true)" -lt 2 ]; do
	[ "$(date +%s)" -lt "$end" ] || { cat "$tmp/echo"; exit 1; }
	sleep 0.02
done
tcp=$(awk '/^listening tcp/ { print $3 }' "$tmp/echo")
udp=$(awk '/^listening udp/ { print $3 }' "$tmp/echo")

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "klb-loadgen against klb-echo on loopback, $(nproc) cores, $(uname -r)"
for proto in tcp udp; do
	if [ $proto = tcp ]; then target=$tcp; flag=--tcp; else target=$udp; flag=--udp; fi
	cmd="klb-loadgen $flag -c $concurrency -d $seconds -j $target"
	: >"$tmp/rates"
	i=0
	while [ $i -lt "$runs" ]; do
		"$bin/klb-loadgen" $flag -c "$concurrency" -d "$seconds" -j "$target" >"$tmp/run.json" || true
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%.0f %d %s" % (d["rate"], d["errors"]["total"], d["latency_us"]["p99"]))' \
			"$tmp/run.json" >>"$tmp/rates"
		i=$((i + 1))
	done
	unit=$([ $proto = tcp ] && echo conn/s || echo req/s)
	echo "$proto: median $(cut -d' ' -f1 "$tmp/rates" | median) $unit" \
		"(runs: $(cut -d' ' -f1 "$tmp/rates" | tr '\n' ' ' | sed 's/ $//');" \
		"errors: $(awk '{ s += $2 } END { print s }' "$tmp/rates");" \
		"p99 us: $(cut -d' ' -f3 "$tmp/rates" | median))"
	echo "  $cmd"
done

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Probe throughput of one gateway's klbd, run as root inside the test
# guest (tools/bench/probes-vm.sh boots it; in 'make bench' through
# tools/bench/probes.mk; figures in Documentation/benchmarks.md): how many
# health probes per second klbd's one thread completes on its io_uring
# ring, and what they cost it.
#
# Topology: selftests/klbd/lib.sh's bridge with one gateway (gw1,
# 192.0.2.1, a one-member cluster) and one backend namespace (192.0.2.11)
# that holds 250 addresses, 198.51.100.1-250, on its loopback, where one
# klb-echo listens on every address (0.0.0.0:8080). Services
# 203.0.113.1..S:80 each have those 250 backends and 'check tcp
# check-port 8080 interval I timeout I', so klbd has 250 x S targets and
# is asked for 250 x S x 1000 / I probes a second.
#
# Each step raises the demand (PROBE_STEPS, "SERVICES:INTERVAL_MS" pairs),
# waits until every target has been probed once, then counts the probes
# started and completed over PROBE_WINDOW seconds (default 10) from klbd's
# counters (klbctl cluster status) and klbd's CPU time over the same
# window (/proc/PID/stat). Prints one line a step: demand, probes started
# a second (done/s), successes, timeouts, probes that waited for the
# in-flight limit, and klbd's CPU share (of one core).
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
ECHO=${KLB_ECHO:-$PWD/build/tools/loadgen/klb-echo}
# The demand rises through the interval, not the services: each service
# is 250 klbctl commands to set up, about a second each in a busy TCG
# guest, and eight of them did not fit the guest's 40 minutes.
STEPS=${PROBE_STEPS:-"2:1000 2:500 2:250 2:125 2:62"}
WINDOW=${PROBE_WINDOW:-10}
HZ=$(getconf CLK_TCK)

# klbd pushes its tables into klb.ko.
tools/vm/load-klb.sh || exit 1
setup 1 11 || { echo "probes: topology failed" >&2; exit 1; }
ip netns exec "$(ns 1)" sysctl -qw net.ipv4.ip_forward=1
ip -n "$(ns 1)" route add 198.51.100.0/24 via 192.0.2.11
for a in $(seq 1 250); do
	echo "addr add 198.51.100.$a/32 dev lo"
done | ip -n "$(ns 11)" -batch -
ip netns exec "$(ns 11)" "$ECHO" --id be -t 0.0.0.0:8080 >"$T/echo" 2>&1 &
PID[echo]=$!
wait_for 30 grep -q "^listening" "$T/echo" || { echo "probes: klb-echo" >&2; exit 1; }

one_gateway_conf
start 1
wait_for 60 has_leader 1 || { echo "probes: no leader" >&2; exit 1; }

cpu_ticks() {	# utime + stime of klbd
	awk '{ print $14 + $15 }' "/proc/${PID[1]}/stat"
}
services=0
printf '%-9s %-9s %9s %9s %9s %9s %9s %7s\n' services interval demand/s \
	done/s ok/s timeout/s waited/s cpu%
for step in $STEPS; do
	want=${step%:*}
	interval=${step#*:}
	while [ "$services" -lt "$want" ]; do
		services=$((services + 1))
		vip=203.0.113.$services:80
		ctl 1 service add tcp "$vip" >/dev/null
		for a in $(seq 1 250); do
			ctl 1 backend add tcp "$vip" "198.51.100.$a:80" >/dev/null
		done
	done
	for s in $(seq 1 "$services"); do
		ctl 1 service set tcp "203.0.113.$s:80" check tcp check-port 8080 \
			interval "$interval" timeout "$interval" >/dev/null
	done
	targets=$((services * 250))
	# Every target probed once, then the window.
	base=$(field 1 probes_started)
	wait_for 120 eval '[ $(( $(field 1 probes_started) - base )) -ge '"$targets"' ]'
	s0=$(field 1 probes_started) ok0=$(field 1 probes_succeeded)
	to0=$(field 1 probes_timed_out) ov0=$(field 1 probes_over_limit)
	c0=$(cpu_ticks) t0=$(date +%s%N)
	wait_for $((WINDOW + 30)) eval '[ $(( ($(date +%s%N) - t0) / 1000000000 )) -ge '"$WINDOW"' ]'
	s1=$(field 1 probes_started) ok1=$(field 1 probes_succeeded)
	to1=$(field 1 probes_timed_out) ov1=$(field 1 probes_over_limit)
	c1=$(cpu_ticks) t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	printf '%-9s %-9s %9d %9d %9d %9d %9d %6d%%\n' "$services" "${interval}ms" \
		$((targets * 1000 / interval)) $(((s1 - s0) * 1000 / ms)) \
		$(((ok1 - ok0) * 1000 / ms)) $(((to1 - to0) * 1000 / ms)) \
		$(((ov1 - ov0) * 1000 / ms)) $(((c1 - c0) * 100000 / HZ / ms))
done
exit 0
}

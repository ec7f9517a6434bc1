#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The leader's klbd dies on a host that stays up: its port refuses the
# followers' reconnection, and they elect a new leader without waiting for
# the election timeout. Three gateways (lib.sh) run with a long one,
# tick-ms 100 and election-ticks 200 (20-40 s), so a new leader within
# 15 s can only come from that path (which waits 1 .. election-ticks / 4
# ticks, here up to 5 s, and as long again after a split vote). Covers: a follower's restart and a
# leadership transfer make no one give up on a leader (leader_forgotten 0,
# term as expected); kill -9 of the leader, a new leader within 15 s, in
# the next term; the survivors log and count it (cluster status and
# /metrics), once; the killed one restarts, follows, and a change through
# it reaches every kernel.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
URL=http://127.0.0.1:9550

# mval N SERIES: a value of gateway N's /metrics ("" if none).
mval() {
	ip netns exec "$(ns "$1")" curl -s -m 30 "$URL/metrics" 2>/dev/null |
		awk -v k="$2" '$1 == k { print $2 }'
}
# follows N L: gateway N is a follower of L.
follows() { [ "$(field "$1" role)" = follower ] && [ "$(field "$1" leader)" = "$2" ]; }
# all_are NAME VALUE [GATEWAYS]: cluster status field NAME is VALUE on each.
all_are() {
	local i
	for i in ${3:-1 2 3}; do
		[ "$(field "$i" "$1")" = "$2" ] || return 1
	done
}
# restart_gw N: kill -9 of klbd N, started again with its configuration.
restart_gw() {
	kill -9 "${PID[$1]}"
	wait "${PID[$1]}" 2>/dev/null
	start "$1"
}
others() {	# others N: the two gateways that are not N
	local i
	for i in 1 2 3; do
		[ "$i" -ne "$1" ] && echo "$i"
	done
}
confs() {
	local i
	for i in 1 2 3; do
		write_conf "$T/n$i.conf" "$i" "$T/key"
		sed -i "/^\[peers\]/i metrics = 127.0.0.1:9550" "$T/n$i.conf"
	done
}

if ! setup 1 2 3; then
	not_ok "topology and configuration"
	exit 1
fi
# The first leader with the usual timing; every klbd started after this
# waits 20-40 s before it campaigns on its own.
confs
start_cluster
# wait_for stretches its deadlines by KLB_TEST_SLOW: the timeout too, so
# that 15 s stays below it (election-ticks is at most 1000).
ELECTION_TICKS=$((200 * SLOW))
if [ "$ELECTION_TICKS" -gt 1000 ]; then
	not_ok "KLB_TEST_SLOW=$SLOW: election-ticks $ELECTION_TICKS is above 1000"
	exit 1
fi
confs

# (a) The followers restart, one at a time, with the long timeout.
term=$(field "$L" term)
for f in $(others "$L"); do
	restart_gw "$f"
	check "follower $f restarted (election-ticks $ELECTION_TICKS) follows leader $L again" \
		wait_for 30 follows "$f" "$L"
done
if all_are leader_forgotten 0 && all_are term "$term" && all_are leader "$L"; then
	ok "a follower's restart: no one gave up on the leader, term $term unchanged"
else
	not_ok "a follower's restart: no one gave up on the leader, term $term unchanged" \
		"$(for i in 1 2 3; do echo "gw$i: term $(field "$i" term) leader $(field "$i" leader) forgotten $(field "$i" leader_forgotten)"; done)"
fi

# (b) A leadership transfer, then the old leader restarts with the long
# timeout too: the term moves by the transfer alone.
TO=$(others "$L" | head -n 1)
if ctl "$TO" cluster transfer-leader "$TO" && wait_for 30 all_are leader "$TO"; then
	ok "cluster transfer-leader from $L to $TO"
else
	not_ok "cluster transfer-leader from $L to $TO"
fi
restart_gw "$L"
check "the old leader $L restarted (election-ticks $ELECTION_TICKS) follows $TO" \
	wait_for 30 follows "$L" "$TO"
if all_are leader_forgotten 0 && all_are term $((term + 1)) && all_are leader "$TO"; then
	ok "a transfer and a restart: no one gave up on a leader, term $((term + 1))"
else
	not_ok "a transfer and a restart: no one gave up on a leader, term $((term + 1))" \
		"$(for i in 1 2 3; do echo "gw$i: term $(field "$i" term) leader $(field "$i" leader) forgotten $(field "$i" leader_forgotten)"; done)"
fi

# (c) kill -9 of the leader's klbd; its namespace (the host) stays up.
L=$(leader_among 1 2 3)
term=$(field "$L" term)
# shellcheck disable=SC2046
set -- $(others "$L")
kill -9 "${PID[$L]}"
wait "${PID[$L]}" 2>/dev/null
started=$(date +%s%N)
if wait_for 15 has_leader "$1" "$2"; then
	N=$(leader_among "$1" "$2")
	ok "a new leader (gateway $N) $((($(date +%s%N) - started) / 1000000)) ms after kill -9 of leader $L (election timeout $((ELECTION_TICKS / 10))-$((ELECTION_TICKS / 5)) s)"
else
	N=
	not_ok "a new leader within 15 s of kill -9 of leader $L (election timeout $((ELECTION_TICKS / 10))-$((ELECTION_TICKS / 5)) s)" \
		"$(for i in "$1" "$2"; do echo "gw$i: role $(field "$i" role) term $(field "$i" term) forgotten $(field "$i" leader_forgotten)"; done)"
fi
check "the new leader's term is the next one ($((term + 1)))" \
	wait_for 5 all_are term $((term + 1)) "$1 $2"
for i in "$1" "$2"; do
	if [ "$(field "$i" leader_forgotten)" = 1 ] &&
		[ "$(mval "$i" klb_raft_leader_forgotten_total)" = 1 ]; then
		ok "gateway $i counted giving up on leader $L once (cluster status, /metrics)"
	else
		not_ok "gateway $i counted giving up on leader $L once (cluster status, /metrics)" \
			"status $(field "$i" leader_forgotten), metrics $(mval "$i" klb_raft_leader_forgotten_total)"
	fi
	check "gateway $i logged it" grep -q \
		"leader $L unreachable: its daemon refuses connections; campaigning early" "$T/log$i"
done

# (d) The killed one comes back as a follower; a change through it commits.
start "$L"
if [ -n "$N" ] && wait_for 30 follows "$L" "$N"; then
	ok "the restarted gateway $L follows the new leader $N"
else
	not_ok "the restarted gateway $L follows the new leader $N"
fi
if ctl "$L" service add tcp "$VIP" && ctl "$L" backend add tcp "$VIP" 198.51.100.1:80; then
	ok "a change through the restarted gateway $L commits"
else
	not_ok "a change through the restarted gateway $L commits"
fi
all_have() {
	local i
	for i in 1 2 3; do
		kernel_has "$i" "backend 198.51.100.1:80" || return 1
	done
}
check "the change is in all three kernels" wait_for 30 all_have
if all_are term $((term + 1)) && [ "$(field "$1" leader_forgotten)" = 1 ] &&
	[ "$(field "$2" leader_forgotten)" = 1 ] && [ "$(field "$L" leader_forgotten)" = 0 ]; then
	ok "the restart changed no term and no one gave up on the new leader"
else
	not_ok "the restart changed no term and no one gave up on the new leader" \
		"$(for i in 1 2 3; do echo "gw$i: term $(field "$i" term) leader $(field "$i" leader) forgotten $(field "$i" leader_forgotten)"; done)"
fi

echo "1..$n"
[ "$failed" -eq 0 ]

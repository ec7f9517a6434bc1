#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Three gateways, each a network namespace with its own klb state and its
# own klbd, on one bridge (run as root in the test guest; the module is
# loaded by selftests/run-in-vm.sh):
#
#   gw1 192.0.2.1 ---+
#   gw2 192.0.2.2 ---+--- bridge (the guest's root namespace)
#   gw3 192.0.2.3 ---+      (gw4 192.0.2.4: impostors, for the refusals)
#
# Writes go through klbctl to a follower's klbd; reads come from each
# gateway's kernel. Covers: a change on a follower reaching all three
# kernels; byte-identical tables (klbctl save: settings, seed, backend ids
# and the table), and the same backend for a new flow on each (flow where);
# kill -9 of the leader, a new leader, the old one
# catching up; kill -9 of all three, state recovered from disk and the
# kernels never emptied meanwhile; a partition (the minority keeps its
# tables, healed it converges); klb reloaded under running klbds; a peer
# with the wrong key or an unknown id refused and counted; a bad
# configuration refused naming its line.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh

if ! setup; then
	not_ok "topology and configuration"
	exit 1
fi

start_cluster

# (a) A change through a follower reaches every kernel.
if ctl "$F" service add tcp "$VIP" &&
	ctl "$F" backend add tcp "$VIP" 198.51.100.1:80 &&
	ctl "$F" backend add tcp "$VIP" 198.51.100.2:80 weight 3 &&
	ctl "$F" backend add tcp "$VIP" 198.51.100.3:80; then
	ok "writes through a follower's klbd succeed"
else
	not_ok "writes through a follower's klbd succeed"
fi
all_have() {	# all_have PATTERN [GATEWAYS]
	local i
	for i in ${2:-1 2 3}; do
		kernel_has "$i" "$1" || return 1
	done
}
check "the change is in all three kernels" \
	wait_for 30 all_have "backend 198.51.100.3:80"
for i in 1 2 3; do
	svc=$(kern "$i" -j service show 2>/dev/null)
	if echo "$svc" | grep -q '"203.0.113.10:80"' &&
		echo "$svc" | grep -q '"backends": *3'; then
		ok "gateway $i's kernel shows the service with 3 backends (service show -j)"
	else
		not_ok "gateway $i's kernel shows the service with 3 backends (service show -j)" "$svc"
	fi
done
generation_is_index() {	# the kernel's generation is the Raft index klbd applied
	local i g
	for i in 1 2 3; do
		g=$(kern "$i" info 2>/dev/null | awk '$1 == "generation:" { print $2 }')
		[ -n "$g" ] && [ "$g" = "$(field "$i" reconciled)" ] || return 1
	done
}
check "each kernel's config generation is the Raft index its klbd applied" \
	wait_for 30 generation_is_index
if out=$(ctl "$F" service add tcp "$VIP" 2>&1); then
	not_ok "a command the state refuses comes back with its reason" "$out"
elif echo "$out" | grep -q "exists"; then
	ok "a command the state refuses comes back with its reason"
else
	not_ok "a command the state refuses comes back with its reason" "$out"
fi

# (b) Byte-identical tables: settings, seed, backend ids and table.
check "every gateway holds byte-identical configuration and tables" \
	wait_for 30 saves_equal
if grep -q '^table ' "$T/save1"; then
	ok "the saved configuration includes the Maglev table"
else
	not_ok "the saved configuration includes the Maglev table"
fi
same_backend_everywhere() {	# flow where: hash and table, per gateway
	local c w1 w i
	for c in 192.0.2.77:40001 192.0.2.78:40002 198.51.100.99:5555 \
		203.0.113.200:1234 192.0.2.79:65535; do
		w1=$(kern 1 flow where tcp "$VIP" "$c" 2>&1) || return 1
		for i in 2 3; do
			w=$(kern "$i" flow where tcp "$VIP" "$c" 2>&1) || return 1
			[ "$w" = "$w1" ] || return 1
		done
	done
}
check "a new flow from any client gets the same backend on every gateway" \
	same_backend_everywhere
ctl "$F" backend set tcp "$VIP" 198.51.100.2:80 state drain >/dev/null &&
	ctl "$F" backend del tcp "$VIP" 198.51.100.1:80 >/dev/null &&
	ctl "$L" backend add tcp "$VIP" 198.51.100.4:80 >/dev/null
check "after changes through leader and follower the tables still agree" \
	wait_for 30 eval 'all_have "backend 198.51.100.4:80" && saves_equal'

# (c) The leader dies; a new one takes over; the old one catches up.
kill -9 "${PID[$L]}"
wait "${PID[$L]}" 2>/dev/null
unset "PID[$L]"
rest=""
for i in 1 2 3; do
	[ "$i" -ne "$L" ] && rest="$rest $i"
done
started=$(date +%s%N)
# shellcheck disable=SC2086
if wait_for 30 has_leader $rest; then
	ok "a new leader after kill -9 of the leader ($((($(date +%s%N) - started) / 1000000)) ms)"
else
	not_ok "a new leader after kill -9 of the leader"
fi
# shellcheck disable=SC2086
L2=$(leader_among $rest)
F2=
for i in $rest; do
	[ "$i" != "$L2" ] && F2=$i
done
if ctl "$F2" backend add tcp "$VIP" 198.51.100.5:80; then
	ok "changes keep working with two of three"
else
	not_ok "changes keep working with two of three"
fi
check "the two live kernels have the change" \
	wait_for 30 all_have "backend 198.51.100.5:80" "$rest"
if ! kernel_has "$L" "backend 198.51.100.5:80" &&
	kernel_has "$L" "backend 198.51.100.4:80"; then
	ok "the dead leader's kernel kept its last tables"
else
	not_ok "the dead leader's kernel kept its last tables"
fi
start "$L"
check "the old leader restarts and catches up (kernel and tables)" \
	wait_for 60 saves_equal
check "the old leader is a follower of the new one" \
	wait_for 30 eval "[ \"\$(field $L leader)\" = $L2 ]"

# Enough changes for snapshots and a compacted log on every node.
for p in 10 11 12 13 14 15 16 17 18 19; do
	ctl "$F2" backend add tcp "$VIP" "198.51.100.$p:80" >/dev/null ||
		echo "# backend add 198.51.100.$p:80 failed"
done
check "ten more changes everywhere" \
	wait_for 60 eval 'all_have "backend 198.51.100.19:80" && saves_equal'
snaps=$(field 1 snapshots_taken)
if [ "${snaps:-0}" -ge 1 ]; then
	ok "snapshots taken and the log compacted ($snaps on gateway 1)"
else
	not_ok "snapshots taken and the log compacted" "snapshots_taken=$snaps"
fi

# (e) Everything dies at once; the disk has the state, the kernels keep theirs.
before=$(backend_count 1)
cp "$T/save1" "$T/before"
restart_all
emptied=0
never_emptied() {	# samples the kernels while the cluster comes back
	local i
	for i in 1 2 3; do
		[ "$(backend_count "$i")" -eq "$before" ] || emptied=1
	done
	has_leader 1 2 3
}
wait_for 60 never_emptied
if [ "$emptied" -eq 0 ]; then
	ok "the kernels keep their tables while the cluster restarts"
else
	not_ok "the kernels keep their tables while the cluster restarts"
fi
check "after restarting all three, a leader" has_leader 1 2 3
L3=$(leader_among 1 2 3)
check "state recovered from disk: the same configuration everywhere" \
	wait_for 30 eval "saves_equal && cmp -s $T/before $T/save1"
if ctl "$(((L3 % 3) + 1))" backend del tcp "$VIP" 198.51.100.10:80 &&
	wait_for 30 eval '! kernel_has 1 "backend 198.51.100.10:80" &&
		! kernel_has 2 "backend 198.51.100.10:80" &&
		! kernel_has 3 "backend 198.51.100.10:80" && saves_equal'; then
	ok "changes work after the restart"
else
	not_ok "changes work after the restart"
fi

# Leadership handed over on request, asked through a follower.
L4=$(leader_among 1 2 3)
TO=$(((L4 % 3) + 1))
VIA=$(((TO % 3) + 1))
if ctl "$VIA" cluster transfer-leader "$TO" &&
	[ "$(field "$TO" role)" = leader ]; then
	ok "cluster transfer-leader through a follower"
else
	not_ok "cluster transfer-leader through a follower"
fi
L3=$(leader_among 1 2 3)

# (d) A partition: gw$L3 alone. The majority goes on; the minority keeps its
# kernel's tables; healed, it converges.
M=""
for i in 1 2 3; do
	[ "$i" -ne "$L3" ] && M="$M $i"
done
ip link set "kbd$L3-$$" down
# shellcheck disable=SC2086
if wait_for 60 has_leader $M; then
	ok "the majority has a leader with gw$L3 cut off"
else
	not_ok "the majority has a leader with gw$L3 cut off"
fi
first=${M# }
first=${first%% *}
if ctl "$first" backend add tcp "$VIP" 198.51.100.30:80 >/dev/null; then
	ok "the majority commits without gw$L3"
else
	not_ok "the majority commits without gw$L3"
fi
check "the majority's kernels have the change" \
	wait_for 30 all_have "backend 198.51.100.30:80" "$M"
if ! kernel_has "$L3" "backend 198.51.100.30:80" &&
	kernel_has "$L3" "backend 198.51.100.19:80"; then
	ok "the cut-off gateway's kernel keeps its last tables"
else
	not_ok "the cut-off gateway's kernel keeps its last tables"
fi
ip link set "kbd$L3-$$" up
check "healed, the cut-off gateway converges" \
	wait_for 60 eval 'all_have "backend 198.51.100.30:80" && saves_equal'

# (g) klb reloaded under the running klbds: each puts its state back.
cp "$T/save1" "$T/before"
if rmmod klb && insmod "${KLB_MODULE:-kmod/klb.ko}"; then
	ok "rmmod and insmod klb under three klbds"
else
	not_ok "rmmod and insmod klb under three klbds"
fi
check "every klbd restored its kernel after the reload" \
	wait_for 60 eval "saves_equal && cmp -s $T/before $T/save1"
heard_reload() {
	local i
	for i in 1 2 3; do
		[ "$(field "$i" module_events)" -ge 2 ] 2>/dev/null || return 1
		grep -q "the klb module was loaded" "$T/log$i" || return 1
	done
}
check "each klbd heard the module go and come back (module_events, its log)" \
	wait_for 30 heard_reload

# A write behind the cluster's back, straight to one kernel: the kernel's
# change event makes that klbd put the agreed state back.
be=$(awk '$1 == "backend" { print $2; exit }' "$T/before")
if [ -n "$be" ] && kern 2 backend set tcp "$VIP" "$be" weight 9; then
	ok "a write to gw2's kernel behind klbd"
else
	not_ok "a write to gw2's kernel behind klbd" "backend '$be'"
fi
check "gw2's klbd undid it" \
	wait_for 30 eval "saves_equal && cmp -s $T/before $T/save1"
# shellcheck disable=SC2016
check "and said so (its log; kernel_events counted)" \
	eval 'grep -q "changed behind klbd" "$T/log2" && [ "$(field 2 kernel_events)" -ge 1 ]'

# SIGHUP: a bad file changes nothing; a good one changes what it can
# now (the key for new handshakes) and says what waits for a restart.
cp "$T/n3.conf" "$T/n3.good"
sed -i 's/^election-ticks = 10/election-ticks = ten/' "$T/n3.conf"
kill -HUP "${PID[3]}"
# shellcheck disable=SC2016
check "a reload of a bad file is refused, naming the line, and counted" \
	wait_for 30 eval '[ "$(field 3 reload_failures)" = 1 ] &&
		grep -q "reload: $T/n3.conf:[0-9]*: election-ticks.*nothing changed" "$T/log3"'
cp "$T/n3.good" "$T/n3.conf"
sed -i 's/^tick-ms = 100/tick-ms = 50/' "$T/n3.conf"
# A new key on every gateway, each told with SIGHUP.
head -c 48 /dev/urandom | base64 >"$T/key.new" && chmod 600 "$T/key.new" &&
	mv "$T/key.new" "$T/key"
for i in 1 2 3; do
	kill -HUP "${PID[$i]}"
done
reloaded() {
	local i
	for i in 1 2 3; do
		[ "$(field "$i" reloads)" -ge 1 ] 2>/dev/null || return 1
		grep -q "reloaded $T/n$i.conf: changed key-file" "$T/log$i" || return 1
	done
	grep -q "reload: \[raft\] timing changed in $T/n3.conf: takes effect at the next start" \
		"$T/log3"
}
check "SIGHUP reloads the key everywhere; gw3 says its tick waits for a restart" \
	wait_for 30 reloaded
# gw2 starts again, with the new key only: the others' new handshakes
# must use it too.
kill -9 "${PID[2]}"
wait "${PID[2]}" 2>/dev/null
auth_before=$(( $(field 1 auth_failures) + $(field 3 auth_failures) ))
start 2
check "gw2, restarted with the new key, is back in the cluster" \
	wait_for 60 eval 'ctl 2 backend set tcp "$VIP" "$be" weight 3 &&
		all_have "backend $be id [0-9]* weight 3"'
# shellcheck disable=SC2016
check "and nobody refused it" \
	eval '[ $(( $(field 1 auth_failures) + $(field 3 auth_failures) )) = "$auth_before" ]'

# (h) Impostors: the wrong key, an unknown id. Both from gw4.
write_conf "$T/n4.conf" 3 "$T/badkey" 192.0.2.4:7400
sed -i "s|$T/d3|$T/d4|; s|$T/c3.sock|$T/c4.sock|" "$T/n4.conf"
ip netns exec "$(ns 4)" "$KLBD" -c "$T/n4.conf" 2>>"$T/log4" &
PID[4]=$!
# shellcheck disable=SC2016
check "a klbd with another key is refused (and counts it)" \
	wait_for 30 eval '[ "$(field 4 auth_failures)" -ge 1 ] 2>/dev/null'
if grep -q "failed to authenticate" "$T/log4"; then
	ok "the refusal says why in the log"
else
	not_ok "the refusal says why in the log"
fi
write_conf "$T/n5.conf" 9 "$T/key" 192.0.2.4:7401
sed -i "s|^3 = 192.0.2.3:7400|3 = 192.0.2.3:7400\n9 = 192.0.2.4:7401|" "$T/n5.conf"
ip netns exec "$(ns 4)" "$KLBD" -c "$T/n5.conf" 2>>"$T/log9" &
PID[5]=$!
unknown() {
	local i
	for i in 1 2 3; do
		[ "$(field "$i" peers_unknown)" -ge 1 ] 2>/dev/null && return 0
	done
	return 1
}
check "a node with an id not among the peers is refused and counted" \
	wait_for 30 unknown
# shellcheck disable=SC2016
check "the impostors changed nothing" \
	eval 'saves_equal && [ "$(field 4 services)" = 0 ] && [ "$(field 9 services)" = 0 ]'

# Bad configuration: named by file and line; nothing starts.
cp "$T/n1.conf" "$T/bad.conf"
sed -i 's/^election-ticks = 10/election-ticks = ten/' "$T/bad.conf"
out=$("$KLBD" --check-config -c "$T/bad.conf" 2>&1)
rc=$?
line=$(grep -n "election-ticks" "$T/bad.conf" | cut -d: -f1)
if [ "$rc" -ne 0 ] && echo "$out" | grep -q "^klbd: $T/bad.conf:$line: election-ticks"; then
	ok "--check-config refuses a bad value naming file and line"
else
	not_ok "--check-config refuses a bad value naming file and line" "rc=$rc" "$out"
fi
printf '[node]\nid = 1\nbogus\n' >"$T/bad2.conf"
out=$(ip netns exec "$(ns 4)" "$KLBD" -c "$T/bad2.conf" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && echo "$out" | grep -q "bad2.conf:3: syntax error"; then
	ok "klbd does not start on a syntax error, naming the line"
else
	not_ok "klbd does not start on a syntax error, naming the line" "rc=$rc" "$out"
fi
if "$KLBD" --check-config -c "$T/n1.conf" >/dev/null; then
	ok "--check-config accepts a good configuration"
else
	not_ok "--check-config accepts a good configuration"
fi

echo "1..$n"
[ "$failed" -eq 0 ]

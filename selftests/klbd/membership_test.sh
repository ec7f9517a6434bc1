#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Membership changes on a running cluster (run as root in the test guest;
# the module is loaded by selftests/run-in-vm.sh):
#
#   gw1 192.0.2.1 ---+
#   gw2 192.0.2.2 ---+--- bridge (the guest's root namespace)
#   gw3 192.0.2.3 ---+
#   gw4 192.0.2.4 ---+   (starts with join = yes, empty)
#
# Three gateways, then a fourth added with klbctl cluster add-member
# through a follower: it catches up (the leader's snapshot), its kernel
# gets the services, and a change made through it lands on all four.
# Then gw2 is removed (a follower; it stops and refuses to start again),
# then the leader (it hands off first), then one more, down to one voter;
# the cluster keeps committing throughout. Refusals (a duplicate add, a
# malformed address, an unknown id, the last voter) exit non-zero with
# their reason and change nothing; a node that never catches up fails its
# add after the limit and is removed as a learner.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh

if ! setup 1 2 3 4; then
	not_ok "topology and configuration"
	exit 1
fi
write_conf "$T/n4.conf" 4 "$T/key"
sed -i -e 's/^id = 4$/id = 4\njoin = yes/' \
	-e 's/^3 = 192.0.2.3:7400$/3 = 192.0.2.3:7400\n4 = 192.0.2.4:7400/' "$T/n4.conf"

start_cluster

# A service, and enough commands that the leader's log was compacted
# (snapshot-entries = 8): the new node catches up from a snapshot.
ok=1
ctl "$F" service add tcp "$VIP" || ok=0
for b in 1 2 3 4 5 6 7 8 9; do
	ctl "$F" backend add tcp "$VIP" "198.51.100.$b:80" || ok=0
done
check "a service and nine backends through a follower" [ "$ok" = 1 ]

# ids_roles N: the members gateway N's klbd lists, "ID ROLE" a line.
ids_roles() { ctl "$1" -j cluster members 2>/dev/null |
	python3 -c 'import json,sys
for m in json.load(sys.stdin): print(m["id"], m["role"])'; }

start 4
joined_empty() {
	grep -q "waiting for the leader to add node 4" "$T/log4" &&
		[ "$(field 4 members)" = 0 ] && [ "$(field 4 leader)" = 0 ]
}
check "gw4 (join = yes) starts empty and bootstraps no cluster of its own" \
	wait_for 20 joined_empty
check "gw4's kernel has no service yet" eval '! kernel_has 4 "198.51.100"'

started=$(date +%s%N)
if out=$(ctl "$F" cluster add-member 4 192.0.2.4:7400 2>&1); then
	ok "cluster add-member 4 through follower $F ($((($(date +%s%N) - started) / 1000000)) ms)"
else
	not_ok "cluster add-member 4 through follower $F" "$out"
fi
L=$(leader_among 1 2 3 4)
members=$(ctl "$L" cluster members 2>&1)
if echo "$members" | grep -q '^4 .*192.0.2.4:7400 .*voter' &&
	[ "$(echo "$members" | grep -c voter)" = 4 ] &&
	echo "$members" | awk -v l="$L" '$1 == l && $4 == "yes" { f = 1 } END { exit !f }'; then
	ok "cluster members on the leader: four voters, 4 at its address, the leader marked"
else
	not_ok "cluster members on the leader: four voters, 4 at its address, the leader marked" \
		"$members"
fi
match4=$(ctl "$L" -j cluster members 2>/dev/null |
	python3 -c 'import json,sys
print([m.get("match", 0) for m in json.load(sys.stdin) if m["id"] == 4][0])')
check "the leader reports node 4's match index ($match4)" [ "${match4:-0}" -gt 9 ]
check "gw4 caught up from the leader's snapshot" \
	eval '[ "$(field 4 snapshots_installed)" -ge 1 ]'
check "gw4's kernel gets the service and its nine backends" \
	wait_for 30 eval '[ "$(backend_count 4)" = 9 ]'

# A change through gw4 lands on all four kernels, byte for byte.
check "a write through gw4's klbd succeeds" \
	ctl 4 backend add tcp "$VIP" 198.51.100.20:80
all_have() {	# all_have PATTERN GATEWAYS...
	local p=$1 i
	shift
	for i in "$@"; do
		kernel_has "$i" "$p" || return 1
	done
}
check "the change made through gw4 is in all four kernels" \
	wait_for 30 all_have "backend 198.51.100.20:80" 1 2 3 4
same4() { kern 1 save >"$T/s1" 2>&1 && kern 4 save >"$T/s4" 2>&1 && cmp -s "$T/s1" "$T/s4"; }
check "gw4's kernel holds gw1's tables byte for byte (klbctl save)" wait_for 30 same4

# Refusals: a reason, a non-zero exit, nothing changed.
before=$(ids_roles "$L")
refused() {	# refused NAME PATTERN KLBCTL-ARGS...
	local name=$1 pat=$2 out rc
	shift 2
	out=$(ctl "$F" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && echo "$out" | grep -q -- "$pat"; then
		ok "$name (exit $rc)"
	else
		not_ok "$name" "rc=$rc" "$out"
	fi
}
refused "a duplicate add is refused" "member already" cluster add-member 4 192.0.2.4:7400
refused "a malformed address is refused" "is not IPV4:PORT" cluster add-member 5 192.0.2.5
refused "a host name is refused" "is not IPV4:PORT" cluster add-member 5 gw5.example:7400
refused "an address taken by another member is refused" "is node 3's" \
	cluster add-member 5 192.0.2.3:7400
refused "removing an unknown id is refused" "node 9 is not a member" cluster remove-member 9
refused "id 0 is a usage error" "needs a node id" cluster remove-member 0
check "the refusals changed no membership" eval '[ "$(ids_roles "$L")" = "$before" ]'

# A node that never answers: the add fails once the catch-up time is up
# (60 s), counted; it stays a learner, which counts for no quorum, and
# remove-member takes it out.
started=$(date +%s)
out=$(ctl "$F" cluster add-member 5 192.0.2.5:7400 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && echo "$out" | grep -q "did not catch up in 60 s"; then
	ok "adding a node that never answers fails after the catch-up limit ($(($(date +%s) - started)) s, exit $rc)"
else
	not_ok "adding a node that never answers fails after the catch-up limit" "rc=$rc" "$out"
fi
L=$(leader_among 1 2 3 4)
check "the catch-up timeout is counted on the leader" \
	[ "$(field "$L" member_catchup_timeouts)" = 1 ]
check "node 5 stays a learner" eval 'ids_roles "$L" | grep -qx "5 learner"'
check "the four voters commit with the learner behind" \
	ctl "$F" backend add tcp "$VIP" 198.51.100.19:80
check "remove-member 5 takes the learner out" ctl "$F" cluster remove-member 5
check "the membership is back to the four voters" \
	eval '[ "$(ids_roles "$L")" = "$before" ]'

# Remove gw2, a follower (it hands leadership over first if it leads).
if [ "$L" = 2 ]; then
	ctl 2 cluster transfer-leader 1 >/dev/null 2>&1
	L=$(leader_among 1 3 4)
fi
check "cluster remove-member 2" ctl 3 cluster remove-member 2
gone() { ! kill -0 "${PID[$1]}" 2>/dev/null; }
check "gw2 stops by itself" wait_for 30 gone 2
if grep -q "was removed from the cluster" "$T/log2"; then
	ok "gw2's log says it was removed"
else
	not_ok "gw2's log says it was removed" "$(tail -n 5 "$T/log2")"
fi
wait "${PID[2]}" 2>/dev/null
unset "PID[2]"
out=$(ip netns exec "$(ns 2)" "$KLBD" -c "$T/n2.conf" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && echo "$out" | grep -q "was removed from the cluster"; then
	ok "gw2 refuses to start again as a member"
else
	not_ok "gw2 refuses to start again as a member" "rc=$rc" "$out"
fi
check "three voters are left, 2 not among them" \
	eval '[ "$(ids_roles 3 | sort | tr "\n" " ")" = "1 voter 3 voter 4 voter " ]'
check "the three commit a change" ctl 4 backend add tcp "$VIP" 198.51.100.21:80
check "... and it is in their kernels" \
	wait_for 30 all_have "backend 198.51.100.21:80" 1 3 4

# Remove the leader: it hands leadership to another voter, which removes it.
L=$(leader_among 1 3 4)
O=$(for i in 1 3 4; do [ "$i" != "$L" ] && echo "$i"; done | head -n 1)
started=$(date +%s%N)
if out=$(ctl "$O" cluster remove-member "$L" 2>&1); then
	ok "cluster remove-member $L, the leader, through $O ($((($(date +%s%N) - started) / 1000000)) ms)"
else
	not_ok "cluster remove-member $L, the leader, through $O" "$out"
fi
check "the old leader stops by itself" wait_for 30 gone "$L"
check "its log says it handed off, then was removed" \
	eval 'grep -q "handing leadership to node" "$T/log$L" && grep -q "was removed from the cluster" "$T/log$L"'
unset "PID[$L]"
REST=$(for i in 1 3 4; do [ "$i" != "$L" ] && echo "$i"; done | tr '\n' ' ')
# shellcheck disable=SC2086
check "the other two elect a leader" wait_for 30 has_leader $REST
check "the two commit a change" ctl "$O" backend add tcp "$VIP" 198.51.100.22:80
# shellcheck disable=SC2086
check "... and it is in their kernels" \
	wait_for 30 all_have "backend 198.51.100.22:80" $REST

# Down to one voter; that one cannot be removed.
L=$(leader_among $REST)
O=$(for i in $REST; do [ "$i" != "$L" ] && echo "$i"; done)
check "cluster remove-member $O leaves one voter" ctl "$L" cluster remove-member "$O"
check "node $O stops by itself" wait_for 30 gone "$O"
F=$L
refused "removing the last voter is refused" "the last voter" cluster remove-member "$L"
check "the last voter still leads and commits" \
	ctl "$L" backend add tcp "$VIP" 198.51.100.23:80
check "... into its kernel" wait_for 30 kernel_has "$L" "backend 198.51.100.23:80"
# shellcheck disable=SC2016
check "the removed gateways' kernels kept their tables" \
	eval '[ "$(backend_count 2)" -ge 11 ] && [ "$(backend_count "$O")" -ge 13 ]'

echo "1..$n"
[ "$failed" -eq 0 ]

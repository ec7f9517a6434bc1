#!/bin/sh
# Changes under traffic: long-lived connections keep their backend while
# the backend set changes; drain; down (re-steer and drop); the flow
# table's limit; a stateful firewall with conntrack on the gateway.
# Prints TAP.
# The braces make the shell read the whole script before running any of it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/lib.sh
datapath_start

# Stickiness: long-lived connections stay on their backend while another
# backend is added, backends are reweighted and the table is replaced.
reset_services
klbctl service add tcp "$(vip 4)" sched maglev
klbctl backend add tcp "$(vip 4)" "$(backend 1 4)"
klbctl backend add tcp "$(vip 4)" "$(backend 2 4)"
hold "$TMPDIR_T/hold" -l 40 -i 200ms -d 8s -t 5s "$(vip 4)"
klbctl backend add tcp "$(vip 4)" "$(backend 3 4)"
klbctl backend set tcp "$(vip 4)" "$(backend 1 4)" weight 3
klbctl backend set tcp "$(vip 4)" "$(backend 2 4)" weight 2
klbctl backend set tcp "$(vip 4)" "$(backend 3 4)" weight 4
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "long-lived: 40 connections kept their backend through adds and reweights (lost $(field "s['connections']['lost']"))" \
	[ "$(field "s['connections']['lost']")" = 0 ] 
check "long-lived: no request failed" [ "$(field "s['errors']['total']")" = 0 ]

# Drain: no new flows for b1, its established connections go on.
reset_services
service tcp 4 sched maglev
hold "$TMPDIR_T/hold" -l 30 -i 200ms -d 6s -t 5s "$(vip 4)"
klbctl backend set tcp "$(vip 4)" "$(backend 1 4)" state drain
load --tcp -n 300 -c 8 -t 5s "$(vip 4)"
check "drain: new flows all answered" all_answered 300
check "drain: b1 gets no new flow ($(share b1))" [ "$(share b1)" = 0 ]
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "drain: established connections on b1 go on (lost $(field "s['connections']['lost']"))" \
	[ "$(field "s['connections']['lost']")" = 0 ]

# Down, re-steer: UDP flows of a down backend move on without a loss.
reset_services
service udp 4 sched maglev
hold "$TMPDIR_T/hold" --udp -l 30 -i 200ms -d 6s -t 3s "$(vip 4)"
klbctl backend set udp "$(vip 4)" "$(backend 1 4)" state down
klbctl backend del udp "$(vip 4)" "$(backend 2 4)"
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "down and removed: UDP flows re-steered, at most one timeout per flow ($(field "s['errors']['total']"))" \
	within "$(field "s['errors']['total']")" 0 30
load --udp -n 200 -c 8 -t 3s "$(vip 4)"
check "down and removed: new UDP flows all reach b3 ($(share b3))" \
	[ "$(share b3)" = 1.0 ]

# Down, drop policy: a down backend's flows are dropped.
reset_services
service udp 4 sched maglev down-policy drop
klbctl backend set udp "$(vip 4)" "$(backend 1 4)" state down
load --udp -n 200 -c 8 -t 3s "$(vip 4)"
check "down-policy drop: new flows avoid the down backend" all_answered 200

# Down, drop policy, TCP: the down backend's clients are reset at once
# (by the gateway, from the VIP), not left to time out; the others go on.
for fwd in nat tunnel; do
	if [ "$fwd" = nat ]; then fam=4; else fam=6; fi
	reset_services
	service tcp "$fam" sched maglev fwd "$fwd" down-policy drop
	hold "$TMPDIR_T/hold" -l 30 -i 200ms -d 6s -t 3s "$(vip "$fam")"
	klbctl backend set tcp "$(vip "$fam")" "$(backend 1 "$fam")" state down
	wait "$hold"
	out=$(tail -n 1 "$TMPDIR_T/hold")
	check "down-policy drop, $fwd TCP IPv$fam: b1's connections reset ($(field "s['errors']['reset']")), none timed out" \
		sh -c "[ $(field "s['errors']['reset']") -gt 0 ] && [ $(field "s['errors']['timeout']") = 0 ]"
done

# The flow table's limit. Tunnel flows past it still go, without an
# entry; NAT flows cannot (their replies need one) and are refused, while
# the connections that have an entry go on.
reset_services
echo 20 >/sys/module/klb/parameters/max_flows
service tcp 4 sched rr fwd tunnel
load --tcp -n 200 -c 8 -t 5s "$(vip 4)"
check "flow table full: 200 tunnel flows answered past a limit of 20" all_answered 200
reset_services
service tcp 4 sched maglev
hold "$TMPDIR_T/hold" -l 20 -i 200ms -d 4s -t 5s "$(vip 4)"
load --tcp -n 20 -c 4 -t 500ms "$(vip 4)"
check "flow table full: new NAT flows refused ($(field "s['errors']['total']") of 20)" \
	[ "$(field "s['errors']['total']")" = 20 ]
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "flow table full: the 20 NAT connections with entries go on (lost $(field "s['connections']['lost']"))" \
	[ "$(field "s['connections']['lost']")" = 0 ]
klbctl -j info >"$TMPDIR_T/info"
klbctl -j stats >"$TMPDIR_T/stats"
check "flow table full: refusals counted (flow_limit_hits, drop_table_full)" python3 -c "
import json, sys
i = json.load(open('$TMPDIR_T/info'))
rows = json.load(open('$TMPDIR_T/stats'))
drops = sum(r['drop_table_full'] for r in rows if r['backend'] == '-')
print('# flow_limit_hits', i['flow_limit_hits'], 'drop_table_full', drops)
sys.exit(not (i['flow_limit_hits'] >= 20 and drops >= 20))"
echo 1000000 >/sys/module/klb/parameters/max_flows

# A stateful firewall with conntrack on the gateway: klb's flows pass.
reset_services
gwx nft -f - <<EOF
table inet filter {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ct state new iifname "gw-cli" accept
	}
}
EOF
for fam in 4 6; do
	reset_services
	service tcp "$fam" sched maglev
	load --tcp -n 200 -c 8 -t 5s "$(vip "$fam")"
	check "conntrack + stateful firewall: NAT TCP IPv$fam answered" all_answered 200
done
gwx nft flush ruleset

datapath_done
}

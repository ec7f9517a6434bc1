#!/bin/sh
# The packet path, end to end, in the test guest with klb.ko loaded: real
# TCP and UDP through a gateway to three backends (topology.sh), IPv4 and
# IPv6, NAT and tunnel; distribution, weights, every scheduler; the flow
# table as klbctl shows it; counters equal to the traffic.
# Prints TAP.
# The braces make the shell read the whole script before running any of it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/lib.sh
datapath_start

# Delivery: every method, family and protocol reaches all three backends.
for fwd in nat tunnel; do
	for fam in 4 6; do
		for proto in tcp udp; do
			name="$fwd $proto IPv$fam: 120 flows answered by b1, b2 and b3"
			reset_services
			service "$proto" "$fam" fwd "$fwd" || { not_ok "$name"; continue; }
			load "--$proto" -n 120 -c 8 -t 5s "$(vip "$fam")"
			if all_answered 120 && [ "$(share b1)" != 0 ] &&
			   [ "$(share b2)" != 0 ] && [ "$(share b3)" != 0 ]; then
				ok "$name"
			else
				echo "# $out"
				not_ok "$name"
			fi
		done
	done
done

# Distribution: three equal backends share 3000 flows evenly. Closed
# connections' flows live timeout_closing: long enough here for the checks
# of the flow table below, however slow the guest.
closing=$(cat /sys/module/klb/parameters/timeout_closing)
echo 900 >/sys/module/klb/parameters/timeout_closing
reset_services
service tcp 4 sched maglev
load --tcp -n 3000 -c 16 -t 5s "$(vip 4)"
check "maglev: 3000 flows, all answered" all_answered 3000
for b in b1 b2 b3; do
	check "maglev: $b serves 33% +- 5% ($(share $b))" within "$(share $b)" 0.283 0.383
done

# The flow table as klbctl shows it: one flow per connection, on the
# backend that served it, where "flow where" says it goes; then flushed.
# A client port may come again in a later connection (the client kept no
# TIME_WAIT for it), whose flow is then the earlier one's: a few fewer
# flows than connections. A connection's last packets may still be on
# their way when the load ends (seconds, under a debug kernel): the flows
# have 30 s to settle.
flows_settled() {
	klbctl -j flow show tcp "$(vip 4)" >"$TMPDIR_T/flows" &&
	python3 -c "
import collections, json, sys
flows = json.load(open('$TMPDIR_T/flows'))
states = collections.Counter(f['state'] for f in flows)
print('%d flows: %s' % (len(flows), dict(states)))
ok = 2970 <= len(flows) <= 3000 and set(states) <= {'closing', 'closed'}
sys.exit(0 if ok else 1)" >"$TMPDIR_T/states"
}
deadline=$(($(date +%s) + 30))
settled=1
until flows_settled; do
	[ "$(date +%s)" -lt "$deadline" ] || { settled=0; break; }
	sleep 1
done
if [ "$settled" = 1 ]; then
	ok "flow show: the 3000 connections' flows, closing or closed ($(cat "$TMPDIR_T/states"))"
else
	not_ok "flow show: the 3000 connections' flows, closing or closed" "$(cat "$TMPDIR_T/states")"
fi
where_ok=0
for f in $(python3 -c "
import json
for f in json.load(open('$TMPDIR_T/flows'))[:20]:
    print(f['client'] + '=' + f['backend'])"); do
	client=${f%%=*}
	got=$(klbctl -j flow where tcp "$(vip 4)" "$client" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["backend"])')
	[ "$got" = "${f#*=}" ] && where_ok=$((where_ok + 1))
done
check "flow where: names the backend 20 real connections reached ($where_ok)" [ "$where_ok" = 20 ]
klbctl flow flush tcp "$(vip 4)"
klbctl -j flow show tcp "$(vip 4)" >"$TMPDIR_T/flows"
check "flow flush: the service has no flow left" python3 -c "
import json, sys
sys.exit(len(json.load(open('$TMPDIR_T/flows'))) != 0)"
echo "$closing" >/sys/module/klb/parameters/timeout_closing

# Counters equal the traffic: UDP, one datagram each way per request. A
# new socket per request may get a port an earlier one had: its datagram
# is then a packet of that earlier flow, so flows are at most requests.
# The service comes from a restore, whose one request adds all three
# backends with their counters cut from one per-CPU block: each must
# count its own traffic.
reset_services
printf 'service udp %s sched maglev\nbackend %s\nbackend %s\nbackend %s\n' \
	"$(vip 4)" "$(backend 1 4)" "$(backend 2 4)" "$(backend 3 4)" | klbctl restore
load --udp -n 400 -c 8 -t 5s "$(vip 4)"
klbctl -j stats udp "$(vip 4)" >"$TMPDIR_T/stats"
printf '%s' "$out" >"$TMPDIR_T/load"
check "stats: packets in and out, new flows, per backend, equal the traffic" python3 -c "
import json, sys
rows = json.load(open('$TMPDIR_T/stats'))
load = json.load(open('$TMPDIR_T/load'))
svc = rows[0]
bes = {r['backend']: r for r in rows[1:]}
ids = {'b%d' % i: '198.51.100.%d:80' % (4 * i + 2) for i in (1, 2, 3)}
ok = load['successes'] == 400 and svc['pkts_in'] == 400 and svc['pkts_out'] == 400
ok = ok and 380 <= svc['flows_new'] <= 400 and svc['bytes_in'] > 400 * 28
ok = ok and svc['flows_active'] == svc['flows_new']
ok = ok and sum(r['flows_new'] for r in bes.values()) == svc['flows_new']
for name, b in load['backends'].items():
    r = bes[ids[name]]
    ok = ok and r['pkts_in'] == b['replies'] and r['pkts_out'] == b['replies']
    ok = ok and r['flows_new'] <= b['replies'] and r['flows_active'] == r['flows_new']
print('#', svc, load['backends'])
sys.exit(not ok)"

# Weights: wrr honours 1:2:3, maglev too (the table is built by weight).
for sched in wrr maglev; do
	reset_services
	service tcp 4 sched "$sched"
	for i in 1 2 3; do
		klbctl backend set tcp "$(vip 4)" "$(backend "$i" 4)" weight "$i"
	done
	load --tcp -n 1200 -c 16 -t 5s "$(vip 4)"
	check "$sched weights 1:2:3: all answered" all_answered 1200
	i=1
	for want in 0.1667 0.3333 0.5; do
		check "$sched weight $i: share $(share b$i) near $want" \
			within "$(share b$i)" "$want - 0.05" "$want + 0.05"
		i=$((i + 1))
	done
done

# rr, wlc and maglev-bounded spread flows over every backend.
for sched in rr wlc maglev-bounded; do
	reset_services
	service tcp 4 sched "$sched"
	load --tcp -n 300 -c 16 -t 5s "$(vip 4)"
	check "$sched: 300 flows answered" all_answered 300
	for b in b1 b2 b3; do
		check "$sched: $b serves 33% +- 10% ($(share $b))" within "$(share $b)" 0.233 0.433
	done
done

datapath_done
}

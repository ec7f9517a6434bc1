#!/bin/sh
# The packet path, end to end, in the test guest with klb.ko loaded: real
# TCP and UDP through a gateway to three backends (topology.sh), IPv4 and
# IPv6, NAT and tunnel, every scheduler; distribution, weights, stickiness
# of established connections while the backend set changes, drain and
# down, the flow table's limit, a stateful firewall with conntrack.
# Prints TAP.
# The braces make the shell read the whole script before running any of it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/topology.sh

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n $1"
}
not_ok() {
	n=$((n + 1))
	echo "not ok $n $1"
	failed=1
}
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

TMPDIR_T=$(mktemp -d)
trap 'topology_down; rm -rf "$TMPDIR_T"' EXIT
if ! topology_up || ! topology_tunnel_backends || ! backends_serve; then
	not_ok "topology and backends come up"
	echo "1..$n"
	exit 1
fi

# vip PROTO FAMILY: the service address as klbctl and klb-loadgen write it.
vip() {
	if [ "$1" = 6 ]; then echo "[$VIP6]:80"; else echo "$VIP4:80"; fi
}
backend() {
	if [ "$2" = 6 ]; then echo "[$(be6 "$1")]:80"; else echo "$(be4 "$1"):80"; fi
}

# service PROTO FAMILY ARGS...: a service with backends b1..b3.
service() {
	proto=$1
	fam=$2
	shift 2
	klbctl service add "$proto" "$(vip "$fam")" "$@" &&
	for i in 1 2 3; do
		klbctl backend add "$proto" "$(vip "$fam")" "$(backend "$i" "$fam")" ||
			return 1
	done
}

# hold FILE ARGS...: long-lived klb-loadgen flows in the background ($hold
# its pid), returning once the first progress line says they are open.
hold() {
	file=$1
	shift
	cli "$LOADGEN" -j -p 1s "$@" >"$file" 2>&1 &
	hold=$!
	deadline=$(($(date +%s) + 20))
	until grep -q progress "$file"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# load ARGS...: klb-loadgen from the client, its JSON summary in $out.
out=
load() {
	out=$(cli "$LOADGEN" -j "$@" 2>&1 | tail -n 1)
}

# field EXPR: a value of the last summary, by a Python expression on s.
field() {
	printf '%s' "$out" | python3 -c "import json, sys; s = json.load(sys.stdin); print($1)"
}

# share B: backend B's share of the replies in the last summary.
share() {
	field "s['backends'].get('$1', {}).get('share', 0)"
}

# within X LOW HIGH
within() {
	python3 -c "import sys; sys.exit(not ($2 <= $1 <= $3))"
}

all_answered() {
	[ "$(field "s['errors']['total']")" = 0 ] &&
		[ "$(field "s['successes']")" = "$1" ]
}

reset_services() {
	klbctl flush
}

# Delivery: every method, family and protocol reaches all three backends.
for fwd in nat tunnel; do
	for fam in 4 6; do
		for proto in tcp udp; do
			name="$fwd $proto IPv$fam: 300 flows answered by b1, b2 and b3"
			reset_services
			service "$proto" "$fam" fwd "$fwd" || { not_ok "$name"; continue; }
			load "--$proto" -n 300 -c 8 -t 2s "$(vip "$fam")"
			if all_answered 300 && [ "$(share b1)" != 0 ] &&
			   [ "$(share b2)" != 0 ] && [ "$(share b3)" != 0 ]; then
				ok "$name"
			else
				echo "# $out"
				not_ok "$name"
			fi
		done
	done
done

# Distribution: three equal backends share 3000 flows evenly.
reset_services
service tcp 4 sched maglev
load --tcp -n 3000 -c 16 -t 2s "$(vip 4)"
check "maglev: 3000 flows, all answered" all_answered 3000
for b in b1 b2 b3; do
	check "maglev: $b serves 33% +- 5% ($(share $b))" within "$(share $b)" 0.283 0.383
done

# The flow table as klbctl shows it: one flow per connection, on the
# backend that served it, where "flow where" says it goes; then flushed.
klbctl -j flow show tcp "$(vip 4)" >"$TMPDIR_T/flows"
check "flow show: the 3000 connections' flows" python3 -c "
import json, sys
flows = json.load(open('$TMPDIR_T/flows'))
sys.exit(len(flows) != 3000 or any(f['state'] not in ('closing', 'closed') for f in flows))"
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
check "flow flush: the service has no flow left" \
	[ "$(klbctl -j flow show tcp "$(vip 4)")" = "[]" ]

# Counters equal the traffic: UDP, one datagram each way per request.
reset_services
service udp 4 sched maglev
load --udp -n 400 -c 8 -t 2s "$(vip 4)"
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
ok = ok and svc['flows_new'] == 400 and svc['bytes_in'] > 400 * 28
for name, b in load['backends'].items():
    r = bes[ids[name]]
    ok = ok and r['pkts_in'] == b['replies'] and r['pkts_out'] == b['replies']
    ok = ok and r['flows_new'] == b['replies'] and r['flows_active'] == b['replies']
print('#', svc, load['backends'])
sys.exit(not ok)"

# Weights: wrr honours 1:2:3, maglev too (the table is built by weight).
for sched in wrr maglev; do
	reset_services
	service tcp 4 sched "$sched"
	for i in 1 2 3; do
		klbctl backend set tcp "$(vip 4)" "$(backend "$i" 4)" weight "$i"
	done
	load --tcp -n 1200 -c 16 -t 2s "$(vip 4)"
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
	load --tcp -n 600 -c 16 -t 2s "$(vip 4)"
	check "$sched: 600 flows answered" all_answered 600
	for b in b1 b2 b3; do
		check "$sched: $b serves 33% +- 10% ($(share $b))" within "$(share $b)" 0.233 0.433
	done
done

# Stickiness: long-lived connections stay on their backend while another
# backend is added, backends are reweighted and the table is replaced.
reset_services
klbctl service add tcp "$(vip 4)" sched maglev
klbctl backend add tcp "$(vip 4)" "$(backend 1 4)"
klbctl backend add tcp "$(vip 4)" "$(backend 2 4)"
hold "$TMPDIR_T/hold" -l 40 -i 200ms -d 8s -t 2s "$(vip 4)"
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
hold "$TMPDIR_T/hold" -l 30 -i 200ms -d 6s -t 2s "$(vip 4)"
klbctl backend set tcp "$(vip 4)" "$(backend 1 4)" state drain
load --tcp -n 300 -c 8 -t 2s "$(vip 4)"
check "drain: new flows all answered" all_answered 300
check "drain: b1 gets no new flow ($(share b1))" [ "$(share b1)" = 0 ]
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "drain: established connections on b1 go on (lost $(field "s['connections']['lost']"))" \
	[ "$(field "s['connections']['lost']")" = 0 ]

# Down, re-steer: UDP flows of a down backend move on without a loss.
reset_services
service udp 4 sched maglev
hold "$TMPDIR_T/hold" --udp -l 30 -i 200ms -d 6s -t 1s "$(vip 4)"
klbctl backend set udp "$(vip 4)" "$(backend 1 4)" state down
klbctl backend del udp "$(vip 4)" "$(backend 2 4)"
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "down and removed: UDP flows re-steered, at most one timeout per flow ($(field "s['errors']['total']"))" \
	within "$(field "s['errors']['total']")" 0 30
load --udp -n 200 -c 8 -t 1s "$(vip 4)"
check "down and removed: new UDP flows all reach b3 ($(share b3))" \
	[ "$(share b3)" = 1.0 ]

# Down, drop policy: a down backend's flows are dropped.
reset_services
service udp 4 sched maglev down-policy drop
klbctl backend set udp "$(vip 4)" "$(backend 1 4)" state down
load --udp -n 200 -c 8 -t 1s "$(vip 4)"
check "down-policy drop: new flows avoid the down backend" all_answered 200

# The flow table's limit. Tunnel flows past it still go, without an
# entry; NAT flows cannot (their replies need one) and are refused, while
# the connections that have an entry go on.
reset_services
echo 20 >/sys/module/klb/parameters/max_flows
service tcp 4 sched rr fwd tunnel
load --tcp -n 200 -c 8 -t 2s "$(vip 4)"
check "flow table full: 200 tunnel flows answered past a limit of 20" all_answered 200
reset_services
service tcp 4 sched maglev
hold "$TMPDIR_T/hold" -l 20 -i 200ms -d 4s -t 2s "$(vip 4)"
load --tcp -n 20 -c 4 -t 500ms "$(vip 4)"
check "flow table full: new NAT flows refused ($(field "s['errors']['total']") of 20)" \
	[ "$(field "s['errors']['total']")" = 20 ]
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "flow table full: the 20 NAT connections with entries go on (lost $(field "s['connections']['lost']"))" \
	[ "$(field "s['connections']['lost']")" = 0 ]
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
	load --tcp -n 200 -c 8 -t 2s "$(vip "$fam")"
	check "conntrack + stateful firewall: NAT TCP IPv$fam answered" all_answered 200
done
gwx nft flush ruleset

# backend_ns ADDR: the namespace of the backend with that address.
backend_ns() {
	for i in 1 2 3; do
		case $1 in
		"$(be4 "$i")" | "$(be6 "$i")") eval echo "\$NS_B$i" ;;
		esac
	done
}

# ICMP errors about a flow reach its backend: a router's "fragmentation
# needed" / "packet too big" about a reply to the client makes the
# backend that served the flow lower its path MTU to that client.
for fwd in nat tunnel; do
	for fam in 4 6; do
		name="$fwd IPv$fam: an ICMP error about a flow reaches its backend"
		reset_services
		service udp "$fam" fwd "$fwd"
		load --udp -n 20 -c 4 -t 2s "$(vip "$fam")"
		flow=$(klbctl -j flow show udp "$(vip "$fam")" | python3 -c '
import json, sys
f = json.load(sys.stdin)[0]
c, b = f["client"], f["backend"]
print(c.rsplit(":", 1)[0].strip("[]"), c.rsplit(":", 1)[1], b.rsplit(":", 1)[0].strip("[]"))')
		set -- $flow
		if [ $# -ne 3 ]; then
			not_ok "$name"
			continue
		fi
		client=$1 cport=$2 bns=$(backend_ns "$3")
		if [ "$fam" = 4 ]; then mtu=1300; v=$VIP4; else mtu=1280; v=$VIP6; fi
		ip netns exec "$bns" ip route flush cache 2>/dev/null
		cli python3 selftests/datapath/icmp_error.py "$v" 80 "$client" "$cport" "$mtu"
		deadline=$(($(date +%s) + 10))
		until ip netns exec "$bns" ip route get "$client" | grep -q "mtu $mtu"; do
			[ "$(date +%s)" -lt "$deadline" ] || break
			sleep 0.1
		done
		check "$name" sh -c "ip netns exec '$bns' ip route get '$client' | grep -q 'mtu $mtu'"
	done
done

# Tunnel: a packet too big for the path once encapsulated gets the client
# an ICMP error with the room left, and the client's path MTU drops.
reset_services
service udp 4 fwd tunnel
service udp 6 fwd tunnel
for i in 1 2 3; do gwx ip link set "gw-b$i" mtu 1400; done
for fam in 4 6; do
	if [ "$fam" = 4 ]; then want=1380; v=$VIP4; else want=1360; v=$VIP6; fi
	cli ip route flush cache 2>/dev/null
	cli python3 -c "
import socket, sys
v = sys.argv[1]
fam = socket.AF_INET6 if ':' in v else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if fam == socket.AF_INET:
    s.setsockopt(socket.IPPROTO_IP, 10, 2)   # IP_MTU_DISCOVER, IP_PMTUDISC_DO
else:
    s.setsockopt(socket.IPPROTO_IPV6, 62, 1)  # IPV6_DONTFRAG
s.sendto(b'x' * 1400, (v, 80))" "$v"
	deadline=$(($(date +%s) + 10))
	until cli ip route get "$v" | grep -q "mtu $want"; do
		[ "$(date +%s)" -lt "$deadline" ] || break
		sleep 0.1
	done
	check "tunnel IPv$fam: too big once encapsulated, the client learns MTU $want" \
		sh -c "ip netns exec '$NS_CLI' ip route get '$v' | grep -q 'mtu $want'"
done
klbctl -j stats >"$TMPDIR_T/stats"
check "tunnel: the drops are counted (drop_mtu)" python3 -c "
import json, sys
rows = json.load(open('$TMPDIR_T/stats'))
sys.exit(sum(r['drop_mtu'] for r in rows if r['backend'] == '-') < 2)"
for i in 1 2 3; do gwx ip link set "gw-b$i" mtu 1500; done

# Fragments are reassembled, steered whole, and fragmented again.
for fam in 4 6; do
	reset_services
	service udp "$fam" fwd nat
	if [ "$fam" = 4 ]; then v=$VIP4; else v=$VIP6; fi
	check "nat IPv$fam: a 3000-byte datagram, fragmented, is answered" cli python3 -c "
import socket, sys
v = sys.argv[1]
fam = socket.AF_INET6 if ':' in v else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(5)
if fam == socket.AF_INET:
    s.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER, IP_PMTUDISC_DONT
s.sendto(b'x' * 2999 + b'\n', (v, 80))
sys.exit(s.recv(100).strip() not in (b'b1', b'b2', b'b3'))" "$v"
done

# rmmod under traffic, then the module again: it comes back empty and works.
reset_services
service tcp 4 fwd nat
hold "$TMPDIR_T/hold" -l 20 -i 100ms -d 3s -t 1s "$(vip 4)"
check "rmmod klb under traffic" rmmod klb
wait "$hold"
# Few buckets, so that a full table has half-open flows in every bucket.
check "insmod klb again" insmod "${KLB_MODULE:-kmod/klb.ko}" flow_buckets=64
service tcp 4 fwd nat
load --tcp -n 100 -c 8 -t 2s "$(vip 4)"
check "after the reload: 100 flows answered" all_answered 100

# A SYN flood from spoofed sources fills the flow table: established
# connections go on, and real clients still get in (half-open flows make
# room for them).
reset_services
service tcp 4 fwd nat
echo 300 >/sys/module/klb/parameters/max_flows
hold "$TMPDIR_T/hold" -l 20 -i 200ms -d 8s -t 2s "$(vip 4)"
cli python3 selftests/datapath/syn_flood.py "$VIP4" 80 3000 192.0.2. 100 250
load --tcp -n 50 -c 4 -t 2s "$(vip 4)"
check "SYN flood: 50 new connections answered" all_answered 50
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "SYN flood: established connections go on (lost $(field "s['connections']['lost']"))" \
	[ "$(field "s['connections']['lost']")" = 0 ]
klbctl -j info >"$TMPDIR_T/info"
check "SYN flood: the table stayed within its limit, refusals and evictions counted" python3 -c "
import json, sys
i = json.load(open('$TMPDIR_T/info'))
print('#', i)
sys.exit(not (i['flows'] <= 300 and i['flow_limit_hits'] > 0 and i['flow_evictions'] > 0))"
echo 1000000 >/sys/module/klb/parameters/max_flows

# Deleting the gateway's netns under traffic.
hold "$TMPDIR_T/hold" -l 20 -i 100ms -d 3s -t 1s "$(vip 4)"
check "netns deletion under traffic" ip netns del "$NS_GW"
wait "$hold"

echo "1..$n"
exit $failed
}

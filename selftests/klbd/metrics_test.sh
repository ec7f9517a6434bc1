#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# klbd's Prometheus endpoint (metrics = 127.0.0.1:9550 in each gateway's
# namespace): three gateways with klbd (selftests/klbd/lib.sh), two
# klb-echo backends on the bridge, and a client behind gateway 1 that
# sends real TCP and UDP traffic through klb there:
#
#   client 198.51.100.2/30 --- 198.51.100.1/30 gw1 --- bridge --- gw2, gw3
#                                                          +---- 192.0.2.11, .12
#
# Covers: the page passes `promtool check metrics`; the Raft values are
# `klbctl cluster status`'s; the kernel's generation is the applied
# index and ages; counters equal the traffic sent (N TCP connections,
# N flows; N UDP requests, N packets each way); a dead backend's health
# on every gateway; a leadership transfer counted; the proposal and
# reconcile histograms; 404, 405, 400 and 431 answers; the client limit
# and the timeout with their counters. Run as root in the test guest.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
ECHO=${KLB_ECHO:-$PWD/build/tools/loadgen/klb-echo}
LOADGEN=${KLB_LOADGEN:-$PWD/build/tools/loadgen/klb-loadgen}
PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
URL=http://127.0.0.1:9550
CLI=klbdcli$$
SVC_TCP="tcp:$VIP"
SVC_UDP="udp:$VIP"
BE1=192.0.2.11:8080
BE2=192.0.2.12:8080

# scrape N FILE [PATH]: gateway N's page into FILE (the body only);
# fails unless the answer is 200.
scrape() {
	local code
	code=$(ip netns exec "$(ns "$1")" curl -s -m 30 -o "$2" -w '%{http_code}' \
		"$URL${3:-/metrics}") && [ "$code" = 200 ]
}
# value FILE SERIES: a sample's value ("" when the page lacks it).
value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# mval N SERIES: a value from gateway N's page now.
mval() {
	scrape "$1" "$T/m$1.tmp" && value "$T/m$1.tmp" "$2"
}
be_start() {	# be_start I: klb-echo for backend I (11, 12), TCP and UDP
	: >"$T/echo$1"
	ip netns exec "$(ns "$1")" "$ECHO" --id "be$1" -t "192.0.2.$1:8080" \
		-u "192.0.2.$1:8080" >"$T/echo$1" 2>&1 &
	PID[be$1]=$!
	wait_for 30 grep -q "^listening" "$T/echo$1"
}
cli() { ip netns exec "$CLI" "$@"; }
cleanup_cli() { ip netns del "$CLI" 2>/dev/null; cleanup; }
trap cleanup_cli EXIT

if ! setup 1 2 3 11 12 ||
	! ip netns add "$CLI" ||
	! ip link add cli0 netns "$CLI" type veth peer name cli0 netns "$(ns 1)"; then
	not_ok "topology and configuration"
	exit 1
fi
ip -n "$CLI" link set lo up
ip -n "$CLI" addr add 198.51.100.2/30 dev cli0
ip -n "$CLI" link set cli0 up
ip -n "$CLI" route add default via 198.51.100.1
ip -n "$(ns 1)" addr add 198.51.100.1/30 dev cli0
ip -n "$(ns 1)" link set cli0 up
ip netns exec "$(ns 1)" sysctl -qw net.ipv4.ip_forward=1
for i in 11 12; do
	# Replies go back through gateway 1, where klb translates them.
	ip -n "$(ns "$i")" route add 198.51.100.0/30 via 192.0.2.1
	be_start "$i" || not_ok "klb-echo $i starts"
done
for i in 1 2 3; do
	sed -i "/^\[peers\]/i metrics = 127.0.0.1:9550" "$T/n$i.conf"
done
start_cluster

# The answer itself: status line, type, and what promtool says.
hdr=$(ip netns exec "$(ns 1)" curl -s -m 30 -D - -o "$T/page" "$URL/metrics" | tr -d '\r')
if echo "$hdr" | head -n 1 | grep -q '^HTTP/1.0 200 ' &&
	echo "$hdr" | grep -qx 'Content-Type: text/plain; version=0.0.4'; then
	ok "GET /metrics: 200, text/plain; version=0.0.4"
else
	not_ok "GET /metrics: 200, text/plain; version=0.0.4" "$hdr"
fi

# Raft: what cluster status says, once nothing moves between the two reads.
raft_matches() {
	local i=$1 role term applied
	role=$(field "$i" role)
	term=$(field "$i" term)
	applied=$(field "$i" applied)
	scrape "$i" "$T/raft$i" &&
		[ "$(value "$T/raft$i" "klb_raft_role{role=\"$role\"}")" = 1 ] &&
		[ "$(grep -c '^klb_raft_role{.*} 1$' "$T/raft$i")" = 1 ] &&
		[ "$(value "$T/raft$i" klb_raft_term)" = "$term" ] &&
		[ "$(value "$T/raft$i" klb_raft_applied_index)" = "$applied" ] &&
		[ -n "$term" ] && [ "$(field "$i" role)" = "$role" ] &&
		[ "$(field "$i" applied)" = "$applied" ]
}
for i in 1 2 3; do
	if wait_for 60 raft_matches "$i"; then
		ok "gateway $i: role, term and applied index are cluster status's"
	else
		not_ok "gateway $i: role, term and applied index are cluster status's" \
			"$(ctl "$i" cluster status 2>&1 | head -n 6)" \
			"$(grep '^klb_raft_\(role\|term\|applied_index\)' "$T/raft$i")"
	fi
done

# The cluster's configuration, through a follower.
ok_cmds=0
for cmd in "service add tcp $VIP check tcp interval 200 timeout 200 rise 2 fall 2" \
	"service add udp $VIP" "backend add tcp $VIP $BE1" "backend add tcp $VIP $BE2" \
	"backend add udp $VIP $BE1" "backend add udp $VIP $BE2"; do
	# shellcheck disable=SC2086
	ctl "$F" $cmd >/dev/null && ok_cmds=$((ok_cmds + 1))
done
check "two services and their backends, through a follower" [ "$ok_cmds" = 6 ]

healthy_everywhere() {
	local i be
	for i in 1 2 3; do
		scrape "$i" "$T/h$i" || return 1
		for be in $BE1 $BE2; do
			[ "$(value "$T/h$i" "klb_backend_healthy{service=\"$SVC_TCP\",backend=\"$be\",view=\"local\"}")" = 1 ] &&
				[ "$(value "$T/h$i" "klb_backend_healthy{service=\"$SVC_TCP\",backend=\"$be\",view=\"cluster\"}")" = 1 ] &&
				[ "$(value "$T/h$i" "klb_backend_state{service=\"$SVC_TCP\",backend=\"$be\",state=\"up\"}")" = 1 ] &&
				[ "$(value "$T/h$i" "klb_kernel_up")" = 1 ] || return 1
		done
	done
}
if wait_for 60 healthy_everywhere; then
	ok "both backends healthy and up, locally and for the cluster, on every gateway"
else
	not_ok "both backends healthy and up, locally and for the cluster, on every gateway" \
		"$(grep '^klb_backend_\(healthy\|state\)' "$T/h1")"
fi

for i in 1 2 3; do
	scrape "$i" "$T/full$i"
	if out=$("$PROMTOOL" check metrics <"$T/full$i" 2>&1) && [ -z "$out" ]; then
		ok "gateway $i: promtool check metrics finds nothing to say"
	else
		not_ok "gateway $i: promtool check metrics finds nothing to say" "$out"
	fi
done

# The kernel holds the applied index, and its age grows while nothing changes.
gen_is_applied() {
	scrape 2 "$T/g" &&
		[ "$(value "$T/g" klb_kernel_generation)" = "$(value "$T/g" klb_raft_applied_index)" ] &&
		[ "$(field 2 reconciled)" = "$(value "$T/g" klb_kernel_generation)" ]
}
check "gateway 2: the kernel's generation is the applied (and reconciled) index" \
	wait_for 60 gen_is_applied
age1=$(value "$T/g" klb_kernel_generation_age_seconds)
gen1=$(value "$T/g" klb_kernel_generation)
sleep 1.5	# the age must grow by the time that passes
scrape 2 "$T/g2"
age2=$(value "$T/g2" klb_kernel_generation_age_seconds)
if [ "$(value "$T/g2" klb_kernel_generation)" = "$gen1" ] &&
	awk -v a="$age1" -v b="$age2" 'BEGIN { exit !(b - a >= 1.4 && b - a < 120) }'; then
	ok "the generation's age grows with time ($age1 s, then $age2 s)"
else
	not_ok "the generation's age grows with time ($age1 s, then $age2 s)"
fi

# Traffic: N TCP connections, one at a time (ports in sequence: no
# flow reused), and N UDP requests, one datagram each way.
N=20
scrape 1 "$T/before"
tcp_ok=0
cli "$LOADGEN" -j --tcp -c 1 -n "$N" -t 2s "$VIP" >"$T/load-tcp" 2>&1 && tcp_ok=1
udp_ok=0
cli "$LOADGEN" -j --udp -c 1 -n "$N" -t 2s "$VIP" >"$T/load-udp" 2>&1 && udp_ok=1
check "$N TCP and $N UDP requests through gateway 1, all answered" \
	[ "$tcp_ok$udp_ok" = 11 ]
scrape 1 "$T/after"
# delta SERIES: how much it grew on gateway 1's page.
delta() {
	local a b
	a=$(value "$T/before" "$1")
	b=$(value "$T/after" "$1")
	echo $((${b:-0} - ${a:-0}))
}
d=$(delta "klb_service_flows_created_total{service=\"$SVC_TCP\"}")
check "$N TCP connections: klb_service_flows_created_total grew by $N ($d)" [ "$d" = "$N" ]
sum=0
for be in $BE1 $BE2; do
	sum=$((sum + $(delta "klb_backend_flows_created_total{service=\"$SVC_TCP\",backend=\"$be\"}")))
done
check "... and its backends' flows by $N together ($sum)" [ "$sum" = "$N" ]
din=$(delta "klb_service_packets_total{service=\"$SVC_UDP\",direction=\"in\"}")
dout=$(delta "klb_service_packets_total{service=\"$SVC_UDP\",direction=\"out\"}")
check "$N UDP requests: $N packets in ($din) and $N out ($dout)" \
	[ "$din:$dout" = "$N:$N" ]
dbytes=$(delta "klb_service_bytes_total{service=\"$SVC_UDP\",direction=\"in\"}")
check "... and at least 28 bytes each ($dbytes bytes in)" [ "$dbytes" -ge $((N * 28)) ]
# Every counter of the page is the kernel's own (klbctl stats).
kern 1 -j stats >"$T/kstats"
scrape 1 "$T/now"
if python3 - "$T/kstats" "$T/now" <<-'EOF'
	import json, sys
	rows = json.load(open(sys.argv[1]))
	page = {}
	for line in open(sys.argv[2]):
	    if not line.startswith('#'):
	        k, v = line.rsplit(' ', 1)
	        page[k] = v.strip()
	names = {'pkts_in': ('packets_total', ',direction="in"'),
	         'pkts_out': ('packets_total', ',direction="out"'),
	         'bytes_in': ('bytes_total', ',direction="in"'),
	         'bytes_out': ('bytes_total', ',direction="out"'),
	         'flows_new': ('flows_created_total', ''),
	         'drop_no_backend': ('drops_total', ',reason="no_backend"'),
	         'drop_down': ('drops_total', ',reason="down"')}
	bad = 0
	for r in rows:
	    proto, rest = r['service'].split(' ', 1)
	    labels = 'service="%s:%s"' % (proto, rest)
	    kind = 'service'
	    if r['backend'] != '-':
	        labels += ',backend="%s"' % r['backend']
	        kind = 'backend'
	    for attr, (name, extra) in names.items():
	        key = 'klb_%s_%s{%s%s}' % (kind, name, labels, extra)
	        if page.get(key) != str(r[attr]):
	            print('# %s: page %s, kernel %s' % (key, page.get(key), r[attr]))
	            bad += 1
	print('# %d rows compared' % len(rows))
	sys.exit(bad != 0 or len(rows) != 6)
	EOF
then
	ok "every service's and backend's counters are klbctl stats'"
else
	not_ok "every service's and backend's counters are klbctl stats'"
fi

# Health probes: counted by result, each one timed.
probes_timed() {
	scrape 1 "$T/p" || return 1
	awk '
		/^klb_probes_total\{/ { n += $2 }
		$1 == "klb_probe_duration_seconds_count" { c = $2 }
		$1 == "klb_probe_duration_seconds_bucket{le=\"+Inf\"}" { inf = $2 }
		/^klb_probes_total\{result="success"\}/ { ok = $2 }
		END { exit !(ok > 0 && n == c && inf == c) }' "$T/p"
}
check "probes: klb_probes_total by result, as many in the latency histogram" \
	probes_timed

# A dead backend: failing here and for the cluster, on every gateway.
kill -9 "${PID[be12]}" 2>/dev/null
wait "${PID[be12]}" 2>/dev/null
unset "PID[be12]"
be2_down_everywhere() {
	local i
	for i in 1 2 3; do
		scrape "$i" "$T/dead$i" || return 1
		[ "$(value "$T/dead$i" "klb_backend_healthy{service=\"$SVC_TCP\",backend=\"$BE2\",view=\"local\"}")" = 0 ] &&
			[ "$(value "$T/dead$i" "klb_backend_healthy{service=\"$SVC_TCP\",backend=\"$BE2\",view=\"cluster\"}")" = 0 ] &&
			[ "$(value "$T/dead$i" "klb_backend_failing_gateways{service=\"$SVC_TCP\",backend=\"$BE2\"}")" = 3 ] &&
			[ "$(value "$T/dead$i" "klb_backend_state{service=\"$SVC_TCP\",backend=\"$BE2\",state=\"down\"}")" = 1 ] &&
			[ "$(value "$T/dead$i" "klb_backend_healthy{service=\"$SVC_TCP\",backend=\"$BE1\",view=\"cluster\"}")" = 1 ] ||
			return 1
	done
}
if wait_for 90 be2_down_everywhere; then
	ok "a killed backend: failing locally and for the cluster, down, on all three"
else
	not_ok "a killed backend: failing locally and for the cluster, down, on all three" \
		"$(grep -H "^klb_backend_.*$BE2" "$T"/dead[123])"
fi
if scrape 1 "$T/v" && [ "$(value "$T/v" klb_health_verdict_changes_total)" -ge 1 ] &&
	[ "$(value "$T/v" klb_health_reports_total)" -ge 1 ]; then
	ok "gateway 1 counted its verdict change and its report"
else
	not_ok "gateway 1 counted its verdict change and its report"
fi

# The leader timed what it proposed (6 commands and verdicts); every
# gateway timed its successful reconciles, one each.
scrape "$L" "$T/lead"
pc=$(value "$T/lead" klb_raft_proposal_duration_seconds_count)
check "the leader timed its proposals ($pc, at least 6)" [ "${pc:-0}" -ge 6 ]
rec_timed() {
	local i
	for i in 1 2 3; do
		scrape "$i" "$T/r$i" &&
			[ "$(value "$T/r$i" klb_reconcile_duration_seconds_count)" = \
				"$(value "$T/r$i" klb_reconciles_total)" ] &&
			[ "$(value "$T/r$i" klb_reconciles_total)" -ge 1 ] || return 1
	done
}
check "every gateway timed each of its reconciles" rec_timed

# A leadership transfer is one more leadership on every gateway.
for i in 1 2 3; do
	lc[i]=$(mval "$i" klb_raft_leader_changes_total)
done
ctl "$L" cluster transfer-leader "$F" >/dev/null
moved() { [ "$(leader_among 1 2 3)" = "$F" ]; }
counted() {
	local i v
	for i in 1 2 3; do
		v=$(mval "$i" klb_raft_leader_changes_total)
		[ -n "$v" ] && [ "$v" -gt "${lc[i]:-0}" ] || return 1
	done
}
if wait_for 60 moved && wait_for 60 counted; then
	ok "a leadership transfer: klb_raft_leader_changes_total grew on all three"
else
	not_ok "a leadership transfer: klb_raft_leader_changes_total grew on all three" \
		"before: ${lc[*]}"
fi
check "gateway $F: the new leader, as cluster status says" \
	wait_for 60 raft_matches "$F"

# HTTP: other paths, other methods, garbage, too large.
code() {	# code ARGS...: curl's status code against gateway 1
	ip netns exec "$(ns 1)" curl -s -m 30 -o /dev/null -w '%{http_code}' "$@"
}
# raw BYTES-FILE: the status line gateway 1 answers to those bytes.
raw() {
	ip netns exec "$(ns 1)" bash -c '
		exec 3<>/dev/tcp/127.0.0.1/9550 || exit 1
		cat "$1" >&3
		head -n 1 <&3' - "$1" | tr -d '\r'
}
scrape 1 "$T/c0"
check "GET /other: 404" [ "$(code "$URL/other")" = 404 ]
check "GET /metricsx: 404" [ "$(code "$URL/metricsx")" = 404 ]
check "GET /metrics?name[]=x: 200 (the query is ignored)" \
	[ "$(code "$URL/metrics?name%5B%5D=x")" = 200 ]
check "POST /metrics: 405" [ "$(code -X POST "$URL/metrics")" = 405 ]
check "HEAD /metrics: 405" [ "$(code -I "$URL/metrics")" = 405 ]
printf 'GET /metrics\r\n\r\n' >"$T/req09"
check "a request line without a version: 400" \
	[ "$(raw "$T/req09")" = "HTTP/1.0 400 Bad Request" ]
printf 'GET /metrics HTTP/1.0\r\nX: %05000d\r\n\r\n' 0 >"$T/reqbig"
check "a request of more than 4096 bytes: 431" \
	[ "$(raw "$T/reqbig")" = "HTTP/1.0 431 Request Header Fields Too Large" ]
scrape 1 "$T/c1"
cdelta() {
	echo $(($(value "$T/c1" "klb_metrics_requests_total{code=\"$1\"}") -
		$(value "$T/c0" "klb_metrics_requests_total{code=\"$1\"}")))
}
counts="$(cdelta 200) $(cdelta 400) $(cdelta 404) $(cdelta 405) $(cdelta 431)"
# The second scrape is counted once it is answered: 200 grew by the query's 1 + 1.
check "klb_metrics_requests_total by code: 2 1 2 2 1 ($counts)" \
	[ "$counts" = "2 1 2 2 1" ]

# The client limit: 16 idle connections held, the 17th refused; the
# held ones closed after the 10 s timeout, and scrapes work again.
rm -f "$T/held"
ip netns exec "$(ns 1)" bash -c '
	for i in $(seq 16); do
		exec {fd}<>/dev/tcp/127.0.0.1/9550 || exit 1
	done
	: >"$1"
	exec sleep 90' - "$T/held" &
HOLDER=$!
over0=$(value "$T/c1" klb_metrics_clients_over_limit_total)
to0=$(value "$T/c1" klb_metrics_timeouts_total)
if wait_for 30 test -e "$T/held"; then
	c17=$(code "$URL/metrics")
	# curl's "000": the connection closed with no answer.
	check "16 clients held: the 17th gets no answer ($c17)" [ "$c17" = 000 ]
else
	not_ok "16 clients held: the 17th gets no answer"
fi
# Their deadlines are as far apart as their connects were: wait for all.
timed_out_all() {
	scrape 1 "$T/c2" &&
		[ $(($(value "$T/c2" klb_metrics_timeouts_total) - to0)) -ge 16 ]
}
t0=$(date +%s)
if wait_for 60 timed_out_all; then
	ok "the idle clients closed, scrapes answered, after $(($(date +%s) - t0)) s (the timeout is 10 s)"
else
	not_ok "the idle clients closed, scrapes answered (the timeout is 10 s)"
fi
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
over=$(($(value "$T/c2" klb_metrics_clients_over_limit_total) - over0))
to=$(($(value "$T/c2" klb_metrics_timeouts_total) - to0))
check "klb_metrics_clients_over_limit_total counted the refusals ($over, at least 1)" \
	[ "$over" -ge 1 ]
check "klb_metrics_timeouts_total counted the 16 idle clients and nothing else ($to)" \
	[ "$to" = 16 ]

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

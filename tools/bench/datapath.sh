#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fast path benchmark, run as root inside the test guest:
#
#   tools/vm/run --timeout 2700 -- tools/bench/datapath.sh [ROUNDS [SECONDS]]
#
# The datapath tests' topology (selftests/datapath/topology.sh: client ->
# gateway -> b1, b2, b3) and the same traffic through, in turn:
#
#   route      plain IP routing to b1's address (klb and IPVS not loaded)
#   unmatched  the same, klb loaded with services for another VIP
#   ipvs-nat   IPVS masquerading, scheduler mh, the VIP on the gateway's lo
#              (IPVS takes packets at LOCAL_IN: the VIP must be local)
#   ipvs-tun   IPVS IP-in-IP, scheduler mh, the same
#   klb-nat    klb fwd nat, sched maglev (the VIP is only routed there)
#   klb-tun    klb fwd tunnel, sched maglev
#   drop       the gateway drops at ingress (tc): what the client and the
#              hand-over to the gateway cost, subtracted to leave its part
#
# Each round runs every configuration once, one after the other (A B C ...
# A B C ...), so that the machine's changing load falls on all alike. A
# configuration loads its module afresh and unloads the other, so none
# starts with connections or flows of another. IPVS is given as many
# connection table buckets as klb's flow table has (conn_tab_bits=16,
# 65536; its build default is 4096), so that their designs are compared
# rather than their sizing. Prints every run, then medians over ROUNDS
# (default 3) and ratios.
#
# 1. Forwarding cost: pktgen in the client's netns (tools/bench/pktgen.sh)
#    sends 64-byte UDP frames to VIP:80 as fast as it can, from 16384
#    source ports (many flows; a first pass makes them, the measured
#    packets belong to existing flows) or from one. The backends drop them
#    at ingress (tc), so only the gateway forwards. All of it runs on the
#    pktgen thread's CPU (veth hands packets over with netif_rx on the
#    sending CPU; the softirq runs as pktgen re-enables bottom halves), so
#    at saturation SECONDS (default 2) over the packets the gateway
#    forwarded (sent on its backend veths) is the cost of a packet:
#    client, gateway, hand-overs. The gateway's part is that minus the
#    same for drop.
# 2. wlc at 10 and 1000 backends (b1's address, ports 1000-1009 or
#    1000-1999): every packet a new flow (253 source addresses x 64511
#    ports); gateway cost per new flow as in 1.
# 3. TCP connections/s: klb-loadgen short-lived, concurrency 64, against
#    klb-echo on the backends, SECONDS + 1 per run.
# 4. Memory per flow, first, on a fresh module each: 100,000 UDP flows (2
#    source addresses x 50,000 ports) through klb-nat and ipvs-nat; the
#    growth of klb_flow4 and ip_vs_conn in /proc/slabinfo over the flows
#    held. Needs a kernel booted with slab_nomerge, else these caches are
#    merged with others of their size and slabinfo does not name them.
#
# Services are loaded with 'klbctl restore' and 'ipvsadm -R', one command
# each: under TCG every program started costs a good part of a second.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/topology.sh
rounds=${1:-3}
secs=${2:-2}
VIPX=203.0.113.99
PKTGEN=$PWD/tools/bench/pktgen.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-datapath.XXXXXX")
gw_sleeper=
cleanup() {
	[ -z "$gw_sleeper" ] || kill "$gw_sleeper" 2>/dev/null
	topology_down
	rm -rf "$work"
}
trap cleanup EXIT
start=$(date +%s)
log() {
	echo "datapath: $(($(date +%s) - start)) s: $*" >&2
}
die() {
	echo "datapath: $*" >&2
	exit 1
}

# Autoload would run the initramfs's modprobe: load everything here.
for m in veth ipip ip6_tunnel pktgen sch_ingress cls_matchall act_gact; do
	modprobe "$m" || die "cannot load $m"
done
for d in $( (modinfo -F depends kmod/klb.ko; modinfo -F depends ip_vs) | tr , ' '); do
	modprobe "$d" || die "cannot load $d"
done

topology_up && topology_tunnel_backends && backends_serve ||
	die "topology and backends did not come up"
# Backends' replies from the VIP (IPVS tunnel) come back through a gateway
# that holds the VIP on lo: accept a local source there.
gwx sysctl -qw net.ipv4.conf.all.accept_local=1
cli sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
# The gateway knows the backends' MACs for good: no ARP in what is timed.
for i in 1 2 3; do
	ns=$(eval echo "\$NS_B$i")
	gwx ip neigh replace "$(be4 "$i")" dev "gw-b$i" nud permanent \
		lladdr "$(ip netns exec "$ns" cat "/sys/class/net/b$i-gw/address")"
done
# The gateway's interface counters, readable from the client's netns.
ip netns exec "$NS_GW" sleep 100000 &
gw_sleeper=$!
GW_NETDEV=/proc/$gw_sleeper/net/dev
cli sh -c 'echo rem_device_all >/proc/net/pktgen/kpktgend_0 &&
	echo "add_device cli0" >/proc/net/pktgen/kpktgend_0 &&
	for l in "clone_skb 0" "pkt_size 64" "delay 0" "dst_mac $1"; do
		echo "$l" >/proc/net/pktgen/cli0 || exit 1
	done' pg "$(gwx cat /sys/class/net/gw-cli/address)" ||
	die "cannot set up pktgen on cli0"

# The services, as klbctl restore and ipvsadm -R read them.
for fwd in nat tunnel; do
	for p in udp tcp; do
		echo "service $p $VIP4:80 sched maglev fwd $fwd"
		for i in 1 2 3; do
			echo "backend $(be4 "$i"):80"
		done
	done >"$work/klb-$fwd"
done
mv "$work/klb-tunnel" "$work/klb-tun"
for p in udp tcp; do
	echo "service $p $VIPX:80 sched maglev fwd nat"
	echo "backend $(be4 1):80"
done >"$work/unmatched"
for how in nat:m tun:i; do
	for p in u t; do
		echo "-A -$p $VIP4:80 -s mh"
		for i in 1 2 3; do
			echo "-a -$p $VIP4:80 -r $(be4 "$i"):80 -${how#*:} -w 1"
		done
	done >"$work/ipvs-${how%:*}"
done
for n in 10 1000; do
	awk -v n="$n" -v vip="$VIP4:$((80 + n / 10))" -v be="$(be4 1)" -v w="$work" 'BEGIN {
		print "service udp " vip " sched wlc fwd nat" >(w "/klb-wlc" n)
		print "-A -u " vip " -s wlc" >(w "/ipvs-wlc" n)
		for (p = 1000; p < 1000 + n; p++) {
			print "backend " be ":" p >(w "/klb-wlc" n)
			print "-a -u " vip " -r " be ":" p " -m -w 1" >(w "/ipvs-wlc" n)
		}
	}'
done

# Modules: klb or IPVS, never both, each freshly loaded (no state left).
loaded=none
use() {
	case $loaded in
	klb) rmmod klb ;;
	ipvs)
		gwx ipvsadm -C
		gwx ip addr del "$VIP4/32" dev lo
		rmmod ip_vs_wlc ip_vs_mh ip_vs
		;;
	esac
	loaded=$1
	case $1 in
	klb) tools/vm/load-klb.sh ;;
	ipvs)
		modprobe ip_vs conn_tab_bits=16 && modprobe ip_vs_mh &&
			modprobe ip_vs_wlc && gwx ip addr add "$VIP4/32" dev lo
		;;
	esac || die "cannot load $1"
}

# setup CONFIG: sets DST, the address the client sends to.
dropping=0
setup() {
	if [ $dropping = 1 ]; then
		gwx tc qdisc del dev gw-cli clsact
		dropping=0
	fi
	DST=$VIP4
	case $1 in
	route) use none; DST=$(be4 1) ;;
	drop)
		use none
		gwx tc qdisc add dev gw-cli clsact &&
			gwx tc filter add dev gw-cli ingress protocol ip matchall action drop ||
			die "cannot drop at the gateway"
		dropping=1
		;;
	unmatched) use klb; klbctl restore <"$work/unmatched"; DST=$(be4 1) ;;
	ipvs-*) use ipvs; gwx ipvsadm -R <"$work/$1" ;;
	klb-*) use klb; klbctl restore <"$work/$1" ;;
	esac || die "cannot set up $1"
}

# Backends drop what reaches them (tc ingress), before their stack.
backends_drop() {
	for i in 1 2 3; do
		ns=$(eval echo "\$NS_B$i")
		if [ "$1" = on ]; then
			ip netns exec "$ns" tc qdisc add dev "b$i-gw" clsact &&
			ip netns exec "$ns" tc filter add dev "b$i-gw" ingress protocol ip \
				matchall action drop
		else
			ip netns exec "$ns" tc qdisc del dev "b$i-gw" clsact
		fi || die "cannot set the backends' drop $1"
	done
}

hz=$(getconf CLK_TCK)
# measure NAME SADDR_MAX SPORT_MIN SPORT_MAX DPORT WARMUP: pktgen from
# the client to DST; appends "NAME pps ns/packet delivered% busy-ns/packet"
# to the runs, NAME's packets being those the gateway forwarded or, for
# drop, received. ns/packet is wall time: one CPU, the pktgen thread's,
# does all the work. busy-ns/packet is from /proc/stat's ticks, which a
# guest whose vCPUs the host preempts undercounts: shown, not used.
measure() {
	cli "$PKTGEN" cli0 "$DST" 192.0.2.2 "$2" "$3" "$4" "$5" "$6" "$secs" "$GW_NETDEV" |
		awk -v name="$1" -v hz="$hz" '{
			n = (name ~ /^drop/) ? $2 : $3
			if (n == 0 || $4 == 0) { print name, 0, 0, 0, 0; exit }
			printf "%s %.0f %.0f %.1f %.0f\n", name, n * 100 / $4, $4 * 1e7 / n,
				$2 ? 100 * $3 / $2 : 0, $1 * 1e9 / hz / n
		}' | tee -a "$work/runs" >&2
}

echo "datapath: $(uname -r), $(nproc) CPUs, $rounds rounds, $secs s per run"
backends_drop on

# 4. Memory per flow, first, while the modules have no past.
slab() {
	awk -v c="$1" '$1 == c { print $2, $4, $6, $15 }' /proc/slabinfo
}
memory() {
	name=$1 cache=$2
	b=$(slab "$cache")
	[ -n "$b" ] || { log "memory: no slab cache $cache (boot with slab_nomerge)"; return; }
	# 100,000 flows, the whole pattern twice so that a lost packet
	# leaves no hole, at most 20,000 packets/s.
	for pass in 1 2; do
		for s in 192.0.2.2 192.0.2.3; do
			cli env PG_RATEP=20000 "$PKTGEN" cli0 "$VIP4" "$s" "$s" 10000 60000 80 50000
		done
	done
	a=$(slab "$cache")
	case $name in
	klb) n=$(klbctl -j stats udp "$VIP4:80" | grep -o '"flows_active":[0-9]*' |
		head -n 1 | cut -d: -f2) ;;
	ipvs) n=$(($(gwx cat /proc/net/ip_vs_conn | wc -l) - 1)) ;;
	esac
	echo "$name $cache $n $b $a" | awk '{
		objs = $8 - $4; bytes = ($11 - $7) * $6 * 4096
		printf "memory %s %s %d %d %d %d %.1f\n", $1, $2, $3, $5, objs, bytes / 1024,
			$3 ? bytes / $3 : 0
	}' | tee -a "$work/runs" >&2
}
log "memory"
setup klb-nat
memory klb klb_flow4
setup ipvs-nat
memory ipvs ip_vs_conn

# 1. Forwarding cost, many flows and one, every configuration each round.
configs="route unmatched ipvs-nat ipvs-tun klb-nat klb-tun drop"
r=1
while [ "$r" -le "$rounds" ]; do
	log "forwarding, round $r"
	for c in $configs; do
		setup "$c"
		measure "$c/many" 192.0.2.2 1024 17408 80 16384
		measure "$c/one" 192.0.2.2 1024 1024 80 0
	done
	r=$((r + 1))
done

# 2. wlc, new flows only.
wlc_configs="klb-wlc10 klb-wlc1000 ipvs-wlc10 ipvs-wlc1000 drop"
r=1
while [ "$r" -le "$rounds" ]; do
	log "wlc, round $r"
	for c in $wlc_configs; do
		setup "$c"
		case $c in
		*wlc*) port=$((80 + ${c##*wlc} / 10)) ;;
		*) port=80 ;;
		esac
		measure "$c/new" 192.0.2.254 1024 65535 "$port" 0
	done
	r=$((r + 1))
done
setup route
backends_drop off

# 3. TCP connections/s.
tcp_configs="route ipvs-nat ipvs-tun klb-nat klb-tun"
r=1
while [ "$r" -le "$rounds" ]; do
	log "tcp, round $r"
	for c in $tcp_configs; do
		setup "$c"
		cli "$LOADGEN" --tcp -j -c 64 -d "$((secs + 1))s" -t 1s "$DST:80" 2>&1 |
			tail -n 1 | tr ',{}' '\n\n\n' | awk -v name="$c/tcp" -F: '
				$1 == "\"rate\"" { rate = $2 }
				$1 == "\"total\"" { err = $2 }
				END { printf "%s %.0f %d\n", name, rate, err }' |
			tee -a "$work/runs" >&2
	done
	r=$((r + 1))
done
setup route
log "done"

# The report, from the runs.
awk -v rounds="$rounds" -v secs="$secs" '
function median(name, f,    n, i, j, t, v) {
	n = 0
	for (i = 1; i <= nrun; i++)
		if (run[i, 1] == name)
			v[++n] = run[i, f]
	if (n == 0)
		return 0
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function gw(name, traffic) {
	return median(name "/" traffic, 3) - median("drop/" traffic, 3)
}
function ratio(a, b) {
	return b ? sprintf("%.2f", a / b) : "-"
}
$1 == "memory" { mem[++nmem] = $0; next }
{ nrun++; for (i = 1; i <= NF; i++) run[nrun, i] = $i }
END {
	printf "\nforwarding, 64-byte UDP frames, median of %d runs of %d s:\n", rounds, secs
	printf "  %-4s %-10s %9s %9s %9s %8s %9s\n", "", "", "packets/s", "ns/packet",
		"gateway", "x route", "delivered"
	split("route unmatched ipvs-nat ipvs-tun klb-nat klb-tun drop", cs, " ")
	for (t = 1; t <= 2; t++) {
		tr = (t == 1) ? "many" : "one"
		for (c = 1; c <= 7; c++) {
			n = cs[c] "/" tr
			if (cs[c] == "drop")
				printf "  %-4s %-10s %9.0f %9.0f %9s %8s %8s\n", tr, cs[c],
					median(n, 2), median(n, 3), "-", "-", "-"
			else
				printf "  %-4s %-10s %9.0f %9.0f %9.0f %8s %8.1f%%\n", tr, cs[c],
					median(n, 2), median(n, 3), gw(cs[c], tr),
					ratio(gw(cs[c], tr), gw("route", tr)), median(n, 4)
		}
	}
	for (t = 1; t <= 2; t++) {
		tr = (t == 1) ? "many" : "one"
		printf "  %s: gateway klb-nat / ipvs-nat %s, klb-tun / ipvs-tun %s, " \
			"klb-nat / route %s, unmatched / route %s\n", tr,
			ratio(gw("klb-nat", tr), gw("ipvs-nat", tr)),
			ratio(gw("klb-tun", tr), gw("ipvs-tun", tr)),
			ratio(gw("klb-nat", tr), gw("route", tr)),
			ratio(gw("unmatched", tr), gw("route", tr))
	}

	printf "\nnew flows (wlc), median of %d runs of %d s:\n", rounds, secs
	split("klb-wlc10 klb-wlc1000 ipvs-wlc10 ipvs-wlc1000 drop", ws, " ")
	for (c = 1; c <= 5; c++)
		printf "  %-12s %9.0f packets/s %6.0f ns/packet  gateway %s ns\n", ws[c],
			median(ws[c] "/new", 2), median(ws[c] "/new", 3),
			ws[c] == "drop" ? "-" : sprintf("%.0f", gw(ws[c], "new"))
	printf "  gateway cost per new flow, 1000 / 10 backends: klb %s, ipvs %s\n",
		ratio(gw("klb-wlc1000", "new"), gw("klb-wlc10", "new")),
		ratio(gw("ipvs-wlc1000", "new"), gw("ipvs-wlc10", "new"))

	printf "\nTCP connections/s, klb-loadgen -c 64, median of %d runs of %d s:\n",
		rounds, secs + 1
	split("route ipvs-nat ipvs-tun klb-nat klb-tun", ts, " ")
	for (c = 1; c <= 5; c++) {
		err = 0
		for (i = 1; i <= nrun; i++)
			if (run[i, 1] == ts[c] "/tcp")
				err += run[i, 3]
		printf "  %-10s %7.0f conn/s  (errors %d)\n", ts[c], median(ts[c] "/tcp", 2), err
	}
	printf "  klb-nat / ipvs-nat %s, klb-tun / ipvs-tun %s\n",
		ratio(median("klb-nat/tcp", 2), median("ipvs-nat/tcp", 2)),
		ratio(median("klb-tun/tcp", 2), median("ipvs-tun/tcp", 2))

	printf "\nmemory, 100,000 UDP flows:\n"
	for (i = 1; i <= nmem; i++) {
		split(mem[i], m, " ")
		printf "  %-5s %-10s %6d flows, object %d B, +%d objects, +%d KiB of slab: %.1f B/flow\n",
			m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	}
}' "$work/runs"
exit 0
}

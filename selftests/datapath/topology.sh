#!/bin/sh
# Sourced by the datapath tests: one gateway between a client and three
# backends, each in its own network namespace (names carry the test's pid).
#
#   client            gateway (klb)                 b1, b2, b3
#   192.0.2.2/24 ---- 192.0.2.1/24
#   2001:db8:1::2     2001:db8:1::1
#                     198.51.100.(4i+1)/30 -------- 198.51.100.(4i+2)/30
#                     2001:db8:2:i::1/64 ---------- 2001:db8:2:i::2/64
#
# VIPs 203.0.113.10 and 2001:db8:ff::10 are routed to the gateway; they are
# no address of it. Backends route everything back through the gateway.
# In tunnel mode each backend also owns the VIPs on lo and decapsulates
# with the fallback ipip/ip6tnl devices (direct server return).

VIP4=203.0.113.10
VIP6=2001:db8:ff::10
NS_CLI=klbc$$
NS_GW=klbg$$
NS_B1=klbb1$$
NS_B2=klbb2$$
NS_B3=klbb3$$
KLBCTL=${KLBCTL:-build/userspace/klbctl/klbctl}

be4() { echo "198.51.100.$((4 * $1 + 2))"; }
be6() { echo "2001:db8:2:$1::2"; }
gwx() { ip netns exec "$NS_GW" "$@"; }
cli() { ip netns exec "$NS_CLI" "$@"; }
klbctl() { ip netns exec "$NS_GW" "$KLBCTL" --direct "$@"; }

topology_up() {
	# Autoload would run the guest's initramfs modprobe: load explicitly.
	modprobe -q veth || return 1
	for ns in $NS_CLI $NS_GW $NS_B1 $NS_B2 $NS_B3; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	gwx sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip link add cli0 netns "$NS_CLI" type veth peer name gw-cli netns "$NS_GW"
	ip -n "$NS_CLI" addr add 192.0.2.2/24 dev cli0
	ip -n "$NS_CLI" addr add 2001:db8:1::2/64 dev cli0 nodad
	ip -n "$NS_GW" addr add 192.0.2.1/24 dev gw-cli
	ip -n "$NS_GW" addr add 2001:db8:1::1/64 dev gw-cli nodad
	ip -n "$NS_CLI" link set cli0 up
	ip -n "$NS_GW" link set gw-cli up
	ip -n "$NS_CLI" route add default via 192.0.2.1
	ip -n "$NS_CLI" -6 route add default via 2001:db8:1::1
	for i in 1 2 3; do
		ns=$(eval echo "\$NS_B$i")
		ip link add "b$i-gw" netns "$ns" type veth peer name "gw-b$i" netns "$NS_GW"
		ip -n "$ns" addr add "$(be4 "$i")/30" dev "b$i-gw"
		ip -n "$ns" addr add "$(be6 "$i")/64" dev "b$i-gw" nodad
		ip -n "$NS_GW" addr add "198.51.100.$((4 * i + 1))/30" dev "gw-b$i"
		ip -n "$NS_GW" addr add "2001:db8:2:$i::1/64" dev "gw-b$i" nodad
		ip -n "$ns" link set "b$i-gw" up
		ip -n "$NS_GW" link set "gw-b$i" up
		ip -n "$ns" route add default via "198.51.100.$((4 * i + 1))"
		ip -n "$ns" -6 route add default via "2001:db8:2:$i::1"
	done
}

# Backends own the VIPs and decapsulate IPIP and IP6IP6.
topology_tunnel_backends() {
	modprobe -q ipip && modprobe -q ip6_tunnel || return 1
	for i in 1 2 3; do
		ns=$(eval echo "\$NS_B$i")
		ip -n "$ns" addr add "$VIP4/32" dev lo
		ip -n "$ns" addr add "$VIP6/128" dev lo
		ip -n "$ns" link set tunl0 up
		ip -n "$ns" link set ip6tnl0 up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.tunl0.rp_filter=0
	done
}

# Starts klb-echo in each backend, answering "b1", "b2", "b3" on port 80
# (TCP and UDP, IPv4 and IPv6), and waits until each one answers.
ECHO=${ECHO:-build/tools/loadgen/klb-echo}
LOADGEN=${LOADGEN:-build/tools/loadgen/klb-loadgen}
ECHO_PIDS=
backends_serve() {
	for i in 1 2 3; do
		ns=$(eval echo "\$NS_B$i")
		ip netns exec "$ns" "$ECHO" --id "b$i" -t 0.0.0.0:80 -u 0.0.0.0:80 -t "[::]:80" -u "[::]:80" \
			>/dev/null 2>&1 &
		ECHO_PIDS="$ECHO_PIDS $!"
	done
	for i in 1 2 3; do
		ns=$(eval echo "\$NS_B$i")
		deadline=$(($(date +%s) + 30))
		until ip netns exec "$ns" "$LOADGEN" -n 1 -t 1s "$(be4 "$i"):80" \
			>/dev/null 2>&1; do
			[ "$(date +%s)" -lt "$deadline" ] || return 1
		done
	done
}

topology_down() {
	for p in $ECHO_PIDS; do
		kill "$p" 2>/dev/null
	done
	[ -z "$ECHO_PIDS" ] || wait $ECHO_PIDS 2>/dev/null
	for ns in $NS_CLI $NS_GW $NS_B1 $NS_B2 $NS_B3; do
		ip netns del "$ns" 2>/dev/null
	done
}

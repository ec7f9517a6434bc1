#!/bin/sh
# ICMP and sizes: errors about a flow reach its backend (NAT and tunnel,
# IPv4 and IPv6); the tunnel's "too big"; fragmented datagrams.
# Prints TAP.
# The braces make the shell read the whole script before running any of it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/lib.sh
datapath_start

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
		load --udp -n 20 -c 4 -t 5s "$(vip "$fam")"
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

datapath_done
}

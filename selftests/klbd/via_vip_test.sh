#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check tcp via-vip on a one-gateway klbd cluster (selftests/klbd/lib.sh;
# one voter, so its verdict is the cluster's). Two tunnel backends
# (192.0.2.11, .12; 2001:db8::11, ::12) own the VIPs on lo and decapsulate
# with the fallback ipip/ip6tnl devices, klb-echo serving port 80:
#
#   gw1 192.0.2.1 -------- bridge -------- b11 192.0.2.11, b12 192.0.2.12
#       2001:db8::1                            2001:db8::11, 2001:db8::12
#                                              VIPs on lo, tunl0, ip6tnl0
#
# Covers: both backends up through the VIP (IPv4, IPv6); a backend whose
# lo lost the VIP goes down in the kernel with "no SYN-ACK from the VIP
# through the tunnel" in klbd's log, while a plain check tcp on a second
# service with the same backends keeps it up, and its sibling stays up;
# the VIP back, it is up again; the via-vip counters; refusals (a nat
# service, a kind other than tcp, via-vip without check tcp) that change
# nothing. Run as root in the test guest; prints TAP.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
ECHO=${ECHO:-$PWD/build/tools/loadgen/klb-echo}
VIP4=203.0.113.10
VIP6=2001:db8:ff::10
S4=$VIP4:80		# via-vip
P4=203.0.113.11:80	# plain tcp, the same backends
S6=[$VIP6]:80		# via-vip, IPv6

state_is() { [ "$(be_state tcp "$1" "$2")" = "$3" ]; }
# expect NAME SERVICE BACKEND STATE [LOG-REGEX]
expect() {
	local name=$1 svc=$2 be=$3 st=$4 why=${5:-}
	if wait_for 60 state_is "$svc" "$be" "$st" &&
		{ [ -z "$why" ] || wait_for 10 grep -q -- "$why" "$T/log1"; }; then
		ok "$name"
	else
		not_ok "$name" "state: $(be_state tcp "$svc" "$be")" \
			"$(grep 'health:' "$T/log1" | tail -n 5 | tr '\n' '|')"
	fi
}
# still NAME SERVICE BACKEND STATE: it is in STATE now.
still() {
	if state_is "$2" "$3" "$4"; then
		ok "$1"
	else
		not_ok "$1" "state: $(be_state tcp "$2" "$3")"
	fi
}
# refused NAME REGEX ARGS...: klbctl fails saying REGEX.
refused() {
	local name=$1 re=$2 out
	shift 2
	if out=$(ctl 1 "$@" 2>&1); then
		not_ok "$name" "accepted: $*"
	elif ! echo "$out" | grep -q -- "$re"; then
		not_ok "$name" "$out"
	else
		ok "$name"
	fi
}
listening() { ip netns exec "$(ns "$1")" ss -lnt | grep -q ":80 "; }

if ! setup 1 11 12 || ! modprobe -q ipip || ! modprobe -q ip6_tunnel; then
	not_ok "topology and configuration"
	exit 1
fi
for i in 1 11 12; do
	ip -n "$(ns $i)" addr add "2001:db8::$i/64" dev eth0 nodad
	ip netns exec "$(ns $i)" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
done
for i in 11 12; do
	ip -n "$(ns $i)" addr add "$VIP4/32" dev lo
	ip -n "$(ns $i)" addr add "$VIP6/128" dev lo nodad
	ip -n "$(ns $i)" link set tunl0 up
	ip -n "$(ns $i)" link set ip6tnl0 up
	ip netns exec "$(ns $i)" sysctl -qw net.ipv4.conf.tunl0.rp_filter=0
	ip netns exec "$(ns $i)" "$ECHO" --id "b$i" -t 0.0.0.0:80 -t "[::]:80" \
		>/dev/null 2>&1 &
	PID[echo$i]=$!
	wait_for 30 listening "$i" || not_ok "klb-echo listens in b$i"
done
one_gateway_conf
start_one_gateway

# Refusals: each changes nothing.
refused "via-vip on a nat service is refused" "needs a tunnel service" \
	service add tcp "$S4" fwd nat check tcp via-vip
refused "via-vip with check http is refused" "via-vip goes with 'check tcp'" \
	service add tcp "$S4" fwd tunnel check http via-vip
refused "via-vip without check tcp is refused" "via-vip goes with 'check tcp'" \
	service add tcp "$S4" fwd tunnel via-vip
if ! ctl 1 service show tcp "$S4" >/dev/null 2>&1; then
	ok "the refused commands added nothing"
else
	not_ok "the refused commands added nothing"
fi

CHK="interval 500 timeout 400 rise 2 fall 2"
# shellcheck disable=SC2086
ctl 1 service add tcp "$S4" fwd tunnel check tcp via-vip $CHK >/dev/null &&
	ctl 1 service add tcp "$P4" fwd tunnel check tcp $CHK >/dev/null &&
	ctl 1 service add tcp "$S6" fwd tunnel check tcp via-vip $CHK >/dev/null ||
	not_ok "three tunnel services"
for b in 11 12; do
	ctl 1 backend add tcp "$S4" "192.0.2.$b:80" >/dev/null &&
		ctl 1 backend add tcp "$P4" "192.0.2.$b:80" >/dev/null &&
		ctl 1 backend add tcp "$S6" "[2001:db8::$b]:80" >/dev/null ||
		not_ok "backend $b added"
done
# A nat service of its own may not take via-vip later either.
ctl 1 service add tcp 203.0.113.12:80 fwd nat check tcp >/dev/null
refused "service set ... check tcp via-vip on a nat service is refused" \
	"needs a tunnel service" service set tcp 203.0.113.12:80 check tcp via-vip

# Let the first probes run: down would show a failing backend.
sent_and_answered() {
	[ "$(field 1 probes_via_vip_answered)" -ge 8 ] 2>/dev/null
}
wait_for 60 sent_and_answered
for b in 11 12; do
	still "IPv4 via-vip: b$b (serves the VIP) is up" "$S4" "192.0.2.$b:80" up
	still "IPv6 via-vip: b$b (serves the VIP) is up" "$S6" "[2001:db8::$b]:80" up
done
# Answered first: a SYN is counted before its SYN-ACK.
answered=$(field 1 probes_via_vip_answered)
sent=$(field 1 probes_via_vip_sent)
if [ "$answered" -ge 8 ] 2>/dev/null && [ "$sent" -ge "$answered" ]; then
	ok "probes_via_vip_sent and _answered count"
else
	not_ok "probes_via_vip_sent and _answered count" "sent $sent answered $answered"
fi
# Each SYN-ACK was followed by a RST: no half-open connection lingers.
half_open() {
	ip netns exec "$(ns 11)" ss -nt state syn-recv | tail -n +2 | grep -c . || true
}
if [ "$(half_open)" -le 1 ]; then
	ok "the backend holds no half-open connections from the probes"
else
	not_ok "the backend holds no half-open connections from the probes" \
		"$(ip netns exec "$(ns 11)" ss -nt state syn-recv | head -n 5 | tr '\n' '|')"
fi

# b11 loses the IPv4 VIP: only the via-vip check sees it.
ip -n "$(ns 11)" addr del "$VIP4/32" dev lo
expect "IPv4: the VIP gone from b11's lo, down via the VIP, with the reason" \
	"$S4" 192.0.2.11:80 down "no SYN-ACK from the VIP through the tunnel"
still "IPv4: the plain tcp check of another service keeps b11 up" "$P4" 192.0.2.11:80 up
still "IPv4: b12 stays up" "$S4" 192.0.2.12:80 up
still "IPv6: b11 still has its IPv6 VIP: up" "$S6" "[2001:db8::11]:80" up
ip -n "$(ns 11)" addr add "$VIP4/32" dev lo
expect "IPv4: the VIP back on b11's lo, up again" "$S4" 192.0.2.11:80 up

# b12 loses the IPv6 VIP.
ip -n "$(ns 12)" addr del "$VIP6/128" dev lo
expect "IPv6: the VIP gone from b12's lo, down via the VIP" \
	"$S6" "[2001:db8::12]:80" down
still "IPv6: b11 stays up" "$S6" "[2001:db8::11]:80" up
still "IPv4: b12 still has its IPv4 VIP: up" "$S4" 192.0.2.12:80 up
ip -n "$(ns 12)" addr add "$VIP6/128" dev lo nodad
expect "IPv6: the VIP back on b12's lo, up again" "$S6" "[2001:db8::12]:80" up

# A server that refuses (nothing on the port): RST from the VIP, down.
ctl 1 service set tcp "$S4" check tcp via-vip check-port 81 >/dev/null
expect "IPv4: nothing listens on the VIP's port: RST, down" \
	"$S4" 192.0.2.11:80 down "RST from the VIP through the tunnel"
# check tcp alone clears via-vip: plain probes to the backend's port 81.
ctl 1 service set tcp "$S4" check tcp check-port 80 >/dev/null
expect "check tcp without via-vip probes the backend itself again: up" \
	"$S4" 192.0.2.11:80 up

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bootstrap services (klbd.conf bootstrap-services), on three gateways
# (selftests/klbd/lib.sh): each has a file of two services (TCP Maglev
# with three backends, UDP over IPv6 without a seed); a new cluster's
# three kernels get both, byte-identically, and every klbd says it is
# bootstrapped. A service deleted with klbctl does not come back when all
# three klbds are killed and restarted. A bad line in the file is refused
# by --check-config and by klbd itself, naming the file and the line; a
# missing file is refused too. A new cluster whose gateways have different
# files takes one of them whole.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh

if ! setup 1 2 3; then
	not_ok "topology and configuration"
	exit 1
fi

TCP=203.0.113.20:80
UDP=[2001:db8::53]:53
for i in 1 2 3; do
	cat >"$T/boot$i" <<-EOF
	# klbctl save 1
	service tcp $TCP sched maglev table-size 251 seed 000102030405060708090a0b0c0d0e0f
	backend 198.51.100.1:8080 weight 1
	backend 198.51.100.2:8080 weight 2
	backend 198.51.100.3:8080 id 7 state drain
	service udp $UDP sched wrr
	backend [2001:db8::1]:53
	backend [2001:db8::2]:53 weight 3
	EOF
	sed -i "/^\[node\]/a bootstrap-services = $T/boot$i" "$T/n$i.conf"
done

out=$("$KLBD" --check-config -c "$T/n1.conf" 2>&1)
check "--check-config reads the bootstrap file ($out)" \
	eval '[[ "$out" == *"2 bootstrap services"* ]]'

start_cluster

all_field() {	# all_field NAME VALUE: every klbd's status says so
	local i
	for i in 1 2 3; do
		[ "$(field "$i" "$1")" = "$2" ] || return 1
	done
}

check "all three kernels get the two services and five backends" \
	wait_for 30 eval 'all_count service 2 && all_count backend 5'
if wait_for 30 same_services; then
	ok "the three kernels hold byte-identical services"
else
	not_ok "the three kernels hold byte-identical services" \
		"$(diff "$T/b1" "$T/b2" | head -c 600)" "$(diff "$T/b1" "$T/b3" | head -c 600)"
fi
check "the file's settings: seed, weights, ids, the drained backend" \
	eval 'grep -q "^service tcp $TCP sched maglev .*table-size 251 .*seed 000102030405060708090a0b0c0d0e0f" "$T/b1" &&
		grep -q "backend 198.51.100.2:8080 id 1 weight 2 state up" "$T/b1" &&
		grep -q "backend 198.51.100.3:8080 id 7 weight 1 state drain" "$T/b1" &&
		grep -q "^service udp \[2001:db8::53\]:53 sched wrr" "$T/b1" &&
		grep -q "backend \[2001:db8::2\]:53 id 1 weight 3 state up" "$T/b1"'
check "every klbd says the cluster is bootstrapped" wait_for 30 all_field bootstrapped 1
proposed=0
for i in 1 2 3; do
	proposed=$((proposed + $(field "$i" bootstrap_services_proposed)))
done
check "two services proposed in all ($proposed), by the leader" [ "$proposed" = 2 ]
if out=$(ctl "$F" cluster status 2>&1) && grep -Eq '^bootstrapped: +1$' <<<"$out"; then
	ok "klbctl cluster status shows bootstrapped"
else
	not_ok "klbctl cluster status shows bootstrapped" "$out"
fi

# An operator's deletion sticks: the file is never proposed again.
if ctl "$F" service del udp "$UDP" 2>"$T/err" &&
	wait_for 30 eval 'all_count service 1 && all_count backend 3'; then
	ok "the UDP service deleted through a follower, from all three kernels"
else
	not_ok "the UDP service deleted through a follower, from all three kernels" "$(cat "$T/err")"
fi
restart_all
check "after kill -9 of all three and a restart, a leader" wait_for 60 has_leader 1 2 3
L2=$(leader_among 1 2 3)
# A change after the restart is committed in the new leader's term: by
# then it applied every entry before, the marker included.
if ctl "$L2" backend add tcp "$TCP" 198.51.100.4:8080 2>"$T/err" &&
	wait_for 30 eval 'all_count backend 4'; then
	ok "a change after the restart reaches all three kernels"
else
	not_ok "a change after the restart reaches all three kernels" "$(cat "$T/err")"
fi
check "every klbd still says bootstrapped" wait_for 30 all_field bootstrapped 1
check "none proposed a bootstrap service since the restart" all_field bootstrap_services_proposed 0
# A leader proposes within a tick or two of its term's first entry: ten
# ticks without the service back is the absence this can show.
stays_deleted() {
	local end=$(($(date +%s%N) / 1000000 + 1000))
	while [ $(($(date +%s%N) / 1000000)) -lt "$end" ]; do
		all_count service 1 || return 1
		sleep 0.1
	done
}
check "the deleted service does not come back" stays_deleted
check "the kernels agree" wait_for 30 same_services

# A bad line: --check-config and klbd refuse it, naming the file and line.
cp "$T/boot1" "$T/bad"
sed -i '4s/.*/backend 198.51.100.2:8080 weight heavy/' "$T/bad"
sed "s|^bootstrap-services = .*|bootstrap-services = $T/bad|" "$T/n1.conf" >"$T/bad.conf"
if ! out=$("$KLBD" --check-config -c "$T/bad.conf" 2>&1) &&
	[[ "$out" == *"$T/bad:4: weight 'heavy' out of range"* ]]; then
	ok "--check-config refuses a bad line as FILE:LINE"
else
	not_ok "--check-config refuses a bad line as FILE:LINE" "$out"
fi
if ! out=$(ip netns exec "$(ns 1)" "$KLBD" -c "$T/bad.conf" 2>&1) &&
	[[ "$out" == *"$T/bad:4:"* ]]; then
	ok "klbd does not start on it"
else
	not_ok "klbd does not start on it" "$out"
fi
sed "s|^bootstrap-services = .*|bootstrap-services = $T/missing|" "$T/n1.conf" >"$T/missing.conf"
if ! out=$("$KLBD" --check-config -c "$T/missing.conf" 2>&1) &&
	[[ "$out" == *"bootstrap-services $T/missing: No such file"* ]]; then
	ok "--check-config refuses a missing file"
else
	not_ok "--check-config refuses a missing file" "$out"
fi

# A new cluster whose gateways have different files: one file is taken
# whole, not a mix of them (a leader lost midway could mix them: the
# documentation says to give every gateway the same file).
for i in 1 2 3; do
	kill -9 "${PID[$i]}"
	wait "${PID[$i]}" 2>/dev/null
	rm -rf "$T/d$i"
	kern "$i" flush
	{
		echo "service tcp 203.0.113.3$i:80 sched maglev table-size 251"
		for b in $(seq 1 "$i"); do
			echo "backend 198.51.100.$b:8080"
		done
	} >"$T/boot$i"
done
PID=()
start_cluster
one_file() {	# the three kernels hold gateway N's file, for one N
	local i
	same_services || return 1
	for i in 1 2 3; do
		all_count service 1 && all_count backend "$i" &&
			grep -q "^service tcp 203.0.113.3$i:80 " "$T/b1" && return 0
	done
	return 1
}
if wait_for 30 one_file; then
	ok "different files: one gateway's file whole, in all three kernels (leader $L)"
else
	not_ok "different files: one gateway's file whole, in all three kernels (leader $L)" \
		"$(cat "$T/b1" 2>/dev/null | head -c 600)"
fi

echo "1..$n"
[ "$failed" -eq 0 ]

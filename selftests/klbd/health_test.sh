#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Health checks and failover decided by the cluster: three gateways with
# klbd (selftests/klbd/lib.sh) and three backends, each a klb-echo
# answering HTTP in a namespace of its own on the same bridge
# (192.0.2.11-13). Run as root in the test guest.
#
# Covers: a killed backend goes down in all three kernels (the time it
# took is printed), new flows avoid it and the others keep their table
# slots; back, it is up again after rise; a backend that one
# gateway alone cannot reach is not failed over and that gateway shows
# it unreachable-from-here; an HTTP check expecting another status fails
# every backend; an operator's drain wins over health; the leader killed
# in the middle of a failover: the decision lands, once in each kernel.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
ECHO=${KLB_ECHO:-$PWD/build/tools/loadgen/klb-echo}
BES="192.0.2.11:8080 192.0.2.12:8080 192.0.2.13:8080"

# be_start I [ARGS]: klb-echo for backend I (11..13), ready when it says so.
be_start() {
	local i=$1
	shift
	: >"$T/echo$i"
	ip netns exec "$(ns "$i")" "$ECHO" --id "be$i" -t "192.0.2.$i:8080" \
		--http "$@" >"$T/echo$i" 2>&1 &
	PID[be$i]=$!
	wait_for 30 grep -q "^listening" "$T/echo$i"
}
be_kill() {
	kill -9 "${PID[be$1]}" 2>/dev/null
	wait "${PID[be$1]}" 2>/dev/null
	unset "PID[be$1]"
}
# be_field N ADDR FIELD [ctl|kern]: one field of a backend in backend show
# (its text table: a header of upper-cased field names, "_" shown as a
# space; no spaces in values).
be_field() {
	"${4:-kern}" "$1" backend show tcp "$VIP" 2>/dev/null |
		awk -v a="$2" -v f="$(echo "$3" | tr a-z A-Z)" '
			NR == 1 {
				gsub(/FAILING ON/, "FAILING_ON")
				for (i = 1; i <= NF; i++) col[$i] = i
				next
			}
			$col["ADDR"] == a { print $col[f] }'
}
# state_everywhere ADDR STATE: every kernel has the backend in STATE.
state_everywhere() {
	local i
	for i in 1 2 3; do
		[ "$(be_field "$i" "$1" state)" = "$2" ] || return 1
	done
}
health_is() {	# health_is N ADDR HEALTH: klbd N's word on it
	[ "$(be_field "$1" "$2" health ctl)" = "$3" ]
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
CLIENTS="198.51.100.1:1000 198.51.100.2:2000 198.51.100.3:3000 198.51.100.4:4000
	198.51.100.5:5000 198.51.100.6:6000 198.51.100.7:7000 198.51.100.8:8000"
# where N: "CLIENT BACKEND" for each client, from gateway N's kernel.
where() {
	local c
	for c in $CLIENTS; do
		echo "$c $(kern "$1" -j flow where tcp "$VIP" "$c" 2>/dev/null |
			sed -n 's/^ *"backend": *"\([^"]*\)".*/\1/p')"
	done
}

if ! setup 1 2 3 11 12 13; then
	not_ok "topology and configuration"
	exit 1
fi
for i in 11 12 13; do
	be_start "$i" || not_ok "klb-echo $i starts"
done
start_cluster

ok_if() {	# ok_if NAME CMD...: like check, with the detail of a failure
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "$(ctl 1 backend show tcp "$VIP" 2>&1)"
	fi
}

# Probes every 200 ms (stretched by KLB_TEST_SLOW: under the debug kernel
# a probe of a live backend can take longer, and two gateways' timeouts at
# once fail it over).
INTERVAL=$(ms 200)
if ctl "$F" service add tcp "$VIP" check http interval "$INTERVAL" timeout "$INTERVAL" \
	rise 2 fall 2 >/dev/null; then
	ok "a service with an HTTP check, through a follower"
else
	not_ok "a service with an HTTP check, through a follower"
fi
for be in $BES; do
	ctl "$F" backend add tcp "$VIP" "$be" >/dev/null || not_ok "backend add $be"
done
all_up() {
	local be
	for be in $BES; do
		state_everywhere "$be" up || return 1
		health_is 1 "$be" up && health_is 2 "$be" up && health_is 3 "$be" up ||
			return 1
	done
}
ok_if "three healthy backends, up in every kernel and every klbd" \
	wait_for 30 all_up
if out=$(ctl "$F" service set tcp "$VIP" timeout $((INTERVAL + 100)) 2>&1); then
	not_ok "a timeout over the interval is refused" "$out"
else
	ok "a timeout over the interval is refused"
fi

# A backend dies: down in every kernel, decided by the cluster.
where 1 >"$T/where-before"
kern 1 table show tcp "$VIP" >"$T/table-before"
t0=$(now_ms)
be_kill 11
if wait_for 20 state_everywhere 192.0.2.11:8080 down; then
	ms=$(($(now_ms) - t0))
	echo "# killed backend down in all three kernels after $ms ms (interval $INTERVAL ms, fall 2; polled every 100 ms or slower, in an emulated guest)"
	ok "a killed backend is down in all three kernels"
else
	not_ok "a killed backend is down in all three kernels" \
		"$(ctl 1 backend show tcp "$VIP" 2>&1)"
fi
failing_on_all() {
	[ "$(be_field "$1" 192.0.2.11:8080 failing_on ctl)" = "1,2,3" ] &&
		health_is "$1" 192.0.2.11:8080 down
}
ok_if "backend show says down and that all three gateways see it failing" \
	wait_for 10 failing_on_all "$F"
where 1 >"$T/where-after"
if ! grep -q 192.0.2.11:8080 "$T/where-after" &&
	[ "$(where 2)" = "$(cat "$T/where-after")" ] &&
	[ "$(where 3)" = "$(cat "$T/where-after")" ]; then
	ok "new flows avoid it, the same on every gateway"
else
	not_ok "new flows avoid it, the same on every gateway" "$(cat "$T/where-after")"
fi
# Maglev moves only the dead backend's slots: the others' flows stay.
kern 1 table show tcp "$VIP" >"$T/table-after"
moved=$(paste "$T/table-before" "$T/table-after" |
	awk '$2 != "192.0.2.11:8080" && $2 != $4 { n++ } END { print n + 0 }')
if [ -s "$T/table-after" ] && [ "$moved" = 0 ]; then
	ok "the other backends' table slots keep their backend"
else
	not_ok "the other backends' table slots keep their backend" \
		"$moved slots moved" "$(diff "$T/where-before" "$T/where-after")"
fi

# Back: up again after rise, everywhere.
t0=$(now_ms)
be_start 11
if wait_for 20 state_everywhere 192.0.2.11:8080 up; then
	echo "# restored in all three kernels after $(($(now_ms) - t0)) ms (rise 2)"
	ok "a backend back is up again in all three kernels"
else
	not_ok "a backend back is up again in all three kernels"
fi

# One gateway's broken link: not failed over, shown there.
ip -n "$(ns 1)" route add blackhole 192.0.2.13/32
recorded_elsewhere() {	# gateway 2 knows that gateway 1 sees it failing
	[ "$(be_field 2 192.0.2.13:8080 failing_on ctl)" = 1 ]
}
if wait_for 20 health_is 1 192.0.2.13:8080 unreachable-from-here &&
	wait_for 20 recorded_elsewhere; then
	ok "gateway 1 alone: unreachable-from-here there, its verdict recorded"
else
	not_ok "gateway 1 alone: unreachable-from-here there, its verdict recorded" \
		"$(ctl 1 backend show tcp "$VIP" 2>&1)"
fi
if state_everywhere 192.0.2.13:8080 up && health_is 2 192.0.2.13:8080 up; then
	ok "one gateway's broken link fails nothing over"
else
	not_ok "one gateway's broken link fails nothing over" \
		"$(ctl 2 backend show tcp "$VIP" 2>&1)"
fi
ip -n "$(ns 1)" route del blackhole 192.0.2.13/32
ok_if "the link back, gateway 1 sees it up again" \
	wait_for 20 health_is 1 192.0.2.13:8080 up

# An HTTP check that expects another status fails every backend.
ctl "$F" service set tcp "$VIP" check http:204 >/dev/null
all_down() {
	local be
	for be in $BES; do
		state_everywhere "$be" down || return 1
	done
}
ok_if "an HTTP check expecting 204 fails backends answering 200" \
	wait_for 20 all_down
ctl "$F" service set tcp "$VIP" check http >/dev/null
ok_if "expecting 200 again, all up" wait_for 20 all_up

# The operator's drain wins over health, both ways.
ctl "$F" backend set tcp "$VIP" 192.0.2.12:8080 state drain >/dev/null
ok_if "an operator's drain reaches every kernel" \
	wait_for 20 state_everywhere 192.0.2.12:8080 drain
be_kill 12
ok_if "drained and dead: down in every kernel" \
	wait_for 20 state_everywhere 192.0.2.12:8080 down
be_start 12
ok_if "healthy again: back to drain, not up" \
	wait_for 20 state_everywhere 192.0.2.12:8080 drain
ctl "$F" backend set tcp "$VIP" 192.0.2.12:8080 state up >/dev/null
ok_if "the operator's up: up" wait_for 20 state_everywhere 192.0.2.12:8080 up

# The leader dies in the middle of a failover: the survivors still take
# the backend down, and each kernel changes it once (down, never back up
# meanwhile), watched by klbctl monitor on each survivor's kernel.
wait_for 20 state_everywhere 192.0.2.11:8080 up
L=$(leader_among 1 2 3)
rest=
for i in 1 2 3; do
	[ "$i" = "$L" ] && continue
	rest="$rest $i"
	KLB_CONTROL_SOCKET=$T/none ip netns exec "$(ns "$i")" "$KLBCTL" -j monitor \
		>"$T/mon$i" 2>&1 &
	PID[mon$i]=$!
done
# The monitors are listening once they print the current state or an
# event; a write nobody cares about shows both are.
ctl "$F" backend set tcp "$VIP" 192.0.2.12:8080 weight 2 >/dev/null
monitors_ready() {
	local i
	for i in $rest; do
		grep -q "192.0.2.12:8080" "$T/mon$i" || return 1
	done
}
wait_for 30 monitors_ready
# What the monitors print from the kill on: the failover's changes.
declare -A mark
for i in $rest; do
	mark[$i]=$(wc -c <"$T/mon$i")
done
be_kill 11
kill -9 "${PID[$L]}"
wait "${PID[$L]}" 2>/dev/null
unset "PID[$L]"
down_on_rest() {
	local i
	for i in $rest; do
		[ "$(be_field "$i" 192.0.2.11:8080 state)" = down ] || return 1
	done
}
ok_if "the leader killed during a failover: down in the survivors' kernels" \
	wait_for 60 down_on_rest
# The old leader comes back and catches up: the decision is in its kernel.
start "$L"
ok_if "the old leader, restarted, has it down too" \
	wait_for 60 eval '[ "$(be_field "$L" 192.0.2.11:8080 state)" = down ]'
once() {
	local i downs ups
	for i in $rest; do
		tail -c +$((mark[$i] + 1)) "$T/mon$i" >"$T/failover$i"
		downs=$(grep -o '192.0.2.11:8080[^"]*-> down' "$T/failover$i" | wc -l)
		ups=$(grep -o '192.0.2.11:8080[^"]*-> up' "$T/failover$i" | wc -l)
		[ "$downs" = 1 ] && [ "$ups" = 0 ] || {
			echo "# gw$i: $downs down, $ups up"
			return 1
		}
	done
}
ok_if "each survivor's kernel took it down exactly once" once
for i in $rest; do
	kill "${PID[mon$i]}" 2>/dev/null
	wait "${PID[mon$i]}" 2>/dev/null
	unset "PID[mon$i]"
done
be_start 11
ctl "$F" backend set tcp "$VIP" 192.0.2.12:8080 weight 1 >/dev/null
ok_if "back, it is up everywhere" wait_for 30 state_everywhere 192.0.2.11:8080 up

# A check removed: nobody probes, nothing stays failed.
be_kill 13
wait_for 20 state_everywhere 192.0.2.13:8080 down
ctl "$F" service set tcp "$VIP" check none >/dev/null
unchecked_up() {
	state_everywhere 192.0.2.13:8080 up &&
		[ "$(be_field 1 192.0.2.13:8080 health ctl)" = unchecked ]
}
ok_if "check none: every backend up and unchecked" wait_for 20 unchecked_up

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

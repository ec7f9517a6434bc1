#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# klbctl monitor with klbd: three gateways (selftests/klbd/lib.sh) and a
# klb-echo backend answering HTTP (192.0.2.11). Run as root in the test
# guest.
#
# Covers: "klbctl -j monitor" on a follower prints, between the kernel's
# events, this gateway's verdict on a killed backend, then the committed
# health down with the gateways that see it failing, then up after a
# restart; a leader event naming the new leader after kill -9 of the
# leader; at most 16 watchers (the next one refused, counted); a watcher
# that never reads cut off at its queue's limit and counted while klbd
# keeps serving the others.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
ECHO=${KLB_ECHO:-$PWD/build/tools/loadgen/klb-echo}
BE=192.0.2.11:8080
VIP2=203.0.113.20:80

be_start() {
	: >"$T/echo"
	ip netns exec "$(ns 11)" "$ECHO" --id be11 -t "$BE" --http >"$T/echo" 2>&1 &
	PID[be]=$!
	wait_for 30 grep -q "^listening" "$T/echo"
}
be_kill() {
	kill -9 "${PID[be]}" 2>/dev/null
	wait "${PID[be]}" 2>/dev/null
	unset "PID[be]"
}
# ev PYTHON-EXPR: the monitor's output has, after line $SINCE, an event
# for which the expression (over e, the event's object) holds; prints
# its line number.
SINCE=0
ev() {
	python3 - "$T/mon" "$1" "$SINCE" <<-'EOP'
	import json, sys
	expr = ' '.join(sys.argv[2].split())
	for no, line in enumerate(open(sys.argv[1]), 1):
	    try:
	        e = json.loads(line)
	    except ValueError:
	        continue
	    if no > int(sys.argv[3]) and eval(expr):
	        print(no)
	        sys.exit(0)
	sys.exit(1)
	EOP
}
has_ev() { ev "$1" >/dev/null; }
# watchers SOCKET N SECONDS: opens N watchers that never read, prints
# each one's status, and holds them open for SECONDS.
watchers() {
	python3 - "$@" <<-'EOP'
	import socket, struct, sys, time
	socks = []
	for i in range(int(sys.argv[2])):
	    s = socket.socket(socket.AF_UNIX)
	    s.connect(sys.argv[1])
	    s.send(struct.pack('<IBBH', 4, 1, 7, 0))
	    ln, ver, op, _, st, ml = struct.unpack('<IBBHiI',
	                                           s.recv(16, socket.MSG_WAITALL))
	    print(st, flush=True)
	    if ml:
	        s.recv(ml, socket.MSG_WAITALL)
	    socks.append(s)
	time.sleep(float(sys.argv[3]))
	EOP
}

if ! setup 1 2 3 11; then
	not_ok "topology and configuration"
	exit 1
fi
be_start || not_ok "klb-echo starts"
start_cluster

ctl "$F" -j monitor >"$T/mon" 2>"$T/mon.err" &
PID[mon]=$!
check "monitor on a follower starts with the leader it knows" \
	wait_for 20 has_ev "e['event'] == 'leader' and e['leader'] == $L"
# Timeouts generous for an emulated guest: no flap before the kill.
if ctl "$F" service add tcp "$VIP" check http interval "$(ms 500)" timeout "$(ms 450)" \
	rise 2 fall 2 >/dev/null && ctl "$F" backend add tcp "$VIP" "$BE" >/dev/null; then
	ok "a service with an HTTP check and a backend"
else
	not_ok "a service with an HTTP check and a backend"
fi
check "the kernel's events are still there" \
	wait_for 20 has_ev "e['event'] == 'service-add'"
up_here() { [ "$(ctl "$F" backend show tcp "$VIP" 2>/dev/null | awk 'NR == 2 { print $5 }')" = up ]; }
check "the backend is up" wait_for 60 up_here

SINCE=$(wc -l <"$T/mon")
be_kill
E="e.get('backend') == '$BE'"
if wait_for 30 has_ev "e['event'] == 'verdict' and $E and e['verdict'] == 'failing' and
		e['gateway'] == $F and e['reason'] != ''"; then
	ok "the follower's own verdict: failing, with its reason"
else
	not_ok "the follower's own verdict: failing, with its reason" "$(cat "$T/mon")"
fi
# The failing gateways named are those the leader had heard from when it
# decided: any majority, not necessarily this follower, whose own verdict
# may therefore come before or after the decision.
if wait_for 30 has_ev "e['event'] == 'health' and $E and e['health'] == 'down' and
		len(e['failing_on']) >= 2 and e['index'] > 0"; then
	ok "the committed health down, with the gateways seeing it failing"
else
	not_ok "the committed health down, with the gateways seeing it failing" \
		"$(cat "$T/mon")"
fi
SINCE=$(wc -l <"$T/mon")
be_start || not_ok "klb-echo starts again"
# Up as soon as a majority no longer sees it failing.
check "back: health up, fewer than two failing it" \
	wait_for 30 has_ev "e['event'] == 'health' and $E and e['health'] == 'up' and
		len(e['failing_on']) < 2"
check "and the follower's own verdict: healthy" \
	wait_for 30 has_ev "e['event'] == 'verdict' and $E and e['verdict'] == 'healthy' and
		e['gateway'] == $F"

# The leader dies: the follower's stream names the new one.
SINCE=$(wc -l <"$T/mon")
kill -9 "${PID[$L]}"
wait "${PID[$L]}" 2>/dev/null
unset "PID[$L]"
rest=$(echo 1 2 3 | tr ' ' '\n' | grep -vx "$L" | tr '\n' ' ')
if wait_for 60 has_leader $rest; then
	L2=$(leader_among $rest)
	if wait_for 20 has_ev "e['event'] == 'leader' and e['leader'] == $L2 and
			e['term'] > 1"; then
		ok "a leader event with the new leader ($L2)"
	else
		not_ok "a leader event with the new leader ($L2)" "$(cat "$T/mon")"
	fi
else
	not_ok "a new leader after kill -9 of the leader"
fi
start "$L"

# Watchers are limited: the monitor is one, 15 more fit.
over=$(field "$F" watch_over_limit)
watchers "$T/c$F.sock" 16 1 >"$T/limit" 2>&1
if [ "$(grep -c '^0$' "$T/limit")" = 15 ] && [ "$(tail -n 1 "$T/limit")" = -16 ] &&
	[ "$(field "$F" watch_over_limit)" = $((over + 1)) ]; then
	ok "16 watchers at most, the 17th refused (EBUSY) and counted"
else
	not_ok "16 watchers at most, the 17th refused (EBUSY) and counted" \
		"$(cat "$T/limit")" "over_limit $over -> $(field "$F" watch_over_limit)"
fi

# A watcher that never reads: flapping backends fill its queue. The
# flapping, 100 backends probed by three gateways, is sized for Debian's
# kernel: one many times slower (KLB_TEST_SLOW > 1, make check-debug)
# cannot keep up with it, and what it checks is klbd's own queue, not the
# kernel.
if [ "$SLOW" -gt 1 ]; then
	for t in "a second watcher that never reads" \
		"a watcher that never reads is cut off and counted" \
		"the slow watcher is gone, the monitor stays"; do
		ok "$t # SKIP the flapping is sized for Debian's kernel (KLB_TEST_SLOW=$SLOW)"
	done
else
	ctl "$F" service add tcp "$VIP2" check http interval 1000 timeout 900 rise 1 \
		fall 1 check-port 8080 >/dev/null || not_ok "the flapping service"
	for p in $(seq 1 100); do
		ctl "$F" backend add tcp "$VIP2" "192.0.2.11:$p" >/dev/null ||
			not_ok "backend add 192.0.2.11:$p"
	done
	ovf=$(field "$F" watch_overflows)
	watchers "$T/c$F.sock" 1 600 >/dev/null 2>&1 &
	PID[slow]=$!
	watchers_are() { [ "$(field "$F" watchers)" = "$1" ]; }
	if wait_for 60 watchers_are 2; then
		ok "a second watcher that never reads"
	else
		not_ok "a second watcher that never reads" "watchers $(field "$F" watchers)" \
			"monitor $(kill -0 "${PID[mon]}" 2>&1 && echo running)" "$(cat "$T/mon.err")"
	fi
	overflowed() { [ "$(field "$F" watch_overflows)" -gt "$ovf" ]; }
	# at_least N HEALTH: the monitor saw N health events HEALTH of VIP2.
	at_least() {
		[ "$(python3 - "$T/mon" "$2" <<-'EOP'
		import json, sys
		n = 0
		for line in open(sys.argv[1]):
		    try:
		        e = json.loads(line)
		    except ValueError:
		        continue
		    n += (e['event'] == 'health' and e['health'] == sys.argv[2] and
		          e['service'] == 'tcp 203.0.113.20:80')
		print(n)
		EOP
		)" -ge "$1" ]
	}
	flips=0
	while ! overflowed && [ $flips -lt 20 ]; do
		flips=$((flips + 1))
		be_kill
		wait_for 90 at_least $((100 * flips)) down || break
		be_start
		wait_for 90 at_least $((100 * flips)) up || break
	done
	if overflowed; then
		ok "a watcher that never reads is cut off and counted ($flips flips)"
	else
		not_ok "a watcher that never reads is cut off and counted ($flips flips)" \
			"$(grep -c '"health"' "$T/mon") health events"
	fi
	check "the slow watcher is gone, the monitor stays" wait_for 10 watchers_are 1
fi
SINCE=$(wc -l <"$T/mon")
if ctl "$F" backend set tcp "$VIP" "$BE" weight 7; then
	ok "klbd keeps serving writes"
else
	not_ok "klbd keeps serving writes" "$(ctl "$F" cluster status 2>&1 | paste -sd " ")"
fi
check "and the monitor keeps printing" \
	wait_for 20 has_ev "e['event'] == 'commit' and any('weight 1 -> 7' in c for c in e['changes'])"
check "the monitor is still running" kill -0 "${PID[mon]}"

echo "1..$n"
[ "$failed" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Leases: backends that register themselves (Documentation/klbd.md,
# Leases). Three gateways with klbd (selftests/klbd/lib.sh), each with
# the registration endpoint on 192.0.2.N:9560 and one token.
#
# Covers: a backend registered over HTTP (PUT, ttl 10 s, stretched by
# KLB_TEST_SLOW) reaches all three kernels; renewals every second keep
# it for more than two ttls; renewals stopped, it leaves all three
# kernels after its ttl and within ttl + a margin; no token or a wrong
# one gets 401, changes nothing and is counted; DELETE deregisters, and
# an operator's backend is not the token's to remove; the leader killed
# with half a lease spent, the backend stays a full ttl (the new
# leader's grace), then expires; klbctl backend add ... ttl and backend
# renew, the same; an operator's drain keeps the lease. Run as root in
# the test guest. Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
# Long enough for a renewal (a few processes started) to come every
# second or two in an emulated guest that shares its host. The ttl is the
# deadline the renewals must beat: stretched by KLB_TEST_SLOW, as under
# the debug kernel a renewal by curl takes about 5 s.
TTL=$((10 * SLOW))
# The leader's tick, a commit, three reconciles, and this polling of three
# kernels, in such a guest.
MARGIN_MS=$(ms 6000)
BE=198.51.100.2:80
BE_CTL=198.51.100.3:80
BE_OP=198.51.100.4:80

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# reg N METHOD BACKEND [QUERY] [TOKEN]: an HTTP request to gateway N's
# endpoint; prints the status code, the body in $BODY (default $T/body).
reg() {
	local tok=${5-$TOKEN} auth=()
	[ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
	ip netns exec "$(ns "$1")" curl -s -m 30 -o "${BODY:-$T/body}" -w '%{http_code}' \
		-X "$2" "${auth[@]}" \
		"http://192.0.2.$1:9560/v1/services/tcp/$VIP/backends/$3${4:+?$4}"
}
in_all() {	# in_all PATTERN [GATEWAYS]: every kernel has it
	local i
	for i in ${2:-1 2 3}; do
		kernel_has "$i" "backend $1" || return 1
	done
}
in_none() {
	local i
	for i in ${2:-1 2 3}; do
		kernel_has "$i" "backend $1" && return 1
	done
	return 0
}
# renewer CMD...: runs CMD (a renewal) every second, in the background,
# until renewer_stop; the last success's start and end (ms) go to
# $T/renewed, a failure's output to $T/renew_failed, every attempt's times
# to $T/renew_log. Its own clock: slow polling elsewhere does not delay it.
renewer() {
	: >"$T/renewed"
	: >"$T/renew_failed"
	: >"$T/renew_log"
	rm -f "$T/stop"
	(
		while [ ! -e "$T/stop" ]; do
			began=$(now_ms)
			if out=$("$@" 2>&1); then
				echo "$began $(now_ms)" >"$T/renewed"
			else
				echo "$out" >>"$T/renew_failed"
			fi
			echo "$began-$(now_ms) ${out:-ok}" >>"$T/renew_log"
			sleep 1
		done
	) &
	RENEWER=$!
	PID[renewer]=$RENEWER
}
# Waits for the renewal in progress, if any: none comes after.
renewer_stop() {
	touch "$T/stop"
	wait "$RENEWER" 2>/dev/null
}
# http_renew N BACKEND: a PUT that must renew. Its body has a file of its
# own: the checks' requests meanwhile write $T/body.
http_renew() {
	local code BODY=$T/renew_body
	code=$(reg "$1" PUT "$2" "ttl=$TTL") && [ "$code" = 200 ] &&
		grep -q renewed "$BODY" || { echo "$code $(cat "$BODY")"; return 1; }
}
# kept SECONDS BACKEND [GATEWAYS]: every kernel has the backend whenever
# looked at, for SECONDS, and the renewals all succeeded.
kept() {
	local end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		in_all "$2" "${3:-}" || return 1
		sleep 0.5
	done
	awk -F'[- ]' '$2 - $1 > max { max = $2 - $1 }
		END { print "# the slowest of " NR " renewals took " max + 0 " ms" }' "$T/renew_log"
	[ ! -s "$T/renew_failed" ]
}
# gone_within BACKEND [GATEWAYS]: waits for the backend to leave every
# kernel; fails when that is before the ttl from the last renewal's start
# (the leader moved the deadline between its start and its end) or later
# than ttl + margin from its end.
gone_within() {
	local began ended gone
	read -r began ended <"$T/renewed"
	wait_for $((TTL + MARGIN_MS / 1000 + 5)) in_none "$1" "${2:-}" || return 1
	gone=$(now_ms)
	echo "# $1 left $((gone - ended)) ms after the last renewal's answer (ttl $((TTL * 1000)) ms)"
	[ $((gone - began)) -ge $((TTL * 1000)) ] && [ $((gone - ended)) -le $((TTL * 1000 + MARGIN_MS)) ]
}

echo "TAP version 13"
if ! setup 1 2 3; then
	echo "Bail out! cannot set up namespaces"
	exit 1
fi
head -c 32 /dev/urandom | base64 | tr -d '/+=' >"$T/token" && chmod 600 "$T/token"
TOKEN=$(cat "$T/token")
for i in 1 2 3; do
	sed -i "/^control-socket/a register = 192.0.2.$i:9560\nregister-token-file = $T/token" \
		"$T/n$i.conf"
done
start_cluster
ctl "$L" service add tcp "$VIP" table-size 251 >/dev/null
check "the service is in all three kernels" \
	wait_for 30 eval 'kern 1 save | grep -q "^service" && kern 2 save | grep -q "^service" &&
		kern 3 save | grep -q "^service"'

# A registration through a follower: forwarded, committed, in every kernel.
code=$(reg "$F" PUT "$BE" "ttl=$TTL&weight=2")
if [ "$code" = 200 ] && grep -q registered "$T/body"; then
	ok "PUT through a follower registers the backend (200)"
else
	not_ok "PUT through a follower registers the backend (200)" "$code $(cat "$T/body")"
fi
renewer http_renew "$F" "$BE"
check "the registered backend is in all three kernels" wait_for 30 in_all "$BE"
check "with the weight it registered with" eval 'kern 1 save | grep "backend $BE" | grep -q "weight 2"'

# Renewals keep it for more than two ttls.
started=$(now_ms)
if kept $((2 * TTL + 2)) "$BE"; then
	ok "renewals every second keep it in all three kernels for $(($(now_ms) - started)) ms (ttl $TTL s)"
else
	not_ok "renewals every second keep it in all three kernels" \
		"registered at $started ms; renewals:" "$(cat "$T/renew_log")"
fi
applied=$(field "$L" applied_entries)

# Bad tokens meanwhile: 401, counted, nothing changes.
unauth=$(field "$F" register_unauthorized)
c1=$(reg "$F" PUT 198.51.100.9:80 "ttl=$TTL" "")
c2=$(reg "$F" PUT 198.51.100.9:80 "ttl=$TTL" "not-the-token-at-all")
c3=$(reg "$F" DELETE "$BE" "" "${TOKEN}x")
if [ "$c1$c2$c3" = 401401401 ]; then
	ok "no token, a wrong token, a longer one: 401 each"
else
	not_ok "no token, a wrong token, a longer one: 401 each" "$c1 $c2 $c3"
fi
check "the 401s are counted" eval '[ "$(field $F register_unauthorized)" = $((unauth + 3)) ]'
check "a refused request changes nothing" \
	eval 'in_none 198.51.100.9:80 && [ "$(field $L applied_entries)" = "$applied" ]'

# Renewals stopped: it leaves every kernel, after its ttl, within a margin.
expiries=$(field "$L" lease_expiries)
renewer_stop
check "without renewals it leaves all three kernels after ttl, within ttl + $MARGIN_MS ms" \
	gone_within "$BE"
check "the leader counted the expiry" \
	eval '[ "$(field $L lease_expiries)" = $((expiries + 1)) ]'
code=$(reg "$F" PUT "$BE" "ttl=60")
if [ "$code" = 200 ] && grep -q registered "$T/body" && wait_for 30 in_all "$BE"; then
	ok "an expired backend registers again"
else
	not_ok "an expired backend registers again" "$code $(cat "$T/body")"
fi

# DELETE deregisters; an operator's backend is not the token's.
code=$(reg "$L" DELETE "$BE")
if [ "$code" = 200 ] && wait_for 30 in_none "$BE"; then
	ok "DELETE deregisters: gone from all three kernels"
else
	not_ok "DELETE deregisters: gone from all three kernels" "$code $(cat "$T/body")"
fi
ctl "$L" backend add tcp "$VIP" "$BE_OP" >/dev/null
c1=$(reg "$F" DELETE "$BE_OP")
c2=$(reg "$F" PUT "$BE_OP" "ttl=$TTL")
if [ "$c1$c2" = 409409 ] && wait_for 30 in_all "$BE_OP"; then
	ok "an operator's backend: DELETE and PUT get 409, it stays"
else
	not_ok "an operator's backend: DELETE and PUT get 409, it stays" "$c1 $c2 $(cat "$T/body")"
fi
c1=$(reg "$F" PUT "$BE" "ttl=0")
c2=$(reg "$F" PUT "$BE" "ttl=$TTL&color=red")
c3=$(reg "$F" GET "$BE")
if [ "$c1$c2$c3" = 400400405 ] && in_none "$BE"; then
	ok "a bad ttl, an unknown parameter, a GET: 400, 400, 405"
else
	not_ok "a bad ttl, an unknown parameter, a GET: 400, 400, 405" "$c1 $c2 $c3"
fi

# klbctl: backend add ... ttl, backend renew; the operator's drain keeps the lease.
ctl "$F" backend add tcp "$VIP" "$BE_CTL" ttl "$TTL" >/dev/null
added=$?
renewer ctl "$F" backend renew tcp "$VIP" "$BE_CTL"
if [ "$added" = 0 ] && wait_for 30 in_all "$BE_CTL"; then
	ok "klbctl backend add ... ttl $TTL: in all three kernels"
else
	not_ok "klbctl backend add ... ttl $TTL: in all three kernels"
fi
check "klbctl backend renew every second keeps it for more than two ttls" \
	kept $((2 * TTL + 2)) "$BE_CTL"
ctl "$L" backend set tcp "$VIP" "$BE_CTL" state drain >/dev/null
check "drained by the operator, it keeps its lease" \
	eval 'wait_for 30 eval "kern 1 save | grep \"backend $BE_CTL\" | grep -q drain" &&
		kept 2 "$BE_CTL"'
renewer_stop
check "renewals stopped, the drained backend leaves after ttl, within ttl + $MARGIN_MS ms" \
	gone_within "$BE_CTL"
if out=$(ctl "$F" backend renew tcp "$VIP" "$BE_CTL" 2>&1); then
	not_ok "klbctl backend renew of an expired backend fails" "$out"
else
	ok "klbctl backend renew of an expired backend fails (${out##*: })"
fi
if out=$(ctl "$F" backend renew tcp "$VIP" "$BE_OP" 2>&1); then
	not_ok "klbctl backend renew of an operator's backend fails" "$out"
else
	ok "klbctl backend renew of an operator's backend fails (${out##*: })"
fi

# The leader killed while a lease is live: a full ttl from the new
# leader's start, so never gone before ttl after the kill; then it expires.
L=$(leader_among 1 2 3)
rest=$(echo 1 2 3 | tr ' ' '\n' | grep -v "^$L$" | tr '\n' ' ')
F=${rest%% *}
code=$(reg "$F" PUT "$BE" "ttl=$TTL")
renewer http_renew "$F" "$BE"
if [ "$code" = 200 ] && wait_for 30 in_all "$BE"; then
	ok "registered before the leader is killed"
else
	not_ok "registered before the leader is killed" "$code $(cat "$T/body")"
fi
renewer_stop
# Half the lease spent first (a time, not a condition to poll for): with
# the old leader's deadline it would go ttl/2 after the kill, with the
# new leader's a full ttl after it took over.
read -r _ last <"$T/renewed"
while [ "$(now_ms)" -lt $((last + TTL * 500)) ]; do
	sleep 0.1
done
kill -9 "${PID[$L]}"
killed=$(now_ms)
# Present in the survivors' kernels until ttl after the kill; else says
# when, and what the kernel held. A read takes seconds under the debug
# kernel: one that ended after the ttl may have looked after it, and a
# backend missing from it is no failure.
stays() {
	local i out ended
	while [ $(($(now_ms) - killed)) -lt $((TTL * 1000 - 200)) ]; do
		for i in $rest; do
			out=$(kern "$i" save 2>&1) && grep -q -- "backend $BE" <<<"$out" && continue
			ended=$(($(now_ms) - killed))
			[ "$ended" -ge $((TTL * 1000)) ] && return 0
			echo "# $ended ms after the kill, gateway $i's kernel:"
			grep -v '^table' <<<"$out" | sed 's/^/#   /'
			return 1
		done
		sleep 0.2
	done
}
check "the leader killed, the backend stays for its ttl (the new leader's grace)" stays
check "a new leader" wait_for 30 has_leader $rest
L2=$(leader_among $rest)
gone=0
if wait_for $((TTL + 30)) in_none "$BE" "$rest"; then
	gone=$(($(now_ms) - killed))
	ok "not renewed, it expires under the new leader ($gone ms after the kill)"
else
	not_ok "not renewed, it expires under the new leader"
fi
check "the new leader counted that expiry" eval '[ "$(field $L2 lease_expiries)" -ge 1 ]'
start "$L"
check "the old leader comes back without the backend" \
	wait_for 30 eval 'in_none "$BE" "$L" && kernel_has $L "backend $BE_OP"'

echo "1..$n"
[ "$failed" -eq 0 ]

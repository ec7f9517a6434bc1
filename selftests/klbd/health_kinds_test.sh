#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The health check kinds beyond tcp and http, on a one-gateway klbd
# cluster (selftests/klbd/lib.sh; one voter, so its verdict is the
# cluster's): https against `openssl s_server -www` with a throwaway
# self-signed key (192.0.2.11), dns against a small UDP responder whose
# RCODE the test sets (192.0.2.12), exec:NAME with scripts the test writes
# into a checks directory of its own (checks-dir in klbd.conf).
#
# Covers, for each kind: a healthy backend is up in the kernel; broken
# (a wrong HTTP status, a server that is not TLS, the server stopped;
# SERVFAIL, the responder stopped; a script that exits 1, hangs past the
# timeout, is missing) it is down in the kernel with the reason in klbd's
# log; recovered, it is up again. Also: a script's arguments and
# environment, no script left running after its timeout, the bound on
# scripts running at once (probes_exec_over_limit), a flapping backend
# held up by fall (hysteresis), klbctl's refusal of
# bad names. Run as root in the test guest; prints TAP.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
HTTPS=203.0.113.10:443
DNS=203.0.113.10:53
EXEC=203.0.113.10:80
CHECKS=$T/checks
# Debian's python3 (tools/deps.sh), whatever PATH finds first.
PY=${PYTHON3:-/usr/bin/python3}

state_is() { [ "$(be_state "$1" "$2" "$3")" = "$4" ]; }
# expect NAME PROTO VIP BACKEND STATE [LOG-REGEX]: it reaches STATE (and
# klbd's log says why).
expect() {
	local name=$1 proto=$2 vip=$3 be=$4 st=$5 why=${6:-}
	if wait_for 30 state_is "$proto" "$vip" "$be" "$st" &&
		{ [ -z "$why" ] || wait_for 10 grep -q -- "$why" "$T/log1"; }; then
		ok "$name"
	else
		not_ok "$name" "state: $(be_state "$proto" "$vip" "$be")" \
			"$(grep 'health:' "$T/log1" | tail -n 5 | tr '\n' '|')"
	fi
}
listening() {	# listening NS PORT [u]: something listens there
	ip netns exec "$(ns "$1")" ss -ln${3:-t} | grep -q ":$2 "
}

# Backends.
tls_start() {
	ip netns exec "$(ns 11)" openssl s_server -quiet -www -accept 8443 \
		-key "$T/key.pem" -cert "$T/cert.pem" >"$T/tls.log" 2>&1 &
	PID[tls]=$!
	wait_for 30 listening 11 8443
}
tls_stop() {
	kill -9 "${PID[tls]}" 2>/dev/null
	wait "${PID[tls]}" 2>/dev/null
	unset "PID[tls]"
}
cat >"$T/dns.py" <<'EOF'
# A DNS responder for the test: answers every query with the RCODE in
# the file named by argv[1] (0 when it is empty), the question echoed.
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
print("listening", flush=True)
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    try:
        rcode = int(open(sys.argv[1]).read().strip() or 0)
    except (OSError, ValueError):
        rcode = 0
    s.sendto(q[:2] + bytes([0x80 | (q[2] & 0x78), rcode]) + q[4:], peer)
EOF
dns_start() {
	: >"$T/dns.out"
	ip netns exec "$(ns 12)" "$PY" "$T/dns.py" "$T/rcode" >"$T/dns.out" 2>&1 &
	PID[dns]=$!
	wait_for 30 grep -q listening "$T/dns.out"
}
dns_stop() {
	kill -9 "${PID[dns]}" 2>/dev/null
	wait "${PID[dns]}" 2>/dev/null
	unset "PID[dns]"
}

if ! setup 1 11 12; then
	not_ok "topology and configuration"
	exit 1
fi
mkdir -p "$CHECKS"
# One gateway: its own peer only, and the test's checks directory.
one_gateway_conf "checks-dir = $CHECKS"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/key.pem" -out "$T/cert.pem" -days 1 -subj /CN=klb-test \
	>/dev/null 2>&1; then
	ok "a throwaway self-signed key"
else
	not_ok "a throwaway self-signed key"
fi
tls_start || not_ok "openssl s_server starts"
echo 0 >"$T/rcode"
dns_start || not_ok "the DNS responder starts"
start_one_gateway

# klbctl refuses names that could leave the checks directory.
bad=0
for name in ../x a/b "" abcdefghijabcdefghijabcdefghij123 "a b"; do
	if out=$(ctl 1 service add tcp "$EXEC" check "exec:$name" 2>&1) ||
		! echo "$out" | grep -q "exec:NAME"; then
		bad=1
		echo "# exec:$name: $out"
	fi
done
if [ "$bad" = 0 ] && ! ctl 1 service show tcp "$EXEC" >/dev/null 2>&1; then
	ok "bad script names are refused, nothing is added"
else
	not_ok "bad script names are refused, nothing is added"
fi

# https
TB=192.0.2.11:8443
ctl 1 service add tcp "$HTTPS" check https interval 2000 timeout 2000 rise 2 fall 2 \
	>/dev/null && ctl 1 backend add tcp "$HTTPS" "$TB" >/dev/null ||
	not_ok "an https service and its backend"
expect "https: a TLS server answering 200 is up" tcp "$HTTPS" "$TB" up
ctl 1 service set tcp "$HTTPS" check https:204 >/dev/null
expect "https:204 against 200: down" tcp "$HTTPS" "$TB" down "HTTP status 200, not 204"
ctl 1 service set tcp "$HTTPS" check https >/dev/null
expect "https again: up" tcp "$HTTPS" "$TB" up
tls_stop
expect "https: the server stopped, down" tcp "$HTTPS" "$TB" down "port 8443 failing from here (Connection refused)"
tls_start
expect "https: the server back, up" tcp "$HTTPS" "$TB" up
# A server that does not speak TLS: the handshake fails, with its reason.
ip netns exec "$(ns 11)" "$PY" -m http.server --bind 192.0.2.11 8080 \
	>"$T/plain.log" 2>&1 &
PID[plain]=$!
wait_for 30 listening 11 8080 || not_ok "a plain HTTP server starts"
ctl 1 backend add tcp "$HTTPS" 192.0.2.11:8080 >/dev/null
expect "https against plain HTTP: down, 'TLS handshake: ...' in the log" \
	tcp "$HTTPS" 192.0.2.11:8080 down "port 8080 failing from here (TLS handshake: "
if state_is tcp "$HTTPS" "$TB" up; then
	ok "https: the TLS backend beside it stays up"
else
	not_ok "https: the TLS backend beside it stays up"
fi

# dns
DB=192.0.2.12:53
ctl 1 service add udp "$DNS" check dns interval 500 timeout 500 rise 2 fall 2 \
	>/dev/null && ctl 1 backend add udp "$DNS" "$DB" >/dev/null ||
	not_ok "a dns service and its backend"
expect "dns: an answering server is up" udp "$DNS" "$DB" up
echo 2 >"$T/rcode"
expect "dns: SERVFAIL, down" udp "$DNS" "$DB" down "(DNS: SERVFAIL)"
echo 5 >"$T/rcode"
expect "dns: REFUSED (an authoritative-only server) counts as serving, up" \
	udp "$DNS" "$DB" up
dns_stop
expect "dns: the responder stopped (port unreachable), down" udp "$DNS" "$DB" down \
	"port 53 failing from here (Connection refused)"
echo 0 >"$T/rcode"
dns_start
expect "dns: the responder back, up" udp "$DNS" "$DB" up

# exec
XB=192.0.2.13:8080
# Shell builtins only: a first exec from the guest's 9p root is slow.
cat >"$CHECKS/flag" <<EOF
#!/bin/sh
printf '%s\\n' "\$*" "KLB_BACKEND_ADDR=\$KLB_BACKEND_ADDR" \\
	"KLB_BACKEND_PORT=\$KLB_BACKEND_PORT" "KLB_SERVICE_PROTO=\$KLB_SERVICE_PROTO" \\
	"KLB_VIP=\$KLB_VIP" "KLB_VIP_PORT=\$KLB_VIP_PORT" >"$T/args.new"
mv "$T/args.new" "$T/args"
[ -e "$T/healthy" ]
EOF
printf '#!/bin/sh\nexec sleep 300\n' >"$CHECKS/hang"
chmod +x "$CHECKS/flag" "$CHECKS/hang"
touch "$T/healthy"
ctl 1 service add tcp "$EXEC" check exec:flag interval 3000 timeout 3000 rise 2 fall 2 \
	>/dev/null && ctl 1 backend add tcp "$EXEC" "$XB" >/dev/null ||
	not_ok "an exec service and its backend"
# A backend starts healthy: the script must have run, too.
wait_for 30 test -s "$T/args"
expect "exec: a script that exits 0, up" tcp "$EXEC" "$XB" up
want="192.0.2.13 8080 tcp 203.0.113.10 80
KLB_BACKEND_ADDR=192.0.2.13
KLB_BACKEND_PORT=8080
KLB_SERVICE_PROTO=tcp
KLB_VIP=203.0.113.10
KLB_VIP_PORT=80"
if [ "$(cat "$T/args" 2>/dev/null)" = "$want" ]; then
	ok "exec: the script gets the backend and the service as arguments and in its environment"
else
	not_ok "exec: the script gets the backend and the service as arguments and in its environment" \
		"$(cat "$T/args" 2>&1 | tr '\n' '|')"
fi
rm "$T/healthy"
expect "exec: the script exits 1, down" tcp "$EXEC" "$XB" down "(script: exit status 1)"
touch "$T/healthy"
expect "exec: exits 0 again, up" tcp "$EXEC" "$XB" up
ctl 1 service set tcp "$EXEC" check exec:hang >/dev/null
expect "exec: a script that hangs past the timeout, down" tcp "$EXEC" "$XB" down \
	"(script: timed out, killed)"
ctl 1 service set tcp "$EXEC" check exec:flag >/dev/null
expect "exec: back to a good script, up" tcp "$EXEC" "$XB" up
no_sleepers() { ! pgrep -f "^sleep 300" >/dev/null; }
if wait_for 10 no_sleepers; then
	ok "exec: no killed script left running"
else
	not_ok "exec: no killed script left running" "$(pgrep -af "^sleep 300")"
fi
ctl 1 service set tcp "$EXEC" check exec:nosuch >/dev/null
expect "exec: a missing script, down with the reason" tcp "$EXEC" "$XB" down \
	"checks/nosuch: No such file or directory)"
ctl 1 service set tcp "$EXEC" check exec:flag >/dev/null
expect "exec: the script there, up" tcp "$EXEC" "$XB" up

# A flapping backend: every other probe fails. fall 2 never sees two
# failures in a row, so the verdict holds (hysteresis): never failed over.
cat >"$CHECKS/flap" <<EOF
#!/bin/sh
read -r n <"$T/flaps" || n=0
n=\$((n + 1))
echo "\$n" >"$T/flaps"
[ \$((n % 2)) = 0 ]
EOF
chmod +x "$CHECKS/flap"
echo 0 >"$T/flaps"
fails_before=$(grep -c "port 8080 failing from here" "$T/log1")
ctl 1 service set tcp "$EXEC" check exec:flap >/dev/null
held=1
flapped() {
	[ "$(be_state tcp "$EXEC" "$XB")" = up ] || held=0
	[ "$(cat "$T/flaps" 2>/dev/null || echo 0)" -ge 8 ]
}
if wait_for 90 flapped && [ "$held" = 1 ] &&
	[ "$(grep -c "port 8080 failing from here" "$T/log1")" = "$fails_before" ]; then
	ok "a flapping backend (every other probe fails) stays up: fall 2 holds"
else
	not_ok "a flapping backend (every other probe fails) stays up: fall 2 holds" \
		"probes $(cat "$T/flaps"), held $held, state $(be_state tcp "$EXEC" "$XB")"
fi
ctl 1 service set tcp "$EXEC" check exec:flag >/dev/null

# The bound on scripts at once: 20 backends whose script hangs.
ctl 1 service add tcp 203.0.113.11:80 check exec:hang interval 5000 timeout 5000 \
	>/dev/null || not_ok "a service of hanging scripts"
for i in $(seq 1 20); do
	ctl 1 backend add tcp 203.0.113.11:80 "198.51.100.$i:80" >/dev/null
done
over_limit() { [ "$(field 1 probes_exec_over_limit)" -gt 0 ] 2>/dev/null; }
if wait_for 30 over_limit; then
	running=$(field 1 probe_scripts_running)
	sleepers=$(pgrep -fc "^sleep 300")
	if [ "$running" -le 16 ] && [ "$sleepers" -le 16 ]; then
		ok "at most 16 scripts run at once; the rest wait and are counted"
	else
		not_ok "at most 16 scripts run at once; the rest wait and are counted" \
			"running $running, sleep processes $sleepers"
	fi
else
	not_ok "at most 16 scripts run at once; the rest wait and are counted" \
		"probes_exec_over_limit: $(field 1 probes_exec_over_limit)"
fi
ctl 1 service del tcp 203.0.113.11:80 >/dev/null
if wait_for 15 no_sleepers; then
	ok "their service deleted, the hanging scripts are killed at their timeout"
else
	not_ok "their service deleted, the hanging scripts are killed at their timeout"
fi

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

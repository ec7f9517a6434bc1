#!/bin/sh
# klb-loadgen against klb-echo on loopback, TAP on stdout.
#
# Three klb-echo servers with distinct identities share the same ports
# (SO_REUSEPORT), so the kernel spreads flows among them the way a
# balancer would, and every share is checked against what was sent.
# Ports are the kernel's choice; readiness is polled with a deadline.
set -u
cd "$(dirname "$0")/../.."
bin=${O:-build}/tools/loadgen
loadgen=$bin/klb-loadgen
echo_bin=$bin/klb-echo

tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. selftests/lib/tap.sh

# Waits until FILE has COUNT lines matching PATTERN. The deadline only
# bounds a failure: on a slow machine python3 alone takes seconds to start.
wait_lines() {
	file=$1 pattern=$2 count=$3
	end=$(($(date +%s) + 20))
	while :; do
		seen=$(grep -c "$pattern" "$file" 2>/dev/null)
		[ "${seen:-0}" -ge "$count" ] && return 0
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.02
	done
}

# The summary (last JSON line) of FILE must satisfy a Python expression on d.
json_ok() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
d = json.loads(lines[-1])
ok = eval("(" + sys.argv[2] + ")", {"d": d, "lines": lines, "json": json})
if not ok:
	print("# " + lines[-1])
sys.exit(0 if ok else 1)
EOF
}

# The rule every summary keeps: each attempt ends once, each success is
# one backend's reply, and the shares add up to the whole.
SUMS='d["successes"] + d["errors"]["total"] == d["attempts"] and
	sum(b["replies"] for b in d["backends"].values()) == d["successes"] and
	(d["successes"] == 0 or abs(sum(b["share"] for b in d["backends"].values()) - 1) < 0.01)'

echo "1..16"

# --- three backends on the same ports -------------------------------------
"$echo_bin" --id alpha --reuseport -t 127.0.0.1:0 -u 127.0.0.1:0 -t '[::1]:0' \
	>"$tmp/alpha" 2>&1 &
pids="$pids $!"
if ! wait_lines "$tmp/alpha" '^listening' 3; then
	not_ok "klb-echo alpha listens" "$(cat "$tmp/alpha")"
	exit 1
fi
tcp=$(awk '/^listening tcp 127/ { print $3 }' "$tmp/alpha")
udp=$(awk '/^listening udp 127/ { print $3 }' "$tmp/alpha")
tcp6=$(awk '/^listening tcp \[/ { print $3 }' "$tmp/alpha")
for id in beta gamma; do
	"$echo_bin" --id $id --reuseport -t "$tcp" -u "$udp" -t "$tcp6" >"$tmp/$id" 2>&1 &
	pids="$pids $!"
done
if wait_lines "$tmp/beta" '^listening' 3 && wait_lines "$tmp/gamma" '^listening' 3; then
	ok "three klb-echo servers listen on $tcp, $udp, $tcp6"
else
	not_ok "three klb-echo servers listen" "$(cat "$tmp/beta" "$tmp/gamma")"
	exit 1
fi

# --- short-lived TCP -------------------------------------------------------
"$loadgen" -j -n 600 -c 16 "$tcp" >"$tmp/tcp.json" 2>"$tmp/err"
rc=$?
check "tcp short-lived: exit 0" [ "$rc" -eq 0 ]
check "tcp short-lived: 600 connections, 600 answered, shares sum up" \
	json_ok "$tmp/tcp.json" "d['attempts'] == 600 and d['successes'] == 600 and $SUMS"
check "tcp short-lived: all three backends served" \
	json_ok "$tmp/tcp.json" "sorted(d['backends']) == ['alpha', 'beta', 'gamma']"

# --- long-lived TCP --------------------------------------------------------
"$loadgen" -j -l 40 -i 100ms -d 1 "$tcp" >"$tmp/long.json" 2>"$tmp/err"
rc=$?
check "tcp long-lived: 40 connections, no reset, no loss" json_ok "$tmp/long.json" \
	"d['connections'] == {'opened': 40, 'lost': 0} and d['errors']['total'] == 0 and
	 d['attempts'] >= 40 * 5 and $SUMS and $rc == 0"

# --- UDP -------------------------------------------------------------------
"$loadgen" -j --udp -n 600 -c 16 "$udp" >"$tmp/udp.json" 2>"$tmp/err"
rc=$?
check "udp: 600 requests, 600 replies, at least two backends" json_ok "$tmp/udp.json" \
	"d['successes'] == 600 and len(d['backends']) >= 2 and $SUMS and $rc == 0"

# --- IPv6 ------------------------------------------------------------------
"$loadgen" -j -n 200 "$tcp6" >"$tmp/tcp6.json" 2>"$tmp/err"
rc=$?
check "tcp over IPv6: 200 answered" json_ok "$tmp/tcp6.json" \
	"d['target'] == '$tcp6' and d['successes'] == 200 and $SUMS and $rc == 0"

# --- text and JSON agree ----------------------------------------------------
"$loadgen" -n 100 "$tcp" >"$tmp/text" 2>&1
check "text report: 100 attempted, 100 succeeded" \
	grep -q '^requests *100 attempted, 100 succeeded, 0 failed' "$tmp/text"
check "json report parses (python3 -m json.tool)" \
	python3 -m json.tool "$tmp/udp.json" /dev/null

# --- progress lines ----------------------------------------------------------
"$loadgen" -j -p 200ms -d 1 -r 500 "$tcp" >"$tmp/progress.json" 2>"$tmp/err"
check "progress: a JSON line per period, counts add up to the summary" \
	json_ok "$tmp/progress.json" \
	"len(lines) >= 5 and all(json.loads(l)['type'] == 'progress' for l in lines[:-1]) and
	 sum(json.loads(l)['successes'] for l in lines[:-1]) <= d['successes'] and
	 d['attempts'] <= 520 and $SUMS"

# --- errors ------------------------------------------------------------------
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$loadgen" -j -n 50 "127.0.0.1:$closed" >"$tmp/refused.json" 2>"$tmp/err"
rc=$?
check "closed port: 50 refused, exit 1" json_ok "$tmp/refused.json" \
	"d['errors']['refused'] == 50 and d['successes'] == 0 and $SUMS and $rc == 1"

python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("listening udp 127.0.0.1:%d" % s.getsockname()[1], flush=True)
time.sleep(30)' >"$tmp/mute" &
pids="$pids $!"
wait_lines "$tmp/mute" '^listening' 1 || echo "# the silent UDP socket did not start"
mute=$(awk '{ print $3 }' "$tmp/mute")
"$loadgen" -j --udp -n 20 -c 20 -t 200ms "$mute" >"$tmp/timeout.json" 2>"$tmp/err"
rc=$?
check "udp target that never answers: 20 timeouts, exit 1" json_ok "$tmp/timeout.json" \
	"d['errors']['timeout'] == 20 and $SUMS and $rc == 1"

"$loadgen" --no-such-option "$tcp" >/dev/null 2>"$tmp/err"
rc=$?
check "bad option: usage on stderr, exit 2" \
	sh -c "[ $rc -eq 2 ] && grep -q '^usage: klb-loadgen' '$tmp/err'"

"$echo_bin" --id 'two words' -t 127.0.0.1:0 >/dev/null 2>"$tmp/err"
rc=$?
check "klb-echo: an identity with a space is a usage error, exit 2" \
	sh -c "[ $rc -eq 2 ] && grep -q '^usage: klb-echo' '$tmp/err'"

# --- klb-echo's HTTP answer, and its shutdown ---------------------------------
"$echo_bin" --id sick --http-status 503 -t 127.0.0.1:0 >"$tmp/sick" 2>&1 &
sick=$!
pids="$pids $sick"
wait_lines "$tmp/sick" '^listening' 1 || echo "# klb-echo sick did not start"
check "klb-echo --http-status 503: a 503 with the identity as body" python3 - \
	"$(awk '{ print $3 }' "$tmp/sick")" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
reply = b""
while True:
	chunk = s.recv(4096)
	if not chunk:
		break
	reply += chunk
sys.exit(0 if reply.startswith(b"HTTP/1.0 503 ") and reply.endswith(b"\r\n\r\nsick\n") else 1)
EOF

kill -TERM "$sick"
wait "$sick"
rc=$?
check "klb-echo: SIGTERM ends it with status 0 and its counts" \
	sh -c "[ $rc -eq 0 ] && grep -q '^sick: 1 connections, requests: 0 tcp, 0 udp, 1 http' '$tmp/sick'"

[ "$failed" -eq 0 ]

#!/bin/sh
# Sourced by the datapath tests: TAP helpers, the topology (topology.sh) up
# with its backends serving, and the traffic helpers. Each test program
# sources this, runs its checks, and ends with datapath_done.

. selftests/datapath/topology.sh

# Each result says when it came: the guest's pace varies a lot.
TAP_TIMES=1
. selftests/lib/tap.sh

# datapath_start: the topology, or a failure and exit.
datapath_start() {
	TMPDIR_T=$(mktemp -d)
	trap 'topology_down; rm -rf "$TMPDIR_T"' EXIT
	if ! topology_up || ! topology_tunnel_backends || ! backends_serve; then
		not_ok "topology and backends come up"
		tap_done
	fi
}

datapath_done() {
	tap_done
}

# vip PROTO FAMILY: the service address as klbctl and klb-loadgen write it.
vip() {
	if [ "$1" = 6 ]; then echo "[$VIP6]:80"; else echo "$VIP4:80"; fi
}
backend() {
	if [ "$2" = 6 ]; then echo "[$(be6 "$1")]:80"; else echo "$(be4 "$1"):80"; fi
}

# service PROTO FAMILY ARGS...: a service with backends b1..b3.
service() {
	proto=$1
	fam=$2
	shift 2
	klbctl service add "$proto" "$(vip "$fam")" "$@" &&
	for i in 1 2 3; do
		klbctl backend add "$proto" "$(vip "$fam")" "$(backend "$i" "$fam")" ||
			return 1
	done
}

# hold FILE ARGS...: long-lived klb-loadgen flows in the background ($hold
# its pid), returning once the first progress line says they are open.
hold() {
	file=$1
	shift
	cli "$LOADGEN" -j -p 1s "$@" >"$file" 2>&1 &
	hold=$!
	deadline=$(($(date +%s) + 20))
	until grep -q progress "$file"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# load ARGS...: klb-loadgen from the client, its JSON summary in $out.
out=
load() {
	out=$(cli "$LOADGEN" -j "$@" 2>&1 | tail -n 1)
	summary_read
}

# summary_read: the values most checks need (successes, errors, each
# backend's share) read from $out once, whoever set it: under a debug
# kernel every process started costs seconds, a Python interpreter most.
summary_of=
summary_read() {
	[ -n "$summary_of" ] && [ "$summary_of" = "x$out" ] && return
	summary_of=x$out
	eval "$(printf '%s' "$out" | python3 -c '
import json, re, sys
try:
    s = json.load(sys.stdin)
    print("load_errors=%d load_successes=%d" % (s["errors"]["total"], s["successes"]))
    print("load_shares=\"%s\"" % " ".join(
        "%s=%s" % (b, v.get("share", 0))
        for b, v in s.get("backends", {}).items() if re.fullmatch(r"\w+", b)))
except (ValueError, KeyError, TypeError):
    print("load_errors=-1 load_successes=-1 load_shares=")
')"
}

# field EXPR: a value of the last summary, by a Python expression on s.
field() {
	printf '%s' "$out" | python3 -c "import json, sys; s = json.load(sys.stdin); print($1)"
}

# share B: backend B's share of the replies in the last summary (0 if none).
share() {
	summary_read
	for kv in $load_shares; do
		[ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }
	done
	echo 0
}

# within X LOW HIGH: LOW <= X <= HIGH, each an arithmetic expression.
within() {
	awk "BEGIN { exit !(($2) <= ($1) && ($1) <= ($3)) }"
}

all_answered() {
	summary_read
	[ "$load_errors" = 0 ] && [ "$load_successes" = "$1" ]
}

reset_services() {
	klbctl flush
}


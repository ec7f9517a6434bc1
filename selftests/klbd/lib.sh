# SPDX-License-Identifier: GPL-2.0
#
# Shared by the klbd guest tests (sourced, from the top of the checkout):
# TAP helpers, gateways in network namespaces on one bridge, klbd's
# configuration and start, and polling with a deadline.
#
#   gw1 192.0.2.1 ---+
#   gw2 192.0.2.2 ---+--- bridge (the guest's root namespace)
#   gw3 192.0.2.3 ---+
#   ...  192.0.2.N ---+   (more namespaces: setup N...)
#
# ctl N runs klbctl through gateway N's klbd, kern N against its kernel.

KLBCTL=${KLBCTL:-$PWD/build/userspace/klbctl/klbctl}
KLBD=${KLBD:-$PWD/build/userspace/klbd/klbd}
T=$(mktemp -d "${TMPDIR:-/tmp}/klbd-test.XXXXXX")
BR=klbdbr$$
VIP=203.0.113.10:80
declare -A PID
NSES=

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	shift
	for line in "$@"; do
		echo "# $line"
	done
}
# check NAME CMD...: ok when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name"
	fi
}

ns() { echo "klbdgw$1-$$"; }

cleanup() {
	local i
	for i in "${!PID[@]}"; do
		kill -9 "${PID[$i]}" 2>/dev/null
	done
	wait 2>/dev/null
	for i in $NSES; do
		ip netns del "$(ns "$i")" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	if [ "$failed" -gt 0 ]; then
		for i in 1 2 3 4 9; do
			[ -s "$T/log$i" ] || continue
			# Health verdicts can flood the tail: the rest first.
			echo "# klbd $i's log (last lines but health verdicts):"
			grep -v ' health: backend ' "$T/log$i" | tail -n 15 | sed 's/^/#   /'
			echo "# klbd $i's last health verdicts, of $(grep -c ' health: backend ' "$T/log$i"):"
			grep ' health: backend ' "$T/log$i" | tail -n 5 | sed 's/^/#   /'
			# KLB_TEST_LOGS: a directory the whole logs are kept in.
			[ -n "${KLB_TEST_LOGS:-}" ] &&
				cp "$T/log$i" "$KLB_TEST_LOGS/${0##*/}.$$.log$i"
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# ctl N ARGS: klbctl on gateway N, writes through its klbd.
ctl() {
	local i=$1
	shift
	# The impostors (ids above 3) live in gw4.
	KLB_CONTROL_SOCKET=$T/c$i.sock ip netns exec "$(ns $((i > 3 ? 4 : i)))" \
		"$KLBCTL" "$@"
}
# kern N ARGS: klbctl reading gateway N's kernel.
kern() {
	local i=$1
	shift
	KLB_CONTROL_SOCKET=$T/none ip netns exec "$(ns "$i")" "$KLBCTL" "$@"
}
# field N NAME: one value of klbd N's cluster status ("" if it does not answer).
field() {
	ctl "$1" cluster status 2>/dev/null | awk -v k="$2:" '$1 == k { print $2 }'
}
# KLB_TEST_SLOW (a whole factor, default 1) stretches the tests' timing for
# a kernel that runs many times slower than Debian's (make check-debug):
# every deadline, and the health checks' intervals and timeouts where a
# test passes them through ms, so that a live backend's probes do not time
# out. A test that asserts something happens before a timeout stretches that
# timeout by the same factor, so that its check can still fail.
SLOW=${KLB_TEST_SLOW:-1}
# ms N: N milliseconds, stretched by KLB_TEST_SLOW.
ms() { echo $(($1 * SLOW)); }
# wait_for SECONDS CMD...: polls CMD until it succeeds or the time is up.
wait_for() {
	local end=$(($(date +%s) + $1 * SLOW))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
leader_among() {
	local i
	for i in "$@"; do
		if [ "$(field "$i" role)" = leader ]; then
			echo "$i"
			return 0
		fi
	done
	return 1
}
has_leader() { leader_among "$@" >/dev/null; }
# kernel_has N PATTERN: gateway N's saved configuration matches PATTERN.
kernel_has() { kern "$1" save 2>/dev/null | grep -q -- "$2"; }
saves_equal() {
	kern 1 save >"$T/save1" 2>&1 && kern 2 save >"$T/save2" 2>&1 &&
		kern 3 save >"$T/save3" 2>&1 &&
		cmp -s "$T/save1" "$T/save2" && cmp -s "$T/save1" "$T/save3"
}
backend_count() { kern "$1" save 2>/dev/null | grep -c '^backend'; }
# The kernel lists services in the order they were created, which depends
# on how each klbd batched its pushes: blocks N is gateway N's services,
# each block (service line, backends, table) on one line, sorted, so that
# kernels compare service by service, byte for byte.
blocks() {
	kern "$1" save 2>/dev/null | awk '/^service/ { if (b != "") print b; b = $0; next }
		/^#/ { next } { b = b "|" $0 } END { if (b != "") print b }' | sort
}
same_services() {
	blocks 1 >"$T/b1" && blocks 2 >"$T/b2" && blocks 3 >"$T/b3" && [ -s "$T/b1" ] &&
		cmp -s "$T/b1" "$T/b2" && cmp -s "$T/b1" "$T/b3"
}
# count_is N PREFIX COUNT: gateway N's save has COUNT lines starting PREFIX.
count_is() { [ "$(kern "$1" save 2>/dev/null | grep -c "^$2")" = "$3" ]; }
all_count() { count_is 1 "$1" "$2" && count_is 2 "$1" "$2" && count_is 3 "$1" "$2"; }

# write_conf FILE ID KEY [LISTEN]; [raft] election-ticks is $ELECTION_TICKS
# (default 10).
write_conf() {
	cat >"$1" <<-EOC
	# gateway $2
	[node]
	id = $2
	data-dir = $T/d$2
	key-file = $3
	control-socket = $T/c$2.sock
	${4:+listen = $4}

	[peers]
	1 = 192.0.2.1:7400
	2 = 192.0.2.2:7400
	3 = 192.0.2.3:7400

	[raft]
	tick-ms = 100
	election-ticks = ${ELECTION_TICKS:-10}
	snapshot-entries = 8
	EOC
}

# one_gateway_conf [LINE...]: gateway 1's configuration for a cluster of
# one, each LINE added to its [node] section.
one_gateway_conf() {
	local line
	{
		printf '[node]\nid = 1\ndata-dir = %s\nkey-file = %s\ncontrol-socket = %s\n' \
			"$T/d1" "$T/key" "$T/c1.sock"
		for line in "$@"; do
			echo "$line"
		done
		printf '\n[peers]\n1 = 192.0.2.1:7400\n\n[raft]\ntick-ms = 100\n'
	} >"$T/n1.conf"
}

# be_state PROTO VIP BACKEND: its state in gateway 1's kernel ("" if none).
be_state() {
	kern 1 backend show "$1" "$2" 2>/dev/null |
		awk -v a="$3" 'NR == 1 {
				for (i = 1; i <= NF; i++) col[$i] = i
				next
			}
			$col["ADDR"] == a { print $col["STATE"] }'
}

start() {	# start N: klbd N in gateway N
	ip netns exec "$(ns "$1")" "$KLBD" -c "$T/n$1.conf" 2>>"$T/log$1" &
	PID[$1]=$!
}

# restart_all: kill -9 of klbd 1 to 3, then each started again.
restart_all() {
	local i
	for i in 1 2 3; do
		kill -9 "${PID[$i]}"
		wait "${PID[$i]}" 2>/dev/null
	done
	PID=()
	for i in 1 2 3; do
		start "$i"
	done
}

# start_cluster: klbd on gateways 1 to 3 until they elect a leader (TAP;
# the test ends here if they do not); L is the leader, F a follower.
start_cluster() {
	local i
	for i in 1 2 3; do
		start "$i"
	done
	if wait_for 60 has_leader 1 2 3; then
		ok "three klbds elect a leader"
	else
		not_ok "three klbds elect a leader"
		exit 1
	fi
	L=$(leader_among 1 2 3)
	F=$(((L % 3) + 1))
}

# start_one_gateway: klbd on gateway 1 alone (one_gateway_conf) until it
# leads (TAP; the test ends here if it does not).
start_one_gateway() {
	start 1
	if wait_for 60 has_leader 1; then
		ok "a one-gateway klbd leads"
	else
		not_ok "a one-gateway klbd leads"
		exit 1
	fi
}

# setup [N...]: namespaces N (default 1 2 3 4) on the bridge, 192.0.2.N
# each; the cluster key; the configurations of gateways 1 to 3.
setup() {
	local i
	modprobe -q veth && modprobe -q bridge || return 1
	ip link add "$BR" type bridge || return 1
	ip link set "$BR" up
	for i in ${*:-1 2 3 4}; do
		NSES="$NSES $i"
		ip netns add "$(ns "$i")" || return 1
		ip -n "$(ns "$i")" link set lo up
		ip link add "kbd$i-$$" type veth peer name eth0 netns "$(ns "$i")" || return 1
		ip link set "kbd$i-$$" master "$BR" up
		ip -n "$(ns "$i")" addr add "192.0.2.$i/24" dev eth0
		ip -n "$(ns "$i")" link set eth0 up
	done
	head -c 48 /dev/urandom | base64 >"$T/key" && chmod 600 "$T/key"
	head -c 48 /dev/urandom | base64 >"$T/badkey" && chmod 600 "$T/badkey"
	for i in 1 2 3; do
		write_conf "$T/n$i.conf" "$i" "$T/key"
	done
}


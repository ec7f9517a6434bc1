#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Failover benchmark, run as root inside the test guest
# (tools/bench/failover-vm.sh boots it): how long from a backend's death
# until every gateway's kernel has it down, beside keepalived.
#
# Topology: selftests/klbd/lib.sh's bridge with three gateways (gw1-3,
# 192.0.2.1-3) and four backends, each a klb-echo in a namespace of its
# own (192.0.2.11-14, port 8080). One service, 203.0.113.10:80, with
# 'check tcp interval 200 timeout 100 rise 2 fall 2'.
#
# A trial: one backend, drawn at random (the seed is printed), dies as a
# host dies: its bridge port goes down, so probes get no answer at all
# (a killed process would answer RST at once, which is the easy case).
# t0 is taken just before. Each gateway's kernel is watched with
# 'klbctl monitor' (the kernel's change events, stamped on arrival),
# each klbd's log with its "health: ... failing from here" lines, stamped
# the same way. The trial ends when all three kernels have the backend
# down; then the port comes back up and the trial waits until the three
# kernels have it up again and every klbd sees it healthy (the restore
# time). FAILOVER_TRIALS trials (default 50).
#
# Then the same with keepalived in gw1 alone: an IPVS virtual server for
# the same VIP and backends, TCP_CHECK with the same timing (delay_loop
# 0.2, connect_timeout 0.1, retry 1, delay_before_retry 0.2),
# /proc/net/ip_vs polled every 10 ms until the real server is removed
# (and back). KEEPALIVED_TRIALS trials (default FAILOVER_TRIALS; 0 skips).
#
# FAILOVER_CHECKS lists the klb check kinds to run ("tcp", default, or
# "tcp http"). FAILOVER_SEED fixes the draw. Raw data, one line a trial,
# the stamped logs, when each trial began (trace) and the plots
# (tools/bench/failover.gp, if gnuplot is there) go to FAILOVER_OUT
# (default build/bench/failover).
# The braces make bash read the whole script before running any of it, so
# a checkout updated under a run in progress cannot derail it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh
ECHO=${KLB_ECHO:-$PWD/build/tools/loadgen/klb-echo}
TRIALS=${FAILOVER_TRIALS:-50}
KA_TRIALS=${KEEPALIVED_TRIALS:-$TRIALS}
CHECKS=${FAILOVER_CHECKS:-tcp}
SEED=${FAILOVER_SEED:-$(($(date +%s) % 32768))}
OUT=${FAILOVER_OUT:-$PWD/build/bench/failover}
BACKENDS="11 12 13 14"
BE=($BACKENDS)
DEADLINE=30	# seconds a trial may take before it counts as failed

RANDOM=$SEED
mkdir -p "$OUT" && : >"$OUT/trace" || exit 1
echo "failover: seed $SEED (FAILOVER_SEED=$SEED repeats the draw)"

die() {
	failed=1
	echo "failover: $*" >&2
	# What the daemons said, for the post-mortem.
	mkdir -p "$OUT/failed" && cp "$T"/log? "$T"/mon? "$T"/ka.log "$T"/ipvs \
		"$OUT/failed/" 2>/dev/null
	exit 1
}
# lib.sh's name for the bridge port of namespace N.
port() { echo "kbd$1-$$"; }

# stamp: every line read, prefixed with the time it was read (seconds,
# microsecond resolution) from bash itself: no process per line.
stamp() {
	local line

	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}

# Times are integers of microseconds (a stamp without its dot), and the
# waiting is done with builtins only: a poll that forks would take the
# guest's CPU from the daemons being measured.
# first_after FILE T0 REGEX: sets AFTER to the time from T0 to FILE's
# first line stamped at or after T0 that matches REGEX, in ms; fails
# (AFTER "-") if there is none.
first_after() {
	local -a lines
	local i line s found=

	AFTER=-
	mapfile -t lines <"$1"
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		line=${lines[i]}
		s=${line%% *}
		s=${s/./}
		[[ $s =~ ^[0-9]+$ ]] && [ "$s" -ge "$2" ] || break
		[[ $line =~ $3 ]] && found=$((s - $2))
	done
	[ -n "$found" ] || return 1
	printf -v AFTER '%d.%d' $((found / 1000)) $((found % 1000 / 100))
}
# wait_seen SECONDS T0 REGEX FILE...: polls every 50 ms until every FILE
# has a line at or after T0 matching REGEX; fails when the time is up.
wait_seen() {
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000)) t0=$2 re=$3 f

	shift 3
	for f in "$@"; do
		until first_after "$f" "$t0" "$re"; do
			[ "${EPOCHREALTIME/./}" -ge "$end" ] && return 1
			read -r -t 0.05 -u "$NEVER"
		done
	done
	return 0
}
# wait_settled SECONDS FILE T0 REGEX: polls until the last line since T0
# that matches REGEX says "healthy", or there is none.
wait_settled() {
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000)) i line s last
	local -a lines

	for (( ; ; )); do
		mapfile -t lines <"$2"
		last=
		for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
			line=${lines[i]}
			s=${line%% *}
			s=${s/./}
			[[ $s =~ ^[0-9]+$ ]] && [ "$s" -ge "$3" ] || break
			if [[ $line =~ $4 ]]; then
				last=$line
				break
			fi
		done
		[[ -z $last || $last == *healthy* ]] && return 0
		[ "${EPOCHREALTIME/./}" -ge "$end" ] && return 1
		read -r -t 0.05 -u "$NEVER"
	done
}
# A FIFO that nobody writes: 'read -t' on it is a sleep without a process.
mkfifo "$T/never" && exec {NEVER}<>"$T/never"

# The klb cluster.
klb_start() {	# klb_start N: klbd N, its log stamped
	ip netns exec "$(ns "$1")" "$KLBD" -c "$T/n$1.conf" 2> >(stamp >>"$T/log$1") &
	PID[$1]=$!
}
mon_start() {	# mon_start N: the kernel of gateway N watched
	KLB_CONTROL_SOCKET=$T/none ip netns exec "$(ns "$1")" "$KLBCTL" monitor \
		> >(stamp >>"$T/mon$1") &
	PID[mon$1]=$!
}
be_start() {	# be_start I: klb-echo for backend I
	ip netns exec "$(ns "$1")" "$ECHO" --id "be$1" -t "192.0.2.$1:8080" --http \
		>"$T/echo$1" 2>&1 &
	PID[be$1]=$!
	wait_for 30 grep -q "^listening" "$T/echo$1"
}

# klb_trials CHECK: the trials with the check kind CHECK, one line each in
# $OUT/klb-CHECK.dat:
#   trial backend detect1 detect2 detect3 kern1 kern2 kern3 first_detect
#     majority_detect first_kern all_kern restore
# detectN: klbd N's "failing from here"; kernN: gateway N's kernel;
# majority_detect: the second gateway's verdict, which makes a majority;
# all in ms since t0 (restore: since the port came back).
klb_trials() {
	local check=$1 dat=$OUT/klb-$1.dat i k be dev addr t0 t1 line dd
	local down_re up_re fail_re health_re
	local -a kd ku

	ctl 1 service set tcp "$VIP" check "$check" >/dev/null ||
		die "service set check $check"
	echo "# trial backend detect1 detect2 detect3 kern1 kern2 kern3 first_detect majority_detect first_kern all_kern restore" >"$dat"
	for k in $(seq 1 "$TRIALS"); do
		be=${BE[RANDOM % ${#BE[@]}]}
		addr=192.0.2.$be:8080
		down_re="backend $addr [a-z]+ -> down"
		up_re="backend $addr down -> up"
		fail_re="health: backend 192.0.2.$be port 8080 failing"
		health_re="health: backend 192.0.2.$be port 8080 (failing|healthy)"
		dev=$(port "$be")
		t0=${EPOCHREALTIME/./}
		echo "klb $check trial $k: $addr down at $t0" >>"$OUT/trace"
		ip link set "$dev" down
		wait_seen "$DEADLINE" "$t0" "$down_re" "$T/mon1" "$T/mon2" "$T/mon3" ||
			die "$check trial $k: $addr not down in every kernel after $DEADLINE s"
		t1=${EPOCHREALTIME/./}
		ip link set "$dev" up
		wait_seen "$DEADLINE" "$t1" "$up_re" "$T/mon1" "$T/mon2" "$T/mon3" ||
			die "$check trial $k: $addr not up again in every kernel after $DEADLINE s"
		for i in 1 2 3; do
			wait_settled "$DEADLINE" "$T/log$i" "$t0" "$health_re" ||
				die "$check trial $k: $addr not healthy again on gateway $i after $DEADLINE s"
		done
		# A gateway whose own probes had not failed yet when the kernels
		# switched (the minority) may log later or never: "-".
		line="$k $be"
		for i in 1 2 3; do
			first_after "$T/log$i" "$t0" "$fail_re"
			line="$line $AFTER"
		done
		dd=${line#* * }
		for i in 1 2 3; do
			first_after "$T/mon$i" "$t0" "$down_re"
			line="$line $AFTER"
			kd[i]=$AFTER
			first_after "$T/mon$i" "$t1" "$up_re"
			ku[i]=$AFTER
		done
		# The first and second verdicts ("-": none, last); the first and
		# last kernel down; the last kernel up.
		echo "$line $(printf '%s\n' $dd | sed 's/^-$/inf/' | sort -g |
			head -n 2 | tr '\n' ' ')$(printf '%s\n' "${kd[@]}" | sort -g |
			sed -n '1p;$p' | tr '\n' ' ')$(printf '%s\n' "${ku[@]}" | sort -g |
			tail -n 1)" | sed 's/\binf\b/-/g' >>"$dat"
	done
	# The median trial's events (by "all three kernels"), for the timeline.
	grep -v '^#' "$dat" | sort -g -k 12 | sed -n "$(((TRIALS + 1) / 2))p" \
		>"$OUT/klb-$check-median.dat"
}

# ipvs_poll HEX=ADDR...: every 10 ms, which of these real servers
# /proc/net/ip_vs lists; prints "STAMP ADDR removed|added" on each change.
# Run in the gateway's namespace; builtins only, so that the poll costs no
# process.
ipvs_poll() {
	local -A was
	local pair hex addr now lines content fd

	exec {fd}<>"$NEVER_FIFO"
	for pair in "$@"; do
		was[${pair%%=*}]=1
	done
	for (( ; ; )); do
		mapfile -t lines </proc/net/ip_vs
		content="${lines[*]}"
		now=$EPOCHREALTIME
		for pair in "$@"; do
			hex=${pair%%=*}
			addr=${pair#*=}
			if [[ $content == *"-> $hex"* ]]; then
				[ "${was[$hex]}" = 1 ] || echo "$now $addr added"
				was[$hex]=1
			else
				[ "${was[$hex]}" = 0 ] || echo "$now $addr removed"
				was[$hex]=0
			fi
		done
		read -r -t 0.01 -u "$fd"
	done
}

# keepalived's timing: the same as the klb service's check. retry 1 is
# its least (2.2.7 refuses 0): two failed checks, as fall 2.
ka_conf() {
	local be

	cat <<-EOC
	global_defs {
		router_id klbbench
	}
	virtual_server ${VIP%:*} ${VIP#*:} {
		lvs_sched mh
		lvs_method NAT
		protocol TCP
		delay_loop 0.2
		connect_timeout 0.1
		retry 1
		delay_before_retry 0.2
		warmup 0
	EOC
	for be in $BACKENDS; do
		printf '\treal_server 192.0.2.%s 8080 {\n\t\tTCP_CHECK {\n\t\t}\n\t}\n' "$be"
	done
	echo "}"
}

# keepalived_trials: as klb_trials, in $OUT/keepalived.dat:
#   trial backend detect removed restore
keepalived_trials() {
	local dat=$OUT/keepalived.dat k be dev addr t0 t1 line pairs=
	local gone_re back_re fail_re

	modprobe -q ip_vs && modprobe -q ip_vs_mh || die "no IPVS in this kernel"
	ka_conf >"$T/keepalived.conf"
	ip netns exec "$(ns 1)" keepalived --dont-fork --log-console --log-detail \
		--check --use-file "$T/keepalived.conf" --pid "$T/ka.pid" \
		--checkers_pid "$T/ka-check.pid" > >(stamp >>"$T/ka.log") 2>&1 &
	PID[ka]=$!
	for be in $BACKENDS; do
		pairs="$pairs $(printf 'C00002%02X:1F90' "$be")=192.0.2.$be:8080"
	done
	# shellcheck disable=SC2086
	ip netns exec "$(ns 1)" env NEVER_FIFO="$T/never" \
		bash -c "$(declare -f ipvs_poll); ipvs_poll $pairs" \
		> >(cat >>"$T/ipvs") &
	PID[ipvs]=$!
	all_listed() {
		[ "$(ip netns exec "$(ns 1)" ipvsadm -Ln | grep -c -- '-> 192.0.2.1')" = 4 ]
	}
	wait_for 30 all_listed || die "keepalived did not list the four real servers"
	echo "# trial backend detect removed restore" >"$dat"
	for k in $(seq 1 "$KA_TRIALS"); do
		be=${BE[RANDOM % ${#BE[@]}]}
		addr=192.0.2.$be:8080
		gone_re="$addr removed"
		back_re="$addr added"
		fail_re="TCP_CHECK on service \\[192.0.2.$be\\]:tcp:8080 failed"
		dev=$(port "$be")
		t0=${EPOCHREALTIME/./}
		echo "keepalived trial $k: $addr down at $t0" >>"$OUT/trace"
		ip link set "$dev" down
		wait_seen "$DEADLINE" "$t0" "$gone_re" "$T/ipvs" ||
			die "keepalived trial $k: $addr not removed after $DEADLINE s"
		t1=${EPOCHREALTIME/./}
		ip link set "$dev" up
		wait_seen "$DEADLINE" "$t1" "$back_re" "$T/ipvs" ||
			die "keepalived trial $k: $addr not back after $DEADLINE s"
		line="$k $be"
		first_after "$T/ka.log" "$t0" "$fail_re"
		line="$line $AFTER"
		first_after "$T/ipvs" "$t0" "$gone_re"
		line="$line $AFTER"
		first_after "$T/ipvs" "$t1" "$back_re"
		echo "$line $AFTER" >>"$dat"
	done
	cp "$T/ka.log" "$OUT/keepalived.log"
}

# pct FILE COLUMN P: the P-th percentile (nearest rank) of a column.
pct() {
	awk -v c="$2" '!/^#/ && $c != "-" { print $c }' "$1" | sort -g |
		awk -v p="$3" '{ v[NR] = $1 }
			END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'
}
row() {	# row LABEL FILE COLUMN
	printf 'failover: %-44s %8s %8s %8s\n' "$1" "$(pct "$2" "$3" 50)" \
		"$(pct "$2" "$3" 99)" "$(pct "$2" "$3" 100)"
}

tools/vm/load-klb.sh || die "cannot load klb.ko"
setup 1 2 3 $BACKENDS || die "topology"
for be in $BACKENDS; do
	be_start "$be" || die "klb-echo $be does not start"
done
for i in 1 2 3; do
	klb_start "$i"
	mon_start "$i"
done
wait_for 60 has_leader 1 2 3 || die "no leader"
ctl 1 service add tcp "$VIP" check tcp interval 200 timeout 100 rise 2 fall 2 \
	>/dev/null || die "service add"
for be in $BACKENDS; do
	ctl 1 backend add tcp "$VIP" "192.0.2.$be:8080" >/dev/null || die "backend add $be"
done
all_up() {
	local be

	for be in $BACKENDS; do
		kernel_up_everywhere "192.0.2.$be:8080" || return 1
	done
}
kernel_up_everywhere() {
	local i

	for i in 1 2 3; do
		kern "$i" backend show tcp "$VIP" 2>/dev/null |
			grep -q "$1 .*\bup\b" || return 1
	done
}
wait_for 60 all_up || die "the four backends are not up in every kernel"

for c in $CHECKS; do
	klb_trials "$c"
done
for i in 1 2 3; do
	cp "$T/log$i" "$OUT/klbd$i.log"
	cp "$T/mon$i" "$OUT/monitor$i.log"
	{
		kill -9 "${PID[$i]}" "${PID[mon$i]}"
		wait "${PID[$i]}" "${PID[mon$i]}"
	} 2>/dev/null
	unset "PID[$i]" "PID[mon$i]"
done
if [ "$KA_TRIALS" -gt 0 ]; then
	command -v keepalived >/dev/null || die "keepalived is not installed (make deps)"
	keepalived_trials
	{
		kill -TERM "${PID[ka]}"
		wait "${PID[ka]}"
		kill -9 "${PID[ipvs]}"
		wait "${PID[ipvs]}"
	} 2>/dev/null
	unset "PID[ipvs]"
	unset "PID[ka]"
fi

echo "failover: $TRIALS trials a check kind, $KA_TRIALS with keepalived; ms since the backend's port went down (restore: since it came back)"
printf 'failover: %-44s %8s %8s %8s\n' "" p50 p99 max
for c in $CHECKS; do
	f=$OUT/klb-$c.dat
	row "klb $c: first gateway's verdict: failing" "$f" 9
	row "klb $c: second gateway's verdict (majority)" "$f" 10
	row "klb $c: first kernel has it down" "$f" 11
	row "klb $c: all three kernels have it down" "$f" 12
	row "klb $c: restored in all three kernels" "$f" 13
done
if [ "$KA_TRIALS" -gt 0 ]; then
	f=$OUT/keepalived.dat
	row "keepalived: its verdict: failing" "$f" 3
	row "keepalived: real server removed" "$f" 4
	row "keepalived: real server back" "$f" 5
	printf 'failover: p99 all three klb kernels (tcp) / keepalived one host = %.2f\n' \
		"$(echo "$(pct "$OUT/klb-tcp.dat" 12 99) / $(pct "$f" 4 99)" | bc -l)"
fi
if command -v gnuplot >/dev/null; then
	gnuplot -e "dir='$OUT'" tools/bench/failover.gp || die "gnuplot"
	echo "failover: plots in $OUT"
fi
echo "failover: raw data in $OUT"
exit
}

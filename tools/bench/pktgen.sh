#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pktgen in the current network namespace, for tools/bench/datapath.sh:
#
#   pktgen.sh DEV DST SADDR_MIN SADDR_MAX SPORT_MIN SPORT_MAX DPORT COUNT [SECONDS NETDEV]
#
# One thread (kpktgend_0) sends 64-byte UDP frames on DEV, which must
# already be its device (add_device), to DST:DPORT from SADDR_MIN to
# SADDR_MAX and source ports SPORT_MIN to SPORT_MAX - 1, both stepping by
# one per packet. First COUNT packets (0: none), at most PG_RATEP per
# second when that is set; then, with SECONDS, it runs free for SECONDS
# and prints what changed meanwhile: busy CPU time of the whole machine
# (USER_HZ ticks of /proc/stat), packets received on the interfaces of
# NETDEV (a /proc/PID/net/dev) whose names start with "gw-cli" and sent on
# those starting with "gw-b", and elapsed centiseconds.
set -eu
dev=$1 dst=$2 smin=$3 smax=$4 pmin=$5 pmax=$6 dport=$7 count=$8
secs=${9:-}
netdev=${10:-}
pgdev=/proc/net/pktgen/$dev

set_dev() {
	for l; do
		echo "$l" >"$pgdev"
	done
}
set_dev "dst $dst" "src_min $smin" "src_max $smax" \
	"udp_src_min $pmin" "udp_src_max $pmax" "udp_dst_min $dport" "udp_dst_max $dport"
if [ "$count" -gt 0 ]; then
	if [ -n "${PG_RATEP:-}" ]; then
		set_dev "ratep $PG_RATEP"
	fi
	set_dev "count $count"
	echo start >/proc/net/pktgen/pgctrl
	set_dev "delay 0"
fi
[ -n "$secs" ] || exit 0

sample() {
	awk '
		FILENAME == "/proc/stat" && $1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9 }
		FILENAME == "/proc/uptime" { up = $1 * 100 }
		FILENAME != "/proc/stat" && FILENAME != "/proc/uptime" && index($0, ":") {
			name = $0; sub(/:.*/, "", name); gsub(/ /, "", name)
			rest = $0; sub(/.*:/, "", rest); split(rest, f, " ")
			if (name ~ /^gw-cli/) rx += f[2]
			if (name ~ /^gw-b/) tx += f[10]
		}
		END { printf "%d %d %d %d\n", busy, rx, tx, up }' /proc/stat /proc/uptime "$netdev"
}
set_dev "count 0"
echo start >/proc/net/pktgen/pgctrl &
pid=$!
sleep 0.5
s0=$(sample)
sleep "$secs"
s1=$(sample)
echo stop >/proc/net/pktgen/pgctrl
wait "$pid" || true
echo "$s0 $s1" | awk '{ print $5 - $1, $6 - $2, $7 - $3, $8 - $4 }'

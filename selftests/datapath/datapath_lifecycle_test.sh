#!/bin/sh
# The module and the netns under traffic: rmmod and insmod, a SYN flood
# against a full flow table, netns deletion.
# Prints TAP.
# The braces make the shell read the whole script before running any of it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/lib.sh
datapath_start

# rmmod under traffic, then the module again: it comes back empty and works.
reset_services
service tcp 4 fwd nat
hold "$TMPDIR_T/hold" -l 20 -i 100ms -d 3s -t 3s "$(vip 4)"
check "rmmod klb under traffic" rmmod klb
wait "$hold"
# Few buckets, so that a full table has half-open flows in every bucket.
check "insmod klb again" insmod "${KLB_MODULE:-kmod/klb.ko}" flow_buckets=64
service tcp 4 fwd nat
load --tcp -n 100 -c 8 -t 5s "$(vip 4)"
check "after the reload: 100 flows answered" all_answered 100

# A SYN flood from spoofed sources fills the flow table: established
# connections go on, and real clients still get in (half-open flows make
# room for them).
reset_services
service tcp 4 fwd nat
echo 300 >/sys/module/klb/parameters/max_flows
hold "$TMPDIR_T/hold" -l 20 -i 200ms -d 8s -t 5s "$(vip 4)"
cli python3 selftests/datapath/syn_flood.py "$VIP4" 80 3000 192.0.2. 100 250
load --tcp -n 50 -c 4 -t 5s "$(vip 4)"
check "SYN flood: 50 new connections answered" all_answered 50 ||
	echo "# $out"
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "SYN flood: established connections go on (lost $(field "s['connections']['lost']"))" \
	[ "$(field "s['connections']['lost']")" = 0 ]
klbctl -j info >"$TMPDIR_T/info"
check "SYN flood: the table stayed within its limit, half-open flows evicted" python3 -c "
import json, sys
i = json.load(open('$TMPDIR_T/info'))
print('#', i)
sys.exit(not (i['flows'] <= 300 and i['flow_evictions'] > 0))"
echo 1000000 >/sys/module/klb/parameters/max_flows

# Deleting the gateway's netns under traffic.
hold "$TMPDIR_T/hold" -l 20 -i 100ms -d 3s -t 3s "$(vip 4)"
check "netns deletion under traffic" ip netns del "$NS_GW"
wait "$hold"

datapath_done
}

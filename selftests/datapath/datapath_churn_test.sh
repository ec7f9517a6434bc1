#!/bin/sh
# Configuration churn under load: while long-lived and short-lived
# connections flow, a backend comes and goes and the others are
# reweighted as fast as the apply engine can (churn.c), each write a new
# snapshot and table. The one that goes is drained first, as an operator
# would: connections still on a backend when it is deleted are
# re-steered, which ends them.
# No established connection may break and every new one must be answered.
# The kernel log is checked for warnings by the runner. Prints TAP.
#
#   client --- gateway (klb) ---+--- b1
#                               +--- b2
#                               +--- b3, also 198.51.100.100 ("b3x", the
#                                    backend that comes and goes)
#
# The braces make the shell read the whole script before running any of it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/lib.sh
datapath_start

B3X=198.51.100.100
ip -n "$NS_B3" addr add "$B3X/32" dev lo
gwx ip route add "$B3X/32" via "$(be4 3)"

reset_services
service tcp 4 sched maglev
hold "$TMPDIR_T/hold" -l 40 -i 200ms -d 16s -t 5s "$(vip 4)"
cli "$LOADGEN" -j --tcp -n 1000 -r 100 -c 8 -t 5s "$(vip 4)" >"$TMPDIR_T/short" 2>&1 &
short=$!
gwx build/selftests/datapath/churn 10 "$(vip 4)" "$B3X:80" "$(backend 1 4)" \
	"$(backend 2 4)" >"$TMPDIR_T/churn" 2>&1
rc=$?
check "churn: $(cat "$TMPDIR_T/churn"), every write succeeded" [ "$rc" = 0 ]
wait "$short"
out=$(tail -n 1 "$TMPDIR_T/short")
check "churn: 1000 new connections answered ($(field "s['successes']"), errors $(field "{k: v for k, v in s['errors'].items() if v}"))" \
	all_answered 1000
wait "$hold"
out=$(tail -n 1 "$TMPDIR_T/hold")
check "churn: 40 long-lived connections kept their backend (lost $(field "s['connections']['lost']"), errors $(field "s['errors']['total']"))" \
	sh -c "[ $(field "s['connections']['lost']") = 0 ] && [ $(field "s['errors']['total']") = 0 ]"

datapath_done
}

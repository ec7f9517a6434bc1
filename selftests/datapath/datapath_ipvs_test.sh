#!/bin/sh
# A drained backend beside IPVS, in the same guest and topology: klb's
# maglev sends the flows its table gives a drained backend to their next
# candidate, so no client is refused while an up backend exists. IPVS's
# mh refuses those flows unless the service has its mh-fallback flag (a
# server of weight 0 keeps its table entries there). IPVS hashes the
# source port too (mh-port), as klb hashes the whole 5-tuple: one client
# address then spreads over the servers. Prints TAP.
#
#   client --- gateway (klb, or IPVS with the VIP on lo) ---+--- b1
#   203.0.113.0/24 as the VIP range                         +--- b2
#                                                           +--- b3
#
# The braces make the shell read the whole script before running any of it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/datapath/lib.sh
# Autoload would run the initramfs's modprobe: load IPVS here.
for m in ip_vs ip_vs_mh; do
	modprobe "$m" || { not_ok "modprobe $m"; datapath_done; }
done
datapath_start

# refused: the connections of the last summary that were refused.
refused() {
	field "s['errors']['refused'] + s['errors']['unreachable'] + s['errors']['timeout']"
}

reset_services
service tcp 4 sched maglev
klbctl backend set tcp "$(vip 4)" "$(backend 1 4)" state drain
load --tcp -n 300 -c 8 -t 3s "$(vip 4)"
check "klb maglev, b1 drained: 300 of 300 answered, none by b1 ($(share b1))" \
	sh -c "[ $(field "s['successes']") = 300 ] && [ $(share b1) = 0 ]"
reset_services

gwx ip addr add "$VIP4/32" dev lo
gwx ipvsadm -A -t "$(vip 4)" -s mh -b mh-port
for i in 1 2 3; do
	gwx ipvsadm -a -t "$(vip 4)" -r "$(backend "$i" 4)" -m -w 1
done
gwx ipvsadm -e -t "$(vip 4)" -r "$(backend 1 4)" -m -w 0
# A refusal is an ICMP port unreachable, rate-limited by the gateway: the
# SYNs it does not answer time out.
load --tcp -n 300 -c 8 -t 1s "$(vip 4)"
ipvs_refused=$(refused)
echo "# IPVS mh, b1 at weight 0: $ipvs_refused of 300 refused: $out"
check "IPVS mh without mh-fallback, b1 at weight 0: its flows refused ($ipvs_refused of 300)" \
	[ "$ipvs_refused" -gt 0 ]
gwx ipvsadm -E -t "$(vip 4)" -s mh -b mh-port,mh-fallback
load --tcp -n 300 -c 8 -t 3s "$(vip 4)"
check "IPVS mh with mh-fallback, b1 at weight 0: none refused ($(refused) of 300)" \
	[ "$(refused)" = 0 ]
gwx ipvsadm -C
gwx ip addr del "$VIP4/32" dev lo

datapath_done
}

#!/bin/sh
# The demo, inside the test guest (see tools/demo.sh).
set -eu
klbctl=build/userspace/klbctl/klbctl
vip=203.0.113.10:80
say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
backend_of() { python3 -c 'import json, sys; print(json.load(sys.stdin)["backend"])'; }

for dep in $(modinfo -F depends kmod/klb.ko | tr , ' '); do
	modprobe "$dep"
done
insmod kmod/klb.ko
for gw in gw1 gw2; do
	ip netns add "$gw"
done
. selftests/datapath/topology.sh
cleanup() {
	for gw in gw1 gw2; do ip netns del "$gw" 2>/dev/null || true; done
	topology_down 2>/dev/null || true
	rmmod klb 2>/dev/null || true
}
trap cleanup EXIT

say "gateway gw1: a Maglev service with six backends"
run $klbctl -n gw1 service add tcp $vip sched maglev table-size 16381
for i in 1 2 3 4 5 6; do
	w=1
	[ "$i" -eq 6 ] && w=2
	run $klbctl -n gw1 backend add tcp $vip 198.51.100.$i:8080 weight $w
done
run $klbctl -n gw1 backend show tcp $vip

say "gateway gw2 takes gw1's configuration (save | restore)"
$klbctl -n gw1 save > build/demo-gw1.conf
run $klbctl -n gw2 restore < build/demo-gw1.conf
$klbctl -n gw1 -j table show tcp $vip > build/demo-gw1.table
$klbctl -n gw2 -j table show tcp $vip > build/demo-gw2.table
if cmp -s build/demo-gw1.table build/demo-gw2.table; then
	echo "tables of gw1 and gw2: byte-identical ($(wc -c < build/demo-gw1.table) bytes of JSON)"
else
	echo "tables differ" >&2
	exit 1
fi

say "the same client lands on the same backend through either gateway"
for c in 192.0.2.7:40001 192.0.2.8:40002 192.0.2.9:40003 192.0.2.10:40004; do
	a=$($klbctl -j -n gw1 flow where tcp $vip $c | backend_of)
	b=$($klbctl -j -n gw2 flow where tcp $vip $c | backend_of)
	printf 'client %-18s via gw1 -> %-18s via gw2 -> %s\n' "$c" "$a" "$b"
done

say "198.51.100.3 fails: both gateways mark it down"
cp build/demo-gw1.table build/demo-before.table
for gw in gw1 gw2; do
	run $klbctl -n $gw backend set tcp $vip 198.51.100.3:8080 state down
done
$klbctl -n gw1 -j table show tcp $vip > build/demo-gw1.table
$klbctl -n gw2 -j table show tcp $vip > build/demo-gw2.table
cmp -s build/demo-gw1.table build/demo-gw2.table && echo "tables still identical on both gateways"
python3 - build/demo-before.table build/demo-gw1.table <<'PY'
import json, sys, collections
before, after = (json.load(open(p)) for p in sys.argv[1:3])
moved = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
lost = collections.Counter(before[i] for i in moved)
print(f"slots moved: {len(moved)} of {len(before)}; all of them were "
      f"{', '.join(lost)}'s ({len(moved) / len(before):.2%} of the table, "
      f"its share was {before.count('198.51.100.3:8080') / len(before):.2%})")
PY

say "198.51.100.3 recovers: only slots that go back to it move"
cp build/demo-gw1.table build/demo-down.table
for gw in gw1 gw2; do
	run $klbctl -n $gw backend set tcp $vip 198.51.100.3:8080 state up
done
$klbctl -n gw1 -j table show tcp $vip > build/demo-gw1.table
$klbctl -n gw2 -j table show tcp $vip > build/demo-gw2.table
cmp -s build/demo-gw1.table build/demo-gw2.table && echo "tables still identical on both gateways"
python3 - build/demo-down.table build/demo-gw1.table build/demo-before.table <<'PY'
import json, sys, collections
down, up, before = (json.load(open(p)) for p in sys.argv[1:4])
moved = [i for i, (a, b) in enumerate(zip(down, up)) if a != b]
gained = collections.Counter(up[i] for i in moved)
same = sum(a == b for a, b in zip(before, up))
print(f"slots moved: {len(moved)}, all of them to {', '.join(gained)}; "
      f"{same / len(up):.2%} of slots hold the backend they held before the failure")
PY

say "what an operator sees"
run $klbctl -n gw1 service show

say "live traffic: a client, a gateway with klb, three backends (klb-echo)"
topology_up
backends_serve
run $klbctl -n "$NS_GW" service add tcp "$VIP4:80" sched maglev fwd nat
for i in 1 2 3; do
	run $klbctl -n "$NS_GW" backend add tcp "$VIP4:80" "$(be4 "$i"):80"
done
# shares FILE: each progress line of a klb-loadgen -j run, as shares.
shares() {
	python3 -u -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    b = r.get("backends", {})
    total = sum(b.values()) if r["type"] == "progress" else 0
    if r["type"] == "progress" and total:
        cells = "  ".join(f"{k} {v / total:6.1%}" for k, v in sorted(b.items()))
        t, rate, errors = r["elapsed_s"], r["rate"], r["errors"]["total"]
        print(f"  t={t:5.1f}s  {rate:7.1f} conn/s  {cells}  errors {errors}", flush=True)'
}
echo "40 long-lived connections and a stream of new ones, each backend's share every 2 s:"
ip netns exec "$NS_CLI" build/tools/loadgen/klb-loadgen -j -l 40 -i 200ms -d 24s -t 2s \
	"$VIP4:80" >build/demo-long.json 2>&1 &
long=$!
ip netns exec "$NS_CLI" build/tools/loadgen/klb-loadgen -j -c 4 -r 100 -d 24s -p 2s -t 2s \
	"$VIP4:80" 2>&1 | tee build/demo-short.json | shares &
short=$!
sleep 8
say "b2 is drained: no new flows; its connections go on"
run $klbctl -n "$NS_GW" backend set tcp "$VIP4:80" "$(be4 2):80" state drain
sleep 8
say "b2 is back"
run $klbctl -n "$NS_GW" backend set tcp "$VIP4:80" "$(be4 2):80" state up
wait "$short" || true
wait "$long" || true
python3 - build/demo-long.json build/demo-short.json <<'PY'
import json, sys
long = json.loads(open(sys.argv[1]).read().splitlines()[-1])
short = json.loads(open(sys.argv[2]).read().splitlines()[-1])
print(f"long-lived: {long['connections']['opened']} connections, "
      f"{long['connections']['lost']} lost, {long['errors']['total']} failed requests")
print(f"new connections: {short['successes']} answered, {short['errors']['total']} failed")
sys.exit(long["connections"]["lost"] or long["errors"]["total"] or short["errors"]["total"])
PY
run $klbctl -n "$NS_GW" stats


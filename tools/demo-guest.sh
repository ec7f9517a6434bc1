#!/bin/sh
# The demo, inside the test guest (see tools/demo.sh).
set -eu
klbctl=build/userspace/klbctl/klbctl
vip=203.0.113.10:80
say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
backend_of() { python3 -c 'import json, sys; print(json.load(sys.stdin)["backend"])'; }

insmod kmod/klb.ko
for gw in gw1 gw2; do
	ip netns add "$gw"
done
cleanup() {
	for gw in gw1 gw2; do ip netns del "$gw" 2>/dev/null || true; done
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

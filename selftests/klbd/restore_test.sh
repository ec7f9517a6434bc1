#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# klbctl restore through klbd, on three gateways (selftests/klbd/lib.sh):
# a file of 50 services x 20 backends restored through a follower reaches
# all three kernels byte-identically; restoring it again adds no Raft
# entry; a changed file adds one entry per changed service and deletes
# what it lacks, and each klbd pushes only those services into its kernel
# (no whole reconcile); a bad line is refused naming it, nothing changed; a
# service's health-check settings survive save and restore.
# Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/klbd/lib.sh

if ! setup 1 2 3; then
	not_ok "topology and configuration"
	exit 1
fi
start_cluster

# gen FILE [WEIGHT_OF_SERVICE_7]: 50 services, 20 backends each; the first
# has a check and no backends (nothing to probe, so no verdicts).
gen() {
	local s b
	{
		echo "# klbctl save 1"
		echo "service tcp 203.0.113.100:80 seed 000102030405060708090a0b0c0d0e0f check tcp interval 2000 timeout 500 rise 3 fall 4"
		for s in $(seq 1 49); do
			printf 'service tcp 203.0.113.%d:80 table-size 251 seed %032x\n' "$s" "$s"
			for b in $(seq 1 20); do
				w=1
				[ "$s" = 7 ] && [ "$b" = 3 ] && w=${2:-1}
				echo "backend 198.51.$s.$b:8080 id $((b - 1)) weight $w"
			done
		done
	} >"$1"
}
applied() { field "$F" applied; }

gen "$T/r1"
if ctl "$F" restore <"$T/r1" 2>"$T/err"; then
	ok "restore of 50 services x 20 backends through a follower"
else
	not_ok "restore of 50 services x 20 backends through a follower" "$(cat "$T/err")"
fi
check "all three kernels hold the 50 services and 980 backends" \
	wait_for 30 eval 'all_count service 50 && all_count backend 980'
if wait_for 30 same_services; then
	ok "the three kernels hold byte-identical services"
else
	not_ok "the three kernels hold byte-identical services" \
		"$(diff "$T/b1" "$T/b2" | head -c 600)" "$(diff "$T/b1" "$T/b3" | head -c 600)"
fi

a1=$(applied)
if ctl "$F" restore <"$T/r1" 2>"$T/err" && [ "$(applied)" = "$a1" ]; then
	ok "the same file again adds no Raft entry (applied $a1)"
else
	not_ok "the same file again adds no Raft entry" "applied $a1 -> $(applied)" "$(cat "$T/err")"
fi

# reconciles N: "whole partial services" of klbd N's pushes so far.
reconciles() {
	echo "$(($(field "$1" reconciles) - $(field "$1" reconciles_partial))) \
$(field "$1" reconciles_partial) $(field "$1" reconciled_services)"
}
for i in 1 2 3; do
	R0[$i]=$(reconciles "$i")
done

# One weight changed, the last service gone: two entries.
gen "$T/r2" 5
sed -i '/203.0.113.49:80/,$d' "$T/r2"
if ctl "$F" restore <"$T/r2" 2>"$T/err" && [ "$(applied)" = "$((a1 + 2))" ]; then
	ok "a changed file adds one entry per change"
else
	not_ok "a changed file adds one entry per change" "applied $a1 -> $(applied)" "$(cat "$T/err")"
fi
check "the change and the deletion reach all three kernels" \
	wait_for 30 eval 'all_count service 49 && kernel_has 1 "198.51.7.3:8080 id 2 weight 5" &&
		kernel_has 2 "198.51.7.3:8080 id 2 weight 5" && kernel_has 3 "198.51.7.3:8080 id 2 weight 5" && same_services'
# Each klbd pushed the two changed services (one push or two), not all 50.
pushed_changed_only() {
	local i w0 p0 s0 w1 p1 s1
	for i in 1 2 3; do
		read -r w0 p0 s0 <<<"${R0[$i]}"
		read -r w1 p1 s1 <<<"$(reconciles "$i")"
		[ "$w1" = "$w0" ] && [ "$p1" -gt "$p0" ] && [ "$((s1 - s0))" = 2 ] || {
			echo "# klbd $i: whole, partial, services ${R0[$i]} -> $w1 $p1 $s1"
			return 1
		}
	done
}
check "each klbd pushed only the two changed services into its kernel" pushed_changed_only

# A bad line: refused with its number, nothing changes.
a2=$(applied)
cp "$T/r1" "$T/r3"
sed -i '30s/.*/backend 198.51.2.99:8080 weight lots/' "$T/r3"
if ! ctl "$F" restore <"$T/r3" 2>"$T/err" && grep -q "line 30" "$T/err" &&
	[ "$(applied)" = "$a2" ] && all_count service 49; then
	ok "a bad line is refused naming line 30, nothing changed"
else
	not_ok "a bad line is refused naming line 30, nothing changed" "$(cat "$T/err")"
fi
sed -i '30s/.*/service tcp 203.0.113.200:80 check tcp interval 10/' "$T/r3"
if ! ctl "$F" restore <"$T/r3" 2>"$T/err" && grep -q "line 30.*interval" "$T/err" &&
	[ "$(applied)" = "$a2" ]; then
	ok "a check out of bounds is refused naming its line"
else
	not_ok "a check out of bounds is refused naming its line" "$(cat "$T/err")"
fi

# Check settings: saved through klbd, restored, unchanged.
if ctl "$F" save >"$T/s1" 2>"$T/err" &&
	grep -q '^service tcp 203.0.113.100:80 .* check tcp interval 2000 timeout 500 rise 3 fall 4$' "$T/s1"; then
	ok "save through klbd writes the check settings"
else
	not_ok "save through klbd writes the check settings" "$(grep 203.0.113.100 "$T/s1")" "$(cat "$T/err")"
fi
if ctl "$F" restore <"$T/s1" 2>"$T/err" && [ "$(applied)" = "$a2" ]; then
	ok "restoring a save changes nothing"
else
	not_ok "restoring a save changes nothing" "applied $a2 -> $(applied)" "$(cat "$T/err")"
fi
sed 's/ rise 3 / rise 7 /' "$T/s1" >"$T/s2"
if ctl "$F" restore <"$T/s2" 2>"$T/err" && [ "$(applied)" = "$((a2 + 1))" ] &&
	ctl "$L" save 2>/dev/null | grep -q 'check tcp interval 2000 timeout 500 rise 7 fall 4$'; then
	ok "a changed check is restored, the leader has it"
else
	not_ok "a changed check is restored, the leader has it" "$(cat "$T/err")"
fi

echo "1..$n"
[ "$failed" -eq 0 ]

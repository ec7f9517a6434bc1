#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# klbctl against the real klb.ko, run as root in the test guest (the module
# is loaded by selftests/run-in-vm.sh; loaded here from kmod/ if it is not).
# Covers every command and option in text and JSON, IPv4 and IPv6, every
# error path with its exit status and message, save/restore, concurrent
# writers, network namespaces, monitor, module absence and missing
# privileges. Prints TAP; exits non-zero if any test failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
K=${KLBCTL:-$PWD/build/userspace/klbctl/klbctl}
SLOT=$PWD/selftests/klbctl/flow_slot.py
T=$(mktemp -d "${TMPDIR:-/tmp}/klbctl-test.XXXXXX")
NS1=klbct-a-$$
NS2=klbct-b-$$
MON_PID=

cleanup() {
	[ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null
	ip netns del "$NS1" 2>/dev/null
	ip netns del "$NS2" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

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

# run CMD...: sets $rc, $out (stdout) and $err (stderr).
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# check NAME RC [STDERR-REGEX] -- CMD...: exit status and message.
check() {
	local name=$1 want_rc=$2 pattern=
	shift 2
	if [ "$1" != -- ]; then
		pattern=$1
		shift
	fi
	shift
	run "$@"
	if [ "$rc" -ne "$want_rc" ]; then
		not_ok "$name" "exit $rc, want $want_rc: $*" "stderr: $err"
	elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" <<<"$err"; then
		not_ok "$name" "stderr does not match /$pattern/: $err"
	else
		ok "$name"
	fi
}

# One python3 for every JSON check: starting it for each check costs more
# than the check itself in the guest. It reads "json<TAB>FILE<TAB>EXPR" or
# "slot<TAB>ARGS..." lines and answers one line each.
coproc CHECKER {
	python3 -B -u -c '
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("flow_slot", sys.argv[1])
fs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fs)
for line in sys.stdin:
    kind, rest = line.rstrip("\n").split("\t", 1)
    try:
        if kind == "json":
            path, expr = rest.split("\t", 1)
            d = json.loads(open(path).read())
            print("ok" if eval(expr) else "fail")
        else:
            print(fs.flow_slot(*rest.split("\t")))
    except Exception as e:
        print("error " + repr(e).replace("\n", " "))
' "$SLOT"
}

# ask LINE: sends a request to the checker, sets $answer.
ask() {
	printf '%s\n' "$1" >&"${CHECKER[1]}"
	IFS= read -r answer <&"${CHECKER[0]}"
}

# slot ARGS...: "SLOT HASH" of a new flow, per flow_slot.py.
slot() {
	local IFS=$'\t'
	ask "slot	$*"
	echo "$answer"
}

# json NAME PYTHON-EXPR -- CMD...: the command's stdout is one JSON
# document and the expression (of d) holds.
json() {
	local name=$1 expr=$2
	shift 3
	run "$@"
	if [ "$rc" -ne 0 ]; then
		not_ok "$name" "exit $rc: $*" "stderr: $err"
		return
	fi
	ask "json	$T/out	$expr"
	if [ "$answer" = ok ]; then
		ok "$name"
	else
		not_ok "$name" "JSON check: $answer: $expr" "output: $(head -c 600 "$T/out")"
	fi
}

# wait_for FILE REGEX [N]: until FILE has N (default 1) lines matching
# REGEX, for at most 20 s.
wait_for() {
	local file=$1 regex=$2 want=${3:-1} deadline=$((SECONDS + 20))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(grep -Ec -- "$regex" "$file" 2>/dev/null)" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# start_monitor FILE [OPTIONS...]: 'klbctl OPTIONS -j monitor' into FILE in
# the background ($MON_PID); returns once it reports a change, i.e. once
# it is subscribed. The changes that prove it name udp 203.0.113.40:53.
start_monitor() {
	local file=$1 deadline=$((SECONDS + 20))
	shift
	"$K" "$@" -j monitor >"$file" 2>"$file.err" &
	MON_PID=$!
	until grep -q generation "$file" 2>/dev/null || [ $SECONDS -ge $deadline ]; do
		"$K" "$@" service add udp 203.0.113.40:53 sched rr >/dev/null 2>&1
		"$K" "$@" service del udp 203.0.113.40:53 >/dev/null 2>&1
		sleep 0.1
	done
}

stop_monitor() {
	kill "$MON_PID"
	wait "$MON_PID" 2>/dev/null
	MON_PID=
}

# events FILE: the monitor's lines as one JSON array, without the probes.
events() {
	{
		echo '['
		grep -v '"service":"udp 203.0.113.40:53"' "$1" | paste -sd, -
		echo ']'
	} >"$1.json"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root (run in the guest)"
	exit 0
fi
# The module under test: KLB_MODULE (make check-debug's, built for its kernel).
module=${KLB_MODULE:-kmod/klb.ko}
tools/vm/load-klb.sh "$module" || { echo "Bail out! cannot load $module"; exit 1; }

V4=203.0.113.10:80
V6='[2001:db8::10]:443'

# ---- services -------------------------------------------------------------

check "flush starts from nothing" 0 -- "$K" flush
check "service add with defaults" 0 -- "$K" service add tcp $V4
json "service show -j: defaults" \
	'len(d) == 1 and d[0]["proto"] == "tcp" and d[0]["vip"] == "203.0.113.10:80" and d[0]["sched"] == "maglev" and d[0]["fwd"] == "nat" and d[0]["table_size"] == 16381 and d[0]["bound"] == 125 and d[0]["affinity"] == "none" and d[0]["down_policy"] == "resteer" and d[0]["backends"] == 0 and d[0]["table"] is False and len(d[0]["seed"]) == 32' \
	-- "$K" -j service show
run "$K" service show
if [ "$rc" -eq 0 ] && grep -q '^PROTO' <<<"$out" && grep -Eq '^tcp +203\.0\.113\.10:80 +maglev +nat +16381' <<<"$out"; then
	ok "service show: aligned text table"
else
	not_ok "service show: aligned text table" "$out"
fi
SEED=00112233445566778899aabbccddeeff
check "service add udp with every option" 0 -- "$K" service add udp 203.0.113.11:53 \
	sched maglev-bounded fwd tunnel table-size 251 bound 150 affinity src \
	down-policy drop seed $SEED
json "service show one -j: every option" \
	'd[0]["proto"] == "udp" and d[0]["sched"] == "maglev-bounded" and d[0]["fwd"] == "tunnel" and d[0]["table_size"] == 251 and d[0]["bound"] == 150 and d[0]["affinity"] == "src" and d[0]["down_policy"] == "drop" and d[0]["seed"] == "'$SEED'"' \
	-- "$K" -j service show udp 203.0.113.11:53
check "service add IPv6" 0 -- "$K" service add tcp "$V6" sched wrr
json "service show -j: IPv6 VIP" \
	'any(s["vip"] == "[2001:db8::10]:443" and s["sched"] == "wrr" for s in d) and len(d) == 3' \
	-- "$K" -j service show
run "$K" service show
if grep -Eq '^tcp +\[2001:db8::10\]:443 +wrr ' <<<"$out"; then
	ok "service show: IPv6 VIP in the text table"
else
	not_ok "service show: IPv6 VIP in the text table" "$out"
fi
json "--json is -j" 'len(d) == 3' -- "$K" --json service show
for s in rr wlc; do
	check "service set sched $s" 0 -- "$K" service set tcp "$V6" sched $s
	json "service set sched $s shows" 'd[0]["sched"] == "'$s'"' -- "$K" -j service show tcp "$V6"
done
check "service set fwd/bound/affinity/down-policy" 0 -- "$K" service set udp 203.0.113.11:53 \
	fwd nat bound 200 affinity none down-policy resteer
json "service set keeps what was not named" \
	'd[0]["fwd"] == "nat" and d[0]["bound"] == 200 and d[0]["affinity"] == "none" and d[0]["down_policy"] == "resteer" and d[0]["sched"] == "maglev-bounded" and d[0]["table_size"] == 251 and d[0]["seed"] == "'$SEED'"' \
	-- "$K" -j service show udp 203.0.113.11:53
check "service del" 0 -- "$K" service del tcp "$V6"
check "service show of a deleted service fails" 1 'service tcp \[2001:db8::10\]:443: .*no such service' -- \
	"$K" service show tcp "$V6"
check "service del of an unknown service fails" 1 'no such service' -- "$K" service del tcp "$V6"

# ---- backends and the Maglev table ----------------------------------------

check "backend add" 0 -- "$K" backend add tcp $V4 198.51.100.1:8080
check "backend add weight 3" 0 -- "$K" backend add tcp $V4 198.51.100.2:8080 weight 3
check "backend add third" 0 -- "$K" backend add tcp $V4 198.51.100.3:8080
json "backend show -j: ids, weights, states" \
	'[(b["id"], b["addr"], b["weight"], b["state"]) for b in d] == [(0, "198.51.100.1:8080", 1, "up"), (1, "198.51.100.2:8080", 3, "up"), (2, "198.51.100.3:8080", 1, "up")]' \
	-- "$K" -j backend show tcp $V4
run "$K" backend show tcp $V4
if grep -Eq '^ID +ADDR +WEIGHT +STATE' <<<"$out" && grep -Eq '^1 +198\.51\.100\.2:8080 +3 +up' <<<"$out"; then
	ok "backend show: text table"
else
	not_ok "backend show: text table" "$out"
fi
"$K" -j table show tcp $V4 >"$T/t0.json"
json "table show -j: M ADDR:PORT strings, shares follow weights" \
	'len(d) == 16381 and set(d) == {"198.51.100.1:8080", "198.51.100.2:8080", "198.51.100.3:8080"} and all(abs(d.count(a) - 16381 * w / 5) <= 1 for a, w in [("198.51.100.1:8080", 1), ("198.51.100.2:8080", 3), ("198.51.100.3:8080", 1)])' \
	-- cat "$T/t0.json"
run "$K" table show tcp $V4
if [ "$(wc -l <<<"$out")" -eq 16382 ] && grep -Eq '^0 +198\.51\.100\.[123]:8080$' <<<"$out"; then
	ok "table show: text, one slot a line"
else
	not_ok "table show: text, one slot a line" "$(head -3 <<<"$out")"
fi

check "backend del" 0 -- "$K" backend del tcp $V4 198.51.100.1:8080
"$K" -j table show tcp $V4 >"$T/t1.json"
json "backend del moves only the removed backend's slots" \
	'(lambda a: [i for i in range(len(a)) if a[i] != d[i]] != [] and all(a[i] == "198.51.100.1:8080" for i in range(len(a)) if a[i] != d[i]) and "198.51.100.1:8080" not in d)(json.load(open("'"$T/t0.json"'")))' \
	-- cat "$T/t1.json"
check "backend add reuses the lowest free id" 0 -- "$K" backend add tcp $V4 198.51.100.4:8080
json "new backend got id 0" \
	'any(b["id"] == 0 and b["addr"] == "198.51.100.4:8080" for b in d)' -- "$K" -j backend show tcp $V4
"$K" -j table show tcp $V4 >"$T/t2.json"
json "backend add moves slots only to the new backend" \
	'(lambda a: [i for i in range(len(a)) if a[i] != d[i]] != [] and all(d[i] == "198.51.100.4:8080" for i in range(len(a)) if a[i] != d[i]))(json.load(open("'"$T/t1.json"'")))' \
	-- cat "$T/t2.json"
check "backend set state drain" 0 -- "$K" backend set tcp $V4 198.51.100.2:8080 state drain
json "drained backend is out of the table" '"198.51.100.2:8080" not in d and len(d) == 16381' \
	-- "$K" -j table show tcp $V4
check "backend set state up weight 2" 0 -- "$K" backend set tcp $V4 198.51.100.2:8080 state up weight 2
json "backend set shows weight and state" \
	'any(b["addr"] == "198.51.100.2:8080" and b["weight"] == 2 and b["state"] == "up" for b in d)' \
	-- "$K" -j backend show tcp $V4
check "backend set state down" 0 -- "$K" backend set tcp $V4 198.51.100.3:8080 state down
json "down backend is out of the table" '"198.51.100.3:8080" not in d' -- "$K" -j table show tcp $V4
check "backend set weight 0" 0 -- "$K" backend set tcp $V4 198.51.100.4:8080 weight 0
json "only the up backend with weight is left in the table" 'set(d) == {"198.51.100.2:8080"}' \
	-- "$K" -j table show tcp $V4

# IPv6 service with a table
check "IPv6 maglev service" 0 -- "$K" service add tcp "$V6" table-size 509
check "IPv6 backend add" 0 -- "$K" backend add tcp "$V6" '[2001:db8::1]:8443'
check "IPv6 backend add weight 2" 0 -- "$K" backend add tcp "$V6" '[2001:db8::2]:8443' weight 2
json "IPv6 table" 'len(d) == 509 and set(d) == {"[2001:db8::1]:8443", "[2001:db8::2]:8443"}' \
	-- "$K" -j table show tcp "$V6"
run "$K" backend show tcp "$V6"
if grep -Eq '^1 +\[2001:db8::2\]:8443 +2 +up$' <<<"$out"; then
	ok "IPv6 backend show: text table"
else
	not_ok "IPv6 backend show: text table" "$out"
fi
run "$K" table show tcp "$V6"
if [ "$(wc -l <<<"$out")" -eq 510 ] && grep -Eq '^508 +\[2001:db8::[12]\]:8443$' <<<"$out"; then
	ok "IPv6 table show: text"
else
	not_ok "IPv6 table show: text" "$(tail -2 <<<"$out")"
fi
check "IPv6 backend set weight" 0 -- "$K" backend set tcp "$V6" '[2001:db8::2]:8443' weight 4
json "IPv6 backend set shows" \
	'[(b["addr"], b["weight"]) for b in d] == [("[2001:db8::1]:8443", 1), ("[2001:db8::2]:8443", 4)]' \
	-- "$K" -j backend show tcp "$V6"
json "IPv6 table follows the new weight" \
	'abs(d.count("[2001:db8::2]:8443") - 509 * 4 / 5) <= 1' -- "$K" -j table show tcp "$V6"
check "service set table-size rebuilds the table" 0 -- "$K" service set tcp "$V6" table-size 1021
json "table has the new size" 'len(d) == 1021' -- "$K" -j table show tcp "$V6"
check "service set sched wlc drops the table" 0 -- "$K" service set tcp "$V6" sched wlc
json "no table under wlc" 'd[0]["table"] is False' -- "$K" -j service show tcp "$V6"
check "table show without a table fails" 1 'no table' -- "$K" table show tcp "$V6"
check "service set back to maglev builds a table" 0 -- "$K" service set tcp "$V6" sched maglev
json "table is back" 'len(d) == 1021' -- "$K" -j table show tcp "$V6"
check "backend del on wlc-less IPv6" 0 -- "$K" backend del tcp "$V6" '[2001:db8::1]:8443'

# ---- flow where --------------------------------------------------------------

check "flow where service" 0 -- "$K" service add tcp 203.0.113.20:80 table-size 1009 seed $SEED
for i in 1 2 3 4 5; do
	"$K" backend add tcp 203.0.113.20:80 198.51.100.$((10 + i)):80 >/dev/null || true
done
"$K" -j table show tcp 203.0.113.20:80 >"$T/tw.json"
for client in 192.0.2.1:40000 192.0.2.77:1234 192.0.2.200:65535; do
	read -r want_slot want_hash < <(slot $SEED tcp 203.0.113.20:80 $client 1009)
	json "flow where $client agrees with the flow hash and the table" \
		'd["slot"] == '"$want_slot"' and d["hash"] == "'"$want_hash"'" and d["backend"] == json.load(open("'"$T/tw.json"'"))['"$want_slot"'] and "NEW flow" in d["note"]' \
		-- "$K" -j flow where tcp 203.0.113.20:80 $client
done
run "$K" flow where tcp 203.0.113.20:80 192.0.2.1:40000
if [ "$rc" -eq 0 ] && grep -q 'NEW flow' <<<"$out" && grep -q '198.51.100.1[1-5]:80' <<<"$out"; then
	ok "flow where: text says it is the choice for a new flow"
else
	not_ok "flow where: text says it is the choice for a new flow" "$out"
fi
check "service set affinity src" 0 -- "$K" service set tcp 203.0.113.20:80 affinity src
read -r s1 _ < <(slot $SEED tcp 203.0.113.20:80 192.0.2.9:1000 1009 src)
json "flow where with source affinity hashes the source only" 'd["slot"] == '"$s1"'' \
	-- "$K" -j flow where tcp 203.0.113.20:80 192.0.2.9:2222
check "service set maglev-bounded" 0 -- "$K" service set tcp 203.0.113.20:80 sched maglev-bounded affinity none
"$K" -j table show tcp 203.0.113.20:80 >"$T/tb.json"
read -r sb _ < <(slot $SEED tcp 203.0.113.20:80 192.0.2.5:5555 1009)
json "flow where, maglev-bounded: candidates start at the slot's backend" \
	'd["candidates"][0] == json.load(open("'"$T/tb.json"'"))['"$sb"'] and d["backend"] == d["candidates"][0] and len(set(d["candidates"])) == len(d["candidates"]) == 5' \
	-- "$K" -j flow where tcp 203.0.113.20:80 192.0.2.5:5555
check "backend drain moves a bounded flow to its next candidate" 0 -- \
	"$K" backend set tcp 203.0.113.20:80 "$("$K" table show tcp 203.0.113.20:80 | awk -v s="$sb" '$1 == s { print $2 }')" state drain
"$K" -j table show tcp 203.0.113.20:80 >"$T/tb2.json"
json "flow where after drain: first candidate in the new table" \
	'd["backend"] == json.load(open("'"$T/tb2.json"'"))['"$sb"'] and d["state"] == "up"' \
	-- "$K" -j flow where tcp 203.0.113.20:80 192.0.2.5:5555
check "flow where IPv6 service" 0 -- "$K" service add udp '[2001:db8::20]:53' table-size 251 seed $SEED
for i in 1 2 3; do
	"$K" backend add udp '[2001:db8::20]:53' "[2001:db8::3$i]:53" >/dev/null || true
done
"$K" -j table show udp '[2001:db8::20]:53' >"$T/tw6.json"
read -r want_slot want_hash < <(slot $SEED udp '[2001:db8::20]:53' '[2001:db8:1::7]:5353' 251)
json "flow where IPv6 agrees with the flow hash and the table" \
	'd["slot"] == '"$want_slot"' and d["hash"] == "'"$want_hash"'" and d["backend"] == json.load(open("'"$T/tw6.json"'"))['"$want_slot"'] and d["vip"] == "[2001:db8::20]:53"' \
	-- "$K" -j flow where udp '[2001:db8::20]:53' '[2001:db8:1::7]:5353'
check "flow where: unknown service" 1 'service udp 203.0.113.99:53: .*no such service' -- \
	"$K" flow where udp 203.0.113.99:53 192.0.2.1:1
check "flow where: bad client address" 2 "bad client address" -- "$K" flow where tcp 203.0.113.20:80 192.0.2.1
check "flow where: too many words" 2 "unexpected 'x'" -- "$K" flow where tcp 203.0.113.20:80 192.0.2.1:1 x
check "flow where: client family differs" 1 'family differs' -- "$K" flow where tcp 203.0.113.20:80 '[2001:db8::9]:1'
"$K" service set tcp "$V6" sched wlc
check "flow where: no table (wlc)" 1 'picks backends by load' -- "$K" flow where tcp "$V6" '[2001:db8::99]:1'
check "flow where: missing client" 2 'missing' -- "$K" flow where tcp 203.0.113.20:80

# ---- the fast path's flow table and counters (no traffic here: see
# selftests/datapath for them under traffic) ---------------------------------

json "flow show: an empty flow table is an empty list" 'd == []' -- "$K" -j flow show
check "flow show SERVICE backend" 0 -- "$K" flow show tcp $V4 backend 198.51.100.2:8080
check "flow flush SERVICE" 0 -- "$K" flow flush tcp $V4
check "flow flush" 0 -- "$K" flow flush
json "stats: a service row, then one per backend, all zero" \
	'd[0]["backend"] == "-" and len(d) == 1 + len(json.load(open("'"$T/bes.json"'"))) and all(r["pkts_in"] == 0 and r["flows_active"] == 0 for r in d)' \
	-- sh -c "'$K' -j backend show tcp $V4 >'$T/bes.json' && '$K' -j stats tcp $V4"
json "stats: every service" 'len([r for r in d if r["backend"] == "-"]) == len(json.load(open("'"$T/svcs.json"'")))' \
	-- sh -c "'$K' -j service show >'$T/svcs.json' && '$K' -j stats"
check "stats: unknown service" 1 'no such service' -- "$K" stats tcp 203.0.113.99:80
json "service show -s adds the counters" 'all("pkts_in" in r and "drop_no_backend" in r for r in d)' \
	-- "$K" -j -s service show

# ---- errors ------------------------------------------------------------------

check "bad address" 2 "bad address '203.0.113.300:80'" -- "$K" service add tcp 203.0.113.300:80
check "bad port 0" 2 'port 1..65535' -- "$K" service add tcp 203.0.113.10:0
check "bad port 65536" 2 'port 1..65535' -- "$K" service add tcp 203.0.113.10:65536
check "missing port" 2 'bad address' -- "$K" service add tcp 203.0.113.10
check "bad IPv6 address" 2 'bad address' -- "$K" service add tcp '[2001:db8::zz]:80'
check "bad backend address" 2 'bad backend address' -- "$K" backend add tcp $V4 198.51.100.1
check "bad protocol" 2 'tcp or udp' -- "$K" service add sctp $V4
check "usage error prints the command's usage" 2 'usage: klbctl service add PROTO' -- "$K" service add tcp
check "unknown keyword" 2 "unknown keyword 'colour'" -- "$K" service add tcp 203.0.113.12:80 colour blue
check "unknown scheduler" 2 "unknown scheduler 'lc'" -- "$K" service add tcp 203.0.113.12:80 sched lc
check "keyword without value" 2 "'sched' needs a value" -- "$K" service add tcp 203.0.113.12:80 sched
check "bad seed" 2 'seed .* 32 hex digits' -- "$K" service add tcp 203.0.113.12:80 seed 1234
check "unknown object" 2 "unknown object 'pool'" -- "$K" pool show
check "unknown command" 2 "unknown command 'service list'" -- "$K" service list
check "unknown option" 2 "unknown option '-x'" -- "$K" -x service show
check "service set with nothing to set" 2 'nothing to set' -- "$K" service set tcp $V4
check "backend set with nothing to set" 2 'nothing to set' -- "$K" backend set tcp $V4 198.51.100.2:8080
check "unknown service" 1 'backend 198.51.100.9:80 of tcp 203.0.113.99:80: .*no such service' -- \
	"$K" backend add tcp 203.0.113.99:80 198.51.100.9:80
check "duplicate service" 1 'service tcp 203.0.113.10:80: .*exist' -- "$K" service add tcp $V4
check "duplicate backend" 1 'backend 198.51.100.2:8080 of tcp 203.0.113.10:80: .*already exist' -- \
	"$K" backend add tcp $V4 198.51.100.2:8080
check "unknown backend" 1 'no such backend' -- "$K" backend del tcp $V4 198.51.100.99:8080
check "out-of-range weight" 1 '^klbctl: backend 198.51.100.5:80 of tcp 203.0.113.10:80: weight out of range \(0\.\.65535\)$' -- \
	"$K" backend add tcp $V4 198.51.100.5:80 weight 65536
check "out-of-range weight on set" 1 'weight out of range' -- \
	"$K" backend set tcp $V4 198.51.100.2:8080 weight 100000
check "backend family differs from the service's" 1 'family differs' -- \
	"$K" backend add tcp $V4 '[2001:db8::5]:80'
check "M not prime" 1 'service tcp 203.0.113.12:80: .*prime' -- "$K" service add tcp 203.0.113.12:80 table-size 1000
check "M too small" 1 'prime' -- "$K" service add tcp 203.0.113.12:80 table-size 5
check "M not prime on set" 1 'prime' -- "$K" service set tcp $V4 table-size 16380
check "bound out of range" 1 'service tcp 203.0.113.12:80: ' -- "$K" service add tcp 203.0.113.12:80 bound 50
check "unknown forwarding method" 2 "unknown forwarding method 'dsr'" -- "$K" service add tcp 203.0.113.12:80 fwd dsr
check "table-size not a number" 2 "table-size 'big' is not a number" -- "$K" service add tcp 203.0.113.12:80 table-size big
check "bound not a number" 2 "bound 'x' is not a number" -- "$K" service set tcp $V4 bound x
check "bad affinity" 2 "affinity is 'src' or 'none', not 'dst'" -- "$K" service add tcp 203.0.113.12:80 affinity dst
check "bad down-policy" 2 "down-policy is 'resteer' or 'drop', not 'keep'" -- "$K" service set tcp $V4 down-policy keep
check "bad check type" 2 "check is 'tcp', 'http\\[:STATUS\\]', .* or 'none', not 'udp'" -- "$K" service set tcp $V4 check udp
check "check status not a number" 2 "check is 'tcp', .* or 'none', not 'http:ok'" -- "$K" service set tcp $V4 check http:ok
check "rise out of range" 2 "rise '300' is not a number in range" -- "$K" service set tcp $V4 rise 300
check "interval without value" 2 "'interval' needs a value" -- "$K" service set tcp $V4 interval
check "health check without klbd" 1 'health checks are run by klbd' -- "$K" service set tcp $V4 check tcp
check "bad state" 2 "state is up, drain or down, not 'gone'" -- "$K" backend set tcp $V4 198.51.100.2:8080 state gone
check "weight not a number" 2 "weight 'heavy' is not a number" -- "$K" backend add tcp $V4 198.51.100.5:80 weight heavy
check "weight without value" 2 "'weight' needs a value" -- "$K" backend add tcp $V4 198.51.100.5:80 weight
check "state on backend add" 2 "unknown keyword 'state'" -- "$K" backend add tcp $V4 198.51.100.5:80 state up
check "keywords on backend del" 2 "unknown keyword 'weight'" -- "$K" backend del tcp $V4 198.51.100.2:8080 weight 1
check "backend add without backend" 2 'missing ADDR:PORT' -- "$K" backend add tcp $V4
check "service del: extra words" 2 "unexpected 'now'" -- "$K" service del tcp $V4 now
check "service show: VIP missing" 2 'missing VIP:PORT' -- "$K" service show tcp
check "backend show: extra words" 2 "unexpected 'x'" -- "$K" backend show tcp $V4 x
check "backend show: unknown service" 1 'service tcp 203.0.113.99:80: .*no such service' -- \
	"$K" backend show tcp 203.0.113.99:80
json "backend show -s adds the counters" 'all("flows_active" in r and "bytes_out" in r for r in d)' \
	-- "$K" -j -s backend show tcp $V4
json "--stats is -s" 'all("pkts_in" in r for r in d)' -- "$K" -j --stats service show
check "table show: unknown service" 1 'service tcp 203.0.113.99:80: .*no such service' -- \
	"$K" table show tcp 203.0.113.99:80
check "table show: missing service" 2 'missing PROTO VIP:PORT' -- "$K" table show
check "save: extra words" 2 "unexpected 'x'" -- "$K" save x
check "flush: extra words" 2 "unexpected 'x'" -- "$K" flush x
check "restore: extra words" 2 'restore reads standard input' -- "$K" restore file
check "monitor: extra words" 2 "unexpected 'x'" -- "$K" monitor x
check "flow flush: extra words" 2 "unexpected 'x'" -- "$K" flow flush tcp $V4 x
check "stats: VIP missing" 2 'missing PROTO VIP:PORT' -- "$K" stats tcp
check "flow show: bad backend" 2 "'backend' needs ADDR:PORT" -- "$K" flow show tcp $V4 backend x
check "missing object" 2 'missing OBJECT' -- "$K"
check "object without command" 2 "'service' needs a command" -- "$K" service
check "-h prints the usage" 0 -- "$K" -h
if grep -q '^usage: klbctl \[-j\] \[-s\] \[-n NETNS\]' "$T/out" && [ "$(grep -c '^       klbctl ' "$T/out")" -eq 24 ]; then
	ok "-h: the grammar and every command"
else
	not_ok "-h: the grammar and every command" "$(cat "$T/out")"
fi
json "failed writes changed nothing" 'not any(s["vip"] == "203.0.113.12:80" for s in d)' -- "$K" -j service show

# ---- save / restore ------------------------------------------------------------

"$K" save >"$T/save1" 2>"$T/err"
check "save" 0 -- test -s "$T/save1"
check "flush" 0 -- "$K" flush
json "flush removed every service" 'd == []' -- "$K" -j service show
check "restore" 0 -- "$K" restore <"$T/save1"
"$K" save >"$T/save2"
check "save -> flush -> restore -> save is identical" 0 -- cmp "$T/save1" "$T/save2"
"$K" -j table show tcp 203.0.113.20:80 >"$T/tr.json"
check "restore brings the table back slot for slot" 0 -- cmp "$T/tb2.json" "$T/tr.json"
check "service add outside the saved config" 0 -- "$K" service add udp 203.0.113.50:53
check "backend set before restore" 0 -- "$K" backend set tcp $V4 198.51.100.2:8080 weight 9
check "restore replaces the config" 0 -- "$K" restore <"$T/save1"
"$K" save >"$T/save3"
check "services not in the input are gone, changes undone" 0 -- cmp "$T/save1" "$T/save3"
check "restore of the current config is a no-op" 0 -- "$K" restore <"$T/save1"
cp "$T/save1" "$T/bad"
printf 'service tcp 192.0.2.99:80\nbackend 198.51.100.200:80 id 7 weight 70000\n' >>"$T/bad"
check "restore: bad weight names the line, changes nothing" 1 \
	"restore: line $(wc -l <"$T/bad"): weight '70000' out of range" -- "$K" restore <"$T/bad"
printf 'service tcp 192.0.2.1:80\nbackend 192.0.2.2:80 colour red\n' >"$T/bad2"
check "restore: unknown keyword names the line" 1 "line 2: unknown keyword 'colour'" -- "$K" restore <"$T/bad2"
printf 'backend 192.0.2.2:80\n' >"$T/bad3"
check "restore: backend before any service" 1 'line 1:' -- "$K" restore <"$T/bad3"
printf 'service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80\ntable AAAAAAAA\n' >"$T/bad4"
check "restore: malformed table" 1 'line 3: table is not the base64' -- "$K" restore <"$T/bad4"
printf 'service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80 id 1\ntable AAAAAAAAAAAAAAAAAAA=\n' >"$T/bad5"
check "restore: table naming a missing backend" 1 'names backend id 0' -- "$K" restore <"$T/bad5"
# Base64 of seven one-byte ids: two whole groups and a padded one.
for t in 'AAAA*AAAAA==' 'AAAAAAAA*A==' 'AAAAAAAAAAA=' 'AAAAAAAAAA=A' 'AAAAAAAAAA= '; do
	printf 'service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80 id 0\ntable %s\n' "$t" >"$T/bad6"
	check "restore: table '$t' is not base64" 1 'line 3: table is not the base64' -- "$K" restore <"$T/bad6"
done
printf 'service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80 id 0\ntable AAAAAAAAAA==\n' >"$T/good6"
json "restore: a padded base64 table decodes slot for slot" 'd == ["192.0.2.2:80"] * 7' \
	-- sh -c '"$0" restore <"$1" && "$0" -j table show tcp 192.0.2.1:80' "$K" "$T/good6"
check "restore: back to the saved config" 0 -- "$K" restore <"$T/save1"
# restore_fails NAME INPUT REGEX: restore of INPUT fails, naming the line.
restore_fails() {
	printf "$2" >"$T/bad"
	check "restore: $1" 1 "restore: $3.* \\(nothing was changed\\)$" -- "$K" restore <"$T/bad"
}
restore_fails "a service given twice" 'service tcp 192.0.2.1:80\nservice tcp 192.0.2.1:80\n' \
	'line 2: service tcp 192.0.2.1:80 already given on line 1'
restore_fails "a backend given twice" 'service tcp 192.0.2.1:80\nbackend 192.0.2.2:80\nbackend 192.0.2.2:80\n' \
	'line 3: backend 192.0.2.2:80 given twice'
restore_fails "a backend id given twice" 'service tcp 192.0.2.1:80\nbackend 192.0.2.2:80 id 3\nbackend 192.0.2.3:80 id 3\n' \
	'line 3: backend id 3 given twice'
restore_fails "backend id out of range" 'service tcp 192.0.2.1:80\nbackend 192.0.2.2:80 id 65535\n' \
	"line 2: id '65535' out of range"
restore_fails "bad state" 'service tcp 192.0.2.1:80\nbackend 192.0.2.2:80 state gone\n' \
	"line 2: state is up, drain or down, not 'gone'"
restore_fails "backend family differs" 'service tcp 192.0.2.1:80\nbackend [2001:db8::2]:80\n' \
	'line 2: backend .* address family differs'
restore_fails "a second table" 'service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80\ntable AAAAAAAAAA==\ntable AAAAAAAAAA==\n' \
	'line 4: a second table'
restore_fails "a table under wlc" 'service tcp 192.0.2.1:80 sched wlc\nbackend 192.0.2.2:80\ntable AAAAAAAAAA==\n' \
	'line 3: scheduler wlc does not use a table'
restore_fails "table size not prime" 'service tcp 192.0.2.1:80 table-size 100\n' \
	'line 1: table size 100 is not a prime'
restore_fails "bound out of range" 'service tcp 192.0.2.1:80 bound 50\n' \
	'line 1: bound 50 out of range'
restore_fails "unknown scheduler" 'service tcp 192.0.2.1:80 sched lc\n' \
	"line 1: unknown scheduler 'lc'"
restore_fails "option without value" 'service tcp 192.0.2.1:80 seed\n' \
	"line 1: 'seed' needs a value"
restore_fails "service without VIP" 'service tcp\n' \
	"line 1: 'service' needs PROTO VIP:PORT"
restore_fails "bad protocol" 'service sctp 192.0.2.1:80\n' \
	"line 1: protocol must be tcp or udp, not 'sctp'"
restore_fails "unknown line" 'pool a\n' \
	"line 1: unknown keyword 'pool' \\(want service, backend or table\\)"
printf 'service tcp 192.0.2.1:80 table-size 7\nbackend 192.0.2.2:80 id 300\ntable LAEsASwBLAEsASwBLAE=\n' >"$T/wide"
check "restore: a table of 16-bit ids" 0 -- "$K" restore <"$T/wide"
json "16-bit table restored" 'd == ["192.0.2.2:80"] * 7' -- "$K" -j table show tcp 192.0.2.1:80
run "$K" save
if grep -qx 'table LAEsASwBLAEsASwBLAE=' <<<"$out"; then
	ok "save writes ids above 255 as 16-bit"
else
	not_ok "save writes ids above 255 as 16-bit" "$out"
fi
check "restore the saved config again" 0 -- "$K" restore <"$T/save1"
"$K" save >"$T/save4"
check "bad restores changed nothing" 0 -- cmp "$T/save1" "$T/save4"
printf 'service tcp 192.0.2.1:80 table-size 13\nbackend 192.0.2.2:80\nbackend 192.0.2.3:80 weight 2\n# a comment\n\nservice udp [2001:db8::1]:53 sched rr\nbackend [2001:db8::2]:53\n' >"$T/hand"
check "restore of a hand-written config (no ids, no table)" 0 -- "$K" restore <"$T/hand"
json "hand-written config: table built, ids assigned" \
	'len(d) == 13 and set(d) == {"192.0.2.2:80", "192.0.2.3:80"}' -- "$K" -j table show tcp 192.0.2.1:80
json "hand-written config replaced the rest" 'len(d) == 2' -- "$K" -j service show

# The monitor says what changed, not only that a service moved.
"$K" flush
start_monitor "$T/mon4"
M=tcp
"$K" service add $M 192.0.2.60:80 table-size 251 >/dev/null
"$K" backend add $M 192.0.2.60:80 192.0.2.61:80 >/dev/null
"$K" backend set $M 192.0.2.60:80 192.0.2.61:80 weight 3 >/dev/null
"$K" backend set $M 192.0.2.60:80 192.0.2.61:80 state drain >/dev/null
"$K" service set $M 192.0.2.60:80 sched wlc >/dev/null
"$K" backend del $M 192.0.2.60:80 192.0.2.61:80 >/dev/null
"$K" service del $M 192.0.2.60:80 >/dev/null
wait_for "$T/mon4" '"event":"service-del".*"service":"tcp 192.0.2.60:80"'
stop_monitor
events "$T/mon4"
json "monitor: each change is named" \
	'all(any(c.startswith(p) for e in d for c in e.get("changes", [])) for p in ("service added (maglev, nat)", "backend 192.0.2.61:80 added", "backend 192.0.2.61:80 weight 1 -> 3", "backend 192.0.2.61:80 up -> drain", "sched maglev -> wlc", "backend 192.0.2.61:80 removed", "service removed"))' \
	-- cat "$T/mon4.json"

# Each service in one transaction: a monitor sees, per service, its
# creation and one commit, never a backend or table change on its own.
"$K" flush
start_monitor "$T/mon3"
cat >"$T/atomic" <<'EOF_IN'
service tcp 192.0.2.50:80 table-size 251 seed 00112233445566778899aabbccddeeff
backend 192.0.2.51:80
backend 192.0.2.52:80 weight 2
service tcp [2001:db8::50]:80 sched maglev-bounded table-size 251 seed 00112233445566778899aabbccddeeff
backend [2001:db8::51]:80
backend [2001:db8::52]:80
service udp 192.0.2.50:53 sched wlc seed 00112233445566778899aabbccddeeff
backend 192.0.2.53:53
EOF_IN
check "restore of three services" 0 -- "$K" restore <"$T/atomic"
sed 's/^backend 192.0.2.52:80 weight 2$/backend 192.0.2.52:80 weight 5/' "$T/atomic" >"$T/atomic2"
check "restore changing one backend" 0 -- "$K" restore <"$T/atomic2"
wait_for "$T/mon3" '"event":"commit".*"service":"tcp 192.0.2.50:80"' 2
stop_monitor
events "$T/mon3"
json "restore: each service is one commit; an unchanged one is left alone" \
	'[(e["event"], e.get("service")) for e in d] == [("service-add", "tcp 192.0.2.50:80"), ("commit", "tcp 192.0.2.50:80"), ("service-add", "tcp [2001:db8::50]:80"), ("commit", "tcp [2001:db8::50]:80"), ("service-add", "udp 192.0.2.50:53"), ("commit", "udp 192.0.2.50:53"), ("commit", "tcp 192.0.2.50:80")]' \
	-- cat "$T/mon3.json"
json "restore: the change landed" \
	'[(b["addr"], b["weight"]) for b in d] == [("192.0.2.51:80", 1), ("192.0.2.52:80", 5)]' \
	-- "$K" -j backend show tcp 192.0.2.50:80
# A service the kernel refuses is not left half restored, and is named.
MAXB=/sys/module/klb/parameters/max_backends
old_maxb=$(cat "$MAXB")
echo 2 >"$MAXB"
printf 'service tcp 192.0.2.60:80\nbackend 192.0.2.61:80\nbackend 192.0.2.62:80\nservice tcp 192.0.2.70:80\nbackend 192.0.2.71:80\nbackend 192.0.2.72:80\nbackend 192.0.2.73:80\n' >"$T/toomany"
check "restore: the kernel's refusal names the service" 1 '^klbctl: service tcp 192\.0\.2\.70:80: ' -- \
	"$K" restore <"$T/toomany"
echo "$old_maxb" >"$MAXB"
json "restore: services before it whole, the refused one not there at all" \
	'sorted((s["vip"], s["backends"]) for s in d) == [("192.0.2.60:80", 2)]' -- "$K" -j service show

# ---- concurrent writers --------------------------------------------------------

"$K" flush
"$K" service add tcp 203.0.113.30:80 table-size 4093 >/dev/null
pids=
for i in $(seq 1 10); do
	"$K" backend add tcp 203.0.113.30:80 198.51.100.$((100 + i)):80 weight $i \
		>"$T/w$i.out" 2>"$T/w$i.err" &
	pids="$pids $!"
done
bad=0
for p in $pids; do
	wait "$p" || bad=$((bad + 1))
done
if [ "$bad" -eq 0 ]; then
	ok "ten concurrent backend adds all succeed"
else
	not_ok "ten concurrent backend adds all succeed" "$bad failed" "$(cat "$T"/w*.err)"
fi
json "all ten landed with distinct ids 0..9" \
	'sorted(b["id"] for b in d) == list(range(10)) and len({b["addr"] for b in d}) == 10' \
	-- "$K" -j backend show tcp 203.0.113.30:80
json "the table holds all ten by weight" \
	'len(set(d)) == 10 and all(abs(d.count("198.51.100.%d:80" % (100 + i)) - 4093 * i / 55) <= 1 for i in range(1, 11))' \
	-- "$K" -j table show tcp 203.0.113.30:80

# ---- monitor -------------------------------------------------------------------

start_monitor "$T/mon"
"$K" backend add tcp 203.0.113.30:80 198.51.100.200:80 >/dev/null
if wait_for "$T/mon" '"event":"commit".*"service":"tcp 203.0.113.30:80"'; then
	ok "monitor -j prints the commit another klbctl caused"
else
	not_ok "monitor -j prints the commit another klbctl caused" "$(cat "$T/mon" "$T/mon.err")"
fi
"$K" service set tcp 203.0.113.30:80 fwd tunnel >/dev/null
if wait_for "$T/mon" '"event":"service-set"'; then
	ok "monitor -j prints service changes"
else
	not_ok "monitor -j prints service changes" "$(cat "$T/mon")"
fi
head -n 1 "$T/mon" >"$T/mon.first"
json "monitor -j: each line is one JSON object" '"generation" in d and "event" in d' -- cat "$T/mon.first"
stop_monitor
"$K" monitor >"$T/mon2" 2>&1 &
MON_PID=$!
deadline=$((SECONDS + 20))
until grep -q generation "$T/mon2" 2>/dev/null || [ $SECONDS -ge $deadline ]; do
	"$K" service add udp 203.0.113.40:53 sched rr >/dev/null 2>&1
	"$K" service del udp 203.0.113.40:53 >/dev/null 2>&1
	sleep 0.1
done
"$K" backend set tcp 203.0.113.30:80 198.51.100.200:80 state drain >/dev/null
if wait_for "$T/mon2" '^event commit generation [0-9]+ service tcp 203\.0\.113\.30:80'; then
	ok "monitor prints text events"
else
	not_ok "monitor prints text events" "$(cat "$T/mon2")"
fi
stop_monitor

# ---- network namespaces ----------------------------------------------------------

ip netns add "$NS1" && ip netns add "$NS2"
check "-n: service add in a namespace" 0 -- "$K" -n "$NS1" service add tcp 192.0.2.10:80
check "-n: backend add in a namespace" 0 -- "$K" -n "$NS1" backend add tcp 192.0.2.10:80 192.0.2.11:80
json "-n: visible in its namespace" 'len(d) == 1 and d[0]["vip"] == "192.0.2.10:80" and d[0]["backends"] == 1' \
	-- "$K" -j -n "$NS1" service show
json "-n: not in another namespace" 'd == []' -- "$K" -j -n "$NS2" service show
json "-n: not in the initial namespace" 'not any(s["vip"] == "192.0.2.10:80" for s in d)' \
	-- "$K" -j service show
"$K" -n "$NS1" save >"$T/ns.save"
check "-n: restore a namespace's save into another" 0 -- "$K" -n "$NS2" restore <"$T/ns.save"
"$K" -n "$NS2" save >"$T/ns2.save"
check "-n: the other namespace holds the same config" 0 -- cmp "$T/ns.save" "$T/ns2.save"
check "--netns is -n" 0 -- "$K" --netns "$NS1" flush
json "-n: flush empties only its namespace" 'd == []' -- "$K" -j -n "$NS1" service show
json "-n: the other namespace keeps its config" 'len(d) == 1' -- "$K" -j -n "$NS2" service show
start_monitor "$T/mon4" -n "$NS2"
"$K" backend add tcp 203.0.113.30:80 198.51.100.201:80 >/dev/null
"$K" -n "$NS2" backend add tcp 192.0.2.10:80 192.0.2.12:80 >/dev/null
json "-n: the backend landed in its namespace" 'len(d) == 2' -- "$K" -j -n "$NS2" backend show tcp 192.0.2.10:80
wait_for "$T/mon4" '"service":"tcp 192.0.2.10:80"'
stop_monitor
events "$T/mon4"
json "-n: monitor sees its namespace's changes only" \
	'[(e["event"], e.get("service")) for e in d] == [("commit", "tcp 192.0.2.10:80")]' \
	-- cat "$T/mon4.json"
check "-n: unknown namespace" 1 "network namespace 'klbct-none'" -- "$K" -n klbct-none service show
check "-n: without a name" 2 '-n needs' -- "$K" -n
ip netns del "$NS1"
ip netns del "$NS2"

# ---- the klbd seam -----------------------------------------------------------------

python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/klbd.sock"
check "writes go to klbd's socket, never around it" 1 'klbd .*klbd.sock.*Connection refused .is klbd running' -- \
	env KLB_CONTROL_SOCKET="$T/klbd.sock" "$K" service add tcp 203.0.113.60:80
check "--direct writes to the kernel with a warning" 0 'warning: --direct' -- \
	env KLB_CONTROL_SOCKET="$T/klbd.sock" "$K" --direct service add tcp 203.0.113.60:80
check "reads work with klbd present" 0 -- env KLB_CONTROL_SOCKET="$T/klbd.sock" "$K" service show

# ---- privileges ---------------------------------------------------------------------

unpriv() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"
}
check "unprivileged write: EPERM explained" 1 'CAP_NET_ADMIN' -- unpriv "$K" service add tcp 203.0.113.61:80
check "unprivileged backend add: EPERM explained" 1 'backend .*CAP_NET_ADMIN' -- \
	unpriv "$K" backend add tcp 203.0.113.30:80 198.51.100.250:80
json "unprivileged read works, without the seed" \
	'len(d) >= 1 and all("seed" not in s for s in d)' -- unpriv "$K" -j service show
check "unprivileged save refuses without the seed" 1 'CAP_NET_ADMIN' -- unpriv "$K" save

# ---- man page and completion ---------------------------------------------------------

"$K" -h >"$T/usage"
missing=
while read -r _ obj cmd _; do
	case $cmd in
	add | set | del | show | flush | where) words="$obj $cmd" ;;
	*) words=$obj ;;
	esac
	grep -Eq "^\.B (klbctl )?$words( |\$)" Documentation/klbctl.8 ||
		missing="$missing '$words'"
done < <(grep '^       klbctl ' "$T/usage")
if [ -z "$missing" ] && grep -q '^\.SH DEBUGGING' Documentation/klbctl.8 &&
	grep -q '^\.SH EXAMPLES' Documentation/klbctl.8; then
	ok "man page: every command, EXAMPLES and DEBUGGING"
else
	not_ok "man page: every command, EXAMPLES and DEBUGGING" "missing:$missing"
fi
# complete WORDS...: what the completion offers for the last (partial) word.
complete_words() {
	K=$K bash -c '
		klbctl() { "$K" "$@"; }
		_init_completion() {
			words=("${COMP_WORDS[@]}")
			cword=$COMP_CWORD
			cur=${COMP_WORDS[COMP_CWORD]}
			prev=${COMP_WORDS[COMP_CWORD - 1]}
		}
		complete() { :; }
		. userspace/klbctl/klbctl.bash-completion
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_klbctl
		echo "${COMPREPLY[*]}"' _ "$@"
}
if [ "$(complete_words klbctl ser)" = service ] &&
	[ "$(complete_words klbctl -j backend s)" = "set show" ] &&
	[ "$(complete_words klbctl service add tcp 203.0.113.30:80 sched maglev-)" = maglev-bounded ] &&
	[ "$(complete_words klbctl backend set tcp 203.0.113.30:80 198.51.100.1:80 state d)" = "drain down" ] &&
	[ "$(complete_words klbctl service set tcp 203.0.113.30:80 check h)" = "http http:200 https https:200" ] &&
	[ "$(complete_words klbctl backend add tcp 203.0.113.3)" = "203.0.113.30:80" ] &&
	[ "$(complete_words klbctl cluster re)" = remove-member ]; then
	ok "bash completion: objects, commands, keywords, values, services"
else
	not_ok "bash completion: objects, commands, keywords, values, services" \
		"ser: $(complete_words klbctl ser)" "service: $(complete_words klbctl backend add tcp 203.0.113.3)"
fi

# ---- the module not loaded ------------------------------------------------------------

"$K" flush
if rmmod klb; then
	check "module not loaded: says so and how to load it" 1 \
		"klb kernel module is not loaded .*modprobe klb.*insmod klb.ko" -- "$K" service show
	check "module not loaded: writes too" 1 'not loaded' -- "$K" service add tcp 203.0.113.62:80
	insmod "$module"
	check "module back: klbctl works again" 0 -- "$K" service show
else
	not_ok "rmmod klb (something holds the module)"
fi

"$K" flush >/dev/null 2>&1
echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# Tests of tools/vm/run itself, printing TAP. They cost eight guest boots
# (four of them two at a time), about a minute and a half, so 'make check' does not run them; run them after
# changing anything in tools/vm:
#
#   tools/vm/selftest.sh
# The braces make the shell read the whole script before running any of it,
# so a checkout updated under a run in progress cannot derail it.
{
set -u
cd "$(dirname "$0")/../.." || exit 1
run=$PWD/tools/vm/run

n=0
failed=0
check() {
	n=$((n + 1))
	name=$1
	shift
	if "$@"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		failed=1
	fi
}

mkdir -p build/vm
work=$(mktemp -d "$PWD/build/vm/selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
token=$(basename "$work")
no_process_with() {
	! pgrep -f "$1" >/dev/null
}

# One boot checks most of the contract: run from build/ with stdin closed,
# odd arguments, an environment to pass through and one to keep out.
(
	cd build &&
	CI=true KLB_SELFTEST="a 'b' \$c" SELFTEST_HIDDEN=1 \
		"$run" -- sh -c '
		pwd
		printf "<%s>" "$@"; echo
		echo "KLB_SELFTEST=$KLB_SELFTEST"
		echo "SELFTEST_HIDDEN=${SELFTEST_HIDDEN:-unset}"
		echo "to stderr" >&2
		echo "written in the guest" >"$1/from-guest"
		echo guest >/etc/klb-vm-selftest-'"$token"' && echo "root writable"
		modprobe ip_vs && grep -q "^ip_vs " /proc/modules && echo "ip_vs loaded"
		ip netns add klbtest && ip -n klbtest link show lo >/dev/null &&
			echo "netns works"
		exit 7' sh "$work" "two words" "it's" '' <&- \
		>"$work/out" 2>"$work/err"
	echo $? >"$work/rc"
)
out=$work/out
check "exit status of the command is run's" [ "$(cat "$work/rc")" = 7 ]
check "cwd is the caller's" grep -qx "$PWD/build" "$out"
check "arguments arrive intact" grep -qxF "<$work><two words><it's><>" "$out"
check "KLB_ variables pass through" grep -qxF "KLB_SELFTEST=a 'b' \$c" "$out"
check "other variables stay out" grep -qx "SELFTEST_HIDDEN=unset" "$out"
check "stderr goes to stderr" grep -qx "to stderr" "$work/err"
check "stderr stays off stdout" sh -c '! grep -q "to stderr" "$1"' sh "$out"
check "the checkout is writable" grep -qx "written in the guest" "$work/from-guest"
check "the root is writable in the guest" grep -qx "root writable" "$out"
check "the host root is untouched" [ ! -e "/etc/klb-vm-selftest-$token" ]
check "modprobe loads host modules" grep -qx "ip_vs loaded" "$out"
check "network namespaces work" grep -qx "netns works" "$out"
check "the kernel log is saved" grep -q "klb-vm: command exited with status 7" build/vm/dmesg.log
check "a failure prints the kernel log" grep -q "klb-vm: command exited with status 7" "$work/err"

# A kernel warning fails a command that succeeded, unless allowed; both
# runs go at once, which checks that concurrent runs stay apart.
warn='echo "<4>WARNING: klb-vm selftest" >/dev/kmsg'
"$run" -- sh -c "$warn" >"$work/warn.out" 2>"$work/warn.err" &
p1=$!
"$run" --allow-warn -- sh -c "$warn; echo allowed; echo e1 >&2; echo o2" \
	>"$work/allow.out" 2>&1 &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
check "a kernel WARNING fails the run (status 121)" [ "$rc1" = 121 ]
check "the warning is printed" grep -q "WARNING: klb-vm selftest" "$work/warn.err"
check "--allow-warn lets it pass" [ "$rc2" = 0 ]
check "a concurrent run has its own output" grep -qx allowed "$work/allow.out"
check "2>&1 keeps stdout and stderr in order" \
	[ "$(tr '\n' ' ' <"$work/allow.out")" = "allowed e1 o2 " ]

# Output nobody reads must not stall the guest: a closed stdout, and a
# pipe whose reader leaves early (both at once).
"$run" --timeout 120 -- sh -c 'echo lost; exit 6' >&- 2>/dev/null &
p1=$!
( "$run" --timeout 120 -- sh -c 'seq 1 200000; exit 5' 2>/dev/null; echo $? >"$work/pipe.rc" ) |
	head -n 1 >/dev/null
wait $p1
rc1=$?
check "a closed stdout does not stall the run" [ "$rc1" = 6 ]
check "a reader that leaves early does not stall the run" [ "$(cat "$work/pipe.rc")" = 5 ]

start=$(date +%s)
mkdir "$work/tmp"
TMPDIR=$work/tmp "$run" --timeout 20 -- sleep 600 >"$work/timeout.out" 2>&1
rc=$?
took=$(($(date +%s) - start))
check "a hung guest is killed at --timeout (status 124)" [ "$rc" = 124 ]
check "the timeout leaves no process behind" no_process_with "$work/tmp"
check "the timeout is kept ($took s)" [ "$took" -lt 40 ]

"$run" -- sh -c 'echo c >/proc/sysrq-trigger' >"$work/crash.out" 2>&1
check "a kernel crash during the command exits 125" [ $? = 125 ]
check "the crash is printed" grep -q "sysrq: Trigger a crash" "$work/crash.out"

# 40 MB cannot hold the kernel and the initramfs: the guest never boots.
"$run" --mem 40 -- true >/dev/null 2>&1
check "a guest that never boots exits 123" [ $? = 123 ]

"$run" --bogus -- true >/dev/null 2>&1
check "bad usage exits 2" [ $? = 2 ]

echo "1..$n"
exit $failed
}

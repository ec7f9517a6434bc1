#!/bin/sh
# Run klb's kernel tests inside the test guest (tools/vm/run):
#
#   tools/vm/run -- selftests/run-in-vm.sh TEST_PROGRAM...
#
# Loads kmod/klb.ko, runs each test program in turn (each prints its own
# TAP), then unloads the module. Loading, each program's exit status and
# unloading are TAP results of their own, so a program that crashes before
# reporting a failure still fails the run. Exits non-zero if anything
# failed.
#
# KLB_TEST_TIMEOUT (seconds, default 900) bounds each program, so one that
# hangs is reported by name instead of taking the whole guest with it.
# KLB_MODULE (default kmod/klb.ko) is the module to load, e.g. one built
# against another kernel (make check-debug).
# The braces make the shell read the whole script before running any of it,
# so a checkout updated under a run in progress cannot derail it.
{
set -u

repo=$(cd "$(dirname "$0")/.." && pwd -P)
module=${KLB_MODULE:-$repo/kmod/klb.ko}
per_test_timeout=${KLB_TEST_TIMEOUT:-900}
n=0
failed=0

result() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=1
	fi
}

# This loads modules into the running kernel: only in the test guest.
if [ "${KLB_VM_GUEST:-}" != 1 ]; then
	echo "run-in-vm.sh: not in the test guest; use tools/vm/run (or set KLB_VM_GUEST=1)" >&2
	echo "not ok 1 run-in-vm.sh outside the test guest"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 run-in-vm.sh needs root"
	exit 1
fi

loaded=0
if [ ! -e "$module" ]; then
	result "not ok" "load klb.ko # $module not built"
elif out=$("$repo/tools/vm/load-klb.sh" "$module" 2>&1); then
	loaded=1
	result ok "load klb.ko"
else
	echo "# insmod: $out"
	result "not ok" "load klb.ko"
fi

for t in "$@"; do
	echo "# running $t"
	started=$(date +%s)
	timeout -k 10 "$per_test_timeout" "$t"
	rc=$?
	echo "# $t took $(($(date +%s) - started)) s"
	case $rc in
	0) result ok "$t exited with status 0" ;;
	124 | 137) result "not ok" "$t ran past $per_test_timeout s and was killed" ;;
	*) result "not ok" "$t exited with status $rc" ;;
	esac
done

if [ "$loaded" = 1 ]; then
	if out=$(rmmod klb 2>&1); then
		result ok "unload klb.ko"
	else
		echo "# rmmod: $out"
		result "not ok" "unload klb.ko"
	fi
else
	result ok "unload klb.ko # SKIP not loaded"
fi

exit $failed
}

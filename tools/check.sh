#!/bin/sh
# make check: build everything, run the host-side tests at native speed, then
# the kernel tests inside a guest booted on Debian's kernel (tools/vm/run).
# Every program speaks TAP; the last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."

logs=build/logs
rm -rf "$logs"
mkdir -p "$logs"
n=0

# A step that exits non-zero without reporting a failing test of its own
# still counts as one failure, so a crash can never look like a pass.
step() {
	name=$1
	shift
	n=$((n + 1))
	log="$logs/$(printf '%02d' "$n")-$name.log"
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok [0-9]' "$log"; then
		echo "not ok 1 $name exited with status $rc" | tee -a "$log"
	elif [ "$rc" -eq 0 ] && ! grep -Eq '^(not )?ok [0-9]' "$log"; then
		echo "ok 1 $name" | tee -a "$log"
	fi
	return 0
}

step build make -j2 all
step style make style

for t in $(make -s print-HOST_TESTS); do
	step "$(basename "$t")" "$t"
done

vm_tests=$(make -s print-VM_TESTS)
if [ -n "$vm_tests" ]; then
	step vm tools/vm/run --timeout 1800 -- selftests/run-in-vm.sh $vm_tests
fi

echo
tools/tap-summary.sh "$logs"/*.log

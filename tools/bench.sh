#!/bin/sh
# make bench: run every benchmark the fragments list (BENCHES), one after
# the other (they measure; they must not compete for the two cores), keep
# each one's report under build/bench/ and show it.
set -u
cd "$(dirname "$0")/.."
mkdir -p build/bench
status=0
for b in "$@"; do
	name=$(basename "${b%% *}")
	echo "== $b"
	sh -c "$b" >"build/bench/$name.txt" 2>&1
	rc=$?
	cat "build/bench/$name.txt"
	if [ "$rc" -ne 0 ]; then
		echo "bench: $b exited with status $rc"
		status=1
	fi
done
echo "reports in build/bench/"
exit $status

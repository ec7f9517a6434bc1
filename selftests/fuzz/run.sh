#!/bin/sh
# Runs fuzz harnesses (selftests/fuzz/fuzz.mk builds them into build/fuzz/),
# each for SECONDS, over its committed corpus (selftests/fuzz/corpus/NAME/)
# and what earlier runs added (build/fuzz/corpus/NAME/). TAP on stdout, one
# result per harness. A crash, leak, timeout or out-of-memory leaves the
# input in build/fuzz/crashes/ and prints the command that replays it.
#
#   selftests/fuzz/run.sh SECONDS NAME...
set -u
cd "$(dirname "$0")/../.." || exit 1

secs=${1:?usage: run.sh SECONDS NAME...}
shift
dir=${O:-build}/fuzz
mkdir -p "$dir/crashes"

echo "TAP version 13"
echo "1..$#"
n=0
failed=0
for name in "$@"; do
	n=$((n + 1))
	bin=$dir/$name
	log=$dir/$name.log
	mkdir -p "$dir/corpus/$name"
	# Each input gets 10 s (a slow one is a bug too); -close_fd_mask
	# silences what the parsers print about bad input (the sanitizers'
	# reports still come through).
	nice "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$dir/crashes/$name-" \
		"$dir/corpus/$name" "selftests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "ok $n fuzz $name: ${runs:-?} runs in ${secs}s, ${cov:-cov: ?}"
		continue
	fi
	failed=$((failed + 1))
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "not ok $n fuzz $name: exited with status $rc"
	if [ -n "$input" ]; then
		# Once more with its output, which the run silenced.
		"$bin" "$input" >"$log.repro" 2>&1
		grep -E "ERROR|runtime error|SUMMARY|^$name: |^ *#[0-9]+ .* in .*/(selftests|userspace|include)/" \
			"$log.repro" | head -n 30 | sed 's/^/# /'
	fi
	echo "# whole log: $log"
	if [ -n "$input" ]; then
		echo "# input: $input"
		echo "# reproduce: $bin $input"
	fi
done
[ "$failed" -eq 0 ]

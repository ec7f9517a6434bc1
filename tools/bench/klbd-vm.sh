#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make bench' entry: klbd's cluster benchmark (tools/bench/klbd.sh) in the
# test guest, three gateways in network namespaces. The counts are
# environment variables of klbd.sh (LAT_WRITES, FAIL_TRIALS, ...): they are
# passed into the guest.
cd "$(dirname "$0")/../.." || exit 1
env=
for v in LAT_WRITES FAIL_TRIALS FAIL_CONFIGS TUNED_TICK_MS TUNED_ELECTION_TICKS \
	TPUT_CHANGES TPUT_WRITERS RESTORE_RUNS; do
	eval "val=\${$v-}"
	[ -n "$val" ] && env="$env $v='$val'"
done
exec tools/vm/run --timeout "${KLBD_BENCH_TIMEOUT:-2400}" -- \
	sh -c "$env exec tools/bench/klbd.sh"

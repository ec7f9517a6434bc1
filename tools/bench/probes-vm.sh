#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make bench' entry: klbd's probe throughput (tools/bench/probes.sh) in the
# test guest. PROBE_STEPS and PROBE_WINDOW are passed into the guest.
cd "$(dirname "$0")/../.." || exit 1
env=
for v in PROBE_STEPS PROBE_WINDOW; do
	eval "val=\${$v-}"
	[ -n "$val" ] && env="$env $v='$val'"
done
exec tools/vm/run --timeout "${PROBES_BENCH_TIMEOUT:-2400}" -- \
	sh -c "$env exec tools/bench/probes.sh"

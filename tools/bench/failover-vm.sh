#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make bench' entry: the failover benchmark (tools/bench/failover.sh) in
# the test guest, klb's three gateways and keepalived side by side. Its
# settings are environment variables of failover.sh (FAILOVER_TRIALS, ...):
# they are passed into the guest.
cd "$(dirname "$0")/../.." || exit 1
env=
for v in FAILOVER_TRIALS KEEPALIVED_TRIALS FAILOVER_CHECKS FAILOVER_SEED FAILOVER_OUT; do
	eval "val=\${$v-}"
	[ -n "$val" ] && env="$env $v='$val'"
done
exec tools/vm/run --timeout "${FAILOVER_BENCH_TIMEOUT:-3600}" -- \
	sh -c "$env exec tools/bench/failover.sh"

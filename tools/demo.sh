#!/bin/sh
# make demo: boots Debian's kernel in a VM and runs tools/demo-guest.sh
# there: two gateways (network namespaces) share one configuration and
# steer every flow to the same backend; a failure moves only the failed
# backend's share; then live traffic through a gateway to three backends,
# each backend's share shown as a backend is drained and comes back.
set -eu
cd "$(dirname "$0")/.."
exec tools/vm/run --timeout 600 -- tools/demo-guest.sh

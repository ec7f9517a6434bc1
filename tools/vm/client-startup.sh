#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# How long the clients the klbd tests start take to start in this guest:
# curl (lease_test's renewals), klbctl, and ip netns exec alone, three
# times each. Prints TAP. Under the debug kernel, e.g.:
#   KLB_DEBUG_TESTS=tools/vm/client-startup.sh tools/vm/check-debug.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
ns=klbstart$$
timed() {
	local s e
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s%N)
	echo "# $*: $(((e - s) / 1000000)) ms"
}
echo "TAP version 13"
ip netns add "$ns" || { echo "Bail out! cannot add a namespace"; exit 1; }
for _ in 1 2 3; do
	timed ip netns exec "$ns" true
	timed ip netns exec "$ns" build/userspace/klbctl/klbctl --version
	timed ip netns exec "$ns" curl -s -m 2 http://127.0.0.1:9/
	timed curl --version
done
ip netns del "$ns"
echo "ok 1 timed"
echo "1..1"

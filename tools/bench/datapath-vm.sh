#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make bench' entry: the fast path benchmark (tools/bench/datapath.sh) in
# the test guest, klb.ko beside plain routing and IPVS. slab_nomerge keeps
# klb's and IPVS's flow caches apart from others in /proc/slabinfo.
cd "$(dirname "$0")/../.." || exit 1
KLB_VM_CMDLINE="slab_nomerge ${KLB_VM_CMDLINE:-}" \
	exec tools/vm/run --timeout 2700 -- tools/bench/datapath.sh "$@"

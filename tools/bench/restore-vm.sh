#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make bench' entry: the restore benchmark (tools/bench/restore.sh) in the
# test guest, where klb.ko and IPVS run side by side.
cd "$(dirname "$0")/../.." || exit 1
exec tools/vm/run --timeout 3000 -- tools/bench/restore.sh "$@"

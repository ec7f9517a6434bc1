#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# klbd.service passes systemd-analyze verify (with the binary built here
# standing in for the installed one). TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
dir=$(mktemp -d "${TMPDIR:-/tmp}/klbd-unit.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "1..1"
if ! command -v systemd-analyze >/dev/null; then
	echo "ok 1 klbd.service verifies # SKIP no systemd-analyze"
	exit 0
fi
sed "s|@SBINDIR@|$PWD/${O:-build}/userspace/klbd|g" userspace/klbd/klbd.service.in \
	>"$dir/klbd.service"
if out=$(systemd-analyze verify "$dir/klbd.service" 2>&1) && [ -z "$out" ]; then
	echo "ok 1 klbd.service verifies"
else
	echo "not ok 1 klbd.service verifies"
	echo "$out" | sed 's/^/# /'
	exit 1
fi

#!/bin/sh
# Print the kernel build tree to build klb.ko against: the running kernel's,
# or, when it has none (a build host, a container), the newest installed one.
set -eu
if [ -n "${KERNELRELEASE:-}" ]; then
	echo "/lib/modules/$KERNELRELEASE/build"
	exit 0
fi
running="/lib/modules/$(uname -r)/build"
if [ -d "$running" ]; then
	echo "$running"
	exit 0
fi
newest=$(ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1)
[ -n "$newest" ] && echo "$newest" || echo "$running"

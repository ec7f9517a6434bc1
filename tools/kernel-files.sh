#!/bin/sh
# Extract the few files klb borrows from the kernel tree at build time (the
# kselftest harness headers and checkpatch) out of Debian's linux-source
# tarball into DIR. They are never committed.
set -eu

dir=${1:?usage: kernel-files.sh DIR}
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] || { echo "kernel-files: no linux-source tarball; run 'make deps'" >&2; exit 1; }
top=$(basename "$tarball" .tar.xz)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xJf "$tarball" \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/scripts/checkpatch.pl" \
	"$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch"
mkdir -p "$dir"
cp "$tmp/$top/tools/testing/selftests/kselftest_harness.h" \
	"$tmp/$top/tools/testing/selftests/kselftest.h" \
	"$tmp/$top/scripts/checkpatch.pl" \
	"$tmp/$top/scripts/spelling.txt" \
	"$tmp/$top/scripts/const_structs.checkpatch" "$dir/"

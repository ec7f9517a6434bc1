#!/bin/sh
# Extract YNL, the kernel's spec-driven netlink tooling (tools/net/ynl: cli.py
# and its lib/), and the genetlink spec schema
# (Documentation/netlink/genetlink.yaml) into DIR. linux-source-6.1 has
# neither; Debian's linux-source-6.12 has both. Its tarball is used from
# /usr/src when the package is installed, else the package is downloaded
# (apt-get download, about 150 MB) into DIR's parent and kept there. The
# files are never committed.
#
# YNL from 6.12 runs on Debian 12's Python 3.11 with python3-yaml (and
# python3-jsonschema to validate specs).
set -eu

dir=${1:?usage: ynl-files.sh DIR}
top=linux-source-6.12
cache=$(dirname "$dir")

mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
members="$top/tools/net/ynl/cli.py $top/tools/net/ynl/lib
	$top/Documentation/netlink/genetlink.yaml"

if [ -e "/usr/src/$top.tar.xz" ]; then
	# shellcheck disable=SC2086
	tar -C "$tmp" -xJf "/usr/src/$top.tar.xz" $members
else
	deb=$(ls "$cache"/linux-source-6.12_*.deb 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -q "$top" >/dev/null) ||
			{ echo "ynl-files: cannot download $top" >&2; exit 1; }
		deb=$(ls "$cache"/linux-source-6.12_*.deb | sort -V | tail -n 1)
	fi
	# shellcheck disable=SC2086
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$top.tar.xz" |
		tar -C "$tmp" -xJ $members
fi
rm -rf "$dir"
mkdir -p "$dir"
cp -r "$tmp/$top/tools/net/ynl/cli.py" "$tmp/$top/tools/net/ynl/lib" \
	"$tmp/$top/Documentation/netlink/genetlink.yaml" "$dir/"

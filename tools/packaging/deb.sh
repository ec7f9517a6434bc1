#!/bin/sh
# make deb: build klb-dkms and klb-tools into OUT (build/deb) and check them
# with lintian. The packages are built from a copy of the tree (the files
# git knows, as they are now, plus new ones it does not ignore) with
# tools/packaging/debian/ as its debian/, so the checkout gets no debian/
# at its top and no build output outside build/.
#
#   tools/packaging/deb.sh [OUT]
set -eu
cd "$(dirname "$0")/../.."
out=${1:-build/deb}
version=$(sed -n '1s/^[^ ]* (\(.*\)).*/\1/p' tools/packaging/debian/changelog)
src=$out/src/klb-$version

for tool in dpkg-buildpackage dh_dkms lintian; do
	command -v "$tool" >/dev/null || {
		echo "deb: $tool missing; run 'make deps'" >&2
		exit 1
	}
done
git rev-parse --git-dir >/dev/null 2>&1 || {
	echo "deb: not a git checkout: cannot tell the sources from the rest" >&2
	exit 1
}

rm -rf "$out"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
	xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null -T - -cf - | tar -C "$src" -xf -
rm -rf "$src/debian"
cp -R tools/packaging/debian "$src/debian"

echo "deb: building klb $version (log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (all of it in $out/build.log)" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out"/
rm -rf "$out/src"

# Every tag lintian shows by default (errors and warnings) fails the build.
# A tag that must stay gets an override in debian/ saying why (none today).
lintian --fail-on error,warning --info "$out"/*.changes
ls "$out"/*.deb

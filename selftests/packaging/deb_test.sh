#!/bin/sh
# The Debian packages, TAP on stdout: 'make deb' builds klb-dkms and
# klb-tools into build/deb/ with no lintian error or warning, each holds
# what it should with the dependencies it should, and DKMS builds the
# module from klb-dkms for the guest's kernel against its installed
# headers. DKMS runs with trees of its own in build/deb/ and a signing key
# in a temporary directory: the host's DKMS state is not touched.
# The guest test (packages_vm_test.sh) installs these packages.
set -u
cd "$(dirname "$0")/../.." || exit 1

# make check runs the host tests again on a sanitized build (O=...): the
# packages have no sanitized variant, and are built once.
if [ "${O:-build}" != build ]; then
	echo "ok 1 # SKIP the packages are built in the plain run only"
	echo "1..1"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. selftests/lib/tap.sh
contains() {
	grep -qx -- "$2" "$1"
}
lacks() {
	! grep -q -- "$2" "$1"
}

out=$PWD/build/deb
version=$(make -s print-KLB_VERSION)
arch=$(dpkg --print-architecture)
dkms_deb=$out/klb-dkms_${version}_all.deb
tools_deb=$out/klb-tools_${version}_$arch.deb

if tools/packaging/deb.sh "$out" >"$tmp/deb.log" 2>&1; then
	check "make deb builds the packages, lintian clean" true
else
	sed 's/^/# /' "$tmp/deb.log"
	check "make deb builds the packages, lintian clean" false
fi
check "klb-dkms is built" [ -e "$dkms_deb" ]
check "klb-tools is built" [ -e "$tools_deb" ]
if [ ! -e "$dkms_deb" ] || [ ! -e "$tools_deb" ]; then
	tap_done
fi

# Contents: "MODE PATH" lines.
contents() {
	dpkg-deb -c "$1" | awk '{ print $1, substr($6, 2) }' >"$2"
}
contents "$tools_deb" "$tmp/tools"
contents "$dkms_deb" "$tmp/dkms"
check "klb-tools: klbctl in /usr/sbin, mode 755" \
	contains "$tmp/tools" "-rwxr-xr-x /usr/sbin/klbctl"
check "klb-tools: the man page" \
	contains "$tmp/tools" "-rw-r--r-- /usr/share/man/man8/klbctl.8.gz"
check "klb-tools: bash completion" \
	contains "$tmp/tools" "-rw-r--r-- /usr/share/bash-completion/completions/klbctl"
check "klb-tools: nothing under /usr/local or /usr/src" lacks "$tmp/tools" "/usr/local\|/usr/src"
src=/usr/src/klb-$version
check "klb-dkms: dkms.conf in $src" contains "$tmp/dkms" "-rw-r--r-- $src/dkms.conf"
check "klb-dkms: the module's sources" contains "$tmp/dkms" "-rw-r--r-- $src/kmod/main.c"
check "klb-dkms: the UAPI header" \
	contains "$tmp/dkms" "-rw-r--r-- $src/include/uapi/linux/klb.h"
check "klb-dkms: no build output" lacks "$tmp/dkms" "\.o$\|\.ko$\|\.mod\.c$\|\.cmd$"

field() {
	dpkg-deb -f "$1" "$2"
}
check "klb-tools depends on the libraries klbctl links" sh -c \
	'echo "$1" | grep -q "libmnl0" && echo "$1" | grep -q "libjson-c5"' sh \
	"$(field "$tools_deb" Depends)"
check "klb-tools does not depend on dkms" sh -c '! echo "$1" | grep -q dkms' sh \
	"$(field "$tools_deb" Depends)"
check "klb-dkms depends on dkms" sh -c 'echo "$1" | grep -q "^dkms"' sh \
	"$(field "$dkms_deb" Depends)"
check "klb-dkms is architecture all" [ "$(field "$dkms_deb" Architecture)" = all ]

dpkg-deb -e "$dkms_deb" "$tmp/control"
check "klb-dkms: postinst hands the module to DKMS" sh -c \
	'grep -qx "DKMS_NAME=klb" "$1" && grep -qx "DKMS_VERSION=$2" "$1" &&
	grep -q /usr/lib/dkms/common.postinst "$1"' sh "$tmp/control/postinst" "$version"
check "klb-dkms: prerm removes it from DKMS" \
	grep -q "dkms remove -m \$DKMS_NAME -v \$DKMS_VERSION --all" "$tmp/control/prerm"
dpkg-deb -x "$dkms_deb" "$tmp/root"
check "klb-dkms: dkms.conf carries the version" \
	grep -qx "PACKAGE_VERSION=\"$version\"" "$tmp/root$src/dkms.conf"

# DKMS builds the packaged sources for the guest's kernel (the newest in
# /boot, as tools/vm/run boots), as a kernel upgrade would. Its tree stays
# in build/deb/dkms/ for the guest test, which installs that module.
kver=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
kver=${kver#/boot/vmlinuz-}
mv "$tmp/root" "$out/dkms-root"
mkdir -p "$out/dkms"
if env mok_signing_key="$tmp/mok.key" mok_certificate="$tmp/mok.pub" \
	dkms build -m klb -v "$version" -k "$kver" \
	--sourcetree "$out/dkms-root/usr/src" --dkmstree "$out/dkms" \
	>"$tmp/dkms.log" 2>&1; then
	check "dkms build for $kver" true
else
	sed 's/^/# /' "$tmp/dkms.log"
	check "dkms build for $kver" false
fi
ko=$out/dkms/klb/$version/$kver/$(uname -m)/module/klb.ko
check "the module DKMS built is for $kver" \
	[ "$(/sbin/modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" = "$kver" ]
check "DKMS signed it with its key" \
	[ "$(/sbin/modinfo -F signer "$ko" 2>/dev/null)" = "DKMS module signing key" ]
mkdir "$tmp/dkms-old"
if env mok_signing_key="$tmp/mok.key" mok_certificate="$tmp/mok.pub" \
	dkms build -m klb -v "$version" -k 5.10.0-30-amd64 \
	--sourcetree "$out/dkms-root/usr/src" --dkmstree "$tmp/dkms-old" \
	>"$tmp/dkms-old.log" 2>&1; then
	rc=0
else
	rc=$?
fi
check "DKMS refuses a kernel older than 6.1 (status 77, not built)" [ "$rc" = 77 ]

tap_done

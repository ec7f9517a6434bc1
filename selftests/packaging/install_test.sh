#!/bin/sh
# 'make install' into a staging directory, TAP on stdout: the files it
# installs, where (PREFIX honoured), their modes, no depmod run on a staged
# tree, and programs that run from where they landed.
set -u
cd "$(dirname "$0")/../.." || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. selftests/lib/tap.sh

# What must be there, with its mode. klbd, its man pages and its unit come
# with the daemon: expected whenever the build has them.
expect() {
	printf '%s %s\n' "$1" "$2" >>"$tmp/expected"
}
expected_files() {
	prefix=$1
	expect 755 "$prefix/sbin/klbctl"
	expect 644 "$prefix/share/bash-completion/completions/klbctl"
	expect 644 "/lib/modules/$kver/updates/klb.ko"
	for f in Documentation/*.5 Documentation/*.8; do
		[ -e "$f" ] || continue
		expect 644 "$prefix/share/man/man${f##*.}/${f##*/}"
	done
	for f in userspace/*/*.bash-completion; do
		expect 644 "$prefix/share/bash-completion/completions/$(basename "$f" .bash-completion)"
	done
	for f in userspace/*/*.service.in; do
		[ -e "$f" ] && expect 644 "$prefix/lib/systemd/system/$(basename "$f" .in)"
	done
	[ -e userspace/klbd/klbd.conf ] && expect 644 /etc/klb/klbd.conf
	make -s print-INSTALL_SBIN | tr ' ' '\n' | grep -q '/klbd$' &&
		expect 755 "$prefix/sbin/klbd"
	sort -u -k2 -o "$tmp/expected" "$tmp/expected"
}
installed_files() {
	(cd "$1" && find . -type f -printf '%m /%P\n' | sort -k2)
}

kver=$(basename "$(dirname "$(tools/kdir.sh)")")

if make -s install DESTDIR="$tmp/usr-prefix" PREFIX=/usr >"$tmp/make.log" 2>&1; then
	check "make install DESTDIR=... PREFIX=/usr succeeds" true
else
	sed 's/^/# /' "$tmp/make.log"
	check "make install DESTDIR=... PREFIX=/usr succeeds" false
fi
expected_files /usr
installed_files "$tmp/usr-prefix" >"$tmp/installed"
if cmp -s "$tmp/expected" "$tmp/installed"; then
	check "the files and their modes are the expected ones" true
else
	diff "$tmp/expected" "$tmp/installed" | sed 's/^/# /'
	check "the files and their modes are the expected ones" false
fi
check "directories are 755" \
	[ -z "$(find "$tmp/usr-prefix" -type d ! -perm 755)" ]
check "no depmod on a staged tree" \
	[ ! -e "$tmp/usr-prefix/lib/modules/$kver/modules.dep" ]
check "the installed klbctl runs" \
	sh -c '"$1" --help | grep -q "^usage: klbctl"' sh "$tmp/usr-prefix/usr/sbin/klbctl"
check "the installed module is for $kver" \
	[ "$(/sbin/modinfo -F vermagic "$tmp/usr-prefix/lib/modules/$kver/updates/klb.ko" |
		cut -d' ' -f1)" = "$kver" ]
check "the module autoloads for the klb genl family" \
	sh -c '/sbin/modinfo -F alias "$1" | grep -qx net-pf-16-proto-16-family-klb' \
	sh "$tmp/usr-prefix/lib/modules/$kver/updates/klb.ko"

# The default prefix, and another one.
: >"$tmp/expected"
make -s install-programs DESTDIR="$tmp/default" >/dev/null 2>&1
check "PREFIX defaults to /usr/local" [ -x "$tmp/default/usr/local/sbin/klbctl" ]
make -s install-programs DESTDIR="$tmp/opt" PREFIX=/opt/klb >/dev/null 2>&1
check "PREFIX=/opt/klb puts the programs there" [ -x "$tmp/opt/opt/klb/sbin/klbctl" ]
check "PREFIX=/opt/klb puts the man pages there" \
	[ -e "$tmp/opt/opt/klb/share/man/man8/klbctl.8" ]
check "nothing outside PREFIX but /etc" \
	[ -z "$(cd "$tmp/opt" && find . -mindepth 1 -maxdepth 1 ! -name opt ! -name etc)" ]

tap_done

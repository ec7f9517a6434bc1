#!/bin/sh
# Build (or reuse) the debug kernel of the VM tests and print its directory.
#
#   tools/vm/debug-kernel.sh
#
# The kernel is Debian's linux-source-6.1 with defconfig, kvm_guest.config,
# the sanitizers and lock checkers of tools/vm/debug-kernel.config, and
# everything the guest and the tests need built in (the guest's /lib/modules
# has no modules for it).
#
# It is cached outside the checkout, so that every clone on the machine (CI
# runs in a fresh one) shares one build:
#
#   $KLB_DEBUG_KERNEL_CACHE (default /var/cache/klb/debug-kernel, or
#   ~/.cache/klb/debug-kernel when that is not writable) / KEY /
#       bzImage   the kernel (tools/vm/run --kernel)
#       vmlinux   the same, uncompressed, with its symbols: for decoding
#                 reports (scripts/faddr2line, scripts/decode_stacktrace.sh)
#       modules/  what belongs in /lib/modules/RELEASE (modules.builtin ...;
#                 tools/vm/run --modules)
#       tree/     the kernel tree after 'make clean': enough to build
#                 out-of-tree modules (make -C .../tree M=DIR modules)
#       release, config, build.log, build-seconds
#
# KEY hashes the configuration (tools/vm/debug-kernel.config), the version of
# the kernel source, the compiler and the format of this script's output, so
# a change to any of them builds a new kernel; nothing else does. Builds of
# the same KEY are serialized with a lock; a build that did not finish is
# never used. Kernels of other keys not used for 14 days are removed.
#
# The build runs under 'nice -n 19' with KLB_DEBUG_KERNEL_JOBS jobs (default:
# the number of CPUs) and takes 15-30 minutes on 2 cores.
# KLB_DEBUG_KERNEL_CONFIG_ONLY=1 stops after configuring and checking the
# configuration and prints it: a change to the configuration, tried in
# seconds.

# The braces make the shell read the whole script before running any of it,
# so a checkout updated under a build in progress cannot derail it.
{
set -eu

prog="debug-kernel"
die() {
	echo "$prog: $*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P)
config=$here/debug-kernel.config
# Bumped when what this script makes of the configuration changes (the
# layout of the cache directory, the build steps).
format=1
# shellcheck source-path=SCRIPTDIR source=debug-kernel.config
. "$config"

cache=${KLB_DEBUG_KERNEL_CACHE:-}
if [ -z "$cache" ]; then
	cache=/var/cache/klb/debug-kernel
	if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
		cache=${XDG_CACHE_HOME:-$HOME/.cache}/klb/debug-kernel
	fi
fi
mkdir -p "$cache" || die "cannot create $cache"

tarball=/usr/src/linux-source-6.1.tar.xz
[ -r "$tarball" ] || die "$tarball missing; run 'make deps'"
for tool in gcc make flex bison bc perl xz depmod flock; do
	command -v "$tool" >/dev/null || die "$tool missing; run 'make deps'"
done
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	srcver=$(ls -lL --time-style=+%s "$tarball")
key=$( {
	echo "$format"
	cat "$config"
	echo "$srcver"
	gcc --version | head -n 1
} | sha256sum | cut -c1-16)
dir=$cache/$key

touch_used() {
	touch "$dir/last-used"
	# Kernels of configurations nobody used for two weeks: gigabytes each.
	find "$cache" -mindepth 2 -maxdepth 2 -name last-used -mtime +14 |
		while read -r stamp; do
			old=${stamp%/last-used}
			[ "$old" = "$dir" ] || rm -rf "$old" "$old.lock"
		done
}

if [ -e "$dir/complete" ]; then
	touch_used
	echo "$dir"
	exit 0
fi

# One build per key at a time; whoever waited finds it done.
exec 9>"$dir.lock"
if ! flock -n 9; then
	echo "$prog: waiting for another build of $dir" >&2
	flock 9
fi
if [ -e "$dir/complete" ]; then
	touch_used
	echo "$dir"
	exit 0
fi

jobs=${KLB_DEBUG_KERNEL_JOBS:-$(nproc)}
rm -rf "$dir"
mkdir -p "$dir/tree"
log=$dir/build.log
echo "$prog: building the debug kernel in $dir (15-30 minutes; log: $log)" >&2
start=$(date +%s)

fail() {
	echo "$prog: $* (last lines of $log:)" >&2
	tail -n 30 "$log" >&2
	exit 1
}

tar -C "$dir/tree" --strip-components=1 -xJf "$tarball" ||
	die "cannot unpack $tarball"
cd "$dir/tree"

{
	make defconfig && make kvm_guest.config
} >>"$log" 2>&1 || fail "defconfig failed"
set --
# shellcheck disable=SC2086
for opt in $builtin $debug; do
	set -- "$@" -e "$opt"
done
for opt in $off; do
	set -- "$@" -d "$opt"
done
for v in $values; do
	set -- "$@" --set-val "${v%%=*}" "${v#*=}"
done
scripts/config "$@" --set-str LOCALVERSION -klb-debug -d LOCALVERSION_AUTO
# No modules at all: the kernel's own module loader (request_module) runs
# the initramfs's modprobe, which has none to load.
{
	make olddefconfig && make mod2yesconfig
} >>"$log" 2>&1 || fail "olddefconfig failed"

# scripts/config writes what it is told; olddefconfig then drops whatever
# Kconfig does not know or whose dependencies are not met, silently.
missing=
for opt in $builtin $debug; do
	grep -qx "CONFIG_$opt=y" .config || missing="$missing $opt"
done
for opt in $off; do
	grep -qE "^CONFIG_$opt=[ym]" .config && missing="$missing !$opt"
done
for v in $values; do
	grep -qx "CONFIG_$v" .config || missing="$missing $v"
done
# shellcheck disable=SC2013 # option names have no spaces
for opt in $(sed -n 's/^CONFIG_\(.*\)=m$/\1/p' .config); do
	missing="$missing $opt=m"
done
[ -z "$missing" ] ||
	die "the configuration lacks what it asked for (! = should be off):$missing"

[ -z "${KLB_DEBUG_KERNEL_CONFIG_ONLY:-}" ] || { cat .config; exit 0; }
nice -n 19 make -j"$jobs" all >>"$log" 2>&1 || fail "the kernel build failed"
release=$(make -s kernelrelease)
nice -n 19 make INSTALL_MOD_PATH="$dir/modroot" modules_install >>"$log" 2>&1 ||
	fail "modules_install failed"
mv "$dir/modroot/lib/modules/$release" "$dir/modules"
rm -rf "$dir/modroot" "$dir/modules/build" "$dir/modules/source"
cp vmlinux arch/x86/boot/bzImage .config "$dir/"
mv "$dir/.config" "$dir/config"
echo "$release" >"$dir/release"
# 'make clean' keeps the configuration and what out-of-tree modules need.
make clean >>"$log" 2>&1 || fail "make clean failed"
echo $(($(date +%s) - start)) >"$dir/build-seconds"
: >"$dir/complete"
touch_used
echo "$prog: built in $(cat "$dir/build-seconds") s" >&2
echo "$dir"
}

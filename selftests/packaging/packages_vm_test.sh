#!/bin/sh
# The Debian packages installed in the guest, TAP on stdout: apt installs
# klb-dkms and klb-tools from build/deb/, DKMS installs the module, the
# first klbctl call loads it through its genl family alias, klbctl
# manages a service through it, and purging the packages takes everything
# away again.
#
# Compiling the module under emulation takes longer than every other
# kernel test together, so the guest does not compile it: the packages
# are installed while the kernel headers look absent (the postinst then
# registers the module with DKMS and skips the build, as on a machine
# whose headers come later), and DKMS installs the module that
# selftests/packaging/deb_test.sh built on the host from the same package
# for this kernel, with the same dkms.conf, against the same headers
# (build/deb/dkms/). Run that test first ('make check' does).
#
# DKMS runs depmod after installing and after removing, and depmod reads
# every module of the kernel: several minutes for Debian's 4000 under
# emulation. The test gives the kernel a module tree of its own for the
# time it runs, a tmpfs holding what klb needs (its dependencies, the
# headers' link, the lists of built-in modules), so that depmod takes
# seconds. man-db's index is not updated either (its trigger would scan
# every man page).
#
# Runs under selftests/run-in-vm.sh, which loaded kmod/klb.ko: it is
# unloaded for the test and loaded again at the end.
set -u
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD

. selftests/lib/tap.sh
bail() {
	not_ok "$1"
	tap_done
}

if [ "${KLB_VM_GUEST:-}" != 1 ]; then
	echo "packages_vm_test.sh: installs packages: only in the test guest" >&2
	bail "run in the test guest"
fi

version=$(sed -n '1s/^[^ ]* (\(.*\)).*/\1/p' tools/packaging/debian/changelog)
arch=$(dpkg --print-architecture)
kver=$(uname -r)
dkms_deb=$repo/build/deb/klb-dkms_${version}_all.deb
tools_deb=$repo/build/deb/klb-tools_${version}_$arch.deb
prebuilt=$repo/build/deb/dkms/klb/$version/$kver
# The packages build the module for a Debian kernel, with its headers
# package: a kernel without one (make check-debug's) is not theirs.
if [ ! -e "$prebuilt" ] && [ ! -e "/usr/src/linux-headers-$kver" ]; then
	echo "1..0 # SKIP no Debian headers for kernel $kver: the packages build for Debian's kernels"
	exit 0
fi
for f in "$dkms_deb" "$tools_deb" "$prebuilt"; do
	[ -e "$f" ] || bail "$f exists (selftests/packaging/deb_test.sh makes it)"
done

export DEBIAN_FRONTEND=noninteractive
moddir=/lib/modules/$kver
headers=$moddir/build
modprobe_path=$(cat /proc/sys/kernel/modprobe)
ns=klb-pkg-$$
cleanup() {
	echo "$modprobe_path" >/proc/sys/kernel/modprobe
	ip netns del "$ns" 2>/dev/null
	mountpoint -q "$moddir" && umount "$moddir"
}
trap cleanup EXIT

# The small module tree (see above): what klb.ko depends on, and theirs.
needs=$(modinfo -F depends "$prebuilt"/*/module/klb.ko | tr , ' ')
# shellcheck disable=SC2086
deps=$(modprobe -a --show-depends $needs | awk '$1 == "insmod" { print $2 }')
mkdir -p /tmp/modules
cp -a "$moddir"/build "$moddir"/source "$moddir"/modules.builtin \
	"$moddir"/modules.builtin.modinfo "$moddir"/modules.order /tmp/modules/
for f in $deps; do
	mkdir -p "/tmp/modules/$(dirname "${f#"$moddir"/}")"
	cp "$f" "/tmp/modules/${f#"$moddir"/}"
done
mount --bind /tmp/modules "$moddir" && depmod -a "$kver"
check "a small module tree for the test" [ -e "$moddir/modules.dep" ]
rm -f /var/lib/man-db/auto-update

loaded() {
	grep -q '^klb ' /proc/modules
}
if loaded; then
	check "the runner's klb.ko unloads" rmmod klb
fi

# Installed as an operator would, before the kernel headers.
mv "$headers" "$headers.hidden"
started=$(date +%s)
apt-get install -y -q "$dkms_deb" "$tools_deb" >/tmp/apt.log 2>&1
rc=$?
sed 's/^/# /' /tmp/apt.log | grep -v debconf
echo "# apt-get install took $(($(date +%s) - started)) s"
check "apt-get install ./klb-dkms ./klb-tools" [ "$rc" = 0 ]
check "postinst registered the module with DKMS" \
	sh -c 'dkms status -m klb -v "$1" | grep -q "^klb/$1: added"' sh "$version"
check "postinst skipped the build without headers" \
	grep -q "headers for this kernel do not seem to be installed" /tmp/apt.log
mv "$headers.hidden" "$headers"
check "klbctl is installed" [ -x /usr/sbin/klbctl ]
check "its man page is installed" [ -e /usr/share/man/man8/klbctl.8.gz ]

# The headers are back; the build DKMS would run now happened on the host.
mkdir -p "/var/lib/dkms/klb/$version"
cp -a "$prebuilt" "/var/lib/dkms/klb/$version/"
started=$(date +%s)
dkms install -m klb -v "$version" -k "$kver" >/tmp/dkms.log 2>&1
rc=$?
sed 's/^/# /' /tmp/dkms.log
echo "# dkms install took $(($(date +%s) - started)) s"
check "dkms install" [ "$rc" = 0 ]
check "DKMS reports it installed for $kver" \
	sh -c 'dkms status -m klb -v "$1" -k "$2" | grep -q ": installed"' sh "$version" "$kver"
check "modprobe finds it in updates/dkms" \
	[ "$(modinfo -n klb 2>/dev/null)" = "/lib/modules/$kver/updates/dkms/klb.ko" ]
modprobe --show-depends klb | sed 's/^/# /'
check "modprobe loads its dependencies ($needs) first" sh -c \
	'[ "$(modprobe --show-depends klb | grep -c "^insmod ")" = $(($# + 1)) ]' sh $needs

# The kernel runs its modprobe in the initramfs, outside this root (see
# Documentation/testing.md): point it at a script that runs ours.
n_before=$n
if [ -x /proc/1/root/bin/chroot ] && [ -d /proc/1/root/newroot/run ]; then
	cat >/run/klb-modprobe <<-'EOF'
	#!/bin/sh
	exec /bin/chroot /newroot /sbin/modprobe "$@"
	EOF
	chmod 755 /run/klb-modprobe
	echo /newroot/run/klb-modprobe >/proc/sys/kernel/modprobe
	check "klb is not loaded before the first klbctl call" sh -c '! grep -q "^klb " /proc/modules'
	klbctl info >/tmp/info.out 2>&1
	rc=$?
	sed 's/^/# /' /tmp/info.out
	check "klbctl info works on a kernel without klb loaded" [ "$rc" = 0 ]
	check "the genl family alias loaded klb" loaded
	echo "$modprobe_path" >/proc/sys/kernel/modprobe
fi
[ "$n" = "$n_before" ] && check "autoload # SKIP the guest's init is not the one expected" true
loaded || check "modprobe klb" modprobe klb

ip netns add "$ns"
check "klbctl service add" klbctl -n "$ns" service add tcp 192.0.2.1:80 sched maglev
check "klbctl backend add" klbctl -n "$ns" backend add tcp 192.0.2.1:80 198.51.100.1:80
check "klbctl service show lists it" \
	sh -c 'klbctl -n "$1" service show | grep -q "192.0.2.1:80"' sh "$ns"
check "klbctl backend show lists the backend" \
	sh -c 'klbctl -n "$1" backend show tcp 192.0.2.1:80 | grep -q "198.51.100.1:80"' sh "$ns"
ip netns del "$ns"

check "the module unloads" rmmod klb
started=$(date +%s)
dpkg --purge klb-dkms klb-tools >/tmp/purge.log 2>&1
rc=$?
sed 's/^/# /' /tmp/purge.log | grep -v debconf
echo "# dpkg --purge took $(($(date +%s) - started)) s"
check "dpkg --purge klb-dkms klb-tools" [ "$rc" = 0 ]
check "purge removed the module" [ ! -e "/lib/modules/$kver/updates/dkms/klb.ko" ]
check "purge left nothing in DKMS" [ -z "$(dkms status -m klb)" ]
check "purge removed the sources" [ ! -e "/usr/src/klb-$version" ]
check "purge removed klbctl" [ ! -e /usr/sbin/klbctl ]

# Back to what the runner expects: the kernel's own module tree, and its
# klb.ko loaded.
umount "$moddir"
module=${KLB_MODULE:-$repo/kmod/klb.ko}
check "the runner's klb.ko loads again" insmod "$module"

tap_done

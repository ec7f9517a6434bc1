#!/bin/sh
# Build a debug kernel from Debian's linux-source for the VM tests: KASAN,
# UBSAN, lockdep, kmemleak and list/refcount debugging, with everything the
# guest needs built in (its /lib/modules has no modules for this kernel).
# klb.ko builds against the tree: make KDIR=<dir>/linux-source-*.
#
#   tools/vm/debug-kernel.sh [DIR]      (default build/debug-kernel)
#
# Prints the path of the bzImage. Does nothing when it is already built
# from the same source and config.
set -eu

dir=${1:-build/debug-kernel}
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] || { echo "debug-kernel: no linux-source; run 'make deps'" >&2; exit 1; }
top=$(basename "$tarball" .tar.xz)
tree="$dir/$top"
stamp="$tree/.klb-debug-stamp"
want="$(stat -c %Y:%s "$tarball") $(cksum < "$0")"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -f "$tree/arch/x86/boot/bzImage" ]; then
	echo "$tree/arch/x86/boot/bzImage"
	exit 0
fi

rm -rf "$tree"
mkdir -p "$dir"
tar -C "$dir" -xJf "$tarball"
cd "$tree"

make -s defconfig >/dev/null
make -s kvm_guest.config >/dev/null
# Built in: the guest boots from the host's root over 9p with an overlay.
for opt in VIRTIO VIRTIO_PCI VIRTIO_MMIO VIRTIO_CONSOLE NET_9P NET_9P_VIRTIO \
	9P_FS 9P_FS_POSIX_ACL OVERLAY_FS NETFS_SUPPORT FSCACHE TMPFS DEVTMPFS \
	DEVTMPFS_MOUNT NET_NS USER_NS VETH DUMMY IP_ADVANCED_ROUTER NET_IPIP \
	IPV6 IPV6_TUNNEL NETFILTER NF_CONNTRACK \
	KASAN KASAN_GENERIC KASAN_INLINE UBSAN UBSAN_BOUNDS UBSAN_SHIFT \
	PROVE_LOCKING PROVE_RCU DEBUG_LOCKDEP DEBUG_ATOMIC_SLEEP DEBUG_LIST \
	DEBUG_KMEMLEAK DEBUG_OBJECTS DEBUG_OBJECTS_RCU_HEAD DEBUG_VM \
	SOFTLOCKUP_DETECTOR DETECT_HUNG_TASK DEBUG_INFO_NONE MODULES \
	MODULE_UNLOAD; do
	scripts/config -e "$opt"
done
# kmemleak scans on demand (the tests trigger it), not on a timer.
scripts/config -e DEBUG_KMEMLEAK_AUTO_SCAN -d DEBUG_KMEMLEAK_DEFAULT_OFF \
	--set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 16000 \
	-d DEBUG_INFO -d DEBUG_INFO_DWARF5 -d DEBUG_INFO_BTF -d RANDOMIZE_BASE \
	-d MODULE_SIG -d SYSTEM_TRUSTED_KEYRING
make -s olddefconfig >/dev/null
make -s -j"$(nproc)" bzImage modules_prepare >/dev/null
echo "$want" > "$stamp"
echo "$tree/arch/x86/boot/bzImage"

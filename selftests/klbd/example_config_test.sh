#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The example configuration that 'make install' and the packages put in
# /etc/klb passes 'klbd --check-config' once the cluster key is made the
# way its header says, for each gateway it lists. TAP.
#
# The key lives at the default /etc/klb/cluster.key, so the test runs in a
# mount namespace of its own with a tmpfs over /etc/klb: the host's /etc
# is never touched (an empty /etc/klb is made for the mount, and removed,
# when the host has none).
set -u
cd "$(dirname "$0")/../.." || exit 1
. selftests/lib/tap.sh

conf=$PWD/userspace/klbd/klbd.conf
klbd=$PWD/${O:-build}/userspace/klbd/klbd

if [ "${KLB_EXAMPLE_NS:-}" != 1 ]; then
	if ! unshare -m true 2>/dev/null; then
		echo "1..0 # SKIP cannot create a mount namespace (needs root)"
		exit 0
	fi
	# The mount point, if the host has none, only for the test's time.
	made=
	if [ ! -d /etc/klb ]; then
		mkdir /etc/klb || exit 1
		made=1
	fi
	KLB_EXAMPLE_NS=1 unshare -m --propagation private "$0" "$@"
	rc=$?
	[ -n "$made" ] && rmdir /etc/klb
	exit $rc
fi
mount -t tmpfs -o mode=0755 klb-example /etc/klb ||
	{ not_ok "a tmpfs over /etc/klb"; tap_done; }

# The commands of the file's header, as an operator would paste them.
grep '^#   ' "$conf" | sed 's/^#   //' >/etc/klb/make-key.sh
check "the header says how to make the key" [ -s /etc/klb/make-key.sh ]
check "its commands make the key" sh -e /etc/klb/make-key.sh
check "the key is the owner's only" \
	[ "$(stat -c %a /etc/klb/cluster.key)" = 600 ]

for id in $(sed -n '/^\[peers\]/,/^\[/s/^\([0-9][0-9]*\) *=.*/\1/p' "$conf"); do
	sed "s/^id = .*/id = $id/" "$conf" >/etc/klb/klbd.conf
	if out=$("$klbd" --check-config -c /etc/klb/klbd.conf 2>&1); then
		ok "klbd --check-config accepts it as gateway $id"
	else
		not_ok "klbd --check-config accepts it as gateway $id" "$out"
	fi
done

# The check can fail: an id that is not a member is refused, naming the
# file and line.
sed "s/^id = .*/id = 9/" "$conf" >/etc/klb/klbd.conf
if out=$("$klbd" --check-config -c /etc/klb/klbd.conf 2>&1); then
	not_ok "an id outside [peers] is refused, naming the file" "accepted"
elif echo "$out" | grep -q '^klbd: /etc/klb/klbd.conf'; then
	ok "an id outside [peers] is refused, naming the file"
else
	not_ok "an id outside [peers] is refused, naming the file" "$out"
fi
tap_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Loads klb.ko (the checkout's, or $1) in the test guest, with the modules
# it depends on first: the guest's modprobe cannot autoload them for an
# insmod. Does nothing when klb is loaded already. Prints why it failed.
module=${1:-kmod/klb.ko}

grep -q '^klb ' /proc/modules && exit 0
for dep in $(modinfo -F depends "$module" | tr , ' '); do
	modprobe "$dep" || { echo "load-klb: cannot load $dep" >&2; exit 1; }
done
insmod "$module" || { echo "load-klb: cannot load $module" >&2; exit 1; }

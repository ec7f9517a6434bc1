#!/bin/sh
# make check-debug: every kernel test (VM_TESTS) in guests booted on the
# debug kernel (tools/vm/debug-kernel.sh: KASAN, UBSAN, lockdep, kmemleak,
# debugobjects ...), with klb.ko built against that kernel into
# build/debug-kmod/ (kmod/klb.ko, built for Debian's kernel, is left alone).
# One boot per group of tests (their directory: api, datapath, nlfuzz,
# klbd, ...): together they run for hours under the debug kernel, more
# than one guest's time limit, and each boot ends with its own kmemleak
# scan, so a leak is traced to a group.
#
# Fails when a test fails or when the kernel reports anything (tools/vm/run:
# a sanitizer or lockdep report, a WARNING or BUG, a leak found by the
# kmemleak scan the guest runs after the tests); the report is printed.
# Every group runs, whatever the others did; the status is the first
# failure's.
#
# KLB_DEBUG_TESTS runs only the tests it lists (paths as in VM_TESTS).
# KLB_DEBUG_MEM (MB, default 3072) and KLB_DEBUG_TIMEOUT (seconds, default
# the group's programs' limits and 15 minutes) size each group's guest;
# KLB_TEST_TIMEOUT bounds each test program (default 2700 here: the
# programs run 3 to 40 times longer than on Debian's kernel).
# KLB_FUZZ_MESSAGES, the netlink fuzzer's count, is 100,000 by default
# here. KLB_TEST_SLOW (default 4 here) stretches the klbd and demo tests'
# deadlines and health-check timing: with the intervals that suit Debian's
# kernel, probes of live backends time out under this one and fail them
# over, which is the timing's failure, not the code's.
set -u
cd "$(dirname "$0")/../.." || exit 1
repo=$(pwd -P)
prog=check-debug
case ${KLB_TEST_SLOW:-4} in
'' | *[!0-9]* | 0*)
	echo "$prog: KLB_TEST_SLOW must be a whole number from 1, not '${KLB_TEST_SLOW:-}'" >&2
	exit 2
	;;
esac

kdir=$(tools/vm/debug-kernel.sh) || {
	echo "$prog: no debug kernel" >&2
	exit 1
}

# The module, against the debug kernel's tree, out of the checkout's kmod/:
# build/debug-kmod/kmod/ holds links to its sources (and ../include to the
# shared headers, which kmod/Kbuild finds next to kmod/), so kbuild writes its
# objects there and rebuilds when a source changes.
out=$repo/build/debug-kmod
mkdir -p "$out/kmod" || exit 1
ln -sfn "$repo/include" "$out/include"
for f in "$out"/kmod/*; do
	[ -L "$f" ] && [ ! -e "$f" ] && rm -f "$f"
done
for f in kmod/Kbuild kmod/*.[ch]; do
	case $f in
	*.mod.c) continue ;; # kbuild's, of the other build
	esac
	[ -e "$f" ] && ln -sf "$repo/$f" "$out/kmod/"
done
# -g: the kernel has no debug info, the module does (scripts/faddr2line).
make -s -C "$kdir/tree" M="$out/kmod" KCFLAGS=-g W=1 modules || exit 1

make -s -j2 userspace || exit 1
# KLB_DEBUG_TESTS: a subset (paths as in VM_TESTS), e.g. one change's tests.
tests=${KLB_DEBUG_TESTS:-$(make -s print-VM_TESTS)}
[ -n "$tests" ] || { echo "$prog: no VM_TESTS" >&2; exit 1; }

export KLB_MODULE="$out/kmod/klb.ko"
export KLB_TEST_TIMEOUT="${KLB_TEST_TIMEOUT:-2700}"
export KLB_TEST_SLOW="${KLB_TEST_SLOW:-4}"
# The netlink fuzzer's count under this kernel: what the reliability work
# set as its bar (make check's is 20,000, on Debian's kernel).
export KLB_FUZZ_MESSAGES="${KLB_FUZZ_MESSAGES:-100000}"
# kasan_multi_shot: report every bad access, not only the first.
export KLB_VM_CMDLINE="kasan_multi_shot ${KLB_VM_CMDLINE:-}"

# The groups, in VM_TESTS' order: a test's directory under selftests/.
groups=
for t in $tests; do
	g=${t#build/}
	g=${g#selftests/}
	g=${g%%/*}
	case " $groups " in
	*" $g "*) ;;
	*) groups="$groups $g" ;;
	esac
done
status=0
for g in $groups; do
	members=
	count=0
	for t in $tests; do
		u=${t#build/}
		u=${u#selftests/}
		[ "${u%%/*}" = "$g" ] || continue
		members="$members $t"
		count=$((count + 1))
	done
	# The guest's limit never cuts a program within its own: every
	# program's, and time for the boot and the closing scans.
	limit=${KLB_DEBUG_TIMEOUT:-$((count * KLB_TEST_TIMEOUT + 900))}
	echo "$prog: group $g: booting $(cat "$kdir/release") from $kdir" >&2
	start=$(date +%s)
	# shellcheck disable=SC2086
	tools/vm/run --kernel "$kdir/bzImage" --modules "$kdir/modules" \
		--mem "${KLB_DEBUG_MEM:-3072}" --timeout "$limit" \
		-- selftests/run-in-vm.sh $members
	rc=$?
	# The host's load beside it: the tests' timing suffers under another
	# emulated guest (KLB_TEST_SLOW has a margin, not an unbounded one).
	echo "$prog: group $g: status $rc after $(($(date +%s) - start)) s (host load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
	[ "$status" = 0 ] && status=$rc
done
exit "$status"

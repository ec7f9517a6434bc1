# SPDX-License-Identifier: GPL-2.0
# Sourced by the shell tests: TAP results, numbered as they come.
#
#   ok NAME, not_ok NAME [COMMENT...]	one result (comments as "# ..." lines)
#   check NAME CMD [ARG...]		ok when CMD succeeds, else not_ok
#					with the command as a comment
#   tap_done				the plan, then exit: 0, or 1 if any failed
#
# TAP_TIMES=1 stamps each result with the time of day: in the guest, whose
# pace varies a lot, that tells where a slow test spent its time.
n=0
failed=0

tap_stamp() {
	[ "${TAP_TIMES:-0}" = 1 ] && printf ' # %s' "$(date +%T)"
}

ok() {
	n=$((n + 1))
	echo "ok $n $1$(tap_stamp)"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n $1$(tap_stamp)"
	shift
	for line in "$@"; do
		echo "# $line"
	done
}

check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

tap_done() {
	echo "1..$n"
	exit "$failed"
}

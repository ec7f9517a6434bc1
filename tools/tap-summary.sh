#!/bin/sh
# Count TAP results ("ok N ...", "not ok N ...", "# SKIP") in the logs given
# and print the closing line "N passed, N failed, N skipped". Exits non-zero
# when anything failed or nothing ran at all.
set -eu
awk '
	/^not ok [0-9]/ { failed++; print "FAILED: " FILENAME ": " $0; next }
	/^ok [0-9].*# *[Ss][Kk][Ii][Pp]/ { skipped++; next }
	/^ok [0-9]/ { passed++ }
	END {
		printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
		exit (failed > 0 || passed == 0) ? 1 : 0
	}
' "$@"

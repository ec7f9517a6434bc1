#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The scenario of make demo, short and without the display (run as root in
# the test guest; selftests/run-in-vm.sh loads the module): three gateways
# with klbd, four backends, three clients. Asserts, as TAP: byte-identical
# tables everywhere; a dead backend failed over by the gateways' health
# checks, down in every kernel and no new flows to it; back up with exactly its old table slots (the table is the one
# before the failure); a new
# leader after kill -9 of the leader and the old one caught up; a drained
# backend gets no new flows while its connections go on; no long-lived
# connection lost except those on the dead backend.
set -eu
cd "$(dirname "$0")/../.."
exec python3 tools/demo/demo.py --short --tap

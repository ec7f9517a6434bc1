#!/bin/sh
# Raft benchmarks (run by 'make bench'):
#  1. commits/s of a 3-node in-process cluster writing real WALs with
#     fdatasync and group commit, with a large and a small window;
#  2. instructions per committed entry (callgrind), as the difference
#     between two in-memory runs of fixed size, so start-up cancels out;
#  3. time to a new leader after the leader crashes, in the simulator
#     (heartbeat 50 ms, election timeout 300-600 ms), and again with the
#     followers told at once that the leader is gone (raft_forget_leader).
set -eu
cd "$(dirname "$0")/../.."
bin=build/userspace/raft

"$bin/raft-bench"
"$bin/raft-bench" --window 256 --commits 50000

cost() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$bin/raft-bench" --mem --commits "$1" 2>&1 |
		awk '/commits,/ { c = $3 } /Collected :/ { i = $NF } END { print c, i }'
}
set -- $(cost 20000) $(cost 120000)
echo "callgrind: $(( ($4 - $2) / ($3 - $1) )) instructions per committed entry" \
	"(3 nodes in memory, leader and followers and the test harness; $(( $3 - $1 )) commits)"

"$bin/raft-sim" --elections 1000 --seed 1
"$bin/raft-sim" --elections 1000 --seed 1 --forget

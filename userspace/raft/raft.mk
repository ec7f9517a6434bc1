# Raft: the pure core, its storage (WAL + snapshots) and the simulator.

include userspace/raft/objs.mk

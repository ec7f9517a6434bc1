# Raft: the pure core, its storage (WAL + snapshots) and the simulator.

include userspace/raft/objs.mk

build/userspace/raft/raft-sim: build/userspace/raft/sim_main.o $(RAFT_SIM_OBJS) \
		$(RAFT_STORAGE_OBJS) $(RAFT_SIM_FS_OBJS) $(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(RAFT_STORAGE_LIBS)

BINS += build/userspace/raft/raft-sim

build/userspace/raft/raft-bench: build/userspace/raft/bench.o $(RAFT_STORAGE_OBJS) $(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(RAFT_STORAGE_LIBS)

BINS += build/userspace/raft/raft-bench
BENCHES += userspace/raft/raft-bench.sh

# Object lists of the Raft library. Included by the Raft fragments (and once
# more by the top-level wildcard, which is harmless: only := assignments).

RAFT_CORE_OBJS := $(addprefix build/userspace/raft/,raft.o log.o quorum.o progress.o conf.o prng.o)
# The wire format of messages between peers.
RAFT_CODEC_OBJS := build/userspace/raft/codec.o
RAFT_STORAGE_OBJS := $(addprefix build/userspace/raft/,storage.o wal.o io_batch.o snapshot_file.o crc32c.o fs.o fs_posix.o)
RAFT_STORAGE_LIBS :=
# Storage batches on the host's io_uring ring (the daemon, tests, bench).
RAFT_URING_OBJS := build/userspace/raft/uring.o
RAFT_URING_LIBS := -luring
RAFT_SIM_OBJS := $(addprefix build/userspace/raft/,sim.o sim_check.o sim_elections.o)
RAFT_SIM_FS_OBJS := build/userspace/raft/sim_fs.o

# Object lists of the Raft library. Included by the Raft fragments (and once
# more by the top-level wildcard, which is harmless: only := assignments).

RAFT_CORE_OBJS := $(addprefix build/userspace/raft/,raft.o log.o quorum.o progress.o conf.o prng.o)

# klbd, the daemon: one per gateway. (Fragments are read in name order, so
# the libraries' objects are named by the files that list them.)
include userspace/lib/maglev_objs.mk
include userspace/raft/objs.mk
include userspace/klbd/objs.mk

build/userspace/klbd/klbd: $(KLBD_OBJS) build/userspace/lib/klbd_proto.o \
		build/userspace/lib/libklbclient.a $(MAGLEV_OBJS) \
		$(RAFT_STORAGE_OBJS) $(RAFT_URING_OBJS) $(RAFT_CODEC_OBJS) \
		$(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(KLBD_LDLIBS) $(KLBCLIENT_LDLIBS) $(MAGLEV_LDLIBS) \
		$(RAFT_STORAGE_LIBS) $(RAFT_URING_LIBS)

BINS += build/userspace/klbd/klbd

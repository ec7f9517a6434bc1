# klbd, the daemon: one per gateway. (Fragments are read in name order, so
# the libraries' objects are named by the files that list them.)
include userspace/lib/maglev_objs.mk
include userspace/raft/objs.mk

KLBD_CORE_SRCS := config.c frame.c auth.c state.c
KLBD_SRCS := $(KLBD_CORE_SRCS) main.c loop.c transport.c node.c reconcile.c \
	control.c
KLBD_OBJS := $(addprefix build/userspace/klbd/,$(KLBD_SRCS:.c=.o))
# The pure parts, for tests.
KLBD_CORE_OBJS := $(addprefix build/userspace/klbd/,$(KLBD_CORE_SRCS:.c=.o)) \
	build/userspace/lib/klbd_proto.o build/userspace/raft/crc32c.o
KLBD_LDLIBS := -linih -lcrypto

build/userspace/klbd/klbd: $(KLBD_OBJS) build/userspace/lib/klbd_proto.o \
		build/userspace/lib/libklbclient.a $(MAGLEV_OBJS) \
		$(RAFT_STORAGE_OBJS) $(RAFT_URING_OBJS) $(RAFT_CODEC_OBJS) \
		$(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(KLBD_LDLIBS) -lmnl $(MAGLEV_LDLIBS) \
		$(RAFT_STORAGE_LIBS) $(RAFT_URING_LIBS)

BINS += build/userspace/klbd/klbd

# klbctl, the operators' command line. (Fragments are read in name order,
# so the client library is named by its path, not by its variable.)
include userspace/lib/maglev_objs.mk

KLBCTL_SRCS := main.c output.c parse.c service.c backend.c table.c flow.c \
	save_restore.c monitor.c ops_kernel.c ops_klbd.c stats.c cluster.c \
	restore_klbd.c
KLBCTL_OBJS := $(addprefix build/userspace/klbctl/,$(KLBCTL_SRCS:.c=.o))

build/userspace/klbctl/klbctl: $(KLBCTL_OBJS) build/userspace/lib/klbd_proto.o \
		build/userspace/lib/libklbclient.a \
		$(MAGLEV_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(KLBCLIENT_LDLIBS) -ljson-c $(MAGLEV_LDLIBS)

BINS += build/userspace/klbctl/klbctl

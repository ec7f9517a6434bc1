# klbctl, the operators' command line.
include userspace/lib/maglev_objs.mk

KLBCTL_SRCS := main.c output.c parse.c service.c backend.c table.c flow.c \
	save_restore.c monitor.c ops_kernel.c ops_klbd.c table_build.c
KLBCTL_OBJS := $(addprefix build/userspace/klbctl/,$(KLBCTL_SRCS:.c=.o))

build/userspace/klbctl/klbctl: $(KLBCTL_OBJS) $(KLBCLIENT_LIB) $(MAGLEV_OBJS)
	$(CC) -o $@ $(KLBCTL_OBJS) $(KLBCLIENT_LIB) $(MAGLEV_OBJS) \
		$(USER_LDFLAGS) $(KLBCLIENT_LDLIBS) -ljson-c $(MAGLEV_LDLIBS)

BINS += build/userspace/klbctl/klbctl

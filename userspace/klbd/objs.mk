# Object lists of klbd. Included by the klbd fragments (and once more by
# the top-level wildcard, which is harmless: only := assignments).

KLBD_CORE_SRCS := config.c frame.c auth.c state.c health.c probe_dns.c \
	probe_vip.c dirty.c
KLBD_SRCS := $(KLBD_CORE_SRCS) main.c loop.c transport.c node.c reconcile.c \
	control.c notify.c probe.c probe_tls.c probe_exec.c kevents.c member.c reload.c \
	metrics.c http.c http_server.c lease.c register.c watch.c bootstrap.c
KLBD_OBJS := $(addprefix build/userspace/klbd/,$(KLBD_SRCS:.c=.o))
# The pure parts, for tests: parser, frames, handshake, state, verdicts,
# DNS check messages, via-vip packets, the set of changed services.
KLBD_CORE_OBJS := $(addprefix build/userspace/klbd/,$(KLBD_CORE_SRCS:.c=.o)) \
	build/userspace/lib/klbd_proto.o build/userspace/raft/crc32c.o
KLBD_LDLIBS := -linih -lssl -lcrypto

# The klb netlink client library and the apply engine above it, and the
# save format's reader with its words, shared by klbctl and klbd. The
# engine computes Maglev tables: link $(MAGLEV_OBJS) too
# (userspace/lib/maglev_objs.mk).
KLBCLIENT_OBJS := build/userspace/lib/nl.o build/userspace/lib/klb_client.o \
	build/userspace/lib/klb_idset.o build/userspace/lib/klb_keyset.o \
	build/userspace/lib/klb_tables.o build/userspace/lib/klb_apply.o \
	build/userspace/lib/klb_apply_services.o build/userspace/lib/klb_words.o \
	build/userspace/lib/klb_save_parse.o
KLBCLIENT_LIB := build/userspace/lib/libklbclient.a
# The save reader parses a large input in threads.
KLBCLIENT_LDLIBS := -lmnl -pthread

$(KLBCLIENT_LIB): $(KLBCLIENT_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

BINS += $(KLBCLIENT_LIB)
